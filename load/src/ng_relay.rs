//! A relay daemon driven over ng as a [`Relay`]: per load level a fresh daemon
//! ([`RelayDaemon`]), per call an `offer` and an `answer` naming the generator's endpoints
//! (with `tandem_serve::client`, exactly as a SIP proxy would), `delete` for every call at
//! the end, then the daemon is stopped.
//!
//! Packets forwarded are the daemon's own count: `tandem serve`'s per-shard
//! `datagrams_out` counters from its metrics (which also count the RTCP reports it sends
//! itself, about 0.2% of the packets of a 5 s level), and for rtpengine the RTP
//! packets its `query` replies count per call (`totals.RTP.packets`).

use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tandem_serve::client::NgClient;

use crate::daemon::{DaemonSpec, RelayDaemon};
use crate::relay::Relay;
use crate::shards::ShardCounters;
use crate::target::CallTarget;
use crate::timing::ShardTiming;

/// A relay daemon with `calls` calls to set up over ng.
pub struct NgRelay {
    daemon: RelayDaemon,
    client: RefCell<NgClient>,
    calls: usize,
    ip: IpAddr,
    call_ids: Vec<String>,
    targets: Vec<CallTarget>,
}

impl NgRelay {
    /// Starts the daemon of `spec` with room for `calls` calls; the calls are set up when
    /// the endpoints are known ([`Relay::connect`]).
    pub fn start(spec: &DaemonSpec, calls: usize) -> io::Result<NgRelay> {
        let daemon = RelayDaemon::start(spec, calls)?;
        let client = NgClient::new(daemon.ng_addr(), Duration::from_secs(1), 3)?;
        let ip = client.local_ip()?;
        static SERIAL: AtomicU32 = AtomicU32::new(0);
        let run = SERIAL.fetch_add(1, Ordering::Relaxed);
        let call_ids = (0..calls)
            .map(|i| format!("tandem-bench-{}-{run}-{i}", std::process::id()))
            .collect();
        Ok(NgRelay {
            daemon,
            client: RefCell::new(client),
            calls,
            ip,
            call_ids,
            targets: Vec::new(),
        })
    }

    /// The daemon.
    pub fn daemon(&self) -> &RelayDaemon {
        &self.daemon
    }

    /// Deletes the calls set up so far; the first failure, if any.
    fn delete_all(&self) -> io::Result<()> {
        let mut client = self.client.borrow_mut();
        let mut first = None;
        for id in &self.call_ids[..self.targets.len()] {
            if let Err(e) = client.delete(id) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), |e| Err(io::Error::other(e)))
    }
}

impl Relay for NgRelay {
    fn name(&self) -> &str {
        self.daemon.name()
    }

    fn targets(&self) -> Vec<CallTarget> {
        self.targets.clone()
    }

    fn endpoints_needed(&self) -> Option<(usize, IpAddr)> {
        Some((self.calls, self.ip))
    }

    fn connect(&mut self, endpoints: &[CallTarget]) -> io::Result<()> {
        if endpoints.len() != self.calls {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} endpoint pairs for {} calls",
                    endpoints.len(),
                    self.calls
                ),
            ));
        }
        for (id, e) in self.call_ids.iter().zip(endpoints) {
            let set_up = self
                .client
                .get_mut()
                .setup_call(id, e.a_port, e.b_port)
                .map_err(|err| {
                    io::Error::other(format!(
                        "{}: setting up call {id}: {err}",
                        self.daemon.name()
                    ))
                });
            match set_up {
                Ok(p) => self.targets.push(CallTarget {
                    a_port: p.a_port,
                    b_port: p.b_port,
                }),
                Err(err) => {
                    // The offer may have created the call: it is deleted with the others.
                    self.targets.push(*e);
                    let _ = self.delete_all();
                    self.targets.clear();
                    return Err(err);
                }
            }
        }
        Ok(())
    }

    fn cpu_time(&self) -> io::Result<Duration> {
        self.daemon.cpu_time()
    }

    fn packets_relayed(&self) -> u64 {
        let counted = match self.daemon.shard_counters() {
            Ok(shards) if !shards.is_empty() => Ok(shards.iter().map(|s| s.datagrams_out).sum()),
            Ok(_) => {
                let mut client = self.client.borrow_mut();
                self.call_ids[..self.targets.len()]
                    .iter()
                    .map(|id| client.query_packets(id).map(Option::unwrap_or_default))
                    .sum::<Result<u64, _>>()
                    .map_err(io::Error::other)
            }
            Err(e) => Err(e),
        };
        counted.unwrap_or_else(|e| {
            eprintln!("{}: no packet count: {e}", self.daemon.name());
            0
        })
    }

    fn shard_counters(&self) -> io::Result<Vec<ShardCounters>> {
        self.daemon.shard_counters()
    }

    fn timing(&self) -> io::Result<Option<ShardTiming>> {
        self.daemon.timing()
    }

    fn shard_of(&self, port: SocketAddr) -> Option<usize> {
        self.daemon.shard_of(port)
    }

    fn stop(self: Box<Self>) {
        if let Err(e) = self.delete_all() {
            eprintln!("{}: deleting the calls: {e}", self.daemon.name());
        }
        let NgRelay { daemon, .. } = *self;
        daemon.stop();
    }
}
