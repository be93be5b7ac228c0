//! Erlang C (M/M/n, callers wait as long as it takes).

use super::b::ln_idle_ratio;
use super::quad::logistic_pair;
use super::target::{ErlangTarget, lower_bound, smallest};
use super::{ErlangError, positive, threshold};

/// Erlang C measures. Every caller is eventually answered, so "all callers" and "answered
/// callers" are the same population.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct ErlangC {
    /// Probability a caller waits: C = 1 / (1 + (1 - ρ) R).
    pub p_wait: f64,
    /// Average speed of answer (mean wait of all callers): C / (nμ - λ), seconds.
    pub asa_s: f64,
    /// Answered within T ÷ all callers: 1 - C e^{-(nμ - λ) T}.
    pub service_level: f64,
    /// Agent occupancy a / n.
    pub occupancy: f64,
    /// Offered load a = λ · AHT, Erlang.
    pub offered_erlang: f64,
    /// Mean wait of the callers who wait: 1 / (nμ - λ), seconds.
    pub wait_if_delayed_s: f64,
    /// Mean number of callers waiting: λ · ASA.
    pub mean_queue_length: f64,
}

/// Erlang C with arrival rate `lambda` (per s), mean handle time `aht` (s), `n` agents and SL
/// threshold `t` (s). `None` when the load is at or above `n` (the queue grows without
/// bound) or an input is invalid; [`try_erlang_c`] says which.
pub fn erlang_c(lambda: f64, aht: f64, n: u32, t: f64) -> Option<ErlangC> {
    try_erlang_c(lambda, aht, n, t).ok()
}

/// [`erlang_c`] with a typed error.
pub fn try_erlang_c(lambda: f64, aht: f64, n: u32, t: f64) -> Result<ErlangC, ErlangError> {
    positive("arrival rate", lambda)?;
    positive("mean handle time", aht)?;
    threshold(t)?;
    let a = lambda * aht;
    if !(a.is_finite() && a > 0.0) {
        return Err(ErlangError::Overflow {
            what: "the offered load",
        });
    }
    let nf = f64::from(n);
    if a >= nf {
        return Err(ErlangError::Unstable {
            offered: a,
            servers: n,
        });
    }
    // Log-odds of not waiting: ln((1 - ρ) R).
    let (no_wait, c) = logistic_pair(((nf - a) / nf).ln() + ln_idle_ratio(a, n));
    let gap = (nf - a) / aht; // nμ - λ
    let asa_s = c / gap;
    Ok(ErlangC {
        p_wait: c,
        asa_s,
        // 1 - C e^{-gap T} = (1 - C) + C (1 - e^{-gap T}), without cancellation (and at
        // most 1 despite rounding).
        service_level: (no_wait - c * (-gap * t).exp_m1()).min(1.0),
        occupancy: a / nf,
        offered_erlang: a,
        wait_if_delayed_s: 1.0 / gap,
        mean_queue_length: lambda * asa_s,
    })
}

/// The fewest agents meeting `target` (service level and/or ASA; Erlang C has no
/// abandonment) for arrival rate `lambda` and mean handle time `aht`: a search from the
/// smallest stable size, ⌊a⌋ + 1.
pub fn erlang_c_agents(lambda: f64, aht: f64, target: &ErlangTarget) -> Result<u32, ErlangError> {
    positive("arrival rate", lambda)?;
    positive("mean handle time", aht)?;
    target.check(false)?;
    let a = lambda * aht;
    let lo = lower_bound(a.floor() + 1.0)?;
    let t = target.threshold();
    smallest(lo, |n| {
        let c = try_erlang_c(lambda, aht, n, t)?;
        Ok(target.met_by(c.service_level, 0.0, c.asa_s))
    })
}
