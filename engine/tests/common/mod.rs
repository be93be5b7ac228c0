//! An RTP endpoint for tests: builds the packets a phone would send and reads what it gets.

#![allow(dead_code)]

use tandem_codecs::rtp::{RtpHeader, RtpPacket};
use tandem_codecs::telephone_event::TelephoneEvent;

/// The sending state of one test stream.
pub struct Sender {
    pub ssrc: u32,
    pub seq: u16,
    pub ts: u32,
    pub pt: u8,
}

impl Sender {
    pub fn new(ssrc: u32, seq: u16, ts: u32, pt: u8) -> Sender {
        Sender { ssrc, seq, ts, pt }
    }

    /// The next 20 ms audio packet with `payload`; advances seq and ts.
    pub fn audio(&mut self, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        RtpHeader {
            payload_type: self.pt,
            sequence: self.seq,
            timestamp: self.ts,
            ssrc: self.ssrc,
            ..RtpHeader::default()
        }
        .write(&mut out, payload)
        .unwrap();
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(payload.len() as u32);
        out
    }

    /// An RFC 4733 packet for the event that started at `event_ts`.
    pub fn event(
        &mut self,
        pt: u8,
        event_ts: u32,
        digit: char,
        end: bool,
        duration: u16,
    ) -> Vec<u8> {
        let mut ev = TelephoneEvent::from_char(digit, 10).unwrap();
        ev.end = end;
        ev.duration = duration;
        let mut out = Vec::new();
        RtpHeader {
            payload_type: pt,
            sequence: self.seq,
            timestamp: event_ts,
            ssrc: self.ssrc,
            marker: duration <= 160 && !end,
            ..RtpHeader::default()
        }
        .write(&mut out, &ev.to_bytes().unwrap())
        .unwrap();
        self.seq = self.seq.wrapping_add(1);
        out
    }
}

/// A received packet's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Got {
    pub pt: u8,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
    pub marker: bool,
    pub payload: Vec<u8>,
}

pub fn parse(data: &[u8]) -> Got {
    let p = RtpPacket::parse(data).expect("engine sent valid RTP");
    Got {
        pt: p.payload_type(),
        seq: p.sequence(),
        ts: p.timestamp(),
        ssrc: p.ssrc(),
        marker: p.marker(),
        payload: p.payload().to_vec(),
    }
}

/// A recognisable 20 ms payload for packet `n` (not silence, differs per packet).
pub fn payload(n: u32) -> Vec<u8> {
    (0..160u32)
        .map(|i| (n.wrapping_mul(31).wrapping_add(i * 7) % 251) as u8)
        .collect()
}
