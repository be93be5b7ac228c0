#![no_main]
//! SDES `a=crypto` parsing: any text gives Ok or a typed error; what parses prints to a line
//! that parses to the same value, and the supported-parameter check and the answerer never
//! panic on it.
use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tandem_srtp::negotiate::answer;
use tandem_srtp::sdes::Crypto;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = Crypto::parse(text) {
        let printed = c.to_string();
        assert_eq!(Crypto::parse(&printed).as_ref(), Ok(&c), "{printed:?}");
        let _ = c.keying();
    }
    // Each line of the input as one offered a=crypto value.
    let _ = answer(text.lines(), &mut StdRng::seed_from_u64(0));
});
