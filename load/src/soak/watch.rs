//! The daemon seen from outside at one moment: resident memory and open descriptors from
//! `/proc/<pid>`, calls, channels, port pairs and missed ticks from its metrics.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use serde::Serialize;
use tandem_serve::metrics::read::sum;

use crate::shards::scrape_metrics;

/// One look at the daemon.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Sample {
    /// Seconds since the soak began.
    pub at_s: f64,
    /// Resident memory, KiB (`VmRSS`).
    pub rss_kib: u64,
    /// Open file descriptors.
    pub fds: u64,
    /// Calls in the daemon's table.
    pub calls: f64,
    /// Live media channels, as the shards counted them.
    pub channels: f64,
    /// RTP/RTCP port pairs in use.
    pub port_pairs_in_use: f64,
    /// Ticks the shards have skipped since the daemon started.
    pub ticks_missed: f64,
}

/// Samples one daemon.
#[derive(Debug)]
pub struct Watcher {
    pid: u32,
    metrics: SocketAddr,
    t0: Instant,
}

impl Watcher {
    /// Watches the process `pid` whose metrics are at `metrics`; times count from `t0`.
    pub fn new(pid: u32, metrics: SocketAddr, t0: Instant) -> Watcher {
        Watcher { pid, metrics, t0 }
    }

    /// The metrics page now.
    pub fn scrape(&self) -> io::Result<String> {
        scrape_metrics(self.metrics)
    }

    /// A sample now.
    pub fn sample(&self) -> io::Result<Sample> {
        // Descriptors first: the scrape's own connection is closed by then.
        let (rss_kib, fds) = (rss_kib(self.pid)?, open_fds(self.pid)?);
        let text = self.scrape()?;
        let get = |name: &str| {
            sum(&text, name).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("no {name} in the metrics at {}", self.metrics),
                )
            })
        };
        Ok(Sample {
            at_s: self.t0.elapsed().as_secs_f64(),
            rss_kib,
            fds,
            calls: get("tandem_calls")?,
            channels: get("tandem_shard_channels")?,
            port_pairs_in_use: get("tandem_shard_port_pairs_in_use")?,
            ticks_missed: get("tandem_shard_ticks_missed_total")?,
        })
    }
}

/// Resident memory of process `pid`, KiB.
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no VmRSS"))
}

/// Open file descriptors of process `pid`.
pub fn open_fds(pid: u32) -> io::Result<u64> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sleep 10` run by `sh` with `extra` more descriptors open, once it is running.
    fn sleeper(extra: usize) -> std::process::Child {
        let opens: String = (0..extra)
            .map(|k| format!(" {}</dev/null", 7 + k))
            .collect();
        let child = std::process::Command::new("sh")
            .args(["-c", &format!("exec{opens} sleep 10")])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let until = Instant::now() + std::time::Duration::from_secs(10);
        let cmdline = format!("/proc/{}/cmdline", child.id());
        while !std::fs::read(&cmdline)
            .unwrap_or_default()
            .starts_with(b"sleep\0")
            && Instant::now() < until
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child
    }

    #[test]
    fn descriptors_a_process_opens_are_counted_and_it_has_memory() {
        // Both inherit whatever this process leaves open across exec; one opens 3 more.
        let (mut plain, mut more) = (sleeper(0), sleeper(3));
        assert_eq!(
            open_fds(more.id()).unwrap(),
            open_fds(plain.id()).unwrap() + 3
        );
        assert!(rss_kib(plain.id()).unwrap() > 0);
        for c in [&mut plain, &mut more] {
            c.kill().unwrap();
            c.wait().unwrap();
        }
        assert!(open_fds(u32::MAX).is_err());
    }
}
