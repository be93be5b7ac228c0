//! How calls and agents meet: choosing an agent by policy, offering, queueing, overflow,
//! ring-no-answer, and what a freed agent does next.

use std::cmp::Reverse;

use crate::acd::Acd;
use crate::callback::AddOutcome;
use crate::config::{OverflowTarget, OverflowTrigger, Policy};
use crate::time::Seconds;
use crate::types::*;

impl Acd {
    /// Chooses an idle agent for a call in `q` by the configured policy.
    #[inline]
    pub(crate) fn pick_agent(&mut self, q: QueueId) -> Option<AgentId> {
        let qi = q.0 as usize;
        let chosen = match self.cfg.policy {
            Policy::LongestIdle => self.idle.longest_idle(qi),
            Policy::SkillsBased => self.idle.best_skilled(qi),
            Policy::FewestCalls => self.idle.fewest_calls(qi),
            Policy::Random => {
                if self.idle.len(qi) == 0 {
                    None
                } else {
                    let r = splitmix(&mut self.rng);
                    self.idle.nth_any(qi, r)
                }
            }
            Policy::RoundRobin => {
                let a = self.idle.next_by_id(qi, self.rr_next);
                if let Some(a) = a {
                    self.rr_next = a + 1;
                }
                a
            }
        };
        chosen.map(AgentId)
    }

    pub(crate) fn release(&mut self, now: Seconds, c: CallId, t: Terminal) {
        self.clear_sticky(c);
        self.finish(now, c, t, None);
        self.actions.push_back(Action::Released {
            call: c,
            terminal: t,
        });
    }

    #[inline]
    pub(crate) fn offer(&mut self, now: Seconds, c: CallId, a: AgentId) {
        self.clear_sticky(c);
        self.calls[c.index()].state = CallState::Ringing(a);
        let ag = &mut self.agents[a.0 as usize];
        ag.call = Some(c);
        ag.cycle_from = Some(now);
        self.set_agent(now, a, AgentState::Ringing);
        self.actions.push_back(Action::Offer { call: c, agent: a });
        if let Some(t) = self.cfg.ring_timeout_s {
            self.actions.push_back(Action::ArmTimer {
                at: now + Seconds(t),
                timer: Timer::RingTimeout(c, a),
            });
        }
    }

    /// Puts a call in `q` (at the head after a ring-no-answer) and arms its wait rules.
    pub(crate) fn enqueue(&mut self, now: Seconds, c: CallId, q: QueueId, at_head: bool) {
        let call = &mut self.calls[c.index()];
        let order = if at_head {
            self.order_head -= 1;
            self.order_head
        } else if call.order != 0 {
            call.order // keeps its age when overflowing between queues
        } else {
            self.order_tail += 1;
            self.order_tail
        };
        call.state = CallState::Queued(q);
        call.queue = q;
        call.order = order;
        call.first_queued.get_or_insert(now);
        let priority = call.priority;
        let position = self
            .waiting
            .insert(q.0 as usize, c.index() as u32, priority, order);
        self.actions.push_back(Action::Queued {
            call: c,
            queue: q,
            position,
        });
        for (i, r) in self.cfg.queues[q.0 as usize].overflow.iter().enumerate() {
            if let OverflowTrigger::WaitAtLeast(w) = r.trigger {
                self.actions.push_back(Action::ArmTimer {
                    at: now + Seconds(w),
                    timer: Timer::Overflow(c, q, i as u8),
                });
            }
        }
    }

    /// Sends a call (not in any queue) to an overflow target. Returns false if the target
    /// could not take it (callback list full).
    pub(crate) fn apply_overflow(
        &mut self,
        now: Seconds,
        c: CallId,
        from: QueueId,
        target: OverflowTarget,
    ) -> bool {
        match target {
            OverflowTarget::Queue(to) => {
                self.clear_sticky(c);
                self.stats.overflow_queue += 1;
                self.actions
                    .push_back(Action::Overflowed { call: c, from, to });
                if let Some(a) = self.pick_agent(to) {
                    self.calls[c.index()].queue = to;
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

    /// Stores the caller's number on the callback list and releases the call. False if the
    /// list is full (the call stays where it is).
    pub(crate) fn offer_callback(&mut self, now: Seconds, c: CallId, q: QueueId) -> bool {
        let Some(cb) = self.cfg.callback else {
            return false;
        };
        let caller = self.calls[c.index()].caller;
        match self.callbacks.add(&cb, caller, q, now) {
            AddOutcome::Full => false,
            AddOutcome::Added => {
                self.arm_callback_expiry(now + Seconds(cb.expire_after_s));
                self.release(now, c, Terminal::CallbackReleased);
                true
            }
            AddOutcome::AlreadyListed => {
                self.release(now, c, Terminal::CallbackReleased);
                true
            }
        }
    }

    /// The ringing agent did not answer (or vanished): the agent goes to `agent_to`, the call
    /// goes to another idle agent or back to the head of its queue.
    pub(crate) fn ring_no_answer(
        &mut self,
        now: Seconds,
        c: CallId,
        a: AgentId,
        agent_to: AgentState,
    ) {
        self.stats.ring_no_answer += 1;
        self.agents[a.0 as usize].call = None;
        self.set_agent(now, a, agent_to);
        self.actions
            .push_back(Action::RingNoAnswer { call: c, agent: a });
        let q = self.calls[c.index()].queue;
        if let Some(b) = self.pick_agent(q) {
            self.offer(now, c, b);
        } else {
            self.enqueue(now, c, q, true);
        }
    }

    /// An agent became available: take the best waiting call, else a callback, else idle.
    #[inline]
    pub(crate) fn agent_free(&mut self, now: Seconds, a: AgentId) {
        if self.waiting.total() > 0
            && let Some(c) = self.best_waiting_for(now, a)
        {
            if let CallState::Queued(q) = self.calls[c.index()].state {
                self.waiting.remove(q.0 as usize, c.index() as u32);
            }
            self.offer(now, c, a);
            return;
        }
        self.set_agent(now, a, AgentState::Idle);
        if self.callbacks.pending() > 0 {
            self.try_dial_callback(now, a);
        }
    }

    /// The highest-priority, oldest call waiting in any of the agent's queues. A caller
    /// waiting for this agent in particular (sticky) comes first; callers waiting for another
    /// agent are skipped until their wait runs out.
    fn best_waiting_for(&self, now: Seconds, a: AgentId) -> Option<CallId> {
        let agent = &self.agents[a.0 as usize];
        let key = |slot: u32| {
            let call = &self.calls[slot as usize];
            (Reverse(call.priority), call.order)
        };
        if agent.sticky_waiters.is_empty() && self.cfg.sticky_wait_s.is_none() {
            // The common case: the oldest head among the agent's queues.
            let mut best: Option<u32> = None;
            for &(q, _) in &agent.skills {
                if let Some(slot) = self.waiting.front(q.0 as usize)
                    && best.is_none_or(|b| key(slot) < key(b))
                {
                    best = Some(slot);
                }
            }
            return best.map(|slot| CallId::new(slot, self.calls[slot as usize].generation));
        }
        let mut best: Option<u32> = None;
        for &slot in &agent.sticky_waiters {
            let call = &self.calls[slot as usize];
            if matches!(call.state, CallState::Queued(_))
                && call.sticky.is_some_and(|(_, until)| until > now)
                && best.is_none_or(|b| key(slot) < key(b))
            {
                best = Some(slot);
            }
        }
        if best.is_none() {
            for &(q, _) in &agent.skills {
                let first = if self.cfg.sticky_wait_s.is_none() {
                    self.waiting.front(q.0 as usize)
                } else {
                    self.waiting.iter(q.0 as usize).find(|&slot| {
                        self.calls[slot as usize]
                            .sticky
                            .is_none_or(|(sa, until)| sa == a || until <= now)
                    })
                };
                if let Some(slot) = first
                    && best.is_none_or(|b| key(slot) < key(b))
                {
                    best = Some(slot);
                }
            }
        }
        best.map(|slot| CallId::new(slot, self.calls[slot as usize].generation))
    }

    /// Dials the next callback this idle agent can serve, if callbacks may be dialled now.
    pub(crate) fn try_dial_callback(&mut self, now: Seconds, a: AgentId) -> bool {
        if self.callbacks.pending() == 0 {
            return false;
        }
        let Some(cb) = self.cfg.callback else {
            return false;
        };
        if now < Seconds(cb.start_at_s) {
            return false;
        }
        let skills = &self.agents[a.0 as usize].skills;
        let mut ex = std::mem::take(&mut self.expired_scratch);
        let next = self.callbacks.next_for(
            &cb,
            now,
            a,
            |q| skills.iter().any(|(s, _)| *s == q),
            &mut ex,
        );
        self.report_expired(&mut ex);
        self.expired_scratch = ex;
        let Some(e) = next else { return false };
        self.agents[a.0 as usize].callback = Some(e.id);
        self.agents[a.0 as usize].cycle_from = Some(now);
        self.set_agent(now, a, AgentState::Ringing);
        self.actions.push_back(Action::DialCallback {
            entry: e.id,
            number: e.number,
            agent: a,
        });
        true
    }
}

/// SplitMix64: a small, fast, well-mixed generator for the random policy, seeded from the
/// configuration so runs repeat exactly.
fn splitmix(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
