//! Probability distributions of durations (seconds), as scenario files describe them.

use rand::Rng;
use rand_distr::{Exp1, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::SimError;

/// A distribution of a non-negative duration in seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Dist {
    /// Exponential with this mean.
    Exponential {
        /// Mean in seconds.
        mean: f64,
    },
    /// Log-normal with this mean and standard deviation (of the duration itself).
    Lognormal {
        /// Mean in seconds.
        mean: f64,
        /// Standard deviation in seconds.
        sd: f64,
    },
    /// Always this value.
    Deterministic {
        /// The value in seconds.
        value: f64,
    },
    /// Uniform between `min` and `max`.
    Uniform {
        /// Lower bound in seconds.
        min: f64,
        /// Upper bound in seconds.
        max: f64,
    },
    /// Drawn uniformly from observed values.
    Empirical {
        /// Observed durations in seconds.
        values: Vec<f64>,
    },
}

impl Dist {
    /// Checks the parameters; `what` names the key in error messages.
    pub fn validate(&self, what: &str) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::Invalid(format!("`{what}`: {m}")));
        let finite_nonneg = |v: f64| v.is_finite() && v >= 0.0;
        match self {
            Dist::Exponential { mean } if !(finite_nonneg(*mean)) => {
                bad(format!("mean must be ≥ 0, got {mean}"))
            }
            Dist::Lognormal { mean, sd }
                if !(mean.is_finite() && *mean > 0.0 && finite_nonneg(*sd)) =>
            {
                bad(format!(
                    "mean must be > 0 and sd ≥ 0, got mean {mean}, sd {sd}"
                ))
            }
            Dist::Deterministic { value } if !finite_nonneg(*value) => {
                bad(format!("value must be ≥ 0, got {value}"))
            }
            Dist::Uniform { min, max }
                if !(finite_nonneg(*min) && max.is_finite() && max >= min) =>
            {
                bad(format!("need 0 ≤ min ≤ max, got {min}..{max}"))
            }
            Dist::Empirical { values }
                if values.is_empty() || !values.iter().all(|v| finite_nonneg(*v)) =>
            {
                bad("values must be a non-empty list of durations ≥ 0".into())
            }
            _ => Ok(()),
        }
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Exponential { mean } | Dist::Lognormal { mean, .. } => *mean,
            Dist::Deterministic { value } => *value,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Empirical { values } => values.iter().sum::<f64>() / values.len() as f64,
        }
    }

    /// Draws one value.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        // The two kinds call-centre models use on every call are drawn inline; the rest
        // out of line, so that the common case costs no call.
        match self {
            // A standard exponential scaled by the mean: no distribution object per draw.
            Dist::Exponential { mean } => {
                let e: f64 = rng.sample(Exp1);
                e * mean
            }
            Dist::Deterministic { value } => *value,
            _ => self.sample_other(rng),
        }
    }

    /// Draws one value of the kinds [`sample`](Self::sample) does not draw inline.
    #[inline(never)]
    fn sample_other<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Exponential { .. } | Dist::Deterministic { .. } => self.sample(rng),
            Dist::Lognormal { mean, sd } => {
                // Parameters of the underlying normal from the mean and sd of the duration.
                let s2 = (1.0 + (sd / mean).powi(2)).ln();
                let mu = mean.ln() - s2 / 2.0;
                let z: f64 = rng.sample(StandardNormal);
                (mu + s2.sqrt() * z).exp()
            }
            Dist::Uniform { min, max } => {
                if max > min {
                    rng.random_range(*min..*max)
                } else {
                    *min
                }
            }
            Dist::Empirical { values } => values[rng.random_range(0..values.len())],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    fn moments(d: &Dist) -> (f64, f64) {
        let mut r = SmallRng::seed_from_u64(3);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut r)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n as f64;
        (m, v.sqrt())
    }

    #[test]
    fn sample_moments_match_parameters() {
        let (m, s) = moments(&Dist::Exponential { mean: 30.0 });
        assert!((m - 30.0).abs() < 0.3 && (s - 30.0).abs() < 0.5, "{m} {s}");
        let (m, s) = moments(&Dist::Lognormal {
            mean: 180.0,
            sd: 90.0,
        });
        assert!((m - 180.0).abs() < 1.5 && (s - 90.0).abs() < 2.0, "{m} {s}");
        let (m, _) = moments(&Dist::Uniform { min: 2.0, max: 6.0 });
        assert!((m - 4.0).abs() < 0.02);
        assert_eq!(moments(&Dist::Deterministic { value: 5.0 }), (5.0, 0.0));
    }

    #[test]
    fn validation_names_the_key() {
        let e = Dist::Uniform { min: 5.0, max: 1.0 }
            .validate("agents.ring")
            .unwrap_err();
        assert!(e.to_string().contains("agents.ring"));
    }
}
