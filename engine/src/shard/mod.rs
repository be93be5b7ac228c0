//! A shard: the sans-I/O state machine that owns a set of channels, rooms and recordings
//! and switches media between them.
//!
//! Inputs are commands ([`control`]), received datagrams ([`ingress`]) and the time
//! ([`tick`]); outputs are datagrams to send ([`Shard::poll_transmit`]), events
//! ([`Shard::poll_event`]) and the next deadline ([`Shard::next_deadline`]). A shard never
//! reads a clock or touches a socket, so the same code runs under a UDP driver in real time
//! and under the in-memory network on a virtual clock.
//!
//! Its objects live in one [`Slab`] each, found by id on the control path and by slot on
//! the media path; a port map sends each datagram to its channel with one index.

mod control;
mod ingress;
pub(crate) mod load;
mod offload;
mod tick;

use std::collections::VecDeque;
use std::net::SocketAddr;

use rand::SeedableRng;
use rand::rngs::SmallRng;

use crate::channel::Channel;
use crate::channel::rtcp::ntp_from_unix;
use crate::event::Event;
use crate::ids::{ChannelId, RoomId, TapId};
use crate::offload::Offloads;
use crate::ports::OwnSockets;
use crate::room::Room;
use crate::slab::Slab;
use crate::stats::ChannelStats;
use crate::tap::{Tap, TapHandoff};
use crate::time::Micros;
use crate::transmit::{Transmit, TransmitQueue};

pub use load::{AdmissionLimits, LOAD_WINDOW, LoadMeter, ShardLoad};

/// The default of [`ShardConfig::max_queue_delay`]: voice later than this is worth less
/// than the capacity it takes to relay it.
pub const DEFAULT_MAX_QUEUE_DELAY: Micros = Micros::from_ms(100);

/// Static settings of a shard.
#[derive(Clone, Debug)]
pub struct ShardConfig {
    /// Index among the engine's shards.
    pub index: usize,
    /// Tick period (20 ms by default).
    pub tick: Micros,
    /// Seed for SSRCs, initial sequence numbers and report jitter.
    pub seed: u64,
    /// Unix time at `now = 0` (for RTCP's NTP timestamps).
    pub unix_epoch: Micros,
    /// Longest a datagram may have waited between its arrival at the host and its handling
    /// ([`Shard::handle_received`]): older ones are dropped unread and counted
    /// ([`ShardStats::stale_dropped`]), so a shard that falls behind sheds stale audio
    /// instead of relaying it late. `None`: no limit. 100 ms by default.
    pub max_queue_delay: Option<Micros>,
    /// The engine's own media sockets: never a remote, and nothing from them is accepted.
    pub(crate) own: Option<OwnSockets>,
}

impl ShardConfig {
    /// Shard `index` with a 20 ms tick.
    pub fn new(index: usize, seed: u64) -> ShardConfig {
        ShardConfig {
            index,
            tick: Micros::from_ms(20),
            seed,
            unix_epoch: Micros::ZERO,
            max_queue_delay: Some(DEFAULT_MAX_QUEUE_DELAY),
            own: None,
        }
    }
}

/// Shard-wide counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardStats {
    /// Datagrams received on ports that belong to no channel (late after a delete).
    pub unknown_port: u64,
    /// Ticks run.
    pub ticks: u64,
    /// Ticks skipped because the shard was late.
    pub ticks_missed: u64,
    /// Datagrams handled.
    pub datagrams_in: u64,
    /// Datagrams dropped unread because they had waited longer than
    /// [`ShardConfig::max_queue_delay`] (not counted in `datagrams_in`).
    pub stale_dropped: u64,
    /// Datagrams queued for sending.
    pub datagrams_out: u64,
    /// Live channels.
    pub channels: u64,
}

/// Local port → channel: `(slot << 1 | is_rtcp) + 1`, or 0 for a port of no channel.
struct PortMap(Vec<u32>);

impl PortMap {
    fn new() -> PortMap {
        PortMap(vec![0; 65_536])
    }

    /// The channel slot on `port`, and whether it is the channel's RTCP port.
    #[inline]
    fn get(&self, port: u16) -> Option<(u32, bool)> {
        let entry = self.0[usize::from(port)];
        (entry != 0).then(|| ((entry - 1) >> 1, (entry - 1) & 1 == 1))
    }

    fn is_free(&self, port: u16) -> bool {
        self.0[usize::from(port)] == 0
    }

    fn set(&mut self, port: u16, slot: u32, rtcp: bool) {
        self.0[usize::from(port)] = (slot << 1 | u32::from(rtcp)) + 1;
    }

    fn clear(&mut self, port: u16) {
        self.0[usize::from(port)] = 0;
    }
}

/// The shard state machine.
pub struct Shard {
    cfg: ShardConfig,
    channels: Slab<ChannelId, Channel>,
    rooms: Slab<RoomId, Room>,
    taps: Slab<TapId, Tap>,
    handoffs: Vec<TapHandoff>,
    ports: PortMap,
    transmits: TransmitQueue,
    events: VecDeque<Event>,
    released_ports: Vec<u16>,
    next_tick: Micros,
    rng: SmallRng,
    /// One tick of PCM, reused by playout and players.
    pcm: Vec<i16>,
    /// Where an SRTP datagram is unprotected (allocated once).
    scratch: Box<[u8]>,
    stats: ShardStats,
    /// Kernel fast path state (idle unless enabled).
    offload: Offloads,
}

impl Shard {
    /// An empty shard whose first tick is at `now + tick`.
    pub fn new(cfg: ShardConfig, now: Micros) -> Shard {
        let samples = (cfg.tick.as_us() * 8 / 1000) as usize;
        Shard {
            rng: SmallRng::seed_from_u64(cfg.seed ^ (cfg.index as u64).wrapping_mul(0x9E37_79B9)),
            next_tick: now + cfg.tick,
            cfg,
            channels: Slab::default(),
            rooms: Slab::default(),
            taps: Slab::default(),
            handoffs: Vec::new(),
            ports: PortMap::new(),
            transmits: TransmitQueue::with_capacity(256),
            scratch: vec![0; crate::channel::crypto::MAX_SRTP_DATAGRAM].into_boxed_slice(),
            events: VecDeque::new(),
            released_ports: Vec::new(),
            pcm: vec![0; samples],
            stats: ShardStats::default(),
            offload: Offloads::default(),
        }
    }

    /// Its index.
    pub fn index(&self) -> usize {
        self.cfg.index
    }

    /// When [`tick`](Shard::tick) must next run.
    pub fn next_deadline(&self) -> Micros {
        self.next_tick
    }

    /// The next datagram to send, if any. Take them all after every input.
    pub fn poll_transmit(&mut self) -> Option<Transmit<'_>> {
        self.transmits.poll()
    }

    /// Every datagram waiting to be sent, for a driver that sends them as one batch and
    /// then calls [`clear_transmits`](Shard::clear_transmits).
    pub fn transmits(&self) -> impl ExactSizeIterator<Item = Transmit<'_>> + '_ {
        self.transmits.iter()
    }

    /// The pending datagrams as a queue (for drivers that batch by index).
    pub(crate) fn transmit_queue(&self) -> &TransmitQueue {
        &self.transmits
    }

    /// Forgets the datagrams the driver has sent.
    pub fn clear_transmits(&mut self) {
        self.transmits.clear();
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The engine's own sockets, if the shard knows them (the driver marks the ports it
    /// closes as free there).
    pub(crate) fn own_sockets(&self) -> Option<&OwnSockets> {
        self.cfg.own.as_ref()
    }

    /// Local ports no longer used: the driver closes their sockets (a shard that failed
    /// to create a channel hands its ports back here too).
    pub fn drain_released_ports(&mut self) -> std::vec::Drain<'_, u16> {
        self.released_ports.drain(..)
    }

    /// Recordings started since the last call, for the driver to hand to a
    /// [`TapWriter`](crate::sansio::TapWriter).
    pub fn drain_tap_handoffs(&mut self) -> std::vec::Drain<'_, TapHandoff> {
        self.handoffs.drain(..)
    }

    /// Shard-wide counters.
    pub fn stats(&self) -> ShardStats {
        ShardStats {
            channels: self.channels.len() as u64,
            ..self.stats
        }
    }

    /// A channel's counters, if it exists here.
    pub fn channel_stats(&self, id: ChannelId) -> Option<ChannelStats> {
        self.channels.by_id(id).map(Channel::snapshot_stats)
    }

    /// A channel's latched or signalled remote address.
    pub fn channel_remote(&self, id: ChannelId) -> Option<SocketAddr> {
        self.channels.by_id(id).and_then(Channel::remote)
    }

    fn ntp(&self, now: Micros) -> u64 {
        ntp_from_unix(self.cfg.unix_epoch + now)
    }
}
