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
//!    callback, or arm a timer that the driver fires back later. Timers are never cancelled:
//!    a stale one is ignored when it fires.
//! 4. Call [`Acd::deadline_reached`] at [`Acd::next_deadline`] (callback start and expiry),
//!    and [`Acd::check_heartbeats`] now and then if heartbeats are used.
//!
//! ```
//! use tandem_acd::{Acd, AcdConfig, Action, AgentId, Policy, QueueId};
//!
//! let mut acd = Acd::new(AcdConfig::single_queue(2, Policy::LongestIdle))?;
//! for a in [AgentId(0), AgentId(1)] {
//!     acd.agent_login(0.0, a)?;
//!     acd.agent_ready(0.0, a)?;
//! }
//! let call = acd.call_arrived(1.0, QueueId(0), 5551234)?;
//! assert_eq!(acd.poll_action(), Some(Action::Offer { call, agent: AgentId(0) }));
//! acd.agent_answered(3.0, AgentId(0))?;
//! acd.call_ended(120.0, call)?; // the agent goes to after-call work
//! acd.wrap_up_done(130.0, AgentId(0))?; // and then takes the next call or goes idle
//! assert_eq!(acd.stats().completed, 1);
//! # Ok::<(), tandem_acd::AcdError>(())
//! ```
//!
//! Calls and agents are dense integer ids. Waiting calls sit in per-priority intrusive lists
//! and idle agents in per-queue lists ordered by idle-since, so an arrival routed to the
//! longest-idle agent, an abandon from the queue and a freed agent taking the next call are
//! all O(1) and allocate nothing in steady state. Other policies cost O(log n) (round-robin,
//! fewest calls) or O(1) (random, skills-based by level). Only caller numbers are hashed, and
//! only when a VIP, blacklist or sticky-agent list is in use.
//!
//! Time is `f64` seconds from an epoch the driver chooses: the ACD only adds and compares
//! times, which is exact for the integer and binary-fraction instants drivers use, and it
//! is the simulator's native clock.
//!
//! Reports: [`Acd::stats`] keeps counters always; per-call [`CallRecord`]s and per-agent
//! [`AgentRecord`]s are kept only when enabled and are drained by the driver.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod acd;
mod agent;
mod call;
mod callback;
mod config;
mod idle;
mod lists;
mod queries;
mod queue;
mod records;
mod routing;
mod types;

pub use acd::{Acd, VIP_PRIORITY};
pub use config::{
    AcdConfig, AgentConfig, CallbackConfig, OverflowRule, OverflowTarget, OverflowTrigger, Policy,
    QueueConfig,
};
pub use records::{AcdStats, AgentRecord, AgentStats};
pub use types::{
    AcdError, Action, AgentId, AgentState, CallId, CallRecord, CallState, CallbackId, QueueId,
    Terminal, Time, Timer,
};
