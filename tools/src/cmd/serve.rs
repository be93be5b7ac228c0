//! `tandem serve`: the media daemon for SIP proxies (rtpengine's ng protocol).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use tandem_serve::config::ServeConfig;
use tandem_serve::daemon;

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
}

fn addr(s: &str, what: &str) -> Result<SocketAddr> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    s.parse()
        .with_context(|| format!("{what}: {s:?} is not IP:PORT or a port"))
}

/// Runs `tandem serve` until the process is stopped.
pub fn run(a: Args) -> Result<()> {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let mut cfg = match &a.config {
        Some(p) => ServeConfig::load(p)?,
        None => ServeConfig::default(),
    };
    if let Some(s) = &a.listen_ng {
        cfg.listen_ng = addr(s, "--listen-ng")?;
    }
    if let Some(s) = &a.interface {
        let ip = s.rsplit('/').next().unwrap_or(s);
        cfg.interface = ip
            .parse()
            .with_context(|| format!("--interface: {s:?} is not an IP address"))?;
    }
    if let Some(v) = a.port_min {
        cfg.port_min = v;
    }
    if let Some(v) = a.port_max {
        cfg.port_max = v;
    }
    if let Some(v) = a.num_threads {
        cfg.num_threads = v;
    }
    if let Some(v) = a.recording_dir {
        cfg.recording_dir = v;
    }
    if let Some(v) = a.timeout {
        cfg.timeout = v;
    }
    if let Some(s) = &a.listen_metrics {
        cfg.listen_metrics = if s == "none" {
            None
        } else {
            Some(addr(s, "--listen-metrics")?)
        };
    }
    if let Some(d) = a.driver {
        cfg.driver = d;
    }
    if let Some(v) = a.max_sessions {
        cfg.max_sessions = v;
    }
    if let Some(v) = a.max_streams_per_call {
        cfg.max_streams_per_call = v;
    }
    if let Some(v) = a.latch_packets {
        cfg.latch_packets = v;
    }
    if let Some(v) = a.latch_idle_ms {
        cfg.latch_idle_ms = v;
    }
    cfg.validate()?;
    if !cfg.listen_ng.ip().is_loopback() {
        eprintln!(
            "tandem serve: warning: ng has no authentication and {} is not loopback",
            cfg.listen_ng
        );
    }
    let running = daemon::start(cfg.clone())?;
    eprintln!(
        "tandem serve: ng on {} (UDP and TCP), media {} ports {}-{}, metrics {}",
        running.ng_addr,
        cfg.interface,
        cfg.port_min,
        cfg.port_max,
        running
            .metrics_addr
            .map_or("off".to_string(), |m| format!("http://{m}/metrics"))
    );
    running.wait();
    bail!("daemon stopped")
}
