//! The ACD state machine.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use crate::idle::IdleList;

use crate::callback::{AddOutcome, CallbackList, Entry};
use crate::config::{AcdConfig, OverflowTarget, OverflowTrigger, Policy};
use crate::types::*;

/// Highest call priority; VIP callers get it.
pub const VIP_PRIORITY: u8 = u8::MAX;

/// Counters of everything the ACD decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
    /// Callback entries served (answered by the customer).
    pub callback_served: u64,
    /// Callback entries that expired or ran out of attempts.
    pub callback_expired: u64,
    /// Ring-no-answer events.
    pub ring_no_answer: u64,
}

/// Time an agent spent in each state, and calls handled.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AgentStats {
    /// Seconds in each state, indexed as [`AgentState::ALL`].
    pub seconds_in: [f64; 6],
    /// Calls answered (inbound and callbacks).
    pub calls_handled: u64,
}

#[derive(Clone, Debug)]
struct Agent {
    state: AgentState,
    since: Time,
    skills: Vec<(QueueId, u8)>,
    idle_key: u64,
    call: Option<CallId>,
    callback: Option<CallbackId>,
    stats: AgentStats,
}

impl Agent {
    fn level(&self, q: QueueId) -> Option<u8> {
        self.skills.iter().find(|(s, _)| *s == q).map(|(_, l)| *l)
    }
}

#[derive(Clone, Copy, Debug)]
struct Call {
    generation: u32,
    state: CallState,
    queue: QueueId,
    priority: u8,
    order: i64,
    caller: u64,
    arrived: Time,
    queued_at: Time,
    answered: Option<Time>,
    sticky: Option<(AgentId, Time)>,
    callback: bool,
}

type QueueKey = (Reverse<u8>, i64, u32);

#[derive(Debug, Default)]
struct Queue {
    waiting: BTreeSet<QueueKey>,
    staffed: u32,
}

/// The automatic call distributor. See the crate documentation for the protocol.
#[derive(Debug)]
pub struct Acd {
    cfg: AcdConfig,
    agents: Vec<Agent>,
    queues: Vec<Queue>,
    calls: Vec<Call>,
    free: Vec<u32>,
    idle: IdleList,
    idle_counter: u64,
    order_tail: i64,
    order_head: i64,
    rr_next: u32,
    rng: u64,
    vip: HashSet<u64>,
    vip_agent: HashMap<u64, AgentId>,
    blacklist: HashSet<u64>,
    last_agent: HashMap<u64, AgentId>,
    callbacks: CallbackList,
    actions: VecDeque<Action>,
    records: Vec<CallRecord>,
    stats: AcdStats,
    aht: f64,
    expired_scratch: Vec<Entry>,
}

impl Acd {
    /// A new ACD at time `now`, with every agent offline.
    pub fn new(cfg: AcdConfig) -> Result<Acd, AcdError> {
        let nq = cfg.queues.len() as u32;
        if nq == 0 {
            return Err(AcdError::Config("at least one queue is needed".into()));
        }
        for (i, q) in cfg.queues.iter().enumerate() {
            for r in &q.overflow {
                if let OverflowTarget::Queue(t) = r.target
                    && (t.0 >= nq || t.0 as usize == i)
                {
                    return Err(AcdError::Config(format!(
                        "queue `{}` overflows to invalid queue {}",
                        q.name, t.0
                    )));
                }
                if matches!(r.target, OverflowTarget::Callback) && cfg.callback.is_none() {
                    return Err(AcdError::Config(format!(
                        "queue `{}` overflows to callback, but callback is not configured",
                        q.name
                    )));
                }
            }
            if q.overflow.len() > usize::from(u8::MAX) {
                return Err(AcdError::Config("too many overflow rules".into()));
            }
        }
        for a in &cfg.agents {
            if let Some((q, _)) = a.skills.iter().find(|(q, _)| q.0 >= nq) {
                return Err(AcdError::Config(format!(
                    "agent `{}` has a skill for unknown queue {}",
                    a.name, q.0
                )));
            }
        }
        if let Some((_, a)) = cfg
            .vip_agent
            .iter()
            .find(|(_, a)| a.0 as usize >= cfg.agents.len())
        {
            return Err(AcdError::Config(format!(
                "VIP agent {} does not exist",
                a.0
            )));
        }
        let agents = cfg
            .agents
            .iter()
            .map(|a| Agent {
                state: AgentState::Offline,
                since: 0.0,
                skills: a.skills.clone(),
                idle_key: 0,
                call: None,
                callback: None,
                stats: AgentStats::default(),
            })
            .collect();
        Ok(Acd {
            queues: (0..nq).map(|_| Queue::default()).collect(),
            agents,
            calls: Vec::new(),
            free: Vec::new(),
            idle: IdleList::default(),
            idle_counter: 0,
            order_tail: 0,
            order_head: 0,
            rr_next: 0,
            rng: cfg.seed ^ 0x5DEE_CE66_D1CE_4E5B,
            vip: cfg.vip.iter().copied().collect(),
            vip_agent: cfg.vip_agent.iter().copied().collect(),
            blacklist: cfg.blacklist.iter().copied().collect(),
            last_agent: HashMap::new(),
            callbacks: CallbackList::default(),
            actions: VecDeque::new(),
            records: Vec::new(),
            stats: AcdStats::default(),
            aht: 180.0,
            expired_scratch: Vec::new(),
            cfg,
        })
    }

    // ----- queries -----

    /// The next decision to carry out, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Counters so far.
    pub fn stats(&self) -> &AcdStats {
        &self.stats
    }

    /// An agent's state.
    pub fn agent_state(&self, a: AgentId) -> Option<AgentState> {
        self.agents.get(a.0 as usize).map(|x| x.state)
    }

    /// An agent's time in each state (up to its last transition) and calls handled.
    pub fn agent_stats(&self, a: AgentId) -> Option<AgentStats> {
        self.agents.get(a.0 as usize).map(|x| x.stats)
    }

    /// A call's state (`None` for an unknown or reused id).
    pub fn call_state(&self, c: CallId) -> Option<CallState> {
        self.call(c).map(|x| x.state)
    }

    /// Calls waiting in `q`.
    pub fn queue_len(&self, q: QueueId) -> usize {
        self.queues.get(q.0 as usize).map_or(0, |x| x.waiting.len())
    }

    /// Number of idle agents.
    pub fn idle_agents(&self) -> usize {
        self.idle.len()
    }

    /// Entries on the callback list (pending and being dialled).
    pub fn callback_backlog(&self) -> usize {
        self.callbacks.len()
    }

    /// Whether `caller` skips the IVR (a VIP).
    pub fn is_vip(&self, caller: u64) -> bool {
        self.vip.contains(&caller)
    }

    /// Expected wait for a new call in `q`, from the calls ahead, the agents staffed and the
    /// running average handle time.
    pub fn expected_wait(&self, q: QueueId) -> f64 {
        let queue = &self.queues[q.0 as usize];
        if queue.staffed == 0 {
            return f64::INFINITY;
        }
        (queue.waiting.len() as f64 + 1.0) * self.aht / f64::from(queue.staffed)
    }

    /// Per-call records (if enabled), drained.
    pub fn drain_records(&mut self) -> std::vec::Drain<'_, CallRecord> {
        self.records.drain(..)
    }

    // ----- agent commands -----

    /// Logs an agent in as not-ready.
    pub fn agent_login(&mut self, now: Time, a: AgentId) -> Result<(), AcdError> {
        self.expect_agent(a, &[AgentState::Offline], "login")?;
        for (q, _) in self.agents[a.0 as usize].skills.clone() {
            self.queues[q.0 as usize].staffed += 1;
        }
        self.set_agent(now, a, AgentState::NotReady);
        Ok(())
    }

    /// Logs an idle or not-ready agent out.
    pub fn agent_logout(&mut self, now: Time, a: AgentId) -> Result<(), AcdError> {
        self.expect_agent(a, &[AgentState::Idle, AgentState::NotReady], "logout")?;
        for (q, _) in self.agents[a.0 as usize].skills.clone() {
            self.queues[q.0 as usize].staffed -= 1;
        }
        self.set_agent(now, a, AgentState::Offline);
        Ok(())
    }

    /// Makes a not-ready agent ready: the agent takes the next waiting call or goes idle.
    pub fn agent_ready(&mut self, now: Time, a: AgentId) -> Result<(), AcdError> {
        self.expect_agent(a, &[AgentState::NotReady], "ready")?;
        self.agent_free(now, a);
        Ok(())
    }

    /// Takes an idle agent out of distribution (break, heartbeat lost).
    pub fn agent_not_ready(&mut self, now: Time, a: AgentId) -> Result<(), AcdError> {
        self.expect_agent(a, &[AgentState::Idle], "not-ready")?;
        self.set_agent(now, a, AgentState::NotReady);
        Ok(())
    }

    /// The ringing agent answered the offered call.
    pub fn agent_answered(&mut self, now: Time, a: AgentId) -> Result<CallId, AcdError> {
        self.expect_agent(a, &[AgentState::Ringing], "answer")?;
        let c = self.agents[a.0 as usize].call.ok_or(AcdError::AgentState {
            agent: a,
            state: AgentState::Ringing,
            command: "answer (no inbound call offered)",
        })?;
        let call = &mut self.calls[c.index()];
        call.state = CallState::Talking(a);
        call.answered = Some(now);
        self.stats.answered += 1;
        self.agents[a.0 as usize].stats.calls_handled += 1;
        self.set_agent(now, a, AgentState::Talking);
        Ok(c)
    }

    /// The talking part of a call ended; its agent goes to after-call work.
    pub fn call_ended(&mut self, now: Time, c: CallId) -> Result<(), AcdError> {
        let call = *self.call(c).ok_or(AcdError::UnknownCall(c))?;
        let CallState::Talking(a) = call.state else {
            return Err(AcdError::CallState {
                call: c,
                state: call.state,
                command: "end",
            });
        };
        if let Some(t) = call.answered {
            // A slow running average of handle time, for expected-wait estimates.
            self.aht += 0.01 * ((now - t) - self.aht);
        }
        if self.cfg.sticky_wait_s.is_some() {
            self.last_agent.insert(call.caller, a);
        }
        self.agents[a.0 as usize].call = None;
        self.set_agent(now, a, AgentState::AfterCallWork);
        self.finish(now, c, Terminal::Completed, Some(a));
        Ok(())
    }

    /// After-call work ended: the agent takes the next call or goes idle.
    pub fn wrap_up_done(&mut self, now: Time, a: AgentId) -> Result<(), AcdError> {
        self.expect_agent(a, &[AgentState::AfterCallWork], "wrap-up done")?;
        self.agent_free(now, a);
        Ok(())
    }

    /// After-call work ended, but the agent goes not-ready instead of taking calls (end of
    /// shift, break).
    pub fn wrap_up_done_not_ready(&mut self, now: Time, a: AgentId) -> Result<(), AcdError> {
        self.expect_agent(a, &[AgentState::AfterCallWork], "wrap-up done")?;
        self.set_agent(now, a, AgentState::NotReady);
        Ok(())
    }

    // ----- call commands -----

    /// A call reaches the ACD for `queue` from `caller`. Returns its id; decisions follow
    /// through [`poll_action`](Self::poll_action).
    pub fn call_arrived(
        &mut self,
        now: Time,
        queue: QueueId,
        caller: u64,
    ) -> Result<CallId, AcdError> {
        if queue.0 as usize >= self.queues.len() {
            return Err(AcdError::UnknownQueue(queue));
        }
        self.stats.offered += 1;
        let vip = !self.vip.is_empty() && self.vip.contains(&caller);
        let c = self.alloc(Call {
            generation: 0,
            state: CallState::Queued(queue),
            queue,
            priority: if vip { VIP_PRIORITY } else { 0 },
            order: 0,
            caller,
            arrived: now,
            queued_at: now,
            answered: None,
            sticky: None,
            callback: false,
        });
        if !self.blacklist.is_empty() && self.blacklist.contains(&caller) {
            self.release(now, c, Terminal::Rejected);
            return Ok(c);
        }
        // A VIP with a set agent goes to that agent when idle.
        if !self.vip_agent.is_empty()
            && let Some(&a) = self.vip_agent.get(&caller)
            && self.agents[a.0 as usize].state == AgentState::Idle
        {
            self.offer(now, c, a);
            return Ok(c);
        }
        // Sticky agent: the last agent who served this caller, if free or soon free.
        if let Some(wait) = self.cfg.sticky_wait_s
            && let Some(&a) = self.last_agent.get(&caller)
            && self.agents[a.0 as usize].level(queue).is_some()
        {
            match self.agents[a.0 as usize].state {
                AgentState::Idle => {
                    self.offer(now, c, a);
                    return Ok(c);
                }
                AgentState::Talking | AgentState::AfterCallWork | AgentState::Ringing => {
                    self.calls[c.index()].sticky = Some((a, now + wait));
                    self.actions.push_back(Action::ArmTimer {
                        at: now + wait,
                        timer: Timer::StickyExpired(c),
                    });
                }
                _ => {}
            }
        }
        if self.calls[c.index()].sticky.is_none()
            && let Some(a) = self.pick_agent(queue)
        {
            self.offer(now, c, a);
            return Ok(c);
        }
        // No agent now: rules that look at the queue on arrival.
        let rules = self.cfg.queues[queue.0 as usize].overflow.clone();
        for r in &rules {
            let fire = match r.trigger {
                OverflowTrigger::QueueLengthAtLeast(n) => self.queue_len(queue) as u32 >= n,
                OverflowTrigger::ExpectedWaitAtLeast(w) => self.expected_wait(queue) >= w,
                OverflowTrigger::WaitAtLeast(_) => false,
            };
            if fire && self.apply_overflow(now, c, queue, r.target) {
                return Ok(c);
            }
        }
        if let Some(cb) = self.cfg.callback
            && !vip
            && self.expected_wait(queue) >= cb.offer_when_expected_wait_s
            && self.offer_callback(now, c, queue)
        {
            return Ok(c);
        }
        self.enqueue(now, c, queue, false);
        Ok(c)
    }

    /// The caller hung up while queued or ringing.
    pub fn caller_abandoned(&mut self, now: Time, c: CallId) -> Result<(), AcdError> {
        let call = *self.call(c).ok_or(AcdError::UnknownCall(c))?;
        match call.state {
            CallState::Queued(q) => {
                self.queues[q.0 as usize].waiting.remove(&(
                    Reverse(call.priority),
                    call.order,
                    c.index() as u32,
                ));
                self.finish(now, c, Terminal::AbandonedInQueue, None);
                Ok(())
            }
            CallState::Ringing(a) => {
                self.agents[a.0 as usize].call = None;
                self.finish(now, c, Terminal::AbandonedRinging, None);
                self.agent_free(now, a);
                Ok(())
            }
            state => Err(AcdError::CallState {
                call: c,
                state,
                command: "abandon",
            }),
        }
    }

    /// A timer the ACD armed has come due. Stale timers are ignored.
    pub fn timer_fired(&mut self, now: Time, t: Timer) {
        match t {
            Timer::RingTimeout(c, a) => {
                if self.call(c).map(|x| x.state) != Some(CallState::Ringing(a)) {
                    return;
                }
                self.stats.ring_no_answer += 1;
                self.agents[a.0 as usize].call = None;
                self.set_agent(now, a, AgentState::NotReady);
                self.actions
                    .push_back(Action::RingNoAnswer { call: c, agent: a });
                let q = self.calls[c.index()].queue;
                if let Some(b) = self.pick_agent(q) {
                    self.offer(now, c, b);
                } else {
                    self.enqueue(now, c, q, true);
                }
            }
            Timer::Overflow(c, q, rule) => {
                if self.call(c).map(|x| x.state) != Some(CallState::Queued(q)) {
                    return;
                }
                let Some(r) = self.cfg.queues[q.0 as usize]
                    .overflow
                    .get(rule as usize)
                    .copied()
                else {
                    return;
                };
                let call = self.calls[c.index()];
                self.queues[q.0 as usize].waiting.remove(&(
                    Reverse(call.priority),
                    call.order,
                    c.index() as u32,
                ));
                if !self.apply_overflow(now, c, q, r.target) {
                    // Callback list full: the call keeps its place.
                    self.queues[q.0 as usize].waiting.insert((
                        Reverse(call.priority),
                        call.order,
                        c.index() as u32,
                    ));
                }
            }
            Timer::StickyExpired(c) => {
                let Some(call) = self.call(c).copied() else {
                    return;
                };
                if let CallState::Queued(q) = call.state
                    && call.sticky.is_some()
                {
                    self.calls[c.index()].sticky = None;
                    if let Some(a) = self.pick_agent(q) {
                        self.queues[q.0 as usize].waiting.remove(&(
                            Reverse(call.priority),
                            call.order,
                            c.index() as u32,
                        ));
                        self.offer(now, c, a);
                    }
                }
            }
        }
    }

    /// The outcome of a callback dial. Answered: returns the outbound call, now talking,
    /// which ends with [`call_ended`](Self::call_ended). Not answered: the agent is free and
    /// the entry is retried later or expires.
    pub fn callback_result(
        &mut self,
        now: Time,
        id: CallbackId,
        answered: bool,
    ) -> Result<Option<CallId>, AcdError> {
        let cb = self.cfg.callback.ok_or(AcdError::UnknownCallback(id))?;
        if !self.callbacks.is_dialling(id) {
            return Err(AcdError::UnknownCallback(id));
        }
        let a = self
            .agents
            .iter()
            .position(|x| x.callback == Some(id))
            .map(|i| AgentId(i as u32))
            .ok_or(AcdError::UnknownCallback(id))?;
        self.agents[a.0 as usize].callback = None;
        let finished = self.callbacks.finish_dial(&cb, id, answered);
        if answered {
            let Some((e, _)) = finished else {
                return Err(AcdError::UnknownCallback(id));
            };
            self.stats.callback_served += 1;
            let c = self.alloc(Call {
                generation: 0,
                state: CallState::Talking(a),
                queue: e.queue,
                priority: 0,
                order: 0,
                caller: e.number,
                arrived: now,
                queued_at: now,
                answered: Some(now),
                sticky: None,
                callback: true,
            });
            self.agents[a.0 as usize].call = Some(c);
            self.agents[a.0 as usize].stats.calls_handled += 1;
            self.set_agent(now, a, AgentState::Talking);
            return Ok(Some(c));
        }
        if let Some((e, _)) = finished {
            self.stats.callback_expired += 1;
            self.actions.push_back(Action::CallbackExpired {
                entry: e.id,
                number: e.number,
            });
        }
        self.agent_free(now, a);
        Ok(None)
    }

    /// Expires callback entries past their age limit (call now and then; the ACD also
    /// expires entries whenever it looks for one to dial).
    pub fn expire_callbacks(&mut self, now: Time) {
        if let Some(cb) = self.cfg.callback {
            let mut ex = std::mem::take(&mut self.expired_scratch);
            self.callbacks.expire(&cb, now, &mut ex);
            self.report_expired(&mut ex);
            self.expired_scratch = ex;
        }
    }

    /// Dials pending callbacks with idle agents, if the list allows it now (for example at
    /// the configured start time).
    pub fn kick_callbacks(&mut self, now: Time) {
        let idle: Vec<u32> = self.idle.iter(&self.agents_keys()).collect();
        for a in idle {
            let a = AgentId(a);
            if self.agents[a.0 as usize].state == AgentState::Idle && self.try_dial_callback(now, a)
            {
                continue;
            }
        }
    }

    // ----- internals -----

    /// Each agent's current idle key, or 0 if not idle (for walking the idle list).
    fn agents_keys(&self) -> Vec<u64> {
        self.agents
            .iter()
            .map(|a| {
                if a.state == AgentState::Idle {
                    a.idle_key
                } else {
                    0
                }
            })
            .collect()
    }

    fn call(&self, c: CallId) -> Option<&Call> {
        self.calls
            .get(c.index())
            .filter(|x| x.generation == c.generation() && !matches!(x.state, CallState::Ended(_)))
    }

    fn alloc(&mut self, mut call: Call) -> CallId {
        if let Some(i) = self.free.pop() {
            call.generation = self.calls[i as usize].generation.wrapping_add(1);
            self.calls[i as usize] = call;
            CallId::new(i, call.generation)
        } else {
            let i = self.calls.len() as u32;
            self.calls.push(call);
            CallId::new(i, 0)
        }
    }

    fn expect_agent(
        &self,
        a: AgentId,
        allowed: &[AgentState],
        command: &'static str,
    ) -> Result<(), AcdError> {
        let ag = self
            .agents
            .get(a.0 as usize)
            .ok_or(AcdError::UnknownAgent(a))?;
        if allowed.contains(&ag.state) {
            Ok(())
        } else {
            Err(AcdError::AgentState {
                agent: a,
                state: ag.state,
                command,
            })
        }
    }

    fn set_agent(&mut self, now: Time, a: AgentId, s: AgentState) {
        let ag = &mut self.agents[a.0 as usize];
        ag.stats.seconds_in[ag.state.index()] += now - ag.since;
        if ag.state == AgentState::Idle {
            self.idle.left();
        }
        ag.state = s;
        ag.since = now;
        if s == AgentState::Idle {
            self.idle_counter += 1;
            ag.idle_key = self.idle_counter;
            self.idle.push(ag.idle_key, a.0);
        }
    }

    fn finish(&mut self, now: Time, c: CallId, t: Terminal, agent: Option<AgentId>) {
        let call = &mut self.calls[c.index()];
        call.state = CallState::Ended(t);
        match t {
            Terminal::Completed => self.stats.completed += 1,
            Terminal::AbandonedInQueue => self.stats.abandoned_in_queue += 1,
            Terminal::AbandonedRinging => self.stats.abandoned_ringing += 1,
            Terminal::Rejected => self.stats.rejected += 1,
            Terminal::OverflowToIvr => self.stats.overflow_ivr += 1,
            Terminal::OverflowToVoicemail => self.stats.overflow_voicemail += 1,
            Terminal::CallbackReleased => self.stats.callback_offered += 1,
        }
        if self.cfg.record_calls {
            self.records.push(CallRecord {
                caller: call.caller,
                queue: call.queue,
                arrived: call.arrived,
                answered: call.answered,
                ended: now,
                agent,
                terminal: t,
                callback: call.callback,
            });
        }
        self.free.push(c.index() as u32);
    }

    fn release(&mut self, now: Time, c: CallId, t: Terminal) {
        self.finish(now, c, t, None);
        self.actions.push_back(Action::Released {
            call: c,
            terminal: t,
        });
    }

    fn offer(&mut self, now: Time, c: CallId, a: AgentId) {
        let call = &mut self.calls[c.index()];
        call.state = CallState::Ringing(a);
        call.sticky = None;
        self.agents[a.0 as usize].call = Some(c);
        self.set_agent(now, a, AgentState::Ringing);
        self.actions.push_back(Action::Offer { call: c, agent: a });
        if let Some(t) = self.cfg.ring_timeout_s {
            self.actions.push_back(Action::ArmTimer {
                at: now + t,
                timer: Timer::RingTimeout(c, a),
            });
        }
    }

    /// Puts a call in `q` (at the head after a ring-no-answer) and arms its wait rules.
    fn enqueue(&mut self, now: Time, c: CallId, q: QueueId, at_head: bool) {
        let order = if at_head {
            self.order_head -= 1;
            self.order_head
        } else {
            let call = &self.calls[c.index()];
            if call.order != 0 {
                call.order // keeps its age when overflowing between queues
            } else {
                self.order_tail += 1;
                self.order_tail
            }
        };
        let call = &mut self.calls[c.index()];
        call.state = CallState::Queued(q);
        call.queue = q;
        call.order = order;
        call.queued_at = now;
        let key = (Reverse(call.priority), order, c.index() as u32);
        let queue = &mut self.queues[q.0 as usize];
        queue.waiting.insert(key);
        let position = queue.waiting.range(..key).count() as u32 + 1;
        self.actions.push_back(Action::Queued {
            call: c,
            queue: q,
            position,
        });
        for (i, r) in self.cfg.queues[q.0 as usize].overflow.iter().enumerate() {
            if let OverflowTrigger::WaitAtLeast(w) = r.trigger {
                self.actions.push_back(Action::ArmTimer {
                    at: now + w,
                    timer: Timer::Overflow(c, q, i as u8),
                });
            }
        }
    }

    /// Sends a call (not in any queue) to an overflow target. Returns false if the target
    /// could not take it (callback list full).
    fn apply_overflow(
        &mut self,
        now: Time,
        c: CallId,
        from: QueueId,
        target: OverflowTarget,
    ) -> bool {
        match target {
            OverflowTarget::Queue(to) => {
                self.stats.overflow_queue += 1;
                self.actions
                    .push_back(Action::Overflowed { call: c, from, to });
                if let Some(a) = self.pick_agent(to) {
                    self.offer(now, c, a);
                } else {
                    self.enqueue(now, c, to, false);
                }
                true
            }
            OverflowTarget::Ivr => {
                self.release(now, c, Terminal::OverflowToIvr);
                true
            }
            OverflowTarget::Voicemail => {
                self.release(now, c, Terminal::OverflowToVoicemail);
                true
            }
            OverflowTarget::Callback => self.offer_callback(now, c, from),
        }
    }

    fn offer_callback(&mut self, now: Time, c: CallId, q: QueueId) -> bool {
        let Some(cb) = self.cfg.callback else {
            return false;
        };
        let caller = self.calls[c.index()].caller;
        match self.callbacks.add(&cb, caller, q, now) {
            AddOutcome::Full => false,
            AddOutcome::Added | AddOutcome::AlreadyListed => {
                self.release(now, c, Terminal::CallbackReleased);
                true
            }
        }
    }

    /// Chooses an idle agent for a call in `q` by the configured policy.
    fn pick_agent(&mut self, q: QueueId) -> Option<AgentId> {
        let agents = &self.agents;
        self.idle.drop_stale_front(|a, key| {
            agents[a as usize].state == AgentState::Idle && agents[a as usize].idle_key == key
        });
        // Fast path: the longest-idle agent is at the front (the list starts with a live
        // entry after the cleanup above) and usually has the skill.
        if self.cfg.policy == Policy::LongestIdle
            && let Some(a) = self.idle.front()
            && agents[a as usize].level(q).is_some()
        {
            return Some(AgentId(a));
        }
        let mut eligible = self
            .idle
            .live(|a, key| {
                agents[a as usize].state == AgentState::Idle && agents[a as usize].idle_key == key
            })
            .filter(|&a| agents[a as usize].level(q).is_some());
        let chosen = match self.cfg.policy {
            Policy::LongestIdle => eligible.next(),
            Policy::SkillsBased => {
                let mut best: Option<(u8, u32)> = None;
                for a in eligible {
                    let l = agents[a as usize].level(q).unwrap_or(0);
                    if best.is_none_or(|(bl, _)| l > bl) {
                        best = Some((l, a));
                    }
                }
                best.map(|(_, a)| a)
            }
            Policy::FewestCalls => {
                let mut best: Option<(u64, u32)> = None;
                for a in eligible {
                    let n = agents[a as usize].stats.calls_handled;
                    if best.is_none_or(|(bn, _)| n < bn) {
                        best = Some((n, a));
                    }
                }
                best.map(|(_, a)| a)
            }
            Policy::Random => {
                let all: Vec<u32> = eligible.collect();
                if all.is_empty() {
                    None
                } else {
                    let r = splitmix(&mut self.rng);
                    Some(all[(r % all.len() as u64) as usize])
                }
            }
            Policy::RoundRobin => {
                let start = self.rr_next;
                let mut after: Option<u32> = None;
                let mut first: Option<u32> = None;
                for a in eligible {
                    if a >= start {
                        after = Some(after.map_or(a, |b: u32| b.min(a)));
                    }
                    first = Some(first.map_or(a, |b: u32| b.min(a)));
                }
                let pick = after.or(first);
                if let Some(a) = pick {
                    self.rr_next = a + 1;
                }
                pick
            }
        };
        chosen.map(AgentId)
    }

    /// An agent became available: take the best waiting call, else a callback, else idle.
    fn agent_free(&mut self, now: Time, a: AgentId) {
        if let Some(c) = self.best_waiting_for(now, a) {
            let call = self.calls[c.index()];
            if let CallState::Queued(q) = call.state {
                self.queues[q.0 as usize].waiting.remove(&(
                    Reverse(call.priority),
                    call.order,
                    c.index() as u32,
                ));
            }
            self.offer(now, c, a);
            return;
        }
        self.set_agent(now, a, AgentState::Idle);
        self.try_dial_callback(now, a);
    }

    /// The highest-priority, oldest call waiting in any of the agent's queues, skipping calls
    /// that wait for another (sticky) agent.
    fn best_waiting_for(&self, now: Time, a: AgentId) -> Option<CallId> {
        let mut best: Option<QueueKey> = None;
        // A caller waiting for this agent in particular comes first. Only scanned when the
        // sticky-agent feature is on.
        if self.cfg.sticky_wait_s.is_some() {
            for (q, _) in &self.agents[a.0 as usize].skills {
                for key in self.queues[q.0 as usize].waiting.iter() {
                    let call = &self.calls[key.2 as usize];
                    if call
                        .sticky
                        .is_some_and(|(sa, until)| sa == a && until > now)
                        && best.is_none_or(|b| *key < b)
                    {
                        best = Some(*key);
                    }
                }
            }
            if best.is_some() {
                return best.map(|k| CallId::new(k.2, self.calls[k.2 as usize].generation));
            }
        }
        for (q, _) in &self.agents[a.0 as usize].skills {
            let queue = &self.queues[q.0 as usize];
            for key in queue.waiting.iter() {
                let call = &self.calls[key.2 as usize];
                if let Some((sa, until)) = call.sticky
                    && sa != a
                    && until > now
                {
                    continue;
                }
                if best.is_none_or(|b| *key < b) {
                    best = Some(*key);
                }
                break;
            }
        }
        best.map(|k| CallId::new(k.2, self.calls[k.2 as usize].generation))
    }

    fn try_dial_callback(&mut self, now: Time, a: AgentId) -> bool {
        let Some(cb) = self.cfg.callback else {
            return false;
        };
        if now < cb.start_at_s || self.callbacks.len() == 0 {
            return false;
        }
        let skills = &self.agents[a.0 as usize].skills;
        let mut ex = std::mem::take(&mut self.expired_scratch);
        let next =
            self.callbacks
                .next_for(&cb, now, |q| skills.iter().any(|(s, _)| *s == q), &mut ex);
        self.report_expired(&mut ex);
        self.expired_scratch = ex;
        let Some(e) = next else { return false };
        self.agents[a.0 as usize].callback = Some(e.id);
        self.set_agent(now, a, AgentState::Ringing);
        self.actions.push_back(Action::DialCallback {
            entry: e.id,
            number: e.number,
            agent: a,
        });
        true
    }

    fn report_expired(&mut self, ex: &mut Vec<Entry>) {
        for e in ex.drain(..) {
            self.stats.callback_expired += 1;
            self.actions.push_back(Action::CallbackExpired {
                entry: e.id,
                number: e.number,
            });
        }
    }
}

fn splitmix(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
