//! What shards report to the application.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::error::CommandError;
use crate::ids::{ChannelId, Object, RequestId, RoomId, TapId};
use crate::spec::PlayTarget;
use crate::stats::ChannelStats;
use crate::time::Micros;

/// An event from a shard.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The first valid RTP packet arrived (from `from`, now the latched remote).
    FirstPacket {
        /// Channel.
        channel: ChannelId,
        /// Source address.
        from: SocketAddr,
    },
    /// The remote started a new RTP stream (new SSRC).
    SsrcChanged {
        /// Channel.
        channel: ChannelId,
        /// Previous SSRC.
        old: u32,
        /// New SSRC.
        new: u32,
    },
    /// A DTMF digit (RFC 4733), reported once per digit when it ends.
    Dtmf {
        /// Channel.
        channel: ChannelId,
        /// `0-9`, `*`, `#`, `A-D`.
        digit: char,
        /// How long the key was held, in milliseconds (0 when unknown, in-band).
        duration_ms: u32,
        /// Engine time of the report.
        at: Micros,
    },
    /// The digits a caller entered, once no digit came for the inter-digit timeout.
    DigitsCollected {
        /// Channel.
        channel: ChannelId,
        /// The digits, in order.
        digits: String,
    },
    /// A player finished its items, or was stopped (by command or by barge-in).
    PlayFinished {
        /// Where it played.
        target: PlayTarget,
        /// Stopped before the end.
        interrupted: bool,
        /// How far it got, milliseconds.
        position_ms: u64,
    },
    /// No RTP for the channel's media timeout. Reported once until media resumes.
    MediaTimeout {
        /// Channel.
        channel: ChannelId,
        /// Milliseconds since the last packet (or since creation).
        silent_ms: u64,
    },
    /// A channel that reported `MediaTimeout` received media again.
    MediaResumed {
        /// Channel.
        channel: ChannelId,
    },
    /// A new source took over a channel's stream (the party moved, or its NAT rebound);
    /// media now goes to `from`.
    RemoteChanged {
        /// Channel.
        channel: ChannelId,
        /// The new remote.
        from: SocketAddr,
    },
    /// Answer to a stats query.
    Stats {
        /// Channel.
        channel: ChannelId,
        /// Its counters.
        stats: ChannelStats,
    },
    /// A channel was destroyed; its final counters.
    ChannelClosed {
        /// Channel.
        channel: ChannelId,
        /// Its counters.
        stats: ChannelStats,
    },
    /// A command could not be carried out (the state is unchanged).
    CommandFailed {
        /// The request the engine returned for the command.
        request: RequestId,
        /// The command's name (`"create channel"` for a channel's creation).
        command: &'static str,
        /// The object the command was about.
        object: Object,
        /// Why.
        error: CommandError,
    },
    /// A room participant started talking (VAD).
    TalkStart {
        /// Room.
        room: RoomId,
        /// Participant.
        channel: ChannelId,
    },
    /// A room participant stopped talking.
    TalkStop {
        /// Room.
        room: RoomId,
        /// Participant.
        channel: ChannelId,
    },
    /// The loudest talker of a room changed.
    ActiveSpeaker {
        /// Room.
        room: RoomId,
        /// The new active speaker.
        channel: Option<ChannelId>,
    },
    /// A recording finished: its file is complete.
    TapFinished {
        /// Tap.
        tap: TapId,
        /// File written.
        path: PathBuf,
        /// Audio recorded, milliseconds.
        duration_ms: u64,
        /// Frames lost because the writer fell behind.
        dropped_frames: u64,
    },
    /// A recording stopped on an error (the file could not be created or written). The
    /// call is not affected.
    TapFailed {
        /// Tap.
        tap: TapId,
        /// Why.
        reason: String,
    },
    /// A recording's writer fell behind and frames are being dropped (reported once per
    /// episode).
    TapOverflow {
        /// Tap.
        tap: TapId,
    },
    /// A fork's VAD saw a track start or stop talking.
    ForkVoice {
        /// The fork.
        tap: TapId,
        /// The track (0: the tapped channel, 1: its bridged peer; a room's participants in
        /// order).
        track: u16,
        /// Speech started (or stopped).
        speaking: bool,
        /// When, milliseconds of the fork's stream.
        at_ms: u64,
    },
    /// A fork sent over UDP stopped.
    ForkFinished {
        /// The fork.
        tap: TapId,
        /// RTP packets sent (all tracks).
        packets_sent: u64,
        /// Packets the socket refused (counted, never waited for).
        send_errors: u64,
        /// Frames the shard dropped because the sender fell behind.
        dropped_frames: u64,
        /// Each track's speech time, milliseconds.
        speech_ms: Vec<u64>,
        /// Each track's silence time, milliseconds.
        silence_ms: Vec<u64>,
    },
    /// A supervisor force-disconnected a leg: it left its call and hears nothing.
    ForcedDisconnect {
        /// The leg removed.
        channel: ChannelId,
    },
    /// The shard's tick ran late by more than one period (the core is overloaded).
    TickOverrun {
        /// Shard index.
        shard: usize,
        /// Ticks skipped.
        missed: u64,
    },
}
