//! What `query`, `delete`, `list` and `statistics` report.

use std::ops::Bound;

use tandem_engine::{ChannelId, ChannelInfo, ChannelStats};

use super::recording::Recording;
use super::{Call, Calls, Media, encoded_len};
use crate::bencode::Value;
use crate::ng::Params;

/// Call-ids `list` returns when the request gives no limit (as rtpengine).
const DEFAULT_LIST_LIMIT: usize = 32;

/// Packets dropped for their source or as garbage: rtpengine's "errors".
fn errors(s: &ChannelStats) -> u64 {
    s.malformed + s.wrong_source + s.unlatched_source + s.own_source
}

impl Calls {
    fn stream_stats(&self, ch: &ChannelInfo) -> Value {
        let s = self.stats.get(&ch.id).copied().unwrap_or_default();
        Value::dict()
            .with("local port", Value::Int(i64::from(ch.local.port())))
            .with(
                "stats",
                Value::dict()
                    .with("packets", Value::Int(s.packets_received as i64))
                    .with("bytes", Value::Int(s.bytes_received as i64))
                    .with("errors", Value::Int(errors(&s) as i64))
                    .with("lost", Value::Int(s.packets_lost))
                    .with("jitter us", Value::Int(s.jitter_us as i64))
                    .with("source changes", Value::Int(s.source_changes as i64)),
            )
    }

    pub(super) fn call_report(&self, id: &str, call: &Call) -> Value {
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
        let (mut packets, mut bytes, mut errs) = (0i64, 0i64, 0i64);
        for ch in call.channels() {
            if let Some(s) = self.stats.get(&ch) {
                packets += s.packets_received as i64;
                bytes += s.bytes_received as i64;
                errs += errors(s) as i64;
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
                        .with("errors", Value::Int(errs)),
                ),
            )
            .with("recording", Recording::report(call.recording.as_ref()))
    }

    /// A call's report with its statistics read from the engine now.
    pub(super) fn query(&mut self, media: &mut dyn Media, p: &Params) -> Result<Value, String> {
        let id = p.call_id.as_deref().ok_or("no call-id")?;
        let channels: Vec<ChannelId> = self
            .calls
            .get(id)
            .ok_or("Unknown call-id")?
            .channels()
            .collect();
        self.read_stats(media, &channels);
        Ok(self.call_report(id, &self.calls[id]))
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
                        .with("managedsessions", Value::Int(t.calls_created as i64))
                        .with("deletedsessions", Value::Int(t.calls_deleted as i64))
                        .with("timeoutsessions", Value::Int(t.calls_timed_out as i64))
                        .with("recordings", Value::Int(t.recordings as i64))
                        .with("recordingsfailed", Value::Int(t.recordings_failed as i64)),
                ),
        )
    }
}
