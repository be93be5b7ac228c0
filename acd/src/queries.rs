//! What a driver can ask the ACD, and the run-time options it can set.

use crate::acd::Acd;
use crate::config::AcdConfig;
use crate::records::{AcdStats, AgentRecord, AgentStats};
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
    /// [`agent_heartbeat`](Self::agent_heartbeat)) for this many seconds are taken offline by
    /// [`check_heartbeats`](Self::check_heartbeats). `None` (the default) turns it off.
    pub fn set_heartbeat_timeout(&mut self, timeout_s: Option<Time>) {
        self.heartbeat_timeout = timeout_s;
    }

    /// The expected handle time (seconds) the expected-wait estimate starts from before calls
    /// have completed. Defaults to 180 s, the industry benchmark.
    pub fn set_expected_handle_time(&mut self, seconds: Time) {
        self.aht = seconds;
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
    pub fn agent_stats_at(&self, now: Time, a: AgentId) -> Option<AgentStats> {
        self.agents.get(a.0 as usize).map(|x| {
            let mut s = x.stats;
            s.seconds_in[x.state as usize] += (now - x.since).max(0.0);
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

    /// When the ACD next needs [`deadline_reached`](Self::deadline_reached): the configured
    /// callback start while entries wait for it, or the oldest pending callback's expiry.
    /// Timers for single calls come as [`Action::ArmTimer`] instead. `None`: nothing due.
    /// Costs O(pending callbacks).
    pub fn next_deadline(&self) -> Option<Time> {
        let cb = self.cfg.callback.as_ref()?;
        if self.callbacks.pending() == 0 {
            return None;
        }
        let expiry = self.callbacks.next_expiry(cb);
        let start = (self.last_now < cb.start_at_s).then_some(cb.start_at_s);
        match (expiry, start) {
            (Some(e), Some(s)) => Some(e.min(s)),
            (e, s) => e.or(s),
        }
    }

    /// The time of [`next_deadline`](Self::next_deadline) has come: expires old callback
    /// entries and dials pending ones with idle agents.
    pub fn deadline_reached(&mut self, now: Time) {
        self.expire_callbacks(now);
        self.kick_callbacks(now);
    }
}
