//! Call commands: arrival, abandon, end of talk, timers and callback outcomes.

use crate::acd::{Acd, Call, VIP_PRIORITY};
use crate::callback::AddOutcome;
use crate::config::CallOptions;
use crate::config::OverflowTrigger;
use crate::time::Seconds;
use crate::types::*;

impl Acd {
    // ----- call commands -----

    /// A call reaches the ACD for `queue` from `caller` (the caller's number; any fixed value
    /// such as 0 for anonymous callers). Returns its id; decisions follow through
    /// [`poll_action`](Self::poll_action).
    pub fn call_arrived(
        &mut self,
        now: Seconds,
        queue: QueueId,
        caller: u64,
    ) -> Result<CallId, AcdError> {
        self.call_arrived_with(now, queue, caller, CallOptions::default())
    }

    /// [`call_arrived`](Self::call_arrived) with a priority for the call (a VIP caller
    /// still ranks highest) and whether the caller would accept a callback offer. A caller
    /// who would not stays in the queue when offered one, and is counted in
    /// [`AcdStats::callback_declined`](crate::AcdStats::callback_declined).
    pub fn call_arrived_with(
        &mut self,
        now: Seconds,
        queue: QueueId,
        caller: u64,
        opts: CallOptions,
    ) -> Result<CallId, AcdError> {
        if queue.0 as usize >= self.staffed.len() {
            return Err(AcdError::UnknownQueue(queue));
        }
        self.stats.offered += 1;
        // Caller lists and the sticky agent cost nothing when none is in use.
        let by_caller = self.lists.active() || self.cfg.sticky_wait_s.is_some();
        let vip = by_caller && self.lists.is_vip(caller);
        let c = self.alloc(Call {
            generation: 0,
            state: CallState::Queued(queue),
            queue,
            priority: if vip {
                VIP_PRIORITY
            } else {
                opts.priority.min(VIP_PRIORITY - 1)
            },
            order: 0,
            caller,
            arrived: now,
            first_queued: None,
            answered: None,
            sticky: None,
            callback: false,
        });
        let mut waits_for_agent = false;
        if by_caller {
            match self.route_by_caller(now, c, queue, caller) {
                None => return Ok(c),
                Some(waits) => waits_for_agent = waits,
            }
        }
        if !waits_for_agent && let Some(a) = self.pick_agent(queue) {
            self.offer(now, c, a);
            return Ok(c);
        }
        // No agent now: rules that look at the queue on arrival.
        for i in 0..self.cfg.queues[queue.0 as usize].overflow.len() {
            let r = self.cfg.queues[queue.0 as usize].overflow[i];
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
        {
            if !opts.accepts_callback {
                self.stats.callback_declined += 1;
            } else if self.offer_callback(now, c, queue) {
                return Ok(c);
            }
        }
        self.enqueue(now, c, queue, false);
        Ok(c)
    }

    /// Routing by caller number: blacklist, VIP set agent, sticky agent. `None`: the call was
    /// dealt with; `Some(true)`: it waits for its sticky agent; `Some(false)`: route normally.
    fn route_by_caller(
        &mut self,
        now: Seconds,
        c: CallId,
        queue: QueueId,
        caller: u64,
    ) -> Option<bool> {
        if self.lists.is_blacklisted(caller) {
            self.release(now, c, Terminal::Rejected);
            return None;
        }
        // A VIP with a set agent goes to that agent when idle.
        if let Some(a) = self.lists.vip_agent(caller)
            && self.agents[a.0 as usize].state == AgentState::Idle
        {
            self.offer(now, c, a);
            return None;
        }
        // Sticky agent: the last agent who served this caller, if free or soon free.
        if let Some(wait) = self.cfg.sticky_wait_s
            && let Some(a) = self.lists.last_agent(caller)
            && self.agents[a.0 as usize].serves(queue)
        {
            match self.agents[a.0 as usize].state {
                AgentState::Idle => {
                    self.offer(now, c, a);
                    return None;
                }
                AgentState::Talking | AgentState::AfterCallWork | AgentState::Ringing => {
                    let until = now + Seconds(wait);
                    self.calls[c.index()].sticky = Some((a, until));
                    self.agents[a.0 as usize]
                        .sticky_waiters
                        .push(c.index() as u32);
                    self.actions.push_back(Action::ArmTimer {
                        at: until,
                        timer: Timer::StickyExpired(c),
                    });
                    return Some(true);
                }
                _ => {}
            }
        }
        Some(false)
    }

    /// The caller hung up while queued or ringing.
    pub fn caller_abandoned(&mut self, now: Seconds, c: CallId) -> Result<(), AcdError> {
        let state = self.call(c).ok_or(AcdError::UnknownCall(c))?.state;
        match state {
            CallState::Queued(q) => {
                self.waiting.remove(q.0 as usize, c.index() as u32);
                self.clear_sticky(c);
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

    /// The caller of a waiting or ringing call asked to be called back (a key in the IVR's
    /// queue announcement) and hangs up: the call leaves the queue, and the caller's number
    /// goes on the callback list as an accepted offer's would (counted in
    /// [`AcdStats::callback_offered`](crate::AcdStats::callback_offered)). Returns whether
    /// the number is on the list (now or already); `false` when the list is full, and the
    /// call counts as abandoned. A ringing agent is free again.
    pub fn callback_requested(&mut self, now: Seconds, c: CallId) -> Result<bool, AcdError> {
        let cb = self.cfg.callback.ok_or(AcdError::NoCallbackList)?;
        let call = *self.call(c).ok_or(AcdError::UnknownCall(c))?;
        let ringing = match call.state {
            CallState::Queued(q) => {
                self.waiting.remove(q.0 as usize, c.index() as u32);
                None
            }
            CallState::Ringing(a) => {
                self.agents[a.0 as usize].call = None;
                Some(a)
            }
            state => {
                return Err(AcdError::CallState {
                    call: c,
                    state,
                    command: "callback request",
                });
            }
        };
        self.clear_sticky(c);
        let listed = match self.callbacks.add(&cb, call.caller, call.queue, now) {
            AddOutcome::Added => {
                self.arm_callback_expiry(now + Seconds(cb.expire_after_s));
                true
            }
            AddOutcome::AlreadyListed => true,
            AddOutcome::Full => false,
        };
        let terminal = if listed {
            Terminal::CallbackReleased
        } else {
            Terminal::AbandonedInQueue
        };
        self.finish(now, c, terminal, None);
        if let Some(a) = ringing {
            self.agent_free(now, a);
        }
        Ok(listed)
    }

    /// A timer the ACD armed has come due: call it at or after the timer's `at` with the
    /// current time. Returns whether the timer changed anything; a stale timer (its call
    /// answered, its agent heard from, its entry served) does nothing and returns `false`, so
    /// a driver never needs to cancel one.
    pub fn timer_fired(&mut self, now: Seconds, t: Timer) -> bool {
        match t {
            Timer::RingTimeout(c, a) => {
                if self.call(c).map(|x| x.state) != Some(CallState::Ringing(a)) {
                    return false;
                }
                self.ring_no_answer(now, c, a, AgentState::NotReady);
                true
            }
            Timer::Overflow(c, q, rule) => {
                if self.call(c).map(|x| x.state) != Some(CallState::Queued(q)) {
                    return false;
                }
                let Some(r) = self.cfg.queues[q.0 as usize]
                    .overflow
                    .get(rule as usize)
                    .copied()
                else {
                    return false;
                };
                let call = self.calls[c.index()];
                self.waiting.remove(q.0 as usize, c.index() as u32);
                if !self.apply_overflow(now, c, q, r.target) {
                    // Callback list full: the call keeps its place.
                    self.waiting
                        .insert(q.0 as usize, c.index() as u32, call.priority, call.order);
                }
                true
            }
            Timer::StickyExpired(c) => {
                let Some(call) = self.call(c).copied() else {
                    return false;
                };
                let CallState::Queued(q) = call.state else {
                    return false;
                };
                if call.sticky.is_none() {
                    return false;
                }
                self.clear_sticky(c);
                if let Some(a) = self.pick_agent(q) {
                    self.waiting.remove(q.0 as usize, c.index() as u32);
                    self.offer(now, c, a);
                }
                true
            }
            Timer::CallbackStart => self.dial_callbacks(now),
            Timer::CallbackExpiry => self.callback_expiry_due(now),
            Timer::Heartbeat(a, epoch) => self.heartbeat_due(now, a, epoch),
        }
    }

    /// The outcome of a callback dial. Answered: returns the outbound call, now talking,
    /// which ends with [`call_ended`](Self::call_ended). Not answered: the agent is free and
    /// the entry is retried later or expires.
    pub fn callback_result(
        &mut self,
        now: Seconds,
        id: CallbackId,
        answered: bool,
    ) -> Result<Option<CallId>, AcdError> {
        let cb = self.cfg.callback.ok_or(AcdError::UnknownCallback(id))?;
        let (a, finished) = self
            .callbacks
            .finish_dial(&cb, id, answered)
            .ok_or(AcdError::UnknownCallback(id))?;
        self.agents[a.0 as usize].callback = None;
        if answered && let Some(e) = finished {
            self.stats.callback_served += 1;
            let c = self.alloc(Call {
                generation: 0,
                state: CallState::Talking(a),
                queue: e.queue,
                priority: 0,
                order: 0,
                caller: e.number,
                arrived: now,
                first_queued: None,
                answered: Some(now),
                sticky: None,
                callback: true,
            });
            self.agents[a.0 as usize].call = Some(c);
            self.agents[a.0 as usize].stats.calls_handled += 1;
            self.set_agent(now, a, AgentState::Talking);
            return Ok(Some(c));
        }
        self.agents[a.0 as usize].cycle_from = None;
        if let Some(e) = finished {
            self.stats.callback_expired += 1;
            self.actions.push_back(Action::CallbackExpired {
                entry: e.id,
                number: e.number,
            });
        } else if let Some(at) = self.callbacks.next_expiry(&cb) {
            // The entry waits again, perhaps older than any the armed timer covers.
            self.arm_callback_expiry(at);
        }
        self.agent_free(now, a);
        Ok(None)
    }

    /// Dials pending callbacks with idle agents, longest idle first, if the list allows it
    /// now (from the configured start time).
    fn dial_callbacks(&mut self, now: Seconds) -> bool {
        if self.cfg.callback.is_none() || self.callbacks.pending() == 0 {
            return false;
        }
        let mut dialled = false;
        for a in self.idle.all_longest_first() {
            if self.callbacks.pending() == 0 {
                break;
            }
            let a = AgentId(a);
            if self.agents[a.0 as usize].state == AgentState::Idle {
                dialled |= self.try_dial_callback(now, a);
            }
        }
        dialled
    }

    /// A callback-expiry timer came due: expires every entry at its age limit, then arms the
    /// next expiry if entries still wait and no later timer is armed for them.
    fn callback_expiry_due(&mut self, now: Seconds) -> bool {
        let Some(cb) = self.cfg.callback else {
            return false;
        };
        let mut ex = std::mem::take(&mut self.expired_scratch);
        self.callbacks.expire(&cb, now, &mut ex);
        let expired = !ex.is_empty();
        self.report_expired(&mut ex);
        self.expired_scratch = ex;
        if self.expiry_armed.is_some_and(|at| at <= now) {
            self.expiry_armed = None;
        }
        if let Some(at) = self.callbacks.next_expiry(&cb) {
            self.arm_callback_expiry(at);
        }
        expired
    }
}
