//! Source learning under attack and under NAT: what reaches the other party is only what
//! the real party sent, a party that really moves is followed, and nothing loops through
//! the engine's own sockets.

mod common;

use std::net::SocketAddr;

use common::{PA, PB, Sender, addr, at_b, payload};
use tandem_engine::{ChannelInfo, ChannelSpec, Command, Event, GroupKey, MemoryEngine};
use tandem_engine::{MediaEngine, Micros};

/// The caller after its NAT rebinds, and a stranger.
const PA_MOVED: &str = "192.0.2.1:4800";
const STRANGER: &str = "198.51.100.9:6666";

fn bridged(spec_a: ChannelSpec) -> (MemoryEngine, ChannelInfo, ChannelInfo) {
    common::bridged(spec_a, 3)
}

fn signalled(remote: &str, strict: bool) -> ChannelSpec {
    ChannelSpec {
        remote: Some(addr(remote)),
        strict_source: strict,
        ..ChannelSpec::default()
    }
}

fn events(eng: &mut MemoryEngine) -> Vec<Event> {
    std::iter::from_fn(|| eng.poll_event()).collect()
}

const EVIL: u8 = 0xEE;

/// Runs `periods` of 20 ms: the caller sends payload(n) every period (unless `caller_stops`
/// says it has stopped), and `attack` may send whatever it likes.
fn run(
    eng: &mut MemoryEngine,
    a: &ChannelInfo,
    good: &mut Sender,
    periods: u32,
    mut attack: impl FnMut(&mut MemoryEngine, u32),
) {
    for n in 0..periods {
        eng.send(addr(PA), a.local, &good.audio(&payload(n)));
        attack(eng, n);
        eng.advance_by(Micros::from_us(20_000));
    }
    eng.advance_by(Micros::from_us(40_000));
}

#[test]
fn strangers_never_reach_the_callee_while_the_caller_talks() {
    for strict in [false, true] {
        let (mut eng, a, _) = bridged(signalled(PA, strict));
        let mut good = Sender::new(0xA11CE, 100, 1000, 0);
        // Two-packet bursts (consecutive sequence numbers across bursts), an SSRC flood, a
        // spoof of the caller's own SSRC and sequence, and long in-order runs.
        let mut burst = Sender::new(0xBAD, 0, 0, 0);
        let mut spoof = Sender::new(0xA11CE, 100, 1000, 0);
        let mut run_ = Sender::new(0x5EED, 0, 0, 0);
        run(&mut eng, &a, &mut good, 100, |eng, n| {
            if n % 5 == 0 {
                for _ in 0..2 {
                    eng.send(addr(STRANGER), a.local, &burst.audio(&[EVIL; 160]));
                }
            }
            let mut flood = Sender::new(0xF000_0000 + n, n as u16, n, 0);
            eng.send(
                addr("198.51.100.10:7000"),
                a.local,
                &flood.audio(&[EVIL; 160]),
            );
            eng.send(
                addr("198.51.100.11:7000"),
                a.local,
                &spoof.audio(&[EVIL; 160]),
            );
            eng.send(
                addr("198.51.100.12:7000"),
                a.local,
                &run_.audio(&[EVIL; 160]),
            );
        });
        let got = at_b(&mut eng);
        assert_eq!(got.len(), 100, "strict={strict}");
        for (n, g) in got.iter().enumerate() {
            assert_eq!(
                g.payload,
                payload(n as u32),
                "strict={strict}: only A's bytes"
            );
        }
        let st = eng.channel_stats(a.id).unwrap();
        assert_eq!(st.packets_received, 100);
        assert_eq!(st.source_changes, 0);
        let dropped = st.unlatched_source + st.wrong_source;
        assert_eq!(dropped, 20 * 2 + 300, "strict={strict}: {st:?}");
        if strict {
            assert_eq!(st.unlatched_source, 0);
        } else {
            assert_eq!(st.wrong_source, 0);
        }
    }
}

#[test]
fn a_party_that_moves_is_followed_once_its_old_source_stops() {
    let (mut eng, a, b) = bridged(signalled(PA, false));
    let mut good = Sender::new(7, 0, 0, 0);
    run(&mut eng, &a, &mut good, 10, |_, _| {});
    assert_eq!(at_b(&mut eng).len(), 10);
    // The NAT rebinds: the same stream now comes from another port, the old one is silent.
    let mut sent = Vec::new();
    for n in 10..60u32 {
        eng.send(addr(PA_MOVED), a.local, &good.audio(&payload(n)));
        sent.push(n);
        eng.advance_by(Micros::from_us(20_000));
    }
    eng.advance_by(Micros::from_us(40_000));
    let got = at_b(&mut eng);
    // The old source went quiet 60 ms before the first moved packet; the new one is
    // followed as soon as the old has been silent for the idle window (500 ms), its run
    // of four being long complete by then: moved packets 22..49 are relayed.
    assert!(
        (26..=30).contains(&got.len()),
        "{} packets relayed after the move",
        got.len()
    );
    let last = got.last().unwrap();
    assert_eq!(last.payload, payload(59));
    assert!(events(&mut eng).iter().any(
        |e| matches!(e, Event::RemoteChanged { channel, from } if *channel == a.id && *from == addr(PA_MOVED))
    ));
    assert_eq!(eng.channel_stats(a.id).unwrap().source_changes, 1);
    // What B sends now goes to where A really is.
    let mut bob = Sender::new(9, 0, 0, 0);
    eng.send(addr(PB), b.local, &bob.audio(&payload(1)));
    eng.advance_by(Micros::from_us(20_000));
    assert!(eng.recv(addr(PA_MOVED)).is_some());
}

#[test]
fn strict_source_never_moves_once_learnt_but_learns_behind_nat() {
    // The SDP names a private address; the packets come from the NAT's public one.
    let (mut eng, a, _) = bridged(signalled("10.1.1.1:4000", true));
    let mut good = Sender::new(7, 0, 0, 0);
    run(&mut eng, &a, &mut good, 20, |_, _| {});
    let got = at_b(&mut eng);
    assert_eq!(got.len(), 17, "learnt after four in-order packets");
    assert_eq!(got[0].payload, payload(3));
    // The learnt source stops and a stranger runs a perfect stream: strict never moves.
    let mut evil = Sender::new(7, 20, 3200, 0);
    for _ in 0..100 {
        eng.send(addr(STRANGER), a.local, &evil.audio(&[EVIL; 160]));
        eng.advance_by(Micros::from_us(20_000));
    }
    assert!(at_b(&mut eng).is_empty());
    assert_eq!(eng.channel_stats(a.id).unwrap().wrong_source, 100 + 3);
}

#[test]
fn the_signalled_address_wins_at_once() {
    // The callee leg before the answer: no remote, so a stranger's first packet latches.
    let (mut eng, a, _) = bridged(ChannelSpec::default());
    let mut evil = Sender::new(1, 0, 0, 0);
    for _ in 0..5 {
        eng.send(addr(STRANGER), a.local, &evil.audio(&[EVIL; 160]));
        eng.advance_by(Micros::from_us(20_000));
    }
    // The answer names the real party: it takes over with its first packet, even though
    // the stranger is still sending.
    eng.command(Command::SetRemote {
        channel: a.id,
        remote: addr(PA),
    })
    .unwrap();
    at_b(&mut eng);
    let mut good = Sender::new(2, 0, 0, 0);
    run(&mut eng, &a, &mut good, 10, |eng, _| {
        eng.send(addr(STRANGER), a.local, &evil.audio(&[EVIL; 160]));
    });
    let got = at_b(&mut eng);
    assert_eq!(got.len(), 10);
    assert!(got.iter().all(|g| g.payload != [EVIL; 160]));
}

#[test]
fn nothing_loops_through_the_engines_own_sockets() {
    let (mut eng, a, b) = bridged(signalled(PA, false));
    // A remote naming the engine's own port is refused, and the state is unchanged.
    eng.command(Command::SetRemote {
        channel: b.id,
        remote: a.local,
    })
    .unwrap();
    assert!(events(&mut eng).iter().any(|e| matches!(
        e,
        Event::CommandFailed { error, .. } if error.to_string().contains("own media")
    )));
    let own_remote = ChannelSpec {
        remote: Some(a.local),
        ..ChannelSpec::default()
    };
    let refused = eng.create_channel(GroupKey(1), own_remote).unwrap_err();
    assert!(refused.to_string().contains("own media"), "{refused}");
    // A port of the range the engine does not hold (a phone on the same host may) is not
    // the engine's.
    let phone_in_range = ChannelSpec {
        remote: Some(SocketAddr::new(a.local.ip(), 50_001)),
        ..ChannelSpec::default()
    };
    eng.create_channel(GroupKey(1), phone_in_range).unwrap();
    assert!(
        !events(&mut eng)
            .iter()
            .any(|e| matches!(e, Event::CommandFailed { .. }))
    );
    // Packets from the engine's own address are dropped however many come in a row, even
    // after the caller has stopped.
    let mut good = Sender::new(7, 0, 0, 0);
    run(&mut eng, &a, &mut good, 5, |_, _| {});
    at_b(&mut eng);
    let mut looped = Sender::new(8, 0, 0, 0);
    for _ in 0..60 {
        eng.send(b.local, a.local, &looped.audio(&[EVIL; 160]));
        eng.advance_by(Micros::from_us(20_000));
    }
    assert!(at_b(&mut eng).is_empty());
    let st = eng.channel_stats(a.id).unwrap();
    assert_eq!((st.own_source, st.source_changes), (60, 0));
}

#[test]
fn rtcp_from_another_host_is_ignored() {
    let (mut eng, a, _) = bridged(signalled(PA, false));
    let rtcp_port = SocketAddr::new(a.local.ip(), a.local.port() + 1);
    // A receiver report (RFC 3550 §6.4.2) with no blocks: valid RTCP.
    let rr = [0x80, 201, 0, 1, 0, 0, 0, 9];
    eng.send(addr(STRANGER), rtcp_port, &rr);
    eng.send(addr(STRANGER), rtcp_port, &[0xFF; 40]);
    eng.send(addr("192.0.2.1:4001"), rtcp_port, &rr);
    // Garbage from the remote's host is an RTCP error too.
    eng.send(addr("192.0.2.1:4001"), rtcp_port, &[0xFF; 40]);
    eng.advance_by(Micros::from_us(20_000));
    let st = eng.channel_stats(a.id).unwrap();
    assert_eq!(
        (st.rtcp_received, st.rtcp_bytes_received, st.rtcp_errors),
        (1, 8, 3)
    );
    assert_eq!(
        (st.unlatched_source, st.malformed),
        (0, 0),
        "RTCP drops are not RTP errors"
    );
}

#[test]
fn media_resumed_follows_a_timeout_when_packets_come_back() {
    let spec = ChannelSpec {
        media_timeout_ms: 200,
        ..signalled(PA, false)
    };
    let (mut eng, a, _) = bridged(spec);
    let mut good = Sender::new(7, 0, 0, 0);
    run(&mut eng, &a, &mut good, 3, |_, _| {});
    eng.advance_by(Micros::from_us(400_000));
    let ev = events(&mut eng);
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::MediaTimeout { channel, .. } if *channel == a.id))
    );
    assert!(!ev.iter().any(|e| matches!(e, Event::MediaResumed { .. })));
    run(&mut eng, &a, &mut good, 3, |_, _| {});
    let ev = events(&mut eng);
    let resumed = ev
        .iter()
        .filter(|e| matches!(e, Event::MediaResumed { channel } if *channel == a.id))
        .count();
    assert_eq!(resumed, 1, "{ev:?}");
}

#[test]
fn read_stats_returns_the_channels_that_exist_in_order() {
    let (mut eng, a, b) = bridged(signalled(PA, false));
    let mut good = Sender::new(7, 0, 0, 0);
    run(&mut eng, &a, &mut good, 4, |_, _| {});
    eng.command(Command::DestroyChannel { channel: b.id })
        .unwrap();
    let read = eng.read_stats(&[b.id, a.id]).unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].0, a.id);
    assert_eq!(read[0].1.packets_received, 4);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    /// Whatever strangers send, however they pick addresses, SSRCs and sequence numbers,
    /// the callee hears only the caller while the caller talks.
    #[test]
    fn strangers_never_get_through_a_live_stream(
        strict in proptest::bool::ANY,
        attacks in proptest::collection::vec(
            proptest::collection::vec((0u8..4, 0u8..3, 0i8..4), 0..6),
            20..60,
        ),
    ) {
        let (mut eng, a, _) = bridged(signalled(PA, strict));
        let mut good = Sender::new(0xA11CE, 500, 0, 0);
        let strangers = [STRANGER, "198.51.100.10:7000", "198.51.100.11:7001", "192.0.2.1:4002"];
        let mut runs = [0u16; 4];
        for (n, step) in attacks.iter().enumerate() {
            eng.send(addr(PA), a.local, &good.audio(&payload(n as u32)));
            for &(who, ssrc, step_seq) in step {
                let k = usize::from(who);
                // SSRC: the caller's own, a fixed one, or a fresh one; sequence: the
                // caller's next, or the stranger's own run moving on by 0..3.
                let ssrc = match ssrc {
                    0 => good.ssrc,
                    1 => 0xBAD,
                    _ => 0xF000_0000 + n as u32,
                };
                runs[k] = runs[k].wrapping_add(step_seq as u16);
                let seq = if step_seq == 0 { good.seq } else { runs[k] };
                let mut evil = Sender::new(ssrc, seq, u32::from(seq) * 160, 0);
                eng.send(addr(strangers[k]), a.local, &evil.audio(&[EVIL; 160]));
            }
            eng.advance_by(Micros::from_us(20_000));
        }
        eng.advance_by(Micros::from_us(40_000));
        let got = at_b(&mut eng);
        proptest::prop_assert_eq!(got.len(), attacks.len());
        for (n, g) in got.iter().enumerate() {
            proptest::prop_assert_eq!(&g.payload, &payload(n as u32));
        }
    }
}
