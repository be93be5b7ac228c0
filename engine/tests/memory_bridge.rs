//! Bridging on the in-memory network: what two phones bridged through the engine receive.

mod common;

use std::net::SocketAddr;

use common::{Got, Sender, parse, payload};
use tandem_codecs::g711;
use tandem_engine::{
    ChannelSpec, Codec, Command, Event, GroupKey, MemoryEngine, NetworkConditions,
};
use tandem_engine::{MediaEngine, Micros};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

struct Call {
    eng: MemoryEngine,
    a: tandem_engine::ChannelInfo,
    b: tandem_engine::ChannelInfo,
    pa: SocketAddr,
    pb: SocketAddr,
}

/// Leg A knows its remote from signalling; leg B learns it from B's first packet.
fn call(mut spec_a: ChannelSpec, spec_b: ChannelSpec, cond: NetworkConditions, seed: u64) -> Call {
    spec_a.remote = Some(addr("192.0.2.10:4000"));
    let mut eng = MemoryEngine::new(2, cond, seed);
    let a = eng.create_channel(GroupKey(1), spec_a).unwrap();
    let b = eng.create_channel(GroupKey(1), spec_b).unwrap();
    eng.command(Command::Bridge { a: a.id, b: b.id }).unwrap();
    Call {
        eng,
        a,
        b,
        pa: addr("192.0.2.10:4000"),
        pb: addr("192.0.2.20:5000"),
    }
}

fn drain(eng: &mut MemoryEngine, at: SocketAddr) -> Vec<Got> {
    std::iter::from_fn(|| eng.recv(at))
        .filter(|d| d.from.port() % 2 == 0) // RTP only, not the RTCP port
        .map(|d| parse(&d.data))
        .collect()
}

#[test]
fn same_codec_payload_is_bit_exact_with_continuous_numbering() {
    let mut c = call(
        ChannelSpec::default(),
        ChannelSpec::default(),
        NetworkConditions::default(),
        1,
    );
    let mut sa = Sender::new(0x1111, 65_530, 4_000_000_000, 0);
    let mut sb = Sender::new(0x2222, 100, 0, 0);
    // B speaks first so the engine latches B's address; then both talk for a second.
    for n in 0..50u32 {
        c.eng.send(c.pb, c.b.local, &sb.audio(&payload(1000 + n)));
        c.eng.send(c.pa, c.a.local, &sa.audio(&payload(n)));
        c.eng
            .advance_to(Micros::from_us(c.eng.now().as_us() + 20_000));
    }
    c.eng
        .advance_to(Micros::from_us(c.eng.now().as_us() + 100_000));
    let at_b = drain(&mut c.eng, c.pb);
    assert_eq!(at_b.len(), 50);
    for (n, g) in at_b.iter().enumerate() {
        assert_eq!(g.payload, payload(n as u32), "packet {n}");
        assert_eq!(g.pt, 0);
        assert_eq!(g.seq, at_b[0].seq.wrapping_add(n as u16));
        assert_eq!(g.ts, at_b[0].ts.wrapping_add(160 * n as u32));
        assert_eq!(g.ssrc, at_b[0].ssrc);
        assert_ne!(g.ssrc, 0x1111, "the engine sends its own SSRC");
        assert_eq!(g.marker, n == 0);
    }
    let at_a = drain(&mut c.eng, c.pa);
    assert_eq!(at_a.len(), 50);
    assert!(
        at_a.iter()
            .enumerate()
            .all(|(n, g)| g.payload == payload(1000 + n as u32))
    );
    let s = c.eng.channel_stats(c.a.id).unwrap();
    assert_eq!(
        (s.packets_received, s.packets_sent, s.packets_lost),
        (50, 50, 0)
    );
}

#[test]
fn ulaw_to_alaw_is_transcoded_with_the_codec_tables() {
    let mut c = call(
        ChannelSpec::with_codec(Codec::PCMU),
        ChannelSpec::with_codec(Codec::PCMA),
        NetworkConditions::default(),
        2,
    );
    let mut sa = Sender::new(1, 0, 0, 0);
    let mut sb = Sender::new(2, 0, 0, 8);
    c.eng.send(c.pb, c.b.local, &sb.audio(&[0xD5; 160]));
    c.eng.send(c.pa, c.a.local, &sa.audio(&[0xFF; 160]));
    c.eng.advance_to(Micros::from_us(20_000));
    let all: Vec<u8> = (0..=255).collect();
    for chunk in all.chunks(160) {
        c.eng.send(c.pa, c.a.local, &sa.audio(chunk));
    }
    c.eng.advance_to(Micros::from_us(60_000));
    let at_b = drain(&mut c.eng, c.pb);
    assert_eq!(at_b.len(), 3);
    assert_eq!(at_b[0].pt, 8);
    let got: Vec<u8> = at_b[1..].iter().flat_map(|g| g.payload.clone()).collect();
    let want: Vec<u8> = all.iter().map(|&u| g711::ulaw_to_alaw(u)).collect();
    assert_eq!(got, want);
    let at_a = drain(&mut c.eng, c.pa);
    assert_eq!(at_a[0].pt, 0);
    assert_eq!(at_a[0].payload, vec![g711::alaw_to_ulaw(0xD5); 160]);
}

#[test]
fn dtmf_passes_through_once_per_digit_with_mapped_timestamps() {
    let spec_b = ChannelSpec {
        telephone_event_pt: Some(96),
        ..ChannelSpec::default()
    };
    let mut c = call(
        ChannelSpec::default(),
        spec_b,
        NetworkConditions::default(),
        3,
    );
    let mut sa = Sender::new(1, 10, 1000, 0);
    let mut sb = Sender::new(2, 0, 0, 0);
    c.eng.send(c.pb, c.b.local, &sb.audio(&payload(0)));
    c.eng.send(c.pa, c.a.local, &sa.audio(&payload(0)));
    c.eng.advance_to(Micros::from_us(20_000));
    let event_ts = sa.ts;
    for (end, d) in [
        (false, 160),
        (false, 320),
        (true, 480),
        (true, 480),
        (true, 480),
    ] {
        let p = sa.event(101, event_ts, '7', end, d);
        c.eng.send(c.pa, c.a.local, &p);
    }
    c.eng.advance_to(Micros::from_us(60_000));
    let at_b = drain(&mut c.eng, c.pb);
    let audio_ts = at_b[0].ts;
    let events: Vec<&Got> = at_b.iter().filter(|g| g.pt == 96).collect();
    assert_eq!(events.len(), 5, "every event packet is relayed");
    assert!(events.iter().all(|g| g.ts == audio_ts.wrapping_add(160)));
    assert!(
        events
            .windows(2)
            .all(|w| w[1].seq == w[0].seq.wrapping_add(1))
    );
    let digits: Vec<(tandem_engine::ChannelId, char, u32)> =
        std::iter::from_fn(|| c.eng.poll_event())
            .filter_map(|e| match e {
                Event::Dtmf {
                    channel,
                    digit,
                    duration_ms,
                    ..
                } => Some((channel, digit, duration_ms)),
                _ => None,
            })
            .collect();
    assert_eq!(digits, vec![(c.a.id, '7', 60)]);
}

#[test]
fn transfer_keeps_the_outgoing_stream_continuous() {
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 4);
    let caller = eng
        .create_channel(GroupKey(9), ChannelSpec::default())
        .unwrap();
    let agent1 = eng
        .create_channel(GroupKey(9), ChannelSpec::default())
        .unwrap();
    let agent2 = eng
        .create_channel(GroupKey(9), ChannelSpec::default())
        .unwrap();
    let (pc, p1, p2) = (
        addr("192.0.2.1:1000"),
        addr("192.0.2.2:2000"),
        addr("192.0.2.3:3000"),
    );
    let mut s1 = Sender::new(11, 500, 90_000, 0);
    let mut s2 = Sender::new(22, 40_000, 7, 0);
    let mut sc = Sender::new(33, 0, 0, 0);
    eng.send(pc, caller.local, &sc.audio(&payload(0)));
    eng.command(Command::Bridge {
        a: caller.id,
        b: agent1.id,
    })
    .unwrap();
    for n in 0..10 {
        eng.send(p1, agent1.local, &s1.audio(&payload(n)));
        eng.advance_by(Micros::from_us(20_000));
    }
    // Transfer to agent 2, who starts 60 ms after agent 1's last packet.
    eng.command(Command::Bridge {
        a: caller.id,
        b: agent2.id,
    })
    .unwrap();
    eng.advance_by(Micros::from_us(40_000));
    for n in 0..10 {
        eng.send(p2, agent2.local, &s2.audio(&payload(100 + n)));
        eng.advance_by(Micros::from_us(20_000));
    }
    eng.advance_by(Micros::from_us(50_000));
    let got = drain(&mut eng, pc);
    assert_eq!(got.len(), 20);
    for w in got.windows(2) {
        assert_eq!(w[1].seq, w[0].seq.wrapping_add(1), "no sequence gap");
        assert_eq!(w[1].ssrc, w[0].ssrc);
    }
    // The step across the transfer is the wall-clock time between the two packets.
    assert_eq!(got[10].ts.wrapping_sub(got[9].ts), 480);
    assert!(got[10].marker);
    assert_eq!(got[10].payload, payload(100));
}

#[test]
fn media_timeout_fires_once_and_rearms_on_media() {
    let spec = ChannelSpec {
        media_timeout_ms: 1_000,
        ..ChannelSpec::default()
    };
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 5);
    let ch = eng.create_channel(GroupKey(1), spec).unwrap();
    eng.advance_to(Micros::from_us(2_500_000));
    let timeouts = |eng: &mut MemoryEngine| {
        std::iter::from_fn(|| eng.poll_event())
            .filter(|e| matches!(e, Event::MediaTimeout { .. }))
            .count()
    };
    assert_eq!(timeouts(&mut eng), 1);
    let mut s = Sender::new(1, 0, 0, 0);
    eng.send(addr("192.0.2.1:1000"), ch.local, &s.audio(&payload(0)));
    eng.advance_to(Micros::from_us(3_000_000));
    assert_eq!(timeouts(&mut eng), 0);
    eng.advance_to(Micros::from_us(4_100_000));
    assert_eq!(timeouts(&mut eng), 1);
}

/// A caller that stops its speech stream and at once starts a digit on a stream of its own
/// (a new SSRC, as SIPp does when it plays a second capture): every event packet reaches
/// the callee, the first one included, in order.
#[test]
fn the_first_event_after_an_ssrc_switch_is_relayed() {
    let spec_b = ChannelSpec {
        telephone_event_pt: Some(101),
        ..ChannelSpec::default()
    };
    let spec_a = ChannelSpec {
        telephone_event_pt: Some(101),
        ..ChannelSpec::default()
    };
    let mut c = call(spec_a, spec_b, NetworkConditions::default(), 5);
    let mut speech = Sender::new(0xA0A0, 100, 5_000, 0);
    let mut sb = Sender::new(2, 0, 0, 0);
    c.eng.send(c.pb, c.b.local, &sb.audio(&payload(0)));
    let step = |eng: &mut MemoryEngine| eng.advance_to(Micros::from_us(eng.now().as_us() + 20_000));
    for n in 0..10 {
        c.eng.send(c.pa, c.a.local, &speech.audio(&payload(n)));
        step(&mut c.eng);
    }
    // The digit's stream: another SSRC, sequence and timestamp, 20 ms after the last
    // speech packet (the old stream is still live).
    let mut digit = Sender::new(0xD7D7, 30_000, 900_000, 101);
    let event_ts = digit.ts;
    let durations = [160u16, 320, 480, 640, 800, 960, 1120];
    for d in durations {
        let p = digit.event(101, event_ts, '1', false, d);
        c.eng.send(c.pa, c.a.local, &p);
        step(&mut c.eng);
    }
    for _ in 0..3 {
        let p = digit.event(101, event_ts, '1', true, 1280);
        c.eng.send(c.pa, c.a.local, &p);
    }
    step(&mut c.eng);
    let events: Vec<Got> = drain(&mut c.eng, c.pb)
        .into_iter()
        .filter(|g| g.pt == 101)
        .collect();
    assert_eq!(events.len(), 10, "all ten event packets reach the callee");
    let got: Vec<u16> = events
        .iter()
        .map(|g| u16::from_be_bytes([g.payload[2], g.payload[3]]))
        .collect();
    assert_eq!(got, [160, 320, 480, 640, 800, 960, 1120, 1280, 1280, 1280]);
    assert!(
        events
            .windows(2)
            .all(|w| w[1].seq == w[0].seq.wrapping_add(1))
    );
    assert!(
        events[0].marker,
        "the event's first packet keeps its marker"
    );
    let digits: Vec<char> = std::iter::from_fn(|| c.eng.poll_event())
        .filter_map(|e| match e {
            Event::Dtmf { digit, .. } => Some(digit),
            _ => None,
        })
        .collect();
    assert_eq!(digits, ['1']);
    let s = c.eng.channel_stats(c.a.id).unwrap();
    assert_eq!(
        s.packets_received, 20,
        "every packet of both streams is counted once"
    );
}
