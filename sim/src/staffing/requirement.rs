//! Required agents per interval (Erlang C or Erlang A against the service-level target), and
//! trunks and IVR ports for the busiest interval (Erlang B against shares of the loss
//! budget).
//!
//! Each interval is treated as stationary at its mean first-attempt arrival rate (the
//! classic planning assumption; queues carried from one interval to the next, and redials,
//! are left to the simulation check). The inputs come from the scenario:
//! - calls reaching the ACD = arrivals × (1 − blacklisted − non-VIP × IVR self-service);
//! - handle time = mean ring + mean talk + mean after-call work (an agent is taken from the
//!   moment the phone rings);
//! - the SL wait runs from reaching the ACD to the answer, so it includes ringing: the
//!   queue-wait threshold is T − mean ring;
//! - Erlang A takes the scenario's mean patience as the mean of an exponential patience.

use serde::Serialize;

use super::Targets;
use crate::SimError;
use crate::dist::Dist;
use crate::erlang::{erlang_a, erlang_b, erlang_c};
use crate::scenario::Scenario;

/// The queueing formula for the agent requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum QueueModel {
    /// Erlang C (M/M/n): callers never abandon. The planners' standard, and conservative.
    ErlangC,
    /// Erlang A (M/M/n+M): callers abandon after an exponential patience.
    ErlangA,
}

/// Shares of the loss budget (`Targets::max_loss`) given to each stage.
pub const TRUNK_SHARE: f64 = 0.5;
/// IVR ports get a tenth of the budget.
pub const IVR_SHARE: f64 = 0.1;
/// Queue and ring abandonment get the rest (in the Erlang A requirement, and in the
/// simulation check either way).
pub const ABANDON_SHARE: f64 = 0.4;

/// Most agents the search will consider for one interval.
pub const MAX_AGENTS: u32 = 100_000;

/// The requirement of one interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct IntervalNeed {
    /// Interval start, seconds.
    pub start_s: f64,
    /// Interval end, seconds.
    pub end_s: f64,
    /// Mean first-attempt arrival rate, calls per minute.
    pub offered_per_min: f64,
    /// Of those, reaching the ACD, calls per minute.
    pub acd_per_min: f64,
    /// Mean handle time (ring + talk + wrap-up), seconds.
    pub aht_s: f64,
    /// Offered load at the ACD, Erlang.
    pub load_erlang: f64,
    /// Fewest agents meeting the target.
    pub agents: u32,
    /// The formula's service level with that many agents.
    pub service_level: f64,
    /// The formula's mean wait of all callers, seconds.
    pub mean_wait_s: f64,
    /// The formula's abandonment probability (0 for Erlang C).
    pub p_abandon: f64,
}

/// What the scenario's parameters say about one call, independent of the interval.
#[derive(Clone, Copy, Debug)]
struct CallShape {
    acd_share: f64,
    ivr_share: f64,
    aht_s: f64,
    ring_s: f64,
    talk_s: f64,
    ivr_s: f64,
    patience_s: f64,
}

impl CallShape {
    fn of(sc: &Scenario) -> CallShape {
        let bl = sc.callers.blacklist_fraction;
        let vip = sc.callers.vip_fraction;
        let (ss, ivr_s) = sc.ivr.as_ref().map_or((0.0, 0.0), |i| {
            (i.self_service, i.time.as_ref().map_or(0.0, Dist::mean))
        });
        let ivr_share = if sc.ivr.is_some() {
            1.0 - bl - vip
        } else {
            0.0
        };
        let ring_s = sc.agents.ring.mean();
        let talk_s = sc.agents.talk.mean();
        CallShape {
            acd_share: 1.0 - bl - ivr_share * ss,
            ivr_share,
            aht_s: ring_s + talk_s + sc.agents.acw.mean(),
            ring_s,
            talk_s,
            ivr_s,
            patience_s: sc.queue.patience.mean(),
        }
    }
}

/// Fewest agents for one interval: the smallest `n` with `ok(n)`, by doubling then
/// bisection (the measures are monotone in `n`).
fn smallest(lo: u32, ok: impl Fn(u32) -> bool) -> Result<u32, SimError> {
    let mut hi = lo.max(1);
    while !ok(hi) {
        if hi >= MAX_AGENTS {
            return Err(SimError::Invalid(format!(
                "more than {MAX_AGENTS} agents would be needed in one interval"
            )));
        }
        hi = (hi * 2).min(MAX_AGENTS);
    }
    let mut lo = lo.min(hi);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(hi)
}

/// Required agents for every interval of width `sc.interval_s` in `[0, sc.duration_s)`.
pub fn agent_requirement(
    sc: &Scenario,
    t: &Targets,
    model: QueueModel,
) -> Result<Vec<IntervalNeed>, SimError> {
    let shape = CallShape::of(sc);
    let threshold = (t.sl_threshold_s - shape.ring_s).max(0.0);
    let iv = sc.interval_s;
    let count = (sc.duration_s / iv).ceil() as usize;
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let start_s = i as f64 * iv;
        let end_s = (start_s + iv).min(sc.duration_s);
        let per_s = sc.arrivals.expected_between(start_s, end_s) / (end_s - start_s);
        let lambda = per_s * shape.acd_share;
        let aht = shape.aht_s;
        let load = lambda * aht;
        let mut need = IntervalNeed {
            start_s,
            end_s,
            offered_per_min: per_s * 60.0,
            acd_per_min: lambda * 60.0,
            aht_s: aht,
            load_erlang: load,
            agents: 0,
            service_level: 1.0,
            mean_wait_s: 0.0,
            p_abandon: 0.0,
        };
        if lambda > 0.0 && aht > 0.0 {
            match model {
                QueueModel::ErlangC => {
                    let sl = |n| erlang_c(lambda, aht, n, threshold).map(|c| c.service_level);
                    let n = smallest(load.floor() as u32 + 1, |n| {
                        sl(n).is_some_and(|s| s >= t.service_level)
                    })?;
                    let c = erlang_c(lambda, aht, n, threshold).expect("stable at n");
                    need.agents = n;
                    need.service_level = c.service_level;
                    need.mean_wait_s = c.asa_s;
                }
                QueueModel::ErlangA => {
                    let patience = shape.patience_s.max(1e-3);
                    let ok = |n| {
                        let a = erlang_a(lambda, aht, patience, n, threshold);
                        a.service_level >= t.service_level
                            && a.p_abandon <= t.max_loss * ABANDON_SHARE
                    };
                    let n = smallest(1, ok)?;
                    let a = erlang_a(lambda, aht, patience, n, threshold);
                    need.agents = n;
                    need.service_level = a.service_level;
                    need.mean_wait_s = a.mean_wait_all_s;
                    need.p_abandon = a.p_abandon;
                }
            }
        }
        out.push(need);
    }
    Ok(out)
}

/// Trunks and IVR ports for the busiest interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PeakNeed {
    /// Start of the busiest interval (highest arrival rate), seconds.
    pub start_s: f64,
    /// Its arrival rate, calls per minute.
    pub offered_per_min: f64,
    /// Mean time a call holds a trunk channel: IVR, then (for calls going on) wait, ring
    /// and talk; seconds.
    pub trunk_holding_s: f64,
    /// Trunk channels: the fewest whose Erlang B blocking is within half the loss budget
    /// (whole E1 spans when the scenario counts in E1).
    pub trunk_channels: u32,
    /// Those channels as E1 spans of 30 (rounded up).
    pub e1: u32,
    /// Erlang B blocking of that many channels.
    pub trunk_blocking: f64,
    /// IVR ports: the fewest whose blocking is within a tenth of the loss budget (`None`
    /// without an IVR).
    pub ivr_ports: Option<u32>,
    /// Erlang B blocking of those ports.
    pub ivr_blocking: f64,
}

/// Trunks and IVR ports for the busiest of `needs`.
pub fn peak_capacity(sc: &Scenario, t: &Targets, needs: &[IntervalNeed]) -> PeakNeed {
    let shape = CallShape::of(sc);
    let peak = needs
        .iter()
        .copied()
        .max_by(|a, b| a.offered_per_min.total_cmp(&b.offered_per_min))
        .unwrap_or(IntervalNeed {
            start_s: 0.0,
            end_s: 0.0,
            offered_per_min: 0.0,
            acd_per_min: 0.0,
            aht_s: shape.aht_s,
            load_erlang: 0.0,
            agents: 0,
            service_level: 1.0,
            mean_wait_s: 0.0,
            p_abandon: 0.0,
        });
    let per_s = peak.offered_per_min / 60.0;
    let going_on = shape.acd_share;
    let holding =
        shape.ivr_share * shape.ivr_s + going_on * (peak.mean_wait_s + shape.ring_s + shape.talk_s);
    // Erlang B by its recursion, one server at a time, until the blocking is in budget.
    let fewest = |load: f64, budget: f64| -> u32 {
        let (mut n, mut b) = (0u32, 1.0);
        while b > budget && n < 10 * MAX_AGENTS {
            n += 1;
            b = load * b / (f64::from(n) + load * b);
        }
        n.max(1)
    };
    let trunk_load = per_s * holding;
    let mut channels = fewest(trunk_load, t.max_loss * TRUNK_SHARE);
    if sc.trunks.e1.is_some() {
        channels = channels.div_ceil(30) * 30;
    }
    let ivr_ports = sc.ivr.as_ref().map(|i| {
        let load = per_s * shape.ivr_share * i.time.as_ref().map_or(0.0, Dist::mean);
        fewest(load, t.max_loss * IVR_SHARE)
    });
    PeakNeed {
        start_s: peak.start_s,
        offered_per_min: peak.offered_per_min,
        trunk_holding_s: holding,
        trunk_channels: channels,
        e1: channels.div_ceil(30),
        trunk_blocking: erlang_b(trunk_load, channels),
        ivr_ports,
        ivr_blocking: ivr_ports.map_or(0.0, |p| erlang_b(per_s * shape.ivr_share * shape.ivr_s, p)),
    }
}
