//! IVR flows on drive mode's channels.
//!
//! A call's flow runs in the engine, not in a model of it: a [`FlowLeg`] holds an
//! [`IvrSession`] on the caller's channel, so prompts play through the channel's player,
//! the caller's keys are the telephone-events the simulated phone sends
//! (`Phone::press`) as the engine detects them, and a voicemail is a tap
//! on the channel. The leg counts what the real run did, node by node ([`FlowMedia`]):
//! entries, exits and abandons, survey scores, voicemails and queue entries.
//!
//! Without recorded prompts the flow's prompts are synthesized ([`synthetic_prompts`]):
//! one silent WAV file per prompt, as long as the scenario says the prompt lasts, so the
//! flow's timing on real media is the scenario's.

use std::collections::VecDeque;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use tandem_codecs::wav::{Encoding, WavFormat, WavWriter};
use tandem_engine::{
    ChannelId, Event, IvrConfig, IvrOutput, IvrSession, MAX_GENERATED_MS, MediaEngine, Micros,
    PromptCache, PromptSet,
};
use tandem_ivr::{Action, CallInfo, EndReason, Flow};

use super::DriveError;
use crate::scenario::Scenario;

/// Writes one silent 8 kHz WAV file under `dir` for every prompt file `flow` plays, as long
/// as `length_s` says (seconds), and loads the flow's prompt set from them. `tone:` and
/// `silence:` prompts need no file. A prompt with no length is refused by name.
pub fn synthetic_prompts(
    flow: &Flow,
    length_s: &dyn Fn(&str) -> Option<f64>,
    dir: &Path,
) -> Result<PromptSet, DriveError> {
    for name in flow.prompts() {
        if name.starts_with("tone:") || name.starts_with("silence:") {
            continue;
        }
        let rel = Path::new(&*name);
        if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            // Not a path inside the directory: the prompt set refuses it by name below.
            continue;
        }
        let secs = length_s(&name).ok_or_else(|| {
            DriveError::Invalid(format!(
                "flow `{}`: no length for prompt `{name}` to synthesize it",
                flow.name()
            ))
        })?;
        let ms = (secs * 1000.0)
            .round()
            .clamp(1.0, f64::from(MAX_GENERATED_MS)) as usize;
        let mut path: PathBuf = dir.join(rel);
        path.as_mut_os_string().push(".wav");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        let wav =
            |e: tandem_codecs::wav::WavError| DriveError::Invalid(format!("prompt `{name}`: {e}"));
        let mut w = WavWriter::new(file, WavFormat::telephony(Encoding::Pcm16)).map_err(wav)?;
        w.write_samples(&vec![0i16; ms * 8]).map_err(wav)?;
        w.finalize().map_err(wav)?;
    }
    PromptSet::load(flow, dir, &PromptCache::new())
        .map_err(|e| DriveError::Invalid(format!("flow `{}`: {e}", flow.name())))
}

/// The length of each prompt as `sc` gives it (`[ivr.prompts]`, else `prompt_s`): the mean
/// of its distribution, seconds.
pub fn scenario_prompt_length(sc: &Scenario, name: &str) -> Option<f64> {
    let ivr = sc.ivr.as_ref()?;
    ivr.prompts
        .get(name)
        .or(ivr.prompt_s.as_ref())
        .map(crate::dist::Dist::mean)
}

/// What the real run did in one node of the flow.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NodeTraffic {
    /// The node's name.
    pub name: String,
    /// Calls that entered it.
    pub entries: u64,
    /// Calls that left it for another node or ended the flow in it.
    pub exits: u64,
    /// Callers who hung up in it.
    pub abandons: u64,
    /// Media time calls spent in it, seconds.
    pub time_s: f64,
}

/// What the flow did on real media, over every call that ran it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FlowMedia {
    /// The flow's name.
    pub flow: String,
    /// Per node, in the flow's order.
    pub nodes: Vec<NodeTraffic>,
    /// Flows started.
    pub calls: u64,
    /// Flows ended.
    pub ended: u64,
    /// Survey scores keyed, in the order they came.
    pub survey_scores: Vec<u8>,
    /// Surveys the caller left without a score.
    pub surveys_unanswered: u64,
    /// Calls the flow put in a queue.
    pub queue_entries: u64,
    /// Callback requests keyed in a queue.
    pub callback_requests: u64,
    /// Voicemail files written.
    pub voicemails: Vec<PathBuf>,
    /// Prompts or recordings that failed (the flow went on).
    pub media_failures: u64,
}

impl FlowMedia {
    /// Empty figures for `flow`.
    pub fn new(flow: &Flow) -> FlowMedia {
        FlowMedia {
            flow: flow.name().to_string(),
            nodes: flow
                .nodes()
                .iter()
                .map(|n| NodeTraffic {
                    name: n.name.to_string(),
                    ..NodeTraffic::default()
                })
                .collect(),
            ..FlowMedia::default()
        }
    }

    /// Whether every node's entries equal its exits plus its abandons.
    pub fn balanced(&self) -> bool {
        self.nodes.iter().all(|n| n.entries == n.exits + n.abandons)
    }
}

/// What the conductor must do for a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LegStep {
    /// The flow put the call in `queue`.
    EnterQueue(Arc<str>),
    /// The flow took the call out of its queue.
    LeaveQueue,
    /// The flow released the call (its channel may go).
    Hangup,
    /// The flow is over.
    End(EndReason),
}

/// One call's flow on its caller channel.
#[derive(Debug)]
pub struct FlowLeg {
    ivr: IvrSession,
    /// The node the call is in and when it entered it.
    node: Option<(usize, Micros)>,
    steps: VecDeque<LegStep>,
    /// Every node entered, with the media time, µs (at most the flow's `max_steps` + 1).
    path: Vec<(u32, u64)>,
    /// The survey's result, once a survey node took one (`Some(None)`: no score).
    survey: Option<Option<u8>>,
}

impl FlowLeg {
    /// A flow leg for `flow` on `channel`; `tag` names the call in voicemail file names.
    pub fn new(
        flow: Arc<Flow>,
        channel: ChannelId,
        config: IvrConfig,
        tag: &str,
    ) -> Result<FlowLeg, DriveError> {
        let ivr = IvrSession::new(flow, channel, config, tag).map_err(ivr_err)?;
        Ok(FlowLeg {
            ivr,
            node: None,
            steps: VecDeque::new(),
            path: Vec::new(),
            survey: None,
        })
    }

    /// Starts the flow for `call` at `now`.
    pub fn start(
        &mut self,
        engine: &mut dyn MediaEngine,
        now: Micros,
        call: CallInfo,
        fig: &mut FlowMedia,
    ) -> Result<(), DriveError> {
        fig.calls += 1;
        self.ivr.start(engine, now, call).map_err(ivr_err)?;
        self.collect(now, fig);
        Ok(())
    }

    /// Takes an engine event (keys, prompt ends, the voicemail tap); returns whether it was
    /// this leg's.
    pub fn handle_event(
        &mut self,
        engine: &mut dyn MediaEngine,
        now: Micros,
        event: &Event,
        fig: &mut FlowMedia,
    ) -> Result<bool, DriveError> {
        let mine = self.ivr.handle_event(engine, now, event).map_err(ivr_err)?;
        self.collect(now, fig);
        Ok(mine)
    }

    /// Fires the flow's timers due by `now`.
    pub fn advance(
        &mut self,
        engine: &mut dyn MediaEngine,
        now: Micros,
        fig: &mut FlowMedia,
    ) -> Result<(), DriveError> {
        if self.ivr.next_deadline().is_some_and(|d| d <= now) {
            self.ivr.advance(engine, now).map_err(ivr_err)?;
            self.collect(now, fig);
        }
        Ok(())
    }

    /// Tells the flow what happened to the call (the queue answered, the agent hung up,
    /// the caller hung up).
    pub fn notify(
        &mut self,
        engine: &mut dyn MediaEngine,
        now: Micros,
        event: tandem_ivr::Event,
        fig: &mut FlowMedia,
    ) -> Result<(), DriveError> {
        if !self.ivr.is_finished() {
            self.ivr.notify(engine, now, event).map_err(ivr_err)?;
            self.collect(now, fig);
        }
        Ok(())
    }

    /// The next thing for the conductor to do.
    pub fn poll_step(&mut self) -> Option<LegStep> {
        self.steps.pop_front()
    }

    /// When [`Self::advance`] is next due.
    pub fn next_deadline(&self) -> Option<Micros> {
        self.ivr.next_deadline()
    }

    /// The flow is waiting for the caller (its prompts played, no timer of the driver's
    /// pending): the time to key.
    pub fn waiting_for_caller(&self) -> bool {
        !self.ivr.is_finished() && !self.ivr.session().waiting_for_driver()
    }

    /// The attempt the flow is at: node entries made, and failed attempts in this node.
    /// A caller decides once per attempt.
    pub fn attempt(&self) -> (u32, u8) {
        let s = self.ivr.session();
        (s.steps(), s.attempt())
    }

    /// Whether a voicemail is being recorded (its beep is over): the caller talks, and
    /// may key the finish key.
    pub fn recording(&self) -> bool {
        self.ivr.is_recording()
    }

    /// The node the call is in.
    pub fn node_name(&self) -> &str {
        let s = self.ivr.session();
        &s.flow().node(s.node()).name
    }

    /// The nodes the flow entered, in order, each with the media time of the entry, µs.
    pub fn path(&self) -> &[(u32, u64)] {
        &self.path
    }

    /// The survey's result, once a survey node took one (`Some(None)`: no score keyed).
    pub fn survey(&self) -> Option<Option<u8>> {
        self.survey
    }

    /// Whether the flow has ended.
    pub fn is_finished(&self) -> bool {
        self.ivr.is_finished()
    }

    fn collect(&mut self, now: Micros, fig: &mut FlowMedia) {
        while let Some(out) = self.ivr.poll_output() {
            match out {
                IvrOutput::Flow(a) => self.count(now, a, fig),
                IvrOutput::Voicemail(v) => fig.voicemails.push(v.recording),
                IvrOutput::MediaFailed { .. } => fig.media_failures += 1,
                _ => {}
            }
        }
    }

    fn count(&mut self, now: Micros, a: Action, fig: &mut FlowMedia) {
        match a {
            Action::Entered { node } => {
                if let Some((n, from)) = self.node.replace((node.index(), now)) {
                    fig.nodes[n].exits += 1;
                    fig.nodes[n].time_s += spent(from, now);
                }
                fig.nodes[node.index()].entries += 1;
                self.path.push((node.0, now.as_us()));
            }
            Action::EnterQueue { queue, .. } => {
                fig.queue_entries += 1;
                self.steps.push_back(LegStep::EnterQueue(queue));
            }
            Action::LeaveQueue { .. } => self.steps.push_back(LegStep::LeaveQueue),
            Action::RequestCallback { .. } => fig.callback_requests += 1,
            Action::SurveyResult { score, .. } => {
                self.survey = Some(score);
                match score {
                    Some(s) => fig.survey_scores.push(s),
                    None => fig.surveys_unanswered += 1,
                }
            }
            Action::Hangup => self.steps.push_back(LegStep::Hangup),
            Action::End(o) => {
                fig.ended += 1;
                if let Some((n, from)) = self.node.take() {
                    fig.nodes[n].time_s += spent(from, now);
                    if o.reason == EndReason::CallerHungUp {
                        fig.nodes[n].abandons += 1;
                    } else {
                        fig.nodes[n].exits += 1;
                    }
                }
                self.steps.push_back(LegStep::End(o.reason));
            }
            _ => {}
        }
    }
}

fn spent(from: Micros, to: Micros) -> f64 {
    to.as_us().saturating_sub(from.as_us()) as f64 / 1e6
}

fn ivr_err(e: tandem_engine::IvrSessionError) -> DriveError {
    DriveError::Invalid(format!("IVR flow: {e}"))
}
