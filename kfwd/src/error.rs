//! Why the fast path is unavailable, and why an operation on it failed.

/// Why the kernel fast path cannot be used; the relay then forwards everything in
/// userspace.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unavailable {
    /// The BPF program was not compiled into this build (no clang or BPF headers at build
    /// time, or not Linux).
    #[error("kernel forwarding not built: {0}")]
    NotBuilt(&'static str),
    /// The kernel refused BPF to this process (needs root, or CAP_BPF and CAP_NET_ADMIN).
    #[error("kernel forwarding not permitted: {0}")]
    NotPermitted(String),
    /// The kernel could not load the program (too old, or the verifier refused it).
    #[error("kernel forwarding program not loaded: {0}")]
    LoadFailed(String),
    /// No interface was given.
    #[error("kernel forwarding needs at least one interface")]
    NoInterface,
    /// The program could not be attached to an interface.
    #[error("kernel forwarding not attached to {interface}: {reason}")]
    AttachFailed {
        /// The interface.
        interface: String,
        /// What the kernel said.
        reason: String,
    },
}

/// A failed operation on a stream.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Every stream slot is in use.
    #[error("kernel forwarding table full ({0} streams)")]
    Full(u32),
    /// Another stream already arrives at this local address.
    #[error("a stream already arrives at {0}")]
    Duplicate(std::net::SocketAddrV4),
    /// The handle names no current stream (removed already).
    #[error("no such kernel-forwarded stream")]
    UnknownStream,
    /// The kernel has no route to the peer from the relay's output address.
    #[error("no route to {0}: {1}")]
    NoRoute(std::net::SocketAddrV4, String),
    /// A field of the rule is out of range.
    #[error("invalid stream rule: {0}")]
    InvalidRule(&'static str),
    /// A map operation failed.
    #[error("kernel forwarding map {map}: {reason}")]
    Map {
        /// The map.
        map: &'static str,
        /// What the kernel said.
        reason: String,
    },
}
