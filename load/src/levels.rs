//! Load levels and the capacity search over them: for each level, start a relay, drive it
//! with the load generator (in another process, or a thread for tests), and combine the load
//! report with the relay's CPU time. Stepping stops at the first level that loses more than
//! 0.1%.

use std::io;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tandem_udp::procfs;

use crate::bridged::LoadReport;
use crate::rates::pps_offered;
use crate::relay::Relay;
use crate::results::LevelResult;
use crate::runner::{LoadGenMode, Prepared, prepare};
use crate::shards::ShardSpread;
use crate::timing::{Quantiles, ShardTiming};

/// A default ladder of call counts, from light load to beyond one core of a small machine.
pub const DEFAULT_LEVELS: &[usize] = &[100, 250, 500, 1000, 1500, 2000, 3000, 4000, 5000];

/// One load level: this many bridged calls for this long.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Level {
    /// Bridged calls (two streams, i.e. 100 packets/s into the relay, each).
    pub calls: usize,
    /// Length of the send phase, s.
    pub duration_s: f64,
}

impl Level {
    /// One level per call count, all of the same duration.
    pub fn steps(calls: &[usize], duration: Duration) -> Vec<Level> {
        calls
            .iter()
            .map(|&calls| Level {
                calls,
                duration_s: duration.as_secs_f64(),
            })
            .collect()
    }

    /// Packets per second the load generator offers the relay at this level.
    pub fn pps_offered(&self) -> f64 {
        pps_offered(self.calls)
    }
}

/// Call counts from `from` to at most `to`, each `factor` times the previous (rounded).
pub fn geometric_levels(from: usize, to: usize, factor: f64) -> Vec<usize> {
    let mut out = Vec::new();
    let mut x = from.max(1) as f64;
    while x.round() as usize <= to {
        let n = x.round() as usize;
        if out.last() != Some(&n) {
            out.push(n);
        }
        x *= factor.max(1.01);
    }
    out
}

/// Runs each level in turn with a fresh relay from `relay_factory(calls)`, each for
/// `duration` of load, and returns the results, stopping after the first level with more than
/// 0.1% loss.
pub fn run_levels(
    relay_factory: &mut dyn FnMut(usize) -> io::Result<Box<dyn Relay>>,
    levels: &[usize],
    duration: Duration,
    loadgen_mode: LoadGenMode,
) -> io::Result<Vec<LevelResult>> {
    run_levels_observed(relay_factory, levels, duration, &loadgen_mode, &mut |_| {})
}

/// As [`run_levels`], calling `observer` with each result as soon as it is measured (to print
/// progress).
pub fn run_levels_observed(
    relay_factory: &mut dyn FnMut(usize) -> io::Result<Box<dyn Relay>>,
    levels: &[usize],
    duration: Duration,
    loadgen_mode: &LoadGenMode,
    observer: &mut dyn FnMut(&LevelResult),
) -> io::Result<Vec<LevelResult>> {
    let mut results = Vec::new();
    for &calls in levels {
        let relay = relay_factory(calls)?;
        let result = run_level(relay, duration, loadgen_mode)?;
        observer(&result);
        let stop = result.over_loss_limit();
        results.push(result);
        if stop {
            break;
        }
    }
    Ok(results)
}

/// Measures one relay under load for `duration`, then stops it.
///
/// The relay's CPU time and packet count are read just before the generator starts sending
/// and just after it has finished; a relay that sets up calls over a control protocol does so
/// before (see [`prepare`]), so its set-up work is not counted.
pub fn run_level(
    mut relay: Box<dyn Relay>,
    duration: Duration,
    loadgen_mode: &LoadGenMode,
) -> io::Result<LevelResult> {
    let prepared = match prepare(&mut *relay, duration, loadgen_mode) {
        Ok(p) => p,
        Err(e) => {
            relay.stop();
            return Err(e);
        }
    };
    let measured = measure(&*relay, prepared, duration, loadgen_mode);
    let name = relay.name().to_string();
    relay.stop();
    let m = measured?;
    let mut result = LevelResult::new(&name, m.report, m.cpu, m.relayed).with_machine_cpu(
        m.machine_after.busy_since(&m.machine_before, m.wall),
        m.machine_after.steal.saturating_sub(m.machine_before.steal),
    );
    result.shards = m.shards;
    if let Some(t) = m.timing {
        result.tick_duration = Quantiles::of(&t.tick_duration);
        result.dwell = Quantiles::of(&t.dwell);
    }
    Ok(result)
}

/// What [`measure`] read around one load run.
struct Measured {
    report: LoadReport,
    cpu: Duration,
    relayed: u64,
    machine_before: procfs::MachineCpu,
    machine_after: procfs::MachineCpu,
    wall: Duration,
    shards: Option<ShardSpread>,
    /// The shards' tick and dwell histograms over the run.
    timing: Option<ShardTiming>,
}

fn measure(
    relay: &dyn Relay,
    prepared: Prepared,
    duration: Duration,
    loadgen_mode: &LoadGenMode,
) -> io::Result<Measured> {
    let targets = prepared.targets().to_vec();
    // Counters a relay reads over its control protocol first, then the CPU time, so the
    // reading's own work falls outside the window.
    let relayed_before = relay.packets_relayed();
    let shards_before = relay.shard_counters()?;
    let timing_before = relay.timing()?;
    let machine_before = procfs::machine_cpu()?;
    let wall = Instant::now();
    let cpu_before = relay.cpu_time()?;
    let report = prepared.run(duration, loadgen_mode);
    let cpu_after = relay.cpu_time();
    let machine_after = procfs::machine_cpu();
    let wall = wall.elapsed();
    let relayed = relay.packets_relayed().saturating_sub(relayed_before);
    let shards_after = relay.shard_counters()?;
    let timing = match (relay.timing()?, timing_before) {
        (Some(after), Some(before)) => Some(after.since(&before)),
        _ => None,
    };
    let shards = (!shards_after.is_empty()).then(|| {
        ShardSpread::measure(
            &targets,
            &|port| relay.shard_of(port),
            &shards_before,
            &shards_after,
        )
    });
    Ok(Measured {
        report: report?,
        cpu: cpu_after?.saturating_sub(cpu_before),
        relayed,
        machine_before,
        machine_after: machine_after?,
        wall,
        shards,
        timing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        let l = Level::steps(&[10, 20], Duration::from_secs(5));
        assert_eq!(l[1].calls, 20);
        assert_eq!(l[1].pps_offered(), 2000.0);
        assert_eq!(l[0].duration_s, 5.0);
        assert_eq!(geometric_levels(100, 1000, 2.0), vec![100, 200, 400, 800]);
        assert_eq!(geometric_levels(1, 3, 1.0), vec![1, 2, 3]);
    }
}
