//! What the harness measures: a relay of bridged calls ([`Relay`]) or of conference rooms
//! ([`ConferenceRelay`]), started per load level and asked for its CPU time and packet count
//! around the load.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::shards::ShardCounters;
use crate::target::CallTarget;
use crate::timing::ShardTiming;

/// A relay of bridged calls under test: the engine, the [`RawRelay`](crate::RawRelay)
/// baseline, or a daemon driven over ng ([`NgRelay`](crate::NgRelay)).
///
/// The harness creates one per load level with the number of calls, sends load to
/// [`targets`](Relay::targets), and reads [`cpu_time`](Relay::cpu_time) and
/// [`packets_relayed`](Relay::packets_relayed) before and after.
///
/// A relay that hands out its ports only once told where the endpoints are (offer/answer)
/// says so with [`endpoints_needed`](Relay::endpoints_needed): the harness then binds the
/// endpoints first and calls [`connect`](Relay::connect) with their addresses before asking
/// for the targets.
pub trait Relay {
    /// Short name for the results table (`"raw"`, `"engine"`, …).
    fn name(&self) -> &str;
    /// The ports of every call, in call order.
    fn targets(&self) -> Vec<CallTarget>;
    /// `Some((calls, ip))` if the relay must learn the endpoints' addresses (bound on `ip`)
    /// before it has ports; `None` if its ports exist already.
    fn endpoints_needed(&self) -> Option<(usize, IpAddr)> {
        None
    }
    /// Sets up every call with its endpoints' addresses (`a_port`: endpoint a, `b_port`:
    /// endpoint b), after which [`targets`](Relay::targets) names the relay's ports.
    fn connect(&mut self, endpoints: &[CallTarget]) -> io::Result<()> {
        let _ = endpoints;
        Ok(())
    }
    /// Per-shard datagram counters, for a relay with shards that reports them (empty if
    /// not).
    fn shard_counters(&self) -> io::Result<Vec<ShardCounters>> {
        Ok(Vec::new())
    }
    /// The shard owning relay port `port`, if the relay has shards with port ranges of
    /// their own.
    fn shard_of(&self, port: SocketAddr) -> Option<usize> {
        let _ = port;
        None
    }
    /// The shards' tick-duration and dwell histograms so far, for a relay that reports
    /// them (`None` if not).
    fn timing(&self) -> io::Result<Option<ShardTiming>> {
        Ok(None)
    }
    /// CPU time (user + system) used so far by the threads that relay packets.
    fn cpu_time(&self) -> io::Result<Duration>;
    /// Datagrams forwarded so far.
    fn packets_relayed(&self) -> u64;
    /// Stops relaying and releases the ports.
    fn stop(self: Box<Self>);
}

/// A relay of conference rooms under test (the engine's rooms).
pub trait ConferenceRelay {
    /// Short name for the report.
    fn name(&self) -> &str;
    /// Participants per room.
    fn participants_per_room(&self) -> usize;
    /// Every participant's port, room by room.
    fn ports(&self) -> Vec<SocketAddr>;
    /// CPU time (user + system) of the threads that mix, so far.
    fn cpu_time(&self) -> io::Result<Duration>;
    /// Datagrams sent so far.
    fn packets_relayed(&self) -> u64;
    /// The relay's own jitter-buffer counters, summed over every participant, if it can
    /// report them: what explains slots that arrive neither marked nor silent.
    fn jitter(&self) -> Option<RelayJitter> {
        None
    }
    /// Stops and releases the ports.
    fn stop(self: Box<Self>);
}

/// A relay's jitter-buffer counters summed over its participants' channels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayJitter {
    /// Frames concealed (losses, late packets, frames inserted to grow the buffer, and the
    /// fade-out after a stream's last packet).
    pub concealed_frames: u64,
    /// Of those, frames inserted to grow the buffer.
    pub stretched_frames: u64,
    /// Frames skipped to shrink the buffer.
    pub dropped_frames: u64,
    /// Packets that arrived after their playout time.
    pub late_packets: u64,
}
