//! The embeddable engine: one thread per shard on a UDP driver, commanded through bounded
//! queues.
//!
//! A full queue and reading statistics: see [`control`].
//!
//! ```no_run
//! use tandem_engine::{ChannelSpec, Engine, GroupKey};
//! let engine = Engine::builder().shards(2).build()?;
//! let a = engine.create_channel(GroupKey(1), ChannelSpec::default())?;
//! let b = engine.create_channel(GroupKey(1), ChannelSpec::default())?;
//! engine.bridge(a.id, b.id)?;
//! // ... tell the phones to send to a.local and b.local ...
//! while let Ok(event) = engine.events().recv() {
//!     println!("{event:?}");
//! }
//! # Ok::<(), tandem_engine::EngineError>(())
//! ```

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use socket2::{Domain, Protocol, Socket, Type};

use crate::command::{Command, TapTarget};
use crate::driver::common::{Clock, Control, ShardLinks, ShardThread, ThreadCounters, Wake};
use crate::driver::memory::ChannelInfo;
use crate::error::EngineError;
use crate::event::Event;
use crate::ids::{ChannelId, GroupKey, RoomId};
use crate::ports::{self, MediaAddresses, OwnSockets, PortAllocator};
use crate::room::RoomOptions;
use crate::shard::{Shard, ShardConfig};
use crate::spec::{ChannelSpec, RtcpMode};
use crate::tap::writer as tap_writer;
use crate::tap::{TapId, TapSpec};

pub mod control;

/// Which UDP driver runs the shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriverKind {
    /// io_uring where the kernel allows it (Linux 6.0+), else mio: the default, because
    /// io_uring measured cheaper per relayed packet (see `tandem bench`).
    Auto,
    /// epoll readiness with recvmmsg/sendmmsg batches (portable).
    Mio,
    /// io_uring (Linux 6.0+); building fails where it is unavailable or forbidden.
    IoUring,
}

impl std::str::FromStr for DriverKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(DriverKind::Auto),
            "mio" | "epoll" => Ok(DriverKind::Mio),
            "io-uring" | "io_uring" | "uring" => Ok(DriverKind::IoUring),
            _ => Err(format!("unknown driver {s:?} (auto, mio or io-uring)")),
        }
    }
}

/// Engine settings; see [`Engine::builder`].
#[derive(Clone, Debug)]
pub struct EngineBuilder {
    shards: usize,
    bind: IpAddr,
    port_min: u16,
    port_max: u16,
    driver: DriverKind,
    tick_ms: u32,
    queue_capacity: usize,
    pin_cores: bool,
    seed: Option<u64>,
    socket_buffer: usize,
    control_wait: Duration,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            shards: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port_min: 30_000,
            port_max: 39_999,
            driver: DriverKind::Auto,
            tick_ms: 20,
            queue_capacity: 4096,
            pin_cores: false,
            seed: None,
            socket_buffer: 256 * 1024,
            control_wait: Duration::from_secs(2),
        }
    }
}

impl EngineBuilder {
    /// Number of shards (threads); defaults to the number of cores.
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = n;
        self
    }
    /// Address media sockets bind to (default 127.0.0.1).
    pub fn bind(mut self, ip: IpAddr) -> Self {
        self.bind = ip;
        self
    }
    /// Local port range, inclusive (default 30000–39999), split evenly among shards.
    pub fn port_range(mut self, min: u16, max: u16) -> Self {
        self.port_min = min;
        self.port_max = max;
        self
    }
    /// UDP driver (default: io_uring where available, else mio).
    pub fn driver(mut self, d: DriverKind) -> Self {
        self.driver = d;
        self
    }
    /// Tick period in milliseconds (default 20).
    pub fn tick_ms(mut self, ms: u32) -> Self {
        self.tick_ms = ms;
        self
    }
    /// Capacity of each command queue and of the event queue (default 4096).
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = n;
        self
    }
    /// Pin shard `i` to core `i` (default off).
    pub fn pin_cores(mut self, on: bool) -> Self {
        self.pin_cores = on;
        self
    }
    /// How long a teardown command or a statistics read waits for room in a full queue,
    /// and a statistics read for the shard's answer (default 2 s).
    pub fn control_wait(mut self, wait: Duration) -> Self {
        self.control_wait = wait;
        self
    }
    /// Fixed seed for SSRCs and sequence numbers (default: from the clock).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Starts the shard threads.
    pub fn build(self) -> Result<Engine, EngineError> {
        if self.driver == DriverKind::Auto {
            return match self.clone().driver(DriverKind::IoUring).build() {
                Err(EngineError::Io(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied
                    ) =>
                {
                    tracing::info!(error = %e, "io_uring unavailable; using the mio driver");
                    self.driver(DriverKind::Mio).build()
                }
                other => other,
            };
        }
        if self.shards == 0 || self.shards > 1024 {
            return Err(EngineError::Config(format!("{} shards", self.shards)));
        }
        if !(1..=100).contains(&self.tick_ms) {
            return Err(EngineError::Config(format!("tick of {} ms", self.tick_ms)));
        }
        let allocators =
            ports::split(self.port_min, self.port_max, self.shards).ok_or_else(|| {
                EngineError::Config(format!(
                    "port range {}-{} is too small for {} shards",
                    self.port_min, self.port_max, self.shards
                ))
            })?;
        let clock = Clock::start();
        let seed = self.seed.unwrap_or(clock.unix_epoch_us);
        let own = OwnSockets::new(MediaAddresses {
            ip: self.bind,
            port_min: self.port_min,
            port_max: self.port_max,
        });
        let (event_tx, event_rx) = bounded(self.queue_capacity);
        let (tap_tx, tap_rx) = bounded(self.queue_capacity);
        let writer = tap_writer::spawn(tap_rx, event_tx.clone())?;
        // Built first, so a shard that fails to start stops the ones already running (Drop).
        let mut engine = Engine {
            writer: Some(writer),
            shards: Vec::with_capacity(self.shards),
            events: event_rx,
            bind: self.bind,
            socket_buffer: self.socket_buffer,
            next_serial: AtomicU64::new(1),
            driver: self.driver,
            control_wait: self.control_wait,
            own: own.clone(),
        };
        for (i, alloc) in allocators.into_iter().enumerate() {
            let ports = Arc::new(Mutex::new(alloc));
            let counters = Arc::new(ThreadCounters::default());
            let (tx, rx) = bounded(self.queue_capacity);
            let cfg = ShardConfig {
                index: i,
                tick_us: u64::from(self.tick_ms) * 1000,
                seed,
                unix_epoch_us: clock.unix_epoch_us,
                own: Some(own.clone()),
            };
            let links = ShardLinks {
                control: rx,
                events: event_tx.clone(),
                taps: tap_tx.clone(),
                ports: ports.clone(),
            };
            let st = ShardThread::new(
                Shard::new(cfg, clock.now_us()),
                links,
                clock,
                counters.clone(),
                self.pin_cores.then_some(i),
            );
            let spawned = match self.driver {
                DriverKind::Mio | DriverKind::Auto => crate::driver::mio::spawn(st),
                DriverKind::IoUring => crate::driver::spawn_uring(st),
            };
            let (thread, waker) = match spawned {
                Ok(s) => s,
                Err(e) => {
                    // The writer ends once every sender of new recordings is gone; this one
                    // goes first, or stopping the engine would wait for the writer forever.
                    drop(tap_tx);
                    return Err(e.into());
                }
            };
            engine.shards.push(ShardHandle {
                control: Some(tx),
                waker,
                thread: Some(thread),
                ports,
                counters,
            });
        }
        drop(tap_tx);
        Ok(engine)
    }
}

struct ShardHandle {
    /// Taken (dropped) on stop, so a thread whose queue is full still sees the disconnect.
    control: Option<Sender<Control>>,
    waker: Arc<dyn Wake>,
    thread: Option<JoinHandle<()>>,
    ports: Arc<Mutex<PortAllocator>>,
    counters: Arc<ThreadCounters>,
}

/// Counters of one shard thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
    driver: DriverKind,
    control_wait: Duration,
    own: OwnSockets,
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

    /// Events from all shards.
    pub fn events(&self) -> &Receiver<Event> {
        &self.events
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
                    channels: c.channels.load(Ordering::Relaxed),
                    control_waits: c.control_waits.load(Ordering::Relaxed),
                    control_timeouts: c.control_timeouts.load(Ordering::Relaxed),
                }
            })
            .collect()
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

    /// Creates a channel on the shard of `group`: binds its RTP (and RTCP) socket now, so
    /// a bind failure is returned here, and queues its creation on the shard.
    pub fn create_channel(
        &self,
        group: GroupKey,
        spec: ChannelSpec,
    ) -> Result<ChannelInfo, EngineError> {
        if spec.ptime_ms == 0 || spec.ptime_ms > 200 {
            return Err(EngineError::Config(format!(
                "ptime {} ms out of range",
                spec.ptime_ms
            )));
        }
        if let Some(r) = spec.remote.filter(|&r| self.own.contains(r)) {
            return Err(EngineError::Config(format!(
                "remote {r} is one of the engine's own media addresses (a loop)"
            )));
        }
        let shard = group.shard(self.shards.len());
        let (port, sockets) = self.bind_pair(shard, spec.rtcp)?;
        for (p, _) in &sockets {
            self.own.hold(*p);
        }
        let id = ChannelId::new(
            shard as u16,
            self.next_serial.fetch_add(1, Ordering::Relaxed),
        );
        let cmd = Command::CreateChannel {
            channel: id,
            port,
            spec,
        };
        let held: Vec<u16> = sockets.iter().map(|(p, _)| *p).collect();
        if let Err(e) = self.send_control(shard, Control::Command { cmd, sockets }) {
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
            id,
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

    fn send_control(&self, shard: usize, msg: Control) -> Result<(), EngineError> {
        let h = &self.shards[shard];
        let Some(control) = h.control.as_ref() else {
            return Err(EngineError::ShutDown);
        };
        match control.try_send(msg) {
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
        let room = RoomId::new(
            shard as u16,
            self.next_serial.fetch_add(1, Ordering::Relaxed),
        );
        self.send_control(
            shard,
            Control::Command {
                cmd: Command::CreateRoom { room, options },
                sockets: Vec::new(),
            },
        )?;
        Ok(room)
    }

    /// Starts recording `target` into `spec.path`; `Event::TapFinished` follows its stop.
    pub fn start_tap(&self, target: TapTarget, spec: TapSpec) -> Result<TapId, EngineError> {
        let shard = match target {
            TapTarget::Channel(c) => c.shard(),
            TapTarget::Room(r) => r.shard(),
        };
        let tap = TapId::new(
            shard as u16,
            self.next_serial.fetch_add(1, Ordering::Relaxed),
        );
        self.command(Command::StartTap { tap, target, spec })?;
        Ok(tap)
    }

    /// Queues a command on the shard that owns its channel. A full queue fails the command
    /// with `QueueFull`, except a teardown command ([`Command::is_teardown`]), which waits
    /// for room up to the control wait first.
    pub fn command(&self, cmd: Command) -> Result<(), EngineError> {
        cmd.same_shard().map_err(EngineError::DifferentShards)?;
        if let Command::CreateChannel { .. } = cmd {
            return Err(EngineError::Config(
                "use create_channel to create channels".into(),
            ));
        }
        let shard = cmd.shard();
        if shard >= self.shards.len() {
            return Err(EngineError::Config(format!("no shard {shard}")));
        }
        let teardown = cmd.is_teardown();
        let msg = Control::Command {
            cmd,
            sockets: Vec::new(),
        };
        if teardown {
            self.send_control_waiting(shard, msg)
        } else {
            self.send_control(shard, msg)
        }
    }

    /// Bridges two channels of the same group.
    pub fn bridge(&self, a: ChannelId, b: ChannelId) -> Result<(), EngineError> {
        self.command(Command::Bridge { a, b })
    }

    /// Destroys a channel; `Event::ChannelClosed` follows.
    pub fn destroy(&self, channel: ChannelId) -> Result<(), EngineError> {
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
            if let Some(control) = h.control.take() {
                let _ = control.try_send(Control::Shutdown);
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
