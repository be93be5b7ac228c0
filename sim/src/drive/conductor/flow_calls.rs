//! The conductor's IVR flow calls: each call that walks the scenario's flow in the model
//! runs the same flow in the engine ([`FlowLeg`]) on its caller channel, and the caller's
//! phone does what the model's caller did.
//!
//! The model reports its walk (nodes entered, keys, hang-ups, the survey's result) and the
//! ACD's part (the answer, the agent's hang-up, the end). Each caller action is tied to the
//! node the model's walk was in and to the time since it entered that node; the phone
//! carries it out that long after the engine's flow entered the same node (the n-th entry
//! of the model's walk and the n-th of the engine's), so a key lands in the engine where
//! the model's caller keyed it even when the engine runs a few key detections behind. If
//! the engine's flow took another node there, or has not reached it a grace period after
//! the model's time, the action is carried out anyway and counted as unanchored. When the
//! model's call has ended, the engine's flow has the grace period to end by itself (its
//! last prompt), else the caller hangs up on it (a cut leg). Per call, the conductor then
//! compares the two walks: the same nodes in the same order and the same survey result.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use tandem_engine::{ChannelId, Event, IvrConfig, Micros, PlayTarget, PromptSet};
use tandem_ivr::{CallInfo, Flow};

use super::{Conductor, Leg};
use crate::drive::DriveError;
use crate::drive::flow::{FlowLeg, FlowMedia, LegStep};
use crate::drive::flow_report::{DtmfMode, FlowDriveReport, MAX_MISMATCHES, NodeCompare};
use crate::drive::signal::PTIME_US;
use crate::drive::transport::Net;
use crate::lifecycle::{CallKey, Ending, Transition};

/// How long a caller action waits for the engine's flow to reach the model's node, and
/// how long the engine's flow may run on after the model's call ended, media µs.
const GRACE_US: u64 = 5_000_000;
/// How long a finished leg still takes its events (a voicemail's last frames), media µs.
const DRAIN_US: u64 = 2_000_000;

/// Something the model's call did that the media must do too.
#[derive(Clone, Copy, Debug)]
enum Act {
    Key(char),
    Hangup,
    Answer(u32),
    AgentHungUp,
    Overflow,
    End(Ending),
}

/// An action tied to the `anchor`-th node entry of the walk, `offset_us` after it.
#[derive(Clone, Copy, Debug)]
struct Pending {
    anchor: usize,
    offset_us: u64,
    /// The model's media time of the action.
    model_us: u64,
    act: Act,
}

struct FlowCall {
    leg: FlowLeg,
    caller: Leg,
    /// The model's walk: nodes entered, media µs.
    model_path: Vec<(u32, u64)>,
    model_survey: Option<Option<u8>>,
    acts: VecDeque<Pending>,
    /// Since when the model's call has ended.
    ended_since: Option<u64>,
    /// Whether the engine's flow has the call in its queue (an answer or an overflow
    /// waits for it: the queue node's prompt may end a frame later on the engine).
    in_queue: bool,
}

impl FlowCall {
    /// Whether the model's call has ended (the media may still be catching up).
    fn model_ended(&self) -> bool {
        self.ended_since.is_some() || self.acts.iter().any(|a| matches!(a.act, Act::End(_)))
    }
}

/// The flow, its prompts and where voicemail goes.
pub struct FlowSetup {
    /// The flow.
    pub flow: Arc<Flow>,
    /// Its prompts.
    pub prompts: Arc<PromptSet>,
    /// Where voicemail is recorded.
    pub voicemail_dir: PathBuf,
    /// The scenario's dialled numbers, by index.
    pub dnis: Vec<String>,
    /// Unix time of the run's start.
    pub start_unix: i64,
    /// How the phones key.
    pub dtmf: DtmfMode,
}

/// Every flow call of a run.
pub(in crate::drive) struct FlowCalls {
    setup: FlowSetup,
    calls: BTreeMap<CallKey, FlowCall>,
    /// The call of each flow leg's channel.
    by_channel: HashMap<ChannelId, CallKey>,
    /// Finished legs still taking their last events, until a media time.
    draining: Vec<(FlowLeg, u64)>,
    model_entries: Vec<u64>,
    figures: FlowMedia,
    report: FlowDriveReport,
}

impl FlowCalls {
    pub(in crate::drive) fn new(setup: FlowSetup) -> FlowCalls {
        FlowCalls {
            model_entries: vec![0; setup.flow.nodes().len()],
            figures: FlowMedia::new(&setup.flow),
            report: FlowDriveReport {
                dtmf: setup.dtmf,
                ..FlowDriveReport::default()
            },
            setup,
            calls: BTreeMap::new(),
            by_channel: HashMap::new(),
            draining: Vec::new(),
        }
    }

    /// Whether the phones key in-band.
    pub(super) fn inband(&self) -> bool {
        self.setup.dtmf == DtmfMode::Inband
    }

    /// Whether `key` is a flow call.
    pub(super) fn has(&self, key: CallKey) -> bool {
        self.calls.contains_key(&key)
    }

    /// The report, with the node table filled in.
    pub(in crate::drive) fn into_report(self) -> FlowDriveReport {
        let mut r = self.report;
        r.nodes = self
            .figures
            .nodes
            .iter()
            .zip(&self.model_entries)
            .map(|(n, &m)| NodeCompare {
                name: n.name.clone(),
                model_entries: m,
                media_entries: n.entries,
                media_exits: n.exits,
                media_abandons: n.abandons,
            })
            .collect();
        r.nodes_differing = r
            .nodes
            .iter()
            .filter(|n| n.model_entries != n.media_entries)
            .count() as u64;
        r.media = self.figures;
        r
    }

    fn mismatch(&mut self, what: String) {
        self.report.calls_mismatched += 1;
        if self.report.first_mismatches.len() < MAX_MISMATCHES {
            self.report.first_mismatches.push(what);
        }
    }

    /// Compares a finished call's two walks.
    fn compare(&mut self, serial: u32, fc: &FlowCall) {
        let names = |p: &[(u32, u64)]| -> Vec<String> {
            p.iter()
                .map(|(n, _)| self.setup.flow.nodes()[*n as usize].name.to_string())
                .collect()
        };
        let (model, media) = (names(&fc.model_path), names(fc.leg.path()));
        if model != media {
            let what = format!(
                "call {serial}: model {} / media {}",
                model.join(">"),
                media.join(">")
            );
            self.mismatch(what);
        } else {
            self.report.calls_matched += 1;
        }
        if fc.model_survey.is_some() || fc.leg.survey().is_some() {
            if fc.model_survey == fc.leg.survey() {
                self.report.surveys_matched += 1;
            } else {
                self.report.surveys_mismatched += 1;
            }
        }
    }
}

impl<N: Net> Conductor<N> {
    /// Takes a transition of a flow scenario's call; returns whether it was handled here.
    pub(super) fn flow_apply(
        &mut self,
        key: CallKey,
        step: Transition,
    ) -> Result<bool, DriveError> {
        let Some(fl) = self.flow.as_mut() else {
            return Ok(false);
        };
        let now = self.now_us;
        if let Transition::FlowStarted { dnis, ani } = step {
            let Some(call) = self.calls.get(&key) else {
                return Ok(true);
            };
            let (Some(caller), serial) = (call.caller, call.serial) else {
                return Ok(true);
            };
            let config = IvrConfig::new(
                Arc::clone(&fl.setup.prompts),
                fl.setup.voicemail_dir.clone(),
            );
            let flow = Arc::clone(&fl.setup.flow);
            let mut leg = FlowLeg::new(flow, caller.channel, config, &format!("call-{serial:06}"))?;
            let info = CallInfo {
                dnis: fl
                    .setup
                    .dnis
                    .get(usize::from(dnis))
                    .cloned()
                    .unwrap_or_default(),
                ani: if ani == u64::MAX {
                    String::new()
                } else {
                    ani.to_string()
                },
                unix_time: fl.setup.start_unix.saturating_add(self.model_t as i64),
            };
            fl.report.legs += 1;
            fl.by_channel.insert(caller.channel, key);
            leg.start(
                self.net.engine(),
                Micros::from_us(now),
                info,
                &mut fl.figures,
            )?;
            fl.calls.insert(
                key,
                FlowCall {
                    leg,
                    caller,
                    model_path: Vec::new(),
                    model_survey: None,
                    acts: VecDeque::new(),
                    ended_since: None,
                    in_queue: false,
                },
            );
            self.flow_steps(key);
            return Ok(true);
        }
        if step == Transition::IvrStarted {
            // The flow's own prompts play, once its walk starts.
            return Ok(true);
        }
        let Some(fc) = fl.calls.get_mut(&key) else {
            return Ok(false);
        };
        let act = match step {
            Transition::FlowNode { node } => {
                fc.model_path.push((node, now));
                if let Some(n) = fl.model_entries.get_mut(node as usize) {
                    *n += 1;
                }
                return Ok(true);
            }
            Transition::FlowSurvey { score } => {
                fc.model_survey = Some(score);
                return Ok(true);
            }
            // The flow's queue node plays to the caller while the ACD works.
            Transition::ReachedAcd | Transition::Queued { .. } | Transition::Ringing { .. } => {
                return Ok(true);
            }
            Transition::FlowKey { key } => Act::Key(key),
            Transition::FlowHangup => Act::Hangup,
            Transition::Answered { agent } => Act::Answer(agent),
            Transition::AgentHungUp => Act::AgentHungUp,
            Transition::FlowOverflow => Act::Overflow,
            Transition::Ended(e) => Act::End(e),
            _ => return Ok(false),
        };
        let anchor = fc.model_path.len().saturating_sub(1);
        let offset_us = fc
            .model_path
            .last()
            .map_or(0, |(_, t)| now.saturating_sub(*t));
        fc.acts.push_back(Pending {
            anchor,
            offset_us,
            model_us: now,
            act,
        });
        Ok(true)
    }

    /// Offers an engine event to the flow legs; counts the keys they detect.
    pub(super) fn flow_event(&mut self, event: &Event) {
        let Some(fl) = self.flow.as_mut() else {
            return;
        };
        let now = Micros::from_us(self.now_us);
        let engine = self.net.engine();
        // Keys and prompt ends name their channel: straight to its leg.
        let channel = match event {
            Event::Dtmf { channel, .. } => Some(*channel),
            Event::PlayFinished {
                target: PlayTarget::Channel(c),
                ..
            } => Some(*c),
            _ => None,
        };
        if let Some(ch) = channel {
            let Some(fc) = fl.by_channel.get(&ch).and_then(|k| fl.calls.get_mut(k)) else {
                return;
            };
            if matches!(event, Event::Dtmf { .. }) {
                fl.report.keys_detected += 1;
            }
            if let Err(e) = fc.leg.handle_event(engine, now, event, &mut fl.figures) {
                self.counters.note_error(e.to_string());
            }
            return;
        }
        let legs = fl
            .calls
            .values_mut()
            .map(|c| &mut c.leg)
            .chain(fl.draining.iter_mut().map(|(l, _)| l));
        for leg in legs {
            match leg.handle_event(engine, now, event, &mut fl.figures) {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => {
                    self.counters.note_error(e.to_string());
                    break;
                }
            }
        }
    }

    /// Runs the flow legs at the media time: their timers, the caller actions due, the
    /// calls whose media is over.
    pub(super) fn flow_tick(&mut self) {
        let Some(fl) = self.flow.as_mut() else {
            return;
        };
        let now = self.now_us;
        fl.draining.retain(|(_, until)| *until > now);
        let keys: Vec<CallKey> = fl.calls.keys().copied().collect();
        for key in keys {
            if let Err(e) = self.flow_tick_call(key, now) {
                self.counters.note_error(e.to_string());
            }
        }
    }

    fn flow_tick_call(&mut self, key: CallKey, now: u64) -> Result<(), DriveError> {
        let t = Micros::from_us(now);
        let Some(fl) = self.flow.as_mut() else {
            return Ok(());
        };
        let Some(fc) = fl.calls.get_mut(&key) else {
            return Ok(());
        };
        fc.leg.advance(self.net.engine(), t, &mut fl.figures)?;
        self.flow_steps(key);
        while let Some((p, unanchored)) = self.flow_due(key, now) {
            if unanchored && let Some(fl) = self.flow.as_mut() {
                fl.report.actions_unanchored += 1;
            }
            self.flow_act(key, p.act, t)?;
        }
        self.flow_steps(key);
        let Some(fl) = self.flow.as_mut() else {
            return Ok(());
        };
        let Some(fc) = fl.calls.get_mut(&key) else {
            return Ok(());
        };
        if let Some(since) = fc.ended_since
            && (fc.leg.is_finished() || now >= since + GRACE_US)
        {
            if !fc.leg.is_finished() {
                fl.report.legs_cut += 1;
                let ev = tandem_ivr::Event::CallerHungUp;
                fc.leg.notify(self.net.engine(), t, ev, &mut fl.figures)?;
            }
            self.flow_close(key);
        }
        Ok(())
    }

    /// The call's next action, if it is due (and whether it is unanchored).
    fn flow_due(&mut self, key: CallKey, now: u64) -> Option<(Pending, bool)> {
        let fc = self.flow.as_mut()?.calls.get_mut(&key)?;
        let p = *fc.acts.front()?;
        let model_node = fc.model_path.get(p.anchor).map(|(n, _)| *n);
        let (at, unanchored) = match fc.leg.path().get(p.anchor) {
            Some(&(node, t)) if Some(node) == model_node => (t + p.offset_us, false),
            Some(_) => (p.model_us, true),
            None => (p.model_us + GRACE_US, true),
        };
        if now < at {
            return None;
        }
        // The queue's answer or overflow waits for the engine's flow to be in its queue,
        // up to the grace period.
        let ready = fc.in_queue || !matches!(p.act, Act::Answer(_) | Act::Overflow);
        if !ready && !unanchored && now < at + GRACE_US {
            return None;
        }
        fc.acts.pop_front();
        Some((p, unanchored || !ready))
    }

    fn flow_act(&mut self, key: CallKey, act: Act, t: Micros) -> Result<(), DriveError> {
        use tandem_ivr::Event as Ivr;
        let Some(fl) = self.flow.as_mut() else {
            return Ok(());
        };
        let Some(fc) = fl.calls.get_mut(&key) else {
            return Ok(());
        };
        let ev = match act {
            Act::Key(k) => {
                fl.report.keys_sent += 1;
                let inband = fl.setup.dtmf == DtmfMode::Inband;
                if let Some(p) = self.phones.get_mut(fc.caller.ep) {
                    if inband {
                        p.press_inband(k);
                    } else {
                        p.press(k);
                    }
                }
                None
            }
            Act::Hangup => Some(Ivr::CallerHungUp),
            Act::Answer(_) => {
                fc.in_queue = false;
                Some(Ivr::QueueAnswered)
            }
            Act::AgentHungUp => Some(Ivr::AgentHungUp),
            Act::Overflow => {
                fc.in_queue = false;
                Some(Ivr::QueueOverflow)
            }
            Act::End(e) => {
                fc.ended_since = Some(t.as_us());
                // The caller's hang-up: the model's call ended outside the flow's own course.
                matches!(
                    e,
                    Ending::QueueAbandoned
                        | Ending::RingAbandoned
                        | Ending::Rejected
                        | Ending::NoPortAfterAgent
                )
                .then_some(Ivr::CallerHungUp)
            }
        };
        if let Some(ev) = ev {
            fc.leg.notify(self.net.engine(), t, ev, &mut fl.figures)?;
        }
        match act {
            Act::Answer(agent) => self.answered(key, agent)?,
            Act::AgentHungUp => self.end_talk(key),
            _ => {}
        }
        Ok(())
    }

    /// Takes what the call's leg asks: whether the call is in the flow's queue (the
    /// model's ACD has the queue itself).
    fn flow_steps(&mut self, key: CallKey) {
        if let Some(fc) = self.flow.as_mut().and_then(|f| f.calls.get_mut(&key)) {
            while let Some(step) = fc.leg.poll_step() {
                fc.in_queue = matches!(step, LegStep::EnterQueue(_));
            }
        }
    }

    /// The call's media is over: its walks are compared and its channels go.
    fn flow_close(&mut self, key: CallKey) {
        let serial = self.calls.get(&key).map_or(0, |c| c.serial);
        if let Some(fl) = self.flow.as_mut()
            && let Some(fc) = fl.calls.remove(&key)
        {
            fl.by_channel.remove(&fc.caller.channel);
            fl.compare(serial, &fc);
            fl.draining.push((fc.leg, self.now_us + DRAIN_US));
        }
        self.end_call(key);
    }

    /// After the model's last call: the engine's flows that the model has seen end run on
    /// until they end too (their grace period at most).
    pub(super) fn flow_settle(&mut self) {
        let until = self.now_us + GRACE_US + PTIME_US;
        while self.now_us < until
            && self
                .flow
                .as_ref()
                .is_some_and(|f| f.calls.values().any(FlowCall::model_ended))
        {
            self.run_media_until(self.now_us + PTIME_US);
        }
    }

    /// At the end of the run: calls still in a flow are hung up and closed.
    pub(super) fn flow_finish(&mut self) {
        let Some(fl) = self.flow.as_mut() else {
            return;
        };
        let keys: Vec<CallKey> = fl.calls.keys().copied().collect();
        let t = Micros::from_us(self.now_us);
        for key in keys {
            let Some(fl) = self.flow.as_mut() else { return };
            if let Some(fc) = fl.calls.get_mut(&key)
                && !fc.leg.is_finished()
            {
                fl.report.legs_cut += 1;
                let ev = tandem_ivr::Event::CallerHungUp;
                if let Err(e) = fc.leg.notify(self.net.engine(), t, ev, &mut fl.figures) {
                    self.counters.note_error(e.to_string());
                }
            }
            self.flow_close(key);
        }
    }
}
