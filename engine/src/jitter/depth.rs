//! How deep the jitter buffer should be: the delay-variation estimate behind its target,
//! and the RFC 3550 interarrival jitter it reports.
//!
//! Each packet's transit time (arrival clock minus RTP timestamp, in samples) is compared
//! with the smallest transit seen recently (a window rotated every [`MIN_WINDOW`] packets,
//! so a changed path is forgotten); the mean and standard deviation of that excess
//! (exponentially weighted) give `target = mean + 4σ` plus one packet.

/// Packets between rotations of the recent-minimum transit window.
const MIN_WINDOW: u32 = 128;
/// Weight of a new observation in the mean and variance.
const ALPHA: f64 = 1.0 / 32.0;

#[derive(Clone, Debug)]
pub(super) struct DelayEstimate {
    min_cur: i64,
    min_prev: i64,
    min_count: u32,
    mean: f64,
    var: f64,
    last_transit: Option<i64>,
    /// RFC 3550 jitter, in samples × 16.
    jitter_q4: i64,
}

impl DelayEstimate {
    pub fn new() -> DelayEstimate {
        DelayEstimate {
            min_cur: i64::MAX,
            min_prev: i64::MAX,
            min_count: 0,
            mean: 0.0,
            var: 0.0,
            last_transit: None,
            jitter_q4: 0,
        }
    }

    /// Forgets the transit history (a new timeline); the estimate itself is kept.
    pub fn restart(&mut self) {
        self.min_cur = i64::MAX;
        self.min_prev = i64::MAX;
        self.min_count = 0;
        self.last_transit = None;
    }

    /// Folds in one packet's transit time (samples); `clock_rate` bounds an absurd jump.
    pub fn observe(&mut self, transit: i64, clock_rate: u32) {
        if let Some(last) = self.last_transit {
            let d = (transit - last).abs().min(i64::from(clock_rate) * 10);
            self.jitter_q4 += d - ((self.jitter_q4 + 8) >> 4);
        }
        self.last_transit = Some(transit);
        self.min_cur = self.min_cur.min(transit);
        self.min_count += 1;
        if self.min_count >= MIN_WINDOW {
            self.min_prev = self.min_cur;
            self.min_cur = transit;
            self.min_count = 0;
        }
        let base = self.min_cur.min(self.min_prev);
        let excess = (transit - base) as f64;
        let dev = excess - self.mean;
        self.mean += ALPHA * dev;
        self.var = (1.0 - ALPHA) * (self.var + ALPHA * dev * dev);
    }

    /// The depth wanted for packets of `packet_len` samples: `mean + 4σ + packet_len`.
    pub fn wanted(&self, packet_len: i64) -> f64 {
        self.mean + 4.0 * self.var.sqrt() + packet_len as f64
    }

    /// RFC 3550 interarrival jitter in samples × 16.
    pub fn jitter_q4(&self) -> i64 {
        self.jitter_q4
    }
}
