//! The engine as a [`Relay`] for the capacity harness: N bridged pass-through calls on one
//! shard, RTP only (the raw baseline does no RTCP either).

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use tandem_codecs::wav::Encoding;
use tandem_engine::{
    ChannelSpec, DriverKind, Engine, GroupKey, RtcpMode, TapMode, TapSpec, TapTarget,
};

use crate::capacity::cpu::threads_cpu_time;
use crate::capacity::{CallTarget, Relay};

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
        let engine = Engine::builder()
            .shards(1)
            .driver(driver)
            .pin_cores(pin)
            .bind(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .port_range(20_000, 60_999)
            .queue_capacity(65_536)
            .build()
            .map_err(io::Error::other)?;
        let spec = ChannelSpec {
            rtcp: RtcpMode::Off,
            media_timeout_ms: 0,
            ..ChannelSpec::default()
        };
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
                let tap = TapSpec {
                    path: dir.join(format!("load-{c:05}.wav")),
                    mode: TapMode::Stereo,
                    encoding: Encoding::Pcm16,
                };
                engine
                    .start_tap(TapTarget::Channel(a.id), tap)
                    .map_err(io::Error::other)?;
            }
            targets.push(CallTarget {
                a_port: a.local,
                b_port: b.local,
            });
        }
        // Let the shard apply the commands before load starts.
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while engine.thread_stats().iter().any(|s| s.tid == 0) && std::time::Instant::now() < until
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(100));
        let name = match (record, driver) {
            (Some(_), _) => "engine-recording",
            (None, DriverKind::Mio) => "engine-mio",
            (None, DriverKind::IoUring) => "engine-uring",
            (None, DriverKind::Auto) => "engine",
        };
        Ok(EngineRelay {
            engine,
            targets,
            name: name.to_string(),
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
        let tids: Vec<i32> = self.engine.thread_stats().iter().map(|s| s.tid).collect();
        threads_cpu_time(&tids)
    }

    fn packets_relayed(&self) -> u64 {
        self.engine
            .thread_stats()
            .iter()
            .map(|s| s.datagrams_out)
            .sum()
    }

    fn stop(self: Box<Self>) {
        self.engine.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::{LoadGenMode, run_level};

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
}
