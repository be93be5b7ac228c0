//! The call-centre model: trunks, IVR ports, caller patience, agents, redials and callbacks,
//! around the real ACD from `tandem-acd`.
//!
//! A call seizes a trunk channel on arrival (or is a trunk loss), takes an IVR port (or hears
//! nothing and hangs up: an IVR loss), then reaches the ACD. From then on its patience runs:
//! if it expires while the call waits it is a queue loss, while an agent's phone rings a ring
//! loss. The trunk is held until the caller leaves. Every routing decision is the ACD's.

use hdrhistogram::Histogram;
use rand::Rng;
use rand::rngs::SmallRng;
use tandem_acd::{
    Acd, AcdConfig, Action, AgentConfig, AgentId, AgentState, CallId, CallState, CallbackConfig,
    CallbackId, OverflowRule, OverflowTarget, OverflowTrigger, QueueConfig, QueueId, Terminal,
    Timer,
};

use crate::SimError;
use crate::arrivals::ArrivalGen;
use crate::drive::lifecycle::{CallObserver, Ending, NO_CALL, OUTBOUND_DIAL, Transition, call_key};
use crate::kernel::{Event, Kernel};
use crate::metrics::{Counts, Level, RunMetrics};
use crate::rng::{Stream, stream};
use crate::scenario::Scenario;

const REDIAL: u8 = 1;
const IVR_HANGUP: u8 = 2;
const IVR_DONE: u8 = 3;
const PATIENCE: u8 = 4;
const ANSWER: u8 = 5;
const TALK_END: u8 = 6;
const ACW_END: u8 = 7;
const ACD_TIMER: u8 = 8;
const CALLBACK_DONE: u8 = 9;
const SHIFT: u8 = 10;
const AGENT_READY: u8 = 11;
const CALLBACK_START: u8 = 12;

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
    k: Kernel,
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
        let max_agents = sc
            .agents
            .shifts
            .iter()
            .map(|s| s.count)
            .chain([sc.agents.count])
            .max()
            .unwrap_or(0) as usize;
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
        self.staff(0.0)?;
        for (i, _) in self.shift_times.iter().enumerate() {
            self.k.schedule(
                self.shift_times[i],
                Event {
                    kind: SHIFT,
                    a: i as u32,
                    b: 0,
                },
            );
        }
        if let Some(cb) = &self.sc.callback
            && cb.start_at_s > 0.0
        {
            self.k.schedule(
                cb.start_at_s,
                Event {
                    kind: CALLBACK_START,
                    a: 0,
                    b: 0,
                },
            );
        }
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
            let stale = matches!(ev.kind, IVR_HANGUP | IVR_DONE | PATIENCE | TALK_END)
                && self.live(ev).is_none()
                || ev.kind == ANSWER && self.agents[ev.a as usize].token != ev.b;
            if stale {
                continue;
            }
            last_active = t;
            match ev.kind {
                REDIAL => {
                    let (caller, attempt) = self.redials[ev.a as usize];
                    self.arrive(t, caller, attempt)?;
                }
                IVR_HANGUP => {
                    if let Some(i) = self.live(ev) {
                        self.m.at(t, self.sc.interval_s).ivr_lost += 1.0;
                        self.note(t, i, Transition::Ended(Ending::IvrLost));
                        let c = self.calls[i as usize];
                        self.release(t, i);
                        self.maybe_redial(t, c.caller, c.attempt);
                    }
                }
                IVR_DONE => {
                    if let Some(i) = self.live(ev) {
                        self.m.ivr.add(t, -1.0);
                        let self_service = self.sc.ivr.as_ref().map_or(0.0, |v| v.self_service);
                        if self.rng.ivr.random::<f64>() < self_service {
                            self.m.at(t, self.sc.interval_s).ivr_completed += 1.0;
                            self.note(t, i, Transition::Ended(Ending::SelfService));
                            self.release(t, i);
                        } else {
                            self.enter_acd(t, i)?;
                        }
                    }
                }
                PATIENCE => {
                    if let Some(i) = self.live(ev) {
                        self.patience_expired(t, i)?;
                    }
                }
                ANSWER => self.answer(t, ev.a, ev.b)?,
                TALK_END => {
                    if let Some(i) = self.live(ev) {
                        self.talk_end(t, i)?;
                    }
                }
                ACW_END => self.acw_end(t, ev.a)?,
                ACD_TIMER => {
                    let timer = self.timers[ev.a as usize];
                    self.free_timers.push(ev.a);
                    self.acd.timer_fired(t, timer);
                    self.actions(t)?;
                }
                CALLBACK_DONE => {
                    let (id, answered) = self.dials[ev.a as usize];
                    self.callback_done(t, id, answered)?;
                }
                SHIFT => self.staff(t)?,
                AGENT_READY => {
                    let a = AgentId(ev.a);
                    if self.acd.agent_state(a) == Some(AgentState::NotReady) {
                        if self.agents[ev.a as usize].logout_pending {
                            self.logout(t, ev.a)?;
                        } else {
                            self.acd.agent_ready(t, a).map_err(acd_err)?;
                            self.actions(t)?;
                        }
                    }
                }
                CALLBACK_START => {
                    self.acd.kick_callbacks(t);
                    self.actions(t)?;
                }
                _ => unreachable!("unknown event kind {}", ev.kind),
            }
        }
        let end = last_active;
        // Entries still on the callback list when the centre falls silent were never served.
        self.acd.expire_callbacks(f64::INFINITY);
        self.actions(end)?;
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

    /// The call of a call-scoped event, if the event is not stale.
    fn live(&self, ev: Event) -> Option<u32> {
        let c = self.calls.get(ev.a as usize)?;
        (c.generation == ev.b && c.phase != Phase::Done).then_some(ev.a)
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

    fn arrive(&mut self, t: f64, caller: u64, attempt: u32) -> Result<(), SimError> {
        let iv = self.sc.interval_s;
        let counts = self.m.at(t, iv);
        counts.offered += 1.0;
        if attempt > 1 {
            counts.redials += 1.0;
        }
        if let Some(cap) = self.m.trunk_capacity
            && self.m.trunks.value() >= f64::from(cap)
        {
            self.m.at(t, iv).trunk_lost += 1.0;
            self.note_key(t, NO_CALL, Transition::TrunkBlocked);
            self.maybe_redial(t, caller, attempt);
            return Ok(());
        }
        self.m.trunks.add(t, 1.0);
        let i = self.alloc(SimCall {
            generation: 0,
            caller,
            attempt,
            acd_in: t,
            acd: None,
            phase: Phase::Ivr,
            waited: false,
            trunk: true,
            agent: 0,
            deadline: f64::INFINITY,
            patience_armed: false,
        });
        let vip = caller < self.vip_below;
        self.note(t, i, Transition::Seized { vip });
        match &self.sc.ivr {
            Some(ivr) if !vip => {
                let generation = self.calls[i as usize].generation;
                if self.m.ivr.value() >= f64::from(ivr.ports) {
                    self.note(t, i, Transition::IvrNoPort);
                    self.k.schedule(
                        t + ivr.no_answer_hangup_s,
                        Event {
                            kind: IVR_HANGUP,
                            a: i,
                            b: generation,
                        },
                    );
                } else {
                    self.m.ivr.add(t, 1.0);
                    self.note(t, i, Transition::IvrStarted);
                    let d = ivr.time.sample(&mut self.rng.ivr);
                    self.k.schedule(
                        t + d,
                        Event {
                            kind: IVR_DONE,
                            a: i,
                            b: generation,
                        },
                    );
                }
                Ok(())
            }
            _ => self.enter_acd(t, i),
        }
    }

    fn enter_acd(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        let iv = self.sc.interval_s;
        self.m.at(t, iv).reached_acd += 1.0;
        self.note(t, i, Transition::ReachedAcd);
        let patience = self.sc.queue.patience.sample(&mut self.rng.patience);
        let c = &mut self.calls[i as usize];
        c.phase = Phase::Acd;
        c.acd_in = t;
        // The patience event is scheduled only once it can matter: when the call queues, or
        // when it would run out before the agent answers. Most calls at moderate load meet
        // an idle agent, and an event for each would be dead weight in the queue.
        c.deadline = t + patience;
        c.patience_armed = false;
        let caller = c.caller;
        let id = self
            .acd
            .call_arrived(t, QueueId(0), caller)
            .map_err(acd_err)?;
        self.calls[i as usize].acd = Some(id);
        self.map_acd(id, i);
        self.actions(t)
    }

    fn arm_patience(&mut self, i: u32) {
        let c = &mut self.calls[i as usize];
        if !c.patience_armed && c.deadline.is_finite() {
            c.patience_armed = true;
            let ev = Event {
                kind: PATIENCE,
                a: i,
                b: c.generation,
            };
            self.k.schedule(c.deadline, ev);
        }
    }

    fn patience_expired(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        let c = self.calls[i as usize];
        if c.phase != Phase::Acd {
            return Ok(());
        }
        let Some(id) = c.acd else { return Ok(()) };
        let iv = self.sc.interval_s;
        match self.acd.call_state(id) {
            Some(CallState::Queued(_)) => {
                self.m.at(t, iv).queue_abandoned += 1.0;
                self.note(t, i, Transition::Ended(Ending::QueueAbandoned));
            }
            Some(CallState::Ringing(a)) => {
                self.m.at(t, iv).ring_lost += 1.0;
                self.note(t, i, Transition::Ended(Ending::RingAbandoned));
                let ag = &mut self.agents[a.0 as usize];
                ag.call = None;
                ag.token = ag.token.wrapping_add(1);
            }
            _ => return Ok(()),
        }
        self.acd.caller_abandoned(t, id).map_err(acd_err)?;
        self.release(t, i);
        self.maybe_redial(t, c.caller, c.attempt);
        self.actions(t)
    }

    /// Called after every loss (trunk, IVR, queue, ring) of attempt number `attempt`.
    fn maybe_redial(&mut self, t: f64, caller: u64, attempt: u32) {
        if attempt > 1 {
            self.m.at(t, self.sc.interval_s).redials_lost += 1.0;
        }
        let Some(r) = &self.sc.redial else { return };
        if attempt >= r.max_attempts || self.rng.redial.random::<f64>() >= r.probability {
            return;
        }
        let d = r.delay.sample(&mut self.rng.redial);
        if t + d >= self.sc.duration_s {
            return; // the line is closed by then
        }
        self.redials.push((caller, attempt + 1));
        let slot = (self.redials.len() - 1) as u32;
        self.k.schedule(
            t + d,
            Event {
                kind: REDIAL,
                a: slot,
                b: 0,
            },
        );
    }

    fn answer(&mut self, t: f64, agent: u32, token: u32) -> Result<(), SimError> {
        let ag = self.agents[agent as usize];
        if ag.token != token {
            return Ok(());
        }
        let Some(i) = ag.call else { return Ok(()) };
        let a = AgentId(agent);
        self.acd.agent_answered(t, a).map_err(acd_err)?;
        let iv = self.sc.interval_s;
        let c = &mut self.calls[i as usize];
        c.phase = Phase::Talking;
        c.agent = agent;
        let wait = t - c.acd_in;
        let counts = self.m.at(t, iv);
        counts.answered += 1.0;
        counts.wait_sum += wait;
        if wait <= self.sc.sl_threshold_s {
            counts.answered_within_sl += 1.0;
        }
        let ms = (wait * 1000.0) as u64;
        if ms <= 1 {
            self.short_waits += 1;
        } else {
            let _ = self.m.waits_ms.record(ms);
        }
        self.note(t, i, Transition::Answered { agent });
        self.start_talk(t, i);
        self.actions(t)
    }

    /// An agent and call `i` start talking: busy agents up, the end of talk scheduled.
    fn start_talk(&mut self, t: f64, i: u32) {
        self.m.agents_busy.add(t, 1.0);
        let talk = self.sc.agents.talk.sample(&mut self.rng.talk);
        let generation = self.calls[i as usize].generation;
        self.k.schedule(
            t + talk,
            Event {
                kind: TALK_END,
                a: i,
                b: generation,
            },
        );
    }

    fn talk_end(&mut self, t: f64, i: u32) -> Result<(), SimError> {
        let c = self.calls[i as usize];
        if c.phase != Phase::Talking {
            return Ok(());
        }
        if let Some(id) = c.acd {
            self.acd.call_ended(t, id).map_err(acd_err)?;
        }
        self.note(t, i, Transition::Ended(Ending::TalkEnded));
        let ag = &mut self.agents[c.agent as usize];
        ag.call = None;
        ag.token = ag.token.wrapping_add(1);
        let token = ag.token;
        self.release(t, i);
        let acw = self.sc.agents.acw.sample(&mut self.rng.acw);
        self.k.schedule(
            t + acw,
            Event {
                kind: ACW_END,
                a: c.agent,
                b: token,
            },
        );
        self.actions(t)
    }

    fn acw_end(&mut self, t: f64, agent: u32) -> Result<(), SimError> {
        self.m.agents_busy.add(t, -1.0);
        let a = AgentId(agent);
        if self.agents[agent as usize].logout_pending {
            self.acd.wrap_up_done_not_ready(t, a).map_err(acd_err)?;
            self.logout(t, agent)?;
        } else {
            self.acd.wrap_up_done(t, a).map_err(acd_err)?;
        }
        self.actions(t)
    }

    fn callback_done(&mut self, t: f64, id: CallbackId, answered: bool) -> Result<(), SimError> {
        // The agent who dialled: the one whose callback this is (the ACD knows it).
        let dial = OUTBOUND_DIAL | id.0;
        let Some(call) = self.acd.callback_result(t, id, answered).map_err(acd_err)? else {
            self.note_key(t, dial, Transition::OutboundFailed);
            return self.actions(t);
        };
        let iv = self.sc.interval_s;
        self.m.at(t, iv).callback_served += 1.0;
        let Some(CallState::Talking(a)) = self.acd.call_state(call) else {
            self.note_key(t, dial, Transition::OutboundFailed);
            return self.actions(t);
        };
        // Outbound callbacks are assumed to find a free trunk: they are placed after the
        // peak, when trunks are idle.
        let i = self.alloc(SimCall {
            generation: 0,
            caller: 0,
            attempt: 0,
            acd_in: t,
            acd: Some(call),
            phase: Phase::Talking,
            waited: false,
            trunk: false,
            agent: a.0,
            deadline: f64::INFINITY,
            patience_armed: false,
        });
        self.map_acd(call, i);
        let ag = &mut self.agents[a.0 as usize];
        ag.call = Some(i);
        self.note(t, i, Transition::OutboundAnswered { agent: a.0, dial });
        self.start_talk(t, i);
        self.actions(t)
    }

    /// Carries out the ACD's decisions.
    fn actions(&mut self, t: f64) -> Result<(), SimError> {
        let iv = self.sc.interval_s;
        while let Some(action) = self.acd.poll_action() {
            match action {
                Action::Offer { call, agent } => {
                    let Some(i) = self.sim_call(call) else {
                        continue;
                    };
                    self.note(t, i, Transition::Ringing { agent: agent.0 });
                    let ag = &mut self.agents[agent.0 as usize];
                    ag.call = Some(i);
                    ag.token = ag.token.wrapping_add(1);
                    let token = ag.token;
                    let ring = self.sc.agents.ring.sample(&mut self.rng.ring);
                    if self.calls[i as usize].deadline < t + ring {
                        self.arm_patience(i);
                    }
                    self.k.schedule(
                        t + ring,
                        Event {
                            kind: ANSWER,
                            a: agent.0,
                            b: token,
                        },
                    );
                }
                Action::Queued { call, position, .. } => {
                    if let Some(i) = self.sim_call(call) {
                        self.note(t, i, Transition::Queued { position });
                        self.arm_patience(i);
                        if !self.calls[i as usize].waited {
                            self.calls[i as usize].waited = true;
                            self.m.at(t, iv).waited += 1.0;
                        }
                    }
                }
                Action::Released { call, terminal } => {
                    let Some(i) = self.sim_call(call) else {
                        continue;
                    };
                    let counts = self.m.at(t, iv);
                    let ending = match terminal {
                        Terminal::CallbackReleased => {
                            counts.callback_offered += 1.0;
                            Ending::CallbackReleased
                        }
                        Terminal::OverflowToVoicemail | Terminal::OverflowToIvr => {
                            counts.voicemail += 1.0;
                            Ending::Overflow
                        }
                        Terminal::Rejected => {
                            counts.rejected += 1.0;
                            Ending::Rejected
                        }
                        _ => Ending::Overflow,
                    };
                    self.note(t, i, Transition::Ended(ending));
                    self.release(t, i);
                }
                Action::RingNoAnswer { agent, .. } => {
                    let ag = &mut self.agents[agent.0 as usize];
                    ag.call = None;
                    ag.token = ag.token.wrapping_add(1);
                    self.k.schedule(
                        t + RING_NO_ANSWER_RECOVERY_S,
                        Event {
                            kind: AGENT_READY,
                            a: agent.0,
                            b: 0,
                        },
                    );
                }
                Action::DialCallback { entry, agent, .. } => {
                    self.note_key(
                        t,
                        OUTBOUND_DIAL | entry.0,
                        Transition::OutboundDialling { agent: agent.0 },
                    );
                    let cb = self
                        .sc
                        .callback
                        .as_ref()
                        .ok_or_else(|| SimError::Invalid("callback without config".into()))?;
                    let answered = self.rng.callback.random::<f64>() < cb.answer_probability;
                    let d = cb.dial_time.sample(&mut self.rng.callback);
                    self.dials.push((entry, answered));
                    let slot = (self.dials.len() - 1) as u32;
                    self.k.schedule(
                        t + d,
                        Event {
                            kind: CALLBACK_DONE,
                            a: slot,
                            b: 0,
                        },
                    );
                }
                Action::CallbackExpired { .. } => {
                    self.m.at(t.min(self.k.now()), iv).callback_expired += 1.0;
                }
                Action::ArmTimer { at, timer } => {
                    let slot = match self.free_timers.pop() {
                        Some(s) => {
                            self.timers[s as usize] = timer;
                            s
                        }
                        None => {
                            self.timers.push(timer);
                            (self.timers.len() - 1) as u32
                        }
                    };
                    self.k.schedule(
                        at,
                        Event {
                            kind: ACD_TIMER,
                            a: slot,
                            b: 0,
                        },
                    );
                }
                Action::Overflowed { .. } => {}
            }
        }
        self.m.queue.set(t, self.acd.queue_len(QueueId(0)) as f64);
        Ok(())
    }

    /// Agents on duty at `t`: the shift windows containing `t`, or the base count.
    fn target_staff(&self, t: f64) -> u32 {
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

    fn staff(&mut self, t: f64) -> Result<(), SimError> {
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
                    self.acd.agent_login(t, AgentId(a)).map_err(acd_err)?;
                    self.acd.agent_ready(t, AgentId(a)).map_err(acd_err)?;
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
                        self.acd.agent_not_ready(t, AgentId(a)).map_err(acd_err)?;
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

    fn logout(&mut self, t: f64, a: u32) -> Result<(), SimError> {
        self.agents[a as usize].logout_pending = false;
        self.acd.agent_logout(t, AgentId(a)).map_err(acd_err)?;
        self.m.agents_staffed.add(t, -1.0);
        Ok(())
    }
}

fn acd_err(e: tandem_acd::AcdError) -> SimError {
    SimError::Invalid(format!("ACD rejected a command: {e}"))
}

/// Totals of a run, for tests and benchmarks.
pub fn totals(m: &RunMetrics) -> Counts {
    m.totals()
}
