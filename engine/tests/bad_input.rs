//! Hostile and broken input: counted, dropped or handled, never a panic, and the good stream
//! beside it is undisturbed.

mod common;

use std::net::SocketAddr;

use common::{PA, Sender, addr, at_b, payload};
use proptest::prelude::*;
use tandem_engine::{ChannelInfo, ChannelSpec, Event, MemoryEngine};
use tandem_engine::{MediaEngine, Micros};

fn bridged(spec_a: ChannelSpec) -> (MemoryEngine, ChannelInfo, ChannelInfo) {
    common::bridged(spec_a, 11)
}

#[test]
fn malformed_datagrams_are_counted_and_the_stream_goes_on() {
    let (mut eng, a, _) = bridged(ChannelSpec::default());
    let mut s = Sender::new(5, 0, 0, 0);
    let junk: [&[u8]; 5] = [
        &[],
        &[0x80],
        &[0x00; 20],
        &[0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1],
        &[0xBF; 12],
    ];
    for n in 0..10 {
        eng.send(addr(PA), a.local, &s.audio(&payload(n)));
        eng.send(addr(PA), a.local, junk[n as usize % junk.len()]);
        eng.advance_by(Micros::from_us(20_000));
    }
    eng.advance_by(Micros::from_us(20_000));
    let got = at_b(&mut eng);
    assert_eq!(got.len(), 10);
    assert!(
        got.iter()
            .enumerate()
            .all(|(n, g)| g.payload == payload(n as u32))
    );
    let st = eng.channel_stats(a.id).unwrap();
    assert_eq!(st.packets_received, 10);
    assert_eq!(st.malformed + st.unknown_payload_type, 10, "{st:?}");
}

#[test]
fn strict_source_drops_strangers_but_symmetric_mode_latches() {
    let strict = ChannelSpec {
        remote: Some(addr(PA)),
        strict_source: true,
        ..ChannelSpec::default()
    };
    let (mut eng, a, _) = bridged(strict);
    let mut good = Sender::new(5, 0, 0, 0);
    let mut evil = Sender::new(5, 1000, 1000, 0);
    for n in 0..5 {
        eng.send(
            addr("198.51.100.9:6666"),
            a.local,
            &evil.audio(&payload(99)),
        );
        eng.send(addr(PA), a.local, &good.audio(&payload(n)));
        eng.advance_by(Micros::from_us(20_000));
    }
    eng.advance_by(Micros::from_us(20_000));
    let got = at_b(&mut eng);
    assert_eq!(got.len(), 5);
    assert!(got.iter().all(|g| g.payload != payload(99)));
    assert_eq!(eng.channel_stats(a.id).unwrap().wrong_source, 5);

    // Without strict mode the first source is latched as the remote (symmetric RTP).
    let (mut eng, a, _) = bridged(ChannelSpec::default());
    eng.send(addr("198.51.100.9:6666"), a.local, &evil.audio(&payload(1)));
    eng.advance_to(Micros::from_us(20_000));
    assert!(
        matches!(eng.poll_event(), Some(Event::FirstPacket { from, .. }) if from == addr("198.51.100.9:6666"))
    );
}

#[test]
fn an_ssrc_flood_never_displaces_the_live_stream() {
    let (mut eng, a, _) = bridged(ChannelSpec::default());
    let mut good = Sender::new(0x600D, 0, 0, 0);
    for n in 0..50u32 {
        eng.send(addr(PA), a.local, &good.audio(&payload(n)));
        for k in 0..20u32 {
            let mut flood = Sender::new(0xF000_0000 + n * 20 + k, k as u16, k, 0);
            eng.send(addr(PA), a.local, &flood.audio(&payload(99)));
        }
        eng.advance_by(Micros::from_us(20_000));
    }
    eng.advance_by(Micros::from_us(20_000));
    let got = at_b(&mut eng);
    assert_eq!(got.len(), 50);
    assert!(
        got.iter()
            .enumerate()
            .all(|(n, g)| g.payload == payload(n as u32))
    );
    let st = eng.channel_stats(a.id).unwrap();
    assert_eq!((st.ssrc_rejected, st.ssrc_changes), (1000, 0));
    assert!(
        !std::iter::from_fn(|| eng.poll_event()).any(|e| matches!(e, Event::SsrcChanged { .. }))
    );

    // A real change (the old SSRC goes quiet) is taken at once and reported.
    let mut new = Sender::new(0xBEEF, 7, 7, 0);
    eng.advance_by(Micros::from_us(100_000));
    eng.send(addr(PA), a.local, &new.audio(&payload(500)));
    eng.advance_by(Micros::from_us(20_000));
    let got = at_b(&mut eng);
    assert_eq!(got.len(), 1);
    assert!(got[0].marker);
    assert!(std::iter::from_fn(|| eng.poll_event()).any(|e| matches!(
        e,
        Event::SsrcChanged {
            old: 0x600D,
            new: 0xBEEF,
            ..
        }
    )));
}

#[test]
fn a_timestamp_jump_of_2_pow_31_is_rebased_on_output() {
    let (mut eng, a, _) = bridged(ChannelSpec::default());
    let mut s = Sender::new(5, 100, 1000, 0);
    for n in 0..20u32 {
        if n == 10 {
            s.ts = s.ts.wrapping_add(1 << 31);
        }
        eng.send(addr(PA), a.local, &s.audio(&payload(n)));
        eng.advance_by(Micros::from_us(20_000));
    }
    eng.advance_by(Micros::from_us(20_000));
    let got = at_b(&mut eng);
    assert_eq!(got.len(), 20);
    for w in got.windows(2) {
        assert_eq!(w[1].seq, w[0].seq.wrapping_add(1));
        assert_eq!(
            w[1].ts.wrapping_sub(w[0].ts),
            160,
            "output timeline stays continuous"
        );
    }
    assert_eq!(eng.channel_stats(a.id).unwrap().timestamp_jumps, 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn arbitrary_datagrams_never_panic(datagrams in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..60)) {
        let (mut eng, a, b) = bridged(ChannelSpec::default());
        for (i, d) in datagrams.iter().enumerate() {
            let mut d = d.clone();
            // Half of them look like RTP version 2 so they get past the first check.
            if i % 2 == 0 && !d.is_empty() {
                d[0] = 0x80 | (d[0] & 0x3F);
            }
            eng.send(addr(PA), a.local, &d);
            let rtcp = SocketAddr::new(a.local.ip(), a.local.port() + 1);
            eng.send(addr(PA), rtcp, &d);
            eng.advance_by(Micros::from_us(7_000));
        }
        eng.advance_by(Micros::from_us(6_000_000));
        let st = eng.channel_stats(a.id).unwrap();
        prop_assert!(st.packets_received <= datagrams.len() as u64);
        prop_assert!(eng.channel_stats(b.id).is_some());
    }
}
