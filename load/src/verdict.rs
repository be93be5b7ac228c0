//! Stated targets and the verdict on a run: each [`Target`] is a named limit on one figure,
//! a [`Verdict`] holds one [`Check`] per measured figure (PASS, FAIL, or not measured with the
//! reason), and [`Verdict::result`] turns missed targets into an error ([`TargetsMissed`]) so a
//! command can exit non-zero.
//!
//! The targets of `tandem bench` are defined, with their defaults and meaning, in
//! [`BENCH_TARGETS`]; `--target NAME=VALUE` changes one ([`Targets::set`]). A figure that
//! cannot be measured on the machine at hand (rtpengine not installed, a section skipped) is
//! reported as not measured, which is neither a pass nor a failure.

use std::fmt::Write as _;

use serde::Serialize;

use crate::table::aligned_table;

/// Exit status of a command whose run completed but missed a stated target (1 is left for
/// errors, 2 for bad arguments).
pub const EXIT_TARGETS_MISSED: u8 = 3;

/// Which side of its limit a figure must stay on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Bound {
    /// The figure must not exceed the limit.
    AtMost,
    /// The figure must reach the limit.
    AtLeast,
}

/// A stated target: a named limit on one kind of figure.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Target {
    /// Its name on the command line (`--target NAME=VALUE`).
    pub name: &'static str,
    /// Which side of the limit passes.
    pub bound: Bound,
    /// The limit.
    pub limit: f64,
    /// Unit of the figure and the limit (`µs`, `×`, `M/s`, …).
    pub unit: &'static str,
    /// Decimals shown.
    pub decimals: usize,
    /// What is measured, and where.
    pub what: &'static str,
}

impl Target {
    /// Whether `value` meets the target (a NaN never does).
    pub fn met_by(&self, value: f64) -> bool {
        match self.bound {
            Bound::AtMost => value <= self.limit,
            Bound::AtLeast => value >= self.limit,
        }
    }

    /// `value` with this target's unit and decimals.
    pub fn show(&self, value: f64) -> String {
        let sep = if self.unit == "×" || self.unit.is_empty() {
            ""
        } else {
            " "
        };
        format!("{value:.*}{sep}{}", self.decimals, self.unit)
    }

    /// The limit as text: `≤ 1000 µs`, `≥ 5.00 M/s`.
    pub fn describe(&self) -> String {
        let op = match self.bound {
            Bound::AtMost => "≤",
            Bound::AtLeast => "≥",
        };
        format!("{op} {}", self.show(self.limit))
    }
}

/// The targets `tandem bench` checks, with their default limits. Each is a claim the
/// project makes about itself; the figures behind them are medians over the rounds run.
pub const BENCH_TARGETS: [Target; 9] = [
    Target {
        name: "p99-us",
        bound: Bound::AtMost,
        limit: 1000.0,
        unit: "µs",
        decimals: 0,
        what: "added one-way latency p99 of each engine relay (in-process engine, tandem \
               serve) at the highest level it carries within 0.1% loss",
    },
    Target {
        name: "cpu-vs-raw",
        bound: Bound::AtMost,
        limit: 1.25,
        unit: "×",
        decimals: 2,
        what: "CPU per forwarded packet of each engine relay over the raw recvmmsg/sendmmsg \
               relay's, at every level both were measured (median of the rounds' paired ratios)",
    },
    Target {
        name: "cpu-vs-rtpengine",
        bound: Bound::AtMost,
        limit: 1.0,
        unit: "×",
        decimals: 2,
        what: "CPU per forwarded packet of tandem serve over rtpengine's (userspace, same \
               number of threads), at every level both were measured",
    },
    Target {
        name: "setup-vs-rtpengine",
        bound: Bound::AtLeast,
        limit: 1.0,
        unit: "×",
        decimals: 2,
        what: "call set-ups (offer, answer, delete) per second of tandem serve over \
               rtpengine's, the same window of requests in flight (median of paired rounds)",
    },
    Target {
        name: "cross-shard",
        bound: Bound::AtMost,
        limit: 0.0,
        unit: "",
        decimals: 0,
        what: "tandem serve with several shards: calls whose two legs are on different \
               shards, plus datagrams a shard received but did not send (or try to) itself",
    },
    Target {
        name: "overload-p99-ms",
        bound: Bound::AtMost,
        limit: 100.0,
        unit: "ms",
        decimals: 1,
        what: "tandem serve at twice the highest level it carries within 0.1% loss: added \
               one-way latency p99 of the packets it delivered (it must shed, not queue)",
    },
    Target {
        name: "mix-us",
        bound: Bound::AtMost,
        limit: 0.5,
        unit: "µs",
        decimals: 3,
        what: "mixing cost per participant per 20 ms tick, rooms of 3, 10, 100 and 1,000",
    },
    Target {
        name: "recording-drops",
        bound: Bound::AtMost,
        limit: 0.0,
        unit: "frames",
        decimals: 0,
        what: "frames dropped by the concurrent stereo recordings on one shard",
    },
    Target {
        name: "sim-rate",
        bound: Bound::AtLeast,
        limit: 5.0,
        unit: "M/s",
        decimals: 2,
        what: "simulated calls per second on the 1,000,000-call M/M/500+M model",
    },
];

/// A set of targets with their limits, some possibly changed from the defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Targets(Vec<Target>);

impl Targets {
    /// `tandem bench`'s targets at their defaults.
    pub fn bench() -> Targets {
        Targets(BENCH_TARGETS.to_vec())
    }

    /// The target named `name`. Panics on a name that is not in the set (a programming
    /// error: names come from [`BENCH_TARGETS`]).
    pub fn get(&self, name: &str) -> &Target {
        self.0
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no target named {name:?}"))
    }

    /// Changes one limit from `NAME=VALUE`.
    pub fn set(&mut self, spec: &str) -> Result<(), String> {
        let names = || self.0.iter().map(|t| t.name).collect::<Vec<_>>().join(", ");
        let (name, value) = spec
            .split_once('=')
            .ok_or_else(|| format!("--target {spec:?} is not NAME=VALUE"))?;
        let value: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("--target {spec:?}: {value:?} is not a number"))?;
        let known = names();
        let t = self
            .0
            .iter_mut()
            .find(|t| t.name == name.trim())
            .ok_or_else(|| format!("--target {spec:?}: no target {name:?} (targets: {known})"))?;
        t.limit = value;
        Ok(())
    }

    /// Every target as a table: name, limit, what it measures.
    pub fn table(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .0
            .iter()
            .map(|t| vec![t.name.to_string(), t.describe(), t.what.to_string()])
            .collect();
        aligned_table(&["target", "limit", "what"], &rows, 3)
    }
}

/// How one check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// The figure meets the target.
    Pass,
    /// The figure misses it, or the run shows it cannot be met.
    Fail,
    /// The figure could not be measured here.
    NotMeasured,
}

/// One figure held against one target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    /// The target's name.
    pub target: String,
    /// What was measured (`engine-mio at 500 calls`).
    pub subject: String,
    /// The limit as text.
    pub limit: String,
    /// The figure, when there is one.
    pub measured: Option<f64>,
    /// The figure as text, or what stands in for it.
    pub shown: String,
    /// PASS, FAIL or not measured.
    pub outcome: Outcome,
    /// Why it failed without a figure, or why it was not measured.
    pub note: String,
}

/// The checks of one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Verdict {
    checks: Vec<Check>,
}

impl Verdict {
    /// No checks yet.
    pub fn new() -> Verdict {
        Verdict::default()
    }

    /// Holds `value` (of `subject`) against `target`; returns whether it passed.
    pub fn measured(&mut self, target: &Target, subject: impl Into<String>, value: f64) -> bool {
        let pass = target.met_by(value);
        self.checks.push(Check {
            target: target.name.to_string(),
            subject: subject.into(),
            limit: target.describe(),
            measured: Some(value),
            shown: target.show(value),
            outcome: if pass { Outcome::Pass } else { Outcome::Fail },
            note: String::new(),
        });
        pass
    }

    /// A failure without a figure: the run shows the target is missed (e.g. no level within
    /// the loss limit, so no latency at such a level exists).
    pub fn missed(&mut self, target: &Target, subject: impl Into<String>, why: impl Into<String>) {
        self.push_without_figure(target, subject.into(), Outcome::Fail, why.into());
    }

    /// A figure this run could not measure, and why.
    pub fn not_measured(
        &mut self,
        target: &Target,
        subject: impl Into<String>,
        why: impl Into<String>,
    ) {
        self.push_without_figure(target, subject.into(), Outcome::NotMeasured, why.into());
    }

    fn push_without_figure(
        &mut self,
        target: &Target,
        subject: String,
        outcome: Outcome,
        note: String,
    ) {
        self.checks.push(Check {
            target: target.name.to_string(),
            subject,
            limit: target.describe(),
            measured: None,
            shown: match outcome {
                Outcome::NotMeasured => "not measured".into(),
                _ => "-".into(),
            },
            outcome,
            note,
        });
    }

    /// Every check, in the order made.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// Checks with this outcome.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.checks.iter().filter(|c| c.outcome == outcome).count()
    }

    /// The checks as a Markdown table and a one-line tally.
    pub fn text(&self) -> String {
        let mut out = String::from("| target | measured | limit | verdict |\n|---|---:|---|---|\n");
        for c in &self.checks {
            let verdict = match c.outcome {
                Outcome::Pass => "PASS".to_string(),
                Outcome::Fail if c.note.is_empty() => "FAIL".to_string(),
                Outcome::Fail => format!("FAIL: {}", c.note),
                Outcome::NotMeasured => format!("not measured: {}", c.note),
            };
            let _ = writeln!(
                out,
                "| {}: {} | {} | {} | {verdict} |",
                c.target, c.subject, c.shown, c.limit
            );
        }
        let _ = writeln!(
            out,
            "\n{} passed, {} failed, {} not measured",
            self.count(Outcome::Pass),
            self.count(Outcome::Fail),
            self.count(Outcome::NotMeasured)
        );
        out
    }

    /// `Ok` unless a check failed.
    pub fn result(&self) -> Result<(), TargetsMissed> {
        let missed: Vec<String> = self
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Fail)
            .map(|c| format!("{} ({})", c.target, c.subject))
            .collect();
        if missed.is_empty() {
            Ok(())
        } else {
            Err(TargetsMissed {
                checked: self.checks.len() - self.count(Outcome::NotMeasured),
                missed,
            })
        }
    }
}

/// A run that completed but missed stated targets.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} of {checked} checked targets missed: {}", missed.len(), missed.join(", "))]
pub struct TargetsMissed {
    /// Checks made with a figure or a definite failure.
    pub checked: usize,
    /// The failed checks: target (subject).
    pub missed: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_pass_and_fail_on_the_right_side() {
        let t = Targets::bench();
        let p99 = t.get("p99-us");
        assert!(p99.met_by(1000.0) && p99.met_by(3.0) && !p99.met_by(1000.5));
        assert!(!p99.met_by(f64::NAN));
        let sim = t.get("sim-rate");
        assert!(sim.met_by(5.0) && !sim.met_by(4.99));
        assert_eq!(p99.describe(), "≤ 1000 µs");
        assert_eq!(t.get("cpu-vs-raw").describe(), "≤ 1.25×");
        assert_eq!(sim.show(3.4), "3.40 M/s");
    }

    #[test]
    fn limits_are_set_by_name_and_bad_specs_are_refused() {
        let mut t = Targets::bench();
        t.set("p99-us=5000").unwrap();
        t.set(" sim-rate = 0.5").unwrap();
        assert_eq!(t.get("p99-us").limit, 5000.0);
        assert_eq!(t.get("sim-rate").limit, 0.5);
        for bad in ["p99-us", "p99-us=x", "nope=1", "p99-us=inf", "=3"] {
            let e = t.set(bad).unwrap_err();
            assert!(e.contains(bad.trim()), "{e}");
        }
        assert!(t.set("nope=1").unwrap_err().contains("cpu-vs-raw"));
        let names: Vec<&str> = BENCH_TARGETS.iter().map(|t| t.name).collect();
        let table = t.table();
        assert!(names.iter().all(|n| table.contains(n)), "{table}");
    }

    #[test]
    fn a_failure_is_an_error_and_not_measured_is_neither() {
        let t = Targets::bench();
        let mut v = Verdict::new();
        assert!(v.measured(t.get("p99-us"), "engine at 50 calls", 420.0));
        v.not_measured(
            t.get("cpu-vs-rtpengine"),
            "serve",
            "rtpengine is not installed",
        );
        assert_eq!(v.result(), Ok(()));
        assert!(!v.measured(t.get("sim-rate"), "M/M/500+M", 3.4));
        v.missed(t.get("p99-us"), "serve", "no level within 0.1% loss");
        let e = v.result().unwrap_err();
        assert_eq!(e.checked, 3);
        assert_eq!(e.missed.len(), 2);
        assert!(
            e.to_string().starts_with("2 of 3 checked targets missed"),
            "{e}"
        );
        let text = v.text();
        assert!(
            text.contains("| sim-rate: M/M/500+M | 3.40 M/s | ≥ 5.00 M/s | FAIL |"),
            "{text}"
        );
        assert!(
            text.contains("not measured: rtpengine is not installed"),
            "{text}"
        );
        assert!(text.contains("FAIL: no level within 0.1% loss"), "{text}");
        assert!(
            text.contains("1 passed, 2 failed, 1 not measured"),
            "{text}"
        );
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["checks"][2]["outcome"], "fail");
        assert_eq!(json["checks"][1]["outcome"], "not_measured");
    }
}
