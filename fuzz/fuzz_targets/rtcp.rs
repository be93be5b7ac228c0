#![no_main]
//! RTCP compound parsing: validation and every sub-item iterator on arbitrary bytes.
use libfuzzer_sys::fuzz_target;
use tandem_codecs::rtcp::{Compound, RtcpPacket};

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Compound::parse(data) {
        for p in c.packets() {
            match p {
                RtcpPacket::SenderReport(sr) => {
                    for b in sr.blocks() {
                        let _ = b.round_trip(0);
                    }
                }
                RtcpPacket::ReceiverReport(rr) => {
                    let _ = rr.blocks().count();
                }
                RtcpPacket::Sdes(s) => {
                    for ch in s.chunks().flatten() {
                        let _ = (ch.items().count(), ch.cname());
                    }
                }
                RtcpPacket::Bye(b) => {
                    let _ = b.ssrcs().count();
                }
                RtcpPacket::App(_) | RtcpPacket::Unknown { .. } => {}
            }
        }
    }
});
