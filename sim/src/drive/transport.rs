//! Where drive mode's media runs: the engine plus the simulated phones' network.
//!
//! [`Net`] is what drive mode's conductor needs from a transport: an engine (any
//! [`MediaEngine`]), endpoints for the phones (addresses they send from and receive on),
//! and a clock to run to.
//! [`MemoryNet`] is the engine's in-memory driver on a virtual clock; the UDP transport is
//! in [`super::udp`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use serde::Serialize;
use tandem_engine::{MediaEngine, MemoryEngine, Micros, NetworkConditions};

use super::DriveError;

/// Counters of one engine shard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ShardFigures {
    /// Ticks run (memory transport; the threaded engine does not count them).
    pub ticks: Option<u64>,
    /// Ticks skipped because the shard was late (overruns).
    pub ticks_missed: u64,
    /// Datagrams received.
    pub datagrams_in: u64,
    /// Datagrams sent.
    pub datagrams_out: u64,
    /// CPU time of the shard's thread, s (`None` when the shard has no thread of its own,
    /// as on the memory transport).
    pub cpu_s: Option<f64>,
}

/// What the engine and the network did over a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EngineFigures {
    /// Per shard.
    pub shards: Vec<ShardFigures>,
    /// Datagrams the simulated network dropped (memory transport).
    pub network_lost: u64,
    /// Wall time spent inside the engine (commands, and on the memory transport running
    /// the shards and the network), s. On the memory transport the engine shares one
    /// thread with the phones, so this is the engine's share of the run.
    pub engine_busy_s: f64,
}

/// A transport: the engine, the phones' network and the clock.
pub trait Net {
    /// `"memory"` or `"udp"`.
    fn name(&self) -> &'static str;
    /// The engine the media runs through.
    fn engine(&mut self) -> &mut dyn MediaEngine;
    /// Opens a phone endpoint; returns its handle (a small index, reused after close).
    fn open_endpoint(&mut self) -> Result<usize, DriveError>;
    /// The address of an endpoint.
    fn endpoint_addr(&self, ep: usize) -> SocketAddr;
    /// Closes an endpoint.
    fn close_endpoint(&mut self, ep: usize);
    /// Sends a datagram from an endpoint, now.
    fn send(&mut self, ep: usize, to: SocketAddr, data: &[u8]);
    /// Runs everything up to media time `t_us` (virtual, or waits for the wall clock).
    fn run_until(&mut self, t_us: u64);
    /// Hands every datagram an endpoint has received to `f(at_us, from, bytes)`.
    fn drain(&mut self, ep: usize, f: &mut dyn FnMut(u64, SocketAddr, &[u8]));
    /// The engine's counters (its busy time: what the transport spent running it, not
    /// counting commands).
    fn figures(&self) -> EngineFigures;
    /// How far behind the media clock the transport fell at worst, µs (0 on a virtual
    /// clock).
    fn max_lag_us(&self) -> u64 {
        0
    }
}

/// The memory transport: [`MemoryEngine`] and its simulated network, on a virtual clock.
pub struct MemoryNet {
    engine: MemoryEngine,
    shards: usize,
    endpoints: Vec<Option<SocketAddr>>,
    free: Vec<usize>,
    next_addr: u64,
    busy: Duration,
}

impl MemoryNet {
    /// An engine of `shards` shards on a network with `conditions`, seeded by `seed`.
    pub fn new(shards: usize, conditions: NetworkConditions, seed: u64) -> MemoryNet {
        MemoryNet {
            engine: MemoryEngine::new(shards, conditions, seed),
            shards: shards.max(1),
            endpoints: Vec::new(),
            free: Vec::new(),
            next_addr: 0,
            busy: Duration::ZERO,
        }
    }

    fn timed<T>(&mut self, f: impl FnOnce(&mut MemoryEngine) -> T) -> T {
        let start = Instant::now();
        let out = f(&mut self.engine);
        self.busy += start.elapsed();
        out
    }
}

impl Net for MemoryNet {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn engine(&mut self) -> &mut dyn MediaEngine {
        &mut self.engine
    }

    fn open_endpoint(&mut self) -> Result<usize, DriveError> {
        // Every endpoint gets an address of its own, never reused, so a datagram still in
        // flight to a finished call cannot reach a later one: 10.1.0.0/16 × ports 20000+.
        let n = self.next_addr;
        self.next_addr += 1;
        let host = (n & 0xFFFF) as u16;
        let port = 20_000 + (n >> 16);
        if port > u64::from(u16::MAX) {
            return Err(DriveError::Invalid(
                "out of simulated endpoint addresses".into(),
            ));
        }
        let addr = SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(10, 1, (host >> 8) as u8, host as u8)),
            port as u16,
        );
        Ok(match self.free.pop() {
            Some(i) => {
                self.endpoints[i] = Some(addr);
                i
            }
            None => {
                self.endpoints.push(Some(addr));
                self.endpoints.len() - 1
            }
        })
    }

    fn endpoint_addr(&self, ep: usize) -> SocketAddr {
        self.endpoints[ep].expect("open endpoint")
    }

    fn close_endpoint(&mut self, ep: usize) {
        if let Some(addr) = self.endpoints[ep].take() {
            // Forget what is waiting for it.
            while self.engine.recv(addr).is_some() {}
            self.free.push(ep);
        }
    }

    fn send(&mut self, ep: usize, to: SocketAddr, data: &[u8]) {
        let from = self.endpoint_addr(ep);
        self.engine.send(from, to, data);
    }

    fn run_until(&mut self, t_us: u64) {
        let t = Micros::from_us(t_us);
        if t > self.engine.now() {
            self.timed(|e| e.advance_to(t));
        }
    }

    fn drain(&mut self, ep: usize, f: &mut dyn FnMut(u64, SocketAddr, &[u8])) {
        let Some(addr) = self.endpoints[ep] else {
            return;
        };
        while let Some(d) = self.engine.recv(addr) {
            f(d.at.as_us(), d.from, &d.data);
        }
    }

    fn figures(&self) -> EngineFigures {
        EngineFigures {
            shards: (0..self.shards)
                .filter_map(|i| self.engine.shard_stats(i))
                .map(|s| ShardFigures {
                    ticks: Some(s.ticks),
                    ticks_missed: s.ticks_missed,
                    datagrams_in: s.datagrams_in,
                    datagrams_out: s.datagrams_out,
                    cpu_s: None,
                })
                .collect(),
            network_lost: self.engine.lost_datagrams(),
            engine_busy_s: self.busy.as_secs_f64(),
        }
    }
}
