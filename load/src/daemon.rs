//! Relay daemons the harness starts, measures and stops itself: `tandem serve` and Debian's
//! rtpengine in userspace, each on 127.0.0.1 with an ng port and a media port range that
//! were free at start, driven over ng like a SIP proxy drives them
//! ([`NgRelay`](crate::NgRelay)).
//!
//! - **rtpengine** runs with `--table=-1` (userspace only: no kernel module, no firewall
//!   rules), `--num-threads=N` worker threads, `--foreground`, warnings only, no Redis, no
//!   delete delay.
//! - **`tandem serve`** runs with `--num-threads N` shards, warnings only (`RUST_LOG=warn`),
//!   no media timeout, a metrics address of its own (its per-shard datagram counters are
//!   read from there) and a scratch recording directory.
//!
//! The CPU time of a daemon is that of all its threads (`/proc/<pid>/task/*/schedstat`), so
//! control and timer threads count as much as the media threads. With a CPU given, every
//! thread of the daemon is pinned to it once it answers `ping`. A daemon is stopped by its
//! PID (it is this process's child), also when dropped; its log (stdout and stderr) goes to
//! a scratch file whose tail is quoted when it fails to start.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tandem_serve::client::NgClient;
use tandem_udp::procfs::{process_cpu_time_precise, process_threads};

use crate::shards::{ShardCounters, scrape_metrics, shard_counters};
use crate::timing::ShardTiming;

/// Lowest and highest media port the harness hands a daemon: below the kernel's default
/// ephemeral range (32768-60999), where the load generator's own sockets land.
const MEDIA_PORTS: (u16, u16) = (10_000, 32_767);

/// Longest wait for a daemon to answer `ping` after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Which daemon.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DaemonKind {
    /// `tandem serve`: `exe args_prefix... [serve options]` (e.g. this executable with
    /// `["serve"]`).
    Serve {
        /// The executable.
        exe: PathBuf,
        /// Arguments before the serve options (the subcommand).
        args_prefix: Vec<String>,
        /// Its UDP driver (`auto`, `mio`, `io-uring`).
        driver: String,
    },
    /// Debian's rtpengine (package `rtpengine-daemon`), userspace forwarding only.
    Rtpengine {
        /// The executable ([`find_rtpengine`] looks for it).
        exe: PathBuf,
    },
}

/// A daemon to start: which, with how many media threads, pinned where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaemonSpec {
    /// Which daemon.
    pub kind: DaemonKind,
    /// Media threads: `tandem serve`'s shards, rtpengine's worker threads.
    pub threads: usize,
    /// Pin every thread of the daemon to this CPU.
    pub cpu: Option<usize>,
}

impl DaemonSpec {
    /// The daemon's name in reports: `serve` or `rtpengine`.
    pub fn name(&self) -> &'static str {
        match self.kind {
            DaemonKind::Serve { .. } => "serve",
            DaemonKind::Rtpengine { .. } => "rtpengine",
        }
    }
}

/// The rtpengine executable: `given` if it exists, else `rtpengine` on `PATH` (or in
/// `/usr/bin`, `/usr/sbin`); or why there is none.
pub fn find_rtpengine(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = given {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(format!("{} does not exist", p.display()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join("rtpengine"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "rtpengine is not installed (Debian: apt-get install rtpengine-daemon)".to_string()
        })
}

/// A running daemon.
pub struct RelayDaemon {
    child: Option<Child>,
    name: &'static str,
    ng: SocketAddr,
    metrics: Option<SocketAddr>,
    ports: (u16, u16),
    threads: usize,
    scratch: PathBuf,
}

impl RelayDaemon {
    /// Starts `spec` with room for `calls` calls and waits until it answers `ping` (trying
    /// fresh ports up to three times, should another program take them meanwhile).
    pub fn start(spec: &DaemonSpec, calls: usize) -> io::Result<RelayDaemon> {
        let mut last = None;
        for _ in 0..3 {
            match Self::try_start(spec, calls) {
                Ok(d) => return Ok(d),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    fn try_start(spec: &DaemonSpec, calls: usize) -> io::Result<RelayDaemon> {
        static SERIAL: AtomicU32 = AtomicU32::new(0);
        let scratch = std::env::temp_dir().join(format!(
            "tandem-relay-{}-{}-{}",
            spec.name(),
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&scratch)?;
        // Once the daemon is running, stopping it removes the scratch directory; before,
        // a failure must.
        Self::launch(spec, calls, &scratch).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&scratch);
        })
    }

    fn launch(spec: &DaemonSpec, calls: usize, scratch: &Path) -> io::Result<RelayDaemon> {
        let threads = spec.threads.max(1);
        // Two legs of an RTP/RTCP pair each per call, with room for the shards' uneven
        // shares of calls.
        let ports = free_port_range(4 * calls + calls + 64)?;
        let ng = SocketAddr::new(LOCALHOST, free_ng_port()?);
        let (mut cmd, metrics) = match &spec.kind {
            DaemonKind::Serve {
                exe,
                args_prefix,
                driver,
            } => {
                let metrics = SocketAddr::new(LOCALHOST, free_tcp_port()?);
                let mut cmd = Command::new(exe);
                cmd.args(args_prefix)
                    .args(["--listen-ng", &ng.to_string()])
                    .args(["--listen-metrics", &metrics.to_string()])
                    .args(["--interface", "127.0.0.1"])
                    .args(["--port-min", &ports.0.to_string()])
                    .args(["--port-max", &ports.1.to_string()])
                    .args(["--num-threads", &threads.to_string()])
                    .args(["--driver", driver])
                    .args(["--timeout", "0"])
                    // The lab measures the userspace relay (against the raw relay and
                    // rtpengine's userspace path); the kernel path has its own bench in kfwd.
                    .args(["--kernel-forwarding", "off"])
                    .arg("--recording-dir")
                    .arg(scratch.join("recordings"))
                    .env("RUST_LOG", "warn");
                (cmd, Some(metrics))
            }
            DaemonKind::Rtpengine { exe } => {
                let mut cmd = Command::new(exe);
                cmd.args([
                    "--table=-1",
                    "--interface=127.0.0.1",
                    "--foreground",
                    "--log-stderr",
                    "--log-level=4",
                    "--no-redis-required",
                    "--delete-delay=0",
                    "--config-file=none",
                ])
                .arg(format!("--listen-ng={ng}"))
                .arg(format!("--port-min={}", ports.0))
                .arg(format!("--port-max={}", ports.1))
                .arg(format!("--num-threads={threads}"));
                (cmd, None)
            }
        };
        let log = std::fs::File::create(scratch.join("log"))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start {}: {e}", spec.name())))?;
        let mut d = RelayDaemon {
            child: Some(child),
            name: spec.name(),
            ng,
            metrics,
            ports,
            threads,
            scratch: scratch.to_path_buf(),
        };
        d.wait_for_ping()?;
        if let Some(cpu) = spec.cpu {
            d.pin(cpu)?;
        }
        Ok(d)
    }

    fn wait_for_ping(&mut self) -> io::Result<()> {
        let mut client = NgClient::new(self.ng, Duration::from_millis(100), 1)?;
        let until = Instant::now() + START_TIMEOUT;
        loop {
            if client.ping().is_ok() {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .map(|c| c.try_wait())
                .transpose()?
                .flatten();
            if exited.is_some() || Instant::now() > until {
                let why = exited.map_or("did not answer ping".to_string(), |s| {
                    format!("exited ({s})")
                });
                return Err(io::Error::other(format!(
                    "{} on ng {} {why}; its log ends: {}",
                    self.name,
                    self.ng,
                    self.log_tail()
                )));
            }
        }
    }

    /// Pins every thread of the daemon to `cpu`.
    fn pin(&self, cpu: usize) -> io::Result<()> {
        for tid in process_threads(self.pid())? {
            tandem_udp::thread::pin_task(tid, cpu)?;
        }
        Ok(())
    }

    /// The daemon's name: `serve` or `rtpengine`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Its ng address (UDP).
    pub fn ng_addr(&self) -> SocketAddr {
        self.ng
    }

    /// Its metrics address (`tandem serve`); `None` for rtpengine.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
    }

    /// Its media port range.
    pub fn port_range(&self) -> (u16, u16) {
        self.ports
    }

    /// Its media threads (shards).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// CPU time of all its threads so far.
    pub fn cpu_time(&self) -> io::Result<Duration> {
        process_cpu_time_precise(self.pid())
    }

    /// Its per-shard datagram counters (`tandem serve`'s metrics); empty for a daemon that
    /// does not report them.
    pub fn shard_counters(&self) -> io::Result<Vec<ShardCounters>> {
        match self.metrics {
            Some(addr) => shard_counters(&scrape_metrics(addr)?),
            None => Ok(Vec::new()),
        }
    }

    /// Its shards' tick-duration and dwell histograms (`tandem serve`'s metrics); `None`
    /// for rtpengine.
    pub fn timing(&self) -> io::Result<Option<ShardTiming>> {
        match self.metrics {
            Some(addr) => Ok(ShardTiming::from_metrics(&scrape_metrics(addr)?)),
            None => Ok(None),
        }
    }

    /// The shard owning `port` (`tandem serve` splits its range evenly over its shards,
    /// [`tandem_engine::shard_of_port`]); `None` for rtpengine.
    pub fn shard_of(&self, port: SocketAddr) -> Option<usize> {
        self.metrics?;
        tandem_engine::shard_of_port(self.ports.0, self.ports.1, self.threads, port.port())
    }

    /// The last lines of its log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.scratch.join("log"))
    }

    /// Stops it (by PID) and removes its scratch files.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            let _ = std::fs::remove_dir_all(&self.scratch);
        }
    }
}

impl Drop for RelayDaemon {
    fn drop(&mut self) {
        self.kill();
    }
}

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(5)..].join(" | ");
    if tail.is_empty() {
        "(empty)".into()
    } else {
        tail
    }
}

/// A port free on 127.0.0.1 for both UDP and TCP a moment ago (`tandem serve` listens
/// for ng on both).
fn free_ng_port() -> io::Result<u16> {
    for _ in 0..32 {
        let udp = UdpSocket::bind((LOCALHOST, 0))?;
        let port = udp.local_addr()?.port();
        if TcpListener::bind((LOCALHOST, port)).is_ok() {
            return Ok(port);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        "no port free for both UDP and TCP",
    ))
}

fn free_tcp_port() -> io::Result<u16> {
    Ok(TcpListener::bind((LOCALHOST, 0))?.local_addr()?.port())
}

/// `len` consecutive ports (even-aligned) in 10000–32767 that were all free for UDP on
/// 127.0.0.1 a moment ago, starting from a place that depends on this process so that
/// harnesses running side by side try different ranges first.
pub fn free_port_range(len: usize) -> io::Result<(u16, u16)> {
    let (lo, hi) = (usize::from(MEDIA_PORTS.0), usize::from(MEDIA_PORTS.1));
    let span = hi - lo + 1;
    let len = len.max(16) + len % 2;
    if len > span {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{len} media ports wanted; the harness has {span} ({lo}-{hi})"),
        ));
    }
    let windows = span / len;
    let first = std::process::id() as usize % windows;
    for w in (0..windows).map(|i| (first + i) % windows) {
        let start = lo + w * len;
        // One port at a time (holding thousands would need as many descriptors).
        if (start..start + len).all(|p| UdpSocket::bind((LOCALHOST, p as u16)).is_ok()) {
            return Ok((start as u16, (start + len - 1) as u16));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        format!("no {len} consecutive free UDP ports in {lo}-{hi}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_range_is_free_and_too_large_a_range_is_refused() {
        let (lo, hi) = free_port_range(100).unwrap();
        assert_eq!(usize::from(hi - lo) + 1, 100);
        assert!(lo >= MEDIA_PORTS.0 && hi <= MEDIA_PORTS.1);
        assert_eq!(lo % 2, 0);
        // Holding a port inside it makes the next search avoid that window.
        let _held = UdpSocket::bind((LOCALHOST, lo + 7)).unwrap();
        let (lo2, hi2) = free_port_range(100).unwrap();
        assert!(!(lo2..=hi2).contains(&(lo + 7)));
        assert!(free_port_range(40_000).is_err());
    }

    #[test]
    fn a_given_rtpengine_must_exist() {
        let e = find_rtpengine(Some(Path::new("/nonexistent/rtpengine"))).unwrap_err();
        assert!(e.contains("/nonexistent/rtpengine does not exist"), "{e}");
        assert_eq!(
            find_rtpengine(Some(Path::new("/bin/sh"))),
            Ok(PathBuf::from("/bin/sh"))
        );
    }

    #[test]
    fn a_daemon_that_cannot_start_is_a_clear_error() {
        let spec = DaemonSpec {
            kind: DaemonKind::Rtpengine {
                exe: PathBuf::from("/nonexistent/rtpengine"),
            },
            threads: 1,
            cpu: None,
        };
        let e = RelayDaemon::start(&spec, 1).err().expect("cannot start");
        assert!(e.to_string().contains("cannot start rtpengine"), "{e}");
        // A program that exits at once: its log is quoted.
        let spec = DaemonSpec {
            kind: DaemonKind::Serve {
                exe: PathBuf::from("/bin/sh"),
                args_prefix: vec![
                    "-c".into(),
                    "echo no such luck >&2; exit 4".into(),
                    "x".into(),
                ],
                driver: "mio".into(),
            },
            threads: 1,
            cpu: None,
        };
        let e = RelayDaemon::start(&spec, 1).err().expect("exits");
        let msg = e.to_string();
        assert!(
            msg.contains("exited") && msg.contains("no such luck"),
            "{msg}"
        );
        // Nothing is left behind in the scratch area.
        let id = std::process::id();
        let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("tandem-relay-") && n.contains(&format!("-{id}-")))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
