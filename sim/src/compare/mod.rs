//! Scenarios side by side with common random numbers: every KPI of each scenario, and its
//! difference from the first (the baseline) with a confidence interval over paired
//! replications.
//!
//! **What is common.** Every scenario runs with the same seed and replication count, and
//! each random source of a replication has its own stream seeded from (seed, replication,
//! source) (see [`crate::rng`]). Replication *i* of every scenario therefore sees the same
//! first-attempt arrival times and the same caller numbers (the arrival and caller streams
//! are used for nothing else). Patience, IVR time, ring delay, talk time, after-call work,
//! redial and callback decisions come from their own streams in the order calls need them:
//! the *n*-th caller to reach the ACD gets the same patience in every scenario, which is the
//! same caller wherever the scenarios send the same calls to the ACD and drifts apart where
//! they do not. Differences are taken replication by replication and their Student t
//! interval is that of the mean of the paired differences, so the noise the scenarios share
//! cancels instead of adding up.

pub(crate) mod text;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::SimError;
use crate::metrics::RunMetrics;
use crate::replicate::for_each_replication;
use crate::report::{Estimate, Report, mean_ci, paired_difference, per_replication};
use crate::scenario::Scenario;
use crate::summary::Summary;

/// How a KPI is measured, for formatting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Unit {
    /// A fraction, shown as a percentage; differences in percentage points.
    Share,
    /// Seconds.
    Seconds,
    /// Calls (means per replication).
    Calls,
}

/// A mean and its confidence half-width (`None` with one replication).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Value {
    /// Mean across replications.
    pub mean: f64,
    /// Confidence half-width.
    pub half_width: Option<f64>,
}

impl From<Estimate> for Value {
    fn from(e: Estimate) -> Value {
        Value {
            mean: e.mean,
            half_width: e.half_width,
        }
    }
}

/// A scenario's difference from the baseline in one KPI.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Difference {
    /// Mean of the paired differences (scenario − baseline).
    pub mean: f64,
    /// Confidence half-width of that mean (`None` with one replication).
    pub half_width: Option<f64>,
    /// Whether the interval excludes zero (`None` without an interval).
    pub significant: Option<bool>,
}

/// One KPI across the scenarios.
#[derive(Clone, Debug, Serialize)]
pub struct KpiRow {
    /// Key, as in the single-scenario JSON report.
    pub key: &'static str,
    /// Label for people.
    pub label: &'static str,
    /// Unit.
    pub unit: Unit,
    /// Each scenario's value, in scenario order.
    pub values: Vec<Value>,
    /// Each scenario's difference from the first (`None` for the first itself).
    pub differences: Vec<Option<Difference>>,
}

/// The comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// Scenario names, the baseline first.
    pub scenarios: Vec<String>,
    /// The seed every scenario ran with.
    pub seed: u64,
    /// Replications per scenario (paired by index).
    pub replications: u32,
    /// Confidence level of the intervals.
    pub ci_level: f64,
    /// What the scenarios share, in words.
    pub common_random_numbers: &'static str,
    /// Every KPI side by side.
    pub kpis: Vec<KpiRow>,
    /// The full report of each scenario, in scenario order.
    pub reports: Vec<Report>,
}

/// What the scenarios share, as the JSON and the reports state it.
pub const COMMON: &str = "same seed and replication count for every scenario; replication i \
    of each sees the same first-attempt arrival times and caller numbers, and the n-th draw \
    of every other source (patience, IVR, ring, talk, wrap-up, redial, callback) comes from \
    the same stream position";

/// The KPIs compared: (key, label, unit, value of one replication).
type Extract = fn(&PerRep) -> f64;

struct PerRep {
    counts: crate::metrics::Counts,
    rates: crate::report::Rates,
    wait_p90_s: f64,
    queue_peak: f64,
    all_trunks_busy_s: f64,
}

const KPIS: &[(&str, &str, Unit, Extract)] = &[
    ("offered", "offered", Unit::Calls, |r| r.counts.offered),
    ("redials", "of which redials", Unit::Calls, |r| {
        r.counts.redials
    }),
    ("trunk_loss_share", "1 trunk loss", Unit::Share, |r| {
        r.rates.trunk_loss_share
    }),
    ("ivr_loss_share", "2 IVR loss", Unit::Share, |r| {
        r.rates.ivr_loss_share
    }),
    ("queue_loss_share", "3 queue loss", Unit::Share, |r| {
        r.rates.queue_loss_share
    }),
    ("ring_loss_share", "4 ring loss", Unit::Share, |r| {
        r.rates.ring_loss_share
    }),
    ("total_loss_share", "all four losses", Unit::Share, |r| {
        r.rates.total_loss_share
    }),
    ("answered", "answered by agents", Unit::Calls, |r| {
        r.counts.answered
    }),
    ("callback_served", "callbacks served", Unit::Calls, |r| {
        r.counts.callback_served
    }),
    ("service_level", "service level", Unit::Share, |r| {
        r.rates.service_level
    }),
    ("asa_s", "ASA", Unit::Seconds, |r| r.rates.asa_s),
    ("wait_p90_s", "wait p90 (answered)", Unit::Seconds, |r| {
        r.wait_p90_s
    }),
    ("p_wait", "waited for an agent", Unit::Share, |r| {
        r.rates.p_wait
    }),
    ("abandon_rate", "abandon rate", Unit::Share, |r| {
        r.rates.abandon_rate
    }),
    ("human_answer_rate", "human answer rate", Unit::Share, |r| {
        r.rates.human_answer_rate
    }),
    ("occupancy", "agent occupancy", Unit::Share, |r| {
        r.rates.occupancy
    }),
    ("trunk_occupancy", "trunk occupancy", Unit::Share, |r| {
        r.rates.trunk_occupancy
    }),
    ("all_trunks_busy_s", "all trunks busy", Unit::Seconds, |r| {
        r.all_trunks_busy_s
    }),
    ("ivr_occupancy", "IVR occupancy", Unit::Share, |r| {
        r.rates.ivr_occupancy
    }),
    ("queue_peak", "peak queue", Unit::Calls, |r| r.queue_peak),
];

fn per_rep(m: &RunMetrics) -> PerRep {
    let (counts, rates) = per_replication(std::slice::from_ref(m))[0];
    PerRep {
        counts,
        rates,
        wait_p90_s: p90_s(&m.waits_ms),
        queue_peak: m.queue.peak,
        all_trunks_busy_s: m.trunks.total_full_time(),
    }
}

fn p90_s(h: &Histogram<u64>) -> f64 {
    if h.is_empty() {
        0.0
    } else {
        h.value_at_quantile(0.9) as f64 / 1000.0
    }
}

/// Runs `scenarios` (at least two) with the seed, replication count and confidence level of
/// the first, on up to `threads` threads, and compares them. `progress` is called with
/// (replications finished, replications in all).
pub fn compare(
    scenarios: &[Scenario],
    threads: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Comparison, SimError> {
    let Some(first) = scenarios.first() else {
        return Err(SimError::Invalid("nothing to compare".into()));
    };
    if scenarios.len() < 2 {
        return Err(SimError::Invalid(
            "--compare needs at least two scenarios (or a built-in set)".into(),
        ));
    }
    let (seed, reps, level) = (first.seed, first.replications, first.ci_level);
    let total = u64::from(reps) * scenarios.len() as u64;
    let mut reports = Vec::with_capacity(scenarios.len());
    let mut samples = Vec::with_capacity(scenarios.len());
    for (k, sc) in scenarios.iter().enumerate() {
        let mut sc = sc.clone();
        sc.seed = seed;
        sc.replications = reps;
        sc.ci_level = level;
        let before = k as u64 * u64::from(reps);
        // Each replication is folded into the report and reduced to its KPIs as it
        // finishes: memory stays flat in the number of replications.
        crate::budget::check(&sc, threads)?;
        let mut summary = Summary::new(&sc);
        let mut sample = Vec::with_capacity(reps as usize);
        for_each_replication(
            &sc,
            threads,
            &|n| progress(before + u64::from(n), total),
            |_, m| {
                sample.push(per_rep(&m));
                summary.add(&m);
                Ok(())
            },
        )?;
        samples.push(sample);
        reports.push(summary.into_report(&sc));
    }
    let kpis = KPIS
        .iter()
        .map(|(key, label, unit, f)| {
            let xs: Vec<Vec<f64>> = samples.iter().map(|s| s.iter().map(f).collect()).collect();
            KpiRow {
                key,
                label,
                unit: *unit,
                values: xs.iter().map(|x| mean_ci(x, level).into()).collect(),
                differences: xs
                    .iter()
                    .enumerate()
                    .map(|(j, x)| {
                        (j > 0).then(|| {
                            let d = paired_difference(&xs[0], x, level);
                            Difference {
                                mean: d.mean,
                                half_width: d.half_width,
                                significant: d.half_width.map(|h| d.mean.abs() > h),
                            }
                        })
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(Comparison {
        scenarios: scenarios.iter().map(|s| s.name.clone()).collect(),
        seed,
        replications: reps,
        ci_level: level,
        common_random_numbers: COMMON,
        kpis,
        reports,
    })
}
