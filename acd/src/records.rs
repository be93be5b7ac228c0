//! Counters and records for reports: what the ACD decided, per call and per agent.
//!
//! Counters are always kept (a few integer increments). Per-call and per-agent records cost
//! memory per event, so they are off unless asked for, and the driver drains them as it goes.

use serde::{Deserialize, Serialize};

use crate::time::Seconds;
use crate::types::{AgentId, AgentState};

/// Counters of everything the ACD decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcdStats {
    /// Inbound calls that reached the ACD.
    pub offered: u64,
    /// Inbound calls answered by an agent.
    pub answered: u64,
    /// Calls (inbound and callbacks) completed after talking.
    pub completed: u64,
    /// Callers who hung up in queue.
    pub abandoned_in_queue: u64,
    /// Callers who hung up while an agent's phone rang.
    pub abandoned_ringing: u64,
    /// Blacklisted callers rejected.
    pub rejected: u64,
    /// Calls sent to the IVR by overflow.
    pub overflow_ivr: u64,
    /// Calls sent to voicemail by overflow.
    pub overflow_voicemail: u64,
    /// Calls moved to another queue by overflow.
    pub overflow_queue: u64,
    /// Calls released with a callback entry (or already listed).
    pub callback_offered: u64,
    /// Callers offered a callback who declined it and stayed in the queue.
    pub callback_declined: u64,
    /// Callback entries served (answered by the customer).
    pub callback_served: u64,
    /// Callback entries that expired or ran out of attempts.
    pub callback_expired: u64,
    /// Ring-no-answer events.
    pub ring_no_answer: u64,
}

/// Time an agent spent in each state, and calls handled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentStats {
    /// Seconds in each state, indexed as [`AgentState::ALL`].
    pub seconds_in: [f64; 6],
    /// Calls answered (inbound and callbacks).
    pub calls_handled: u64,
}

impl AgentStats {
    /// Seconds in `state`.
    pub fn seconds(&self, state: AgentState) -> f64 {
        self.seconds_in[state as usize]
    }

    /// Seconds logged in (every state but offline).
    pub fn logged_in(&self) -> f64 {
        self.seconds_in[1..].iter().sum()
    }

    /// Occupancy as the KPI defines it: (talk + after-call work) ÷ logged-in time. Ringing
    /// counts as available time. `None` before any logged-in time.
    pub fn occupancy(&self) -> Option<f64> {
        let logged = self.logged_in();
        (logged > 0.0).then(|| {
            (self.seconds(AgentState::Talking) + self.seconds(AgentState::AfterCallWork)) / logged
        })
    }
}

/// One stretch of an agent in one state, kept when agent records are enabled with
/// [`Acd::set_agent_records`](crate::Acd::set_agent_records).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRecord {
    /// The agent.
    pub agent: AgentId,
    /// The state it was in.
    pub state: AgentState,
    /// When it entered the state.
    pub from: Seconds,
    /// When it left the state.
    pub to: Seconds,
}
