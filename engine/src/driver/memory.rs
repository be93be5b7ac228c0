//! The in-memory engine: shards on a simulated network with a virtual clock.
//!
//! Endpoints outside the engine (test peers, the simulator's callers and agents) are plain
//! socket addresses. Every datagram, in either direction, crosses a link with the
//! [`NetworkConditions`] given (delay, jitter, loss), drawn from a seeded generator
//! ([`crate::netsim`]), so a run is a pure function of its inputs and seed and runs as fast
//! as the machine allows. Commands are carried out at once, on the calling thread.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::command::Command;
use crate::error::{CommandError, EngineError};
use crate::event::Event;
use crate::ids::{ChannelId, GroupKey, RequestId, RoomId, TapId};
use crate::media_engine::{ChannelInfo, MediaEngine};
use crate::netsim::{DelayLine, Impairment, NetworkConditions};
use crate::ports::{self, MediaAddresses, OwnSockets, PortAllocator};
use crate::shard::{Shard, ShardConfig, ShardStats};
use crate::spec::{ChannelSpec, RoomOptions, RtcpMode, TapSpec, TapTarget};
use crate::stats::ChannelStats;
use crate::tap::fork::ForkSpec;
use crate::tap::writer::TapWriter;
use crate::time::Micros;

/// A datagram delivered to an outside endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// Virtual arrival time.
    pub at: Micros,
    /// Sender.
    pub from: SocketAddr,
    /// Bytes.
    pub data: Vec<u8>,
}

/// A datagram on its way.
#[derive(Debug)]
struct Flight {
    from: SocketAddr,
    to: SocketAddr,
    data: Vec<u8>,
}

/// The engine's shards on a simulated network.
///
/// ```
/// use tandem_engine::{ChannelSpec, GroupKey, MediaEngine, MemoryEngine, Micros, NetworkConditions};
///
/// let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 1);
/// let ch = eng.create_channel(GroupKey(1), ChannelSpec::default())?;
/// eng.advance_by(Micros::from_secs(1));
/// assert_eq!(eng.now(), Micros::from_secs(1));
/// assert!(eng.channel_stats(ch.id).is_some());
/// # Ok::<(), tandem_engine::EngineError>(())
/// ```
pub struct MemoryEngine {
    now: Micros,
    ip: IpAddr,
    own: OwnSockets,
    shards: Vec<Shard>,
    ports: Vec<PortAllocator>,
    next_serial: u64,
    next_request: u64,
    impairment: Impairment,
    flights: DelayLine<Flight>,
    mailboxes: HashMap<SocketAddr, VecDeque<Delivered>>,
    events: VecDeque<Event>,
    taps: TapWriter,
    tap_events: Vec<Event>,
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
            now: Micros::ZERO,
            ip,
            own: own.clone(),
            shards: (0..shards)
                .map(|i| {
                    let cfg = ShardConfig {
                        own: Some(own.clone()),
                        ..ShardConfig::new(i, seed)
                    };
                    Shard::new(cfg, Micros::ZERO)
                })
                .collect(),
            ports: ports::split(10_000, 59_999, shards).expect("a wide range splits"),
            next_serial: 1,
            next_request: 1,
            impairment: Impairment::new(conditions, seed),
            flights: DelayLine::default(),
            mailboxes: HashMap::new(),
            events: VecDeque::new(),
            taps: TapWriter::new(),
            tap_events: Vec::new(),
        }
    }

    /// The virtual time.
    pub fn now(&self) -> Micros {
        self.now
    }

    /// The engine's address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// Changes the network conditions for datagrams sent from now on.
    pub fn set_conditions(&mut self, conditions: NetworkConditions) {
        self.impairment.set_conditions(conditions);
    }

    /// Datagrams the network dropped.
    pub fn lost_datagrams(&self) -> u64 {
        self.impairment.lost()
    }

    fn serial(&mut self) -> u64 {
        self.next_serial += 1;
        self.next_serial - 1
    }

    fn request(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request - 1)
    }

    /// Sends a datagram from an outside endpoint at the current time.
    pub fn send(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        self.launch(from, to, data);
    }

    fn launch(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        if let Some(at) = self.impairment.arrival(self.now) {
            let data = data.to_vec();
            self.flights.push(at, Flight { from, to, data });
        }
    }

    /// Runs the network and the shards for `d` of virtual time.
    pub fn advance_by(&mut self, d: Micros) {
        self.advance_to(self.now + d);
    }

    /// Runs the network and the shards up to `t` (inclusive), in time order (a datagram
    /// that arrives when a tick is due is handled first).
    pub fn advance_to(&mut self, t: Micros) {
        loop {
            let next_flight = self.flights.next_at().unwrap_or(Micros::MAX);
            let next_tick = self
                .shards
                .iter()
                .map(Shard::next_deadline)
                .min()
                .unwrap_or(Micros::MAX);
            let next = next_flight.min(next_tick);
            if next > t {
                break;
            }
            self.now = self.now.max(next);
            if next_flight <= next_tick {
                let (at, f) = self.flights.pop().expect("peeked");
                self.deliver(at, f);
            } else {
                for i in 0..self.shards.len() {
                    if self.shards[i].next_deadline() <= self.now {
                        self.shards[i].tick(self.now);
                        self.collect(i);
                    }
                }
                self.pump_taps();
            }
        }
        self.now = self.now.max(t);
    }

    fn deliver(&mut self, at: Micros, f: Flight) {
        if f.to.ip() == self.ip {
            // Every shard knows only its own ports; the port map says which.
            let shard = self.ports.iter().position(|p| p.contains(f.to.port()));
            if let Some(i) = shard {
                self.shards[i].handle_datagram(self.now, f.to.port(), f.from, &f.data);
                self.collect(i);
            }
            return;
        }
        self.mailboxes
            .entry(f.to)
            .or_default()
            .push_back(Delivered {
                at,
                from: f.from,
                data: f.data,
            });
    }

    /// Moves a shard's output onto the network and its events into the queue.
    fn collect(&mut self, i: usize) {
        let now = self.now;
        let shard = &mut self.shards[i];
        for t in shard.transmits() {
            if let Some(at) = self.impairment.arrival(now) {
                let flight = Flight {
                    from: SocketAddr::new(self.ip, t.local_port),
                    to: t.dest,
                    data: t.payload.to_vec(),
                };
                self.flights.push(at, flight);
            }
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

    /// The next datagram delivered to `endpoint`.
    pub fn recv(&mut self, endpoint: SocketAddr) -> Option<Delivered> {
        self.mailboxes.get_mut(&endpoint)?.pop_front()
    }

    /// A channel's counters.
    pub fn channel_stats(&self, id: ChannelId) -> Option<ChannelStats> {
        self.shards.get(id.shard())?.channel_stats(id)
    }

    /// A shard's counters.
    pub fn shard_stats(&self, shard: usize) -> Option<ShardStats> {
        self.shards.get(shard).map(Shard::stats)
    }
}

impl MediaEngine for MemoryEngine {
    fn create_channel(
        &mut self,
        group: GroupKey,
        spec: ChannelSpec,
    ) -> Result<ChannelInfo, EngineError> {
        if let Some(r) = spec.remote.filter(|&r| self.own.contains(r)) {
            return Err(CommandError::OwnAddress(r).into());
        }
        let shard = group.shard(self.shards.len());
        let port = self.ports[shard]
            .allocate()
            .ok_or(EngineError::NoFreePort(shard))?;
        let id = ChannelId::new(shard as u16, self.serial());
        self.own.hold(port);
        if spec.rtcp == RtcpMode::Companion {
            self.own.hold(port + 1);
        }
        let request = self.request();
        self.shards[shard].create_channel(self.now, request, id, port, spec);
        self.collect(shard);
        Ok(ChannelInfo {
            id,
            local: SocketAddr::new(self.ip, port),
        })
    }

    fn create_room(
        &mut self,
        group: GroupKey,
        options: RoomOptions,
    ) -> Result<RoomId, EngineError> {
        let shard = group.shard(self.shards.len());
        let room = RoomId::new(shard as u16, self.serial());
        self.command(Command::CreateRoom { room, options })?;
        Ok(room)
    }

    fn start_fork(&mut self, target: TapTarget, spec: ForkSpec) -> Result<TapId, EngineError> {
        let tap = TapId::new(target.shard() as u16, self.serial());
        self.command(Command::StartFork { tap, target, spec })?;
        Ok(tap)
    }

    fn start_tap(&mut self, target: TapTarget, spec: TapSpec) -> Result<TapId, EngineError> {
        let tap = TapId::new(target.shard() as u16, self.serial());
        self.command(Command::StartTap { tap, target, spec })?;
        Ok(tap)
    }

    /// Applies the command now.
    fn command(&mut self, cmd: Command) -> Result<RequestId, EngineError> {
        cmd.same_shard()?;
        let shard = cmd.shard();
        if shard >= self.shards.len() {
            return Err(EngineError::NoShard(shard));
        }
        let request = self.request();
        self.shards[shard].handle_command(self.now, request, cmd);
        self.collect(shard);
        Ok(request)
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// A direct read.
    fn read_stats(
        &mut self,
        channels: &[ChannelId],
    ) -> Result<Vec<(ChannelId, ChannelStats)>, EngineError> {
        Ok(channels
            .iter()
            .filter_map(|&c| self.channel_stats(c).map(|s| (c, s)))
            .collect())
    }

    fn media_addresses(&self) -> MediaAddresses {
        self.own.addresses()
    }

    fn holds(&self, addr: SocketAddr) -> bool {
        self.own.contains(addr)
    }

    /// Nothing to wait for: commands are carried out when given.
    fn barrier(&mut self) -> Result<(), EngineError> {
        Ok(())
    }
}
