//! Why a packet was not protected or unprotected, and why keying material was refused.

use thiserror::Error;

use crate::suite::Suite;

/// Why [`protect`](crate::SendContext::protect_rtp) or
/// [`unprotect`](crate::RecvContext::unprotect_rtp) refused a packet. On every error the
/// caller's buffer is left as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SrtpError {
    /// Shorter than a header plus the trailer (MKI, tag, SRTCP index) the suite needs.
    #[error("packet is {len} bytes, shorter than the {min} bytes SRTP needs")]
    TooShort {
        /// The packet's length.
        len: usize,
        /// The least length that could be valid.
        min: usize,
    },
    /// The version field is not 2.
    #[error("version is {0}, expected 2")]
    BadVersion(u8),
    /// The CSRC list or header extension runs past the end of the packet's body.
    #[error("RTP header (CSRCs or extension) runs past the end of the packet")]
    HeaderOverrun,
    /// The buffer has no room after the packet for the trailer protect appends.
    #[error("buffer of {have} bytes is too small for the {need}-byte protected packet")]
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// The length given to protect is longer than the buffer.
    #[error("packet length {len} exceeds the {have}-byte buffer")]
    LengthOverrun {
        /// The length given.
        len: usize,
        /// The buffer's length.
        have: usize,
    },
    /// The authentication tag does not match: the packet was altered, or keyed differently.
    #[error("authentication tag mismatch")]
    AuthFailed,
    /// A packet with this index was already accepted (or, when protecting, already sent:
    /// sending it again would reuse key stream).
    #[error("packet index {0} was already seen (replay)")]
    Replay(u64),
    /// The index is older than the replay window, so it cannot be checked for replay.
    #[error("packet index {0} is behind the replay window")]
    TooOld(u64),
    /// The packet's master key identifier is not the one this context was keyed with.
    #[error("unknown master key identifier")]
    UnknownMki,
    /// A sending context refuses a new SSRC when its table is full (forgetting one would reuse
    /// key stream if it came back).
    #[error("more than {0} SSRCs on one sending context")]
    TooManySsrcs(usize),
    /// The master key has protected or accepted as many packets as its lifetime allows.
    #[error("master key lifetime exhausted: the stream must be re-keyed")]
    KeyExpired,
    /// The packet index space is used up (2^48 SRTP or 2^31 SRTCP packets for one SSRC).
    #[error("packet index space exhausted: the stream must be re-keyed")]
    IndexExhausted,
}

/// Why keying material cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A master key that is not 16, 24 or 32 bytes.
    #[error("master key of {0} bytes; AES takes 16, 24 or 32")]
    BadKeyLength(usize),
    /// A master salt that is not 14 bytes.
    #[error("master salt of {0} bytes, expected 14")]
    BadSaltLength(usize),
    /// Key and salt whose length does not match the suite.
    #[error("{suite} takes {expected} bytes of key and salt, got {got}")]
    SuiteMismatch {
        /// The suite.
        suite: Suite,
        /// Key plus salt length it takes.
        expected: usize,
        /// Length given.
        got: usize,
    },
    /// An MKI length outside 1..=128 bytes.
    #[error("MKI length {0} is outside 1..=128")]
    BadMkiLength(usize),
    /// An MKI value that does not fit in its length.
    #[error("MKI value {value} does not fit in {len} bytes")]
    MkiTooLarge {
        /// The value.
        value: u64,
        /// The length in bytes.
        len: usize,
    },
    /// A key lifetime of 0 or above 2^48 packets.
    #[error("key lifetime {0} is outside 1..=2^48 packets")]
    BadLifetime(u64),
}
