//! Erlang A (M/M/n+M, Palm's model): Erlang C with exponentially distributed patience.

use super::b::ln_idle_ratio;
use super::quad::{LogConcave, integrate, log1p_gap, logistic_pair};
use super::target::{ErlangTarget, lower_bound, smallest};
use super::{ErlangError, positive, threshold};

/// Erlang A measures. "All callers" are everyone who reaches the agents' queue: answered
/// plus abandoned.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct ErlangA {
    /// Probability a caller finds every agent busy and waits.
    pub p_wait: f64,
    /// Probability a caller abandons.
    pub p_abandon: f64,
    /// Average speed of answer: mean wait of answered callers (arrival to answer), seconds.
    pub asa_s: f64,
    /// Mean wait of all callers (until answer or abandonment), seconds: P(abandon) ×
    /// mean patience.
    pub mean_wait_all_s: f64,
    /// Answered within T ÷ all callers (the service level of the simulator's report).
    pub service_level: f64,
    /// Agent occupancy: carried load ÷ n.
    pub occupancy: f64,
    /// Offered load a = λ · AHT, Erlang.
    pub offered_erlang: f64,
    /// Carried (effective) load: a × P(answered), Erlang.
    pub carried_erlang: f64,
    /// Probability a caller who waits abandons.
    pub p_abandon_given_wait: f64,
    /// Probability a caller abandons within T.
    pub p_abandon_within_t: f64,
    /// Mean wait of the callers who abandon, seconds (NaN when no caller abandons in f64).
    pub mean_wait_abandoned_s: f64,
    /// Mean number of callers waiting: λ × mean wait of all callers.
    pub mean_queue_length: f64,
    /// Answered within T ÷ answered callers.
    pub service_level_answered: f64,
    /// Answered within T ÷ (all callers − those who abandoned within T).
    pub service_level_excluding_short_abandons: f64,
}

/// Erlang A with arrival rate `lambda` (per s), mean handle time `aht`, mean patience
/// `patience` (seconds), `n` agents and SL threshold `t` (seconds).
///
/// # Panics
/// If an input is invalid (see [`try_erlang_a`]).
pub fn erlang_a(lambda: f64, aht: f64, patience: f64, n: u32, t: f64) -> ErlangA {
    match try_erlang_a(lambda, aht, patience, n, t) {
        Ok(r) => r,
        Err(e) => panic!("erlang_a({lambda}, {aht}, {patience}, {n}, {t}): {e}"),
    }
}

/// The density of the offered wait V given V > 0,
/// `f(t) ∝ exp(φ(t))`, `φ(t) = λ(1 - e^{-θt})/θ - nμ t`, as `ψ(u) = φ(t* + u) - φ(t*)`
/// around its peak `t* = ln(λ/nμ)/θ` (0 when λ ≤ nμ). Writing `g = λ e^{-θt*}`,
/// `ψ(u) = (g - nμ) u - g u · (e^{-θu} - 1 + θu)/(θu)`, which neither overflows nor cancels.
///
/// Weights: 1, e^{-θt} (served), 1 - e^{-θt} (abandons), t e^{-θt} (wait if served),
/// (1 - e^{-θt}(1 + θt))/θ (wait if abandons).
struct OfferedWait {
    nmu: f64,
    theta: f64,
    /// t*.
    base: f64,
    /// θ t*.
    theta_base: f64,
    /// λ e^{-θ t*}.
    g: f64,
    /// φ(t*).
    ln_peak: f64,
}

impl OfferedWait {
    fn new(lambda: f64, nmu: f64, theta: f64) -> Self {
        if lambda > nmu {
            let d = (lambda - nmu) / nmu; // ρ - 1
            let theta_base = d.ln_1p();
            OfferedWait {
                nmu,
                theta,
                base: theta_base / theta,
                theta_base,
                g: nmu,
                // φ(t*) = (nμ/θ)(ρ - 1 - ln ρ)
                ln_peak: nmu / theta * log1p_gap(d),
            }
        } else {
            OfferedWait {
                nmu,
                theta,
                base: 0.0,
                theta_base: 0.0,
                g: lambda,
                ln_peak: 0.0,
            }
        }
    }
}

impl LogConcave<5> for OfferedWait {
    fn psi(&self, u: f64) -> f64 {
        let y = self.theta * u;
        (self.g - self.nmu) * u - self.g * u * super::quad::exp_gap_ratio(y)
    }
    fn slope(&self, u: f64) -> f64 {
        self.g * (-self.theta * u).exp() - self.nmu
    }
    fn curvature(&self, u: f64) -> f64 {
        -self.theta * self.g * (-self.theta * u).exp()
    }
    fn peak(&self) -> f64 {
        0.0
    }
    fn weight_feature(&self) -> Option<(f64, f64)> {
        // e^{-θt} falls from 1 at t = 0 over a length 1/θ.
        Some((-self.base, 1.0 / self.theta))
    }
    fn weights(&self, u: f64) -> [f64; 5] {
        let t = (self.base + u).max(0.0);
        let y = (self.theta_base + self.theta * u).max(0.0); // θ t
        let e = (-y).exp();
        [
            1.0,
            e,
            -(-y).exp_m1(),
            t * e,
            self.theta * t * t * abandon_wait_ratio(y),
        ]
    }
}

/// `(1 - e^{-y}(1 + y)) / y²` for `y ≥ 0` (1/2 at 0), without cancellation or underflow.
fn abandon_wait_ratio(y: f64) -> f64 {
    if y < 0.1 {
        // Σ_{k≥2} (-1)^k (k-1) y^{k-2} / k!
        let mut pow_fact = 0.5; // y^{k-2} / k!
        let mut sum = 0.0;
        for k in 2..40 {
            let t = f64::from(k - 1) * pow_fact;
            sum += if k % 2 == 0 { t } else { -t };
            if t < 1e-18 * sum {
                break;
            }
            pow_fact *= y / f64::from(k + 1);
        }
        sum
    } else {
        super::quad::one_minus_exp_poly(y) / (y * y)
    }
}

/// [`erlang_a`] with its inputs checked: rates and times positive and finite, `n ≥ 1`,
/// `t ≥ 0` (may be `+∞`). Every valid input is answered in a few tens of microseconds.
pub fn try_erlang_a(
    lambda: f64,
    aht: f64,
    patience: f64,
    n: u32,
    t: f64,
) -> Result<ErlangA, ErlangError> {
    positive("arrival rate", lambda)?;
    positive("mean handle time", aht)?;
    positive("mean patience", patience)?;
    threshold(t)?;
    if n == 0 {
        return Err(ErlangError::NoServers);
    }
    let (mu, theta, a) = (1.0 / aht, 1.0 / patience, lambda * aht);
    let nmu = f64::from(n) * mu;
    for (what, v) in [
        ("the service rate 1/AHT", mu),
        ("the abandonment rate 1/patience", theta),
        ("the offered load", a),
        ("the service capacity n/AHT", nmu),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(ErlangError::Overflow { what });
        }
    }
    let w = OfferedWait::new(lambda, nmu, theta);
    if !w.base.is_finite() {
        return Err(ErlangError::Overflow {
            what: "the waiting-time scale",
        });
    }
    let split = t - w.base; // T in u
    let before = integrate(&w, -w.base, split);
    let after = integrate(&w, split, f64::INFINITY);
    let all = before.plus(&after);
    let z = all.value;
    if !(all.ln_scale.is_finite() && z.iter().all(|v| v.is_finite()) && z[0] > 0.0) {
        return Err(ErlangError::Numerical);
    }
    let zb = before.on_scale_of(&all);
    let za = after.on_scale_of(&all);
    // P(wait) = nμJ / (R + nμJ), from its log-odds.
    let ln_s = nmu.ln() + w.ln_peak + all.ln(0);
    let (p_wait, no_wait) = logistic_pair(ln_s - ln_idle_ratio(a, n));
    let p_abandon_given_wait = (z[2] / z[0]).min(1.0);
    let p_abandon = p_wait * p_abandon_given_wait;
    // Sums of two probabilities that add up to at most one, up to rounding.
    let answered = (no_wait + p_wait * (z[1] / z[0])).min(1.0);
    let served_wait = p_wait * (z[3] / z[0]);
    let asa_s = if answered > 0.0 {
        served_wait / answered
    } else {
        z[3] / z[1]
    };
    let mean_wait_all_s = p_wait * ((z[3] + z[4]) / z[0]);
    let service_level = (no_wait + p_wait * (zb[1] / z[0])).min(1.0);
    let p_abandon_within_t = p_wait * ((zb[2] - (-theta * t).exp_m1() * za[0]) / z[0]).min(1.0);
    let carried_erlang = a * answered;
    Ok(ErlangA {
        p_wait,
        p_abandon,
        asa_s,
        mean_wait_all_s,
        service_level,
        occupancy: (carried_erlang / f64::from(n)).min(1.0),
        offered_erlang: a,
        carried_erlang,
        p_abandon_given_wait,
        p_abandon_within_t,
        mean_wait_abandoned_s: z[4] / z[2],
        mean_queue_length: lambda * mean_wait_all_s,
        service_level_answered: (service_level / answered).min(1.0),
        service_level_excluding_short_abandons: (service_level / (1.0 - p_abandon_within_t))
            .min(1.0),
    })
}

/// The fewest agents meeting `target` (any of service level, abandonment and ASA) for
/// arrival rate `lambda`, mean handle time `aht` and mean patience `patience`. The search
/// starts from the bounds that carried load imposes (answered ≤ n/a, so n ≥ a·SL and
/// n ≥ a(1 - max abandon)).
pub fn erlang_a_agents(
    lambda: f64,
    aht: f64,
    patience: f64,
    target: &ErlangTarget,
) -> Result<u32, ErlangError> {
    positive("arrival rate", lambda)?;
    positive("mean handle time", aht)?;
    positive("mean patience", patience)?;
    target.check(true)?;
    let a = lambda * aht;
    let need = target
        .service_level
        .map_or(0.0, |(f, _)| f)
        .max(target.max_abandon.map_or(0.0, |m| 1.0 - m));
    let lo = lower_bound(a * need)?;
    let t = target.threshold();
    smallest(lo, |n| {
        let r = try_erlang_a(lambda, aht, patience, n, t)?;
        Ok(target.met_by(r.service_level, r.p_abandon, r.asa_s))
    })
}
