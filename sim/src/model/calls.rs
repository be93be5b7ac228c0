//! The caller's path through the centre: trunk seizure, IVR, reaching the ACD, patience,
//! answer, talk, after-call work and redials.

use rand::Rng;
use tandem_acd::{AgentId, CallOptions, CallState, QueueId, Seconds};

use super::{CallRef, Event, Phase, Run, SimCall, acd_err};
use crate::SimError;
use crate::lifecycle::{Ending, NO_CALL, Transition};

/// Why a caller was lost, for the redial decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lost {
    /// Busy tone or silence: every trunk seized, or no IVR port.
    Busy,
    /// Gave up waiting (queue, ring, balk).
    Abandoned,
}

impl Run<'_> {
    /// A call arrives (or a caller redials): seizes a trunk channel or is a trunk loss,
    /// then goes to the IVR or straight to the ACD.
    pub(super) fn arrive(
        &mut self,
        t: f64,
        caller: u64,
        attempt: u32,
        ctype: u16,
    ) -> Result<(), SimError> {
        let counts = self.at(t);
        counts.offered += 1.0;
        if attempt > 1 {
            counts.redials += 1.0;
        }
        if self.breakdown_on && self.m.counting(t) {
            self.count_type(ctype, |c| c.offered += 1.0);
        }
        if !self.trunk_free() {
            self.at(t).trunk_lost += 1.0;
            self.note_key(t, NO_CALL, Transition::TrunkBlocked);
            self.maybe_redial(t, caller, attempt, ctype, Lost::Busy);
            return Ok(());
        }
        self.m.trunks.add(t, 1.0);
        let i = self.alloc(SimCall::new(caller, attempt, ctype, t));
        let vip = caller < self.vip_below;
        self.note(t, i, Transition::Seized { vip });
        match &self.sc.ivr {
            Some(ivr) if !vip => {
                let generation = self.calls[i as usize].generation;
                if self.m.ivr.value() >= f64::from(ivr.ports) {
                    self.note(t, i, Transition::IvrNoPort);
                    self.k.schedule(
                        t + ivr.no_answer_hangup_s,
                        Event::IvrHangup(CallRef {
                            slot: i,
                            generation,
                        }),
                    );
                } else {
                    self.m.ivr.add(t, 1.0);
                    self.note(t, i, Transition::IvrStarted);
                    let c = CallRef {
                        slot: i,
                        generation,
                    };
                    match &ivr.time {
                        Some(time) => {
                            let d = time.sample(&mut self.rng.ivr);
                            self.k.schedule(t + d, Event::IvrDone(c));
                        }
                        // The walk through the flow starts at once, as an event of its own.
                        None => self.k.schedule(t, Event::FlowStart(c)),
                    }
                }
                Ok(())
            }
            _ => self.enter_acd(t, i),
        }
    }

    /// A caller who found no IVR port hangs up: an IVR loss.
    pub(super) fn ivr_hangup(&mut self, t: f64, i: u32) {
        self.at(t).ivr_lost += 1.0;
        self.note(t, i, Transition::Ended(Ending::IvrLost));
        let c = self.calls[i as usize];
        self.release(t, i);
        self.maybe_redial(t, c.caller, c.attempt, c.ctype, Lost::Busy);
    }

    /// A caller finishes the IVR: served there, or on to the ACD.
    pub(super) fn ivr_done(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        self.m.ivr.add(t, -1.0);
        let self_service = self.sc.ivr.as_ref().map_or(0.0, |v| v.self_service);
        if self.rng.ivr.random::<f64>() < self_service {
            self.at(t).ivr_completed += 1.0;
            self.note(t, i, Transition::Ended(Ending::SelfService));
            self.release(t, i);
            Ok(())
        } else {
            self.enter_acd(t, i)
        }
    }

    pub(super) fn enter_acd(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        self.at(t).reached_acd += 1.0;
        self.note(t, i, Transition::ReachedAcd);
        let ctype = self.calls[i as usize].ctype as usize;
        if self.breakdown_on && self.m.counting(t) {
            self.count_type(ctype as u16, |c| c.reached_acd += 1.0);
        }
        let ty = &self.types[ctype];
        let (queue, priority) = (ty.queue, ty.priority);
        let patience = ty.patience.sample(&mut self.rng.patience);
        let c = &mut self.calls[i as usize];
        c.phase = Phase::Acd;
        c.acd_in = t;
        // The patience event is scheduled only once it can matter: when the call queues, or
        // when it would run out before the agent answers. Most calls at moderate load meet
        // an idle agent, and an event for each would be dead weight in the queue.
        c.deadline = t + patience;
        c.patience_at = f64::INFINITY;
        let caller = c.caller;
        // With an IVR flow, callbacks are asked for with the flow's key, never offered.
        let accepts_callback = !self.flow_on
            && (self.acceptance >= 1.0 || self.rng.acceptance.random::<f64>() < self.acceptance);
        let id = self
            .acd
            .call_arrived_with(
                Seconds(t),
                QueueId(queue),
                caller,
                CallOptions {
                    priority,
                    accepts_callback,
                },
            )
            .map_err(acd_err)?;
        if !accepts_callback && !self.flow_on {
            self.note_declined(t);
        }
        self.calls[i as usize].acd = Some(id);
        self.map_acd(id, i);
        self.actions(t)
    }

    /// Makes sure a patience event is queued for call `i` no later than its deadline.
    pub(super) fn arm_patience(&mut self, i: u32) {
        let c = &mut self.calls[i as usize];
        if c.deadline < c.patience_at && c.deadline.is_finite() {
            c.patience_at = c.deadline;
            let ev = Event::Patience(CallRef {
                slot: i,
                generation: c.generation,
            });
            self.k.schedule(c.deadline, ev);
        }
    }

    /// A patience event of call `i` came due. Returns whether it changed anything.
    pub(super) fn patience_expired(&mut self, t: f64, i: u32) -> Result<bool, SimError> {
        let c = self.calls[i as usize];
        if c.phase != Phase::Acd {
            return Ok(false);
        }
        if t < c.deadline {
            // The caller's patience was drawn afresh (after the delay announcement) and runs
            // longer now: wait for the new deadline.
            self.calls[i as usize].patience_at = f64::INFINITY;
            self.arm_patience(i);
            return Ok(false);
        }
        let Some(id) = c.acd else { return Ok(false) };
        match self.acd.call_state(id) {
            Some(CallState::Queued(_)) => {
                self.at(t).queue_abandoned += 1.0;
                self.note(t, i, Transition::Ended(Ending::QueueAbandoned));
            }
            Some(CallState::Ringing(a)) => {
                self.at(t).ring_lost += 1.0;
                self.note(t, i, Transition::Ended(Ending::RingAbandoned));
                let ag = &mut self.agents[a.0 as usize];
                ag.call = None;
                ag.token = ag.token.wrapping_add(1);
            }
            _ => return Ok(false),
        }
        self.abandoned(t, i)?;
        Ok(true)
    }

    /// Call `i`, queued or ringing, hangs up now (patience ran out, or it balked): the
    /// ACD is told, the call released, and the caller may redial.
    pub(super) fn abandoned(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        let c = self.calls[i as usize];
        let Some(id) = c.acd else { return Ok(()) };
        let short = t - c.acd_in <= self.sc.sl_threshold_s;
        if short {
            self.at(t).abandoned_within_sl += 1.0;
        }
        if self.breakdown_on && self.m.counting(t) {
            self.count_type(c.ctype, |tc| {
                tc.abandoned += 1.0;
                if short {
                    tc.abandoned_within_sl += 1.0;
                }
            });
        }
        self.acd.caller_abandoned(Seconds(t), id).map_err(acd_err)?;
        if self.flow_on {
            // The walk hears the caller hang up (in its queue node).
            self.flow_release(t, i);
        }
        self.release(t, i);
        self.maybe_redial(t, c.caller, c.attempt, c.ctype, Lost::Abandoned);
        self.actions(t)
    }

    /// A caller lost on attempt `attempt` may call again.
    pub(super) fn maybe_redial(
        &mut self,
        t: f64,
        caller: u64,
        attempt: u32,
        ctype: u16,
        why: Lost,
    ) {
        if attempt > 1 {
            self.at(t).redials_lost += 1.0;
        }
        let Some(r) = &self.sc.redial else { return };
        let p = match why {
            Lost::Busy => r.after_busy,
            Lost::Abandoned => r.after_abandon,
        }
        .unwrap_or(r.probability);
        if attempt >= r.max_attempts || self.rng.redial.random::<f64>() >= p {
            return;
        }
        let d = r.delay.sample(&mut self.rng.redial);
        if t + d >= self.sc.duration_s {
            return; // the line is closed by then
        }
        let entry = (caller, attempt + 1, ctype);
        let slot = self.redials.insert(entry);
        self.k.schedule(t + d, Event::Redial(slot));
    }

    /// Agent `agent` answers the call its phone rings for.
    pub(super) fn answer(&mut self, t: f64, agent: u32) -> Result<(), SimError> {
        if self.flow_on {
            return self.flow_answer(t, agent);
        }
        self.answer_with(t, agent, false)
    }

    /// [`Self::answer`] in a run with an IVR flow.
    #[cold]
    #[inline(never)]
    fn flow_answer(&mut self, t: f64, agent: u32) -> Result<(), SimError> {
        if let Some(i) = self.agents[agent as usize].call
            && self.flow_calls.get(i as usize).is_some_and(Option::is_some)
        {
            // What the flow had due by now comes first (its longest wait, a callback key):
            // the caller may have left the queue.
            self.flow_catch_up(t, i)?;
            if self.agents[agent as usize].call != Some(i) {
                return self.actions(t);
            }
        }
        self.answer_with(t, agent, true)
    }

    /// Agent `agent` answers; `flow`: in a run with an IVR flow (constant where inlined, so
    /// a run without one does no flow work at all).
    #[inline(always)]
    fn answer_with(&mut self, t: f64, agent: u32, flow: bool) -> Result<(), SimError> {
        let Some(i) = self.agents[agent as usize].call else {
            return Ok(());
        };
        let a = AgentId(agent);
        self.acd.agent_answered(Seconds(t), a).map_err(acd_err)?;
        let c = &mut self.calls[i as usize];
        c.phase = Phase::Talking;
        c.agent = agent;
        let wait = t - c.acd_in;
        let ctype = c.ctype as usize;
        let within = wait <= self.sc.sl_threshold_s;
        let counts = self.m.at(t);
        counts.answered += 1.0;
        counts.wait_sum += wait;
        if within {
            counts.answered_within_sl += 1.0;
        }
        let ms = (wait * 1000.0) as u64;
        if ms <= 1 {
            self.short_waits += 1;
        } else {
            let _ = self.m.waits_ms.record(ms);
        }
        if self.breakdown_on && self.m.counting(t) {
            self.count_answer(ctype, agent, wait, within);
        }
        self.note(t, i, Transition::Answered { agent });
        self.start_talk(t, i);
        if flow && self.flow_calls.get(i as usize).is_some_and(Option::is_some) {
            self.flow_answered(t, i)?;
        }
        self.actions(t)
    }

    /// Counts of call type `ctype`, if they are kept.
    #[cold]
    fn count_type(&mut self, ctype: u16, f: impl FnOnce(&mut crate::breakdown::TypeCounts)) {
        if let Some(c) = self.m.breakdown.types.get_mut(ctype as usize) {
            f(c);
        }
    }

    /// A caller who would not accept a callback: counted if the ACD offered one.
    #[cold]
    fn note_declined(&mut self, t: f64) {
        let declined = self.acd.stats().callback_declined;
        if declined > self.declined_seen {
            self.declined_seen = declined;
            self.at(t).callback_declined += 1.0;
        }
    }

    /// Per type and per group counts of an answer.
    #[cold]
    fn count_answer(&mut self, ctype: usize, agent: u32, wait: f64, within: bool) {
        let b = &mut self.m.breakdown;
        if let Some(tc) = b.types.get_mut(ctype) {
            tc.answered += 1.0;
            tc.wait_sum += wait;
            if within {
                tc.answered_within_sl += 1.0;
            }
        }
        if let Some(g) = b.groups.get_mut(self.agent_group[agent as usize] as usize) {
            g.answered += 1.0;
        }
    }

    /// Agent `agent`'s busy level (and its group's) changes by `d` at `t`.
    #[inline(always)]
    pub(super) fn busy(&mut self, t: f64, agent: u32, d: f64) {
        self.m.agents_busy.add(t, d);
        if self.breakdown_on {
            self.group_busy(t, agent, d);
        }
    }

    #[cold]
    fn group_busy(&mut self, t: f64, agent: u32, d: f64) {
        let g = self.agent_group[agent as usize] as usize;
        if let Some(g) = self.m.breakdown.groups.get_mut(g) {
            g.busy.add(t, d);
        }
    }

    /// An agent and call `i` start talking: busy agents up, the end of talk scheduled.
    pub(super) fn start_talk(&mut self, t: f64, i: u32) {
        let c = self.calls[i as usize];
        self.busy(t, c.agent, 1.0);
        let talk = self.types[c.ctype as usize].talk.sample(&mut self.rng.talk);
        let call = self.call_ref(i);
        self.k.schedule(t + talk, Event::TalkEnd(call));
    }

    pub(super) fn talk_end(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        if self.flow_on {
            return self.flow_talk_end(t, i);
        }
        self.talk_end_with(t, i, false)
    }

    /// [`Self::talk_end`] in a run with an IVR flow.
    #[cold]
    #[inline(never)]
    fn flow_talk_end(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        self.talk_end_with(t, i, true)
    }

    /// A conversation ends; `flow`: in a run with an IVR flow (constant where inlined).
    #[inline(always)]
    fn talk_end_with(&mut self, t: f64, i: u32, flow: bool) -> Result<(), SimError> {
        let c = self.calls[i as usize];
        if c.phase != Phase::Talking {
            return Ok(());
        }
        if let Some(id) = c.acd {
            self.acd.call_ended(Seconds(t), id).map_err(acd_err)?;
        }
        let in_flow = flow && self.flow_calls.get(i as usize).is_some_and(Option::is_some);
        if !in_flow {
            self.note(t, i, Transition::Ended(Ending::TalkEnded));
        }
        let ag = &mut self.agents[c.agent as usize];
        ag.call = None;
        ag.token = ag.token.wrapping_add(1);
        if in_flow {
            self.flow_after_agent(t, i)?;
        } else {
            self.release(t, i);
        }
        let acw = self.types[c.ctype as usize].acw.sample(&mut self.rng.acw);
        self.k.schedule(t + acw, Event::AcwEnd(c.agent));
        self.actions(t)
    }

    pub(super) fn acw_end(&mut self, t: f64, agent: u32) -> Result<(), SimError> {
        self.busy(t, agent, -1.0);
        let a = AgentId(agent);
        if self.agents[agent as usize].logout_pending
            || (self.excess_total > 0 && self.leaves_first_free(agent))
        {
            self.acd
                .wrap_up_done_not_ready(Seconds(t), a)
                .map_err(acd_err)?;
            self.logout(t, agent)?;
        } else {
            self.acd.wrap_up_done(Seconds(t), a).map_err(acd_err)?;
        }
        self.actions(t)
    }
}
