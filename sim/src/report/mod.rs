//! The report: the four loss stages, KPIs with the brief's definitions, a per-interval time
//! series, the wait distribution, and confidence intervals across replications.

mod figures;
pub mod flow;
mod stats;
mod text;

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

pub use figures::{
    CallbackSurvey, GroupRow, Method, OverflowRow, SL_NAMES, ServiceLevels, TypeRow,
};
pub use stats::{CI_LEVELS, Estimate, mean_ci, paired_difference, student_t};
pub use text::{clock, span};

use crate::metrics::{Counts, RunMetrics, Window};

/// Rates of one run (or their means), by the brief's KPI definitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Rates {
    /// Answered within T ÷ (answered + abandoned after reaching the ACD).
    pub service_level: f64,
    /// Mean wait (ACD arrival to answer, including ring) of answered calls, seconds.
    pub asa_s: f64,
    /// Calls that found no idle agent ÷ calls reaching the ACD.
    pub p_wait: f64,
    /// Abandoned after reaching the ACD, before reaching an agent (queue + ring) ÷ calls
    /// reaching the ACD.
    pub abandon_rate: f64,
    /// (Talk + after-call work) ÷ logged-in time, over the open hours.
    pub occupancy: f64,
    /// Trunk losses ÷ offered.
    pub trunk_loss_share: f64,
    /// IVR losses ÷ offered.
    pub ivr_loss_share: f64,
    /// Queue abandons ÷ offered.
    pub queue_loss_share: f64,
    /// Ring losses ÷ offered.
    pub ring_loss_share: f64,
    /// All four losses ÷ offered.
    pub total_loss_share: f64,
    /// Answered by agents ÷ calls reaching the ACD (human answer rate).
    pub human_answer_rate: f64,
    /// Mean busy trunk channels ÷ channels over the open hours (0 when unlimited).
    pub trunk_occupancy: f64,
    /// Mean busy IVR ports ÷ ports over the open hours (0 without IVR).
    pub ivr_occupancy: f64,
}

pub(crate) fn div(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// `a / b`, or `None` when there is nothing to divide (no calls, nobody logged in).
pub(crate) fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

/// The names of the [`Rates`] fields, in report order.
pub const RATE_NAMES: [&str; 13] = [
    "service_level",
    "asa_s",
    "p_wait",
    "abandon_rate",
    "occupancy",
    "trunk_loss_share",
    "ivr_loss_share",
    "queue_loss_share",
    "ring_loss_share",
    "total_loss_share",
    "human_answer_rate",
    "trunk_occupancy",
    "ivr_occupancy",
];

impl Rates {
    /// Rates of a window of a run (its steady-state window or a batch). Occupancies are
    /// taken over the window's open hours, not the drain after the last arrival, when agents
    /// and lines sit idle by construction.
    pub fn of(w: &Window, trunk_capacity: Option<u32>, ivr_ports: Option<u32>) -> Rates {
        let c = &w.counts;
        let open_s = w.length_s;
        let abandoned = c.queue_abandoned + c.ring_lost;
        let lost = c.trunk_lost + c.ivr_lost + abandoned;
        let staffed = w.staffed;
        Rates {
            service_level: div(c.answered_within_sl, c.answered + abandoned),
            asa_s: div(c.wait_sum, c.answered),
            p_wait: div(c.waited, c.reached_acd),
            abandon_rate: div(abandoned, c.reached_acd),
            occupancy: div(w.busy, staffed),
            trunk_loss_share: div(c.trunk_lost, c.offered),
            ivr_loss_share: div(c.ivr_lost, c.offered),
            queue_loss_share: div(c.queue_abandoned, c.offered),
            ring_loss_share: div(c.ring_lost, c.offered),
            total_loss_share: div(lost, c.offered),
            human_answer_rate: div(c.answered, c.reached_acd),
            trunk_occupancy: trunk_capacity
                .map_or(0.0, |cap| div(w.trunks, f64::from(cap) * open_s)),
            ivr_occupancy: ivr_ports.map_or(0.0, |p| div(w.ivr, f64::from(p) * open_s)),
        }
    }

    /// The rates by name, in the order of [`RATE_NAMES`].
    pub fn fields(&self) -> [(&'static str, f64); 13] {
        let v = [
            self.service_level,
            self.asa_s,
            self.p_wait,
            self.abandon_rate,
            self.occupancy,
            self.trunk_loss_share,
            self.ivr_loss_share,
            self.queue_loss_share,
            self.ring_loss_share,
            self.total_loss_share,
            self.human_answer_rate,
            self.trunk_occupancy,
            self.ivr_occupancy,
        ];
        std::array::from_fn(|i| (RATE_NAMES[i], v[i]))
    }

    pub(crate) fn from_values(v: &[f64; 13]) -> Rates {
        Rates {
            service_level: v[0],
            asa_s: v[1],
            p_wait: v[2],
            abandon_rate: v[3],
            occupancy: v[4],
            trunk_loss_share: v[5],
            ivr_loss_share: v[6],
            queue_loss_share: v[7],
            ring_loss_share: v[8],
            total_loss_share: v[9],
            human_answer_rate: v[10],
            trunk_occupancy: v[11],
            ivr_occupancy: v[12],
        }
    }
}

/// One row of the time series (means across replications).
#[derive(Clone, Debug, Serialize)]
pub struct IntervalRow {
    /// Interval start, seconds.
    pub start_s: f64,
    /// The interval starts at or after the end of arrivals (`duration_s`): the centre only
    /// drains the calls already in it and dials callbacks.
    pub drain: bool,
    /// Event counts in the interval.
    #[serde(flatten)]
    pub counts: Counts,
    /// SL of calls answered or abandoned in the interval; `None` when there were none.
    pub service_level: Option<f64>,
    /// Mean calls waiting.
    pub queue_len: f64,
    /// Mean busy trunk channels.
    pub trunks_busy: f64,
    /// Seconds with every trunk seized.
    pub all_trunks_busy_s: f64,
    /// Mean busy IVR ports.
    pub ivr_busy: f64,
    /// Seconds with every IVR port busy.
    pub all_ivr_busy_s: f64,
    /// Mean agents logged in.
    pub agents_staffed: f64,
    /// (Talk + ACW) ÷ logged-in time in the interval; `None` when nobody was logged in.
    pub occupancy: Option<f64>,
}

impl IntervalRow {
    /// Whether anything happened in the interval: a call offered, answered, lost or
    /// served, or a caller waiting.
    pub fn has_activity(&self) -> bool {
        let c = &self.counts;
        c.offered
            + c.answered
            + c.queue_abandoned
            + c.ring_lost
            + c.ivr_lost
            + c.ivr_completed
            + c.callback_served
            + c.callback_expired
            + c.voicemail
            > 0.0
            || self.queue_len > 0.0
            || self.trunks_busy > 0.0
    }
}

/// Percentiles of the wait of answered calls, seconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct WaitPercentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// One bin of the wait distribution of answered calls.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct WaitBin {
    /// Lower edge, seconds.
    pub from_s: f64,
    /// Upper edge (exclusive), seconds; `None` for the last, open bin.
    pub to_s: Option<f64>,
    /// Answered calls whose wait fell in the bin, mean per replication.
    pub calls: f64,
}

/// The full report of a scenario run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Replications run.
    pub replications: u32,
    /// Base seed.
    pub seed: u64,
    /// SL threshold T in seconds.
    pub sl_threshold_s: f64,
    /// The service-level target (fraction within T), drawn as a line on the charts.
    pub sl_target: f64,
    /// Arrivals happen during `[0, duration_s)`; later intervals only drain.
    pub duration_s: f64,
    /// Mean counts per replication.
    #[serde(flatten)]
    pub counts: Counts,
    /// Mean rates per replication.
    #[serde(flatten)]
    pub rates: Rates,
    /// Confidence level of `ci_half_width` (0.90, 0.95 or 0.99).
    pub ci_level: f64,
    /// Confidence half-widths of the rates (Student t across replications); `null` when
    /// one replication gives no interval.
    pub ci_half_width: BTreeMap<String, Option<f64>>,
    /// Wait percentiles of answered calls (all replications pooled).
    pub wait_percentiles_s: WaitPercentiles,
    /// The wait distribution of answered calls (all replications pooled, scaled to means
    /// per replication).
    pub wait_distribution: Vec<WaitBin>,
    /// Trunk channels (None: unlimited).
    pub trunk_channels: Option<u32>,
    /// Peak busy trunk channels.
    pub trunk_peak: f64,
    /// Seconds with every trunk channel seized (mean per replication).
    pub all_trunks_busy_s: f64,
    /// IVR ports (None: no IVR).
    pub ivr_ports: Option<u32>,
    /// Peak busy IVR ports.
    pub ivr_peak: f64,
    /// Seconds with every IVR port busy.
    pub all_ivr_busy_s: f64,
    /// Peak queue length.
    pub queue_peak: f64,
    /// Mean simulated length of a replication (until the last call ended), seconds.
    pub simulated_s: f64,
    /// Events processed per replication (mean).
    pub events: f64,
    /// Interval width, seconds.
    pub interval_s: f64,
    /// The time series.
    pub intervals: Vec<IntervalRow>,
    /// The service level by each common definition.
    pub service_levels: ServiceLevels,
    /// How the means and confidence intervals were formed (replications or batch means,
    /// warm-up).
    pub method: Method,
    /// Per call type (empty without `[[call_types]]`).
    pub call_types: Vec<TypeRow>,
    /// Per agent group (empty without `[[groups]]`).
    pub groups: Vec<GroupRow>,
    /// Per overflow rule.
    pub overflows: Vec<OverflowRow>,
    /// Callback offers and dials (none without `[callback]`).
    pub callback_survey: Option<CallbackSurvey>,
    /// The IVR flow: per node traffic, surveys, port requirement (none without a flow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ivr_flow: Option<flow::FlowReport>,
}

/// Counts and rates of each replication, in replication order (over each one's
/// steady-state window).
pub fn per_replication(runs: &[RunMetrics]) -> Vec<(Counts, Rates)> {
    runs.iter()
        .map(|m| {
            let w = m.window();
            (w.counts, Rates::of(&w, m.trunk_capacity, m.ivr_ports))
        })
        .collect()
}

impl Report {
    /// The confidence half-width of rate `key`, if it exists.
    pub fn half_width(&self, key: &str) -> Option<f64> {
        self.ci_half_width.get(key).copied().flatten()
    }
}

/// Bins of the pooled wait histogram: a width from 1-2-5 steps giving about 30 bins up to
/// the larger of the 99.9th percentile and twice the SL threshold, and one open bin above.
pub(crate) fn wait_bins(h: &Histogram<u64>, sl_threshold_s: f64, reps: f64) -> Vec<WaitBin> {
    if h.is_empty() {
        return Vec::new();
    }
    let top = (h.value_at_quantile(0.999) as f64 / 1000.0).max(2.0 * sl_threshold_s);
    let width = nice_step(top / 30.0);
    let bins = (top / width).ceil().max(1.0) as usize;
    let mut out: Vec<WaitBin> = (0..bins)
        .map(|i| WaitBin {
            from_s: i as f64 * width,
            to_s: Some((i + 1) as f64 * width),
            calls: 0.0,
        })
        .collect();
    out.push(WaitBin {
        from_s: bins as f64 * width,
        to_s: None,
        calls: 0.0,
    });
    for v in h.iter_recorded() {
        let s = h.median_equivalent(v.value_iterated_to()) as f64 / 1000.0;
        let i = ((s / width) as usize).min(bins);
        out[i].calls += v.count_at_value() as f64 / reps;
    }
    out
}

/// The smallest of 1, 2, 5 × 10^k at or above `x` (x > 0).
pub fn nice_step(x: f64) -> f64 {
    if !(x > 0.0 && x.is_finite()) {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= x * (1.0 - 1e-12))
        .unwrap_or(10.0 * p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.3), 2.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(20.0), 20.0);
        assert_eq!(nice_step(51.0), 100.0);
    }
}
