//! A bank of Goertzel filters whose outputs share one phase origin.
//!
//! Each filter runs the Goertzel recurrence over a 10 ms sub-block and turns its final state
//! into the sub-block's complex DFT coefficient at the filter's frequency, rotated so that
//! phase is measured from the first sample of the stream rather than of the sub-block. With a
//! common origin, coefficients of consecutive sub-blocks add up to the coefficient of the
//! longer span (a coherent 50 ms window resolves frequencies 20 Hz apart), and the phase
//! advance from one sub-block to the next measures how far a tone sits from the filter's
//! frequency.
//!
//! The few complex operations are written out here rather than pulling in a complex-number
//! crate for five one-line functions.

use std::f64::consts::{PI, TAU};

/// Samples per sub-block (10 ms at 8 kHz).
pub(crate) const SUB: usize = 80;
/// Sub-blocks per analysis window (50 ms).
pub(crate) const WIN: usize = 5;
/// Most filters in one bank.
pub(crate) const MAX_BINS: usize = 12;

/// A complex number.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct C {
    pub re: f64,
    pub im: f64,
}

impl C {
    pub const fn new(re: f64, im: f64) -> C {
        C { re, im }
    }

    /// `e^{-j w}`.
    pub fn expj_neg(w: f64) -> C {
        C::new(w.cos(), -w.sin())
    }

    pub fn mul(self, o: C) -> C {
        C::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }

    pub fn conj(self) -> C {
        C::new(self.re, -self.im)
    }

    pub fn add(self, o: C) -> C {
        C::new(self.re + o.re, self.im + o.im)
    }

    pub fn norm_sqr(self) -> f64 {
        self.re * self.re + self.im * self.im
    }

    pub fn abs(self) -> f64 {
        self.norm_sqr().sqrt()
    }

    pub fn arg(self) -> f64 {
        self.im.atan2(self.re)
    }
}

/// One frequency's filter.
#[derive(Clone, Copy, Debug, Default)]
struct Bin {
    coeff: f64,
    /// `e^{-jw}`: turns the last two Goertzel states into the DFT value.
    step: C,
    /// `e^{-jw(SUB-1)}`: refers that value to the sub-block's first sample.
    tail: C,
    /// `e^{-jw SUB}`: one sub-block's phase advance.
    advance: C,
    /// `e^{-jw n}` for the first sample `n` of the current sub-block.
    origin: C,
    s1: f64,
    s2: f64,
    /// Coefficients of the last [`WIN`] sub-blocks, oldest first after [`Bank::rotate`].
    ring: [C; WIN],
}

/// The bank: up to [`MAX_BINS`] filters and the energy of each recent sub-block.
#[derive(Clone, Debug)]
pub(crate) struct Bank {
    bins: [Bin; MAX_BINS],
    len: usize,
    /// Index in `ring` of the newest sub-block.
    head: usize,
    energy: [f64; WIN],
    acc_energy: f64,
    fill: usize,
}

impl Bank {
    /// A bank for `freqs` (Hz at 8 kHz); at most [`MAX_BINS`] of them.
    pub fn new(freqs: &[f64]) -> Bank {
        let mut bins = [Bin::default(); MAX_BINS];
        for (b, &f) in bins.iter_mut().zip(freqs) {
            let w = TAU * f / 8000.0;
            *b = Bin {
                coeff: 2.0 * w.cos(),
                step: C::expj_neg(w),
                tail: C::expj_neg(w * (SUB - 1) as f64),
                advance: C::expj_neg(w * SUB as f64),
                origin: C::new(1.0, 0.0),
                ..Bin::default()
            };
        }
        Bank {
            bins,
            len: freqs.len().min(MAX_BINS),
            head: WIN - 1,
            energy: [0.0; WIN],
            acc_energy: 0.0,
            fill: 0,
        }
    }

    /// Feeds one sample; returns true when it completed a sub-block.
    #[inline]
    pub fn push(&mut self, x: i16) -> bool {
        let v = f64::from(x);
        self.acc_energy += v * v;
        for b in &mut self.bins[..self.len] {
            let s0 = v + b.coeff * b.s1 - b.s2;
            b.s2 = b.s1;
            b.s1 = s0;
        }
        self.fill += 1;
        if self.fill < SUB {
            return false;
        }
        self.fill = 0;
        self.head = (self.head + 1) % WIN;
        self.energy[self.head] = self.acc_energy;
        self.acc_energy = 0.0;
        for b in &mut self.bins[..self.len] {
            // y = s1 - e^{-jw} s2 = Σ x[k] e^{jw(N-1-k)}; refer it to the sub-block's start and
            // then to the stream's origin.
            let y = C::new(b.s1, 0.0).add(b.step.mul(C::new(-b.s2, 0.0)));
            b.ring[self.head] = b.origin.mul(b.tail.mul(y));
            let o = b.origin.mul(b.advance);
            // Renormalise so rounding never lets the phasor's magnitude drift.
            let m = o.abs();
            b.origin = if m > 0.0 {
                C::new(o.re / m, o.im / m)
            } else {
                C::new(1.0, 0.0)
            };
            b.s1 = 0.0;
            b.s2 = 0.0;
        }
        true
    }

    /// Coefficient of filter `i` in the sub-block `age` sub-blocks before the newest (0 = the
    /// newest), `age < WIN`.
    pub fn coeff(&self, i: usize, age: usize) -> C {
        self.bins[i].ring[(self.head + WIN - age) % WIN]
    }

    /// Energy (sum of squares) of the sub-block `age` sub-blocks before the newest.
    pub fn energy(&self, age: usize) -> f64 {
        self.energy[(self.head + WIN - age) % WIN]
    }

    /// Energy of the whole window.
    pub fn window_energy(&self) -> f64 {
        self.energy.iter().sum()
    }

    /// Energy-equivalent power of filter `i` over the window, summed coherently: a sine of
    /// amplitude `a` on the filter's frequency gives its energy in the window, `a² N / 2`.
    pub fn coherent_power(&self, i: usize) -> f64 {
        let s = self.bins[i]
            .ring
            .iter()
            .fold(C::default(), |acc, &c| acc.add(c));
        s.norm_sqr() * 2.0 / (SUB * WIN) as f64
    }

    /// Smallest and largest sub-block power of filter `i` within the window.
    pub fn sub_power_range(&self, i: usize) -> (f64, f64) {
        self.bins[i]
            .ring
            .iter()
            .map(|c| c.norm_sqr())
            .fold((f64::INFINITY, 0.0f64), |(lo, hi), p| {
                (lo.min(p), hi.max(p))
            })
    }

    /// For filter `i` over the window: the sum of `X[k] · conj(X[k-1])` over consecutive
    /// sub-blocks (its argument is the phase advance per sub-block) and the sum of
    /// `|X[k]| |X[k-1]|` (their ratio is 1 for a steady tone).
    pub fn phase_advance(&self, i: usize) -> (C, f64) {
        let mut z = C::default();
        let mut mag = 0.0;
        for age in 0..WIN - 1 {
            let (new, old) = (self.coeff(i, age), self.coeff(i, age + 1));
            z = z.add(new.mul(old.conj()));
            mag += new.abs() * old.abs();
        }
        (z, mag)
    }

    /// Energy-equivalent power of filter `i` summed over the window's sub-blocks one by one
    /// (not coherently), corrected for the sub-block filter's gain at `offset_hz` from its
    /// centre.
    pub fn band_power(&self, i: usize, offset_hz: f64) -> f64 {
        let p: f64 = self.bins[i].ring.iter().map(|c| c.norm_sqr()).sum();
        let g = dirichlet(offset_hz, SUB);
        p * 2.0 / SUB as f64 / (g * g).max(1e-6)
    }
}

/// Magnitude response, relative to the centre, of an `n`-point DFT bin at `offset_hz` from
/// its frequency (8 kHz sampling).
pub(crate) fn dirichlet(offset_hz: f64, n: usize) -> f64 {
    let x = PI * offset_hz / 8000.0;
    if x.abs() < 1e-12 {
        return 1.0;
    }
    ((n as f64 * x).sin() / (n as f64 * x.sin())).abs()
}

/// Phase advance per sub-block (radians) to a frequency offset in Hz.
pub(crate) fn offset_hz(advance: f64) -> f64 {
    advance * 8000.0 / (TAU * SUB as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(f: f64, a: f64, n: usize, phase: f64) -> Vec<i16> {
        (0..n)
            .map(|i| (a * (TAU * f * i as f64 / 8000.0 + phase).cos()).round() as i16)
            .collect()
    }

    #[test]
    fn coherent_power_is_the_window_energy_of_a_sine_on_frequency() {
        let mut b = Bank::new(&[450.0, 425.0]);
        for &x in &sine(450.0, 10000.0, SUB * WIN, 0.3) {
            b.push(x);
        }
        let e = b.window_energy();
        assert!((b.coherent_power(0) / e - 1.0).abs() < 0.01);
        // 25 Hz away over 50 ms: about -15 dB.
        assert!(b.coherent_power(1) / e < 0.05);
    }

    #[test]
    fn phase_advance_measures_the_offset() {
        for off in [-45.0, -36.2, -10.0, 0.0, 23.3, 35.2, 48.0] {
            let mut b = Bank::new(&[950.0]);
            for &x in &sine(950.0 + off, 8000.0, SUB * WIN * 3 + 17, 1.0) {
                b.push(x);
            }
            let (z, mag) = b.phase_advance(0);
            assert!((offset_hz(z.arg()) - off).abs() < 0.5, "{off}");
            assert!(z.abs() / mag > 0.999);
            let e = (0..WIN).map(|a| b.energy(a)).sum::<f64>();
            // The negative-frequency image leaks a few percent into a 10 ms bin.
            assert!((b.band_power(0, off) / e - 1.0).abs() < 0.04, "{off}");
        }
    }
}
