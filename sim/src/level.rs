//! A quantity that changes in steps on the run's timeline (busy trunks, queue length) and its
//! time integrals per piece of the timeline (see [`crate::grid`]).

use std::sync::Arc;

use crate::grid::Grid;

/// A quantity that changes in steps (busy trunks, queue length): its time integral per piece
/// of the timeline, the time it spent at or above a threshold, and with `SQ` the integral of
/// its square (for its variance).
#[derive(Clone, Debug)]
pub struct Level<const SQ: bool = false> {
    value: f64,
    last: f64,
    grid: Arc<Grid>,
    /// ∫ value dt per piece.
    pub area: Vec<f64>,
    /// ∫ value² dt per piece (empty unless `SQ`).
    pub area_sq: Vec<f64>,
    /// Seconds at or above `full_at` per piece.
    pub full_time: Vec<f64>,
    full_at: f64,
    /// Highest value seen.
    pub peak: f64,
    /// Piece of `last` and the time that piece ends (saves a look-up per update).
    cur: usize,
    cur_end: f64,
}

impl<const SQ: bool> Level<SQ> {
    /// A level starting at 0 on `grid`, with a "full" threshold.
    pub fn new(grid: &Arc<Grid>, full_at: f64) -> Level<SQ> {
        Level {
            value: 0.0,
            last: 0.0,
            grid: Arc::clone(grid),
            area: Vec::new(),
            area_sq: Vec::new(),
            full_time: Vec::new(),
            full_at,
            peak: 0.0,
            cur: 0,
            cur_end: 0.0,
        }
    }

    /// Sets the level at time `t`.
    #[inline]
    pub fn set(&mut self, t: f64, v: f64) {
        if v == self.value {
            return;
        }
        self.advance(t);
        self.value = v;
        if v > self.peak {
            self.peak = v;
        }
    }

    /// Adds `d` at time `t`.
    #[inline]
    pub fn add(&mut self, t: f64, d: f64) {
        let v = self.value + d;
        self.set(t, v);
    }

    /// The current value.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// Integrates up to `t`.
    #[inline]
    pub fn advance(&mut self, t: f64) {
        if t <= self.last {
            return;
        }
        // Fast path, inlined: still inside the piece of the last change.
        if t <= self.cur_end && self.cur < self.area.len() {
            let dt = t - self.last;
            self.area[self.cur] += self.value * dt;
            if SQ {
                self.area_sq[self.cur] += self.value * self.value * dt;
            }
            if self.value >= self.full_at {
                self.full_time[self.cur] += dt;
            }
            self.last = t;
            return;
        }
        self.advance_across(t);
    }

    /// Integrates up to `t` across piece boundaries (once per piece, so kept out of line).
    #[inline(never)]
    fn advance_across(&mut self, t: f64) {
        let full = self.value >= self.full_at;
        let mut a = self.last;
        loop {
            let p = self.grid.locate(a);
            if self.area.len() <= p.piece {
                self.area.resize(p.piece + 1, 0.0);
                self.full_time.resize(p.piece + 1, 0.0);
                if SQ {
                    self.area_sq.resize(p.piece + 1, 0.0);
                }
            }
            // The piece ends after `a` by construction; the guard only makes sure.
            let end = if p.end > a { p.end.min(t) } else { t };
            let dt = end - a;
            self.area[p.piece] += self.value * dt;
            if SQ {
                self.area_sq[p.piece] += self.value * self.value * dt;
            }
            if full {
                self.full_time[p.piece] += dt;
            }
            self.cur = p.piece;
            self.cur_end = p.end;
            a = end;
            if a >= t {
                break;
            }
        }
        self.last = t;
    }

    /// ∫ value dt over the pieces `keep` selects.
    pub fn area_where(&self, keep: impl Fn(usize) -> bool) -> f64 {
        sum_where(&self.area, keep)
    }

    /// ∫ value² dt over the pieces `keep` selects (0 unless `SQ`).
    pub fn area_sq_where(&self, keep: impl Fn(usize) -> bool) -> f64 {
        sum_where(&self.area_sq, keep)
    }

    /// Seconds at or above the threshold over the pieces `keep` selects.
    pub fn full_where(&self, keep: impl Fn(usize) -> bool) -> f64 {
        sum_where(&self.full_time, keep)
    }

    /// ∫ value dt over the steady-state window `[warmup, duration)`.
    pub fn window_area(&self) -> f64 {
        self.area_where(|j| self.grid.level_in_window(j))
    }

    /// ∫ value dt over the whole run.
    pub fn total_area(&self) -> f64 {
        self.area.iter().sum()
    }

    /// Seconds at or above the threshold over the whole run.
    pub fn total_full_time(&self) -> f64 {
        self.full_time.iter().sum()
    }
}

fn sum_where(v: &[f64], keep: impl Fn(usize) -> bool) -> f64 {
    v.iter()
        .enumerate()
        .filter(|(j, _)| keep(*j))
        .map(|(_, x)| x)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_integrate_exactly_whatever_the_interval() {
        // A level of 1 over [0, 1000) and 0 after: its window area is 1000 whatever the
        // interval, including intervals that do not divide the run.
        for iv in [600.0, 100.0, 7.3, 1.2, 0.6, 0.1] {
            let g = Arc::new(Grid::new(iv, 1000.0, 0.0, 1));
            let mut l: Level = Level::new(&g, 1.0);
            l.set(0.0, 1.0);
            l.set(1000.0, 0.0);
            l.advance(1234.5);
            assert!(
                (l.window_area() - 1000.0).abs() < 1e-6,
                "{iv}: {}",
                l.window_area()
            );
            assert!((l.total_full_time() - 1000.0).abs() < 1e-6);
        }
    }
}
