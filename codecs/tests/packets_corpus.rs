//! The fuzz seed corpora double as regression inputs: each seed is a valid packet of a known
//! shape or a malformed one, and the parsers must classify every one as its name says.

use std::path::Path;

use tandem_codecs::rtcp::{Compound, RtcpError, RtcpPacket};
use tandem_codecs::rtp::{RtpError, RtpPacket};
use tandem_codecs::telephone_event::{self, TelephoneEventError};

fn seed(target: &str, name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn rtp_seeds() {
    let p = seed("rtp", "pcmu-20ms");
    let p = RtpPacket::parse(&p).unwrap();
    assert_eq!((p.payload_type(), p.payload().len()), (0, 160));

    let v = seed("rtp", "pcma-csrc-ext1-pad");
    let p = RtpPacket::parse(&v).unwrap();
    assert_eq!(p.payload_type(), 8);
    assert!(p.csrc_count() > 0 && p.padding() && p.padding_len() > 0);
    let ext = p.extension().unwrap();
    assert_eq!(ext.profile, 0xBEDE);
    assert!(ext.elements().all(|e| e.is_ok()));

    let v = seed("rtp", "dtmf-ext2");
    let p = RtpPacket::parse(&v).unwrap();
    let ext = p.extension().unwrap();
    assert_eq!(ext.profile & 0xFFF0, 0x1000);
    assert!(ext.elements().all(|e| e.is_ok()));
    assert!(telephone_event::parse_all(p.payload()).is_ok());

    assert!(matches!(
        RtpPacket::parse(&seed("rtp", "bad-version")),
        Err(RtpError::BadVersion(_))
    ));
    assert!(matches!(
        RtpPacket::parse(&seed("rtp", "bad-padding")),
        Err(RtpError::BadPadding(_))
    ));
    assert_eq!(
        RtpPacket::parse(&seed("rtp", "ext-overrun")),
        Err(RtpError::ExtensionOverrun)
    );
    let v = seed("rtp", "ext-element-overrun");
    let p = RtpPacket::parse(&v).unwrap();
    let els: Vec<_> = p.extension().unwrap().elements().collect();
    assert_eq!(els, vec![Err(RtpError::BadExtensionElement)]);
}

#[test]
fn rtcp_seeds() {
    let kinds = |name: &str| -> Vec<u8> {
        let v = seed("rtcp", name);
        let c = Compound::parse(&v).unwrap_or_else(|e| panic!("{name}: {e}"));
        c.packets()
            .map(|p| match p {
                RtcpPacket::SenderReport(_) => 200,
                RtcpPacket::ReceiverReport(_) => 201,
                RtcpPacket::Sdes(_) => 202,
                RtcpPacket::Bye(_) => 203,
                RtcpPacket::App(_) => 204,
                RtcpPacket::Unknown { pt, .. } => pt,
            })
            .collect()
    };
    assert_eq!(kinds("sr-sdes"), vec![200, 202]);
    assert_eq!(kinds("rr-app-bye"), vec![201, 204, 203]);
    assert_eq!(kinds("rr-nack"), vec![201, 205]);
    assert_eq!(kinds("sr-block-sdes-bye-padded"), vec![200, 202, 203]);

    let v = seed("rtcp", "sr-block-sdes-bye-padded");
    let c = Compound::parse(&v).unwrap();
    let Some(RtcpPacket::SenderReport(sr)) = c.packets().next() else {
        panic!("first packet is not an SR")
    };
    let b = sr.blocks().next().unwrap();
    assert_eq!((b.ssrc, b.fraction_lost, b.cumulative_lost), (9, 25, 3));
    assert_eq!((b.highest_seq, b.jitter), (65541, 40));

    assert_eq!(
        Compound::parse(&seed("rtcp", "bye-first")).unwrap_err(),
        RtcpError::FirstNotReport(203)
    );
    assert_eq!(
        Compound::parse(&seed("rtcp", "pad-not-last")).unwrap_err(),
        RtcpError::BadPadding
    );
    assert_eq!(
        Compound::parse(&seed("rtcp", "length-overrun")).unwrap_err(),
        RtcpError::LengthOverrun
    );
}

#[test]
fn telephone_event_seeds() {
    let e = telephone_event::TelephoneEvent::parse(&seed("telephone_event", "digit5-end")).unwrap();
    assert_eq!((e.to_char(), e.end), (Some('5'), true));
    let two = seed("telephone_event", "two-events");
    assert_eq!(telephone_event::parse_all(&two).unwrap().count(), 2);
    assert_eq!(
        telephone_event::parse_all(&seed("telephone_event", "short")).err(),
        Some(TelephoneEventError::BadLength(3))
    );
    assert_eq!(
        telephone_event::parse_all(&seed("telephone_event", "six-bytes")).err(),
        Some(TelephoneEventError::BadLength(6))
    );
}
