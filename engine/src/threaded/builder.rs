//! Settings of the threaded engine, and its start: the recording writer, then one thread
//! per shard on the chosen UDP driver.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::bounded;

use super::{Engine, ShardHandle};
use crate::driver::thread::{Clock, DrainLimits, ShardLinks, ShardThread, ThreadCounters};
use crate::error::EngineError;
use crate::offload::KernelForwarding;
use crate::offload::executor::{self, Executor};
use crate::ports::{self, MediaAddresses, OwnSockets};
use crate::shard::{AdmissionLimits, DEFAULT_MAX_QUEUE_DELAY, Shard, ShardConfig};
use crate::tap::writer::TapWriter;
use crate::time::Micros;

/// Which UDP driver runs the shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DriverKind {
    /// io_uring where the kernel allows it (Linux 6.0+), else mio: the default, because
    /// io_uring measured cheaper per relayed packet (see `tandem bench`).
    Auto,
    /// epoll readiness with recvmmsg/sendmmsg batches (portable).
    Mio,
    /// io_uring (Linux 6.0+); building fails where it is unavailable or forbidden.
    IoUring,
}

/// A driver name that is not `auto`, `mio` (or `epoll`) or `io-uring`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown driver {0:?} (auto, mio or io-uring)")]
pub struct UnknownDriver(pub String);

impl std::str::FromStr for DriverKind {
    type Err = UnknownDriver;
    fn from_str(s: &str) -> Result<Self, UnknownDriver> {
        match s {
            "auto" => Ok(DriverKind::Auto),
            "mio" | "epoll" => Ok(DriverKind::Mio),
            "io-uring" | "io_uring" | "uring" => Ok(DriverKind::IoUring),
            _ => Err(UnknownDriver(s.to_string())),
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
    max_queue_delay: Option<Duration>,
    kernel_forwarding: KernelForwarding,
    admission: AdmissionLimits,
    drain: DrainLimits,
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
            max_queue_delay: Some(DEFAULT_MAX_QUEUE_DELAY.to_duration()),
            kernel_forwarding: KernelForwarding::Off,
            admission: AdmissionLimits::none(),
            drain: DrainLimits::default(),
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
    /// How long a teardown command, a statistics read or a barrier waits for room in a
    /// full queue, and a statistics read or a barrier for the shard's answer (default 2 s).
    pub fn control_wait(mut self, wait: Duration) -> Self {
        self.control_wait = wait;
        self
    }
    /// Longest a received datagram may wait (from its arrival at the host, by the kernel's
    /// time stamp) before the shard handles it; older ones are dropped and counted
    /// ([`ShardThreadStats::stale_dropped`](crate::ShardThreadStats)), so an overloaded
    /// shard sheds stale audio instead of queueing it. `None`: no limit. Default 100 ms.
    pub fn max_queue_delay(mut self, limit: Option<Duration>) -> Self {
        self.max_queue_delay = limit;
        self
    }
    /// Whether bridged calls that need nothing but header rewriting are forwarded by an
    /// eBPF program in the kernel (see `docs/kernel-forwarding.md`). `Auto` uses it where
    /// the program loads and logs why not elsewhere; `On` makes
    /// [`build`](EngineBuilder::build) fail with the reason; `Off` (the default for an
    /// embedder: loading the program attaches it to the media interface and takes a moment)
    /// never uses it. Needs media bound to one IPv4 address.
    pub fn kernel_forwarding(mut self, mode: KernelForwarding) -> Self {
        self.kernel_forwarding = mode;
        self
    }
    /// Load limits over which a shard refuses new channels
    /// ([`EngineError::Overloaded`]); see [`Engine::load`](crate::Engine::load). None by
    /// default.
    pub fn admission(mut self, limits: AdmissionLimits) -> Self {
        self.admission = limits;
        self
    }
    /// How many datagrams one turn of a shard thread may receive before it runs its tick
    /// (when due) and sends: at most `per_socket` from one socket and `per_turn` in all
    /// (default 256 and 1,024). A port flooded faster than the shard can read then cannot
    /// hold off the tick or the other ports; what is left waits in the socket buffers, and
    /// what waits too long is shed ([`max_queue_delay`](Self::max_queue_delay)). The
    /// io_uring driver applies `per_turn` (its completions come in order of arrival).
    pub fn drain_limits(mut self, per_socket: usize, per_turn: usize) -> Self {
        self.drain = DrainLimits {
            per_socket,
            per_turn,
        };
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
        if self.drain.per_socket == 0 || self.drain.per_turn == 0 {
            return Err(EngineError::Config(format!(
                "drain limits of {} per socket, {} per turn",
                self.drain.per_socket, self.drain.per_turn
            )));
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
        let kernel = executor::open(self.kernel_forwarding, self.bind)
            .map_err(|why| EngineError::Config(format!("kernel forwarding: {why}")))?;
        let clock = Clock::start();
        let seed = self.seed.unwrap_or(clock.unix_epoch.as_us());
        let own = OwnSockets::new(MediaAddresses {
            ip: self.bind,
            port_min: self.port_min,
            port_max: self.port_max,
        });
        let (event_tx, event_rx) = bounded(self.queue_capacity);
        let (tap_tx, tap_rx) = bounded(self.queue_capacity);
        let writer = TapWriter::spawn(tap_rx, event_tx.clone())?;
        // Built first, so a shard that fails to start stops the ones already running (Drop).
        let mut engine = Engine {
            writer: Some(writer),
            shards: Vec::with_capacity(self.shards),
            events: event_rx,
            bind: self.bind,
            socket_buffer: self.socket_buffer,
            next_serial: AtomicU64::new(1),
            next_request: AtomicU64::new(1),
            driver: self.driver,
            control_wait: self.control_wait,
            own: own.clone(),
            kernel: kernel.clone(),
            admission: self.admission,
        };
        for (i, alloc) in allocators.into_iter().enumerate() {
            let ports = Arc::new(Mutex::new(alloc));
            let counters = Arc::new(ThreadCounters::default());
            let (tx, rx) = bounded(self.queue_capacity);
            let cfg = ShardConfig {
                index: i,
                tick: Micros::from_ms(u64::from(self.tick_ms)),
                seed,
                unix_epoch: clock.unix_epoch,
                max_queue_delay: self
                    .max_queue_delay
                    .map(|d| Micros::from_us(d.as_micros().min(u128::from(u64::MAX)) as u64)),
                own: Some(own.clone()),
            };
            let links = ShardLinks {
                messages: rx,
                events: event_tx.clone(),
                taps: tap_tx.clone(),
                ports: ports.clone(),
            };
            let mut shard = Shard::new(cfg, clock.now());
            if let (Some(_), IpAddr::V4(ip)) = (&kernel, self.bind) {
                shard.enable_kernel_forwarding(ip);
            }
            let mut st = ShardThread::new(
                shard,
                links,
                clock,
                counters.clone(),
                self.pin_cores.then_some(i),
                self.drain,
            );
            st.offload = kernel.clone().map(Executor::new);
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
                messages: Some(tx),
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
