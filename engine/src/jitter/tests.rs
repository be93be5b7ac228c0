//! The jitter buffer against streams whose right output is known.

use super::*;
use proptest::prelude::*;
use tandem_codecs::g711;

fn us(n: u64) -> Micros {
    Micros::from_us(n)
}

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
                us(arrivals[k].0),
                n as u16,
                T0.wrapping_add((n * ptime) as u32),
                Law::Ulaw,
                &tone(n * ptime, ptime),
            );
            k += 1;
        }
        let mut out = [0i16; 160];
        outcomes.push(jb.pop(us(now), &mut out));
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
            us(0),
            0,
            T0.wrapping_add(160 * 10),
            Law::Ulaw,
            &tone(160 * 10, 160)
        ),
        InsertOutcome::Late
    );
    let mut jb = JitterBuffer::new(JitterConfig::fixed(60));
    assert_eq!(
        jb.insert(us(0), 0, T0, Law::Ulaw, &tone(0, 160)),
        InsertOutcome::Accepted
    );
    assert_eq!(
        jb.insert(us(0), 0, T0, Law::Ulaw, &tone(0, 160)),
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
        jb.insert(us(0), 0, 0, Law::Ulaw, &tone(0, 160)),
        InsertOutcome::Accepted
    );
    assert_eq!(
        jb.insert(us(20_000), 1, 1 << 31, Law::Ulaw, &tone(0, 160)),
        InsertOutcome::Resynced
    );
    let mut out = [0; 160];
    for _ in 0..5 {
        jb.pop(us(40_000), &mut out);
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
                jb.pop(us(now), &mut out);
                pops += 1;
            } else {
                jb.insert(us(now), seq, ts, Law::Alaw, &vec![0x55; len]);
                inserts += 1;
            }
        }
        let s = jb.stats();
        prop_assert_eq!(s.accepted + s.duplicates + s.late, inserts);
        prop_assert_eq!(s.played_frames + s.concealed_frames + s.silence_frames, pops);
    }
}
