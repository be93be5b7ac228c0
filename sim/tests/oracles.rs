//! The analytic oracles against independent references: textbook closed forms computed
//! directly, published table values, the brief's orientation table, and limiting cases.

use tandem_sim::erlang::{erlang_a, erlang_b, erlang_c};

/// Σ_{k=0}^{n} a^k / k! terms, computed directly (fine for the small n used here).
fn poisson_terms(a: f64, n: u32) -> Vec<f64> {
    let mut t = vec![1.0];
    for k in 1..=n {
        let prev = *t.last().unwrap();
        t.push(prev * a / f64::from(k));
    }
    t
}

fn erlang_b_direct(a: f64, n: u32) -> f64 {
    let t = poisson_terms(a, n);
    t[n as usize] / t.iter().sum::<f64>()
}

fn erlang_c_direct(a: f64, n: u32) -> f64 {
    let t = poisson_terms(a, n);
    let nf = f64::from(n);
    let top = t[n as usize] * nf / (nf - a);
    top / (t[..n as usize].iter().sum::<f64>() + top)
}

#[test]
fn erlang_b_matches_the_closed_form_and_tables() {
    for (a, n) in [
        (1.0, 1),
        (5.0, 3),
        (10.0, 10),
        (20.0, 25),
        (50.0, 60),
        (100.0, 90),
    ] {
        let want = erlang_b_direct(a, n);
        assert!((erlang_b(a, n) - want).abs() < 1e-12, "B({a}, {n})");
    }
    // Published table values.
    assert!((erlang_b(10.0, 10) - 0.2146).abs() < 5e-5);
    assert!((erlang_b(1.0, 1) - 0.5).abs() < 1e-12);
}

#[test]
fn erlang_b_reproduces_the_briefs_orientation_table() {
    // 785 calls/min against 180 and 270 channels, holding 16/30/60 s (percent, rounded).
    let table = [
        (180, 16.0, 16.0),
        (180, 30.0, 54.0),
        (180, 60.0, 77.0),
        (270, 16.0, 0.0),
        (270, 30.0, 32.0),
        (270, 60.0, 66.0),
    ];
    for (n, h, pct) in table {
        let b = erlang_b(785.0 / 60.0 * h, n) * 100.0;
        assert!(
            (b - pct).abs() < 1.5,
            "{n} channels, {h} s: {b:.1}% vs ~{pct}%"
        );
    }
}

#[test]
fn erlang_b_is_stable_for_5000_channels() {
    let b = erlang_b(4900.0, 5000);
    assert!(b.is_finite() && b > 0.0 && b < 0.05, "{b}");
}

#[test]
fn erlang_c_matches_the_closed_form() {
    for (lambda, aht, n) in [
        (0.1, 60.0, 8),
        (1.0, 180.0, 190),
        (0.5, 30.0, 16),
        (2.0, 120.0, 250),
    ] {
        let a: f64 = lambda * aht;
        let c = erlang_c(lambda, aht, n, 20.0).unwrap();
        let want = erlang_c_direct(a, n);
        assert!(
            (c.p_wait - want).abs() < 1e-9,
            "C({a}, {n}): {} vs {want}",
            c.p_wait
        );
        let rate = f64::from(n) / aht - lambda;
        assert!((c.asa_s - want / rate).abs() < 1e-9);
        assert!((c.service_level - (1.0 - want * (-rate * 20.0).exp())).abs() < 1e-9);
    }
    assert!(erlang_c(1.0, 10.0, 10, 20.0).is_none(), "a = n is unstable");
}

#[test]
fn erlang_a_with_endless_patience_is_erlang_c() {
    for (lambda, aht, n) in [(0.1, 60.0, 8), (1.0, 180.0, 190), (2.0, 120.0, 250)] {
        let c = erlang_c(lambda, aht, n, 20.0).unwrap();
        let a = erlang_a(lambda, aht, 1e9, n, 20.0);
        assert!(
            (a.p_wait - c.p_wait).abs() < 1e-4,
            "P(wait) {} vs {}",
            a.p_wait,
            c.p_wait
        );
        assert!(
            (a.asa_s - c.asa_s).abs() < 1e-3 * c.asa_s.max(1.0),
            "ASA {} vs {}",
            a.asa_s,
            c.asa_s
        );
        assert!(
            (a.service_level - c.service_level).abs() < 1e-4,
            "SL {} vs {}",
            a.service_level,
            c.service_level
        );
        assert!(a.p_abandon < 1e-6);
    }
}

#[test]
fn erlang_a_with_patience_equal_to_handle_time_is_poisson() {
    // With θ = μ every caller leaves at rate μ whatever it is doing, so the number in the
    // system is Poisson(a): P(wait) = P(N ≥ n), P(abandon) = E[(N - n)+] / a.
    let (lambda, aht, n) = (0.5_f64, 60.0, 28u32);
    let a = lambda * aht;
    let terms = poisson_terms(a, 400);
    let e = (-a).exp();
    let p_wait: f64 = terms[n as usize..].iter().map(|t| t * e).sum();
    let excess: f64 = terms
        .iter()
        .enumerate()
        .skip(n as usize)
        .map(|(k, t)| (k as f64 - f64::from(n)) * t * e)
        .sum();
    let r = erlang_a(lambda, aht, aht, n, 20.0);
    assert!((r.p_wait - p_wait).abs() < 1e-9, "{} vs {p_wait}", r.p_wait);
    assert!(
        (r.p_abandon - excess / a).abs() < 1e-9,
        "{} vs {}",
        r.p_abandon,
        excess / a
    );
}

#[test]
fn erlang_a_is_stable_and_monotone_up_to_5000_agents() {
    let mut last = 1.0;
    for n in [4600, 4800, 5000] {
        let r = erlang_a(4750.0 / 180.0, 180.0, 60.0, n, 20.0);
        for v in [r.p_wait, r.p_abandon, r.service_level] {
            assert!(v.is_finite() && (0.0..=1.0).contains(&v), "n {n}: {r:?}");
        }
        assert!(r.p_abandon <= last);
        last = r.p_abandon;
    }
}
