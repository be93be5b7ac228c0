//! What the simulated phones send: a voice-like G.711 signal with a measurement marker in
//! every packet.
//!
//! The signal is a harmonic "voice" (a fundamental and its second harmonic) under a
//! syllable-rate envelope; callers and agents use different fundamentals, so a recording's
//! two channels can be told apart by their tones (see [`goertzel_power`]). One second of it
//! is encoded once per voice and cycled, so sending costs a copy, not an encode.
//!
//! The marker occupies the first [`MARKER_LEN`] bytes of each 160-byte μ-law payload: a
//! magic, the stream id, the per-stream sequence number and the send time in microseconds,
//! one 4-bit nibble per byte coded as μ-law `0xF0 | nibble`. Those codes are quiet (|x| ≤
//! 120 of 32,767) and survive a decode and re-encode unchanged, so the marker passes through
//! pass-through bridges and through the mixing of a supervised call alike.

use tandem_codecs::g711::Law;

/// Bytes of a 20 ms frame of 8 kHz G.711.
pub const FRAME_BYTES: usize = 160;
/// Packet interval, microseconds.
pub const PTIME_US: u64 = 20_000;
/// Marker bytes at the start of each payload.
pub const MARKER_LEN: usize = 32;
/// Frames in the encoded signal cycle (one second).
const CYCLE_FRAMES: usize = 50;
const MAGIC: [u8; 4] = [0xA, 0x5, 0xC, 0x3];

/// Fundamental of the callers' voice, Hz.
pub const CALLER_HZ: f64 = 400.0;
/// Fundamental of the agents' voice, Hz.
pub const AGENT_HZ: f64 = 1000.0;

/// One second of a voice, μ-law encoded, in 20 ms frames.
#[derive(Clone, Debug)]
pub struct Voice {
    frames: Vec<[u8; FRAME_BYTES]>,
}

impl Voice {
    /// A voice with fundamental `f0` Hz (and its second harmonic at half the level), under a
    /// 4 Hz syllable envelope between 30% and 100%, peaking at about −6 dBFS.
    pub fn new(f0: f64) -> Voice {
        let n = CYCLE_FRAMES * FRAME_BYTES;
        let mut frames = vec![[0u8; FRAME_BYTES]; CYCLE_FRAMES];
        for i in 0..n {
            let t = i as f64 / 8000.0;
            let env = 0.65 + 0.35 * (std::f64::consts::TAU * 4.0 * t).sin();
            let s = (std::f64::consts::TAU * f0 * t).sin()
                + 0.5 * (std::f64::consts::TAU * 2.0 * f0 * t).sin();
            let x = (11_000.0 * env * s).round() as i16;
            frames[i / FRAME_BYTES][i % FRAME_BYTES] = Law::Ulaw.encode(x);
        }
        Voice { frames }
    }

    /// Frame `k` of the cycle.
    pub fn frame(&self, k: u64) -> &[u8; FRAME_BYTES] {
        &self.frames[(k % CYCLE_FRAMES as u64) as usize]
    }
}

/// The fields of a marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marker {
    /// The sending stream (a call and direction).
    pub stream: u32,
    /// Sequence number within the stream, from 0.
    pub seq: u32,
    /// Send time, microseconds of the run's media clock (48 bits kept).
    pub sent_us: u64,
}

fn put_nibbles(out: &mut [u8], value: u64, nibbles: usize) {
    for (i, b) in out[..nibbles].iter_mut().enumerate() {
        let shift = 4 * (nibbles - 1 - i);
        *b = 0xF0 | ((value >> shift) & 0xF) as u8;
    }
}

fn get_nibbles(bytes: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for &b in bytes {
        if b & 0xF0 != 0xF0 {
            return None;
        }
        v = (v << 4) | u64::from(b & 0xF);
    }
    Some(v)
}

/// Writes `m` over the first [`MARKER_LEN`] bytes of `payload` (at least that long).
pub fn write_marker(payload: &mut [u8], m: &Marker) {
    for (b, n) in payload[..4].iter_mut().zip(MAGIC) {
        *b = 0xF0 | n;
    }
    put_nibbles(&mut payload[4..12], u64::from(m.stream), 8);
    put_nibbles(&mut payload[12..20], u64::from(m.seq), 8);
    put_nibbles(&mut payload[20..32], m.sent_us & 0xFFFF_FFFF_FFFF, 12);
}

/// Reads the marker of `payload`, if it has one.
pub fn read_marker(payload: &[u8]) -> Option<Marker> {
    if payload.len() < MARKER_LEN {
        return None;
    }
    let magic = get_nibbles(&payload[..4])?;
    if magic != 0xA5C3 {
        return None;
    }
    Some(Marker {
        stream: get_nibbles(&payload[4..12])? as u32,
        seq: get_nibbles(&payload[12..20])? as u32,
        sent_us: get_nibbles(&payload[20..32])?,
    })
}

/// Writes a 12-byte RTP header (version 2, no padding, extension or CSRCs) into `out`.
pub fn write_rtp_header(out: &mut [u8], pt: u8, marker: bool, seq: u16, ts: u32, ssrc: u32) {
    out[0] = 0x80;
    out[1] = (u8::from(marker) << 7) | (pt & 0x7F);
    out[2..4].copy_from_slice(&seq.to_be_bytes());
    out[4..8].copy_from_slice(&ts.to_be_bytes());
    out[8..12].copy_from_slice(&ssrc.to_be_bytes());
}

/// Power of `samples` at `freq` Hz (8 kHz sampling), by the Goertzel recurrence, normalised
/// by the length: a sine of amplitude A at `freq` gives about A²/4.
pub fn goertzel_power(samples: &[i16], freq: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let coeff = 2.0 * (std::f64::consts::TAU * freq / 8000.0).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let n = samples.len() as f64;
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_round_trips_and_survives_transcoding_to_pcm_and_back() {
        let m = Marker {
            stream: 0xDEAD_BEEF,
            seq: 123_456,
            sent_us: 0x0000_1234_5678_9ABC,
        };
        let mut p = *Voice::new(CALLER_HZ).frame(3);
        write_marker(&mut p, &m);
        assert_eq!(read_marker(&p), Some(m));
        // Through linear PCM and back, as a room's mixer does for a single talker.
        let again: Vec<u8> = p
            .iter()
            .map(|&c| Law::Ulaw.encode(Law::Ulaw.decode(c)))
            .collect();
        assert_eq!(read_marker(&again), Some(m));
        // Marker codes are quiet.
        assert!(
            p[..MARKER_LEN]
                .iter()
                .all(|&c| Law::Ulaw.decode(c).abs() <= 124)
        );
        // Plain audio has no marker.
        assert_eq!(read_marker(Voice::new(AGENT_HZ).frame(0)), None);
        assert_eq!(read_marker(&p[..10]), None);
    }

    #[test]
    fn voices_are_told_apart_by_goertzel() {
        for (f, other) in [(CALLER_HZ, AGENT_HZ), (AGENT_HZ, CALLER_HZ)] {
            let v = Voice::new(f);
            let pcm: Vec<i16> = (0..50)
                .flat_map(|k| v.frame(k).to_vec())
                .map(|c| Law::Ulaw.decode(c))
                .collect();
            let own = goertzel_power(&pcm, f);
            let foreign = goertzel_power(&pcm, other);
            assert!(own > 100.0 * foreign, "{f}: {own} vs {foreign}");
        }
    }

    #[test]
    fn rtp_header_parses() {
        let mut b = [0u8; 12 + FRAME_BYTES];
        write_rtp_header(&mut b, 0, true, 65_535, 160, 0xABCD);
        let p = tandem_codecs::rtp::RtpPacket::parse(&b).unwrap();
        assert_eq!(
            (
                p.payload_type(),
                p.marker(),
                p.sequence(),
                p.timestamp(),
                p.ssrc()
            ),
            (0, true, 65_535, 160, 0xABCD)
        );
        assert_eq!(p.payload().len(), FRAME_BYTES);
    }
}
