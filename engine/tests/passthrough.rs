//! Codecs the engine does not decode (G.722, opus) relayed between two pass-through
//! channels on the in-memory network: payloads cross bit-exact with each leg's payload type
//! and a continuous stream, and whatever needs the samples is refused by name.

mod common;

use std::net::SocketAddr;

use common::{Got, Sender, parse};
use tandem_codecs::wav::Encoding;
use tandem_engine::jitter::JitterConfig;
use tandem_engine::{
    ChannelSpec, Codec, Command, CommandError, DtmfSettings, Event, GroupKey, MediaEngine,
    MediaFilter, MemoryEngine, Micros, NetworkConditions, PlayItem, PlaySpec, PlayTarget, RoomId,
    RoomOptions, TapId, TapMode, TapSpec, TapTarget,
};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

const PA: &str = "192.0.2.10:4000";
const PB: &str = "192.0.2.20:5000";

/// Two channels with the given codecs, bridged, each with its party's address signalled.
fn bridged(
    a: Codec,
    b: Codec,
) -> (
    MemoryEngine,
    tandem_engine::ChannelInfo,
    tandem_engine::ChannelInfo,
) {
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 11);
    let spec = |codec, remote: &str| ChannelSpec {
        codec,
        remote: Some(addr(remote)),
        ..ChannelSpec::default()
    };
    let ca = eng.create_channel(GroupKey(1), spec(a, PA)).unwrap();
    let cb = eng.create_channel(GroupKey(1), spec(b, PB)).unwrap();
    eng.command(Command::Bridge { a: ca.id, b: cb.id }).unwrap();
    (eng, ca, cb)
}

fn drain(eng: &mut MemoryEngine, at: &str) -> Vec<Got> {
    std::iter::from_fn(|| eng.recv(addr(at)))
        .filter(|d| d.from.port() % 2 == 0)
        .map(|d| parse(&d.data))
        .collect()
}

/// A payload no codec table maps to itself: every byte value, shifted per packet.
fn opaque(n: u32, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u32 * 7 + n * 13) as u8).collect()
}

fn failures(eng: &mut MemoryEngine) -> Vec<CommandError> {
    std::iter::from_fn(|| eng.poll_event())
        .filter_map(|e| match e {
            Event::CommandFailed { error, .. } => Some(error),
            _ => None,
        })
        .collect()
}

#[test]
fn g722_crosses_bit_exact_both_ways_on_a_continuous_stream() {
    let g722 = Codec::passthrough(9, 8000);
    let (mut eng, a, b) = bridged(g722, g722);
    let mut sa = Sender::new(0xA, 100, 1_000, 9);
    let mut sb = Sender::new(0xB, 7, 90, 9);
    for n in 0..40u32 {
        eng.send(addr(PA), a.local, &sa.audio(&opaque(n, 160)));
        eng.send(addr(PB), b.local, &sb.audio(&opaque(1000 + n, 160)));
        eng.advance_by(Micros::from_us(20_000));
    }
    let at_b = drain(&mut eng, PB);
    assert_eq!(at_b.len(), 40);
    for (n, g) in at_b.iter().enumerate() {
        assert_eq!(g.payload, opaque(n as u32, 160), "packet {n}: untouched");
        assert_eq!(g.pt, 9);
        assert_eq!(g.seq, at_b[0].seq.wrapping_add(n as u16));
        assert_eq!(g.ts, at_b[0].ts.wrapping_add(160 * n as u32));
        assert_ne!(g.ssrc, 0xA, "the relay's own SSRC");
    }
    let at_a = drain(&mut eng, PA);
    assert_eq!(at_a.len(), 40);
    assert!(
        at_a.iter()
            .enumerate()
            .all(|(n, g)| g.payload == opaque(1000 + n as u32, 160) && g.pt == 9)
    );
    assert!(failures(&mut eng).is_empty());
}

#[test]
fn opus_keeps_its_payload_and_takes_each_legs_payload_type_and_clock() {
    // The caller calls opus 111, the callee 96; 20 ms at 48 kHz is 960 timestamp units.
    let (mut eng, a, _) = bridged(
        Codec::passthrough(111, 48_000),
        Codec::passthrough(96, 48_000),
    );
    let mut sa = Sender::new(0xA, 0, 0, 111);
    for n in 0..10u32 {
        let mut p = sa.audio(&opaque(n, 83));
        // Opus frames vary in size; the timestamp moves by the frame's duration.
        p[4..8].copy_from_slice(&(n * 960).to_be_bytes());
        eng.send(addr(PA), a.local, &p);
        eng.advance_by(Micros::from_us(20_000));
    }
    // A pause of one second, then a new stream (another SSRC): the relay's timestamp
    // moves on by the pause at 48 kHz.
    eng.advance_by(Micros::from_us(1_000_000));
    let mut again = Sender::new(0xC, 500, 77, 111);
    eng.send(addr(PA), a.local, &again.audio(&opaque(99, 60)));
    eng.advance_by(Micros::from_us(20_000));
    let at_b = drain(&mut eng, PB);
    assert_eq!(at_b.len(), 11);
    for (n, g) in at_b[..10].iter().enumerate() {
        assert_eq!((g.pt, &g.payload), (96, &opaque(n as u32, 83)));
        assert_eq!(g.ts, at_b[0].ts.wrapping_add(960 * n as u32));
    }
    let gap = at_b[10].ts.wrapping_sub(at_b[9].ts);
    assert!(
        (48_000..=50_000).contains(&gap),
        "a second and a packet at 48 kHz: {gap}"
    );
    assert!(at_b[10].marker);
}

#[test]
fn nothing_crosses_between_a_pass_through_and_a_g711_channel() {
    let (mut eng, a, b) = bridged(Codec::passthrough(9, 8000), Codec::PCMU);
    let mut sa = Sender::new(0xA, 0, 0, 9);
    let mut sb = Sender::new(0xB, 0, 0, 0);
    for n in 0..5u32 {
        eng.send(addr(PA), a.local, &sa.audio(&opaque(n, 160)));
        eng.send(addr(PB), b.local, &sb.audio(&opaque(n, 160)));
        eng.advance_by(Micros::from_us(20_000));
    }
    assert!(drain(&mut eng, PB).is_empty(), "no G.722 decoded as PCMU");
    assert!(drain(&mut eng, PA).is_empty(), "no PCMU sent as G.722");
}

#[test]
fn what_needs_samples_is_refused_for_a_pass_through_channel() {
    let g722 = Codec::passthrough(9, 8000);
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 12);
    for (spec, feature) in [
        (
            ChannelSpec {
                jitter: Some(JitterConfig::default()),
                ..ChannelSpec::with_codec(g722)
            },
            "a jitter buffer",
        ),
        (
            ChannelSpec {
                repacketize: true,
                ..ChannelSpec::with_codec(g722)
            },
            "repacketisation",
        ),
        (
            ChannelSpec {
                dtmf: DtmfSettings {
                    inband: true,
                    ..DtmfSettings::default()
                },
                ..ChannelSpec::with_codec(g722)
            },
            "in-band DTMF detection",
        ),
    ] {
        let _ = eng.create_channel(GroupKey(1), spec);
        assert_eq!(failures(&mut eng), [CommandError::PassThroughSpec(feature)]);
    }
    let (mut eng, a, b) = bridged(g722, g722);
    let path = std::env::temp_dir().join(format!("passthrough-{}.wav", std::process::id()));
    eng.command(Command::CreateRoom {
        room: RoomId::new(0, 1),
        options: RoomOptions::default(),
    })
    .unwrap();
    let cmds = [
        Command::StartTap {
            tap: TapId::new(0, 1),
            target: TapTarget::Channel(a.id),
            spec: TapSpec {
                path: path.clone(),
                mode: TapMode::Stereo,
                encoding: Encoding::Pcm16,
            },
        },
        Command::Play {
            target: PlayTarget::Channel(b.id),
            spec: PlaySpec::once(vec![PlayItem::Silence { ms: 100 }]),
        },
        Command::SetFilter {
            channel: a.id,
            filter: MediaFilter {
                silence_audio: true,
                ..MediaFilter::default()
            },
        },
        Command::JoinRoom {
            room: RoomId::new(0, 1),
            channel: a.id,
            options: Default::default(),
        },
    ];
    let want = ["recording", "a player", "silencing", "a room"];
    for (cmd, feature) in cmds.into_iter().zip(want) {
        eng.command(cmd).unwrap();
        let f = failures(&mut eng);
        assert_eq!(f.len(), 1, "{feature}: {f:?}");
        assert!(
            matches!(f[0], CommandError::PassThrough { feature: got, .. } if got == feature),
            "{f:?}"
        );
        assert!(f[0].to_string().contains("without decoding"));
    }
    assert!(!path.exists(), "no recording was started");
    // Blocking needs no samples.
    eng.command(Command::SetFilter {
        channel: a.id,
        filter: MediaFilter {
            block_audio: true,
            ..MediaFilter::default()
        },
    })
    .unwrap();
    assert!(failures(&mut eng).is_empty());
    // A G.711 channel that detects tones cannot become pass-through.
    let spec = ChannelSpec {
        dtmf: DtmfSettings {
            inband: true,
            ..DtmfSettings::default()
        },
        ..ChannelSpec::default()
    };
    let c = eng.create_channel(GroupKey(1), spec).unwrap();
    eng.command(Command::SetCodec {
        channel: c.id,
        codec: g722,
        telephone_event_pt: None,
    })
    .unwrap();
    assert!(matches!(
        failures(&mut eng)[..],
        [CommandError::PassThrough {
            feature: "in-band DTMF detection",
            ..
        }]
    ));
}
