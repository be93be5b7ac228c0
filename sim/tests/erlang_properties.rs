//! The Erlang oracles over their whole range: finite, bounded and monotone results for
//! loads of 0.1–10× capacity, 1–50,000 agents and patience from 10 ms to 10⁷ s, and the
//! closed-form limits (Erlang C as patience → ∞, Poisson when patience = handle time, the
//! M/M/∞ tail as agents → ∞).

use proptest::prelude::*;
use tandem_sim::erlang::{ErlangA, erlang_b, erlang_c, try_erlang_a, try_erlang_c};

/// `x` drawn log-uniformly from `[lo, hi]`.
fn log_uniform(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    (0.0..=1.0f64).prop_map(move |u| (lo.ln() + u * (hi.ln() - lo.ln())).exp())
}

/// No worse than `b` by more than rounding: `a ≤ b` up to a relative 1e-9 (and 1e-300).
fn le(a: f64, b: f64) -> bool {
    a <= b + 1e-9 * b.abs().max(a.abs()) + 1e-300
}

fn check_bounds(r: &ErlangA, a: f64, n: u32, patience: f64) -> Result<(), TestCaseError> {
    let probs = [
        r.p_wait,
        r.p_abandon,
        r.p_abandon_given_wait,
        r.p_abandon_within_t,
        r.service_level,
        r.service_level_answered,
        r.service_level_excluding_short_abandons,
        r.occupancy,
    ];
    for p in probs {
        prop_assert!(p.is_finite() && (0.0..=1.0).contains(&p), "{r:?}");
    }
    for x in [
        r.asa_s,
        r.mean_wait_all_s,
        r.mean_queue_length,
        r.carried_erlang,
    ] {
        prop_assert!(x.is_finite() && x >= 0.0, "{r:?}");
    }
    if r.p_abandon_given_wait > 0.0 {
        prop_assert!(r.mean_wait_abandoned_s.is_finite() && r.mean_wait_abandoned_s >= 0.0);
    }
    let nf = f64::from(n);
    prop_assert!(le(r.p_abandon, r.p_wait), "P(ab) ≤ P(wait): {r:?}");
    prop_assert!(le(r.p_abandon_within_t, r.p_abandon), "{r:?}");
    // Carried load cannot exceed the agents: P(ab) ≥ 1 - n/a.
    prop_assert!(le(1.0 - nf / a, r.p_abandon), "{r:?}");
    prop_assert!(le(r.carried_erlang, a.min(nf)), "{r:?}");
    // Answered within T lies between the unwaited and the answered callers.
    prop_assert!(le(1.0 - r.p_wait, r.service_level), "{r:?}");
    prop_assert!(le(r.service_level, 1.0 - r.p_abandon), "{r:?}");
    // Little's law on the abandonment flow: E[W] = P(ab) · mean patience.
    if r.p_abandon > 1e-280 {
        let want = r.p_abandon * patience;
        prop_assert!(
            (r.mean_wait_all_s - want).abs() <= 1e-8 * want,
            "E[W] {} vs P(ab)·patience {want}",
            r.mean_wait_all_s
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn erlang_a_is_finite_bounded_and_monotone(
        n in log_uniform(1.0, 50_000.0).prop_map(|x| x.round() as u32),
        load in log_uniform(0.1, 10.0),
        patience in log_uniform(1e-2, 1e7),
        aht in log_uniform(5.0, 1000.0),
        t in 0.0..600.0f64,
    ) {
        let a = load * f64::from(n);
        let lambda = a / aht;
        let r = try_erlang_a(lambda, aht, patience, n, t).unwrap();
        check_bounds(&r, a, n, patience)?;
        // More agents: no more waiting or abandonment, no lower service level, no longer ASA.
        let step = (n / 10).max(1);
        let more = try_erlang_a(lambda, aht, patience, n + 1, t).unwrap();
        let many = try_erlang_a(lambda, aht, patience, n + step, t).unwrap();
        for (x, y) in [(&r, &more), (&more, &many)] {
            prop_assert!(le(y.p_wait, x.p_wait), "P(wait) {x:?} → {y:?}");
            prop_assert!(le(y.p_abandon, x.p_abandon), "P(ab) {x:?} → {y:?}");
            prop_assert!(le(x.service_level, y.service_level), "SL {x:?} → {y:?}");
            prop_assert!(le(y.asa_s, x.asa_s), "ASA {x:?} → {y:?}");
        }
        // More patience: fewer abandon, more wait, and waits get longer.
        let patient = try_erlang_a(lambda, aht, patience * 1.5, n, t).unwrap();
        check_bounds(&patient, a, n, patience * 1.5)?;
        prop_assert!(le(patient.p_abandon, r.p_abandon), "{r:?} → {patient:?}");
        prop_assert!(le(r.p_wait, patient.p_wait), "{r:?} → {patient:?}");
        prop_assert!(le(r.mean_wait_all_s, patient.mean_wait_all_s), "{r:?} → {patient:?}");
    }

    #[test]
    fn erlang_b_and_c_are_bounded_and_monotone_up_to_a_billion_servers(
        n in log_uniform(1.0, 1e9).prop_map(|x| x.round() as u32),
        load in log_uniform(0.01, 10.0),
        t in 0.0..600.0f64,
    ) {
        let a = load * f64::from(n);
        let b = erlang_b(a, n);
        prop_assert!(b.is_finite() && (0.0..=1.0).contains(&b));
        prop_assert!(le(erlang_b(a, n + 1), b));
        prop_assert!(le(b, erlang_b(a * 1.01, n)));
        // Carried load a(1 - B) stays below the servers.
        prop_assert!(le(a * (1.0 - b), f64::from(n)));
        if a < f64::from(n) {
            let c = try_erlang_c(a / 60.0, 60.0, n, t).unwrap();
            for p in [c.p_wait, c.service_level] {
                prop_assert!(p.is_finite() && (0.0..=1.0).contains(&p), "{c:?}");
            }
            prop_assert!(le(b, c.p_wait), "C ≥ B: {b} vs {c:?}");
            let more = erlang_c(a / 60.0, 60.0, n + 1, t).unwrap();
            prop_assert!(le(more.p_wait, c.p_wait) && le(more.asa_s, c.asa_s));
            prop_assert!(le(c.service_level, more.service_level));
        }
    }
}

#[test]
fn erlang_a_tends_to_erlang_c_as_patience_grows() {
    for (a, n) in [
        (9.0, 10u32),
        (180.0, 190),
        (4750.0, 5000),
        (49_500.0, 50_000),
    ] {
        let c = erlang_c(a / 180.0, 180.0, n, 20.0).unwrap();
        for patience in [1e9, 1e12] {
            let r = try_erlang_a(a / 180.0, 180.0, patience, n, 20.0).unwrap();
            // The first-order difference is of the order of the wait over the patience.
            let tol = 1e-9 + 50.0 * (c.asa_s + 180.0) / patience;
            for (x, y) in [
                (r.p_wait, c.p_wait),
                (r.asa_s, c.asa_s),
                (r.service_level, c.service_level),
            ] {
                assert!(
                    (x - y).abs() <= tol * y,
                    "a {a} n {n} θ⁻¹ {patience}: {x} vs {y}"
                );
            }
            assert!(r.p_abandon < 2.0 * c.asa_s / patience, "{r:?}");
        }
    }
}

/// P(N ≥ n) and E[(N - n)+] for N ~ Poisson(a), summed term by term in logs.
fn poisson_tail(a: f64, n: u32) -> (f64, f64) {
    let mut ln_p = -a;
    let (mut tail, mut excess) = (0.0, 0.0);
    let mut j = 0u32;
    loop {
        if j >= n {
            let p = ln_p.exp();
            tail += p;
            excess += f64::from(j - n) * p;
            if f64::from(j) > a && p < 1e-18 * tail {
                return (tail, excess);
            }
        }
        j += 1;
        ln_p += (a / f64::from(j)).ln();
    }
}

#[test]
fn patience_equal_to_handle_time_is_exactly_poisson_at_any_size() {
    // θ = μ: every caller leaves at rate μ whatever it is doing, so the number present is
    // Poisson(a): P(wait) = P(N ≥ n), P(abandon) = E[(N - n)+] / a.
    for (a, n) in [
        (3.0, 1u32),
        (30.0, 28),
        (4900.0, 5000),
        (48_000.0, 47_000),
        (900.0, 1200),
    ] {
        let (tail, excess) = poisson_tail(a, n);
        let r = try_erlang_a(a / 60.0, 60.0, 60.0, n, 20.0).unwrap();
        assert!(
            (r.p_wait / tail - 1.0).abs() < 1e-9,
            "{a} {n}: {} vs {tail}",
            r.p_wait
        );
        assert!(
            (r.p_abandon / (excess / a) - 1.0).abs() < 1e-9,
            "{a} {n}: {} vs {}",
            r.p_abandon,
            excess / a
        );
    }
}

#[test]
fn many_agents_tend_to_the_infinite_server_queue() {
    // As n → ∞ nobody waits long: the busy agents are Poisson(a) (M/M/∞), P(wait) tends to
    // the Poisson tail P(N ≥ n) and the carried load to a.
    let a = 50.0;
    let mut last = f64::INFINITY;
    for n in [70u32, 100, 150, 250] {
        let (tail, _) = poisson_tail(a, n);
        let r = try_erlang_a(a / 60.0, 60.0, 30.0, n, 20.0).unwrap();
        let gap = (r.p_wait / tail - 1.0).abs();
        assert!(gap < last, "n {n}: P(wait) {} vs tail {tail}", r.p_wait);
        last = gap;
        let lost = 1.0 - r.carried_erlang / a;
        assert!(
            lost <= 1e-12 + r.p_wait,
            "n {n}: carried {}",
            r.carried_erlang
        );
    }
    assert!(last < 0.01, "{last}");
}

#[test]
fn extreme_inputs_answer_without_nan() {
    // One agent, a million agents; patience of a millisecond or a century; loads from
    // nothing to a flood.
    for (lambda, aht, patience, n) in [
        (1e-6, 60.0, 1e-3, 1u32),
        (1e6, 1.0, 3e9, 1_000_000),
        (1e5, 0.01, 1e-3, 1),
        (1.0, 3600.0, 3e9, 1),
        (1e-9, 1e-9, 1e-9, 4_000_000_000),
        (1e9, 1e3, 1e7, 50_000),
    ] {
        let r = try_erlang_a(lambda, aht, patience, n, 20.0).unwrap();
        check_bounds(&r, lambda * aht, n, patience).unwrap();
    }
}
