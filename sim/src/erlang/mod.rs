//! Analytic oracles: Erlang B (M/M/c/c), Erlang C (M/M/n) and Erlang A (M/M/n+M, Palm),
//! forward (figures for a number of servers) and inverse (the fewest servers meeting a
//! target).
//!
//! # Formulation
//!
//! Each figure is a ratio of integrals of log-concave functions, evaluated in scaled form
//! (the integrals are carried as `e^scale · value`, see `quad.rs`) so that nothing overflows,
//! underflows to a wrong zero or cancels, from one server to `u32::MAX`, for patience from
//! milliseconds to years. A call costs a few hundred integrand evaluations: microseconds.
//!
//! * **Idle side.** With offered load `a = λ/μ` and `n` servers, the birth–death weights of
//!   the states with an idle server, relative to the all-busy state, sum to
//!   `R = Σ_{j<n} (a^j/j!) ÷ (a^n/n!) = n ∫_0^∞ e^{-a y} (1 + y)^{n-1} dy`
//!   (Jagerman, "Some properties of the Erlang loss function", BSTJ 53, 1974). Up to 100
//!   servers `R` comes from the exact recursion `R_1 = 1/a`, `R_k = (k/a)(1 + R_{k-1})`.
//! * **Erlang B** = `1 / (1 + R)`.
//! * **Erlang C.** The waiting states add `Σ_k ρ^k = 1/(1 - ρ)` (`ρ = a/n`), so
//!   `C = P(wait) = 1 / (1 + (1 - ρ) R)`, `ASA = C / (nμ - λ)`,
//!   `SL(T) = 1 - C e^{-(nμ - λ) T}`.
//! * **Erlang A** (patience ~ Exp(θ), θ = 1/mean patience). Call `V` the *offered wait*: the
//!   wait a caller would have if it never gave up. With `k` callers ahead it is a sum of
//!   exponential stages of rates `nμ + iθ`, `i = k…0`; mixed over the stationary queue,
//!   `V` given `V > 0` has the density `f(t) = e^{φ(t)} / J` with
//!   `φ(t) = λ(1 - e^{-θt})/θ - nμ t` and `J = ∫_0^∞ e^{φ(t)} dt` (Mandelbaum & Zeltyn,
//!   "The M/M/n+G queue: summary of performance measures", the exponential-patience case;
//!   `nμJ` is the function `A(nμ/θ, λ/θ)` of Garnett, Mandelbaum & Reiman, "Designing a
//!   call center with impatient customers", MSOM 4, 2002). A caller with patience τ is
//!   answered iff `V ≤ τ`. Hence
//!   - `P(wait) = nμJ / (R + nμJ)` (GMR's `A·E / (1 + (A - 1)E)`, E = Erlang B);
//!   - `P(abandon | wait) = E[1 - e^{-θV}]`, `P(answered) = 1 - P(wait) + P(wait) E[e^{-θV}]`;
//!   - `ASA` (answered callers) `= P(wait) E[V e^{-θV}] / P(answered)`;
//!   - answered within T: `1 - P(wait) + P(wait) E[e^{-θV}; V ≤ T]`;
//!   - abandoned within T: `P(wait) E[1 - e^{-θ min(V, T)}]`;
//!   - mean wait of abandoned callers: `E[(1 - e^{-θV}(1 + θV))/θ] / E[1 - e^{-θV}]`;
//!   - mean wait of all callers `= P(abandon)/θ` (Little's law on the abandonment flow).
//!
//!   The expectations are integrals against `f`, split at T; `φ` is concave with its peak at
//!   `t* = ln(λ/nμ)/θ` when `λ > nμ` (else at 0), which is where the integration window is
//!   centred.
//!
//! # Service level
//!
//! `service_level` is answered within T ÷ all callers (answered + abandoned), the KPI of the
//! simulator's report; Erlang A also gives it over answered callers only and with the
//! callers who abandon within T left out of the denominator.

mod a;
mod b;
mod c;
mod quad;
mod target;

pub use a::{ErlangA, erlang_a, erlang_a_agents, try_erlang_a};
pub use b::{erlang_b, erlang_b_servers, try_erlang_b};
pub use c::{ErlangC, erlang_c, erlang_c_agents, try_erlang_c};
pub use target::ErlangTarget;

/// Why an Erlang figure cannot be given.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErlangError {
    /// An input that must be positive and finite is not.
    #[error("the {name} must be a positive, finite number, got {value}")]
    NotPositive {
        /// Which input.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// The service-level threshold is negative or NaN.
    #[error("the service-level threshold must be ≥ 0 seconds, got {0}")]
    BadThreshold(f64),
    /// No servers were given where at least one is needed.
    #[error("at least one agent is needed")]
    NoServers,
    /// A quantity derived from the inputs does not fit in an f64.
    #[error("{what} does not fit in an f64 for these inputs")]
    Overflow {
        /// Which quantity.
        what: &'static str,
    },
    /// Erlang C with the load at or above the servers.
    #[error(
        "offered load {offered} Erlang is not below {servers} agents: without abandonment \
         the queue grows without bound"
    )]
    Unstable {
        /// Offered load, Erlang.
        offered: f64,
        /// Servers.
        servers: u32,
    },
    /// A staffing target no finite number of servers can meet, or a malformed one.
    #[error("{0}")]
    ImpossibleTarget(String),
    /// The target needs more servers than the search covers.
    #[error("more than {max} servers would be needed")]
    Unreachable {
        /// The largest size tried.
        max: u32,
    },
    /// The integration failed (inputs at the edge of the f64 range).
    #[error("the figures cannot be computed in f64 for these inputs")]
    Numerical,
}

/// Checks that `value` is positive and finite.
fn positive(name: &'static str, value: f64) -> Result<(), ErlangError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(ErlangError::NotPositive { name, value })
    }
}

/// Checks a service-level threshold: ≥ 0 (`+∞` allowed).
fn threshold(t: f64) -> Result<(), ErlangError> {
    if t >= 0.0 {
        Ok(())
    } else {
        Err(ErlangError::BadThreshold(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_b_published_value() {
        // Erlang B tables: 10 Erlang on 10 servers blocks 21.46%.
        assert!((erlang_b(10.0, 10) - 0.2146).abs() < 1e-4);
        assert!((erlang_b(2.0, 5) - 0.0367).abs() < 1e-4);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert!(matches!(
            try_erlang_a(-1.0, 60.0, 30.0, 5, 20.0),
            Err(ErlangError::NotPositive { .. })
        ));
        assert!(matches!(
            try_erlang_a(1.0, 60.0, 0.0, 5, 20.0),
            Err(ErlangError::NotPositive { .. })
        ));
        assert_eq!(
            try_erlang_a(1.0, 60.0, 30.0, 0, 20.0),
            Err(ErlangError::NoServers)
        );
        assert_eq!(
            try_erlang_c(1.0, 60.0, 5, -1.0),
            Err(ErlangError::BadThreshold(-1.0))
        );
        assert!(matches!(
            try_erlang_c(1.0, 60.0, 60, 20.0),
            Err(ErlangError::Unstable { .. })
        ));
        assert!(erlang_b(f64::NAN, 3).is_nan());
        assert_eq!(erlang_b(0.0, 3), 0.0);
        assert_eq!(erlang_b(3.0, 0), 1.0);
    }
}
