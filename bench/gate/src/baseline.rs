//! The committed baseline file and the comparison table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct File {
    /// Instructions executed in each workload's measured region.
    instructions: BTreeMap<String, u64>,
}

/// Loads the baselines; a missing file means no baselines yet (every workload then fails).
pub fn load(path: &Path) -> Result<BTreeMap<String, u64>> {
    if !path.exists() {
        return Ok(BTreeMap::new());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let f: File = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(f.instructions)
}

/// Writes the baselines.
pub fn save(path: &Path, counts: &BTreeMap<String, u64>) -> Result<()> {
    let body = toml::to_string(&File {
        instructions: counts.clone(),
    })?;
    let text = format!(
        "# Instruction counts of the gate's workloads under callgrind (see bench/gate).\n\
         # Written by `scripts/bench-gate.sh rebaseline`; change only on purpose.\n\n{body}"
    );
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// One benchmark's verdict.
pub struct Row {
    name: String,
    old: Option<u64>,
    new: u64,
    tolerance: f64,
}

impl Row {
    /// Change from the baseline in percent, if there is one.
    fn change(&self) -> Option<f64> {
        self.old
            .map(|o| (self.new as f64 - o as f64) / o.max(1) as f64 * 100.0)
    }

    /// Whether this row fails the gate: above tolerance, or no baseline to compare with.
    pub fn fails(&self) -> bool {
        self.change().is_none_or(|c| c > self.tolerance)
    }
}

/// Compares one measurement with its baseline.
pub fn compare(name: &str, old: Option<u64>, new: u64, tolerance: f64) -> Row {
    Row {
        name: name.to_string(),
        old,
        new,
        tolerance,
    }
}

/// Formats the old/new/change table.
pub fn table(rows: &[Row], tolerance: f64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<32} {:>14} {:>14} {:>9}  verdict (tolerance +{tolerance}%)",
        "benchmark", "baseline", "current", "change"
    );
    for r in rows {
        let old = r.old.map_or("-".to_string(), |o| o.to_string());
        let change = r.change().map_or("-".to_string(), |c| format!("{c:+.2}%"));
        let verdict = match r.change() {
            None => "FAIL: no baseline",
            Some(c) if c > tolerance => "FAIL: regression",
            Some(c) if c < -tolerance => "ok (faster; rebaseline to lock in)",
            Some(_) => "ok",
        };
        let _ = writeln!(
            s,
            "{:<32} {old:>14} {:>14} {change:>9}  {verdict}",
            r.name, r.new
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_verdicts() {
        assert!(!compare("a", Some(1000), 1030, 3.0).fails());
        assert!(compare("a", Some(1000), 1031, 3.0).fails());
        assert!(!compare("a", Some(1000), 500, 3.0).fails());
        assert!(compare("a", None, 500, 3.0).fails());
    }

    #[test]
    fn baseline_file_round_trips() {
        let dir = std::env::temp_dir().join(format!("gate-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("b.toml");
        let mut m = BTreeMap::new();
        m.insert("g711/ulaw".to_string(), 12345u64);
        m.insert("rtp/parse".to_string(), 99u64);
        save(&path, &m).unwrap();
        assert_eq!(load(&path).unwrap(), m);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
