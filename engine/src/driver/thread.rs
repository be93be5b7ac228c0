//! What every threaded driver shares: the messages from the engine handle, the clock, and
//! the bookkeeping of each turn of the loop.

use std::io;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError};
use tandem_udp::current_tid;

use hdrhistogram::Histogram;

use super::histogram::{AtomicHistogram, SharedHdr, dwell_histogram};
use crate::command::Command;
use crate::event::Event;
use crate::ids::{ChannelId, RequestId};
use crate::offload::executor::Executor;
use crate::ports::PortAllocator;
use crate::shard::{LoadMeter, Shard, ShardLoad};
use crate::spec::ChannelSpec;
use crate::stats::ChannelStats;
use crate::tap::TapHandoff;
use crate::time::Micros;

/// A message from the engine handle to a shard thread.
#[derive(Debug)]
pub(crate) enum Message {
    /// Create a channel on sockets the handle has bound (so a bind error is returned to
    /// the caller at once).
    Create {
        /// The request it answers.
        request: RequestId,
        /// The new channel.
        channel: ChannelId,
        /// Its RTP port.
        port: u16,
        /// What it is.
        spec: ChannelSpec,
        /// RTP and (optionally) RTCP sockets, with their ports.
        sockets: Vec<(u16, UdpSocket)>,
    },
    /// A command.
    Command {
        /// The request it answers.
        request: RequestId,
        /// The command.
        cmd: Command,
    },
    /// Read the counters of these channels now; the answer (channels that exist, in the
    /// order asked) goes to `reply`.
    ReadStats {
        /// Channels of this shard.
        channels: Vec<ChannelId>,
        /// Where the answer goes (a one-slot queue the handle waits on).
        reply: Sender<Vec<(ChannelId, ChannelStats)>>,
    },
    /// Answer on `reply` once everything before has been applied and its events passed on.
    Barrier {
        /// Where the answer goes.
        reply: Sender<()>,
    },
    /// Stop the thread.
    Shutdown,
}

/// Wakes a shard thread blocked in its poll, so it sees a new control message.
pub(crate) trait Wake: Send + Sync {
    /// Interrupts the thread's wait.
    fn wake(&self);
}

/// Counters a shard thread publishes for the handle (relaxed atomics, read rarely).
#[derive(Debug, Default)]
pub(crate) struct ThreadCounters {
    /// The thread's Linux TID (for `/proc/self/task/TID/stat`), 0 until it starts.
    pub tid: AtomicI32,
    /// Events dropped because the event queue was full.
    pub events_dropped: AtomicU64,
    /// Datagrams received.
    pub datagrams_in: AtomicU64,
    /// Datagrams sent.
    pub datagrams_out: AtomicU64,
    /// Sends that failed (the datagram is dropped, as on any lossy network).
    pub send_errors: AtomicU64,
    /// Ticks run late by more than one period.
    pub ticks_missed: AtomicU64,
    /// Datagrams dropped because they had waited too long (the shard's `stale_dropped`).
    pub stale_dropped: AtomicU64,
    /// How long each tick took.
    pub tick_duration: AtomicHistogram,
    /// How late each tick started after its deadline.
    pub tick_lateness: AtomicHistogram,
    /// Live channels, published every turn.
    pub channels: AtomicU64,
    /// Teardown commands and statistics reads that found the queue full and waited.
    pub control_waits: AtomicU64,
    /// Those that still found it full at the end of the wait (the caller got an error).
    pub control_timeouts: AtomicU64,
    /// The smoothed busy fraction (an `f64`'s bits), published once a load window.
    pub load_busy: AtomicU64,
    /// The smoothed packet rate (an `f64`'s bits), published with `load_busy`.
    pub load_rate: AtomicU64,
    /// How long datagrams dwelt in the shard, µs, merged in every 100 ms or so.
    pub dwell: SharedHdr,
}

impl ThreadCounters {
    /// The last published load.
    pub fn load(&self) -> ShardLoad {
        ShardLoad::new(
            f64::from_bits(self.load_busy.load(Ordering::Relaxed)),
            f64::from_bits(self.load_rate.load(Ordering::Relaxed)),
        )
    }
}

/// How many datagrams one driver turn may take from the sockets before it runs the tick
/// (when due) and sends: a flood on one port cannot starve the shard's timers, nor take
/// every turn from the other ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DrainLimits {
    /// From any one socket in a turn.
    pub per_socket: usize,
    /// From all sockets in a turn.
    pub per_turn: usize,
}

impl Default for DrainLimits {
    fn default() -> Self {
        // A turn of 1,024 datagrams takes a few ms of work: the tick is late by that much
        // at worst, while a turn amortises its system calls over many datagrams.
        DrainLimits {
            per_socket: 256,
            per_turn: 1_024,
        }
    }
}

/// How often a shard thread merges its dwell times into the shared histogram (a walk over
/// its buckets and a lock the handle rarely takes).
const DWELL_MERGE: Micros = Micros::from_ms(100);

/// Arrival times kept per turn for the dwell histogram; datagrams beyond it in one turn
/// (a flood bigger than the drain limits allow) are not timed.
const ARRIVALS_CAP: usize = 8_192;

/// Time since the driver started, and the matching Unix time for RTCP.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    start: Instant,
    /// Unix time at `start`.
    pub unix_epoch: Micros,
}

impl Clock {
    /// A clock starting now.
    pub fn start() -> Clock {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        Clock {
            start: Instant::now(),
            unix_epoch: Micros::from_us(unix),
        }
    }

    /// Time since start.
    pub fn now(&self) -> Micros {
        Micros::from_us(self.start.elapsed().as_micros() as u64)
    }

    /// The wall clock (`CLOCK_REALTIME`) in ns, the clock of the kernel's receive stamps.
    pub fn realtime_ns() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    }
}

/// When a datagram arrived, on the shard's clock: `now` less its age by the kernel's receive
/// stamp (`stamp_ns`, against `realtime_ns` read with `now`, so a wall clock stepped since
/// the start does not matter); `now` without a stamp.
pub(crate) fn received_at(now: Micros, realtime_ns: u64, stamp_ns: Option<u64>) -> Micros {
    match stamp_ns {
        Some(ns) => now.saturating_sub(Micros::from_us(realtime_ns.saturating_sub(ns) / 1_000)),
        None => now,
    }
}

/// The queues and shared state that connect a shard thread to the rest of the engine.
pub(crate) struct ShardLinks {
    /// Messages from the handle.
    pub messages: Receiver<Message>,
    /// Events to the application.
    pub events: Sender<Event>,
    /// New recordings to the tap writer.
    pub taps: Sender<TapHandoff>,
    /// The shard's port range.
    pub ports: Arc<Mutex<PortAllocator>>,
}

/// Everything a shard thread owns.
pub(crate) struct ShardThread {
    /// The state machine.
    pub shard: Shard,
    /// Messages from the handle.
    messages: Receiver<Message>,
    /// Events to the application.
    pub events: Sender<Event>,
    /// The shard's port range (shared with the handle, locked only to free ports).
    pub ports: Arc<Mutex<PortAllocator>>,
    /// Time source.
    pub clock: Clock,
    /// Published counters.
    pub counters: Arc<ThreadCounters>,
    /// CPU core to pin to, if any.
    pub core: Option<usize>,
    released: Vec<u16>,
    taps: Sender<TapHandoff>,
    /// Barriers answered at the end of the turn.
    barriers: Vec<Sender<()>>,
    /// The kernel fast path, when on.
    pub offload: Option<Executor>,
    /// How many datagrams a turn may take.
    pub drain: DrainLimits,
    meter: LoadMeter,
    /// Arrival times of the datagrams handled since the last send.
    arrivals: Vec<Micros>,
    /// Dwell times since the last merge into the shared histogram.
    dwell: Histogram<u64>,
    /// When they were last merged.
    dwell_merged: Micros,
}

impl ShardThread {
    /// Bundles a shard with its queues.
    pub fn new(
        shard: Shard,
        links: ShardLinks,
        clock: Clock,
        counters: Arc<ThreadCounters>,
        core: Option<usize>,
        drain: DrainLimits,
    ) -> ShardThread {
        let ShardLinks {
            messages,
            events,
            taps,
            ports,
        } = links;
        ShardThread {
            shard,
            messages,
            events,
            ports,
            clock,
            counters,
            core,
            released: Vec::new(),
            taps,
            barriers: Vec::new(),
            offload: None,
            drain,
            meter: LoadMeter::new(clock.now(), 0, Micros::ZERO),
            arrivals: Vec::with_capacity(ARRIVALS_CAP),
            dwell: dwell_histogram(),
            dwell_merged: Micros::ZERO,
        }
    }

    /// The thread waited for input from `from` to `to` (for the load meter).
    pub fn waited(&mut self, from: Micros, to: Micros) {
        self.meter.waited(from, to);
    }

    /// Hands the shard a datagram received at `port` from `from` at `now`, which arrived at
    /// the host at `at`, and notes its arrival for the dwell histogram if it was handled.
    #[inline]
    pub fn receive(
        &mut self,
        (now, at): (Micros, Micros),
        port: u16,
        from: std::net::SocketAddr,
        data: &[u8],
    ) {
        if self.shard.handle_received(now, at, port, from, data)
            && self.arrivals.len() < ARRIVALS_CAP
        {
            self.arrivals.push(at);
        }
    }

    /// The shard's output has just been handed to the kernel: the datagrams handled since
    /// the last send have left the shard (one clock read, when there were any).
    pub fn sent(&mut self) {
        if self.arrivals.is_empty() {
            return;
        }
        let now = self.clock.now();
        for at in self.arrivals.drain(..) {
            self.dwell
                .saturating_record(now.saturating_sub(at).as_us().max(1));
        }
    }

    /// Applies every queued message: `add_socket` takes the sockets of a new channel
    /// before the shard creates it. Returns false on shutdown (or when the handle is
    /// gone: nobody can command this shard any more).
    pub fn take_messages(
        &mut self,
        mut add_socket: impl FnMut(u16, UdpSocket) -> io::Result<()>,
    ) -> io::Result<bool> {
        loop {
            let msg = match self.messages.try_recv() {
                Ok(msg) => msg,
                Err(TryRecvError::Empty) => return Ok(true),
                Err(TryRecvError::Disconnected) => return Ok(false),
            };
            match msg {
                Message::Shutdown => return Ok(false),
                Message::ReadStats { channels, reply } => self.answer_stats(&channels, &reply),
                Message::Barrier { reply } => self.barriers.push(reply),
                Message::Create {
                    request,
                    channel,
                    port,
                    spec,
                    sockets,
                } => {
                    for (p, s) in sockets {
                        add_socket(p, s)?;
                    }
                    let now = self.clock.now();
                    self.shard.create_channel(now, request, channel, port, spec);
                }
                Message::Command { request, cmd } => {
                    let now = self.clock.now();
                    self.shard.handle_command(now, request, cmd);
                }
            }
        }
    }

    /// Answers a statistics read with the counters of the channels that exist. The handle
    /// may have given up waiting; then the answer is simply dropped.
    fn answer_stats(&self, channels: &[ChannelId], reply: &Sender<Vec<(ChannelId, ChannelStats)>>) {
        let found = channels
            .iter()
            .filter_map(|&c| self.shard.channel_stats(c).map(|s| (c, s)))
            .collect();
        let _ = reply.try_send(found);
    }

    /// Runs the shard's tick if it is due, recording how late it started and how long it
    /// took (two clock reads and two atomic adds per tick, none per packet).
    pub fn tick(&mut self, now: Micros) {
        let due = self.shard.next_deadline();
        if now < due {
            return;
        }
        self.shard.tick(now);
        let done = self.clock.now();
        self.counters.tick_lateness.record(now - due);
        self.counters.tick_duration.record(done.saturating_sub(now));
    }

    /// Pins the thread (if asked) and publishes its TID.
    pub fn start(&mut self) {
        if let Some(core) = self.core {
            if !core_affinity::set_for_current(core_affinity::CoreId { id: core }) {
                tracing::warn!(core, "could not pin shard thread");
            }
        }
        self.counters.tid.store(current_tid(), Ordering::Relaxed);
        let received = self.counters.datagrams_in.load(Ordering::Relaxed);
        self.meter = LoadMeter::new(self.clock.now(), received, self.cpu_time());
    }

    /// The CPU time this thread has used (read from `/proc` once a load window; zero where
    /// it cannot be read, which leaves the wall-clock measure).
    fn cpu_time(&self) -> Micros {
        let tid = self.counters.tid.load(Ordering::Relaxed);
        tandem_udp::procfs::thread_cpu_time_precise(tid).map_or(Micros::ZERO, Micros::from)
    }

    /// End-of-turn bookkeeping: closes the sockets of deleted channels and returns their
    /// ports to the pool (before the `ChannelClosed` event goes out, so an application
    /// that reacts to it finds the ports free), then forwards events, dropping them
    /// (counted) if the application does not keep up: media never waits for events. Last,
    /// barriers waiting since this turn's messages are answered.
    pub fn finish_turn(&mut self, mut close_port: impl FnMut(u16)) {
        if let Some(x) = &self.offload {
            let clock = self.clock;
            x.run(&mut self.shard, || clock.now());
        }
        self.released.extend(self.shard.drain_released_ports());
        if !self.released.is_empty() {
            for &port in &self.released {
                close_port(port);
                if let Some(own) = self.shard.own_sockets() {
                    own.release(port);
                }
            }
            // The sockets are closed, so the handle may bind these ports again.
            let mut alloc = self.ports.lock().unwrap_or_else(|e| e.into_inner());
            for &port in &self.released {
                alloc.release(port);
            }
            self.released.clear();
        }
        for h in self.shard.drain_tap_handoffs() {
            let tap = h.tap();
            // A writer that cannot keep up with new recordings: the tap's ring is dropped
            // with the handoff, so the shard stops it at its next tick.
            if self.taps.try_send(h).is_err() {
                let reason = "recording writer queue is full".to_string();
                let _ = self.events.try_send(Event::TapFailed { tap, reason });
            }
        }
        while let Some(e) = self.shard.poll_event() {
            if let Err(TrySendError::Full(_)) = self.events.try_send(e) {
                self.counters.events_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        let s = self.shard.stats();
        self.counters
            .ticks_missed
            .store(s.ticks_missed, Ordering::Relaxed);
        self.counters
            .stale_dropped
            .store(s.stale_dropped, Ordering::Relaxed);
        self.counters.channels.store(s.channels, Ordering::Relaxed);
        let now = self.clock.now();
        let received = self.counters.datagrams_in.load(Ordering::Relaxed);
        let load = if self.meter.due(now) {
            self.meter.roll(now, received, self.cpu_time())
        } else {
            None
        };
        if let Some(load) = load {
            let c = &self.counters;
            c.load_busy.store(load.busy.to_bits(), Ordering::Relaxed);
            c.load_rate
                .store(load.packet_rate.to_bits(), Ordering::Relaxed);
        }
        if now.saturating_sub(self.dwell_merged) >= DWELL_MERGE && !self.dwell.is_empty() {
            self.counters.dwell.merge(&self.dwell);
            self.dwell.reset();
            self.dwell_merged = now;
        }
        for reply in self.barriers.drain(..) {
            // The handle may have given up waiting.
            let _ = reply.try_send(());
        }
    }
}
