//! Bounds on every number a scenario holds, and the size limit of the files it reads.
//!
//! A scenario comes from a file anyone can write. Every value is checked against a range
//! wide enough for any real call centre and narrow enough that the run it asks for stays
//! bounded; the error names the key and the bound.

use std::io::Read as _;
use std::path::Path;

use crate::SimError;

/// Largest scenario or data file read (1 MiB).
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Longest arrival horizon (`duration_s`): a leap year.
pub const MAX_DURATION_S: f64 = 366.0 * 86_400.0;
/// Largest duration a distribution may have as a parameter (mean, value, bounds): about
/// 116 days, far beyond any call-centre time and still bounded.
pub const MAX_SPAN_S: f64 = 1e7;
/// Highest arrival rate, calls per minute.
pub const MAX_RATE_PER_MIN: f64 = 1e6;
/// Most agents in a group or shift window.
pub const MAX_AGENTS: u32 = 100_000;
/// Most trunk channels or IVR ports.
pub const MAX_CHANNELS: u32 = 1_000_000;
/// Most replications.
pub const MAX_REPLICATIONS: u32 = 10_000;
/// Most batches of a batch-means run.
pub const MAX_BATCHES: u32 = 1_000;
/// Most report intervals in the open hours.
pub const MAX_INTERVALS: f64 = 100_000.0;
/// Most steps of an arrival profile, values of an empirical distribution, shifts.
pub const MAX_LIST: usize = 100_000;
/// Most staffing windows per group.
pub const MAX_SHIFTS: usize = 10_000;
/// Most agent groups and call types.
pub const MAX_GROUPS: usize = 64;
/// Most overflow rules per call type.
pub const MAX_OVERFLOW_RULES: usize = 8;
/// Most entries of a callback list.
pub const MAX_CALLBACK_ENTRIES: usize = 10_000_000;
/// Most redial or callback attempts per caller.
pub const MAX_ATTEMPTS: u32 = 100;

/// An invalid value: the dotted key and what is wrong.
#[derive(Debug)]
pub struct Problem(pub String, pub String);

/// A number for messages: plain when moderate, in exponent form when huge or tiny.
pub fn num(v: f64) -> String {
    if v != 0.0 && v.is_finite() && (v.abs() >= 1e7 || v.abs() < 1e-3) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// Checks `lo ≤ v ≤ hi` (and that `v` is a number), naming `key` and `unit`.
pub fn within(key: &str, v: f64, lo: f64, hi: f64, unit: &str) -> Result<(), Problem> {
    if v.is_nan() || v < lo || v > hi {
        return Err(Problem(
            key.into(),
            format!(
                "{} is outside the bounds [{}, {}]{unit}",
                num(v),
                num(lo),
                num(hi)
            ),
        ));
    }
    Ok(())
}

/// Checks `0 ≤ p ≤ 1`.
pub fn probability(key: &str, p: f64) -> Result<(), Problem> {
    within(key, p, 0.0, 1.0, "")
}

/// Checks a count against `1..=hi`.
pub fn count(key: &str, n: u64, hi: u64) -> Result<(), Problem> {
    if n == 0 || n > hi {
        return Err(Problem(
            key.into(),
            format!("{n} is outside the bounds [1, {hi}]"),
        ));
    }
    Ok(())
}

/// Reads a text file of at most [`MAX_FILE_BYTES`], without reading further than that: a
/// device that never ends (`/dev/zero`) is refused at once.
pub fn read_bounded(path: &Path) -> Result<String, SimError> {
    let io = |e: std::io::Error| SimError::Io(format!("{}: {e}", path.display()));
    let f = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(SimError::Io(format!(
            "{}: larger than the {} KiB limit of scenario and data files",
            path.display(),
            MAX_FILE_BYTES / 1024
        )));
    }
    String::from_utf8(bytes)
        .map_err(|e| SimError::Io(format!("{}: not UTF-8 text: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_devices_are_refused_at_once() {
        for dev in ["/dev/zero", "/dev/urandom"] {
            if Path::new(dev).exists() {
                let e = read_bounded(Path::new(dev)).unwrap_err().to_string();
                assert!(e.contains("1024 KiB limit"), "{e}");
            }
        }
    }

    #[test]
    fn bounds_name_the_key() {
        let e = within(
            "arrivals.per_min",
            1e12,
            0.0,
            MAX_RATE_PER_MIN,
            " calls/min",
        )
        .unwrap_err();
        assert_eq!(e.0, "arrivals.per_min");
        assert!(e.1.contains("1e12") && e.1.contains("1000000"), "{}", e.1);
        assert!(within("x", f64::NAN, 0.0, 1.0, "").is_err());
    }
}
