//! The call-centre model: trunks, IVR ports, caller patience, agent groups, call types,
//! redials and callbacks, around the real ACD from `tandem-acd`.
//!
//! A call seizes a trunk channel on arrival (or is a trunk loss), takes an IVR port (or hears
//! nothing and hangs up: an IVR loss), then reaches the ACD. From then on its patience runs:
//! if it expires while the call waits it is a queue loss, while an agent's phone rings a ring
//! loss. The trunk is held until the caller leaves. Every routing decision is the ACD's.
//!
//! This module holds a run's state; the event loop that drives it is in `event_loop`, how
//! the scenario becomes the ACD's queues and agents in `setup`, the caller's path (trunk,
//! IVR, patience, talk, redial) in `calls`, what callers hear and do while they wait in
//! `waiting`, carrying out the ACD's decisions and firing its timers in `decisions`,
//! outbound callbacks in `callbacks`, and agents coming on and off duty in `shifts`.

mod callbacks;
mod calls;
mod decisions;
mod event_loop;
mod flow;
mod setup;
mod shifts;
mod slots;
mod waiting;

use std::sync::Arc;

use rand::rngs::SmallRng;
use tandem_acd::{Acd, CallId, CallbackId, Timer};

use crate::SimError;
use crate::arrivals::ArrivalGen;
use crate::dist::Dist;
use crate::grid::Grid;
use crate::kernel::Kernel;
use crate::lifecycle::{CallObserver, Transition, call_key};
use crate::metrics::{Counts, RunMetrics};
use crate::scenario::Scenario;
use slots::{FixedMap, Slots};

/// What the model schedules on the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    /// A caller tries again: the redial at this index of `Run::redials`.
    Redial(u32),
    /// A call of a call type's own arrival stream (the stream's index).
    OwnArrival(u16),
    /// A caller who found no IVR port hangs up.
    IvrHangup(CallRef),
    /// A caller finishes the IVR.
    IvrDone(CallRef),
    /// A waiting or ringing caller's patience runs out.
    Patience(CallRef),
    /// A waiting caller hears the delay announcement.
    Announce(CallRef),
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
    /// An agent whose callback found no free trunk tries again: the dial at this index.
    CallbackRetry(u32),
    /// A shift starts or ends.
    Shift,
    /// An agent who let a call ring out is made ready again.
    AgentReady(u32),
    /// A caller who took an IVR port starts walking the IVR flow.
    FlowStart(CallRef),
    /// Something is due in a call's walk through the IVR flow (a prompt ends, the caller
    /// keys, a timer of the flow).
    FlowWake(CallRef),
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
    /// Call type.
    ctype: u16,
    acd_in: f64,
    acd: Option<CallId>,
    phase: Phase,
    waited: bool,
    trunk: bool,
    agent: u32,
    /// When the caller's patience runs out (from reaching the ACD).
    deadline: f64,
    /// When the patience event in the queue fires (infinite: none is queued).
    patience_at: f64,
}

impl SimCall {
    fn new(caller: u64, attempt: u32, ctype: u16, t: f64) -> SimCall {
        SimCall {
            generation: 0,
            caller,
            attempt,
            ctype,
            acd_in: t,
            acd: None,
            phase: Phase::Ivr,
            waited: false,
            trunk: true,
            agent: 0,
            deadline: f64::INFINITY,
            patience_at: f64::INFINITY,
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct SimAgent {
    token: u32,
    call: Option<u32>,
    logout_pending: bool,
}

/// A callback dial in progress.
#[derive(Clone, Copy, Debug)]
struct Dial {
    /// The list entry.
    entry: CallbackId,
    /// Whether the customer will answer.
    answered: bool,
    /// Attempt number (1-based).
    attempt: u32,
    /// Whether it holds a trunk channel.
    trunk: bool,
    /// The dialling agent.
    agent: u32,
    /// The call type of the call the callback replaces.
    ctype: u16,
}

/// A call type as the model uses it.
#[derive(Clone, Copy, Debug)]
struct TypeModel<'s> {
    talk: &'s Dist,
    acw: &'s Dist,
    patience: &'s Dist,
    priority: u8,
    /// The ACD queue calls of this type join first.
    queue: u32,
}

/// An agent group as the model uses it.
#[derive(Clone, Debug)]
struct GroupModel<'s> {
    /// Agents `first .. first + size` of the ACD.
    first: u32,
    size: u32,
    count: u32,
    shifts: &'s [crate::scenario::Shift],
    /// Agents still to leave under the first-free rule.
    excess: u32,
}

/// An arrival stream of its own (a call type's).
struct Stream {
    arrivals: ArrivalGen,
    rng: SmallRng,
    ctype: u16,
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
    types: SmallRng,
    balk: SmallRng,
    acceptance: SmallRng,
    far_end: SmallRng,
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
    /// Group of each agent.
    agent_group: Vec<u16>,
    groups: Vec<GroupModel<'s>>,
    types: Vec<TypeModel<'s>>,
    /// Cumulative shares of the main stream's calls by type (empty: all are type 0).
    shares: Vec<f64>,
    /// Call type and overflow stage of each ACD queue.
    queue_stage: Vec<(u16, u16)>,
    /// Index of each type's first overflow rule (for counting per rule).
    first_rule: Vec<usize>,
    streams: Vec<Stream>,
    busyness: f64,
    /// ACD timers on the kernel.
    timers: Slots<Timer>,
    /// Callback dials in progress.
    dials: Slots<Dial>,
    /// Attempts made so far per callback entry.
    attempts: FixedMap<u32>,
    /// Call type of each number on the callback list (with several types).
    callback_types: FixedMap<u16>,
    /// Redials to come: caller, attempt number, call type.
    redials: Slots<(u64, u32, u16)>,
    shift_times: Vec<f64>,
    m: RunMetrics,
    vip_below: u64,
    numbered_callers: bool,
    /// Answered calls that waited at most 1 ms (most, at moderate load): counted here and
    /// added to the wait histogram in one step at the end, which saves a histogram update
    /// per call.
    short_waits: u64,
    /// Events this replication may process before it is stopped.
    event_cap: u64,
    /// Whether per type or per group figures are kept.
    breakdown_on: bool,
    /// Agents still to leave under the first-free rule, in all groups.
    excess_total: u32,
    /// Probability a caller accepts a callback offer (1 without callbacks).
    acceptance: f64,
    /// Declined callback offers the ACD had counted at the last look.
    declined_seen: u64,
    /// Watches the calls' transitions (drive mode); `None` in a pure run.
    observer: Option<&'s mut dyn CallObserver>,
    /// The IVR flow callers walk, if the IVR runs one.
    flow: Option<flow::FlowPlan<'s>>,
    /// Whether `flow` is set (one flag for the hot paths to test).
    flow_on: bool,
    /// Each call's walk through the flow, by call slot.
    flow_calls: Vec<Option<flow::FlowCall>>,
    /// Scratch for a session's actions.
    flow_actions: Vec<tandem_ivr::Action>,
}

impl<'s> Run<'s> {
    /// Sets up replication `rep` of `sc`.
    pub fn new(sc: &'s Scenario, rep: u32) -> Result<Run<'s>, SimError> {
        setup::build(sc, rep)
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

    /// The timeline grid of this run.
    pub fn grid(&self) -> &Arc<Grid> {
        &self.m.grid
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

    /// Whether a trunk channel is free (always, with unlimited trunks).
    #[inline]
    fn trunk_free(&self) -> bool {
        self.m
            .trunk_capacity
            .is_none_or(|cap| self.m.trunks.value() < f64::from(cap))
    }

    /// Counts of the piece containing `t`.
    #[inline]
    fn at(&mut self, t: f64) -> &mut Counts {
        self.m.at(t)
    }
}

fn acd_err(e: tandem_acd::AcdError) -> SimError {
    SimError::Invalid(format!("ACD rejected a command: {e}"))
}

/// Totals of a run (after the warm-up), for tests and benchmarks.
pub fn totals(m: &RunMetrics) -> Counts {
    m.totals()
}
