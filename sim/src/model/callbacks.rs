//! Outbound callbacks: an agent dials a customer on the callback list. The dial seizes a
//! trunk channel like any call and holds it while it rings out and, if the customer answers,
//! through the conversation.
//!
//! When every trunk channel is seized the dial cannot be placed. The agent tries again after
//! `callback.trunk_retry_s` (each blocked try counted as `callback_trunk_blocked`; the
//! customer's attempts are not used up), unless inbound callers are by then waiting for the
//! agent: the agent then gives the dial up to take them, and the ACD counts it as an
//! unanswered attempt (the entry is dialled again later, or expires).

use rand::Rng;
use tandem_acd::{CallState, CallbackId, Seconds};

use super::{Dial, Event, Phase, Run, SimCall, acd_err};
use crate::SimError;
use crate::lifecycle::{FarEnd, OUTBOUND_DIAL, Transition};

impl Run<'_> {
    /// The ACD asks agent `agent` to dial callback `entry` to `number`.
    pub(super) fn dial_callback(
        &mut self,
        t: f64,
        entry: CallbackId,
        number: u64,
        agent: u32,
    ) -> Result<(), SimError> {
        self.note_key(
            t,
            OUTBOUND_DIAL | entry.0,
            Transition::OutboundDialling { agent },
        );
        let attempt = self.attempts.get(&entry.0).copied().unwrap_or(0) + 1;
        let dial = Dial {
            entry,
            answered: false,
            attempt,
            trunk: false,
            agent,
            ctype: self.callback_types.get(&number).copied().unwrap_or(0),
        };
        let slot = self.dials.insert(dial);
        self.place_dial(t, slot)
    }

    /// Places dial `slot` if a trunk channel is free; otherwise retries later or gives up.
    pub(super) fn place_dial(&mut self, t: f64, slot: u32) -> Result<(), SimError> {
        let cb = self
            .sc
            .callback
            .as_ref()
            .ok_or_else(|| SimError::Invalid("callback without config".into()))?;
        if !self.trunk_free() {
            self.at(t).callback_trunk_blocked += 1.0;
            let agent = self.dials[slot].agent;
            if self.inbound_waits_for(agent) {
                return self.finish_dial(t, slot);
            }
            self.k
                .schedule(t + cb.trunk_retry_s, Event::CallbackRetry(slot));
            return Ok(());
        }
        self.m.trunks.add(t, 1.0);
        let d = &mut self.dials[slot];
        d.trunk = true;
        let attempt = d.attempt;
        self.attempts.insert(d.entry.0, attempt);
        d.answered = self.rng.callback.random::<f64>() < cb.answer_probability_of(attempt);
        let far = if d.answered {
            FarEnd::Answers
        } else {
            // Its own stream: the far end's state changes no other draw.
            let u = self.rng.far_end.random::<f64>();
            if u < cb.busy_share {
                FarEnd::Busy
            } else if u < cb.busy_share + cb.unassigned_share {
                FarEnd::Unassigned
            } else {
                FarEnd::NoAnswer
            }
        };
        let key = OUTBOUND_DIAL | d.entry.0;
        let dial_time = cb.dial_time.sample(&mut self.rng.callback);
        self.note_key(t, key, Transition::OutboundProgress { far });
        self.at(t).callback_attempts += 1.0;
        if self.m.counting(t) {
            self.m.breakdown.attempt(attempt).attempts += 1.0;
        }
        self.k.schedule(t + dial_time, Event::CallbackDone(slot));
        Ok(())
    }

    /// Whether inbound calls wait in a queue agent `a` serves.
    fn inbound_waits_for(&self, a: u32) -> bool {
        self.acd.queued_total() > 0
            && self.acd.config().agents[a as usize]
                .skills
                .iter()
                .any(|(q, _)| self.acd.queue_len(*q) > 0)
    }

    /// A callback attempt ends (or is given up): answered, the conversation starts on the
    /// trunk the dial seized; not, the trunk is released.
    pub(super) fn callback_done(&mut self, t: f64, slot: u32) -> Result<(), SimError> {
        self.finish_dial(t, slot)
    }

    fn finish_dial(&mut self, t: f64, slot: u32) -> Result<(), SimError> {
        let dial = self.dials.take(slot);
        let key = OUTBOUND_DIAL | dial.entry.0;
        let Some(call) = self
            .acd
            .callback_result(Seconds(t), dial.entry, dial.answered)
            .map_err(acd_err)?
        else {
            if dial.trunk {
                self.m.trunks.add(t, -1.0);
                self.at(t).callback_unanswered += 1.0;
            }
            self.note_key(t, key, Transition::OutboundFailed);
            return self.actions(t);
        };
        self.attempts.remove(&dial.entry.0);
        if let Some(n) = self.acd.call_caller(call) {
            self.callback_types.remove(&n);
        }
        self.at(t).callback_served += 1.0;
        if self.m.counting(t) {
            self.m.breakdown.attempt(dial.attempt).answered += 1.0;
        }
        let Some(CallState::Talking(a)) = self.acd.call_state(call) else {
            if dial.trunk {
                self.m.trunks.add(t, -1.0);
            }
            self.note_key(t, key, Transition::OutboundFailed);
            return self.actions(t);
        };
        let mut c = SimCall::new(0, 0, dial.ctype, t);
        c.acd = Some(call);
        c.phase = Phase::Talking;
        c.trunk = dial.trunk;
        c.agent = a.0;
        let i = self.alloc(c);
        self.map_acd(call, i);
        let ag = &mut self.agents[a.0 as usize];
        ag.call = Some(i);
        self.note(
            t,
            i,
            Transition::OutboundAnswered {
                agent: a.0,
                dial: key,
            },
        );
        self.start_talk(t, i);
        self.actions(t)
    }
}
