//! The event loop: the main arrival stream merged with the kernel's events, each event
//! handed to its handler, and the bound on the events a replication may process.

use rand::Rng;

use super::{Event, Run};
use crate::SimError;
use crate::arrivals::ArrivalGen;
use crate::metrics::RunMetrics;

impl Run<'_> {
    /// Runs to completion and returns the measurements.
    pub fn run(mut self) -> Result<RunMetrics, SimError> {
        let mut arrivals = ArrivalGen::scaled(&self.sc.arrivals, self.busyness);
        for &t in &self.shift_times {
            self.k.schedule(t, Event::Shift);
        }
        // Staffing at 0 also carries out the ACD's first actions (the callback start timer),
        // queued after the shift changes, which come first should they fall at the same time.
        self.staff(0.0)?;
        let horizon = self.sc.duration_s;
        // Call types' own streams pass through the event queue; the main stream is merged
        // with it here instead, which saves a push and a pop per call.
        for i in 0..self.streams.len() {
            self.next_own_arrival(i);
        }
        let mut next_arrival = arrivals.next(&mut self.rng.arrivals, horizon);
        // The time of the last event that changed anything. Stale events (a patience timer of
        // a caller already answered) can lie far in the future and must not stretch the run.
        let mut last_active = 0.0;
        loop {
            if let Some(ta) = next_arrival
                && self.k.peek_time().is_none_or(|tq| ta < tq)
            {
                if self.k.processed() >= self.event_cap {
                    return Err(self.over_cap());
                }
                self.k.advance_to(ta);
                last_active = ta;
                let caller = self.caller();
                let ctype = self.main_type();
                self.arrive(ta, caller, 1, ctype)?;
                next_arrival = arrivals.next(&mut self.rng.arrivals, horizon);
                continue;
            }
            let Some((t, ev)) = self.k.pop() else { break };
            if self.handle(t, ev)? {
                last_active = t;
            }
        }
        if self.flow_on {
            self.flow_check_done()?;
        }
        let end = last_active;
        // Levels run on to the end of arrivals at least: agents are logged in through the
        // open hours even when no call comes late in them.
        self.m.advance_levels(end.max(self.sc.duration_s));
        let _ = self.m.waits_ms.record_n(1, self.short_waits);
        self.m.end_time = end;
        self.m.events = self.k.processed();
        Ok(self.m)
    }

    /// A caller's number. Numbers matter only to the VIP and blacklist lists, sticky agents
    /// and callback de-duplication; without those every caller is anonymous.
    #[inline]
    fn caller(&mut self) -> u64 {
        if self.numbered_callers {
            self.rng.callers.random_range(0..self.sc.callers.population)
        } else {
            u64::MAX
        }
    }

    /// Schedules the next arrival of own stream `i`, if any before the end of arrivals.
    fn next_own_arrival(&mut self, i: usize) {
        let s = &mut self.streams[i];
        if let Some(t) = s.arrivals.next(&mut s.rng, self.sc.duration_s) {
            self.k.schedule(t, Event::OwnArrival(i as u16));
        }
    }

    /// An arrival of own stream `i`.
    fn own_arrival(&mut self, t: f64, i: u16) -> Result<(), SimError> {
        self.check_cap()?;
        let caller = self.caller();
        let ctype = self.streams[i as usize].ctype;
        self.arrive(t, caller, 1, ctype)?;
        self.next_own_arrival(i as usize);
        Ok(())
    }

    /// Stops a replication that has processed more events than it may. Checked on arrivals
    /// and on the events that can follow each other without new calls (timers, callback
    /// dials, redials), which bounds every chain of events.
    #[inline]
    pub(super) fn check_cap(&self) -> Result<(), SimError> {
        if self.k.processed() >= self.event_cap {
            return Err(self.over_cap());
        }
        Ok(())
    }

    /// The type of a call of the main stream, drawn by the types' shares.
    #[inline]
    fn main_type(&mut self) -> u16 {
        if self.shares.is_empty() {
            return 0;
        }
        let total = *self.shares.last().unwrap_or(&1.0);
        let u = self.rng.types.random::<f64>() * total;
        self.shares
            .partition_point(|c| *c <= u)
            .min(self.shares.len() - 1) as u16
    }

    #[cold]
    fn over_cap(&self) -> SimError {
        SimError::Invalid(format!(
            "scenario `{}`: a replication processed {} events, far above the estimate for its \
             load, and was stopped (raise `[limits] max_events` or `--max-events` to let it run)",
            self.sc.name, self.event_cap
        ))
    }

    /// Carries out event `ev` at `t`. Returns whether it changed anything: a stale event (a
    /// patience timer of a caller already answered) does not, and must not stretch the run.
    #[inline(always)]
    fn handle(&mut self, t: f64, ev: Event) -> Result<bool, SimError> {
        match ev {
            Event::OwnArrival(i) => self.own_arrival(t, i)?,
            Event::Redial(slot) => {
                self.check_cap()?;
                let (caller, attempt, ctype) = self.redials.take(slot);
                self.arrive(t, caller, attempt, ctype)?;
            }
            Event::IvrHangup(c) => match self.live(c) {
                Some(i) => self.ivr_hangup(t, i),
                None => return Ok(false),
            },
            Event::IvrDone(c) => match self.live(c) {
                Some(i) => self.ivr_done(t, i)?,
                None => return Ok(false),
            },
            Event::Patience(c) => match self.live(c) {
                Some(i) => return self.patience_expired(t, i),
                None => return Ok(false),
            },
            Event::Announce(c) => match self.live(c) {
                Some(i) => return self.announce(t, i),
                None => return Ok(false),
            },
            Event::Answer { agent, token } => {
                if self.agents[agent as usize].token != token {
                    return Ok(false);
                }
                self.answer(t, agent)?;
            }
            Event::TalkEnd(c) => match self.live(c) {
                Some(i) => self.talk_end(t, i)?,
                None => return Ok(false),
            },
            Event::AcwEnd(agent) => self.acw_end(t, agent)?,
            Event::AcdTimer(slot) => {
                self.check_cap()?;
                return self.acd_timer(t, slot);
            }
            Event::CallbackDone(slot) => {
                self.check_cap()?;
                self.callback_done(t, slot)?;
            }
            Event::CallbackRetry(slot) => {
                self.check_cap()?;
                self.place_dial(t, slot)?;
            }
            Event::AgentReady(agent) => {
                self.check_cap()?;
                self.agent_back(t, agent)?;
            }
            Event::Shift => self.staff(t)?,
            Event::FlowStart(c) => match self.live(c) {
                Some(i) => self.start_flow(t, i)?,
                None => return Ok(false),
            },
            Event::FlowWake(c) => match self.live(c) {
                Some(i) => return self.flow_wake(t, i),
                None => return Ok(false),
            },
        }
        Ok(true)
    }
}
