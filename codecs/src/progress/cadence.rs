//! Tone runs and their cadence: which configured plan a sequence of on/off intervals of one
//! frequency set follows.

use super::{ProgressEvent, ProgressPlan};
use crate::tone::TonePlan;

/// Cycles of history kept per frequency set.
pub(crate) const HISTORY: usize = 8;
/// Most steps in a plan's cadence.
pub(crate) const MAX_STEPS: usize = 4;
/// Absolute slack added to the relative cadence tolerance, in milliseconds: the measurement's
/// own resolution (10 ms steps, edges found to about ±5 ms) plus margin.
pub(crate) const SLACK_MS: f64 = 20.0;
/// A cadence is confirmed once it has repeated for at least this long …
const CONFIRM_MS: u32 = 1500;
/// … and at least one whole cycle.
const MIN_CYCLES: usize = 1;

/// Whether `measured` ms is within tolerance of `nominal` ms.
pub(crate) fn within(measured: f64, nominal: u32, tolerance: f64) -> bool {
    (measured - f64::from(nominal)).abs() <= tolerance * f64::from(nominal) + SLACK_MS
}

/// The longest interval (ms) that still matches `nominal`.
pub(crate) fn upper(nominal: u32, tolerance: f64) -> f64 {
    f64::from(nominal) * (1.0 + tolerance) + SLACK_MS
}

/// Cycles (on/off pairs) a plan must show before it is reported: enough to cover
/// [`CONFIRM_MS`], never fewer than one full cadence, never more than the history holds.
pub(crate) fn cycles_needed(plan: &TonePlan) -> usize {
    let steps = plan.cadence.len().max(1);
    let cycle_ms: u32 = plan.cadence.iter().map(|(a, b)| a + b).sum();
    let reps = CONFIRM_MS.div_ceil(cycle_ms.max(1)) as usize;
    (reps.max(MIN_CYCLES) * steps).min(HISTORY / steps * steps)
}

#[derive(Clone, Copy, Debug, Default)]
struct Cycle {
    on_ms: f64,
    off_ms: f64,
    onset: u64,
}

/// One frequency set's cadence state: the current run of "on" windows, the last finished
/// burst and the cycles seen since the pattern last broke.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cadence {
    /// The current burst: onset and end (samples).
    run: Option<(u64, u64)>,
    /// The last finished burst.
    last_on: Option<(u64, u64)>,
    cycles: [Cycle; HISTORY],
    n: usize,
    /// A cadenced plan was reported since the pattern last broke.
    reported: bool,
    /// The current burst was reported as a continuous (dial) tone.
    dial_reported: bool,
}

/// What a frequency set's plans allow, computed once.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Limits {
    /// Longest burst any cadenced plan allows (ms); longer is a continuous tone.
    pub max_on: f64,
    /// Longest gap any cadenced plan allows (ms); longer breaks the pattern.
    pub max_off: f64,
    /// A continuous burst this long (ms) is a dial tone, if the set has a dial plan.
    pub dial_ms: f64,
    /// Relative tolerance of bursts and gaps.
    pub tolerance: f64,
}

impl Cadence {
    /// A window of this frequency set was on, covering samples `start..end`.
    pub fn on(
        &mut self,
        start: u64,
        end: u64,
        now: u64,
        plans: &[ProgressPlan],
        limits: &Limits,
        emit: &mut impl FnMut(ProgressEvent),
    ) {
        match &mut self.run {
            Some((_, e)) => *e = end,
            None => {
                self.run = Some((start, end));
                self.burst_started(start, now, plans, limits, emit);
            }
        }
        let (onset, e) = self.run.unwrap_or((start, end));
        let len = ms(e - onset);
        if !self.dial_reported
            && len >= limits.dial_ms
            && let Some(p) = plans.iter().find(|p| p.plan.cadence.is_empty())
        {
            self.dial_reported = true;
            emit(ProgressEvent {
                kind: p.kind,
                plan: Some(p.plan.name),
                start_sample: onset,
                at_sample: now,
            });
        }
    }

    /// A window of this frequency set was not on; `now` is the window's end.
    pub fn off(&mut self, now: u64, limits: &Limits) {
        if let Some((onset, end)) = self.run.take() {
            self.dial_reported = false;
            if ms(end - onset) > limits.max_on {
                self.reset();
            } else {
                self.last_on = Some((onset, end));
            }
        }
        if let Some((_, end)) = self.last_on
            && ms(now.saturating_sub(end)) > limits.max_off
        {
            self.reset();
        }
    }

    /// Forgets the pattern (another tone started, or the cadence broke).
    pub fn reset(&mut self) {
        self.run = None;
        self.last_on = None;
        self.n = 0;
        self.reported = false;
        self.dial_reported = false;
    }

    fn burst_started(
        &mut self,
        onset: u64,
        now: u64,
        plans: &[ProgressPlan],
        limits: &Limits,
        emit: &mut impl FnMut(ProgressEvent),
    ) {
        let Some((prev_onset, prev_end)) = self.last_on.take() else {
            return;
        };
        let off = ms(onset.saturating_sub(prev_end));
        if off > limits.max_off {
            self.n = 0;
            self.reported = false;
            return;
        }
        let cycle = Cycle {
            on_ms: ms(prev_end - prev_onset),
            off_ms: off,
            onset: prev_onset,
        };
        if self.n == HISTORY {
            self.cycles.copy_within(1.., 0);
            self.n -= 1;
        }
        self.cycles[self.n] = cycle;
        self.n += 1;
        if self.reported {
            return;
        }
        for p in plans.iter().filter(|p| !p.plan.cadence.is_empty()) {
            if let Some(first) = self.matches(p.plan, limits.tolerance) {
                self.reported = true;
                emit(ProgressEvent {
                    kind: p.kind,
                    plan: Some(p.plan.name),
                    start_sample: first,
                    at_sample: now,
                });
                return;
            }
        }
    }

    /// If the latest cycles follow `plan`'s cadence (in any rotation), the onset of the first
    /// of them.
    fn matches(&self, plan: &TonePlan, tolerance: f64) -> Option<u64> {
        let need = cycles_needed(plan);
        if self.n < need {
            return None;
        }
        let recent = &self.cycles[self.n - need..self.n];
        let k = plan.cadence.len();
        (0..k)
            .any(|r| {
                recent.iter().enumerate().all(|(i, c)| {
                    let (on, off) = plan.cadence[(r + i) % k];
                    within(c.on_ms, on, tolerance) && within(c.off_ms, off, tolerance)
                })
            })
            .then(|| recent[0].onset)
    }
}

fn ms(samples: u64) -> f64 {
    samples as f64 / 8.0
}

/// Limits for a frequency set's plans.
pub(crate) fn limits(plans: &[ProgressPlan], tolerance: f64, dial_min_ms: u32) -> Limits {
    let mut l = Limits {
        tolerance,
        ..Limits::default()
    };
    for p in plans {
        for &(on, off) in p.plan.cadence {
            l.max_on = l.max_on.max(upper(on, tolerance));
            l.max_off = l.max_off.max(upper(off, tolerance));
        }
    }
    // A continuous tone must outlast every cadenced burst of the same frequencies.
    l.dial_ms = f64::from(dial_min_ms).max(l.max_on + 100.0);
    l
}
