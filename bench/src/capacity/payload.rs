//! The measurement payload: 160 bytes, the size of a 20 ms G.711 frame.
//!
//! The engine rewrites the RTP header (SSRC, sequence, timestamp) but forwards the payload
//! bit-exact, so everything the load generator needs to recognise a packet lives here:
//!
//! | bytes    | field                                                     |
//! |----------|-----------------------------------------------------------|
//! | 0..4     | magic: `TNDM` (measured packet) or `TNDP` (priming packet) |
//! | 4..8     | stream id, big-endian `u32`                               |
//! | 8..12    | per-stream sequence, big-endian `u32`, from 0             |
//! | 12..20   | send time, big-endian `u64` ns of `CLOCK_MONOTONIC`        |
//! | 20..160  | `0xFF` (μ-law silence), checked on receipt                |

/// Payload length: one 20 ms frame of 8 kHz G.711.
pub const PAYLOAD_LEN: usize = 160;

/// Length of the fields in front of the filler.
pub const HEADER_LEN: usize = 20;

/// The filler byte (μ-law for a zero sample).
pub const FILLER: u8 = 0xFF;

/// Magic of a measured packet.
pub const MEASURE_MAGIC: [u8; 4] = *b"TNDM";

/// Magic of a priming packet, sent before the measurement so the relay latches both endpoints.
pub const PRIME_MAGIC: [u8; 4] = *b"TNDP";

/// What a packet is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    /// Counted: loss, order and latency.
    Measure,
    /// Not counted: only makes the relay latch the sender's address.
    Prime,
}

/// The fields of a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Measured or priming packet.
    pub kind: ProbeKind,
    /// Which stream (direction of a call) the packet belongs to.
    pub stream: u32,
    /// Per-stream sequence number, from 0.
    pub seq: u32,
    /// Send time, ns of `CLOCK_MONOTONIC`.
    pub sent_ns: u64,
}

/// A payload of filler with no fields written yet: the template [`write()`] fills in.
pub fn template() -> [u8; PAYLOAD_LEN] {
    [FILLER; PAYLOAD_LEN]
}

/// Writes the fields of `probe` into the first [`HEADER_LEN`] bytes of `payload`, leaving the
/// filler alone (so a [`template`] is written once and only the fields change per packet).
#[inline]
pub fn write(payload: &mut [u8; PAYLOAD_LEN], probe: &Probe) {
    let magic = match probe.kind {
        ProbeKind::Measure => MEASURE_MAGIC,
        ProbeKind::Prime => PRIME_MAGIC,
    };
    payload[0..4].copy_from_slice(&magic);
    payload[4..8].copy_from_slice(&probe.stream.to_be_bytes());
    payload[8..12].copy_from_slice(&probe.seq.to_be_bytes());
    payload[12..20].copy_from_slice(&probe.sent_ns.to_be_bytes());
}

/// A whole payload for `probe`: fields plus filler.
pub fn encode(probe: &Probe) -> [u8; PAYLOAD_LEN] {
    let mut p = template();
    write(&mut p, probe);
    p
}

/// Parses a received payload. `None` if it is not exactly [`PAYLOAD_LEN`] bytes, has an unknown
/// magic, or its filler was altered (the relay must forward the payload bit-exact).
#[inline]
pub fn parse(payload: &[u8]) -> Option<Probe> {
    let p: &[u8; PAYLOAD_LEN] = payload.try_into().ok()?;
    let kind = match [p[0], p[1], p[2], p[3]] {
        MEASURE_MAGIC => ProbeKind::Measure,
        PRIME_MAGIC => ProbeKind::Prime,
        _ => return None,
    };
    if !p[HEADER_LEN..].iter().all(|&b| b == FILLER) {
        return None;
    }
    Some(Probe {
        kind,
        stream: u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
        seq: u32::from_be_bytes([p[8], p[9], p[10], p[11]]),
        sent_ns: u64::from_be_bytes([p[12], p[13], p[14], p[15], p[16], p[17], p[18], p[19]]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe() -> Probe {
        Probe {
            kind: ProbeKind::Measure,
            stream: 0x0102_0304,
            seq: 77,
            sent_ns: 0x1122_3344_5566_7788,
        }
    }

    #[test]
    fn round_trip() {
        for kind in [ProbeKind::Measure, ProbeKind::Prime] {
            let p = Probe { kind, ..probe() };
            assert_eq!(parse(&encode(&p)), Some(p));
        }
    }

    #[test]
    fn layout_is_as_documented() {
        let b = encode(&probe());
        assert_eq!(&b[0..4], b"TNDM");
        assert_eq!(&b[4..8], &[1, 2, 3, 4]);
        assert_eq!(&b[8..12], &[0, 0, 0, 77]);
        assert_eq!(
            &b[12..20],
            &[0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]
        );
        assert!(b[20..].iter().all(|&x| x == 0xFF));
    }

    #[test]
    fn write_overwrites_only_the_fields() {
        let mut b = encode(&probe());
        let next = Probe {
            seq: 78,
            sent_ns: 5,
            ..probe()
        };
        write(&mut b, &next);
        assert_eq!(b, encode(&next));
    }

    #[test]
    fn rejects_wrong_length_magic_and_filler() {
        let b = encode(&probe());
        assert_eq!(parse(&b[..159]), None);
        let mut long = b.to_vec();
        long.push(0xFF);
        assert_eq!(parse(&long), None);
        let mut m = b;
        m[0] = b'X';
        assert_eq!(parse(&m), None);
        let mut f = b;
        f[100] = 0x7F;
        assert_eq!(parse(&f), None);
    }
}
