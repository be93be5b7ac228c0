//! G.711 against an independent reference built from the standard's quantisation tables.
//!
//! The reference does not reuse the crate's arithmetic: it lists every code's decision interval
//! and reconstruction value from the segment/step structure of G.711 Tables 1a/2a (A-law) and
//! 1b/2b (μ-law), then encodes by searching those intervals. Negative inputs are mapped to a
//! magnitude by one's complement (`-x - 1`), as the ITU-T G.191 reference implementation does.

use tandem_codecs::g711::*;

/// One quantisation interval: magnitudes `lo..hi` (in the law's native units) → `code`.
struct Interval {
    lo: i32,
    hi: i32,
    magnitude_code: u8,
}

/// μ-law in 14-bit magnitude units: segment `s` (0..8) has 16 steps of `2 << s`, and with the
/// bias of 33 its intervals are `[((32 + 2q) << s) - 33, ((34 + 2q) << s) - 33)`.
fn ulaw_intervals() -> Vec<Interval> {
    let mut v = Vec::new();
    for s in 0..8 {
        for q in 0..16 {
            v.push(Interval {
                lo: ((32 + 2 * q) << s) - 33,
                hi: ((34 + 2 * q) << s) - 33,
                magnitude_code: ((s << 4) | q) as u8,
            });
        }
    }
    v
}

/// A-law in 12-bit magnitude units (16-bit sample >> 4): segments 0 and 1 have unit steps,
/// segment `s >= 2` has steps of `1 << (s - 1)`, starting at `16 << (s - 1)`.
fn alaw_intervals() -> Vec<Interval> {
    let mut v = Vec::new();
    for s in 0..8 {
        for q in 0..16 {
            let (lo, hi) = if s == 0 {
                (q, q + 1)
            } else {
                ((16 + q) << (s - 1), (17 + q) << (s - 1))
            };
            v.push(Interval {
                lo,
                hi,
                magnitude_code: ((s << 4) | q) as u8,
            });
        }
    }
    v
}

fn magnitude(x: i16) -> i32 {
    let x = i32::from(x);
    if x < 0 { -x - 1 } else { x }
}

fn reference_ulaw(x: i16) -> u8 {
    let m = (magnitude(x) >> 2).min(8158); // the top of the last interval is 8159
    let iv = ulaw_intervals()
        .into_iter()
        .find(|iv| iv.lo <= m && m < iv.hi)
        .expect("every magnitude is in one interval");
    // μ-law transmits the inverted magnitude code, sign bit set for positive samples.
    let sign = if x >= 0 { 0x80 } else { 0 };
    sign | (0x7F - iv.magnitude_code)
}

fn reference_alaw(x: i16) -> u8 {
    let m = magnitude(x) >> 4;
    let iv = alaw_intervals()
        .into_iter()
        .find(|iv| iv.lo <= m && m < iv.hi)
        .expect("every magnitude is in one interval");
    // A-law sets the sign bit for positive samples and inverts the even bits.
    let sign = if x >= 0 { 0x80 } else { 0 };
    (sign | iv.magnitude_code) ^ 0x55
}

/// Reconstruction value: the midpoint of the code's interval, scaled to 16 bits.
fn reference_ulaw_decode(c: u8) -> i16 {
    let magnitude_code = 0x7F - (c & 0x7F);
    let iv = &ulaw_intervals()[magnitude_code as usize];
    // Midpoint in 14-bit units, times 4 for the 16-bit scale.
    let mid = (iv.lo + iv.hi) * 2;
    if c & 0x80 != 0 {
        mid as i16
    } else {
        -mid as i16
    }
}

fn reference_alaw_decode(c: u8) -> i16 {
    let t = c ^ 0x55;
    let iv = &alaw_intervals()[(t & 0x7F) as usize];
    // Midpoint in 12-bit units, times 16 for the 16-bit scale.
    let mid = (iv.lo + iv.hi) * 8;
    if t & 0x80 != 0 {
        mid as i16
    } else {
        -mid as i16
    }
}

#[test]
fn ulaw_encoder_matches_reference_for_all_65536_inputs() {
    for x in i16::MIN..=i16::MAX {
        assert_eq!(linear_to_ulaw(x), reference_ulaw(x), "x = {x}");
    }
}

#[test]
fn alaw_encoder_matches_reference_for_all_65536_inputs() {
    for x in i16::MIN..=i16::MAX {
        assert_eq!(linear_to_alaw(x), reference_alaw(x), "x = {x}");
    }
}

#[test]
fn ulaw_decoder_matches_reference_for_all_256_codes() {
    for c in 0..=255u8 {
        assert_eq!(ulaw_to_linear(c), reference_ulaw_decode(c), "code {c:#04x}");
    }
}

#[test]
fn alaw_decoder_matches_reference_for_all_256_codes() {
    for c in 0..=255u8 {
        assert_eq!(alaw_to_linear(c), reference_alaw_decode(c), "code {c:#04x}");
    }
}

#[test]
fn negative_inputs_follow_g191_ones_complement() {
    // -4 has 14-bit magnitude 0 under one's complement (G.191) but 1 under negation; the two
    // readings give 0x7F and 0x7E. G.191 gives 0x7F.
    assert_eq!(linear_to_ulaw(-4), 0x7F);
    assert_eq!(linear_to_ulaw(-5), 0x7E);
    // A-law: -16 is magnitude 0 under one's complement, 1 under negation.
    assert_eq!(linear_to_alaw(-16), 0x55);
    assert_eq!(linear_to_alaw(-17), 0x54);
}

#[test]
fn decode_then_encode_is_identity_on_codes() {
    for c in 0..=255u8 {
        // μ-law has two zeros (0x7F and 0xFF); 0x7F decodes to 0, which encodes as 0xFF.
        let expected = if c == 0x7F { 0xFF } else { c };
        assert_eq!(linear_to_ulaw(ulaw_to_linear(c)), expected, "μ {c:#04x}");
        assert_eq!(linear_to_alaw(alaw_to_linear(c)), c, "A {c:#04x}");
    }
}

#[test]
fn transcoding_tables_equal_decode_then_encode() {
    for c in 0..=255u8 {
        assert_eq!(ulaw_to_alaw(c), linear_to_alaw(ulaw_to_linear(c)));
        assert_eq!(alaw_to_ulaw(c), linear_to_ulaw(alaw_to_linear(c)));
    }
    let codes: Vec<u8> = (0..=255).collect();
    let mut out = vec![0u8; 256];
    transcode_frame(Law::Ulaw, Law::Alaw, &codes, &mut out);
    assert!(codes.iter().zip(&out).all(|(&c, &o)| o == ulaw_to_alaw(c)));
}

#[test]
fn encoding_error_is_bounded_by_half_a_step() {
    // Quantisation error never exceeds half the step of the segment the sample falls in
    // (plus the one's-complement offset of one LSB for negatives), except in clipping.
    for x in -32000i16..=32000 {
        let e = (i32::from(ulaw_to_linear(linear_to_ulaw(x))) - i32::from(x)).abs();
        let m = i32::from(x).abs();
        let step = if m < 124 {
            8
        } else {
            8 << (((m >> 2) + 33) as u32).ilog2().saturating_sub(5)
        };
        assert!(e <= step / 2 + 4, "μ x={x} err={e} step={step}");
    }
}
