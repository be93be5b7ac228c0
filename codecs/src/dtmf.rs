//! In-band DTMF detection with Goertzel filters, to ITU-T Q.24-style limits.
//!
//! Input is 8 kHz linear PCM in chunks of any size. It is cut into blocks of
//! [`BLOCK`] samples (13.25 ms); each block is classified as one key or none, and a key is
//! reported once it has held for enough consecutive blocks to cover the minimum duration.
//!
//! A block counts as a key only if all of these hold:
//! - **Peaks:** the strongest row and column filters stand [`DtmfConfig::peak_ratio_db`] above
//!   the other filters of their group.
//! - **Energy:** the two tones carry at least [`DtmfConfig::min_tone_fraction`] of the block's
//!   energy (speech spreads its energy over many frequencies).
//! - **Level:** the weaker tone is above [`DtmfConfig::min_level_dbm0`].
//! - **Twist:** the high group is at most `max_twist_high_db` above and `max_twist_low_db`
//!   below the low group.
//! - **Frequency:** each tone lies within ±2.5% of nominal. Two extra filters at ±5% straddle
//!   each nominal frequency; the tone is off-frequency if either side filter is stronger than
//!   the centre one. The crossover is at 2.5%, between Q.24's ±1.5% (must accept) and ±3.5%
//!   (must reject), independent of level.
//! - **Harmonics:** neither tone has a second harmonic above `max_harmonic_db` relative to it,
//!   which voiced speech nearly always does.

use std::f64::consts::TAU;

use crate::tone::{DTMF_COLS, DTMF_KEYS, DTMF_ROWS, FULL_SCALE_DBM0};

/// Samples per analysis block at 8 kHz.
pub const BLOCK: usize = 106;

/// Detector limits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DtmfConfig {
    /// Minimum tone duration to report, in milliseconds (Q.24: 40 ms).
    pub min_duration_ms: u32,
    /// Minimum pause between two reports of the same key, in milliseconds.
    pub min_pause_ms: u32,
    /// How far the high group may be above the low group, in dB.
    pub max_twist_high_db: f64,
    /// How far the high group may be below the low group, in dB.
    pub max_twist_low_db: f64,
    /// Lowest accepted level of each tone, in dBm0.
    pub min_level_dbm0: f64,
    /// Required margin of each group's peak over the rest of its group, in dB.
    pub peak_ratio_db: f64,
    /// Share of block energy the two tones must carry (0..1).
    pub min_tone_fraction: f64,
    /// Highest second-harmonic level relative to its fundamental, in dB.
    pub max_harmonic_db: f64,
}

impl Default for DtmfConfig {
    fn default() -> Self {
        DtmfConfig {
            min_duration_ms: 40,
            min_pause_ms: 30,
            max_twist_high_db: 4.0,
            max_twist_low_db: 8.0,
            min_level_dbm0: -30.0,
            peak_ratio_db: 8.0,
            min_tone_fraction: 0.7,
            max_harmonic_db: -15.0,
        }
    }
}

/// A detected key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfDigit {
    /// The key: `0`–`9`, `*`, `#`, `A`–`D`.
    pub key: char,
    /// Sample index (from the start of the stream) where the key's first block began.
    pub start_sample: u64,
}

impl DtmfDigit {
    /// Start time in seconds at 8 kHz.
    pub fn start_secs(&self) -> f64 {
        self.start_sample as f64 / 8000.0
    }
}

/// Streaming DTMF detector.
#[derive(Clone, Debug)]
pub struct DtmfDetector {
    cfg: DtmfConfig,
    block: [f64; BLOCK],
    fill: usize,
    blocks_seen: u64,
    need_blocks: u32,
    pause_blocks: u32,
    /// Key of the current run of blocks and where it started.
    run_key: Option<char>,
    run_len: u32,
    run_start: u64,
    /// Whether the current run was already reported.
    reported: bool,
    /// Blocks since the last reported key ended (for the pause rule).
    quiet_blocks: u32,
    last_reported: Option<char>,
    /// Sample index where the last reported key's run ended.
    last_end: u64,
}

impl Default for DtmfDetector {
    fn default() -> Self {
        Self::new(DtmfConfig::default())
    }
}

impl DtmfDetector {
    /// A detector with `cfg`.
    pub fn new(cfg: DtmfConfig) -> DtmfDetector {
        let block_ms = BLOCK as f64 / 8.0;
        // A tone of the minimum duration always covers floor(d / block) - 1 whole blocks
        // whatever its alignment; a shorter one may cover fewer.
        let need = ((f64::from(cfg.min_duration_ms) / block_ms).floor() as u32)
            .saturating_sub(1)
            .max(1);
        let pause = ((f64::from(cfg.min_pause_ms) / block_ms).floor() as u32).max(1);
        DtmfDetector {
            cfg,
            block: [0.0; BLOCK],
            fill: 0,
            blocks_seen: 0,
            need_blocks: need,
            pause_blocks: pause,
            run_key: None,
            run_len: 0,
            run_start: 0,
            reported: false,
            quiet_blocks: u32::MAX,
            last_reported: None,
            last_end: 0,
        }
    }

    /// Feeds samples; calls `on_digit` for each key detected.
    pub fn process(&mut self, samples: &[i16], mut on_digit: impl FnMut(DtmfDigit)) {
        for &s in samples {
            self.block[self.fill] = f64::from(s);
            self.fill += 1;
            if self.fill == BLOCK {
                self.fill = 0;
                let key = classify(&self.block, &self.cfg);
                if let Some(d) = self.advance(key) {
                    on_digit(d);
                }
                self.blocks_seen += 1;
            }
        }
    }

    /// Feeds samples and returns the keys detected.
    pub fn detect(&mut self, samples: &[i16]) -> Vec<DtmfDigit> {
        let mut v = Vec::new();
        self.process(samples, |d| v.push(d));
        v
    }

    /// The key being held now, once it was reported, with the sample where its run began.
    pub fn holding(&self) -> Option<DtmfDigit> {
        match self.run_key {
            Some(key) if self.reported => Some(DtmfDigit {
                key,
                start_sample: self.run_start,
            }),
            _ => None,
        }
    }

    /// Samples fed so far.
    pub fn samples_seen(&self) -> u64 {
        self.blocks_seen * BLOCK as u64 + self.fill as u64
    }

    /// Sample index where the last reported key stopped (0 before any ended).
    pub fn last_end(&self) -> u64 {
        self.last_end
    }

    fn advance(&mut self, key: Option<char>) -> Option<DtmfDigit> {
        if key == self.run_key {
            self.run_len = self.run_len.saturating_add(1);
        } else {
            if self.reported {
                self.quiet_blocks = 0;
                self.last_end = self.blocks_seen * BLOCK as u64;
            }
            self.run_key = key;
            self.run_len = 1;
            self.run_start = self.blocks_seen * BLOCK as u64;
            self.reported = false;
        }
        let Some(k) = key else {
            self.quiet_blocks = self.quiet_blocks.saturating_add(1);
            return None;
        };
        if self.reported || self.run_len < self.need_blocks {
            return None;
        }
        // The same key again needs a real pause in between; a different key does not.
        if Some(k) == self.last_reported && self.quiet_blocks < self.pause_blocks {
            return None;
        }
        self.reported = true;
        self.last_reported = Some(k);
        Some(DtmfDigit {
            key: k,
            start_sample: self.run_start,
        })
    }
}

/// Power of `x` at `freq` (Hz, 8 kHz sampling) by the Goertzel recurrence, scaled so a sine of
/// amplitude `a` on frequency gives about `a² N / 2` (its energy in the block).
fn goertzel(x: &[f64], freq: f64) -> f64 {
    let w = TAU * freq / 8000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &v in x {
        let s0 = v + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    2.0 * power / x.len() as f64
}

/// Frequency distance below which a row tone's harmonic check would see the column tone.
const HARMONIC_GUARD_HZ: f64 = 150.0;

/// Smallest energy ratio between a block's two halves for the block to count as filled by the
/// tone. A tone must then cover at least about 85% of a block, so two such blocks need at
/// least 22.5 ms of tone: shorter bursts can never reach two counted blocks.
const EDGE_BALANCE: f64 = 0.7;

fn db(ratio: f64) -> f64 {
    10.0 * ratio.max(1e-30).log10()
}

/// dBm0 of a sine whose block energy (as returned by [`goertzel`]) is `e`.
fn level_dbm0(e: f64) -> f64 {
    let amplitude = (2.0 * e / BLOCK as f64).sqrt();
    20.0 * (amplitude / 32767.0).max(1e-30).log10() + FULL_SCALE_DBM0
}

fn classify(x: &[f64; BLOCK], cfg: &DtmfConfig) -> Option<char> {
    let total: f64 = x.iter().map(|v| v * v).sum();
    if total <= 0.0 {
        return None;
    }
    let rows = DTMF_ROWS.map(|f| goertzel(x, f));
    let cols = DTMF_COLS.map(|f| goertzel(x, f));
    let (r, &pr) = max_index(&rows);
    let (c, &pc) = max_index(&cols);
    // Peaks stand out in their group.
    let peak = 10f64.powf(cfg.peak_ratio_db / 10.0);
    if rows
        .iter()
        .enumerate()
        .any(|(i, &p)| i != r && p * peak > pr)
        || cols
            .iter()
            .enumerate()
            .any(|(i, &p)| i != c && p * peak > pc)
    {
        return None;
    }
    if (pr + pc) < cfg.min_tone_fraction * total {
        return None;
    }
    if level_dbm0(pr) < cfg.min_level_dbm0 || level_dbm0(pc) < cfg.min_level_dbm0 {
        return None;
    }
    let twist = db(pc / pr);
    if twist > cfg.max_twist_high_db || -twist > cfg.max_twist_low_db {
        return None;
    }
    let (fr, fc) = (DTMF_ROWS[r], DTMF_COLS[c]);
    for (f, p) in [(fr, pr), (fc, pc)] {
        if goertzel(x, f * 0.95) > p || goertzel(x, f * 1.05) > p {
            return None;
        }
        // A row tone's second harmonic can fall within a filter width of the column tone
        // (2 × 697 = 1394 Hz vs 1336 Hz); there the column tone itself would read as a
        // harmonic, so the check is skipped.
        if (2.0 * f - fc).abs() > HARMONIC_GUARD_HZ
            && db(goertzel(x, 2.0 * f) / p) > cfg.max_harmonic_db
        {
            return None;
        }
    }
    // Reject blocks at the edges of a tone: both halves must carry similar energy, so only
    // blocks filled by the tone count towards the minimum duration.
    let (a, b) = x.split_at(BLOCK / 2);
    let ea: f64 = a.iter().map(|v| v * v).sum();
    let eb: f64 = b.iter().map(|v| v * v).sum();
    if ea.min(eb) < EDGE_BALANCE * ea.max(eb) {
        return None;
    }
    Some(DTMF_KEYS[r][c])
}

fn max_index(v: &[f64; 4]) -> (usize, &f64) {
    let mut best = 0;
    for i in 1..4 {
        if v[i] > v[best] {
            best = i;
        }
    }
    (best, &v[best])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::{DtmfTone, dtmf_sequence};

    #[test]
    fn block_count_for_40ms() {
        let d = DtmfDetector::default();
        assert_eq!(d.need_blocks, 2);
    }

    #[test]
    fn detects_a_single_key_once() {
        let mut pcm = Vec::new();
        DtmfTone::for_key('7', -10.0)
            .unwrap()
            .render(8000, 800, &mut pcm);
        let got = DtmfDetector::default().detect(&pcm);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].key, '7');
    }

    #[test]
    fn repeated_key_needs_a_pause() {
        let pcm = dtmf_sequence("11", 60, 60, -10.0);
        let got: String = DtmfDetector::default()
            .detect(&pcm)
            .iter()
            .map(|d| d.key)
            .collect();
        assert_eq!(got, "11");
    }
}
