//! What the harness measures: a relay of bridged calls, and the two ports it exposes per call.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The two ports a relay exposes for one bridged call.
///
/// Endpoint a (the caller) sends to `a_port`; the relay forwards out of `b_port` to the address
/// it latched from endpoint b's packets on `b_port` (symmetric RTP), and vice versa.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CallTarget {
    /// The port endpoint a sends to and receives from.
    pub a_port: SocketAddr,
    /// The port endpoint b sends to and receives from.
    pub b_port: SocketAddr,
}

/// A relay under test: the engine, or the [`RawRelay`](super::RawRelay) baseline.
///
/// The harness creates one per load level with the number of calls, sends load to
/// [`targets`](Relay::targets), and reads [`cpu_time`](Relay::cpu_time) and
/// [`packets_relayed`](Relay::packets_relayed) before and after.
pub trait Relay {
    /// Short name for the results table (`"raw"`, `"engine"`, …).
    fn name(&self) -> &str;
    /// The ports of every call, in call order.
    fn targets(&self) -> Vec<CallTarget>;
    /// CPU time (user + system) used so far by the threads that relay packets.
    fn cpu_time(&self) -> io::Result<Duration>;
    /// Datagrams forwarded so far.
    fn packets_relayed(&self) -> u64;
    /// Stops relaying and releases the ports.
    fn stop(self: Box<Self>);
}
