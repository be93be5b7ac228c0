//! The kernel fast path, from the shard's side: which bridged directions go to the kernel
//! forwarder (`tandem-kfwd`), and how a stream comes back with its sequence numbers and
//! timestamps continuing.
//!
//! The shard decides and the driver acts. Each tick the shard looks at a slice of its
//! channels ([`decide`], a pure function of the two legs' state) and asks for a direction
//! that needs nothing but header rewriting to be added ([`OffloadRequest::Add`]). A command
//! that touches an offloaded channel (recording, a room, a player, a transfer, new keys,
//! teardown) is held back while the shard asks for the stream to be removed; the driver
//! removes it, hands back the kernel's last counters and positions, and the shard takes
//! them in (the output continues from the kernel's last sequence number and timestamp, the
//! receive state from the kernel's) before it applies the command. Counters are read back
//! about once a second per stream, for `query`, RTCP and media timeouts.
//!
//! The driver owns the forwarder: see [`KernelForwarding`] and the engine builder.

mod decide;
pub(crate) mod executor;
mod sync;

use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;

pub use decide::{Feature, NotOffloadable, Plan};
pub(crate) use decide::{LegFacts, decide};
pub use sync::KernelClock;
pub(crate) use sync::{Progress, Seen};

use crate::channel::rx::RxPosition;
use crate::command::Command;
use crate::ids::{ChannelId, Object, RequestId};
use crate::spec::TapTarget;
use crate::time::Micros;

/// Whether the engine forwards pass-through streams in the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KernelForwarding {
    /// Where the eBPF program loads (built, permitted, attached): otherwise userspace, with
    /// the reason logged at start.
    Auto,
    /// Always: starting the engine fails, with the reason, where the program cannot load.
    On,
    /// Never.
    Off,
}

/// A kernel forwarding mode that is not `auto`, `on` or `off`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown kernel forwarding mode {0:?} (auto, on or off)")]
pub struct UnknownKernelForwarding(pub String);

impl std::str::FromStr for KernelForwarding {
    type Err = UnknownKernelForwarding;
    fn from_str(s: &str) -> Result<Self, UnknownKernelForwarding> {
        match s {
            "auto" => Ok(KernelForwarding::Auto),
            "on" => Ok(KernelForwarding::On),
            "off" => Ok(KernelForwarding::Off),
            _ => Err(UnknownKernelForwarding(s.to_string())),
        }
    }
}

/// The kernel fast path of a running engine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KernelForwardingStats {
    /// Interfaces the program is attached to.
    pub interfaces: Vec<String>,
    /// Streams (directions of calls) in the kernel now.
    pub streams: u64,
    /// Packets the kernel forwarded since the engine started.
    pub packets: u64,
    /// Packets for a stream the kernel passed up or dropped, or met mid-replacement (the
    /// rest of `matched`).
    pub matched: u64,
}

impl KernelForwardingStats {
    pub(crate) fn read(fwd: &tandem_kfwd::KernelForwarder) -> KernelForwardingStats {
        let g = fwd.global_counters().unwrap_or_default();
        KernelForwardingStats {
            interfaces: fwd.interfaces().to_vec(),
            streams: fwd.len() as u64,
            packets: g.redirected + g.local,
            matched: g.matched,
        }
    }
}

/// How often the counters of a stream in the kernel are read back (more often where the
/// receiving channel's media timeout is shorter than three times this).
pub const READ_INTERVAL: Micros = Micros::from_secs(1);
/// How long a stream that had to come back because media reached userspace (a new source,
/// SSRC or payload type, a jump) stays in userspace before it may go to the kernel again.
pub const COOLDOWN: Micros = Micros::from_secs(5);
/// Channels the shard looks at per tick for offloading (the rest wait for later ticks).
pub(crate) const SCAN_PER_TICK: u32 = 64;

/// What the shard asks its driver to do with the kernel forwarder. The driver answers each
/// with `Shard::offload_added`, `Shard::offload_removed` or `Shard::offload_read`, then
/// calls `Shard::offload_settled`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OffloadRequest {
    /// Hand the direction received by `channel` to the kernel.
    Add {
        /// The receiving channel.
        channel: ChannelId,
        /// The rule and its send time.
        plan: Box<Plan>,
    },
    /// Take the stream back; answer with its last counters.
    Remove {
        /// The receiving channel.
        channel: ChannelId,
        /// The stream (`tandem_kfwd::StreamHandle::to_bits`).
        stream: u64,
    },
    /// Read the stream's counters.
    Read {
        /// The receiving channel.
        channel: ChannelId,
        /// The stream.
        stream: u64,
    },
}

/// Where one direction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Asked to be added.
    Adding,
    /// In the kernel.
    Kernel(u64),
    /// A read is on its way.
    Reading(u64),
    /// Asked to be removed.
    Removing(u64),
}

/// One direction handed (or being handed) to the kernel, keyed by its receiving channel.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stream {
    pub state: State,
    /// The sending channel.
    pub to: ChannelId,
    /// The incoming stream as handed over.
    pub rx: RxPosition,
    /// Counters already taken in.
    pub seen: Seen,
    /// When the counters are next read.
    pub next_read: Micros,
    /// How often they are read (at most [`READ_INTERVAL`], and often enough for the
    /// receiving channel's media timeout).
    pub read_every: Micros,
}

/// The shard's kernel forwarding state.
#[derive(Debug, Default)]
pub(crate) struct Offloads {
    /// The address media is bound to: `None` while kernel forwarding is off.
    pub bind: Option<Ipv4Addr>,
    pub streams: HashMap<ChannelId, Stream>,
    pub requests: Vec<OffloadRequest>,
    /// Commands held back until the streams they touch are back.
    pub deferred: VecDeque<(RequestId, Command)>,
    /// Channels that may not go to the kernel before the given time.
    pub cooldown: HashMap<ChannelId, Micros>,
    /// Where the scan for candidates continues.
    pub cursor: u32,
    /// Streams added and removed, and packets the kernel forwarded (taken in so far).
    pub totals: OffloadTotals,
}

/// A shard's kernel forwarding counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OffloadTotals {
    /// Streams in the kernel now.
    pub streams: u64,
    /// Streams handed to the kernel so far.
    pub added: u64,
    /// Streams the kernel refused (table full, no route, ...).
    pub refused: u64,
    /// Streams taken back so far.
    pub removed: u64,
    /// Packets the kernel forwarded, as read back so far.
    pub packets: u64,
}

impl Offloads {
    /// Whether anything is in the kernel or on its way (so commands must be looked at).
    pub fn busy(&self) -> bool {
        !self.streams.is_empty() || !self.deferred.is_empty()
    }

    /// Whether a request is still unanswered.
    pub fn in_flight(&self) -> bool {
        self.streams
            .values()
            .any(|s| !matches!(s.state, State::Kernel(_)))
    }
}

/// The channels a command acts on (at most two), for deciding which streams must come
/// back first (for `QueryStats` the caller reads the counters instead).
pub(crate) fn channels_of(cmd: &Command) -> [Option<ChannelId>; 2] {
    match cmd {
        Command::Bridge { a, b } => [Some(*a), Some(*b)],
        Command::Supervise {
            agent, supervisor, ..
        } => [Some(*agent), Some(*supervisor)],
        Command::JoinRoom { channel, .. } => [Some(*channel), None],
        Command::StartTap {
            target: TapTarget::Channel(c),
            ..
        }
        | Command::StartFork {
            target: TapTarget::Channel(c),
            ..
        } => [Some(*c), None],
        // The rest act on the one object they name (a channel, or none of a bridge's).
        _ => match cmd.object() {
            Object::Channel(c) => [Some(c), None],
            _ => [None, None],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_others_are_refused_by_name() {
        assert_eq!("auto".parse(), Ok(KernelForwarding::Auto));
        assert_eq!("on".parse(), Ok(KernelForwarding::On));
        assert_eq!("off".parse(), Ok(KernelForwarding::Off));
        let e = "yes".parse::<KernelForwarding>().unwrap_err();
        assert!(e.to_string().contains("\"yes\""));
    }

    #[test]
    fn commands_name_the_channels_whose_streams_come_back() {
        let (a, b) = (ChannelId(1), ChannelId(2));
        assert_eq!(channels_of(&Command::Bridge { a, b }), [Some(a), Some(b)]);
        assert_eq!(
            channels_of(&Command::DestroyChannel { channel: a }),
            [Some(a), None]
        );
        assert_eq!(
            channels_of(&Command::StopTap {
                tap: crate::ids::TapId(3)
            }),
            [None, None]
        );
        let play = Command::StopPlay {
            target: crate::spec::PlayTarget::Channel(b),
        };
        assert_eq!(channels_of(&play), [Some(b), None]);
    }
}
