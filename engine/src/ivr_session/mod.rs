//! Running an IVR flow on a channel of any [`MediaEngine`].
//!
//! An [`IvrSession`] joins a [`tandem_ivr::Session`] (the flow interpreter) to one channel:
//!
//! - prompts play through the channel's player, from a [`PromptSet`] resolved once per flow
//!   (WAV files through the prompt cache, tones, silence);
//! - the caller's keys are the channel's `Event::Dtmf` reports, RFC 4733 or in-band as the
//!   channel's [`DtmfSettings`](crate::DtmfSettings) ask (enable `inband` for phones that
//!   send tones in the audio);
//! - a voicemail is a tap on the channel (the caller's audio) written to a WAV file, with a
//!   JSON sidecar ([`VoicemailRecord`]: caller, DNIS, mailbox, start time, duration);
//! - everything the application must carry out or may count — queue entry, callback
//!   requests, transfers, variables, survey scores, the hang-up, the end — comes out as
//!   [`IvrOutput`]s; the application reports back what happened with [`IvrSession::notify`]
//!   (the queue answered, the agent hung up, the caller hung up, …).
//!
//! Like the interpreter it never reads a clock or sleeps: every input carries `now`, engine
//! commands go out through the `&mut dyn MediaEngine` it is given, and
//! [`IvrSession::next_deadline`] says when to call [`IvrSession::advance`]. The one piece of
//! I/O of its own is the voicemail sidecar, a small file written when its recording ends
//! (on the control path, never on a shard).
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use tandem_engine::{IvrConfig, IvrSession, MediaEngine, Micros, PromptCache, PromptSet};
//! # fn run(engine: &mut dyn MediaEngine, flow: Arc<tandem_ivr::Flow>,
//! #        channel: tandem_engine::ChannelId, now: Micros) -> Result<(), Box<dyn std::error::Error>> {
//! let prompts = Arc::new(PromptSet::load(&flow, "prompts".as_ref(), &PromptCache::new())?);
//! let config = IvrConfig::new(prompts, "voicemail");
//! let mut ivr = IvrSession::new(flow, channel, config, "call-1")?;
//! let call = tandem_ivr::CallInfo { dnis: "95555".into(), ani: "13800138000".into(), unix_time: 0 };
//! ivr.start(engine, now, call)?;
//! // Then: every engine event goes to `ivr.handle_event`, `ivr.advance` runs at
//! // `ivr.next_deadline()`, and `ivr.poll_output()` says what to do.
//! # Ok(()) }
//! ```

mod prompts;
mod voicemail;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use tandem_codecs::tone::TonePlan;
use tandem_ivr::{Action, CallInfo, Flow, Handled, IvrError, Session};

use crate::command::Command;
use crate::error::EngineError;
use crate::event::Event;
use crate::ids::{ChannelId, RequestId, TapId};
use crate::media_engine::MediaEngine;
use crate::player::{PlayItem, PlaySpec};
use crate::spec::{PlayTarget, TapMode, TapSpec, TapTarget};
use crate::time::Micros;

pub use prompts::{MAX_GENERATED_MS, PromptSet, PromptSetError};
pub use voicemail::{MAX_TAG, VoicemailRecord};

/// The beep before a voicemail recording: 1 kHz at −10 dBm0.
const BEEP: TonePlan = TonePlan {
    name: "voicemail-beep",
    freqs: &[1000.0],
    level_dbm0: -10.0,
    cadence: &[],
};
/// How long the beep lasts, milliseconds.
const BEEP_MS: u32 = 300;

/// Where a flow's media comes from and goes to.
#[derive(Clone, Debug)]
pub struct IvrConfig {
    /// The flow's prompts.
    pub prompts: Arc<PromptSet>,
    /// Voicemail is recorded under this directory, one folder per mailbox.
    pub voicemail_dir: PathBuf,
    /// Sample encoding of voicemail files.
    pub voicemail_encoding: tandem_codecs::wav::Encoding,
}

impl IvrConfig {
    /// Prompts from `prompts`, voicemail under `voicemail_dir` as 16-bit PCM.
    pub fn new(prompts: Arc<PromptSet>, voicemail_dir: impl Into<PathBuf>) -> IvrConfig {
        IvrConfig {
            prompts,
            voicemail_dir: voicemail_dir.into(),
            voicemail_encoding: tandem_codecs::wav::Encoding::Pcm16,
        }
    }
}

/// Why an IVR session could not do what it was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IvrSessionError {
    /// The interpreter refused the input.
    #[error(transparent)]
    Ivr(#[from] IvrError),
    /// The engine refused a command.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The call tag is not a file-name word (1 to 64 of `A-Z a-z 0-9 - _ .`, no leading dot).
    #[error("call tag {0:?} must be 1 to 64 of A-Z a-z 0-9 - _ . and not start with a dot")]
    Tag(String),
    /// The flow plays a prompt the prompt set was not built for (checked when the session
    /// is made).
    #[error("prompt {0:?} is not in the prompt set (build it from this flow)")]
    UnknownPrompt(String),
}

/// What the application reads from a session.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum IvrOutput {
    /// An interpreter action the application carries out or counts: `Entered` (per-node
    /// counts), `EnterQueue`, `LeaveQueue`, `RequestCallback`, `Transfer`,
    /// `CancelTransfer`, `SetVariable`, `SurveyResult` (the score keyed), `Hangup`
    /// (release the call: destroy the channel) and `End` (always last).
    Flow(Action),
    /// A voicemail message is complete: its WAV file and its sidecar are written.
    Voicemail(VoicemailRecord),
    /// Media for the flow failed (a prompt could not start, a recording could not be
    /// written); the flow carries on as if the prompt had ended or the message were empty.
    MediaFailed {
        /// What failed.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// What the channel's player is doing for the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Playing {
    Nothing,
    /// The prompts of an `Action::Play`; their end is `PromptFinished`.
    Prompts,
    /// The beep before a recording; its end starts the recording.
    Beep,
}

/// A recording in progress (or waiting for its beep).
#[derive(Clone, Debug)]
struct Recording {
    mailbox: Arc<str>,
    /// The tap, once started.
    tap: Option<TapId>,
    path: PathBuf,
    /// Interpreter time at which the tap started.
    started: tandem_ivr::Micros,
}

/// One call running one flow on one channel. See the module documentation.
#[derive(Debug)]
pub struct IvrSession {
    session: Session,
    channel: ChannelId,
    config: IvrConfig,
    tag: String,
    /// `Play` commands given whose `PlayFinished` has not come yet.
    plays_outstanding: u32,
    last_play: Option<RequestId>,
    playing: Playing,
    recording: Option<Recording>,
    messages: u32,
    outputs: VecDeque<IvrOutput>,
}

fn ivr_time(t: Micros) -> tandem_ivr::Micros {
    tandem_ivr::Micros(t.as_us())
}

impl IvrSession {
    /// A session for `flow` on `channel`; `tag` names the call in voicemail file names.
    pub fn new(
        flow: Arc<Flow>,
        channel: ChannelId,
        config: IvrConfig,
        tag: &str,
    ) -> Result<IvrSession, IvrSessionError> {
        if !voicemail::is_file_word(tag) {
            return Err(IvrSessionError::Tag(tag.to_string()));
        }
        // Refused now rather than mid-call: the prompt set must be this flow's.
        if let Some(p) = flow
            .prompts()
            .into_iter()
            .find(|p| config.prompts.item(p).is_none())
        {
            return Err(IvrSessionError::UnknownPrompt(p.to_string()));
        }
        Ok(IvrSession {
            session: Session::new(flow),
            channel,
            config,
            tag: tag.to_string(),
            plays_outstanding: 0,
            last_play: None,
            playing: Playing::Nothing,
            recording: None,
            messages: 0,
            outputs: VecDeque::new(),
        })
    }

    /// Starts the flow for `call`.
    pub fn start(
        &mut self,
        engine: &mut dyn MediaEngine,
        now: Micros,
        call: CallInfo,
    ) -> Result<(), IvrSessionError> {
        self.session.start(ivr_time(now), call)?;
        self.drive(engine)
    }

    /// Takes an engine event; returns whether it concerned this session (its channel's
    /// keys and player, its recording, a command of its that failed).
    pub fn handle_event(
        &mut self,
        engine: &mut dyn MediaEngine,
        now: Micros,
        event: &Event,
    ) -> Result<bool, IvrSessionError> {
        let t = ivr_time(now);
        match event {
            Event::Dtmf { channel, digit, .. } if *channel == self.channel => {
                if !self.session.is_finished() {
                    self.session.key(t, *digit)?;
                }
            }
            Event::PlayFinished {
                target: PlayTarget::Channel(c),
                ..
            } if *c == self.channel => {
                self.plays_outstanding = self.plays_outstanding.saturating_sub(1);
                if self.plays_outstanding == 0 {
                    self.player_done(engine, t)?;
                }
            }
            Event::TapFinished {
                tap,
                duration_ms,
                dropped_frames,
                ..
            } if self.is_our_tap(*tap) => {
                self.recording_done(t, *duration_ms, *dropped_frames)?;
            }
            Event::TapFailed { tap, reason } if self.is_our_tap(*tap) => {
                self.recording_failed(t, "voicemail recording", reason.clone())?;
            }
            Event::CommandFailed { request, error, .. } if Some(*request) == self.last_play => {
                // The play never started: no PlayFinished will come for it.
                self.outputs.push_back(IvrOutput::MediaFailed {
                    what: "prompt",
                    reason: error.to_string(),
                });
                self.last_play = None;
                self.plays_outstanding = self.plays_outstanding.saturating_sub(1);
                if self.plays_outstanding == 0 {
                    self.player_done(engine, t)?;
                }
            }
            _ => return Ok(false),
        }
        self.drive(engine)?;
        Ok(true)
    }

    /// Reports what the application saw happen on the call: the queue answered or
    /// overflowed, the agent hung up, the transfer answered or failed, the caller hung up.
    pub fn notify(
        &mut self,
        engine: &mut dyn MediaEngine,
        now: Micros,
        event: tandem_ivr::Event,
    ) -> Result<Handled, IvrSessionError> {
        let h = self.session.event(ivr_time(now), event)?;
        self.drive(engine)?;
        Ok(h)
    }

    /// Fires the interpreter's deadlines due at `now` (call it at [`Self::next_deadline`]).
    pub fn advance(
        &mut self,
        engine: &mut dyn MediaEngine,
        now: Micros,
    ) -> Result<Handled, IvrSessionError> {
        if self.session.is_finished() {
            return Ok(Handled::Ignored);
        }
        let h = self.session.advance(ivr_time(now))?;
        self.drive(engine)?;
        Ok(h)
    }

    /// When [`Self::advance`] is next due.
    pub fn next_deadline(&self) -> Option<Micros> {
        self.session.next_deadline().map(|t| Micros::from_us(t.0))
    }

    /// The next thing for the application.
    pub fn poll_output(&mut self) -> Option<IvrOutput> {
        self.outputs.pop_front()
    }

    /// Whether the flow has ended (an `End` output was queued).
    pub fn is_finished(&self) -> bool {
        self.session.is_finished()
    }

    /// The interpreter (current node, variables, outcome).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Whether a voicemail is being recorded now (its beep is over and its tap runs).
    pub fn is_recording(&self) -> bool {
        self.recording.as_ref().is_some_and(|r| r.tap.is_some())
    }

    /// The channel the flow runs on.
    pub fn channel(&self) -> ChannelId {
        self.channel
    }

    // ----- plumbing -----

    fn is_our_tap(&self, tap: TapId) -> bool {
        self.recording.as_ref().and_then(|r| r.tap) == Some(tap)
    }

    fn feed(
        &mut self,
        t: tandem_ivr::Micros,
        event: tandem_ivr::Event,
    ) -> Result<Handled, IvrSessionError> {
        if self.session.is_finished() {
            return Ok(Handled::Ignored);
        }
        Ok(self.session.event(t, event)?)
    }

    /// The channel's player went quiet (every play we gave has finished).
    fn player_done(
        &mut self,
        engine: &mut dyn MediaEngine,
        t: tandem_ivr::Micros,
    ) -> Result<(), IvrSessionError> {
        match std::mem::replace(&mut self.playing, Playing::Nothing) {
            Playing::Nothing => {}
            Playing::Prompts => {
                self.feed(t, tandem_ivr::Event::PromptFinished)?;
            }
            Playing::Beep => self.start_tap(engine, t)?,
        }
        Ok(())
    }

    fn play(
        &mut self,
        engine: &mut dyn MediaEngine,
        items: Vec<PlayItem>,
        what: Playing,
    ) -> Result<(), IvrSessionError> {
        let request = engine.command(Command::Play {
            target: PlayTarget::Channel(self.channel),
            spec: PlaySpec::once(items),
        })?;
        self.last_play = Some(request);
        self.plays_outstanding += 1;
        self.playing = what;
        Ok(())
    }

    fn stop_play(&mut self, engine: &mut dyn MediaEngine) -> Result<(), IvrSessionError> {
        self.playing = Playing::Nothing;
        if self.plays_outstanding > 0 {
            engine.command(Command::StopPlay {
                target: PlayTarget::Channel(self.channel),
            })?;
        }
        Ok(())
    }

    fn start_tap(
        &mut self,
        engine: &mut dyn MediaEngine,
        t: tandem_ivr::Micros,
    ) -> Result<(), IvrSessionError> {
        let Some(rec) = self.recording.as_mut() else {
            return Ok(());
        };
        let spec = TapSpec {
            path: rec.path.clone(),
            mode: TapMode::Mixed,
            encoding: self.config.voicemail_encoding,
        };
        match engine.start_tap(TapTarget::Channel(self.channel), spec) {
            Ok(tap) => {
                rec.tap = Some(tap);
                rec.started = t;
            }
            Err(e) => self.recording_failed(t, "voicemail recording", e.to_string())?,
        }
        Ok(())
    }

    /// The message could not be recorded: report it, and end the recording empty so the
    /// flow carries on.
    fn recording_failed(
        &mut self,
        t: tandem_ivr::Micros,
        what: &'static str,
        reason: String,
    ) -> Result<(), IvrSessionError> {
        self.outputs
            .push_back(IvrOutput::MediaFailed { what, reason });
        self.recording = None;
        self.feed(
            t,
            tandem_ivr::Event::RecordingFinished {
                duration: tandem_ivr::Micros::ZERO,
            },
        )?;
        Ok(())
    }

    fn recording_done(
        &mut self,
        t: tandem_ivr::Micros,
        duration_ms: u64,
        dropped_frames: u64,
    ) -> Result<(), IvrSessionError> {
        let Some(rec) = self.recording.take() else {
            return Ok(());
        };
        let call = self.session.call().cloned().unwrap_or(CallInfo {
            dnis: String::new(),
            ani: String::new(),
            unix_time: 0,
        });
        // The call's wall clock at the start plus the interpreter time since.
        let since_start_ms = rec.started.0.saturating_sub(self.started_at().0) / 1000;
        let record = VoicemailRecord {
            mailbox: rec.mailbox.to_string(),
            caller: call.ani,
            dnis: call.dnis,
            flow: self.session.flow().name().to_string(),
            call: self.tag.clone(),
            started_unix_ms: call
                .unix_time
                .saturating_mul(1000)
                .saturating_add(since_start_ms as i64),
            duration_ms,
            dropped_frames,
            recording: rec.path,
        };
        match voicemail::write_sidecar(&record) {
            Ok(_) => self.outputs.push_back(IvrOutput::Voicemail(record)),
            Err(e) => self.outputs.push_back(IvrOutput::MediaFailed {
                what: "voicemail sidecar",
                reason: e.to_string(),
            }),
        }
        self.feed(
            t,
            tandem_ivr::Event::RecordingFinished {
                duration: tandem_ivr::Micros::from_millis(duration_ms),
            },
        )?;
        Ok(())
    }

    fn started_at(&self) -> tandem_ivr::Micros {
        self.session.started_at()
    }

    /// Carries out every action the interpreter queued.
    fn drive(&mut self, engine: &mut dyn MediaEngine) -> Result<(), IvrSessionError> {
        while let Some(action) = self.session.poll_action() {
            match action {
                Action::Play { prompts, .. } => {
                    // Barge-in is the interpreter's: it answers a key with StopPlayback.
                    let mut items = Vec::with_capacity(prompts.len());
                    for name in prompts.iter() {
                        let item = self
                            .config
                            .prompts
                            .item(name)
                            .ok_or_else(|| IvrSessionError::UnknownPrompt(name.to_string()))?;
                        items.push(item.clone());
                    }
                    self.play(engine, items, Playing::Prompts)?;
                }
                Action::StopPlayback => self.stop_play(engine)?,
                Action::CollectDigits { .. } | Action::ArmTimer { .. } => {}
                Action::Record { mailbox, beep, .. } => {
                    self.messages += 1;
                    let path = match voicemail::message_path(
                        &self.config.voicemail_dir,
                        &mailbox,
                        &self.tag,
                        self.messages,
                    ) {
                        Ok(p) => p,
                        Err(e) => {
                            let now = self.session_now();
                            self.recording_failed(now, "voicemail directory", e.to_string())?;
                            continue;
                        }
                    };
                    let now = self.session_now();
                    self.recording = Some(Recording {
                        mailbox,
                        tap: None,
                        path,
                        started: now,
                    });
                    if beep {
                        let item = PlayItem::Tone {
                            plan: BEEP,
                            duration_ms: BEEP_MS,
                        };
                        self.play(engine, vec![item], Playing::Beep)?;
                    } else {
                        self.start_tap(engine, now)?;
                    }
                }
                Action::StopRecording => self.stop_recording(engine)?,
                Action::End(o) => {
                    if self.recording.is_some() {
                        self.stop_recording(engine)?;
                    }
                    if self.plays_outstanding > 0 {
                        self.stop_play(engine)?;
                    }
                    self.outputs.push_back(IvrOutput::Flow(Action::End(o)));
                }
                other => self.outputs.push_back(IvrOutput::Flow(other)),
            }
        }
        Ok(())
    }

    fn session_now(&self) -> tandem_ivr::Micros {
        self.session.now()
    }

    fn stop_recording(&mut self, engine: &mut dyn MediaEngine) -> Result<(), IvrSessionError> {
        let Some(rec) = &self.recording else {
            return Ok(());
        };
        match rec.tap {
            Some(tap) => {
                // Teardown: never lost to a full queue. TapFinished completes it.
                engine.command(Command::StopTap { tap })?;
            }
            None => {
                // Still beeping: nothing was recorded.
                self.recording = None;
                self.stop_play(engine)?;
                let now = self.session_now();
                self.feed(
                    now,
                    tandem_ivr::Event::RecordingFinished {
                        duration: tandem_ivr::Micros::ZERO,
                    },
                )?;
            }
        }
        Ok(())
    }
}
