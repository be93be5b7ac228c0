//! Verdicts: each stated target with what was measured and whether it passed; a command
//! exits non-zero when one is missed, unless asked only to report (`--no-verdict`).

use std::fmt::Write as _;

use anyhow::{Result, bail};
use serde_json::json;

/// Which side of the limit passes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// Measured ≥ limit passes.
    AtLeast(f64),
    /// Measured ≤ limit passes.
    AtMost(f64),
}

/// One target and its measurement.
#[derive(Clone, Debug)]
pub struct Check {
    /// What is measured.
    pub name: String,
    /// The measurement.
    pub measured: f64,
    /// The target.
    pub bound: Bound,
    /// How values print (e.g. as a percentage).
    pub format: fn(f64) -> String,
}

impl Check {
    /// Whether the measurement meets the target (a NaN never does).
    pub fn passed(&self) -> bool {
        match self.bound {
            Bound::AtLeast(l) => self.measured >= l,
            Bound::AtMost(l) => self.measured <= l,
        }
    }

    fn target_text(&self) -> String {
        match self.bound {
            Bound::AtLeast(l) => format!("≥ {}", (self.format)(l)),
            Bound::AtMost(l) => format!("≤ {}", (self.format)(l)),
        }
    }
}

/// Formats a fraction as a percentage with one decimal.
pub fn percent(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// Formats a fraction as a percentage with two decimals.
pub fn percent2(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

/// A list of checks.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    /// The checks, in the order they print.
    pub checks: Vec<Check>,
}

impl Verdict {
    /// Adds a check.
    pub fn check(&mut self, name: &str, measured: f64, bound: Bound, format: fn(f64) -> String) {
        self.checks.push(Check {
            name: name.into(),
            measured,
            bound,
            format,
        });
    }

    /// The checks that failed.
    pub fn failed(&self) -> usize {
        self.checks.iter().filter(|c| !c.passed()).count()
    }

    /// One line per check: PASS or FAIL, the target, the measurement.
    pub fn to_text(&self) -> String {
        let mut s = String::from("Verdict\n");
        let w = self
            .checks
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0);
        for c in &self.checks {
            let _ = writeln!(
                s,
                "  {}  {:<w$}  {:<10} measured {}",
                if c.passed() { "PASS" } else { "FAIL" },
                c.name,
                c.target_text(),
                (c.format)(c.measured)
            );
        }
        s
    }

    /// The checks as JSON: `[{name, target, measured, passed}]`.
    pub fn to_json(&self) -> serde_json::Value {
        self.checks
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "target": c.target_text(),
                    "measured": c.measured,
                    "passed": c.passed(),
                })
            })
            .collect()
    }

    /// An error naming the missed targets, unless all passed or `report_only`.
    pub fn exit(&self, report_only: bool) -> Result<()> {
        let failed = self.failed();
        if failed > 0 && !report_only {
            let names: Vec<&str> = self
                .checks
                .iter()
                .filter(|c| !c.passed())
                .map(|c| c.name.as_str())
                .collect();
            bail!(
                "{failed} of {} targets missed: {} (--no-verdict only reports)",
                self.checks.len(),
                names.join(", ")
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_fail_and_exit() {
        let mut v = Verdict::default();
        v.check("service level", 0.84, Bound::AtLeast(0.8), percent);
        v.check("total loss", 0.0231, Bound::AtMost(0.02), percent2);
        v.check("nan", f64::NAN, Bound::AtMost(1.0), percent);
        assert_eq!(v.failed(), 2);
        let t = v.to_text();
        assert!(
            t.contains("PASS  service level") && t.contains("FAIL  total loss"),
            "{t}"
        );
        assert!(t.contains("≤ 2.00%") && t.contains("measured 2.31%"), "{t}");
        assert!(v.exit(true).is_ok());
        let e = v.exit(false).unwrap_err().to_string();
        assert!(e.contains("2 of 3 targets missed: total loss, nan"), "{e}");
        assert_eq!(v.to_json()[0]["passed"], true);
    }
}
