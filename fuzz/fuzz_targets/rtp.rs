#![no_main]
//! RTP parsing: any bytes give Ok or a typed error; every accessor of a parsed packet is safe.
use libfuzzer_sys::fuzz_target;
use tandem_codecs::rtp::{RtpPacket, looks_like_rtcp};

fuzz_target!(|data: &[u8]| {
    let _ = looks_like_rtcp(data);
    if let Ok(p) = RtpPacket::parse(data) {
        assert_eq!(
            p.header_len() + p.payload().len() + p.padding_len(),
            data.len()
        );
        let _ = (p.marker(), p.payload_type(), p.sequence(), p.timestamp(), p.ssrc());
        let _ = p.csrcs().count();
        if let Some(ext) = p.extension() {
            for el in ext.elements() {
                let _ = el;
            }
        }
    }
});
