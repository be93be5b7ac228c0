//! Carrying out the ACD's decisions — ring an agent, queue a call, release it, dial a
//! callback — and keeping its timers on the kernel.

use tandem_acd::{Action, Seconds, Terminal, Timer};

use super::{Event, RING_NO_ANSWER_RECOVERY_S, Run};
use crate::SimError;
use crate::lifecycle::{Ending, Transition};

impl Run<'_> {
    /// Carries out the ACD's decisions.
    pub(super) fn actions(&mut self, t: f64) -> Result<(), SimError> {
        while let Some(action) = self.acd.poll_action() {
            match action {
                Action::Offer { call, agent } => {
                    let Some(i) = self.sim_call(call) else {
                        continue;
                    };
                    self.note(t, i, Transition::Ringing { agent: agent.0 });
                    let ag = &mut self.agents[agent.0 as usize];
                    ag.call = Some(i);
                    ag.token = ag.token.wrapping_add(1);
                    let token = ag.token;
                    let ring = self.sc.agents.ring.sample(&mut self.rng.ring);
                    if self.calls[i as usize].deadline < t + ring {
                        self.arm_patience(i);
                    }
                    let answer = Event::Answer {
                        agent: agent.0,
                        token,
                    };
                    self.k.schedule(t + ring, answer);
                }
                Action::Queued {
                    call,
                    queue,
                    position,
                } => {
                    if let Some(i) = self.sim_call(call) {
                        self.note(t, i, Transition::Queued { position });
                        self.arm_patience(i);
                        if !self.calls[i as usize].waited {
                            self.calls[i as usize].waited = true;
                            self.at(t).waited += 1.0;
                            if self.sc.queue.announcement.is_some() {
                                self.queued_first(t, i, queue, position)?;
                            }
                        }
                    }
                }
                Action::Released { call, terminal } => {
                    let Some(i) = self.sim_call(call) else {
                        continue;
                    };
                    if self.flow_on && self.flow_calls.get(i as usize).is_some_and(Option::is_some)
                    {
                        let rejected = terminal == Terminal::Rejected;
                        if rejected {
                            self.at(t).rejected += 1.0;
                        }
                        self.flow_released(t, i, rejected)?;
                        continue;
                    }
                    let counts = self.at(t);
                    let ending = match terminal {
                        Terminal::CallbackReleased => {
                            counts.callback_offered += 1.0;
                            if self.types.len() > 1 {
                                let c = self.calls[i as usize];
                                self.callback_types.insert(c.caller, c.ctype);
                            }
                            Ending::CallbackReleased
                        }
                        Terminal::OverflowToVoicemail | Terminal::OverflowToIvr => {
                            counts.voicemail += 1.0;
                            Ending::Overflow
                        }
                        Terminal::Rejected => {
                            counts.rejected += 1.0;
                            Ending::Rejected
                        }
                        _ => Ending::Overflow,
                    };
                    self.note(t, i, Transition::Ended(ending));
                    self.release(t, i);
                }
                Action::RingNoAnswer { agent, .. } => {
                    let ag = &mut self.agents[agent.0 as usize];
                    ag.call = None;
                    ag.token = ag.token.wrapping_add(1);
                    let ready = Event::AgentReady(agent.0);
                    self.k.schedule(t + RING_NO_ANSWER_RECOVERY_S, ready);
                }
                Action::DialCallback {
                    entry,
                    number,
                    agent,
                } => {
                    self.dial_callback(t, entry, number, agent.0)?;
                }
                Action::CallbackExpired { entry, .. } => {
                    self.at(t).callback_expired += 1.0;
                    self.attempts.remove(&entry.0);
                }
                Action::ArmTimer { at, timer } => {
                    let slot = self.timers.insert(timer);
                    self.k.schedule(at.get(), Event::AcdTimer(slot));
                }
                Action::Overflowed { to, .. } => self.overflowed(t, to.0),
            }
        }
        self.m.queue.set(t, self.acd.queued_total() as f64);
        Ok(())
    }

    /// A call moved to queue `to` by an overflow rule: counted, in total and per rule.
    #[cold]
    fn overflowed(&mut self, t: f64, to: u32) {
        self.at(t).overflowed += 1.0;
        let Some(&(ctype, stage)) = self.queue_stage.get(to as usize) else {
            return;
        };
        if stage > 0 && self.m.counting(t) {
            let rule = self.first_rule[ctype as usize] + stage as usize - 1;
            if let Some(x) = self.m.breakdown.overflows.get_mut(rule) {
                *x += 1.0;
            }
        }
    }

    /// ACD timer `slot` came due: fires it and carries out what follows. Returns whether it
    /// counts as activity for the run's end.
    pub(super) fn acd_timer(&mut self, t: f64, slot: u32) -> Result<bool, SimError> {
        let timer = self.timers.take(slot);
        let changed = self.acd.timer_fired(Seconds(t), timer);
        self.actions(t)?;
        // The callback list's expiry timer can lie hours past the last call; like the other
        // stale events it must not stretch the run when it finds nothing to expire. (The
        // ACD's per-call timers count as activity even when stale, as they always have.)
        Ok(changed || !matches!(timer, Timer::CallbackExpiry))
    }
}
