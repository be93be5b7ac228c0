//! The in-memory driver: shards on a simulated network with a virtual clock.
//!
//! Endpoints outside the engine (test peers, the simulator's callers and agents) are plain
//! socket addresses. Every datagram, in either direction, crosses a link with configurable
//! delay, jitter, loss and reordering, drawn from a seeded generator, so a run is a pure
//! function of its inputs and seed and runs as fast as the machine allows.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::command::{Command, TapTarget};
use crate::error::EngineError;
use crate::event::Event;
use crate::ids::{ChannelId, GroupKey, RoomId};
use crate::ports::{self, MediaAddresses, OwnSockets, PortAllocator};
use crate::room::RoomOptions;
use crate::shard::{Shard, ShardConfig, ShardStats};
use crate::spec::ChannelSpec;
use crate::stats::ChannelStats;
use crate::tap::writer::TapWriter;
use crate::tap::{TapId, TapSpec};

/// Impairments of the simulated network, applied independently to every datagram.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetworkConditions {
    /// Fixed one-way delay, microseconds.
    pub delay_us: u64,
    /// Extra delay drawn uniformly from `0..=jitter_us`.
    pub jitter_us: u64,
    /// Probability a datagram is lost.
    pub loss: f64,
}

impl Default for NetworkConditions {
    fn default() -> Self {
        NetworkConditions {
            delay_us: 1_000,
            jitter_us: 0,
            loss: 0.0,
        }
    }
}

/// A created channel: its id and the address peers send to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelInfo {
    /// Id for later commands.
    pub id: ChannelId,
    /// Local RTP address (RTCP is on the next port unless muxed).
    pub local: SocketAddr,
}

/// A datagram delivered to an outside endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// Virtual arrival time, microseconds.
    pub at_us: u64,
    /// Sender.
    pub from: SocketAddr,
    /// Bytes.
    pub data: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at_us: u64,
    serial: u64,
    from: SocketAddr,
    to: SocketAddr,
    data: Vec<u8>,
}

/// The engine's shards on a simulated network.
pub struct MemoryEngine {
    now_us: u64,
    ip: IpAddr,
    own: OwnSockets,
    shards: Vec<Shard>,
    ports: Vec<PortAllocator>,
    next_serial: u64,
    net: Network,
    mailboxes: HashMap<SocketAddr, VecDeque<Delivered>>,
    events: VecDeque<Event>,
    taps: TapWriter,
    tap_events: Vec<Event>,
}

/// The links: impairments and datagrams in flight.
struct Network {
    conditions: NetworkConditions,
    rng: SmallRng,
    flights: BinaryHeap<Reverse<InFlight>>,
    serial: u64,
    lost: u64,
}

impl Network {
    fn launch(&mut self, now_us: u64, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        let c = self.conditions;
        if c.loss > 0.0 && self.rng.random::<f64>() < c.loss {
            self.lost += 1;
            return;
        }
        let jitter = if c.jitter_us > 0 {
            self.rng.random_range(0..=c.jitter_us)
        } else {
            0
        };
        self.serial += 1;
        self.flights.push(Reverse(InFlight {
            at_us: now_us + c.delay_us + jitter,
            serial: self.serial,
            from,
            to,
            data: data.to_vec(),
        }));
    }
}

impl MemoryEngine {
    /// `shards` shards at address 10.0.0.1 with ports 10000–59999, on a network with the
    /// given conditions. The same seed gives the same run.
    pub fn new(shards: usize, conditions: NetworkConditions, seed: u64) -> MemoryEngine {
        let shards = shards.max(1);
        let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let own = OwnSockets::new(MediaAddresses {
            ip,
            port_min: 10_000,
            port_max: 59_999,
        });
        MemoryEngine {
            now_us: 0,
            ip,
            own: own.clone(),
            shards: (0..shards)
                .map(|i| {
                    let cfg = ShardConfig {
                        own: Some(own.clone()),
                        ..ShardConfig::new(i, seed)
                    };
                    Shard::new(cfg, 0)
                })
                .collect(),
            ports: ports::split(10_000, 59_999, shards).expect("a wide range splits"),
            next_serial: 1,
            net: Network {
                conditions,
                rng: SmallRng::seed_from_u64(seed.rotate_left(17) ^ 0x6E65_7477_6F72_6B21),
                flights: BinaryHeap::new(),
                serial: 0,
                lost: 0,
            },
            mailboxes: HashMap::new(),
            events: VecDeque::new(),
            taps: TapWriter::new(),
            tap_events: Vec::new(),
        }
    }

    /// The virtual time, microseconds.
    pub fn now_us(&self) -> u64 {
        self.now_us
    }

    /// The engine's address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// The engine's address and port range.
    pub fn media_addresses(&self) -> MediaAddresses {
        self.own.addresses()
    }

    /// Whether `addr` reaches a port the engine holds now.
    pub fn holds(&self, addr: SocketAddr) -> bool {
        self.own.contains(addr)
    }

    /// Changes the network conditions for datagrams sent from now on.
    pub fn set_conditions(&mut self, conditions: NetworkConditions) {
        self.net.conditions = conditions;
    }

    /// Datagrams the network dropped.
    pub fn lost_datagrams(&self) -> u64 {
        self.net.lost
    }

    /// Creates a channel on the shard of `group`.
    pub fn create_channel(
        &mut self,
        group: GroupKey,
        spec: ChannelSpec,
    ) -> Result<ChannelInfo, EngineError> {
        if let Some(r) = spec.remote.filter(|&r| self.own.contains(r)) {
            return Err(EngineError::Config(format!(
                "remote {r} is one of the engine's own media addresses (a loop)"
            )));
        }
        let shard = group.shard(self.shards.len());
        let port = self.ports[shard]
            .allocate()
            .ok_or(EngineError::NoFreePort(shard))?;
        let id = ChannelId::new(shard as u16, self.next_serial);
        self.next_serial += 1;
        self.own.hold(port);
        if spec.rtcp == crate::spec::RtcpMode::Companion {
            self.own.hold(port + 1);
        }
        self.shards[shard].handle_command(
            self.now_us,
            Command::CreateChannel {
                channel: id,
                port,
                spec,
            },
        );
        self.collect(shard);
        Ok(ChannelInfo {
            id,
            local: SocketAddr::new(self.ip, port),
        })
    }

    /// Creates an empty conference room on the shard of `group` (put the participants'
    /// channels in the same group).
    pub fn create_room(
        &mut self,
        group: GroupKey,
        options: RoomOptions,
    ) -> Result<RoomId, EngineError> {
        let shard = group.shard(self.shards.len());
        let room = RoomId::new(shard as u16, self.next_serial);
        self.next_serial += 1;
        self.shards[shard].handle_command(self.now_us, Command::CreateRoom { room, options });
        self.collect(shard);
        Ok(room)
    }

    /// Applies a command now.
    pub fn command(&mut self, cmd: Command) -> Result<(), EngineError> {
        cmd.same_shard().map_err(EngineError::DifferentShards)?;
        let shard = cmd.shard();
        let Some(s) = self.shards.get_mut(shard) else {
            return Err(EngineError::Config(format!("no shard {shard}")));
        };
        s.handle_command(self.now_us, cmd);
        self.collect(shard);
        Ok(())
    }

    /// Sends a datagram from an outside endpoint at the current time.
    pub fn send(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        self.net.launch(self.now_us, from, to, data);
    }

    /// Runs the network and the shards up to `t_us` (inclusive), in time order.
    pub fn advance_to(&mut self, t_us: u64) {
        loop {
            let next_flight = self
                .net
                .flights
                .peek()
                .map(|f| f.0.at_us)
                .unwrap_or(u64::MAX);
            let next_tick = self
                .shards
                .iter()
                .map(Shard::next_deadline)
                .min()
                .unwrap_or(u64::MAX);
            let next = next_flight.min(next_tick);
            if next > t_us {
                break;
            }
            self.now_us = self.now_us.max(next);
            if next_flight <= next_tick {
                let Reverse(f) = self.net.flights.pop().expect("peeked");
                self.deliver(f);
            } else {
                for i in 0..self.shards.len() {
                    if self.shards[i].next_deadline() <= self.now_us {
                        self.shards[i].tick(self.now_us);
                        self.collect(i);
                    }
                }
                self.pump_taps();
            }
        }
        self.now_us = self.now_us.max(t_us);
    }

    fn deliver(&mut self, f: InFlight) {
        if f.to.ip() == self.ip {
            // Every shard knows only its own ports; the port map says which.
            let shard = self.ports.iter().position(|p| p.contains(f.to.port()));
            if let Some(i) = shard {
                self.shards[i].handle_datagram(self.now_us, f.to.port(), f.from, &f.data);
                self.collect(i);
            }
            return;
        }
        self.mailboxes
            .entry(f.to)
            .or_default()
            .push_back(Delivered {
                at_us: f.at_us,
                from: f.from,
                data: f.data,
            });
    }

    /// Moves a shard's output onto the network and its events into the queue.
    fn collect(&mut self, i: usize) {
        let shard = &mut self.shards[i];
        for t in shard.transmits() {
            self.net.launch(
                self.now_us,
                SocketAddr::new(self.ip, t.local_port),
                t.dest,
                t.payload,
            );
        }
        shard.clear_transmits();
        while let Some(e) = shard.poll_event() {
            self.events.push_back(e);
        }
        for port in shard.drain_released_ports() {
            self.ports[i].release(port);
            self.own.release(port);
        }
        for h in shard.drain_tap_handoffs() {
            self.taps.add(h, &mut self.tap_events);
        }
        self.events.extend(self.tap_events.drain(..));
    }

    /// Writes what the taps produced. Recordings are written synchronously, once per tick
    /// (when their frames are made), so a run stays a function of its inputs.
    fn pump_taps(&mut self) {
        if !self.taps.is_empty() {
            self.taps.pump(&mut self.tap_events);
            self.events.extend(self.tap_events.drain(..));
        }
    }

    /// Starts recording `target` into `spec.path`.
    pub fn start_tap(&mut self, target: TapTarget, spec: TapSpec) -> Result<TapId, EngineError> {
        let shard = match target {
            TapTarget::Channel(c) => c.shard(),
            TapTarget::Room(r) => r.shard(),
        };
        let tap = TapId::new(shard as u16, self.next_serial);
        self.next_serial += 1;
        self.command(Command::StartTap { tap, target, spec })?;
        Ok(tap)
    }

    /// The next datagram delivered to `endpoint`.
    pub fn recv(&mut self, endpoint: SocketAddr) -> Option<Delivered> {
        self.mailboxes.get_mut(&endpoint)?.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// A channel's counters.
    pub fn channel_stats(&self, id: ChannelId) -> Option<ChannelStats> {
        self.shards.get(id.shard())?.channel_stats(id)
    }

    /// The counters of `channels` that exist, in the order given (the same call as
    /// [`Engine::read_stats`](crate::Engine::read_stats); here a direct read).
    pub fn read_stats(
        &self,
        channels: &[ChannelId],
    ) -> Result<Vec<(ChannelId, ChannelStats)>, EngineError> {
        Ok(channels
            .iter()
            .filter_map(|&c| self.channel_stats(c).map(|s| (c, s)))
            .collect())
    }

    /// A shard's counters.
    pub fn shard_stats(&self, shard: usize) -> Option<ShardStats> {
        self.shards.get(shard).map(Shard::stats)
    }
}
