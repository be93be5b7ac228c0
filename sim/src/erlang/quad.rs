//! Integrals of `e^ψ(u) · w_k(u)` for a concave `ψ`, returned in scaled form.
//!
//! Every Erlang formula here reduces to such integrals (see the parent module), whose values
//! range far beyond `f64` (e^±10⁶ is common with thousands of agents). The integral is
//! returned as `e^ln_scale · value` with `ln_scale = ψ` at the peak, so ratios between
//! integrals stay exact whatever their size.
//!
//! The method: the peak `p` of `ψ` on `[lo, hi]` is known in closed form; the window is
//! widened from `p` by doubling until `ψ` has fallen [`SPAN`] below the peak (or the end of
//! the interval is reached). Concavity bounds what is cut off: beyond a point `r` with
//! `ψ(r) ≤ ψ(p) - SPAN`, the integrand lies under `e^(ψ(p) - SPAN·(u-p)/(r-p))`, so the tail
//! is at most `e^-SPAN` times the window's mass. The window is then integrated by globally
//! adaptive Gauss–Kronrod (7/15 points, the QUADPACK QAG scheme: split the panel with the
//! largest error until every weighted integral meets the tolerance), starting from panels
//! graded geometrically towards the peak and towards where the weights change, so that no
//! feature is narrower than the panel holding it. The integrands are analytic and
//! unimodal, so a few dozen panels give close to machine precision.
//!
//! Hand-written because the crates that integrate numerically neither take a vector of
//! weights over one set of nodes nor return scaled results.

/// The integrand is cut where it has fallen by `e^SPAN` (≈ 10⁻²⁰) from its peak.
const SPAN: f64 = 46.0;
/// Relative tolerance of each weighted integral (the Gauss–Kronrod error estimate
/// `|K15 - G7|` is the error of the 7-point rule, far above that of the 15-point one).
const REL_TOL: f64 = 1e-11;
/// Bound on the panels of one integral (beyond the first, graded ones); reached only by
/// pathological input.
const MAX_PANELS: usize = 400;

/// A concave log-density `ψ` with weight functions, integrated by [`integrate`].
pub(crate) trait LogConcave<const N: usize> {
    /// `ψ(u)`, concave.
    fn psi(&self, u: f64) -> f64;
    /// `ψ'(u)`.
    fn slope(&self, u: f64) -> f64;
    /// `ψ''(u)` (≤ 0).
    fn curvature(&self, u: f64) -> f64;
    /// Where `ψ` is largest over its whole domain.
    fn peak(&self) -> f64;
    /// The weights `w_k(u)`, all ≥ 0.
    fn weights(&self, u: f64) -> [f64; N];
    /// Where the weights vary and over what length, if they are not constant: the
    /// integration grades its first panels towards that point as well as towards the peak,
    /// so that a weight much narrower than `e^ψ` is not stepped over.
    fn weight_feature(&self) -> Option<(f64, f64)> {
        None
    }
}

/// `∫ e^ψ w_k = e^ln_scale · value[k]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Scaled<const N: usize> {
    /// Log of the common scale factor.
    pub ln_scale: f64,
    /// The integrals divided by `e^ln_scale`.
    pub value: [f64; N],
}

impl<const N: usize> Scaled<N> {
    /// The integrals over an empty interval.
    pub fn zero() -> Self {
        Self {
            ln_scale: f64::NEG_INFINITY,
            value: [0.0; N],
        }
    }

    /// `self + other`, on the larger of the two scales.
    pub fn plus(&self, other: &Self) -> Self {
        let ln_scale = self.ln_scale.max(other.ln_scale);
        if ln_scale == f64::NEG_INFINITY {
            return Self::zero();
        }
        let a = (self.ln_scale - ln_scale).exp();
        let b = (other.ln_scale - ln_scale).exp();
        let mut value = [0.0; N];
        for (k, v) in value.iter_mut().enumerate() {
            *v = a * self.value[k] + b * other.value[k];
        }
        Self { ln_scale, value }
    }

    /// This integral's `value` expressed on `other`'s scale.
    pub fn on_scale_of(&self, other: &Self) -> [f64; N] {
        let f = (self.ln_scale - other.ln_scale).exp();
        self.value.map(|v| if v == 0.0 { 0.0 } else { v * f })
    }

    /// `ln ∫ e^ψ w_k`.
    pub fn ln(&self, k: usize) -> f64 {
        self.ln_scale + self.value[k].ln()
    }
}

/// `∫_lo^hi e^ψ(u) w_k(u) du` for every weight. `hi` may be `+∞` and `lo` `-∞` when `ψ`
/// decays there. NaN values mean the integrand did not decay (degenerate input).
pub(crate) fn integrate<const N: usize>(f: &impl LogConcave<N>, lo: f64, hi: f64) -> Scaled<N> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return Scaled::zero();
    }
    let p = f.peak().clamp(lo, hi);
    let top = f.psi(p);
    if !top.is_finite() {
        return Scaled {
            ln_scale: f64::NAN,
            value: [f64::NAN; N],
        };
    }
    let h = first_step(f, p, hi - lo);
    let r = reach(f, p, top, h, hi);
    let l = reach(f, p, top, -h, lo);
    if !(l.is_finite() && r.is_finite()) {
        return Scaled {
            ln_scale: f64::NAN,
            value: [f64::NAN; N],
        };
    }
    Scaled {
        ln_scale: top,
        value: adaptive(f, &first_panels(f, l, p, r, h), top),
    }
}

/// Panel boundaries over `[l, r]`, graded geometrically around the peak `p` (from its scale
/// `h` outwards) and around the weights' feature point (from a quarter of its length to 512
/// times it), so that every panel is small near the places where the integrand changes fast.
fn first_panels<const N: usize>(
    f: &impl LogConcave<N>,
    l: f64,
    p: f64,
    r: f64,
    h: f64,
) -> Vec<f64> {
    let mut pts = vec![l, p, r];
    let mut grade = |c: f64, mut step: f64, times: usize| {
        for _ in 0..times {
            for x in [c - step, c + step] {
                if x > l && x < r {
                    pts.push(x);
                }
            }
            if c - step <= l && c + step >= r {
                break;
            }
            step *= 2.0;
        }
    };
    grade(p, h, 64);
    if let Some((c, len)) = f.weight_feature() {
        grade(c, 0.0, 1);
        grade(c, len / 4.0, 12);
    }
    pts.sort_by(f64::total_cmp);
    pts.dedup();
    pts
}

/// A length over which `ψ` changes by about one near `p`: the exponential scale
/// `1/|ψ'|` or the Gaussian scale `1/√|ψ''|`, whichever is shorter.
fn first_step<const N: usize>(f: &impl LogConcave<N>, p: f64, width: f64) -> f64 {
    let d = f.slope(p).abs() + (-f.curvature(p)).max(0.0).sqrt();
    let h = 1.0 / d;
    if h.is_finite() && h > 0.0 {
        h
    } else if width.is_finite() {
        width
    } else {
        1.0
    }
}

/// From the peak `p` towards `end` (direction of `step`): the first point where `ψ` has
/// fallen by [`SPAN`], or `end`. The step is first shrunk so that the window is not mostly
/// empty, then doubled.
fn reach<const N: usize>(f: &impl LogConcave<N>, p: f64, top: f64, mut step: f64, end: f64) -> f64 {
    let up = step > 0.0;
    let past = |x: f64| if up { x >= end } else { x <= end };
    if p == end {
        return end;
    }
    let fallen = |x: f64| f.psi(x) - top <= -SPAN;
    for _ in 0..64 {
        let x = p + step;
        if past(x) || !fallen(x) {
            break;
        }
        step *= 0.5;
    }
    // At most ~2100 doublings fit in an f64; a ψ that has not fallen by then does not decay.
    for _ in 0..2200 {
        let x = p + step;
        if past(x) {
            return end;
        }
        if fallen(x) {
            return x;
        }
        step *= 2.0;
        if !step.is_finite() {
            break;
        }
    }
    f64::NAN
}

struct Panel<const N: usize> {
    a: f64,
    b: f64,
    est: [f64; N],
    err: [f64; N],
}

fn adaptive<const N: usize>(f: &impl LogConcave<N>, points: &[f64], top: f64) -> [f64; N] {
    let mut panels: Vec<Panel<N>> = points
        .windows(2)
        .map(|w| gauss_kronrod(f, w[0], w[1], top))
        .collect();
    loop {
        let mut total = [0.0; N];
        let mut err = [0.0; N];
        for q in &panels {
            for k in 0..N {
                total[k] += q.est[k];
                err[k] += q.err[k];
            }
        }
        let done = (0..N).all(|k| err[k] <= REL_TOL * total[k].abs() || err[k] < 1e-300);
        if done || panels.len() >= MAX_PANELS {
            return total;
        }
        // Split the panel whose error weighs most against its integral's total.
        let weight = |q: &Panel<N>| {
            (0..N)
                .map(|k| q.err[k] / total[k].abs().max(1e-300))
                .fold(0.0, f64::max)
        };
        let worst = (0..panels.len())
            .max_by(|&i, &j| weight(&panels[i]).total_cmp(&weight(&panels[j])))
            .unwrap_or(0);
        let q = panels.swap_remove(worst);
        let m = q.a + 0.5 * (q.b - q.a);
        if !(m > q.a && m < q.b) {
            // The panel cannot be split in f64: keep its estimate.
            panels.push(Panel { err: [0.0; N], ..q });
            continue;
        }
        panels.push(gauss_kronrod(f, q.a, m, top));
        panels.push(gauss_kronrod(f, m, q.b, top));
    }
}

/// Kronrod nodes on [-1, 1] (non-negative half) and weights, from QUADPACK's `qk15`.
const XGK: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
const WGK: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_2,
    0.140_653_259_715_525_9,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_8,
];
/// Gauss 7-point weights for the nodes XGK[1], XGK[3], XGK[5], XGK[7].
const WG: [f64; 4] = [
    0.129_484_966_168_869_7,
    0.279_705_391_489_276_7,
    0.381_830_050_505_118_9,
    0.417_959_183_673_469_4,
];

fn gauss_kronrod<const N: usize>(f: &impl LogConcave<N>, a: f64, b: f64, top: f64) -> Panel<N> {
    let c = a + 0.5 * (b - a);
    let h = 0.5 * (b - a);
    let mut kron = [0.0; N];
    let mut gauss = [0.0; N];
    let mut add = |u: f64, i: usize| {
        let d = (f.psi(u) - top).exp();
        if d == 0.0 {
            return;
        }
        let w = f.weights(u);
        for k in 0..N {
            let v = d * w[k];
            kron[k] += WGK[i] * v;
            if i % 2 == 1 {
                gauss[k] += WG[i / 2] * v;
            }
        }
    };
    for (i, x) in XGK.iter().enumerate().take(7) {
        add(c - h * x, i);
        add(c + h * x, i);
    }
    add(c, 7);
    let mut est = [0.0; N];
    let mut err = [0.0; N];
    for k in 0..N {
        est[k] = kron[k] * h;
        err[k] = ((kron[k] - gauss[k]) * h).abs();
    }
    Panel { a, b, est, err }
}

/// `v - ln(1 + v)` for `v > -1`, without cancellation near 0.
pub(crate) fn log1p_gap(v: f64) -> f64 {
    if v.abs() < 0.1 {
        // Σ_{k≥2} (-v)^k / k · (-1)^... = v²/2 - v³/3 + v⁴/4 - …
        let mut term = v * v;
        let mut sum = 0.0;
        for k in 2..40 {
            let t = term / f64::from(k);
            sum += if k % 2 == 0 { t } else { -t };
            if t.abs() < 1e-18 * sum.abs() {
                break;
            }
            term *= v;
        }
        sum
    } else {
        v - v.ln_1p()
    }
}

/// `(e^-y - 1 + y) / y` (0 at y = 0), without cancellation near 0.
pub(crate) fn exp_gap_ratio(y: f64) -> f64 {
    if y.abs() < 0.1 {
        // y/2 - y²/6 + y³/24 - … = Σ_{k≥2} (-y)^k / k! / y
        let mut term = 0.5 * y; // (-y)^2/2! / y
        let mut sum = 0.0;
        for k in 2..40 {
            sum += term;
            if term.abs() < 1e-18 * sum.abs() {
                break;
            }
            term *= -y / f64::from(k + 1);
        }
        sum
    } else {
        ((-y).exp_m1() + y) / y
    }
}

/// `1 - e^-y (1 + y)` for `y ≥ 0`, without cancellation near 0.
pub(crate) fn one_minus_exp_poly(y: f64) -> f64 {
    if y < 0.1 {
        // Σ_{k≥2} (-1)^k (k-1) y^k / k!
        let mut pow_fact = y * y / 2.0; // y^k / k!
        let mut sum = 0.0;
        for k in 2..40 {
            let t = f64::from(k - 1) * pow_fact;
            sum += if k % 2 == 0 { t } else { -t };
            if t < 1e-18 * sum.abs() {
                break;
            }
            pow_fact *= y / f64::from(k + 1);
        }
        sum
    } else {
        -(-y).exp_m1() - y * (-y).exp()
    }
}

/// `ln(1 + e^x)` without overflow.
pub(crate) fn ln_one_plus_exp(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// `1 / (1 + e^-x)` and `1 / (1 + e^x)`: a probability and its complement from their log-odds
/// `x`, each to full relative precision.
pub(crate) fn logistic_pair(x: f64) -> (f64, f64) {
    if x >= 0.0 {
        let e = (-x).exp();
        (1.0 / (1.0 + e), e / (1.0 + e))
    } else {
        let e = x.exp();
        (e / (1.0 + e), 1.0 / (1.0 + e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Gauss {
        sd: f64,
    }
    impl LogConcave<2> for Gauss {
        fn psi(&self, u: f64) -> f64 {
            -0.5 * (u / self.sd).powi(2)
        }
        fn slope(&self, u: f64) -> f64 {
            -u / (self.sd * self.sd)
        }
        fn curvature(&self, _: f64) -> f64 {
            -1.0 / (self.sd * self.sd)
        }
        fn peak(&self) -> f64 {
            0.0
        }
        fn weights(&self, u: f64) -> [f64; 2] {
            [1.0, u * u]
        }
    }

    #[test]
    fn a_gaussian_integrates_to_its_moments() {
        for sd in [1e-9, 1e-3, 1.0, 7.5, 1e6, 1e150] {
            let g = Gauss { sd };
            let all = integrate(&g, f64::NEG_INFINITY, f64::INFINITY);
            let norm = (2.0 * std::f64::consts::PI).sqrt() * sd;
            assert!(
                (all.value[0] / norm - 1.0).abs() < 1e-13,
                "sd {sd}: {all:?}"
            );
            if sd < 1e100 {
                assert!((all.value[1] / (norm * sd * sd) - 1.0).abs() < 1e-12);
            }
            // Half-line, and a slice far in the tail (scaled, so it does not underflow).
            let half = integrate(&g, 0.0, f64::INFINITY);
            assert!((half.value[0] / (norm / 2.0) - 1.0).abs() < 1e-13);
            let tail = integrate(&g, 40.0 * sd, f64::INFINITY);
            // Mills ratio: ∫_x^∞ e^{-u²/2} ≈ e^{-x²/2}/x (1 - 1/x² + 3/x⁴ - 15/x⁶).
            let x: f64 = 40.0;
            let mills = (1.0 - 1.0 / x.powi(2) + 3.0 / x.powi(4) - 15.0 / x.powi(6)) / x;
            assert!((tail.ln_scale + 800.0).abs() < 1e-9);
            assert!((tail.value[0] / (sd * mills) - 1.0).abs() < 1e-7);
        }
        assert_eq!(integrate(&Gauss { sd: 1.0 }, 3.0, 3.0), Scaled::zero());
    }

    #[test]
    fn series_branches_agree_with_direct_forms() {
        for x in [0.099_999, 0.1, -0.099_999, 0.05, 1e-5] {
            assert!((log1p_gap(x) - (x - x.ln_1p())).abs() < 1e-9 * log1p_gap(x).abs());
            let y: f64 = x;
            let direct = ((-y).exp_m1() + y) / y;
            assert!((exp_gap_ratio(y) - direct).abs() < 1e-9 * direct.abs());
        }
        for y in [0.099_999_f64, 0.05, 0.01] {
            let direct = -(-y).exp_m1() - y * (-y).exp();
            assert!((one_minus_exp_poly(y) - direct).abs() < 1e-9 * direct);
        }
        assert_eq!(exp_gap_ratio(0.0), 0.0);
        let want = 5e-21 - 1e-30 / 3.0;
        assert!((log1p_gap(1e-10) - want).abs() < 1e-15 * want);
        let (p, q) = logistic_pair(-700.0);
        assert!((p / (-700.0f64).exp() - 1.0).abs() < 1e-15 && q == 1.0);
        assert!((ln_one_plus_exp(1000.0) - 1000.0).abs() < 1e-12);
    }
}
