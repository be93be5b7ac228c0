//! What a session takes in and gives out.

use std::sync::Arc;

use crate::flow::{NodeId, Prompts, VarId};
use crate::time::Micros;

/// The call a session runs for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallInfo {
    /// The dialled number (DNIS), up to 32 printable ASCII characters.
    pub dnis: String,
    /// The caller's number (ANI), up to 32 printable ASCII characters (may be empty).
    pub ani: String,
    /// Wall-clock time at the start, in Unix seconds; the flow's `utc_offset` turns it into
    /// local time for time-of-day, weekday and holiday conditions.
    pub unix_time: i64,
}

/// Longest DNIS or ANI.
pub const MAX_NUMBER: usize = 32;

/// Something the driver reports (besides keys and timers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The prompts of the last [`Action::Play`] finished.
    PromptFinished,
    /// The recording of the last [`Action::Record`] ended (at its limit, on its finish key,
    /// or after [`Action::StopRecording`]), lasting `duration`.
    RecordingFinished {
        /// How long it is.
        duration: Micros,
    },
    /// The queued call was connected to an agent.
    QueueAnswered,
    /// The ACD moved the call out of the queue (an overflow rule).
    QueueOverflow,
    /// The agent hung up; the caller is still on the line.
    AgentHungUp,
    /// The transfer target answered.
    TransferAnswered,
    /// The transfer target was busy, unreachable or did not answer.
    TransferFailed,
    /// The caller hung up.
    CallerHungUp,
}

/// A timer the session asked for; firing a stale one is harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timer(pub u64);

/// What the session decided. The driver carries these out in order.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Action {
    /// The call entered `node` (for per-node counts; nothing to do).
    Entered {
        /// The node.
        node: NodeId,
    },
    /// Play these prompts in order, then report [`Event::PromptFinished`]. With `barge_in`,
    /// keys are reported while they play (the session answers with
    /// [`StopPlayback`](Action::StopPlayback)).
    Play {
        /// Prompt names.
        prompts: Prompts,
        /// Keys interrupt.
        barge_in: bool,
    },
    /// Stop the prompts now playing (no [`Event::PromptFinished`] is expected).
    StopPlayback,
    /// Digit entry starts (a hint: the session itself keeps the digits and the timeouts).
    CollectDigits {
        /// Most digits.
        max_digits: u8,
        /// The key that ends entry.
        terminator: Option<char>,
        /// Wait for the first digit.
        first_digit_timeout: Micros,
        /// Wait between digits.
        inter_digit_timeout: Micros,
    },
    /// Record the caller into `mailbox` (after a beep if asked), at most `max_duration`, then
    /// report [`Event::RecordingFinished`]. The finish key, if any, is also reported as a key.
    Record {
        /// The mailbox.
        mailbox: Arc<str>,
        /// The longest recording.
        max_duration: Micros,
        /// Play a beep first.
        beep: bool,
        /// The key that ends the recording.
        finish_key: Option<char>,
    },
    /// End the recording now; still report [`Event::RecordingFinished`].
    StopRecording,
    /// Put the call in the ACD queue; report [`Event::QueueAnswered`] or
    /// [`Event::QueueOverflow`]. Keys are still reported (the callback key).
    EnterQueue {
        /// The queue's name.
        queue: Arc<str>,
        /// The key that leaves the queue with a callback request.
        callback_key: Option<char>,
    },
    /// Take the call out of the queue (callback requested, or waited too long).
    LeaveQueue {
        /// The queue.
        queue: Arc<str>,
    },
    /// Put the caller's number on the queue's callback list.
    RequestCallback {
        /// The queue.
        queue: Arc<str>,
    },
    /// Transfer the call; report [`Event::TransferAnswered`] or [`Event::TransferFailed`].
    Transfer {
        /// Where to.
        target: Arc<str>,
        /// How long the target may ring (the session also times it).
        ring_timeout: Micros,
    },
    /// Abandon the transfer in progress (it rang too long).
    CancelTransfer,
    /// A variable changed.
    SetVariable {
        /// Which.
        var: VarId,
        /// Its new value.
        value: Arc<str>,
    },
    /// A survey's result: the score keyed, or `None` when the caller gave none.
    SurveyResult {
        /// The survey's name.
        survey: Arc<str>,
        /// The score.
        score: Option<u8>,
    },
    /// Call [`Session::timer_fired`](crate::Session::timer_fired) with `timer` at `at`
    /// (or [`Session::advance`](crate::Session::advance) at
    /// [`Session::next_deadline`](crate::Session::next_deadline)).
    ArmTimer {
        /// When.
        at: Micros,
        /// Which.
        timer: Timer,
    },
    /// Release the call.
    Hangup,
    /// The session is over; always the last action.
    End(Outcome),
}

/// How a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Why.
    pub reason: EndReason,
    /// The node it ended in.
    pub node: Option<NodeId>,
    /// When.
    pub at: Micros,
    /// Node entries made.
    pub steps: u32,
}

/// Why a session ended. Every session ends with exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndReason {
    /// The flow ran to its end (a hangup node, or a node without a next one).
    Completed,
    /// The caller keyed nothing through every retry and the node has no no-input exit.
    NoInput,
    /// The caller keyed only invalid entries and the node has no exit for that.
    NoMatch,
    /// The call was transferred (the transfer target answered).
    Transferred,
    /// The transfer failed and the node has no exit for that.
    TransferFailed,
    /// The queue overflowed and the node has no exit for that.
    QueueOverflow,
    /// The agent's call ended and the queue node runs nothing after it.
    AgentHungUp,
    /// The caller hung up.
    CallerHungUp,
    /// The call entered more nodes than the flow's `max_steps`.
    StepBudget,
}

/// Whether an input changed the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// It did.
    Used,
    /// It did not apply in the session's state (a stale timer, a key during a prompt that
    /// cannot be interrupted, an event after the end).
    Ignored,
}

/// Inputs the session cannot take.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IvrError {
    /// An input before [`Session::start`](crate::Session::start).
    #[error("the session has not started")]
    NotStarted,
    /// [`Session::start`](crate::Session::start) twice.
    #[error("the session has already started")]
    AlreadyStarted,
    /// Not a DTMF key.
    #[error("{0:?} is not a key (0-9, *, #, A-D)")]
    InvalidKey(char),
    /// The call information is out of bounds.
    #[error("invalid call: {0}")]
    InvalidCall(&'static str),
}
