//! Axis ticks people can read: time ticks on whole minutes or hours, value ticks on 1-2-5
//! steps, and their labels.

use crate::report::nice_step;

/// Time steps a time axis may use, seconds.
const TIME_STEPS: [f64; 20] = [
    1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
    10800.0, 14400.0, 21600.0, 43200.0, 86400.0, 172800.0,
];

/// Tick positions on `[start, end]` at the smallest step from [`TIME_STEPS`] giving at most
/// `max_ticks` ticks (every minute for a burst of a few minutes, every hour for a day).
pub fn time_ticks(start: f64, end: f64, max_ticks: usize) -> (f64, Vec<f64>) {
    let span = (end - start).max(1.0);
    let step = TIME_STEPS
        .iter()
        .copied()
        .find(|s| ((span / s).floor() as usize) < max_ticks.max(2))
        .unwrap_or(TIME_STEPS[TIME_STEPS.len() - 1]);
    let first = (start / step).ceil() * step;
    let ticks = (0..)
        .map(|i| first + i as f64 * step)
        .take_while(|t| *t <= end + 1e-9)
        .collect();
    (step, ticks)
}

/// A time label for ticks `step` apart: `H:MM` on whole minutes, `H:MM:SS` below.
pub fn time_label(t: f64, step: f64) -> String {
    let s = t.max(0.0).round() as u64;
    if step >= 60.0 {
        format!("{}:{:02}", s / 3600, s / 60 % 60)
    } else {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }
}

/// An upper bound for a value axis: the data maximum with 8% headroom, rounded to a whole
/// tick; at least `floor`.
pub fn value_top(max: f64, floor: f64) -> f64 {
    let m = max.max(floor).max(1e-9) * 1.08;
    let step = nice_step(m / 6.0);
    times_step((m / step).ceil(), step)
}

/// `n × step` for a 1-2-5 step, computed on the step's integer mantissa so that 6 × 0.2
/// is 1.2 and not 1.2000000000000002.
fn times_step(n: f64, step: f64) -> f64 {
    let e = step.log10().floor() as i32;
    let mantissa = (step / 10f64.powi(e)).round();
    if e < 0 {
        n * mantissa / 10f64.powi(-e)
    } else {
        n * mantissa * 10f64.powi(e)
    }
}

/// A value label with just enough decimals for ticks `step` apart.
pub fn value_label(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    let s = format!("{v:.decimals$}");
    // Thousands separated by a thin space, so 12000 reads as 12 000.
    match s.split_once('.') {
        None => group(&s),
        Some((i, f)) => format!("{}.{f}", group(i)),
    }
}

fn group(int: &str) -> String {
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    if digits.len() <= 4 {
        return int.to_string();
    }
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{2009}');
        }
        out.push(ch);
    }
    format!("{sign}{out}")
}

/// Value ticks from 0 to `top` on a 1-2-5 step, about six of them.
pub fn value_ticks(top: f64) -> (f64, Vec<f64>) {
    let step = nice_step(top / 6.0);
    let n = (top / step).round() as usize;
    (step, (0..=n).map(|i| times_step(i as f64, step)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_ticks_every_hour_and_a_burst_every_minute() {
        let (step, t) = time_ticks(0.0, 86400.0, 25);
        assert_eq!(step, 3600.0);
        assert_eq!(t.len(), 25);
        assert_eq!(time_label(t[13], step), "13:00");
        let (step, t) = time_ticks(0.0, 600.0, 15);
        assert_eq!(step, 60.0);
        assert_eq!(time_label(t[3], step), "0:03");
        let (step, _) = time_ticks(0.0, 1560.0, 25);
        assert_eq!(step, 120.0);
        let (step, t) = time_ticks(0.0, 90.0, 10);
        assert_eq!(step, 10.0);
        assert_eq!(time_label(t[2], step), "0:00:20");
    }

    #[test]
    fn value_axes() {
        assert_eq!(value_top(910.2, 0.0), 1000.0);
        assert_eq!(value_top(0.0, 1.0), 1.2);
        let (step, t) = value_ticks(1000.0);
        assert_eq!(step, 200.0);
        assert_eq!(t.len(), 6);
        assert_eq!(value_label(0.4, 0.2), "0.4");
        assert_eq!(value_label(12000.0, 2000.0), "12\u{2009}000");
        assert_eq!(value_label(800.0, 200.0), "800");
    }
}
