//! The frame both generators' threads run their own accounting in ([`PacedThread`]): the
//! thread pinned and timed, its sockets' [`RxPump`], and the paced loop that sends as the
//! [`Pacer`] schedules, receives in between and naps when nothing is due.
//!
//! The two-party [`worker`](crate::bridged::worker) and the [`conference`](crate::conference)
//! generator differ only in what a send writes and what a received datagram means
//! ([`PacedStreams`]).

use std::io;
use std::time::Duration;

use mio::net::UdpSocket;

use tandem_udp::clock::monotonic_ns;
use tandem_udp::{current_tid, procfs, thread};

use crate::pacer::Pacer;
use crate::rx_pump::RxPump;

/// Sends per loop turn before the sockets are polled again, so a late schedule (catching up
/// after a stall) cannot starve the receive side.
const SEND_BURST: usize = 64;

/// Longest sleep between loop turns (while draining).
const MAX_SLEEP_NS: u64 = 1_000_000;

/// Timer slack asked for the generator thread, ns: without it sleeps end up to 50 µs late,
/// which only shows as send lag.
const TIMER_SLACK_NS: u64 = 1_000;

/// A generator thread's frame: the calling thread set up to generate load (with its CPU
/// time at the start), its sockets and their receive pump.
pub struct PacedThread<'s> {
    tid: i32,
    cpu_before: Duration,
    sockets: &'s [UdpSocket],
    pump: RxPump,
}

impl<'s> PacedThread<'s> {
    /// Pins the calling thread to `cpu` (if given), tightens its timer slack, notes its CPU
    /// time so far and registers `sockets` for receiving (stream `j` sends from socket `j`).
    pub fn start(sockets: &'s mut [UdpSocket], cpu: Option<usize>) -> io::Result<PacedThread<'s>> {
        if let Some(cpu) = cpu {
            thread::pin_current_thread(cpu)?;
        }
        // Best effort: a looser slack costs only send lag, which the report shows.
        let _ = thread::set_timer_slack(TIMER_SLACK_NS);
        let tid = current_tid();
        let cpu_before = procfs::thread_cpu_time_precise(tid)?;
        let pump = RxPump::new(sockets)?;
        Ok(PacedThread {
            tid,
            cpu_before,
            sockets,
            pump,
        })
    }

    /// The sockets, for sending.
    pub fn sockets(&self) -> &'s [UdpSocket] {
        self.sockets
    }

    /// Waits up to `wait` for datagrams and hands each to `on_datagram(socket, datagram,
    /// rx_ns)` (see [`RxPump::receive`]).
    pub fn receive(
        &mut self,
        wait: Duration,
        on_datagram: impl FnMut(usize, &[u8], u64),
    ) -> io::Result<()> {
        self.pump.receive(self.sockets, wait, on_datagram)
    }

    /// Runs `pacer`'s schedule on `streams`, then keeps receiving until `drain` after its
    /// end.
    ///
    /// `tick` is the shortest sleep between loop turns; zero busy-polls (the thread never
    /// sleeps, so its CPU never idles).
    pub fn run(
        &mut self,
        mut pacer: Pacer,
        drain: Duration,
        tick: Duration,
        streams: &mut impl PacedStreams,
    ) -> io::Result<()> {
        let end = pacer.end_ns() + drain.as_nanos() as u64;
        let tick_ns = tick.as_nanos() as u64;
        loop {
            let now = monotonic_ns();
            self.pump.resample_clock(now);
            let mut burst = 0;
            while let Some((j, due)) = pacer.peek() {
                if due > now || burst == SEND_BURST {
                    break;
                }
                streams.send(j, due);
                pacer.advance();
                burst += 1;
            }
            self.receive(Duration::ZERO, |j, datagram, rx_ns| {
                streams.on_datagram(j, datagram, rx_ns)
            })?;
            let next = match pacer.peek() {
                Some((_, due)) => due,
                None if now >= end => return Ok(()),
                None => end,
            };
            let now = monotonic_ns();
            if next > now && tick_ns > 0 {
                let nap = (next - now).clamp(tick_ns, MAX_SLEEP_NS.max(tick_ns));
                std::thread::sleep(Duration::from_nanos(nap));
            }
        }
    }

    /// Datagrams received so far without a kernel time stamp (see
    /// [`RxPump::stamp_fallbacks`]).
    pub fn stamp_fallbacks(&self) -> u64 {
        self.pump.stamp_fallbacks()
    }

    /// CPU time the thread has used since [`start`](Self::start).
    pub fn cpu_used(&self) -> io::Result<Duration> {
        Ok(procfs::thread_cpu_time_precise(self.tid)?.saturating_sub(self.cpu_before))
    }
}

/// What a paced generator does with its streams; stream `j` sends from socket `j`.
pub trait PacedStreams {
    /// Sends stream `j`'s next packet, which was due at `due_ns` (monotonic).
    fn send(&mut self, j: usize, due_ns: u64);
    /// Accounts `datagram`, received on socket `j` at `rx_ns` (monotonic).
    fn on_datagram(&mut self, j: usize, datagram: &[u8], rx_ns: u64);
}
