//! Erlang B (M/M/c/c) and the idle-side ratio `R` that Erlang C and A share with it.

use super::quad::{LogConcave, integrate, ln_one_plus_exp, log1p_gap, logistic_pair};
use super::target::{lower_bound, smallest};
use super::{ErlangError, positive};

/// Up to this many servers `R` comes from its exact recursion (`n` steps).
const RECURSION_MAX: u32 = 100;

/// `ln R(a, n)` with `R = Σ_{j<n} (a^j/j!) ÷ (a^n/n!)`: the stationary mass of the states
/// with an idle server relative to the all-busy state (`1/B = 1 + R`). `-∞` for `n = 0`.
pub(crate) fn ln_idle_ratio(a: f64, n: u32) -> f64 {
    if n == 0 {
        return f64::NEG_INFINITY;
    }
    if n <= RECURSION_MAX {
        // R_1 = 1/a, R_k = (k/a)(1 + R_{k-1}); in logs so that nothing overflows.
        let ln_a = a.ln();
        let mut lr = -ln_a;
        for k in 2..=n {
            lr = f64::from(k).ln() - ln_a + ln_one_plus_exp(lr);
        }
        return lr;
    }
    let idle = Idle::new(a, n);
    let i = integrate(&idle, -idle.base, f64::INFINITY);
    f64::from(n).ln() + idle.ln_peak + i.ln(0)
}

/// The integrand of Jagerman's representation `R = n ∫_0^∞ e^{-a y} (1 + y)^{n-1} dy`
/// (D. L. Jagerman, "Some properties of the Erlang loss function", BSTJ 53, 1974), as
/// `ψ(u) = φ(y* + u) - φ(y*)` with `φ(y) = (n-1) ln(1+y) - a y` and `y*` its peak on `y ≥ 0`.
struct Idle {
    /// n - 1.
    m: f64,
    a: f64,
    /// y*, the peak: (n-1)/a - 1, or 0.
    base: f64,
    /// 1 / (1 + y*).
    k: f64,
    /// φ'(y*): 0 at an interior peak, (n-1) - a ≤ 0 at y* = 0.
    c: f64,
    /// φ(y*).
    ln_peak: f64,
}

impl Idle {
    fn new(a: f64, n: u32) -> Self {
        let m = f64::from(n - 1);
        if m > a {
            let d = (m - a) / a; // (1 + y*) - 1
            let ln_peak = if d < 0.5 {
                // a·((1+d) ln(1+d) - d), with the small terms kept exact.
                a * (d * d.ln_1p() - log1p_gap(d))
            } else {
                m * (m.ln() - a.ln()) - m + a
            };
            Idle {
                m,
                a,
                base: d,
                k: a / m,
                c: 0.0,
                ln_peak,
            }
        } else {
            Idle {
                m,
                a,
                base: 0.0,
                k: 1.0,
                c: m - a,
                ln_peak: 0.0,
            }
        }
    }
}

impl LogConcave<1> for Idle {
    fn psi(&self, u: f64) -> f64 {
        let v = self.k * u;
        if v <= -1.0 {
            return f64::NEG_INFINITY;
        }
        self.c * u - self.m * log1p_gap(v)
    }
    fn slope(&self, u: f64) -> f64 {
        self.m * self.k / (1.0 + self.k * u) - self.a
    }
    fn curvature(&self, u: f64) -> f64 {
        let q = self.k / (1.0 + self.k * u);
        -self.m * q * q
    }
    fn peak(&self) -> f64 {
        0.0
    }
    fn weights(&self, _: f64) -> [f64; 1] {
        [1.0]
    }
}

/// Erlang B: the blocking probability of `a` Erlang offered to `n` servers without a queue.
/// `n = 0` blocks everything; `a = 0` blocks nothing. Accurate to ~1e-13 relative for any
/// `n` (results below ~1e-308 underflow to 0). NaN for a negative or non-finite `a`.
pub fn erlang_b(a: f64, n: u32) -> f64 {
    if a == 0.0 && n > 0 {
        return 0.0;
    }
    try_erlang_b(a, n).unwrap_or(f64::NAN)
}

/// [`erlang_b`] with its input checked: `a` must be positive and finite.
pub fn try_erlang_b(a: f64, n: u32) -> Result<f64, ErlangError> {
    positive("offered load", a)?;
    if n == 0 {
        return Ok(1.0);
    }
    Ok(logistic_pair(-ln_idle_ratio(a, n)).0)
}

/// The fewest servers that keep the blocking of `a` Erlang at or below `max_blocking`
/// (0 < max_blocking < 1), by a galloping search from the bound `n ≥ a(1 - max_blocking)`
/// (carried load cannot exceed the servers) and bisection.
pub fn erlang_b_servers(a: f64, max_blocking: f64) -> Result<u32, ErlangError> {
    positive("offered load", a)?;
    if !(max_blocking > 0.0 && max_blocking < 1.0) {
        return Err(ErlangError::ImpossibleTarget(format!(
            "the blocking target must be above 0 (no finite number of servers blocks \
             nothing) and below 1, got {max_blocking}"
        )));
    }
    let lo = lower_bound(a * (1.0 - max_blocking))?;
    smallest(lo, |n| Ok(try_erlang_b(a, n)? <= max_blocking))
}
