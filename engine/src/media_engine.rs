//! The one seam between an application and an engine: [`MediaEngine`], implemented by the
//! threaded [`Engine`](crate::Engine) (real sockets, one thread per shard) and by the
//! [`MemoryEngine`](crate::MemoryEngine) (a simulated network on a virtual clock), so the
//! same application code runs on either.
//!
//! Every method takes `&mut self`. The in-memory engine applies a command on the spot
//! (its shards step synchronously), so it needs exclusive access; the threaded engine's
//! handle only queues work for its shard threads, so its own methods take `&self` and it
//! can be shared across threads, and the trait is implemented for `Engine` and for
//! `Arc<Engine>` alike. One receiver for the trait keeps `&mut dyn MediaEngine` usable
//! for both.

use std::net::SocketAddr;

use crate::command::Command;
use crate::error::EngineError;
use crate::error::Overload;
use crate::event::Event;
use crate::ids::{ChannelId, GroupKey, RequestId, RoomId, TapId};
use crate::ports::MediaAddresses;
use crate::spec::{ChannelSpec, RoomOptions, TapSpec, TapTarget};
use crate::stats::ChannelStats;
use crate::tap::fork::ForkSpec;

/// A created channel: its id and the address peers send to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelInfo {
    /// Id for later commands.
    pub id: ChannelId,
    /// Local RTP address (RTCP is on the next port unless muxed).
    pub local: SocketAddr,
}

/// What an application asks of an engine, threaded or in memory.
///
/// A failure returned here means nothing happened. A command that is accepted may still
/// fail on its shard (the channel it names has gone, say); that is reported later as
/// `Event::CommandFailed` carrying the [`RequestId`] returned here.
pub trait MediaEngine {
    /// Creates a channel on the shard of `group` (channels that exchange media share a
    /// group); its sockets are bound before this returns.
    fn create_channel(
        &mut self,
        group: GroupKey,
        spec: ChannelSpec,
    ) -> Result<ChannelInfo, EngineError>;

    /// Creates an empty conference room on the shard of `group`.
    fn create_room(&mut self, group: GroupKey, options: RoomOptions)
    -> Result<RoomId, EngineError>;

    /// Starts recording `target` into `spec.path`; `Event::TapFinished` follows its stop.
    fn start_tap(&mut self, target: TapTarget, spec: TapSpec) -> Result<TapId, EngineError>;

    /// Starts a live media fork of `target` (see [`ForkSpec`]); `Command::StopTap` with the
    /// id returned stops it. An engine that cannot fork refuses.
    fn start_fork(&mut self, target: TapTarget, spec: ForkSpec) -> Result<TapId, EngineError> {
        let _ = (target, spec);
        Err(EngineError::Config(
            "this engine does not fork media".to_string(),
        ))
    }

    /// Gives a command to the shard that owns its object. A teardown command
    /// ([`Command::is_teardown`]) is never refused for a full queue while the engine's
    /// control wait lasts; `QueueFull` after that means "try again later".
    fn command(&mut self, cmd: Command) -> Result<RequestId, EngineError>;

    /// The next event from any shard, if one is waiting.
    fn poll_event(&mut self) -> Option<Event>;

    /// The counters of `channels`, read now; channels that no longer exist are left out,
    /// the rest come in the order given.
    fn read_stats(
        &mut self,
        channels: &[ChannelId],
    ) -> Result<Vec<(ChannelId, ChannelStats)>, EngineError>;

    /// The engine's media address and port range.
    fn media_addresses(&self) -> MediaAddresses;

    /// Whether the engine holds a socket on `addr` now (a remote naming one is refused,
    /// and packets from one are dropped).
    fn holds(&self, addr: SocketAddr) -> bool;

    /// Returns once every command given before has been carried out by its shard and
    /// the events they caused can be polled.
    fn barrier(&mut self) -> Result<(), EngineError>;

    /// Whether new work (a new call) is admitted now: an error names a shard over one of
    /// the engine's load limits. Work already admitted is never refused for load. An engine
    /// without limits admits everything.
    fn admission(&self) -> Result<(), Overload> {
        Ok(())
    }
}
