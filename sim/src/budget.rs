//! What a run will cost, estimated before it starts and held against the scenario's limits
//! ([`crate::scenario::Limits`]), and how many replications may be in flight at once.
//!
//! A scenario can ask for far more than a machine can give: a million calls a minute for a
//! year, ten thousand replications of a day. Before any replication starts, the simulator
//! estimates the events the whole run will process and the memory it will hold at its peak,
//! and refuses with an error naming both figures and the limit when either is above it. The
//! limits are the scenario's `[limits]` (or the command line's `--max-events` and
//! `--max-memory-mib`), so a large run is possible, but only on purpose. A replication that
//! processes far more events than estimated (a feedback loop the estimate cannot see) is
//! stopped with an error too, so every run ends within a bounded number of events.

// Checks are written `!(x > y)` on purpose: a NaN fails them too.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use serde::Serialize;

use crate::SimError;
use crate::dist::Dist;
use crate::scenario::Scenario;

/// The estimated cost of running a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// Calls offered per replication (first attempts and redials, upper estimate).
    pub calls_per_replication: f64,
    /// Events per replication.
    pub events_per_replication: f64,
    /// Events of the whole run.
    pub events: f64,
    /// Peak memory of the whole run, bytes.
    pub bytes: f64,
}

/// Bytes of one piece of the timeline: its counts and five levels' integrals.
const PIECE_BYTES: f64 = 8.0 * 30.0 + 5.0 * 16.0;
/// Bytes of a call in the system: the model's record, the ACD's, queue links, events.
const CALL_BYTES: f64 = 400.0;
/// Bytes of an agent: the model's and the ACD's state, idle lists.
const AGENT_BYTES: f64 = 300.0;
/// Bytes of a replication's wait histogram.
const HISTOGRAM_BYTES: f64 = 400_000.0;
/// Bytes of a callback list entry.
const CALLBACK_BYTES: f64 = 120.0;

/// Replications in flight at most on `threads` threads: running, or finished and waiting for
/// an earlier one to be folded in first (see [`crate::replicate`]).
pub fn max_in_flight(threads: usize) -> usize {
    threads.max(1) * 2
}

/// Estimates the cost of `sc` run on `threads` threads.
pub fn estimate(sc: &Scenario, threads: usize) -> Estimate {
    let busy = sc.busyness.as_ref().map_or(1.0, |b| {
        // An upper day: mean plus three standard deviations.
        let m = b.mean();
        m + 3.0 * (b.second_moment() - m * m).max(0.0).sqrt()
    });
    let streams = std::iter::once(&sc.arrivals)
        .chain(sc.call_types.iter().filter_map(|t| t.arrivals.as_ref()));
    let first: f64 = streams
        .clone()
        .map(|a| a.expected_between(0.0, sc.duration_s))
        .sum::<f64>()
        * busy;
    let peak_per_s: f64 = streams.map(|a| a.peak_per_s()).sum::<f64>() * busy;
    // Every lost call redials, at most `max_attempts - 1` times.
    let redial = sc.redial.as_ref().map_or(1.0, |r| {
        let p = r
            .probability
            .max(r.after_busy.unwrap_or(0.0))
            .max(r.after_abandon.unwrap_or(0.0));
        (0..r.max_attempts).map(|k| p.powi(k as i32)).sum::<f64>()
    });
    let calls = first * redial;
    let timers = usize::from(sc.agents.ring_timeout_s.is_some())
        + usize::from(sc.queue.voicemail_after_s.is_some())
        + usize::from(sc.queue.announcement.is_some())
        + sc.call_types
            .iter()
            .map(|t| t.overflow.len())
            .max()
            .unwrap_or(0)
        + sc.queue.overflow.len();
    // A flow's walk: a prompt end and a key or timer per node, through at most every node
    // (its loops are bounded by the flow's `max_steps` and the replication cap).
    let flow_events = sc.ivr.as_ref().and_then(|i| i.flow()).map_or(0.0, |f| {
        2.0 * f.nodes().len().min(f.max_steps() as usize) as f64
    });
    let per_call = 7.0 + timers as f64 + if sc.ivr.is_some() { 1.0 } else { 0.0 } + flow_events;
    let callbacks = sc.callback.as_ref().map_or(0.0, |c| {
        calls.min(c.max_entries as f64 * 50.0) * f64::from(c.max_attempts) * 2.0
    });
    let events_per_replication = calls * per_call + callbacks + 1000.0;
    let reps = f64::from(sc.replications);

    // Memory: replications in flight (running or waiting to be folded in order), each with
    // its timeline, calls in the system, agents and callback list.
    let pieces =
        (sc.duration_s / sc.interval_s).ceil() + f64::from(sc.batches.unwrap_or(1)) + 2.0 + 16.0;
    let sojourn: f64 = [
        sc.ivr.as_ref().and_then(|i| i.time.as_ref()),
        Some(&sc.queue.patience),
        Some(&sc.agents.ring),
        Some(&sc.agents.talk),
    ]
    .into_iter()
    .flatten()
    .map(Dist::mean)
    .sum();
    let mut in_system = (peak_per_s * sojourn * 3.0 + 100.0).min(calls + 100.0);
    if let Some(cap) = sc.trunks.capacity() {
        in_system = in_system.min(f64::from(cap) * 2.0 + 100.0);
    }
    let agents = f64::from(
        sc.agents
            .count
            .max(sc.agents.shifts.iter().map(|s| s.count).sum()),
    ) + sc
        .groups
        .iter()
        .map(|g| f64::from(g.count.max(g.shifts.iter().map(|s| s.count).sum())))
        .sum::<f64>();
    let callback_list = sc
        .callback
        .as_ref()
        .map_or(0.0, |c| (c.max_entries as f64).min(calls) * CALLBACK_BYTES);
    let per_replication = pieces * PIECE_BYTES * 2.0
        + in_system * CALL_BYTES
        + agents * AGENT_BYTES
        + callback_list
        + HISTOGRAM_BYTES;
    let in_flight = (max_in_flight(threads) as f64).min(reps);
    Estimate {
        calls_per_replication: calls,
        events_per_replication,
        events: events_per_replication * reps,
        bytes: per_replication * in_flight + 8.0 * 1024.0 * 1024.0,
    }
}

/// Estimates the cost of `sc` and refuses it above its limits, before any work starts.
pub fn check(sc: &Scenario, threads: usize) -> Result<Estimate, SimError> {
    let e = estimate(sc, threads);
    let l = &sc.limits;
    if !(e.events <= l.max_events) {
        return Err(SimError::Invalid(format!(
            "scenario `{}` would process about {:.3e} events ({:.3e} calls × {} replication(s)), \
             above the limit of {:.3e}; shorten it, lower its rates or replications, or raise \
             the limit on purpose (`[limits] max_events` or `--max-events`)",
            sc.name, e.events, e.calls_per_replication, sc.replications, l.max_events
        )));
    }
    let mib = e.bytes / (1024.0 * 1024.0);
    if !(mib <= l.max_memory_mib) {
        return Err(SimError::Invalid(format!(
            "scenario `{}` would hold about {mib:.0} MiB at its peak, above the limit of {} MiB; \
             use wider intervals, fewer threads or a smaller load, or raise the limit on \
             purpose (`[limits] max_memory_mib` or `--max-memory-mib`)",
            sc.name, l.max_memory_mib
        )));
    }
    Ok(e)
}

/// Events one replication may process before it is stopped: twenty times its estimate (at
/// least a million), and never more than the whole run's limit.
pub fn replication_cap(sc: &Scenario) -> u64 {
    let e = estimate(sc, 1);
    (e.events_per_replication * 20.0)
        .max(1e6)
        .min(sc.limits.max_events.max(1.0)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(extra: &str) -> Scenario {
        Scenario::from_toml(
            &format!(
                "name = \"x\"\nduration_s = 3600\n{extra}\n[arrivals]\nkind = \"poisson\"\nper_min = 100\n\
                 [queue]\npatience = {{ kind = \"exponential\", mean = 60 }}\n\
                 [agents]\ncount = 300\ntalk = {{ kind = \"exponential\", mean = 180 }}\n"
            ),
            "t",
            None,
        )
        .unwrap()
    }

    #[test]
    fn estimates_follow_the_load() {
        let e = estimate(&scenario(""), 2);
        // 6,000 calls in the hour, seven or so events each.
        assert!(
            (6_000.0..7_000.0).contains(&e.calls_per_replication),
            "{e:?}"
        );
        assert!(
            e.events > 6_000.0 * 5.0 && e.events < 6_000.0 * 12.0,
            "{e:?}"
        );
        assert!(e.bytes < 64.0 * 1024.0 * 1024.0, "{e:?}");
        let some = estimate(&scenario("replications = 100"), 2);
        let many = estimate(&scenario("replications = 10000"), 2);
        // Memory does not grow with replications: they are folded in as they finish.
        assert_eq!(many.bytes, some.bytes);
        assert!((many.events / e.events - 10_000.0).abs() < 1e-6);
    }

    #[test]
    fn huge_runs_are_refused_before_they_start() {
        let mut sc = scenario("replications = 10000");
        sc.duration_s = 366.0 * 86_400.0;
        let err = check(&sc, 2).unwrap_err().to_string();
        assert!(
            err.contains("events") && err.contains("max_events"),
            "{err}"
        );
        sc.limits.max_events = 1e13;
        sc.replications = 1;
        assert!(check(&sc, 2).is_ok());
        sc.interval_s = sc.duration_s / 100_000.0;
        sc.limits.max_memory_mib = 10.0;
        let err = check(&sc, 2).unwrap_err().to_string();
        assert!(
            err.contains("MiB") && err.contains("max_memory_mib"),
            "{err}"
        );
    }
}
