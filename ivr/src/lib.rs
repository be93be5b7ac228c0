//! Tandem's IVR: call flows written in TOML and a sans-I/O interpreter that runs them.
//!
//! A [`Flow`] is a set of named nodes — menus, prompts, digit collection, conditions on the
//! dialled and calling numbers, the time of day, the weekday and holiday calendars, jumps,
//! variables, voicemail, an ACD queue with a callback key and overflow, transfers, and a
//! keypad survey run after the agent hangs up. [`Flow::from_toml`] validates it and names the
//! file, line and node of any problem (the format is described in `docs/ivr.md`).
//!
//! A [`Session`] walks one call through a flow. Like the ACD it never reads a clock, sleeps or
//! touches the network: the driver feeds it the call, the caller's keys, media and network
//! [`Event`]s and timer expiries, each with the current time, and carries out the
//! [`Action`]s it polls — play prompts, stop them, record, join or leave a queue, request a
//! callback, transfer, set a variable, report a survey score, arm a timer, hang up — until
//! [`Action::End`]. The loop an embedder writes:
//!
//! ```
//! use std::sync::Arc;
//! use tandem_ivr::{Action, CallInfo, Event, Flow, Micros, Session};
//!
//! let flow = Arc::new(Flow::from_toml(r#"
//!     name = "hello"
//!     start = "menu"
//!     [nodes.menu]
//!     kind = "menu"
//!     prompts = ["welcome", "press-1-for-sales"]
//!     choices = { "1" = "sales" }
//!     [nodes.sales]
//!     kind = "queue"
//!     queue = "sales"
//! "#, "hello.toml")?);
//!
//! let mut s = Session::new(flow);
//! let call = CallInfo { dnis: "4008001234".into(), ani: "13800138000".into(), unix_time: 1_735_700_000 };
//! s.start(Micros::ZERO, call)?;
//! let mut played = Vec::new();
//! let mut queued = None;
//! // The driver's loop: carry out every action, then feed back what happened.
//! let mut drain = |s: &mut Session| {
//!     while let Some(a) = s.poll_action() {
//!         match a {
//!             Action::Play { prompts, .. } => played.extend(prompts.iter().cloned()),
//!             Action::EnterQueue { queue, .. } => queued = Some(queue),
//!             Action::ArmTimer { .. } => {} // or poll `next_deadline()` and call `advance`
//!             _ => {}
//!         }
//!     }
//! };
//! drain(&mut s);
//! s.event(Micros::from_millis(3200), Event::PromptFinished)?; // the prompts ended
//! s.key(Micros::from_millis(4000), '1')?; // the caller pressed 1
//! drain(&mut s);
//! assert_eq!(played.len(), 2);
//! assert_eq!(queued.as_deref(), Some("sales"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every call ends: a flow whose automatic edges (taken without a key from the caller) form
//! a cycle is refused when loaded, every waiting state has a deadline (prompt guard, digit
//! timeouts, recording limit, queue wait, ring timeout) except talking to an agent, and a
//! call that enters more than the flow's `max_steps` nodes ends with
//! [`EndReason::StepBudget`].
//!
//! Time is [`Micros`], whole microseconds from an epoch the driver chooses; the wall clock
//! for conditions comes from [`CallInfo::unix_time`] and the flow's fixed UTC offset.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod action;
mod check;
mod compile;
mod flow;
mod load;
mod raw;
mod session;
mod source;
mod time;
mod walk;

pub use action::{
    Action, CallInfo, EndReason, Event, Handled, IvrError, MAX_NUMBER, Outcome, Timer,
};
pub use compile::{
    MAX_DIGITS, MAX_HOLIDAYS, MAX_LIST, MAX_NAME, MAX_NODES, MAX_PROMPTS, MAX_RULES, MAX_TEXT,
    MAX_VARIABLES,
};
pub use flow::{
    Announce, Branch, Collect, Condition, Edge, Flow, Hangup, Holidays, Menu, Node, NodeId,
    NodeKind, Play, Prompts, Queue, Retry, Rule, SetVar, Survey, Transfer, Value, VarId, Voicemail,
};
pub use load::MAX_FLOW_BYTES;
pub use session::{MAX_TYPE_AHEAD, Session};
pub use source::FlowError;
pub use time::{Date, LocalTime, Micros, WEEKDAYS, parse_clock, parse_utc_offset};

/// The flows shipped with Tandem, by name: the TV-shopping sales line and the bank-style
/// menu (`ivr/flows/*.toml`, described in `docs/ivr.md`), as (name, TOML).
pub const SHIPPED_FLOWS: &[(&str, &str)] = &[
    ("tv-shopping", include_str!("../flows/tv-shopping.toml")),
    ("bank", include_str!("../flows/bank.toml")),
];

impl Flow {
    /// A shipped flow by name (see [`SHIPPED_FLOWS`]); `None` for an unknown name.
    pub fn shipped(name: &str) -> Option<Result<Flow, FlowError>> {
        SHIPPED_FLOWS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, text)| Flow::from_toml(text, &format!("built-in:{n}")))
    }
}
