//! The probe: what both load generators write into every 160-byte G.711 payload, so the
//! receiving side can tell which stream a packet belongs to, which packet of the stream it
//! is, and (two-party calls) when it was sent.
//!
//! One format serves a relay that forwards payloads bit-exact and a room that mixes them.
//! A room decodes every participant's frame, sums, takes out each listener's own voice and
//! encodes again, and two facts keep a probe intact through that anyway:
//!
//! - μ-law decoding then encoding is exact for every code except `0x7F` (negative zero,
//!   which comes back as `0xFF`), and in particular for `0x80..=0xFF`;
//! - silence (`0xFF`, linear 0) adds nothing to a sum.
//!
//! So the frame is cut into [`SLOTS`] slots of [`SLOT_LEN`] bytes, each byte carrying 7 bits
//! as the code `0x80 | v`, and everything a sender does not use is silence:
//!
//! | byte | mark slot                                     | time slot                      |
//! |------|-----------------------------------------------|--------------------------------|
//! | 0    | magic: measured `0xDA`, priming `0xA5`        | magic `0xB3`                   |
//! | 1..4 | stream id, 21 bits                            | send time, ns of               |
//! | 4..7 | sequence number modulo 2²¹ (11.6 h at 50 pps) | `CLOCK_MONOTONIC` modulo 2⁴²   |
//! | 7    | check: a hash of bytes 0..7, 7 bits           | check                          |
//!
//! (magics and checks as codes, i.e. with the top bit set). The two layouts:
//!
//! - **two-party calls** ([`write_probe`], [`read_probe`]): the mark in slot 0, the send
//!   time in slot 1, silence in the other 144 bytes. A payload that is not exactly this
//!   (wrong length, a damaged slot, altered silence) is malformed: the relay must forward
//!   payloads bit-exact.
//! - **conference rooms** ([`write_mark`], [`read`]): participant `i` of a room writes its
//!   mark in slot `i` and silence everywhere else. At every sample position at most one
//!   participant is non-zero, so the room's sum is exactly the concatenation of everybody's
//!   marks, and listener `i` (who gets `sum − own`) receives every other participant's mark,
//!   unchanged, in that participant's slot, and silence in its own. Every frame measures
//!   every talker→listener pair with every participant talking at once (the room's worst
//!   case for mixing), at the price of a limit of [`SLOTS`] participants per room. The send
//!   time does not fit beside K marks: the conference generator keeps each stream's recent
//!   send times and looks them up by sequence number.
//!
//! Sequence numbers and send times are carried modulo their field: [`unwrap_seq`] and
//! [`elapsed_ns`] recover the full values from what the receiver knows (the sender's next
//! sequence number, the receive time). A slot a jitter buffer concealed or a mix altered
//! fails the check (1 in 128 garbage slots could pass it; the stream, slot and room checks
//! of the generators catch most of those).
//!
//! The simulator's drive mode marks its phones' voice differently
//! (`tandem_sim::drive::signal`): a quiet 4-bit code in the first 32 bytes of a frame of
//! speech-like audio, so recordings stay listenable and their tones measurable; it carries
//! microseconds of the run's media clock rather than nanoseconds of `CLOCK_MONOTONIC`.

/// Frame length: 20 ms of 8 kHz G.711.
pub const FRAME_LEN: usize = 160;

/// Bytes per slot.
pub const SLOT_LEN: usize = 8;

/// Slots per frame: the most participants a conference room can be measured with.
pub const SLOTS: usize = FRAME_LEN / SLOT_LEN;

/// μ-law silence (linear 0), the code of every byte no slot uses.
pub const SILENCE: u8 = 0xFF;

/// Largest stream id a mark can carry.
pub const MAX_STREAM: u32 = (1 << 21) - 1;

/// Sequence numbers are carried modulo this.
pub const SEQ_MODULUS: u32 = 1 << 21;

/// Send times are carried modulo this many nanoseconds (73 minutes).
pub const TIME_MODULUS_NS: u64 = 1 << 42;

const MAGIC_MEASURE: u8 = 0x5A;
const MAGIC_PRIME: u8 = 0x25;
const MAGIC_TIME: u8 = 0x33;

/// What a marked packet is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    /// Counted: loss, order and latency.
    Measure,
    /// Not counted: only makes the relay latch the sender's address.
    Prime,
}

/// A decoded mark: which stream, and its sequence number modulo [`SEQ_MODULUS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// Measured or priming packet.
    pub kind: ProbeKind,
    /// Stream id (a direction of a call, or a participant).
    pub stream: u32,
    /// Sequence number modulo 2²¹.
    pub seq: u32,
}

/// What a slot of a received frame holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// An intact mark.
    Mark(Mark),
    /// An intact send time, ns modulo [`TIME_MODULUS_NS`].
    Time(u64),
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

/// The low 21 bits of `x` as three 7-bit values, most significant first.
fn seven_bits(x: u32) -> [u8; 3] {
    [
        (x >> 14) as u8 & 0x7F,
        (x >> 7) as u8 & 0x7F,
        x as u8 & 0x7F,
    ]
}

/// Three 7-bit values back into 21 bits.
fn join(v: &[u8]) -> u32 {
    v.iter().fold(0, |acc, &b| (acc << 7) | u32::from(b))
}

/// Writes magic and six values into slot `slot` of `frame`, with the check.
fn put(frame: &mut [u8; FRAME_LEN], slot: usize, magic: u8, values: [u8; 6]) {
    debug_assert!(slot < SLOTS);
    let mut v = [0u8; SLOT_LEN - 1];
    v[0] = magic;
    v[1..].copy_from_slice(&values);
    let out = &mut frame[slot * SLOT_LEN..(slot + 1) * SLOT_LEN];
    for (o, &x) in out.iter_mut().zip(&v) {
        *o = 0x80 | x;
    }
    out[SLOT_LEN - 1] = 0x80 | check(&v);
}

/// Writes the mark of `stream`'s packet `seq` into slot `slot` of `frame`, leaving the rest
/// of the frame alone. `stream` must be at most [`MAX_STREAM`].
#[inline]
pub fn write_mark(
    frame: &mut [u8; FRAME_LEN],
    slot: usize,
    kind: ProbeKind,
    stream: u32,
    seq: u32,
) {
    debug_assert!(stream <= MAX_STREAM);
    let magic = match kind {
        ProbeKind::Measure => MAGIC_MEASURE,
        ProbeKind::Prime => MAGIC_PRIME,
    };
    let s = seven_bits(stream);
    let q = seven_bits(seq % SEQ_MODULUS);
    put(frame, slot, magic, [s[0], s[1], s[2], q[0], q[1], q[2]]);
}

/// Writes a send time (kept modulo [`TIME_MODULUS_NS`]) into slot `slot` of `frame`.
#[inline]
pub fn write_time(frame: &mut [u8; FRAME_LEN], slot: usize, sent_ns: u64) {
    let t = sent_ns % TIME_MODULUS_NS;
    let hi = seven_bits((t >> 21) as u32);
    let lo = seven_bits(t as u32 & (SEQ_MODULUS - 1));
    put(
        frame,
        slot,
        MAGIC_TIME,
        [hi[0], hi[1], hi[2], lo[0], lo[1], lo[2]],
    );
}

/// Reads slot `slot` of a received frame.
#[inline]
pub fn read(frame: &[u8; FRAME_LEN], slot: usize) -> Slot {
    let b = &frame[slot * SLOT_LEN..(slot + 1) * SLOT_LEN];
    if b.iter().all(|&x| x == SILENCE) {
        return Slot::Silent;
    }
    if b.iter().any(|&x| x & 0x80 == 0) {
        return Slot::Damaged;
    }
    let v: [u8; SLOT_LEN - 1] = std::array::from_fn(|i| b[i] & 0x7F);
    if check(&v) != b[SLOT_LEN - 1] & 0x7F {
        return Slot::Damaged;
    }
    let (first, second) = (join(&v[1..4]), join(&v[4..7]));
    match v[0] {
        MAGIC_MEASURE | MAGIC_PRIME => Slot::Mark(Mark {
            kind: if v[0] == MAGIC_MEASURE {
                ProbeKind::Measure
            } else {
                ProbeKind::Prime
            },
            stream: first,
            seq: second,
        }),
        MAGIC_TIME => Slot::Time((u64::from(first) << 21) | u64::from(second)),
        _ => Slot::Damaged,
    }
}

/// Whether bytes `from..` of a frame are all silence (the slots nobody uses).
#[inline]
pub fn silent_from(frame: &[u8; FRAME_LEN], from: usize) -> bool {
    frame[from.min(FRAME_LEN)..].iter().all(|&x| x == SILENCE)
}

/// The full sequence number nearest to `expected` (the sender's next sequence number, or
/// the highest seen on the stream) whose value modulo 2²¹ is `seq21`.
#[inline]
pub fn unwrap_seq(seq21: u32, expected: u32) -> u32 {
    let d = seq21.wrapping_sub(expected) & (SEQ_MODULUS - 1);
    if d < SEQ_MODULUS / 2 {
        expected.wrapping_add(d)
    } else {
        expected.wrapping_sub(SEQ_MODULUS - d)
    }
}

/// Nanoseconds from a send time carried modulo [`TIME_MODULUS_NS`] to `now_ns` (the same
/// clock, in full). A send time up to half the modulus after `now_ns` (a receive time
/// sampled a little early) counts as 0.
#[inline]
pub fn elapsed_ns(sent_mod_ns: u64, now_ns: u64) -> u64 {
    let d = now_ns.wrapping_sub(sent_mod_ns) & (TIME_MODULUS_NS - 1);
    if d < TIME_MODULUS_NS / 2 { d } else { 0 }
}

/// The probe of a two-party call's packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Measured or priming packet.
    pub kind: ProbeKind,
    /// Which stream (direction of a call) the packet belongs to, at most [`MAX_STREAM`].
    pub stream: u32,
    /// Per-stream sequence number (read back modulo [`SEQ_MODULUS`]).
    pub seq: u32,
    /// Send time, ns of `CLOCK_MONOTONIC` (read back modulo [`TIME_MODULUS_NS`]).
    pub sent_ns: u64,
}

/// Writes `probe` into slots 0 and 1 of `frame`, leaving the rest alone (so a silent frame
/// is made once and only these 16 bytes change per packet).
#[inline]
pub fn write_probe(frame: &mut [u8; FRAME_LEN], probe: &Probe) {
    write_mark(frame, 0, probe.kind, probe.stream, probe.seq);
    write_time(frame, 1, probe.sent_ns);
}

/// Reads a two-party call's payload: `None` unless it is exactly [`FRAME_LEN`] bytes with an
/// intact mark in slot 0, an intact time in slot 1 and silence after them.
#[inline]
pub fn read_probe(payload: &[u8]) -> Option<Probe> {
    let frame: &[u8; FRAME_LEN] = payload.try_into().ok()?;
    let (Slot::Mark(m), Slot::Time(sent_ns)) = (read(frame, 0), read(frame, 1)) else {
        return None;
    };
    silent_from(frame, 2 * SLOT_LEN).then_some(Probe {
        kind: m.kind,
        stream: m.stream,
        seq: m.seq,
        sent_ns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tandem_codecs::g711::{Law, decode_frame, encode_frame};

    const SILENT: [u8; FRAME_LEN] = [SILENCE; FRAME_LEN];

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

    fn mark(stream: u32, seq: u32) -> Slot {
        Slot::Mark(Mark {
            kind: ProbeKind::Measure,
            stream,
            seq,
        })
    }

    #[test]
    fn the_codes_used_survive_a_ulaw_round_trip() {
        let mut pcm = [0i16; 128];
        let codes: Vec<u8> = (0x80..=0xFF).collect();
        decode_frame(Law::Ulaw, &codes, &mut pcm);
        let mut back = [0u8; 128];
        encode_frame(Law::Ulaw, &pcm, &mut back);
        assert_eq!(&back[..], &codes[..]);
        // And the one the slots avoid does not.
        let mut z = [0i16; 1];
        decode_frame(Law::Ulaw, &[0x7F], &mut z);
        let mut c = [0u8; 1];
        encode_frame(Law::Ulaw, &z, &mut c);
        assert_eq!(c[0], SILENCE);
    }

    #[test]
    fn marks_round_trip_within_their_limits() {
        let mut f = SILENT;
        write_mark(&mut f, 3, ProbeKind::Measure, MAX_STREAM, SEQ_MODULUS + 77);
        assert_eq!(read(&f, 3), mark(MAX_STREAM, 77));
        assert_eq!(read(&f, 2), Slot::Silent);
        assert!(silent_from(&f, 4 * SLOT_LEN));
        assert!(!silent_from(&f, 3 * SLOT_LEN));
        write_mark(&mut f, 0, ProbeKind::Prime, 0, 0);
        let prime = Mark {
            kind: ProbeKind::Prime,
            stream: 0,
            seq: 0,
        };
        assert_eq!(read(&f, 0), Slot::Mark(prime));
        write_time(&mut f, 1, TIME_MODULUS_NS + 123_456_789);
        assert_eq!(read(&f, 1), Slot::Time(123_456_789));
    }

    #[test]
    fn the_two_party_layout_is_as_documented() {
        let p = Probe {
            kind: ProbeKind::Measure,
            stream: 0x1_0203,
            seq: 77,
            sent_ns: 0x11_2233_4455,
        };
        let mut f = SILENT;
        write_probe(&mut f, &p);
        // Every byte of both slots is a 7-bit value under the top bit; the magics first.
        assert!(f[..2 * SLOT_LEN].iter().all(|&b| b & 0x80 != 0));
        assert_eq!((f[0], f[SLOT_LEN]), (0xDA, 0xB3));
        // Stream 0x10203 = 0b100_0000100_0000011 in three 7-bit groups.
        assert_eq!(&f[1..4], &[0x80 | 0x04, 0x80 | 0x04, 0x80 | 0x03]);
        assert_eq!(&f[4..7], &[0x80, 0x80, 0x80 | 77]);
        assert!(f[2 * SLOT_LEN..].iter().all(|&b| b == SILENCE));
        assert_eq!(read_probe(&f), Some(p));
        // Prime probes round-trip too, and writing again only changes the fields.
        let next = Probe {
            kind: ProbeKind::Prime,
            seq: 78,
            sent_ns: 5,
            ..p
        };
        write_probe(&mut f, &next);
        let mut fresh = SILENT;
        write_probe(&mut fresh, &next);
        assert_eq!(f, fresh);
        assert_eq!(read_probe(&f), Some(next));
    }

    #[test]
    fn two_party_payloads_reject_wrong_length_slots_and_silence() {
        let mut f = SILENT;
        write_probe(
            &mut f,
            &Probe {
                kind: ProbeKind::Measure,
                stream: 4,
                seq: 1,
                sent_ns: 9,
            },
        );
        assert!(read_probe(&f).is_some());
        assert_eq!(read_probe(&f[..159]), None);
        let mut long = f.to_vec();
        long.push(SILENCE);
        assert_eq!(read_probe(&long), None);
        let mut m = f;
        m[0] = b'X';
        assert_eq!(read_probe(&m), None);
        let mut t = f;
        t[SLOT_LEN + 3] ^= 0x01;
        assert_eq!(read_probe(&t), None);
        let mut s = f;
        s[100] = 0x7F;
        assert_eq!(read_probe(&s), None);
        // Slots swapped: a time where the mark belongs.
        let mut w = SILENT;
        w[..SLOT_LEN].copy_from_slice(&f[SLOT_LEN..2 * SLOT_LEN]);
        w[SLOT_LEN..2 * SLOT_LEN].copy_from_slice(&f[..SLOT_LEN]);
        assert_eq!(read_probe(&w), None);
    }

    #[test]
    fn altered_slots_are_damaged() {
        let mut f = SILENT;
        write_mark(&mut f, 1, ProbeKind::Measure, 4711, 99);
        for i in SLOT_LEN..2 * SLOT_LEN {
            for alt in [f[i] ^ 0x01, f[i] & 0x7F, f[i] ^ 0x20] {
                let mut g = f;
                g[i] = alt;
                assert_ne!(read(&g, 1), read(&f, 1), "byte {i} -> {alt:#x}");
            }
        }
        // Two marks summed into the same slot (a mix of two talkers) are not a mark.
        let mut a = SILENT;
        let mut b = SILENT;
        write_mark(&mut a, 0, ProbeKind::Measure, 1, 10);
        write_mark(&mut b, 0, ProbeKind::Measure, 2, 11);
        assert_eq!(read(&mix_for(&[a, b, SILENT], 2), 0), Slot::Damaged);
    }

    #[test]
    fn every_listener_hears_every_other_mark_through_a_mix() {
        let k = SLOTS;
        let frames: Vec<[u8; FRAME_LEN]> = (0..k)
            .map(|i| {
                let mut f = SILENT;
                write_mark(&mut f, i, ProbeKind::Measure, 1000 + i as u32, 5 * i as u32);
                f
            })
            .collect();
        for l in 0..k {
            let m = mix_for(&frames, l);
            for s in 0..k {
                let want = if s == l {
                    Slot::Silent
                } else {
                    mark(1000 + s as u32, 5 * s as u32)
                };
                assert_eq!(read(&m, s), want, "listener {l} slot {s}");
            }
        }
    }

    #[test]
    fn sequence_numbers_unwrap_near_the_expected() {
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

    #[test]
    fn elapsed_time_across_the_modulus() {
        let sent = 5 * TIME_MODULUS_NS - 1_000;
        assert_eq!(elapsed_ns(sent % TIME_MODULUS_NS, sent + 25_000), 25_000);
        assert_eq!(elapsed_ns(sent % TIME_MODULUS_NS, sent), 0);
        // A receive time read 40 ns before the send time: no negative latency.
        assert_eq!(elapsed_ns(sent % TIME_MODULUS_NS, sent - 40), 0);
    }

    proptest! {
        #[test]
        fn any_probe_round_trips(stream in 0..=MAX_STREAM, seq: u32, sent: u64, prime: bool) {
            let kind = if prime { ProbeKind::Prime } else { ProbeKind::Measure };
            let mut f = SILENT;
            write_probe(&mut f, &Probe { kind, stream, seq, sent_ns: sent });
            let got = read_probe(&f).unwrap();
            prop_assert_eq!((got.kind, got.stream), (kind, stream));
            prop_assert_eq!(unwrap_seq(got.seq, seq), seq);
            prop_assert_eq!(got.sent_ns, sent % TIME_MODULUS_NS);
            prop_assert_eq!(elapsed_ns(got.sent_ns, sent.wrapping_add(1_000)), 1_000);
        }

        #[test]
        fn reading_any_frame_is_total(bytes in proptest::collection::vec(any::<u8>(), FRAME_LEN)) {
            let frame: [u8; FRAME_LEN] = bytes.as_slice().try_into().unwrap();
            for slot in 0..SLOTS {
                let _ = read(&frame, slot);
            }
            let _ = read_probe(&frame);
        }
    }
}
