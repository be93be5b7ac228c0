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
//! No allocation after construction; time is passed in, never read.

use tandem_codecs::g711::{self, Law};
use tandem_codecs::plc::Plc;
use tandem_codecs::seq::ts_diff;
use tandem_codecs::vad::frame_dbov;

/// How deep the buffer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// Packets between rotations of the recent-minimum transit window.
const MIN_WINDOW: u32 = 128;
/// Pops between two shrinking skips.
const SHRINK_SPACING: u32 = 10;
/// A frame below this level counts as quiet (a good place to skip).
const QUIET_DBOV: f64 = -45.0;

/// A jitter buffer for one received stream.
#[derive(Clone, Debug)]
pub struct JitterBuffer {
    cfg: JitterConfig,
    ring: Vec<i16>,
    present: Vec<bool>,
    mask: usize,
    plc: Plc,
    started: bool,
    played_any: bool,
    /// Extended timestamp of the next sample to play.
    play: i64,
    /// One past the newest stored sample.
    newest: i64,
    /// Length of the last packet, in samples.
    packet_len: i64,
    target: i64,
    // Delay-variation estimate, in samples.
    min_cur: i64,
    min_prev: i64,
    min_count: u32,
    mean: f64,
    var: f64,
    // RFC 3550 jitter, in samples × 16.
    last_transit: Option<i64>,
    jitter_q4: i64,
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
        let size = want.next_power_of_two();
        let mut jb = JitterBuffer {
            cfg,
            ring: vec![0; size],
            present: vec![false; size],
            mask: size - 1,
            plc: Plc::new(),
            started: false,
            played_any: false,
            play: 0,
            newest: 0,
            packet_len: cfg.samples_per_tick as i64,
            target: 0,
            min_cur: i64::MAX,
            min_prev: i64::MAX,
            min_count: 0,
            mean: 0.0,
            var: 0.0,
            last_transit: None,
            jitter_q4: 0,
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
        self.ring.len() as i64 - self.cfg.samples_per_tick as i64
    }

    /// Stores one received packet.
    pub fn insert(
        &mut self,
        now_us: u64,
        _seq: u16,
        timestamp: u32,
        law: Law,
        payload: &[u8],
    ) -> InsertOutcome {
        let len = payload.len().min(self.capacity() as usize / 2) as i64;
        let arrival = (now_us as i128 * i128::from(self.cfg.clock_rate) / 1_000_000) as i64;
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
        if len > 0 && self.count_present(ts, payload.len()) == payload.len() {
            self.stats.duplicates += 1;
            return InsertOutcome::Duplicate;
        }
        // Overlapping samples (a re-packetised retransmission) carry the same audio, so
        // the whole packet is simply written.
        let mut done = 0;
        for (start, n) in self.segments(ts, payload.len()) {
            g711::decode_frame(
                law,
                &payload[done..done + n],
                &mut self.ring[start..start + n],
            );
            self.present[start..start + n].fill(true);
            done += n;
        }
        if len > 0 {
            self.packet_len = len;
        }
        self.newest = self.newest.max(ts + len);
        self.stats.accepted += 1;
        outcome
    }

    /// Starts the timeline so that this packet plays `target` from now.
    fn restart(&mut self, timestamp: u32) {
        self.present.fill(false);
        let ts = i64::from(timestamp);
        self.play = ts - self.target;
        self.newest = ts;
        self.started = true;
        self.min_cur = i64::MAX;
        self.min_prev = i64::MAX;
        self.min_count = 0;
        self.last_transit = None;
    }

    /// Updates the delay-variation estimate and the RFC 3550 jitter from one transit time.
    fn observe_transit(&mut self, transit: i64) {
        if let Some(last) = self.last_transit {
            let d = (transit - last)
                .abs()
                .min(i64::from(self.cfg.clock_rate) * 10);
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
        const ALPHA: f64 = 1.0 / 32.0;
        let dev = excess - self.mean;
        self.mean += ALPHA * dev;
        self.var = (1.0 - ALPHA) * (self.var + ALPHA * dev * dev);
        if let JitterMode::Adaptive { .. } = self.cfg.mode {
            let (lo, hi) = self.bounds();
            let want = self.mean + 4.0 * self.var.sqrt() + self.packet_len as f64;
            let tick = self.cfg.samples_per_tick as i64;
            let rounded = ((want.ceil() as i64 + tick - 1) / tick) * tick;
            self.target = rounded.clamp(lo, hi);
        }
    }

    /// Produces one tick of audio into `out` (`samples_per_tick` long).
    pub fn pop(&mut self, _now_us: u64, out: &mut [i16]) -> PopOutcome {
        let n = out.len().min(self.frame.len());
        let out = &mut out[..n];
        if !self.started {
            out.fill(0);
            self.stats.silence_frames += 1;
            return PopOutcome::Silence;
        }
        self.since_shrink = self.since_shrink.saturating_add(1);
        let depth = self.newest - self.play;
        let have = self.count_present(self.play, n);
        // Grow: short of target and the next frame is not here yet. Conceal in place.
        if have == 0 && depth < self.target && depth >= 0 {
            self.stats.stretched_frames += 1;
            return self.conceal(out);
        }
        // Shrink: well over target; skip one frame, preferring a quiet one.
        let tick = n as i64;
        let dropped_before = self.stats.dropped_frames;
        if depth > self.target + 2 * tick && self.since_shrink >= SHRINK_SPACING && have == n {
            self.read(self.play, out, true);
            if frame_dbov(out) < QUIET_DBOV || depth > self.target + 4 * tick {
                self.clear(self.play, n);
                self.play += tick;
                self.since_shrink = 0;
                self.stats.dropped_frames += 1;
            }
        }
        let have = if self.stats.dropped_frames > dropped_before {
            self.count_present(self.play, n)
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
            self.read(self.play, out, have == n);
            self.plc.good_frame(out);
            self.played_any = true;
            self.stats.played_frames += 1;
            PopOutcome::Played
        };
        self.clear(self.play, n);
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

    /// The ring positions of timeline samples `[from, from + n)`: at most two contiguous
    /// runs (start, length), so the per-sample work is plain slice operations.
    fn segments(&self, from: i64, n: usize) -> [(usize, usize); 2] {
        let start = from as usize & self.mask;
        let first = n.min(self.ring.len() - start);
        [(start, first), (0, n - first)]
    }

    fn count_present(&self, from: i64, n: usize) -> usize {
        self.segments(from, n)
            .iter()
            .map(|&(s, len)| self.present[s..s + len].iter().filter(|&&p| p).count())
            .sum()
    }

    /// Copies the present samples of `[from, from + out.len())` into `out` (`complete`:
    /// the caller counted them all present).
    fn read(&self, from: i64, out: &mut [i16], complete: bool) {
        let mut done = 0;
        for (s, len) in self.segments(from, out.len()) {
            let (src, flags) = (&self.ring[s..s + len], &self.present[s..s + len]);
            let dst = &mut out[done..done + len];
            if complete {
                dst.copy_from_slice(src);
            } else {
                for ((o, &v), &p) in dst.iter_mut().zip(src).zip(flags) {
                    if p {
                        *o = v;
                    }
                }
            }
            done += len;
        }
    }

    fn clear(&mut self, from: i64, n: usize) {
        for (s, len) in self.segments(from, n) {
            self.present[s..s + len].fill(false);
        }
    }

    /// Counters and sizes.
    pub fn stats(&self) -> JitterStats {
        let per_ms = i64::from(self.cfg.clock_rate / 1000).max(1);
        JitterStats {
            jitter_us: (self.jitter_q4 >> 4) as u64 * 1_000_000
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
        self.present.fill(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A voice-like μ-law stream: packet `n` of `len` samples starting at sample `n * len`.
    /// The two tones have no common period within a second, so every frame differs and a
    /// frame played out of order or twice shows.
    fn tone(start: usize, len: usize) -> Vec<u8> {
        (start..start + len)
            .map(|i| {
                let t = i as f64 / 8000.0;
                let v = 8000.0 * (2.0 * std::f64::consts::PI * 303.0 * t).sin()
                    + 3000.0 * (2.0 * std::f64::consts::PI * 1109.0 * t).sin();
                g711::linear_to_ulaw(v as i16)
            })
            .collect()
    }

    fn decoded(codes: &[u8]) -> Vec<i16> {
        codes.iter().map(|&c| Law::Ulaw.decode(c)).collect()
    }

    const T0: u32 = 4_000_000_000;

    /// Sends `count` packets of `ptime` samples every `ptime` at 8 kHz with per-packet
    /// extra delays, popping every 20 ms; returns the popped audio and outcomes.
    fn run(
        jb: &mut JitterBuffer,
        ptime: usize,
        count: usize,
        delay_us: impl Fn(usize) -> Option<u64>,
        pops: usize,
    ) -> (Vec<i16>, Vec<PopOutcome>) {
        let mut arrivals: Vec<(u64, usize)> = (0..count)
            .filter_map(|n| delay_us(n).map(|d| (n as u64 * ptime as u64 * 125 + d, n)))
            .collect();
        arrivals.sort();
        let mut k = 0;
        let (mut audio, mut outcomes) = (vec![], vec![]);
        for p in 0..pops {
            let now = p as u64 * 20_000 + 10_000;
            while k < arrivals.len() && arrivals[k].0 <= now {
                let n = arrivals[k].1;
                jb.insert(
                    arrivals[k].0,
                    n as u16,
                    T0.wrapping_add((n * ptime) as u32),
                    Law::Ulaw,
                    &tone(n * ptime, ptime),
                );
                k += 1;
            }
            let mut out = [0i16; 160];
            outcomes.push(jb.pop(now, &mut out));
            audio.extend_from_slice(&out);
        }
        (audio, outcomes)
    }

    /// Index of the first popped sample that holds stream sample 0.
    fn start_of(audio: &[i16]) -> usize {
        let first = decoded(&tone(0, 160));
        (0..audio.len() - 160)
            .find(|&i| audio[i..i + 160] == first[..])
            .expect("stream start found")
    }

    #[test]
    fn in_order_stream_plays_bit_exact_after_the_initial_depth() {
        let mut jb = JitterBuffer::new(JitterConfig::fixed(40));
        let (audio, outcomes) = run(&mut jb, 160, 50, |_| Some(1_000), 50);
        let s = start_of(&audio);
        assert_eq!(s, 2 * 160, "two ticks of depth");
        assert_eq!(&audio[s..s + 160 * 45], &decoded(&tone(0, 160 * 45))[..]);
        assert!(outcomes[2..47].iter().all(|&o| o == PopOutcome::Played));
        assert_eq!(jb.stats().concealed_frames, 0);
    }

    #[test]
    fn reordered_and_duplicated_packets_play_in_timestamp_order() {
        let mut jb = JitterBuffer::new(JitterConfig::fixed(60));
        // Swap every pair by delaying the even packets 25 ms.
        let (audio, _) = run(
            &mut jb,
            160,
            40,
            |n| Some(if n % 2 == 0 { 26_000 } else { 1_000 }),
            40,
        );
        let s = start_of(&audio);
        assert_eq!(&audio[s..s + 160 * 30], &decoded(&tone(0, 160 * 30))[..]);
        assert_eq!(
            jb.insert(
                0,
                0,
                T0.wrapping_add(160 * 10),
                Law::Ulaw,
                &tone(160 * 10, 160)
            ),
            InsertOutcome::Late
        );
        let mut jb = JitterBuffer::new(JitterConfig::fixed(60));
        assert_eq!(
            jb.insert(0, 0, T0, Law::Ulaw, &tone(0, 160)),
            InsertOutcome::Accepted
        );
        assert_eq!(
            jb.insert(0, 0, T0, Law::Ulaw, &tone(0, 160)),
            InsertOutcome::Duplicate
        );
        assert_eq!(jb.stats().duplicates, 1);
    }

    #[test]
    fn lost_packets_are_concealed_one_frame_each() {
        let mut jb = JitterBuffer::new(JitterConfig::fixed(40));
        let lost = [7usize, 19, 20, 33];
        let (_, outcomes) = run(
            &mut jb,
            160,
            60,
            |n| (!lost.contains(&n)).then_some(500),
            62,
        );
        let st = jb.stats();
        assert_eq!(st.concealed_frames, lost.len() as u64, "{st:?}");
        assert_eq!(st.played_frames, 60 - lost.len() as u64);
        assert_eq!(
            outcomes
                .iter()
                .filter(|&&o| o == PopOutcome::Concealed)
                .count(),
            4
        );
    }

    #[test]
    fn packetisation_does_not_change_the_audio() {
        let mut reference = None;
        for ptime in [80usize, 160, 240] {
            let mut jb = JitterBuffer::new(JitterConfig::fixed(60));
            let count = 160 * 40 / ptime;
            let (audio, _) = run(&mut jb, ptime, count, |_| Some(1_000), 45);
            let s = start_of(&audio);
            let body = audio[s..s + 160 * 30].to_vec();
            assert_eq!(body, decoded(&tone(0, 160 * 30)), "ptime {ptime}");
            match &reference {
                None => reference = Some(body),
                Some(r) => assert_eq!(&body, r),
            }
        }
    }

    #[test]
    fn adaptive_depth_follows_the_jitter() {
        // 30 ms of uniform jitter (a fixed pseudo-random pattern).
        let mut jb = JitterBuffer::new(JitterConfig::default());
        let jitter = |n: usize| Some(((n * 7919) % 31) as u64 * 1_000);
        run(&mut jb, 160, 500, jitter, 500);
        let t = jb.stats().target_depth_ms;
        assert!((40..=200).contains(&t), "target {t} ms");
        let mut calm = JitterBuffer::new(JitterConfig::default());
        run(&mut calm, 160, 500, |_| Some(2_000), 500);
        assert_eq!(calm.stats().target_depth_ms, 20);
        assert!(jb.stats().jitter_us > 5_000 && calm.stats().jitter_us < 200);
    }

    #[test]
    fn a_2_pow_31_timestamp_jump_resyncs() {
        let mut jb = JitterBuffer::new(JitterConfig::fixed(40));
        assert_eq!(
            jb.insert(0, 0, 0, Law::Ulaw, &tone(0, 160)),
            InsertOutcome::Accepted
        );
        assert_eq!(
            jb.insert(20_000, 1, 1 << 31, Law::Ulaw, &tone(0, 160)),
            InsertOutcome::Resynced
        );
        let mut out = [0; 160];
        for _ in 0..5 {
            jb.pop(40_000, &mut out);
        }
        assert_eq!(jb.stats().resyncs, 1);
    }

    proptest! {
        #[test]
        fn arbitrary_use_never_panics_and_counts_add_up(
            ops in proptest::collection::vec((any::<bool>(), any::<u16>(), any::<u32>(), 0usize..400), 1..200),
            adaptive in any::<bool>(),
        ) {
            let cfg = if adaptive { JitterConfig::default() } else { JitterConfig::fixed(60) };
            let mut jb = JitterBuffer::new(cfg);
            let (mut inserts, mut pops) = (0u64, 0u64);
            let mut out = [0i16; 160];
            for (i, (is_pop, seq, ts, len)) in ops.into_iter().enumerate() {
                let now = i as u64 * 5_000;
                if is_pop {
                    jb.pop(now, &mut out);
                    pops += 1;
                } else {
                    jb.insert(now, seq, ts, Law::Alaw, &vec![0x55; len]);
                    inserts += 1;
                }
            }
            let s = jb.stats();
            prop_assert_eq!(s.accepted + s.duplicates + s.late, inserts);
            prop_assert_eq!(s.played_frames + s.concealed_frames + s.silence_frames, pops);
        }
    }
}
