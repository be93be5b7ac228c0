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
//! Every request is first read through the option table (`crate::ng::options`): a name that
//! is unknown or refused makes it an error that changes nothing. It is then checked in full
//! before the engine is touched, so a refused request creates nothing: the limits (calls,
//! audio streams per call), media addresses that are the relay's own (a loop), and the size
//! of the reply against the transport's budget. Time is given with each request
//! ([`RequestCtx`]), never read here.
//!
//! Releasing things (destroying channels, stopping recordings) goes through a teardown
//! list that keeps what the engine could not take yet and retries it first, so a delete is
//! never lost (see `teardown::Teardown`). Statistics in `query` and `delete` replies are read
//! from the engine at request time.

mod answer;
mod codecs;
mod delete;
mod dtmf_log;
mod events;
mod offer;
mod plan;
mod recording;
mod report;
mod rewrite;
mod sdes;
mod select;
mod sidecar;
mod teardown;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use tandem_engine::MediaEngine;
use tandem_engine::{
    ChannelId, ChannelInfo, ChannelStats, Codec, Command, EngineError, GroupKey, Latching,
    MediaFilter, PromptCache, TapId,
};

use self::codecs::CodecPlan;
pub use self::recording::recording_path;
use self::recording::{RecordingLog, RecordingOp};
use self::rewrite::OriginState;
use self::teardown::Teardown;
use crate::bencode::Value;
use crate::ng::{Params, Strictness, error_reply};
use crate::own::OwnAddresses;

/// Settings of the call table.
#[derive(Clone, Debug)]
pub struct CallsConfig {
    /// The address put into rewritten SDP (the media interface).
    pub media_ip: IpAddr,
    /// The media interface's name (`direction` and the `…-interface` keys must name it).
    pub interface_name: String,
    /// Where recordings go.
    pub recording_dir: PathBuf,
    /// Other directories `output-destination` and `recording-dir` may name.
    pub recording_allowed_dirs: Vec<PathBuf>,
    /// Media timeout, seconds (0: none).
    pub timeout_s: u32,
    /// Most calls at once (rtpengine's `max-sessions`); an offer for a new call beyond it
    /// is refused.
    pub max_sessions: usize,
    /// Most audio streams (m-lines) in one call; an offer with more is refused.
    pub max_streams_per_call: usize,
    /// The UDP control listeners: a media address naming one is refused (the media ports
    /// come from the engine; TCP listeners cannot receive UDP media).
    pub listeners: Vec<SocketAddr>,
    /// When a new source may take over a stream.
    pub latching: Latching,
    /// How strictly request names are checked.
    pub strictness: Strictness,
}

impl CallsConfig {
    /// Settings with the defaults: a 60 s media timeout, 10,000 calls, 16 streams per call,
    /// the interface named `default`.
    pub fn new(media_ip: IpAddr, recording_dir: PathBuf) -> CallsConfig {
        CallsConfig {
            media_ip,
            interface_name: "default".into(),
            recording_dir,
            recording_allowed_dirs: Vec::new(),
            timeout_s: 60,
            max_sessions: 10_000,
            max_streams_per_call: 16,
            listeners: Vec::new(),
            latching: Latching::default(),
            strictness: Strictness::default(),
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

/// Most bytes of a party's SDP kept for the recording metadata (longer ones are cut).
const SDP_KEEP: usize = 16 * 1024;

/// One side of a call.
#[derive(Clone, Debug, Default)]
struct Party {
    tag: String,
    label: Option<String>,
    created_s: u64,
    /// The SDP this party sent (at most [`SDP_KEEP`] bytes).
    sdp: Option<String>,
    /// The address its SDP named for the first audio stream.
    advertised: Option<IpAddr>,
    /// What is held back from this party's media (block/silence for this party).
    filter: MediaFilter,
}

impl Party {
    fn new(tag: &str, now: u64) -> Party {
        Party {
            tag: tag.to_string(),
            created_s: now,
            ..Party::default()
        }
    }

    fn keep_sdp(&mut self, sdp: &str) {
        let mut end = sdp.len().min(SDP_KEEP);
        while !sdp.is_char_boundary(end) {
            end -= 1;
        }
        self.sdp = Some(sdp[..end].to_string());
    }
}

/// Which side of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Caller,
    Callee,
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
    /// The codecs of the offer, as planned.
    plan: CodecPlan,
    caller_codec: Codec,
    callee_codec: Option<Codec>,
    caller_te: Option<u8>,
    caller_mux: bool,
    callee_mux: bool,
    caller_remote: Option<SocketAddr>,
    callee_remote: Option<SocketAddr>,
    /// The transport protocol the caller offered.
    offered_proto: String,
    /// The ptime the caller sends with.
    caller_ptime: u32,
    /// The ptime the caller is sent (`ptime-reverse` or `repacketize`), put in the answer.
    ptime_reverse: Option<u32>,
    /// The relay's `a=crypto` line in the answer to an SRTP caller.
    caller_crypto: Option<tandem_srtp::sdes::Crypto>,
    /// The `a=crypto` lines offered to the callee (none: plain RTP towards the callee).
    callee_offer: Vec<tandem_srtp::sdes::Crypto>,
    /// Keys a re-offer gave the caller leg, applied with the answer (when the caller gets
    /// the relay's new key).
    caller_rekey: Option<Option<tandem_engine::SrtpKeys>>,
    /// The callee leg's keys from the last answer (an answer repeated with the same line
    /// keeps the leg's contexts, so no key stream is used twice).
    callee_keys: Option<tandem_engine::SrtpKeys>,
    /// The ptime the callee is sent when it differs from the caller's (`ptime` or
    /// `repacketize`): the callee's leg re-frames to it.
    to_callee_ptime: Option<u32>,
}

impl Stream {
    fn leg(&self, side: Side) -> ChannelId {
        match side {
            Side::Caller => self.caller_leg.id,
            Side::Callee => self.callee_leg.id,
        }
    }
}

#[derive(Clone, Debug)]
struct Call {
    group: GroupKey,
    created_s: u64,
    last_signal_s: u64,
    caller: Party,
    callee: Option<Party>,
    streams: Vec<Stream>,
    /// Whether the call is to be recorded (from the offer's flags or `start recording`).
    record: bool,
    /// Segments recorded, the metadata file and where files go.
    recording: RecordingLog,
    /// The ng `metadata`.
    metadata: Option<String>,
    /// Legs whose media timed out and has not resumed.
    timed_out: Vec<ChannelId>,
    /// What is held back from everyone's media (block/silence for the whole call).
    call_filter: MediaFilter,
    /// `drop-traffic` = `start`.
    drop_traffic: bool,
    /// When a delayed delete is due (Unix seconds).
    delete_at: Option<u64>,
    /// Where each digit is logged.
    dtmf_log: Option<SocketAddr>,
    /// In-band DTMF detection on both legs (`detect DTMF` in the offer).
    inband_dtmf: bool,
    /// The callee's label, given with the offer (`to-label`) before the callee is known.
    callee_label: Option<String>,
    /// What the relay last sent the callee and the caller (the `replace` options).
    to_callee: OriginState,
    to_caller: OriginState,
}

impl Call {
    fn channels(&self) -> impl Iterator<Item = ChannelId> + '_ {
        self.streams
            .iter()
            .flat_map(|s| [s.caller_leg.id, s.callee_leg.id])
    }

    fn party(&self, side: Side) -> Option<&Party> {
        match side {
            Side::Caller => Some(&self.caller),
            Side::Callee => self.callee.as_ref(),
        }
    }

    fn party_mut(&mut self, side: Side) -> Option<&mut Party> {
        match side {
            Side::Caller => Some(&mut self.caller),
            Side::Callee => self.callee.as_mut(),
        }
    }

    /// The side a tag names.
    fn side_of_tag(&self, tag: &str) -> Option<Side> {
        if tag == self.caller.tag {
            Some(Side::Caller)
        } else if self.callee.as_ref().is_some_and(|c| c.tag == tag) {
            Some(Side::Callee)
        } else {
            None
        }
    }

    /// The side and stream a channel belongs to.
    fn side_of_channel(&self, ch: ChannelId) -> Option<(Side, &Stream)> {
        self.streams.iter().find_map(|s| {
            if s.caller_leg.id == ch {
                Some((Side::Caller, s))
            } else if s.callee_leg.id == ch {
                Some((Side::Callee, s))
            } else {
                None
            }
        })
    }

    /// The filter in force on a party's media: the call's and the party's together.
    fn effective_filter(&self, side: Side) -> MediaFilter {
        let own = self.party(side).map(|p| p.filter).unwrap_or_default();
        let c = self.call_filter;
        MediaFilter {
            block_audio: c.block_audio || own.block_audio || self.drop_traffic,
            silence_audio: c.silence_audio || own.silence_audio,
            block_dtmf: c.block_dtmf || own.block_dtmf || self.drop_traffic,
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
    /// Writes of recording metadata files that failed.
    pub metadata_failed: u64,
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
    /// Delayed deletes: when, and which call.
    delayed: BTreeSet<(u64, String)>,
    stats: HashMap<ChannelId, ChannelStats>,
    /// Where each leg's media last came from (latched sources).
    sources: HashMap<ChannelId, SocketAddr>,
    /// Per leg: packets counted at the last read, and when they last grew (Unix s).
    last_packet: HashMap<ChannelId, (u64, u64)>,
    prompts: PromptCache,
    next_group: u64,
    totals: Totals,
    teardown: Teardown,
    /// DTMF log datagrams waiting to be sent.
    dtmf_out: Vec<(SocketAddr, Vec<u8>)>,
    /// Segments of deleted calls still being completed, whose metadata or files are to
    /// be updated.
    finishing: HashMap<TapId, sidecar::Finishing>,
    /// The metadata of those calls.
    closing_docs: sidecar::ClosingDocs,
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

/// An engine error as a reply text. Running out of ports uses rtpengine's words, which a
/// proxy module takes as "try another relay".
fn engine_err(e: EngineError) -> String {
    match e {
        EngineError::NoFreePort(_) => "Ran out of ports".into(),
        other => other.to_string(),
    }
}

impl Calls {
    /// An empty table.
    pub fn new(cfg: CallsConfig) -> Calls {
        Calls {
            cfg,
            calls: BTreeMap::new(),
            delayed: BTreeSet::new(),
            stats: HashMap::new(),
            sources: HashMap::new(),
            last_packet: HashMap::new(),
            prompts: PromptCache::new(),
            next_group: 1,
            totals: Totals::default(),
            teardown: Teardown::default(),
            dtmf_out: Vec::new(),
            finishing: HashMap::new(),
            closing_docs: HashMap::new(),
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

    /// Whether a call with this Call-ID exists.
    pub fn contains(&self, call_id: &str) -> bool {
        self.calls.contains_key(call_id)
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

    /// DTMF log datagrams to send (`DTMF-log-dest`): destination and JSON payload.
    pub fn take_dtmf_log(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        std::mem::take(&mut self.dtmf_out)
    }

    /// Reads every live channel's statistics from the engine (one request per shard),
    /// retries waiting teardown commands and carries out delayed deletes that are due. For
    /// the periodic housekeeping.
    pub fn refresh_stats(&mut self, media: &mut dyn MediaEngine, now_unix_s: u64) {
        self.teardown.retry(media, &mut self.totals);
        self.expire(media, now_unix_s);
        let channels = self.channels();
        self.read_stats(media, &channels, now_unix_s);
    }

    /// Reads the statistics of `channels` into the cache; on failure the cache keeps its
    /// older figures.
    fn read_stats(&mut self, media: &mut dyn MediaEngine, channels: &[ChannelId], now_unix_s: u64) {
        if channels.is_empty() {
            return;
        }
        match media.read_stats(channels) {
            Ok(read) => {
                for (ch, s) in read {
                    let last = self.last_packet.entry(ch).or_insert((0, 0));
                    if s.packets_received > last.0 {
                        *last = (s.packets_received, now_unix_s);
                    }
                    self.stats.insert(ch, s);
                }
            }
            Err(e) => tracing::warn!(error = %e, "statistics read failed; using older figures"),
        }
    }

    /// Carries out one request and returns the reply dictionary, which always fits
    /// `ctx.reply_budget`.
    pub fn handle(&mut self, media: &mut dyn MediaEngine, body: &Value, ctx: &RequestCtx) -> Value {
        self.teardown.retry(media, &mut self.totals);
        let p = match Params::parse(body, self.cfg.strictness) {
            Ok(p) => p,
            Err(reason) => {
                tracing::info!(%reason, "ng request refused");
                return error_reply(&reason);
            }
        };
        if !p.ignored.is_empty() {
            tracing::warn!(keys = ?p.ignored, "unknown keys ignored (ignore-unknown-keys)");
        }
        tracing::info!(command = %p.command, call_id = ?p.call_id, "ng command");
        let r = match p.command.as_str() {
            "ping" => return Value::dict().with("result", Value::str("pong")),
            "offer" => self.offer(media, &p, ctx),
            "answer" => self.answer(media, &p, ctx),
            "delete" => self.delete(media, &p, ctx),
            "query" => self.query(media, &p, ctx),
            "list" => Ok(self.list(&p, ctx.reply_budget)),
            "statistics" => Ok(self.statistics()),
            "start recording" => self.recording(media, &p, RecordingOp::Start, ctx),
            "stop recording" if p.pause => self.recording(media, &p, RecordingOp::Pause, ctx),
            "stop recording" => self.recording(media, &p, RecordingOp::Stop, ctx),
            "pause recording" => self.recording(media, &p, RecordingOp::Pause, ctx),
            "play media" => self.play_media(media, &p),
            "stop media" => self.stop_media(media, &p),
            "play dtmf" => self.play_dtmf(media, &p),
            "block dtmf" => self.block(media, &p, select::Block::Dtmf, true),
            "unblock dtmf" => self.block(media, &p, select::Block::Dtmf, false),
            "block media" => self.block(media, &p, select::Block::Media, true),
            "unblock media" => self.block(media, &p, select::Block::Media, false),
            "silence media" => self.block(media, &p, select::Block::Silence, true),
            "unsilence media" => self.block(media, &p, select::Block::Silence, false),
            other => Err(format!("command '{other}' has no handler")),
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
    fn own_addresses(&self, media: &dyn MediaEngine) -> OwnAddresses {
        OwnAddresses {
            media: media.media_addresses(),
            listeners: self.cfg.listeners.clone(),
        }
    }

    /// Refuses a media address that is the relay's own.
    fn check_not_own(
        &mut self,
        media: &dyn MediaEngine,
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

    /// Takes a call out of the table and releases everything it holds in the engine.
    fn remove(&mut self, media: &mut dyn MediaEngine, id: &str, now_unix_s: u64) {
        let Some(mut call) = self.calls.remove(id) else {
            return;
        };
        self.revive(id, call.delete_at);
        if let Some(tap) = call.recording.live_tap() {
            self.teardown
                .send(media, Command::StopTap { tap }, &mut self.totals);
        }
        self.close_recording(id, &mut call, now_unix_s);
        for ch in call.channels() {
            self.teardown.send(
                media,
                Command::DestroyChannel { channel: ch },
                &mut self.totals,
            );
            self.stats.remove(&ch);
            self.sources.remove(&ch);
            self.last_packet.remove(&ch);
        }
        self.totals.calls_deleted += 1;
    }
}
