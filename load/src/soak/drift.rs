//! The drift of a soak figure at equal load: a least-squares fit of the figure against the
//! live channels and time, so growth is told apart from load that comes and goes with the
//! cohorts' turns.

use super::watch::Sample;

/// Fewest samples a drift is fitted from.
pub(super) const MIN_SAMPLES: usize = 4;

/// Growth of `value` over `window` at equal load, percent of its mean: `c` times the
/// window's length from the least-squares fit `value = a + b·channels + c·t` (or
/// `a + c·t` when the channels did not vary). `None` with fewer than [`MIN_SAMPLES`].
pub(super) fn drift(window: &[&Sample], value: fn(&Sample) -> f64) -> Option<f64> {
    if window.len() < MIN_SAMPLES {
        return None;
    }
    let rows: Vec<([f64; 3], f64)> = window
        .iter()
        .map(|s| ([1.0, s.at_s, s.channels], value(s)))
        .collect();
    let c = least_squares::<3>(&rows).or_else(|| {
        let two: Vec<([f64; 2], f64)> = rows.iter().map(|(x, y)| ([x[0], x[1]], *y)).collect();
        least_squares::<2>(&two).map(|b| [b[0], b[1], 0.0])
    })?[1];
    let span = window[window.len() - 1].at_s - window[0].at_s;
    let mean = rows.iter().map(|r| r.1).sum::<f64>() / rows.len() as f64;
    Some(100.0 * (c * span).abs() / mean.max(1.0))
}

/// The coefficients minimising the squared error of `x · coef = y` over `rows` (normal
/// equations, Gaussian elimination with partial pivoting); `None` when they are not
/// determined (a column that does not vary independently of the others). Three unknowns
/// at most: no linear-algebra crate for that.
// Row and column indices, as the elimination is written down.
#[allow(clippy::needless_range_loop)]
fn least_squares<const N: usize>(rows: &[([f64; N], f64)]) -> Option<[f64; N]> {
    let mut m = [[0.0; N]; N];
    let mut v = [0.0; N];
    for (x, y) in rows {
        for i in 0..N {
            v[i] += x[i] * y;
            for j in 0..N {
                m[i][j] += x[i] * x[j];
            }
        }
    }
    let scale = (0..N).map(|i| m[i][i]).fold(0.0f64, f64::max).max(1.0);
    for col in 0..N {
        let pivot = (col..N).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-9 * scale {
            return None;
        }
        m.swap(col, pivot);
        v.swap(col, pivot);
        for r in col + 1..N {
            let f = m[r][col] / m[col][col];
            for j in col..N {
                m[r][j] -= f * m[col][j];
            }
            v[r] -= f * v[col];
        }
    }
    let mut out = [0.0; N];
    for i in (0..N).rev() {
        let tail: f64 = (i + 1..N).map(|j| m[i][j] * out[j]).sum();
        out[i] = (v[i] - tail) / m[i][i];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fit_recovers_known_coefficients_and_refuses_a_degenerate_one() {
        // y = 3 + 2 t + 0.5 ch, exactly.
        let rows: Vec<([f64; 3], f64)> = [(0.0, 10.0), (1.0, 30.0), (2.0, 20.0), (3.0, 40.0)]
            .iter()
            .map(|&(t, ch)| ([1.0, t, ch], 3.0 + 2.0 * t + 0.5 * ch))
            .collect();
        let c = least_squares::<3>(&rows).unwrap();
        for (got, want) in c.iter().zip([3.0, 2.0, 0.5]) {
            assert!((got - want).abs() < 1e-9, "{c:?}");
        }
        // Channels constant: not separable from the intercept.
        let flat: Vec<([f64; 3], f64)> = (0..4).map(|t| ([1.0, t as f64, 7.0], 1.0)).collect();
        assert_eq!(least_squares::<3>(&flat), None);
    }
}
