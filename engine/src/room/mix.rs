//! The arithmetic of an N-party mix.
//!
//! Every contributor's gain-scaled frame is added once into a 32-bit sum; each listener
//! then gets `sum - own` (their own scaled frame subtracted exactly, because it is
//! recomputed with the same integer arithmetic), saturated to 16 bits. The work per tick is
//! one add per contributor and one subtract-and-saturate per listener: linear in N.
//! Listeners who contributed nothing all hear the same `sum`, which is saturated and
//! encoded once per codec and shared.

/// Unity gain in the Q12 fixed point used for per-participant gains.
pub const UNITY_Q12: i32 = 1 << 12;

/// A gain in dB as Q12 (clamped to ±24 dB; beyond that is a configuration error, not a
/// mix level).
pub fn gain_q12(db: f32) -> i32 {
    let db = db.clamp(-24.0, 24.0);
    (10f32.powf(db / 20.0) * UNITY_Q12 as f32).round() as i32
}

/// One sample scaled by a Q12 gain. Identical for accumulate and subtract, so a listener's
/// own voice cancels exactly.
#[inline]
pub fn scale(x: i16, g: i32) -> i32 {
    if g == UNITY_Q12 {
        i32::from(x)
    } else {
        (i32::from(x) * g) >> 12
    }
}

/// `sum += x * g`.
pub fn accumulate(sum: &mut [i32], x: &[i16], g: i32) {
    if g == UNITY_Q12 {
        for (s, &v) in sum.iter_mut().zip(x) {
            *s += i32::from(v);
        }
    } else {
        for (s, &v) in sum.iter_mut().zip(x) {
            *s += (i32::from(v) * g) >> 12;
        }
    }
}

/// `out = saturate(sum - own * g + extra)` (`own`/`extra` optional).
pub fn listener_frame(
    sum: &[i32],
    own: Option<(&[i16], i32)>,
    extra: Option<&[i32]>,
    out: &mut [i16],
) {
    match (own, extra) {
        (None, None) => saturate(sum, out),
        (Some((x, g)), None) => {
            for ((o, &s), &v) in out.iter_mut().zip(sum).zip(x) {
                *o = clamp16(s - scale(v, g));
            }
        }
        (own, Some(e)) => {
            for (i, o) in out.iter_mut().enumerate() {
                let mine = own.map_or(0, |(x, g)| scale(x[i], g));
                *o = clamp16(sum[i] - mine + e[i]);
            }
        }
    }
}

/// `out = saturate(sum)`.
pub fn saturate(sum: &[i32], out: &mut [i16]) {
    for (o, &s) in out.iter_mut().zip(sum) {
        *o = clamp16(s);
    }
}

#[inline]
fn clamp16(v: i32) -> i16 {
    v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The mix as a person would compute it: in floating point, everyone else's scaled
    /// voice summed, then clipped.
    fn reference(inputs: &[Vec<i16>], gains_db: &[f32], listener: usize) -> Vec<i16> {
        (0..inputs[0].len())
            .map(|i| {
                let v: f64 = inputs
                    .iter()
                    .zip(gains_db)
                    .enumerate()
                    .filter(|(k, _)| *k != listener)
                    .map(|(_, (x, &db))| f64::from(x[i]) * 10f64.powf(f64::from(db) / 20.0))
                    .sum();
                v.round().clamp(-32768.0, 32767.0) as i16
            })
            .collect()
    }

    proptest! {
        #[test]
        fn sum_minus_own_matches_a_floating_point_reference(
            inputs in proptest::collection::vec(proptest::collection::vec(any::<i16>(), 160), 2..12),
            gains in proptest::collection::vec(-12.0f32..12.0, 12),
        ) {
            let n = inputs.len();
            let g: Vec<i32> = gains[..n].iter().map(|&d| gain_q12(d)).collect();
            let mut sum = vec![0i32; 160];
            for (x, &gq) in inputs.iter().zip(&g) {
                accumulate(&mut sum, x, gq);
            }
            for l in 0..n {
                let mut out = vec![0i16; 160];
                listener_frame(&sum, Some((&inputs[l], g[l])), None, &mut out);
                let want = reference(&inputs, &gains[..n], l);
                for i in 0..160 {
                    // Error budget per other contributor: one step of truncation, plus the
                    // Q12 gain's rounding (half of 1/4096 of the sample).
                    let budget: f64 = (0..n)
                        .filter(|&k| k != l)
                        .map(|k| f64::from(inputs[k][i]).abs() / 8192.0 + 1.0)
                        .sum::<f64>()
                        + 1.0;
                    let d = f64::from((i32::from(out[i]) - i32::from(want[i])).abs());
                    prop_assert!(d <= budget, "listener {l} sample {i}: {} vs {}", out[i], want[i]);
                }
            }
        }
    }

    #[test]
    fn unity_gain_mix_is_exact_and_saturates() {
        let a = vec![20_000i16; 4];
        let b = vec![20_000i16; 4];
        let c = vec![-5i16; 4];
        let mut sum = vec![0; 4];
        for x in [&a, &b, &c] {
            accumulate(&mut sum, x, UNITY_Q12);
        }
        let mut out = vec![0; 4];
        listener_frame(&sum, Some((&c, UNITY_Q12)), None, &mut out);
        assert_eq!(out, vec![32_767; 4], "40000 clips");
        listener_frame(&sum, Some((&a, UNITY_Q12)), None, &mut out);
        assert_eq!(out, vec![19_995; 4]);
        let whisper = vec![100i32; 4];
        listener_frame(&sum, Some((&a, UNITY_Q12)), Some(&whisper), &mut out);
        assert_eq!(out, vec![20_095; 4]);
        assert_eq!(gain_q12(0.0), UNITY_Q12);
        assert_eq!(gain_q12(-6.0206), 2048);
    }
}
