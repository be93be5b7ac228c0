//! Properties of protect and unprotect: round trips for any header (CSRCs, extensions,
//! padding) and payload; any altered bit refused; replays refused; reordering within the
//! window and sequence-number wraps accepted in both directions; bounds and typed errors.

use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tandem_codecs::rtp::{ExtensionSpec, RtpHeader};
use tandem_srtp::{Keying, MasterKey, Mki, RecvContext, SendContext, SrtpError, Suite};

fn keying(suite: Suite, seed: u64, mki: Option<Mki>, lifetime: Option<u64>) -> Keying {
    let master = MasterKey::generate(suite, &mut StdRng::seed_from_u64(seed));
    Keying::new(suite, master, mki, lifetime).unwrap()
}

fn suite() -> impl Strategy<Value = Suite> {
    proptest::sample::select(Suite::ALL.to_vec())
}

fn mki() -> impl Strategy<Value = Option<Mki>> {
    proptest::option::of(
        (any::<u32>(), 4usize..=6).prop_map(|(v, l)| Mki::new(v.into(), l).unwrap()),
    )
}

/// An RTP packet: header fields, CSRCs, an optional raw extension, padding, payload.
#[derive(Clone, Debug)]
struct Rtp {
    seq: u16,
    ssrc: u32,
    marker: bool,
    pt: u8,
    ts: u32,
    csrcs: Vec<u32>,
    ext: Option<(u16, Vec<u8>)>,
    pad_to: u8,
    payload: Vec<u8>,
}

impl Rtp {
    fn bytes(&self) -> Vec<u8> {
        let ext = self.ext.as_ref().map(|(profile, data)| ExtensionSpec::Raw {
            profile: *profile,
            data,
        });
        let h = RtpHeader {
            marker: self.marker,
            payload_type: self.pt,
            sequence: self.seq,
            timestamp: self.ts,
            ssrc: self.ssrc,
            csrcs: &self.csrcs,
            extension: ext,
            pad_to: self.pad_to,
        };
        let mut out = Vec::new();
        h.write(&mut out, &self.payload).unwrap();
        out
    }
}

fn rtp() -> impl Strategy<Value = Rtp> {
    (
        (
            any::<u16>(),
            any::<u32>(),
            any::<bool>(),
            0u8..=127,
            any::<u32>(),
        ),
        proptest::collection::vec(any::<u32>(), 0..=15),
        proptest::option::of((
            any::<u16>(),
            (0usize..=8).prop_flat_map(|w| proptest::collection::vec(any::<u8>(), 4 * w)),
        )),
        0u8..=4,
        proptest::collection::vec(any::<u8>(), 0..=400),
    )
        .prop_map(
            |((seq, ssrc, marker, pt, ts), csrcs, ext, pad_to, payload)| Rtp {
                seq,
                ssrc,
                marker,
                pt,
                ts,
                csrcs,
                ext,
                pad_to,
                payload,
            },
        )
}

/// Protects `plain` with `tx` into a fresh buffer.
fn protect(tx: &mut SendContext, plain: &[u8]) -> Result<Vec<u8>, SrtpError> {
    let mut buf = plain.to_vec();
    buf.resize(plain.len() + tx.rtp_overhead(), 0);
    let n = tx.protect_rtp(&mut buf, plain.len())?;
    buf.truncate(n);
    Ok(buf)
}

fn unprotect(rx: &mut RecvContext, pkt: &[u8]) -> Result<Vec<u8>, SrtpError> {
    let mut buf = pkt.to_vec();
    let n = rx.unprotect_rtp(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// A plain RTP packet with sequence number `seq`.
fn simple(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34];
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p.extend(std::iter::repeat_n(seq as u8, 160));
    p
}

fn rtcp_packet(ssrc: u32, body: &[u8]) -> Vec<u8> {
    let words = (4 + body.len()) / 4;
    let mut p = vec![0x80, 201, (words >> 8) as u8, words as u8];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(body);
    p
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn protect_then_unprotect_is_identity(s in suite(), m in mki(), p in rtp()) {
        let k = keying(s, 1, m, None);
        let (mut tx, mut rx) = (SendContext::new(&k), RecvContext::new(&k));
        let plain = p.bytes();
        let srtp = protect(&mut tx, &plain).unwrap();
        prop_assert_eq!(srtp.len(), plain.len() + s.rtp_tag_len() + m.map_or(0, |m| m.len()));
        // The header, CSRCs and extension stay in clear.
        let hdr = 12 + 4 * p.csrcs.len() + p.ext.as_ref().map_or(0, |(_, d)| 4 + d.len());
        prop_assert_eq!(&srtp[..hdr], &plain[..hdr]);
        prop_assert_eq!(unprotect(&mut rx, &srtp).unwrap(), plain);
        prop_assert_eq!(rx.roc(p.ssrc), Some(0));
    }

    #[test]
    fn any_altered_bit_is_refused(s in suite(), m in mki(), p in rtp(), bit in any::<prop::sample::Index>()) {
        let k = keying(s, 2, m, None);
        let srtp = protect(&mut SendContext::new(&k), &p.bytes()).unwrap();
        let mut bad = srtp.clone();
        let i = bit.index(bad.len() * 8);
        bad[i / 8] ^= 1 << (i % 8);
        let mut rx = RecvContext::new(&k);
        let before = bad.clone();
        prop_assert!(rx.unprotect_rtp(&mut bad).is_err());
        prop_assert_eq!(&bad, &before, "a refused packet is unchanged");
        prop_assert_eq!(rx.ssrc_count(), 0, "nothing learnt from a forgery");
        // The genuine packet still passes afterwards.
        prop_assert!(unprotect(&mut rx, &srtp).is_ok());
    }

    #[test]
    fn replays_are_refused(s in suite(), p in rtp()) {
        let k = keying(s, 3, None, None);
        let srtp = protect(&mut SendContext::new(&k), &p.bytes()).unwrap();
        let mut rx = RecvContext::new(&k);
        unprotect(&mut rx, &srtp).unwrap();
        prop_assert_eq!(unprotect(&mut rx, &srtp), Err(SrtpError::Replay(u64::from(p.seq))));
    }

    /// Packets shuffled within blocks of 64 (so none arrives more than 63 behind the newest)
    /// across any starting sequence number, wraps included: each is accepted once.
    #[test]
    fn reordering_within_the_window_is_accepted(
        start in any::<u16>(),
        n in 1usize..300,
        seed in any::<u64>(),
    ) {
        let k = keying(Suite::AesCm128HmacSha1_80, 4, None, None);
        let mut tx = SendContext::new(&k);
        let mut packets: Vec<(u16, Vec<u8>)> = (0..n)
            .map(|i| {
                let seq = start.wrapping_add(i as u16);
                (seq, protect(&mut tx, &simple(seq)).unwrap())
            })
            .collect();
        // The receiver learns the rollover counter from the first packet it hears (RFC 3711,
        // section 3.3.1: ROC 0 on the first packet), so the stream's first packet arrives
        // first; the rest are shuffled within blocks well inside the replay window.
        let mut rng = StdRng::seed_from_u64(seed);
        for block in packets[1..].chunks_mut(64) {
            rand::seq::SliceRandom::shuffle(block, &mut rng);
        }
        let mut rx = RecvContext::new(&k);
        for (seq, pkt) in &packets {
            prop_assert_eq!(unprotect(&mut rx, pkt).unwrap(), simple(*seq));
        }
        let wraps = (u32::from(start) + n as u32 - 1) >> 16;
        prop_assert_eq!(rx.roc(0x1234), Some(wraps));
        prop_assert_eq!(tx.roc(0x1234), Some(wraps));
        for (_, pkt) in &packets {
            prop_assert!(matches!(
                unprotect(&mut rx, pkt),
                Err(SrtpError::Replay(_) | SrtpError::TooOld(_))
            ));
        }
    }

    #[test]
    fn srtcp_round_trip_and_altered_bits(
        s in suite(),
        m in mki(),
        ssrc in any::<u32>(),
        words in 0usize..40,
        bit in any::<prop::sample::Index>(),
    ) {
        let k = keying(s, 5, m, None);
        let (mut tx, mut rx) = (SendContext::new(&k), RecvContext::new(&k));
        let body: Vec<u8> = (0..4 * words).map(|i| i as u8).collect();
        let plain = rtcp_packet(ssrc, &body);
        let mut buf = plain.clone();
        buf.resize(plain.len() + tx.rtcp_overhead(), 0);
        let n = tx.protect_rtcp(&mut buf, plain.len()).unwrap();
        prop_assert_eq!(n, plain.len() + 4 + 10 + m.map_or(0, |m| m.len()));
        let srtcp = buf[..n].to_vec();
        let mut bad = srtcp.clone();
        let i = bit.index(bad.len() * 8);
        bad[i / 8] ^= 1 << (i % 8);
        prop_assert!(rx.unprotect_rtcp(&mut bad).is_err());
        let mut good = srtcp.clone();
        let len = rx.unprotect_rtcp(&mut good).unwrap();
        prop_assert_eq!(&good[..len], &plain[..]);
        let mut again = srtcp.clone();
        prop_assert_eq!(rx.unprotect_rtcp(&mut again), Err(SrtpError::Replay(0)));
    }

    /// Whatever arrives, unprotect answers without panicking and never returns more bytes
    /// than it was given.
    #[test]
    fn unprotect_is_total(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let k = keying(Suite::AesCm128HmacSha1_32, 6, Some(Mki::new(1, 1).unwrap()), None);
        let mut rx = RecvContext::new(&k);
        let mut a = bytes.clone();
        if let Ok(n) = rx.unprotect_rtp(&mut a) { prop_assert!(n <= bytes.len()); }
        let mut b = bytes.clone();
        if let Ok(n) = rx.unprotect_rtcp(&mut b) { prop_assert!(n <= bytes.len()); }
    }
}

/// A wrap of the sequence number, then a late packet from before it, sent and received:
/// the sender protects the late packet under the old rollover counter and the receiver
/// estimates it back (RFC 3711 Appendix A).
#[test]
fn rollover_with_a_late_packet_from_before_it() {
    let k = keying(Suite::AesCm128HmacSha1_80, 7, None, None);
    let (mut tx, mut rx) = (SendContext::new(&k), RecvContext::new(&k));
    let order = [65_531u16, 65_532, 65_534, 65_535, 0, 1, 2, 65_533, 3, 4];
    for seq in order {
        let srtp = protect(&mut tx, &simple(seq)).unwrap();
        assert_eq!(unprotect(&mut rx, &srtp).unwrap(), simple(seq), "seq {seq}");
    }
    assert_eq!(tx.roc(0x1234), Some(1));
    assert_eq!(rx.roc(0x1234), Some(1));
    // The late packet was protected with ROC 0: a receiver that took ROC 1 would fail it.
    let mut other = SendContext::new(&k);
    for seq in [65_535u16, 0] {
        protect(&mut other, &simple(seq)).unwrap();
    }
    let late = protect(&mut other, &simple(65_534)).unwrap();
    let mut rx2 = RecvContext::new(&k);
    assert_eq!(unprotect(&mut rx2, &late).unwrap(), simple(65_534));
    // Received after the wrap, on a stream that saw it.
    let mut rx3 = RecvContext::new(&k);
    let mut tx3 = SendContext::new(&k);
    let p0 = protect(&mut tx3, &simple(65_534)).unwrap();
    let p1 = protect(&mut tx3, &simple(1)).unwrap();
    let p2 = protect(&mut tx3, &simple(65_535)).unwrap();
    unprotect(&mut rx3, &p0).unwrap();
    unprotect(&mut rx3, &p1).unwrap();
    assert_eq!(rx3.roc(0x1234), Some(1));
    assert_eq!(unprotect(&mut rx3, &p2).unwrap(), simple(65_535));
    assert_eq!(rx3.roc(0x1234), Some(1));
}

#[test]
fn the_sender_refuses_to_reuse_an_index() {
    let k = keying(Suite::AesCm128HmacSha1_80, 8, None, None);
    let mut tx = SendContext::new(&k);
    protect(&mut tx, &simple(10)).unwrap();
    let mut buf = simple(10);
    buf.resize(200, 0);
    let before = buf.clone();
    assert_eq!(tx.protect_rtp(&mut buf, 172), Err(SrtpError::Replay(10)));
    assert_eq!(buf, before);
    // Far behind: too old to tell.
    protect(&mut tx, &simple(1000)).unwrap();
    assert_eq!(protect(&mut tx, &simple(11)), Err(SrtpError::TooOld(11)));
}

#[test]
fn ssrc_tables_are_bounded() {
    let k = keying(Suite::AesCm128HmacSha1_80, 9, None, None);
    let mut tx = SendContext::with_max_ssrcs(&k, 2);
    let mut rx = RecvContext::with_max_ssrcs(&k, 2);
    let with_ssrc = |ssrc: u32| {
        let mut p = simple(1);
        p[8..12].copy_from_slice(&ssrc.to_be_bytes());
        p
    };
    let a = protect(&mut tx, &with_ssrc(1)).unwrap();
    let b = protect(&mut tx, &with_ssrc(2)).unwrap();
    assert_eq!(
        protect(&mut tx, &with_ssrc(3)),
        Err(SrtpError::TooManySsrcs(2))
    );
    assert!(tx.remove_ssrc(1));
    let c = protect(&mut tx, &with_ssrc(3)).unwrap();
    for p in [&a, &b, &c] {
        unprotect(&mut rx, p).unwrap();
    }
    // The receiver made room by forgetting SSRC 1, the least recently used.
    assert_eq!((rx.ssrc_count(), rx.evicted_ssrcs()), (2, 1));
    assert_eq!(rx.roc(1), None);
    assert_eq!(rx.roc(3), Some(0));
}

#[test]
fn the_key_lifetime_counts_srtp_and_srtcp() {
    let k = keying(Suite::AesCm128HmacSha1_80, 10, None, Some(3));
    let (mut tx, mut rx) = (SendContext::new(&k), RecvContext::new(&k));
    let p1 = protect(&mut tx, &simple(1)).unwrap();
    let p2 = protect(&mut tx, &simple(2)).unwrap();
    let mut rtcp = rtcp_packet(0x1234, &[]);
    rtcp.resize(64, 0);
    let n = tx.protect_rtcp(&mut rtcp, 8).unwrap();
    assert_eq!(tx.packets_left(), 0);
    assert_eq!(protect(&mut tx, &simple(3)), Err(SrtpError::KeyExpired));
    unprotect(&mut rx, &p1).unwrap();
    unprotect(&mut rx, &p2).unwrap();
    rx.unprotect_rtcp(&mut rtcp[..n]).unwrap();
    assert_eq!(unprotect(&mut rx, &p2), Err(SrtpError::KeyExpired));
}

#[test]
fn malformed_packets_get_typed_errors_and_stay_unchanged() {
    let k = keying(Suite::AesCm128HmacSha1_80, 11, None, None);
    let mut tx = SendContext::new(&k);
    let mut rx = RecvContext::new(&k);
    let mut buf = [0x80u8; 40];
    assert_eq!(
        tx.protect_rtp(&mut buf, 11),
        Err(SrtpError::TooShort { len: 11, min: 12 })
    );
    assert_eq!(
        tx.protect_rtp(&mut buf, 41),
        Err(SrtpError::LengthOverrun { len: 41, have: 40 })
    );
    assert_eq!(
        tx.protect_rtp(&mut buf, 35),
        Err(SrtpError::BufferTooSmall { need: 45, have: 40 })
    );
    let mut v1 = simple(1);
    v1[0] = 0x40;
    v1.resize(200, 0);
    assert_eq!(tx.protect_rtp(&mut v1, 172), Err(SrtpError::BadVersion(1)));
    let mut csrc = simple(1);
    csrc[0] = 0x8F; // 15 CSRCs need 60 bytes
    csrc.truncate(40);
    csrc.resize(60, 0);
    assert_eq!(tx.protect_rtp(&mut csrc, 40), Err(SrtpError::HeaderOverrun));
    let mut ext = simple(1);
    ext[0] = 0x90;
    ext[14] = 0xFF; // extension of 0xFFxx words
    assert_eq!(rx.unprotect_rtp(&mut ext), Err(SrtpError::HeaderOverrun));
    let mut short = [0x80u8; 21];
    assert_eq!(
        rx.unprotect_rtp(&mut short),
        Err(SrtpError::TooShort { len: 21, min: 22 })
    );
    let mut short = [0x80u8; 21];
    assert_eq!(
        rx.unprotect_rtcp(&mut short),
        Err(SrtpError::TooShort { len: 21, min: 22 })
    );
    let mut rtcp = [0u8; 30];
    assert_eq!(rx.unprotect_rtcp(&mut rtcp), Err(SrtpError::BadVersion(0)));
    assert_eq!(tx.ssrc_count() + rx.ssrc_count(), 0);
}

/// One context serves several SSRCs with independent indices; the same sequence number on two
/// SSRCs is two different packets.
#[test]
fn ssrcs_are_independent() {
    let k = keying(Suite::Aes256CmHmacSha1_32, 12, None, None);
    let (mut tx, mut rx) = (SendContext::new(&k), RecvContext::new(&k));
    let mut a = simple(5);
    a[8..12].copy_from_slice(&[0, 0, 0, 1]);
    let mut b = simple(5);
    b[8..12].copy_from_slice(&[0, 0, 0, 2]);
    let (sa, sb) = (protect(&mut tx, &a).unwrap(), protect(&mut tx, &b).unwrap());
    assert_ne!(
        sa[12..172],
        sb[12..172],
        "different SSRCs, different key stream"
    );
    assert_eq!(unprotect(&mut rx, &sb).unwrap(), b);
    assert_eq!(unprotect(&mut rx, &sa).unwrap(), a);
    assert_eq!(rx.ssrc_count(), 2);
}
