//! Packet loss concealment for G.711, in the manner of G.711 Appendix I.
//!
//! A lost frame is filled by repeating the last pitch period of the decoded history, found by
//! normalised autocorrelation over 40–120 samples (66–200 Hz at 8 kHz). The period wraps
//! seamlessly: its tail is cross-faded into the samples that preceded it in the history. As
//! the loss goes on, the repeated segment grows to two and then three periods (a single
//! period repeated for long sounds buzzy) and the output fades: full level for 10 ms, then
//! down 20% every 10 ms, silent after 60 ms. The first good frame after a loss is cross-faded
//! from the continuing synthetic signal, so the splice has no click.
//!
//! Unlike Appendix I, this version adds no algorithmic delay: the engine cannot hold audio
//! back for 3.75 ms in pass-through mode, so the splice at the start of a loss relies on the
//! period's own continuity instead of an overlap-add into already-played samples.

/// Samples of history kept: enough for three of the longest pitch periods plus the
/// correlation window.
const HISTORY: usize = 390;
/// Shortest pitch period searched (200 Hz).
const MIN_PITCH: usize = 40;
/// Longest pitch period searched (66.7 Hz).
const MAX_PITCH: usize = 120;
/// Correlation window for the pitch search (20 ms).
const CORR_WINDOW: usize = 160;
/// Samples per 10 ms.
const TEN_MS: usize = 80;
/// Samples after which concealment is silent (60 ms).
const MAX_CONCEAL: usize = 480;

/// Concealment state for one stream. Call [`good_frame`](Plc::good_frame) for every frame
/// that arrived and [`conceal`](Plc::conceal) for every frame that did not.
#[derive(Clone, Debug)]
pub struct Plc {
    history: [i16; HISTORY],
    /// The repeated segment (up to three periods), as f32 for the cross-fades.
    segment: [f32; 3 * MAX_PITCH],
    segment_len: usize,
    pitch: usize,
    /// Read position in `segment`.
    pos: usize,
    /// Samples concealed in the current loss (0: not in a loss).
    lost: usize,
}

impl Default for Plc {
    fn default() -> Self {
        Self::new()
    }
}

impl Plc {
    /// A concealer with silent history.
    pub fn new() -> Plc {
        Plc {
            history: [0; HISTORY],
            segment: [0.0; 3 * MAX_PITCH],
            segment_len: 0,
            pitch: MIN_PITCH,
            pos: 0,
            lost: 0,
        }
    }

    /// Whether the last frame was concealed.
    pub fn in_loss(&self) -> bool {
        self.lost > 0
    }

    /// Records a received frame. After a loss, the start of `samples` is cross-faded from the
    /// synthetic signal (so `samples` may be modified).
    pub fn good_frame(&mut self, samples: &mut [i16]) {
        if self.lost > 0 {
            // Longer losses get longer cross-fades: a quarter period plus 4 ms per extra
            // 10 ms lost, at most 10 ms.
            let extra = (self.lost / TEN_MS).saturating_sub(1) * 32;
            let fade = (self.pitch / 4 + extra).min(TEN_MS).min(samples.len());
            for (i, s) in samples.iter_mut().take(fade).enumerate() {
                let synth = self.next_synthetic();
                let w = (i + 1) as f32 / (fade + 1) as f32;
                *s = clamp16(synth * (1.0 - w) + f32::from(*s) * w);
            }
            self.lost = 0;
        }
        self.push_history(samples);
    }

    /// Fills `out` with concealment for a lost frame.
    pub fn conceal(&mut self, out: &mut [i16]) {
        if self.lost == 0 {
            self.pitch = self.find_pitch();
            self.build_segment(1);
            self.pos = 0;
        }
        for o in out.iter_mut() {
            // Grow the repeated segment at 10 and 20 ms into the loss.
            if self.lost == TEN_MS || self.lost == 2 * TEN_MS {
                self.grow_segment(self.lost / TEN_MS + 1);
            }
            *o = clamp16(self.next_synthetic());
            self.lost += 1;
        }
        // History stays frozen during a loss: the longer segments and the next pitch search
        // come from received audio only.
    }

    /// The next synthetic sample with the loss-length attenuation applied.
    fn next_synthetic(&mut self) -> f32 {
        if self.segment_len == 0 {
            return 0.0;
        }
        let v = self.segment[self.pos];
        self.pos = (self.pos + 1) % self.segment_len;
        v * gain_at(self.lost)
    }

    fn push_history(&mut self, samples: &[i16]) {
        if samples.len() >= HISTORY {
            self.history
                .copy_from_slice(&samples[samples.len() - HISTORY..]);
        } else {
            self.history.copy_within(samples.len().., 0);
            self.history[HISTORY - samples.len()..].copy_from_slice(samples);
        }
    }

    /// Pitch period maximising the normalised correlation of the last 20 ms with the 20 ms
    /// one period earlier.
    fn find_pitch(&self) -> usize {
        let h = &self.history;
        let end = HISTORY;
        let win = &h[end - CORR_WINDOW..end];
        let mut best = (MIN_PITCH, f64::MIN);
        for lag in MIN_PITCH..=MAX_PITCH {
            let past = &h[end - CORR_WINDOW - lag..end - lag];
            let (mut xy, mut yy) = (0f64, 0f64);
            for (a, b) in win.iter().zip(past) {
                xy += f64::from(*a) * f64::from(*b);
                yy += f64::from(*b) * f64::from(*b);
            }
            let score = if yy > 0.0 { xy / yy.sqrt() } else { 0.0 };
            if score > best.1 {
                best = (lag, score);
            }
        }
        best.0
    }

    /// The last `periods` pitch periods of history, with the tail cross-faded into the
    /// samples that preceded the segment so that it loops without a step.
    fn build_segment(&mut self, periods: usize) {
        let len = self.pitch * periods;
        let h = &self.history;
        let start = HISTORY - len;
        for i in 0..len {
            self.segment[i] = f32::from(h[start + i]);
        }
        let q = (self.pitch / 4).max(1);
        for j in 0..q {
            let w = (j + 1) as f32 / (q + 1) as f32;
            let i = len - q + j;
            let before = f32::from(h[start - q + j]);
            self.segment[i] = self.segment[i] * (1.0 - w) + before * w;
        }
        self.segment_len = len;
    }

    /// Extends the segment to `periods` periods, keeping the read position's phase.
    fn grow_segment(&mut self, periods: usize) {
        let phase = self.pos % self.pitch;
        self.build_segment(periods);
        // The longer segment ends where the old one did, so continue at the same phase
        // within its last period.
        self.pos = (periods - 1) * self.pitch + phase;
    }
}

/// Gain after `lost` samples of concealment: 1 for 10 ms, then falling 20% per 10 ms.
fn gain_at(lost: usize) -> f32 {
    if lost < TEN_MS {
        1.0
    } else if lost >= MAX_CONCEAL {
        0.0
    } else {
        (1.0 - 0.2 * (lost - TEN_MS) as f32 / TEN_MS as f32).max(0.0)
    }
}

fn clamp16(v: f32) -> i16 {
    v.round().clamp(-32768.0, 32767.0) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_period_of_a_pulse_train() {
        let mut p = Plc::new();
        let mut f: Vec<i16> = (0..400)
            .map(|i| if i % 73 == 0 { 10000 } else { 0 })
            .collect();
        p.good_frame(&mut f);
        assert_eq!(p.find_pitch(), 73);
    }

    #[test]
    fn fades_to_silence_after_60ms() {
        let mut p = Plc::new();
        let mut f: Vec<i16> = (0..400)
            .map(|i| (8000.0 * (f64::from(i) * 0.1).sin()) as i16)
            .collect();
        p.good_frame(&mut f);
        let mut out = [0i16; 160];
        for _ in 0..3 {
            p.conceal(&mut out);
            assert!(out.iter().any(|&s| s != 0));
        }
        p.conceal(&mut out); // 60-80 ms: silent
        assert!(out.iter().all(|&s| s == 0));
        assert!(p.in_loss());
    }
}
