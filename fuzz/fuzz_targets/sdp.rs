#![no_main]
//! SDP parsing and rewriting: any text gives Ok or a typed error; what parses can be
//! rewritten as the daemon does and prints to SDP that parses again.
use libfuzzer_sys::fuzz_target;
use tandem_serve::sdp::Sdp;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(mut sdp) = Sdp::parse(text) {
        for i in 0..sdp.media.len() {
            let _ = (sdp.connection(i), sdp.direction(i), sdp.attribute(i, "ptime"));
            for f in sdp.media[i].formats.clone() {
                let _ = sdp.encoding(i, &f);
            }
        }
        sdp.set_connection("10.0.0.1".parse().unwrap());
        sdp.set_origin_address("10.0.0.1".parse().unwrap());
        sdp.remove_ice();
        let printed = sdp.to_string();
        assert!(Sdp::parse(&printed).is_ok(), "rewritten SDP must parse: {printed:?}");
    }
});
