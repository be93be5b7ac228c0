//! Probability distributions of durations (seconds), as scenario files describe them.

use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::scenario::bounds::{MAX_LIST, MAX_SPAN_S, num};

/// Most components of a mixture or phases of a hyperexponential.
pub const MAX_PARTS: usize = 16;
/// Deepest nesting of mixtures.
pub const MAX_DEPTH: usize = 3;
/// Largest coefficient of variation (sd ÷ mean) of a gamma or log-normal.
pub const MAX_CV: f64 = 100.0;
/// Most phases of an Erlang distribution.
pub const MAX_ERLANG_K: u32 = 1_000;

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
    /// Gamma with this mean and standard deviation (shape (mean/sd)², scale sd²/mean).
    Gamma {
        /// Mean in seconds.
        mean: f64,
        /// Standard deviation in seconds.
        sd: f64,
    },
    /// Erlang-k: the sum of `k` exponential phases, with this mean in total.
    Erlang {
        /// Phases.
        k: u32,
        /// Mean in seconds.
        mean: f64,
    },
    /// Hyperexponential: exponential with mean `means[i]` with probability proportional to
    /// `weights[i]`.
    Hyperexponential {
        /// Means of the phases, seconds.
        means: Vec<f64>,
        /// Relative weights of the phases.
        weights: Vec<f64>,
    },
    /// A mixture: a draw from `parts[i].dist` with probability proportional to
    /// `parts[i].weight`.
    Mixture {
        /// The components.
        parts: Vec<Part>,
    },
    /// Drawn uniformly from observed values, given inline or as a CSV file of durations
    /// (first field of each line; a header and `#` comments are skipped), relative to the
    /// scenario file.
    Empirical {
        /// Observed durations in seconds.
        #[serde(default)]
        values: Vec<f64>,
        /// A CSV file to read them from instead.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        csv: Option<String>,
    },
}

/// One component of a [`Dist::Mixture`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Relative weight.
    pub weight: f64,
    /// The component's distribution.
    pub dist: Box<Dist>,
}

impl Dist {
    /// Loads an empirical distribution's CSV (relative to `base_dir`); `what` names the key.
    pub fn resolve(
        &mut self,
        what: &str,
        base_dir: Option<&std::path::Path>,
    ) -> Result<(), SimError> {
        match self {
            Dist::Empirical { values, csv } => {
                if let Some(path) = csv.take() {
                    if !values.is_empty() {
                        return Err(SimError::Invalid(format!(
                            "`{what}`: give `values` or `csv`, not both"
                        )));
                    }
                    let p = match base_dir {
                        Some(d) => d.join(&path),
                        None => path.into(),
                    };
                    let text = crate::scenario::bounds::read_bounded(&p)
                        .map_err(|e| SimError::Invalid(format!("`{what}.csv`: {e}")))?;
                    *values = parse_durations_csv(&text).map_err(|(line, m)| {
                        SimError::Invalid(format!("`{what}.csv`: {}:{line}: {m}", p.display()))
                    })?;
                }
                Ok(())
            }
            Dist::Mixture { parts } => {
                for (i, part) in parts.iter_mut().enumerate() {
                    part.dist
                        .resolve(&format!("{what}.parts[{i}].dist"), base_dir)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Checks the parameters against their bounds; `what` names the key in error messages.
    pub fn validate(&self, what: &str) -> Result<(), SimError> {
        self.validate_at(what, 0)
    }

    fn validate_at(&self, what: &str, depth: usize) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::Invalid(format!("`{what}`: {m}")));
        let span = |name: &str, v: f64| {
            if v.is_finite() && (0.0..=MAX_SPAN_S).contains(&v) {
                Ok(())
            } else {
                Err(SimError::Invalid(format!(
                    "`{what}`: {name} {} is outside the bounds [0, {}] s",
                    num(v),
                    num(MAX_SPAN_S)
                )))
            }
        };
        let cv = |mean: f64, sd: f64| {
            if mean > 0.0 && sd / mean <= MAX_CV {
                Ok(())
            } else {
                Err(SimError::Invalid(format!(
                    "`{what}`: need mean > 0 and sd ≤ {MAX_CV} × mean, got mean {mean}, sd {sd}"
                )))
            }
        };
        let weights = |w: &[f64]| {
            if w.iter().all(|x| x.is_finite() && *x >= 0.0) && w.iter().sum::<f64>() > 0.0 {
                Ok(())
            } else {
                Err(SimError::Invalid(format!(
                    "`{what}`: weights must be ≥ 0 with a positive sum"
                )))
            }
        };
        match self {
            Dist::Exponential { mean } => span("mean", *mean),
            Dist::Deterministic { value } => span("value", *value),
            Dist::Lognormal { mean, sd } | Dist::Gamma { mean, sd } => {
                span("mean", *mean)?;
                span("sd", *sd)?;
                cv(*mean, *sd)
            }
            Dist::Uniform { min, max } => {
                span("min", *min)?;
                span("max", *max)?;
                if max < min {
                    return bad(format!("need min ≤ max, got {min}..{max}"));
                }
                Ok(())
            }
            Dist::Erlang { k, mean } => {
                span("mean", *mean)?;
                if *k == 0 || *k > MAX_ERLANG_K {
                    return bad(format!("k {k} is outside the bounds [1, {MAX_ERLANG_K}]"));
                }
                Ok(())
            }
            Dist::Hyperexponential { means, weights: w } => {
                if means.is_empty() || means.len() > MAX_PARTS || means.len() != w.len() {
                    return bad(format!(
                        "need 1 to {MAX_PARTS} phases, as many `means` as `weights`"
                    ));
                }
                for m in means {
                    span("mean", *m)?;
                }
                weights(w)
            }
            Dist::Mixture { parts } => {
                if parts.is_empty() || parts.len() > MAX_PARTS {
                    return bad(format!("need 1 to {MAX_PARTS} parts"));
                }
                if depth >= MAX_DEPTH {
                    return bad(format!("mixtures nest at most {MAX_DEPTH} deep"));
                }
                let w: Vec<f64> = parts.iter().map(|p| p.weight).collect();
                weights(&w)?;
                for (i, p) in parts.iter().enumerate() {
                    p.dist
                        .validate_at(&format!("{what}.parts[{i}].dist"), depth + 1)?;
                }
                Ok(())
            }
            Dist::Empirical { values, .. } => {
                if values.is_empty() || values.len() > MAX_LIST {
                    return bad(format!(
                        "values must be a list of 1 to {MAX_LIST} durations (or a `csv` file)"
                    ));
                }
                for v in values {
                    span("value", *v)?;
                }
                Ok(())
            }
        }
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Exponential { mean }
            | Dist::Lognormal { mean, .. }
            | Dist::Gamma { mean, .. }
            | Dist::Erlang { mean, .. } => *mean,
            Dist::Deterministic { value } => *value,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Hyperexponential { means, weights } => weighted(weights, means.iter().copied()),
            Dist::Mixture { parts } => {
                let w: Vec<f64> = parts.iter().map(|p| p.weight).collect();
                weighted(&w, parts.iter().map(|p| p.dist.mean()))
            }
            Dist::Empirical { values, .. } => {
                values.iter().sum::<f64>() / values.len().max(1) as f64
            }
        }
    }

    /// The second moment E(X²).
    pub fn second_moment(&self) -> f64 {
        match self {
            Dist::Exponential { mean } => 2.0 * mean * mean,
            Dist::Lognormal { mean, sd } | Dist::Gamma { mean, sd } => mean * mean + sd * sd,
            Dist::Erlang { k, mean } => mean * mean * (1.0 + 1.0 / f64::from(*k)),
            Dist::Deterministic { value } => value * value,
            Dist::Uniform { min, max } => (min * min + min * max + max * max) / 3.0,
            Dist::Hyperexponential { means, weights } => {
                weighted(weights, means.iter().map(|m| 2.0 * m * m))
            }
            Dist::Mixture { parts } => {
                let w: Vec<f64> = parts.iter().map(|p| p.weight).collect();
                weighted(&w, parts.iter().map(|p| p.dist.second_moment()))
            }
            Dist::Empirical { values, .. } => {
                values.iter().map(|v| v * v).sum::<f64>() / values.len().max(1) as f64
            }
        }
    }

    /// Draws one value.
    #[inline(always)]
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
            Dist::Gamma { mean, sd } => {
                if *sd <= 0.0 {
                    return *mean;
                }
                let shape = (mean / sd).powi(2);
                gamma(rng, shape, mean / shape)
            }
            Dist::Erlang { k, mean } => {
                let k = f64::from(*k);
                gamma(rng, k, mean / k)
            }
            Dist::Hyperexponential { means, weights } => {
                let i = pick(rng, weights.iter().copied());
                let e: f64 = rng.sample(Exp1);
                e * means[i]
            }
            Dist::Mixture { parts } => {
                let i = pick(rng, parts.iter().map(|p| p.weight));
                parts[i].dist.sample(rng)
            }
            Dist::Empirical { values, .. } => values[rng.random_range(0..values.len())],
        }
    }
}

/// A gamma variate (`rand_distr`'s Marsaglia–Tsang sampler).
fn gamma<R: Rng + ?Sized>(rng: &mut R, shape: f64, scale: f64) -> f64 {
    match Gamma::new(shape, scale) {
        Ok(g) => g.sample(rng),
        Err(_) => shape * scale,
    }
}

/// An index drawn with probability proportional to `weights`.
fn pick<R: Rng + ?Sized>(rng: &mut R, weights: impl Iterator<Item = f64> + Clone) -> usize {
    let total: f64 = weights.clone().sum();
    let mut u = rng.random::<f64>() * total;
    let mut last = 0;
    for (i, w) in weights.enumerate() {
        if w > 0.0 {
            last = i;
            if u < w {
                return i;
            }
            u -= w;
        }
    }
    last
}

fn weighted(weights: &[f64], xs: impl Iterator<Item = f64>) -> f64 {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    weights.iter().zip(xs).map(|(w, x)| w * x).sum::<f64>() / total
}

/// Parses a CSV of durations: the first field of each line, in seconds. Blank lines, `#`
/// comments and a header line are skipped. Errors carry the 1-based line number.
pub fn parse_durations_csv(text: &str) -> Result<Vec<f64>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let field = line.split(',').next().unwrap_or("").trim();
        match field.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => out.push(v),
            Ok(v) => return Err((i + 1, format!("a duration must be ≥ 0, got {v}"))),
            Err(_) if out.is_empty() => continue, // header
            Err(_) => return Err((i + 1, format!("bad duration `{field}`"))),
        }
        if out.len() > MAX_LIST {
            return Err((i + 1, format!("more than {MAX_LIST} values")));
        }
    }
    Ok(out)
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

    /// The sample mean and second moment against the distribution's own, within five
    /// standard errors.
    fn check_moments(d: &Dist) {
        let mut r = SmallRng::seed_from_u64(11);
        let n = 200_000usize;
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut r)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let m2 = xs.iter().map(|x| x * x).sum::<f64>() / n as f64;
        let var = d.second_moment() - d.mean().powi(2);
        let se = (var / n as f64).sqrt();
        assert!((m - d.mean()).abs() <= 5.0 * se + 1e-9, "{d:?}: mean {m}");
        let m4: f64 = xs.iter().map(|x| x.powi(4)).sum::<f64>() / n as f64;
        let se2 = ((m4 - m2 * m2) / n as f64).sqrt();
        assert!(
            (m2 - d.second_moment()).abs() <= 5.0 * se2 + 1e-9,
            "{d:?}: E[X²] {m2} vs {}",
            d.second_moment()
        );
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
        for d in [
            Dist::Gamma {
                mean: 180.0,
                sd: 60.0,
            },
            Dist::Gamma {
                mean: 180.0,
                sd: 400.0,
            },
            Dist::Erlang { k: 4, mean: 120.0 },
            Dist::Hyperexponential {
                means: vec![60.0, 600.0],
                weights: vec![0.9, 0.1],
            },
            Dist::Mixture {
                parts: vec![
                    Part {
                        weight: 1.0,
                        dist: Box::new(Dist::Deterministic { value: 0.0 }),
                    },
                    Part {
                        weight: 3.0,
                        dist: Box::new(Dist::Exponential { mean: 40.0 }),
                    },
                ],
            },
            Dist::Empirical {
                values: vec![10.0, 20.0, 90.0],
                csv: None,
            },
        ] {
            d.validate("t").unwrap();
            check_moments(&d);
        }
    }

    #[test]
    fn validation_names_the_key_and_the_bound() {
        let e = Dist::Uniform { min: 5.0, max: 1.0 }
            .validate("agents.ring")
            .unwrap_err();
        assert!(e.to_string().contains("agents.ring"));
        let e = Dist::Exponential { mean: 1e300 }
            .validate("agents.talk")
            .unwrap_err()
            .to_string();
        assert!(e.contains("agents.talk") && e.contains("1e7"), "{e}");
        let deep = (0..5).fold(Dist::Exponential { mean: 1.0 }, |d, _| Dist::Mixture {
            parts: vec![Part {
                weight: 1.0,
                dist: Box::new(d),
            }],
        });
        assert!(deep.validate("x").unwrap_err().to_string().contains("nest"));
    }

    #[test]
    fn durations_csv() {
        assert_eq!(
            parse_durations_csv("aht,agent\n# q1\n120,a\n 95.5 ,b\n\n300\n").unwrap(),
            vec![120.0, 95.5, 300.0]
        );
        assert_eq!(parse_durations_csv("1\nx\n").unwrap_err().0, 2);
        assert_eq!(parse_durations_csv("1\n-3\n").unwrap_err().0, 2);
    }
}
