//! Folding replications into a report as they finish: running sums, running means and
//! variances (Welford's method), a merged wait histogram. Nothing per replication is kept,
//! so memory is flat in the number of replications. With batch means the single run's
//! batches give the means and intervals instead.

// Checks are written `!(x > y)` on purpose: a NaN fails them too.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

mod flow;

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::breakdown::{AttemptCounts, TypeCounts};
use crate::metrics::{Counts, RunMetrics, Window, wait_histogram};
use crate::report::{
    CallbackSurvey, GroupRow, IntervalRow, Method, OverflowRow, Rates, Report, SL_NAMES,
    ServiceLevels, TypeRow, WaitPercentiles, div, mean_ci, ratio, student_t, wait_bins,
};
use crate::scenario::Scenario;
use flow::FlowSummary;

/// The rates whose batch means are checked for independence.
const HEADLINE: [&str; 4] = ["service_level", "asa_s", "abandon_rate", "occupancy"];

/// A running mean and variance (Welford).
#[derive(Clone, Copy, Debug, Default)]
pub struct Running {
    n: u32,
    mean: f64,
    m2: f64,
}

impl Running {
    /// Adds an observation.
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / f64::from(self.n);
        self.m2 += d * (x - self.mean);
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The half-width of the mean at confidence `level` (Student t; `None` for fewer than
    /// two observations).
    pub fn half_width(&self, level: f64) -> Option<f64> {
        let n = f64::from(self.n);
        student_t(level, (self.n as usize).saturating_sub(1))
            .map(|t| t * (self.m2 / (n - 1.0) / n).sqrt())
    }
}

/// Per group sums of one replication's window: staffed and busy means, busy variance.
#[derive(Clone, Copy, Debug, Default)]
struct GroupSums {
    staffed: f64,
    busy: Running,
    variance: Running,
    answered: f64,
}

/// Replications folded so far.
pub struct Summary {
    n: u32,
    counts: Counts,
    /// The 13 rates then the 4 service-level variants, per replication.
    kpis: Vec<Running>,
    waits: Histogram<u64>,
    intervals: Vec<Window>,
    trunk_peak: f64,
    ivr_peak: f64,
    queue_peak: f64,
    trunks_full: f64,
    ivr_full: f64,
    end_time: f64,
    events: f64,
    type_names: Vec<String>,
    types: Vec<TypeCounts>,
    type_kpis: Vec<[Running; 3]>,
    group_names: Vec<String>,
    groups: Vec<GroupSums>,
    rule_labels: Vec<String>,
    overflows: Vec<f64>,
    attempts: Vec<AttemptCounts>,
    /// Batch means: each batch's 17 KPI values.
    batches: Vec<[f64; 17]>,
    /// The IVR flow's figures (when the IVR runs one).
    flow: Option<FlowSummary>,
}

/// The 13 rates and 4 service-level variants of a window.
fn kpis_of(w: &Window, m: &RunMetrics) -> [f64; 17] {
    let r = Rates::of(w, m.trunk_capacity, m.ivr_ports);
    let sl = ServiceLevels::of(&w.counts);
    let mut out = [0.0; 17];
    for (o, (_, v)) in out.iter_mut().zip(r.fields()) {
        *o = v;
    }
    out[13..].copy_from_slice(&sl.values());
    out
}

fn kpi_names() -> [&'static str; 17] {
    let mut out = [""; 17];
    for (o, (k, _)) in out.iter_mut().zip(Rates::default().fields()) {
        *o = k;
    }
    out[13..].copy_from_slice(&SL_NAMES);
    out
}

impl Summary {
    /// Nothing folded yet.
    pub fn new(sc: &Scenario) -> Summary {
        let routing = sc.routing().ok();
        let (type_names, group_names, rule_labels) = match &routing {
            Some(r) if !sc.call_types.is_empty() || !sc.groups.is_empty() => (
                if sc.call_types.is_empty() {
                    Vec::new()
                } else {
                    r.types.clone()
                },
                if sc.groups.is_empty() {
                    Vec::new()
                } else {
                    r.groups.clone()
                },
                r.rule_labels(),
            ),
            Some(r) => (Vec::new(), Vec::new(), r.rule_labels()),
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        Summary {
            n: 0,
            counts: Counts::default(),
            kpis: vec![Running::default(); 17],
            waits: wait_histogram(),
            intervals: Vec::new(),
            trunk_peak: 0.0,
            ivr_peak: 0.0,
            queue_peak: 0.0,
            trunks_full: 0.0,
            ivr_full: 0.0,
            end_time: 0.0,
            events: 0.0,
            types: vec![TypeCounts::default(); type_names.len()],
            type_kpis: vec![[Running::default(); 3]; type_names.len()],
            type_names,
            groups: vec![GroupSums::default(); group_names.len()],
            group_names,
            overflows: vec![0.0; rule_labels.len()],
            rule_labels,
            attempts: Vec::new(),
            batches: Vec::new(),
            flow: FlowSummary::new(sc),
        }
    }

    /// Folds in one replication.
    pub fn add(&mut self, m: &RunMetrics) {
        self.n += 1;
        if let (Some(f), Some(fm)) = (&mut self.flow, &m.flow) {
            f.add(self.n - 1, fm);
        }
        let w = m.window();
        self.counts.add(&w.counts);
        for (k, v) in self.kpis.iter_mut().zip(kpis_of(&w, m)) {
            k.add(v);
        }
        let _ = self.waits.add(&m.waits_ms);
        m.add_intervals(&mut self.intervals);
        self.trunk_peak = self.trunk_peak.max(m.trunks.peak);
        self.ivr_peak = self.ivr_peak.max(m.ivr.peak);
        self.queue_peak = self.queue_peak.max(m.queue.peak);
        self.trunks_full += m.trunks.total_full_time();
        self.ivr_full += m.ivr.total_full_time();
        self.end_time += m.end_time;
        self.events += m.events as f64;
        let b = &m.breakdown;
        for (i, t) in b.types.iter().enumerate().take(self.types.len()) {
            self.types[i].add(t);
            let row = TypeRow::new("", *t);
            for (k, v) in
                self.type_kpis[i]
                    .iter_mut()
                    .zip([row.service_level, row.asa_s, row.abandon_rate])
            {
                k.add(v);
            }
        }
        let g = &m.grid;
        let len = g.window_len();
        for (i, lv) in b.groups.iter().enumerate().take(self.groups.len()) {
            let keep = |j| g.level_in_window(j);
            let mean = lv.busy.area_where(keep) / len;
            let second = lv.busy.area_sq_where(keep) / len;
            let s = &mut self.groups[i];
            s.staffed += lv.staffed.area_where(keep) / len;
            s.busy.add(mean);
            s.variance.add((second - mean * mean).max(0.0));
            s.answered += lv.answered;
        }
        for (o, x) in self.overflows.iter_mut().zip(&b.overflows) {
            *o += x;
        }
        for (i, a) in b.callback_attempts.iter().enumerate() {
            if self.attempts.len() <= i {
                self.attempts.resize(i + 1, AttemptCounts::default());
            }
            self.attempts[i].attempts += a.attempts;
            self.attempts[i].answered += a.answered;
        }
        if g.batches() > 1 {
            for j in 0..g.batches() as usize {
                self.batches.push(kpis_of(&m.batch(j), m));
            }
        }
    }

    /// The report of everything folded in.
    pub fn into_report(self, sc: &Scenario) -> Report {
        let n = f64::from(self.n.max(1));
        let mut counts = self.counts;
        counts.scale(1.0 / n);
        let names = kpi_names();
        let level = sc.ci_level;
        let mut ci = BTreeMap::new();
        let mut values = [0.0; 17];
        let mut method = Method {
            kind: "replications",
            replications: self.n,
            warmup_s: sc.warmup_s,
            ..Method::default()
        };
        if self.batches.len() > 1 {
            let b = self.batches.len();
            // A 99% bound per rate, checked on the four headline rates only, so that
            // independent batches are rarely flagged by chance.
            let bound = 2.576 / (b as f64).sqrt();
            let mut independent = true;
            for (j, name) in names.iter().enumerate() {
                let xs: Vec<f64> = self.batches.iter().map(|v| v[j]).collect();
                let e = mean_ci(&xs, level);
                values[j] = e.mean;
                ci.insert(name.to_string(), e.half_width);
                if let Some(r) = lag1(&xs) {
                    if HEADLINE.contains(name) {
                        independent &= r.abs() <= bound;
                    }
                    method.lag1_autocorrelation.insert(name.to_string(), r);
                }
            }
            method.kind = "batch-means";
            method.batches = Some(b as u32);
            method.batch_s = Some((sc.duration_s - sc.warmup_s) / b as f64);
            method.lag1_bound = Some(bound);
            method.batches_independent = Some(independent);
        } else {
            for (j, name) in names.iter().enumerate() {
                values[j] = self.kpis[j].mean();
                ci.insert(name.to_string(), self.kpis[j].half_width(level));
            }
        }
        let mut first = [0.0; 13];
        first.copy_from_slice(&values[..13]);
        let rates = Rates::from_values(&first);
        let service_levels =
            ServiceLevels::from_values([values[13], values[14], values[15], values[16]]);
        let waits = &self.waits;
        let pct = |q: f64| {
            if waits.is_empty() {
                0.0
            } else {
                waits.value_at_quantile(q) as f64 / 1000.0
            }
        };
        let iv = sc.interval_s;
        let intervals: Vec<IntervalRow> = self
            .intervals
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let mut c = w.counts;
                c.scale(1.0 / n);
                let abandoned = c.queue_abandoned + c.ring_lost;
                let start_s = i as f64 * iv;
                IntervalRow {
                    start_s,
                    drain: start_s >= sc.duration_s,
                    service_level: ratio(c.answered_within_sl, c.answered + abandoned),
                    counts: c,
                    queue_len: w.queue / n / iv,
                    trunks_busy: w.trunks / n / iv,
                    all_trunks_busy_s: w.trunks_full / n,
                    ivr_busy: w.ivr / n / iv,
                    all_ivr_busy_s: w.ivr_full / n,
                    agents_staffed: w.staffed / n / iv,
                    occupancy: ratio(w.busy, w.staffed),
                }
            })
            .collect();
        let call_types = self
            .type_names
            .iter()
            .zip(&self.types)
            .zip(&self.type_kpis)
            .map(|((name, t), k)| {
                let mut c = *t;
                scale_type(&mut c, 1.0 / n);
                for (key, r) in ["service_level", "asa_s", "abandon_rate"].iter().zip(k) {
                    ci.insert(format!("type.{name}.{key}"), r.half_width(level));
                }
                TypeRow::new(name, c)
            })
            .collect();
        let groups = self
            .group_names
            .iter()
            .zip(&self.groups)
            .map(|(name, g)| {
                ci.insert(format!("group.{name}.busy_mean"), g.busy.half_width(level));
                ci.insert(
                    format!("group.{name}.busy_variance"),
                    g.variance.half_width(level),
                );
                GroupRow {
                    name: name.clone(),
                    agents_staffed: g.staffed / n,
                    busy_mean: g.busy.mean(),
                    busy_variance: g.variance.mean(),
                    occupancy: div(g.busy.mean(), g.staffed / n),
                    answered: g.answered / n,
                }
            })
            .collect();
        let overflows = self
            .rule_labels
            .iter()
            .zip(&self.overflows)
            .map(|(rule, x)| OverflowRow {
                rule: rule.clone(),
                calls: x / n,
            })
            .collect();
        let callback_survey = sc.callback.as_ref().map(|_| CallbackSurvey {
            accepted: counts.callback_offered,
            declined: counts.callback_declined,
            attempts: counts.callback_attempts,
            answered: counts.callback_served,
            unanswered: counts.callback_unanswered,
            trunk_blocked: counts.callback_trunk_blocked,
            expired: counts.callback_expired,
            by_attempt: self
                .attempts
                .iter()
                .map(|a| [a.attempts / n, a.answered / n])
                .collect(),
        });
        let ivr_flow = self.flow.map(|f| f.into_report(sc, n, &intervals, level));
        Report {
            ivr_flow,
            scenario: sc.name.clone(),
            replications: self.n,
            seed: sc.seed,
            sl_threshold_s: sc.sl_threshold_s,
            sl_target: sc.sl_target,
            duration_s: sc.duration_s,
            counts,
            rates,
            ci_level: level,
            ci_half_width: ci,
            wait_percentiles_s: WaitPercentiles {
                p50: pct(0.5),
                p90: pct(0.9),
                p99: pct(0.99),
            },
            wait_distribution: wait_bins(waits, sc.sl_threshold_s, n),
            trunk_channels: sc.trunks.capacity(),
            trunk_peak: self.trunk_peak,
            all_trunks_busy_s: self.trunks_full / n,
            ivr_ports: sc.ivr.as_ref().map(|i| i.ports),
            ivr_peak: self.ivr_peak,
            all_ivr_busy_s: self.ivr_full / n,
            queue_peak: self.queue_peak,
            simulated_s: self.end_time / n,
            events: self.events / n,
            interval_s: iv,
            intervals,
            service_levels,
            method,
            call_types,
            groups,
            overflows,
            callback_survey,
        }
    }
}

impl Report {
    /// Combines the replications of `sc`, with confidence intervals at `sc.ci_level`. This
    /// takes every replication at once; [`crate::simulate`] folds them in as they finish.
    pub fn from_runs(sc: &Scenario, runs: &[RunMetrics]) -> Report {
        let mut summary = Summary::new(sc);
        for m in runs {
            summary.add(m);
        }
        summary.into_report(sc)
    }
}

fn scale_type(c: &mut TypeCounts, k: f64) {
    let mut s = TypeCounts::default();
    s.add(c);
    for x in [
        &mut s.offered,
        &mut s.reached_acd,
        &mut s.answered,
        &mut s.answered_within_sl,
        &mut s.abandoned,
        &mut s.abandoned_within_sl,
        &mut s.wait_sum,
    ] {
        *x *= k;
    }
    *c = s;
}

/// Lag-1 autocorrelation of a series (`None` when it does not vary).
pub fn lag1(xs: &[f64]) -> Option<f64> {
    let n = xs.len();
    if n < 3 {
        return None;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var: f64 = xs.iter().map(|x| (x - mean).powi(2)).sum();
    if !(var > 1e-24 * mean.abs().max(1.0)) {
        return None;
    }
    let cov: f64 = xs.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum();
    Some(cov / var)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_matches_two_pass() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        let mut r = Running::default();
        for x in xs {
            r.add(x);
        }
        let e = mean_ci(&xs, 0.95);
        assert!((r.mean() - e.mean).abs() < 1e-12);
        assert!((r.half_width(0.95).unwrap() - e.half_width.unwrap()).abs() < 1e-12);
    }

    #[test]
    fn lag1_of_known_series() {
        // Alternating: strongly negative; a ramp: positive.
        assert!(lag1(&[1.0, -1.0, 1.0, -1.0, 1.0, -1.0]).unwrap() < -0.8);
        assert!(lag1(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap() > 0.4);
        assert_eq!(lag1(&[2.0, 2.0, 2.0, 2.0]), None);
    }
}
