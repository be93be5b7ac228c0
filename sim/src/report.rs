//! The report: the four loss stages, KPIs with the brief's definitions, a per-interval time
//! series, and 95% confidence intervals across replications.

mod figures;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

pub use figures::{
    CallbackSurvey, GroupRow, Method, OverflowRow, SL_NAMES, ServiceLevels, TypeRow,
};

use crate::metrics::{Counts, RunMetrics, Window};
use crate::scenario::Scenario;

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

    /// The rates by name.
    pub fn fields(&self) -> [(&'static str, f64); 13] {
        [
            ("service_level", self.service_level),
            ("asa_s", self.asa_s),
            ("p_wait", self.p_wait),
            ("abandon_rate", self.abandon_rate),
            ("occupancy", self.occupancy),
            ("trunk_loss_share", self.trunk_loss_share),
            ("ivr_loss_share", self.ivr_loss_share),
            ("queue_loss_share", self.queue_loss_share),
            ("ring_loss_share", self.ring_loss_share),
            ("total_loss_share", self.total_loss_share),
            ("human_answer_rate", self.human_answer_rate),
            ("trunk_occupancy", self.trunk_occupancy),
            ("ivr_occupancy", self.ivr_occupancy),
        ]
    }
}

/// One row of the time series (means across replications).
#[derive(Clone, Debug, Serialize)]
pub struct IntervalRow {
    /// Interval start, seconds.
    pub start_s: f64,
    /// Event counts in the interval.
    #[serde(flatten)]
    pub counts: Counts,
    /// SL of calls answered or abandoned in the interval.
    pub service_level: f64,
    /// Mean calls waiting.
    pub queue_len: f64,
    /// Mean busy trunk channels.
    pub trunks_busy: f64,
    /// Seconds with every trunk seized.
    pub all_trunks_busy_s: f64,
    /// Mean busy IVR ports.
    pub ivr_busy: f64,
    /// Mean agents logged in.
    pub agents_staffed: f64,
    /// (Talk + ACW) ÷ logged-in time in the interval.
    pub occupancy: f64,
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
    /// Mean counts per replication.
    #[serde(flatten)]
    pub counts: Counts,
    /// Mean rates per replication.
    #[serde(flatten)]
    pub rates: Rates,
    /// 95% confidence half-widths of the rates (Student t across replications; 0 for one).
    pub ci95: BTreeMap<String, f64>,
    /// Wait percentiles of answered calls (all replications pooled).
    pub wait_percentiles_s: WaitPercentiles,
    /// Trunk channels (None: unlimited).
    pub trunk_channels: Option<u32>,
    /// Peak busy trunk channels.
    pub trunk_peak: f64,
    /// Seconds with every trunk channel seized (mean per replication).
    pub all_trunks_busy_s: f64,
    /// IVR ports (None: no IVR).
    pub ivr_ports: Option<u32>,
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
}

/// Two-sided 95% Student t quantile for `df` degrees of freedom.
pub fn t95(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => T[df - 1],
        31..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

/// Mean and 95% half-width of a sample.
pub fn mean_ci(xs: &[f64]) -> (f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, t95(n - 1) * (var / n as f64).sqrt())
}

impl Report {
    /// Combines the replications of `sc`.
    pub fn from_runs(sc: &Scenario, runs: &[RunMetrics]) -> Report {
        let mut summary = crate::summary::Summary::new(sc);
        for m in runs {
            summary.add(m);
        }
        summary.into_report(sc)
    }

    /// The report as text for a terminal.
    pub fn to_text(&self) -> String {
        let c = &self.counts;
        let r = &self.rates;
        let ci = |k: &str| self.ci95.get(k).copied().unwrap_or(0.0);
        let pm = |v: f64, k: &str| {
            if self.replications > 1 {
                format!("{:6.1}% ± {:.1}", v * 100.0, ci(k) * 100.0)
            } else {
                format!("{:6.1}%", v * 100.0)
            }
        };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Scenario {} — {} replication(s), seed {}; counts are means per replication",
            self.scenario, self.replications, self.seed
        );
        let _ = writeln!(
            s,
            "\nWhere calls went                     calls   share of offered"
        );
        let _ = writeln!(s, "  offered                        {:>9.0}", c.offered);
        let rows = [
            (
                "1 trunk loss (all lines busy)",
                c.trunk_lost,
                r.trunk_loss_share,
                "trunk_loss_share",
            ),
            (
                "2 IVR loss (no IVR port)",
                c.ivr_lost,
                r.ivr_loss_share,
                "ivr_loss_share",
            ),
            (
                "3 queue loss (abandoned)",
                c.queue_abandoned,
                r.queue_loss_share,
                "queue_loss_share",
            ),
            (
                "4 ring loss (hung up ringing)",
                c.ring_lost,
                r.ring_loss_share,
                "ring_loss_share",
            ),
        ];
        for (name, n, share, key) in rows {
            let _ = writeln!(s, "  {name:<30} {n:>9.0}   {}", pm(share, key));
        }
        let _ = writeln!(
            s,
            "  all four losses                {:>9.0}   {}",
            c.trunk_lost + c.ivr_lost + c.queue_abandoned + c.ring_lost,
            pm(r.total_loss_share, "total_loss_share")
        );
        let _ = writeln!(s, "  answered by agents             {:>9.0}", c.answered);
        let _ = writeln!(
            s,
            "  finished in IVR self-service   {:>9.0}",
            c.ivr_completed
        );
        if c.callback_offered > 0.0 || c.callback_served > 0.0 {
            let _ = writeln!(
                s,
                "  callback offered / served / expired  {:.0} / {:.0} / {:.0}",
                c.callback_offered, c.callback_served, c.callback_expired
            );
        }
        if c.voicemail > 0.0 {
            let _ = writeln!(s, "  to voicemail                   {:>9.0}", c.voicemail);
        }
        if c.rejected > 0.0 {
            let _ = writeln!(s, "  blacklisted (busy)             {:>9.0}", c.rejected);
        }
        let _ = writeln!(s, "\nService");
        let _ = writeln!(
            s,
            "  service level ({:.0} s)          {}",
            self.sl_threshold_s,
            pm(r.service_level, "service_level")
        );
        let _ = writeln!(s, "  ASA                            {:>7.1} s", r.asa_s);
        let _ = writeln!(
            s,
            "  waited for an agent            {}",
            pm(r.p_wait, "p_wait")
        );
        let _ = writeln!(
            s,
            "  abandon rate (of ACD calls)    {}",
            pm(r.abandon_rate, "abandon_rate")
        );
        let _ = writeln!(
            s,
            "  human answer rate              {}",
            pm(r.human_answer_rate, "human_answer_rate")
        );
        let w = &self.wait_percentiles_s;
        let _ = writeln!(
            s,
            "  wait of answered p50/p90/p99   {:.1} / {:.1} / {:.1} s",
            w.p50, w.p90, w.p99
        );
        let _ = writeln!(
            s,
            "  agent occupancy                {}",
            pm(r.occupancy, "occupancy")
        );
        let _ = writeln!(s, "\nCapacity");
        match self.trunk_channels {
            Some(ch) => {
                let _ = writeln!(
                    s,
                    "  trunks {ch} channels: occupancy {:.1}%, peak {:.0}, all lines busy {:.0} s",
                    r.trunk_occupancy * 100.0,
                    self.trunk_peak,
                    self.all_trunks_busy_s
                );
            }
            None => {
                let _ = writeln!(s, "  trunks unlimited: peak {:.0} in use", self.trunk_peak);
            }
        }
        if let Some(p) = self.ivr_ports {
            let _ = writeln!(
                s,
                "  IVR {p} ports: occupancy {:.1}%, all ports busy {:.0} s",
                r.ivr_occupancy * 100.0,
                self.all_ivr_busy_s
            );
        }
        let _ = writeln!(
            s,
            "  peak queue                     {:.0} calls",
            self.queue_peak
        );
        self.figures_text(&mut s);
        let _ = writeln!(s, "\nPer {:.0} s interval", self.interval_s);
        let _ = writeln!(
            s,
            "  {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>7} {:>6} {:>6} {:>6}",
            "start", "offered", "trunk", "ivr", "queue", "ring", "answer", "SL", "queue", "occ"
        );
        for row in &self.intervals {
            let c = &row.counts;
            if c.offered == 0.0 && c.answered == 0.0 && row.queue_len == 0.0 {
                continue;
            }
            let _ = writeln!(
                s,
                "  {:>7} {:>7.0} {:>6.0} {:>6.0} {:>6.0} {:>6.0} {:>7.0} {:>5.0}% {:>6.1} {:>5.0}%",
                clock(row.start_s),
                c.offered,
                c.trunk_lost,
                c.ivr_lost,
                c.queue_abandoned,
                c.ring_lost,
                c.answered,
                row.service_level * 100.0,
                row.queue_len,
                row.occupancy * 100.0
            );
        }
        s
    }
}

pub(crate) fn set_field(r: &mut Rates, name: &str, v: f64) {
    match name {
        "service_level" => r.service_level = v,
        "asa_s" => r.asa_s = v,
        "p_wait" => r.p_wait = v,
        "abandon_rate" => r.abandon_rate = v,
        "occupancy" => r.occupancy = v,
        "trunk_loss_share" => r.trunk_loss_share = v,
        "ivr_loss_share" => r.ivr_loss_share = v,
        "queue_loss_share" => r.queue_loss_share = v,
        "ring_loss_share" => r.ring_loss_share = v,
        "total_loss_share" => r.total_loss_share = v,
        "human_answer_rate" => r.human_answer_rate = v,
        "trunk_occupancy" => r.trunk_occupancy = v,
        "ivr_occupancy" => r.ivr_occupancy = v,
        _ => {}
    }
}

/// `H:MM:SS` of a time in seconds.
pub fn clock(t: f64) -> String {
    let s = t as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_interval() {
        // Sample 1..=5: mean 3, sd 1.5811, n 5 → half-width 2.776 × 1.5811 / √5 = 1.963.
        let (m, hw) = mean_ci(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(m, 3.0);
        assert!((hw - 1.963).abs() < 0.001, "{hw}");
        assert_eq!(mean_ci(&[4.0]), (4.0, 0.0));
    }
}
