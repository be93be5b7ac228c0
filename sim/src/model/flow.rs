//! Callers walking an IVR flow with the real interpreter (`tandem-ivr`'s [`Session`]).
//!
//! The model is the session's driver and plays the caller: it feeds the session the call
//! and the time, carries out its actions and answers them as a phone and a caller would.
//! Prompts play for lengths drawn from the scenario; at a menu, digit collection or survey
//! the caller thinks, then keys a choice (by the node's weights), an invalid entry, nothing,
//! or hangs up; a voicemail takes a message of drawn length; a queue node puts the call in
//! the ACD, where the caller may press the callback key when the repeat announcement offers
//! it; after the agent hangs up the flow runs on (the survey). The session's own timers
//! (menu timeouts, the queue's longest wait) come due through the kernel.
//!
//! A call holds its IVR port from the IVR's answer until an agent answers it (the queue's
//! announcements and its callback key run on the port) and takes one again for what the
//! flow runs after the agent; with none free then, the call ends there.

use std::collections::HashMap;
use std::sync::Arc;

use rand::Rng;
use tandem_acd::Seconds;
use tandem_ivr::{Action, CallInfo, EndReason, Event as IvrEvent, Flow, Micros, NodeKind, Session};

use super::{Event, Phase, Run, acd_err};
use crate::SimError;
use crate::dist::Dist;
use crate::flow_metrics::{Exit, FlowEnd, FlowMetrics};
use crate::scenario::Scenario;
use crate::scenario::ivr_flow::{invalid_key, keys_of};

static THINK: Dist = Dist::Deterministic { value: 2.0 };
static DIGIT_GAP: Dist = Dist::Deterministic { value: 0.5 };
static MESSAGE: Dist = Dist::Deterministic { value: 30.0 };
static RING: Dist = Dist::Deterministic { value: 10.0 };

/// How callers behave at one node, resolved against the flow.
struct NodePlan<'s> {
    /// Keys and their cumulative probabilities (the last is 1).
    keys: Vec<(char, f64)>,
    hangup: f64,
    no_input: f64,
    no_match: f64,
    think: &'s Dist,
    invalid: Option<char>,
    digits: u8,
    digit_gap: &'s Dist,
    message: &'s Dist,
    callback: f64,
    answer: f64,
    ring: &'s Dist,
}

/// The flow and the callers' behaviour, for one replication.
pub(super) struct FlowPlan<'s> {
    flow: Arc<Flow>,
    nodes: Vec<NodePlan<'s>>,
    prompts: HashMap<&'s str, &'s Dist>,
    prompt_default: Option<&'s Dist>,
    /// Dialled numbers with cumulative shares.
    dnis: Vec<(&'s str, f64)>,
    start_unix: i64,
    /// The call type of each queue the flow names.
    queue_types: HashMap<Arc<str>, u16>,
}

impl<'s> FlowPlan<'s> {
    /// The plan of `sc`'s flow, if its IVR runs one.
    pub(super) fn of(sc: &'s Scenario) -> Option<FlowPlan<'s>> {
        let ivr = sc.ivr.as_ref()?;
        let flow = Arc::clone(ivr.flow()?);
        let think = ivr.think.as_ref().unwrap_or(&THINK);
        let nodes = flow
            .nodes()
            .iter()
            .map(|n| {
                let b = ivr.nodes.get(&*n.name);
                let node_keys = keys_of(&n.kind);
                let weights: Vec<(char, f64)> = match b {
                    Some(b) if !b.choices.is_empty() => node_keys
                        .iter()
                        .map(|k| {
                            let w = b
                                .choices
                                .iter()
                                .find(|(s, _)| {
                                    s.chars().next().map(|c| c.to_ascii_uppercase()) == Some(*k)
                                })
                                .map_or(0.0, |(_, w)| *w);
                            (*k, w)
                        })
                        .collect(),
                    _ => node_keys.iter().map(|k| (*k, 1.0)).collect(),
                };
                let total: f64 = weights.iter().map(|(_, w)| w).sum();
                let mut acc = 0.0;
                let keys = weights
                    .into_iter()
                    .filter(|(_, w)| *w > 0.0)
                    .map(|(k, w)| {
                        acc += w / total;
                        (k, acc)
                    })
                    .collect();
                let digits = match &n.kind {
                    NodeKind::Collect(c) => b.and_then(|b| b.digits).unwrap_or(c.min_digits.max(1)),
                    _ => 0,
                };
                NodePlan {
                    keys,
                    hangup: b.map_or(0.0, |b| b.hangup),
                    no_input: b.map_or(0.0, |b| b.no_input),
                    no_match: b.map_or(0.0, |b| b.no_match),
                    think: b.and_then(|b| b.think.as_ref()).unwrap_or(think),
                    invalid: invalid_key(&n.kind),
                    digits,
                    digit_gap: b.and_then(|b| b.digit_gap.as_ref()).unwrap_or(&DIGIT_GAP),
                    message: b.and_then(|b| b.message.as_ref()).unwrap_or(&MESSAGE),
                    callback: b.map_or(0.0, |b| b.callback),
                    answer: b.and_then(|b| b.answer).unwrap_or(1.0),
                    ring: b.and_then(|b| b.ring.as_ref()).unwrap_or(&RING),
                }
            })
            .collect();
        let total: f64 = ivr.dnis.iter().map(|d| d.share).sum();
        let mut acc = 0.0;
        let dnis = ivr
            .dnis
            .iter()
            .map(|d| {
                acc += d.share / total;
                (d.number.as_str(), acc)
            })
            .collect();
        let mut queue_types = HashMap::new();
        for n in flow.nodes() {
            if let NodeKind::Queue(q) = &n.kind {
                let t = sc
                    .call_types
                    .iter()
                    .position(|t| *t.name == *q.queue)
                    .unwrap_or(0);
                queue_types.insert(Arc::clone(&q.queue), t as u16);
            }
        }
        Some(FlowPlan {
            nodes,
            prompts: ivr.prompts.iter().map(|(k, d)| (k.as_str(), d)).collect(),
            prompt_default: ivr.prompt_s.as_ref(),
            dnis,
            start_unix: ivr.start_unix(),
            queue_types,
            flow,
        })
    }

    /// Fresh figures for a replication.
    pub(super) fn metrics(&self) -> FlowMetrics {
        FlowMetrics::new(&self.flow)
    }
}

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
}

impl Run<'_> {
    fn fc(&mut self, i: u32) -> &mut FlowCall {
        self.flow_calls[i as usize]
            .as_mut()
            .expect("a flow call has its walk")
    }

    /// Call `i` took an IVR port: its walk starts.
    pub(super) fn start_flow(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        let Some(plan) = &self.flow else {
            return Ok(());
        };
        let u = self.rng.ivr.random::<f64>();
        let dnis = plan
            .dnis
            .iter()
            .find(|(_, c)| u < *c)
            .or(plan.dnis.last())
            .map_or("", |(n, _)| n);
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
        });
        if counting && let Some(f) = &mut self.m.flow {
            f.callers += 1.0;
        }
        self.flow_drain(t, i)
    }

    /// A wake-up of call `i`'s walk came due. Returns whether it changed anything.
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
            NodeKind::Play(_) if np.hangup > 0.0 => {
                if self.rng.ivr.random::<f64>() < np.hangup {
                    pending = (t + len * self.rng.ivr.random::<f64>(), Pending::Hangup);
                }
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

    /// The flow took call `i` out of the ACD (its longest wait, or a callback request).
    fn flow_leave_acd(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        let c = &mut self.calls[i as usize];
        let Some(id) = c.acd.take() else {
            return Ok(());
        };
        c.phase = Phase::Ivr;
        if let Some(tandem_acd::CallState::Ringing(a)) = self.acd.call_state(id) {
            let ag = &mut self.agents[a.0 as usize];
            ag.call = None;
            ag.token = ag.token.wrapping_add(1);
        }
        self.acd.caller_abandoned(Seconds(t), id).map_err(acd_err)?;
        self.actions(t)
    }

    /// An agent answered call `i`: its port is free while they talk.
    pub(super) fn flow_answered(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        let fc = self.fc(i);
        if let Some(n) = fc.node {
            let spent = t - fc.entered;
            let counting = fc.counting;
            if counting && let Some(f) = &mut self.m.flow {
                f.nodes[n as usize].time_s += spent;
            }
        }
        self.flow_port(t, i, false);
        let fc = self.fc(i);
        fc.talking = true;
        fc.pending = None;
        fc.session
            .event(Micros::from_secs_f64(t), IvrEvent::QueueAnswered)
            .map_err(ivr_err)?;
        self.flow_drain(t, i)
    }

    /// The agent hung up on call `i`: the flow runs on (the survey) on an IVR port, or ends.
    pub(super) fn flow_after_agent(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        let c = &mut self.calls[i as usize];
        c.acd = None;
        c.phase = Phase::Ivr;
        let node = self.fc(i).session.node();
        let after = self.flow.as_ref().is_some_and(
            |p| matches!(&p.flow.node(node).kind, NodeKind::Queue(q) if q.after_agent.is_some()),
        );
        let fc = self.fc(i);
        fc.talking = false;
        fc.entered = t;
        if after {
            let free = self
                .m
                .ivr_ports
                .is_none_or(|p| self.m.ivr.value() < f64::from(p));
            if !free {
                self.leave_node(t, i, Some(Exit::End(FlowEnd::NoPortAfterAgent)));
                self.flow_calls[i as usize] = None;
                self.release(t, i);
                return Ok(());
            }
            self.flow_port(t, i, true);
        }
        self.fc(i)
            .session
            .event(Micros::from_secs_f64(t), IvrEvent::AgentHungUp)
            .map_err(ivr_err)?;
        self.flow_drain(t, i)
    }

    /// The ACD released call `i` (an overflow rule, or a blacklisted caller).
    pub(super) fn flow_released(&mut self, t: f64, i: u32, rejected: bool) -> Result<(), SimError> {
        let c = &mut self.calls[i as usize];
        c.acd = None;
        c.phase = Phase::Ivr;
        if rejected {
            self.leave_node(t, i, Some(Exit::End(FlowEnd::Rejected)));
            self.flow_end_walk(t, i);
            self.release(t, i);
            return Ok(());
        }
        self.fc(i).pending = None;
        self.fc(i)
            .session
            .event(Micros::from_secs_f64(t), IvrEvent::QueueOverflow)
            .map_err(ivr_err)?;
        self.flow_drain(t, i)
    }

    /// Takes (`true`) or frees call `i`'s IVR port.
    fn flow_port(&mut self, t: f64, i: u32, take: bool) {
        let fc = self.fc(i);
        if fc.port == take {
            return;
        }
        fc.port = take;
        let held = t - fc.port_from;
        fc.port_from = t;
        if !take && let Some(f) = self.tally(i) {
            f.port_s += held;
        }
        self.m.ivr.add(t, if take { 1.0 } else { -1.0 });
    }

    /// The walk of call `i` is over: its port is freed and its record dropped.
    fn flow_end_walk(&mut self, t: f64, i: u32) {
        self.flow_port(t, i, false);
        self.flow_calls[i as usize] = None;
    }

    /// The session of call `i` ended with `reason`.
    fn flow_end(&mut self, t: f64, i: u32, reason: EndReason) -> Result<(), SimError> {
        let end = match reason {
            EndReason::CallerHungUp => None,
            EndReason::StepBudget => return Err(self.step_budget(i)),
            EndReason::NoInput => Some(FlowEnd::NoInput),
            EndReason::NoMatch => Some(FlowEnd::NoMatch),
            EndReason::Transferred => Some(FlowEnd::Transferred),
            EndReason::TransferFailed => Some(FlowEnd::TransferFailed),
            EndReason::QueueOverflow => Some(FlowEnd::QueueOverflow),
            EndReason::AgentHungUp => Some(FlowEnd::AgentHungUp),
            _ => Some(FlowEnd::Completed),
        };
        self.leave_node(t, i, end.map(Exit::End));
        let fc = self.fc(i);
        let self_service = end == Some(FlowEnd::Completed) && !fc.reached_acd && !fc.elsewhere;
        if let Some(f) = self.tally(i) {
            match end {
                None => f.hung_up += 1.0,
                Some(FlowEnd::Transferred) => f.transferred += 1.0,
                _ => {}
            }
            if self_service {
                f.self_service += 1.0;
            }
        }
        if self_service {
            self.at(t).ivr_completed += 1.0;
        }
        self.flow_end_walk(t, i);
        self.release(t, i);
        Ok(())
    }

    /// Call `i` is released while its walk is still on (a caller who gave up in the queue
    /// or while an agent's phone rang): the session hears the caller hang up.
    pub(super) fn flow_release(&mut self, t: f64, i: u32) {
        let Some(Some(fc)) = self.flow_calls.get_mut(i as usize) else {
            return;
        };
        if !fc.session.is_finished() {
            let _ = fc
                .session
                .event(Micros::from_secs_f64(t), IvrEvent::CallerHungUp);
            while fc.session.poll_action().is_some() {}
            self.leave_node(t, i, None);
            if let Some(f) = self.tally(i) {
                f.hung_up += 1.0;
            }
        }
        self.flow_end_walk(t, i);
    }

    /// Every walk has ended once the kernel has nothing left (a walk left over would be
    /// a call the model lost track of).
    pub(super) fn flow_check_done(&self) -> Result<(), SimError> {
        let Some((i, fc)) = self
            .flow_calls
            .iter()
            .enumerate()
            .find_map(|(i, f)| f.as_ref().map(|f| (i, f)))
        else {
            return Ok(());
        };
        let flow = fc.session.flow();
        Err(SimError::Invalid(format!(
            "IVR flow `{}`: a call was left in node `{}` at the end of the run (phase {:?}, \
             pending {:?}, deadline {:?}, waiting for the driver {})",
            flow.name(),
            flow.node(fc.session.node()).name,
            self.calls[i].phase,
            fc.pending,
            fc.session.next_deadline(),
            fc.session.waiting_for_driver()
        )))
    }

    #[cold]
    fn step_budget(&mut self, i: u32) -> SimError {
        let fc = self.fc(i);
        let flow = fc.session.flow();
        SimError::Invalid(format!(
            "IVR flow `{}`: a simulated caller entered more than {} nodes (the flow's \
             `max_steps`) and was stopped in node `{}`; the scenario's `[ivr.nodes]` choices \
             keep callers in a loop",
            flow.name(),
            flow.max_steps(),
            flow.node(fc.session.node()).name
        ))
    }
}

/// The digit simulated callers key into a collect node (any digit but its terminator).
fn digit_for(terminator: Option<char>) -> char {
    if terminator == Some('1') { '2' } else { '1' }
}

fn ivr_err(e: tandem_ivr::IvrError) -> SimError {
    SimError::Invalid(format!("IVR flow: {e}"))
}
