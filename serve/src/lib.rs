//! `tandem serve`: Tandem as a media relay that SIP proxies drive with rtpengine's ng
//! control protocol.
//!
//! - [`bencode`] and [`sdp`]: the two wire formats, parsed totally.
//! - [`ng`]: ng messages (cookie + bencoded dictionary) and replies.
//! - [`calls`]: the call table and what each command does to the engine.
//! - [`own`]: the addresses the daemon owns (a media address naming one is a loop).
//! - [`daemon`]: UDP and TCP listeners, the retransmission cache, media timeouts, the
//!   Prometheus endpoint.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bencode;
pub mod calls;
pub mod client;
pub mod config;
pub mod daemon;
pub mod metrics;
pub mod ng;
pub mod own;
pub mod sdp;
