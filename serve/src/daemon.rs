//! The daemon: ng over UDP and TCP, one control thread that owns the engine handle and the
//! call table, a reply cache for retransmitted requests, media-timeout deletion, and a
//! Prometheus endpoint.
//!
//! Listener threads only parse and forward; every command is carried out in order on the
//! control thread, so the call table needs no locks. Proxies retransmit a request whose
//! reply was lost: a request whose cookie was seen in the last 30 s gets the cached reply
//! again instead of being carried out twice.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded, select, tick};
use tandem_engine::{DriverKind, Engine, Event};
use thiserror::Error;

use crate::bencode::Value;
use crate::calls::{Calls, CallsConfig, RequestCtx};
use crate::config::ServeConfig;
use crate::ng::{self, Request};

/// How long a reply stays cached for retransmissions.
const COOKIE_WINDOW: Duration = Duration::from_secs(30);
/// How often statistics are refreshed.
const STATS_PERIOD: Duration = Duration::from_secs(1);
/// Largest ng reply sent in one UDP datagram (cookie included): below the IPv4 limit of
/// 65,507 bytes with room to spare.
const UDP_REPLY_MAX: usize = 65_000;

fn now_unix_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Why the daemon could not start.
#[derive(Debug, Error)]
pub enum ServeError {
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// Address.
        addr: SocketAddr,
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
    /// A thread could not be started.
    #[error("thread: {0}")]
    Thread(std::io::Error),
}

/// Where a reply goes.
enum ReplyTo {
    Udp(SocketAddr),
    Tcp(Sender<Vec<u8>>),
}

struct Incoming {
    req: Request,
    reply: ReplyTo,
}

/// A running daemon.
pub struct Running {
    /// The ng address actually bound (UDP and TCP).
    pub ng_addr: SocketAddr,
    /// The metrics address actually bound.
    pub metrics_addr: Option<SocketAddr>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops every thread and waits for them (the engine shuts down with the control thread).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    /// Waits until the stop flag is raised by `stop_flag()` holders (for the CLI).
    pub fn wait(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    /// The flag that stops the daemon when set.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }
}

/// Starts the daemon.
pub fn start(cfg: ServeConfig) -> Result<Running, ServeError> {
    cfg.validate()?;
    std::fs::create_dir_all(&cfg.recording_dir)
        .map_err(|e| ServeError::RecordingDir(cfg.recording_dir.clone(), e))?;
    let shards = if cfg.num_threads == 0 {
        thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        cfg.num_threads
    };
    let driver: DriverKind = cfg
        .driver
        .parse()
        .map_err(|e: String| crate::config::ConfigError::Invalid(e))?;
    let engine = Engine::builder()
        .shards(shards)
        .bind(cfg.interface)
        .port_range(cfg.port_min, cfg.port_max)
        .driver(driver)
        .build()?;
    let udp = UdpSocket::bind(cfg.listen_ng).map_err(|source| ServeError::Listen {
        addr: cfg.listen_ng,
        source,
    })?;
    let ng_addr = udp.local_addr().map_err(|source| ServeError::Listen {
        addr: cfg.listen_ng,
        source,
    })?;
    let tcp = TcpListener::bind(ng_addr).map_err(|source| ServeError::Listen {
        addr: ng_addr,
        source,
    })?;
    let metrics = match cfg.listen_metrics {
        Some(a) => {
            Some(TcpListener::bind(a).map_err(|source| ServeError::Listen { addr: a, source })?)
        }
        None => None,
    };
    let metrics_addr = metrics.as_ref().and_then(|m| m.local_addr().ok());
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = bounded::<Incoming>(4096);
    let exposition = Arc::new(Mutex::new(String::new()));
    let mut threads = Vec::new();
    let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
        thread::Builder::new()
            .name(name.into())
            .spawn(f)
            .map_err(ServeError::Thread)
    };

    let udp_reply = udp.try_clone().map_err(ServeError::Thread)?;
    {
        let (tx, stop) = (tx.clone(), stop.clone());
        threads.push(spawn(
            "ng-udp",
            Box::new(move || udp_listener(udp, tx, stop)),
        )?);
    }
    {
        let (tx, stop) = (tx.clone(), stop.clone());
        threads.push(spawn(
            "ng-tcp",
            Box::new(move || tcp_listener(tcp, tx, stop)),
        )?);
    }
    if let Some(m) = metrics {
        let (text, stop) = (exposition.clone(), stop.clone());
        threads.push(spawn(
            "metrics",
            Box::new(move || metrics_listener(m, text, stop)),
        )?);
    }
    drop(tx);
    let calls_cfg = CallsConfig {
        timeout_s: cfg.timeout,
        max_sessions: cfg.max_sessions,
        max_streams_per_call: cfg.max_streams_per_call,
        listeners: std::iter::once(ng_addr).chain(metrics_addr).collect(),
        latching: cfg.latching(),
        ..CallsConfig::new(cfg.interface, cfg.recording_dir.clone())
    };
    {
        let stop = stop.clone();
        threads.push(spawn(
            "control",
            Box::new(move || {
                control(
                    engine,
                    Calls::new(calls_cfg),
                    rx,
                    udp_reply,
                    exposition,
                    stop,
                )
            }),
        )?);
    }
    tracing::info!(%ng_addr, ?metrics_addr, shards, "tandem serve listening");
    Ok(Running {
        ng_addr,
        metrics_addr,
        stop,
        threads,
    })
}

fn udp_listener(sock: UdpSocket, tx: Sender<Incoming>, stop: Arc<AtomicBool>) {
    let _ = sock.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        match ng::parse_datagram(&buf[..n]) {
            Ok(req) => {
                if tx
                    .try_send(Incoming {
                        req,
                        reply: ReplyTo::Udp(from),
                    })
                    .is_err()
                {
                    tracing::warn!(%from, "control queue full: request dropped (the proxy will retransmit)");
                }
            }
            Err(e) => {
                tracing::warn!(%from, error = %e, "malformed ng datagram");
                let cookie = buf[..n]
                    .split(|&b| b == b' ')
                    .next()
                    .filter(|c| !c.is_empty() && c.len() < 256)
                    .unwrap_or(b"0");
                let _ = sock.send_to(&ng::reply(cookie, &ng::error_reply(&e.to_string())), from);
            }
        }
    }
}

fn tcp_listener(listener: TcpListener, tx: Sender<Incoming>, stop: Arc<AtomicBool>) {
    let _ = listener.set_nonblocking(true);
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((conn, peer)) => {
                let (tx, stop) = (tx.clone(), stop.clone());
                let _ = thread::Builder::new()
                    .name("ng-tcp-conn".into())
                    .spawn(move || tcp_connection(conn, peer, tx, stop));
            }
            Err(_) => thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn tcp_connection(
    mut conn: TcpStream,
    peer: SocketAddr,
    tx: Sender<Incoming>,
    stop: Arc<AtomicBool>,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    while !stop.load(Ordering::Relaxed) {
        match conn.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(_) => return,
        }
        loop {
            // Skip whitespace between messages.
            let lead = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
            buf.drain(..lead);
            match ng::parse_prefix(&buf) {
                Ok(Some((req, used))) => {
                    buf.drain(..used);
                    let (rtx, rrx) = bounded(1);
                    if tx
                        .send(Incoming {
                            req,
                            reply: ReplyTo::Tcp(rtx),
                        })
                        .is_err()
                    {
                        return;
                    }
                    match rrx.recv_timeout(Duration::from_secs(10)) {
                        Ok(bytes) => {
                            if conn.write_all(&bytes).is_err() {
                                return;
                            }
                        }
                        Err(_) => return,
                    }
                }
                Ok(None) if buf.len() > 1 << 20 => return,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(%peer, error = %e, "malformed ng message on TCP; closing");
                    let _ = conn.write_all(&ng::reply(b"0", &ng::error_reply(&e.to_string())));
                    return;
                }
            }
        }
    }
}

fn control(
    mut engine: Engine,
    mut calls: Calls,
    rx: Receiver<Incoming>,
    udp: UdpSocket,
    exposition: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
) {
    let mut cache: HashMap<Vec<u8>, (Instant, Vec<u8>)> = HashMap::new();
    let ticker = tick(STATS_PERIOD);
    let events = engine.events().clone();
    let mut recordings_finished = 0u64;
    while !stop.load(Ordering::Relaxed) {
        select! {
            recv(rx) -> msg => {
                let Ok(Incoming { req, reply }) = msg else { break };
                let bytes = match cache.get(&req.cookie) {
                    Some((_, cached)) => cached.clone(),
                    None => {
                        let ctx = RequestCtx {
                            now_unix_s: now_unix_s(),
                            reply_budget: match reply {
                                ReplyTo::Udp(_) => {
                                    Some(UDP_REPLY_MAX.saturating_sub(req.cookie.len() + 1))
                                }
                                ReplyTo::Tcp(_) => None,
                            },
                        };
                        let body: Value = calls.handle(&mut engine, &req.body, &ctx);
                        let bytes = ng::reply(&req.cookie, &body);
                        cache.insert(req.cookie.clone(), (Instant::now(), bytes.clone()));
                        bytes
                    }
                };
                match reply {
                    ReplyTo::Udp(to) => { let _ = udp.send_to(&bytes, to); }
                    ReplyTo::Tcp(tx) => { let _ = tx.send(bytes); }
                }
            }
            recv(events) -> e => {
                let Ok(e) = e else { break };
                if let Event::TapFinished { ref path, .. } = e {
                    recordings_finished += 1;
                    tracing::info!(path = %path.display(), "recording finished");
                }
                if let Some(id) = calls.on_event(&mut engine, &e) {
                    tracing::info!(call_id = %id, "call deleted after media timeout");
                }
            }
            recv(ticker) -> _ => {
                cache.retain(|_, (at, _)| at.elapsed() < COOKIE_WINDOW);
                calls.refresh_stats(&mut engine);
                let text = crate::metrics::exposition(&calls, &engine, recordings_finished);
                *exposition.lock().unwrap_or_else(|e| e.into_inner()) = text;
            }
        }
    }
    engine.shutdown();
}

fn metrics_listener(listener: TcpListener, text: Arc<Mutex<String>>, stop: Arc<AtomicBool>) {
    let _ = listener.set_nonblocking(true);
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((mut conn, _)) => {
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut req = [0u8; 2048];
                let n = conn.read(&mut req).unwrap_or(0);
                let line = String::from_utf8_lossy(&req[..n]);
                let response = if line.starts_with("GET /metrics") {
                    let body = text.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    format!(
                        "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string()
                };
                let _ = conn.write_all(response.as_bytes());
            }
            Err(_) => thread::sleep(Duration::from_millis(50)),
        }
    }
}
