//! Runs one workload under callgrind and reads its instruction count.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// Runs `tandem-gate run NAME` under callgrind and returns the instructions executed inside
/// the measured region.
pub fn instructions(name: &str) -> Result<u64> {
    let exe = std::env::current_exe().context("locating the tandem-gate binary")?;
    let dir = std::env::temp_dir().join(format!("tandem-gate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let out = dir.join(format!("{}.callgrind", name.replace('/', "_")));
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--collect-atstart=no")
        .arg("--toggle-collect=*gate_measure*")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&exe)
        .arg("run")
        .arg(name)
        .output()
        .context("running valgrind (is it installed? `apt-get install valgrind`)")?;
    if !status.status.success() {
        bail!(
            "valgrind run of `{name}` failed ({}):\n{}",
            status.status,
            String::from_utf8_lossy(&status.stderr)
        );
    }
    let text =
        std::fs::read_to_string(&out).with_context(|| format!("reading {}", out.display()))?;
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_dir(&dir);
    let count = parse_totals(&text)
        .with_context(|| format!("no `totals:` line in callgrind output for `{name}`"))?;
    if count == 0 {
        bail!("workload `{name}` executed no instructions inside gate_measure");
    }
    Ok(count)
}

/// Reads the `totals:` (or, failing that, `summary:`) line of a callgrind output file.
fn parse_totals(text: &str) -> Option<u64> {
    let find = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    };
    find("totals:").or_else(|| find("summary:"))
}

#[cfg(test)]
mod tests {
    use super::parse_totals;

    #[test]
    fn reads_totals_then_summary() {
        assert_eq!(
            parse_totals("events: Ir\nsummary: 10\ntotals: 12\n"),
            Some(12)
        );
        assert_eq!(parse_totals("events: Ir\nsummary: 10\n"), Some(10));
        assert_eq!(parse_totals("events: Ir\n"), None);
        assert_eq!(parse_totals("totals: x\n"), None);
    }
}
