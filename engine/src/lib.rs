//! Tandem's media switching engine: shards, channels, jitter buffers, bridges and drivers.
//!
//! The core is sans-I/O: a [`Shard`](shard::Shard) takes received datagrams, commands and
//! `now`, and returns datagrams to send, events and its next deadline. Drivers own sockets
//! and clocks: [`MemoryEngine`](driver::memory::MemoryEngine) runs shards on a simulated
//! network with a virtual clock; [`Engine`] runs one thread per shard on a UDP driver (mio
//! with recvmmsg/sendmmsg, or io_uring) and takes commands through bounded queues.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod channel;
pub mod command;
pub mod driver;
pub mod engine;
pub mod error;
pub mod event;
pub mod ids;
pub mod jitter;
pub mod player;
pub mod ports;
pub mod room;
pub mod shard;
pub mod spec;
pub mod stats;
pub mod tap;
pub mod transmit;

pub use command::{Command, MediaFilter, PlayTarget, SuperviseMode, TapTarget};
pub use driver::memory::{ChannelInfo, MemoryEngine, NetworkConditions};
pub use engine::{DriverKind, Engine, EngineBuilder, ShardThreadStats};
pub use error::EngineError;
pub use event::Event;
pub use ids::{ChannelId, GroupKey, RoomId};
pub use player::{PlayItem, PlaySpec, Prompt, PromptCache};
pub use ports::MediaAddresses;
pub use room::{ParticipantOptions, RoomOptions};
pub use spec::{ChannelSpec, Codec, DtmfSettings, Latching, RtcpMode};
pub use stats::ChannelStats;
pub use tap::{TapId, TapMode, TapSpec};
