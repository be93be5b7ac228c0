//! Identifiers, states and the ACD's outputs.

use serde::{Deserialize, Serialize};

use crate::time::Seconds;

/// An agent, by index into [`AcdConfig::agents`](crate::AcdConfig::agents).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AgentId(pub u32);

/// A queue, by index into [`AcdConfig::queues`](crate::AcdConfig::queues).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QueueId(pub u32);

/// A call known to the ACD. Ids are reused after a call ends; the generation in the high
/// bits tells a stale id (for example in a late timer) from the current one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

impl CallId {
    pub(crate) fn new(index: u32, generation: u32) -> CallId {
        CallId((u64::from(generation) << 32) | u64::from(index))
    }

    /// A dense index, unique among live calls and reused after a call ends: drivers can
    /// keep per-call data in a `Vec` indexed by it instead of a map.
    pub fn slot(self) -> usize {
        (self.0 & 0xFFFF_FFFF) as usize
    }

    pub(crate) fn index(self) -> usize {
        self.slot()
    }

    pub(crate) fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

/// An entry in the callback list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallbackId(pub u64);

/// Agent states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AgentState {
    /// Logged out.
    Offline,
    /// Ready for a call.
    Idle,
    /// Logged in but not taking calls.
    NotReady,
    /// A call is being offered (inbound) or dialled (callback).
    Ringing,
    /// On a call.
    Talking,
    /// After-call work.
    AfterCallWork,
}

impl AgentState {
    /// All states, in the order of [`AgentStats::seconds_in`](crate::AgentStats).
    pub const ALL: [AgentState; 6] = [
        AgentState::Offline,
        AgentState::Idle,
        AgentState::NotReady,
        AgentState::Ringing,
        AgentState::Talking,
        AgentState::AfterCallWork,
    ];
}

/// Where a call inside the ACD is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallState {
    /// Waiting in a queue.
    Queued(QueueId),
    /// Offered to an agent whose phone is ringing.
    Ringing(AgentId),
    /// Connected to an agent.
    Talking(AgentId),
    /// Ended, in one terminal state.
    Ended(Terminal),
}

/// How a call left the ACD. Every call ends in exactly one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Terminal {
    /// Answered by an agent and completed.
    Completed,
    /// The caller hung up while waiting in queue.
    AbandonedInQueue,
    /// The caller hung up while an agent's phone rang.
    AbandonedRinging,
    /// Rejected on arrival (blacklist: the caller hears busy).
    Rejected,
    /// Sent back to the IVR by an overflow rule.
    OverflowToIvr,
    /// Sent to voicemail by an overflow rule.
    OverflowToVoicemail,
    /// Released after a callback offer; the number is on the callback list.
    CallbackReleased,
}

/// Timers the ACD asks its driver to arm with [`Action::ArmTimer`]: the only way it learns
/// that time has passed without an input. A timer is never cancelled; one that has become
/// stale (its call answered, its agent heard from, its entry served) does nothing when it
/// fires, so a driver fires every timer it was given, late or not, and nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Timer {
    /// Ring-no-answer for a call offered to an agent.
    RingTimeout(CallId, AgentId),
    /// Overflow rule `rule` of the call's queue, armed when it entered `queue`.
    Overflow(CallId, QueueId, u8),
    /// The sticky-agent wait of a call ran out.
    StickyExpired(CallId),
    /// The configured callback start time
    /// ([`CallbackConfig::start_at_s`](crate::CallbackConfig::start_at_s)): idle agents dial
    /// waiting callbacks. Armed once, when the ACD is built.
    CallbackStart,
    /// The oldest waiting callback entry reaches its age limit
    /// ([`CallbackConfig::expire_after_s`](crate::CallbackConfig::expire_after_s)): entries
    /// that old expire. One is armed whenever entries wait and none is armed.
    CallbackExpiry,
    /// An agent's heartbeat deadline (see
    /// [`Acd::set_heartbeat_timeout`](crate::Acd::set_heartbeat_timeout)); the number tells
    /// the current deadline of the agent from an earlier one.
    Heartbeat(AgentId, u32),
}

/// What the ACD decided. The driver carries these out and reports back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    /// Ring `agent` for `call`. Report [`Acd::agent_answered`](crate::Acd::agent_answered)
    /// or [`Acd::caller_abandoned`](crate::Acd::caller_abandoned).
    Offer {
        /// The call.
        call: CallId,
        /// The agent.
        agent: AgentId,
    },
    /// The call waits in `queue` at `position` (1 = next): play music on hold and the
    /// position announcement.
    Queued {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// Calls ahead plus one.
        position: u32,
    },
    /// The call moved to another queue, keeping its age.
    Overflowed {
        /// The call.
        call: CallId,
        /// From.
        from: QueueId,
        /// To.
        to: QueueId,
    },
    /// The call left the ACD (rejected, to IVR, to voicemail, callback release).
    Released {
        /// The call.
        call: CallId,
        /// Why.
        terminal: Terminal,
    },
    /// The agent's phone rang out: the call went back to the head of its queue and the agent
    /// went not-ready.
    RingNoAnswer {
        /// The call.
        call: CallId,
        /// The agent.
        agent: AgentId,
    },
    /// Dial a callback from `agent` to `number`; report the outcome with
    /// [`Acd::callback_result`](crate::Acd::callback_result).
    DialCallback {
        /// The list entry.
        entry: CallbackId,
        /// The caller's number.
        number: u64,
        /// The agent placing the call.
        agent: AgentId,
    },
    /// A callback entry expired unserved.
    CallbackExpired {
        /// The list entry.
        entry: CallbackId,
        /// The caller's number.
        number: u64,
    },
    /// Call [`Acd::timer_fired`](crate::Acd::timer_fired) with `timer` at `at` (or as soon
    /// after as the driver can).
    ArmTimer {
        /// When.
        at: Seconds,
        /// Which.
        timer: Timer,
    },
}

/// A call's record, kept when [`AcdConfig::record_calls`](crate::AcdConfig::record_calls)
/// is set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The caller's number.
    pub caller: u64,
    /// The queue the call ended in (or arrived at).
    pub queue: QueueId,
    /// When the call reached the ACD.
    pub arrived: Seconds,
    /// When the call first joined a queue (`None`: it never waited in one).
    pub queued: Option<Seconds>,
    /// When an agent answered.
    pub answered: Option<Seconds>,
    /// When the call left the ACD.
    pub ended: Seconds,
    /// The agent who answered.
    pub agent: Option<AgentId>,
    /// How it ended.
    pub terminal: Terminal,
    /// Whether it was an outbound callback.
    pub callback: bool,
}

/// Errors for commands that do not fit the current state. The state is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AcdError {
    /// No such agent.
    #[error("unknown agent {0:?}")]
    UnknownAgent(AgentId),
    /// No such queue.
    #[error("unknown queue {0:?}")]
    UnknownQueue(QueueId),
    /// No such call, or the call already ended.
    #[error("unknown or ended call {0:?}")]
    UnknownCall(CallId),
    /// The agent is not in a state that allows the command.
    #[error("agent {agent:?} is {state:?}, which does not allow {command}")]
    AgentState {
        /// The agent.
        agent: AgentId,
        /// Its state.
        state: AgentState,
        /// The command.
        command: &'static str,
    },
    /// The call is not in a state that allows the command.
    #[error("call {call:?} is {state:?}, which does not allow {command}")]
    CallState {
        /// The call.
        call: CallId,
        /// Its state.
        state: CallState,
        /// The command.
        command: &'static str,
    },
    /// No such callback entry is being dialled.
    #[error("no callback {0:?} is being dialled")]
    UnknownCallback(CallbackId),
    /// The configuration is inconsistent.
    #[error("invalid ACD configuration: {0}")]
    Config(String),
    /// A callback was asked for, and the ACD keeps no callback list.
    #[error("no callback list is configured")]
    NoCallbackList,
}
