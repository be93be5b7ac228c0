//! Round-trips (build → parse → equal) and totality (any bytes → Ok or Err, never a panic)
//! for RTP, RTCP and RFC 4733.

use proptest::prelude::*;
use tandem_codecs::rtcp::{self, Compound, ReportBlock, RtcpPacket, SenderInfo};
use tandem_codecs::rtp::{ExtensionSpec, RtpHeader, RtpPacket};
use tandem_codecs::telephone_event::{self, TelephoneEvent};

fn report_block() -> impl Strategy<Value = ReportBlock> {
    (
        any::<u32>(),
        any::<u8>(),
        -0x80_0000i32..=0x7F_FFFF,
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(ssrc, f, lost, hs, j, lsr, dlsr)| ReportBlock {
            ssrc,
            fraction_lost: f,
            cumulative_lost: lost,
            highest_seq: hs,
            jitter: j,
            last_sr: lsr,
            delay_since_last_sr: dlsr,
        })
}

proptest! {
    #[test]
    fn rtp_round_trip(
        marker in any::<bool>(),
        pt in 0u8..128,
        seq in any::<u16>(),
        ts in any::<u32>(),
        ssrc in any::<u32>(),
        csrcs in prop::collection::vec(any::<u32>(), 0..=15),
        one_byte in prop::collection::vec((1u8..=14, prop::collection::vec(any::<u8>(), 1..=16)), 0..4),
        two_byte in prop::collection::vec((1u8..=255, prop::collection::vec(any::<u8>(), 0..=40)), 0..4),
        ext_kind in 0u8..3,
        pad_to in prop::sample::select(vec![0u8, 4, 16, 32]),
        payload in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        let one: Vec<(u8, &[u8])> = one_byte.iter().map(|(i, d)| (*i, d.as_slice())).collect();
        let two: Vec<(u8, &[u8])> = two_byte.iter().map(|(i, d)| (*i, d.as_slice())).collect();
        let extension = match ext_kind {
            0 => None,
            1 => Some(ExtensionSpec::OneByte(&one)),
            _ => Some(ExtensionSpec::TwoByte(&two)),
        };
        let h = RtpHeader { marker, payload_type: pt, sequence: seq, timestamp: ts, ssrc, csrcs: &csrcs, extension, pad_to };
        let mut buf = Vec::new();
        let n = h.write(&mut buf, &payload).unwrap();
        prop_assert_eq!(n, buf.len());
        let p = RtpPacket::parse(&buf).unwrap();
        prop_assert_eq!(p.marker(), marker);
        prop_assert_eq!(p.payload_type(), pt);
        prop_assert_eq!(p.sequence(), seq);
        prop_assert_eq!(p.timestamp(), ts);
        prop_assert_eq!(p.ssrc(), ssrc);
        prop_assert_eq!(p.csrcs().collect::<Vec<_>>(), csrcs.clone());
        prop_assert_eq!(p.payload(), &payload[..]);
        let want: Option<&Vec<(u8, &[u8])>> = match ext_kind { 0 => None, 1 => Some(&one), _ => Some(&two) };
        match want {
            None => prop_assert!(p.extension().is_none()),
            Some(els) => {
                let got: Vec<(u8, &[u8])> = p.extension().unwrap().elements().map(|e| e.unwrap()).collect();
                prop_assert_eq!(&got, els);
            }
        }
    }

    #[test]
    fn rtp_parse_is_total(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(p) = RtpPacket::parse(&bytes) {
            let _ = (p.payload(), p.csrcs().count());
            if let Some(e) = p.extension() {
                for el in e.elements() { let _ = el; }
            }
            prop_assert!(p.header_len() + p.payload().len() + p.padding_len() == bytes.len());
        }
    }

    #[test]
    fn rtcp_round_trip(
        ssrc in any::<u32>(),
        info in (any::<u64>(), any::<u32>(), any::<u32>(), any::<u32>()),
        sr_blocks in prop::collection::vec(report_block(), 0..5),
        rr_blocks in prop::collection::vec(report_block(), 0..5),
        use_sr in any::<bool>(),
        cname in prop::collection::vec(any::<u8>(), 1..60),
        bye in prop::collection::vec(any::<u32>(), 0..4),
        reason in prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
        app_data in prop::collection::vec(any::<u32>(), 0..8),
    ) {
        let info = SenderInfo { ntp: info.0, rtp_timestamp: info.1, packet_count: info.2, octet_count: info.3 };
        let mut buf = Vec::new();
        if use_sr {
            rtcp::write_sr(&mut buf, ssrc, &info, &sr_blocks).unwrap();
        } else {
            rtcp::write_rr(&mut buf, ssrc, &rr_blocks).unwrap();
        }
        let items: [(u8, &[u8]); 1] = [(rtcp::SDES_CNAME, &cname)];
        rtcp::write_sdes(&mut buf, &[(ssrc, &items)]).unwrap();
        let app: Vec<u8> = app_data.iter().flat_map(|w| w.to_be_bytes()).collect();
        rtcp::write_app(&mut buf, 3, ssrc, *b"TNDM", &app).unwrap();
        rtcp::write_bye(&mut buf, &bye, reason.as_deref()).unwrap();

        let c = Compound::parse(&buf).unwrap();
        let pkts: Vec<_> = c.packets().collect();
        prop_assert_eq!(pkts.len(), 4);
        match &pkts[0] {
            RtcpPacket::SenderReport(sr) => {
                prop_assert!(use_sr);
                prop_assert_eq!(sr.ssrc, ssrc);
                prop_assert_eq!(sr.info, info);
                prop_assert_eq!(sr.blocks().collect::<Vec<_>>(), sr_blocks);
            }
            RtcpPacket::ReceiverReport(rr) => {
                prop_assert!(!use_sr);
                prop_assert_eq!(rr.ssrc, ssrc);
                prop_assert_eq!(rr.blocks().collect::<Vec<_>>(), rr_blocks);
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
        let RtcpPacket::Sdes(s) = &pkts[1] else { panic!("not SDES") };
        let chunk = s.chunks().next().unwrap().unwrap();
        prop_assert_eq!(chunk.ssrc, ssrc);
        prop_assert_eq!(chunk.cname(), Some(&cname[..]));
        let RtcpPacket::App(a) = &pkts[2] else { panic!("not APP") };
        prop_assert_eq!((a.subtype, a.ssrc, a.name, a.data), (3, ssrc, *b"TNDM", &app[..]));
        let RtcpPacket::Bye(b) = &pkts[3] else { panic!("not BYE") };
        prop_assert_eq!(b.ssrcs().collect::<Vec<_>>(), bye);
        prop_assert_eq!(b.reason, reason.as_deref());
    }

    #[test]
    fn rtcp_parse_is_total(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(c) = Compound::parse(&bytes) {
            for p in c.packets() {
                match p {
                    RtcpPacket::SenderReport(sr) => { let _ = sr.blocks().count(); }
                    RtcpPacket::ReceiverReport(rr) => { let _ = rr.blocks().count(); }
                    RtcpPacket::Sdes(s) => for ch in s.chunks().flatten() { let _ = ch.items().count(); },
                    RtcpPacket::Bye(b) => { let _ = b.ssrcs().count(); }
                    RtcpPacket::App(_) | RtcpPacket::Unknown { .. } => {}
                }
            }
        }
    }

    #[test]
    fn telephone_event_round_trip(event in any::<u8>(), end in any::<bool>(), volume in 0u8..=63, duration in any::<u16>()) {
        let e = TelephoneEvent { event, end, volume, duration };
        let b = e.to_bytes().unwrap();
        prop_assert_eq!(TelephoneEvent::parse(&b).unwrap(), e);
        let all: Vec<_> = telephone_event::parse_all(&b).unwrap().collect();
        prop_assert_eq!(all, vec![e]);
    }

    #[test]
    fn telephone_event_parse_is_total(bytes in prop::collection::vec(any::<u8>(), 0..20)) {
        let r = TelephoneEvent::parse(&bytes);
        prop_assert_eq!(r.is_ok(), !bytes.is_empty() && bytes.len() % 4 == 0);
    }
}
