//! `offer` and `answer`: each is checked in full (codecs, addresses, limits, loops, the
//! size of the reply) before the engine is touched, then applied.

use std::net::{IpAddr, SocketAddr};

use tandem_codecs::g711::Law;
use tandem_engine::{ChannelId, ChannelSpec, Codec, Command, GroupKey, RtcpMode};

use super::{Call, Calls, Media, RequestCtx, Stream, check_fits, finish};
use crate::bencode::Value;
use crate::ng::Params;
use crate::sdp::{Direction, Sdp};

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

fn is_audio(sdp: &Sdp, i: usize) -> bool {
    let m = &sdp.media[i];
    m.kind == "audio" && m.proto.contains("RTP/AVP") && !m.proto.contains("SAVP")
}

/// Where a party says its media for stream `i` goes: none when the port is 0 (rejected)
/// or the address is a wildcard (the old hold convention, `c=0.0.0.0`).
fn party_address(sdp: &Sdp, i: usize, p: &Params) -> Result<Option<SocketAddr>, String> {
    let ip: Option<IpAddr> = if p.flag("sip source address") {
        p.received_from
    } else {
        sdp.connection(i)
    };
    let ip = ip.ok_or("no connection address")?;
    let port = sdp.media[i].port;
    Ok((port != 0 && !ip.is_unspecified()).then(|| SocketAddr::new(ip, port)))
}

/// One audio stream of an offer, checked before anything is created.
struct Planned {
    index: usize,
    spec: ChannelSpec,
    formats: Vec<(String, String)>,
    existing: Option<Stream>,
}

/// One stream of an answer, checked before anything is changed.
struct Answered {
    stream: usize,
    remote: Option<SocketAddr>,
    callee_codec: Codec,
    callee_te: Option<u8>,
    caller_codec: Codec,
    caller_te: Option<u8>,
}

impl Calls {
    pub(super) fn offer(
        &mut self,
        media: &mut dyn Media,
        p: &Params,
        ctx: &RequestCtx,
    ) -> Result<Value, String> {
        let call_id = p.call_id.clone().ok_or("no call-id")?;
        let from_tag = p.from_tag.clone().ok_or("no from-tag")?;
        let sdp = Sdp::parse(p.sdp.as_deref().ok_or("no sdp")?).map_err(|e| e.to_string())?;
        // A re-offer from the same side (re-INVITE) keeps the ports and updates addresses.
        let existing = match self.calls.get(&call_id) {
            Some(c) if c.from_tag == from_tag => Some(c.clone()),
            Some(c) if c.to_tag.as_deref() == Some(from_tag.as_str()) => {
                return Err(format!(
                    "a re-offer from the callee (from-tag '{from_tag}') is not supported"
                ));
            }
            Some(c) => {
                return Err(format!(
                    "call-id exists with from-tag '{}', not '{from_tag}'",
                    c.from_tag
                ));
            }
            None => None,
        };
        if existing.is_none() && self.calls.len() >= self.cfg.max_sessions {
            self.totals.refused_limit += 1;
            return Err(format!(
                "too many calls: the limit (max-sessions) is {}",
                self.cfg.max_sessions
            ));
        }
        let planned = self.plan_offer(media, &sdp, p, existing.as_ref())?;
        // The widest ports give the longest SDP: if that fits, the real one does.
        let widest = vec![u16::MAX; planned.len()];
        check_fits(
            self.offer_reply(&sdp, &planned, &widest, p),
            ctx.reply_budget,
        )
        .inspect_err(|_| self.totals.replies_too_large += 1)?;

        let group = existing.as_ref().map_or_else(
            || {
                self.next_group += 1;
                GroupKey(self.next_group)
            },
            |c| c.group,
        );
        let mut created: Vec<ChannelId> = Vec::new();
        let streams = match apply_offer(media, group, &planned, &mut created) {
            Ok(s) => s,
            Err(e) => {
                for channel in created {
                    self.teardown.send(
                        media,
                        Command::DestroyChannel { channel },
                        &mut self.totals,
                    );
                }
                return Err(e);
            }
        };
        // Streams a re-offer no longer carries are released.
        if let Some(old) = &existing {
            for s in old
                .streams
                .iter()
                .filter(|s| !streams.iter().any(|n| n.index == s.index))
            {
                for channel in [s.caller_leg.id, s.callee_leg.id] {
                    self.teardown.send(
                        media,
                        Command::DestroyChannel { channel },
                        &mut self.totals,
                    );
                    self.stats.remove(&channel);
                    self.filters.remove(&channel);
                }
            }
        }
        let ports: Vec<u16> = streams.iter().map(|s| s.callee_leg.local.port()).collect();
        let reply = self.offer_reply(&sdp, &planned, &ports, p);
        let record = p.record_call.unwrap_or(false) || p.flag("record call");
        let now = ctx.now_unix_s;
        let call = match existing {
            Some(old) => Call {
                last_signal_s: now,
                streams,
                record: record || old.record,
                timed_out: Vec::new(),
                ..old
            },
            None => {
                self.totals.calls_created += 1;
                Call {
                    group,
                    created_s: now,
                    last_signal_s: now,
                    from_tag,
                    to_tag: None,
                    streams,
                    record,
                    recording: None,
                    segments: 0,
                    timed_out: Vec::new(),
                }
            }
        };
        self.calls.insert(call_id, call);
        Ok(reply)
    }

    /// Checks every stream of an offer: codecs, addresses, the limits and loops.
    fn plan_offer(
        &mut self,
        media: &dyn Media,
        sdp: &Sdp,
        p: &Params,
        existing: Option<&Call>,
    ) -> Result<Vec<Planned>, String> {
        let own = self.own_addresses(media);
        let audio: Vec<usize> = (0..sdp.media.len()).filter(|&i| is_audio(sdp, i)).collect();
        if audio.is_empty() {
            return Err("no audio stream in offer".into());
        }
        if audio.len() > self.cfg.max_streams_per_call {
            self.totals.refused_limit += 1;
            return Err(format!(
                "{} audio streams in the offer: the limit (max-streams-per-call) is {}",
                audio.len(),
                self.cfg.max_streams_per_call
            ));
        }
        let mut planned = Vec::with_capacity(audio.len());
        for i in audio {
            let formats = usable_formats(sdp, i);
            let codec =
                first_codec(&formats).ok_or("no supported codec (PCMU or PCMA) in offer")?;
            let remote = party_address(sdp, i, p)?;
            if let Some(r) = remote {
                self.check_not_own(media, &own, r)?;
            }
            let ptime = sdp
                .attribute(i, "ptime")
                .and_then(|v| v.trim().parse().ok())
                .filter(|&v: &u32| (10..=200).contains(&v));
            let mux = sdp.has_attribute(i, "rtcp-mux");
            let spec = ChannelSpec {
                codec,
                telephone_event_pt: telephone_event(&formats),
                ptime_ms: ptime.unwrap_or(20),
                remote,
                strict_source: p.flag("strict source"),
                rtcp: if mux {
                    RtcpMode::Mux
                } else {
                    RtcpMode::Companion
                },
                media_timeout_ms: self.cfg.timeout_s * 1000,
                latching: self.cfg.latching,
                ..ChannelSpec::default()
            };
            let existing = existing.and_then(|c| c.streams.iter().find(|s| s.index == i).cloned());
            planned.push(Planned {
                index: i,
                spec,
                formats,
                existing,
            });
        }
        Ok(planned)
    }

    /// The offer rewritten towards the callee, with `ports[k]` as the callee leg's port of
    /// the `k`th planned stream.
    fn offer_reply(&self, sdp: &Sdp, planned: &[Planned], ports: &[u16], p: &Params) -> Value {
        let mut sdp = sdp.clone();
        for i in 0..sdp.media.len() {
            if !is_audio(&sdp, i) && !p.flag("pass non audio") {
                sdp.media[i].port = 0; // rejected
            }
        }
        for (pl, &port) in planned.iter().zip(ports) {
            let i = pl.index;
            // Our callee leg, the caller's codecs plus any the flags ask us to transcode to.
            let mut formats = pl.formats.clone();
            let te = pl.spec.telephone_event_pt;
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
            if sdp.media[i].port != 0 {
                sdp.media[i].port = port;
            }
            sdp.set_formats(i, &formats);
            if pl.spec.rtcp == RtcpMode::Mux {
                sdp.remove_attribute(i, "rtcp");
            } else if sdp.has_attribute(i, "rtcp") {
                let rtcp = port.saturating_add(1);
                sdp.set_attribute(i, "rtcp", Some(&rtcp.to_string()));
            }
            if let Some(tp) = &p.transport_protocol {
                sdp.media[i].proto = tp.clone();
            }
        }
        self.rewrite_common(&mut sdp, p);
        finish(Ok(Value::dict().with("sdp", Value::str(&sdp.to_string()))))
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

    pub(super) fn answer(
        &mut self,
        media: &mut dyn Media,
        p: &Params,
        ctx: &RequestCtx,
    ) -> Result<Value, String> {
        let to_tag = p.to_tag.clone().ok_or("no to-tag")?;
        let sdp = Sdp::parse(p.sdp.as_deref().ok_or("no sdp")?).map_err(|e| e.to_string())?;
        let own = self.own_addresses(media);
        let call = self.call_mut(p)?.clone();
        let mut answered = Vec::new();
        for (k, s) in call.streams.iter().enumerate() {
            let i = s.index;
            if i >= sdp.media.len() {
                continue;
            }
            let formats = usable_formats(&sdp, i);
            let Some(callee_codec) = first_codec(&formats) else {
                return Err("no supported codec (PCMU or PCMA) in answer".into());
            };
            let callee_te = telephone_event(&formats);
            let remote = party_address(&sdp, i, p).ok().flatten();
            if let Some(r) = remote {
                self.check_not_own(media, &own, r)?;
            }
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
            answered.push(Answered {
                stream: k,
                remote,
                callee_codec,
                callee_te,
                caller_codec,
                caller_te: s.caller_te,
            });
        }
        let reply = self.answer_reply(sdp, &call, &answered, p);
        check_fits(reply.clone(), ctx.reply_budget)
            .inspect_err(|_| self.totals.replies_too_large += 1)?;

        let mut streams = call.streams.clone();
        for a in &answered {
            let s = &mut streams[a.stream];
            if let Some(remote) = a.remote {
                media
                    .command(Command::SetRemote {
                        channel: s.callee_leg.id,
                        remote,
                    })
                    .map_err(|e| e.to_string())?;
            }
            for (channel, codec, te) in [
                (s.callee_leg.id, a.callee_codec, a.callee_te),
                (s.caller_leg.id, a.caller_codec, a.caller_te),
            ] {
                media
                    .command(Command::SetCodec {
                        channel,
                        codec,
                        telephone_event_pt: te,
                    })
                    .map_err(|e| e.to_string())?;
            }
            s.caller_codec = a.caller_codec;
            media
                .command(Command::Bridge {
                    a: s.caller_leg.id,
                    b: s.callee_leg.id,
                })
                .map_err(|e| e.to_string())?;
        }
        let call = self.call_mut(p)?;
        call.streams = streams;
        call.to_tag = Some(to_tag);
        call.last_signal_s = ctx.now_unix_s;
        if call.record
            && call
                .recording
                .as_ref()
                .is_none_or(|r| r.live_tap().is_none())
        {
            let id = p.call_id.clone().unwrap_or_default();
            // The answer stands whatever the recording does; a failure is logged, counted
            // and shown by `query`.
            if let Err(e) = self.start_recording(media, &id, ctx.now_unix_s) {
                tracing::warn!(call_id = %id, error = %e, "recording did not start");
            }
        }
        Ok(reply)
    }

    /// The answer rewritten towards the caller: our caller leg, the caller's codec.
    fn answer_reply(&self, mut sdp: Sdp, call: &Call, answered: &[Answered], p: &Params) -> Value {
        for a in answered {
            let s = &call.streams[a.stream];
            let i = s.index;
            let caller_codec = a.caller_codec;
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
            if let Some(te) = a.caller_te {
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
        self.rewrite_common(&mut sdp, p);
        finish(Ok(Value::dict().with("sdp", Value::str(&sdp.to_string()))))
    }
}

/// Creates the channels of new streams and re-points existing ones. Channels created are
/// pushed to `created`, so a failure part way can release them.
fn apply_offer(
    media: &mut dyn Media,
    group: GroupKey,
    planned: &[Planned],
    created: &mut Vec<ChannelId>,
) -> Result<Vec<Stream>, String> {
    let mut streams = Vec::with_capacity(planned.len());
    for pl in planned {
        let stream = match &pl.existing {
            Some(s) => {
                if let Some(r) = pl.spec.remote {
                    media
                        .command(Command::SetRemote {
                            channel: s.caller_leg.id,
                            remote: r,
                        })
                        .map_err(|e| e.to_string())?;
                }
                Stream {
                    offered: pl.formats.clone(),
                    ..s.clone()
                }
            }
            None => {
                let caller_leg = media
                    .create_channel(group, pl.spec.clone())
                    .map_err(|e| e.to_string())?;
                created.push(caller_leg.id);
                // The callee's address comes with the answer; `strict source` protects
                // this leg as well once its source is learnt.
                let callee_spec = ChannelSpec {
                    remote: None,
                    ..pl.spec.clone()
                };
                let callee_leg = media
                    .create_channel(group, callee_spec)
                    .map_err(|e| e.to_string())?;
                created.push(callee_leg.id);
                Stream {
                    index: pl.index,
                    caller_leg,
                    callee_leg,
                    offered: pl.formats.clone(),
                    caller_codec: pl.spec.codec,
                    caller_te: pl.spec.telephone_event_pt,
                    mux: pl.spec.rtcp == RtcpMode::Mux,
                }
            }
        };
        streams.push(stream);
    }
    Ok(streams)
}
