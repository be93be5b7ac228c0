//! How a run's timeline is cut for measurement.
//!
//! A run measures counts and time integrals in **pieces** of its timeline. The pieces are cut
//! at every report interval boundary `k · interval_s`, at the end of the warm-up, at the end
//! of arrivals (`duration_s`) and, for batch means, at every batch boundary. Each piece then
//! belongs to exactly one report interval, lies wholly inside or outside the warm-up and the
//! open hours, and to at most one batch, so intervals, the steady-state window and batches are
//! all exact sums of pieces, whatever the interval width and however badly it divides the
//! run.
//!
//! Boundaries are computed once, as the products `k as f64 · interval_s` (and the like), and
//! a time is placed by comparing it with those very numbers: a piece always ends strictly
//! after any time placed in it, so integrating across pieces always makes progress.

/// Drain pieces (after the end of arrivals) kept at most; the last absorbs everything later.
pub const MAX_DRAIN_PIECES: usize = 10_000;

/// The cuts of a scenario's timeline (shared by its replications).
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    interval: f64,
    warmup: f64,
    duration: f64,
    /// Cut times in `[0, duration]`, strictly increasing; the first is 0, the last
    /// `duration`. Piece `j < cuts.len() - 1` is `[cuts[j], cuts[j + 1])`.
    cuts: Vec<f64>,
    /// Report interval of each piece before `duration`.
    interval_of: Vec<u32>,
    /// Batch of each piece before `duration` (`NO_BATCH` in the warm-up).
    batch_of: Vec<u32>,
    /// Start times of the batches (after the first, which starts at the warm-up's end).
    batch_starts: Vec<f64>,
    batches: u32,
    /// First piece at or after the warm-up.
    first_after_warmup: usize,
    /// Report interval containing `duration`.
    k_end: u64,
    max_pieces: usize,
}

/// Batch index of pieces outside every batch.
pub const NO_BATCH: u32 = u32::MAX;

/// Where a time falls: the piece, and the piece's start and end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Place {
    /// Piece index.
    pub piece: usize,
    /// Its start.
    pub start: f64,
    /// Its end (infinite for the last drain piece).
    pub end: f64,
}

impl Grid {
    /// The grid of a run with report intervals of `interval` seconds, arrivals during
    /// `[0, duration)`, statistics discarded before `warmup`, and `batches` equal batches
    /// over `[warmup, duration)` (0 or 1: no batches). Callers check the arguments first:
    /// `interval > 0`, `0 ≤ warmup < duration`, a bounded number of intervals.
    pub fn new(interval: f64, duration: f64, warmup: f64, batches: u32) -> Grid {
        let mut cuts = vec![0.0];
        let mut k = 1u64;
        loop {
            let b = k as f64 * interval;
            if b >= duration {
                break;
            }
            cuts.push(b);
            k += 1;
        }
        if warmup > 0.0 && warmup < duration {
            cuts.push(warmup);
        }
        let batches = batches.max(1);
        let batch_len = (duration - warmup) / f64::from(batches);
        let batch_starts: Vec<f64> = (1..batches)
            .map(|j| warmup + f64::from(j) * batch_len)
            .filter(|b| *b > warmup && *b < duration)
            .collect();
        cuts.extend(&batch_starts);
        cuts.push(duration);
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        let mut g = Grid {
            interval,
            warmup,
            duration,
            interval_of: Vec::with_capacity(cuts.len()),
            batch_of: Vec::with_capacity(cuts.len()),
            batch_starts,
            batches,
            first_after_warmup: 0,
            k_end: 0,
            max_pieces: 0,
            cuts,
        };
        let n = g.cuts.len() - 1;
        for j in 0..n {
            let s = g.cuts[j];
            g.interval_of.push(g.interval_index(s) as u32);
            g.batch_of.push(if s < warmup {
                NO_BATCH
            } else {
                g.batch_starts.partition_point(|b| *b <= s) as u32
            });
        }
        g.first_after_warmup = g.cuts.partition_point(|c| *c < warmup);
        g.k_end = g.interval_index(duration);
        g.max_pieces = n + MAX_DRAIN_PIECES;
        g
    }

    /// Report interval width.
    pub fn interval(&self) -> f64 {
        self.interval
    }

    /// End of the warm-up.
    pub fn warmup(&self) -> f64 {
        self.warmup
    }

    /// End of arrivals.
    pub fn duration(&self) -> f64 {
        self.duration
    }

    /// Batches over `[warmup, duration)` (1 when batch means are off).
    pub fn batches(&self) -> u32 {
        self.batches
    }

    /// The report interval containing `t ≥ 0`: the `k` with `k · interval ≤ t < (k + 1) ·
    /// interval`, the products computed as everywhere else.
    pub fn interval_index(&self, t: f64) -> u64 {
        let iv = self.interval;
        let mut k = (t / iv) as u64;
        while k > 0 && k as f64 * iv > t {
            k -= 1;
        }
        while ((k + 1) as f64) * iv <= t {
            k += 1;
        }
        k
    }

    /// Pieces before the end of arrivals.
    pub fn open_pieces(&self) -> usize {
        self.cuts.len() - 1
    }

    /// Where time `t ≥ 0` falls. The piece's end is strictly after `t`.
    pub fn locate(&self, t: f64) -> Place {
        let n = self.open_pieces();
        if t < self.duration {
            let j = self.cuts.partition_point(|c| *c <= t).max(1) - 1;
            return Place {
                piece: j,
                start: self.cuts[j],
                end: self.cuts[j + 1],
            };
        }
        let k = self.interval_index(t);
        let j = n + (k - self.k_end).min(usize::MAX as u64 / 2) as usize;
        if j >= self.max_pieces - 1 {
            let last = self.max_pieces - 1;
            return Place {
                piece: last,
                start: self.piece_start(last),
                end: f64::INFINITY,
            };
        }
        Place {
            piece: j,
            start: (k as f64 * self.interval).max(self.duration),
            end: (k + 1) as f64 * self.interval,
        }
    }

    /// Start of piece `j`.
    pub fn piece_start(&self, j: usize) -> f64 {
        let n = self.open_pieces();
        if j < n {
            self.cuts[j]
        } else {
            let k = self.k_end + (j - n) as u64;
            (k as f64 * self.interval).max(self.duration)
        }
    }

    /// Length of piece `j` (`None` for drain pieces, which end when the run does).
    pub fn piece_len(&self, j: usize) -> Option<f64> {
        (j < self.open_pieces()).then(|| self.cuts[j + 1] - self.cuts[j])
    }

    /// Report interval of piece `j`.
    pub fn piece_interval(&self, j: usize) -> usize {
        let n = self.open_pieces();
        if j < n {
            self.interval_of[j] as usize
        } else {
            (self.k_end + (j - n) as u64) as usize
        }
    }

    /// Batch of piece `j`, if any (drain and warm-up pieces are in none).
    pub fn piece_batch(&self, j: usize) -> Option<usize> {
        match self.batch_of.get(j) {
            Some(&b) if b != NO_BATCH => Some(b as usize),
            _ => None,
        }
    }

    /// Whether counts in piece `j` are statistics (at or after the warm-up).
    pub fn counts_in_window(&self, j: usize) -> bool {
        j >= self.first_after_warmup
    }

    /// Whether time integrals of piece `j` are in the steady-state window `[warmup,
    /// duration)`.
    pub fn level_in_window(&self, j: usize) -> bool {
        j >= self.first_after_warmup && j < self.open_pieces()
    }

    /// Length of the window `[warmup, duration)`.
    pub fn window_len(&self) -> f64 {
        self.duration - self.warmup
    }

    /// Length of batch `b`.
    pub fn batch_len(&self, b: usize) -> f64 {
        let start = if b == 0 {
            self.warmup
        } else {
            self.batch_starts[b - 1]
        };
        let end = self.batch_starts.get(b).copied().unwrap_or(self.duration);
        end - start
    }

    /// Report intervals touched before the end of arrivals (the last one may continue into
    /// the drain).
    pub fn open_intervals(&self) -> usize {
        self.k_end as usize + usize::from(self.k_end as f64 * self.interval < self.duration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_timeline_exactly() {
        let g = Grid::new(600.0, 1000.0, 0.0, 1);
        assert_eq!(g.cuts, vec![0.0, 600.0, 1000.0]);
        assert_eq!(g.locate(700.0).piece, 1);
        let p = g.locate(1000.0);
        assert_eq!((p.piece, p.start, p.end), (2, 1000.0, 1200.0));
        let p = g.locate(1300.0);
        assert_eq!((p.piece, p.start, p.end), (3, 1200.0, 1800.0));
        assert_eq!(g.piece_interval(2), 1);
        assert_eq!(g.piece_interval(3), 2);
        assert_eq!(g.open_intervals(), 2);
    }

    #[test]
    fn awkward_widths_always_make_progress() {
        for iv in [7.3, 1.2, 0.6, 0.1, 0.7, 1.0 / 3.0] {
            let g = Grid::new(iv, 60.0, 0.0, 1);
            let mut t = 0.0;
            let mut steps = 0usize;
            while t < 200.0 {
                let p = g.locate(t);
                assert!(p.start <= t && t < p.end, "{iv}: {t} in {p:?}");
                t = p.end;
                steps += 1;
            }
            let expected = (200.0 / iv).ceil() as usize;
            assert!(steps.abs_diff(expected) <= 1, "{iv}: {steps} vs {expected}");
        }
    }

    #[test]
    fn warmup_and_batches_are_cuts() {
        let g = Grid::new(60.0, 1000.0, 130.0, 4);
        // Batches of (1000 − 130) / 4 = 217.5 s.
        assert!(g.cuts.contains(&130.0) && g.cuts.contains(&347.5) && g.cuts.contains(&782.5));
        assert!(!g.counts_in_window(g.locate(129.0).piece));
        assert!(g.counts_in_window(g.locate(130.0).piece));
        assert_eq!(g.piece_batch(g.locate(347.5).piece), Some(1));
        assert_eq!(g.piece_batch(g.locate(999.0).piece), Some(3));
        assert_eq!(g.piece_batch(g.locate(1000.0).piece), None);
        assert!((g.batch_len(3) - 217.5).abs() < 1e-9);
        let total: f64 = (0..g.open_pieces())
            .filter(|&j| g.level_in_window(j))
            .map(|j| g.piece_len(j).unwrap())
            .sum();
        assert!((total - 870.0).abs() < 1e-9);
    }

    #[test]
    fn the_drain_is_bounded() {
        let g = Grid::new(1.0, 10.0, 0.0, 1);
        let p = g.locate(1e9);
        assert_eq!(p.piece, g.open_pieces() + MAX_DRAIN_PIECES - 1);
        assert_eq!(p.end, f64::INFINITY);
    }
}
