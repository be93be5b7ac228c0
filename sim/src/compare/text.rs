//! The comparison as text: a legend, the values side by side, the differences from the
//! baseline with their intervals.

use std::fmt::Write as _;

use super::{Comparison, Difference, Unit, Value};

/// Column letters for the scenarios (A is the baseline).
fn letter(i: usize) -> String {
    let l = (b'A' + (i % 26) as u8) as char;
    if i < 26 {
        l.to_string()
    } else {
        format!("{l}{}", i / 26)
    }
}

pub(crate) fn value(unit: Unit, v: &Value) -> String {
    match unit {
        Unit::Share => format!("{:.1}%", v.mean * 100.0),
        Unit::Seconds => format!("{:.1} s", v.mean),
        Unit::Calls => format!("{:.0}", v.mean),
    }
}

pub(crate) fn difference(unit: Unit, d: &Difference) -> String {
    let (scale, mut digits) = match unit {
        Unit::Share => (100.0, 1),
        Unit::Seconds => (1.0, 1),
        Unit::Calls => (1.0, 0),
    };
    // More decimals (up to three) while the difference or its half-width would print as
    // zero without being zero, so a real difference never shows as "0.0 ± 0.0*".
    let hides =
        |v: f64, digits: usize| v != 0.0 && (v * scale).abs() < 0.5 * 10f64.powi(-(digits as i32));
    while digits < 3 && (hides(d.mean, digits) || d.half_width.is_some_and(|h| hides(h, digits))) {
        digits += 1;
    }
    let hw = d
        .half_width
        .map_or_else(|| "n/a".to_string(), |h| format!("{:.digits$}", h * scale));
    let mark = if d.significant == Some(true) {
        "*"
    } else {
        " "
    };
    let mut mean = format!("{:+.digits$}", d.mean * scale);
    if mean[1..].chars().all(|c| c == '0' || c == '.') {
        // No sign on a difference that rounds to zero ("-0.0" reads as a decrease).
        mean = format!("{:.digits$}", 0.0);
    }
    format!("{mean} ± {hw}{mark}")
}

impl Comparison {
    /// The comparison as text for a terminal.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Comparison of {} scenarios — {} replication(s) each, seed {}, common random numbers",
            self.scenarios.len(),
            self.replications,
            self.seed
        );
        for (i, name) in self.scenarios.iter().enumerate() {
            let r = &self.reports[i];
            let trunks = r.trunk_channels.map_or_else(
                || "unlimited trunks".into(),
                |c| format!("{c} trunk channels"),
            );
            let _ = writeln!(
                s,
                "  {:<2} {name}{} — {trunks}",
                letter(i),
                if i == 0 { " (baseline)" } else { "" },
            );
        }
        let cols = self.scenarios.len();
        let _ = writeln!(s, "\nValues (means per replication)");
        let _ = write!(s, "  {:<22}", "KPI");
        for i in 0..cols {
            let _ = write!(s, " {:>10}", letter(i));
        }
        s.push('\n');
        for k in &self.kpis {
            let _ = write!(s, "  {:<22}", k.label);
            for v in &k.values {
                let _ = write!(s, " {:>10}", value(k.unit, v));
            }
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "\nDifference from A: mean of paired differences ± {:.0}% half-width; shares in \
             percentage points; * the interval excludes 0",
            self.ci_level * 100.0
        );
        let _ = write!(s, "  {:<22}", "KPI");
        for i in 1..cols {
            let _ = write!(s, " {:>17}", format!("{} − A", letter(i)));
        }
        s.push('\n');
        for k in &self.kpis {
            let _ = write!(s, "  {:<22}", k.label);
            for d in k.differences.iter().skip(1).flatten() {
                let _ = write!(s, " {:>17}", difference(k.unit, d));
            }
            s.push('\n');
        }
        if self.replications < 2 {
            let _ = writeln!(
                s,
                "\n(one replication: no confidence intervals; use --replications 5 or more)"
            );
        }
        s
    }
}
