//! Errors of the engine handle.

use thiserror::Error;

/// Why an engine operation failed. The engine's state is unchanged when one is returned.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The configuration is unusable.
    #[error("engine configuration: {0}")]
    Config(String),
    /// Every port of the shard's range is in use.
    #[error("no free port on shard {0}")]
    NoFreePort(usize),
    /// A shard's command queue is full (the shard is overloaded or stalled).
    #[error("command queue of shard {0} is full")]
    QueueFull(usize),
    /// A shard did not answer a request in time (it is overloaded or stalled).
    #[error("shard {0} did not answer in time")]
    Timeout(usize),
    /// The engine was shut down.
    #[error("engine is shut down")]
    ShutDown,
    /// The command names channels or rooms on different shards, so media cannot pass
    /// between them.
    #[error("{0}")]
    DifferentShards(String),
    /// A socket operation failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
}
