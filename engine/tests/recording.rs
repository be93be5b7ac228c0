//! Recording taps: stereo layout, pause, failures, and crash safety.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::Sender;
use tandem_codecs::g711;
use tandem_codecs::wav::{Encoding, Wav};
use tandem_engine::{
    ChannelSpec, Command, Engine, Event, GroupKey, MemoryEngine, NetworkConditions, TapMode,
    TapSpec, TapTarget,
};
use tandem_engine::{MediaEngine, Micros};

const CALLER_HZ: f64 = 500.0;
const AGENT_HZ: f64 = 1300.0;

fn frame(hz: f64, n: u32) -> Vec<u8> {
    (0..160)
        .map(|i| {
            let t = (n * 160 + i) as f64 / 8000.0;
            g711::linear_to_ulaw((7000.0 * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16)
        })
        .collect()
}

/// Relative power of `hz` in `x` (Goertzel), in dB against a full-amplitude tone.
fn tone_db(x: &[i16], hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / 8000.0;
    let c = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &v in x {
        let s0 = f64::from(v) + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let p = (s1 * s1 + s2 * s2 - c * s1 * s2) / (x.len() as f64 * x.len() as f64 / 4.0);
    10.0 * (p / (7000.0 * 7000.0)).max(1e-12).log10()
}

struct Call {
    eng: MemoryEngine,
    caller: tandem_engine::ChannelInfo,
    agent: tandem_engine::ChannelInfo,
    pc: SocketAddr,
    pa: SocketAddr,
    sc: Sender,
    sa: Sender,
    n: u32,
}

impl Call {
    fn new() -> Call {
        let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 5);
        let (pc, pa): (SocketAddr, SocketAddr) = (
            "192.0.2.1:1000".parse().unwrap(),
            "192.0.2.2:2000".parse().unwrap(),
        );
        let caller = eng
            .create_channel(
                GroupKey(1),
                ChannelSpec {
                    remote: Some(pc),
                    ..ChannelSpec::default()
                },
            )
            .unwrap();
        let agent = eng
            .create_channel(
                GroupKey(1),
                ChannelSpec {
                    remote: Some(pa),
                    ..ChannelSpec::default()
                },
            )
            .unwrap();
        eng.command(Command::Bridge {
            a: caller.id,
            b: agent.id,
        })
        .unwrap();
        Call {
            eng,
            caller,
            agent,
            pc,
            pa,
            sc: Sender::new(1, 0, 0, 0),
            sa: Sender::new(2, 0, 0, 0),
            n: 0,
        }
    }

    fn talk(&mut self, ms: u64) {
        for _ in 0..ms / 20 {
            let (c, a) = (frame(CALLER_HZ, self.n), frame(AGENT_HZ, self.n));
            self.eng
                .send(self.pc, self.caller.local, &self.sc.audio(&c));
            self.eng.send(self.pa, self.agent.local, &self.sa.audio(&a));
            self.n += 1;
            self.eng
                .advance_to(Micros::from_us(self.eng.now().as_us() + 20_000));
        }
    }

    fn finished(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.eng.poll_event())
            .filter(|e| matches!(e, Event::TapFinished { .. } | Event::TapFailed { .. }))
            .collect()
    }
}

fn read(path: &Path) -> Wav {
    Wav::parse(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn stereo_puts_the_caller_left_and_the_agent_right() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("call.wav");
    let mut call = Call::new();
    let spec = TapSpec {
        path: path.clone(),
        mode: TapMode::Stereo,
        encoding: Encoding::Pcm16,
    };
    let tap = call
        .eng
        .start_tap(TapTarget::Channel(call.caller.id), spec)
        .unwrap();
    call.talk(2_000);
    call.eng.command(Command::StopTap { tap }).unwrap();
    call.eng
        .advance_to(Micros::from_us(call.eng.now().as_us() + 20_000));
    let done = call.finished();
    assert!(
        matches!(&done[..], [Event::TapFinished { path: p, duration_ms, dropped_frames: 0, .. }] if *p == path && (1_960..=2_040).contains(duration_ms)),
        "{done:?}"
    );
    let wav = read(&path);
    assert_eq!(wav.format.channels, 2);
    // Skip the jitter buffer's start-up, then compare tone energies per side.
    let (left, right) = (
        wav.channel(0)[1600..].to_vec(),
        wav.channel(1)[1600..].to_vec(),
    );
    assert!(
        tone_db(&left, CALLER_HZ) > -8.0,
        "caller on the left: {}",
        tone_db(&left, CALLER_HZ)
    );
    assert!(
        tone_db(&left, AGENT_HZ) < -40.0,
        "no agent on the left: {}",
        tone_db(&left, AGENT_HZ)
    );
    assert!(tone_db(&right, AGENT_HZ) > -8.0);
    assert!(tone_db(&right, CALLER_HZ) < -40.0);
}

#[test]
fn pause_records_silence_and_keeps_the_sides_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("paused.wav");
    let mut call = Call::new();
    let spec = TapSpec {
        path: path.clone(),
        mode: TapMode::Mixed,
        encoding: Encoding::Ulaw,
    };
    let tap = call
        .eng
        .start_tap(TapTarget::Channel(call.agent.id), spec)
        .unwrap();
    call.talk(1_000);
    call.eng
        .command(Command::PauseTap { tap, paused: true })
        .unwrap();
    call.talk(1_000);
    call.eng
        .command(Command::PauseTap { tap, paused: false })
        .unwrap();
    call.talk(1_000);
    call.eng.command(Command::StopTap { tap }).unwrap();
    call.eng
        .advance_to(Micros::from_us(call.eng.now().as_us() + 20_000));
    assert_eq!(call.finished().len(), 1);
    let wav = read(&path);
    let x = wav.channel(0);
    assert!(
        (2.9..=3.1).contains(&wav.duration_secs()),
        "{}",
        wav.duration_secs()
    );
    let paused = &x[8_400..15_600];
    assert!(
        paused.iter().all(|&s| s.abs() <= 8),
        "paused second is silent"
    );
    assert!(
        tone_db(&x[16_800..23_000], AGENT_HZ) > -8.0,
        "recording resumed"
    );
}

#[test]
fn a_file_that_cannot_be_written_fails_the_tap_not_the_call() {
    let mut call = Call::new();
    let spec = TapSpec {
        path: PathBuf::from("/nonexistent-dir/x.wav"),
        mode: TapMode::Stereo,
        encoding: Encoding::Pcm16,
    };
    call.eng
        .start_tap(TapTarget::Channel(call.caller.id), spec)
        .unwrap();
    call.talk(200);
    let done = call.finished();
    assert!(matches!(&done[..], [Event::TapFailed { .. }]), "{done:?}");
    while call.eng.recv(call.pa).is_some() {}
    call.talk(200);
    assert!(call.eng.recv(call.pa).is_some(), "media still flows");
}

/// The child half of the crash test: records a live UDP call until it is killed.
#[test]
#[ignore = "run by kill_minus_nine_leaves_a_playable_file"]
fn crash_child_records_until_killed() {
    let Ok(path) = std::env::var("TANDEM_CRASH_WAV") else {
        return;
    };
    let (lo, hi) = common::free_ports(100);
    let eng = Engine::builder()
        .shards(1)
        .port_range(lo, hi)
        .build()
        .unwrap();
    let phone = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let spec = ChannelSpec {
        remote: Some(phone.local_addr().unwrap()),
        ..ChannelSpec::default()
    };
    let ch = eng.create_channel(GroupKey(1), spec).unwrap();
    let tap = TapSpec {
        path: path.into(),
        mode: TapMode::Mixed,
        encoding: Encoding::Pcm16,
    };
    eng.start_tap(TapTarget::Channel(ch.id), tap).unwrap();
    let mut s = Sender::new(9, 0, 0, 0);
    let start = Instant::now();
    for n in 0.. {
        phone
            .send_to(&s.audio(&frame(CALLER_HZ, n)), ch.local)
            .unwrap();
        let next = start + Duration::from_millis(20 * (u64::from(n) + 1));
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
}

#[test]
fn kill_minus_nine_leaves_a_playable_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.wav");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "crash_child_records_until_killed",
            "--nocapture",
        ])
        .env("TANDEM_CRASH_WAV", &path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(3_500));
    child.kill().unwrap(); // SIGKILL: no destructors, no finalisation
    child.wait().unwrap();
    let wav = read(&path);
    assert_eq!(wav.format.channels, 1);
    let secs = wav.duration_secs();
    assert!(
        secs >= 1.5,
        "at most about a second lost: {secs:.2} s of ~3.4"
    );
    assert!(tone_db(&wav.channel(0)[800..8_800], CALLER_HZ) > -8.0);
}
