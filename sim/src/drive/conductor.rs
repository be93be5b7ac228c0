//! The conductor: walks drive mode's calls through the engine as the model reports their
//! transitions — channels, prompts, queue announcements, ringback, bridges, recordings,
//! supervisors and callbacks — and runs the phones on the far side ([`super::phones`]).
//!
//! | transition            | media                                                        |
//! |-----------------------|--------------------------------------------------------------|
//! | trunk seized          | caller channel + caller phone, which talks from now on       |
//! | IVR port answers      | the greeting and menu play into the caller channel           |
//! | no IVR port           | nothing plays; the caller hangs up later                     |
//! | queued at position N  | "you are number N in the queue", then music on hold, looped;  |
//! |                       | re-announced with the estimated position every 30 s          |
//! | agent's phone rings   | ringback                                                     |
//! | answered              | agent channel + agent phone, bridged to the caller; stereo   |
//! |                       | recording if the scenario records; a listening supervisor    |
//! |                       | on the configured fraction of calls                          |
//! | callback dialled      | agent channel + phone, hearing ringback                      |
//! | callback placed       | the far end's signal (ringback, busy, SIT) to the agent, a   |
//! |                       | call-progress detector on the agent's phone                   |
//! | callback answered     | customer channel + phone (outbound), bridged to the agent    |
//! | ended                 | recording stopped; channels, room and phones torn down       |
//! | flow started          | the flow runs in the engine on the caller channel; the phone |
//! |                       | keys what the model's caller keyed (`flow_calls`)            |
//!
//! The conductor only reads transitions: nothing it measures reaches the model, so the
//! model's decisions are those of a pure run.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tandem_codecs::wav::Encoding;
use tandem_engine::{
    ChannelId, ChannelSpec, Codec, Command, EngineError, GroupKey, MediaEngine, PlaySpec,
    PlayTarget, RequestId, RoomId, RoomOptions, RtcpMode, SuperviseMode, TapId, TapMode, TapSpec,
    TapTarget,
};

use super::DriveError;
use super::call_progress::CallProgressReport;
use super::phones::{Phone, Phones, Role};
use super::prompts::PromptBank;
use super::quality::MouthToEar;
use super::report::{CallMedia, Counters};
use super::signal::PTIME_US;
use super::transport::Net;
use crate::lifecycle::{CallKey, CallObserver, FarEnd, Transition};
use flow_calls::FlowCalls;
pub use flow_calls::FlowSetup;

mod flow_calls;
mod outbound;
mod teardown;

/// How often a queued caller hears the position again, µs of media time.
const ANNOUNCE_EVERY_US: u64 = 30_000_000;
/// Music on hold between announcements, ms.
const HOLD_MS: u32 = 28_000;

/// One leg of a call: a channel and the phone on its far side.
#[derive(Clone, Copy, Debug)]
struct Leg {
    channel: ChannelId,
    ep: usize,
}

/// A call's media.
#[derive(Clone)]
struct Call {
    serial: u32,
    group: GroupKey,
    caller: Option<Leg>,
    agent: Option<Leg>,
    supervisor: Option<Leg>,
    room: Option<RoomId>,
    tap: Option<(TapId, PathBuf)>,
    /// Order key in the queue and the announcement epoch, while queued.
    queued: Option<(i64, u32)>,
    talk_from_us: Option<u64>,
    agent_id: u32,
    outbound: bool,
    /// A callback attempt's far end, once placed.
    far: Option<FarEnd>,
}

/// Recording settings.
#[derive(Clone, Debug)]
pub struct Recording {
    /// Directory for the files.
    pub dir: PathBuf,
    /// Sample encoding.
    pub encoding: Encoding,
}

/// Conducts one run's media over a transport.
pub struct Conductor<N: Net> {
    net: N,
    bank: PromptBank,
    time_scale: f64,
    record: Option<Recording>,
    supervisor_fraction: f64,
    mouth_to_ear: MouthToEar,
    rng: SmallRng,
    calls: HashMap<CallKey, Call>,
    phones: Phones,
    next_frame_us: u64,
    now_us: u64,
    timers: BinaryHeap<Reverse<(u64, CallKey, u32)>>,
    queue: BTreeSet<(i64, CallKey)>,
    next_order: i64,
    head_order: i64,
    serial: u32,
    /// Per answered call.
    pub calls_media: Vec<CallMedia>,
    /// Counters.
    pub counters: Counters,
    channels_live: u64,
    /// Wall time spent in the engine's commands.
    engine_busy: Duration,
    /// The IVR flow's calls, in a scenario with a flow.
    flow: Option<FlowCalls>,
    /// Call progress heard on the callback legs.
    pub call_progress: CallProgressReport,
    /// Simulated time of the last transition, s.
    model_t: f64,
}

impl<N: Net> Conductor<N> {
    /// A conductor over `net`. Media time is simulated time divided by `time_scale` (media µs =
    /// simulated s ÷ scale × 10⁶); supervisors are chosen with a generator seeded by `seed`,
    /// apart from the model's.
    pub fn new(
        net: N,
        seed: u64,
        time_scale: f64,
        record: Option<Recording>,
        supervisor_fraction: f64,
        mouth_to_ear: MouthToEar,
    ) -> Conductor<N> {
        Conductor {
            net,
            bank: PromptBank::new(),
            time_scale: if time_scale > 0.0 { time_scale } else { 1.0 },
            record,
            supervisor_fraction,
            mouth_to_ear,
            rng: SmallRng::seed_from_u64(crate::rng::splitmix64(seed ^ 0x0064_7269_7665)),
            calls: HashMap::new(),
            phones: Phones::new(),
            next_frame_us: 0,
            now_us: 0,
            timers: BinaryHeap::new(),
            queue: BTreeSet::new(),
            next_order: 0,
            head_order: 0,
            serial: 0,
            calls_media: Vec::new(),
            counters: Counters::default(),
            channels_live: 0,
            engine_busy: Duration::ZERO,
            flow: None,
            model_t: 0.0,
            call_progress: CallProgressReport::default(),
        }
    }

    /// Runs the scenario's IVR flow on the engine for every call that walks it.
    pub fn set_flow(&mut self, setup: FlowSetup) {
        self.flow = Some(FlowCalls::new(setup));
    }

    /// What the flow did on media, in a scenario with a flow.
    pub fn take_flow_report(&mut self) -> Option<super::flow_report::FlowDriveReport> {
        self.flow.take().map(FlowCalls::into_report)
    }

    /// The transport.
    pub fn net(&self) -> &N {
        &self.net
    }

    /// Wall time spent in the engine's commands so far (the transport counts the rest).
    pub fn engine_busy(&self) -> Duration {
        self.engine_busy
    }

    /// Gives the engine a command, counting the time it takes.
    fn command(&mut self, cmd: Command) -> Result<RequestId, EngineError> {
        self.engine(|e| e.command(cmd))
    }

    /// Gives the engine to `f`, counting the time it takes.
    fn engine<T>(&mut self, f: impl FnOnce(&mut dyn MediaEngine) -> T) -> T {
        let start = Instant::now();
        let out = f(self.net.engine());
        self.engine_busy += start.elapsed();
        out
    }

    /// One-way latency of every voice packet the phones received, µs.
    pub fn latencies(&self) -> &Histogram<u64> {
        &self.phones.latencies
    }

    /// Media time of simulated time `t` seconds, µs.
    fn media_us(&self, t: f64) -> u64 {
        (t / self.time_scale * 1e6).round().max(0.0) as u64
    }

    /// Runs the phones and the engine up to media time `t_us`.
    pub fn run_media_until(&mut self, t_us: u64) {
        loop {
            let next_timer = self.timers.peek().map_or(u64::MAX, |Reverse(t)| t.0);
            let next = self.next_frame_us.min(next_timer);
            if next > t_us {
                break;
            }
            self.net.run_until(next);
            self.now_us = next;
            self.handle_events();
            self.flow_tick();
            if next == self.next_frame_us {
                self.phones.frame(&mut self.net, next, &mut self.counters);
                self.next_frame_us += PTIME_US;
            } else if let Some(Reverse((_, key, epoch))) = self.timers.pop() {
                self.reannounce(key, epoch);
            }
        }
        self.net.run_until(t_us);
        self.now_us = self.now_us.max(t_us);
        self.handle_events();
    }

    fn handle_events(&mut self) {
        while let Some(e) = self.net.engine().poll_event() {
            self.flow_event(&e);
            self.counters.count(e);
        }
    }

    fn spec(remote: SocketAddr, inband_keys: bool) -> ChannelSpec {
        let mut spec = ChannelSpec {
            codec: Codec::PCMU,
            remote: Some(remote),
            rtcp: RtcpMode::Mux,
            ..ChannelSpec::default()
        };
        spec.dtmf.inband = inband_keys;
        spec
    }

    fn open_leg(&mut self, group: GroupKey, role: Role, serial: u32) -> Result<Leg, DriveError> {
        let ep = self.net.open_endpoint()?;
        let addr = self.net.endpoint_addr(ep);
        let inband = role == Role::Caller && self.flow.as_ref().is_some_and(FlowCalls::inband);
        let info = match self.engine(|e| e.create_channel(group, Self::spec(addr, inband))) {
            Ok(i) => i,
            Err(e) => {
                self.net.close_endpoint(ep);
                return Err(e.into());
            }
        };
        self.channels_live += 1;
        self.counters.channels_created += 1;
        self.counters.peak_channels = self.counters.peak_channels.max(self.channels_live);
        let r: u64 = self.rng.random();
        let live = self.phones.add(ep, info.local, role, serial, r);
        self.counters.peak_phones = self.counters.peak_phones.max(live as u64);
        Ok(Leg {
            channel: info.id,
            ep,
        })
    }

    fn close_leg(&mut self, leg: Leg) -> Option<Phone> {
        let r = self.command(Command::DestroyChannel {
            channel: leg.channel,
        });
        self.engine_result(r);
        self.channels_live = self.channels_live.saturating_sub(1);
        // The phone takes what is still waiting for it before it goes.
        let phone = self
            .phones
            .remove(&mut self.net, leg.ep, &mut self.counters);
        self.net.close_endpoint(leg.ep);
        if let Some(p) = &phone {
            self.counters.downlink_rtp_expected += p.rtp.expected();
            self.counters.downlink_rtp_lost += p.rtp.lost();
        }
        phone
    }

    fn engine_result<T>(&mut self, r: Result<T, EngineError>) {
        if let Err(e) = r {
            self.counters.note_error(e.to_string());
        }
    }

    fn play(&mut self, leg: Leg, spec: PlaySpec) {
        let r = self.command(Command::Play {
            target: PlayTarget::Channel(leg.channel),
            spec,
        });
        self.engine_result(r);
        self.counters.plays_started += 1;
    }

    fn stop_play(&mut self, leg: Leg) {
        let r = self.command(Command::StopPlay {
            target: PlayTarget::Channel(leg.channel),
        });
        self.engine_result(r);
    }

    fn new_call(&mut self, outbound: bool) -> Call {
        self.serial += 1;
        Call {
            serial: self.serial,
            group: GroupKey(u64::from(self.serial)),
            caller: None,
            agent: None,
            supervisor: None,
            room: None,
            tap: None,
            queued: None,
            talk_from_us: None,
            agent_id: 0,
            outbound,
            far: None,
        }
    }

    fn leave_queue(&mut self, key: CallKey) {
        if let Some(call) = self.calls.get_mut(&key)
            && let Some((order, _)) = call.queued.take()
        {
            self.queue.remove(&(order, key));
        }
    }

    fn reannounce(&mut self, key: CallKey, epoch: u32) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let (Some((order, e)), Some(caller)) = (call.queued, call.caller) else {
            return;
        };
        if e != epoch {
            return;
        }
        let position = self.queue.range(..(order, key)).count() as u32 + 1;
        self.counters.announcements += 1;
        let spec = self.bank.queue(position, HOLD_MS);
        self.play(caller, spec);
        self.timers
            .push(Reverse((self.now_us + ANNOUNCE_EVERY_US, key, epoch)));
    }

    /// Connects a call's two legs: the conversation begins.
    fn connect(&mut self, key: CallKey) -> Result<(), DriveError> {
        let Some(call) = self.calls.get(&key) else {
            return Ok(());
        };
        let (Some(caller), Some(agent), serial, group) =
            (call.caller, call.agent, call.serial, call.group)
        else {
            return Ok(());
        };
        // Whoever is waiting hears a player (ringback) until now: the caller of an inbound
        // call, the agent of a callback.
        let outbound = call.outbound;
        // A flow call's queue node stopped its own prompts at the answer.
        if outbound || !self.flow.as_ref().is_some_and(|f| f.has(key)) {
            self.stop_play(if outbound { agent } else { caller });
        }
        self.command(Command::Bridge {
            a: caller.channel,
            b: agent.channel,
        })?;
        let caller_stream = self.phones.stream(caller.ep);
        let agent_stream = self.phones.stream(agent.ep);
        if let Some(p) = self.phones.get_mut(caller.ep) {
            p.listen_to(agent_stream);
        }
        if let Some(p) = self.phones.get_mut(agent.ep) {
            p.listen_to(caller_stream);
        }
        let mut tap = None;
        if let Some(rec) = &self.record {
            let path = rec.dir.join(format!("call-{serial:06}.wav"));
            let spec = TapSpec {
                path: path.clone(),
                mode: TapMode::Stereo,
                encoding: rec.encoding,
            };
            match self.engine(|e| e.start_tap(TapTarget::Channel(caller.channel), spec)) {
                Ok(id) => {
                    self.counters.recordings_started += 1;
                    tap = Some((id, path));
                }
                Err(e) => self.counters.note_error(format!("recording: {e}")),
            }
        }
        let mut supervisor = None;
        let mut room = None;
        if self.supervisor_fraction > 0.0 && self.rng.random::<f64>() < self.supervisor_fraction {
            let leg = self.open_leg(group, Role::Supervisor, serial)?;
            let r = self.engine(|e| {
                e.create_room(
                    group,
                    RoomOptions {
                        vad_gate: false,
                        ..RoomOptions::default()
                    },
                )
            })?;
            self.command(Command::Supervise {
                agent: agent.channel,
                supervisor: leg.channel,
                mode: SuperviseMode::Listen,
                room: r,
            })?;
            self.counters.supervised += 1;
            if let Some(p) = self.phones.get_mut(leg.ep) {
                p.overhear([caller_stream, agent_stream]);
            }
            supervisor = Some(leg);
            room = Some(r);
        }
        let now = self.now_us;
        if let Some(call) = self.calls.get_mut(&key) {
            call.tap = tap;
            call.supervisor = supervisor;
            call.room = room;
            call.talk_from_us = Some(now);
        }
        Ok(())
    }

    /// An agent answered: the agent's leg opens and the two talk.
    fn answered(&mut self, key: CallKey, agent: u32) -> Result<(), DriveError> {
        self.leave_queue(key);
        let Some(call) = self.calls.get_mut(&key) else {
            return Ok(());
        };
        call.agent_id = agent;
        let (group, serial) = (call.group, call.serial);
        let leg = self.open_leg(group, Role::Agent, serial)?;
        if let Some(call) = self.calls.get_mut(&key) {
            call.agent = Some(leg);
        }
        self.counters.answered += 1;
        self.connect(key)?;
        Ok(())
    }

    /// Applies one transition at media time `now_us`.
    fn apply(&mut self, key: CallKey, step: Transition) -> Result<(), DriveError> {
        if self.flow_apply(key, step)? {
            return Ok(());
        }
        match step {
            Transition::TrunkBlocked => self.counters.trunk_blocked += 1,
            Transition::Seized { .. } => {
                let mut call = self.new_call(false);
                self.counters.calls += 1;
                call.caller = Some(self.open_leg(call.group, Role::Caller, call.serial)?);
                self.calls.insert(key, call);
            }
            Transition::IvrStarted => {
                if let Some(leg) = self.calls.get(&key).and_then(|c| c.caller) {
                    let spec = self.bank.ivr();
                    self.play(leg, spec);
                }
            }
            Transition::IvrNoPort | Transition::ReachedAcd => {}
            Transition::Queued { position } => {
                let Some(call) = self.calls.get_mut(&key) else {
                    return Ok(());
                };
                let Some(caller) = call.caller else {
                    return Ok(());
                };
                let order = if position <= 1 {
                    self.head_order -= 1;
                    self.head_order
                } else {
                    self.next_order += 1;
                    self.next_order
                };
                let epoch = call.queued.map_or(0, |(_, e)| e) + 1;
                if let Some((old, _)) = call.queued.replace((order, epoch)) {
                    self.queue.remove(&(old, key));
                }
                self.queue.insert((order, key));
                self.counters.announcements += 1;
                let spec = self.bank.queue(position, HOLD_MS);
                self.play(caller, spec);
                self.timers
                    .push(Reverse((self.now_us + ANNOUNCE_EVERY_US, key, epoch)));
            }
            Transition::Ringing { agent } => {
                self.leave_queue(key);
                if let Some(call) = self.calls.get_mut(&key) {
                    call.agent_id = agent;
                    if let Some(caller) = call.caller {
                        let spec = self.bank.ringback();
                        self.play(caller, spec);
                    }
                }
            }
            Transition::Answered { agent } => self.answered(key, agent)?,
            Transition::OutboundDialling { agent } => {
                let mut call = self.new_call(true);
                call.agent_id = agent;
                let leg = self.open_leg(call.group, Role::Agent, call.serial)?;
                call.agent = Some(leg);
                self.calls.insert(key, call);
                let spec = self.bank.ringback();
                self.play(leg, spec);
                self.counters.callbacks_dialled += 1;
            }
            Transition::OutboundProgress { far } => self.far_end(key, far),
            Transition::OutboundFailed => {
                self.judge_progress(key);
                self.end_call(key);
            }
            Transition::OutboundAnswered { agent, dial } => {
                self.judge_progress(dial);
                let mut call = match self.calls.remove(&dial) {
                    Some(c) => c,
                    None => self.new_call(true),
                };
                call.agent_id = agent;
                if call.agent.is_none() {
                    call.agent = Some(self.open_leg(call.group, Role::Agent, call.serial)?);
                }
                let (group, serial) = (call.group, call.serial);
                self.calls.insert(key, call);
                let leg = self.open_leg(group, Role::Caller, serial)?;
                if let Some(call) = self.calls.get_mut(&key) {
                    call.caller = Some(leg);
                }
                self.counters.callbacks_connected += 1;
                self.connect(key)?;
            }
            Transition::Ended(_) => self.end_call(key),
            // Without a flow (or for a call not in it): nothing to play.
            Transition::FlowStarted { .. }
            | Transition::FlowNode { .. }
            | Transition::FlowKey { .. }
            | Transition::FlowHangup
            | Transition::FlowSurvey { .. }
            | Transition::FlowOverflow
            | Transition::AgentHungUp => {}
        }
        Ok(())
    }

    /// After the model has finished: lets the last packets arrive, tears down anything
    /// still up (nothing, in a finished run), and collects the last events.
    pub fn finish(&mut self, end_t: f64, settle_us: u64) {
        let end = self.media_us(end_t).max(self.now_us);
        self.run_media_until(end + settle_us / 2);
        self.flow_settle();
        self.counters.calls_open_at_end = self.calls.len() as u64;
        self.flow_finish();
        let keys: Vec<CallKey> = self.calls.keys().copied().collect();
        for k in keys {
            self.end_call(k);
        }
        self.run_media_until(self.now_us.max(end) + settle_us / 2);
    }
}

impl<N: Net> CallObserver for Conductor<N> {
    fn transition(&mut self, t: f64, call: CallKey, step: Transition) {
        let at = self.media_us(t);
        self.run_media_until(at);
        self.model_t = t;
        if let Err(e) = self.apply(call, step) {
            self.counters.note_error(e.to_string());
        }
    }
}
