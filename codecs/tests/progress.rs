//! Call-progress detection against signals built here from published figures: the tone plans'
//! frequencies and cadences (China, ITU-T E.180, the North American precise tone plan), the
//! SIT segment table (Bell System / Telcordia codes, E.180 limits), speech-like audio and
//! music on hold. Tones are at −30 dBm0 with white noise 20 dB below them; timings must be
//! within 50 ms of the truth.

use std::f64::consts::TAU;

use proptest::prelude::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tandem_codecs::progress::{Kind, ProgressConfig, ProgressDetector, ProgressEvent};
use tandem_codecs::sit::SitClass;

mod common;
use common::speech_like;

/// A full-scale sine is +3.14 dBm0 (G.711, A-law digital milliwatt reference).
#[allow(clippy::approx_constant)] // a level in dB, not π
const FULL_SCALE_DBM0: f64 = 3.14;
/// Allowed timing error.
const TIMING_MS: f64 = 50.0;

/// Peak amplitude of a sine at `dbm0`.
fn amp(dbm0: f64) -> f64 {
    32767.0 * 10f64.powf((dbm0 - FULL_SCALE_DBM0) / 20.0)
}

/// A tone as published: frequencies (Hz), total level (dBm0), (on, off) steps in ms (empty:
/// continuous).
struct Published {
    name: &'static str,
    kind: Kind,
    freqs: &'static [f64],
    cadence: &'static [(u32, u32)],
}

const PUBLISHED: &[Published] = &[
    // China: 450 Hz; dial continuous, ringback 1/4 s, busy 0.35/0.35 s, congestion 0.7/0.7 s.
    p("cn-dial", Kind::Dial, &[450.0], &[]),
    p("cn-ringback", Kind::Ringback, &[450.0], &[(1000, 4000)]),
    p("cn-busy", Kind::Busy, &[450.0], &[(350, 350)]),
    p("cn-congestion", Kind::Congestion, &[450.0], &[(700, 700)]),
    // ITU-T E.180: 425 Hz; ringback 1/4 s, busy 0.5/0.5 s, congestion 0.25/0.25 s.
    p("itu-dial", Kind::Dial, &[425.0], &[]),
    p("itu-ringback", Kind::Ringback, &[425.0], &[(1000, 4000)]),
    p("itu-busy", Kind::Busy, &[425.0], &[(500, 500)]),
    p("itu-congestion", Kind::Congestion, &[425.0], &[(250, 250)]),
    // North American precise tones.
    p("us-dial", Kind::Dial, &[350.0, 440.0], &[]),
    p(
        "us-ringback",
        Kind::Ringback,
        &[440.0, 480.0],
        &[(2000, 4000)],
    ),
    p("us-busy", Kind::Busy, &[480.0, 620.0], &[(500, 500)]),
    p(
        "us-reorder",
        Kind::Congestion,
        &[480.0, 620.0],
        &[(250, 250)],
    ),
];

const fn p(
    name: &'static str,
    kind: Kind,
    freqs: &'static [f64],
    cadence: &'static [(u32, u32)],
) -> Published {
    Published {
        name,
        kind,
        freqs,
        cadence,
    }
}

/// Appends `ms` of the frequencies (total level `dbm0`), starting phases random.
fn tone(out: &mut Vec<f64>, freqs: &[f64], dbm0: f64, ms: f64, rng: &mut SmallRng) {
    let a = amp(dbm0 - 10.0 * (freqs.len() as f64).log10());
    let phases: Vec<f64> = freqs.iter().map(|_| rng.random::<f64>() * TAU).collect();
    let n = (ms * 8.0).round() as usize;
    let t0 = out.len();
    out.extend((0..n).map(|i| {
        let t = (t0 + i) as f64 / 8000.0;
        freqs
            .iter()
            .zip(&phases)
            .map(|(f, ph)| a * (TAU * f * t + ph).sin())
            .sum::<f64>()
    }));
}

fn silence(out: &mut Vec<f64>, ms: f64) {
    out.extend(std::iter::repeat_n(0.0, (ms * 8.0).round() as usize));
}

/// Adds white noise `snr_db` below a sine at `dbm0`, and rounds to 16 bits.
fn with_noise(x: &[f64], dbm0: f64, snr_db: f64, rng: &mut SmallRng) -> Vec<i16> {
    let rms = amp(dbm0) / 2f64.sqrt() * 10f64.powf(-snr_db / 20.0);
    // Uniform noise on [-√3, √3] has unit variance.
    x.iter()
        .map(|v| {
            let n = (rng.random::<f64>() * 2.0 - 1.0) * 3f64.sqrt() * rms;
            (v + n).round().clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

fn run(pcm: &[i16]) -> Vec<ProgressEvent> {
    // Fed in odd-sized chunks, as a jitter buffer would.
    let mut d = ProgressDetector::with_defaults();
    let mut v = Vec::new();
    for c in pcm.chunks(173) {
        d.process(c, |e| v.push(e));
    }
    v
}

fn is_tone_or_sit(k: Kind) -> bool {
    matches!(
        k,
        Kind::Dial | Kind::Ringback | Kind::Busy | Kind::Congestion | Kind::Sit(_)
    )
}

#[test]
fn every_tone_plan_is_detected_by_cadence_in_time() {
    let mut worst: f64 = 0.0;
    let mut worst_decision: Vec<(&str, f64)> = Vec::new();
    for (k, plan) in PUBLISHED.iter().enumerate() {
        let mut latest: f64 = 0.0;
        for trial in 0..6u64 {
            let mut rng = SmallRng::seed_from_u64(100 * k as u64 + trial);
            let lead = 200.0 + rng.random::<f64>() * 500.0;
            let mut x = Vec::new();
            silence(&mut x, lead);
            if plan.cadence.is_empty() {
                tone(&mut x, plan.freqs, -30.0, 6000.0, &mut rng);
            } else {
                while x.len() < ((lead + 12_500.0) * 8.0) as usize {
                    for &(on, off) in plan.cadence {
                        tone(&mut x, plan.freqs, -30.0, f64::from(on), &mut rng);
                        silence(&mut x, f64::from(off));
                    }
                }
            }
            let pcm = with_noise(&x, -30.0, 20.0, &mut rng);
            let events = run(&pcm);
            let tones: Vec<_> = events.iter().filter(|e| is_tone_or_sit(e.kind)).collect();
            assert_eq!(tones.len(), 1, "{}: {events:?}", plan.name);
            let e = tones[0];
            assert_eq!(
                (e.kind, e.plan),
                (plan.kind, Some(plan.name)),
                "{}",
                plan.name
            );
            let err = (e.start_ms() - lead).abs();
            assert!(
                err <= TIMING_MS,
                "{}: start {} vs {lead}",
                plan.name,
                e.start_ms()
            );
            worst = worst.max(err);
            latest = latest.max(e.at_ms() - lead);
        }
        worst_decision.push((plan.name, latest));
    }
    eprintln!(
        "tones: worst start error {worst:.1} ms; decided after onset (ms): {worst_decision:?}"
    );
}

/// Appends a SIT (frequency Hz, ms) at `dbm0`, segments back to back.
fn sit(out: &mut Vec<f64>, segs: &[(f64, f64)], dbm0: f64, rng: &mut SmallRng) {
    for &(f, ms) in segs {
        tone(out, &[f], dbm0, ms, rng);
    }
}

/// The published segment table: (class, [(Hz, ms); 3]).
fn sit_table() -> Vec<(SitClass, [(f64, f64); 3])> {
    let (l1, h1, l2, h2, l3) = (913.8, 985.2, 1370.6, 1428.5, 1776.7);
    let (s, l) = (274.0, 380.0);
    vec![
        (SitClass::Intercept, [(l1, s), (l2, s), (l3, l)]),
        (SitClass::VacantCode, [(h1, l), (l2, s), (l3, l)]),
        (SitClass::NoCircuit, [(h1, l), (h2, l), (l3, l)]),
        (SitClass::NoCircuitInterLata, [(l1, l), (l2, l), (l3, l)]),
        (SitClass::Reorder, [(l1, s), (h2, l), (l3, l)]),
        (SitClass::ReorderInterLata, [(h1, s), (l2, l), (l3, l)]),
        (SitClass::IneffectiveOther, [(l1, l), (h2, s), (l3, l)]),
        (SitClass::Reserved, [(h1, s), (h2, s), (l3, l)]),
        // E.180's nominal form carries no code.
        (
            SitClass::Unclassified,
            [(950.0, 330.0), (1400.0, 330.0), (1800.0, 330.0)],
        ),
    ]
}

#[test]
fn every_sit_class_is_identified_in_time() {
    let mut worst: f64 = 0.0;
    for (k, (class, segs)) in sit_table().into_iter().enumerate() {
        // Nominal, and at the edges of the tolerances: durations ±5%, frequencies ±0.2%.
        for (trial, (dscale, fscale)) in [(1.0, 1.0), (0.95, 1.002), (1.05, 0.998), (1.0, 1.0)]
            .into_iter()
            .enumerate()
        {
            let mut rng = SmallRng::seed_from_u64(1000 + 10 * k as u64 + trial as u64);
            let lead = 300.0 + rng.random::<f64>() * 400.0;
            let mut x = Vec::new();
            silence(&mut x, lead);
            let scaled = segs.map(|(f, ms)| (f * fscale, ms * dscale));
            sit(&mut x, &scaled, -30.0, &mut rng);
            silence(&mut x, 200.0);
            // The announcement that follows.
            let voice = speech_like(2.0, k as u64);
            x.extend(voice.iter().map(|&v| f64::from(v)));
            let pcm = with_noise(&x, -30.0, 20.0, &mut rng);
            let events = run(&pcm);
            let sits: Vec<_> = events
                .iter()
                .filter(|e| matches!(e.kind, Kind::Sit(_)))
                .collect();
            assert_eq!(sits.len(), 1, "{class:?} {trial}: {events:?}");
            assert_eq!(sits[0].kind, Kind::Sit(class), "trial {trial}");
            let err = (sits[0].start_ms() - lead).abs();
            assert!(
                err <= TIMING_MS,
                "{class:?}: {} vs {lead}",
                sits[0].start_ms()
            );
            worst = worst.max(err);
            let end: f64 = lead + scaled.iter().map(|s| s.1).sum::<f64>();
            assert!(sits[0].at_ms() - end <= 100.0, "decided late");
            // No other tone is reported, and the SIT decides the call before the voice.
            assert!(
                events
                    .iter()
                    .all(|e| !is_tone_or_sit(e.kind) || e == sits[0])
            );
            let mut d = ProgressDetector::with_defaults();
            d.process(&pcm, |_| {});
            assert_eq!(d.outcome().map(|o| o.kind), Some(Kind::Sit(class)));
        }
    }
    eprintln!("SIT: worst start error {worst:.1} ms");
}

#[test]
fn voice_answers_after_ringback_with_its_onset() {
    let mut worst: f64 = 0.0;
    for seed in 0..8u64 {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut x = Vec::new();
        for _ in 0..2 {
            tone(&mut x, &[450.0], -30.0, 1000.0, &mut rng);
            silence(&mut x, 4000.0);
        }
        tone(&mut x, &[450.0], -30.0, 1000.0, &mut rng);
        let answer = x.len() as f64 / 8.0 + 300.0 + 700.0 * rng.random::<f64>();
        let gap = answer - x.len() as f64 / 8.0;
        silence(&mut x, gap);
        // "Hello?" at about −30 dBm0 (its loudest pulse near full scale).
        let v = speech_like(1.5, 50 + seed);
        x.extend(v.iter().map(|&s| f64::from(s)));
        silence(&mut x, 500.0);
        let pcm = with_noise(&x, -30.0, 20.0, &mut rng);
        let events = run(&pcm);
        let kinds: Vec<Kind> = events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, vec![Kind::Ringback, Kind::Voice], "{events:?}");
        let err = (events[1].start_ms() - answer).abs();
        assert!(
            err <= TIMING_MS,
            "voice at {} vs {answer}",
            events[1].start_ms()
        );
        worst = worst.max(err);
        // 500 ms of voice, its pauses, and the 60 ms the judgement waits for.
        assert!(events[1].at_ms() - answer <= 1000.0);
    }
    eprintln!("voice: worst start error {worst:.1} ms");
}

#[test]
fn no_answer_and_silence() {
    let mut rng = SmallRng::seed_from_u64(9);
    // US ringback for 34 s: ringback, then no answer at 30 s.
    let mut x = Vec::new();
    while x.len() < 34 * 8000 {
        tone(&mut x, &[440.0, 480.0], -30.0, 2000.0, &mut rng);
        silence(&mut x, 4000.0);
    }
    let events = run(&with_noise(&x, -30.0, 20.0, &mut rng));
    let kinds: Vec<Kind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![Kind::Ringback, Kind::NoAnswer], "{events:?}");
    assert!((events[1].at_ms() - 30_000.0).abs() <= 10.0);
    // Dead air: noise at −60 dBm0 for 12 s gives one silence report from the start.
    let mut x = Vec::new();
    silence(&mut x, 12_000.0);
    let events = run(&with_noise(&x, -40.0, 20.0, &mut rng));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].kind, Kind::Silence);
    assert!(events[0].start_ms() <= TIMING_MS);
    assert!((events[0].at_ms() - 5000.0).abs() <= 100.0);
}

#[test]
fn no_tone_or_sit_in_ten_minutes_of_speech() {
    let mut d = ProgressDetector::new(ProgressConfig {
        no_answer_ms: None,
        ..ProgressConfig::default()
    })
    .unwrap();
    let mut false_alarms = Vec::new();
    // Sixty 10 s passages at levels from loud to quiet, back to back.
    for seed in 0..60u64 {
        let scale = [1.0, 0.3, 0.1, 0.03][(seed % 4) as usize];
        let pcm: Vec<i16> = speech_like(10.0, 7000 + seed)
            .iter()
            .map(|&s| (f64::from(s) * scale).round() as i16)
            .collect();
        d.process(&pcm, |e| {
            if is_tone_or_sit(e.kind) {
                false_alarms.push(e);
            }
        });
    }
    assert_eq!(d.samples_seen(), 600 * 8000);
    assert!(false_alarms.is_empty(), "{false_alarms:?}");
    assert_eq!(d.outcome().map(|o| o.kind), Some(Kind::Voice));
}

/// Music on hold: a melody over sustained triads, every note with harmonics, 8 notes a bar
/// at about 100 bpm, in several keys (equal temperament from A4 = 440 Hz).
fn music(seconds: f64, seed: u64) -> Vec<f64> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let note = |semitones: i32| 440.0 * 2f64.powf(f64::from(semitones) / 12.0);
    let major = [0, 2, 4, 5, 7, 9, 11, 12];
    let n = (seconds * 8000.0) as usize;
    let mut out = Vec::with_capacity(n);
    let mut key = 0i32;
    let mut i = 0;
    while i < n {
        if rng.random::<f64>() < 0.1 {
            key = rng.random_range(-7..5);
        }
        let root = key + [0, 5, 7, 9][rng.random_range(0..4)] - 12;
        let chord = [root, root + 4, root + 7].map(note);
        let bar = (2.4 * 8000.0) as usize;
        for k in 0..bar.min(n - i) {
            let t = (i + k) as f64 / 8000.0;
            let beat = k / (bar / 8);
            let step = major[(beat * 3 + (seed as usize)) % 8];
            let mel = note(key + step);
            let env = (-((k % (bar / 8)) as f64) / 2400.0).exp();
            let mut v = 0.0;
            for h in 1..=4 {
                let w = 1.0 / f64::from(h * h);
                v += 0.5
                    * w
                    * chord
                        .iter()
                        .map(|f| (TAU * f * h as f64 * t).sin())
                        .sum::<f64>();
                v += w * env * (TAU * mel * h as f64 * t).sin();
            }
            out.push(v * 3000.0);
        }
        i += bar;
    }
    out
}

/// The arpeggio of plain two-note chords that drive mode plays as music on hold (400 ms each,
/// −18 dBm0), which comes close to tone-plan frequencies (349.2 + 440 Hz).
fn dyads(seconds: f64) -> Vec<f64> {
    let notes: [[f64; 2]; 6] = [
        [261.6, 329.6],
        [329.6, 392.0],
        [392.0, 523.3],
        [220.0, 440.0],
        [349.2, 440.0],
        [293.7, 370.0],
    ];
    let a = amp(-18.0);
    (0..(seconds * 8000.0) as usize)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let f = notes[(i / 3200) % notes.len()];
            a * ((TAU * f[0] * t).sin() + (TAU * f[1] * t).sin())
        })
        .collect()
}

#[test]
fn no_tone_or_sit_in_music_on_hold() {
    let mut rng = SmallRng::seed_from_u64(77);
    for (name, x) in [
        ("melody and chords", music(300.0, 1)),
        ("drive-mode dyads", dyads(300.0)),
    ] {
        let pcm = with_noise(&x, -30.0, 20.0, &mut rng);
        let alarms: Vec<_> = run(&pcm)
            .into_iter()
            .filter(|e| is_tone_or_sit(e.kind))
            .collect();
        assert!(alarms.is_empty(), "{name}: {alarms:?}");
    }
}

#[test]
fn quieter_than_the_floor_is_not_a_tone() {
    let mut rng = SmallRng::seed_from_u64(5);
    let mut x = Vec::new();
    for _ in 0..10 {
        tone(&mut x, &[425.0], -50.0, 500.0, &mut rng);
        silence(&mut x, 500.0);
    }
    let events = run(&with_noise(&x, -50.0, 30.0, &mut rng));
    assert!(events.iter().all(|e| !is_tone_or_sit(e.kind)), "{events:?}");
}

#[test]
fn a_cadence_outside_tolerance_is_not_reported() {
    // 450 Hz at 0.5/0.5 s fits none of China's cadences (0.35, 0.7, 1/4 s).
    let mut rng = SmallRng::seed_from_u64(6);
    let mut x = Vec::new();
    for _ in 0..10 {
        tone(&mut x, &[450.0], -20.0, 500.0, &mut rng);
        silence(&mut x, 500.0);
    }
    let events = run(&with_noise(&x, -20.0, 30.0, &mut rng));
    assert!(events.iter().all(|e| !is_tone_or_sit(e.kind)), "{events:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any input is consumed without panic, and chunking never changes what is reported.
    #[test]
    fn total_and_chunking_invariant(
        pcm in proptest::collection::vec(any::<i16>(), 0..20_000),
        chunk in 1usize..700,
    ) {
        let whole = ProgressDetector::with_defaults().detect(&pcm);
        let mut d = ProgressDetector::with_defaults();
        let mut parts = Vec::new();
        for c in pcm.chunks(chunk) {
            d.process(c, |e| parts.push(e));
        }
        prop_assert_eq!(whole, parts);
        prop_assert_eq!(d.samples_seen(), (pcm.len() / 80 * 80) as u64);
    }

    /// Extreme signals (full-scale square waves, clipping, DC) never panic.
    #[test]
    fn extremes(level in prop_oneof![Just(i16::MIN), Just(i16::MAX), Just(0i16), any::<i16>()],
                period in 1usize..200, len in 0usize..16_000) {
        let pcm: Vec<i16> = (0..len)
            .map(|i| if (i / period) % 2 == 0 { level } else { level.wrapping_neg() })
            .collect();
        let _ = ProgressDetector::with_defaults().detect(&pcm);
    }
}
