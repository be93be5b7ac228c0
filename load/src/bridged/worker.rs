//! One thread of the two-party generator, a worker: both endpoints of a range of calls,
//! primed, paced, drained and tallied. [`LoadGen`](super::LoadGen) runs one worker per
//! thread and merges their [`Tally`]s.
//!
//! Socket `j` of a worker belongs to call `j / 2` of its range (even: endpoint a, odd:
//! endpoint b) and sends stream `base + j`, which must come back on socket `j ^ 1`.

use std::io;
use std::time::Duration;

use hdrhistogram::Histogram;
use mio::net::UdpSocket;
use tandem_codecs::rtp::RtpPacket;

use tandem_udp::clock::monotonic_ns;

use super::config::{LoadGenConfig, LoadReport};
use crate::paced::{PacedStreams, PacedThread};
use crate::pacer::Pacer;
use crate::probe::{self, Probe, ProbeKind};
use crate::rtp_out::{self, PACKET_LEN, RtpSender};
use crate::track::{Arrival, SeqTracker};

/// Largest latency the histograms hold: 60 s in ns (larger values are clamped).
const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// A worker's counts and histograms; [`merge`](Tally::merge) combines workers.
#[derive(Clone, Debug)]
pub struct Tally {
    /// Calls of the worker.
    pub calls: usize,
    /// Measured packets sent.
    pub sent: u64,
    /// Unique measured packets received.
    pub received: u64,
    /// `sent - received`, summed per stream.
    pub lost: u64,
    /// Late arrivals.
    pub reordered: u64,
    /// Extra copies.
    pub duplicates: u64,
    /// Packets received on the wrong socket.
    pub misrouted: u64,
    /// Datagrams without an intact measurement payload.
    pub malformed: u64,
    /// Sends the kernel refused.
    pub send_errors: u64,
    /// Latency samples without a kernel time stamp.
    pub rx_stamp_fallbacks: u64,
    /// Calls not primed when the load began.
    pub unprimed_calls: usize,
    /// One-way latency, ns.
    pub latency: Histogram<u64>,
    /// Send lateness against the schedule, ns.
    pub send_lag: Histogram<u64>,
    /// CPU time of the worker's thread.
    pub cpu: Duration,
}

impl Tally {
    fn empty() -> Tally {
        let hist =
            || Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid histogram bounds");
        Tally {
            calls: 0,
            sent: 0,
            received: 0,
            lost: 0,
            reordered: 0,
            duplicates: 0,
            misrouted: 0,
            malformed: 0,
            send_errors: 0,
            rx_stamp_fallbacks: 0,
            unprimed_calls: 0,
            latency: hist(),
            send_lag: hist(),
            cpu: Duration::ZERO,
        }
    }

    /// Adds another worker's figures to these.
    pub fn merge(&mut self, other: &Tally) {
        self.calls += other.calls;
        self.sent += other.sent;
        self.received += other.received;
        self.lost += other.lost;
        self.reordered += other.reordered;
        self.duplicates += other.duplicates;
        self.misrouted += other.misrouted;
        self.malformed += other.malformed;
        self.send_errors += other.send_errors;
        self.rx_stamp_fallbacks += other.rx_stamp_fallbacks;
        self.unprimed_calls += other.unprimed_calls;
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        let _ = self.send_lag.add(&other.send_lag);
        self.cpu += other.cpu;
    }

    /// The report for a send phase of `duration_s` seconds.
    pub fn report(&self, duration_s: f64) -> LoadReport {
        let us = |h: &Histogram<u64>, q: f64| {
            if h.is_empty() {
                0.0
            } else {
                h.value_at_quantile(q) as f64 / 1000.0
            }
        };
        LoadReport {
            calls: self.calls,
            duration_s,
            sent: self.sent,
            received: self.received,
            lost: self.lost,
            loss_ratio: if self.sent == 0 {
                0.0
            } else {
                self.lost as f64 / self.sent as f64
            },
            reordered: self.reordered,
            duplicates: self.duplicates,
            latency_p50_us: us(&self.latency, 0.5),
            latency_p99_us: us(&self.latency, 0.99),
            latency_p999_us: us(&self.latency, 0.999),
            latency_max_us: us(&self.latency, 1.0),
            misrouted: self.misrouted,
            malformed: self.malformed,
            send_errors: self.send_errors,
            unprimed_calls: self.unprimed_calls,
            send_lag_p99_us: us(&self.send_lag, 0.99),
            send_lag_max_us: us(&self.send_lag, 1.0),
            rx_stamp_fallbacks: self.rx_stamp_fallbacks,
            loadgen_cpu_s: self.cpu.as_secs_f64(),
        }
    }
}

/// Runs one worker on the calling thread: `sockets` (two per call, connected to the relay),
/// sending streams `base..base + sockets.len()`.
pub fn run_worker(
    sockets: &mut [UdpSocket],
    base: usize,
    config: &LoadGenConfig,
    cpu: Option<usize>,
) -> io::Result<Tally> {
    let mut thread = PacedThread::start(sockets, cpu)?;
    let sockets = thread.sockets();
    let mut state = State::new(sockets, base);
    let period_ns = config.period.as_nanos() as u64;

    // Phase 1: priming.
    let deadline = monotonic_ns() + config.prime_timeout.as_nanos() as u64;
    let mut next_round = 0;
    loop {
        let now = monotonic_ns();
        if state.primed_calls == state.calls() || now >= deadline {
            break;
        }
        if now >= next_round {
            state.send_primers();
            next_round = now + period_ns;
        }
        let wait = next_round.min(deadline).saturating_sub(monotonic_ns());
        thread.receive(Duration::from_nanos(wait), |j, datagram, rx_ns| {
            state.on_datagram(j, datagram, rx_ns)
        })?;
    }
    state.tally.unprimed_calls = state.calls() - state.primed_calls;

    // Phases 2 and 3: load, then drain.
    let rounds = config.duration.as_nanos().div_ceil(u128::from(period_ns)) as u64;
    let pacer = Pacer::new(sockets.len(), period_ns, monotonic_ns(), rounds);
    thread.run(pacer, config.drain, config.tick, &mut state)?;

    let mut tally = state.finish();
    tally.rx_stamp_fallbacks = thread.stamp_fallbacks();
    tally.cpu = thread.cpu_used()?;
    Ok(tally)
}

/// The worker's streams and counts: everything the run loop touches but the receive pump,
/// which is kept apart so the datagrams it hands out can be accounted here.
struct State<'a> {
    sockets: &'a [UdpSocket],
    base: usize,
    packet: [u8; PACKET_LEN],
    /// Per local stream (= per sending socket).
    senders: Vec<RtpSender>,
    next_seq: Vec<u32>,
    sent: Vec<u64>,
    rx: Vec<SeqTracker>,
    /// Per socket: has received a packet of its call.
    primed: Vec<bool>,
    primed_calls: usize,
    tally: Tally,
}

impl<'a> State<'a> {
    fn new(sockets: &'a [UdpSocket], base: usize) -> State<'a> {
        let n = sockets.len();
        let mut tally = Tally::empty();
        tally.calls = n / 2;
        State {
            sockets,
            base,
            packet: rtp_out::template(),
            senders: (0..n).map(|_| RtpSender::random()).collect(),
            next_seq: vec![0; n],
            sent: vec![0; n],
            rx: vec![SeqTracker::default(); n],
            primed: vec![false; n],
            primed_calls: 0,
            tally,
        }
    }

    fn calls(&self) -> usize {
        self.sockets.len() / 2
    }

    /// One priming packet from both endpoints of every call not primed yet.
    fn send_primers(&mut self) {
        for j in 0..self.sockets.len() {
            if self.primed[j & !1] && self.primed[j | 1] {
                continue;
            }
            let probe = Probe {
                kind: ProbeKind::Prime,
                stream: (self.base + j) as u32,
                seq: 0,
                sent_ns: monotonic_ns(),
            };
            self.senders[j].next_header(&mut self.packet);
            probe::write_probe(rtp_out::frame_mut(&mut self.packet), &probe);
            // A lost primer is retried next round.
            let _ = self.sockets[j].send(&self.packet);
        }
    }

    /// The worker's tally, with the per-stream counts summed (the caller adds the receive
    /// stamp fallbacks and the CPU time, which the pump and the thread keep).
    fn finish(self) -> Tally {
        let mut t = self.tally;
        t.sent = self.sent.iter().sum();
        t.received = self.rx.iter().map(|r| r.received).sum();
        // The worker counted every probe it sent: loss against that.
        t.lost = self
            .sent
            .iter()
            .zip(&self.rx)
            .map(|(&s, r)| r.lost_of(s))
            .sum();
        t.reordered = self.rx.iter().map(|r| r.reordered).sum();
        t.duplicates = self.rx.iter().map(|r| r.duplicates).sum();
        t
    }
}

impl PacedStreams for State<'_> {
    /// The next measured packet of local stream `j`, which was due at `due_ns`.
    #[inline]
    fn send(&mut self, j: usize, due_ns: u64) {
        let now = monotonic_ns();
        self.tally
            .send_lag
            .saturating_record(now.saturating_sub(due_ns).max(1));
        let probe = Probe {
            kind: ProbeKind::Measure,
            stream: (self.base + j) as u32,
            seq: self.next_seq[j],
            sent_ns: now,
        };
        self.senders[j].next_header(&mut self.packet);
        probe::write_probe(rtp_out::frame_mut(&mut self.packet), &probe);
        match self.sockets[j].send(&self.packet) {
            Ok(_) => {
                self.next_seq[j] += 1;
                self.sent[j] += 1;
            }
            Err(_) => self.tally.send_errors += 1,
        }
    }

    /// Accounts `datagram`, received on socket `j` at `rx_ns` (monotonic).
    #[inline]
    fn on_datagram(&mut self, j: usize, datagram: &[u8], rx_ns: u64) {
        let Some(probe) = RtpPacket::parse(datagram)
            .ok()
            .and_then(|p| probe::read_probe(p.payload()))
        else {
            self.tally.malformed += 1;
            return;
        };
        // The sending socket's index in this worker; out of range (wrapped) if another
        // worker's or a stranger's.
        let from = (probe.stream as usize).wrapping_sub(self.base);
        if from ^ 1 != j {
            self.tally.misrouted += 1;
            return;
        }
        if !self.primed[j] {
            self.primed[j] = true;
            if self.primed[j ^ 1] {
                self.primed_calls += 1;
            }
        }
        if probe.kind != ProbeKind::Measure {
            return;
        }
        let seq = probe::unwrap_seq(probe.seq, self.next_seq[from]);
        if self.rx[from].record(seq) != Arrival::Duplicate {
            self.tally
                .latency
                .saturating_record(probe::elapsed_ns(probe.sent_ns, rx_ns).max(1));
        }
    }
}
