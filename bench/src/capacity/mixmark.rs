//! Marks that survive a conference mix: the measurement payload of conference load.
//!
//! A two-party relay forwards the payload bit-exact, so [`payload`](super::payload) can put
//! arbitrary bytes in it. A room does not: it decodes every participant's frame, sums, takes
//! out each listener's own voice and encodes again. Two facts keep a mark intact anyway:
//!
//! - μ-law decoding then encoding is exact for every code except `0x7F` (negative zero,
//!   which comes back as `0xFF`), and in particular for `0x80..=0xFF`;
//! - silence (`0xFF`, linear 0) adds nothing to a sum.
//!
//! So the 160-byte frame is cut into [`SLOT_LEN`]-byte slots, one per participant of a room.
//! Participant `i` writes its mark into slot `i` and μ-law silence everywhere else. At every
//! sample position at most one participant is non-zero, so the room's sum is exactly the
//! concatenation of everybody's marks, and listener `i` (who gets `sum − own`) receives
//! every other participant's mark, unchanged, in that participant's slot, and silence in its
//! own. Every frame of every talker is measurable at every listener, with every participant
//! talking at once (the room's worst case for mixing work: a separate `sum − own` encoding
//! per listener). This is why the design is slots rather than a rotating talker (one
//! participant marked at a time, the others silent): with slots there are no hand-over
//! frames, every frame measures every talker→listener pair, and the room mixes K live
//! inputs rather than one. The cost is a limit of [`MAX_PARTICIPANTS`] per room.
//!
//! A slot carries only 7 bits per byte (codes `0x80 | v`):
//!
//! | byte | field                                                      |
//! |------|------------------------------------------------------------|
//! | 0    | magic `0xDA` (the 7-bit value `0x5A`)                      |
//! | 1..4 | stream id (participant number across the run), 21 bits    |
//! | 4..7 | sequence number modulo 2²¹ (11.6 hours at 50 packets/s)    |
//! | 7    | check: a hash of bytes 0..7, 7 bits                        |
//!
//! The send time does not fit; the generator keeps each stream's recent send times and
//! looks them up by sequence number. A slot the jitter buffer concealed or a mix altered
//! fails the check (1 in 128 garbage slots could pass it; the stream/slot and room checks
//! catch most of those).

/// Bytes per participant slot.
pub const SLOT_LEN: usize = 8;

/// Frame length: 20 ms of 8 kHz G.711.
pub const FRAME_LEN: usize = 160;

/// Most participants per room: one slot each in a frame.
pub const MAX_PARTICIPANTS: usize = FRAME_LEN / SLOT_LEN;

/// μ-law silence (linear 0).
pub const SILENCE: u8 = 0xFF;

/// Largest stream id a slot can carry.
pub const MAX_STREAM: u32 = (1 << 21) - 1;

/// Sequence numbers are carried modulo this.
pub const SEQ_MODULUS: u32 = 1 << 21;

const MAGIC: u8 = 0x5A;

/// A decoded slot: which stream, and its sequence number modulo [`SEQ_MODULUS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// Stream (participant) id.
    pub stream: u32,
    /// Sequence number modulo 2²¹.
    pub seq: u32,
}

/// What a slot of a received frame holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// An intact mark.
    Mark(Mark),
    /// All silence: nobody's audio reached this slot.
    Silent,
    /// Neither: concealed, faded, or mixed with something else.
    Damaged,
}

/// 7-bit check of the first seven 7-bit values.
fn check(v: &[u8; SLOT_LEN - 1]) -> u8 {
    let mut h: u32 = 0x2D;
    for &x in v {
        h = (h.wrapping_mul(31) ^ u32::from(x)).wrapping_mul(0x9E37_79B1) >> 7;
    }
    (h & 0x7F) as u8
}

fn seven_bits(x: u32) -> [u8; 3] {
    [
        (x >> 14) as u8 & 0x7F,
        (x >> 7) as u8 & 0x7F,
        x as u8 & 0x7F,
    ]
}

/// Writes the mark of `stream`'s packet `seq` into slot `slot` of `frame`, leaving the rest
/// of the frame alone. `stream` must be at most [`MAX_STREAM`].
pub fn write(frame: &mut [u8; FRAME_LEN], slot: usize, stream: u32, seq: u32) {
    debug_assert!(stream <= MAX_STREAM && slot < MAX_PARTICIPANTS);
    let s = seven_bits(stream);
    let q = seven_bits(seq % SEQ_MODULUS);
    let v = [MAGIC, s[0], s[1], s[2], q[0], q[1], q[2]];
    let out = &mut frame[slot * SLOT_LEN..(slot + 1) * SLOT_LEN];
    for (o, &x) in out.iter_mut().zip(&v) {
        *o = 0x80 | x;
    }
    out[SLOT_LEN - 1] = 0x80 | check(&v);
}

/// Reads slot `slot` of a received frame.
pub fn read(frame: &[u8; FRAME_LEN], slot: usize) -> Slot {
    let b = &frame[slot * SLOT_LEN..(slot + 1) * SLOT_LEN];
    if b.iter().all(|&x| x == SILENCE) {
        return Slot::Silent;
    }
    if b.iter().any(|&x| x & 0x80 == 0) {
        return Slot::Damaged;
    }
    let v: [u8; SLOT_LEN - 1] = std::array::from_fn(|i| b[i] & 0x7F);
    if v[0] != MAGIC || check(&v) != b[SLOT_LEN - 1] & 0x7F {
        return Slot::Damaged;
    }
    let join = |a: u8, b: u8, c: u8| (u32::from(a) << 14) | (u32::from(b) << 7) | u32::from(c);
    Slot::Mark(Mark {
        stream: join(v[1], v[2], v[3]),
        seq: join(v[4], v[5], v[6]),
    })
}

/// Whether bytes `from..` of a frame are all silence (the slots no participant uses).
pub fn silent_from(frame: &[u8; FRAME_LEN], from: usize) -> bool {
    frame[from.min(FRAME_LEN)..].iter().all(|&x| x == SILENCE)
}

/// The full sequence number nearest to `highest` (the highest seen on the stream, or the
/// next expected) whose value modulo 2²¹ is `seq21`.
pub fn unwrap_seq(seq21: u32, highest: u32) -> u32 {
    let d = seq21.wrapping_sub(highest) & (SEQ_MODULUS - 1);
    if d < SEQ_MODULUS / 2 {
        highest.wrapping_add(d)
    } else {
        highest.wrapping_sub(SEQ_MODULUS - d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_codecs::g711::{Law, decode_frame, encode_frame};

    /// The room's arithmetic on frames: decode all, sum, subtract own, encode.
    fn mix_for(frames: &[[u8; FRAME_LEN]], listener: usize) -> [u8; FRAME_LEN] {
        let pcm: Vec<Vec<i16>> = frames
            .iter()
            .map(|f| {
                let mut p = vec![0i16; FRAME_LEN];
                decode_frame(Law::Ulaw, f, &mut p);
                p
            })
            .collect();
        let out: Vec<i16> = (0..FRAME_LEN)
            .map(|i| {
                let s: i32 = pcm
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != listener)
                    .map(|(_, p)| i32::from(p[i]))
                    .sum();
                s.clamp(-32768, 32767) as i16
            })
            .collect();
        let mut enc = [0u8; FRAME_LEN];
        encode_frame(Law::Ulaw, &out, &mut enc);
        enc
    }

    #[test]
    fn the_codes_used_survive_a_ulaw_round_trip() {
        let mut pcm = [0i16; 128];
        let codes: Vec<u8> = (0x80..=0xFF).collect();
        decode_frame(Law::Ulaw, &codes, &mut pcm);
        let mut back = [0u8; 128];
        encode_frame(Law::Ulaw, &pcm, &mut back);
        assert_eq!(&back[..], &codes[..]);
        // And the one the marks avoid does not.
        let mut z = [0i16; 1];
        decode_frame(Law::Ulaw, &[0x7F], &mut z);
        let mut c = [0u8; 1];
        encode_frame(Law::Ulaw, &z, &mut c);
        assert_eq!(c[0], SILENCE);
    }

    #[test]
    fn round_trip_and_limits() {
        let mut f = [SILENCE; FRAME_LEN];
        write(&mut f, 3, MAX_STREAM, SEQ_MODULUS + 77);
        assert_eq!(
            read(&f, 3),
            Slot::Mark(Mark {
                stream: MAX_STREAM,
                seq: 77
            })
        );
        assert_eq!(read(&f, 2), Slot::Silent);
        assert!(silent_from(&f, 4 * SLOT_LEN));
        assert!(!silent_from(&f, 3 * SLOT_LEN));
        write(&mut f, 0, 0, 0);
        assert_eq!(read(&f, 0), Slot::Mark(Mark { stream: 0, seq: 0 }));
    }

    #[test]
    fn altered_slots_are_damaged() {
        let mut f = [SILENCE; FRAME_LEN];
        write(&mut f, 1, 4711, 99);
        for i in SLOT_LEN..2 * SLOT_LEN {
            for alt in [f[i] ^ 0x01, f[i] & 0x7F, f[i] ^ 0x20] {
                let mut g = f;
                g[i] = alt;
                assert_ne!(read(&g, 1), read(&f, 1), "byte {i} -> {alt:#x}");
            }
        }
        // Two marks summed into the same slot (a mix of two talkers) are not a mark.
        let mut a = [SILENCE; FRAME_LEN];
        let mut b = [SILENCE; FRAME_LEN];
        write(&mut a, 0, 1, 10);
        write(&mut b, 0, 2, 11);
        assert_eq!(
            read(&mix_for(&[a, b, [SILENCE; FRAME_LEN]], 2), 0),
            Slot::Damaged
        );
    }

    #[test]
    fn every_listener_hears_every_other_mark_through_a_mix() {
        let k = MAX_PARTICIPANTS;
        let frames: Vec<[u8; FRAME_LEN]> = (0..k)
            .map(|i| {
                let mut f = [SILENCE; FRAME_LEN];
                write(&mut f, i, 1000 + i as u32, 5 * i as u32);
                f
            })
            .collect();
        for l in 0..k {
            let m = mix_for(&frames, l);
            for s in 0..k {
                let want = if s == l {
                    Slot::Silent
                } else {
                    Slot::Mark(Mark {
                        stream: 1000 + s as u32,
                        seq: 5 * s as u32,
                    })
                };
                assert_eq!(read(&m, s), want, "listener {l} slot {s}");
            }
        }
    }

    #[test]
    fn sequence_numbers_unwrap_near_the_highest() {
        assert_eq!(unwrap_seq(5, 3), 5);
        assert_eq!(unwrap_seq(2, 3), 2);
        let big = 3 * SEQ_MODULUS + 10;
        assert_eq!(unwrap_seq(12, big), big + 2);
        assert_eq!(unwrap_seq(SEQ_MODULUS - 1, big), big - 11);
        assert_eq!(
            unwrap_seq(10 % SEQ_MODULUS, SEQ_MODULUS - 2),
            SEQ_MODULUS + 10
        );
    }
}
