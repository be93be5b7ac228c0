//! Tandem's automatic call distributor (ACD).
//!
//! A pure state machine with time injected: it never reads a clock, never sleeps and touches
//! no network. Production call control and the simulator drive it the same way:
//!
//! 1. Build an [`Acd`] from an [`AcdConfig`] and log agents in.
//! 2. Feed it what happens — [`Acd::call_arrived`], [`Acd::agent_answered`],
//!    [`Acd::caller_abandoned`], [`Acd::call_ended`], [`Acd::wrap_up_done`],
//!    [`Acd::callback_result`] and the other commands — each with the current time.
//! 3. After each input (and after [`Acd::new`]), drain [`Acd::poll_action`]: offer a call to
//!    an agent (ring), queue it (music and position announcement), release it (busy, IVR,
//!    voicemail, callback), dial a callback, or arm a timer.
//! 4. Keep every [`Action::ArmTimer`] in the driver's timer queue — a simulator's event
//!    calendar or a real-time driver's timer wheel — and call [`Acd::timer_fired`] with the
//!    [`Timer`] when its time comes, then drain the actions again. Timers are the only way
//!    the ACD hears that time has passed without an input: ring-no-answer, overflow rules,
//!    sticky-agent waits, the callback start time, callback expiry and agent heartbeats all
//!    come this way. Timers are never cancelled: a stale one is ignored when it fires.
//!
//! ```
//! use tandem_acd::{Acd, AcdConfig, Action, AgentId, Policy, QueueId, Seconds, Timer};
//!
//! let mut cfg = AcdConfig::single_queue(2, Policy::LongestIdle);
//! cfg.ring_timeout_s = Some(15.0);
//! let mut acd = Acd::new(cfg)?;
//! // The driver's timer queue: (when, timer), earliest first.
//! let mut timers: Vec<(Seconds, Timer)> = Vec::new();
//! let mut offers = Vec::new();
//! let mut drain = |acd: &mut Acd, timers: &mut Vec<(Seconds, Timer)>| {
//!     while let Some(action) = acd.poll_action() {
//!         match action {
//!             Action::ArmTimer { at, timer } => timers.push((at, timer)),
//!             Action::Offer { agent, .. } => offers.push(agent), // ring the agent's phone
//!             _ => {}
//!         }
//!     }
//!     timers.sort_by(|a, b| a.0.get().total_cmp(&b.0.get()));
//! };
//! for a in [AgentId(0), AgentId(1)] {
//!     acd.agent_login(Seconds(0.0), a)?;
//!     acd.agent_ready(Seconds(0.0), a)?;
//! }
//! let call = acd.call_arrived(Seconds(1.0), QueueId(0), 5551234)?;
//! drain(&mut acd, &mut timers);
//! // Agent 0 rings but does not answer: at 16 s the ring timeout fires and the call goes
//! // to agent 1.
//! let (at, timer) = timers.remove(0);
//! assert_eq!(at, Seconds(16.0));
//! assert!(acd.timer_fired(at, timer));
//! drain(&mut acd, &mut timers);
//! assert_eq!(offers, [AgentId(0), AgentId(1)]);
//! acd.agent_answered(Seconds(18.0), AgentId(1))?;
//! acd.call_ended(Seconds(120.0), call)?; // the agent goes to after-call work
//! acd.wrap_up_done(Seconds(130.0), AgentId(1))?; // and then takes the next call or goes idle
//! assert_eq!(acd.stats().completed, 1);
//! // Agent 1's ring timeout is still in the queue: it is stale and does nothing.
//! let (at, timer) = timers.remove(0);
//! assert!(!acd.timer_fired(at, timer));
//! assert_eq!(acd.poll_action(), None);
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
//! Time is [`Seconds`] (an `f64`) from an epoch the driver chooses: the ACD only adds and
//! compares times, which is exact for the integer and binary-fraction instants drivers use,
//! and it is the simulator's native clock.
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
mod time;
mod types;

pub use acd::{Acd, VIP_PRIORITY};
pub use config::{
    AcdConfig, AgentConfig, CallOptions, CallbackConfig, OverflowRule, OverflowTarget,
    OverflowTrigger, Policy, QueueConfig,
};
pub use records::{AcdStats, AgentRecord, AgentStats};
pub use time::Seconds;
pub use types::{
    AcdError, Action, AgentId, AgentState, CallId, CallRecord, CallState, CallbackId, QueueId,
    Terminal, Timer,
};
