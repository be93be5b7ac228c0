//! Callback attempts' far ends: the signal the far end sends the dialling agent, and what
//! the call-progress detector on the agent's leg made of it ([`crate::drive::call_progress`]).

use super::Conductor;
use crate::drive::call_progress::far_end_media;
use crate::drive::transport::Net;
use crate::lifecycle::{CallKey, FarEnd};

impl<N: Net> Conductor<N> {
    /// The attempt `key` was placed and finds `far`: the agent hears it, and a detector
    /// listens.
    pub(super) fn far_end(&mut self, key: CallKey, far: FarEnd) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.far = Some(far);
        let Some(agent) = call.agent else { return };
        if let Some(spec) = far_end_media(far) {
            self.stop_play(agent);
            self.play(agent, spec);
        }
        if let Some(p) = self.phones.get_mut(agent.ep) {
            p.listen_for_progress();
        }
    }

    /// The attempt `key` ended (answered or not): what its detector heard is judged.
    pub(super) fn judge_progress(&mut self, key: CallKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let (Some(far), Some(agent), serial) = (call.far.take(), call.agent, call.serial) else {
            return;
        };
        if let Some(p) = self.phones.get_mut(agent.ep) {
            let heard = p.take_heard();
            self.call_progress.judge(serial, far, &heard);
        }
    }
}
