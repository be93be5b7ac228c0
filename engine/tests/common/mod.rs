//! An RTP endpoint for tests: builds the packets a phone would send and reads what it gets.

#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use tandem_codecs::g711;
use tandem_codecs::rtp::{RtpHeader, RtpPacket};
use tandem_codecs::telephone_event::TelephoneEvent;
use tandem_engine::MediaEngine;
use tandem_engine::{
    ChannelInfo, ChannelSpec, Codec, Command, Engine, Event, GroupKey, MemoryEngine,
    NetworkConditions, RtcpMode,
};

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

/// A phone: a UDP socket on loopback with a short read timeout.
pub fn phone() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    s
}

/// Receives RTP until `n` packets arrived or two seconds passed.
pub fn receive(s: &UdpSocket, n: usize) -> Vec<Got> {
    let mut out = vec![];
    let mut buf = [0u8; 2048];
    let until = Instant::now() + Duration::from_secs(2);
    while out.len() < n && Instant::now() < until {
        if let Ok((len, _)) = s.recv_from(&mut buf) {
            out.push(parse(&buf[..len]));
        }
    }
    out
}

/// Two phones bridged through a running engine, μ-law against A-law: the payload is
/// transcoded with the codec tables, sequence and timestamp stay continuous across a
/// sequence wrap, and an RFC 4733 digit passes with a mapped timestamp and is reported once.
pub fn relay_checks(eng: &Engine) {
    let (pa, pb) = (phone(), phone());
    let spec_a = ChannelSpec {
        remote: Some(pa.local_addr().unwrap()),
        rtcp: RtcpMode::Off,
        ..ChannelSpec::with_codec(Codec::PCMU)
    };
    let spec_b = ChannelSpec {
        rtcp: RtcpMode::Off,
        ..ChannelSpec::with_codec(Codec::PCMA)
    };
    let a = eng.create_channel(GroupKey(42), spec_a).unwrap();
    let b = eng.create_channel(GroupKey(42), spec_b).unwrap();
    eng.bridge(a.id, b.id).unwrap();
    let mut sb = Sender::new(0xB, 9, 9, 8);
    // B's first packet latches B's address.
    pb.send_to(&sb.audio(&[0xD5; 160]), b.local).unwrap();
    let first = receive(&pa, 1);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].payload, vec![g711::alaw_to_ulaw(0xD5); 160]);

    let mut sa = Sender::new(0xA, 65_500, 1 << 31, 0);
    for n in 0..60 {
        pa.send_to(&sa.audio(&payload(n)), a.local).unwrap();
        if n % 10 == 9 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let event_ts = sa.ts;
    for (end, d) in [(false, 160), (true, 320), (true, 320), (true, 320)] {
        pa.send_to(&sa.event(101, event_ts, '#', end, d), a.local)
            .unwrap();
    }
    let got = receive(&pb, 64);
    assert_eq!(got.len(), 64, "every packet relayed");
    for (n, g) in got[..60].iter().enumerate() {
        let want: Vec<u8> = payload(n as u32)
            .iter()
            .map(|&u| g711::ulaw_to_alaw(u))
            .collect();
        assert_eq!(g.payload, want, "packet {n} transcoded μ→A");
        assert_eq!(g.pt, 8);
        assert_eq!(
            g.seq,
            got[0].seq.wrapping_add(n as u16),
            "sequence continuous across the wrap"
        );
        assert_eq!(g.ts, got[0].ts.wrapping_add(160 * n as u32));
    }
    for g in &got[60..] {
        assert_eq!(g.pt, 101);
        assert_eq!(
            g.ts,
            got[0].ts.wrapping_add(160 * 60),
            "event timestamp mapped"
        );
    }
    let until = Instant::now() + Duration::from_secs(2);
    let mut digits = vec![];
    while Instant::now() < until && digits.is_empty() {
        if let Ok(Event::Dtmf { digit, channel, .. }) =
            eng.events().recv_timeout(Duration::from_millis(100))
        {
            digits.push((channel, digit));
        }
    }
    assert_eq!(digits, vec![(a.id, '#')]);
}

/// An address literal.
pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Where the caller and the callee of [`bridged`] send from.
pub const PA: &str = "192.0.2.1:4000";
pub const PB: &str = "192.0.2.2:5000";

/// A caller channel made from `spec_a`, bridged to a callee channel signalled at [`PB`], on
/// an in-memory engine seeded with `seed`.
pub fn bridged(spec_a: ChannelSpec, seed: u64) -> (MemoryEngine, ChannelInfo, ChannelInfo) {
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), seed);
    let a = eng.create_channel(GroupKey(1), spec_a).unwrap();
    let spec_b = ChannelSpec {
        remote: Some(addr(PB)),
        ..ChannelSpec::default()
    };
    let b = eng.create_channel(GroupKey(1), spec_b).unwrap();
    eng.command(Command::Bridge { a: a.id, b: b.id }).unwrap();
    (eng, a, b)
}

/// The RTP the callee of [`bridged`] received (RTCP comes from odd ports).
pub fn at_b(eng: &mut MemoryEngine) -> Vec<Got> {
    std::iter::from_fn(|| eng.recv(addr(PB)))
        .filter(|d| d.from.port() % 2 == 0)
        .map(|d| parse(&d.data))
        .collect()
}

/// `len` consecutive ports (from an even one) that were free for UDP on 127.0.0.1 a moment
/// ago: below the kernel's ephemeral range (32768 and up), where other sockets of this
/// process and of test runs alongside land, and from a place that differs per process and
/// per call, so that runs of this file side by side try different ranges first.
pub fn free_ports(len: u16) -> (u16, u16) {
    static CALLS: AtomicU16 = AtomicU16::new(0);
    const LO: u32 = 20_000;
    const HI: u32 = 32_000;
    let len = u32::from(len + len % 2);
    let windows = (HI - LO) / len;
    let first = std::process::id() * 31 + u32::from(CALLS.fetch_add(1, Ordering::Relaxed)) * 7;
    for w in (0..windows).map(|i| (first + i) % windows) {
        let lo = LO + w * len;
        if (lo..lo + len).all(|p| UdpSocket::bind(("127.0.0.1", p as u16)).is_ok()) {
            return (lo as u16, (lo + len - 1) as u16);
        }
    }
    panic!("no {len} consecutive free UDP ports in {LO}-{HI}");
}
