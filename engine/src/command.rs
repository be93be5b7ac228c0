//! Commands an application sends to a shard.
//!
//! Channels are created by the engine handle's own `create_channel` (it allocates the port
//! and binds the sockets first), so creation is not a [`Command`].

use std::net::SocketAddr;

use crate::error::EngineError;
use crate::ids::{ChannelId, Object, RoomId, TapId};
use crate::player::PlaySpec;
use crate::spec::{
    Codec, MediaFilter, ParticipantOptions, PlayTarget, RoomOptions, SrtpKeys, SuperviseMode,
    TapSpec, TapTarget,
};
use crate::tap::fork::ForkSpec;

/// A control command. Commands for one shard are applied in order at its next turn.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Command {
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
    /// Keys the channel's SRTP afresh (SDES after an answer or a re-offer), or turns it off
    /// (`None`). The output stream continues; the replay and rollover state starts anew
    /// with the new keys.
    SetSrtp {
        /// Channel.
        channel: ChannelId,
        /// The new keys.
        keys: Option<Box<SrtpKeys>>,
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
    /// Starts a live media fork: like a recording, but each track is streamed (see
    /// [`ForkSpec`]); `StopTap` stops it.
    StartFork {
        /// New fork's id (a tap id).
        tap: TapId,
        /// What to fork.
        target: TapTarget,
        /// Where and how.
        spec: ForkSpec,
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

impl Command {
    /// The command's name, for logs and `Event::CommandFailed` (cheap: no payloads).
    pub fn name(&self) -> &'static str {
        match self {
            Command::SetRemote { .. } => "set remote",
            Command::SetCodec { .. } => "set codec",
            Command::SetFilter { .. } => "set filter",
            Command::SetSrtp { .. } => "set srtp",
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
            Command::StartFork { .. } => "start fork",
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

    /// The object the command is about; its shard carries the command out.
    pub fn object(&self) -> Object {
        match self {
            Command::SetRemote { channel, .. }
            | Command::SetCodec { channel, .. }
            | Command::SetFilter { channel, .. }
            | Command::SetSrtp { channel, .. }
            | Command::Unbridge { channel }
            | Command::QueryStats { channel }
            | Command::DestroyChannel { channel }
            | Command::LeaveRoom { channel } => Object::Channel(*channel),
            Command::Bridge { a, .. } => Object::Channel(*a),
            Command::Supervise { agent, .. } => Object::Channel(*agent),
            Command::Play { target, .. } | Command::StopPlay { target } => match target {
                PlayTarget::Channel(c) => Object::Channel(*c),
                PlayTarget::Room(r) => Object::Room(*r),
            },
            Command::CreateRoom { room, .. }
            | Command::JoinRoom { room, .. }
            | Command::DestroyRoom { room } => Object::Room(*room),
            Command::StartTap { tap, .. }
            | Command::StartFork { tap, .. }
            | Command::PauseTap { tap, .. }
            | Command::StopTap { tap } => Object::Tap(*tap),
        }
    }

    /// The shard that must carry out the command.
    pub fn shard(&self) -> usize {
        self.object().shard()
    }

    /// Checks that every id the command names lives on the same shard (media cannot
    /// cross shards).
    pub fn same_shard(&self) -> Result<(), EngineError> {
        let shards: Vec<usize> = match self {
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
            Command::StartTap { tap, target, .. } | Command::StartFork { tap, target, .. } => {
                vec![tap.shard(), target.shard()]
            }
            _ => return Ok(()),
        };
        if shards.windows(2).all(|w| w[0] == w[1]) {
            Ok(())
        } else {
            Err(EngineError::DifferentShards {
                command: self.name(),
                shards,
            })
        }
    }
}
