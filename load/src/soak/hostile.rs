//! What strangers and a buggy proxy send a relay, mixed into the soak, in 10 ms steps:
//!
//! - every step, a 2-packet burst of RTP from one of 16 stranger sockets to the relay port
//!   of a live call (the takeover attempt: a relay that latched on it would relay the
//!   stranger, which the callee's generator counts as malformed, and lose the caller);
//! - every 10 s, for 1 s, an SSRC flood: 20 packets a step to one live port, each with a
//!   new SSRC;
//! - every 100 ms, one odd datagram in turn: empty, 65,507 bytes (the largest UDP payload),
//!   RTCP garbage to a live call's RTCP port, RTP to a random port of the relay's range;
//! - every 50 ms, garbage ng over UDP in turn: random bytes, a cookie alone, truncated
//!   bencode, an unknown command, an offer with no SDP, a delete of an unknown call (the
//!   relay's replies are read and counted);
//! - every second, a TCP connection to the ng port that sends half a message and garbage
//!   and goes away.

use std::io::Write as _;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use serde::Serialize;

use crate::rtp_out::{RtpSender, template};
use crate::soak::cohort::Live;

/// Length of a step.
const STEP: Duration = Duration::from_millis(10);
/// Stranger sockets.
const STRANGERS: usize = 16;
/// Steps between SSRC floods, and steps a flood lasts.
const FLOOD_EVERY: u64 = 1_000;
const FLOOD_STEPS: u64 = 100;
/// Packets per step of a flood.
const FLOOD_BURST: usize = 20;
/// The largest UDP payload over IPv4.
const MAX_UDP: usize = 65_507;

/// Where the hostile traffic goes.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The relay's ng address (UDP and TCP).
    pub ng: SocketAddr,
    /// Its media port range.
    pub ports: (u16, u16),
}

/// What was sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HostileCounts {
    /// Packets from strangers to live calls' ports (in 2-packet bursts).
    pub stranger_packets: u64,
    /// Packets of SSRC floods (each with a new SSRC).
    pub flood_packets: u64,
    /// Empty, 64 KB, RTCP-garbage and stray datagrams.
    pub odd_datagrams: u64,
    /// Garbage ng datagrams.
    pub garbage_ng: u64,
    /// Replies the relay sent to them.
    pub garbage_ng_replies: u64,
    /// TCP connections that sent garbage and left.
    pub garbage_tcp: u64,
    /// Sends that failed (the socket's buffer was full, or the kernel refused).
    pub send_errors: u64,
}

/// Sends hostile traffic at `target`'s live calls (from `live`) until `stop`.
pub fn run(target: Target, live: &Live, stop: &AtomicBool) -> HostileCounts {
    match Hostile::new(target) {
        Ok(mut h) => {
            let mut next = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                h.step(live);
                next += STEP;
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
            h.counts
        }
        Err(e) => {
            eprintln!("soak: no hostile traffic: {e}");
            HostileCounts::default()
        }
    }
}

struct Hostile {
    target: Target,
    strangers: Vec<UdpSocket>,
    ng: UdpSocket,
    rng: SmallRng,
    step: u64,
    big: Vec<u8>,
    counts: HostileCounts,
}

impl Hostile {
    fn new(target: Target) -> std::io::Result<Hostile> {
        let local = SocketAddr::new(target.ng.ip(), 0);
        let strangers = (0..STRANGERS)
            .map(|_| UdpSocket::bind(local))
            .collect::<std::io::Result<Vec<_>>>()?;
        for s in &strangers {
            s.set_nonblocking(true)?;
        }
        let ng = UdpSocket::bind(local)?;
        ng.set_nonblocking(true)?;
        Ok(Hostile {
            target,
            strangers,
            ng,
            rng: SmallRng::from_os_rng(),
            step: 0,
            big: vec![0x5a; MAX_UDP],
            counts: HostileCounts::default(),
        })
    }

    fn step(&mut self, live: &Live) {
        let s = self.step;
        self.step += 1;
        if let Some(port) = live.any(self.rng.random::<u32>() as usize) {
            let from = self.rng.random_range(0..STRANGERS);
            for _ in 0..2 {
                let p = self.rtp(&mut RtpSender::random());
                self.send(from, &p, port);
                self.counts.stranger_packets += 1;
            }
            if s % FLOOD_EVERY < FLOOD_STEPS {
                for _ in 0..FLOOD_BURST {
                    let p = self.rtp(&mut RtpSender::random());
                    self.send(0, &p, port);
                    self.counts.flood_packets += 1;
                }
            }
            if s % 10 == 0 {
                self.odd(s / 10, port);
            }
        }
        if s % 5 == 0 {
            self.garbage_ng(s / 5);
        }
        if s % 100 == 0 {
            self.garbage_tcp();
        }
        let mut buf = [0u8; 2048];
        while self.ng.recv(&mut buf).is_ok() {
            self.counts.garbage_ng_replies += 1;
        }
    }

    /// An RTP packet of `stream` with a random payload.
    fn rtp(&mut self, stream: &mut RtpSender) -> Vec<u8> {
        let mut p = template();
        stream.next_header(&mut p);
        self.rng.fill_bytes(&mut p[12..]);
        p.to_vec()
    }

    fn send(&mut self, from: usize, bytes: &[u8], to: SocketAddr) {
        if self.strangers[from].send_to(bytes, to).is_err() {
            self.counts.send_errors += 1;
        }
    }

    /// The `n`th odd datagram, near `port` (a live call's RTP port).
    fn odd(&mut self, n: u64, port: SocketAddr) {
        let from = self.rng.random_range(0..STRANGERS);
        match n % 4 {
            0 => self.send(from, &[], port),
            1 => {
                let big = std::mem::take(&mut self.big);
                self.send(from, &big, port);
                self.big = big;
            }
            2 => {
                // RTCP version bits and a sender-report type, then noise.
                let mut g = vec![0u8; 64];
                self.rng.fill_bytes(&mut g);
                g[0] = 0x80;
                g[1] = 200;
                self.send(from, &g, SocketAddr::new(port.ip(), port.port() | 1));
            }
            _ => {
                let stray = self
                    .rng
                    .random_range(self.target.ports.0..=self.target.ports.1);
                let p = self.rtp(&mut RtpSender::random());
                self.send(from, &p, SocketAddr::new(port.ip(), stray));
            }
        }
        self.counts.odd_datagrams += 1;
    }

    /// The `n`th garbage ng datagram.
    fn garbage_ng(&mut self, n: u64) {
        let cookie = format!("soakjunk{n}");
        let msg: Vec<u8> = match n % 6 {
            0 => {
                let mut g = vec![0u8; self.rng.random_range(1..512)];
                self.rng.fill_bytes(&mut g);
                g
            }
            1 => cookie.into_bytes(),
            2 => format!("{cookie} d7:command5:offer7:call-id").into_bytes(),
            3 => format!("{cookie} d7:command9:frobnicatee").into_bytes(),
            4 => format!("{cookie} d7:command5:offer7:call-id4:junk8:from-tag1:xe").into_bytes(),
            _ => format!("{cookie} d7:command6:delete7:call-id9:nosuchone8:from-tag1:xe")
                .into_bytes(),
        };
        match self.ng.send_to(&msg, self.target.ng) {
            Ok(_) => self.counts.garbage_ng += 1,
            Err(_) => self.counts.send_errors += 1,
        }
    }

    /// A TCP connection with half a message and garbage, dropped at once.
    fn garbage_tcp(&mut self) {
        let sent = TcpStream::connect_timeout(&self.target.ng, Duration::from_millis(200))
            .and_then(|mut c| c.write_all(b"half d7:command4:pi\x00\xff\xfe garbage"));
        match sent {
            Ok(()) => self.counts.garbage_tcp += 1,
            Err(_) => self.counts.send_errors += 1,
        }
    }
}
