//! DTMF detection against the ITU-T Q.24 style limits the detector promises.
//!
//! Signals are synthesised here from first principles (sines at given frequencies and
//! levels, seeded noise, a formant-filtered pulse train for speech) rather than with the
//! crate's own generator, except where the generator itself is what is being exercised.

use std::f64::consts::TAU;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tandem_codecs::dtmf::DtmfDetector;
use tandem_codecs::tone::dtmf_sequence;

mod common;
use common::speech_like;

const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
const COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// A full-scale sine is +3.14 dBm0 (G.711, A-law digital milliwatt reference).
#[allow(clippy::approx_constant)] // a level in dB, not π
const FULL_SCALE_DBM0: f64 = 3.14;

/// Peak amplitude of a sine at `dbm0`.
fn amp(dbm0: f64) -> f64 {
    32767.0 * 10f64.powf((dbm0 - FULL_SCALE_DBM0) / 20.0)
}

/// `lead` ms of silence, then `ms` of a dual tone, then 100 ms of silence.
fn dual(low: f64, high: f64, low_dbm0: f64, high_dbm0: f64, ms: usize, lead: usize) -> Vec<i16> {
    let mut v = vec![0i16; lead * 8];
    for i in 0..ms * 8 {
        let t = i as f64 / 8000.0;
        let s =
            amp(low_dbm0) * (TAU * low * t).sin() + amp(high_dbm0) * (TAU * high * t + 1.0).sin();
        v.push(s.round() as i16);
    }
    v.extend(std::iter::repeat_n(0, 800));
    v
}

fn keys(pcm: &[i16]) -> String {
    DtmfDetector::default()
        .detect(pcm)
        .iter()
        .map(|d| d.key)
        .collect()
}

#[test]
fn every_key_is_detected_at_nominal_frequencies() {
    for (r, row) in ROWS.iter().enumerate() {
        for (c, col) in COLS.iter().enumerate() {
            let pcm = dual(*row, *col, -10.0, -10.0, 60, 0);
            assert_eq!(keys(&pcm), KEYS[r][c].to_string(), "{row}+{col}");
        }
    }
}

#[test]
fn accepts_deviation_of_1_5_percent() {
    for (r, row) in ROWS.iter().enumerate() {
        for (c, col) in COLS.iter().enumerate() {
            for (dl, dh) in [
                (1.015, 1.015),
                (0.985, 0.985),
                (1.015, 0.985),
                (0.985, 1.015),
            ] {
                let pcm = dual(row * dl, col * dh, -10.0, -10.0, 60, 0);
                assert_eq!(
                    keys(&pcm),
                    KEYS[r][c].to_string(),
                    "{row}×{dl} + {col}×{dh}"
                );
            }
        }
    }
}

#[test]
fn rejects_deviation_of_3_5_percent() {
    for row in ROWS {
        for col in COLS {
            for (dl, dh) in [(1.035, 1.0), (0.965, 1.0), (1.0, 1.035), (1.0, 0.965)] {
                let pcm = dual(row * dl, col * dh, -10.0, -10.0, 80, 0);
                assert_eq!(keys(&pcm), "", "{row}×{dl} + {col}×{dh}");
            }
        }
    }
}

#[test]
fn twist_limits() {
    // High group 3 dB above / 7 dB below the low group: accepted.
    assert_eq!(keys(&dual(770.0, 1336.0, -13.0, -10.0, 60, 0)), "5");
    assert_eq!(keys(&dual(770.0, 1336.0, -6.0, -13.0, 60, 0)), "5");
    // 6 dB above / 10 dB below: rejected.
    assert_eq!(keys(&dual(770.0, 1336.0, -16.0, -10.0, 60, 0)), "");
    assert_eq!(keys(&dual(770.0, 1336.0, -3.0, -13.0, 60, 0)), "");
}

#[test]
fn minimum_duration() {
    // 40 ms is detected whatever its alignment with the analysis blocks.
    for lead in 0..14 {
        let pcm = dual(852.0, 1477.0, -10.0, -10.0, 40, lead);
        assert_eq!(keys(&pcm), "9", "lead {lead} ms");
    }
    // 20 ms is too short.
    for lead in 0..14 {
        let pcm = dual(852.0, 1477.0, -10.0, -10.0, 20, lead);
        assert_eq!(keys(&pcm), "", "lead {lead} ms");
    }
}

#[test]
fn too_quiet_is_ignored() {
    assert_eq!(keys(&dual(941.0, 1336.0, -40.0, -40.0, 80, 0)), "");
}

#[test]
fn start_times_and_a_sequence_from_the_generator() {
    let pcm = dtmf_sequence("0123456789*#ABCD", 50, 50, -8.0);
    let got = DtmfDetector::default().detect(&pcm);
    let s: String = got.iter().map(|d| d.key).collect();
    assert_eq!(s, "0123456789*#ABCD");
    for (i, d) in got.iter().enumerate() {
        let expected = i as f64 * 0.1;
        assert!(
            (d.start_secs() - expected).abs() < 0.015,
            "{i}: {}",
            d.start_secs()
        );
    }
}

#[test]
fn detects_in_noise() {
    let mut rng = SmallRng::seed_from_u64(7);
    let mut pcm = dual(697.0, 1209.0, -10.0, -10.0, 60, 20);
    // White noise 20 dB below the tones.
    let n = amp(-30.0) / 2f64.sqrt();
    for s in &mut pcm {
        let v = f64::from(*s) + n * (rng.random::<f64>() * 2.0 - 1.0) * 3f64.sqrt();
        *s = v.round() as i16;
    }
    assert_eq!(keys(&pcm), "1");
}

#[test]
fn talk_off_speech_like_signal_gives_no_digits() {
    for seed in 0..6 {
        let pcm = speech_like(10.0, seed);
        let got = DtmfDetector::default().detect(&pcm);
        assert!(got.is_empty(), "seed {seed}: false digits {got:?}");
    }
}

#[test]
fn talk_off_pure_harmonic_vowels_give_no_digits() {
    // Steady vowels: harmonics of a fundamental that puts energy on DTMF frequencies.
    for f0 in [100.0, 116.0, 139.0, 170.0, 232.0, 348.0] {
        let pcm: Vec<i16> = (0..8000)
            .map(|i| {
                let t = f64::from(i) / 8000.0;
                let v: f64 = (1..30)
                    .map(|h| (TAU * f0 * h as f64 * t).sin() / h as f64)
                    .sum();
                (v * 6000.0).round() as i16
            })
            .collect();
        assert_eq!(keys(&pcm), "", "f0 {f0}");
    }
}
