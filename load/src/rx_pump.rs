//! The receive side of a generator thread: waits for readable sockets, drains each with
//! `recvmmsg`, and hands every datagram, with the time the kernel received it, to the caller.
//!
//! The two-party [`worker`](crate::bridged::worker) and the
//! [`conference`](crate::conference) generator both measure one-way latency from the kernel's receive time stamp, so both need
//! the same poll, drain and clock conversion; only what a datagram means differs.

use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};

use tandem_udp::RecvBatch;
use tandem_udp::clock::{RealtimeToMonotonic, monotonic_ns};

/// Readiness events per poll.
const EVENTS: usize = 1024;

/// Datagrams per `recvmmsg`.
const BATCH: usize = 8;

/// How often the realtime→monotonic offset is re-sampled (bounds the effect of a wall-clock
/// step on latencies).
const CLOCK_RESAMPLE_NS: u64 = 100_000_000;

/// Consecutive socket errors a drain skips before it gives up on the socket for this turn.
const MAX_ERRORS_PER_DRAIN: u32 = 8;

/// Poll, event and receive buffers of one generator thread, and its clock converter.
pub struct RxPump {
    poll: Poll,
    events: Events,
    /// Tokens of the last poll (capacity of `events`, so no allocation).
    ready: Vec<usize>,
    batch: RecvBatch,
    /// Converts the kernel's receive time stamps to CLOCK_MONOTONIC.
    clock: RealtimeToMonotonic,
    /// When [`resample_clock`](Self::resample_clock) samples `clock` next (0: at its first
    /// call).
    next_clock_sample: u64,
    /// Datagrams that came without a kernel time stamp.
    stamp_fallbacks: u64,
}

impl RxPump {
    /// Registers `sockets` for reading; socket `j` is reported as index `j`.
    pub fn new(sockets: &mut [UdpSocket]) -> io::Result<RxPump> {
        let poll = Poll::new()?;
        for (j, s) in sockets.iter_mut().enumerate() {
            poll.registry().register(s, Token(j), Interest::READABLE)?;
        }
        Ok(RxPump {
            poll,
            events: Events::with_capacity(EVENTS),
            ready: Vec::with_capacity(EVENTS),
            batch: RecvBatch::with_rx_timestamps(BATCH),
            clock: RealtimeToMonotonic::sample(),
            next_clock_sample: 0,
            stamp_fallbacks: 0,
        })
    }

    /// Re-samples the clock offset if it was last sampled long enough before `now_ns`.
    pub fn resample_clock(&mut self, now_ns: u64) {
        if now_ns >= self.next_clock_sample {
            self.clock = RealtimeToMonotonic::sample();
            self.next_clock_sample = now_ns + CLOCK_RESAMPLE_NS;
        }
    }

    /// Datagrams received so far that had no kernel time stamp (their receive time is the
    /// time the batch was read, which adds the wait in the socket queue to their latency).
    pub fn stamp_fallbacks(&self) -> u64 {
        self.stamp_fallbacks
    }

    /// Waits up to `wait` for readable sockets among `sockets` (those given to
    /// [`new`](Self::new)), drains them, and calls `on_datagram(socket, datagram, rx_ns)` for
    /// every datagram, `rx_ns` being its receive time on CLOCK_MONOTONIC.
    pub fn receive(
        &mut self,
        sockets: &[UdpSocket],
        wait: Duration,
        mut on_datagram: impl FnMut(usize, &[u8], u64),
    ) -> io::Result<()> {
        match self.poll.poll(&mut self.events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        self.ready.clear();
        self.ready.extend(self.events.iter().map(|e| e.token().0));
        for k in 0..self.ready.len() {
            let j = self.ready[k];
            self.drain(j, &sockets[j], &mut on_datagram);
        }
        Ok(())
    }

    /// Reads socket `j` until its queue is empty (mio's readiness is edge-triggered).
    fn drain(
        &mut self,
        j: usize,
        socket: &UdpSocket,
        on_datagram: &mut impl FnMut(usize, &[u8], u64),
    ) {
        let mut errors = 0;
        loop {
            let got = match self.batch.recv(socket.as_fd()) {
                Ok(0) => return,
                Ok(n) => n,
                // A queued socket error (e.g. ICMP port unreachable on a connected socket) is
                // reported once; datagrams may be queued behind it.
                Err(_) => {
                    errors += 1;
                    if errors > MAX_ERRORS_PER_DRAIN {
                        return;
                    }
                    continue;
                }
            };
            let now = monotonic_ns();
            for i in 0..got {
                let rx = match self.batch.rx_realtime_ns(i) {
                    Some(real) => self.clock.to_monotonic(real),
                    None => {
                        self.stamp_fallbacks += 1;
                        now
                    }
                };
                on_datagram(j, self.batch.datagram(i), rx);
            }
            if got < self.batch.capacity() {
                return;
            }
        }
    }
}
