//! What `query`, `delete`, `list` and `statistics` report, in rtpengine's layout: `totals`
//! with `RTP` and `RTCP` blocks (what proxies such as Kamailio's `$rtpstat` read), and per
//! tag, per media, per stream blocks.
//!
//! A tag's streams are the legs that receive that party's media, so its `stats` count what
//! the party sent. RTCP counts are the party's RTCP: compound packets, their bytes (whole
//! datagrams), and datagrams dropped (not RTCP, or from another host). An SRTP leg's RTP
//! block adds `SRTP` with the packets dropped by cause (authentication, replay, other).

use std::net::SocketAddr;
use std::ops::Bound;

use tandem_engine::MediaEngine;
use tandem_engine::{ChannelId, ChannelStats, Codec};

use super::recording::{Recording, codec_name};
use super::{Call, Calls, RequestCtx, Side, Stream, encoded_len};
use crate::bencode::Value;
use crate::ng::Params;

/// Call-ids `list` returns when the request gives no limit (as rtpengine).
const DEFAULT_LIST_LIMIT: usize = 32;

/// Packets dropped for their source or as garbage: rtpengine's "errors".
fn errors(s: &ChannelStats) -> u64 {
    s.malformed + s.wrong_source + s.unlatched_source + s.own_source
}

fn endpoint(a: SocketAddr) -> Value {
    Value::dict()
        .with(
            "family",
            Value::str(if a.is_ipv4() { "IPv4" } else { "IPv6" }),
        )
        .with("address", Value::str(&a.ip().to_string()))
        .with("port", Value::Int(i64::from(a.port())))
}

fn int(v: u64) -> Value {
    Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
}

/// RTP and RTCP totals being summed.
#[derive(Default)]
struct Sums {
    packets: u64,
    bytes: u64,
    errors: u64,
    rtcp: u64,
    rtcp_bytes: u64,
    rtcp_errors: u64,
}

impl Stream {
    /// The encoding a leg of this stream carries (`PCMU/8000`, `G722/8000`): a codec
    /// relayed without decoding is the same encoding on both legs, named as the caller
    /// offered it.
    pub(super) fn encoding(&self, codec: Codec) -> String {
        if !codec.is_passthrough() {
            return codec_name(codec).to_string();
        }
        let pt = self.caller_codec.payload_type.to_string();
        self.plan
            .caller
            .iter()
            .find(|f| f.is_passthrough() && f.pt == pt)
            .map_or_else(|| format!("PT{}", codec.payload_type), |f| f.enc.clone())
    }

    /// The encoding relayed without decoding on this stream, if it is one.
    pub(super) fn passthrough_encoding(&self) -> Option<String> {
        let c = self.callee_codec.unwrap_or(self.caller_codec);
        (self.caller_codec.is_passthrough() || c.is_passthrough())
            .then(|| self.encoding(self.caller_codec))
    }
}

impl Calls {
    /// The RTP and RTCP stream blocks of one leg (the party on `side` sends to it).
    fn stream_blocks(&self, s: &Stream, side: Side, sums: &mut Sums) -> Value {
        let (leg, advertised, mux, srtp) = match side {
            Side::Caller => (
                &s.caller_leg,
                s.caller_remote,
                s.caller_mux,
                s.caller_crypto.is_some(),
            ),
            Side::Callee => (
                &s.callee_leg,
                s.callee_remote,
                s.callee_mux,
                s.callee_keys.is_some(),
            ),
        };
        let st = self.stats.get(&leg.id).copied().unwrap_or_default();
        sums.packets += st.packets_received;
        sums.bytes += st.bytes_received;
        sums.errors += errors(&st);
        sums.rtcp += st.rtcp_received;
        sums.rtcp_bytes += st.rtcp_bytes_received;
        sums.rtcp_errors += st.rtcp_errors;
        let heard = self.sources.get(&leg.id).copied();
        let mut rtp_flags = vec![Value::str("RTP")];
        if advertised.is_some() || heard.is_some() {
            rtp_flags.push(Value::str("filled"));
        }
        if heard.is_some() {
            rtp_flags.push(Value::str("confirmed"));
        }
        let mut rtp = Value::dict().with("local port", Value::Int(i64::from(leg.local.port())));
        if let Some(a) = heard.or(advertised) {
            rtp = rtp.with("endpoint", endpoint(a));
        }
        if let Some(a) = advertised {
            rtp = rtp.with("advertised endpoint", endpoint(a));
        }
        if let Some(&(_, at)) = self.last_packet.get(&leg.id).filter(|(n, _)| *n > 0) {
            rtp = rtp.with("last packet", int(at));
        }
        let mut rtp_stats = Value::dict()
            .with("packets", int(st.packets_received))
            .with("bytes", int(st.bytes_received))
            .with("errors", int(errors(&st)))
            .with("lost", Value::Int(st.packets_lost))
            .with("jitter us", int(st.jitter_us))
            .with("source changes", int(st.source_changes))
            .with("DTMF", int(st.dtmf_received));
        if srtp {
            rtp_stats = rtp_stats.with(
                "SRTP",
                Value::dict()
                    .with("authentication failures", int(st.srtp_auth_failures))
                    .with("replays", int(st.srtp_replays))
                    .with("errors", int(st.srtp_errors)),
            );
        }
        let rtp = rtp
            .with("flags", Value::List(rtp_flags))
            .with("stats", rtp_stats);
        let rtcp_port = if mux {
            leg.local.port()
        } else {
            leg.local.port().saturating_add(1)
        };
        let mut rtcp = Value::dict().with("local port", Value::Int(i64::from(rtcp_port)));
        if let Some(a) = heard.or(advertised) {
            let port = if mux {
                a.port()
            } else {
                a.port().saturating_add(1)
            };
            rtcp = rtcp.with("endpoint", endpoint(SocketAddr::new(a.ip(), port)));
        }
        let rtcp = rtcp
            .with("flags", Value::List(vec![Value::str("RTCP")]))
            .with(
                "stats",
                Value::dict()
                    .with("packets", int(st.rtcp_received))
                    .with("bytes", int(st.rtcp_bytes_received))
                    .with("errors", int(st.rtcp_errors)),
            );
        Value::List(vec![rtp, rtcp])
    }

    /// One tag's block.
    fn tag_block(&self, call: &Call, side: Side, sums: &mut Sums) -> Option<Value> {
        let party = call.party(side)?;
        let peer = match side {
            Side::Caller => call.callee.as_ref(),
            Side::Callee => Some(&call.caller),
        };
        let medias: Vec<Value> = call
            .streams
            .iter()
            .map(|s| {
                let mux = match side {
                    Side::Caller => s.caller_mux,
                    Side::Callee => s.callee_mux,
                };
                let mut flags = vec![Value::str("initialized")];
                if mux {
                    flags.push(Value::str("rtcp-mux"));
                }
                let codec = match side {
                    Side::Caller => Some(s.caller_codec),
                    Side::Callee => s.callee_codec,
                };
                let mut m = Value::dict()
                    .with("index", Value::Int(s.index as i64 + 1))
                    .with("type", Value::str("audio"))
                    .with("protocol", Value::str(&s.offered_proto))
                    .with("ptime", Value::Int(i64::from(s.caller_ptime)))
                    .with("flags", Value::List(flags));
                if let Some(c) = codec {
                    m = m.with("codec", Value::str(&s.encoding(c)));
                }
                m.with("streams", self.stream_blocks(s, side, sums))
            })
            .collect();
        let mut t = Value::dict()
            .with("tag", Value::str(&party.tag))
            .with("created", int(party.created_s));
        if let Some(l) = &party.label {
            t = t.with("label", Value::str(l));
        }
        if let Some(p) = peer {
            t = t.with("in dialogue with", Value::str(&p.tag));
        }
        Some(t.with("medias", Value::List(medias)))
    }

    /// A call's report; `only`: the sides to report (all when `None`).
    pub(super) fn call_report(
        &self,
        id: &str,
        call: &Call,
        only: Option<&[Side]>,
    ) -> Result<Value, String> {
        let mut sums = Sums::default();
        let mut tags = Value::dict();
        for side in [Side::Caller, Side::Callee] {
            if only.is_some_and(|o| !o.contains(&side)) {
                continue;
            }
            if let Some(block) = self.tag_block(call, side, &mut sums) {
                let tag = &call.party(side).map(|p| p.tag.clone()).unwrap_or_default();
                tags = tags.with(tag, block);
            }
        }
        let mut v = Value::dict()
            .with("call-id", Value::str(id))
            .with("created", int(call.created_s))
            .with("last signal", int(call.last_signal_s))
            .with("tags", tags)
            .with(
                "totals",
                Value::dict()
                    .with(
                        "RTP",
                        Value::dict()
                            .with("packets", int(sums.packets))
                            .with("bytes", int(sums.bytes))
                            .with("errors", int(sums.errors)),
                    )
                    .with(
                        "RTCP",
                        Value::dict()
                            .with("packets", int(sums.rtcp))
                            .with("bytes", int(sums.rtcp_bytes))
                            .with("errors", int(sums.rtcp_errors)),
                    ),
            )
            .with("recording", Recording::report(call.recording.current()))
            .with("recordings", call.recording.files());
        if let Some(path) = &call.recording.sidecar {
            v = v.with("recording metadata", Value::str(&path.to_string_lossy()));
        }
        if let Some(m) = &call.metadata {
            v = v.with("metadata", Value::str(m));
        }
        if let Some(at) = call.delete_at {
            v = v.with("delete at", int(at));
        }
        Ok(v)
    }

    /// A call's report with its statistics read from the engine now; `from-tag`, `to-tag`
    /// and `from-tags` select the parties reported.
    pub(super) fn query(
        &mut self,
        media: &mut dyn MediaEngine,
        p: &Params,
        ctx: &RequestCtx,
    ) -> Result<Value, String> {
        let id = p.call_id.as_deref().ok_or("no call-id")?;
        let call = self.calls.get(id).ok_or("Unknown call-id")?;
        let tags: Vec<&String> = if p.from_tags.is_empty() {
            p.from_tag.iter().chain(p.to_tag.iter()).collect()
        } else {
            p.from_tags.iter().collect()
        };
        let mut only = Vec::new();
        for t in &tags {
            only.push(
                call.side_of_tag(t)
                    .ok_or_else(|| format!("unknown tag '{t}'"))?,
            );
        }
        let channels: Vec<ChannelId> = call.channels().collect();
        self.read_stats(media, &channels, ctx.now_unix_s);
        let only = (!only.is_empty()).then_some(only);
        self.call_report(id, &self.calls[id], only.as_deref())
    }

    /// Call-ids in order, after the `after` cursor, at most `limit` of them and no more
    /// than fit the reply budget. `more` says whether any remain; `next` is the cursor for
    /// the following page.
    pub(super) fn list(&self, p: &Params, budget: Option<usize>) -> Value {
        let limit = p
            .limit
            .map_or(DEFAULT_LIST_LIMIT, |l| l.clamp(0, 1_000_000) as usize);
        let start = match p.after.as_deref() {
            Some(a) => Bound::Excluded(a),
            None => Bound::Unbounded,
        };
        let mut ids = self
            .calls
            .range::<str, _>((start, Bound::Unbounded))
            .map(|(id, _)| id)
            .peekable();
        // What the reply costs without any call-id (with the longest `more`/`next` it can
        // have, so that adding them at the end never overshoots).
        let frame = encoded_len(
            &Value::dict()
                .with("result", Value::str("ok"))
                .with("calls", Value::List(Vec::new()))
                .with("more", Value::Int(1)),
        ) + "4:next".len();
        let mut used = frame;
        let mut page: Vec<&String> = Vec::new();
        while page.len() < limit {
            let Some(id) = ids.peek() else { break };
            let item = encoded_len(&Value::str(id));
            // The item, plus the same again in case it ends the page as `next`.
            if budget.is_some_and(|b| used + 2 * item > b) {
                break;
            }
            used += item;
            page.push(id);
            ids.next();
        }
        let more = ids.peek().is_some();
        let mut reply = Value::dict()
            .with(
                "calls",
                Value::List(page.iter().map(|s| Value::str(s)).collect()),
            )
            .with("more", Value::Int(i64::from(more)));
        if let (true, Some(last)) = (more, page.last()) {
            reply = reply.with("next", Value::str(last));
        }
        reply
    }

    pub(super) fn statistics(&self) -> Value {
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
                        .with("managedsessions", int(t.calls_created))
                        .with("rejectedsessions", int(t.refused_limit))
                        .with("deletedsessions", int(t.calls_deleted))
                        .with("timeoutsessions", int(t.calls_timed_out))
                        .with("recordings", int(t.recordings))
                        .with("recordingsfailed", int(t.recordings_failed))
                        .with("recordingmetadatafailed", int(t.metadata_failed)),
                ),
        )
    }
}
