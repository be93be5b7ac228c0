//! Outgoing PCMU RTP: one [`RtpSender`] per stream patches a shared packet template in place.
//!
//! Every packet of the load generators is 172 bytes: a 12-byte header (version 2, payload
//! type 0) and a 160-byte [`probe`](crate::probe) frame. Per packet only the marker bit,
//! sequence, timestamp, SSRC and the probe's slots change, so sending costs no allocation and
//! a few stores.

use tandem_codecs::rtp::{self, FIXED_HEADER_LEN, RtpHeader};

use crate::probe::{FRAME_LEN, SILENCE};

/// Length of every packet the load generators send.
pub const PACKET_LEN: usize = FIXED_HEADER_LEN + FRAME_LEN;

/// RTP payload type of G.711 μ-law.
pub const PCMU: u8 = 0;

/// RTP timestamp increment per packet: 20 ms at 8 kHz.
pub const SAMPLES_PER_PACKET: u32 = 160;

/// A packet template: PCMU header (sequence, timestamp and SSRC 0) and a silent frame.
pub fn template() -> [u8; PACKET_LEN] {
    let mut pkt = [0u8; PACKET_LEN];
    let header = RtpHeader {
        payload_type: PCMU,
        ..Default::default()
    };
    let len = header
        .write_into(&mut pkt, &[SILENCE; FRAME_LEN])
        .expect("a 172-byte buffer holds a PCMU packet");
    debug_assert_eq!(len, PACKET_LEN);
    pkt
}

/// The frame (payload) of a packet made by [`template`].
#[inline]
pub fn frame_mut(pkt: &mut [u8; PACKET_LEN]) -> &mut [u8; FRAME_LEN] {
    (&mut pkt[FIXED_HEADER_LEN..])
        .try_into()
        .expect("the template has a 160-byte payload")
}

/// The RTP state of one outgoing stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpSender {
    ssrc: u32,
    seq: u16,
    ts: u32,
    first: bool,
}

impl RtpSender {
    /// A stream with the given SSRC and first sequence number and timestamp.
    pub fn new(ssrc: u32, first_seq: u16, first_ts: u32) -> RtpSender {
        RtpSender {
            ssrc,
            seq: first_seq,
            ts: first_ts,
            first: true,
        }
    }

    /// A stream with random SSRC, first sequence number and first timestamp (RFC 3550 §5.1).
    pub fn random() -> RtpSender {
        RtpSender::new(rand::random(), rand::random(), rand::random())
    }

    /// The stream's SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Turns the header of `pkt` (made by [`template`]) into this stream's next packet's, and
    /// advances the sequence by 1 and the timestamp by 160. The first packet has the marker
    /// bit set (start of a talkspurt). The frame is the caller's to write.
    #[inline]
    pub fn next_header(&mut self, pkt: &mut [u8; PACKET_LEN]) {
        rtp::rewrite_header(pkt, self.first, self.seq, self.ts, self.ssrc)
            .expect("the template is longer than the fixed header");
        self.first = false;
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(SAMPLES_PER_PACKET);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{self, Probe, ProbeKind};
    use tandem_codecs::rtp::RtpPacket;

    fn probe(seq: u32) -> Probe {
        Probe {
            kind: ProbeKind::Measure,
            stream: 3,
            seq,
            sent_ns: 1000 + u64::from(seq),
        }
    }

    #[test]
    fn packets_parse_and_advance() {
        let mut pkt = template();
        let mut s = RtpSender::new(0xDEAD_BEEF, 65_535, u32::MAX - 100);
        s.next_header(&mut pkt);
        probe::write_probe(frame_mut(&mut pkt), &probe(0));
        let p = RtpPacket::parse(&pkt).unwrap();
        assert_eq!(p.payload_type(), PCMU);
        assert!(p.marker());
        assert_eq!(p.sequence(), 65_535);
        assert_eq!(p.timestamp(), u32::MAX - 100);
        assert_eq!(p.ssrc(), 0xDEAD_BEEF);
        assert_eq!(probe::read_probe(p.payload()), Some(probe(0)));

        s.next_header(&mut pkt);
        probe::write_probe(frame_mut(&mut pkt), &probe(1));
        let p = RtpPacket::parse(&pkt).unwrap();
        assert!(!p.marker());
        assert_eq!(p.sequence(), 0);
        assert_eq!(p.timestamp(), 59);
        assert_eq!(probe::read_probe(p.payload()), Some(probe(1)));
        assert_eq!(pkt.len(), 172);
    }

    #[test]
    fn random_streams_differ() {
        let a = RtpSender::random();
        let b = RtpSender::random();
        assert_ne!(a, b);
    }
}
