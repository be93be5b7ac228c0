//! The jitter buffer through its public API, with a signal that never repeats, so frames
//! played out of order or twice would show: loss, lateness, sequence and timestamp jumps,
//! talk spurts after silence, outages, and arbitrary use.

use proptest::prelude::*;
use tandem_codecs::g711::{self, Law};
use tandem_engine::Micros;
use tandem_engine::jitter::*;

fn tone(start: usize, len: usize) -> Vec<u8> {
    // Non-periodic, never-quiet signal: hashed sample index.
    (start..start + len)
        .map(|i| {
            let h = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48;
            g711::linear_to_ulaw((h as i64 - 32768).clamp(-16000, 16000) as i16)
        })
        .collect()
}
fn dec(c: &[u8]) -> Vec<i16> {
    let mut o = vec![0; c.len()];
    g711::decode_frame(Law::Ulaw, c, &mut o);
    o
}

/// Lock-step: insert packet n at n*20ms+1ms (if not lost), pop at n*20ms+10ms.
fn lockstep(
    jb: &mut JitterBuffer,
    count: usize,
    lost: impl Fn(usize) -> bool,
    extra_pops: usize,
) -> (Vec<i16>, Vec<PopOutcome>) {
    let (mut a, mut o) = (vec![], vec![]);
    for n in 0..count + extra_pops {
        if n < count && !lost(n) {
            let r = jb.insert(
                Micros::from_us(n as u64 * 20_000 + 1_000),
                n as u16,
                1234u32.wrapping_add(n as u32 * 160),
                Law::Ulaw,
                &tone(n * 160, 160),
            );
            assert_eq!(r, InsertOutcome::Accepted);
        }
        let mut out = [0i16; 160];
        o.push(jb.pop(Micros::from_us(n as u64 * 20_000 + 10_000), &mut out));
        a.extend_from_slice(&out);
    }
    (a, o)
}

#[test]
fn five_percent_seeded_loss() {
    let mut x: u64 = 0x1234_5678;
    let mut lost = vec![false; 2000];
    for l in lost.iter_mut().skip(1) {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *l = (x >> 33) % 100 < 5;
    }
    // avoid runs >= 3 so PLC never fades
    let runs = lost.windows(3).any(|w| w.iter().all(|&b| b));
    let nlost = lost.iter().filter(|&&b| b).count() as u64;
    let mut jb = JitterBuffer::new(JitterConfig::fixed(40));
    let (_, o) = lockstep(&mut jb, 2000, |n| lost[n], 2);
    let s = jb.stats();
    println!("lost {nlost} runs3 {runs} {s:?}");
    assert_eq!(s.concealed_frames, nlost);
    assert_eq!(s.played_frames, 2000 - nlost);
    assert_eq!(s.silence_frames, 2); // two ticks of initial depth
    assert_eq!(o.len(), 2002);
}

#[test]
fn late_packet_not_played() {
    let mut jb = JitterBuffer::new(JitterConfig::fixed(40));
    let (a, _) = lockstep(&mut jb, 50, |n| n == 10, 2);
    // packet 10 arrives now, way after its playout
    let r = jb.insert(
        Micros::from_us(60 * 20_000),
        10,
        1234 + 1600,
        Law::Ulaw,
        &tone(1600, 160),
    );
    assert_eq!(r, InsertOutcome::Late);
    assert_eq!(jb.stats().late, 1);
    // frame 10 was concealed: output at its position differs from the real audio
    let pos = (10 + 2) * 160;
    assert_ne!(&a[pos..pos + 160], &dec(&tone(1600, 160))[..]);
    assert_eq!(
        &a[(11 + 2) * 160 + 80..(12 + 2) * 160],
        &dec(&tone(11 * 160 + 80, 80))[..]
    );
}

#[test]
fn seq_is_ignored_jumps_harmless() {
    let mut jb = JitterBuffer::new(JitterConfig::fixed(40));
    let mut a = vec![];
    for n in 0..30usize {
        let seq = if n < 15 {
            n as u16
        } else {
            (n as u16).wrapping_add(30000)
        };
        assert_eq!(
            jb.insert(
                Micros::from_us(n as u64 * 20_000),
                seq,
                n as u32 * 160,
                Law::Ulaw,
                &tone(n * 160, 160)
            ),
            InsertOutcome::Accepted
        );
        let mut out = [0i16; 160];
        jb.pop(Micros::from_us(n as u64 * 20_000 + 10_000), &mut out);
        a.extend_from_slice(&out);
    }
    assert_eq!(&a[320..320 + 160 * 28], &dec(&tone(0, 160 * 28))[..]);
}

#[test]
fn jump_2_31_then_stream_continues_at_new_ts() {
    let mut jb = JitterBuffer::new(JitterConfig::fixed(40));
    let mut out = [0i16; 160];
    for n in 0..10u32 {
        jb.insert(
            Micros::from_us(n as u64 * 20_000),
            n as u16,
            n * 160,
            Law::Ulaw,
            &tone(n as usize * 160, 160),
        );
        jb.pop(Micros::from_us(n as u64 * 20_000 + 10_000), &mut out);
    }
    let mut a = vec![];
    let mut outs = vec![];
    for n in 10..40u32 {
        let r = jb.insert(
            Micros::from_us(n as u64 * 20_000),
            n as u16,
            (n * 160).wrapping_add(1 << 31),
            Law::Ulaw,
            &tone(n as usize * 160, 160),
        );
        if n == 10 {
            assert_eq!(r, InsertOutcome::Resynced)
        } else {
            assert_eq!(r, InsertOutcome::Accepted)
        }
        outs.push(jb.pop(Micros::from_us(n as u64 * 20_000 + 10_000), &mut out));
        a.extend_from_slice(&out);
    }
    println!("{outs:?}");
    // after the resync, frames 10.. play at some offset bit-exact
    let want = dec(&tone(1600 + 480, 160 * 20));
    let found = (0..a.len() - want.len()).find(|&i| a[i..i + want.len()] == want[..]);
    println!("found at {found:?}");
    assert!(found.is_some());
    assert_eq!(jb.stats().resyncs, 1);
}

#[test]
fn long_loss_becomes_silence() {
    let mut jb = JitterBuffer::new(JitterConfig::fixed(40));
    let (_, o) = lockstep(&mut jb, 40, |n| (10..20).contains(&n), 2);
    println!("{o:?}");
    let s = jb.stats();
    assert!(s.silence_frames > 2, "{s:?}");
    assert_eq!(s.concealed_frames + s.silence_frames, 10 + 2);
}

#[test]
fn huge_jitter_clamps_to_max_and_reset_restarts() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let mut out = [0i16; 160];
    let mut x: u64 = 7;
    for n in 0..1000u64 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        let d = (x >> 33) % 1_000_000;
        jb.insert(
            Micros::from_us(n * 20_000 + d),
            n as u16,
            (n * 160) as u32,
            Law::Ulaw,
            &tone(0, 160),
        );
        jb.pop(Micros::from_us(n * 20_000), &mut out);
        assert!(jb.stats().target_depth_ms <= 200);
    }
    assert_eq!(jb.stats().target_depth_ms, 200);
    jb.reset();
    let (_a, o) = lockstep(&mut jb, 20, |_| false, 0);
    assert!(
        o.iter().filter(|&&p| p == PopOutcome::Played).count() >= 10,
        "{o:?}"
    );
}

#[test]
fn zero_jitter_stays_at_min_30ms_uniform_rises() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    lockstep(&mut jb, 1000, |_| false, 0);
    assert_eq!(jb.stats().target_depth_ms, 20);
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let mut out = [0i16; 160];
    let mut x: u64 = 99;
    let mut arr = vec![];
    for n in 0..1000u64 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        arr.push((n * 20_000 + (x >> 33) % 30_000, n));
    }
    arr.sort();
    let mut k = 0;
    for p in 0..1010u64 {
        while k < arr.len() && arr[k].0 <= p * 20_000 {
            let n = arr[k].1;
            jb.insert(
                Micros::from_us(arr[k].0),
                n as u16,
                (n * 160) as u32,
                Law::Ulaw,
                &tone(n as usize * 160, 160),
            );
            k += 1;
        }
        jb.pop(Micros::from_us(p * 20_000), &mut out);
    }
    let s = jb.stats();
    println!("{s:?}");
    assert!(s.target_depth_ms > 20 && s.target_depth_ms <= 200);
    // few late at that depth
    assert!(s.late < 20, "{s:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn extreme_inputs(
        ops in proptest::collection::vec((0u8..3, any::<u64>(), any::<u16>(), any::<u32>(), 0usize..1500, 0usize..400), 1..300),
        mode in 0u8..4, reset_at in any::<usize>(),
    ) {
        let cfg = match mode {
            0 => JitterConfig::default(),
            1 => JitterConfig::fixed(0),
            2 => JitterConfig { mode: JitterMode::Adaptive { min_ms: 300, max_ms: 10 }, ..JitterConfig::default() },
            _ => JitterConfig { mode: JitterMode::Fixed { depth_ms: 60 }, clock_rate: 16000, samples_per_tick: 320, tick_ms: 20 },
        };
        let mut jb = JitterBuffer::new(cfg);
        let payload = vec![0x13u8; 1500];
        let mut out = vec![0i16; 400];
        let (mut ins, mut pops) = (0u64, 0u64);
        for (i, (op, now, seq, ts, len, olen)) in ops.into_iter().enumerate() {
            if i == reset_at % 300 { jb.reset(); }
            match op {
                0 => { jb.insert(Micros::from_us(now), seq, ts, Law::Alaw, &payload[..len]); ins += 1; }
                1 => { jb.pop(Micros::from_us(now), &mut out[..olen]); pops += 1; }
                _ => { jb.pop(Micros::from_us(now), &mut out[..cfg.samples_per_tick]); pops += 1; }
            }
            let s = jb.stats();
            prop_assert_eq!(s.accepted + s.duplicates + s.late, ins);
            prop_assert_eq!(s.played_frames + s.concealed_frames + s.silence_frames, pops);
        }
    }
}

/// Two talk spurts with a 1 s timestamp gap (DTX / silence suppression; seq stays contiguous).
/// Returns, per spurt, the pop index at which its first frame played.
fn dtx(cfg: JitterConfig, gap_frames: u64) -> (usize, usize, JitterStats) {
    let mut jb = JitterBuffer::new(cfg);
    let mut out = [0i16; 160];
    let mut a: Vec<i16> = vec![];
    // spurt 1: frames 0..50 sent at t = n*20ms; spurt 2: frames 50+gap .. 100+gap at t = n*20 ms
    let frames: Vec<u64> = (0..50).chain(50 + gap_frames..100 + gap_frames).collect();
    let mut k = 0;
    for p in 0..(120 + gap_frames + 600) {
        let now = p * 20_000 + 10_000;
        while k < frames.len() && frames[k] * 20_000 + 1_000 <= now {
            let n = frames[k];
            jb.insert(
                Micros::from_us(n * 20_000 + 1_000),
                k as u16,
                (n * 160) as u32,
                Law::Ulaw,
                &tone(n as usize * 160, 160),
            );
            k += 1;
        }
        jb.pop(Micros::from_us(now), &mut out);
        a.extend_from_slice(&out);
    }
    let find = |n: u64| {
        let w = dec(&tone(n as usize * 160, 160));
        (0..a.len() / 160)
            .find(|&i| a[i * 160..i * 160 + 160] == w[..])
            .unwrap_or(usize::MAX)
    };
    (find(3) - 3, find(53 + gap_frames) - 3, jb.stats())
}

#[test]
fn a_talk_spurt_after_silence_plays_at_the_same_delay() {
    for (name, cfg) in [
        ("fixed40", JitterConfig::fixed(40)),
        ("adaptive", JitterConfig::default()),
    ] {
        for gap in [5u64, 50] {
            let (p1, p2, s) = dtx(cfg, gap);
            let delay2 = p2 as i64 - (50 + gap) as i64;
            println!(
                "{name} gap {gap} frames: spurt 1 delay {p1} ticks, spurt 2 delay {delay2} ticks; {s:?}"
            );
            // After silence, the buffer re-anchors: the second spurt is no later than the first.
            assert!(
                delay2 <= p1 as i64,
                "{name}, gap {gap}: the silence was added to the delay"
            );
        }
    }
}
