//! Prompts, sequences, barge-in, generated DTMF and its detection.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::{Sender, parse};
use tandem_codecs::g711;
use tandem_engine::{
    ChannelInfo, ChannelSpec, Command, DtmfSettings, Event, GroupKey, MemoryEngine,
    NetworkConditions, PlayItem, PlaySpec, PlayTarget, Prompt,
};
use tandem_engine::{MediaEngine, Micros};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn channel(eng: &mut MemoryEngine, remote: &str, spec: ChannelSpec) -> ChannelInfo {
    eng.create_channel(
        GroupKey(1),
        ChannelSpec {
            remote: Some(addr(remote)),
            ..spec
        },
    )
    .unwrap()
}

fn rtp_at(eng: &mut MemoryEngine, who: &str) -> Vec<common::Got> {
    std::iter::from_fn(|| eng.recv(addr(who)))
        .filter(|d| d.from.port() % 2 == 0)
        .map(|d| parse(&d.data))
        .collect()
}

/// A prompt whose samples are exactly representable in μ-law, so playback can be bit-exact.
/// (0x7F is μ-law's negative zero, which decodes to the same 0 as 0xFF and so re-encodes as
/// 0xFF; it is left out.)
fn ulaw_prompt(name: &str, frames: usize, salt: u8) -> (Arc<Prompt>, Vec<u8>) {
    let codes: Vec<u8> = (0..frames * 160)
        .map(|i| (i as u8).wrapping_mul(37).wrapping_add(salt) | 0x01)
        .map(|c| if c == 0x7F { 0xFF } else { c })
        .collect();
    let pcm = codes.iter().map(|&c| g711::ulaw_to_linear(c)).collect();
    (Arc::new(Prompt::from_pcm(name, pcm)), codes)
}

fn events(eng: &mut MemoryEngine) -> Vec<Event> {
    std::iter::from_fn(|| eng.poll_event()).collect()
}

#[test]
fn a_prompt_sequence_plays_bit_exact_and_reports_its_end() {
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 1);
    let ch = channel(&mut eng, "192.0.2.1:1000", ChannelSpec::default());
    let (you_are, c1) = ulaw_prompt("you-are-number", 7, 3);
    let (twelve, c2) = ulaw_prompt("12", 4, 90);
    let spec = PlaySpec::once(vec![PlayItem::Prompt(you_are), PlayItem::Prompt(twelve)]);
    eng.command(Command::Play {
        target: PlayTarget::Channel(ch.id),
        spec,
    })
    .unwrap();
    eng.advance_to(Micros::from_us(400_000));
    let got = rtp_at(&mut eng, "192.0.2.1:1000");
    assert_eq!(got.len(), 11);
    let bytes: Vec<u8> = got.iter().flat_map(|g| g.payload.clone()).collect();
    assert_eq!(
        bytes,
        [c1, c2].concat(),
        "prompts play bit-exact, back to back"
    );
    assert!(
        got.windows(2)
            .all(|w| w[1].seq == w[0].seq.wrapping_add(1) && w[1].ts == w[0].ts.wrapping_add(160))
    );
    let ev = events(&mut eng);
    assert!(
        ev.contains(&Event::PlayFinished {
            target: PlayTarget::Channel(ch.id),
            interrupted: false,
            position_ms: 220
        }),
        "{ev:?}"
    );
}

#[test]
fn a_digit_barges_into_a_prompt_and_digits_are_collected() {
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 2);
    let spec = ChannelSpec {
        dtmf: DtmfSettings {
            inter_digit_timeout_ms: 3_000,
            ..DtmfSettings::default()
        },
        ..ChannelSpec::default()
    };
    let ch = channel(&mut eng, "192.0.2.1:1000", spec);
    let (menu, _) = ulaw_prompt("menu", 100, 0);
    let spec = PlaySpec {
        items: vec![PlayItem::Prompt(menu)],
        looped: false,
        barge_in: true,
    };
    eng.command(Command::Play {
        target: PlayTarget::Channel(ch.id),
        spec,
    })
    .unwrap();
    eng.advance_to(Micros::from_us(500_000));
    let mut caller = Sender::new(5, 0, 0, 0);
    for (i, d) in "42".chars().enumerate() {
        let ts = 10_000 + i as u32 * 4_000;
        for (end, dur) in [
            (false, 160),
            (false, 320),
            (true, 480),
            (true, 480),
            (true, 480),
        ] {
            eng.send(
                addr("192.0.2.1:1000"),
                ch.local,
                &caller.event(101, ts, d, end, dur),
            );
        }
        eng.advance_by(Micros::from_us(200_000));
    }
    let ev = events(&mut eng);
    let stop = ev.iter().find_map(|e| match e {
        Event::PlayFinished {
            interrupted: true,
            position_ms,
            ..
        } => Some(*position_ms),
        _ => None,
    });
    assert!(
        matches!(stop, Some(p) if (480..=520).contains(&p)),
        "barge-in at ~500 ms: {ev:?}"
    );
    let heard = rtp_at(&mut eng, "192.0.2.1:1000").len();
    assert!(
        (24..=27).contains(&heard),
        "prompt stopped after ~25 frames, sent {heard}"
    );
    eng.advance_by(Micros::from_us(3_100_000));
    let ev = events(&mut eng);
    assert!(
        ev.contains(&Event::DigitsCollected {
            channel: ch.id,
            digits: "42".into()
        }),
        "{ev:?}"
    );
}

/// Plays `digits` from channel X to an endpoint that loops everything it hears into
/// channel Y; returns the digits Y reports.
fn loop_digits(
    x_spec: ChannelSpec,
    y_spec: ChannelSpec,
    inband: bool,
) -> (Vec<char>, Vec<u32>, usize) {
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 3);
    let x = channel(&mut eng, "192.0.2.1:1000", x_spec);
    let y = channel(&mut eng, "192.0.2.2:2000", y_spec);
    let spec = PlaySpec::once(vec![PlayItem::Digits {
        digits: "159#".into(),
        inband,
    }]);
    eng.command(Command::Play {
        target: PlayTarget::Channel(x.id),
        spec,
    })
    .unwrap();
    let mut events_seen = 0;
    for _ in 0..100 {
        eng.advance_by(Micros::from_us(20_000));
        while let Some(d) = eng.recv(addr("192.0.2.1:1000")) {
            if d.from.port() % 2 == 0 {
                if parse(&d.data).pt == 101 {
                    events_seen += 1;
                }
                eng.send(addr("192.0.2.2:2000"), y.local, &d.data);
            }
        }
    }
    let (mut digits, mut durations) = (vec![], vec![]);
    for e in events(&mut eng) {
        if let Event::Dtmf {
            channel,
            digit,
            duration_ms,
            ..
        } = e
        {
            assert_eq!(channel, y.id);
            digits.push(digit);
            durations.push(duration_ms);
        }
    }
    (digits, durations, events_seen)
}

#[test]
fn generated_dtmf_is_detected_in_band_and_as_rfc4733() {
    let inband_rx = ChannelSpec {
        dtmf: DtmfSettings {
            inband: true,
            rfc4733: false,
            ..DtmfSettings::default()
        },
        ..ChannelSpec::default()
    };
    let (digits, _, events_seen) = loop_digits(ChannelSpec::default(), inband_rx, true);
    assert_eq!(
        digits,
        vec!['1', '5', '9', '#'],
        "in-band tones from the generator are detected"
    );
    assert_eq!(events_seen, 0);

    let (digits, durations, events_seen) =
        loop_digits(ChannelSpec::default(), ChannelSpec::default(), false);
    assert_eq!(digits, vec!['1', '5', '9', '#'], "RFC 4733 events");
    assert_eq!(durations, vec![100; 4]);
    assert_eq!(
        events_seen,
        4 * 7,
        "five updates and three end packets per digit"
    );

    // Without telephone-event negotiated, the same request falls back to tones.
    let no_te = ChannelSpec {
        telephone_event_pt: None,
        ..ChannelSpec::default()
    };
    let inband_rx = ChannelSpec {
        dtmf: DtmfSettings {
            inband: true,
            ..DtmfSettings::default()
        },
        ..ChannelSpec::default()
    };
    let (digits, _, _) = loop_digits(no_te, inband_rx, false);
    assert_eq!(digits, vec!['1', '5', '9', '#']);
}

#[test]
fn a_room_player_is_heard_by_a_lone_caller() {
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 4);
    let room = eng
        .create_room(GroupKey(1), tandem_engine::RoomOptions::default())
        .unwrap();
    let caller = channel(&mut eng, "192.0.2.1:1000", ChannelSpec::default());
    eng.command(Command::JoinRoom {
        room,
        channel: caller.id,
        options: Default::default(),
    })
    .unwrap();
    let (moh, codes) = ulaw_prompt("moh", 3, 7);
    let spec = PlaySpec {
        items: vec![PlayItem::Prompt(moh)],
        looped: true,
        barge_in: false,
    };
    eng.command(Command::Play {
        target: PlayTarget::Room(room),
        spec,
    })
    .unwrap();
    eng.advance_to(Micros::from_us(200_000));
    let got = rtp_at(&mut eng, "192.0.2.1:1000");
    assert!(got.len() >= 9);
    let bytes: Vec<u8> = got.iter().take(6).flat_map(|g| g.payload.clone()).collect();
    assert_eq!(
        bytes,
        [codes.clone(), codes].concat(),
        "music on hold loops, unaltered by the mix"
    );
}
