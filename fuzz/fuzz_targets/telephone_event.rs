#![no_main]
//! RFC 4733 payload parsing, single and multi-event.
use libfuzzer_sys::fuzz_target;
use tandem_codecs::telephone_event::{TelephoneEvent, parse_all};

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = TelephoneEvent::parse(data) {
        let _ = e.digit();
        // A parsed event always rebuilds (volume is masked to 6 bits on parse).
        let b = e.to_bytes().expect("parsed event rebuilds");
        assert_eq!(TelephoneEvent::parse(&b).ok(), Some(e));
    }
    if let Ok(all) = parse_all(data) {
        let _ = all.count();
    }
});
