//! `tandem serve`: the media daemon for SIP proxies (rtpengine's ng protocol).

use std::fs::{File, OpenOptions};
use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tandem_serve::config::ServeConfig;
use tandem_serve::daemon::{self, Outcome};

/// Arguments of `tandem serve`. Options use rtpengine's names.
#[derive(clap::Args)]
pub struct Args {
    /// TOML settings file; options below override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// ng control address, `IP:PORT` or a bare port on 127.0.0.1 (UDP and TCP).
    #[arg(long)]
    listen_ng: Option<String>,
    /// Media address, `IP` or rtpengine's `NAME/IP`.
    #[arg(long)]
    interface: Option<String>,
    /// Lowest media port.
    #[arg(long)]
    port_min: Option<u16>,
    /// Highest media port.
    #[arg(long)]
    port_max: Option<u16>,
    /// Media shards (threads); 0 = one per core.
    #[arg(long)]
    num_threads: Option<usize>,
    /// Recording directory.
    #[arg(long)]
    recording_dir: Option<PathBuf>,
    /// Delete calls after this many seconds without media (0: never).
    #[arg(long)]
    timeout: Option<u32>,
    /// Prometheus /metrics address (`IP:PORT`), or `none`.
    #[arg(long)]
    listen_metrics: Option<String>,
    /// UDP driver: auto (io_uring where available, else mio), mio or io-uring.
    #[arg(long)]
    driver: Option<String>,
    /// Most calls at once; an offer for a new call beyond it gets an error.
    #[arg(long)]
    max_sessions: Option<usize>,
    /// Most audio streams in one call; an offer with more gets an error.
    #[arg(long)]
    max_streams_per_call: Option<usize>,
    /// Consecutive in-order packets a new source must send before it takes over a stream.
    #[arg(long)]
    latch_packets: Option<u8>,
    /// Silence (ms) of the current source before another may take over its stream.
    #[arg(long)]
    latch_idle_ms: Option<u32>,
    /// Longest (ms) a media packet may wait for its shard; older ones are dropped and
    /// counted (0: no limit).
    #[arg(long)]
    max_queue_delay_ms: Option<u32>,
    /// Forward pass-through calls in the kernel (eBPF): auto (where the program loads),
    /// on (fail to start where it cannot) or off.
    #[arg(long)]
    kernel_forwarding: Option<String>,
    /// Refuse offers for new calls while a media shard is busy more than this percentage
    /// of the time (0: no limit).
    #[arg(long, value_name = "PERCENT")]
    max_shard_busy: Option<u32>,
    /// Refuse offers for new calls while a media shard receives more packets per second
    /// than this (0: no limit).
    #[arg(long, value_name = "PPS")]
    max_packet_rate: Option<u64>,
    /// Bytes of ng replies kept for retransmitted requests (0: no cache).
    #[arg(long)]
    reply_cache_bytes: Option<usize>,
    /// Control requests waiting to be carried out; beyond it requests get "overloaded".
    #[arg(long)]
    max_pending_requests: Option<usize>,
    /// Longest ng message, bytes.
    #[arg(long)]
    max_message_bytes: Option<usize>,
    /// Open ng TCP connections; beyond it new ones are closed at once.
    #[arg(long)]
    max_tcp_connections: Option<usize>,
    /// Connections the kernel queues for the ng TCP listener before they are accepted.
    #[arg(long)]
    tcp_backlog: Option<u32>,
    /// Seconds an ng TCP connection may stay idle.
    #[arg(long)]
    tcp_idle_timeout: Option<f64>,
    /// Seconds a partial ng message may take to arrive on TCP.
    #[arg(long)]
    tcp_read_timeout: Option<f64>,
    /// Seconds a shutdown (SIGTERM, SIGINT) may take to finish recordings and delete calls.
    #[arg(long)]
    grace: Option<f64>,
    /// Log to this file instead of stderr; SIGHUP reopens it (for log rotation).
    #[arg(long)]
    log_file: Option<PathBuf>,
    /// Skip (and log) ng keys that are in no table instead of refusing the request.
    #[arg(long)]
    ignore_unknown_keys: bool,
    /// Another directory ng `output-destination`/`recording-dir` may name (repeatable).
    #[arg(long)]
    recording_allowed_dir: Vec<PathBuf>,
}

/// The log file, reopened on SIGHUP so a rotated file is let go.
struct Reopenable(Mutex<File>);

impl std::io::Write for &Reopenable {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

type LogFile = Arc<Reopenable>;

fn open_log(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Logs to `path`, or to stderr (coloured only on a terminal).
fn init_logging(path: Option<&Path>) -> Result<Option<LogFile>> {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match path {
        Some(p) => {
            let file = open_log(p).with_context(|| format!("--log-file {}", p.display()))?;
            let file: LogFile = Arc::new(Reopenable(Mutex::new(file)));
            let _ = builder
                .with_ansi(false)
                .with_writer(file.clone())
                .try_init();
            Ok(Some(file))
        }
        None => {
            let _ = builder
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr)
                .try_init();
            Ok(None)
        }
    }
}

fn addr(s: &str, what: &str) -> Result<SocketAddr> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    s.parse()
        .with_context(|| format!("{what}: {s:?} is not IP:PORT or a port"))
}

/// Runs `tandem serve` until SIGTERM or SIGINT has drained it.
pub fn run(a: Args) -> Result<()> {
    // Caught from the start: a signal before the daemon is up still drains it.
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP]).context("signal handlers")?;
    let mut cfg = match &a.config {
        Some(p) => ServeConfig::load(p)?,
        None => ServeConfig::default(),
    };
    if let Some(s) = &a.listen_ng {
        cfg.listen_ng = addr(s, "--listen-ng")?;
    }
    if let Some(s) = &a.interface {
        let (name, ip) = match s.split_once('/') {
            Some((name, ip)) => (Some(name), ip),
            None => (None, s.as_str()),
        };
        cfg.interface = ip
            .parse()
            .with_context(|| format!("--interface: {s:?} is not IP or NAME/IP"))?;
        if let Some(name) = name {
            cfg.interface_name = name.to_string();
        }
    }
    if a.ignore_unknown_keys {
        cfg.ignore_unknown_keys = true;
    }
    cfg.recording_allowed_dirs
        .extend(a.recording_allowed_dir.iter().cloned());
    if let Some(s) = &a.listen_metrics {
        cfg.listen_metrics = if s == "none" {
            None
        } else {
            Some(addr(s, "--listen-metrics")?)
        };
    }
    // Options named as the keys they override.
    macro_rules! override_keys {
        ($($key:ident),*) => {
            $(if let Some(v) = a.$key {
                cfg.$key = v;
            })*
        };
    }
    override_keys!(
        port_min,
        port_max,
        num_threads,
        recording_dir,
        timeout,
        driver,
        reply_cache_bytes,
        max_pending_requests,
        max_message_bytes,
        max_tcp_connections,
        tcp_backlog,
        tcp_idle_timeout,
        tcp_read_timeout,
        grace,
        max_sessions,
        max_streams_per_call,
        latch_packets,
        latch_idle_ms,
        max_queue_delay_ms,
        kernel_forwarding,
        max_shard_busy,
        max_packet_rate
    );
    if let Some(v) = a.log_file {
        cfg.log_file = Some(v);
    }
    cfg.validate()?;
    let log = init_logging(cfg.log_file.as_deref())?;
    if !cfg.listen_ng.ip().is_loopback() {
        eprintln!(
            "tandem serve: warning: ng has no authentication and {} is not loopback",
            cfg.listen_ng
        );
    }
    let running = daemon::start(cfg.clone())?;
    eprintln!(
        "tandem serve: ng on {} (UDP and TCP), media {} ports {}-{}, kernel forwarding {}, metrics {}",
        running.ng_addr,
        cfg.interface,
        cfg.port_min,
        cfg.port_max,
        if running.kernel_forwarding {
            "on"
        } else {
            "off"
        },
        running
            .metrics_addr
            .map_or("off".to_string(), |m| format!("http://{m}/metrics"))
    );
    let shutdown = running.shutdown_handle();
    let log_path = cfg.log_file.clone();
    let signals_handle = signals.handle();
    let listener = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                match sig {
                    SIGHUP => reopen(log.as_ref(), log_path.as_deref()),
                    _ => {
                        tracing::info!(signal = sig, "shutdown requested");
                        shutdown.drain();
                    }
                }
            }
        })
        .context("signal thread")?;
    let outcome = running.wait();
    signals_handle.close();
    let _ = listener.join();
    match outcome {
        Outcome::Drained => {
            eprintln!("tandem serve: shut down cleanly");
            Ok(())
        }
        Outcome::GraceExpired {
            unfinished_recordings,
        } => bail!(
            "grace period of {} s ended with {unfinished_recordings} recording(s) not reported finished",
            cfg.grace
        ),
        _ => bail!("daemon stopped"),
    }
}

/// SIGHUP: reopens the log file (logrotate has moved it away).
fn reopen(log: Option<&LogFile>, path: Option<&Path>) {
    let (Some(log), Some(path)) = (log, path) else {
        return;
    };
    match open_log(path) {
        Ok(f) => {
            *log.0.lock().unwrap_or_else(|e| e.into_inner()) = f;
            tracing::info!(path = %path.display(), "log file reopened");
        }
        Err(e) => tracing::error!(path = %path.display(), error = %e, "cannot reopen the log file"),
    }
}
