//! Concealment quality: on a voiced signal with lost frames, PLC must beat silence insertion
//! by a clear margin in segmental SNR against the original.

use std::f64::consts::TAU;

use tandem_codecs::plc::Plc;

/// Pitch vibrato depth (0.3% at 4 Hz): enough that an integer pitch period drifts.
const VIBRATO: f64 = 0.003;

/// A vowel-like signal: harmonics of `f0` with a formant-shaped envelope and slow vibrato.
fn voiced(f0: f64, seconds: f64) -> Vec<i16> {
    let n = (seconds * 8000.0) as usize;
    let mut phase = 0.0;
    (0..n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let f = f0 * (1.0 + VIBRATO * (TAU * 4.0 * t).sin());
            phase += TAU * f / 8000.0;
            let mut v = 0.0;
            for h in 1..=20 {
                let fh = f * h as f64;
                if fh > 3600.0 {
                    break;
                }
                // Two formants at 700 and 1200 Hz.
                let g = 1.0 / (1.0 + ((fh - 700.0) / 150.0).powi(2))
                    + 0.6 / (1.0 + ((fh - 1200.0) / 200.0).powi(2))
                    + 0.05;
                v += g * (phase * h as f64).sin();
            }
            (v * 6000.0).round() as i16
        })
        .collect()
}

/// SNR in dB of `got` against `want` over the lost frames only.
fn snr_over(want: &[i16], got: &[i16], lost: &[bool]) -> f64 {
    let (mut sig, mut err) = (0.0, 0.0);
    for (k, &l) in lost.iter().enumerate() {
        if !l {
            continue;
        }
        for i in k * 160..(k + 1) * 160 {
            let (w, g) = (f64::from(want[i]), f64::from(got[i]));
            sig += w * w;
            err += (w - g) * (w - g);
        }
    }
    10.0 * (sig / err.max(1e-9)).log10()
}

fn run(f0: f64, pattern: impl Fn(usize) -> bool) -> (f64, f64) {
    let x = voiced(f0, 4.0);
    let frames = x.len() / 160;
    let lost: Vec<bool> = (0..frames).map(|k| k > 5 && pattern(k)).collect();
    let mut plc = Plc::new();
    let mut with_plc = Vec::with_capacity(x.len());
    let mut with_zero = Vec::with_capacity(x.len());
    for k in 0..frames {
        let mut frame = x[k * 160..(k + 1) * 160].to_vec();
        if lost[k] {
            let mut out = [0i16; 160];
            plc.conceal(&mut out);
            with_plc.extend_from_slice(&out);
            with_zero.extend_from_slice(&[0; 160]);
        } else {
            with_zero.extend_from_slice(&frame);
            plc.good_frame(&mut frame);
            with_plc.extend_from_slice(&frame);
        }
    }
    let n = frames * 160;
    (
        snr_over(&x[..n], &with_plc, &lost),
        snr_over(&x[..n], &with_zero, &lost),
    )
}

#[test]
fn single_losses_are_concealed_well() {
    for f0 in [100.0, 133.0, 180.0] {
        let (plc, zero) = run(f0, |k| k % 10 == 3);
        assert!(zero.abs() < 0.5, "zero insertion is 0 dB SNR, got {zero}");
        assert!(
            plc > zero + 6.0,
            "f0 {f0}: PLC {plc:.1} dB vs silence {zero:.1} dB"
        );
    }
}

#[test]
fn bursts_still_beat_silence() {
    // Two-frame bursts: the second frame is attenuated, so the margin is smaller.
    let (plc, zero) = run(125.0, |k| k % 12 == 4 || k % 12 == 5);
    assert!(plc > zero + 3.0, "PLC {plc:.1} dB vs silence {zero:.1} dB");
}

#[test]
fn the_splice_back_has_no_step() {
    // After a loss the first received sample is cross-faded: the jump between the last
    // concealed sample and the first output sample stays within the signal's own slope.
    let x = voiced(140.0, 1.0);
    let mut plc = Plc::new();
    let mut max_step_normal = 0i32;
    for w in x.windows(2) {
        max_step_normal = max_step_normal.max((i32::from(w[1]) - i32::from(w[0])).abs());
    }
    for k in 0..20 {
        let mut f = x[k * 160..(k + 1) * 160].to_vec();
        plc.good_frame(&mut f);
    }
    let mut out = [0i16; 160];
    plc.conceal(&mut out);
    let mut f = x[21 * 160..22 * 160].to_vec();
    plc.good_frame(&mut f);
    let step = (i32::from(f[0]) - i32::from(out[159])).abs();
    assert!(
        step <= max_step_normal * 2,
        "step {step} vs normal {max_step_normal}"
    );
}
