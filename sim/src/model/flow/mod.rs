//! Callers walking an IVR flow with the real interpreter (`tandem-ivr`'s [`Session`]).
//!
//! The model is the session's driver and plays the caller: it feeds the session the call
//! and the time, carries out its actions and answers them as a phone and a caller would.
//! Prompts play for lengths drawn from the scenario; at a menu, digit collection or survey
//! the caller thinks, then keys a choice (by the node's weights), an invalid entry, nothing,
//! or hangs up; a voicemail takes a message of drawn length; a queue node puts the call in
//! the ACD, where the caller may press the callback key when the repeat announcement offers
//! it (with a callback list, the number goes on the ACD's list); after the agent hangs up the flow runs on (the survey). The session's own timers
//! (menu timeouts, the queue's longest wait) come due through the kernel.
//!
//! A call holds its IVR port from the IVR's answer until an agent answers it (the queue's
//! announcements and its callback key run on the port) and takes one again for what the
//! flow runs after the agent; with none free then, the call ends there.

use std::sync::Arc;

use rand::Rng;
use tandem_ivr::{Action, CallInfo, Event as IvrEvent, Micros, NodeKind, Session};

use super::{Event, Phase, Run};
use crate::SimError;
use crate::flow_metrics::{Exit, FlowMetrics};
use crate::lifecycle::Transition;
use plan::DIGIT_GAP;

mod acd;
mod plan;

pub(super) use plan::FlowPlan;

/// What the caller or the network does next.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pending {
    /// The prompts now playing end.
    PromptEnd,
    /// The caller presses a key.
    Key(char),
    /// The caller hangs up.
    Hangup,
    /// The recording ends.
    RecordingEnd,
    /// The transfer target answers (or not).
    Transfer(bool),
}

/// One call's walk.
pub(super) struct FlowCall {
    session: Session,
    pending: Option<(f64, Pending)>,
    /// The earliest wake-up on the kernel (infinite: none).
    wake_at: f64,
    /// The node and when the call entered it (or came back from the agent).
    node: Option<u32>,
    entered: f64,
    /// The attempt (node entries, failed attempts) the caller last decided for.
    decided: (u32, u8),
    /// Digits still to key in a collect node after the pending one, then the terminator.
    digits_left: u8,
    terminator: Option<char>,
    port: bool,
    talking: bool,
    counting: bool,
    reached_acd: bool,
    elsewhere: bool,
    port_from: f64,
    /// The caller keyed the queue's callback key: leaving the queue is a callback request.
    callback_asked: bool,
}

impl Run<'_> {
    fn fc(&mut self, i: u32) -> &mut FlowCall {
        self.flow_calls[i as usize]
            .as_mut()
            .expect("a flow call has its walk")
    }

    /// Call `i` took an IVR port: its walk starts.
    #[cold]
    #[inline(never)]
    pub(super) fn start_flow(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        let Some(plan) = &self.flow else {
            return Ok(());
        };
        let u = self.rng.ivr.random::<f64>();
        let pick = plan
            .dnis
            .iter()
            .position(|(_, c)| u < *c)
            .or(plan.dnis.len().checked_sub(1));
        let dnis = pick.map_or("", |p| plan.dnis[p].0);
        let caller = self.calls[i as usize].caller;
        let call = CallInfo {
            dnis: dnis.to_string(),
            ani: if caller == u64::MAX {
                String::new()
            } else {
                caller.to_string()
            },
            unix_time: plan.start_unix.saturating_add(t as i64),
        };
        let mut session = Session::new(Arc::clone(&plan.flow));
        let counting = self.m.counting(t);
        if self.flow_calls.len() <= i as usize {
            self.flow_calls.resize_with(i as usize + 1, || None);
        }
        session
            .start(Micros::from_secs_f64(t), call)
            .map_err(|e| SimError::Invalid(format!("IVR flow: {e}")))?;
        self.flow_calls[i as usize] = Some(FlowCall {
            session,
            pending: None,
            wake_at: f64::INFINITY,
            node: None,
            entered: t,
            decided: (u32::MAX, 0),
            digits_left: 0,
            terminator: None,
            port: true,
            talking: false,
            counting,
            reached_acd: false,
            elsewhere: false,
            port_from: t,
            callback_asked: false,
        });
        if counting && let Some(f) = &mut self.m.flow {
            f.callers += 1.0;
        }
        let dnis = pick.unwrap_or(0) as u16;
        self.note(t, i, Transition::FlowStarted { dnis, ani: caller });
        self.flow_drain(t, i)
    }

    /// A wake-up of call `i`'s walk came due. Returns whether it changed anything.
    #[cold]
    #[inline(never)]
    pub(super) fn flow_wake(&mut self, t: f64, i: u32) -> Result<bool, SimError> {
        match self.flow_calls.get_mut(i as usize) {
            Some(Some(fc)) if fc.wake_at == t => fc.wake_at = f64::INFINITY,
            _ => return Ok(false),
        }
        self.check_cap()?;
        self.flow_catch_up(t, i)?;
        Ok(true)
    }

    /// Carries out, in time order, everything of call `i`'s walk due by `t`: what the
    /// caller does and the session's timers.
    #[cold]
    #[inline(never)]
    pub(super) fn flow_catch_up(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        let generation = self.calls[i as usize].generation;
        while self.flow_live(i, generation) {
            let fc = self.fc(i);
            let deadline = fc
                .session
                .next_deadline()
                .map_or(f64::INFINITY, Micros::as_secs_f64);
            let pending = fc.pending.map_or(f64::INFINITY, |(at, _)| at);
            let at = deadline.min(pending);
            if at > t {
                break;
            }
            if pending <= deadline {
                let (at, p) = self.fc(i).pending.take().expect("due");
                self.flow_feed(at, i, p)?;
            } else {
                self.fc(i)
                    .session
                    .advance(Micros::from_secs_f64(at))
                    .map_err(ivr_err)?;
                self.flow_drain(at, i)?;
            }
        }
        if self.flow_live(i, generation) {
            self.flow_schedule(i);
        }
        Ok(())
    }

    /// Makes sure a wake-up of call `i`'s walk is on the kernel for the next thing due.
    fn flow_schedule(&mut self, i: u32) {
        let now = self.k.now();
        let fc = self.fc(i);
        let next = fc
            .session
            .next_deadline()
            .map_or(f64::INFINITY, Micros::as_secs_f64)
            .min(fc.pending.map_or(f64::INFINITY, |(at, _)| at));
        if fc.wake_at <= now {
            // Came due already (and was carried out, or is about to be).
            fc.wake_at = f64::INFINITY;
        }
        if !next.is_finite() {
            return;
        }
        let next = next.max(now);
        if next < fc.wake_at {
            fc.wake_at = next;
            let c = self.call_ref(i);
            self.k.schedule(next, Event::FlowWake(c));
        }
    }

    /// Feeds the session what the caller or the network did at `t`.
    fn flow_feed(&mut self, t: f64, i: u32, p: Pending) -> Result<(), SimError> {
        match p {
            Pending::Key(key) => self.note(t, i, Transition::FlowKey { key }),
            Pending::Hangup => self.note(t, i, Transition::FlowHangup),
            _ => {}
        }
        let now = Micros::from_secs_f64(t);
        let fc = self.fc(i);
        let s = &mut fc.session;
        match p {
            Pending::PromptEnd => s.event(now, IvrEvent::PromptFinished),
            Pending::Hangup => s.event(now, IvrEvent::CallerHungUp),
            Pending::RecordingEnd => s.event(
                now,
                IvrEvent::RecordingFinished {
                    duration: Micros::ZERO,
                },
            ),
            Pending::Transfer(true) => s.event(now, IvrEvent::TransferAnswered),
            Pending::Transfer(false) => s.event(now, IvrEvent::TransferFailed),
            Pending::Key(k) => {
                let before = (s.steps(), s.attempt());
                let r = s.key(now, k);
                // The next digit of an entry, while the same attempt still takes keys.
                if (s.steps(), s.attempt()) == before && !s.is_finished() {
                    let gap = |run: &mut Run, i: u32| {
                        let node = run.fc(i).session.node().index();
                        let d = run
                            .flow
                            .as_ref()
                            .map_or(&DIGIT_GAP, |p| p.nodes[node].digit_gap);
                        t + d.sample(&mut run.rng.ivr)
                    };
                    if fc.digits_left > 0 {
                        fc.digits_left -= 1;
                        let digit = digit_for(fc.terminator);
                        let at = gap(self, i);
                        self.fc(i).pending = Some((at, Pending::Key(digit)));
                    } else if let Some(term) = fc.terminator.take() {
                        let at = gap(self, i);
                        self.fc(i).pending = Some((at, Pending::Key(term)));
                    }
                }
                r
            }
        }
        .map_err(ivr_err)?;
        self.flow_drain(t, i)
    }

    /// Carries out the session's actions at `t`, then lets the caller decide and schedules
    /// the next wake-up.
    fn flow_drain(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        let generation = self.calls[i as usize].generation;
        let mut actions = std::mem::take(&mut self.flow_actions);
        actions.clear();
        while let Some(a) = self.fc(i).session.poll_action() {
            actions.push(a);
        }
        if actions
            .iter()
            .any(|a| matches!(a, Action::RequestCallback { .. }))
        {
            self.fc(i).callback_asked = true;
        }
        for a in actions.drain(..) {
            if !self.flow_live(i, generation) {
                break;
            }
            self.flow_action(t, i, a)?;
        }
        self.flow_actions = actions;
        if !self.flow_live(i, generation) {
            return Ok(());
        }
        self.flow_decide(t, i);
        self.flow_schedule(i);
        Ok(())
    }

    fn flow_live(&self, i: u32, generation: u32) -> bool {
        self.calls[i as usize].generation == generation
            && self.calls[i as usize].phase != Phase::Done
            && matches!(self.flow_calls.get(i as usize), Some(Some(_)))
    }

    /// The figures of the flow, if this call is counted.
    fn tally(&mut self, i: u32) -> Option<&mut FlowMetrics> {
        let counting = self.flow_calls[i as usize].as_ref()?.counting;
        if counting { self.m.flow.as_mut() } else { None }
    }

    /// Call `i` leaves its node by `exit` at `t`.
    fn leave_node(&mut self, t: f64, i: u32, exit: Option<Exit>) {
        let fc = self.fc(i);
        let Some(node) = fc.node.take() else { return };
        let spent = if fc.talking { 0.0 } else { t - fc.entered };
        if let Some(f) = self.tally(i) {
            let n = &mut f.nodes[node as usize];
            n.time_s += spent;
            match exit {
                Some(e) => n.exit(e),
                None => n.abandons += 1.0,
            }
        }
    }

    fn flow_action(&mut self, t: f64, i: u32, a: Action) -> Result<(), SimError> {
        match a {
            Action::Entered { node } => {
                self.note(t, i, Transition::FlowNode { node: node.0 });
                self.leave_node(t, i, Some(Exit::Node(node.0)));
                let fc = self.fc(i);
                fc.node = Some(node.0);
                fc.entered = t;
                if let Some(f) = self.tally(i) {
                    f.nodes[node.index()].entries += 1.0;
                }
            }
            Action::Play { prompts, .. } => self.flow_play(t, i, &prompts),
            Action::StopPlayback => {
                let fc = self.fc(i);
                if matches!(fc.pending, Some((_, Pending::PromptEnd))) {
                    fc.pending = None;
                }
            }
            Action::Record {
                max_duration,
                finish_key,
                ..
            } => {
                let node = self.fc(i).session.node().index();
                let len = match &self.flow {
                    Some(p) => p.nodes[node].message.sample(&mut self.rng.ivr),
                    None => 0.0,
                };
                if let Some(f) = self.tally(i) {
                    f.voicemails += 1.0;
                }
                self.fc(i).elsewhere = true;
                self.at(t).voicemail += 1.0;
                if len < max_duration.as_secs_f64() {
                    let p = finish_key.map_or(Pending::RecordingEnd, Pending::Key);
                    self.fc(i).pending = Some((t + len, p));
                }
            }
            Action::StopRecording => self.fc(i).pending = Some((t, Pending::RecordingEnd)),
            Action::EnterQueue { queue, .. } => {
                let ctype = self
                    .flow
                    .as_ref()
                    .and_then(|p| p.queue_types.get(&queue).copied())
                    .unwrap_or(0);
                self.calls[i as usize].ctype = ctype;
                if !self.fc(i).reached_acd {
                    self.fc(i).reached_acd = true;
                    if let Some(f) = self.tally(i) {
                        f.to_acd += 1.0;
                    }
                }
                self.enter_acd(t, i)?;
            }
            Action::LeaveQueue { .. } => self.flow_leave_acd(t, i)?,
            Action::RequestCallback { .. } => {
                self.fc(i).elsewhere = true;
                if let Some(f) = self.tally(i) {
                    f.callback_requests += 1.0;
                }
            }
            Action::Transfer { .. } => {
                let node = self.fc(i).session.node().index();
                if let Some(p) = &self.flow {
                    let plan = &p.nodes[node];
                    let ok = self.rng.ivr.random::<f64>() < plan.answer;
                    let ring = plan.ring.sample(&mut self.rng.ivr);
                    self.fc(i).pending = Some((t + ring, Pending::Transfer(ok)));
                }
            }
            Action::CancelTransfer => {
                let fc = self.fc(i);
                if matches!(fc.pending, Some((_, Pending::Transfer(_)))) {
                    fc.pending = None;
                }
            }
            Action::SurveyResult { score, .. } => {
                self.note(t, i, Transition::FlowSurvey { score });
                let node = self.fc(i).session.node().0;
                if let Some(f) = self.tally(i)
                    && let Some(s) = f.survey_mut(node)
                {
                    match score {
                        Some(d) => s.scores[usize::from(d.min(9))] += 1.0,
                        None => s.unanswered += 1.0,
                    }
                }
            }
            Action::End(o) => self.flow_end(t, i, o.reason)?,
            _ => {}
        }
        Ok(())
    }

    /// Prompts start playing: the caller hears them out, hangs up in them (a play node's
    /// `hangup`), or presses the callback key when the queue's announcement offers it.
    fn flow_play(&mut self, t: f64, i: u32, prompts: &[Arc<str>]) {
        let Some(plan) = &self.flow else { return };
        let mut len = 0.0;
        for p in prompts {
            if let Some(d) = plan.prompts.get(&**p).copied().or(plan.prompt_default) {
                len += d.sample(&mut self.rng.ivr);
            }
        }
        let fc = self.flow_calls[i as usize].as_mut().expect("walk");
        let node = fc.session.node();
        let np = &plan.nodes[node.index()];
        let kind = &plan.flow.node(node).kind;
        let mut pending = (t + len, Pending::PromptEnd);
        match kind {
            NodeKind::Queue(q) if self.calls[i as usize].phase == Phase::Acd => {
                if np.callback > 0.0
                    && let Some(k) = q.callback_key
                    && self.rng.ivr.random::<f64>() < np.callback
                {
                    let think = np.think.sample(&mut self.rng.ivr).min(len);
                    pending = (t + think, Pending::Key(k));
                }
            }
            NodeKind::Play(_) if np.hangup > 0.0 && self.rng.ivr.random::<f64>() < np.hangup => {
                pending = (t + len * self.rng.ivr.random::<f64>(), Pending::Hangup);
            }
            _ => {}
        }
        fc.pending = Some(pending);
    }

    /// The session waits for keys: once per attempt, the caller decides what to do.
    fn flow_decide(&mut self, t: f64, i: u32) {
        let Some(plan) = &self.flow else { return };
        let fc = self.flow_calls[i as usize].as_mut().expect("walk");
        let s = &fc.session;
        if s.is_finished() || s.waiting_for_driver() || fc.pending.is_some() {
            return;
        }
        let attempt = (s.steps(), s.attempt());
        if fc.decided == attempt {
            return;
        }
        fc.decided = attempt;
        let node = s.node();
        let np = &plan.nodes[node.index()];
        let kind = &plan.flow.node(node).kind;
        let rng = &mut self.rng.ivr;
        let u = rng.random::<f64>();
        let at = t + np.think.sample(rng);
        fc.digits_left = 0;
        fc.terminator = None;
        let collect = match kind {
            NodeKind::Collect(c) => Some(c),
            _ => None,
        };
        if u < np.hangup {
            fc.pending = Some((at, Pending::Hangup));
        } else if u < np.hangup + np.no_input {
            // Keys nothing: the node's timeout comes due.
        } else if u < np.hangup + np.no_input + np.no_match {
            match collect {
                Some(c) => {
                    // Too few digits, then the terminator (or the inter-digit timeout).
                    let n = c.min_digits.saturating_sub(1).max(1);
                    fc.digits_left = n - 1;
                    fc.terminator = c.terminator;
                    fc.pending = Some((at, Pending::Key(digit_for(c.terminator))));
                }
                None => {
                    if let Some(k) = np.invalid {
                        fc.pending = Some((at, Pending::Key(k)));
                    }
                }
            }
        } else {
            match collect {
                Some(c) => {
                    fc.digits_left = np.digits.saturating_sub(1);
                    fc.terminator = c.terminator.filter(|_| np.digits < c.max_digits);
                    fc.pending = Some((at, Pending::Key(digit_for(c.terminator))));
                }
                None => {
                    let v = rng.random::<f64>();
                    if let Some(&(k, _)) = np.keys.iter().find(|(_, c)| v < *c).or(np.keys.last()) {
                        fc.pending = Some((at, Pending::Key(k)));
                    }
                }
            }
        }
    }
}

/// The digit simulated callers key into a collect node (any digit but its terminator).
fn digit_for(terminator: Option<char>) -> char {
    if terminator == Some('1') { '2' } else { '1' }
}

fn ivr_err(e: tandem_ivr::IvrError) -> SimError {
    SimError::Invalid(format!("IVR flow: {e}"))
}
