//! Agents on and off duty: the staffing the shifts ask for, logouts at the end of a shift,
//! and agents made ready again after a ring-no-answer.

use tandem_acd::{AgentId, AgentState, Seconds};

use super::{Run, acd_err};
use crate::SimError;

impl Run<'_> {
    /// Agents on duty at `t`: the shift windows containing `t`, or the base count.
    pub(super) fn target_staff(&self, t: f64) -> u32 {
        let windows: Vec<u32> = self
            .sc
            .agents
            .shifts
            .iter()
            .filter(|s| s.start_s <= t && t < s.end_s)
            .map(|s| s.count)
            .collect();
        if windows.is_empty() {
            self.sc.agents.count
        } else {
            windows.iter().sum::<u32>().min(self.agents.len() as u32)
        }
    }

    /// Brings the agents on duty to the number the shifts ask for at `t`.
    pub(super) fn staff(&mut self, t: f64) -> Result<(), SimError> {
        let target = self.target_staff(t);
        let on_duty: Vec<u32> = (0..self.agents.len() as u32)
            .filter(|&a| {
                self.acd.agent_state(AgentId(a)) != Some(AgentState::Offline)
                    && !self.agents[a as usize].logout_pending
            })
            .collect();
        let n = on_duty.len() as u32;
        if target > n {
            let mut need = target - n;
            for a in 0..self.agents.len() as u32 {
                if need == 0 {
                    break;
                }
                let ag = &mut self.agents[a as usize];
                if ag.logout_pending {
                    ag.logout_pending = false;
                    need -= 1;
                } else if self.acd.agent_state(AgentId(a)) == Some(AgentState::Offline) {
                    self.acd
                        .agent_login(Seconds(t), AgentId(a))
                        .map_err(acd_err)?;
                    self.acd
                        .agent_ready(Seconds(t), AgentId(a))
                        .map_err(acd_err)?;
                    self.m.agents_staffed.add(t, 1.0);
                    need -= 1;
                }
            }
        } else if target < n {
            // Idle agents leave at once; busy ones after their current call.
            let mut excess = n - target;
            for &a in on_duty.iter().rev() {
                if excess == 0 {
                    break;
                }
                match self.acd.agent_state(AgentId(a)) {
                    Some(AgentState::Idle) => {
                        self.acd
                            .agent_not_ready(Seconds(t), AgentId(a))
                            .map_err(acd_err)?;
                        self.logout(t, a)?;
                    }
                    Some(AgentState::NotReady) => self.logout(t, a)?,
                    _ => self.agents[a as usize].logout_pending = true,
                }
                excess -= 1;
            }
        }
        self.actions(t)
    }

    /// Logs agent `a` out.
    pub(super) fn logout(&mut self, t: f64, a: u32) -> Result<(), SimError> {
        self.agents[a as usize].logout_pending = false;
        self.acd
            .agent_logout(Seconds(t), AgentId(a))
            .map_err(acd_err)?;
        self.m.agents_staffed.add(t, -1.0);
        Ok(())
    }

    /// An agent who let a call ring out is made ready again, or logged out if their shift
    /// has ended.
    pub(super) fn agent_back(&mut self, t: f64, agent: u32) -> Result<(), SimError> {
        let a = AgentId(agent);
        if self.acd.agent_state(a) == Some(AgentState::NotReady) {
            if self.agents[agent as usize].logout_pending {
                self.logout(t, agent)?;
            } else {
                self.acd.agent_ready(Seconds(t), a).map_err(acd_err)?;
                self.actions(t)?;
            }
        }
        Ok(())
    }
}
