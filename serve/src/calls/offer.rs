//! `offer`: checked in full (codecs, addresses, options, limits, loops, the size of the
//! reply) before the engine is touched, then applied.

use tandem_engine::MediaEngine;
use tandem_engine::{ChannelId, Command, GroupKey, RtcpMode};

use super::plan::Planned;
use super::recording::Destination;
use super::rewrite::{self, RtcpAdvert};
use super::sdes;
use super::{
    Call, Calls, Party, RecordingLog, RequestCtx, Side, Stream, check_fits, engine_err, finish,
};
use crate::bencode::Value;
use crate::ng::Params;
use crate::sdp::Sdp;

/// An offer's or answer's SDP, read.
pub(super) enum Incoming<'p> {
    /// The SDP bears this relay's loop mark already: the reply, nothing to do.
    Looped(Value),
    /// SDP to act on, and where a recording of the call goes.
    Sdp {
        text: &'p str,
        sdp: Sdp,
        dest: Option<Destination>,
    },
}

impl Calls {
    /// The mark `loop protect` puts into SDP: this relay's identity.
    pub(super) fn loop_mark(&self) -> String {
        let mut key = self.cfg.media_ip.to_string();
        for l in &self.cfg.listeners {
            key.push_str(&l.to_string());
        }
        let h = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        format!("tandem-{h:016x}")
    }

    /// Reads the SDP of an offer or answer and the checks both share: the loop mark, the
    /// interfaces, the address family and the recording destination.
    pub(super) fn incoming<'p>(&self, p: &'p Params) -> Result<Incoming<'p>, String> {
        let text = p.sdp.as_deref().ok_or("no sdp")?;
        let sdp = Sdp::parse(text).map_err(|e| e.to_string())?;
        if p.flag("loop protect") && sdp.session_attribute("rtpengine") == Some(&self.loop_mark()) {
            // This relay rewrote the SDP already: returned untouched, nothing created.
            return Ok(Incoming::Looped(
                Value::dict().with("sdp", Value::str(text)),
            ));
        }
        self.check_interfaces(p)?;
        self.check_family(p)?;
        let dest = self.recording_dest(p)?;
        Ok(Incoming::Sdp { text, sdp, dest })
    }

    pub(super) fn offer(
        &mut self,
        media: &mut dyn MediaEngine,
        p: &Params,
        ctx: &RequestCtx,
    ) -> Result<Value, String> {
        let call_id = p.call_id.clone().ok_or("no call-id")?;
        let from_tag = p.from_tag.clone().ok_or("no from-tag")?;
        let (text, sdp, dest) = match self.incoming(p)? {
            Incoming::Looped(reply) => return Ok(reply),
            Incoming::Sdp { text, sdp, dest } => (text, sdp, dest),
        };
        // A re-offer from the same side (re-INVITE) keeps the ports and updates addresses.
        let existing = match self.calls.get(&call_id) {
            Some(c) if c.caller.tag == from_tag => Some(c.clone()),
            Some(c) if c.callee.as_ref().is_some_and(|x| x.tag == from_tag) => {
                return Err(format!(
                    "a re-offer from the callee (from-tag '{from_tag}') is not supported"
                ));
            }
            Some(c) => {
                return Err(format!(
                    "call-id exists with from-tag '{}', not '{from_tag}'",
                    c.caller.tag
                ));
            }
            None => None,
        };
        if existing.is_none() && self.calls.len() >= self.cfg.max_sessions {
            self.totals.refused_limit += 1;
            let why = format!("the limit (max-sessions) is {}", self.cfg.max_sessions);
            return Ok(if p.supports_load_limit {
                Value::dict()
                    .with("result", Value::str("load limit"))
                    .with("message", Value::str(&why))
            } else {
                finish(Err("Parallel session limit reached".into()))
            });
        }
        let planned = self.plan_offer(media, &sdp, p, existing.as_ref())?;
        // The widest ports give the longest SDP: if that fits, the real one does.
        let widest = vec![u16::MAX; planned.len()];
        let mut probe = existing
            .as_ref()
            .map(|c| c.to_callee.clone())
            .unwrap_or_default();
        check_fits(
            self.offer_reply(&sdp, &planned, &widest, p, &mut probe),
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
                    self.sources.remove(&channel);
                }
            }
        }
        let ports: Vec<u16> = streams.iter().map(|s| s.callee_leg.local.port()).collect();
        let now = ctx.now_unix_s;
        if let Some(old) = &existing {
            self.revive(&call_id, old.delete_at);
        }
        let mut call = match existing {
            Some(old) => Call {
                last_signal_s: now,
                streams,
                timed_out: Vec::new(),
                delete_at: None,
                ..old
            },
            None => {
                self.totals.calls_created += 1;
                tracing::info!(call_id = %call_id, "call created");
                Call {
                    group,
                    created_s: now,
                    last_signal_s: now,
                    caller: Party::new(&from_tag, now),
                    callee: None,
                    streams,
                    record: false,
                    recording: RecordingLog::default(),
                    metadata: None,
                    timed_out: Vec::new(),
                    call_filter: Default::default(),
                    drop_traffic: false,
                    delete_at: None,
                    dtmf_log: None,
                    inband_dtmf: p.flag("detect dtmf"),
                    callee_label: None,
                    to_callee: Default::default(),
                    to_caller: Default::default(),
                }
            }
        };
        let mut to_callee = std::mem::take(&mut call.to_callee);
        let reply = self.offer_reply(&sdp, &planned, &ports, p, &mut to_callee);
        call.to_callee = to_callee;
        call.caller.keep_sdp(text);
        call.caller.advertised = planned.first().and_then(|pl| sdp.connection(pl.index));
        self.apply_common(&mut call, p, Side::Caller, dest);
        if p.label.is_some() {
            call.caller.label.clone_from(&p.label);
        }
        if p.to_label.is_some() {
            call.callee_label.clone_from(&p.to_label);
        }
        let filters = [Side::Caller, Side::Callee].map(|s| call.effective_filter(s));
        let legs: Vec<(ChannelId, ChannelId)> = call
            .streams
            .iter()
            .map(|s| (s.caller_leg.id, s.callee_leg.id))
            .collect();
        self.calls.insert(call_id, call);
        for (a, b) in legs {
            for (channel, filter) in [(a, filters[0]), (b, filters[1])] {
                if filter != Default::default() {
                    media
                        .command(Command::SetFilter { channel, filter })
                        .map_err(engine_err)?;
                }
            }
        }
        Ok(reply)
    }

    /// Options offers and answers share: recording, metadata, DTMF logging, the `block
    /// DTMF` flag (for the sender), `drop-traffic`.
    pub(super) fn apply_common(
        &mut self,
        call: &mut Call,
        p: &Params,
        sender: Side,
        dest: Option<super::recording::Destination>,
    ) {
        if p.record_call == Some(true) {
            call.record = true;
        } else if p.record_call == Some(false) {
            call.record = false;
        }
        if let Some(d) = dest {
            call.recording.dest = d;
        }
        if p.flag("discard recording") {
            call.recording.discard = true;
        }
        if p.metadata.is_some() {
            call.metadata.clone_from(&p.metadata);
        }
        if p.dtmf_log_dest.is_some() {
            call.dtmf_log = p.dtmf_log_dest;
        }
        if let Some(drop) = p.drop_traffic {
            call.drop_traffic = drop;
        }
        if p.flag("block dtmf") {
            if let Some(party) = call.party_mut(sender) {
                party.filter.block_dtmf = true;
            }
        }
    }

    /// The offer rewritten towards the callee, with `ports[k]` as the callee leg's port of
    /// the `k`th planned stream.
    fn offer_reply(
        &self,
        sdp: &Sdp,
        planned: &[Planned],
        ports: &[u16],
        p: &Params,
        origin: &mut rewrite::OriginState,
    ) -> Value {
        let mut sdp = sdp.clone();
        let ip = self.cfg.media_ip;
        let mut passed = Vec::new();
        for i in 0..sdp.media.len() {
            if planned.iter().any(|pl| pl.index == i) {
                continue;
            }
            let audio = sdp.media[i].kind == "audio";
            if !audio && p.flag("pass non audio") && sdp.media[i].port != 0 {
                passed.push(i); // goes end to end, with its own address
            } else {
                sdp.media[i].port = 0; // rejected
            }
        }
        let mut removed: Vec<String> = Vec::new();
        for (pl, &port) in planned.iter().zip(ports) {
            let i = pl.index;
            if sdp.media[i].port != 0 {
                sdp.media[i].port = port;
            }
            let formats: Vec<(String, String)> = pl
                .plan
                .outgoing
                .iter()
                .map(|f| (f.pt.clone(), f.enc.clone()))
                .collect();
            sdp.set_formats(i, &formats);
            rewrite::strip_unrelayed(&mut sdp, i);
            sdes::put_crypto(&mut sdp, i, &pl.callee_offer);
            let advert = RtcpAdvert {
                port,
                mux: pl.callee.rtcp == RtcpMode::Mux,
                require: p.rtcp_mux("require"),
            };
            rewrite::advertise_rtcp(&mut sdp, i, advert, ip, p);
            if let Some(pt) = pl.to_callee_ptime.or(p.ptime).or(p.repacketize) {
                sdp.set_attribute(i, "ptime", Some(&pt.to_string()));
            }
            sdp.media[i].proto = match p.transport_protocol {
                Some(tp) if tp != "accept" => tp.to_string(),
                _ => pl.proto.clone(),
            };
            if p.flag("generate mid") {
                rewrite::generate_mid(&mut sdp, i);
            }
            for r in &pl.plan.removed {
                if !removed.contains(r) {
                    removed.push(r.clone());
                }
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
        let mut reply = Value::dict().with("sdp", Value::str(&sdp.to_string()));
        if !removed.is_empty() {
            reply = reply.with(
                "warning",
                Value::str(&format!(
                    "codecs removed from the offer: {} (comfort noise and formats without a \
                     known encoding are not relayed; codecs other than PCMU and PCMA are not \
                     offered when recording, DTMF detection or conversion, or a ptime change \
                     needs the audio decoded)",
                    removed.join(", ")
                )),
            );
        }
        finish(Ok(reply))
    }
}

/// Creates the channels of new streams and re-points existing ones. Channels created are
/// pushed to `created`, so a failure part way can release them.
fn apply_offer(
    media: &mut dyn MediaEngine,
    group: GroupKey,
    planned: &[Planned],
    created: &mut Vec<ChannelId>,
) -> Result<Vec<Stream>, String> {
    let mut streams = Vec::with_capacity(planned.len());
    for pl in planned {
        let stream = match &pl.existing {
            Some(s) => {
                if let Some(r) = pl.caller.remote {
                    media
                        .command(Command::SetRemote {
                            channel: s.caller_leg.id,
                            remote: r,
                        })
                        .map_err(engine_err)?;
                }
                Stream {
                    plan: pl.plan.clone(),
                    caller_remote: pl.caller.remote,
                    offered_proto: pl.proto.clone(),
                    caller_ptime: pl.caller_ptime,
                    caller_crypto: pl.caller_crypto.clone(),
                    callee_offer: pl.callee_offer.clone(),
                    caller_rekey: Some(pl.caller.srtp.as_deref().cloned()),
                    ..s.clone()
                }
            }
            None => {
                let caller_leg = media
                    .create_channel(group, pl.caller.clone())
                    .map_err(engine_err)?;
                created.push(caller_leg.id);
                // The callee's address comes with the answer; `strict source` protects
                // this leg as well once its source is learnt.
                let callee_leg = media
                    .create_channel(group, pl.callee.clone())
                    .map_err(engine_err)?;
                created.push(callee_leg.id);
                Stream {
                    index: pl.index,
                    caller_leg,
                    callee_leg,
                    plan: pl.plan.clone(),
                    caller_codec: pl.caller.codec,
                    callee_codec: None,
                    caller_te: pl.caller.telephone_event_pt,
                    caller_mux: pl.caller.rtcp == RtcpMode::Mux,
                    callee_mux: pl.callee.rtcp == RtcpMode::Mux,
                    caller_remote: pl.caller.remote,
                    callee_remote: None,
                    offered_proto: pl.proto.clone(),
                    caller_ptime: pl.caller_ptime,
                    ptime_reverse: pl.ptime_reverse,
                    caller_crypto: pl.caller_crypto.clone(),
                    callee_offer: pl.callee_offer.clone(),
                    caller_rekey: None,
                    callee_keys: None,
                    to_callee_ptime: pl.to_callee_ptime,
                }
            }
        };
        streams.push(stream);
    }
    Ok(streams)
}
