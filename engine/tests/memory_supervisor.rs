//! Who hears whom in rooms and supervisor modes, checked by tone signatures: every party
//! sends its own frequency, and each party's received audio is analysed for all of them.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;

use common::{Sender, parse};
use tandem_codecs::g711;
use tandem_engine::{
    ChannelInfo, ChannelSpec, Command, Event, GroupKey, MemoryEngine, NetworkConditions,
    ParticipantOptions, RoomId, RoomOptions, SuperviseMode,
};
use tandem_engine::{MediaEngine, Micros};

const CALLER_HZ: f64 = 500.0;
const AGENT_HZ: f64 = 1200.0;
const SUPER_HZ: f64 = 2200.0;

struct Party {
    ch: ChannelInfo,
    addr: SocketAddr,
    hz: f64,
    tx: Sender,
    n: u32,
}

fn frame(hz: f64, n: u32) -> Vec<u8> {
    (0..160)
        .map(|i| {
            let t = (n * 160 + i) as f64 / 8000.0;
            g711::linear_to_ulaw((6000.0 * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16)
        })
        .collect()
}

/// Power of `hz` in `x` relative to the signal's total power (Goertzel), in dB.
fn tone_db(x: &[i16], hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / 8000.0;
    let c = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &v in x {
        let s0 = f64::from(v) + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let p = s1 * s1 + s2 * s2 - c * s1 * s2;
    let n = x.len() as f64;
    10.0 * ((p / (n * n / 4.0)).max(1e-12)).log10()
}

struct Lab {
    eng: MemoryEngine,
    parties: Vec<Party>,
}

impl Lab {
    fn new() -> Lab {
        let mut eng = MemoryEngine::new(2, NetworkConditions::default(), 9);
        let parties = [
            ("192.0.2.1:1000", CALLER_HZ),
            ("192.0.2.2:2000", AGENT_HZ),
            ("192.0.2.3:3000", SUPER_HZ),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (a, hz))| {
            let addr: SocketAddr = a.parse().unwrap();
            let spec = ChannelSpec {
                remote: Some(addr),
                ..ChannelSpec::default()
            };
            let ch = eng.create_channel(GroupKey(5), spec).unwrap();
            Party {
                ch,
                addr,
                hz,
                tx: Sender::new(100 + i as u32, 0, 0, 0),
                n: 0,
            }
        })
        .collect();
        Lab { eng, parties }
    }

    /// Everyone talks for `ms`, then returns per party the audio received in the last half.
    fn talk(&mut self, ms: u64) -> Vec<Vec<i16>> {
        for p in &mut self.parties {
            while self.eng.recv(p.addr).is_some() {}
        }
        let mut heard: Vec<Vec<i16>> = vec![vec![]; self.parties.len()];
        for step in 0..ms / 20 {
            for p in &mut self.parties {
                let pkt = p.tx.audio(&frame(p.hz, p.n));
                p.n += 1;
                self.eng.send(p.addr, p.ch.local, &pkt);
            }
            self.eng
                .advance_to(Micros::from_us(self.eng.now().as_us() + 20_000));
            for (i, p) in self.parties.iter().enumerate() {
                while let Some(d) = self.eng.recv(p.addr) {
                    if d.from.port() % 2 == 0 && step >= ms / 40 {
                        let g = parse(&d.data);
                        heard[i].extend(g.payload.iter().map(|&c| g711::ulaw_to_linear(c)));
                    }
                }
            }
        }
        heard
    }

    /// Which of the three tones each party hears (above -20 dB of full tone power).
    fn who_hears_whom(&mut self) -> Vec<Vec<bool>> {
        let heard = self.talk(1_000);
        let tones = [CALLER_HZ, AGENT_HZ, SUPER_HZ];
        heard
            .iter()
            .map(|x| {
                if x.is_empty() {
                    return vec![false; 3];
                }
                let full = tone_db(&frame_pcm(6000.0), AGENT_HZ);
                tones
                    .iter()
                    .map(|&hz| tone_db(x, hz) > full - 20.0)
                    .collect()
            })
            .collect()
    }
}

fn frame_pcm(amp: f64) -> Vec<i16> {
    (0..8000)
        .map(|i| (amp * (2.0 * std::f64::consts::PI * AGENT_HZ * i as f64 / 8000.0).sin()) as i16)
        .collect()
}

const CALLER: usize = 0;
const AGENT: usize = 1;
const SUP: usize = 2;

#[test]
fn supervisor_modes_route_audio_as_a_call_centre_expects() {
    let mut lab = Lab::new();
    let (caller, agent, sup) = (
        lab.parties[CALLER].ch.id,
        lab.parties[AGENT].ch.id,
        lab.parties[SUP].ch.id,
    );
    lab.eng
        .command(Command::Bridge {
            a: caller,
            b: agent,
        })
        .unwrap();
    let h = lab.who_hears_whom();
    assert_eq!(
        h[CALLER],
        [false, true, false],
        "bridged: caller hears the agent"
    );
    assert_eq!(h[AGENT], [true, false, false]);
    assert_eq!(h[SUP], [false, false, false], "not attached yet");

    let room = RoomId::new(lab.parties[AGENT].ch.id.shard() as u16, 999);
    let set = |lab: &mut Lab, mode| {
        lab.eng
            .command(Command::Supervise {
                agent,
                supervisor: sup,
                mode,
                room,
            })
            .unwrap()
    };
    set(&mut lab, SuperviseMode::Listen);
    let h = lab.who_hears_whom();
    assert_eq!(
        h[CALLER],
        [false, true, false],
        "listen: the caller does not hear the supervisor"
    );
    assert_eq!(h[AGENT], [true, false, false], "listen: nor does the agent");
    assert_eq!(
        h[SUP],
        [true, true, false],
        "listen: the supervisor hears both"
    );

    set(&mut lab, SuperviseMode::Whisper);
    let h = lab.who_hears_whom();
    assert_eq!(
        h[CALLER],
        [false, true, false],
        "whisper: the caller never hears the coach"
    );
    assert_eq!(
        h[AGENT],
        [true, false, true],
        "whisper: the agent hears caller and coach"
    );
    assert_eq!(h[SUP], [true, true, false]);

    set(&mut lab, SuperviseMode::Barge);
    let h = lab.who_hears_whom();
    assert_eq!(h[CALLER], [false, true, true], "barge: a three-way call");
    assert_eq!(h[AGENT], [true, false, true]);
    assert_eq!(h[SUP], [true, true, false]);

    set(&mut lab, SuperviseMode::ForceDisconnect);
    let h = lab.who_hears_whom();
    assert_eq!(
        h[CALLER],
        [false, false, true],
        "force-disconnect: the supervisor takes over"
    );
    assert_eq!(h[AGENT], [false, false, false], "the agent is cut off");
    assert_eq!(h[SUP], [true, false, false]);
    assert!(
        std::iter::from_fn(|| lab.eng.poll_event())
            .any(|e| e == Event::ForcedDisconnect { channel: agent })
    );
}

#[test]
fn switching_modes_keeps_every_output_stream_continuous() {
    let mut lab = Lab::new();
    let (caller, agent, sup) = (
        lab.parties[CALLER].ch.id,
        lab.parties[AGENT].ch.id,
        lab.parties[SUP].ch.id,
    );
    lab.eng
        .command(Command::Bridge {
            a: caller,
            b: agent,
        })
        .unwrap();
    let room = RoomId::new(agent.shard() as u16, 7);
    let mut seqs: HashMap<usize, Vec<u16>> = HashMap::new();
    for mode in [
        SuperviseMode::Listen,
        SuperviseMode::Whisper,
        SuperviseMode::Barge,
        SuperviseMode::Listen,
    ] {
        {
            lab.eng
                .command(Command::Supervise {
                    agent,
                    supervisor: sup,
                    mode,
                    room,
                })
                .unwrap();
        }
        for _ in 0..10 {
            for p in &mut lab.parties {
                let pkt = p.tx.audio(&frame(p.hz, p.n));
                p.n += 1;
                lab.eng.send(p.addr, p.ch.local, &pkt);
            }
            lab.eng
                .advance_to(Micros::from_us(lab.eng.now().as_us() + 20_000));
            for i in [CALLER, AGENT] {
                while let Some(d) = lab.eng.recv(lab.parties[i].addr) {
                    if d.from.port() % 2 == 0 {
                        seqs.entry(i).or_default().push(parse(&d.data).seq);
                    }
                }
            }
        }
    }
    for (i, s) in seqs {
        assert!(s.len() >= 35, "party {i} got {} frames", s.len());
        for w in s.windows(2) {
            assert_eq!(
                w[1],
                w[0].wrapping_add(1),
                "party {i}: no gap when the mode changes"
            );
        }
    }
}

#[test]
fn a_room_of_five_hears_everyone_but_themselves() {
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 3);
    let hz = [400.0, 700.0, 1100.0, 1700.0, 2500.0];
    let room = eng
        .create_room(GroupKey(1), RoomOptions::default())
        .unwrap();
    let mut parties = vec![];
    for (i, &f) in hz.iter().enumerate() {
        let addr: SocketAddr = format!("192.0.2.{}:4000", i + 1).parse().unwrap();
        let spec = ChannelSpec {
            remote: Some(addr),
            ..ChannelSpec::default()
        };
        let ch = eng.create_channel(GroupKey(1), spec).unwrap();
        let options = if i == 4 {
            ParticipantOptions::listen_only()
        } else {
            ParticipantOptions::default()
        };
        eng.command(Command::JoinRoom {
            room,
            channel: ch.id,
            options,
        })
        .unwrap();
        parties.push((ch, addr, f, Sender::new(i as u32, 0, 0, 0)));
    }
    let mut heard = vec![vec![]; 5];
    for n in 0..50u32 {
        for (ch, addr, f, s) in &mut parties {
            eng.send(*addr, ch.local, &s.audio(&frame(*f, n)));
        }
        eng.advance_by(Micros::from_us(20_000));
        for (i, (_, addr, _, _)) in parties.iter().enumerate() {
            while let Some(d) = eng.recv(*addr) {
                if d.from.port() % 2 == 0 && n >= 25 {
                    heard[i].extend(
                        parse(&d.data)
                            .payload
                            .iter()
                            .map(|&c| g711::ulaw_to_linear(c)),
                    );
                }
            }
        }
    }
    let full = tone_db(&frame_pcm(6000.0), AGENT_HZ);
    for (i, x) in heard.iter().enumerate() {
        for (k, &f) in hz.iter().enumerate() {
            let present = tone_db(x, f) > full - 20.0;
            let expected = k != i && k != 4; // never yourself; the listen-only member is heard by no one
            assert_eq!(present, expected, "participant {i} hearing {f} Hz");
        }
    }
    let talk_starts = std::iter::from_fn(|| eng.poll_event())
        .filter(|e| matches!(e, Event::TalkStart { .. }))
        .count();
    assert_eq!(
        talk_starts, 5,
        "every participant's VAD reports talking once"
    );
}
