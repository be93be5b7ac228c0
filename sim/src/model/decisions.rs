//! Carrying out the ACD's decisions — ring an agent, queue a call, release it, dial a
//! callback — and keeping its timers on the kernel.

use rand::Rng;
use tandem_acd::{Action, QueueId, Seconds, Terminal, Timer};

use super::{Event, RING_NO_ANSWER_RECOVERY_S, Run};
use crate::SimError;
use crate::lifecycle::{Ending, OUTBOUND_DIAL, Transition};

impl Run<'_> {
    /// Carries out the ACD's decisions.
    pub(super) fn actions(&mut self, t: f64) -> Result<(), SimError> {
        let iv = self.sc.interval_s;
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
                Action::Queued { call, position, .. } => {
                    if let Some(i) = self.sim_call(call) {
                        self.note(t, i, Transition::Queued { position });
                        self.arm_patience(i);
                        if !self.calls[i as usize].waited {
                            self.calls[i as usize].waited = true;
                            self.m.at(t, iv).waited += 1.0;
                        }
                    }
                }
                Action::Released { call, terminal } => {
                    let Some(i) = self.sim_call(call) else {
                        continue;
                    };
                    let counts = self.m.at(t, iv);
                    let ending = match terminal {
                        Terminal::CallbackReleased => {
                            counts.callback_offered += 1.0;
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
                Action::DialCallback { entry, agent, .. } => {
                    self.note_key(
                        t,
                        OUTBOUND_DIAL | entry.0,
                        Transition::OutboundDialling { agent: agent.0 },
                    );
                    let cb = self
                        .sc
                        .callback
                        .as_ref()
                        .ok_or_else(|| SimError::Invalid("callback without config".into()))?;
                    let answered = self.rng.callback.random::<f64>() < cb.answer_probability;
                    let d = cb.dial_time.sample(&mut self.rng.callback);
                    self.dials.push((entry, answered));
                    let slot = (self.dials.len() - 1) as u32;
                    self.k.schedule(t + d, Event::CallbackDone(slot));
                }
                Action::CallbackExpired { .. } => {
                    self.m.at(t, iv).callback_expired += 1.0;
                }
                Action::ArmTimer { at, timer } => {
                    let slot = match self.free_timers.pop() {
                        Some(s) => {
                            self.timers[s as usize] = timer;
                            s
                        }
                        None => {
                            self.timers.push(timer);
                            (self.timers.len() - 1) as u32
                        }
                    };
                    self.k.schedule(at.get(), Event::AcdTimer(slot));
                }
                Action::Overflowed { .. } => {}
            }
        }
        self.m.queue.set(t, self.acd.queue_len(QueueId(0)) as f64);
        Ok(())
    }

    /// ACD timer `slot` came due: fires it and carries out what follows. Returns whether it
    /// counts as activity for the run's end.
    pub(super) fn acd_timer(&mut self, t: f64, slot: u32) -> Result<bool, SimError> {
        let timer = self.timers[slot as usize];
        self.free_timers.push(slot);
        let changed = self.acd.timer_fired(Seconds(t), timer);
        self.actions(t)?;
        // The callback list's expiry timer can lie hours past the last call; like the other
        // stale events it must not stretch the run when it finds nothing to expire. (The
        // ACD's per-call timers count as activity even when stale, as they always have.)
        Ok(changed || !matches!(timer, Timer::CallbackExpiry))
    }
}
