//! The interpreter: one call walking one flow.
//!
//! A session is a state machine over (node, phase). Inputs — [`Session::start`], keys,
//! [`Event`]s and timers — each carry the time; every input first fires any deadline that is
//! already due, so a driver that is late with a timer still sees events in time order. The
//! session answers by queueing [`Action`]s for [`Session::poll_action`] and keeps at most one
//! deadline, [`Session::next_deadline`].

use std::collections::VecDeque;
use std::sync::Arc;

use crate::action::*;
use crate::compile::is_key;
use crate::flow::*;
use crate::time::{LocalTime, Micros};

/// Most keys held while prompts play (keyed ahead of the next menu).
pub const MAX_TYPE_AHEAD: usize = 16;

/// What happens when the prompts now playing end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum After {
    /// A play node: on to its next node.
    Next,
    /// A menu, collect or survey: wait for keys.
    Input,
    /// Retry prompts: replay the node's own prompts.
    Reprompt,
    /// A voicemail greeting: record.
    Record,
    /// A queue greeting: join the queue.
    EnterQueue,
    /// Transfer prompts: transfer.
    Transfer,
    /// Goodbye prompts: hang up.
    Hangup,
    /// A survey's thanks: on to its next node.
    Thanks,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Idle,
    Playing { after: After, barge_in: bool },
    Input,
    Recording { stopping: bool },
    Queued,
    Connected,
    Transferring,
    Done,
}

/// One call's walk through a flow. See the crate documentation for the driver's loop.
#[derive(Clone, Debug)]
pub struct Session {
    pub(crate) flow: Arc<Flow>,
    pub(crate) call: Option<CallInfo>,
    pub(crate) started: Micros,
    pub(crate) now: Micros,
    pub(crate) node: NodeId,
    pub(crate) phase: Phase,
    pub(crate) steps: u32,
    pub(crate) attempts: u8,
    pub(crate) digits: String,
    pub(crate) type_ahead: VecDeque<char>,
    pub(crate) vars: Vec<Option<Arc<str>>>,
    pub(crate) deadline: Option<(Micros, Timer)>,
    pub(crate) timers: u64,
    /// While queued: when the wait ends, the next repeat announcement, one is playing.
    pub(crate) wait_until: Micros,
    pub(crate) next_repeat: Option<Micros>,
    pub(crate) announcing: bool,
    pub(crate) actions: VecDeque<Action>,
    pub(crate) outcome: Option<Outcome>,
}

impl Session {
    /// A session for `flow`, not started.
    pub fn new(flow: Arc<Flow>) -> Session {
        let nvars = flow.variables().len();
        Session {
            node: flow.start(),
            flow,
            call: None,
            started: Micros::ZERO,
            now: Micros::ZERO,
            phase: Phase::Idle,
            steps: 0,
            attempts: 0,
            digits: String::with_capacity(usize::from(crate::compile::MAX_DIGITS)),
            type_ahead: VecDeque::with_capacity(MAX_TYPE_AHEAD),
            vars: vec![None; nvars],
            deadline: None,
            timers: 0,
            wait_until: Micros::ZERO,
            next_repeat: None,
            announcing: false,
            actions: VecDeque::new(),
            outcome: None,
        }
    }

    /// Starts the call at the flow's first node.
    pub fn start(&mut self, now: Micros, call: CallInfo) -> Result<(), IvrError> {
        if self.phase != Phase::Idle {
            return Err(IvrError::AlreadyStarted);
        }
        for n in [&call.dnis, &call.ani] {
            if n.len() > MAX_NUMBER || !n.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(IvrError::InvalidCall(
                    "DNIS and ANI are at most 32 printable ASCII characters",
                ));
            }
        }
        self.call = Some(call);
        self.started = now;
        self.now = now;
        self.enter(self.flow.start());
        Ok(())
    }

    /// The caller pressed `key` (`0`–`9`, `*`, `#`, `A`–`D`).
    pub fn key(&mut self, now: Micros, key: char) -> Result<Handled, IvrError> {
        let key = key.to_ascii_uppercase();
        if !is_key(key) {
            return Err(IvrError::InvalidKey(key));
        }
        self.input(now)?;
        Ok(self.on_key(key))
    }

    /// Something happened on the call.
    pub fn event(&mut self, now: Micros, event: Event) -> Result<Handled, IvrError> {
        self.input(now)?;
        Ok(self.on_event(event))
    }

    /// Timer `timer` (from an [`Action::ArmTimer`]) fired. Stale timers are ignored; the live
    /// one counts as fired at its deadline even if `now` is a little earlier.
    pub fn timer_fired(&mut self, now: Micros, timer: Timer) -> Result<Handled, IvrError> {
        if self.phase == Phase::Idle {
            return Err(IvrError::NotStarted);
        }
        match self.deadline {
            Some((at, t)) if t == timer => {
                self.now = self.now.max(now).max(at);
                self.deadline = None;
                self.on_timeout();
                self.advance_to(now);
                Ok(Handled::Used)
            }
            _ => {
                self.advance_to(now);
                Ok(Handled::Ignored)
            }
        }
    }

    /// Fires every deadline due at `now` (an alternative to [`Self::timer_fired`] for drivers
    /// that poll [`Self::next_deadline`]).
    pub fn advance(&mut self, now: Micros) -> Result<Handled, IvrError> {
        if self.phase == Phase::Idle {
            return Err(IvrError::NotStarted);
        }
        Ok(if self.advance_to(now) {
            Handled::Used
        } else {
            Handled::Ignored
        })
    }

    /// The next action for the driver.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Self::advance`] (or the armed timer) is next due.
    pub fn next_deadline(&self) -> Option<Micros> {
        self.deadline.map(|(at, _)| at)
    }

    /// Whether the session has ended.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Done
    }

    /// How it ended.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// The current node.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// The flow.
    pub fn flow(&self) -> &Arc<Flow> {
        &self.flow
    }

    /// The call.
    pub fn call(&self) -> Option<&CallInfo> {
        self.call.as_ref()
    }

    /// A variable's value, if set.
    pub fn variable(&self, var: VarId) -> Option<&str> {
        self.vars.get(usize::from(var.0))?.as_deref()
    }

    /// When the call started (interpreter time).
    pub fn started_at(&self) -> Micros {
        self.started
    }

    /// The latest time the session has been given.
    pub fn now(&self) -> Micros {
        self.now
    }

    /// Node entries so far.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// Failed attempts so far at the current node (0 on entry; each no-input or invalid
    /// entry that leads to a retry adds one). With [`Self::steps`] it names one attempt at
    /// one visit of a node, which a driver that simulates the caller decides once.
    pub fn attempt(&self) -> u8 {
        self.attempts
    }

    /// Whether the session waits for the driver (prompts playing, a recording, the queue, an
    /// agent, a transfer) rather than for the caller's keys.
    pub fn waiting_for_driver(&self) -> bool {
        matches!(
            self.phase,
            Phase::Playing { .. }
                | Phase::Recording { .. }
                | Phase::Queued
                | Phase::Connected
                | Phase::Transferring
        )
    }

    // ----- plumbing -----

    fn input(&mut self, now: Micros) -> Result<(), IvrError> {
        if self.phase == Phase::Idle {
            return Err(IvrError::NotStarted);
        }
        self.advance_to(now);
        Ok(())
    }

    /// Fires due deadlines in order, then moves the clock to `now` (never backwards).
    /// Returns whether any fired.
    fn advance_to(&mut self, now: Micros) -> bool {
        let mut fired = false;
        while let Some((at, _)) = self.deadline
            && at <= now
        {
            self.now = self.now.max(at);
            self.deadline = None;
            self.on_timeout();
            fired = true;
        }
        self.now = self.now.max(now);
        fired
    }

    pub(crate) fn push(&mut self, a: Action) {
        self.actions.push_back(a);
    }

    pub(crate) fn arm(&mut self, after: Micros) {
        self.timers += 1;
        let at = self.now.saturating_add(after);
        let t = Timer(self.timers);
        self.deadline = Some((at, t));
        self.push(Action::ArmTimer { at, timer: t });
    }

    pub(crate) fn disarm(&mut self) {
        self.deadline = None;
    }

    pub(crate) fn kind(&self) -> &NodeKind {
        &self.flow.nodes[self.node.index()].kind
    }

    /// Enters `id`, following automatic nodes until one waits.
    pub(crate) fn enter(&mut self, mut id: NodeId) {
        loop {
            if self.phase == Phase::Done {
                return;
            }
            self.steps += 1;
            if self.steps > self.flow.max_steps {
                self.end(EndReason::StepBudget);
                return;
            }
            self.node = id;
            self.attempts = 0;
            self.digits.clear();
            self.disarm();
            self.push(Action::Entered { node: id });
            let flow = Arc::clone(&self.flow);
            // Keys typed ahead carry through prompts and routing to the next menu, but not
            // into a recording, a queue, a transfer or the end.
            if matches!(
                flow.nodes[id.index()].kind,
                NodeKind::Voicemail(_)
                    | NodeKind::Queue(_)
                    | NodeKind::Transfer(_)
                    | NodeKind::Hangup(_)
            ) {
                self.type_ahead.clear();
            }
            match &flow.nodes[id.index()].kind {
                NodeKind::Goto(n) => id = *n,
                NodeKind::Branch(b) => id = self.choose(b),
                NodeKind::Set(s) => {
                    let value: Arc<str> = match &s.value {
                        Value::Literal(v) => Arc::clone(v),
                        Value::Ani => Arc::from(self.call.as_ref().map_or("", |c| &c.ani)),
                        Value::Dnis => Arc::from(self.call.as_ref().map_or("", |c| &c.dnis)),
                        Value::Var(v) => self.vars[usize::from(v.0)]
                            .clone()
                            .unwrap_or_else(|| Arc::from("")),
                    };
                    self.set(s.var, value);
                    id = s.next;
                }
                NodeKind::Play(p) => return self.play(&p.announce, After::Next),
                NodeKind::Menu(m) => return self.play(&m.announce, After::Input),
                NodeKind::Collect(c) => return self.play(&c.announce, After::Input),
                NodeKind::Survey(s) => return self.play(&s.announce, After::Input),
                NodeKind::Voicemail(v) => return self.play(&v.announce, After::Record),
                NodeKind::Queue(q) => return self.play(&q.announce, After::EnterQueue),
                NodeKind::Transfer(t) => return self.play(&t.announce, After::Transfer),
                NodeKind::Hangup(h) => {
                    let a = Announce {
                        prompts: Arc::clone(&h.prompts),
                        barge_in: false,
                    };
                    return self.play(&a, After::Hangup);
                }
            }
        }
    }

    pub(crate) fn set(&mut self, var: VarId, value: Arc<str>) {
        self.vars[usize::from(var.0)] = Some(Arc::clone(&value));
        self.push(Action::SetVariable { var, value });
    }

    /// Plays `a`, then does `after`. Keys already typed ahead skip a prompt the caller may
    /// interrupt.
    pub(crate) fn play(&mut self, a: &Announce, after: After) {
        let skip = a.barge_in
            && !self.type_ahead.is_empty()
            && matches!(after, After::Next | After::Input | After::Reprompt);
        if a.prompts.is_empty() || skip {
            return self.prompts_done(after);
        }
        self.push(Action::Play {
            prompts: Arc::clone(&a.prompts),
            barge_in: a.barge_in,
        });
        self.phase = Phase::Playing {
            after,
            barge_in: a.barge_in,
        };
        let guard = self.flow.prompt_guard;
        self.arm(guard);
    }

    /// Goes to `next`, or ends the call with `reason` when there is none.
    pub(crate) fn go(&mut self, next: Option<NodeId>, reason: EndReason) {
        match next {
            Some(n) => self.enter(n),
            None => self.end(reason),
        }
    }

    pub(crate) fn end(&mut self, reason: EndReason) {
        if self.phase == Phase::Done {
            return;
        }
        if !matches!(reason, EndReason::Transferred | EndReason::CallerHungUp) {
            self.push(Action::Hangup);
        }
        let o = Outcome {
            reason,
            node: Some(self.node),
            at: self.now,
            steps: self.steps,
        };
        self.outcome = Some(o);
        self.push(Action::End(o));
        self.phase = Phase::Done;
        self.disarm();
        self.type_ahead.clear();
    }

    fn choose(&self, b: &Branch) -> NodeId {
        let Some(call) = &self.call else {
            return b.otherwise;
        };
        let elapsed = (self.now.saturating_sub(self.started).0 / 1_000_000) as i64;
        let local = LocalTime::at(call.unix_time.saturating_add(elapsed), self.flow.utc_offset);
        let holds = |c: &Condition| match c {
            Condition::Dnis(l) => l.iter().any(|x| **x == *call.dnis),
            Condition::DnisPrefix(l) => l.iter().any(|x| call.dnis.starts_with(&**x)),
            Condition::Ani(l) => l.iter().any(|x| **x == *call.ani),
            Condition::AniPrefix(l) => l.iter().any(|x| call.ani.starts_with(&**x)),
            Condition::Var(v, l) => self.vars[usize::from(v.0)]
                .as_ref()
                .is_some_and(|val| l.iter().any(|x| x == val)),
            Condition::Time { from, to } => {
                let m = local.minute;
                if from < to {
                    (*from..*to).contains(&m)
                } else {
                    m >= *from || m < *to
                }
            }
            Condition::Weekdays(mask) => mask & (1 << local.weekday) != 0,
            Condition::Holiday(i) => self.flow.holidays[*i]
                .dates
                .binary_search(&local.date)
                .is_ok(),
        };
        b.rules
            .iter()
            .find(|r| r.conditions.iter().all(holds))
            .map_or(b.otherwise, |r| r.next)
    }
}
