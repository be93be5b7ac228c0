#![no_main]
//! ng messages: cookie splitting and bencode parsing are total; what parses re-encodes to
//! bytes that parse to the same value, and its parameters can be read.
use libfuzzer_sys::fuzz_target;
use tandem_serve::bencode;
use tandem_serve::ng::{self, Params};

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = bencode::parse(data) {
        assert_eq!(bencode::parse(&v.to_bytes()).as_ref(), Ok(&v));
    }
    if let Ok(req) = ng::parse_datagram(data) {
        let _ = Params::from_body(&req.body);
        let _ = ng::reply(&req.cookie, &req.body);
    }
    let mut rest = data;
    while let Ok(Some((_, used))) = ng::parse_prefix(rest) {
        if used == 0 {
            break;
        }
        rest = &rest[used..];
    }
});
