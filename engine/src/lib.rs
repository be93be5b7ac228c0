//! Tandem's media switching engine: shards, channels, jitter buffers, bridges and drivers.
//!
//! The core is sans-I/O: a [`Shard`](shard::Shard) takes received datagrams, commands and
//! `now`, and returns datagrams to send, events and its next deadline. Drivers own sockets
//! and clocks: [`MemoryEngine`](driver::memory::MemoryEngine) runs shards on a simulated
//! network with a virtual clock.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod channel;
pub mod command;
pub mod driver;
pub mod error;
pub mod event;
pub mod ids;
pub mod jitter;
pub mod ports;
pub mod shard;
pub mod spec;
pub mod stats;
pub mod transmit;

pub use command::Command;
pub use driver::memory::{ChannelInfo, MemoryEngine, NetworkConditions};
pub use error::EngineError;
pub use event::Event;
pub use ids::{ChannelId, GroupKey};
pub use spec::{ChannelSpec, Codec, RtcpMode};
pub use stats::ChannelStats;
