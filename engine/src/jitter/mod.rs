//! The jitter buffer: received G.711 packets in, one tick of PCM out.
//!
//! Audio is stored decoded in a ring indexed by RTP timestamp, one "present" flag per
//! sample. Playout is by timestamp, not by packet, so reordering, duplicates, partial
//! overlaps and any packetisation time (10, 20, 30 ms…) fall out of the same code: a pop
//! reads the next `samples_per_tick` samples of the timeline, whatever packets they came in.
//!
//! **Depth.** Playout starts `target` samples behind the first packet. In adaptive mode the
//! target follows the measured delay variation: each packet's transit time (arrival clock
//! minus RTP timestamp) is compared with the smallest transit seen recently; the mean and
//! standard deviation of that excess (exponentially weighted) give `target = mean + 4σ`
//! plus one packet, clamped to `[min_ms, max_ms]` and rounded up to whole ticks.
//!
//! **Adapting** never cuts into speech at random: the buffer grows by playing one
//! concealment frame without advancing the timeline when it is short of its target and the
//! next frame has not arrived; it shrinks by skipping one frame when it holds more than two
//! ticks over target, at most once every ten ticks, preferring quiet frames.
//!
//! **Losses** are concealed with G.711 Appendix I-style PLC ([`Plc`]); after 60 ms of loss
//! the concealment has faded to silence.
//!
//! Storage is in `timeline`, the depth estimate in `depth`. No allocation after
//! construction; time is passed in, never read.

mod depth;
mod timeline;

use tandem_codecs::g711::Law;
use tandem_codecs::plc::Plc;
use tandem_codecs::seq::ts_diff;
use tandem_codecs::vad::frame_dbov;

use self::depth::DelayEstimate;
use self::timeline::Timeline;
use crate::time::Micros;

/// How deep the buffer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JitterMode {
    /// A constant depth.
    Fixed {
        /// Depth in milliseconds.
        depth_ms: u32,
    },
    /// Sized from measured jitter, between the bounds.
    Adaptive {
        /// Smallest depth, ms.
        min_ms: u32,
        /// Largest depth, ms.
        max_ms: u32,
    },
}

/// Jitter buffer settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JitterConfig {
    /// Fixed or adaptive.
    pub mode: JitterMode,
    /// RTP clock rate (8000 for G.711).
    pub clock_rate: u32,
    /// Samples per pop (one shard tick).
    pub samples_per_tick: usize,
    /// Tick period in milliseconds.
    pub tick_ms: u32,
}

impl Default for JitterConfig {
    fn default() -> Self {
        JitterConfig {
            mode: JitterMode::Adaptive {
                min_ms: 20,
                max_ms: 200,
            },
            clock_rate: 8000,
            samples_per_tick: 160,
            tick_ms: 20,
        }
    }
}

impl JitterConfig {
    /// A fixed-depth buffer with 20 ms ticks at 8 kHz.
    pub fn fixed(depth_ms: u32) -> JitterConfig {
        JitterConfig {
            mode: JitterMode::Fixed { depth_ms },
            ..JitterConfig::default()
        }
    }
}

/// What happened to an inserted packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InsertOutcome {
    /// Stored for playout.
    Accepted,
    /// Its samples were all stored already.
    Duplicate,
    /// It arrived after its playout time.
    Late,
    /// It lies too far from the timeline (a sender restart or a long pause with a clock
    /// jump): the buffer restarted its timeline from this packet.
    Resynced,
}

/// What one pop produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PopOutcome {
    /// Received audio (possibly with a few concealed samples in a partial frame).
    Played,
    /// Packet-loss concealment.
    Concealed,
    /// Nothing: before the first packet, or after concealment has faded.
    Silence,
}

/// Counters and current sizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets stored.
    pub accepted: u64,
    /// Packets whose samples were all present.
    pub duplicates: u64,
    /// Packets after their playout time.
    pub late: u64,
    /// Timeline restarts.
    pub resyncs: u64,
    /// Pops of received audio.
    pub played_frames: u64,
    /// Pops of concealment.
    pub concealed_frames: u64,
    /// Pops of silence.
    pub silence_frames: u64,
    /// Frames skipped to shrink the buffer.
    pub dropped_frames: u64,
    /// Frames inserted to grow it.
    pub stretched_frames: u64,
    /// RFC 3550 interarrival jitter, microseconds.
    pub jitter_us: u64,
    /// Current target depth, ms.
    pub target_depth_ms: u32,
    /// Audio buffered ahead of the playout point, ms.
    pub depth_ms: u32,
}

/// Pops between two shrinking skips.
const SHRINK_SPACING: u32 = 10;
/// A frame below this level counts as quiet (a good place to skip).
const QUIET_DBOV: f64 = -45.0;

/// A jitter buffer for one received stream.
#[derive(Clone, Debug)]
pub struct JitterBuffer {
    cfg: JitterConfig,
    timeline: Timeline,
    plc: Plc,
    started: bool,
    played_any: bool,
    /// Extended timestamp of the next sample to play.
    play: i64,
    /// One past the newest stored sample.
    newest: i64,
    /// Length of the last packet, in samples.
    packet_len: i64,
    /// Target depth, samples.
    target: i64,
    delay: DelayEstimate,
    since_shrink: u32,
    frame: Vec<i16>,
    stats: JitterStats,
}

impl JitterBuffer {
    /// An empty buffer.
    pub fn new(cfg: JitterConfig) -> JitterBuffer {
        let max_ms = match cfg.mode {
            JitterMode::Fixed { depth_ms } => depth_ms,
            JitterMode::Adaptive { max_ms, .. } => max_ms,
        };
        // Room for the deepest target, a second of packets arriving early, and a tick.
        let want = (max_ms as usize + 1000) * cfg.clock_rate as usize / 1000 + cfg.samples_per_tick;
        let mut jb = JitterBuffer {
            cfg,
            timeline: Timeline::new(want),
            plc: Plc::new(),
            started: false,
            played_any: false,
            play: 0,
            newest: 0,
            packet_len: cfg.samples_per_tick as i64,
            target: 0,
            delay: DelayEstimate::new(),
            since_shrink: 0,
            frame: vec![0; cfg.samples_per_tick],
            stats: JitterStats::default(),
        };
        jb.target = jb.bounds().0;
        jb
    }

    fn ms_to_samples(&self, ms: u32) -> i64 {
        i64::from(ms) * i64::from(self.cfg.clock_rate) / 1000
    }

    /// Target bounds in samples.
    fn bounds(&self) -> (i64, i64) {
        match self.cfg.mode {
            JitterMode::Fixed { depth_ms } => {
                let d = self.ms_to_samples(depth_ms);
                (d, d)
            }
            JitterMode::Adaptive { min_ms, max_ms } => (
                self.ms_to_samples(min_ms),
                self.ms_to_samples(max_ms.max(min_ms)),
            ),
        }
    }

    fn capacity(&self) -> i64 {
        self.timeline.len() as i64 - self.cfg.samples_per_tick as i64
    }

    /// Stores one received packet.
    pub fn insert(
        &mut self,
        now: Micros,
        _seq: u16,
        timestamp: u32,
        law: Law,
        payload: &[u8],
    ) -> InsertOutcome {
        let len = payload.len().min(self.capacity() as usize / 2) as i64;
        let arrival = (now.as_us() as i128 * i128::from(self.cfg.clock_rate) / 1_000_000) as i64;
        if !self.started {
            self.restart(timestamp);
        }
        let mut ts = self.play + i64::from(ts_diff(timestamp, self.play as u32));
        let mut outcome = InsertOutcome::Accepted;
        if ts + len > self.play + self.capacity() || ts + len <= self.play - self.capacity() {
            self.restart(timestamp);
            ts = self.play + i64::from(ts_diff(timestamp, self.play as u32));
            self.stats.resyncs += 1;
            outcome = InsertOutcome::Resynced;
        }
        self.observe_transit(arrival - ts);
        // Re-anchor after an underrun. Nothing buffered at or ahead of the playout point
        // means pop has been concealing in place (stretching); a packet more than the
        // target ahead then ends a silence period (DTX) or an outage, not jitter. Without
        // this the whole gap would be played out afterwards, adding its length to the
        // delay. Only missing samples are skipped, and concealment is already playing.
        if self.newest <= self.play && ts - self.target > self.play {
            self.play = ts - self.target;
        }
        if ts < self.play {
            self.stats.late += 1;
            return InsertOutcome::Late;
        }
        let payload = &payload[..len as usize];
        if len > 0 && self.timeline.count_present(ts, payload.len()) == payload.len() {
            self.stats.duplicates += 1;
            return InsertOutcome::Duplicate;
        }
        // Overlapping samples (a re-packetised retransmission) carry the same audio, so
        // the whole packet is simply written.
        self.timeline.write(ts, law, payload);
        if len > 0 {
            self.packet_len = len;
        }
        self.newest = self.newest.max(ts + len);
        self.stats.accepted += 1;
        outcome
    }

    /// Starts the timeline so that this packet plays `target` from now.
    fn restart(&mut self, timestamp: u32) {
        self.timeline.clear_all();
        let ts = i64::from(timestamp);
        self.play = ts - self.target;
        self.newest = ts;
        self.started = true;
        self.delay.restart();
    }

    /// Updates the delay estimate from one transit time and, in adaptive mode, the target:
    /// rounded up to whole ticks and clamped to the bounds.
    fn observe_transit(&mut self, transit: i64) {
        self.delay.observe(transit, self.cfg.clock_rate);
        if let JitterMode::Adaptive { .. } = self.cfg.mode {
            let (lo, hi) = self.bounds();
            let want = self.delay.wanted(self.packet_len);
            let tick = self.cfg.samples_per_tick as i64;
            let rounded = ((want.ceil() as i64 + tick - 1) / tick) * tick;
            self.target = rounded.clamp(lo, hi);
        }
    }

    /// Produces one tick of audio into `out` (`samples_per_tick` long).
    pub fn pop(&mut self, _now: Micros, out: &mut [i16]) -> PopOutcome {
        let n = out.len().min(self.frame.len());
        let out = &mut out[..n];
        if !self.started {
            out.fill(0);
            self.stats.silence_frames += 1;
            return PopOutcome::Silence;
        }
        self.since_shrink = self.since_shrink.saturating_add(1);
        let depth = self.newest - self.play;
        let have = self.timeline.count_present(self.play, n);
        // Grow: short of target and the next frame is not here yet. Conceal in place.
        if have == 0 && depth < self.target && depth >= 0 {
            self.stats.stretched_frames += 1;
            return self.conceal(out);
        }
        // Shrink: well over target; skip one frame, preferring a quiet one.
        let tick = n as i64;
        let dropped_before = self.stats.dropped_frames;
        if depth > self.target + 2 * tick && self.since_shrink >= SHRINK_SPACING && have == n {
            self.timeline.read(self.play, out, true);
            if frame_dbov(out) < QUIET_DBOV || depth > self.target + 4 * tick {
                self.timeline.clear(self.play, n);
                self.play += tick;
                self.since_shrink = 0;
                self.stats.dropped_frames += 1;
            }
        }
        let have = if self.stats.dropped_frames > dropped_before {
            self.timeline.count_present(self.play, n)
        } else {
            have
        };
        let outcome = if have == 0 {
            self.conceal(out)
        } else {
            if have < n {
                // A partial frame: conceal the holes from the same history.
                self.plc.conceal(&mut self.frame[..n]);
                out.copy_from_slice(&self.frame[..n]);
            }
            self.timeline.read(self.play, out, have == n);
            self.plc.good_frame(out);
            self.played_any = true;
            self.stats.played_frames += 1;
            PopOutcome::Played
        };
        self.timeline.clear(self.play, n);
        self.play += tick;
        // Stop an idle stream's playout from running away from the buffer forever.
        if self.play > self.newest + self.capacity() {
            self.newest = self.play;
        }
        outcome
    }

    fn conceal(&mut self, out: &mut [i16]) -> PopOutcome {
        if !self.played_any {
            // Nothing to conceal from yet: the wait before the first frame is silence,
            // and the first frame then plays untouched.
            out.fill(0);
            self.stats.silence_frames += 1;
            return PopOutcome::Silence;
        }
        // Concealment fades to silence 60 ms into a loss; from then on it is silence.
        self.plc.conceal(out);
        if out.iter().all(|&s| s == 0) {
            self.stats.silence_frames += 1;
            PopOutcome::Silence
        } else {
            self.stats.concealed_frames += 1;
            PopOutcome::Concealed
        }
    }

    /// Counters and sizes.
    pub fn stats(&self) -> JitterStats {
        let per_ms = i64::from(self.cfg.clock_rate / 1000).max(1);
        JitterStats {
            jitter_us: (self.delay.jitter_q4() >> 4) as u64 * 1_000_000
                / u64::from(self.cfg.clock_rate.max(1)),
            target_depth_ms: (self.target / per_ms) as u32,
            depth_ms: ((self.newest - self.play).max(0) / per_ms) as u32,
            ..self.stats
        }
    }

    /// Forgets the timeline and buffered audio (a new SSRC); the PLC history stays so the
    /// splice is smooth.
    pub fn reset(&mut self) {
        self.started = false;
        self.timeline.clear_all();
    }
}

#[cfg(test)]
mod tests;
