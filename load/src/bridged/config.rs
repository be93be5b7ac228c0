//! What a two-party load run is told ([`LoadGenConfig`]) and what it reports
//! ([`LoadReport`]); the generator and its worker threads both use them.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a load run is shaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadGenConfig {
    /// How long every stream sends.
    pub duration: Duration,
    /// Time allowed after the last send for packets in flight.
    pub drain: Duration,
    /// Packet interval per stream (20 ms: 50 packets/s, G.711 at 20 ms packetisation).
    pub period: Duration,
    /// Longest wait for the relay to latch every call before the load starts anyway.
    pub prime_timeout: Duration,
    /// Local address of the endpoint sockets (`None`: the wildcard of the targets' family).
    pub bind: Option<IpAddr>,
    /// Pin thread `i` of the load generator to CPU `cpus[i % cpus.len()]` (none if empty).
    pub cpus: Vec<usize>,
    /// Threads, each driving an equal share of the calls (at least 1).
    pub threads: usize,
    /// Shortest sleep between turns of the send loop: sends are at most about this late, and
    /// at high rates go out in bursts of this much schedule. Shorter is smoother but costs
    /// the generator (and the relay, woken more often) more wake-ups. Zero busy-polls: the
    /// thread never sleeps (a whole CPU, but no wake-up latency).
    pub tick: Duration,
}

impl Default for LoadGenConfig {
    fn default() -> LoadGenConfig {
        LoadGenConfig {
            duration: Duration::from_secs(10),
            drain: Duration::from_millis(200),
            period: Duration::from_millis(20),
            prime_timeout: Duration::from_secs(1),
            bind: None,
            cpus: Vec::new(),
            threads: 1,
            tick: Duration::from_micros(50),
        }
    }
}

/// What one load run measured. Latencies are one-way (send to receive through the relay) in
/// microseconds; the `send_lag` figures say how late the generator sent against its schedule
/// (tens of µs is the timer granularity; much more means the generator itself is overloaded
/// or was not scheduled).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    /// Bridged calls (two streams each).
    pub calls: usize,
    /// Length of the send phase in seconds.
    pub duration_s: f64,
    /// Measured packets sent.
    pub sent: u64,
    /// Measured packets received (unique; duplicates not counted).
    pub received: u64,
    /// `sent - received`, summed per stream.
    pub lost: u64,
    /// `lost / sent`.
    pub loss_ratio: f64,
    /// Packets that arrived after a higher sequence number of their stream.
    pub reordered: u64,
    /// Extra copies of packets already received.
    pub duplicates: u64,
    /// Median latency, µs.
    pub latency_p50_us: f64,
    /// 99th percentile latency, µs.
    pub latency_p99_us: f64,
    /// 99.9th percentile latency, µs.
    pub latency_p999_us: f64,
    /// Largest latency, µs.
    pub latency_max_us: f64,
    /// Packets of this run received on the wrong call or endpoint (cross-talk).
    pub misrouted: u64,
    /// Datagrams that were not RTP with an intact measurement payload.
    pub malformed: u64,
    /// Sends the kernel refused (not counted as sent).
    pub send_errors: u64,
    /// Calls whose two endpoints had not both received a priming packet when the load began.
    pub unprimed_calls: usize,
    /// 99th percentile of send lateness against the schedule, µs.
    pub send_lag_p99_us: f64,
    /// Largest send lateness, µs.
    pub send_lag_max_us: f64,
    /// Latency samples taken with the generator's clock because the kernel gave no receive
    /// time stamp (0 normally).
    pub rx_stamp_fallbacks: u64,
    /// CPU time the load generator's threads used for the whole run (priming, load, drain), s.
    pub loadgen_cpu_s: f64,
}
