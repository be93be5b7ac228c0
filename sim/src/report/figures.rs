//! The report's figures beyond the four loss stages: the service-level variants, how the
//! confidence intervals were formed, and the breakdowns per call type, agent group,
//! overflow rule and callback attempt.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::{Report, div};
use crate::breakdown::TypeCounts;
use crate::metrics::Counts;

/// The service level by each of the definitions in common use (T is `sl_threshold_s`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ServiceLevels {
    /// Answered within T ÷ (answered + abandoned): the project's KPI definition (the same
    /// as `service_level`).
    pub of_answered_and_abandoned: f64,
    /// Answered within T ÷ (answered + abandoned after T): short abandons (within T) left
    /// out.
    pub excluding_short_abandons: f64,
    /// Answered within T ÷ calls offered to the ACD.
    pub of_offered: f64,
    /// Answered within T ÷ answered.
    pub of_answered: f64,
}

/// The names of the [`ServiceLevels`] figures, as keys of `ci_half_width` (prefixed `sl_`).
pub const SL_NAMES: [&str; 4] = [
    "sl_of_answered_and_abandoned",
    "sl_excluding_short_abandons",
    "sl_of_offered",
    "sl_of_answered",
];

impl ServiceLevels {
    /// The variants from counts.
    pub fn of(c: &Counts) -> ServiceLevels {
        let abandoned = c.queue_abandoned + c.ring_lost;
        ServiceLevels {
            of_answered_and_abandoned: div(c.answered_within_sl, c.answered + abandoned),
            excluding_short_abandons: div(
                c.answered_within_sl,
                c.answered + abandoned - c.abandoned_within_sl,
            ),
            of_offered: div(c.answered_within_sl, c.reached_acd),
            of_answered: div(c.answered_within_sl, c.answered),
        }
    }

    /// The figures in the order of [`SL_NAMES`].
    pub fn values(&self) -> [f64; 4] {
        [
            self.of_answered_and_abandoned,
            self.excluding_short_abandons,
            self.of_offered,
            self.of_answered,
        ]
    }

    /// The figures from values in the order of [`SL_NAMES`].
    pub fn from_values(v: [f64; 4]) -> ServiceLevels {
        ServiceLevels {
            of_answered_and_abandoned: v[0],
            excluding_short_abandons: v[1],
            of_offered: v[2],
            of_answered: v[3],
        }
    }
}

/// How the means and confidence intervals were formed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Method {
    /// `replications` (independent runs; Student t across them) or `batch-means` (one long
    /// run cut into batches; Student t across the batches).
    pub kind: &'static str,
    /// Replications run.
    pub replications: u32,
    /// Batches (batch means only).
    pub batches: Option<u32>,
    /// Length of a batch, seconds (batch means only).
    pub batch_s: Option<f64>,
    /// Statistics before this time were discarded.
    pub warmup_s: f64,
    /// Lag-1 autocorrelation of the batch means of each rate (batch means only).
    pub lag1_autocorrelation: BTreeMap<String, f64>,
    /// The bound the lag-1 autocorrelations of the headline rates (service level, ASA,
    /// abandon rate, occupancy) are checked against: 2.576 ÷ √batches.
    pub lag1_bound: Option<f64>,
    /// Whether every checked autocorrelation is within the bound (batch means only): if not,
    /// the batches are too short to be independent and the intervals too narrow.
    pub batches_independent: Option<bool>,
}

/// One call type's figures (means per replication).
#[derive(Clone, Debug, Serialize)]
pub struct TypeRow {
    /// Name.
    pub name: String,
    /// Counts.
    #[serde(flatten)]
    pub counts: TypeCounts,
    /// Answered within T ÷ (answered + abandoned).
    pub service_level: f64,
    /// Mean wait of answered calls, seconds.
    pub asa_s: f64,
    /// Abandoned ÷ reached the ACD.
    pub abandon_rate: f64,
}

impl TypeRow {
    /// The row of type `name` from its mean counts.
    pub fn new(name: &str, c: TypeCounts) -> TypeRow {
        TypeRow {
            name: name.to_string(),
            service_level: div(c.answered_within_sl, c.answered + c.abandoned),
            asa_s: div(c.wait_sum, c.answered),
            abandon_rate: div(c.abandoned, c.reached_acd),
            counts: c,
        }
    }
}

/// One agent group's figures (means per replication, over the window).
#[derive(Clone, Debug, Default, Serialize)]
pub struct GroupRow {
    /// Name.
    pub name: String,
    /// Mean agents logged in.
    pub agents_staffed: f64,
    /// Mean agents busy (talking or in after-call work): the traffic the group carries, in
    /// Erlangs.
    pub busy_mean: f64,
    /// Variance of the number of busy agents (time-weighted).
    pub busy_variance: f64,
    /// Busy ÷ logged in.
    pub occupancy: f64,
    /// Calls the group's agents answered.
    pub answered: f64,
}

/// One overflow rule's figures.
#[derive(Clone, Debug, Serialize)]
pub struct OverflowRow {
    /// `type → group after N s`.
    pub rule: String,
    /// Calls moved (mean per replication).
    pub calls: f64,
}

/// What became of callback offers and dials.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CallbackSurvey {
    /// Callers offered a callback who accepted (released with an entry).
    pub accepted: f64,
    /// Callers offered a callback who declined and stayed in the queue.
    pub declined: f64,
    /// Dial attempts placed.
    pub attempts: f64,
    /// Attempts the customer answered (callbacks served).
    pub answered: f64,
    /// Attempts not answered.
    pub unanswered: f64,
    /// Dial tries that found every trunk seized (not attempts; retried).
    pub trunk_blocked: f64,
    /// Entries that expired or ran out of attempts.
    pub expired: f64,
    /// Per attempt number (1 = first): `[attempts, answered]`.
    pub by_attempt: Vec<[f64; 2]>,
}

impl Report {
    /// The text of the figures this module adds, appended to the report.
    pub(super) fn figures_text(&self, s: &mut String) {
        let sl = &self.service_levels;
        let pm = |v: f64, k: &str| self.pct_ci(v, k);
        let _ = writeln!(
            s,
            "\nService level by definition (T = {:.0} s)",
            self.sl_threshold_s
        );
        for (label, v, k) in [
            (
                "within T ÷ (answered + abandoned)   ",
                sl.of_answered_and_abandoned,
                SL_NAMES[0],
            ),
            (
                "within T ÷ (answered + aband. > T) ",
                sl.excluding_short_abandons,
                SL_NAMES[1],
            ),
            (
                "within T ÷ offered to the ACD      ",
                sl.of_offered,
                SL_NAMES[2],
            ),
            (
                "within T ÷ answered                ",
                sl.of_answered,
                SL_NAMES[3],
            ),
        ] {
            let _ = writeln!(s, "  {label} {}", pm(v, k));
        }
        let c = &self.counts;
        let _ = writeln!(
            s,
            "  abandoned within T (short abandons) {:.0}; balked on the announcement {:.0}",
            c.abandoned_within_sl, c.balked
        );
        let m = &self.method;
        let _ = write!(s, "\nMethod: {}", m.kind);
        match (m.batches, m.batch_s) {
            (Some(b), Some(len)) => {
                let _ = write!(s, ", {b} batches of {len:.0} s");
            }
            _ => {
                let _ = write!(s, ", {} replication(s)", m.replications);
            }
        }
        if m.warmup_s > 0.0 {
            let _ = write!(s, " after a {:.0} s warm-up (discarded)", m.warmup_s);
        }
        let _ = writeln!(s);
        if let (Some(ok), Some(bound)) = (m.batches_independent, m.lag1_bound) {
            let worst = m
                .lag1_autocorrelation
                .iter()
                .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()));
            if let Some((k, r)) = worst {
                let _ = writeln!(
                    s,
                    "  lag-1 autocorrelation of batch means: largest {r:+.3} ({k}), bound ±{bound:.3}: {}",
                    if ok {
                        "batches look independent"
                    } else {
                        "batches look correlated; use fewer, longer batches or a longer run"
                    }
                );
            }
        }
        if !self.call_types.is_empty() {
            let _ = writeln!(
                s,
                "\nPer call type          offered  answered abandoned     SL      ASA"
            );
            for t in &self.call_types {
                let _ = writeln!(
                    s,
                    "  {:<20} {:>8.0} {:>9.0} {:>9.0} {:>5.1}% {:>7.1} s",
                    t.name,
                    t.counts.offered,
                    t.counts.answered,
                    t.counts.abandoned,
                    t.service_level * 100.0,
                    t.asa_s
                );
            }
        }
        if !self.groups.is_empty() {
            let _ = writeln!(
                s,
                "\nPer agent group        staffed  busy (mean / variance)   occ  answered"
            );
            for g in &self.groups {
                let _ = writeln!(
                    s,
                    "  {:<20} {:>8.1} {:>9.2} / {:<9.2} {:>5.1}% {:>8.0}",
                    g.name,
                    g.agents_staffed,
                    g.busy_mean,
                    g.busy_variance,
                    g.occupancy * 100.0,
                    g.answered
                );
            }
        }
        for o in &self.overflows {
            let _ = writeln!(s, "  overflow {}: {:.0} calls", o.rule, o.calls);
        }
        if let Some(cb) = &self.callback_survey {
            let _ = writeln!(
                s,
                "\nCallbacks: {:.0} accepted, {:.0} declined; {:.0} attempts, {:.0} answered, \
                 {:.0} unanswered, {:.0} trunk-blocked tries, {:.0} expired",
                cb.accepted,
                cb.declined,
                cb.attempts,
                cb.answered,
                cb.unanswered,
                cb.trunk_blocked,
                cb.expired
            );
            for (i, [n, a]) in cb.by_attempt.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "  attempt {}: {n:.0} placed, {a:.0} answered ({:.0}%)",
                    i + 1,
                    div(*a, *n) * 100.0
                );
            }
        }
    }
}
