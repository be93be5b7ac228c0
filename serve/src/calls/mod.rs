//! The call table: what each ng command does to the engine.
//!
//! A call is keyed by Call-ID. An `offer` from the caller (from-tag) creates, per audio
//! stream, two engine channels on one shard: the caller's leg (where the caller will send,
//! advertised in the answer) and the callee's leg (advertised in the rewritten offer). The
//! `answer` (to-tag) fills in the callee's address and codec and bridges the legs; if the
//! callee chose a codec the caller did not offer (μ-law against A-law), each leg keeps its
//! own and the engine transcodes. Forked offers answered by several callees: the latest
//! answer's to-tag takes the callee leg. `delete` destroys both legs, which frees every port.
//!
//! Every request is checked in full before the engine is touched, so a refused request
//! creates nothing: the limits (calls, audio streams per call), media addresses that are
//! the relay's own (a loop), and the size of the reply against the transport's budget
//! (a rewritten SDP that would not fit in one UDP datagram). Time is given with each
//! request ([`RequestCtx`]), never read here.
//!
//! Releasing things (destroying channels, stopping recordings) goes through a teardown
//! list that keeps what the engine could not take yet and retries it first, so a delete is
//! never lost (see `media::Teardown`). Statistics in `query` and `delete` replies are read
//! from the engine at request time.

mod media;
mod offer;
mod recording;
mod report;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use tandem_engine::{
    ChannelId, ChannelInfo, ChannelStats, Codec, Command, Event, GroupKey, Latching, MediaFilter,
    PlayItem, PlaySpec, PlayTarget, PromptCache, TapId,
};

pub use self::media::Media;
use self::media::Teardown;
pub use self::recording::recording_path;
use self::recording::{Recording, RecordingOp};
use crate::bencode::Value;
use crate::ng::{Params, error_reply};
use crate::own::OwnAddresses;

/// Settings of the call table.
#[derive(Clone, Debug)]
pub struct CallsConfig {
    /// The address put into rewritten SDP (the media interface).
    pub media_ip: IpAddr,
    /// Where recordings go.
    pub recording_dir: PathBuf,
    /// Media timeout, seconds (0: none).
    pub timeout_s: u32,
    /// Most calls at once (rtpengine's `max-sessions`); an offer for a new call beyond it
    /// is refused.
    pub max_sessions: usize,
    /// Most audio streams (m-lines) in one call; an offer with more is refused.
    pub max_streams_per_call: usize,
    /// The control and metrics listeners: a media address naming one is refused (the
    /// media ports come from the engine).
    pub listeners: Vec<SocketAddr>,
    /// When a new source may take over a stream.
    pub latching: Latching,
}

impl CallsConfig {
    /// Settings with the defaults: a 60 s media timeout, 10,000 calls, 16 streams per call.
    pub fn new(media_ip: IpAddr, recording_dir: PathBuf) -> CallsConfig {
        CallsConfig {
            media_ip,
            recording_dir,
            timeout_s: 60,
            max_sessions: 10_000,
            max_streams_per_call: 16,
            listeners: Vec::new(),
            latching: Latching::default(),
        }
    }
}

/// What a request carries besides its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestCtx {
    /// Unix time of the request, seconds.
    pub now_unix_s: u64,
    /// Largest encoded reply body the transport can carry (a UDP datagram less the cookie),
    /// or `None` for no limit.
    pub reply_budget: Option<usize>,
}

impl RequestCtx {
    /// A request at `now_unix_s` with no reply limit.
    pub fn at(now_unix_s: u64) -> RequestCtx {
        RequestCtx {
            now_unix_s,
            reply_budget: None,
        }
    }
}

/// One audio stream of a call.
#[derive(Clone, Debug)]
struct Stream {
    /// m-line index in the offer.
    index: usize,
    /// Leg the caller sends to (its address goes into the answer).
    caller_leg: ChannelInfo,
    /// Leg the callee sends to (its address goes into the offer).
    callee_leg: ChannelInfo,
    /// The caller's offered G.711 formats and telephone-event, as (pt, encoding).
    offered: Vec<(String, String)>,
    caller_codec: Codec,
    caller_te: Option<u8>,
    mux: bool,
}

#[derive(Clone, Debug)]
struct Call {
    group: GroupKey,
    created_s: u64,
    last_signal_s: u64,
    from_tag: String,
    to_tag: Option<String>,
    streams: Vec<Stream>,
    /// Whether the call is to be recorded (from the offer's flags or `start recording`).
    record: bool,
    /// The current or last recording segment.
    recording: Option<Recording>,
    /// Segments started so far.
    segments: u32,
    /// Legs whose media timed out and has not resumed.
    timed_out: Vec<ChannelId>,
}

impl Call {
    fn channels(&self) -> impl Iterator<Item = ChannelId> + '_ {
        self.streams
            .iter()
            .flat_map(|s| [s.caller_leg.id, s.callee_leg.id])
    }

    /// The legs a tag's party sends to (its media is received there), or hears from.
    fn legs_of(&self, tag: &str) -> Option<Vec<ChannelId>> {
        if tag == self.from_tag {
            Some(self.streams.iter().map(|s| s.caller_leg.id).collect())
        } else if self.to_tag.as_deref() == Some(tag) {
            Some(self.streams.iter().map(|s| s.callee_leg.id).collect())
        } else {
            None
        }
    }
}

/// Totals since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Calls created.
    pub calls_created: u64,
    /// Calls deleted (by command or timeout).
    pub calls_deleted: u64,
    /// Calls deleted by media timeout.
    pub calls_timed_out: u64,
    /// Recordings started (one per segment).
    pub recordings: u64,
    /// Recordings that failed (the file could not be created or written).
    pub recordings_failed: u64,
    /// Offers refused for a limit (calls or streams per call).
    pub refused_limit: u64,
    /// Offers and answers refused because a media address was the relay's own.
    pub refused_loop: u64,
    /// Requests whose reply would not fit the transport (answered with an error).
    pub replies_too_large: u64,
    /// Teardown commands the engine could not take at once (queued and retried).
    pub teardown_deferred: u64,
    /// Teardown commands the engine refused for good (it had shut down).
    pub teardown_failed: u64,
}

/// The call table.
pub struct Calls {
    cfg: CallsConfig,
    calls: BTreeMap<String, Call>,
    stats: HashMap<ChannelId, ChannelStats>,
    filters: HashMap<ChannelId, MediaFilter>,
    prompts: PromptCache,
    next_group: u64,
    totals: Totals,
    teardown: Teardown,
}

/// A reply built from a result: `Ok(dict)` gets `result: ok`, `Err(reason)` an error reply.
fn finish(r: Result<Value, String>) -> Value {
    match r {
        Ok(v) => match v.get("result") {
            Some(_) => v,
            None => {
                let mut out = Value::dict().with("result", Value::str("ok"));
                if let (Value::Dict(o), Value::Dict(items)) = (&mut out, v) {
                    o.extend(items);
                }
                out
            }
        },
        Err(reason) => error_reply(&reason),
    }
}

/// Length of a value's encoding.
fn encoded_len(v: &Value) -> usize {
    let mut out = Vec::new();
    v.encode(&mut out);
    out.len()
}

/// Checks that a successful reply would fit the budget.
fn check_fits(reply: Value, budget: Option<usize>) -> Result<(), String> {
    let Some(budget) = budget else {
        return Ok(());
    };
    let n = encoded_len(&finish(Ok(reply)));
    if n > budget {
        return Err(format!(
            "the reply would be {n} bytes, more than the transport's limit of {budget} bytes"
        ));
    }
    Ok(())
}

impl Calls {
    /// An empty table.
    pub fn new(cfg: CallsConfig) -> Calls {
        Calls {
            cfg,
            calls: BTreeMap::new(),
            stats: HashMap::new(),
            filters: HashMap::new(),
            prompts: PromptCache::new(),
            next_group: 1,
            totals: Totals::default(),
            teardown: Teardown::default(),
        }
    }

    /// Calls in the table.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Totals since start.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Teardown commands waiting for the engine to take them.
    pub fn teardown_pending(&self) -> usize {
        self.teardown.len()
    }

    /// Every channel of every call.
    pub fn channels(&self) -> Vec<ChannelId> {
        self.calls.values().flat_map(Call::channels).collect()
    }

    /// The statistics of live channels as of the last read ([`refresh_stats`] or a
    /// `query`/`delete`).
    ///
    /// [`refresh_stats`]: Calls::refresh_stats
    pub fn channel_stats(&self) -> impl Iterator<Item = &ChannelStats> {
        self.stats.values()
    }

    /// Reads every live channel's statistics from the engine (one request per shard) and
    /// retries waiting teardown commands. For periodic metrics.
    pub fn refresh_stats(&mut self, media: &mut dyn Media) {
        self.teardown.retry(media, &mut self.totals);
        let channels = self.channels();
        self.read_stats(media, &channels);
    }

    /// Reads the statistics of `channels` into the cache; on failure the cache keeps its
    /// older figures.
    fn read_stats(&mut self, media: &mut dyn Media, channels: &[ChannelId]) {
        if channels.is_empty() {
            return;
        }
        match media.read_stats(channels) {
            Ok(read) => self.stats.extend(read),
            Err(e) => tracing::warn!(error = %e, "statistics read failed; using older figures"),
        }
    }

    /// Carries out one request and returns the reply dictionary, which always fits
    /// `ctx.reply_budget`.
    pub fn handle(&mut self, media: &mut dyn Media, body: &Value, ctx: &RequestCtx) -> Value {
        self.teardown.retry(media, &mut self.totals);
        let p = Params::from_body(body);
        tracing::info!(command = %p.command, call_id = ?p.call_id, "ng command");
        let r = match p.command.as_str() {
            "ping" => return Value::dict().with("result", Value::str("pong")),
            "offer" => self.offer(media, &p, ctx),
            "answer" => self.answer(media, &p, ctx),
            "delete" => self.delete(media, &p),
            "query" => self.query(media, &p),
            "list" => Ok(self.list(&p, ctx.reply_budget)),
            "statistics" => Ok(self.statistics()),
            "start recording" => self.recording(media, &p, RecordingOp::Start, ctx),
            "stop recording" => self.recording(media, &p, RecordingOp::Stop, ctx),
            "pause recording" => self.recording(media, &p, RecordingOp::Pause, ctx),
            "play media" => self.play_media(media, &p),
            "stop media" => self.stop_media(media, &p),
            "play dtmf" => self.play_dtmf(media, &p),
            "block dtmf" => self.filter(media, &p, |f| f.block_dtmf = true),
            "unblock dtmf" => self.filter(media, &p, |f| f.block_dtmf = false),
            "block media" => self.filter(media, &p, |f| f.block_audio = true),
            "unblock media" => self.filter(media, &p, |f| {
                f.block_audio = false;
                f.silence_audio = false;
            }),
            "silence media" => self.filter(media, &p, |f| f.silence_audio = true),
            "" => Err("no command".into()),
            other => Err(format!("unknown command '{other}'")),
        };
        let reply = finish(r);
        match ctx.reply_budget {
            Some(budget) if encoded_len(&reply) > budget => {
                self.totals.replies_too_large += 1;
                tracing::warn!(command = %p.command, budget, "reply too large for the transport");
                error_reply(&format!(
                    "the reply to '{}' would not fit the transport's limit of {budget} bytes",
                    p.command
                ))
            }
            _ => reply,
        }
    }

    fn call_mut(&mut self, p: &Params) -> Result<&mut Call, String> {
        let id = p.call_id.as_deref().ok_or("no call-id")?;
        self.calls
            .get_mut(id)
            .ok_or_else(|| "Unknown call-id".to_string())
    }

    /// The addresses a party's media must not name.
    fn own_addresses(&self, media: &dyn Media) -> OwnAddresses {
        OwnAddresses {
            media: media.media_addresses(),
            listeners: self.cfg.listeners.clone(),
        }
    }

    /// Refuses a media address that is the relay's own.
    fn check_not_own(
        &mut self,
        media: &dyn Media,
        own: &OwnAddresses,
        remote: SocketAddr,
    ) -> Result<(), String> {
        match own.owner_of(remote, &|a| media.holds(a)) {
            Some(what) => {
                self.totals.refused_loop += 1;
                tracing::warn!(%remote, what, "media address is the relay's own: refused");
                Err(format!(
                    "media address {remote} is one of this relay's own addresses ({what}): \
                     media would loop"
                ))
            }
            None => Ok(()),
        }
    }

    fn delete(&mut self, media: &mut dyn Media, p: &Params) -> Result<Value, String> {
        let id = p.call_id.clone().ok_or("no call-id")?;
        let channels: Vec<ChannelId> = self
            .calls
            .get(&id)
            .ok_or("Unknown call-id")?
            .channels()
            .collect();
        self.read_stats(media, &channels);
        let report = self.call_report(&id, &self.calls[&id]);
        self.remove(media, &id);
        Ok(report)
    }

    /// Takes a call out of the table and releases everything it holds in the engine.
    fn remove(&mut self, media: &mut dyn Media, id: &str) {
        let Some(call) = self.calls.remove(id) else {
            return;
        };
        if let Some(tap) = call.recording.as_ref().and_then(Recording::live_tap) {
            self.teardown
                .send(media, Command::StopTap { tap }, &mut self.totals);
        }
        for ch in call.channels() {
            self.teardown.send(
                media,
                Command::DestroyChannel { channel: ch },
                &mut self.totals,
            );
            self.stats.remove(&ch);
            self.filters.remove(&ch);
        }
        self.totals.calls_deleted += 1;
    }

    /// The legs whose party is named by from-tag (the party that hears a player, or whose
    /// media a filter holds back); the caller's by default.
    fn party_legs(&mut self, p: &Params) -> Result<Vec<ChannelId>, String> {
        let call = self.call_mut(p)?;
        match &p.from_tag {
            Some(tag) => call
                .legs_of(tag)
                .ok_or_else(|| format!("unknown tag '{tag}'")),
            None => Ok(call.streams.iter().map(|s| s.caller_leg.id).collect()),
        }
    }

    fn play_media(&mut self, media: &mut dyn Media, p: &Params) -> Result<Value, String> {
        let file = p
            .file
            .as_deref()
            .ok_or("no file (only file playback is supported)")?;
        let prompt = self.prompts.get(std::path::Path::new(file))?;
        let legs = self.party_legs(p)?;
        let repeat = p.repeat_times.unwrap_or(1).clamp(1, 1000) as usize;
        let items = vec![PlayItem::Prompt(Arc::clone(&prompt)); repeat];
        for ch in legs {
            let spec = PlaySpec::once(items.clone());
            media
                .command(Command::Play {
                    target: PlayTarget::Channel(ch),
                    spec,
                })
                .map_err(|e| e.to_string())?;
        }
        Ok(Value::dict().with(
            "duration",
            Value::Int((prompt.duration_ms() * repeat as u64) as i64),
        ))
    }

    fn stop_media(&mut self, media: &mut dyn Media, p: &Params) -> Result<Value, String> {
        for ch in self.party_legs(p)? {
            media
                .command(Command::StopPlay {
                    target: PlayTarget::Channel(ch),
                })
                .map_err(|e| e.to_string())?;
        }
        Ok(Value::dict())
    }

    fn play_dtmf(&mut self, media: &mut dyn Media, p: &Params) -> Result<Value, String> {
        let code = p.code.clone().ok_or("no code")?;
        let digits: String = match code.parse::<u8>() {
            Ok(n) if code.len() > 1 || n > 9 => tandem_codecs::telephone_event::event_to_char(n)
                .map(String::from)
                .ok_or("bad code")?,
            _ => code,
        };
        if digits.is_empty()
            || !digits
                .chars()
                .all(|c| tandem_codecs::telephone_event::char_to_event(c).is_some())
        {
            return Err(format!("bad DTMF code '{digits}'"));
        }
        for ch in self.party_legs(p)? {
            let spec = PlaySpec::once(vec![PlayItem::Digits {
                digits: digits.clone(),
                inband: false,
            }]);
            media
                .command(Command::Play {
                    target: PlayTarget::Channel(ch),
                    spec,
                })
                .map_err(|e| e.to_string())?;
        }
        Ok(Value::dict())
    }

    /// Applies a filter change to the media the named party sends.
    fn filter(
        &mut self,
        media: &mut dyn Media,
        p: &Params,
        change: impl Fn(&mut MediaFilter),
    ) -> Result<Value, String> {
        let legs = self.party_legs(p)?;
        for ch in legs {
            let mut f = self.filters.get(&ch).copied().unwrap_or_default();
            change(&mut f);
            self.filters.insert(ch, f);
            media
                .command(Command::SetFilter {
                    channel: ch,
                    filter: f,
                })
                .map_err(|e| e.to_string())?;
        }
        Ok(Value::dict())
    }

    /// The call a channel belongs to.
    fn call_of(&mut self, channel: ChannelId) -> Option<(&String, &mut Call)> {
        self.calls
            .iter_mut()
            .find(|(_, c)| c.channels().any(|x| x == channel))
    }

    /// Folds an engine event into the table. Returns the Call-ID deleted for a media
    /// timeout, if any.
    pub fn on_event(&mut self, media: &mut dyn Media, e: &Event) -> Option<String> {
        self.teardown.retry(media, &mut self.totals);
        match e {
            Event::MediaTimeout { channel, .. } => {
                let (id, call) = self.call_of(*channel)?;
                if !call.timed_out.contains(channel) {
                    call.timed_out.push(*channel);
                }
                // Every leg silent at once: the call is dead.
                if call.channels().all(|ch| call.timed_out.contains(&ch)) {
                    let id = id.clone();
                    tracing::info!(call_id = %id, "media timeout: deleting call");
                    self.remove(media, &id);
                    self.totals.calls_timed_out += 1;
                    return Some(id);
                }
                None
            }
            Event::MediaResumed { channel } => {
                let (_, call) = self.call_of(*channel)?;
                call.timed_out.retain(|c| c != channel);
                None
            }
            Event::TapFailed { tap, reason } => {
                self.recording_failed(*tap, reason);
                None
            }
            _ => None,
        }
    }

    /// Shuts the table down: stops every recording and deletes every call. Returns the
    /// recordings stopped; each ends with `Event::TapFinished` (or `TapFailed`) once its
    /// file is complete, which the caller waits for.
    pub fn drain(&mut self, media: &mut dyn Media) -> Vec<TapId> {
        let taps: Vec<TapId> = self
            .calls
            .values()
            .filter_map(|c| c.recording.as_ref().and_then(Recording::live_tap))
            .collect();
        let ids: Vec<String> = self.calls.keys().cloned().collect();
        for id in ids {
            self.remove(media, &id);
        }
        taps
    }
}
