//! Measurements taken during one run: counters and time-weighted levels per piece of the
//! timeline (see [`crate::grid`]), and the sums a report takes of them — per report interval,
//! over the steady-state window after the warm-up, and per batch.

use std::sync::Arc;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::breakdown::Breakdown;
use crate::grid::Grid;
use crate::level::Level;

/// Event counts of one piece of the timeline (or their sums over an interval, a window or a
/// run).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Calls offered (first attempts and redials).
    pub offered: f64,
    /// Of those, redials: attempts after a caller's first.
    #[serde(default)]
    pub redials: f64,
    /// Redial attempts lost again, at any of the four stages.
    #[serde(default)]
    pub redials_lost: f64,
    /// Arrivals that found every trunk seized.
    pub trunk_lost: f64,
    /// Callers who got no IVR port and hung up.
    pub ivr_lost: f64,
    /// Callers who abandoned in queue.
    pub queue_abandoned: f64,
    /// Callers who hung up while an agent's phone rang.
    pub ring_lost: f64,
    /// Calls answered by an agent.
    pub answered: f64,
    /// Of those, answered within the SL threshold.
    pub answered_within_sl: f64,
    /// Calls finished in IVR self-service.
    pub ivr_completed: f64,
    /// Calls that reached the ACD.
    pub reached_acd: f64,
    /// Calls that found no idle agent and waited.
    pub waited: f64,
    /// Callers released with a callback entry.
    pub callback_offered: f64,
    /// Callbacks answered by the customer and served.
    pub callback_served: f64,
    /// Callback entries that expired or ran out of attempts.
    pub callback_expired: f64,
    /// Calls sent to voicemail.
    pub voicemail: f64,
    /// Blacklisted callers rejected.
    pub rejected: f64,
    /// Total wait (ACD arrival to answer) of answered calls, seconds.
    pub wait_sum: f64,
    /// Of the calls abandoned after reaching the ACD (queue and ring losses, balks
    /// included), those that had waited at most the SL threshold T ("short abandons").
    #[serde(default)]
    pub abandoned_within_sl: f64,
    /// Callers who hung up on hearing the queue announcement (balked); counted in
    /// `queue_abandoned` too.
    #[serde(default)]
    pub balked: f64,
    /// Callers offered a callback who declined it and stayed in the queue.
    #[serde(default)]
    pub callback_declined: f64,
    /// Callback dial attempts placed.
    #[serde(default)]
    pub callback_attempts: f64,
    /// Callback attempts the customer did not answer.
    #[serde(default)]
    pub callback_unanswered: f64,
    /// Callback dial tries that found every trunk channel seized (retried later; not an
    /// attempt).
    #[serde(default)]
    pub callback_trunk_blocked: f64,
    /// Calls moved to a further agent group's queue by an overflow rule.
    #[serde(default)]
    pub overflowed: f64,
}

impl Counts {
    /// Adds another piece's counts.
    pub fn add(&mut self, o: &Counts) {
        self.offered += o.offered;
        self.redials += o.redials;
        self.redials_lost += o.redials_lost;
        self.trunk_lost += o.trunk_lost;
        self.ivr_lost += o.ivr_lost;
        self.queue_abandoned += o.queue_abandoned;
        self.ring_lost += o.ring_lost;
        self.answered += o.answered;
        self.answered_within_sl += o.answered_within_sl;
        self.ivr_completed += o.ivr_completed;
        self.reached_acd += o.reached_acd;
        self.waited += o.waited;
        self.callback_offered += o.callback_offered;
        self.callback_served += o.callback_served;
        self.callback_expired += o.callback_expired;
        self.voicemail += o.voicemail;
        self.rejected += o.rejected;
        self.wait_sum += o.wait_sum;
        self.abandoned_within_sl += o.abandoned_within_sl;
        self.balked += o.balked;
        self.callback_declined += o.callback_declined;
        self.callback_attempts += o.callback_attempts;
        self.callback_unanswered += o.callback_unanswered;
        self.callback_trunk_blocked += o.callback_trunk_blocked;
        self.overflowed += o.overflowed;
    }

    /// Scales every count (for means across replications).
    pub fn scale(&mut self, k: f64) {
        self.offered *= k;
        self.redials *= k;
        self.redials_lost *= k;
        self.trunk_lost *= k;
        self.ivr_lost *= k;
        self.queue_abandoned *= k;
        self.ring_lost *= k;
        self.answered *= k;
        self.answered_within_sl *= k;
        self.ivr_completed *= k;
        self.reached_acd *= k;
        self.waited *= k;
        self.callback_offered *= k;
        self.callback_served *= k;
        self.callback_expired *= k;
        self.voicemail *= k;
        self.rejected *= k;
        self.wait_sum *= k;
        self.abandoned_within_sl *= k;
        self.balked *= k;
        self.callback_declined *= k;
        self.callback_attempts *= k;
        self.callback_unanswered *= k;
        self.callback_trunk_blocked *= k;
        self.overflowed *= k;
    }
}

/// Everything one run measured.
#[derive(Clone, Debug)]
pub struct RunMetrics {
    /// The timeline's pieces.
    pub grid: Arc<Grid>,
    /// Counts per piece.
    pub pieces: Vec<Counts>,
    /// Busy trunk channels.
    pub trunks: Level,
    /// Busy IVR ports.
    pub ivr: Level,
    /// Calls waiting in queue.
    pub queue: Level,
    /// Agents talking or in after-call work.
    pub agents_busy: Level,
    /// Agents logged in.
    pub agents_staffed: Level,
    /// Waits of answered calls in the window, in milliseconds.
    pub waits_ms: Histogram<u64>,
    /// Per call type, per agent group and per callback attempt (when the scenario has them).
    pub breakdown: Breakdown,
    /// Simulated time at which the last event happened.
    pub end_time: f64,
    /// Events processed.
    pub events: u64,
    /// Trunk capacity (None: unlimited).
    pub trunk_capacity: Option<u32>,
    /// IVR ports (None: no IVR).
    pub ivr_ports: Option<u32>,
    /// The piece `at` last resolved, and its bounds (saves a look-up per count).
    pub(crate) cur: (usize, f64, f64),
    /// Per node and survey figures of the IVR flow (when the IVR runs one).
    pub flow: Option<crate::flow_metrics::FlowMetrics>,
}

/// Sums over a stretch of the timeline: the steady-state window, a batch, or an interval.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Window {
    /// Counts.
    pub counts: Counts,
    /// Length in seconds (0 for an interval that lies in the drain only).
    pub length_s: f64,
    /// ∫ busy agents dt.
    pub busy: f64,
    /// ∫ logged-in agents dt.
    pub staffed: f64,
    /// ∫ busy trunk channels dt.
    pub trunks: f64,
    /// Seconds with every trunk channel seized.
    pub trunks_full: f64,
    /// ∫ busy IVR ports dt.
    pub ivr: f64,
    /// Seconds with every IVR port busy.
    pub ivr_full: f64,
    /// ∫ waiting calls dt.
    pub queue: f64,
}

impl RunMetrics {
    /// Empty measurements on `grid`.
    pub fn new(
        grid: &Arc<Grid>,
        trunk_capacity: Option<u32>,
        ivr_ports: Option<u32>,
        breakdown: Breakdown,
    ) -> RunMetrics {
        RunMetrics {
            grid: Arc::clone(grid),
            pieces: Vec::new(),
            trunks: Level::new(grid, trunk_capacity.map_or(f64::INFINITY, f64::from)),
            ivr: Level::new(grid, ivr_ports.map_or(f64::INFINITY, f64::from)),
            queue: Level::new(grid, f64::INFINITY),
            agents_busy: Level::new(grid, f64::INFINITY),
            agents_staffed: Level::new(grid, f64::INFINITY),
            waits_ms: wait_histogram(),
            breakdown,
            end_time: 0.0,
            events: 0,
            trunk_capacity,
            ivr_ports,
            cur: (0, 1.0, 0.0), // an empty range: the first `at` resolves it
            flow: None,
        }
    }

    /// Counts of the piece containing `t`.
    #[inline]
    pub fn at(&mut self, t: f64) -> &mut Counts {
        let (i, start, end) = self.cur;
        if start <= t && t < end {
            return &mut self.pieces[i];
        }
        self.at_new_piece(t)
    }

    /// Counts of the piece containing `t`, which is not the one `at` last resolved (once per
    /// piece, so kept out of line).
    #[inline(never)]
    fn at_new_piece(&mut self, t: f64) -> &mut Counts {
        let p = self.grid.locate(t.max(0.0));
        self.cur = (p.piece, p.start, p.end);
        if self.pieces.len() <= p.piece {
            self.pieces.resize(p.piece + 1, Counts::default());
        }
        &mut self.pieces[p.piece]
    }

    /// Whether statistics are kept at `t` (at or after the warm-up).
    #[inline]
    pub fn counting(&self, t: f64) -> bool {
        t >= self.grid.warmup()
    }

    /// Integrates every level up to `t`.
    pub fn advance_levels(&mut self, t: f64) {
        for l in [
            &mut self.trunks,
            &mut self.ivr,
            &mut self.queue,
            &mut self.agents_busy,
            &mut self.agents_staffed,
        ] {
            l.advance(t);
        }
        self.breakdown.advance(t);
    }

    /// Counts over the steady-state window: every piece from the end of the warm-up on,
    /// including the drain (calls that arrived in the open hours and ended later).
    pub fn totals(&self) -> Counts {
        self.counts_where(|j| self.grid.counts_in_window(j))
    }

    /// Counts of the whole run, warm-up included.
    pub fn all_counts(&self) -> Counts {
        self.counts_where(|_| true)
    }

    fn counts_where(&self, keep: impl Fn(usize) -> bool) -> Counts {
        let mut c = Counts::default();
        for (j, p) in self.pieces.iter().enumerate() {
            if keep(j) {
                c.add(p);
            }
        }
        c
    }

    /// Sums over the pieces `keep_counts` and `keep_levels` select, `length_s` long.
    fn window_where(
        &self,
        keep_counts: impl Fn(usize) -> bool,
        keep_levels: impl Fn(usize) -> bool + Copy,
        length_s: f64,
    ) -> Window {
        Window {
            counts: self.counts_where(keep_counts),
            length_s,
            busy: self.agents_busy.area_where(keep_levels),
            staffed: self.agents_staffed.area_where(keep_levels),
            trunks: self.trunks.area_where(keep_levels),
            trunks_full: self.trunks.full_where(keep_levels),
            ivr: self.ivr.area_where(keep_levels),
            ivr_full: self.ivr.full_where(keep_levels),
            queue: self.queue.area_where(keep_levels),
        }
    }

    /// The steady-state window: counts from the end of the warm-up on, time integrals over
    /// `[warmup, duration)`.
    pub fn window(&self) -> Window {
        let g = &self.grid;
        self.window_where(
            |j| g.counts_in_window(j),
            |j| g.level_in_window(j),
            g.window_len(),
        )
    }

    /// Batch `b` of the window (batch means).
    pub fn batch(&self, b: usize) -> Window {
        let g = &self.grid;
        let keep = |j| g.piece_batch(j) == Some(b);
        self.window_where(keep, keep, g.batch_len(b))
    }

    /// Report intervals measured (at least those of the open hours).
    pub fn interval_count(&self) -> usize {
        let g = &self.grid;
        let last = self.pieces.len().max(self.agents_staffed.area.len());
        let touched = if last == 0 {
            0
        } else {
            g.piece_interval(last - 1) + 1
        };
        touched.max(g.open_intervals())
    }

    /// Sums per report interval: `out[k]` gains interval `k`'s counts and integrals (the
    /// length is that of its open part).
    pub fn add_intervals(&self, out: &mut Vec<Window>) {
        let g = &self.grid;
        let n = self.interval_count();
        if out.len() < n {
            out.resize(n, Window::default());
        }
        let pieces = self.pieces.len().max(self.agents_staffed.area.len());
        let get = |v: &[f64], j: usize| v.get(j).copied().unwrap_or(0.0);
        for j in 0..pieces {
            let w = &mut out[g.piece_interval(j)];
            if let Some(c) = self.pieces.get(j) {
                w.counts.add(c);
            }
            w.length_s += g.piece_len(j).unwrap_or(0.0);
            w.busy += get(&self.agents_busy.area, j);
            w.staffed += get(&self.agents_staffed.area, j);
            w.trunks += get(&self.trunks.area, j);
            w.trunks_full += get(&self.trunks.full_time, j);
            w.ivr += get(&self.ivr.area, j);
            w.ivr_full += get(&self.ivr.full_time, j);
            w.queue += get(&self.queue.area, j);
        }
    }
}

impl Window {
    /// Adds another window's sums.
    pub fn add(&mut self, o: &Window) {
        self.counts.add(&o.counts);
        self.length_s += o.length_s;
        self.busy += o.busy;
        self.staffed += o.staffed;
        self.trunks += o.trunks;
        self.trunks_full += o.trunks_full;
        self.ivr += o.ivr;
        self.ivr_full += o.ivr_full;
        self.queue += o.queue;
    }
}

/// The histogram of answer waits in milliseconds: up to a week, three significant digits.
pub fn wait_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 7 * 24 * 3_600_000, 3).expect("valid histogram bounds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warmup_is_left_out_of_the_window() {
        let g = Arc::new(Grid::new(60.0, 1000.0, 250.0, 1));
        let mut l: Level<true> = Level::new(&g, f64::INFINITY);
        l.set(0.0, 2.0);
        l.advance(1000.0);
        assert!((l.window_area() - 1500.0).abs() < 1e-9);
        assert!((l.area_sq_where(|j| g.level_in_window(j)) - 3000.0).abs() < 1e-9);
        let mut m = RunMetrics::new(&g, None, None, Breakdown::default());
        m.at(100.0).offered += 1.0;
        m.at(300.0).offered += 1.0;
        m.at(1100.0).answered += 1.0;
        assert_eq!(m.totals().offered, 1.0);
        assert_eq!(m.totals().answered, 1.0);
        assert_eq!(m.all_counts().offered, 2.0);
    }
}
