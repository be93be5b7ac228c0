//! Measurements taken during one run: counters per interval and time-weighted levels.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// A quantity that changes in steps (busy trunks, queue length): its time integral, in total
/// and per interval, and the time it spent at or above a threshold.
#[derive(Clone, Debug)]
pub struct Level {
    value: f64,
    last: f64,
    interval: f64,
    /// ∫ value dt per interval.
    pub area: Vec<f64>,
    /// Seconds at or above `full_at` per interval.
    pub full_time: Vec<f64>,
    full_at: f64,
    /// Highest value seen.
    pub peak: f64,
    /// Interval of `last` and the time that interval ends (saves a division per update).
    cur: usize,
    cur_end: f64,
}

impl Level {
    /// A level starting at 0, with intervals of `interval` seconds and a "full" threshold.
    pub fn new(interval: f64, full_at: f64) -> Level {
        Level {
            value: 0.0,
            last: 0.0,
            interval,
            area: Vec::new(),
            full_time: Vec::new(),
            full_at,
            peak: 0.0,
            cur: 0,
            cur_end: interval,
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
        // Fast path, inlined: still inside the interval of the last change.
        if t <= self.cur_end && self.cur < self.area.len() {
            let dt = t - self.last;
            self.area[self.cur] += self.value * dt;
            if self.value >= self.full_at {
                self.full_time[self.cur] += dt;
            }
            self.last = t;
            return;
        }
        self.advance_across(t);
    }

    /// Integrates up to `t` across interval boundaries (once per interval, so kept out of
    /// line).
    #[inline(never)]
    fn advance_across(&mut self, t: f64) {
        let full = self.value >= self.full_at;
        let mut a = self.last;
        while a < t {
            let idx = (a / self.interval) as usize;
            let end = ((idx + 1) as f64 * self.interval).min(t);
            if self.area.len() <= idx {
                self.area.resize(idx + 1, 0.0);
                self.full_time.resize(idx + 1, 0.0);
            }
            self.area[idx] += self.value * (end - a);
            if full {
                self.full_time[idx] += end - a;
            }
            a = end;
        }
        self.last = t;
        self.cur = (t / self.interval) as usize;
        self.cur_end = (self.cur + 1) as f64 * self.interval;
        if self.area.len() <= self.cur {
            self.area.resize(self.cur + 1, 0.0);
            self.full_time.resize(self.cur + 1, 0.0);
        }
    }

    /// ∫ value dt over the intervals that start before `t` (the open hours when `t` is the
    /// scenario's duration).
    pub fn area_before(&self, t: f64) -> f64 {
        let n = (t / self.interval).ceil() as usize;
        self.area.iter().take(n).sum()
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

/// Event counts of one interval.
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
}

impl Counts {
    /// Adds another interval's counts.
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
    }

    /// Scales every count (for means across replications).
    pub fn scale(&mut self, k: f64) {
        let mut s = Counts::default();
        s.add(self);
        *self = Counts {
            offered: s.offered * k,
            redials: s.redials * k,
            redials_lost: s.redials_lost * k,
            trunk_lost: s.trunk_lost * k,
            ivr_lost: s.ivr_lost * k,
            queue_abandoned: s.queue_abandoned * k,
            ring_lost: s.ring_lost * k,
            answered: s.answered * k,
            answered_within_sl: s.answered_within_sl * k,
            ivr_completed: s.ivr_completed * k,
            reached_acd: s.reached_acd * k,
            waited: s.waited * k,
            callback_offered: s.callback_offered * k,
            callback_served: s.callback_served * k,
            callback_expired: s.callback_expired * k,
            voicemail: s.voicemail * k,
            rejected: s.rejected * k,
            wait_sum: s.wait_sum * k,
        };
    }
}

/// Everything one run measured.
#[derive(Clone, Debug)]
pub struct RunMetrics {
    /// Counts per interval.
    pub intervals: Vec<Counts>,
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
    /// Waits of answered calls, in milliseconds.
    pub waits_ms: Histogram<u64>,
    /// Simulated time at which the last event happened.
    pub end_time: f64,
    /// Events processed.
    pub events: u64,
    /// Trunk capacity (None: unlimited).
    pub trunk_capacity: Option<u32>,
    /// IVR ports (None: no IVR).
    pub ivr_ports: Option<u32>,
    /// The interval `at` last resolved, and its bounds (saves a division per count).
    pub(crate) cur: (usize, f64, f64),
}

impl RunMetrics {
    /// Counts of the interval containing `t`.
    #[inline]
    pub fn at(&mut self, t: f64, interval: f64) -> &mut Counts {
        let (i, start, end) = self.cur;
        if start <= t && t < end {
            return &mut self.intervals[i];
        }
        self.at_new_interval(t, interval)
    }

    /// Counts of the interval containing `t`, which is not the one `at` last resolved (once
    /// per interval, so kept out of line).
    #[inline(never)]
    fn at_new_interval(&mut self, t: f64, interval: f64) -> &mut Counts {
        let i = (t / interval) as usize;
        self.cur = (i, i as f64 * interval, (i + 1) as f64 * interval);
        if self.intervals.len() <= i {
            self.intervals.resize(i + 1, Counts::default());
        }
        &mut self.intervals[i]
    }

    /// Totals over all intervals.
    pub fn totals(&self) -> Counts {
        let mut c = Counts::default();
        for i in &self.intervals {
            c.add(i);
        }
        c
    }
}
