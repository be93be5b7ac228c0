//! The Erlang oracles against references computed in arbitrary precision (320-bit floats)
//! straight from the birth–death chain, by a different route from the library's integrals:
//! explicit sums over the queue states, and for each state the exact distribution of the
//! wait (stages of rates `nμ + iθ` equally spaced by θ, whose sum has the closed-form tail
//! `P(Σ > T) = I_w(c/θ, k+1) = w^{c/θ} Σ_{j≤k} (c/θ)_j/j! (1-w)^j`, `w = e^{-θT}`).

use dashu_float::FBig;
use tandem_sim::erlang::{erlang_b, erlang_c, try_erlang_a};

type F = FBig;
const PREC: usize = 320;
/// Longest queue the reference sums before giving up on a case.
const MAX_TAIL: usize = 5_000;

fn big(x: f64) -> F {
    F::try_from(x).unwrap().with_precision(PREC).value()
}

fn small(x: &F) -> f64 {
    x.to_f64().value()
}

/// `Σ_{j<n} (a^j/j!) ÷ (a^n/n!)`, term by term.
fn idle_ratio(a: &F, n: u32) -> F {
    let mut below = big(0.0);
    let mut w = big(1.0);
    for j in (1..=n).rev() {
        w = w * big(f64::from(j)) / a;
        below += &w;
    }
    below
}

fn ref_erlang_b(a: f64, n: u32) -> f64 {
    small(&(big(1.0) / (big(1.0) + idle_ratio(&big(a), n))))
}

fn ref_erlang_c(a: f64, n: u32) -> f64 {
    let (ab, nb) = (big(a), big(f64::from(n)));
    let one_minus_rho = (&nb - &ab) / &nb;
    small(&(big(1.0) / (big(1.0) + one_minus_rho * idle_ratio(&ab, n))))
}

/// Erlang A figures from the chain; the threshold-dependent ones for each T given.
#[derive(Debug)]
struct RefA {
    p_wait: f64,
    p_abandon: f64,
    asa_s: f64,
    mean_wait_all_s: f64,
    mean_wait_abandoned_s: f64,
    /// Per threshold: (service level, P(abandon within T)).
    at: Vec<(f64, f64)>,
}

/// The running sums that depend on a threshold T.
struct AtT {
    /// w^α, α = (nμ + θ)/θ: scale of the served-stage tail.
    served_scale: F,
    /// e^{-θT} w^s, s = nμ/θ: scale of the offered-wait tail times P(patience > T).
    alive_scale: F,
    one_minus_w: F,
    term_a: F,
    sum_a: F,
    term_s: F,
    sum_s: F,
    sl: F,
    ab: F,
}

fn ref_erlang_a(lambda: f64, aht: f64, patience: f64, n: u32, ts: &[f64]) -> Option<RefA> {
    let one = big(1.0);
    let zero = big(0.0);
    let lam = big(lambda);
    let mu = &one / big(aht);
    let theta = &one / big(patience);
    let a = &lam * big(aht);
    let nmu = &mu * big(f64::from(n));
    let below = idle_ratio(&a, n);
    let alpha = (&nmu + &theta) / &theta;
    let s = &nmu / &theta;
    let mut at: Vec<AtT> = ts
        .iter()
        .map(|&t| {
            let tb = big(t);
            let scale = (-((&nmu + &theta) * &tb)).exp();
            AtT {
                served_scale: scale.clone(),
                alive_scale: scale,
                one_minus_w: &one - (-(&theta * &tb)).exp(),
                term_a: one.clone(),
                sum_a: one.clone(),
                term_s: one.clone(),
                sum_s: one.clone(),
                sl: zero.clone(),
                ab: zero.clone(),
            }
        })
        .collect();
    let mut v = one.clone(); // π_{n+k} / π_n
    let (mut p, mut m, mut ew) = (one.clone(), zero.clone(), zero.clone());
    let (mut sv, mut s_ab, mut s_served_wait, mut s_wait) =
        (zero.clone(), zero.clone(), zero.clone(), zero.clone());
    let tiny = big(2f64.powi(-300));
    let half = big(0.5);
    let mut kb = zero.clone();
    for k in 0..MAX_TAIL {
        if k > 0 {
            for x in &mut at {
                x.term_a = &x.term_a * (&alpha + &kb - &one) / &kb * &x.one_minus_w;
                x.sum_a += &x.term_a;
                x.term_s = &x.term_s * (&s + &kb - &one) / &kb * &x.one_minus_w;
                x.sum_s += &x.term_s;
            }
        }
        let r = &nmu + &kb * &theta;
        let q = &r + &theta;
        p = p * &r / &q; // P(served | k ahead)
        m += &one / &q; // mean wait if served
        ew = &one / &q + &r / &q * ew; // mean wait until answer or abandonment
        sv += &v;
        s_ab += &v * (&one - &p);
        s_served_wait += &v * &p * &m;
        s_wait += &v * &ew;
        for x in &mut at {
            let served_by_t = &p * (&one - &x.served_scale * &x.sum_a);
            let alive_at_t = &x.alive_scale * &x.sum_s;
            x.sl += &v * &served_by_t;
            x.ab += &v * (&one - &served_by_t - alive_at_t);
        }
        kb += &one;
        let ratio = &lam / (&nmu + &kb * &theta);
        v *= &ratio;
        if ratio < half && v < &tiny * &sv {
            let total = &below + &sv;
            let answered = &one - &s_ab / &total;
            return Some(RefA {
                p_wait: small(&(&sv / &total)),
                p_abandon: small(&(&s_ab / &total)),
                asa_s: small(&(&s_served_wait / &total / &answered)),
                mean_wait_all_s: small(&(&s_wait / &total)),
                mean_wait_abandoned_s: small(&((&s_wait - &s_served_wait) / &s_ab)),
                at: at
                    .iter()
                    .map(|x| {
                        (
                            small(&((&below + &x.sl) / &total)),
                            small(&(&x.ab / &total)),
                        )
                    })
                    .collect(),
            });
        }
    }
    None
}

/// Relative error; below `floor` both sides are compared absolutely.
fn rel_above(got: f64, want: f64, floor: f64) -> f64 {
    if want.abs() < floor {
        return (got - want).abs();
    }
    ((got - want) / want).abs()
}

/// Relative error, for values an f64 can hold with full precision.
fn rel(got: f64, want: f64) -> f64 {
    if want.abs() < 1e-290 {
        return (got - want).abs();
    }
    ((got - want) / want).abs()
}

#[test]
fn erlang_b_and_c_match_the_reference_to_1e11() {
    let mut worst = (0.0, String::new());
    for n in [1u32, 2, 3, 10, 40, 99, 100, 101, 150, 500, 2000, 8000] {
        for rho in [0.01, 0.1, 0.5, 0.8, 0.95, 0.999, 1.0, 1.3, 3.0, 10.0] {
            let a = rho * f64::from(n);
            let b = erlang_b(a, n);
            let e = rel(b, ref_erlang_b(a, n));
            if e > worst.0 {
                worst = (e, format!("B({a}, {n}) = {b:e}"));
            }
            if rho < 1.0 {
                let c = erlang_c(a / 60.0, 60.0, n, 20.0).unwrap().p_wait;
                let e = rel(c, ref_erlang_c(a, n));
                if e > worst.0 {
                    worst = (e, format!("C({a}, {n}) = {c:e}"));
                }
            }
        }
    }
    println!(
        "Erlang B/C worst relative error {:.2e} at {}",
        worst.0, worst.1
    );
    assert!(worst.0 < 1e-11, "worst {:.3e} at {}", worst.0, worst.1);
}

#[test]
fn erlang_a_matches_the_reference_over_a_grid() {
    let mut worst = (0.0, String::new());
    let (mut cases, mut skipped) = (0, 0);
    let aht = 60.0;
    let ts = [0.0, 20.0, 300.0];
    for n in [1u32, 2, 7, 30, 100, 101, 400] {
        for rho in [0.1, 0.5, 0.9, 0.98, 1.0, 1.05, 1.5, 3.0, 10.0] {
            for patience_over_aht in [1e-5, 0.01, 0.2, 1.0, 5.0, 50.0] {
                let lambda = rho * f64::from(n) / aht;
                let patience = patience_over_aht * aht;
                let Some(want) = ref_erlang_a(lambda, aht, patience, n, &ts) else {
                    skipped += 1;
                    continue;
                };
                for (&t, &(sl, ab_t)) in ts.iter().zip(&want.at) {
                    cases += 1;
                    let got = try_erlang_a(lambda, aht, patience, n, t).unwrap();
                    for (name, g, w, floor) in [
                        ("p_wait", got.p_wait, want.p_wait, 1e-290),
                        ("p_abandon", got.p_abandon, want.p_abandon, 1e-290),
                        ("asa", got.asa_s, want.asa_s, 1e-290),
                        (
                            "mean_wait_all",
                            got.mean_wait_all_s,
                            want.mean_wait_all_s,
                            1e-290,
                        ),
                        (
                            "mean_wait_abandoned",
                            got.mean_wait_abandoned_s,
                            want.mean_wait_abandoned_s,
                            1e-290,
                        ),
                        // The reference forms these two as 1 − (…): exact only to ~1e-90.
                        ("service_level", got.service_level, sl, 1e-80),
                        ("p_abandon_within_t", got.p_abandon_within_t, ab_t, 1e-80),
                    ] {
                        let e = rel_above(g, w, floor);
                        if e > worst.0 || e.is_nan() {
                            worst = (
                                e,
                                format!(
                                    "{name} λ={lambda} aht={aht} patience={patience} n={n} \
                                     T={t}: {g:e} vs {w:e}"
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
    println!(
        "Erlang A: {cases} cases ({skipped} parameter sets with queues too long for the \
         reference), worst relative error {:.2e} at {}",
        worst.0, worst.1
    );
    assert!(cases > 800, "{cases} cases");
    assert!(worst.0 < 1e-10, "worst {:.3e} at {}", worst.0, worst.1);
}
