//! The caller's path through the centre: trunk seizure, IVR, reaching the ACD, patience,
//! answer, talk, after-call work, redials and the outcome of callback dials.

use rand::Rng;
use tandem_acd::{AgentId, CallState, CallbackId, QueueId, Seconds};

use super::{CallRef, Event, Phase, Run, SimCall, acd_err};
use crate::SimError;
use crate::lifecycle::{Ending, NO_CALL, OUTBOUND_DIAL, Transition};

impl Run<'_> {
    /// A call arrives (or a caller redials): seizes a trunk channel or is a trunk loss,
    /// then goes to the IVR or straight to the ACD.
    pub(super) fn arrive(&mut self, t: f64, caller: u64, attempt: u32) -> Result<(), SimError> {
        let iv = self.sc.interval_s;
        let counts = self.m.at(t, iv);
        counts.offered += 1.0;
        if attempt > 1 {
            counts.redials += 1.0;
        }
        if let Some(cap) = self.m.trunk_capacity
            && self.m.trunks.value() >= f64::from(cap)
        {
            self.m.at(t, iv).trunk_lost += 1.0;
            self.note_key(t, NO_CALL, Transition::TrunkBlocked);
            self.maybe_redial(t, caller, attempt);
            return Ok(());
        }
        self.m.trunks.add(t, 1.0);
        let i = self.alloc(SimCall {
            generation: 0,
            caller,
            attempt,
            acd_in: t,
            acd: None,
            phase: Phase::Ivr,
            waited: false,
            trunk: true,
            agent: 0,
            deadline: f64::INFINITY,
            patience_armed: false,
        });
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
                    let d = ivr.time.sample(&mut self.rng.ivr);
                    self.k.schedule(
                        t + d,
                        Event::IvrDone(CallRef {
                            slot: i,
                            generation,
                        }),
                    );
                }
                Ok(())
            }
            _ => self.enter_acd(t, i),
        }
    }

    /// A caller who found no IVR port hangs up: an IVR loss.
    pub(super) fn ivr_hangup(&mut self, t: f64, i: u32) {
        self.m.at(t, self.sc.interval_s).ivr_lost += 1.0;
        self.note(t, i, Transition::Ended(Ending::IvrLost));
        let c = self.calls[i as usize];
        self.release(t, i);
        self.maybe_redial(t, c.caller, c.attempt);
    }

    /// A caller finishes the IVR: served there, or on to the ACD.
    pub(super) fn ivr_done(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        self.m.ivr.add(t, -1.0);
        let self_service = self.sc.ivr.as_ref().map_or(0.0, |v| v.self_service);
        if self.rng.ivr.random::<f64>() < self_service {
            self.m.at(t, self.sc.interval_s).ivr_completed += 1.0;
            self.note(t, i, Transition::Ended(Ending::SelfService));
            self.release(t, i);
            Ok(())
        } else {
            self.enter_acd(t, i)
        }
    }

    pub(super) fn enter_acd(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        let iv = self.sc.interval_s;
        self.m.at(t, iv).reached_acd += 1.0;
        self.note(t, i, Transition::ReachedAcd);
        let patience = self.sc.queue.patience.sample(&mut self.rng.patience);
        let c = &mut self.calls[i as usize];
        c.phase = Phase::Acd;
        c.acd_in = t;
        // The patience event is scheduled only once it can matter: when the call queues, or
        // when it would run out before the agent answers. Most calls at moderate load meet
        // an idle agent, and an event for each would be dead weight in the queue.
        c.deadline = t + patience;
        c.patience_armed = false;
        let caller = c.caller;
        let id = self
            .acd
            .call_arrived(Seconds(t), QueueId(0), caller)
            .map_err(acd_err)?;
        self.calls[i as usize].acd = Some(id);
        self.map_acd(id, i);
        self.actions(t)
    }

    pub(super) fn arm_patience(&mut self, i: u32) {
        let c = &mut self.calls[i as usize];
        if !c.patience_armed && c.deadline.is_finite() {
            c.patience_armed = true;
            let ev = Event::Patience(CallRef {
                slot: i,
                generation: c.generation,
            });
            self.k.schedule(c.deadline, ev);
        }
    }

    pub(super) fn patience_expired(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        let c = self.calls[i as usize];
        if c.phase != Phase::Acd {
            return Ok(());
        }
        let Some(id) = c.acd else { return Ok(()) };
        let iv = self.sc.interval_s;
        match self.acd.call_state(id) {
            Some(CallState::Queued(_)) => {
                self.m.at(t, iv).queue_abandoned += 1.0;
                self.note(t, i, Transition::Ended(Ending::QueueAbandoned));
            }
            Some(CallState::Ringing(a)) => {
                self.m.at(t, iv).ring_lost += 1.0;
                self.note(t, i, Transition::Ended(Ending::RingAbandoned));
                let ag = &mut self.agents[a.0 as usize];
                ag.call = None;
                ag.token = ag.token.wrapping_add(1);
            }
            _ => return Ok(()),
        }
        self.acd.caller_abandoned(Seconds(t), id).map_err(acd_err)?;
        self.release(t, i);
        self.maybe_redial(t, c.caller, c.attempt);
        self.actions(t)
    }

    /// Called after every loss (trunk, IVR, queue, ring) of attempt number `attempt`.
    pub(super) fn maybe_redial(&mut self, t: f64, caller: u64, attempt: u32) {
        if attempt > 1 {
            self.m.at(t, self.sc.interval_s).redials_lost += 1.0;
        }
        let Some(r) = &self.sc.redial else { return };
        if attempt >= r.max_attempts || self.rng.redial.random::<f64>() >= r.probability {
            return;
        }
        let d = r.delay.sample(&mut self.rng.redial);
        if t + d >= self.sc.duration_s {
            return; // the line is closed by then
        }
        self.redials.push((caller, attempt + 1));
        let slot = (self.redials.len() - 1) as u32;
        self.k.schedule(t + d, Event::Redial(slot));
    }

    /// Agent `agent` answers the call its phone rings for.
    pub(super) fn answer(&mut self, t: f64, agent: u32) -> Result<(), SimError> {
        let Some(i) = self.agents[agent as usize].call else {
            return Ok(());
        };
        let a = AgentId(agent);
        self.acd.agent_answered(Seconds(t), a).map_err(acd_err)?;
        let iv = self.sc.interval_s;
        let c = &mut self.calls[i as usize];
        c.phase = Phase::Talking;
        c.agent = agent;
        let wait = t - c.acd_in;
        let counts = self.m.at(t, iv);
        counts.answered += 1.0;
        counts.wait_sum += wait;
        if wait <= self.sc.sl_threshold_s {
            counts.answered_within_sl += 1.0;
        }
        let ms = (wait * 1000.0) as u64;
        if ms <= 1 {
            self.short_waits += 1;
        } else {
            let _ = self.m.waits_ms.record(ms);
        }
        self.note(t, i, Transition::Answered { agent });
        self.start_talk(t, i);
        self.actions(t)
    }

    /// An agent and call `i` start talking: busy agents up, the end of talk scheduled.
    pub(super) fn start_talk(&mut self, t: f64, i: u32) {
        self.m.agents_busy.add(t, 1.0);
        let talk = self.sc.agents.talk.sample(&mut self.rng.talk);
        let call = self.call_ref(i);
        self.k.schedule(t + talk, Event::TalkEnd(call));
    }

    pub(super) fn talk_end(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        let c = self.calls[i as usize];
        if c.phase != Phase::Talking {
            return Ok(());
        }
        if let Some(id) = c.acd {
            self.acd.call_ended(Seconds(t), id).map_err(acd_err)?;
        }
        self.note(t, i, Transition::Ended(Ending::TalkEnded));
        let ag = &mut self.agents[c.agent as usize];
        ag.call = None;
        ag.token = ag.token.wrapping_add(1);
        self.release(t, i);
        let acw = self.sc.agents.acw.sample(&mut self.rng.acw);
        self.k.schedule(t + acw, Event::AcwEnd(c.agent));
        self.actions(t)
    }

    pub(super) fn acw_end(&mut self, t: f64, agent: u32) -> Result<(), SimError> {
        self.m.agents_busy.add(t, -1.0);
        let a = AgentId(agent);
        if self.agents[agent as usize].logout_pending {
            self.acd
                .wrap_up_done_not_ready(Seconds(t), a)
                .map_err(acd_err)?;
            self.logout(t, agent)?;
        } else {
            self.acd.wrap_up_done(Seconds(t), a).map_err(acd_err)?;
        }
        self.actions(t)
    }

    pub(super) fn callback_done(
        &mut self,
        t: f64,
        id: CallbackId,
        answered: bool,
    ) -> Result<(), SimError> {
        // The agent who dialled: the one whose callback this is (the ACD knows it).
        let dial = OUTBOUND_DIAL | id.0;
        let Some(call) = self
            .acd
            .callback_result(Seconds(t), id, answered)
            .map_err(acd_err)?
        else {
            self.note_key(t, dial, Transition::OutboundFailed);
            return self.actions(t);
        };
        let iv = self.sc.interval_s;
        self.m.at(t, iv).callback_served += 1.0;
        let Some(CallState::Talking(a)) = self.acd.call_state(call) else {
            self.note_key(t, dial, Transition::OutboundFailed);
            return self.actions(t);
        };
        // Outbound callbacks are assumed to find a free trunk: they are placed after the
        // peak, when trunks are idle.
        let i = self.alloc(SimCall {
            generation: 0,
            caller: 0,
            attempt: 0,
            acd_in: t,
            acd: Some(call),
            phase: Phase::Talking,
            waited: false,
            trunk: false,
            agent: a.0,
            deadline: f64::INFINITY,
            patience_armed: false,
        });
        self.map_acd(call, i);
        let ag = &mut self.agents[a.0 as usize];
        ag.call = Some(i);
        self.note(t, i, Transition::OutboundAnswered { agent: a.0, dial });
        self.start_talk(t, i);
        self.actions(t)
    }
}
