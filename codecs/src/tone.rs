//! Call-progress tone plans (dial, ringback, busy, congestion) and in-band DTMF generation.
//!
//! A [`TonePlan`] is one or two frequencies at a level with an on/off cadence. The generator
//! is phase-continuous across calls of any length, so a channel can pull 20 ms at a time.
//! Levels are in dBm0; a full-scale sine is +3.14 dBm0 (G.711's digital milliwatt reference,
//! the A-law value; μ-law's +3.17 differs by 0.03 dB).

use std::f64::consts::TAU;

/// Level of a full-scale sine in dBm0.
#[allow(clippy::approx_constant)] // 3.14 dB, a level, not π
pub const FULL_SCALE_DBM0: f64 = 3.14;

/// Peak amplitude (16-bit linear) of a sine at `dbm0`.
pub fn amplitude_for_dbm0(dbm0: f64) -> f64 {
    32767.0 * 10f64.powf((dbm0 - FULL_SCALE_DBM0) / 20.0)
}

/// A cadenced tone.
#[derive(Clone, Debug, PartialEq)]
pub struct TonePlan {
    /// A short name (`cn-ringback`, `us-busy`, …).
    pub name: &'static str,
    /// Frequencies in Hz (one or two).
    pub freqs: &'static [f64],
    /// Level of each frequency in dBm0.
    pub level_dbm0: f64,
    /// On/off steps in milliseconds, repeated; empty means continuous.
    pub cadence: &'static [(u32, u32)],
}

/// China (YD/T 1124-style plans): 450 Hz dial tone, continuous.
pub const CN_DIAL: TonePlan = TonePlan {
    name: "cn-dial",
    freqs: &[450.0],
    level_dbm0: -10.0,
    cadence: &[],
};
/// China: 450 Hz ringback, 1 s on, 4 s off.
pub const CN_RINGBACK: TonePlan = TonePlan {
    name: "cn-ringback",
    freqs: &[450.0],
    level_dbm0: -10.0,
    cadence: &[(1000, 4000)],
};
/// China: 450 Hz busy, 0.35 s on, 0.35 s off.
pub const CN_BUSY: TonePlan = TonePlan {
    name: "cn-busy",
    freqs: &[450.0],
    level_dbm0: -10.0,
    cadence: &[(350, 350)],
};
/// China: 450 Hz congestion, 0.7 s on, 0.7 s off.
pub const CN_CONGESTION: TonePlan = TonePlan {
    name: "cn-congestion",
    freqs: &[450.0],
    level_dbm0: -10.0,
    cadence: &[(700, 700)],
};
/// ITU-T E.180 recommended dial tone: 425 Hz, continuous.
pub const ITU_DIAL: TonePlan = TonePlan {
    name: "itu-dial",
    freqs: &[425.0],
    level_dbm0: -10.0,
    cadence: &[],
};
/// ITU-T E.180 recommended ringback: 425 Hz, 1 s on, 4 s off.
pub const ITU_RINGBACK: TonePlan = TonePlan {
    name: "itu-ringback",
    freqs: &[425.0],
    level_dbm0: -10.0,
    cadence: &[(1000, 4000)],
};
/// ITU-T E.180 recommended busy: 425 Hz, 0.5 s on, 0.5 s off.
pub const ITU_BUSY: TonePlan = TonePlan {
    name: "itu-busy",
    freqs: &[425.0],
    level_dbm0: -10.0,
    cadence: &[(500, 500)],
};
/// ITU-T E.180 congestion: 425 Hz, 0.25 s on, 0.25 s off (faster than busy, as E.180 asks;
/// the most common cadence among administrations using 425 Hz).
pub const ITU_CONGESTION: TonePlan = TonePlan {
    name: "itu-congestion",
    freqs: &[425.0],
    level_dbm0: -10.0,
    cadence: &[(250, 250)],
};
/// North American precise tone plan: dial tone 350 + 440 Hz, continuous.
pub const US_DIAL: TonePlan = TonePlan {
    name: "us-dial",
    freqs: &[350.0, 440.0],
    level_dbm0: -13.0,
    cadence: &[],
};
/// North American ringback: 440 + 480 Hz, 2 s on, 4 s off.
pub const US_RINGBACK: TonePlan = TonePlan {
    name: "us-ringback",
    freqs: &[440.0, 480.0],
    level_dbm0: -19.0,
    cadence: &[(2000, 4000)],
};
/// North American busy: 480 + 620 Hz, 0.5 s on, 0.5 s off.
pub const US_BUSY: TonePlan = TonePlan {
    name: "us-busy",
    freqs: &[480.0, 620.0],
    level_dbm0: -24.0,
    cadence: &[(500, 500)],
};

/// North American reorder (fast busy, congestion): 480 + 620 Hz, 0.25 s on, 0.25 s off.
pub const US_REORDER: TonePlan = TonePlan {
    name: "us-reorder",
    freqs: &[480.0, 620.0],
    level_dbm0: -24.0,
    cadence: &[(250, 250)],
};

/// Every built-in plan.
pub const BUILT_IN: &[TonePlan] = &[
    CN_DIAL,
    CN_RINGBACK,
    CN_BUSY,
    CN_CONGESTION,
    ITU_DIAL,
    ITU_RINGBACK,
    ITU_BUSY,
    ITU_CONGESTION,
    US_DIAL,
    US_RINGBACK,
    US_BUSY,
    US_REORDER,
];

/// Finds a built-in plan by name.
pub fn plan(name: &str) -> Option<&'static TonePlan> {
    BUILT_IN.iter().find(|p| p.name == name)
}

/// Generates a tone plan sample by sample, phase-continuous across calls.
#[derive(Clone, Debug)]
pub struct ToneGenerator {
    plan: TonePlan,
    sample_rate: u32,
    amplitude: f64,
    /// Sample index since the start; selects the cadence step and drives the phase.
    n: u64,
    cycle_len: u64,
}

impl ToneGenerator {
    /// A generator for `plan` at `sample_rate` Hz.
    pub fn new(plan: &TonePlan, sample_rate: u32) -> ToneGenerator {
        let per_ms = u64::from(sample_rate) / 1000;
        let cycle_len = plan
            .cadence
            .iter()
            .map(|(on, off)| u64::from(on + off) * per_ms)
            .sum();
        ToneGenerator {
            plan: plan.clone(),
            sample_rate,
            amplitude: amplitude_for_dbm0(plan.level_dbm0),
            n: 0,
            cycle_len,
        }
    }

    fn is_on(&self, n: u64) -> bool {
        if self.cycle_len == 0 {
            return true;
        }
        let per_ms = u64::from(self.sample_rate) / 1000;
        let mut t = n % self.cycle_len;
        for (on, off) in self.plan.cadence {
            let on = u64::from(*on) * per_ms;
            if t < on {
                return true;
            }
            t -= on;
            let off = u64::from(*off) * per_ms;
            if t < off {
                return false;
            }
            t -= off;
        }
        false
    }

    /// Fills `out` with the next samples.
    pub fn fill(&mut self, out: &mut [i16]) {
        let sr = f64::from(self.sample_rate);
        for o in out.iter_mut() {
            let v = if self.is_on(self.n) {
                let t = self.n as f64 / sr;
                self.plan
                    .freqs
                    .iter()
                    .map(|f| (TAU * f * t).sin())
                    .sum::<f64>()
                    * self.amplitude
            } else {
                0.0
            };
            *o = v.round().clamp(-32768.0, 32767.0) as i16;
            self.n += 1;
        }
    }
}

/// DTMF row (low-group) frequencies in Hz.
pub const DTMF_ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
/// DTMF column (high-group) frequencies in Hz.
pub const DTMF_COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
/// The DTMF keypad, by row and column.
pub const DTMF_KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// Row and column frequencies of a DTMF key, if it is one.
pub fn dtmf_freqs(key: char) -> Option<(f64, f64)> {
    let key = key.to_ascii_uppercase();
    for (r, row) in DTMF_KEYS.iter().enumerate() {
        for (c, k) in row.iter().enumerate() {
            if *k == key {
                return Some((DTMF_ROWS[r], DTMF_COLS[c]));
            }
        }
    }
    None
}

/// Parameters of an in-band DTMF tone burst.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DtmfTone {
    /// Low-group frequency in Hz.
    pub low: f64,
    /// High-group frequency in Hz.
    pub high: f64,
    /// Level of the low-group tone in dBm0.
    pub low_dbm0: f64,
    /// Level of the high-group tone in dBm0.
    pub high_dbm0: f64,
}

impl DtmfTone {
    /// The standard tone for `key` at `dbm0` per frequency (no twist).
    pub fn for_key(key: char, dbm0: f64) -> Option<DtmfTone> {
        let (low, high) = dtmf_freqs(key)?;
        Some(DtmfTone {
            low,
            high,
            low_dbm0: dbm0,
            high_dbm0: dbm0,
        })
    }

    /// Appends `samples` samples of this tone at `sample_rate` to `out`.
    pub fn render(&self, sample_rate: u32, samples: usize, out: &mut Vec<i16>) {
        let (al, ah) = (
            amplitude_for_dbm0(self.low_dbm0),
            amplitude_for_dbm0(self.high_dbm0),
        );
        let sr = f64::from(sample_rate);
        out.extend((0..samples).map(|i| {
            let t = i as f64 / sr;
            let v = al * (TAU * self.low * t).sin() + ah * (TAU * self.high * t).sin();
            v.round().clamp(-32768.0, 32767.0) as i16
        }));
    }
}

/// Renders a DTMF digit string at 8 kHz: each key for `on_ms`, then `off_ms` of silence, at
/// `dbm0` per frequency. Unknown characters are skipped.
pub fn dtmf_sequence(keys: &str, on_ms: u32, off_ms: u32, dbm0: f64) -> Vec<i16> {
    let mut out = Vec::new();
    for k in keys.chars() {
        if let Some(t) = DtmfTone::for_key(k, dbm0) {
            t.render(8000, on_ms as usize * 8, &mut out);
            out.extend(std::iter::repeat_n(0, off_ms as usize * 8));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rms(x: &[i16]) -> f64 {
        (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    #[test]
    fn cadence_follows_the_plan() {
        let mut g = ToneGenerator::new(&CN_BUSY, 8000);
        let mut buf = vec![0i16; 8000]; // 1 s: on 0-350, off 350-700, on 700-1000 ms
        g.fill(&mut buf);
        assert!(rms(&buf[..2800]) > 1000.0);
        assert_eq!(rms(&buf[2800..5600]), 0.0);
        assert!(rms(&buf[5600..8000]) > 1000.0);
    }

    #[test]
    fn level_matches_dbm0() {
        // A sine at -10 dBm0 has RMS = peak/√2 with peak from the full-scale reference.
        let mut g = ToneGenerator::new(&CN_DIAL, 8000);
        let mut buf = vec![0i16; 8000];
        g.fill(&mut buf);
        let expected = 32767.0 * 10f64.powf((-10.0 - FULL_SCALE_DBM0) / 20.0) / 2f64.sqrt();
        assert!((rms(&buf) / expected - 1.0).abs() < 0.01);
    }

    #[test]
    fn phase_continuous_across_calls() {
        let mut a = ToneGenerator::new(&US_DIAL, 8000);
        let mut whole = vec![0i16; 480];
        a.fill(&mut whole);
        let mut b = ToneGenerator::new(&US_DIAL, 8000);
        let mut parts = vec![0i16; 480];
        for c in parts.chunks_mut(7) {
            b.fill(c);
        }
        assert_eq!(whole, parts);
    }

    #[test]
    fn dtmf_keypad() {
        assert_eq!(dtmf_freqs('5'), Some((770.0, 1336.0)));
        assert_eq!(dtmf_freqs('#'), Some((941.0, 1477.0)));
        assert_eq!(dtmf_freqs('d'), Some((941.0, 1633.0)));
        assert_eq!(dtmf_freqs('x'), None);
        assert_eq!(dtmf_sequence("12", 50, 50, -10.0).len(), 1600);
    }
}
