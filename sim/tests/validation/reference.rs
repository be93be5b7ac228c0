//! Analytic queueing results the simulator is checked against, written from the published
//! formulas (independently of the simulator's own code).

#![allow(dead_code)]

/// Erlang B: blocking of `c` servers offered `a` Erlang (the stable recursion).
pub fn erlang_b(a: f64, c: u32) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    b
}

/// Erlang C: probability of waiting with `c` servers and `a` Erlang offered (a < c).
pub fn erlang_c(a: f64, c: u32) -> f64 {
    let b = erlang_b(a, c);
    let rho = a / f64::from(c);
    b / (1.0 - rho * (1.0 - b))
}

/// Riordan's moments of the traffic overflowing a loss group of `c` servers offered `a`
/// Erlang of Poisson traffic: mean `a·B(c, a)` and variance `M(1 − M + a / (c + 1 + M − a))`
/// (the basis of Wilkinson's equivalent random method).
pub fn riordan(a: f64, c: u32) -> (f64, f64) {
    let m = a * erlang_b(a, c);
    let v = m * (1.0 - m + a / (f64::from(c) + 1.0 + m - a));
    (m, v)
}

/// Pollaczek–Khinchine: mean wait in queue of an M/G/1 queue with arrival rate `lambda`
/// and service moments `es`, `es2`.
pub fn pollaczek_khinchine(lambda: f64, es: f64, es2: f64) -> f64 {
    let rho = lambda * es;
    lambda * es2 / (2.0 * (1.0 - rho))
}

/// Cobham: mean wait of class `k` (0 = highest priority) in an M/M/c queue with
/// non-preemptive priorities, all classes with service rate `mu`.
pub fn cobham(lambdas: &[f64], mu: f64, c: u32, k: usize) -> f64 {
    let lambda: f64 = lambdas.iter().sum();
    let cm = f64::from(c) * mu;
    let pw = erlang_c(lambda / mu, c);
    let sigma = |j: usize| lambdas[..j].iter().sum::<f64>() / cm;
    pw / cm / ((1.0 - sigma(k)) * (1.0 - sigma(k + 1)))
}

/// The M/M/n+G queue (Baccelli–Hebuterne; Zeltyn & Mandelbaum, Queueing Systems 2005):
/// Poisson arrivals `lambda`, exponential service rate `mu`, `n` agents, patience with
/// survival function `surv` (which may jump at 0: callers who hang up at once).
pub struct MmnG {
    /// P(an arrival waits).
    pub p_wait: f64,
    /// P(an arrival abandons).
    pub p_abandon: f64,
    /// P(answered with a wait of at most T).
    pub p_answered_within: f64,
    /// P(abandons with a wait of at most T).
    pub p_abandon_within: f64,
}

/// Solves the M/M/n+G queue for threshold `t`. With `V` the virtual wait, its density on
/// `x > 0` is `λ P_{n−1} e^{λH(x) − nμx}` with `H(x) = ∫₀ˣ Ḡ`, and `P(V = 0)` is the mass of
/// the states with an idle agent.
pub fn mmn_g(lambda: f64, mu: f64, n: u32, t: f64, surv: impl Fn(f64) -> f64) -> MmnG {
    let h = 0.005;
    // Integrate until the density is negligible (the exponent falls 60 below its peak).
    let mut xs = vec![0.0];
    let mut hs = vec![0.0];
    let mut gs = vec![0.0];
    let mut peak = 0.0f64;
    let nmu = f64::from(n) * mu;
    let mut x = 0.0;
    let mut hx = 0.0;
    let mut prev = surv(1e-12);
    loop {
        let next = x + h;
        let cur = surv(next);
        hx += h * (prev + cur) / 2.0;
        prev = cur;
        x = next;
        let g = lambda * hx - nmu * x;
        peak = peak.max(g);
        xs.push(x);
        hs.push(hx);
        gs.push(g);
        if g < peak - 60.0 && x > t {
            break;
        }
    }
    // Everything is scaled by e^{−peak} to stay finite.
    let e: Vec<f64> = gs.iter().map(|g| (g - peak).exp()).collect();
    let trap = |f: &dyn Fn(usize) -> f64, upto: f64| {
        let mut s = 0.0;
        for (i, x) in xs.iter().enumerate().skip(1) {
            if *x > upto + 1e-12 {
                break;
            }
            s += h * (f(i - 1) + f(i)) / 2.0;
        }
        s
    };
    let inf = f64::INFINITY;
    let j = trap(&|i| e[i], inf);
    let a = lambda / mu;
    // ε = Σ_{j<n} P_j / P_{n−1}, scaled like J.
    let mut eps = 0.0;
    let mut term = 1.0; // (n−1)!/j! (μ/λ)^{n−1−j} for j = n−1
    for jj in (0..n).rev() {
        eps += term;
        if jj > 0 {
            term *= f64::from(jj) / a;
        }
    }
    let eps_scaled = eps * (-peak).exp();
    let norm = eps_scaled + lambda * j;
    let g_cdf = |i: usize| 1.0 - surv(xs[i].max(1e-12));
    let p_wait = lambda * j / norm;
    let p_abandon = lambda * trap(&|i| e[i] * g_cdf(i), inf) / norm;
    let answered_waiting_within = lambda * trap(&|i| e[i] * surv(xs[i].max(1e-12)), t) / norm;
    let tail = j - trap(&|i| e[i], t);
    let p_abandon_within = lambda * (trap(&|i| e[i] * g_cdf(i), t) + (1.0 - surv(t)) * tail) / norm;
    MmnG {
        p_wait,
        p_abandon,
        p_answered_within: (1.0 - p_wait) + answered_waiting_within,
        p_abandon_within,
    }
}

/// A birth–death chain's stationary distribution: birth rate `up(n)` from state `n`, death
/// rate `down(n)` from state `n`, over states `0..=max`.
pub fn birth_death(max: usize, up: impl Fn(usize) -> f64, down: impl Fn(usize) -> f64) -> Vec<f64> {
    let mut p = vec![1.0];
    for k in 1..=max {
        let x = p[k - 1] * up(k - 1) / down(k);
        p.push(x);
    }
    let s: f64 = p.iter().sum();
    p.iter().map(|x| x / s).collect()
}

/// Mean and 95% half-width (Student t for n − 1 degrees of freedom, normal beyond 30).
pub fn mean_ci(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    let t = match xs.len() - 1 {
        1 => 12.706,
        2 => 4.303,
        3 => 3.182,
        4 => 2.776,
        5 => 2.571,
        6 => 2.447,
        7 => 2.365,
        8 => 2.306,
        9 => 2.262,
        10..=15 => 2.228,
        16..=30 => 2.12,
        _ => 1.96,
    };
    (m, t * (v / n).sqrt())
}

#[test]
fn references_agree_with_known_values() {
    // Erlang B(10, 10) = 0.2146 (tables).
    assert!((erlang_b(10.0, 10) - 0.21458).abs() < 1e-4);
    // M/M/n+G with exponential patience is Erlang A; with no abandonment it is Erlang C.
    let r = mmn_g(0.3, 1.0 / 60.0, 20, 20.0, |_| 1.0);
    assert!((r.p_wait - erlang_c(18.0, 20)).abs() < 1e-4, "{}", r.p_wait);
    assert!(r.p_abandon.abs() < 1e-9);
    // Erlang C: P(W ≤ t) = 1 − C e^{−(cμ − λ)t}.
    let want = 1.0 - erlang_c(18.0, 20) * (-(20.0 / 60.0 - 0.3) * 20.0f64).exp();
    assert!(
        (r.p_answered_within - want).abs() < 1e-4,
        "{}",
        r.p_answered_within
    );
    // Riordan, A = 20 on 20: B = 0.1588, M = 3.176, V = 8.29 (peakedness 2.6).
    let (m, v) = riordan(20.0, 20);
    assert!(
        (m - 3.176).abs() < 0.01 && (v / m - 2.61).abs() < 0.02,
        "{m} {v}"
    );
}
