//! The daemon's settings: a TOML file, overridden by command-line options that use
//! rtpengine's option names, so an operator can swap one daemon for the other.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use tandem_engine::Latching;
use thiserror::Error;

/// Why the settings are unusable.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML for these settings.
    #[error("{path}: {message}")]
    Parse {
        /// File.
        path: PathBuf,
        /// What is wrong, with its line.
        message: String,
    },
    /// A value out of range.
    #[error("{0}")]
    Invalid(String),
}

/// Settings of `tandem serve`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ServeConfig {
    /// Where ng commands arrive, on UDP and TCP (rtpengine's `--listen-ng`). Loopback by
    /// default: the protocol has no authentication.
    pub listen_ng: SocketAddr,
    /// The media address: sockets bind to it and rewritten SDP carries it (`--interface`).
    pub interface: IpAddr,
    /// The media interface's name, which ng `direction` and the `…-interface` keys must
    /// use (rtpengine's `--interface NAME/IP`; `default` without a name).
    pub interface_name: String,
    /// Lowest media port (`--port-min`).
    pub port_min: u16,
    /// Highest media port (`--port-max`).
    pub port_max: u16,
    /// Shards (`--num-threads`); 0 means one per core.
    pub num_threads: usize,
    /// Where recordings go (`--recording-dir`).
    pub recording_dir: PathBuf,
    /// Seconds without media after which a call is deleted (`--timeout`, 0: never).
    pub timeout: u32,
    /// Prometheus `/metrics` address (none: no endpoint).
    pub listen_metrics: Option<SocketAddr>,
    /// UDP driver: `auto` (io_uring where available, else mio), `mio` or `io-uring`.
    pub driver: String,
    /// Most calls at once (`--max-sessions`); an offer for a new call beyond it is refused.
    pub max_sessions: usize,
    /// Most audio streams in one call (`--max-streams-per-call`); an offer with more is
    /// refused.
    pub max_streams_per_call: usize,
    /// Consecutive in-order packets a new source must send before it takes over a stream
    /// (`--latch-packets`).
    pub latch_packets: u8,
    /// How long the current source must be silent before another may take over, ms
    /// (`--latch-idle-ms`).
    pub latch_idle_ms: u32,
    /// Bytes of ng replies kept for retransmitted requests (0: no cache).
    pub reply_cache_bytes: usize,
    /// Control requests waiting for the control thread; beyond it a request gets an
    /// "overloaded" error reply.
    pub max_pending_requests: usize,
    /// Longest ng message accepted, in bytes (TCP; a UDP datagram is at most 64 KiB).
    pub max_message_bytes: usize,
    /// Open ng TCP connections; beyond it a new connection is closed at once.
    pub max_tcp_connections: usize,
    /// Connections the kernel queues for the ng TCP listener before the daemon accepts
    /// them (`listen(2)` backlog; the kernel caps it at `net.core.somaxconn`). Many proxies
    /// reconnecting at once overflow a short queue, and a connection that overflows it
    /// waits for the kernel's retransmissions, seconds later.
    pub tcp_backlog: u32,
    /// Seconds an ng TCP connection may stay silent with nothing in flight.
    pub tcp_idle_timeout: f64,
    /// Seconds a partial ng message may take to arrive completely on TCP.
    pub tcp_read_timeout: f64,
    /// Seconds a shutdown (SIGTERM, SIGINT) may take to finish recordings and delete calls.
    pub grace: f64,
    /// Log file (reopened on SIGHUP); logs go to stderr without one.
    pub log_file: Option<PathBuf>,
    /// ng dictionary keys that no table knows are skipped (and logged) instead of refused.
    /// Refused keys and unknown flags are always refused.
    pub ignore_unknown_keys: bool,
    /// Directories besides `recording-dir` that ng `output-destination` and
    /// `recording-dir` may name.
    pub recording_allowed_dirs: Vec<PathBuf>,
    /// Longest a received media packet may wait for its shard (from its arrival at the
    /// host), in ms; older ones are dropped and counted, so an overloaded daemon sheds
    /// stale audio instead of relaying it late. 0: no limit.
    pub max_queue_delay_ms: u32,
    /// Forward pass-through calls in the kernel (`--kernel-forwarding`): `auto` where the
    /// eBPF program loads (else userspace, with the reason logged), `on` (start fails
    /// with the reason where it cannot), `off`.
    pub kernel_forwarding: String,
    /// Highest busy percentage of a media shard (time its thread works rather than waits,
    /// smoothed over the last seconds) at which offers for new calls are still taken; above
    /// it they are refused, as rtpengine's `max-cpu` does with the process's CPU. 0: no
    /// limit.
    pub max_shard_busy: u32,
    /// Highest rate of media packets a shard receives, per second (smoothed), at which
    /// offers for new calls are still taken; above it they are refused (rtpengine's
    /// `max-bandwidth` limits bytes per second instead). 0: no limit.
    pub max_packet_rate: u64,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen_ng: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 2223),
            interface: IpAddr::V4(Ipv4Addr::LOCALHOST),
            interface_name: "default".into(),
            port_min: 30_000,
            port_max: 40_000,
            num_threads: 0,
            recording_dir: std::env::temp_dir().join("tandem-recordings"),
            timeout: 60,
            listen_metrics: Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9103)),
            driver: "auto".into(),
            max_sessions: 10_000,
            max_streams_per_call: 16,
            latch_packets: Latching::default().packets,
            latch_idle_ms: Latching::default().idle_ms,
            reply_cache_bytes: 4 << 20,
            max_pending_requests: 1024,
            max_message_bytes: 1 << 20,
            max_tcp_connections: 256,
            tcp_backlog: 1024,
            tcp_idle_timeout: 60.0,
            tcp_read_timeout: 5.0,
            grace: 5.0,
            log_file: None,
            ignore_unknown_keys: false,
            recording_allowed_dirs: Vec::new(),
            max_queue_delay_ms: 100,
            kernel_forwarding: "auto".into(),
            max_shard_busy: 0,
            max_packet_rate: 0,
        }
    }
}

impl ServeConfig {
    /// Reads a TOML file (every key optional).
    pub fn load(path: &Path) -> Result<ServeConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let cfg: ServeConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.into(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// When a new source may take over a stream.
    pub fn latching(&self) -> Latching {
        Latching {
            packets: self.latch_packets,
            idle_ms: self.latch_idle_ms,
        }
    }

    /// Checks ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let name_ok = !self.interface_name.is_empty()
            && self.interface_name.len() <= 64
            && !self.interface_name.contains(['/', ' ']);
        if !name_ok {
            return Err(ConfigError::Invalid(format!(
                "interface-name {:?}: use 1 to 64 characters without '/' or spaces",
                self.interface_name
            )));
        }
        if self.port_min >= self.port_max {
            return Err(ConfigError::Invalid(format!(
                "port-min {} must be below port-max {}",
                self.port_min, self.port_max
            )));
        }
        if self.driver.parse::<tandem_engine::DriverKind>().is_err() {
            return Err(ConfigError::Invalid(format!(
                "driver {:?}: use auto, mio or io-uring",
                self.driver
            )));
        }
        if self
            .kernel_forwarding
            .parse::<tandem_engine::KernelForwarding>()
            .is_err()
        {
            return Err(ConfigError::Invalid(format!(
                "kernel-forwarding {:?}: use auto, on or off",
                self.kernel_forwarding
            )));
        }
        for (name, v, min) in [
            ("tcp-idle-timeout", self.tcp_idle_timeout, 0.001),
            ("tcp-read-timeout", self.tcp_read_timeout, 0.001),
            ("grace", self.grace, 0.0),
        ] {
            if !(v.is_finite() && (min..=86_400.0).contains(&v)) {
                return Err(ConfigError::Invalid(format!(
                    "{name} {v}: use seconds between {min} and 86400"
                )));
            }
        }
        for (name, v, min, max) in [
            (
                "max-pending-requests",
                self.max_pending_requests,
                1,
                1 << 20,
            ),
            ("max-tcp-connections", self.max_tcp_connections, 1, 1 << 16),
            ("tcp-backlog", self.tcp_backlog as usize, 1, 65_535),
            (
                "max-message-bytes",
                self.max_message_bytes,
                1 << 10,
                64 << 20,
            ),
            ("reply-cache-bytes", self.reply_cache_bytes, 0, 1 << 34),
            ("max-sessions", self.max_sessions, 1, 1_000_000),
            ("max-streams-per-call", self.max_streams_per_call, 1, 1_000),
            ("latch-packets", usize::from(self.latch_packets), 1, 100),
            ("latch-idle-ms", self.latch_idle_ms as usize, 20, 60_000),
            (
                "max-queue-delay-ms",
                self.max_queue_delay_ms as usize,
                0,
                60_000,
            ),
            ("max-shard-busy", self.max_shard_busy as usize, 0, 100),
            (
                "max-packet-rate",
                usize::try_from(self.max_packet_rate).unwrap_or(usize::MAX),
                0,
                100_000_000,
            ),
        ] {
            if !(min..=max).contains(&v) {
                return Err(ConfigError::Invalid(format!(
                    "{name} {v}: use {min} to {max}"
                )));
            }
        }
        Ok(())
    }

    /// The engine's queueing-delay limit (`None`: no limit).
    pub fn max_queue_delay(&self) -> Option<Duration> {
        (self.max_queue_delay_ms > 0)
            .then(|| Duration::from_millis(u64::from(self.max_queue_delay_ms)))
    }

    /// The engine's admission limits (`max-shard-busy`, `max-packet-rate`).
    pub fn admission(&self) -> tandem_engine::AdmissionLimits {
        let mut limits = tandem_engine::AdmissionLimits::none();
        if self.max_shard_busy > 0 {
            limits = limits.max_busy(f64::from(self.max_shard_busy) / 100.0);
        }
        if self.max_packet_rate > 0 {
            limits = limits.max_packet_rate(self.max_packet_rate as f64);
        }
        limits
    }

    /// A number of seconds from these settings as a duration.
    pub fn seconds(v: f64) -> Duration {
        Duration::from_secs_f64(v.max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_use_rtpengine_names_and_reject_typos() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("serve.toml");
        std::fs::write(
            &p,
            "listen-ng = \"127.0.0.1:22222\"\nport-min = 20000\nport-max = 20999\ntimeout = 30\n",
        )
        .unwrap();
        let c = ServeConfig::load(&p).unwrap();
        assert_eq!(c.listen_ng.port(), 22222);
        assert_eq!((c.port_min, c.port_max, c.timeout), (20000, 20999, 30));
        std::fs::write(&p, "port-mni = 3\n").unwrap();
        let e = ServeConfig::load(&p).unwrap_err().to_string();
        assert!(e.contains("port-mni"), "{e}");
        std::fs::write(&p, "port-min = 5000\nport-max = 4000\n").unwrap();
        assert!(ServeConfig::load(&p).is_err());
        std::fs::write(&p, "max-sessions = 500\nmax-streams-per-call = 4\n").unwrap();
        let c = ServeConfig::load(&p).unwrap();
        assert_eq!((c.max_sessions, c.max_streams_per_call), (500, 4));
        std::fs::write(&p, "max-streams-per-call = 0\n").unwrap();
        let e = ServeConfig::load(&p).unwrap_err().to_string();
        assert!(e.contains("max-streams-per-call"), "{e}");
        std::fs::write(
            &p,
            "reply-cache-bytes = 1000\nmax-tcp-connections = 8\ngrace = 2\ntcp-read-timeout = 0.5\nlog-file = \"/tmp/x.log\"\ntcp-backlog = 4096\n",
        )
        .unwrap();
        let c = ServeConfig::load(&p).unwrap();
        assert_eq!((c.reply_cache_bytes, c.max_tcp_connections), (1000, 8));
        assert_eq!(c.tcp_backlog, 4096);
        assert_eq!((c.grace, c.tcp_read_timeout), (2.0, 0.5));
        assert_eq!(
            ServeConfig::default().max_queue_delay(),
            Some(Duration::from_millis(100))
        );
        assert_eq!(c.log_file, Some(PathBuf::from("/tmp/x.log")));
        assert_eq!(c.kernel_forwarding, "auto");
        std::fs::write(&p, "kernel-forwarding = \"off\"\n").unwrap();
        assert_eq!(ServeConfig::load(&p).unwrap().kernel_forwarding, "off");
        assert_eq!(c.admission(), tandem_engine::AdmissionLimits::none());
        std::fs::write(&p, "max-shard-busy = 80\nmax-packet-rate = 20000\n").unwrap();
        let c = ServeConfig::load(&p).unwrap();
        let limits = c.admission();
        assert_eq!(limits.max_busy, Some(0.8));
        assert_eq!(limits.max_packet_rate, Some(20_000.0));
        for bad in [
            "kernel-forwarding = \"yes\"",
            "tcp-idle-timeout = 0",
            "grace = -1",
            "max-pending-requests = 0",
            "max-message-bytes = 10",
            "tcp-backlog = 0",
            "max-shard-busy = 101",
        ] {
            std::fs::write(&p, bad).unwrap();
            let e = ServeConfig::load(&p).unwrap_err().to_string();
            assert!(e.contains(bad.split(' ').next().unwrap()), "{e}");
        }
    }
}
