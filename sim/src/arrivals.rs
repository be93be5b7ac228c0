//! Arrival processes: Poisson, a piecewise-constant intraday profile, and a TV-ad burst.
//!
//! Non-constant rates are sampled by thinning (Lewis–Shedler): candidates come from a Poisson
//! process at the peak rate and each is kept with probability rate(t) / peak.

// Checks are written `!(x > y)` on purpose: a NaN fails them too.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use rand::Rng;
use rand_distr::{Distribution, Exp};
use serde::{Deserialize, Serialize};

use crate::SimError;

/// How calls arrive. Rates are in calls per minute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ArrivalSpec {
    /// A constant rate.
    Poisson {
        /// Calls per minute.
        per_min: f64,
    },
    /// Piecewise-constant rates: `[start_s, per_min]` steps, each holding until the next.
    Profile {
        /// Steps as `[start second, calls per minute]`, in increasing start order.
        #[serde(default)]
        rates: Vec<[f64; 2]>,
        /// A CSV file of `time,per_min` lines instead (time in seconds or `HH:MM`), relative
        /// to the scenario file.
        #[serde(default)]
        csv: Option<String>,
    },
    /// A spike to `peak_per_min` at `start_s`, decaying exponentially back to the base rate
    /// with time constant `decay_s`.
    Burst {
        /// Rate before and long after the spike.
        base_per_min: f64,
        /// Rate at the spike.
        peak_per_min: f64,
        /// When the spike happens.
        start_s: f64,
        /// Decay time constant.
        decay_s: f64,
    },
}

impl ArrivalSpec {
    /// Checks parameters against their bounds and loads a profile CSV (relative to
    /// `base_dir`). Errors name the keys under `key` (`arrivals`, or a call type's).
    pub fn resolve_at(
        &mut self,
        key: &str,
        base_dir: Option<&std::path::Path>,
    ) -> Result<(), SimError> {
        use crate::scenario::bounds::{
            MAX_DURATION_S, MAX_LIST, MAX_RATE_PER_MIN, MAX_SPAN_S, num,
        };
        let bad = |k: &str, m: String| Err(SimError::Invalid(format!("key `{key}.{k}`: {m}")));
        let rate_ok = |r: f64| (0.0..=MAX_RATE_PER_MIN).contains(&r);
        let rate_bound = format!("outside the bounds [0, {MAX_RATE_PER_MIN}] calls/min");
        match self {
            ArrivalSpec::Poisson { per_min } => {
                if !rate_ok(*per_min) {
                    return bad("per_min", format!("{} is {rate_bound}", num(*per_min)));
                }
            }
            ArrivalSpec::Profile { rates, csv } => {
                if let Some(path) = csv.take() {
                    let p = match base_dir {
                        Some(d) => d.join(&path),
                        None => path.clone().into(),
                    };
                    let text = crate::scenario::bounds::read_bounded(&p)
                        .map_err(|e| SimError::Invalid(format!("`{key}.csv`: cannot read: {e}")))?;
                    *rates = parse_profile_csv(&text).map_err(|(line, m)| {
                        SimError::Invalid(format!("{}:{line}: {m}", p.display()))
                    })?;
                }
                if rates.is_empty() || rates.len() > MAX_LIST {
                    return bad(
                        "rates",
                        format!("a profile needs 1 to {MAX_LIST} steps in `rates` or `csv`"),
                    );
                }
                for w in rates.windows(2) {
                    if !(w[1][0] > w[0][0]) {
                        return bad("rates", "steps must have increasing start times".into());
                    }
                }
                for r in rates.iter() {
                    if !(0.0..=MAX_DURATION_S).contains(&r[0]) {
                        return bad(
                            "rates",
                            format!(
                                "start {} is outside the bounds [0, {MAX_DURATION_S}] s",
                                r[0]
                            ),
                        );
                    }
                    if !rate_ok(r[1]) {
                        return bad("rates", format!("rate {} is {rate_bound}", num(r[1])));
                    }
                }
            }
            ArrivalSpec::Burst {
                base_per_min,
                peak_per_min,
                start_s,
                decay_s,
            } => {
                for (k, v) in [
                    ("base_per_min", *base_per_min),
                    ("peak_per_min", *peak_per_min),
                ] {
                    if !rate_ok(v) {
                        return bad(k, format!("{} is {rate_bound}", num(v)));
                    }
                }
                if !(*peak_per_min >= *base_per_min) {
                    return bad("peak_per_min", "must be ≥ base_per_min".into());
                }
                if !(0.0..=MAX_DURATION_S).contains(start_s) {
                    return bad(
                        "start_s",
                        format!(
                            "{} is outside the bounds [0, {MAX_DURATION_S}] s",
                            num(*start_s)
                        ),
                    );
                }
                if !(*decay_s > 0.0 && *decay_s <= MAX_SPAN_S) {
                    return bad(
                        "decay_s",
                        format!(
                            "{} is outside the bounds (0, {}] s",
                            num(*decay_s),
                            num(MAX_SPAN_S)
                        ),
                    );
                }
            }
        }
        Ok(())
    }

    /// [`resolve_at`](Self::resolve_at) for the main `arrivals` table.
    pub fn resolve(&mut self, base_dir: Option<&std::path::Path>) -> Result<(), SimError> {
        self.resolve_at("arrivals", base_dir)
    }

    /// The rate at time `t`, in calls per second.
    pub fn rate_per_s(&self, t: f64) -> f64 {
        match self {
            ArrivalSpec::Poisson { per_min } => per_min / 60.0,
            ArrivalSpec::Profile { rates, .. } => {
                let i = rates.partition_point(|r| r[0] <= t);
                if i == 0 { 0.0 } else { rates[i - 1][1] / 60.0 }
            }
            ArrivalSpec::Burst {
                base_per_min,
                peak_per_min,
                start_s,
                decay_s,
            } => {
                if t < *start_s {
                    base_per_min / 60.0
                } else {
                    (base_per_min
                        + (peak_per_min - base_per_min) * (-(t - start_s) / decay_s).exp())
                        / 60.0
                }
            }
        }
    }

    /// The highest rate in calls per second (the thinning bound).
    pub fn peak_per_s(&self) -> f64 {
        match self {
            ArrivalSpec::Poisson { per_min } => per_min / 60.0,
            ArrivalSpec::Profile { rates, .. } => {
                rates.iter().map(|r| r[1]).fold(0.0, f64::max) / 60.0
            }
            ArrivalSpec::Burst { peak_per_min, .. } => peak_per_min / 60.0,
        }
    }

    /// Expected arrivals in `[a, b)`, by numerical integration of the rate.
    pub fn expected_between(&self, a: f64, b: f64) -> f64 {
        let n = 10_000;
        let h = (b - a) / n as f64;
        (0..n)
            .map(|i| self.rate_per_s(a + (i as f64 + 0.5) * h) * h)
            .sum()
    }
}

/// Draws successive arrival times.
pub struct ArrivalGen {
    spec: ArrivalSpec,
    /// The day's busyness factor, multiplying every rate.
    factor: f64,
    peak: f64,
    exp: Option<Exp<f64>>,
    t: f64,
}

impl ArrivalGen {
    /// A generator starting at time 0.
    pub fn new(spec: &ArrivalSpec) -> ArrivalGen {
        ArrivalGen::scaled(spec, 1.0)
    }

    /// A generator starting at time 0 whose rates are `factor` times the spec's (the day's
    /// busyness).
    pub fn scaled(spec: &ArrivalSpec, factor: f64) -> ArrivalGen {
        let peak = spec.peak_per_s() * factor;
        ArrivalGen {
            spec: spec.clone(),
            factor,
            peak,
            exp: Exp::new(peak)
                .ok()
                .filter(|_| peak > 0.0 && peak.is_finite()),
            t: 0.0,
        }
    }

    /// The next arrival strictly before `horizon`, if any.
    pub fn next<R: Rng + ?Sized>(&mut self, rng: &mut R, horizon: f64) -> Option<f64> {
        let exp = self.exp?;
        let constant = matches!(self.spec, ArrivalSpec::Poisson { .. });
        loop {
            self.t += exp.sample(rng);
            if self.t >= horizon {
                return None;
            }
            if constant
                || rng.random::<f64>() * self.peak < self.spec.rate_per_s(self.t) * self.factor
            {
                return Some(self.t);
            }
        }
    }
}

/// Parses `time,per_min` lines; time is seconds or `HH:MM`. A header line and `#` comments
/// are skipped. Errors carry the 1-based line number.
pub fn parse_profile_csv(text: &str) -> Result<Vec<[f64; 2]>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split(',').map(str::trim);
        let (Some(t), Some(r), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err((i + 1, format!("expected `time,per_min`, got `{line}`")));
        };
        let time = if let Some((h, m)) = t.split_once(':') {
            match (h.parse::<f64>(), m.parse::<f64>()) {
                (Ok(h), Ok(m)) => h * 3600.0 + m * 60.0,
                _ => return Err((i + 1, format!("bad time `{t}`"))),
            }
        } else {
            match t.parse::<f64>() {
                Ok(v) => v,
                Err(_) if out.is_empty() => continue, // header
                Err(_) => return Err((i + 1, format!("bad time `{t}`"))),
            }
        };
        let rate: f64 = r.parse().map_err(|_| (i + 1, format!("bad rate `{r}`")))?;
        out.push([time, rate]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    #[test]
    fn thinning_matches_the_integrated_rate() {
        let spec = ArrivalSpec::Burst {
            base_per_min: 150.0,
            peak_per_min: 785.0,
            start_s: 60.0,
            decay_s: 2400.0,
        };
        let mut total = 0usize;
        let reps = 20;
        for seed in 0..reps {
            let mut g = ArrivalGen::new(&spec);
            let mut r = SmallRng::seed_from_u64(seed);
            while g.next(&mut r, 660.0).is_some() {
                total += 1;
            }
        }
        let mean = total as f64 / reps as f64;
        let expected = spec.expected_between(0.0, 660.0);
        // Poisson: sd of the mean is sqrt(expected / reps).
        assert!(
            (mean - expected).abs() < 4.0 * (expected / reps as f64).sqrt(),
            "{mean} vs {expected}"
        );
    }

    #[test]
    fn profile_csv() {
        let r =
            parse_profile_csv("time,per_min\n# morning\n08:00, 30\n09:30,120\n36000,0\n").unwrap();
        assert_eq!(r, vec![[28800.0, 30.0], [34200.0, 120.0], [36000.0, 0.0]]);
        assert_eq!(parse_profile_csv("0,1\nx,2").unwrap_err().0, 2);
        let spec = ArrivalSpec::Profile {
            rates: r,
            csv: None,
        };
        assert_eq!(spec.rate_per_s(30000.0), 0.5);
        assert_eq!(spec.rate_per_s(100.0), 0.0);
    }
}
