//! Taking a call's media down: the agent's side when the agent hangs up on a call that stays
//! in its flow, the whole call when it ends, and what its conversation measured.

use tandem_engine::Command;

use super::super::quality::StreamSummary;
use super::super::report::CallMedia;
use super::super::transport::Net;
use super::Call;
use super::Conductor;
use crate::lifecycle::CallKey;

impl<N: Net> Conductor<N> {
    /// The agent of a flow call hung up: the agent's side goes (recording, supervisor,
    /// room), the caller stays in the flow.
    pub(super) fn end_talk(&mut self, key: CallKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let (tap, agent, supervisor, room) = (
            call.tap.take(),
            call.agent.take(),
            call.supervisor.take(),
            call.room.take(),
        );
        let (from, caller) = (call.talk_from_us.take(), call.caller);
        if let Some((tap, _)) = &tap {
            let r = self.command(Command::StopTap { tap: *tap });
            self.engine_result(r);
        }
        let agent_phone = agent.and_then(|l| self.close_leg(l));
        if let Some(s) = supervisor {
            self.close_leg(s);
        }
        if let Some(room) = room {
            let r = self.command(Command::DestroyRoom { room });
            self.engine_result(r);
        }
        let down = caller.and_then(|l| self.phones.get_mut(l.ep)).map(|p| {
            let d = p.rx.summary();
            p.listen_to(None);
            d
        });
        if let (Some(from), Some(down), Some(agent)) = (from, down, agent_phone)
            && let Some(call) = self.calls.get(&key)
        {
            let mut call = call.clone();
            call.tap = tap;
            call.supervisor = supervisor;
            self.record_call(&call, from, agent.rx.summary(), down);
        }
    }

    pub(super) fn end_call(&mut self, key: CallKey) {
        self.leave_queue(key);
        let Some(call) = self.calls.remove(&key) else {
            return;
        };
        if let Some((tap, _)) = call.tap {
            let r = self.command(Command::StopTap { tap });
            self.engine_result(r);
        }
        let caller = call.caller.and_then(|l| self.close_leg(l));
        let agent = call.agent.and_then(|l| self.close_leg(l));
        if let Some(s) = call.supervisor {
            self.close_leg(s);
        }
        if let Some(room) = call.room {
            let r = self.command(Command::DestroyRoom { room });
            self.engine_result(r);
        }
        if let (Some(from), Some(caller), Some(agent)) = (call.talk_from_us, caller, agent) {
            let down = caller.rx.summary();
            let up = agent.rx.summary();
            self.record_call(&call, from, up, down);
        }
    }

    fn record_call(&mut self, call: &Call, from_us: u64, up: StreamSummary, down: StreamSummary) {
        let ru = self.mouth_to_ear.rate(&up);
        let rd = self.mouth_to_ear.rate(&down);
        let worse = if ru.r <= rd.r { ru } else { rd };
        self.calls_media.push(CallMedia {
            serial: call.serial,
            agent: call.agent_id,
            outbound: call.outbound,
            supervised: call.supervisor.is_some(),
            talk_s: (self.now_us.saturating_sub(from_us)) as f64 / 1e6,
            uplink: up,
            downlink: down,
            r: worse.r,
            mos: worse.mos,
            recording: call.tap.as_ref().map(|(_, p)| p.clone()),
        });
    }
}
