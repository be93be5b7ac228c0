//! Commands an application sends to a shard.

use std::net::SocketAddr;

use crate::ids::{ChannelId, RoomId};
use crate::player::PlaySpec;
use crate::room::{ParticipantOptions, RoomOptions};
use crate::spec::ChannelSpec;
use crate::spec::Codec;
use crate::tap::{TapId, TapSpec};

/// A control command. Commands for one shard are applied in order at its next turn.
#[derive(Clone, Debug)]
#[non_exhaustive]
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
    /// Changes the codec (and telephone-event payload type) after renegotiation; the
    /// output stream continues.
    SetCodec {
        /// Channel.
        channel: ChannelId,
        /// New codec.
        codec: Codec,
        /// New telephone-event payload type.
        telephone_event_pt: Option<u8>,
    },
    /// Filters what this channel's party sends before it reaches anyone else.
    SetFilter {
        /// Channel.
        channel: ChannelId,
        /// The filter.
        filter: MediaFilter,
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
    /// Creates an empty conference room.
    CreateRoom {
        /// New room's id (allocated by the engine handle).
        room: RoomId,
        /// Mixing options.
        options: RoomOptions,
    },
    /// Puts a channel into a room (leaving any bridge or other room), or changes its
    /// options if it is there already. Its output stream continues without a gap.
    JoinRoom {
        /// Room.
        room: RoomId,
        /// Channel.
        channel: ChannelId,
        /// How it takes part.
        options: ParticipantOptions,
    },
    /// Takes a channel out of its room.
    LeaveRoom {
        /// Channel.
        channel: ChannelId,
    },
    /// Destroys a room; its participants stay, connected to nothing.
    DestroyRoom {
        /// Room.
        room: RoomId,
    },
    /// Attaches a supervisor to the call `agent` is in, or changes its mode. A bridged
    /// two-party call becomes a room with both legs (its audio continues); the supervisor
    /// joins it with the mode's options.
    Supervise {
        /// The agent's leg.
        agent: ChannelId,
        /// The supervisor's channel.
        supervisor: ChannelId,
        /// What the supervisor does.
        mode: SuperviseMode,
        /// Room id to use if the call is not in a room yet.
        room: RoomId,
    },
    /// Starts recording. A channel target records the channel and, if bridged, its peer
    /// (first track the channel, second the peer); a room target records every participant.
    StartTap {
        /// New tap's id.
        tap: TapId,
        /// What to record.
        target: TapTarget,
        /// File and layout.
        spec: TapSpec,
    },
    /// Pauses or resumes a recording (paused time is recorded as silence).
    PauseTap {
        /// Tap.
        tap: TapId,
        /// Paused or not.
        paused: bool,
    },
    /// Stops a recording; `Event::TapFinished` follows when the file is complete.
    StopTap {
        /// Tap.
        tap: TapId,
    },
    /// Starts playing into a channel or a room, replacing what was playing there.
    Play {
        /// Where.
        target: PlayTarget,
        /// What.
        spec: PlaySpec,
    },
    /// Stops a player (`Event::PlayFinished` with `interrupted`).
    StopPlay {
        /// Where.
        target: PlayTarget,
    },
}

/// What is held back from a party's media (rtpengine's block/silence commands).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MediaFilter {
    /// Audio is not forwarded.
    pub block_audio: bool,
    /// Audio is forwarded as silence (the stream stays up).
    pub silence_audio: bool,
    /// RFC 4733 events are not forwarded (still detected and reported).
    pub block_dtmf: bool,
}

/// Where a player plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlayTarget {
    /// Into a channel (its output is the player's while it plays).
    Channel(ChannelId),
    /// Into a room (every listener hears it).
    Room(RoomId),
}

impl PlayTarget {
    /// The shard of the target.
    pub fn shard(self) -> usize {
        match self {
            PlayTarget::Channel(c) => c.shard(),
            PlayTarget::Room(r) => r.shard(),
        }
    }
}

/// What a tap records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TapTarget {
    /// A channel (with its bridged peer).
    Channel(ChannelId),
    /// Every participant of a room.
    Room(RoomId),
}

/// What a supervisor does on a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuperviseMode {
    /// Hears both parties, heard by no one.
    Listen,
    /// Heard only by the agent (coaching).
    Whisper,
    /// A three-way call: heard by both.
    Barge,
    /// Removes the agent's leg from the call (the supervisor stays with the caller).
    ForceDisconnect,
}

impl Command {
    /// The command's name, for logs and `Event::CommandFailed` (cheap: no payloads).
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateChannel { .. } => "create channel",
            Command::SetRemote { .. } => "set remote",
            Command::SetCodec { .. } => "set codec",
            Command::SetFilter { .. } => "set filter",
            Command::Bridge { .. } => "bridge",
            Command::Unbridge { .. } => "unbridge",
            Command::QueryStats { .. } => "query stats",
            Command::DestroyChannel { .. } => "destroy channel",
            Command::CreateRoom { .. } => "create room",
            Command::JoinRoom { .. } => "join room",
            Command::LeaveRoom { .. } => "leave room",
            Command::DestroyRoom { .. } => "destroy room",
            Command::Supervise { .. } => "supervise",
            Command::StartTap { .. } => "start tap",
            Command::PauseTap { .. } => "pause tap",
            Command::StopTap { .. } => "stop tap",
            Command::Play { .. } => "play",
            Command::StopPlay { .. } => "stop play",
        }
    }

    /// Whether the command releases something (a channel, a room, a recording, a bridge or
    /// a seat in a room). Such a command must never be lost to a full queue: the engine
    /// handle waits for room instead of failing at once (see `Engine::command`).
    pub fn is_teardown(&self) -> bool {
        matches!(
            self,
            Command::DestroyChannel { .. }
                | Command::StopTap { .. }
                | Command::DestroyRoom { .. }
                | Command::LeaveRoom { .. }
                | Command::Unbridge { .. }
        )
    }

    /// The shard that must carry out the command.
    pub fn shard(&self) -> usize {
        match self {
            Command::CreateChannel { channel, .. }
            | Command::SetRemote { channel, .. }
            | Command::SetCodec { channel, .. }
            | Command::SetFilter { channel, .. }
            | Command::Unbridge { channel }
            | Command::QueryStats { channel }
            | Command::DestroyChannel { channel }
            | Command::LeaveRoom { channel } => channel.shard(),
            Command::Bridge { a, .. } => a.shard(),
            Command::Supervise { agent, .. } => agent.shard(),
            Command::Play { target, .. } | Command::StopPlay { target } => target.shard(),
            Command::CreateRoom { room, .. }
            | Command::JoinRoom { room, .. }
            | Command::DestroyRoom { room } => room.shard(),
            Command::StartTap { tap, .. }
            | Command::PauseTap { tap, .. }
            | Command::StopTap { tap } => tap.shard(),
        }
    }

    /// Checks that every id the command names lives on the same shard (media cannot
    /// cross shards). Returns the offending pair's description otherwise.
    pub fn same_shard(&self) -> Result<(), String> {
        let ids: Vec<usize> = match self {
            Command::Bridge { a, b } => vec![a.shard(), b.shard()],
            Command::JoinRoom { room, channel, .. } => vec![room.shard(), channel.shard()],
            Command::Supervise {
                agent,
                supervisor,
                room,
                ..
            } => {
                vec![agent.shard(), supervisor.shard(), room.shard()]
            }
            Command::StartTap { tap, target, .. } => vec![
                tap.shard(),
                match target {
                    TapTarget::Channel(c) => c.shard(),
                    TapTarget::Room(r) => r.shard(),
                },
            ],
            _ => return Ok(()),
        };
        if ids.windows(2).all(|w| w[0] == w[1]) {
            Ok(())
        } else {
            Err(format!(
                "{self:?} names objects on different shards {ids:?}; give them one group key"
            ))
        }
    }
}
