//! `answer`: checked in full before anything changes, then the callee's address and codec
//! are set, the legs bridged, and the answer rewritten towards the caller.

use std::net::SocketAddr;

use tandem_engine::MediaEngine;
use tandem_engine::{Codec, Command, SrtpKeys};

use super::codecs;
use super::offer::Incoming;
use super::plan::{party_address, relayed_audio};
use super::rewrite::{self, RtcpAdvert};
use super::sdes;
use super::{Call, Calls, Party, RequestCtx, Side, check_fits, engine_err, finish};
use crate::bencode::Value;
use crate::ng::Params;
use crate::ng::options::{Kind, refusal};
use crate::sdp::Sdp;

/// One stream of an answer, checked before anything is changed.
struct Answered {
    stream: usize,
    /// The callee rejected the stream (port 0).
    rejected: bool,
    remote: Option<SocketAddr>,
    callee_codec: Codec,
    callee_te: Option<u8>,
    caller_codec: Codec,
    /// The protocol the caller is answered with.
    proto: String,
    /// `ptime-reverse` of the offer, put in the answer.
    ptime: Option<u32>,
    /// The callee leg's SRTP keys from the answer.
    callee_srtp: Option<SrtpKeys>,
}

impl Calls {
    pub(super) fn answer(
        &mut self,
        media: &mut dyn MediaEngine,
        p: &Params,
        ctx: &RequestCtx,
    ) -> Result<Value, String> {
        let to_tag = p.to_tag.clone().ok_or("no to-tag")?;
        let (text, sdp, dest) = match self.incoming(p)? {
            Incoming::Looped(reply) => return Ok(reply),
            Incoming::Sdp { text, sdp, dest } => (text, sdp, dest),
        };
        let own = self.own_addresses(media);
        let call = self.call_mut(p)?.clone();
        if p.flag("detect dtmf") && !call.inband_dtmf {
            return Err(refusal(
                Kind::Flag,
                "detect DTMF",
                "in-band detection is set when the legs are created: give it with the offer",
            ));
        }
        let mut answered = Vec::new();
        let mut warnings = Vec::new();
        for (k, s) in call.streams.iter().enumerate() {
            let i = s.index;
            if i >= sdp.media.len() {
                continue;
            }
            let rejected = sdp.media[i].port == 0;
            if !rejected && !relayed_audio(&sdp, i)? {
                return Err(format!(
                    "answer stream {} is not RTP audio ({} {})",
                    i + 1,
                    sdp.media[i].kind,
                    sdp.media[i].proto
                ));
            }
            let formats = codecs::formats(&sdp, i);
            let chosen = formats.iter().find(|f| f.codec().is_some());
            let callee_codec = match chosen.and_then(codecs::Format::codec) {
                Some(c) => c,
                None if rejected => s.plan.outgoing_first().unwrap_or(s.caller_codec),
                None => return Err("no supported codec in answer".into()),
            };
            // Digits reach the callee with the offer's payload type even when its answer
            // lists no telephone-event, as rtpengine forwards them; with DTMF conversion
            // they reach it as tones instead.
            let fallback_te = (!s.plan.convert_dtmf)
                .then(|| s.plan.outgoing_te())
                .flatten();
            let callee_te = formats
                .iter()
                .find(|f| f.is_te())
                .and_then(|f| f.pt.parse().ok())
                .or(fallback_te);
            let remote = party_address(&sdp, i, p).ok().flatten();
            if let Some(r) = remote {
                self.check_not_own(media, &own, r)?;
            }
            if let Some(f) = chosen.filter(|f| f.is_passthrough() && !rejected) {
                let silenced = [Some(&call.caller), call.callee.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|p| p.filter.silence_audio)
                    || call.call_filter.silence_audio;
                let what = if call.recording.live_tap().is_some() {
                    Some("the recording in progress")
                } else if silenced {
                    Some("silence media")
                } else {
                    None
                };
                if let Some(what) = what {
                    return Err(format!(
                        "answer stream {}: {what} needs PCMU or PCMA, and the callee answered \
                         {}, relayed without decoding",
                        i + 1,
                        f.enc
                    ));
                }
            }
            let caller_codec = match chosen {
                Some(f) => {
                    let (codec, _) = s.plan.caller_codec_for(f).ok_or_else(|| {
                        if f.is_passthrough() {
                            format!(
                                "answer stream {}: the callee answered {}, which the caller \
                                 did not offer ({})",
                                i + 1,
                                f.enc,
                                codecs::NOT_TRANSCODED
                            )
                        } else {
                            format!(
                                "answer stream {}: the callee answered {}, and the caller \
                                 offered no PCMU or PCMA to transcode to ({})",
                                i + 1,
                                f.enc,
                                codecs::NOT_TRANSCODED
                            )
                        }
                    })?;
                    codec
                }
                None => s.caller_codec,
            };
            if s.callee_mux && !rejected && !sdp.has_attribute(i, "rtcp-mux") {
                warnings.push(format!(
                    "stream {}: the callee declined rtcp-mux; its leg keeps RTCP on the RTP \
                     port",
                    i + 1
                ));
            }
            let callee_srtp = if rejected {
                s.callee_keys.clone()
            } else if !s.callee_offer.is_empty() {
                Some(sdes::accept_answer(&s.callee_offer, &sdp, i)?)
            } else if sdes::is_srtp(&sdp.media[i].proto) {
                return Err(format!(
                    "answer stream {}: the callee was offered {} and answered {}",
                    i + 1,
                    p.transport_protocol.unwrap_or(&s.offered_proto),
                    sdp.media[i].proto
                ));
            } else {
                None
            };
            let proto = if p.transport_protocol == Some("accept") {
                let answered = &sdp.media[i].proto;
                if sdes::is_srtp(answered) != sdes::is_srtp(&s.offered_proto) {
                    return Err(refusal(
                        Kind::Value("transport protocol"),
                        "accept",
                        &format!(
                            "the caller's leg is {} since its offer and cannot become {answered}",
                            s.offered_proto
                        ),
                    ));
                }
                answered.clone()
            } else {
                s.offered_proto.clone()
            };
            answered.push(Answered {
                stream: k,
                rejected,
                remote,
                callee_codec,
                callee_te,
                caller_codec,
                proto,
                ptime: s.ptime_reverse,
                callee_srtp,
            });
        }
        let mut to_caller = call.to_caller.clone();
        let probe = self.answer_reply(sdp.clone(), &call, &answered, p, &mut to_caller.clone());
        check_fits(probe, ctx.reply_budget).inspect_err(|_| self.totals.replies_too_large += 1)?;

        let mut streams = call.streams.clone();
        for a in answered.iter().filter(|a| !a.rejected) {
            let s = &mut streams[a.stream];
            if let Some(remote) = a.remote {
                media
                    .command(Command::SetRemote {
                        channel: s.callee_leg.id,
                        remote,
                    })
                    .map_err(engine_err)?;
            }
            if a.callee_srtp != s.callee_keys {
                media
                    .command(Command::SetSrtp {
                        channel: s.callee_leg.id,
                        keys: a.callee_srtp.clone().map(Box::new),
                    })
                    .map_err(engine_err)?;
                s.callee_keys.clone_from(&a.callee_srtp);
            }
            if let Some(keys) = s.caller_rekey.take() {
                media
                    .command(Command::SetSrtp {
                        channel: s.caller_leg.id,
                        keys: keys.map(Box::new),
                    })
                    .map_err(engine_err)?;
            }
            for (channel, codec, te) in [
                (s.callee_leg.id, a.callee_codec, a.callee_te),
                (s.caller_leg.id, a.caller_codec, s.caller_te),
            ] {
                media
                    .command(Command::SetCodec {
                        channel,
                        codec,
                        telephone_event_pt: te,
                    })
                    .map_err(engine_err)?;
            }
            s.caller_codec = a.caller_codec;
            s.callee_codec = Some(a.callee_codec);
            s.callee_remote = a.remote;
            media
                .command(Command::Bridge {
                    a: s.caller_leg.id,
                    b: s.callee_leg.id,
                })
                .map_err(engine_err)?;
        }
        let mut reply = self.answer_reply(sdp.clone(), &call, &answered, p, &mut to_caller);
        if !warnings.is_empty() {
            reply = reply.with("warning", Value::str(&warnings.join("; ")));
        }
        let now = ctx.now_unix_s;
        let mut call = self
            .calls
            .remove(p.call_id.as_deref().unwrap_or_default())
            .unwrap_or(call);
        call.streams = streams;
        call.to_caller = to_caller;
        // A new to-tag (a forked call answered by another callee) takes the callee leg.
        let mut callee = match call.callee.take() {
            Some(c) if c.tag == to_tag => c,
            _ => Party::new(&to_tag, now),
        };
        callee.keep_sdp(text);
        callee.advertised = answered
            .iter()
            .find(|a| !a.rejected)
            .and_then(|a| sdp.connection(call.streams[a.stream].index));
        callee.label = p
            .label
            .clone()
            .or(callee.label)
            .or(call.callee_label.clone());
        if p.to_label.is_some() {
            call.caller.label.clone_from(&p.to_label);
        }
        call.callee = Some(callee);
        call.last_signal_s = now;
        let id = p.call_id.clone().unwrap_or_default();
        self.revive(&id, call.delete_at.take());
        self.apply_common(&mut call, p, Side::Callee, dest);
        self.apply_filters(media, &call)?;
        let record = call.record && call.recording.live_tap().is_none();
        self.calls.insert(id.clone(), call);
        if record {
            // The answer stands whatever the recording does; a failure is logged, counted
            // and shown by `query`.
            if let Err(e) = self.start_recording(media, &id, now) {
                tracing::warn!(call_id = %id, error = %e, "recording did not start");
            }
        }
        Ok(reply)
    }

    /// The answer rewritten towards the caller: our caller leg, the caller's codec.
    fn answer_reply(
        &self,
        mut sdp: Sdp,
        call: &Call,
        answered: &[Answered],
        p: &Params,
        origin: &mut rewrite::OriginState,
    ) -> Value {
        let ip = self.cfg.media_ip;
        let mut passed = Vec::new();
        for i in 0..sdp.media.len() {
            if call.streams.iter().any(|s| s.index == i) {
                continue;
            }
            if sdp.media[i].kind != "audio" && p.flag("pass non audio") && sdp.media[i].port != 0 {
                passed.push(i);
            } else {
                sdp.media[i].port = 0;
            }
        }
        for a in answered {
            let s = &call.streams[a.stream];
            let i = s.index;
            if a.rejected {
                continue;
            }
            let codec = a.caller_codec;
            let pt = codec.payload_type.to_string();
            let enc = s
                .plan
                .caller
                .iter()
                .find(|f| f.pt == pt)
                .map_or_else(|| s.encoding(codec), |f| f.enc.clone());
            let mut formats = vec![(pt, enc)];
            if let Some(te) = s.caller_te {
                let enc = s
                    .plan
                    .caller
                    .iter()
                    .find(|f| f.pt == te.to_string())
                    .map_or("telephone-event/8000".to_string(), |f| f.enc.to_lowercase());
                formats.push((te.to_string(), enc));
            }
            sdp.media[i].port = s.caller_leg.local.port();
            sdp.set_formats(i, &formats);
            rewrite::strip_unrelayed(&mut sdp, i);
            sdes::put_crypto(&mut sdp, i, s.caller_crypto.as_slice());
            let advert = RtcpAdvert {
                port: s.caller_leg.local.port(),
                mux: s.caller_mux,
                require: false,
            };
            rewrite::advertise_rtcp(&mut sdp, i, advert, ip, p);
            if let Some(pt) = a.ptime {
                sdp.set_attribute(i, "ptime", Some(&pt.to_string()));
            }
            sdp.media[i].proto.clone_from(&a.proto);
            if p.flag("generate mid") {
                rewrite::generate_mid(&mut sdp, i);
            }
        }
        rewrite::set_connections(&mut sdp, ip, &passed);
        if p.flag("loop protect") {
            sdp.session.push(crate::sdp::Line::new(
                b'a',
                format!("rtpengine:{}", self.loop_mark()),
            ));
        }
        origin.apply(&mut sdp, p, ip);
        finish(Ok(Value::dict().with("sdp", Value::str(&sdp.to_string()))))
    }
}
