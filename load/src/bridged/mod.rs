//! The two-party load generator: both endpoints of every call, on one or more threads.
//!
//! For each call it owns two connected, non-blocking UDP sockets (endpoint a → the relay's
//! port A, endpoint b → port B), so a call carries two streams of 50 packets/s: a→b and b→a.
//! Stream `j` is sent from socket `j` and must come back on socket `j ^ 1`. With several
//! threads, each runs a [`worker`] over whole calls and the figures are merged.
//!
//! A run has three phases:
//! 1. **Priming**: every endpoint of a call not yet primed sends a priming packet each period
//!    until both endpoints of every call have received one (so the relay has latched both
//!    addresses), or until `prime_timeout`. Priming packets are not counted.
//! 2. **Load**: for `duration`, each stream sends one 172-byte PCMU packet per period, phases
//!    spread evenly over the period ([`Pacer`](crate::pacer::Pacer)). Each payload is a
//!    [`probe`](crate::probe): the stream, a sequence number and the `CLOCK_MONOTONIC` send
//!    time.
//! 3. **Drain**: `drain` more time to receive what is still in flight; later packets are lost.
//!
//! The loop does not sleep in `epoll_wait`: it sends what is due, drains every readable socket
//! with a zero-timeout poll (`recvmmsg` per socket, with the kernel's receive time stamps),
//! then sleeps on a timer until the next send is due (at least one `tick`, 50 µs). Arriving
//! packets therefore never wake it — a cross-CPU wake-up per packet would cost the relay and
//! the generator more than the packet itself, especially in a VM — and sends stay within
//! about a tick of schedule.
//!
//! Latency is the kernel's receive time stamp (`SO_TIMESTAMPNS`, taken when the relay's send
//! reaches the loopback device, converted to `CLOCK_MONOTONIC`) minus the send time written
//! just before `send`. It is the relay's added delay plus the loopback's own cost (which the
//! raw baseline shows), and excludes how long the generator takes to get round to reading.
//! Nothing allocates per packet.
//!
//! Sockets are connected, so datagrams from any address but the relay port they sent to are
//! dropped by the kernel: a relay that answers from another port (not symmetric RTP) shows as
//! loss.

mod config;
pub mod worker;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsFd;

use mio::net::UdpSocket;
use tandem_udp::{enable_rx_timestamps, raise_open_files_limit};

use crate::probe::MAX_STREAM;
use crate::target::CallTarget;
use worker::{Tally, run_worker};

pub use config::{LoadGenConfig, LoadReport};

/// A load generator with its endpoint sockets bound and connected, ready to [`run`](Self::run).
pub struct LoadGen {
    sockets: Vec<UdpSocket>,
    config: LoadGenConfig,
}

/// Runs a load generator against `targets` on the calling thread.
pub fn run_load(targets: &[CallTarget], config: LoadGenConfig) -> io::Result<LoadReport> {
    LoadGen::new(targets, config)?.run()
}

impl LoadGen {
    /// Binds and connects two endpoint sockets per call.
    pub fn new(targets: &[CallTarget], config: LoadGenConfig) -> io::Result<LoadGen> {
        raise_open_files_limit(2 * targets.len() as u64 + 256)?;
        let sockets = targets
            .iter()
            .flat_map(|t| [t.a_port, t.b_port])
            .map(|remote| {
                let local = config.bind.unwrap_or(match remote {
                    SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                });
                std::net::UdpSocket::bind(SocketAddr::new(local, 0))
            })
            .collect::<io::Result<Vec<_>>>()?;
        LoadGen::with_sockets(sockets, targets, config)
    }

    /// Uses sockets the caller bound already — two per call, endpoint a then endpoint b, in
    /// call order — for a relay that must be told the endpoints' addresses before it hands
    /// out its ports (a control protocol's offer/answer). Connects them to `targets`.
    pub fn with_sockets(
        sockets: Vec<std::net::UdpSocket>,
        targets: &[CallTarget],
        config: LoadGenConfig,
    ) -> io::Result<LoadGen> {
        if config.period.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the send period must be positive",
            ));
        }
        // Two streams per call, stream ids 0..=MAX_STREAM.
        let max_calls = (MAX_STREAM as usize).div_ceil(2);
        if targets.len() > max_calls {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("at most {max_calls} calls per run (the probe's stream id has 21 bits)"),
            ));
        }
        if sockets.len() != 2 * targets.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} sockets for {} calls (two per call needed)",
                    sockets.len(),
                    targets.len()
                ),
            ));
        }
        let remotes = targets.iter().flat_map(|t| [t.a_port, t.b_port]);
        let sockets = sockets
            .into_iter()
            .zip(remotes)
            .map(|(s, remote)| {
                s.connect(remote)?;
                s.set_nonblocking(true)?;
                enable_rx_timestamps(s.as_fd())?;
                Ok(UdpSocket::from_std(s))
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok(LoadGen { sockets, config })
    }

    /// Primes, sends for the configured duration, drains, and reports.
    pub fn run(mut self) -> io::Result<LoadReport> {
        let config = &self.config;
        let calls = self.sockets.len() / 2;
        let threads = config.threads.clamp(1, calls.max(1));
        let cpu_of =
            |i: usize| (!config.cpus.is_empty()).then(|| config.cpus[i % config.cpus.len()]);
        let tallies = if threads == 1 {
            vec![run_worker(&mut self.sockets, 0, config, cpu_of(0))?]
        } else {
            // Whole calls per thread, the remainder spread over the first threads.
            let mut chunks = Vec::with_capacity(threads);
            let mut rest = &mut self.sockets[..];
            let mut base = 0;
            for i in 0..threads {
                let n = 2 * (calls / threads + usize::from(i < calls % threads));
                let (chunk, tail) = rest.split_at_mut(n);
                chunks.push((base, chunk));
                base += n;
                rest = tail;
            }
            std::thread::scope(|scope| {
                let handles: Vec<_> = chunks
                    .into_iter()
                    .enumerate()
                    .map(|(i, (base, chunk))| {
                        scope.spawn(move || run_worker(chunk, base, config, cpu_of(i)))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .map_err(|_| io::Error::other("load generator thread panicked"))?
                    })
                    .collect::<io::Result<Vec<Tally>>>()
            })?
        };
        let mut total = tallies[0].clone();
        for t in &tallies[1..] {
            total.merge(t);
        }
        let period_ns = config.period.as_nanos();
        let rounds = config.duration.as_nanos().div_ceil(period_ns);
        Ok(total.report(rounds as f64 * config.period.as_secs_f64()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    /// Cross-wired calls: endpoint a of one call and endpoint b of another share a relay call,
    /// so every packet arrives on the wrong call's socket and must count as misrouted, not
    /// as received.
    #[test]
    fn cross_talk_is_detected() {
        let relay = crate::RawRelay::start(2, IpAddr::V4(Ipv4Addr::LOCALHOST)).unwrap();
        let t = relay.targets();
        let crossed = [
            CallTarget {
                a_port: t[0].a_port,
                b_port: t[1].b_port,
            },
            CallTarget {
                a_port: t[1].a_port,
                b_port: t[0].b_port,
            },
        ];
        let config = LoadGenConfig {
            duration: Duration::from_millis(200),
            prime_timeout: Duration::from_millis(100),
            ..LoadGenConfig::default()
        };
        let r = run_load(&crossed, config).unwrap();
        assert_eq!(r.unprimed_calls, 2);
        assert_eq!(r.sent, 4 * 10);
        assert_eq!(r.received, 0);
        assert_eq!(r.lost, r.sent);
        assert!(r.misrouted >= r.sent, "{r:?}");
        relay.stop().unwrap();
    }

    /// Several threads: all calls carried, figures merged.
    #[test]
    fn threads_share_the_calls() {
        let relay = crate::RawRelay::start(5, IpAddr::V4(Ipv4Addr::LOCALHOST)).unwrap();
        let config = LoadGenConfig {
            duration: Duration::from_millis(200),
            threads: 2,
            cpus: vec![0, 1],
            ..LoadGenConfig::default()
        };
        let r = run_load(&relay.targets(), config).unwrap();
        assert_eq!((r.calls, r.sent), (5, 5 * 2 * 10));
        assert_eq!((r.received, r.lost, r.misrouted), (r.sent, 0, 0), "{r:?}");
        assert!(r.latency_p50_us > 0.0);
        relay.stop().unwrap();
    }

    #[test]
    fn no_relay_means_total_loss() {
        // Ports nobody relays on: bound sockets that never answer.
        let sinks: Vec<std::net::UdpSocket> = (0..4)
            .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
            .collect();
        let targets = [
            CallTarget {
                a_port: sinks[0].local_addr().unwrap(),
                b_port: sinks[1].local_addr().unwrap(),
            },
            CallTarget {
                a_port: sinks[2].local_addr().unwrap(),
                b_port: sinks[3].local_addr().unwrap(),
            },
        ];
        let config = LoadGenConfig {
            duration: Duration::from_millis(100),
            drain: Duration::from_millis(20),
            prime_timeout: Duration::from_millis(50),
            ..LoadGenConfig::default()
        };
        let r = run_load(&targets, config).unwrap();
        assert_eq!(r.unprimed_calls, 2);
        assert_eq!(r.sent, 4 * 5);
        assert_eq!((r.received, r.lost, r.loss_ratio), (0, 20, 1.0));
        assert_eq!(r.latency_p50_us, 0.0);
    }
}
