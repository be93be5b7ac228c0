//! The soak: a relay daemon under call churn with hostile traffic mixed in, for a long
//! time, watched from outside, with a verdict on what must not drift.
//!
//! `calls` concurrent calls are split into cohorts that take turns ([`cohort`]): a cohort
//! sets up its calls over ng as a SIP proxy would (`tandem_serve::client`), streams G.711
//! through them for the holding time with the load lab's generator ([`LoadGen`]), deletes
//! them, and starts again with new call-ids. The cohorts start staggered over one holding
//! time, so about `calls` calls are live at any moment and `calls / hold` are created and
//! deleted every second. Meanwhile [`hostile`] sends what strangers and a buggy proxy send
//! (bursts from unknown sources to the relay's ports, SSRC floods, empty and 64 KB
//! datagrams, RTCP garbage, garbage ng over UDP and TCP), and [`watch`] samples the daemon:
//! its resident memory and open descriptors (`/proc`) and its metrics (calls, channels,
//! port pairs, missed ticks). When the time is up the cohorts delete their last calls, the
//! daemon is given until it reports no channel left (at most [`SETTLE`]), and it is sampled
//! a last time. [`report`] holds the figures against the targets ([`report::SOAK_TARGETS`]).
//!
//! [`LoadGen`]: crate::LoadGen

pub mod cohort;
mod drift;
pub mod hostile;
pub mod report;
pub mod watch;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::daemon::RelayDaemon;
use cohort::{CohortTally, Live};
use hostile::HostileCounts;
use report::SoakReport;
use watch::Sample;

/// Longest wait, once the last calls are deleted, for the daemon to report no channel.
pub const SETTLE: Duration = Duration::from_secs(30);

/// How a soak is shaped.
#[derive(Clone, Debug, PartialEq)]
pub struct SoakConfig {
    /// Calls live at once.
    pub calls: usize,
    /// Cohorts the calls are split into (they start staggered over one holding time).
    pub cohorts: usize,
    /// How long each call streams before it is deleted.
    pub hold: Duration,
    /// How long the churn runs.
    pub duration: Duration,
    /// How often the daemon is sampled.
    pub sample_every: Duration,
    /// Whether hostile traffic is mixed in.
    pub hostile: bool,
}

impl Default for SoakConfig {
    fn default() -> SoakConfig {
        SoakConfig {
            calls: 1_000,
            cohorts: 10,
            hold: Duration::from_secs(20),
            duration: Duration::from_secs(30 * 60),
            sample_every: Duration::from_secs(10),
            hostile: true,
        }
    }
}

impl SoakConfig {
    /// Checks the shape: at least one call per cohort, and a duration that leaves room for
    /// the cohorts to start, run together and wind down.
    pub fn validate(&self) -> Result<(), String> {
        if self.cohorts == 0 || self.calls < self.cohorts {
            return Err(format!(
                "{} calls cannot fill {} cohorts (at least one call each)",
                self.calls, self.cohorts
            ));
        }
        if self.hold < Duration::from_secs(1) {
            return Err("the holding time must be at least 1 s".into());
        }
        if self.duration < 3 * self.hold {
            return Err(format!(
                "a soak of {:?} is shorter than three holding times ({:?} each): one to \
                 start every cohort, one to wind down, one to measure between",
                self.duration, self.hold
            ));
        }
        if self.sample_every.is_zero() {
            return Err("the sampling interval must be positive".into());
        }
        Ok(())
    }
}

/// Runs a soak against `daemon` (a `tandem serve` started by the harness, with a metrics
/// address), calling `progress` with each sample as it is taken.
pub fn run_soak(
    daemon: &RelayDaemon,
    config: &SoakConfig,
    progress: &mut dyn FnMut(&Sample),
) -> io::Result<SoakReport> {
    config
        .validate()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let metrics = daemon.metrics_addr().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} has no metrics address to watch", daemon.name()),
        )
    })?;
    tandem_udp::raise_open_files_limit(4 * config.calls as u64 + 1_024)?;
    let t0 = Instant::now();
    let watcher = watch::Watcher::new(daemon.pid(), metrics, t0);
    let idle = watcher.sample()?;
    progress(&idle);
    let live = Live::new(config.cohorts);
    let stop = AtomicBool::new(false);
    let end = t0 + config.duration;
    let (tallies, hostile, samples) = std::thread::scope(|s| {
        let cohorts: Vec<_> = (0..config.cohorts)
            .map(|k| {
                let (live, ng) = (&live, daemon.ng_addr());
                let n =
                    config.calls / config.cohorts + usize::from(k < config.calls % config.cohorts);
                let start = t0 + config.hold.mul_f64(k as f64 / config.cohorts as f64);
                s.spawn(move || cohort::run(ng, k, n, config.hold, start, end, live))
            })
            .collect();
        let hostile = config.hostile.then(|| {
            let (live, stop) = (&live, &stop);
            let target = hostile::Target {
                ng: daemon.ng_addr(),
                ports: daemon.port_range(),
            };
            s.spawn(move || hostile::run(target, live, stop))
        });
        let samples = sample_until(&watcher, config.sample_every, end, &stop, progress);
        let tallies: Vec<io::Result<CohortTally>> = cohorts
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("a cohort panicked")))
            })
            .collect();
        stop.store(true, Ordering::Relaxed);
        let hostile = hostile.map(|h| h.join().unwrap_or_default());
        (tallies, hostile, samples)
    });
    let mut total = CohortTally::default();
    for t in tallies {
        total.merge(&t?);
    }
    let churn_end = watcher.sample()?;
    progress(&churn_end);
    let after = settle(&watcher, &idle)?;
    progress(&after);
    Ok(SoakReport::new(
        config,
        daemon.threads(),
        idle,
        samples,
        churn_end,
        after,
        total,
        hostile.unwrap_or_else(HostileCounts::default),
        &watcher.scrape()?,
    ))
}

/// Samples every `every` until `end` (the cohorts stop starting rounds that would pass
/// it); a failed sample ends the soak's sampling early with what was taken.
fn sample_until(
    watcher: &watch::Watcher,
    every: Duration,
    end: Instant,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(&Sample),
) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut next = Instant::now() + every;
    while next <= end && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        match watcher.sample() {
            Ok(s) => {
                progress(&s);
                samples.push(s);
            }
            Err(e) => {
                eprintln!("soak: sampling the daemon failed: {e}");
                break;
            }
        }
        next += every;
    }
    samples
}

/// Waits until the daemon reports no channel and holds no more descriptors than when
/// idle (or [`SETTLE`] has passed: connections the hostile traffic left open close on
/// the daemon's read deadline) and samples it.
fn settle(watcher: &watch::Watcher, idle: &Sample) -> io::Result<Sample> {
    let until = Instant::now() + SETTLE;
    loop {
        let s = watcher.sample()?;
        if (s.channels == 0.0 && s.fds <= idle.fds) || Instant::now() > until {
            return Ok(s);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
