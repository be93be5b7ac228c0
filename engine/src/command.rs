//! Commands an application sends to a shard.

use std::net::SocketAddr;

use crate::ids::ChannelId;
use crate::spec::ChannelSpec;

/// A control command. Commands for one shard are applied in order at its next turn.
#[derive(Clone, Debug)]
pub enum Command {
    /// Creates a channel on local RTP port `port` (RTCP on `port + 1` unless muxed).
    CreateChannel {
        /// New channel's id (allocated by the engine handle).
        channel: ChannelId,
        /// Local RTP port.
        port: u16,
        /// What it is.
        spec: ChannelSpec,
    },
    /// Sets (or replaces) the remote address, for example after a re-INVITE.
    SetRemote {
        /// Channel.
        channel: ChannelId,
        /// New remote RTP address.
        remote: SocketAddr,
    },
    /// Connects two channels: each hears the other. Any bridge either was in is broken first.
    Bridge {
        /// One leg.
        a: ChannelId,
        /// The other leg.
        b: ChannelId,
    },
    /// Breaks the bridge `channel` is in, if any. Both legs keep their output streams, so a
    /// later bridge continues them without a gap.
    Unbridge {
        /// Either leg.
        channel: ChannelId,
    },
    /// Asks for an `Event::Stats`.
    QueryStats {
        /// Channel.
        channel: ChannelId,
    },
    /// Destroys a channel (breaking its bridge) and reports `Event::ChannelClosed`.
    DestroyChannel {
        /// Channel.
        channel: ChannelId,
    },
}

impl Command {
    /// The channel whose shard must carry out the command.
    pub fn channel(&self) -> ChannelId {
        match self {
            Command::CreateChannel { channel, .. }
            | Command::SetRemote { channel, .. }
            | Command::Unbridge { channel }
            | Command::QueryStats { channel }
            | Command::DestroyChannel { channel } => *channel,
            Command::Bridge { a, .. } => *a,
        }
    }
}
