//! Running scenarios for the validation cases and comparing with references.

#![allow(dead_code)]

use tandem_sim::metrics::RunMetrics;
use tandem_sim::replicate::for_each_replication;
use tandem_sim::{Report, Scenario, simulate};

/// A scenario from TOML (panics on errors: the cases are fixed text).
pub fn scenario(toml: &str) -> Scenario {
    Scenario::from_toml(toml, "test", None).unwrap_or_else(|e| panic!("{e}\n{toml}"))
}

/// The report of a scenario, on two threads.
pub fn report(toml: &str) -> Report {
    simulate(&scenario(toml), 2, &|_| {}).unwrap()
}

/// Figures of each replication, by `f`.
pub fn per_replication(sc: &Scenario, f: impl Fn(&RunMetrics) -> Vec<f64>) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    for_each_replication(sc, 2, &|_| {}, |_, m| {
        out.push(f(&m));
        Ok(())
    })
    .unwrap();
    out
}

/// Column `j` of per-replication figures.
pub fn column(rows: &[Vec<f64>], j: usize) -> Vec<f64> {
    rows.iter().map(|r| r[j]).collect()
}

/// |simulated − theory| within three 95% half-widths (a 99.9%-level check of the
/// simulator's own confidence interval).
pub fn within_ci(what: &str, sim: f64, half_width: f64, theory: f64) {
    assert!(
        half_width > 0.0 && half_width.is_finite(),
        "{what}: no confidence interval ({half_width})"
    );
    assert!(
        (sim - theory).abs() <= 3.0 * half_width,
        "{what}: simulated {sim:.5} ± {half_width:.5}, theory {theory:.5}"
    );
}

/// A report's figure with its half-width from `ci_half_width`.
pub fn check(r: &Report, key: &str, sim: f64, theory: f64) {
    let hw = r
        .half_width(key)
        .unwrap_or_else(|| panic!("no half-width for {key}: {:?}", r.ci_half_width));
    within_ci(key, sim, hw, theory);
}

/// A proportion of `n` trials against `p`, within three binomial half-widths.
pub fn proportion(what: &str, hits: f64, n: f64, p: f64) {
    assert!(n > 100.0, "{what}: only {n} trials");
    let hw = 1.96 * (p * (1.0 - p) / n).sqrt();
    within_ci(what, hits / n, hw, p);
}
