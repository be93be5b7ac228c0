//! Agents on and off duty: the staffing each group's shifts ask for, the shift-change rule
//! when they ask for fewer, and agents made ready again after a ring-no-answer.
//!
//! Two rules for a drop in staffing (`agents.shift_change`):
//! - `designated`: the agents to leave are chosen at the change (the last of the group);
//!   idle ones leave at once, busy ones after their current call, and the others keep
//!   taking calls meanwhile.
//! - `first-free`: idle agents leave at once; then, while more agents are on duty than
//!   asked for, every agent who finishes a call leaves instead of taking a new one — no new
//!   call is answered until the busy agents are below the new target.

use tandem_acd::{AgentId, AgentState, Seconds};

use super::{Run, acd_err};
use crate::SimError;
use crate::scenario::ShiftChange;

impl Run<'_> {
    /// Agents of group `g` on duty at `t`: the shift windows containing `t`, or the base
    /// count.
    pub(super) fn target_staff(&self, g: usize, t: f64) -> u32 {
        let grp = &self.groups[g];
        let mut any = false;
        let mut sum = 0u32;
        for s in grp.shifts {
            if s.start_s <= t && t < s.end_s {
                any = true;
                sum = sum.saturating_add(s.count);
            }
        }
        if any { sum.min(grp.size) } else { grp.count }
    }

    /// Brings every group to the staffing its shifts ask for at `t`.
    pub(super) fn staff(&mut self, t: f64) -> Result<(), SimError> {
        for g in 0..self.groups.len() {
            self.staff_group(g, t)?;
        }
        self.actions(t)
    }

    fn staff_group(&mut self, g: usize, t: f64) -> Result<(), SimError> {
        let target = self.target_staff(g, t);
        let (first, size) = (self.groups[g].first, self.groups[g].size);
        let range = first..first + size;
        let on_duty: Vec<u32> = range
            .clone()
            .filter(|&a| {
                self.acd.agent_state(AgentId(a)) != Some(AgentState::Offline)
                    && !self.agents[a as usize].logout_pending
            })
            .collect();
        // Agents already due to leave under the first-free rule are not counted on duty.
        let leaving = self.groups[g].excess;
        let n = on_duty.len() as u32 - leaving.min(on_duty.len() as u32);
        if target > n {
            let mut need = target - n;
            // Cancel departures first.
            let cancel = need.min(self.groups[g].excess);
            self.groups[g].excess -= cancel;
            self.excess_total -= cancel;
            need -= cancel;
            for a in range {
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
                    self.staffed_level(t, a, 1.0);
                    need -= 1;
                }
            }
        } else if target < n {
            let excess = n - target;
            match self.sc.agents.shift_change {
                ShiftChange::Designated => {
                    self.leave(t, &on_duty, excess, true)?;
                }
                ShiftChange::FirstFree => {
                    let left = self.leave(t, &on_duty, excess, false)?;
                    self.groups[g].excess += left;
                    self.excess_total += left;
                }
            }
        }
        Ok(())
    }

    /// The last `excess` agents on duty leave: idle and not-ready ones at once; busy ones
    /// (`designated`) are marked to leave after their current call, or (`first-free`) are
    /// passed over. Returns how many must still leave.
    fn leave(
        &mut self,
        t: f64,
        on_duty: &[u32],
        mut excess: u32,
        designate_busy: bool,
    ) -> Result<u32, SimError> {
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
                _ if designate_busy => self.agents[a as usize].logout_pending = true,
                _ => continue,
            }
            excess -= 1;
        }
        Ok(excess)
    }

    /// Under the first-free rule: whether agent `a`, finishing a call, leaves now (and if
    /// so, one fewer is still to leave).
    pub(super) fn leaves_first_free(&mut self, a: u32) -> bool {
        let g = &mut self.groups[self.agent_group[a as usize] as usize];
        if g.excess > 0 {
            g.excess -= 1;
            self.excess_total -= 1;
            true
        } else {
            false
        }
    }

    /// Agent `a`'s group's logged-in level changes by `d`.
    fn staffed_level(&mut self, t: f64, a: u32, d: f64) {
        if !self.m.breakdown.groups.is_empty() {
            let g = self.agent_group[a as usize] as usize;
            self.m.breakdown.groups[g].staffed.add(t, d);
        }
    }

    /// Logs agent `a` out.
    pub(super) fn logout(&mut self, t: f64, a: u32) -> Result<(), SimError> {
        self.agents[a as usize].logout_pending = false;
        self.acd
            .agent_logout(Seconds(t), AgentId(a))
            .map_err(acd_err)?;
        self.m.agents_staffed.add(t, -1.0);
        self.staffed_level(t, a, -1.0);
        Ok(())
    }

    /// An agent who let a call ring out is made ready again, or logged out if their shift
    /// has ended.
    pub(super) fn agent_back(&mut self, t: f64, agent: u32) -> Result<(), SimError> {
        let a = AgentId(agent);
        if self.acd.agent_state(a) == Some(AgentState::NotReady) {
            if self.agents[agent as usize].logout_pending
                || (self.excess_total > 0 && self.leaves_first_free(agent))
            {
                self.logout(t, agent)?;
            } else {
                self.acd.agent_ready(Seconds(t), a).map_err(acd_err)?;
                self.actions(t)?;
            }
        }
        Ok(())
    }
}
