//! The daemon: ng over UDP and TCP, one control thread that owns the engine handle and the
//! call table, a reply cache for retransmitted requests, media-timeout deletion, a graceful
//! shutdown, and a Prometheus endpoint.
//!
//! Threads:
//! - **ng I/O** (`io`): one mio event loop for the UDP socket, the TCP listener and every
//!   TCP connection (cap, idle and read deadlines, incremental framing).
//! - **control** (`control`): carries out every message in order through the
//!   [`ControlPath`] (reply cache + call table), folds in engine events, and runs the
//!   shutdown.
//! - **metrics** ([`crate::metrics::http`]): answers scrapes from shared counters.
//! - the media engine's shard threads.

pub mod cache;
mod conn;
mod control;
pub mod framing;
mod io;
pub mod path;

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Sender, bounded, unbounded};
use mio::{Poll, Waker};
use tandem_engine::{DriverKind, Engine};
use thiserror::Error;

pub use control::Outcome;
pub use path::{ControlPath, Handled};

use crate::calls::{Calls, CallsConfig};
use crate::config::ServeConfig;
use crate::metrics::Metrics;
use crate::metrics::http::MetricsServer;
use crate::ng::Strictness;
use conn::Deadlines;
use control::{Control, Lifecycle};
use io::{IoLimits, IoLoop};

/// Why the daemon could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServeError {
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// The media interface address cannot be bound (not an address of this host?).
    #[error("media interface {addr}: cannot bind a UDP socket: {source}")]
    Interface {
        /// Address.
        addr: std::net::IpAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// The engine could not start.
    #[error("media engine: {0}")]
    Engine(#[from] tandem_engine::EngineError),
    /// Bad settings.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The recording directory cannot be created.
    #[error("recording directory {0}: {1}")]
    RecordingDir(std::path::PathBuf, std::io::Error),
    /// A thread or the event loop could not be started.
    #[error("thread: {0}")]
    Thread(std::io::Error),
}

/// Asks a running daemon to shut down; cloneable, for signal handlers.
#[derive(Clone, Debug)]
pub struct ShutdownHandle(Sender<Lifecycle>);

impl ShutdownHandle {
    /// Starts a graceful shutdown: offers are refused, recordings finished, calls deleted,
    /// then the daemon ends (see [`Running::wait`]). Asking twice changes nothing.
    pub fn drain(&self) {
        let _ = self.0.try_send(Lifecycle::Drain);
    }
}

/// A running daemon.
pub struct Running {
    /// The ng address actually bound (UDP and TCP).
    pub ng_addr: SocketAddr,
    /// The metrics address actually bound.
    pub metrics_addr: Option<SocketAddr>,
    /// Whether pass-through calls are forwarded in the kernel.
    pub kernel_forwarding: bool,
    lifecycle: Sender<Lifecycle>,
    control: Option<JoinHandle<Outcome>>,
    io: Option<JoinHandle<()>>,
    io_stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
    metrics_server: Option<MetricsServer>,
    metrics: Arc<Metrics>,
}

impl Running {
    /// A handle that starts a graceful shutdown.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.lifecycle.clone())
    }

    /// The daemon's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Waits until the daemon ends (after a shutdown, or a stop), then stops the
    /// listeners and the engine.
    pub fn wait(mut self) -> Outcome {
        let outcome = self
            .control
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or(Outcome::Stopped);
        self.stop_io();
        outcome
    }

    /// Stops at once, without a graceful shutdown.
    pub fn stop(self) {
        let _ = self.lifecycle.try_send(Lifecycle::Stop);
        self.wait();
    }

    fn stop_io(&mut self) {
        self.io_stop.store(true, Ordering::Relaxed);
        let _ = self.waker.wake();
        if let Some(t) = self.io.take() {
            let _ = t.join();
        }
        if let Some(m) = self.metrics_server.take() {
            m.stop();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.control.is_some() {
            let _ = self.lifecycle.try_send(Lifecycle::Stop);
            if let Some(t) = self.control.take() {
                let _ = t.join();
            }
        }
        self.stop_io();
    }
}

fn listen_err(addr: SocketAddr) -> impl FnOnce(std::io::Error) -> ServeError {
    move |source| ServeError::Listen { addr, source }
}

/// A TCP listener on `addr` whose kernel queue holds `backlog` connections not yet
/// accepted (std's `TcpListener::bind` always asks for 128).
fn tcp_listener(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // As std does: a restarted daemon can listen again while old connections linger.
    s.set_reuse_address(true)?;
    s.bind(&addr.into())?;
    s.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
    Ok(s.into())
}

/// Binds the ng address on UDP and TCP. With port 0 the kernel picks the UDP port, which
/// another program may hold on TCP: then another pair is tried (a fixed port is tried once).
fn bind_ng(
    addr: SocketAddr,
    backlog: u32,
) -> Result<(UdpSocket, TcpListener, SocketAddr), ServeError> {
    let attempts = if addr.port() == 0 { 32 } else { 1 };
    let mut last = None;
    for _ in 0..attempts {
        let udp = UdpSocket::bind(addr).map_err(listen_err(addr))?;
        let ng_addr = udp.local_addr().map_err(listen_err(addr))?;
        match tcp_listener(ng_addr, backlog) {
            Ok(tcp) => return Ok((udp, tcp, ng_addr)),
            Err(e) => last = Some(listen_err(ng_addr)(e)),
        }
    }
    Err(last.expect("at least one attempt"))
}

/// Starts the daemon. Every address is bound before the engine starts, so a bad address
/// fails at once with an error naming it.
pub fn start(cfg: ServeConfig) -> Result<Running, ServeError> {
    cfg.validate()?;
    std::fs::create_dir_all(&cfg.recording_dir)
        .map_err(|e| ServeError::RecordingDir(cfg.recording_dir.clone(), e))?;
    // A media address this host does not have would only show at the first offer.
    UdpSocket::bind((cfg.interface, 0)).map_err(|source| ServeError::Interface {
        addr: cfg.interface,
        source,
    })?;
    let (udp, tcp, ng_addr) = bind_ng(cfg.listen_ng, cfg.tcp_backlog)?;
    let metrics_listener = match cfg.listen_metrics {
        Some(a) => Some(TcpListener::bind(a).map_err(listen_err(a))?),
        None => None,
    };
    for s in [udp.set_nonblocking(true), tcp.set_nonblocking(true)] {
        s.map_err(listen_err(ng_addr))?;
    }
    let udp_reply = udp.try_clone().map_err(listen_err(ng_addr))?;
    let unspecified: std::net::IpAddr = if cfg.interface.is_ipv4() {
        std::net::Ipv4Addr::UNSPECIFIED.into()
    } else {
        std::net::Ipv6Addr::UNSPECIFIED.into()
    };
    let dtmf_log = UdpSocket::bind((unspecified, 0)).map_err(ServeError::Thread)?;
    dtmf_log.set_nonblocking(true).map_err(ServeError::Thread)?;

    let shards = if cfg.num_threads == 0 {
        thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        cfg.num_threads
    };
    let driver: DriverKind = cfg
        .driver
        .parse()
        .map_err(|e: tandem_engine::UnknownDriver| {
            crate::config::ConfigError::Invalid(e.to_string())
        })?;
    let kernel: tandem_engine::KernelForwarding =
        cfg.kernel_forwarding
            .parse()
            .map_err(|e: tandem_engine::UnknownKernelForwarding| {
                crate::config::ConfigError::Invalid(e.to_string())
            })?;
    let engine = Arc::new(
        Engine::builder()
            .shards(shards)
            .bind(cfg.interface)
            .port_range(cfg.port_min, cfg.port_max)
            .driver(driver)
            .max_queue_delay(cfg.max_queue_delay())
            .kernel_forwarding(kernel)
            .admission(cfg.admission())
            .build()?,
    );
    let kernel_forwarding = engine.kernel_forwarding().is_some();
    match engine.kernel_forwarding() {
        Some(k) => tracing::info!(interfaces = ?k.interfaces, "kernel forwarding on"),
        None => tracing::info!(mode = %cfg.kernel_forwarding, "kernel forwarding off"),
    }
    let metrics = Arc::new(Metrics::with_engine(Arc::downgrade(&engine)));

    let poll = Poll::new().map_err(ServeError::Thread)?;
    let waker = io::waker(&poll).map_err(ServeError::Thread)?;
    let (req_tx, req_rx) = bounded(cfg.max_pending_requests);
    // One reply per queued request: bounded by the request queue and what is in flight.
    let (reply_tx, reply_rx) = unbounded();
    let (life_tx, life_rx) = bounded(4);
    let io_stop = Arc::new(AtomicBool::new(false));
    let io_loop = IoLoop {
        poll,
        udp: mio::net::UdpSocket::from_std(udp),
        listener: mio::net::TcpListener::from_std(tcp),
        requests: req_tx,
        replies: reply_rx,
        limits: IoLimits {
            max_connections: cfg.max_tcp_connections,
            max_message: cfg.max_message_bytes,
            deadlines: Deadlines {
                idle: ServeConfig::seconds(cfg.tcp_idle_timeout),
                read: ServeConfig::seconds(cfg.tcp_read_timeout),
            },
        },
        metrics: metrics.clone(),
        stop: io_stop.clone(),
    };
    let calls = Calls::new(CallsConfig {
        timeout_s: cfg.timeout,
        max_sessions: cfg.max_sessions,
        max_streams_per_call: cfg.max_streams_per_call,
        // A party's media naming the UDP control socket would loop into it. Media is UDP,
        // so the TCP listeners (ng over TCP, metrics) cannot receive it: a phone's UDP port
        // may equal one of their port numbers.
        listeners: vec![ng_addr],
        latching: cfg.latching(),
        interface_name: cfg.interface_name.clone(),
        recording_allowed_dirs: cfg.recording_allowed_dirs.clone(),
        strictness: Strictness {
            ignore_unknown_keys: cfg.ignore_unknown_keys,
        },
        ..CallsConfig::new(cfg.interface, cfg.recording_dir.clone())
    });
    let events = engine.events().clone();
    let control = Control {
        path: ControlPath::new(calls, engine, cfg.reply_cache_bytes, metrics.clone()),
        requests: req_rx,
        events,
        lifecycle: life_rx,
        tcp_replies: reply_tx,
        waker: waker.clone(),
        udp: udp_reply,
        dtmf_log,
        grace: ServeConfig::seconds(cfg.grace),
    };
    let metrics_server = match metrics_listener {
        Some(l) => Some(MetricsServer::start(l, metrics.clone()).map_err(ServeError::Thread)?),
        None => None,
    };
    let metrics_addr = metrics_server.as_ref().map(MetricsServer::addr);
    let io = thread::Builder::new()
        .name("ng-io".into())
        .spawn(move || io_loop.run())
        .map_err(ServeError::Thread)?;
    let control = thread::Builder::new()
        .name("control".into())
        .spawn(move || control.run())
        .map_err(ServeError::Thread)?;
    tracing::info!(%ng_addr, ?metrics_addr, shards, "tandem serve listening");
    Ok(Running {
        ng_addr,
        metrics_addr,
        kernel_forwarding,
        lifecycle: life_tx,
        control: Some(control),
        io: Some(io),
        io_stop,
        waker,
        metrics_server,
        metrics,
    })
}
