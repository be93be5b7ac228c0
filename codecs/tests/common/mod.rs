//! Signals shared by the detector tests, synthesised from first principles.
#![allow(dead_code)] // each test crate uses a different subset

use std::f64::consts::TAU;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Speech-like signal: a glottal pulse train with a wandering pitch (80–300 Hz), shaped by
/// three formant resonators that jump every 40–120 ms, with some aspiration noise and
/// syllable-rate amplitude changes.
pub fn speech_like(seconds: f64, seed: u64) -> Vec<i16> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let n = (seconds * 8000.0) as usize;
    let mut out = Vec::with_capacity(n);
    let mut phase = 0.0;
    let mut pitch: f64 = 150.0;
    let mut formants = [(500.0, 80.0), (1500.0, 120.0), (2500.0, 160.0)];
    let mut state = [[0.0f64; 2]; 3];
    let mut seg_left = 0usize;
    let mut gain = 1.0;
    for _ in 0..n {
        if seg_left == 0 {
            seg_left = rng.random_range(320..960);
            formants = [
                (
                    rng.random_range(250.0..1000.0),
                    rng.random_range(60.0..150.0),
                ),
                (
                    rng.random_range(800.0..2500.0),
                    rng.random_range(80.0..200.0),
                ),
                (
                    rng.random_range(2000.0..3500.0),
                    rng.random_range(100.0..250.0),
                ),
            ];
            pitch = (pitch + rng.random_range(-40.0..40.0)).clamp(80.0, 300.0);
            gain = rng.random_range(0.1..1.0);
        }
        seg_left -= 1;
        pitch = (pitch + rng.random_range(-0.5..0.5)).clamp(80.0, 300.0);
        phase += pitch / 8000.0;
        let pulse = if phase >= 1.0 {
            phase -= 1.0;
            1.0
        } else {
            0.0
        };
        let mut x = pulse + 0.05 * (rng.random::<f64>() - 0.5);
        for (k, (f, bw)) in formants.iter().enumerate() {
            let r = (-std::f64::consts::PI * bw / 8000.0).exp();
            let a1 = 2.0 * r * (TAU * f / 8000.0).cos();
            let a2 = -r * r;
            let y = x + a1 * state[k][0] + a2 * state[k][1];
            state[k][1] = state[k][0];
            state[k][0] = y;
            x = y * (1.0 - r);
        }
        out.push(x * gain);
    }
    let peak = out.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    out.iter()
        .map(|v| (v / peak * 20000.0).round() as i16)
        .collect()
}
