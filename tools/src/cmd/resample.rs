//! Sample-rate conversion for the WAV tools, with rubato's FFT resampler (band-limited,
//! synchronous: exact for rational ratios such as 16 000 → 8 000 or 44 100 → 8 000).

use anyhow::{Context, Result, bail};
use rubato::{FftFixedInOut, Resampler};

/// Lowest and highest sample rates accepted, Hz.
pub const RATES: std::ops::RangeInclusive<u32> = 1000..=384_000;

/// Input frames the resampler takes per chunk (it rounds to its own FFT size).
const CHUNK: usize = 1024;

/// Resamples interleaved PCM16 `samples` with `channels` channels from `from` Hz to `to`
/// Hz. The resampler's delay is removed, so times in the output match times in the input,
/// and the output has `frames × to / from` frames, rounded.
pub fn resample(samples: &[i16], channels: u16, from: u32, to: u32) -> Result<Vec<i16>> {
    if !RATES.contains(&from) || !RATES.contains(&to) {
        bail!(
            "sample rates must be within {}..={} Hz (got {from} → {to})",
            RATES.start(),
            RATES.end()
        );
    }
    let ch = usize::from(channels.max(1));
    if from == to {
        return Ok(samples.to_vec());
    }
    let frames = samples.len() / ch;
    let planar: Vec<Vec<f64>> = (0..ch)
        .map(|c| {
            samples
                .iter()
                .skip(c)
                .step_by(ch)
                .map(|&s| f64::from(s) / 32768.0)
                .collect()
        })
        .collect();
    let mut r = FftFixedInOut::<f64>::new(from as usize, to as usize, CHUNK, ch)
        .context("setting up the resampler")?;
    let delay = r.output_delay();
    let want = (frames as u64 * u64::from(to)).div_ceil(u64::from(from)) as usize;
    let mut out: Vec<Vec<f64>> = vec![Vec::with_capacity(want + delay); ch];
    let mut pos = 0;
    while pos < frames {
        let n = r.input_frames_next();
        let end = (pos + n).min(frames);
        let chunk: Vec<&[f64]> = planar.iter().map(|p| &p[pos..end]).collect();
        let part = if end - pos == n {
            r.process(&chunk, None)
        } else {
            r.process_partial(Some(&chunk), None)
        }
        .context("resampling")?;
        for (o, p) in out.iter_mut().zip(part) {
            o.extend(p);
        }
        pos = end;
    }
    // Flush the resampler's delay line.
    while out[0].len() < delay + want {
        let part = r
            .process_partial::<&[f64]>(None, None)
            .context("resampling")?;
        for (o, p) in out.iter_mut().zip(part) {
            o.extend(p);
        }
    }
    let mut interleaved = Vec::with_capacity(want * ch);
    for i in delay..delay + want {
        for o in &out {
            interleaved.push((o[i] * 32768.0).round().clamp(-32768.0, 32767.0) as i16);
        }
    }
    Ok(interleaved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f64, rate: u32, seconds: f64, amp: f64) -> Vec<i16> {
        let n = (f64::from(rate) * seconds) as usize;
        (0..n)
            .map(|i| (amp * (std::f64::consts::TAU * hz * i as f64 / f64::from(rate)).sin()) as i16)
            .collect()
    }

    /// Power of `x` at `hz` (Goertzel), normalised by length.
    fn power(x: &[i16], hz: f64, rate: u32) -> f64 {
        let w = std::f64::consts::TAU * hz / f64::from(rate);
        let (mut s1, mut s2) = (0.0, 0.0);
        for &v in x {
            let s = f64::from(v) + 2.0 * w.cos() * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        (s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2) / (x.len() as f64).powi(2)
    }

    #[test]
    fn a_tone_keeps_its_frequency_level_and_timing() {
        // 1 kHz at 16 kHz → 8 kHz: half the frames, the same frequency and amplitude, and
        // no delay (the first zero crossing stays at the start).
        let x = tone(1000.0, 16_000, 1.0, 10_000.0);
        let y = resample(&x, 1, 16_000, 8000).unwrap();
        assert_eq!(y.len(), 8000);
        let peak = y[1000..7000]
            .iter()
            .map(|v| v.unsigned_abs())
            .max()
            .unwrap();
        assert!((9_700..=10_300).contains(&peak), "{peak}");
        // Sample k of the output is sin(2π·1000·k/8000) × 10 000: check a few.
        for k in [2000usize, 2001, 2002, 4000] {
            let want = 10_000.0 * (std::f64::consts::TAU * 1000.0 * k as f64 / 8000.0).sin();
            assert!(
                (f64::from(y[k]) - want).abs() < 150.0,
                "{k}: {} vs {want}",
                y[k]
            );
        }
    }

    #[test]
    fn content_above_the_new_nyquist_is_removed() {
        // 5 kHz cannot exist at 8 kHz: it must not fold back to 3 kHz.
        let x = tone(5000.0, 16_000, 0.5, 10_000.0);
        let y = resample(&x, 1, 16_000, 8000).unwrap();
        let folded = power(&y[500..3500], 3000.0, 8000);
        let kept = power(&tone(3000.0, 8000, 0.375, 10_000.0), 3000.0, 8000);
        assert!(folded < kept * 1e-4, "{folded} vs {kept}");
    }

    #[test]
    fn stereo_channels_stay_apart_and_odd_rates_work() {
        let left = tone(440.0, 44_100, 0.2, 8000.0);
        let right = vec![0i16; left.len()];
        let inter: Vec<i16> = left
            .iter()
            .zip(&right)
            .flat_map(|(l, r)| [*l, *r])
            .collect();
        let y = resample(&inter, 2, 44_100, 8000).unwrap();
        assert_eq!(y.len(), 2 * 1600);
        assert!(y.iter().skip(1).step_by(2).all(|v| v.abs() < 4));
        assert!(y.iter().step_by(2).any(|v| v.abs() > 7000));
        assert!(resample(&inter, 2, 500, 8000).is_err());
    }
}
