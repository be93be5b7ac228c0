//! Tandem's automatic call distributor (ACD).
//!
//! A pure state machine with time injected: it never reads a clock, never sleeps and touches
//! no network. Production call control and the simulator drive it the same way:
//!
//! 1. Build an [`Acd`] from an [`AcdConfig`] and log agents in.
//! 2. Feed it what happens — [`Acd::call_arrived`], [`Acd::agent_answered`],
//!    [`Acd::caller_abandoned`], [`Acd::call_ended`], [`Acd::wrap_up_done`],
//!    [`Acd::timer_fired`], [`Acd::callback_result`] — each with the current time.
//! 3. After each input, drain [`Acd::poll_action`]: offer a call to an agent (ring), queue it
//!    (music and position announcement), release it (busy, IVR, voicemail, callback), dial a
//!    callback, or arm a timer that the driver fires back later.
//!
//! Calls and agents are dense integer ids; waiting calls sit in ordered sets, so arrivals,
//! abandons and agent hand-offs cost O(log n) and nothing is hashed per call except caller
//! numbers for the VIP, blacklist and sticky-agent lists.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod acd;
mod callback;
mod config;
mod idle;
mod types;

pub use acd::{Acd, AcdStats, AgentStats, VIP_PRIORITY};
pub use config::{
    AcdConfig, AgentConfig, CallbackConfig, OverflowRule, OverflowTarget, OverflowTrigger, Policy,
    QueueConfig,
};
pub use types::{
    AcdError, Action, AgentId, AgentState, CallId, CallRecord, CallState, CallbackId, QueueId,
    Terminal, Time, Timer,
};
