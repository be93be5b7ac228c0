//! Confidence intervals across replications: Student t quantiles at the three usual levels,
//! the half-width of a mean, and of a mean of paired differences.

/// Confidence levels the reports support.
pub const CI_LEVELS: [f64; 3] = [0.90, 0.95, 0.99];

/// Two-sided Student t quantiles for 1..=30 degrees of freedom, one table per level of
/// [`CI_LEVELS`] (the published tables, three decimals).
const T_TABLE: [[f64; 30]; 3] = [
    [
        6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812, 1.796, 1.782, 1.771,
        1.761, 1.753, 1.746, 1.740, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706,
        1.703, 1.701, 1.699, 1.697,
    ],
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ],
    [
        63.657, 9.925, 5.841, 4.604, 4.032, 3.707, 3.499, 3.355, 3.250, 3.169, 3.106, 3.055, 3.012,
        2.977, 2.947, 2.921, 2.898, 2.878, 2.861, 2.845, 2.831, 2.819, 2.807, 2.797, 2.787, 2.779,
        2.771, 2.763, 2.756, 2.750,
    ],
];

/// Standard normal quantiles z at (1 + level) / 2 for each level of [`CI_LEVELS`].
const Z: [f64; 3] = [1.644_853_6, 1.959_964_0, 2.575_829_3];

/// Index of `level` in [`CI_LEVELS`], or `None` if it is not one of them.
pub fn level_index(level: f64) -> Option<usize> {
    CI_LEVELS.iter().position(|l| (l - level).abs() < 1e-9)
}

/// The two-sided Student t quantile for confidence `level` (one of [`CI_LEVELS`]) and `df`
/// degrees of freedom: the published table up to 30, the Cornish–Fisher expansion in 1/df
/// beyond (within 1e-4 of the exact quantile there). `None` for another level or df = 0.
pub fn student_t(level: f64, df: usize) -> Option<f64> {
    let i = level_index(level)?;
    match df {
        0 => None,
        1..=30 => Some(T_TABLE[i][df - 1]),
        _ => Some(cornish_fisher(Z[i], df as f64)),
    }
}

/// The Student t quantile with `v` degrees of freedom from the normal quantile `z`, by the
/// Cornish–Fisher expansion to the fourth power of 1/v.
fn cornish_fisher(z: f64, v: f64) -> f64 {
    let z2 = z * z;
    let g1 = z * (z2 + 1.0) / 4.0;
    let g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0;
    let g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0;
    let g4 = z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0;
    z + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v)
}

/// A mean across replications and its confidence half-width.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The sample mean (0 for no sample).
    pub mean: f64,
    /// Student t half-width at the requested level; `None` when it cannot exist (fewer
    /// than two values) or the level is not supported.
    pub half_width: Option<f64>,
}

/// Mean and confidence half-width of `xs` at `level`.
pub fn mean_ci(xs: &[f64], level: f64) -> Estimate {
    let n = xs.len();
    if n == 0 {
        return Estimate {
            mean: 0.0,
            half_width: None,
        };
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let half_width = student_t(level, n.saturating_sub(1)).map(|t| {
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        t * (var / n as f64).sqrt()
    });
    Estimate { mean, half_width }
}

/// Mean and half-width of the paired differences `b[i] − a[i]` (replication `i` of both
/// runs used the same random numbers, so the pairs share their noise).
pub fn paired_difference(a: &[f64], b: &[f64], level: f64) -> Estimate {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    mean_ci(&d, level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_interval() {
        // Sample 1..=5: mean 3, sd 1.5811, n 5 → half-width 2.776 × 1.5811 / √5 = 1.963.
        let e = mean_ci(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95);
        assert_eq!(e.mean, 3.0);
        assert!((e.half_width.unwrap() - 1.963).abs() < 0.001, "{e:?}");
        // One value: a mean, and no half-width at all.
        assert_eq!(
            mean_ci(&[4.0], 0.95),
            Estimate {
                mean: 4.0,
                half_width: None
            }
        );
        assert_eq!(mean_ci(&[1.0, 2.0], 0.8).half_width, None);
    }

    #[test]
    fn quantiles_beyond_the_table_match_published_values() {
        // Published two-sided quantiles: t(0.95, 40) = 2.021, t(0.95, 60) = 2.000,
        // t(0.90, 120) = 1.658, t(0.99, 60) = 2.660, t(0.99, 120) = 2.617.
        for (level, df, want) in [
            (0.95, 40, 2.021),
            (0.95, 60, 2.000),
            (0.90, 120, 1.658),
            (0.99, 60, 2.660),
            (0.99, 120, 2.617),
        ] {
            let t = student_t(level, df).unwrap();
            assert!(
                (t - want).abs() < 1.5e-3,
                "t({level}, {df}) = {t}, want {want}"
            );
        }
        // The expansion meets the table at 30 degrees of freedom, and tends to z.
        for (i, level) in CI_LEVELS.iter().enumerate() {
            let e = T_TABLE[i][29] - cornish_fisher(Z[i], 30.0);
            assert!(e.abs() < 1e-3, "{level}: {e}");
            assert!((student_t(*level, 1_000_000).unwrap() - Z[i]).abs() < 1e-5);
        }
    }

    #[test]
    fn paired_differences_cancel_shared_noise() {
        let a = [10.0, 20.0, 30.0, 40.0];
        let b = [11.0, 21.0, 31.0, 41.0];
        let d = paired_difference(&a, &b, 0.95);
        assert_eq!(d.mean, 1.0);
        assert_eq!(d.half_width, Some(0.0));
    }
}
