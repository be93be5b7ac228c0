//! The ACD state machine: its state, construction and the bookkeeping every command shares.
//! Commands live in `agent.rs` and `call.rs`, queries in `queries.rs`, and how a call finds
//! an agent in `routing.rs`.

use std::collections::VecDeque;

use crate::callback::{CallbackList, Entry};
use crate::config::{AcdConfig, OverflowTarget, OverflowTrigger};
use crate::idle::IdlePools;
use crate::lists::CallerLists;
use crate::queue::Waiting;
use crate::records::{AcdStats, AgentRecord, AgentStats};
use crate::time::Seconds;
use crate::types::*;

/// Highest call priority; VIP callers get it.
pub const VIP_PRIORITY: u8 = u8::MAX;

#[derive(Clone, Debug)]
pub(crate) struct Agent {
    pub state: AgentState,
    pub since: Seconds,
    pub skills: Vec<(QueueId, u8)>,
    pub call: Option<CallId>,
    pub callback: Option<CallbackId>,
    pub stats: AgentStats,
    /// Calls (slots) waiting in a queue for this agent in particular (sticky agent).
    pub sticky_waiters: Vec<u32>,
    pub last_seen: Seconds,
    /// Tells the agent's current heartbeat timer from earlier ones.
    pub heartbeat_epoch: u32,
    /// When the agent's phone started ringing for the call (or the callback dial) now in
    /// hand: the start of the handle cycle the expected-wait estimate averages.
    pub cycle_from: Option<Seconds>,
}

impl Agent {
    pub fn serves(&self, q: QueueId) -> bool {
        self.skills.iter().any(|(s, _)| *s == q)
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Call {
    pub generation: u32,
    pub state: CallState,
    pub queue: QueueId,
    pub priority: u8,
    /// Age key in queues: smaller is older; 0 until the call first queues.
    pub order: i64,
    pub caller: u64,
    pub arrived: Seconds,
    pub first_queued: Option<Seconds>,
    pub answered: Option<Seconds>,
    /// Waiting for this agent until this time (sticky agent).
    pub sticky: Option<(AgentId, Seconds)>,
    pub callback: bool,
}

/// The automatic call distributor. See the crate documentation for the protocol.
#[derive(Debug)]
pub struct Acd {
    pub(crate) cfg: AcdConfig,
    pub(crate) agents: Vec<Agent>,
    pub(crate) calls: Vec<Call>,
    pub(crate) free: Vec<u32>,
    pub(crate) waiting: Waiting,
    /// Logged-in agents per queue, for expected-wait estimates.
    pub(crate) staffed: Vec<u32>,
    pub(crate) idle: IdlePools,
    pub(crate) idle_counter: u64,
    pub(crate) order_tail: i64,
    pub(crate) order_head: i64,
    pub(crate) rr_next: u32,
    pub(crate) rng: u64,
    pub(crate) lists: CallerLists,
    pub(crate) callbacks: CallbackList,
    pub(crate) actions: VecDeque<Action>,
    pub(crate) records: Vec<CallRecord>,
    pub(crate) agent_records: Vec<AgentRecord>,
    pub(crate) record_agents: bool,
    pub(crate) stats: AcdStats,
    pub(crate) aht: f64,
    pub(crate) expired_scratch: Vec<Entry>,
    /// When the latest callback-expiry timer is due, while one is armed.
    pub(crate) expiry_armed: Option<Seconds>,
    pub(crate) heartbeat_timeout: Option<Seconds>,
}

impl Acd {
    /// A new ACD with every agent offline. If callbacks start at a configured time, its
    /// first action arms [`Timer::CallbackStart`].
    pub fn new(cfg: AcdConfig) -> Result<Acd, AcdError> {
        validate(&cfg)?;
        let nq = cfg.queues.len();
        let skills: Vec<Vec<(u32, u8)>> = cfg
            .agents
            .iter()
            .map(|a| a.skills.iter().map(|&(q, l)| (q.0, l)).collect())
            .collect();
        let agents = cfg
            .agents
            .iter()
            .map(|a| Agent {
                state: AgentState::Offline,
                since: Seconds::ZERO,
                skills: a.skills.clone(),
                call: None,
                callback: None,
                stats: AgentStats::default(),
                sticky_waiters: Vec::new(),
                last_seen: Seconds::ZERO,
                heartbeat_epoch: 0,
                cycle_from: None,
            })
            .collect();
        let mut actions = VecDeque::new();
        if let Some(cb) = &cfg.callback
            && cb.start_at_s > 0.0
        {
            actions.push_back(Action::ArmTimer {
                at: Seconds(cb.start_at_s),
                timer: Timer::CallbackStart,
            });
        }
        Ok(Acd {
            waiting: Waiting::new(nq),
            staffed: vec![0; nq],
            idle: IdlePools::new(cfg.policy, nq, &skills),
            agents,
            calls: Vec::new(),
            free: Vec::new(),
            idle_counter: 0,
            order_tail: 0,
            order_head: 0,
            rr_next: 0,
            rng: cfg.seed ^ 0x5DEE_CE66_D1CE_4E5B,
            lists: CallerLists::new(&cfg.vip, &cfg.vip_agent, &cfg.blacklist),
            callbacks: CallbackList::default(),
            actions,
            records: Vec::new(),
            agent_records: Vec::new(),
            record_agents: false,
            stats: AcdStats::default(),
            aht: 180.0,
            expired_scratch: Vec::new(),
            expiry_armed: None,
            heartbeat_timeout: None,
            cfg,
        })
    }

    // ----- bookkeeping shared with routing -----

    pub(crate) fn call(&self, c: CallId) -> Option<&Call> {
        self.calls
            .get(c.index())
            .filter(|x| x.generation == c.generation() && !matches!(x.state, CallState::Ended(_)))
    }

    #[inline]
    pub(crate) fn alloc(&mut self, mut call: Call) -> CallId {
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

    pub(crate) fn expect_agent(
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

    /// Agent `a`, if it is in `state`.
    pub(crate) fn agent_in(
        &mut self,
        a: AgentId,
        state: AgentState,
        command: &'static str,
    ) -> Result<&mut Agent, AcdError> {
        let ag = self
            .agents
            .get_mut(a.0 as usize)
            .ok_or(AcdError::UnknownAgent(a))?;
        if ag.state == state {
            Ok(ag)
        } else {
            Err(AcdError::AgentState {
                agent: a,
                state: ag.state,
                command,
            })
        }
    }

    /// Arms agent `a`'s heartbeat timer at `at`, which makes any earlier one stale.
    pub(crate) fn arm_heartbeat(&mut self, at: Seconds, a: AgentId) {
        let ag = &mut self.agents[a.0 as usize];
        ag.heartbeat_epoch = ag.heartbeat_epoch.wrapping_add(1);
        self.actions.push_back(Action::ArmTimer {
            at,
            timer: Timer::Heartbeat(a, ag.heartbeat_epoch),
        });
    }

    /// Makes sure a callback-expiry timer is armed no later than `at`.
    pub(crate) fn arm_callback_expiry(&mut self, at: Seconds) {
        if self.expiry_armed.is_none_or(|armed| at < armed) {
            self.expiry_armed = Some(at);
            self.actions.push_back(Action::ArmTimer {
                at,
                timer: Timer::CallbackExpiry,
            });
        }
    }

    /// The agent was heard from at `now`.
    pub(crate) fn touch(&mut self, now: Seconds, a: AgentId) {
        self.agents[a.0 as usize].last_seen = now;
    }

    pub(crate) fn go_offline(&mut self, now: Seconds, a: AgentId) {
        for i in 0..self.agents[a.0 as usize].skills.len() {
            let q = self.agents[a.0 as usize].skills[i].0;
            self.staffed[q.0 as usize] -= 1;
        }
        self.set_agent(now, a, AgentState::Offline);
        // Callers waiting for this agent in particular stop waiting for them.
        while let Some(slot) = self.agents[a.0 as usize].sticky_waiters.pop() {
            self.calls[slot as usize].sticky = None;
        }
    }

    #[inline]
    pub(crate) fn set_agent(&mut self, now: Seconds, a: AgentId, s: AgentState) {
        let ag = &mut self.agents[a.0 as usize];
        let (from, since) = (ag.state, ag.since);
        ag.stats.seconds_in[from as usize] += (now - since).0;
        ag.state = s;
        ag.since = now;
        let calls = ag.stats.calls_handled;
        if from == AgentState::Idle {
            self.idle.leave(a.0);
        }
        if s == AgentState::Idle {
            self.idle_counter += 1;
            self.idle.enter(a.0, self.idle_counter, calls);
        }
        if self.record_agents {
            self.record_agent(a, from, since, now);
        }
    }

    /// Appends a record of agent `a`'s time in `state` (only when agent records are on, so
    /// kept out of the state change itself).
    #[cold]
    fn record_agent(&mut self, a: AgentId, state: AgentState, from: Seconds, to: Seconds) {
        self.agent_records.push(AgentRecord {
            agent: a,
            state,
            from,
            to,
        });
    }

    /// Ends a call in terminal state `t`. A call that waited for a particular agent must have
    /// had that wait cleared ([`clear_sticky`](Self::clear_sticky)).
    #[inline]
    pub(crate) fn finish(&mut self, now: Seconds, c: CallId, t: Terminal, agent: Option<AgentId>) {
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
                queued: call.first_queued,
                answered: call.answered,
                ended: now,
                agent,
                terminal: t,
                callback: call.callback,
            });
        }
        self.free.push(c.index() as u32);
    }

    /// Ends a call's wait for a particular agent.
    #[inline]
    pub(crate) fn clear_sticky(&mut self, c: CallId) {
        if let Some((a, _)) = self.calls[c.index()].sticky.take() {
            let slot = c.index() as u32;
            let waiters = &mut self.agents[a.0 as usize].sticky_waiters;
            if let Some(i) = waiters.iter().position(|&s| s == slot) {
                waiters.swap_remove(i);
            }
        }
    }

    pub(crate) fn report_expired(&mut self, ex: &mut Vec<Entry>) {
        for e in ex.drain(..) {
            self.stats.callback_expired += 1;
            self.actions.push_back(Action::CallbackExpired {
                entry: e.id,
                number: e.number,
            });
        }
    }
}

/// A span the ACD arms a timer with must be a finite number of seconds, zero or more.
pub(crate) fn check_span(name: &str, seconds: f64) -> Result<(), AcdError> {
    if seconds.is_finite() && seconds >= 0.0 {
        Ok(())
    } else {
        Err(AcdError::Config(format!(
            "{name} must be a finite number of seconds ≥ 0, got {seconds}"
        )))
    }
}

fn validate(cfg: &AcdConfig) -> Result<(), AcdError> {
    let nq = cfg.queues.len() as u32;
    if nq == 0 {
        return Err(AcdError::Config("at least one queue is needed".into()));
    }
    if let Some(t) = cfg.ring_timeout_s {
        check_span("ring_timeout_s", t)?;
    }
    if let Some(t) = cfg.sticky_wait_s {
        check_span("sticky_wait_s", t)?;
    }
    if let Some(cb) = &cfg.callback {
        check_span("callback expire_after_s", cb.expire_after_s)?;
        check_span("callback start_at_s", cb.start_at_s)?;
    }
    for (i, q) in cfg.queues.iter().enumerate() {
        for r in &q.overflow {
            if let OverflowTrigger::WaitAtLeast(w) = r.trigger {
                check_span("overflow wait", w)?;
            }
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
        let mut seen: Vec<QueueId> = a.skills.iter().map(|(q, _)| *q).collect();
        seen.sort();
        seen.dedup();
        if seen.len() != a.skills.len() {
            return Err(AcdError::Config(format!(
                "agent `{}` lists a queue twice in its skills",
                a.name
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
    Ok(())
}
