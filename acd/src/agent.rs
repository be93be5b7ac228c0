//! Agent commands: log in and out, ready and not ready, heartbeats, answer and wrap-up.

use crate::acd::Acd;
use crate::time::Seconds;
use crate::types::*;

impl Acd {
    // ----- agent commands -----

    /// Logs an agent in as not-ready.
    pub fn agent_login(&mut self, now: Seconds, a: AgentId) -> Result<(), AcdError> {
        self.expect_agent(a, &[AgentState::Offline], "login")?;
        self.touch(now, a);
        for i in 0..self.agents[a.0 as usize].skills.len() {
            let q = self.agents[a.0 as usize].skills[i].0;
            self.staffed[q.0 as usize] += 1;
        }
        self.set_agent(now, a, AgentState::NotReady);
        if let Some(timeout) = self.heartbeat_timeout {
            self.arm_heartbeat(now + timeout, a);
        }
        Ok(())
    }

    /// Logs an idle or not-ready agent out.
    pub fn agent_logout(&mut self, now: Seconds, a: AgentId) -> Result<(), AcdError> {
        self.expect_agent(a, &[AgentState::Idle, AgentState::NotReady], "logout")?;
        self.touch(now, a);
        self.go_offline(now, a);
        Ok(())
    }

    /// Makes a not-ready agent ready: the agent takes the next waiting call or goes idle.
    pub fn agent_ready(&mut self, now: Seconds, a: AgentId) -> Result<(), AcdError> {
        self.expect_agent(a, &[AgentState::NotReady], "ready")?;
        self.touch(now, a);
        self.agent_free(now, a);
        Ok(())
    }

    /// Takes an idle agent out of distribution (break, lunch).
    pub fn agent_not_ready(&mut self, now: Seconds, a: AgentId) -> Result<(), AcdError> {
        self.expect_agent(a, &[AgentState::Idle], "not-ready")?;
        self.touch(now, a);
        self.set_agent(now, a, AgentState::NotReady);
        Ok(())
    }

    /// The agent's phone or desktop is alive (see
    /// [`set_heartbeat_timeout`](Self::set_heartbeat_timeout)).
    pub fn agent_heartbeat(&mut self, now: Seconds, a: AgentId) -> Result<(), AcdError> {
        let ag = self
            .agents
            .get(a.0 as usize)
            .ok_or(AcdError::UnknownAgent(a))?;
        if ag.state == AgentState::Offline {
            return Err(AcdError::AgentState {
                agent: a,
                state: ag.state,
                command: "heartbeat",
            });
        }
        self.touch(now, a);
        Ok(())
    }

    /// Agent `a`'s heartbeat timer came due: takes silent agents offline (see
    /// [`set_heartbeat_timeout`](Self::set_heartbeat_timeout)) and, if `a` is still logged
    /// in, arms its next deadline. Whether any agent went offline.
    pub(crate) fn heartbeat_due(&mut self, now: Seconds, a: AgentId, epoch: u32) -> bool {
        let Some(timeout) = self.heartbeat_timeout else {
            return false;
        };
        match self.agents.get(a.0 as usize) {
            Some(ag) if ag.heartbeat_epoch == epoch && ag.state != AgentState::Offline => {}
            _ => return false,
        }
        let offline = self.take_silent_offline(now, timeout);
        let ag = &self.agents[a.0 as usize];
        if ag.state != AgentState::Offline {
            // Heard from since: the new deadline. Still silent, on a call or in after-call
            // work (left to finish it): another look one timeout later.
            let due = ag.last_seen + timeout;
            let at = if due > now { due } else { now + timeout };
            self.arm_heartbeat(at, a);
        }
        offline > 0
    }

    /// Takes offline every agent silent for the heartbeat timeout or longer who is idle,
    /// not-ready or ringing for an inbound call. A ringing call goes back to the head of its
    /// queue with [`Action::RingNoAnswer`]. Agents on a call or in after-call work are left
    /// to finish it. Every agent whose deadline falls at the same instant goes at once, so
    /// that a call taken from a silent ringing agent is not offered to another silent one.
    /// Returns how many went offline.
    fn take_silent_offline(&mut self, now: Seconds, timeout: Seconds) -> usize {
        let mut n = 0;
        // Idle and not-ready agents first, then ringing ones.
        for ringing in [false, true] {
            for i in 0..self.agents.len() {
                let a = AgentId(i as u32);
                let ag = &self.agents[i];
                if now < ag.last_seen + timeout {
                    continue;
                }
                match (ag.state, ag.call) {
                    (AgentState::Idle | AgentState::NotReady, _) if !ringing => {}
                    (AgentState::Ringing, Some(c)) if ringing => {
                        self.ring_no_answer(now, c, a, AgentState::NotReady);
                    }
                    _ => continue,
                }
                self.go_offline(now, a);
                n += 1;
            }
        }
        n
    }

    /// The ringing agent answered the offered call.
    pub fn agent_answered(&mut self, now: Seconds, a: AgentId) -> Result<CallId, AcdError> {
        let ag = self.agent_in(a, AgentState::Ringing, "answer")?;
        let c = ag.call.ok_or(AcdError::AgentState {
            agent: a,
            state: AgentState::Ringing,
            command: "answer (no inbound call offered)",
        })?;
        ag.last_seen = now;
        ag.stats.calls_handled += 1;
        let call = &mut self.calls[c.index()];
        call.state = CallState::Talking(a);
        call.answered = Some(now);
        self.stats.answered += 1;
        self.set_agent(now, a, AgentState::Talking);
        Ok(c)
    }

    /// The talking part of a call ended; its agent goes to after-call work.
    pub fn call_ended(&mut self, now: Seconds, c: CallId) -> Result<(), AcdError> {
        let call = self.call(c).ok_or(AcdError::UnknownCall(c))?;
        let CallState::Talking(a) = call.state else {
            return Err(AcdError::CallState {
                call: c,
                state: call.state,
                command: "end",
            });
        };
        let caller = call.caller;
        if self.cfg.sticky_wait_s.is_some() {
            self.lists.served(caller, a);
        }
        self.agents[a.0 as usize].call = None;
        self.set_agent(now, a, AgentState::AfterCallWork);
        self.finish(now, c, Terminal::Completed, Some(a));
        Ok(())
    }

    /// After-call work ended: the agent takes the next call or goes idle.
    pub fn wrap_up_done(&mut self, now: Seconds, a: AgentId) -> Result<(), AcdError> {
        self.agent_in(a, AgentState::AfterCallWork, "wrap-up done")?
            .last_seen = now;
        self.end_cycle(now, a);
        self.agent_free(now, a);
        Ok(())
    }

    /// The agent's handle cycle (ringing or dialling, talk, after-call work) ended: a slow
    /// running average of it is the handle time of expected-wait estimates.
    fn end_cycle(&mut self, now: Seconds, a: AgentId) {
        if let Some(from) = self.agents[a.0 as usize].cycle_from.take() {
            self.aht += 0.01 * ((now - from).0 - self.aht);
        }
    }

    /// After-call work ended, but the agent goes not-ready instead of taking calls (end of
    /// shift, break).
    pub fn wrap_up_done_not_ready(&mut self, now: Seconds, a: AgentId) -> Result<(), AcdError> {
        self.expect_agent(a, &[AgentState::AfterCallWork], "wrap-up done")?;
        self.touch(now, a);
        self.end_cycle(now, a);
        self.set_agent(now, a, AgentState::NotReady);
        Ok(())
    }
}
