//! The call-centre model: trunks, IVR ports, caller patience, agents, redials and callbacks,
//! around the real ACD from `tandem-acd`.
//!
//! A call seizes a trunk channel on arrival (or is a trunk loss), takes an IVR port (or hears
//! nothing and hangs up: an IVR loss), then reaches the ACD. From then on its patience runs:
//! if it expires while the call waits it is a queue loss, while an agent's phone rings a ring
//! loss. The trunk is held until the caller leaves. Every routing decision is the ACD's.
//!
//! This module holds a run's state, its set-up and the event loop; the caller's path (trunk,
//! IVR, patience, talk, redial) is in `calls`, carrying out the ACD's decisions and firing its
//! timers in `decisions`, and agents coming on and off duty in `shifts`.

mod calls;
mod decisions;
mod shifts;

use hdrhistogram::Histogram;
use rand::Rng;
use rand::rngs::SmallRng;
use tandem_acd::{
    Acd, AcdConfig, AgentConfig, CallId, CallbackConfig, CallbackId, OverflowRule, OverflowTarget,
    OverflowTrigger, QueueConfig, QueueId, Timer,
};

use crate::SimError;
use crate::arrivals::ArrivalGen;
use crate::kernel::Kernel;
use crate::lifecycle::{CallObserver, Transition, call_key};
use crate::metrics::{Counts, Level, RunMetrics};
use crate::rng::{Stream, stream};
use crate::scenario::Scenario;

/// What the model schedules on the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    /// A caller tries again: the redial at this index of `Run::redials`.
    Redial(u32),
    /// A caller who found no IVR port hangs up.
    IvrHangup(CallRef),
    /// A caller finishes the IVR.
    IvrDone(CallRef),
    /// A waiting or ringing caller's patience runs out.
    Patience(CallRef),
    /// An agent answers the call offered with this token.
    Answer {
        /// The agent.
        agent: u32,
        /// The agent's offer token when the phone started ringing.
        token: u32,
    },
    /// A conversation ends.
    TalkEnd(CallRef),
    /// An agent's after-call work ends.
    AcwEnd(u32),
    /// An ACD timer comes due: the slot in `Run::timers`.
    AcdTimer(u32),
    /// A callback attempt ends: the dial at this index of `Run::dials`.
    CallbackDone(u32),
    /// A shift starts or ends.
    Shift,
    /// An agent who let a call ring out is made ready again.
    AgentReady(u32),
}

/// A model call as events name it: its slot and the slot's generation, so an event for a
/// call that has ended (and whose slot was reused) is recognised as stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CallRef {
    slot: u32,
    generation: u32,
}

/// An agent who let a call ring out goes not-ready; the model makes them ready again after
/// this long (a supervisor's nudge).
const RING_NO_ANSWER_RECOVERY_S: f64 = 60.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Ivr,
    Acd,
    Talking,
    Done,
}

#[derive(Clone, Copy, Debug)]
struct SimCall {
    generation: u32,
    caller: u64,
    attempt: u32,
    acd_in: f64,
    acd: Option<CallId>,
    phase: Phase,
    waited: bool,
    trunk: bool,
    agent: u32,
    /// When the caller's patience runs out (from reaching the ACD).
    deadline: f64,
    /// Whether a patience event is in the queue.
    patience_armed: bool,
}

#[derive(Clone, Copy, Debug, Default)]
struct SimAgent {
    token: u32,
    call: Option<u32>,
    logout_pending: bool,
}

struct Rngs {
    arrivals: SmallRng,
    patience: SmallRng,
    ivr: SmallRng,
    ring: SmallRng,
    talk: SmallRng,
    acw: SmallRng,
    redial: SmallRng,
    callback: SmallRng,
    callers: SmallRng,
}

/// One replication of a scenario.
pub struct Run<'s> {
    sc: &'s Scenario,
    k: Kernel<Event>,
    acd: Acd,
    rng: Rngs,
    calls: Vec<SimCall>,
    free: Vec<u32>,
    /// Sim call by the ACD's call slot.
    by_acd: Vec<u32>,
    agents: Vec<SimAgent>,
    timers: Vec<Timer>,
    free_timers: Vec<u32>,
    dials: Vec<(CallbackId, bool)>,
    redials: Vec<(u64, u32)>,
    shift_times: Vec<f64>,
    m: RunMetrics,
    vip_below: u64,
    numbered_callers: bool,
    /// Answered calls that waited at most 1 ms (most, at moderate load): counted here and
    /// added to the wait histogram in one step at the end, which saves a histogram update
    /// per call.
    short_waits: u64,
    /// Watches the calls' transitions (drive mode); `None` in a pure run.
    observer: Option<&'s mut dyn CallObserver>,
}

impl<'s> Run<'s> {
    /// Sets up replication `rep` of `sc`.
    pub fn new(sc: &'s Scenario, rep: u32) -> Result<Run<'s>, SimError> {
        let max_agents = sc.agents.most_on_duty() as usize;
        let pop = sc.callers.population;
        let vip_below = (sc.callers.vip_fraction * pop as f64) as u64;
        let blacklist_below = vip_below + (sc.callers.blacklist_fraction * pop as f64) as u64;
        let mut overflow = Vec::new();
        if let Some(v) = sc.queue.voicemail_after_s {
            overflow.push(OverflowRule {
                trigger: OverflowTrigger::WaitAtLeast(v),
                target: OverflowTarget::Voicemail,
            });
        }
        let cfg = AcdConfig {
            queues: vec![QueueConfig {
                name: "main".into(),
                sl_target: 0.8,
                sl_seconds: sc.sl_threshold_s,
                overflow,
            }],
            agents: (0..max_agents)
                .map(|i| AgentConfig {
                    name: format!("agent{i}"),
                    skills: vec![(QueueId(0), 1)],
                })
                .collect(),
            policy: sc.agents.policy,
            ring_timeout_s: sc.agents.ring_timeout_s,
            sticky_wait_s: sc.callers.sticky_wait_s,
            callback: sc.callback.as_ref().map(|c| CallbackConfig {
                offer_when_expected_wait_s: c.offer_when_expected_wait_s,
                max_entries: c.max_entries,
                expire_after_s: c.expire_after_s,
                max_attempts: c.max_attempts,
                start_at_s: c.start_at_s,
            }),
            vip: (0..vip_below).collect(),
            vip_agent: Vec::new(),
            blacklist: (vip_below..blacklist_below).collect(),
            seed: crate::rng::splitmix64(sc.seed ^ u64::from(rep)),
            record_calls: false,
        };
        let acd = Acd::new(cfg).map_err(|e| SimError::Invalid(e.to_string()))?;
        let iv = sc.interval_s;
        let trunk_capacity = sc.trunks.capacity();
        let ivr_ports = sc.ivr.as_ref().map(|i| i.ports);
        let s = |st| stream(sc.seed, rep, st);
        let mut shift_times: Vec<f64> = sc
            .agents
            .shifts
            .iter()
            .flat_map(|s| [s.start_s, s.end_s])
            .filter(|t| *t > 0.0)
            .collect();
        shift_times.sort_by(f64::total_cmp);
        shift_times.dedup();
        Ok(Run {
            sc,
            k: Kernel::new(),
            acd,
            rng: Rngs {
                arrivals: s(Stream::Arrivals),
                patience: s(Stream::Patience),
                ivr: s(Stream::Ivr),
                ring: s(Stream::Ring),
                talk: s(Stream::Talk),
                acw: s(Stream::Acw),
                redial: s(Stream::Redial),
                callback: s(Stream::Callback),
                callers: s(Stream::Callers),
            },
            calls: Vec::new(),
            free: Vec::new(),
            by_acd: Vec::new(),
            agents: vec![SimAgent::default(); max_agents],
            timers: Vec::new(),
            free_timers: Vec::new(),
            dials: Vec::new(),
            redials: Vec::new(),
            shift_times,
            m: RunMetrics {
                intervals: Vec::new(),
                trunks: Level::new(iv, trunk_capacity.map_or(f64::INFINITY, f64::from)),
                ivr: Level::new(iv, ivr_ports.map_or(f64::INFINITY, f64::from)),
                queue: Level::new(iv, f64::INFINITY),
                agents_busy: Level::new(iv, f64::INFINITY),
                agents_staffed: Level::new(iv, f64::INFINITY),
                waits_ms: Histogram::new_with_bounds(1, 7 * 24 * 3_600_000, 3)
                    .map_err(|e| SimError::Invalid(e.to_string()))?,
                end_time: 0.0,
                events: 0,
                trunk_capacity,
                ivr_ports,
                cur: (0, 1.0, 0.0), // empty range: the first `at` resolves it
            },
            vip_below,
            numbered_callers: sc.callers.vip_fraction > 0.0
                || sc.callers.blacklist_fraction > 0.0
                || sc.callers.sticky_wait_s.is_some()
                || sc.callback.is_some(),
            short_waits: 0,
            observer: None,
        })
    }

    /// Sets up replication `rep` of `sc` with an observer told of every call transition.
    /// The observer cannot change the run: its decisions and counts are those of
    /// [`Run::new`].
    pub fn with_observer(
        sc: &'s Scenario,
        rep: u32,
        observer: &'s mut dyn CallObserver,
    ) -> Result<Run<'s>, SimError> {
        let mut run = Run::new(sc, rep)?;
        run.observer = Some(observer);
        Ok(run)
    }

    /// Tells the observer, if any, that call `i` took `step`.
    #[inline]
    fn note(&mut self, t: f64, i: u32, step: Transition) {
        if let Some(o) = &mut self.observer {
            o.transition(t, call_key(i, self.calls[i as usize].generation), step);
        }
    }

    /// Tells the observer, if any, of a step that has no model call (yet).
    #[inline]
    fn note_key(&mut self, t: f64, key: u64, step: Transition) {
        if let Some(o) = &mut self.observer {
            o.transition(t, key, step);
        }
    }

    /// Runs to completion and returns the measurements.
    pub fn run(mut self) -> Result<RunMetrics, SimError> {
        let mut arrivals = ArrivalGen::new(&self.sc.arrivals);
        for &t in &self.shift_times {
            self.k.schedule(t, Event::Shift);
        }
        // Staffing at 0 also carries out the ACD's first actions (the callback start timer),
        // queued after the shift changes, which come first should they fall at the same time.
        self.staff(0.0)?;
        // Arrivals are one ordered stream: they are merged with the event queue here instead
        // of passing through it, which saves a push and a pop per call.
        let mut next_arrival = arrivals.next(&mut self.rng.arrivals, self.sc.duration_s);
        // The time of the last event that changed anything. Stale events (a patience timer of
        // a caller already answered) can lie far in the future and must not stretch the run.
        let mut last_active = 0.0;
        loop {
            if let Some(ta) = next_arrival
                && self.k.peek_time().is_none_or(|tq| ta < tq)
            {
                self.k.advance_to(ta);
                last_active = ta;
                // Caller numbers matter only to the VIP and blacklist lists, sticky agents and
                // callback de-duplication; without those every caller is anonymous.
                let caller = if self.numbered_callers {
                    self.rng.callers.random_range(0..self.sc.callers.population)
                } else {
                    u64::MAX
                };
                self.arrive(ta, caller, 1)?;
                next_arrival = arrivals.next(&mut self.rng.arrivals, self.sc.duration_s);
                continue;
            }
            let Some((t, ev)) = self.k.pop() else { break };
            if self.handle(t, ev)? {
                last_active = t;
            }
        }
        let end = last_active;
        for l in [
            &mut self.m.trunks,
            &mut self.m.ivr,
            &mut self.m.queue,
            &mut self.m.agents_busy,
            &mut self.m.agents_staffed,
        ] {
            l.advance(end);
        }
        let _ = self.m.waits_ms.record_n(1, self.short_waits);
        self.m.end_time = end;
        self.m.events = self.k.processed();
        Ok(self.m)
    }

    /// Carries out event `ev` at `t`. Returns whether it changed anything: a stale event (a
    /// patience timer of a caller already answered) does not, and must not stretch the run.
    #[inline]
    fn handle(&mut self, t: f64, ev: Event) -> Result<bool, SimError> {
        match ev {
            Event::Redial(slot) => {
                let (caller, attempt) = self.redials[slot as usize];
                self.arrive(t, caller, attempt)?;
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
                Some(i) => self.patience_expired(t, i)?,
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
            Event::AcdTimer(slot) => return self.acd_timer(t, slot),
            Event::CallbackDone(slot) => {
                let (id, answered) = self.dials[slot as usize];
                self.callback_done(t, id, answered)?;
            }
            Event::Shift => self.staff(t)?,
            Event::AgentReady(agent) => self.agent_back(t, agent)?,
        }
        Ok(true)
    }

    /// The call of a call-scoped event, if the event is not stale.
    #[inline]
    fn live(&self, c: CallRef) -> Option<u32> {
        let call = self.calls.get(c.slot as usize)?;
        (call.generation == c.generation && call.phase != Phase::Done).then_some(c.slot)
    }

    /// How events name model call `i` now.
    fn call_ref(&self, i: u32) -> CallRef {
        CallRef {
            slot: i,
            generation: self.calls[i as usize].generation,
        }
    }

    fn map_acd(&mut self, id: CallId, i: u32) {
        let slot = id.slot();
        if self.by_acd.len() <= slot {
            self.by_acd.resize(slot + 1, u32::MAX);
        }
        self.by_acd[slot] = i;
    }

    /// The sim call an ACD call belongs to, if it is still live.
    fn sim_call(&self, id: CallId) -> Option<u32> {
        let i = *self.by_acd.get(id.slot())?;
        let c = self.calls.get(i as usize)?;
        (c.acd == Some(id) && c.phase != Phase::Done).then_some(i)
    }

    fn alloc(&mut self, c: SimCall) -> u32 {
        if let Some(i) = self.free.pop() {
            let generation = self.calls[i as usize].generation.wrapping_add(1);
            self.calls[i as usize] = SimCall { generation, ..c };
            i
        } else {
            self.calls.push(c);
            (self.calls.len() - 1) as u32
        }
    }

    fn release(&mut self, t: f64, i: u32) {
        let c = &mut self.calls[i as usize];
        if c.trunk {
            self.m.trunks.add(t, -1.0);
        }
        c.acd = None;
        c.phase = Phase::Done;
        self.free.push(i);
    }
}

fn acd_err(e: tandem_acd::AcdError) -> SimError {
    SimError::Invalid(format!("ACD rejected a command: {e}"))
}

/// Totals of a run, for tests and benchmarks.
pub fn totals(m: &RunMetrics) -> Counts {
    m.totals()
}
