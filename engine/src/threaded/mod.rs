//! The threaded engine: one thread per shard on a UDP driver, commanded through bounded
//! queues. Settings and start-up are in [`builder`]; what happens when a queue is full,
//! statistics reads and barriers are in [`queue`].
//!
//! ```
//! use std::time::Duration;
//! use tandem_engine::{ChannelSpec, Engine, Event, GroupKey};
//!
//! let engine = Engine::builder().shards(1).port_range(46_000, 46_099).build()?;
//! let spec = ChannelSpec {
//!     media_timeout_ms: 100,
//!     ..ChannelSpec::default()
//! };
//! let a = engine.create_channel(GroupKey(1), spec.clone())?;
//! let b = engine.create_channel(GroupKey(1), spec)?;
//! engine.bridge(a.id, b.id)?;
//! // Phones would now send to a.local and b.local; none does, so both time out.
//! let event = engine.events().recv_timeout(Duration::from_secs(2)).expect("an event");
//! assert!(matches!(event, Event::MediaTimeout { .. }));
//! engine.shutdown();
//! # Ok::<(), tandem_engine::EngineError>(())
//! ```

pub(crate) mod builder;
pub(crate) mod queue;

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use socket2::{Domain, Protocol, Socket, Type};

pub use self::builder::{DriverKind, EngineBuilder, UnknownDriver};
use crate::command::Command;
use crate::driver::histogram::TickHistogram;
use crate::driver::thread::{Message, ThreadCounters, Wake};
use crate::error::Overload;
use crate::error::{CommandError, EngineError};
use crate::event::Event;
use crate::ids::{ChannelId, GroupKey, RequestId, RoomId, TapId};
use crate::media_engine::{ChannelInfo, MediaEngine};
use crate::ports::{MediaAddresses, OwnSockets, PortAllocator};
use crate::shard::{AdmissionLimits, ShardLoad};
use crate::spec::{ChannelSpec, RoomOptions, RtcpMode, TapSpec, TapTarget};
use crate::stats::ChannelStats;
use crate::tap::fork::ForkSpec;

struct ShardHandle {
    /// Taken (dropped) on stop, so a thread whose queue is full still sees the disconnect.
    messages: Option<Sender<Message>>,
    waker: Arc<dyn Wake>,
    thread: Option<JoinHandle<()>>,
    ports: Arc<Mutex<PortAllocator>>,
    counters: Arc<ThreadCounters>,
}

/// Counters of one shard thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardThreadStats {
    /// Linux TID of the thread (for CPU accounting from /proc).
    pub tid: i32,
    /// Datagrams received.
    pub datagrams_in: u64,
    /// Datagrams sent.
    pub datagrams_out: u64,
    /// Datagrams the kernel refused (dropped).
    pub send_errors: u64,
    /// Events dropped because the application did not read them.
    pub events_dropped: u64,
    /// Ticks skipped because the thread was late.
    pub ticks_missed: u64,
    /// Datagrams dropped unread because they had waited longer than the engine's
    /// `max_queue_delay` (the shard was behind).
    pub stale_dropped: u64,
    /// How long the thread's ticks took.
    pub tick_duration: TickHistogram,
    /// How late the thread's ticks started after their deadlines.
    pub tick_lateness: TickHistogram,
    /// How long datagrams dwelt in the shard, in the tick buckets ([`Engine::dwell`] has
    /// the finer histogram).
    pub dwell: TickHistogram,
    /// Live channels (as of the thread's last turn).
    pub channels: u64,
    /// Teardown commands and statistics reads that found the queue full and waited.
    pub control_waits: u64,
    /// Those still refused at the end of the wait (the caller got `QueueFull`).
    pub control_timeouts: u64,
}

/// A running engine. Dropping it stops the shard threads.
pub struct Engine {
    writer: Option<JoinHandle<()>>,
    shards: Vec<ShardHandle>,
    events: Receiver<Event>,
    bind: IpAddr,
    socket_buffer: usize,
    next_serial: AtomicU64,
    next_request: AtomicU64,
    driver: DriverKind,
    control_wait: Duration,
    own: OwnSockets,
    /// The kernel fast path, when on.
    kernel: Option<Arc<tandem_kfwd::KernelForwarder>>,
    admission: AdmissionLimits,
}

impl Engine {
    /// Settings with their defaults.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// The driver in use (never `Auto`: the one it chose).
    pub fn driver(&self) -> DriverKind {
        self.driver
    }

    /// The engine's address and port range.
    pub fn media_addresses(&self) -> MediaAddresses {
        self.own.addresses()
    }

    /// Whether `addr` reaches a socket the engine holds now: a remote naming one is
    /// refused, and packets from one are dropped.
    pub fn holds(&self, addr: SocketAddr) -> bool {
        self.own.contains(addr)
    }

    /// Number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Events from all shards, as a queue to block or `select!` on
    /// ([`MediaEngine::poll_event`] takes one without waiting).
    pub fn events(&self) -> &Receiver<Event> {
        &self.events
    }

    /// The kernel fast path's state: `None` when kernel forwarding is off or unavailable.
    pub fn kernel_forwarding(&self) -> Option<crate::offload::KernelForwardingStats> {
        self.kernel
            .as_deref()
            .map(crate::offload::KernelForwardingStats::read)
    }

    /// Counters of every shard thread.
    pub fn thread_stats(&self) -> Vec<ShardThreadStats> {
        self.shards
            .iter()
            .map(|s| {
                let c = &s.counters;
                ShardThreadStats {
                    tid: c.tid.load(Ordering::Relaxed),
                    datagrams_in: c.datagrams_in.load(Ordering::Relaxed),
                    datagrams_out: c.datagrams_out.load(Ordering::Relaxed),
                    send_errors: c.send_errors.load(Ordering::Relaxed),
                    events_dropped: c.events_dropped.load(Ordering::Relaxed),
                    ticks_missed: c.ticks_missed.load(Ordering::Relaxed),
                    stale_dropped: c.stale_dropped.load(Ordering::Relaxed),
                    tick_duration: c.tick_duration.snapshot(),
                    tick_lateness: c.tick_lateness.snapshot(),
                    dwell: TickHistogram::from_hdr(&c.dwell.snapshot()),
                    channels: c.channels.load(Ordering::Relaxed),
                    control_waits: c.control_waits.load(Ordering::Relaxed),
                    control_timeouts: c.control_timeouts.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    /// The measured load of every shard (busy fraction and packet rate, smoothed over the
    /// last seconds; zero during the first second).
    pub fn load(&self) -> Vec<ShardLoad> {
        self.shards.iter().map(|s| s.counters.load()).collect()
    }

    /// How long datagrams dwelt in each shard, µs: from their arrival at the host (the
    /// kernel's receive stamp) to the moment the shard's output of that turn went to the
    /// kernel, merged every 100 ms or so.
    pub fn dwell(&self) -> Vec<hdrhistogram::Histogram<u64>> {
        self.shards
            .iter()
            .map(|s| s.counters.dwell.snapshot())
            .collect()
    }

    /// Whether new channels are admitted on `shard`, or (`None`) on every shard: the
    /// first shard over one of the builder's [`AdmissionLimits`] is named.
    pub fn admission(&self, shard: Option<usize>) -> Result<(), Overload> {
        match shard {
            Some(i) => self
                .shards
                .get(i)
                .map_or(Ok(()), |s| self.admission.check(i, s.counters.load())),
            None => self
                .shards
                .iter()
                .enumerate()
                .try_for_each(|(i, s)| self.admission.check(i, s.counters.load())),
        }
    }

    /// RTP/RTCP port pairs of each shard, in shard order: `(in use, free)`.
    pub fn ports_in_use(&self) -> Vec<(usize, usize)> {
        self.shards
            .iter()
            .map(|s| {
                let a = s.ports.lock().unwrap_or_else(|e| e.into_inner());
                (a.pairs() - a.free_pairs(), a.free_pairs())
            })
            .collect()
    }

    fn serial(&self) -> u64 {
        self.next_serial.fetch_add(1, Ordering::Relaxed)
    }

    fn request(&self) -> RequestId {
        RequestId(self.next_request.fetch_add(1, Ordering::Relaxed))
    }

    /// Creates a channel on the shard of `group`: binds its RTP (and RTCP) socket now, so
    /// a bind failure is returned here, and queues its creation on the shard. A shard over
    /// one of the builder's admission limits refuses it ([`EngineError::Overloaded`]).
    pub fn create_channel(
        &self,
        group: GroupKey,
        spec: ChannelSpec,
    ) -> Result<ChannelInfo, EngineError> {
        if spec.ptime_ms == 0 || spec.ptime_ms > 200 {
            return Err(CommandError::Ptime(spec.ptime_ms).into());
        }
        if let Some(f) = spec.codec.passthrough.and(spec.needs_samples()) {
            return Err(CommandError::PassThroughSpec(f).into());
        }
        if let Some(r) = spec.remote.filter(|&r| self.own.contains(r)) {
            return Err(CommandError::OwnAddress(r).into());
        }
        let shard = group.shard(self.shards.len());
        self.admission(Some(shard))?;
        let (port, sockets) = self.bind_pair(shard, spec.rtcp)?;
        for (p, _) in &sockets {
            self.own.hold(*p);
        }
        let channel = ChannelId::new(shard as u16, self.serial());
        let held: Vec<u16> = sockets.iter().map(|(p, _)| *p).collect();
        let msg = Message::Create {
            request: self.request(),
            channel,
            port,
            spec,
            sockets,
        };
        if let Err(e) = self.send(shard, msg) {
            // The sockets were dropped with the message: closed.
            for p in held {
                self.own.release(p);
            }
            self.shards[shard]
                .ports
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .release(port);
            return Err(e);
        }
        Ok(ChannelInfo {
            id: channel,
            local: SocketAddr::new(self.bind, port),
        })
    }

    /// Finds a free port pair and binds it, skipping ports another program holds.
    fn bind_pair(
        &self,
        shard: usize,
        rtcp: RtcpMode,
    ) -> Result<(u16, Vec<(u16, UdpSocket)>), EngineError> {
        let mut alloc = self.shards[shard]
            .ports
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut held = Vec::new();
        let result = loop {
            let Some(port) = alloc.allocate() else {
                break Err(EngineError::NoFreePort(shard));
            };
            let rtp = self.bind_one(port);
            let pair = match (rtp, rtcp) {
                (Ok(s), RtcpMode::Companion) => self
                    .bind_one(port + 1)
                    .map(|r| vec![(port, s), (port + 1, r)]),
                (Ok(s), _) => Ok(vec![(port, s)]),
                (Err(e), _) => Err(e),
            };
            match pair {
                Ok(sockets) => break Ok((port, sockets)),
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => held.push(port),
                Err(e) => {
                    alloc.release(port);
                    break Err(e.into());
                }
            }
        };
        // Ports another program holds go back to the pool for a later try.
        for p in held {
            alloc.release(p);
        }
        result
    }

    fn bind_one(&self, port: u16) -> io::Result<UdpSocket> {
        let addr = SocketAddr::new(self.bind, port);
        let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
        // Larger buffers absorb bursts while the shard is busy in its tick.
        let _ = s.set_recv_buffer_size(self.socket_buffer);
        let _ = s.set_send_buffer_size(self.socket_buffer);
        s.set_nonblocking(true)?;
        s.bind(&addr.into())?;
        Ok(s.into())
    }

    /// Queues a message, failing at once on a full queue.
    fn send(&self, shard: usize, msg: Message) -> Result<(), EngineError> {
        let h = &self.shards[shard];
        let Some(queue) = h.messages.as_ref() else {
            return Err(EngineError::ShutDown);
        };
        match queue.try_send(msg) {
            Ok(()) => {
                h.waker.wake();
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(EngineError::QueueFull(shard)),
            Err(TrySendError::Disconnected(_)) => Err(EngineError::ShutDown),
        }
    }

    /// Creates an empty conference room on the shard of `group` (put the participants'
    /// channels in the same group).
    pub fn create_room(
        &self,
        group: GroupKey,
        options: RoomOptions,
    ) -> Result<RoomId, EngineError> {
        let shard = group.shard(self.shards.len());
        let room = RoomId::new(shard as u16, self.serial());
        self.command(Command::CreateRoom { room, options })?;
        Ok(room)
    }

    /// Starts recording `target` into `spec.path`; `Event::TapFinished` follows its stop.
    pub fn start_tap(&self, target: TapTarget, spec: TapSpec) -> Result<TapId, EngineError> {
        let tap = TapId::new(target.shard() as u16, self.serial());
        self.command(Command::StartTap { tap, target, spec })?;
        Ok(tap)
    }

    /// Starts a live media fork of `target`; `Command::StopTap` stops it.
    pub fn start_fork(&self, target: TapTarget, spec: ForkSpec) -> Result<TapId, EngineError> {
        let tap = TapId::new(target.shard() as u16, self.serial());
        self.command(Command::StartFork { tap, target, spec })?;
        Ok(tap)
    }

    /// Queues a command on the shard that owns its object. A full queue fails the command
    /// with `QueueFull`, except a teardown command ([`Command::is_teardown`]), which waits
    /// for room up to the control wait first.
    pub fn command(&self, cmd: Command) -> Result<RequestId, EngineError> {
        cmd.same_shard()?;
        let shard = cmd.shard();
        if shard >= self.shards.len() {
            return Err(EngineError::NoShard(shard));
        }
        let teardown = cmd.is_teardown();
        let request = self.request();
        let msg = Message::Command { request, cmd };
        if teardown {
            self.send_waiting(shard, msg)?;
        } else {
            self.send(shard, msg)?;
        }
        Ok(request)
    }

    /// Bridges two channels of the same group.
    pub fn bridge(&self, a: ChannelId, b: ChannelId) -> Result<RequestId, EngineError> {
        self.command(Command::Bridge { a, b })
    }

    /// Destroys a channel; `Event::ChannelClosed` follows.
    pub fn destroy(&self, channel: ChannelId) -> Result<RequestId, EngineError> {
        self.command(Command::DestroyChannel { channel })
    }

    /// Stops every shard thread and waits for them.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        for h in &mut self.shards {
            // If the queue is full the Shutdown is lost, but dropping the sender disconnects
            // the queue, which the thread also takes as shutdown once it has drained it.
            if let Some(queue) = h.messages.take() {
                let _ = queue.try_send(Message::Shutdown);
            }
            h.waker.wake();
        }
        for h in &mut self.shards {
            if let Some(t) = h.thread.take() {
                let _ = t.join();
            }
        }
        // The shards are gone, so every tap's ring is abandoned: the writer finishes the
        // files and exits.
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Implements [`MediaEngine`] for the threaded engine behind a pointer-like type whose
/// methods the engine's `&self` methods serve.
macro_rules! threaded_media_engine {
    ($t:ty) => {
        impl MediaEngine for $t {
            fn create_channel(
                &mut self,
                group: GroupKey,
                spec: ChannelSpec,
            ) -> Result<ChannelInfo, EngineError> {
                Engine::create_channel(self, group, spec)
            }
            fn create_room(
                &mut self,
                group: GroupKey,
                options: RoomOptions,
            ) -> Result<RoomId, EngineError> {
                Engine::create_room(self, group, options)
            }
            fn start_tap(
                &mut self,
                target: TapTarget,
                spec: TapSpec,
            ) -> Result<TapId, EngineError> {
                Engine::start_tap(self, target, spec)
            }
            fn start_fork(
                &mut self,
                target: TapTarget,
                spec: ForkSpec,
            ) -> Result<TapId, EngineError> {
                Engine::start_fork(self, target, spec)
            }
            fn command(&mut self, cmd: Command) -> Result<RequestId, EngineError> {
                Engine::command(self, cmd)
            }
            fn poll_event(&mut self) -> Option<Event> {
                self.events.try_recv().ok()
            }
            fn read_stats(
                &mut self,
                channels: &[ChannelId],
            ) -> Result<Vec<(ChannelId, ChannelStats)>, EngineError> {
                Engine::read_stats(self, channels)
            }
            fn media_addresses(&self) -> MediaAddresses {
                Engine::media_addresses(self)
            }
            fn holds(&self, addr: SocketAddr) -> bool {
                Engine::holds(self, addr)
            }
            fn barrier(&mut self) -> Result<(), EngineError> {
                Engine::barrier(self)
            }
            fn admission(&self) -> Result<(), Overload> {
                Engine::admission(self, None)
            }
        }
    };
}

threaded_media_engine!(Engine);
threaded_media_engine!(Arc<Engine>);
