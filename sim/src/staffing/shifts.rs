//! A shift plan covering a per-interval requirement.
//!
//! Shift templates have given lengths and may start at multiples of a start step. The
//! cover is greedy, left to right: at the first interval still short of its requirement, one
//! shift starts at the latest allowed start at or before it, with the template whose span
//! has the largest share of still-short intervals (ties: the longer); repeat until every
//! interval is covered. With a single template length and a start step of one interval this
//! is the classic optimal cover (no plan with fewer shifts covers the requirement: the
//! leftmost short interval must be covered by some shift, and the one starting there reaches
//! furthest); with several lengths it is a heuristic, and the plan reports the paid hours
//! against the required hours so its slack is visible. Shifts are clipped to the planning
//! horizon.

use serde::Serialize;

use crate::SimError;

/// The shapes shifts may take.
#[derive(Clone, Debug, PartialEq)]
pub struct ShiftRules {
    /// Allowed shift lengths, seconds (each a whole number of intervals).
    pub lengths_s: Vec<f64>,
    /// Shifts start at multiples of this, seconds (a whole number of intervals).
    pub start_step_s: f64,
}

/// Agents working the same shift.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PlannedShift {
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds (clipped to the horizon).
    pub end_s: f64,
    /// Agents on it.
    pub count: u32,
}

/// Most shifts the cover will add (bounds the work on absurd requirements).
const MAX_SHIFTS: u64 = 10_000_000;

fn whole_intervals(what: &str, s: f64, interval_s: f64) -> Result<usize, SimError> {
    let k = s / interval_s;
    if !(k >= 1.0 && (k - k.round()).abs() < 1e-6) {
        return Err(SimError::Invalid(format!(
            "{what} {s} s is not a whole number of {interval_s} s intervals"
        )));
    }
    Ok(k.round() as usize)
}

/// Covers `required[j]` agents in every interval `j` (width `interval_s`) with shifts of
/// the allowed shapes. Returns the shifts, grouped and sorted by start then length.
pub fn cover(
    required: &[u32],
    interval_s: f64,
    rules: &ShiftRules,
) -> Result<Vec<PlannedShift>, SimError> {
    if rules.lengths_s.is_empty() {
        return Err(SimError::Invalid("no shift lengths given".into()));
    }
    let step = whole_intervals("the shift start step", rules.start_step_s, interval_s)?;
    let mut lengths = Vec::new();
    for l in &rules.lengths_s {
        lengths.push(whole_intervals("shift length", *l, interval_s)?);
    }
    lengths.sort_unstable();
    lengths.dedup();
    let n = required.len();
    let mut covered = vec![0u32; n];
    let mut shifts: std::collections::BTreeMap<(usize, usize), u32> = Default::default();
    let mut added = 0u64;
    for j in 0..n {
        while covered[j] < required[j] {
            added += 1;
            if added > MAX_SHIFTS {
                return Err(SimError::Invalid(
                    "the requirement needs more than 10,000,000 shifts".into(),
                ));
            }
            let start = j / step * step;
            let mut best = (f64::NEG_INFINITY, 0usize);
            for &len in &lengths {
                let end = (start + len).min(n);
                let useful = (start..end).filter(|&i| covered[i] < required[i]).count();
                let score = useful as f64 / (end - start) as f64;
                if score >= best.0 {
                    best = (score, end);
                }
            }
            let end = best.1;
            for c in &mut covered[start..end] {
                *c += 1;
            }
            *shifts.entry((start, end)).or_default() += 1;
        }
    }
    Ok(shifts
        .into_iter()
        .map(|((a, b), count)| PlannedShift {
            start_s: a as f64 * interval_s,
            end_s: b as f64 * interval_s,
            count,
        })
        .collect())
}

/// Agents on duty in each of `n` intervals under `shifts`.
pub fn on_duty(shifts: &[PlannedShift], interval_s: f64, n: usize) -> Vec<u32> {
    let mut v = vec![0u32; n];
    for s in shifts {
        let a = (s.start_s / interval_s).round() as usize;
        let b = ((s.end_s / interval_s).round() as usize).min(n);
        for x in &mut v[a.min(b)..b] {
            *x += s.count;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(lengths: &[f64], step: f64) -> ShiftRules {
        ShiftRules {
            lengths_s: lengths.to_vec(),
            start_step_s: step,
        }
    }

    #[test]
    fn covers_every_interval() {
        let req = [0, 3, 5, 5, 2, 0, 7, 1];
        let plan = cover(&req, 60.0, &rules(&[180.0, 120.0], 60.0)).unwrap();
        let duty = on_duty(&plan, 60.0, req.len());
        for (d, r) in duty.iter().zip(req) {
            assert!(*d >= r, "{duty:?} vs {req:?}");
        }
    }

    #[test]
    fn one_length_is_the_minimum_cover() {
        // A single length L: the fewest shifts equal max over windows of the demand a
        // left-to-right sweep cannot share. For demand 4 in [0, 3) and 2 in [3, 6) with
        // L = 3, two disjoint blocks are forced: 4 + 2 shifts.
        let req = [4, 4, 4, 2, 2, 2];
        let plan = cover(&req, 900.0, &rules(&[2700.0], 900.0)).unwrap();
        assert_eq!(plan.iter().map(|s| s.count).sum::<u32>(), 6);
        assert_eq!(
            plan,
            vec![
                PlannedShift {
                    start_s: 0.0,
                    end_s: 2700.0,
                    count: 4
                },
                PlannedShift {
                    start_s: 2700.0,
                    end_s: 5400.0,
                    count: 2
                }
            ]
        );
    }

    #[test]
    fn starts_respect_the_step_and_shifts_clip_to_the_horizon() {
        let req = [0, 0, 0, 5];
        let plan = cover(&req, 900.0, &rules(&[8.0 * 3600.0], 1800.0)).unwrap();
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].start_s, 1800.0);
        assert_eq!(plan[0].end_s, 3600.0);
        assert!(cover(&req, 900.0, &rules(&[1000.0], 900.0)).is_err());
        assert!(cover(&req, 900.0, &rules(&[900.0], 600.0)).is_err());
    }
}
