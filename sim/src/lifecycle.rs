//! The call-lifecycle transitions the model reports to an observer.
//!
//! The model ([`crate::model::Run`]) calls [`CallObserver::transition`] at every step of a
//! call through the centre, after it has made its own decision. The observer only watches:
//! it has no way to change what the model does, so a run with an observer takes exactly the
//! same decisions as a run without one. Drive mode turns these transitions into media.

/// A call's identity for observers: unique within a run (the model's call slot in the low
/// 32 bits, the slot's generation in the high 32), or, for an outbound callback attempt
/// before it connects, [`OUTBOUND_DIAL`] plus the callback list entry.
pub type CallKey = u64;

/// Key bit of an outbound callback attempt that has not connected (no model call yet).
pub const OUTBOUND_DIAL: CallKey = 1 << 63;

/// The key of a step that belongs to no call (a trunk loss: nothing was connected).
pub const NO_CALL: CallKey = u64::MAX;

/// Why a call left the centre.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ending {
    /// Found no IVR port and hung up (IVR loss).
    IvrLost,
    /// Finished in IVR self-service.
    SelfService,
    /// Hung up while queued (queue loss).
    QueueAbandoned,
    /// Hung up while an agent's phone rang (ring loss).
    RingAbandoned,
    /// The conversation with the agent ended.
    TalkEnded,
    /// Released with a callback entry ("smart dissuasion").
    CallbackReleased,
    /// Sent to voicemail (or back to the IVR) by an overflow rule.
    Overflow,
    /// Rejected (blacklisted: hears busy).
    Rejected,
    /// The agent hung up, and no IVR port was free for what the flow runs after the agent
    /// (its survey): the call is released.
    NoPortAfterAgent,
    /// The IVR flow ended the call after anything but self-service: a voicemail left, a
    /// survey after the agent, a callback requested, a transfer, no input, a hang-up in the
    /// flow.
    FlowEnded,
}

/// What an outbound callback attempt finds at the far end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FarEnd {
    /// The customer's phone rings, and the customer answers.
    Answers,
    /// The phone rings out unanswered.
    NoAnswer,
    /// The line is busy.
    Busy,
    /// The number is not assigned (a special information tone, vacant code).
    Unassigned,
}

/// One step of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transition {
    /// An arrival found every trunk channel seized (trunk loss): no media at all.
    TrunkBlocked,
    /// An arrival seized a trunk channel: the call exists from now on.
    Seized {
        /// A VIP, who skips the IVR.
        vip: bool,
    },
    /// An IVR port answered: the greeting and menu play for the IVR time.
    IvrStarted,
    /// No IVR port was free: the caller hears nothing until hanging up.
    IvrNoPort,
    /// The call reached the ACD (from the IVR, or directly).
    ReachedAcd,
    /// The call waits in the queue at `position` (1 = next).
    Queued {
        /// Calls ahead plus one.
        position: u32,
    },
    /// An agent's phone rings for the call.
    Ringing {
        /// The agent.
        agent: u32,
    },
    /// The agent answered: caller and agent talk.
    Answered {
        /// The agent.
        agent: u32,
    },
    /// An agent dials a callback (key: [`OUTBOUND_DIAL`] | entry).
    OutboundDialling {
        /// The agent.
        agent: u32,
    },
    /// A callback attempt was placed and finds `far` (key: [`OUTBOUND_DIAL`] | entry):
    /// what the dialling agent hears until the attempt ends.
    OutboundProgress {
        /// The far end's state.
        far: FarEnd,
    },
    /// A callback attempt did not connect (key: [`OUTBOUND_DIAL`] | entry).
    OutboundFailed,
    /// A callback connected: the customer and the agent talk. The key is the new call's;
    /// `dial` is the attempt's key.
    OutboundAnswered {
        /// The agent.
        agent: u32,
        /// Key of the dialling attempt.
        dial: CallKey,
    },
    /// The call left the centre (its channel is released).
    Ended(Ending),
    /// The caller's walk through the IVR flow starts, with the dialled number at this index
    /// of the scenario's `[ivr] dnis` (0 without any).
    FlowStarted {
        /// Index of the dialled number.
        dnis: u16,
        /// The caller's number (`u64::MAX`: withheld).
        ani: u64,
    },
    /// The walk entered the flow's node at this index.
    FlowNode {
        /// The node's index in the flow.
        node: u32,
    },
    /// The simulated caller keyed `key` (in the node the walk is in).
    FlowKey {
        /// The key: `0`-`9`, `*`, `#`, `A`-`D`.
        key: char,
    },
    /// The simulated caller hung up during the flow (in the node the walk is in).
    FlowHangup,
    /// A survey node of the flow took its result (`None`: the caller keyed no score).
    FlowSurvey {
        /// The score keyed.
        score: Option<u8>,
    },
    /// An overflow rule of the ACD took the call out of its queue, back to the flow (the
    /// queue node's overflow branch).
    FlowOverflow,
    /// The agent hung up and the call stays in the flow (its survey): the caller's channel
    /// stays up; an `Ended` follows when the flow ends.
    AgentHungUp,
}

/// Watches a run's calls. Called in time order, after the model's own state has changed.
pub trait CallObserver {
    /// Call `call` took step `step` at simulated time `t` (seconds).
    fn transition(&mut self, t: f64, call: CallKey, step: Transition);
}

/// Makes a call key from a model slot and its generation.
pub fn call_key(slot: u32, generation: u32) -> CallKey {
    (u64::from(generation) << 32) | u64::from(slot)
}

/// Collects every transition (for tests and for replaying a run).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transcript {
    /// `(t, call, step)` in the order reported.
    pub steps: Vec<(f64, CallKey, Transition)>,
}

impl CallObserver for Transcript {
    fn transition(&mut self, t: f64, call: CallKey, step: Transition) {
        self.steps.push((t, call, step));
    }
}
