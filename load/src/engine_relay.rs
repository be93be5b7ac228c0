//! The engine as a [`Relay`] for the capacity harness: N bridged pass-through calls on one
//! shard, RTP only (the raw baseline does no RTCP either); and as a [`ConferenceRelay`]:
//! N rooms of K participants ([`EngineConference`]).

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tandem_codecs::wav::Encoding;
use tandem_engine::{
    ChannelId, ChannelSpec, Command, DriverKind, Engine, Event, GroupKey, ParticipantOptions,
    RoomOptions, RtcpMode, TapMode, TapSpec, TapTarget,
};

use tandem_udp::procfs::threads_cpu_time;

use crate::relay::{ConferenceRelay, Relay, RelayJitter};
use crate::target::CallTarget;
use crate::timing::ShardTiming;

/// One shard on `driver` on 127.0.0.1, pinned to core 0 when `pin`.
fn build_engine(driver: DriverKind, pin: bool) -> io::Result<Engine> {
    Engine::builder()
        .shards(1)
        .driver(driver)
        .pin_cores(pin)
        .bind(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .port_range(20_000, 60_999)
        .queue_capacity(65_536)
        .build()
        .map_err(io::Error::other)
}

/// A channel for load: RTP only, no media timeout.
fn load_channel() -> ChannelSpec {
    ChannelSpec {
        rtcp: RtcpMode::Off,
        media_timeout_ms: 0,
        ..ChannelSpec::default()
    }
}

/// Waits until the shard has applied the queued commands (its thread is known), then a
/// little longer, so load does not start against ports that are not set up yet.
fn settle(engine: &Engine) {
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while engine.thread_stats().iter().any(|s| s.tid == 0) && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
}

fn shard_cpu(engine: &Engine) -> io::Result<Duration> {
    let tids: Vec<i32> = engine.thread_stats().iter().map(|s| s.tid).collect();
    threads_cpu_time(&tids)
}

fn datagrams_out(engine: &Engine) -> u64 {
    engine.thread_stats().iter().map(|s| s.datagrams_out).sum()
}

/// Records `target` into a PCM16 WAV at `path` for the rest of the run (nothing stops a
/// load run's tap early, so its id is not kept).
fn record_to_wav(
    engine: &Engine,
    target: TapTarget,
    path: PathBuf,
    mode: TapMode,
) -> io::Result<()> {
    let tap = TapSpec {
        path,
        mode,
        encoding: Encoding::Pcm16,
    };
    engine
        .start_tap(target, tap)
        .map(drop)
        .map_err(io::Error::other)
}

/// The report's name for an engine relay: `base` and the driver, or `base-recording` (a
/// recording run measures the writer too, whatever the driver).
fn relay_name(base: &str, driver: DriverKind, recording: bool) -> String {
    let suffix = match (recording, driver) {
        (true, _) => "-recording",
        (false, DriverKind::Mio) => "-mio",
        (false, DriverKind::IoUring) => "-uring",
        (false, _) => "",
    };
    format!("{base}{suffix}")
}

/// A running engine with `calls` bridged calls.
pub struct EngineRelay {
    engine: Engine,
    targets: Vec<CallTarget>,
    name: String,
}

impl EngineRelay {
    /// Starts one shard on `driver` (pinned to core 0 when `pin`) and bridges `calls` calls.
    pub fn start(calls: usize, driver: DriverKind, pin: bool) -> io::Result<EngineRelay> {
        Self::launch(calls, driver, pin, None)
    }

    /// As [`start`](Self::start), unpinned, with every call recorded as a stereo PCM16 WAV
    /// (`load-NNNNN.wav`) in `dir`, which is created if needed.
    pub fn start_recording(
        calls: usize,
        driver: DriverKind,
        dir: &Path,
    ) -> io::Result<EngineRelay> {
        std::fs::create_dir_all(dir)?;
        Self::launch(calls, driver, false, Some(dir))
    }

    fn launch(
        calls: usize,
        driver: DriverKind,
        pin: bool,
        record: Option<&Path>,
    ) -> io::Result<EngineRelay> {
        let engine = build_engine(driver, pin)?;
        let spec = load_channel();
        let mut targets = Vec::with_capacity(calls);
        for c in 0..calls as u64 {
            let a = engine
                .create_channel(GroupKey(c), spec.clone())
                .map_err(io::Error::other)?;
            let b = engine
                .create_channel(GroupKey(c), spec.clone())
                .map_err(io::Error::other)?;
            engine.bridge(a.id, b.id).map_err(io::Error::other)?;
            if let Some(dir) = record {
                let path = dir.join(format!("load-{c:05}.wav"));
                record_to_wav(&engine, TapTarget::Channel(a.id), path, TapMode::Stereo)?;
            }
            targets.push(CallTarget {
                a_port: a.local,
                b_port: b.local,
            });
        }
        settle(&engine);
        Ok(EngineRelay {
            engine,
            targets,
            name: relay_name("engine", driver, record.is_some()),
        })
    }
}

impl Relay for EngineRelay {
    fn name(&self) -> &str {
        &self.name
    }

    fn targets(&self) -> Vec<CallTarget> {
        self.targets.clone()
    }

    fn cpu_time(&self) -> io::Result<Duration> {
        shard_cpu(&self.engine)
    }

    fn timing(&self) -> io::Result<Option<ShardTiming>> {
        Ok(Some(ShardTiming::from_engine(&self.engine)))
    }

    fn packets_relayed(&self) -> u64 {
        datagrams_out(&self.engine)
    }

    fn stop(self: Box<Self>) {
        self.engine.shutdown();
    }
}

/// A running engine with `rooms` conference rooms of `k` participants each, on one shard.
///
/// Rooms mix everyone (no top-K) without the VAD gate: the conference load's frames are
/// measurement marks, not speech, and an energy gate deciding who is heard would make
/// delivery depend on the marks' loudness; with every participant mixed every tick the room
/// also does its most work. Gains are unity (0 dB), so samples are summed unchanged.
/// Channels get the jitter buffer a room gives any channel that joins without one (the
/// engine's default, adaptive).
pub struct EngineConference {
    engine: Engine,
    ports: Vec<SocketAddr>,
    channels: Vec<ChannelId>,
    k: usize,
    name: String,
}

impl EngineConference {
    /// Starts one shard on `driver` (pinned to core 0 when `pin`) with `rooms` rooms of `k`;
    /// with `record`, each room is recorded as a mixed mono PCM16 WAV (`room-NNNNN.wav`)
    /// into that directory, which is created if needed.
    pub fn start(
        rooms: usize,
        k: usize,
        driver: DriverKind,
        pin: bool,
        record: Option<&Path>,
    ) -> io::Result<EngineConference> {
        if let Some(dir) = record {
            std::fs::create_dir_all(dir)?;
        }
        let engine = build_engine(driver, pin)?;
        let options = RoomOptions {
            top_k: None,
            vad_gate: false,
            ..RoomOptions::default()
        };
        let mut ports = Vec::with_capacity(rooms * k);
        let mut channels = Vec::with_capacity(rooms * k);
        for r in 0..rooms as u64 {
            let room = engine
                .create_room(GroupKey(r), options)
                .map_err(io::Error::other)?;
            for _ in 0..k {
                let ch = engine
                    .create_channel(GroupKey(r), load_channel())
                    .map_err(io::Error::other)?;
                engine
                    .command(Command::JoinRoom {
                        room,
                        channel: ch.id,
                        options: ParticipantOptions::default(),
                    })
                    .map_err(io::Error::other)?;
                ports.push(ch.local);
                channels.push(ch.id);
            }
            if let Some(dir) = record {
                let path = dir.join(format!("room-{r:05}.wav"));
                record_to_wav(&engine, TapTarget::Room(room), path, TapMode::Mixed)?;
            }
        }
        settle(&engine);
        Ok(EngineConference {
            engine,
            ports,
            channels,
            k,
            name: relay_name("engine-rooms", driver, record.is_some()),
        })
    }
}

impl ConferenceRelay for EngineConference {
    fn name(&self) -> &str {
        &self.name
    }

    fn participants_per_room(&self) -> usize {
        self.k
    }

    fn ports(&self) -> Vec<SocketAddr> {
        self.ports.clone()
    }

    fn cpu_time(&self) -> io::Result<Duration> {
        shard_cpu(&self.engine)
    }

    fn packets_relayed(&self) -> u64 {
        datagrams_out(&self.engine)
    }

    /// Asks every participant's channel for its counters and sums the jitter buffer's.
    /// `None` if the engine did not answer every query within 5 s.
    fn jitter(&self) -> Option<RelayJitter> {
        for &channel in &self.channels {
            self.engine.command(Command::QueryStats { channel }).ok()?;
        }
        let mut total = RelayJitter::default();
        let mut answered = 0;
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while answered < self.channels.len() {
            let left = until.checked_duration_since(std::time::Instant::now())?;
            // Other events (talk starts, tap results) may be queued before the answers.
            if let Event::Stats { stats, .. } = self.engine.events().recv_timeout(left).ok()? {
                total.concealed_frames += stats.concealed_frames;
                total.stretched_frames += stats.jitter_stretched_frames;
                total.dropped_frames += stats.jitter_dropped_frames;
                total.late_packets += stats.late;
                answered += 1;
            }
        }
        Some(total)
    }

    fn stop(self: Box<Self>) {
        self.engine.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conference::run_conference_level;
    use crate::levels::run_level;
    use crate::runner::LoadGenMode;

    #[test]
    fn the_engine_relays_20_calls_without_loss() {
        let relay = EngineRelay::start(20, DriverKind::Mio, false).unwrap();
        let r = run_level(
            Box::new(relay),
            Duration::from_secs(1),
            &LoadGenMode::InProcessThread,
        )
        .unwrap();
        assert_eq!(r.report.received, r.report.sent, "{:?}", r.report);
        assert_eq!(r.report.sent, 20 * 2 * 50);
        assert!(r.packets_relayed >= r.report.sent);
    }

    #[test]
    fn engine_rooms_deliver_every_mark_to_every_other_participant() {
        let conf = EngineConference::start(2, 4, DriverKind::Mio, false, None).unwrap();
        let r = run_conference_level(
            Box::new(conf),
            Duration::from_secs(1),
            &LoadGenMode::InProcessThread,
        )
        .unwrap();
        let c = &r.report;
        assert_eq!(
            (r.rooms, r.participants_per_room, c.participants),
            (2, 4, 8)
        );
        assert_eq!(c.sent, 8 * 50, "{c:?}");
        assert_eq!(c.marks_expected, c.sent * 3);
        assert_eq!(c.marks_heard, c.marks_expected, "{c:?}");
        assert_eq!(
            (c.cross_talk, c.echo, c.pairs_unheard, c.unprimed),
            (0, 0, 0, 0)
        );
        assert_eq!(c.mix_lost, 0, "{c:?}");
        // The mix waits in the jitter buffer for at least one tick.
        assert!(c.latency_p50_us > 1_000.0, "{c:?}");
        assert!(r.relay_cpu_s > 0.0 && r.cpu_us_per_participant_frame > 0.0);
        assert!(r.packets_relayed >= c.mix_received);
        // Every participant's channel answered its stats query.
        assert!(r.relay_jitter.is_some(), "{r:?}");
    }
}
