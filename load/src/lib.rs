//! Tandem's load lab: how many calls a relay carries, and at what cost.
//!
//! A load generator ([`LoadGen`]) sends G.711 RTP, 50 packets/s per direction per call,
//! for N bridged calls through a relay's ports, and measures loss, reordering, cross-talk,
//! added one-way latency (p50/p99/p99.9, from a send time in every payload) and its own
//! send lag. Its conference twin ([`run_conference`]) does the same for rooms of K
//! participants, every listener checking every other talker's mark in its mix. Both run in
//! their own process ([`child`], behind `tandem load`, `tandem capacity` and `tandem bench`,
//! and the `tandem-loadgen` executable), so the relay's CPU time per relayed packet (from
//! `/proc`) is the relay's alone. [`run_levels`] steps through load levels with a fresh
//! relay each, stopping at the first with more than 0.1% loss; [`table()`] and [`json_line`]
//! print the results. The relays measured are the engine ([`EngineRelay`],
//! [`EngineConference`]), [`RawRelay`], a minimal `recvmmsg`/`sendmmsg` relay that shows
//! what the kernel alone costs, and relay daemons — `tandem serve` and rtpengine — started
//! by the harness and set up call by call over ng ([`NgRelay`]). [`compare`] runs several
//! side by side, alternated; [`setup_rate`] measures call set-ups per second over ng; a
//! [`Verdict`] holds the figures against the stated targets ([`verdict`]).
//!
//! Modules, one job each:
//!
//! - what is measured: [`target`] (a call's relay ports and the lists that name them),
//!   [`relay`] (the relays' traits), [`raw_relay`], [`engine_relay`], [`daemon`] (relay
//!   daemons started, pinned, measured and stopped by the harness), [`ng_relay`] (a daemon
//!   driven over ng), [`shards`] (calls and datagrams per shard), [`timing`] (tick
//!   duration and packet dwell time in the shards);
//! - the wire: [`probe`] (the one payload format both generators write and read),
//!   [`track`] (the one receive tracker: loss, order, duplicates), [`rtp_out`] (outgoing
//!   RTP), [`pacer`] (the send schedule);
//! - a generator thread: `endpoint` (its sockets), `rx_pump` (poll, `recvmmsg` drain and
//!   receive time stamps), `paced` (the thread's paced send/receive loop);
//! - the generators: [`bridged`] (two-party calls over [`bridged::worker`] threads) and
//!   [`conference`] (rooms);
//! - the search: [`runner`] (where the generator runs, the parent side of the child-process
//!   protocol), [`child`] (the child side: its command line), [`levels`] (the level ladder),
//!   [`results`] (a level's figures and their table), [`baseline`] (the raw relay's ladder as
//!   a command), [`compare`] (relays alternated level by level, medians);
//! - [`setup_rate`]: call set-ups per second over ng, with a window of requests in flight;
//! - [`overload`]: a relay at twice its highest clean level (offers made meanwhile, what
//!   it shed, the verdict on its delivered packets' latency);
//! - [`verdict`]: the stated targets and the verdict on a run;
//! - [`soak`]: a relay daemon under call churn and hostile traffic for a long time, watched
//!   for drift (memory, descriptors), leftovers after the last delete and missed ticks;
//! - [`rigs`]: workloads the criterion benches, the instruction-count gate and `tandem
//!   bench` share.
//!
//! The system calls (batched UDP, clocks, `/proc`) are `tandem-udp`'s; this crate has no
//! `unsafe`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod baseline;
pub mod bridged;
pub mod child;
pub mod compare;
pub mod conference;
pub mod daemon;
mod endpoint;
pub mod engine_relay;
pub mod levels;
pub mod ng_relay;
pub mod overload;
mod paced;
pub mod pacer;
pub mod probe;
pub mod rates;
pub mod raw_relay;
pub mod relay;
pub mod results;
pub mod rigs;
pub mod rtp_out;
pub mod runner;
mod rx_pump;
pub mod setup_rate;
pub mod shards;
pub mod soak;
pub mod table;
pub mod target;
pub mod timing;
pub mod track;
pub mod verdict;

pub use baseline::raw_capacity_main;
pub use bridged::{LoadGen, LoadGenConfig, LoadReport, run_load};
pub use child::loadgen_main;
pub use conference::{
    ConferenceConfig, ConferenceReport, ConferenceResult, MAX_PARTICIPANTS, MIN_PARTICIPANTS,
    conference_text, run_conference, run_conference_level, run_conference_loadgen,
};
pub use daemon::{DaemonKind, DaemonSpec, RelayDaemon, find_rtpengine};
pub use engine_relay::{EngineConference, EngineRelay};
pub use levels::{Level, geometric_levels, run_level, run_levels, run_levels_observed};
pub use ng_relay::NgRelay;
pub use raw_relay::RawRelay;
pub use relay::{ConferenceRelay, Relay, RelayJitter};
pub use results::{LevelResult, json_line, table};
pub use runner::{LoadGenMode, Prepared, prepare, run_loadgen};
pub use shards::{ShardCounters, ShardSpread};
pub use target::CallTarget;
pub use timing::{Quantiles, ShardTiming};
pub use verdict::{Target, Targets, TargetsMissed, Verdict};
