//! Tandem's media switching engine: channels, bridges, conference rooms, recordings,
//! players and DTMF for G.711 RTP, one shard per core.
//!
//! # Two ways to run it
//!
//! An application talks to an engine through one trait, [`MediaEngine`]: create channels
//! (each an RTP endpoint on a local port), give [`Command`]s (bridge, join a room, play,
//! record, supervise), and poll [`Event`]s (first packet, DTMF digits, media timeout, a
//! command that failed). Two engines implement it:
//!
//! - [`Engine`], the threaded engine: one thread per shard, each on a UDP driver (mio with
//!   `recvmmsg`/`sendmmsg`, or io_uring) in real time, commanded through bounded queues.
//!   Its handle is `Sync`; share it in an `Arc`.
//! - [`MemoryEngine`]: the same shards on a simulated network with a virtual clock, a seed
//!   and [`NetworkConditions`] (delay, jitter, loss). A run is a pure function of its
//!   inputs, and runs as fast as the machine allows: tests and the simulator use it.
//!
//! ```
//! use tandem_engine::{ChannelSpec, Command, Event, GroupKey, MediaEngine, MemoryEngine};
//! use tandem_engine::{Micros, NetworkConditions};
//!
//! fn call(engine: &mut dyn MediaEngine) -> Result<(), tandem_engine::EngineError> {
//!     // Both legs of a call share a group, so they share a shard.
//!     let a = engine.create_channel(GroupKey(7), ChannelSpec::default())?;
//!     let b = engine.create_channel(GroupKey(7), ChannelSpec::default())?;
//!     engine.command(Command::Bridge { a: a.id, b: b.id })?;
//!     engine.barrier()
//! }
//!
//! let mut engine = MemoryEngine::new(2, NetworkConditions::default(), 1);
//! call(&mut engine)?;
//! engine.advance_by(Micros::from_secs(1));
//! while let Some(event) = engine.poll_event() {
//!     assert!(!matches!(event, Event::CommandFailed { .. }));
//! }
//! # Ok::<(), tandem_engine::EngineError>(())
//! ```
//!
//! # The run loop
//!
//! Underneath both is the sans-I/O [`Shard`](sansio::Shard). It never reads a clock,
//! sleeps or touches a socket: a driver gives it what happened and takes what it wants
//! done. An embedder with its own sockets and clock runs one shard per core like this:
//!
//! ```no_run
//! # use tandem_engine::sansio::{Shard, ShardConfig};
//! # use tandem_engine::Micros;
//! # fn now() -> Micros { Micros::ZERO }
//! # fn wait_for_datagram(_until: Micros) -> Option<(u16, std::net::SocketAddr, Vec<u8>)> { None }
//! # fn send(_from_port: u16, _to: std::net::SocketAddr, _bytes: &[u8]) {}
//! let mut shard = Shard::new(ShardConfig::new(0, 42), now());
//! loop {
//!     // 1. Wait for a datagram or the shard's next deadline, whichever comes first.
//!     match wait_for_datagram(shard.next_deadline()) {
//!         Some((local_port, from, bytes)) => shard.handle_datagram(now(), local_port, from, &bytes),
//!         // 2. At the deadline, the tick: playout, mixing, players, timeouts, RTCP.
//!         None => shard.tick(now()),
//!     }
//!     // 3. Send what it produced (a driver may batch them into one syscall).
//!     while let Some(t) = shard.poll_transmit() {
//!         send(t.local_port, t.dest, t.payload);
//!     }
//!     // 4. Hand its events to the application.
//!     while let Some(event) = shard.poll_event() {
//!         println!("{event:?}");
//!     }
//! }
//! ```
//!
//! Commands enter the same loop through `Shard::handle_command`; the threaded engine
//! queues them to each shard thread and applies them at the start of its next turn.
//!
//! # Time
//!
//! Every instant is a [`Micros`] on the driver's clock; a shard is told `now` and answers
//! with its next deadline. Settings a person writes (a ptime, a timeout) are milliseconds.
//!
//! # Examples
//!
//! `examples/bridge_udp.rs` bridges two phones over UDP, `examples/conference.rs` records a
//! three-party conference, `examples/in_memory.rs` tests a call on the in-memory engine, and
//! `examples/ivr_flow.rs` runs an IVR flow ([`IvrSession`]) against a simulated phone.
//!
//! A tap records a call to a file, or forks it live ([`ForkSpec`]): each direction streamed
//! as RTP to a UDP destination or read in process, off the media path.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod channel;
mod command;
mod driver;
mod error;
mod event;
mod ids;
mod ivr_session;
pub mod jitter;
mod media_engine;
pub mod netsim;
mod offload;
mod player;
mod ports;
mod room;
mod shard;
mod slab;
mod spec;
mod stats;
mod tap;
mod threaded;
mod time;
mod transmit;

pub use command::Command;
pub use driver::histogram::{TICK_BUCKETS, TICK_BUCKETS_US, TickHistogram};
pub use driver::memory::{Delivered, MemoryEngine};
pub use error::{CommandError, EngineError, Overload};
pub use event::Event;
pub use ids::{ChannelId, GroupKey, Object, RequestId, RoomId, TapId};
pub use ivr_session::{
    IvrConfig, IvrOutput, IvrSession, IvrSessionError, MAX_GENERATED_MS, MAX_TAG, PromptSet,
    PromptSetError, VoicemailRecord,
};
pub use media_engine::{ChannelInfo, MediaEngine};
pub use netsim::NetworkConditions;
pub use offload::{
    Feature, KernelForwarding, KernelForwardingStats, NotOffloadable, OffloadTotals,
    UnknownKernelForwarding,
};
pub use player::{PlayItem, PlaySpec, Prompt, PromptCache, PromptError};
pub use ports::{MediaAddresses, shard_of_port};
pub use shard::{AdmissionLimits, ShardLoad};
pub use spec::{
    ChannelSpec, Codec, DtmfSettings, Latching, MediaFilter, ParticipantOptions, PlayTarget,
    RoomOptions, RtcpMode, SrtpKeys, SuperviseMode, TapMode, TapSpec, TapTarget,
};
pub use stats::ChannelStats;
pub use tap::fork::{
    ForkDestination, ForkEncoding, ForkInbox, ForkSpec, ForkStream, L16_PAYLOAD_TYPE,
};
pub use threaded::{DriverKind, Engine, EngineBuilder, ShardThreadStats, UnknownDriver};
pub use time::Micros;

/// The sans-I/O core, for an embedder that runs shards on its own sockets and clock (see
/// the run loop above), and for benchmarks of its parts.
pub mod sansio {
    pub use crate::offload::{KernelClock, OffloadRequest, Plan};
    pub use crate::room::mix;
    pub use crate::shard::{LOAD_WINDOW, LoadMeter, Shard, ShardConfig, ShardStats};
    pub use crate::tap::TapHandoff;
    pub use crate::tap::writer::TapWriter;
    pub use crate::transmit::Transmit;
}
