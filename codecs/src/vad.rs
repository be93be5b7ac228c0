//! Energy-based voice activity detection with hysteresis.
//!
//! Each frame's energy is measured in dBov (dB relative to a full-scale square wave). Speech
//! starts when `attack_frames` consecutive frames exceed `on_dbov`, and stops when
//! `hangover_frames` consecutive frames fall below `off_dbov`. The gap between the two
//! thresholds and the frame counts keep the decision from chattering on syllable gaps and
//! background noise.

/// VAD thresholds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VadConfig {
    /// Level that starts speech, in dBov.
    pub on_dbov: f64,
    /// Level below which speech may stop, in dBov (at most `on_dbov`).
    pub off_dbov: f64,
    /// Consecutive loud frames needed to start speech.
    pub attack_frames: u32,
    /// Consecutive quiet frames needed to stop speech.
    pub hangover_frames: u32,
}

impl Default for VadConfig {
    fn default() -> Self {
        // 20 ms frames: 40 ms to start, 300 ms to stop.
        VadConfig {
            on_dbov: -40.0,
            off_dbov: -46.0,
            attack_frames: 2,
            hangover_frames: 15,
        }
    }
}

/// A change of state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VadEvent {
    /// Speech started; the frame index where the loud run began.
    SpeechStart(u64),
    /// Speech stopped; the frame index where the quiet run began.
    SpeechStop(u64),
}

/// Streaming VAD over frames.
#[derive(Clone, Debug)]
pub struct Vad {
    cfg: VadConfig,
    speaking: bool,
    run: u32,
    run_start: u64,
    frame: u64,
    last_dbov: f64,
    speech_frames: u64,
}

impl Vad {
    /// A VAD with `cfg`.
    pub fn new(cfg: VadConfig) -> Vad {
        Vad {
            cfg,
            speaking: false,
            run: 0,
            run_start: 0,
            frame: 0,
            last_dbov: f64::NEG_INFINITY,
            speech_frames: 0,
        }
    }

    /// Feeds one frame; returns a state change, if any.
    pub fn push_frame(&mut self, frame: &[i16]) -> Option<VadEvent> {
        let level = frame_dbov(frame);
        self.last_dbov = level;
        let idx = self.frame;
        self.frame += 1;
        let event = if self.speaking {
            if level < self.cfg.off_dbov {
                if self.run == 0 {
                    self.run_start = idx;
                }
                self.run += 1;
                if self.run >= self.cfg.hangover_frames {
                    self.speaking = false;
                    self.run = 0;
                    Some(VadEvent::SpeechStop(self.run_start))
                } else {
                    None
                }
            } else {
                self.run = 0;
                None
            }
        } else if level > self.cfg.on_dbov {
            if self.run == 0 {
                self.run_start = idx;
            }
            self.run += 1;
            if self.run >= self.cfg.attack_frames {
                self.speaking = true;
                self.run = 0;
                Some(VadEvent::SpeechStart(self.run_start))
            } else {
                None
            }
        } else {
            self.run = 0;
            None
        };
        if self.speaking {
            self.speech_frames += 1;
        }
        event
    }

    /// Whether speech is active.
    pub fn is_speaking(&self) -> bool {
        self.speaking
    }

    /// The last frame's level in dBov.
    pub fn last_dbov(&self) -> f64 {
        self.last_dbov
    }

    /// Frames seen and frames judged speech (for per-channel silence figures).
    pub fn counts(&self) -> (u64, u64) {
        (self.frame, self.speech_frames)
    }
}

/// Level of a frame in dBov: RMS relative to full scale (32768); −inf for digital silence.
pub fn frame_dbov(frame: &[i16]) -> f64 {
    if frame.is_empty() {
        return f64::NEG_INFINITY;
    }
    let e: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    let rms = (e / frame.len() as f64).sqrt();
    if rms == 0.0 {
        f64::NEG_INFINITY
    } else {
        20.0 * (rms / 32768.0).log10()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(amplitude: f64) -> Vec<i16> {
        (0..160)
            .map(|i| (amplitude * (f64::from(i) * 0.3).sin()).round() as i16)
            .collect()
    }

    #[test]
    fn dbov_of_a_full_scale_sine_is_minus_3() {
        let f: Vec<i16> = (0..8000)
            .map(|i| {
                (32767.0 * (f64::from(i) * std::f64::consts::TAU * 1000.0 / 8000.0).sin()) as i16
            })
            .collect();
        assert!((frame_dbov(&f) + 3.01).abs() < 0.05);
        assert_eq!(frame_dbov(&[0; 160]), f64::NEG_INFINITY);
    }

    #[test]
    fn hysteresis() {
        let mut v = Vad::new(VadConfig::default());
        let loud = frame(3000.0); // about -24 dBov
        let mid = frame(250.0); // about -45.5 dBov: between off and on
        let quiet = frame(20.0);
        assert_eq!(v.push_frame(&loud), None);
        assert_eq!(v.push_frame(&loud), Some(VadEvent::SpeechStart(0)));
        // Between the thresholds: speech continues indefinitely.
        for _ in 0..50 {
            assert_eq!(v.push_frame(&mid), None);
        }
        // A single loud blip while quiet does not start speech again after it stops.
        for i in 0..14 {
            assert_eq!(v.push_frame(&quiet), None, "{i}");
        }
        assert_eq!(v.push_frame(&quiet), Some(VadEvent::SpeechStop(52)));
        assert_eq!(v.push_frame(&loud), None);
        assert_eq!(v.push_frame(&quiet), None);
        assert!(!v.is_speaking());
    }
}
