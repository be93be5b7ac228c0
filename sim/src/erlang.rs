//! Analytic oracles: Erlang B (M/M/c/c), Erlang C (M/M/n) and Erlang A (M/M/n+M, Palm).
//!
//! All three stay stable for thousands of servers: Erlang B by its recursion (no factorials),
//! Erlang C from Erlang B, and Erlang A from its birth–death stationary distribution summed
//! in scaled form. Erlang A's waiting-time measures use the fact that a waiting caller with
//! `k` callers ahead leaves each position at rate `nμ + (k+1)θ` (service completions, the
//! abandonment of those ahead, and its own), reaching an agent with probability
//! `Π (nμ + iθ) / (nμ + (i+1)θ)`; its conditional wait is a sum of exponentials, whose
//! distribution is computed by uniformisation.

/// Erlang B: blocking probability with `a` Erlang offered to `n` servers.
pub fn erlang_b(a: f64, n: u32) -> f64 {
    let mut b = 1.0;
    for k in 1..=n {
        b = a * b / (f64::from(k) + a * b);
    }
    b
}

/// Erlang C measures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErlangC {
    /// Probability a caller waits.
    pub p_wait: f64,
    /// Mean wait of all callers, seconds.
    pub asa_s: f64,
    /// Fraction answered within the threshold.
    pub service_level: f64,
    /// Agent occupancy a / n.
    pub occupancy: f64,
}

/// Erlang C with arrival rate `lambda` (per s), mean handle time `aht` (s), `n` agents and SL
/// threshold `t` (s). `None` if the load is at or above `n` (the queue grows without bound).
pub fn erlang_c(lambda: f64, aht: f64, n: u32, t: f64) -> Option<ErlangC> {
    let a = lambda * aht;
    let nf = f64::from(n);
    if a >= nf || n == 0 {
        return None;
    }
    let b = erlang_b(a, n);
    let c = nf * b / (nf - a * (1.0 - b));
    let mu = 1.0 / aht;
    let rate = nf * mu - lambda;
    Some(ErlangC {
        p_wait: c,
        asa_s: c / rate,
        service_level: 1.0 - c * (-rate * t).exp(),
        occupancy: a / nf,
    })
}

/// Erlang A measures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErlangA {
    /// Probability a caller finds every agent busy and waits.
    pub p_wait: f64,
    /// Probability a caller abandons.
    pub p_abandon: f64,
    /// Mean wait of answered callers (ACD arrival to answer), seconds.
    pub asa_s: f64,
    /// Mean wait of all callers (until answer or abandonment), seconds.
    pub mean_wait_all_s: f64,
    /// Answered within the threshold ÷ all callers (= answered + abandoned).
    pub service_level: f64,
    /// Agent occupancy (carried load ÷ n).
    pub occupancy: f64,
}

/// Erlang A (M/M/n+M) with arrival rate `lambda`, mean handle time `aht`, mean patience
/// `patience` (all seconds), `n` agents and SL threshold `t`.
pub fn erlang_a(lambda: f64, aht: f64, patience: f64, n: u32, t: f64) -> ErlangA {
    let mu = 1.0 / aht;
    let theta = 1.0 / patience;
    let nf = f64::from(n);
    let a = lambda / mu;
    // Stationary probabilities relative to π_n, built outward from n so nothing overflows:
    // below n, π_{j-1} = π_j · j / a; above, π_{n+k} = π_{n+k-1} · λ / (nμ + kθ).
    let mut below = 0.0; // Σ_{j<n} π_j / π_n
    let mut r = 1.0;
    for j in (1..=n).rev() {
        r *= f64::from(j) / a;
        below += r;
        if r < 1e-300 {
            break;
        }
    }
    let mut tail = Vec::new(); // π_{n+k} / π_n, k ≥ 0
    let mut x = 1.0;
    let mut k = 0u32;
    loop {
        tail.push(x);
        k += 1;
        x *= lambda / (nf * mu + f64::from(k) * theta);
        if x < 1e-16 * tail.iter().sum::<f64>() || k > 1_000_000 {
            break;
        }
    }
    let waiting_mass: f64 = tail.iter().sum();
    let total = below + waiting_mass;
    let pi = |k: usize| tail[k] / total;
    let p_wait = waiting_mass / total;
    let lq: f64 = (0..tail.len()).map(|k| k as f64 * pi(k)).sum();
    let p_abandon = theta * lq / lambda;
    // Stage rates for a waiting caller with i callers ahead.
    let s = |i: usize| nf * mu + (i as f64 + 1.0) * theta;
    // Probability of being served and mean wait if served, for each k ahead.
    let mut served_mass = vec![0.0; tail.len()];
    let mut served_wait = 0.0;
    let mut p_serve = 1.0;
    let mut mean_if_served = 0.0;
    for (k, m) in served_mass.iter_mut().enumerate() {
        p_serve *= (nf * mu + k as f64 * theta) / s(k);
        mean_if_served += 1.0 / s(k);
        *m = pi(k) * p_serve;
        served_wait += *m * mean_if_served;
    }
    let answered = 1.0 - p_abandon;
    // P(served by t) via uniformisation of the stage chain: mass at stage k moves to k-1
    // at rate s(k)·(advance share); the answered-by-t mass is what leaves stage 0 by t.
    let within = served_within(&served_mass, &s, t);
    let carried = lambda * answered * aht;
    ErlangA {
        p_wait,
        p_abandon,
        asa_s: if answered > 0.0 {
            served_wait / answered
        } else {
            0.0
        },
        mean_wait_all_s: lq / lambda,
        service_level: (1.0 - p_wait) + within,
        occupancy: (carried / nf).min(1.0),
    }
}

/// Of the mass `m[k]` of callers who will be served after passing stages k, k-1, …, 0 (stage
/// i lasting Exp(s(i))), the part served by time `t`.
fn served_within(m: &[f64], s: &dyn Fn(usize) -> f64, t: f64) -> f64 {
    let total: f64 = m.iter().sum();
    if total == 0.0 || t <= 0.0 {
        return 0.0;
    }
    let big = (0..m.len()).map(s).fold(0.0, f64::max);
    let lt = big * t;
    // Each uniformised step: stay with probability 1 - s(k)/Λ, else move down a stage; from
    // stage 0 a move means served.
    let mut v = m.to_vec();
    let mut poisson = (-lt).exp();
    let mut log_poisson = -lt;
    let mut remaining = 0.0; // Σ_steps P(N = steps) · mass still waiting after `steps`
    let max_steps = (lt + 10.0 * lt.sqrt() + 50.0) as usize;
    let mut cumulative = 0.0;
    for step in 0..=max_steps {
        let w = if poisson > 0.0 {
            poisson
        } else {
            log_poisson.exp()
        };
        remaining += w * v.iter().sum::<f64>();
        cumulative += w;
        let mut next = vec![0.0; v.len()];
        for (k, &mass) in v.iter().enumerate() {
            let go = s(k) / big;
            next[k] += mass * (1.0 - go);
            if k > 0 {
                next[k - 1] += mass * go;
            }
        }
        v = next;
        log_poisson += lt.ln() - ((step + 1) as f64).ln();
        poisson = log_poisson.exp();
        if cumulative > 1.0 - 1e-12 {
            break;
        }
    }
    (total - remaining).max(0.0)
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
}
