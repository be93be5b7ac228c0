//! Errors: what an engine handle refuses at once ([`EngineError`]) and why a shard could not
//! carry out a command ([`CommandError`], reported in `Event::CommandFailed`).

use std::net::SocketAddr;

use thiserror::Error;

use crate::ids::{ChannelId, RoomId, TapId};

/// Why an engine operation failed. The engine's state is unchanged when one is returned.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The configuration is unusable.
    #[error("engine configuration: {0}")]
    Config(String),
    /// The engine refused the command before queueing it (the shard would refuse it too).
    #[error("{0}")]
    Refused(#[from] CommandError),
    /// The command names a shard the engine does not have.
    #[error("no shard {0}")]
    NoShard(usize),
    /// Every port of the shard's range is in use.
    #[error("no free port on shard {0}")]
    NoFreePort(usize),
    /// A shard's command queue is full (the shard is overloaded or stalled).
    #[error("command queue of shard {0} is full")]
    QueueFull(usize),
    /// The shard is over one of the engine's load limits: it takes no new channel now.
    #[error("overloaded: {0}")]
    Overloaded(#[from] Overload),
    /// A shard did not answer a request in time (it is overloaded or stalled).
    #[error("shard {0} did not answer in time")]
    Timeout(usize),
    /// The engine was shut down.
    #[error("engine is shut down")]
    ShutDown,
    /// The command names channels or rooms on different shards, so media cannot pass
    /// between them.
    #[error("{command} names objects on different shards {shards:?}; give them one group key")]
    DifferentShards {
        /// The command's name.
        command: &'static str,
        /// The shards of the objects it names, in the order named.
        shards: Vec<usize>,
    },
    /// A socket operation failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
}

/// Why a shard could not carry out a command. The shard's state is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CommandError {
    /// No such channel on the shard.
    #[error("no channel {channel} on shard {shard}")]
    NoChannel {
        /// The channel named.
        channel: ChannelId,
        /// The shard asked.
        shard: usize,
    },
    /// No such room on the shard.
    #[error("no room {room} on shard {shard}")]
    NoRoom {
        /// The room named.
        room: RoomId,
        /// The shard asked.
        shard: usize,
    },
    /// No such recording on the shard.
    #[error("no tap {} on shard {shard}", tap.0)]
    NoTap {
        /// The recording named.
        tap: TapId,
        /// The shard asked.
        shard: usize,
    },
    /// A channel with this id exists already.
    #[error("channel {0} exists")]
    ChannelExists(ChannelId),
    /// A room with this id exists already.
    #[error("room {0} exists")]
    RoomExists(RoomId),
    /// A recording with this id exists already.
    #[error("tap {} exists", .0.0)]
    TapExists(TapId),
    /// The local port is taken by another channel.
    #[error("port {0} in use")]
    PortInUse(u16),
    /// The RTP port is the last one, so RTCP has no companion port.
    #[error("no port for RTCP")]
    NoRtcpPort,
    /// The packetisation time is outside 1–200 ms.
    #[error("ptime {0} ms out of range")]
    Ptime(u32),
    /// The remote is one of the engine's own media sockets: media would loop.
    #[error("remote {0} is one of the engine's own media addresses (a loop)")]
    OwnAddress(SocketAddr),
    /// A bridge from a channel to itself.
    #[error("cannot bridge a channel to itself")]
    BridgeToItself,
    /// The channel is in no room.
    #[error("{0} is in no room")]
    NotInRoom(ChannelId),
    /// A supervisor named as its own agent.
    #[error("a supervisor cannot supervise itself")]
    SuperviseItself,
    /// The agent is neither bridged nor in a room.
    #[error("{0} is not in a call")]
    NotInCall(ChannelId),
    /// A stop for a player that is not playing (it may have just finished).
    #[error("nothing is playing")]
    NothingPlaying,
    /// A channel spec with a pass-through codec and something that needs decoded samples.
    #[error("a channel relaying its codec without decoding it cannot have {0}")]
    PassThroughSpec(&'static str),
    /// The channel relays a codec without decoding it (see `Codec::passthrough`), and what
    /// was asked needs its samples.
    #[error("{channel} relays its codec without decoding it: {feature} needs PCMU or PCMA")]
    PassThrough {
        /// The channel.
        channel: ChannelId,
        /// What needs the samples.
        feature: &'static str,
    },
}

/// A shard over one of its [`AdmissionLimits`](crate::AdmissionLimits): a new channel there is refused.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Overload {
    /// The shard's thread is busier than the limit.
    #[error("shard {shard} is busy {:.0}% of the time (limit {:.0}%)", busy * 100.0, limit * 100.0)]
    Busy {
        /// The shard.
        shard: usize,
        /// Its measured busy fraction.
        busy: f64,
        /// The limit.
        limit: f64,
    },
    /// The shard receives more datagrams per second than the limit.
    #[error("shard {shard} receives {rate:.0} packets/s (limit {limit:.0})")]
    PacketRate {
        /// The shard.
        shard: usize,
        /// Its measured packet rate.
        rate: f64,
        /// The limit.
        limit: f64,
    },
}

impl Overload {
    /// The shard over its limit.
    pub fn shard(&self) -> usize {
        match *self {
            Overload::Busy { shard, .. } | Overload::PacketRate { shard, .. } => shard,
        }
    }
}
