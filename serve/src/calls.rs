//! The call table: what each ng command does to the engine.
//!
//! A call is keyed by Call-ID. An `offer` from the caller (from-tag) creates, per audio
//! stream, two engine channels on one shard: the caller's leg (where the caller will send,
//! advertised in the answer) and the callee's leg (advertised in the rewritten offer). The
//! `answer` (to-tag) fills in the callee's address and codec and bridges the legs; if the
//! callee chose a codec the caller did not offer (μ-law against A-law), each leg keeps its
//! own and the engine transcodes. Forked offers answered by several callees: the latest
//! answer's to-tag takes the callee leg. `delete` destroys both legs, which frees every port.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use tandem_codecs::g711::Law;
use tandem_codecs::wav::Encoding;
use tandem_engine::{
    ChannelId, ChannelInfo, ChannelSpec, ChannelStats, Codec, Command, EngineError, Event,
    GroupKey, MediaFilter, MemoryEngine, PlayItem, PlaySpec, PlayTarget, PromptCache, RtcpMode,
    TapId, TapMode, TapSpec, TapTarget,
};

use crate::bencode::Value;
use crate::ng::{Params, error_reply};
use crate::sdp::{Direction, Sdp};

/// What the call table needs from an engine: the threaded [`tandem_engine::Engine`] in the
/// daemon, the in-memory one in tests.
pub trait Media {
    /// Creates a channel.
    fn create_channel(
        &mut self,
        group: GroupKey,
        spec: ChannelSpec,
    ) -> Result<ChannelInfo, EngineError>;
    /// Applies a command.
    fn command(&mut self, cmd: Command) -> Result<(), EngineError>;
    /// Starts a recording.
    fn start_tap(&mut self, target: TapTarget, spec: TapSpec) -> Result<TapId, EngineError>;
}

impl Media for tandem_engine::Engine {
    fn create_channel(
        &mut self,
        group: GroupKey,
        spec: ChannelSpec,
    ) -> Result<ChannelInfo, EngineError> {
        tandem_engine::Engine::create_channel(self, group, spec)
    }
    fn command(&mut self, cmd: Command) -> Result<(), EngineError> {
        tandem_engine::Engine::command(self, cmd)
    }
    fn start_tap(&mut self, target: TapTarget, spec: TapSpec) -> Result<TapId, EngineError> {
        tandem_engine::Engine::start_tap(self, target, spec)
    }
}

impl Media for MemoryEngine {
    fn create_channel(
        &mut self,
        group: GroupKey,
        spec: ChannelSpec,
    ) -> Result<ChannelInfo, EngineError> {
        MemoryEngine::create_channel(self, group, spec)
    }
    fn command(&mut self, cmd: Command) -> Result<(), EngineError> {
        MemoryEngine::command(self, cmd)
    }
    fn start_tap(&mut self, target: TapTarget, spec: TapSpec) -> Result<TapId, EngineError> {
        MemoryEngine::start_tap(self, target, spec)
    }
}

/// Settings of the call table.
#[derive(Clone, Debug)]
pub struct CallsConfig {
    /// The address put into rewritten SDP (the media interface).
    pub media_ip: IpAddr,
    /// Where recordings go.
    pub recording_dir: PathBuf,
    /// Media timeout, seconds (0: none).
    pub timeout_s: u32,
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
    record: bool,
    tap: Option<TapId>,
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
    /// Recordings started.
    pub recordings: u64,
}

/// The call table.
pub struct Calls {
    cfg: CallsConfig,
    calls: HashMap<String, Call>,
    stats: HashMap<ChannelId, ChannelStats>,
    filters: HashMap<ChannelId, MediaFilter>,
    prompts: PromptCache,
    next_group: u64,
    totals: Totals,
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

fn codec_of(encoding: &str, pt: u8) -> Option<Codec> {
    match encoding.split('/').next()? {
        "PCMU" => Some(Codec {
            law: Law::Ulaw,
            payload_type: pt,
        }),
        "PCMA" => Some(Codec {
            law: Law::Alaw,
            payload_type: pt,
        }),
        _ => None,
    }
}

/// The G.711 and telephone-event formats of media `i`, in offer order.
fn usable_formats(sdp: &Sdp, i: usize) -> Vec<(String, String)> {
    let m = &sdp.media[i];
    m.formats
        .iter()
        .filter_map(|pt| {
            let enc = sdp.encoding(i, pt)?;
            let name = enc.split('/').next().unwrap_or("");
            matches!(name, "PCMU" | "PCMA" | "TELEPHONE-EVENT").then(|| (pt.clone(), enc))
        })
        .collect()
}

fn first_codec(formats: &[(String, String)]) -> Option<Codec> {
    formats
        .iter()
        .find_map(|(pt, enc)| codec_of(enc, pt.parse().ok()?))
}

fn telephone_event(formats: &[(String, String)]) -> Option<u8> {
    formats
        .iter()
        .find(|(_, enc)| enc.starts_with("TELEPHONE-EVENT"))
        .and_then(|(pt, _)| pt.parse().ok())
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Calls {
    /// An empty table.
    pub fn new(cfg: CallsConfig) -> Calls {
        Calls {
            cfg,
            calls: HashMap::new(),
            stats: HashMap::new(),
            filters: HashMap::new(),
            prompts: PromptCache::new(),
            next_group: 1,
            totals: Totals::default(),
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

    /// Every channel of every call (for periodic statistics queries).
    pub fn channels(&self) -> Vec<ChannelId> {
        self.calls.values().flat_map(Call::channels).collect()
    }

    /// The latest statistics of live channels.
    pub fn channel_stats(&self) -> impl Iterator<Item = &ChannelStats> {
        self.stats.values()
    }

    /// Carries out one request and returns the reply dictionary.
    pub fn handle(&mut self, media: &mut dyn Media, body: &Value) -> Value {
        let p = Params::from_body(body);
        tracing::info!(command = %p.command, call_id = ?p.call_id, "ng command");
        let r = match p.command.as_str() {
            "ping" => return Value::dict().with("result", Value::str("pong")),
            "offer" => self.offer(media, &p),
            "answer" => self.answer(media, &p),
            "delete" => self.delete(media, &p),
            "query" => self.query(&p),
            "list" => Ok(self.list(&p)),
            "statistics" => Ok(self.statistics()),
            "start recording" => self.recording(media, &p, RecordingOp::Start),
            "stop recording" => self.recording(media, &p, RecordingOp::Stop),
            "pause recording" => self.recording(media, &p, RecordingOp::Pause),
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
        finish(r)
    }

    fn call_mut(&mut self, p: &Params) -> Result<&mut Call, String> {
        let id = p.call_id.as_deref().ok_or("no call-id")?;
        self.calls
            .get_mut(id)
            .ok_or_else(|| "Unknown call-id".to_string())
    }

    fn offer(&mut self, media: &mut dyn Media, p: &Params) -> Result<Value, String> {
        let call_id = p.call_id.clone().ok_or("no call-id")?;
        let from_tag = p.from_tag.clone().ok_or("no from-tag")?;
        let mut sdp = Sdp::parse(p.sdp.as_deref().ok_or("no sdp")?).map_err(|e| e.to_string())?;
        let now = now_unix();
        // A re-offer from the same side (re-INVITE) keeps the ports and updates addresses.
        let existing = self
            .calls
            .get(&call_id)
            .filter(|c| c.from_tag == from_tag)
            .cloned();
        let group = existing.as_ref().map_or_else(
            || {
                self.next_group += 1;
                GroupKey(self.next_group)
            },
            |c| c.group,
        );
        let mut streams = Vec::new();
        let mut created: Vec<ChannelId> = Vec::new();
        let result = (|| -> Result<(), String> {
            for i in 0..sdp.media.len() {
                let m = &sdp.media[i];
                let audio =
                    m.kind == "audio" && m.proto.contains("RTP/AVP") && !m.proto.contains("SAVP");
                if !audio {
                    if !p.flag("pass non audio") {
                        sdp.media[i].port = 0; // rejected
                    }
                    continue;
                }
                let formats = usable_formats(&sdp, i);
                let codec =
                    first_codec(&formats).ok_or("no supported codec (PCMU or PCMA) in offer")?;
                let te = telephone_event(&formats);
                let ip = if p.flag("sip source address") {
                    p.received_from
                } else {
                    sdp.connection(i)
                };
                let ip = ip.ok_or("no connection address")?;
                let port = sdp.media[i].port;
                let remote = (port != 0).then(|| SocketAddr::new(ip, port));
                let ptime = sdp
                    .attribute(i, "ptime")
                    .and_then(|v| v.trim().parse().ok())
                    .filter(|&v: &u32| (10..=200).contains(&v));
                let mux = sdp.has_attribute(i, "rtcp-mux");
                let spec = ChannelSpec {
                    codec,
                    telephone_event_pt: te,
                    ptime_ms: ptime.unwrap_or(20),
                    remote,
                    strict_source: p.flag("strict source"),
                    rtcp: if mux {
                        RtcpMode::Mux
                    } else {
                        RtcpMode::Companion
                    },
                    media_timeout_ms: self.cfg.timeout_s * 1000,
                    ..ChannelSpec::default()
                };
                let old = existing
                    .as_ref()
                    .and_then(|c| c.streams.iter().find(|s| s.index == i));
                let stream = match old {
                    Some(s) => {
                        if let Some(r) = remote {
                            media
                                .command(Command::SetRemote {
                                    channel: s.caller_leg.id,
                                    remote: r,
                                })
                                .map_err(|e| e.to_string())?;
                        }
                        Stream {
                            offered: formats.clone(),
                            ..s.clone()
                        }
                    }
                    None => {
                        let caller_leg = media
                            .create_channel(group, spec.clone())
                            .map_err(|e| e.to_string())?;
                        created.push(caller_leg.id);
                        let callee_spec = ChannelSpec {
                            remote: None,
                            strict_source: false,
                            ..spec
                        };
                        let callee_leg = media
                            .create_channel(group, callee_spec)
                            .map_err(|e| e.to_string())?;
                        created.push(callee_leg.id);
                        Stream {
                            index: i,
                            caller_leg,
                            callee_leg,
                            offered: formats.clone(),
                            caller_codec: codec,
                            caller_te: te,
                            mux,
                        }
                    }
                };
                // Rewrite this stream towards the callee: our callee leg, the caller's codecs
                // plus any the flags ask us to transcode to.
                let mut formats = formats;
                for name in &p.transcode {
                    let (pt, enc) = match name.as_str() {
                        "PCMU" => ("0", "PCMU/8000"),
                        "PCMA" => ("8", "PCMA/8000"),
                        _ => continue,
                    };
                    if !formats.iter().any(|(_, e)| e.starts_with(name.as_str())) {
                        formats.insert(
                            formats.len() - usize::from(te.is_some()),
                            (pt.into(), enc.into()),
                        );
                    }
                }
                let sm = &mut sdp.media[i];
                if sm.port != 0 {
                    sm.port = stream.callee_leg.local.port();
                }
                sdp.set_formats(i, &formats);
                if mux {
                    sdp.remove_attribute(i, "rtcp");
                } else if sdp.has_attribute(i, "rtcp") {
                    let rtcp = stream.callee_leg.local.port() + 1;
                    sdp.set_attribute(i, "rtcp", Some(&rtcp.to_string()));
                }
                if let Some(tp) = &p.transport_protocol {
                    sdp.media[i].proto = tp.clone();
                }
                streams.push(stream);
            }
            Ok(())
        })();
        if let Err(e) = result {
            for id in created {
                let _ = media.command(Command::DestroyChannel { channel: id });
            }
            return Err(e);
        }
        if streams.is_empty() {
            return Err("no audio stream in offer".into());
        }
        self.rewrite_common(&mut sdp, p);
        let record = p.record_call.unwrap_or(false) || p.flag("record call");
        let call = Call {
            group,
            created_s: existing.as_ref().map_or(now, |c| c.created_s),
            last_signal_s: now,
            from_tag,
            to_tag: existing.as_ref().and_then(|c| c.to_tag.clone()),
            streams,
            record: record || existing.as_ref().is_some_and(|c| c.record),
            tap: existing.as_ref().and_then(|c| c.tap),
            timed_out: Vec::new(),
        };
        if existing.is_none() {
            self.totals.calls_created += 1;
        }
        self.calls.insert(call_id, call);
        Ok(Value::dict().with("sdp", Value::str(&sdp.to_string())))
    }

    /// Address, origin and ICE rewriting common to offers and answers.
    fn rewrite_common(&self, sdp: &mut Sdp, p: &Params) {
        sdp.set_connection(self.cfg.media_ip);
        if p.replace.iter().any(|r| r == "origin") {
            sdp.set_origin_address(self.cfg.media_ip);
        }
        // Tandem does not do ICE: candidates left in would let the endpoints bypass it.
        sdp.remove_ice();
    }

    fn answer(&mut self, media: &mut dyn Media, p: &Params) -> Result<Value, String> {
        let to_tag = p.to_tag.clone().ok_or("no to-tag")?;
        let mut sdp = Sdp::parse(p.sdp.as_deref().ok_or("no sdp")?).map_err(|e| e.to_string())?;
        let media_ip = self.cfg.media_ip;
        let call = self.call_mut(p)?;
        call.last_signal_s = now_unix();
        let mut streams = call.streams.clone();
        for s in &mut streams {
            let i = s.index;
            if i >= sdp.media.len() {
                continue;
            }
            let answered = usable_formats(&sdp, i);
            let Some(callee_codec) = first_codec(&answered) else {
                return Err("no supported codec (PCMU or PCMA) in answer".into());
            };
            let callee_te = telephone_event(&answered);
            let ip = if p.flag("sip source address") {
                p.received_from
            } else {
                sdp.connection(i)
            };
            let port = sdp.media[i].port;
            if let (Some(ip), true) = (ip, port != 0) {
                let remote = SocketAddr::new(ip, port);
                media
                    .command(Command::SetRemote {
                        channel: s.callee_leg.id,
                        remote,
                    })
                    .map_err(|e| e.to_string())?;
            }
            media
                .command(Command::SetCodec {
                    channel: s.callee_leg.id,
                    codec: callee_codec,
                    telephone_event_pt: callee_te,
                })
                .map_err(|e| e.to_string())?;
            // The caller keeps the callee's codec if it offered it; otherwise its own first
            // one, and the engine transcodes between the legs.
            let same = s
                .offered
                .iter()
                .find(|(_, enc)| codec_of(enc, 0).map(|c| c.law) == Some(callee_codec.law));
            let caller_codec = match same {
                Some((pt, enc)) => codec_of(enc, pt.parse().unwrap_or(callee_codec.payload_type))
                    .unwrap_or(s.caller_codec),
                None => s.caller_codec,
            };
            let caller_te = s.caller_te.filter(|_| callee_te.is_some()).or(s.caller_te);
            media
                .command(Command::SetCodec {
                    channel: s.caller_leg.id,
                    codec: caller_codec,
                    telephone_event_pt: caller_te,
                })
                .map_err(|e| e.to_string())?;
            s.caller_codec = caller_codec;
            media
                .command(Command::Bridge {
                    a: s.caller_leg.id,
                    b: s.callee_leg.id,
                })
                .map_err(|e| e.to_string())?;
            // Rewrite towards the caller: our caller leg, the caller's codec.
            let mut formats = vec![(
                caller_codec.payload_type.to_string(),
                format!(
                    "{}/8000",
                    if caller_codec.law == Law::Ulaw {
                        "PCMU"
                    } else {
                        "PCMA"
                    }
                ),
            )];
            if let Some(te) = caller_te {
                let enc = s
                    .offered
                    .iter()
                    .find(|(pt, _)| pt == &te.to_string())
                    .map_or("telephone-event/8000".to_string(), |(_, e)| {
                        e.to_lowercase()
                    });
                formats.push((te.to_string(), enc));
            }
            if sdp.media[i].port != 0 {
                sdp.media[i].port = s.caller_leg.local.port();
            }
            sdp.set_formats(i, &formats);
            if s.mux {
                sdp.remove_attribute(i, "rtcp");
            } else if sdp.has_attribute(i, "rtcp") {
                let rtcp = s.caller_leg.local.port() + 1;
                sdp.set_attribute(i, "rtcp", Some(&rtcp.to_string()));
            }
            if sdp.direction(i) == Direction::Inactive {
                tracing::debug!(stream = i, "answered inactive (hold)");
            }
        }
        call.streams = streams;
        call.to_tag = Some(to_tag);
        let start_recording = call.record && call.tap.is_none();
        sdp.set_connection(media_ip);
        if p.replace.iter().any(|r| r == "origin") {
            sdp.set_origin_address(media_ip);
        }
        sdp.remove_ice();
        let reply = Value::dict().with("sdp", Value::str(&sdp.to_string()));
        if start_recording {
            self.recording(media, p, RecordingOp::Start)?;
        }
        Ok(reply)
    }

    fn delete(&mut self, media: &mut dyn Media, p: &Params) -> Result<Value, String> {
        let id = p.call_id.clone().ok_or("no call-id")?;
        let call = self.calls.get(&id).ok_or("Unknown call-id")?;
        let report = self.call_report(&id, call);
        self.remove(media, &id);
        Ok(report)
    }

    fn remove(&mut self, media: &mut dyn Media, id: &str) {
        if let Some(call) = self.calls.remove(id) {
            if let Some(tap) = call.tap {
                let _ = media.command(Command::StopTap { tap });
            }
            for ch in call.channels() {
                let _ = media.command(Command::DestroyChannel { channel: ch });
                self.stats.remove(&ch);
                self.filters.remove(&ch);
            }
            self.totals.calls_deleted += 1;
        }
    }

    fn stream_stats(&self, ch: &ChannelInfo) -> Value {
        let s = self.stats.get(&ch.id).copied().unwrap_or_default();
        Value::dict()
            .with("local port", Value::Int(i64::from(ch.local.port())))
            .with(
                "stats",
                Value::dict()
                    .with("packets", Value::Int(s.packets_received as i64))
                    .with("bytes", Value::Int(s.bytes_received as i64))
                    .with("errors", Value::Int((s.malformed + s.wrong_source) as i64))
                    .with("lost", Value::Int(s.packets_lost))
                    .with("jitter us", Value::Int(s.jitter_us as i64)),
            )
    }

    fn call_report(&self, id: &str, call: &Call) -> Value {
        let mut tags = Value::dict();
        let mut add = |tag: &str, legs: Vec<&ChannelInfo>| {
            let streams = Value::List(legs.into_iter().map(|l| self.stream_stats(l)).collect());
            tags = std::mem::replace(&mut tags, Value::dict()).with(
                tag,
                Value::dict().with("tag", Value::str(tag)).with(
                    "medias",
                    Value::List(vec![Value::dict().with("streams", streams)]),
                ),
            );
        };
        add(
            &call.from_tag,
            call.streams.iter().map(|s| &s.caller_leg).collect(),
        );
        if let Some(t) = &call.to_tag {
            add(t, call.streams.iter().map(|s| &s.callee_leg).collect());
        }
        let (mut packets, mut bytes, mut errors) = (0i64, 0i64, 0i64);
        for ch in call.channels() {
            if let Some(s) = self.stats.get(&ch) {
                packets += s.packets_received as i64;
                bytes += s.bytes_received as i64;
                errors += (s.malformed + s.wrong_source) as i64;
            }
        }
        Value::dict()
            .with("call-id", Value::str(id))
            .with("created", Value::Int(call.created_s as i64))
            .with("last signal", Value::Int(call.last_signal_s as i64))
            .with("tags", tags)
            .with(
                "totals",
                Value::dict().with(
                    "RTP",
                    Value::dict()
                        .with("packets", Value::Int(packets))
                        .with("bytes", Value::Int(bytes))
                        .with("errors", Value::Int(errors)),
                ),
            )
    }

    fn query(&self, p: &Params) -> Result<Value, String> {
        let id = p.call_id.as_deref().ok_or("no call-id")?;
        let call = self.calls.get(id).ok_or("Unknown call-id")?;
        Ok(self.call_report(id, call))
    }

    fn list(&self, p: &Params) -> Value {
        let limit = p.limit.unwrap_or(32).clamp(0, 100_000) as usize;
        let mut ids: Vec<&String> = self.calls.keys().collect();
        ids.sort();
        Value::dict().with(
            "calls",
            Value::List(ids.into_iter().take(limit).map(|s| Value::str(s)).collect()),
        )
    }

    fn statistics(&self) -> Value {
        let t = self.totals;
        Value::dict().with(
            "statistics",
            Value::dict()
                .with(
                    "currentstatistics",
                    Value::dict()
                        .with("sessionsown", Value::Int(self.calls.len() as i64))
                        .with("sessionstotal", Value::Int(self.calls.len() as i64))
                        .with(
                            "channels",
                            Value::Int(
                                2 * self
                                    .calls
                                    .values()
                                    .map(|c| c.streams.len() as i64)
                                    .sum::<i64>(),
                            ),
                        ),
                )
                .with(
                    "totalstatistics",
                    Value::dict()
                        .with("managedsessions", Value::Int(t.calls_created as i64))
                        .with("deletedsessions", Value::Int(t.calls_deleted as i64))
                        .with("timeoutsessions", Value::Int(t.calls_timed_out as i64))
                        .with("recordings", Value::Int(t.recordings as i64)),
                ),
        )
    }

    fn recording(
        &mut self,
        media: &mut dyn Media,
        p: &Params,
        op: RecordingOp,
    ) -> Result<Value, String> {
        let id = p.call_id.clone().ok_or("no call-id")?;
        let dir = self.cfg.recording_dir.clone();
        let call = self.call_mut(p)?;
        match op {
            RecordingOp::Start => {
                if let Some(tap) = call.tap {
                    // Resume if paused; starting twice is not an error.
                    media
                        .command(Command::PauseTap { tap, paused: false })
                        .map_err(|e| e.to_string())?;
                    return Ok(Value::dict());
                }
                let leg = call
                    .streams
                    .first()
                    .ok_or("call has no audio")?
                    .caller_leg
                    .id;
                let safe: String = id
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || "-_.@".contains(c) {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let spec = TapSpec {
                    path: dir.join(format!("{safe}.wav")),
                    mode: TapMode::Stereo,
                    encoding: Encoding::Pcm16,
                };
                call.tap = Some(
                    media
                        .start_tap(TapTarget::Channel(leg), spec)
                        .map_err(|e| e.to_string())?,
                );
                call.record = true;
                self.totals.recordings += 1;
            }
            RecordingOp::Stop => {
                let tap = call.tap.take().ok_or("call is not being recorded")?;
                call.record = false;
                media
                    .command(Command::StopTap { tap })
                    .map_err(|e| e.to_string())?;
            }
            RecordingOp::Pause => {
                let tap = call.tap.ok_or("call is not being recorded")?;
                media
                    .command(Command::PauseTap { tap, paused: true })
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(Value::dict())
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

    /// Folds an engine event into the table. Returns the Call-ID deleted for a media
    /// timeout, if any.
    pub fn on_event(&mut self, media: &mut dyn Media, e: &Event) -> Option<String> {
        match e {
            Event::Stats { channel, stats } => {
                if self.stats.contains_key(channel)
                    || self
                        .calls
                        .values()
                        .any(|c| c.channels().any(|x| x == *channel))
                {
                    self.stats.insert(*channel, *stats);
                }
                None
            }
            Event::MediaTimeout { channel, .. } => {
                let (id, call) = self
                    .calls
                    .iter_mut()
                    .find(|(_, c)| c.channels().any(|x| x == *channel))?;
                if !call.timed_out.contains(channel) {
                    call.timed_out.push(*channel);
                }
                // Every leg silent: the call is dead.
                if call.channels().all(|ch| call.timed_out.contains(&ch)) {
                    let id = id.clone();
                    tracing::info!(call_id = %id, "media timeout: deleting call");
                    self.remove(media, &id);
                    self.totals.calls_timed_out += 1;
                    return Some(id);
                }
                None
            }
            _ => None,
        }
    }

    /// Shuts the table down: stops every recording and deletes every call. Returns the
    /// recordings stopped; each ends with `Event::TapFinished` (or `TapFailed`) once its
    /// file is complete, which the caller waits for.
    pub fn drain(&mut self, media: &mut dyn Media) -> Vec<TapId> {
        let taps: Vec<TapId> = self.calls.values().filter_map(|c| c.tap).collect();
        let ids: Vec<String> = self.calls.keys().cloned().collect();
        for id in ids {
            self.remove(media, &id);
        }
        taps
    }
}

#[derive(Clone, Copy)]
enum RecordingOp {
    Start,
    Stop,
    Pause,
}
