//! What a driver can ask the ACD, and the run-time options it can set.

use crate::acd::Acd;
use crate::config::AcdConfig;
use crate::records::{AcdStats, AgentRecord, AgentStats};
use crate::time::Seconds;
use crate::types::*;

impl Acd {
    // ----- options -----

    /// Keeps a record of every stretch an agent spends in a state (see
    /// [`drain_agent_records`](Self::drain_agent_records)). Off by default.
    pub fn set_agent_records(&mut self, on: bool) {
        self.record_agents = on;
    }

    /// Keeps a per-call record (see [`drain_records`](Self::drain_records)); the same switch
    /// as [`AcdConfig::record_calls`].
    pub fn set_call_records(&mut self, on: bool) {
        self.cfg.record_calls = on;
    }

    /// Agents not heard from (login, ready, not-ready, answer, wrap-up done or
    /// [`agent_heartbeat`](Self::agent_heartbeat)) for `timeout` are taken offline if idle,
    /// not-ready or ringing for an inbound call (the call goes back to the head of its queue
    /// with [`Action::RingNoAnswer`]); an agent on a call or in after-call work is left to
    /// finish it and looked at again one timeout later. Each logged-in agent has one
    /// [`Timer::Heartbeat`] armed for its deadline, from now on for those logged in and from
    /// login for the others. `None` (the default) turns it off. A timeout that is not a
    /// finite span of zero or more seconds is refused and changes nothing.
    pub fn set_heartbeat_timeout(
        &mut self,
        now: Seconds,
        timeout: Option<Seconds>,
    ) -> Result<(), AcdError> {
        if let Some(t) = timeout {
            crate::acd::check_span("heartbeat timeout", t.0)?;
        }
        self.heartbeat_timeout = timeout;
        let Some(timeout) = timeout else {
            return Ok(());
        };
        for i in 0..self.agents.len() {
            let ag = &self.agents[i];
            if ag.state != AgentState::Offline {
                let due = ag.last_seen + timeout;
                self.arm_heartbeat(if due > now { due } else { now }, AgentId(i as u32));
            }
        }
        Ok(())
    }

    /// The expected handle time the expected-wait estimate starts from before calls have
    /// completed. Defaults to 180 s, the industry benchmark; a driver that knows its calls'
    /// handle time (ring, talk and after-call work) sets it. The estimate then follows a slow
    /// running average of the agents' handle cycles: from the phone ringing (or a callback
    /// being dialled) to the end of after-call work.
    pub fn set_expected_handle_time(&mut self, aht: Seconds) {
        self.aht = aht.0;
    }

    /// The handle time the expected-wait estimate uses now.
    pub fn expected_handle_time(&self) -> Seconds {
        Seconds(self.aht)
    }

    /// Adds (`true`) or removes a VIP caller at run time.
    pub fn set_vip(&mut self, caller: u64, vip: bool) {
        self.lists.set_vip(caller, vip);
    }

    /// Adds (`true`) or removes a blacklisted caller at run time.
    pub fn set_blacklisted(&mut self, caller: u64, listed: bool) {
        self.lists.set_blacklisted(caller, listed);
    }

    // ----- queries -----

    /// The next decision to carry out, if any.
    #[inline]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Moves every pending decision to the end of `out` (an alternative to
    /// [`poll_action`](Self::poll_action); reuse `out` to avoid allocating).
    pub fn drain_actions(&mut self, out: &mut Vec<Action>) {
        out.extend(self.actions.drain(..));
    }

    /// Counters so far.
    pub fn stats(&self) -> &AcdStats {
        &self.stats
    }

    /// The configuration the ACD runs with.
    pub fn config(&self) -> &AcdConfig {
        &self.cfg
    }

    /// An agent's state.
    pub fn agent_state(&self, a: AgentId) -> Option<AgentState> {
        self.agents.get(a.0 as usize).map(|x| x.state)
    }

    /// An agent's time in each state (up to its last transition) and calls handled.
    pub fn agent_stats(&self, a: AgentId) -> Option<AgentStats> {
        self.agents.get(a.0 as usize).map(|x| x.stats)
    }

    /// An agent's time in each state up to `now`, counting the current state's open stretch.
    pub fn agent_stats_at(&self, now: Seconds, a: AgentId) -> Option<AgentStats> {
        self.agents.get(a.0 as usize).map(|x| {
            let mut s = x.stats;
            s.seconds_in[x.state as usize] += (now - x.since).0.max(0.0);
            s
        })
    }

    /// The inbound call an agent is ringing for or talking on.
    pub fn agent_call(&self, a: AgentId) -> Option<CallId> {
        self.agents.get(a.0 as usize).and_then(|x| x.call)
    }

    /// A call's state (`None` for an unknown, ended or reused id).
    pub fn call_state(&self, c: CallId) -> Option<CallState> {
        self.call(c).map(|x| x.state)
    }

    /// The caller number of a live call.
    pub fn call_caller(&self, c: CallId) -> Option<u64> {
        self.call(c).map(|x| x.caller)
    }

    /// Calls waiting in `q`.
    #[inline]
    pub fn queue_len(&self, q: QueueId) -> usize {
        if (q.0 as usize) < self.staffed.len() {
            self.waiting.len(q.0 as usize)
        } else {
            0
        }
    }

    /// Calls waiting in every queue.
    #[inline]
    pub fn queued_total(&self) -> usize {
        self.waiting.total()
    }

    /// Calls waiting in `q`, head (next to be served) first.
    pub fn queued_calls(&self, q: QueueId) -> impl Iterator<Item = CallId> + '_ {
        let n = if (q.0 as usize) < self.staffed.len() {
            q.0 as usize
        } else {
            usize::MAX
        };
        (n != usize::MAX)
            .then(|| self.waiting.iter(n))
            .into_iter()
            .flatten()
            .map(|slot| CallId::new(slot, self.calls[slot as usize].generation))
    }

    /// Number of idle agents.
    pub fn idle_agents(&self) -> usize {
        self.idle.count()
    }

    /// Number of idle agents who serve `q`.
    pub fn idle_agents_for(&self, q: QueueId) -> usize {
        if (q.0 as usize) < self.staffed.len() {
            self.idle.len(q.0 as usize)
        } else {
            0
        }
    }

    /// Logged-in agents who serve `q`.
    pub fn staffed(&self, q: QueueId) -> usize {
        self.staffed.get(q.0 as usize).map_or(0, |&n| n as usize)
    }

    /// Entries on the callback list (pending and being dialled).
    pub fn callback_backlog(&self) -> usize {
        self.callbacks.len()
    }

    /// Whether `caller` skips the IVR (a VIP).
    pub fn is_vip(&self, caller: u64) -> bool {
        self.lists.is_vip(caller)
    }

    /// Whether `caller` is blacklisted (would be rejected busy).
    pub fn is_blacklisted(&self, caller: u64) -> bool {
        self.lists.is_blacklisted(caller)
    }

    /// Expected wait for a new call in `q`, from the calls ahead, the agents staffed and the
    /// running average handle time. Infinite for an unstaffed or unknown queue.
    pub fn expected_wait(&self, q: QueueId) -> f64 {
        match self.staffed.get(q.0 as usize) {
            Some(&n) if n > 0 => {
                (self.waiting.len(q.0 as usize) as f64 + 1.0) * self.aht / f64::from(n)
            }
            _ => f64::INFINITY,
        }
    }

    /// Per-call records (if enabled), drained.
    pub fn drain_records(&mut self) -> std::vec::Drain<'_, CallRecord> {
        self.records.drain(..)
    }

    /// Per-agent state records (if enabled with
    /// [`set_agent_records`](Self::set_agent_records)), drained.
    pub fn drain_agent_records(&mut self) -> std::vec::Drain<'_, AgentRecord> {
        self.agent_records.drain(..)
    }
}
