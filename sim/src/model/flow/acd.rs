//! A walk meets the ACD and the agents: the flow leaves the queue, an agent answers, the
//! agent hangs up (the flow runs on), the ACD releases the call; the walk's end and its
//! ports; the checks that every walk ended and none looped.

use tandem_acd::Seconds;
use tandem_ivr::{EndReason, Event as IvrEvent, Micros, NodeKind};

use super::super::{Phase, Run, acd_err};
use super::ivr_err;
use crate::SimError;
use crate::flow_metrics::{Exit, FlowEnd};
use crate::lifecycle::{Ending, Transition};

impl Run<'_> {
    /// The flow took call `i` out of the ACD (its longest wait, or a callback request).
    pub(super) fn flow_leave_acd(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        let c = &mut self.calls[i as usize];
        let Some(id) = c.acd.take() else {
            return Ok(());
        };
        c.phase = Phase::Ivr;
        let (caller, ctype) = (c.caller, c.ctype);
        if let Some(tandem_acd::CallState::Ringing(a)) = self.acd.call_state(id) {
            let ag = &mut self.agents[a.0 as usize];
            ag.call = None;
            ag.token = ag.token.wrapping_add(1);
        }
        let asked = std::mem::take(&mut self.fc(i).callback_asked);
        if asked && self.sc.callback.is_some() && caller != u64::MAX {
            // The caller's number goes on the ACD's callback list, for an agent to dial.
            if self
                .acd
                .callback_requested(Seconds(t), id)
                .map_err(acd_err)?
            {
                self.at(t).callback_offered += 1.0;
                if self.types.len() > 1 {
                    self.callback_types.insert(caller, ctype);
                }
            }
        } else {
            self.acd.caller_abandoned(Seconds(t), id).map_err(acd_err)?;
        }
        self.actions(t)
    }

    /// An agent answered call `i`: its port is free while they talk.
    #[cold]
    #[inline(never)]
    pub(in crate::model) fn flow_answered(&mut self, t: f64, i: u32) -> Result<(), SimError> {
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
    #[cold]
    #[inline(never)]
    pub(in crate::model) fn flow_after_agent(&mut self, t: f64, i: u32) -> Result<(), SimError> {
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
                self.note(t, i, Transition::Ended(Ending::NoPortAfterAgent));
                self.leave_node(t, i, Some(Exit::End(FlowEnd::NoPortAfterAgent)));
                self.flow_calls[i as usize] = None;
                self.release(t, i);
                return Ok(());
            }
            self.flow_port(t, i, true);
        }
        // The walk goes on (or ends, and says so).
        self.note(t, i, Transition::AgentHungUp);
        self.fc(i)
            .session
            .event(Micros::from_secs_f64(t), IvrEvent::AgentHungUp)
            .map_err(ivr_err)?;
        self.flow_drain(t, i)
    }

    /// The ACD released call `i` (an overflow rule, or a blacklisted caller).
    #[cold]
    #[inline(never)]
    pub(in crate::model) fn flow_released(
        &mut self,
        t: f64,
        i: u32,
        rejected: bool,
    ) -> Result<(), SimError> {
        let c = &mut self.calls[i as usize];
        c.acd = None;
        c.phase = Phase::Ivr;
        if rejected {
            self.note(t, i, Transition::Ended(Ending::Rejected));
            self.leave_node(t, i, Some(Exit::End(FlowEnd::Rejected)));
            self.flow_end_walk(t, i);
            self.release(t, i);
            return Ok(());
        }
        self.fc(i).pending = None;
        self.note(t, i, Transition::FlowOverflow);
        self.fc(i)
            .session
            .event(Micros::from_secs_f64(t), IvrEvent::QueueOverflow)
            .map_err(ivr_err)?;
        self.flow_drain(t, i)
    }

    /// Takes (`true`) or frees call `i`'s IVR port.
    pub(super) fn flow_port(&mut self, t: f64, i: u32, take: bool) {
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
    pub(super) fn flow_end_walk(&mut self, t: f64, i: u32) {
        self.flow_port(t, i, false);
        self.flow_calls[i as usize] = None;
    }

    /// The session of call `i` ended with `reason`.
    pub(super) fn flow_end(&mut self, t: f64, i: u32, reason: EndReason) -> Result<(), SimError> {
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
        let ending = match end {
            _ if self_service => Ending::SelfService,
            Some(FlowEnd::AgentHungUp) => Ending::TalkEnded,
            _ => Ending::FlowEnded,
        };
        self.note(t, i, Transition::Ended(ending));
        self.flow_end_walk(t, i);
        self.release(t, i);
        Ok(())
    }

    /// Call `i` is released while its walk is still on (a caller who gave up in the queue
    /// or while an agent's phone rang): the session hears the caller hang up.
    #[cold]
    #[inline(never)]
    pub(in crate::model) fn flow_release(&mut self, t: f64, i: u32) {
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
    pub(in crate::model) fn flow_check_done(&self) -> Result<(), SimError> {
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
    pub(super) fn step_budget(&mut self, i: u32) -> SimError {
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
