//! The control path without sockets: a message from a source in, its reply out. The
//! daemon's control thread runs it; tests and the fuzzer run it over the in-memory engine.
//!
//! For each message: parse it (a malformed one gets an error reply), answer a
//! retransmission from the reply cache, refuse offers while shutting down, otherwise carry
//! it out on the call table and cache the reply. Engine events and the shutdown go through
//! here too, so every counter is updated where the thing happens.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tandem_engine::MediaEngine;
use tandem_engine::{ChannelStats, Event, Overload, TapId};

use super::cache::ReplyCache;
use crate::bencode::Value;
use crate::calls::{Calls, RequestCtx, Totals};
use crate::metrics::{MEDIA_COUNTERS, Metrics};
use crate::ng;

/// How long a reply stays cached for retransmissions (rtpengine's window).
pub const COOKIE_WINDOW: Duration = Duration::from_secs(30);

/// Largest ng reply sent in one UDP datagram, cookie included: below the IPv4 limit of
/// 65,507 bytes with room to spare.
pub const UDP_REPLY_MAX: usize = 65_000;

/// Commands counted by name; anything else is counted as `other`.
const COMMANDS: [&str; 19] = [
    "ping",
    "offer",
    "answer",
    "delete",
    "query",
    "list",
    "statistics",
    "start recording",
    "stop recording",
    "pause recording",
    "play media",
    "stop media",
    "play dtmf",
    "block dtmf",
    "unblock dtmf",
    "block media",
    "unblock media",
    "silence media",
    "unsilence media",
];

/// What became of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handled {
    /// The reply (none for an empty message).
    pub reply: Option<Vec<u8>>,
    /// The command, as counted in metrics (`malformed` when it did not parse).
    pub command: &'static str,
    /// Whether the reply came from the reply cache.
    pub from_cache: bool,
}

/// The control path: reply cache, call table and media engine.
pub struct ControlPath<M: MediaEngine> {
    calls: Calls,
    media: M,
    cache: ReplyCache,
    metrics: Arc<Metrics>,
    totals: Totals,
    draining: bool,
    pending_taps: HashSet<TapId>,
    closed: ChannelStats,
    reported: ChannelStats,
    /// What [`MEDIA_COUNTERS`] have published so far.
    reported_media: [u64; MEDIA_COUNTERS.len()],
    /// When a malformed message was last logged, and how many went unlogged since: a
    /// stranger's garbage must not flood the log (the metric counts every one).
    malformed_logged: Option<Instant>,
    malformed_quiet: u64,
}

/// Shortest time between two warnings about malformed messages.
const MALFORMED_LOG_PERIOD: Duration = Duration::from_secs(1);

/// The cookie of a message that may not parse: the bytes before the first space, if
/// plausible.
fn cookie_of(bytes: &[u8]) -> &[u8] {
    bytes
        .split(|&b| b == b' ')
        .next()
        .filter(|c| !c.is_empty() && c.len() <= 256)
        .unwrap_or(b"0")
}

/// The Unix time, seconds: the call table is given the time, it never reads a clock.
fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The reply to an offer refused for `why` (shutting down, a load limit): `load limit` for a
/// proxy that supports it (it then tries another relay of its set), else an error.
fn refusal(body: &Value, why: &str) -> Value {
    let load_limit = body
        .get("supports")
        .and_then(Value::as_list)
        .is_some_and(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .any(|s| ng::normalise(s) == "load limit")
        });
    if load_limit {
        Value::dict()
            .with("result", Value::str("load limit"))
            .with("message", Value::str(why))
    } else {
        ng::error_reply(why)
    }
}

/// The Call-ID of a request, under any spelling of the key that ng accepts.
fn call_id(body: &Value) -> Option<&str> {
    match body {
        Value::Dict(d) => d
            .iter()
            .find(|(k, _)| std::str::from_utf8(k).is_ok_and(|k| ng::normalise(k) == "call id"))
            .and_then(|(_, v)| v.as_str()),
        _ => None,
    }
}

/// The metrics reason and the reply text for an offer refused because a shard is over a
/// load limit, naming the setting.
fn overload_refusal(o: &Overload) -> (&'static str, String) {
    match o {
        Overload::Busy { limit, .. } => (
            "max_shard_busy",
            format!("load limit (max-shard-busy {:.0}%): {o}", limit * 100.0),
        ),
        Overload::PacketRate { limit, .. } => (
            "max_packet_rate",
            format!("load limit (max-packet-rate {limit:.0}): {o}"),
        ),
        _ => ("max_shard_busy", format!("load limit: {o}")),
    }
}

fn command_label(body: &Value) -> &'static str {
    let name = body
        .get("command")
        .and_then(Value::as_str)
        .map(ng::normalise)
        .unwrap_or_default();
    COMMANDS
        .iter()
        .find(|c| **c == name)
        .copied()
        .unwrap_or("other")
}

impl<M: MediaEngine> ControlPath<M> {
    /// A control path over `calls` and `media`, caching up to `cache_bytes` of replies.
    pub fn new(calls: Calls, media: M, cache_bytes: usize, metrics: Arc<Metrics>) -> Self {
        ControlPath {
            totals: calls.totals(),
            calls,
            media,
            cache: ReplyCache::new(cache_bytes, COOKIE_WINDOW),
            metrics,
            draining: false,
            pending_taps: HashSet::new(),
            closed: ChannelStats::default(),
            reported: ChannelStats::default(),
            reported_media: [0; MEDIA_COUNTERS.len()],
            malformed_logged: None,
            malformed_quiet: 0,
        }
    }

    /// Handles one message from `source` whose reply must fit one UDP datagram.
    pub fn handle(&mut self, source: SocketAddr, bytes: &[u8], now: Instant) -> Handled {
        self.handle_within(source, bytes, now, Some(UDP_REPLY_MAX))
    }

    /// Handles one message from `source` (a datagram, or one framed TCP message) whose
    /// reply, cookie included, may be at most `limit` bytes (`None`: any length).
    pub fn handle_within(
        &mut self,
        source: SocketAddr,
        bytes: &[u8],
        now: Instant,
        limit: Option<usize>,
    ) -> Handled {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Handled {
                reply: None,
                command: "empty",
                from_cache: false,
            };
        }
        let req = match ng::parse_datagram(bytes) {
            Ok(r) => r,
            Err(e) => {
                self.metrics.malformed.inc();
                let due = self
                    .malformed_logged
                    .is_none_or(|t| now.saturating_duration_since(t) >= MALFORMED_LOG_PERIOD);
                if due {
                    let unlogged = std::mem::take(&mut self.malformed_quiet);
                    tracing::warn!(%source, error = %e, unlogged, "malformed ng message");
                    self.malformed_logged = Some(now);
                } else {
                    self.malformed_quiet += 1;
                }
                let reply = ng::reply(cookie_of(bytes), &ng::error_reply(&e.to_string()));
                return Handled {
                    reply: Some(reply),
                    command: "malformed",
                    from_cache: false,
                };
            }
        };
        let command = command_label(&req.body);
        let m = self.metrics.clone();
        m.requests.get_or_create(&[("command", command)]).inc();
        if let Some(cached) = self.cache.get(source, &req.cookie, bytes, now) {
            m.cache_hits.inc();
            return Handled {
                reply: Some(cached.to_vec()),
                command,
                from_cache: true,
            };
        }
        // Offers for new calls are refused while shutting down or while a shard is over a
        // load limit; nothing else is (work already admitted must be able to finish).
        let new_call =
            command == "offer" && call_id(&req.body).is_none_or(|id| !self.calls.contains(id));
        let overload = if new_call && !self.draining {
            self.media.admission().err()
        } else {
            None
        };
        let body = if self.draining && command == "offer" {
            m.refused("shutting_down", 1);
            refusal(&req.body, "shutting down")
        } else if let Some(o) = overload {
            let (reason, why) = overload_refusal(&o);
            m.refused(reason, 1);
            tracing::debug!(%why, "offer refused");
            refusal(&req.body, &why)
        } else {
            let ctx = RequestCtx {
                now_unix_s: unix_seconds(),
                reply_budget: limit.map(|l| l.saturating_sub(req.cookie.len() + 1)),
            };
            let body = self.calls.handle(&mut self.media, &req.body, &ctx);
            let reason = if command == "delete" {
                "delete"
            } else {
                "other"
            };
            self.account(reason);
            body
        };
        if body.get("result").and_then(Value::as_str) == Some("error") {
            m.request_errors
                .get_or_create(&[("command", command)])
                .inc();
        }
        let reply = ng::reply(&req.cookie, &body);
        let evicted = self.cache.counters().evictions;
        self.cache.insert(source, &req.cookie, bytes, &reply, now);
        m.cache_evictions
            .inc_by(self.cache.counters().evictions - evicted);
        m.cache_bytes.set(self.cache.bytes() as i64);
        Handled {
            reply: Some(reply),
            command,
            from_cache: false,
        }
    }

    /// Counts what the call table did since the last look: calls created, deleted (for
    /// `reason`), recordings started and failed, requests refused, teardown commands
    /// deferred or failed.
    fn account(&mut self, reason: &'static str) {
        let t = self.calls.totals();
        let m = &self.metrics;
        m.calls_created
            .inc_by(t.calls_created.saturating_sub(self.totals.calls_created));
        m.call_deleted(
            reason,
            t.calls_deleted.saturating_sub(self.totals.calls_deleted),
        );
        let was = &self.totals;
        m.recordings_started
            .inc_by(t.recordings.saturating_sub(was.recordings));
        m.recordings_failed
            .inc_by(t.recordings_failed.saturating_sub(was.recordings_failed));
        m.refused("limit", t.refused_limit.saturating_sub(was.refused_limit));
        m.refused("loop", t.refused_loop.saturating_sub(was.refused_loop));
        m.replies_too_large
            .inc_by(t.replies_too_large.saturating_sub(was.replies_too_large));
        m.teardown_deferred
            .inc_by(t.teardown_deferred.saturating_sub(was.teardown_deferred));
        m.teardown_failed
            .inc_by(t.teardown_failed.saturating_sub(was.teardown_failed));
        m.calls.set(self.calls.len() as i64);
        self.totals = t;
    }

    /// Folds an engine event in: statistics, media timeouts, finished recordings. Returns
    /// the Call-ID of a call deleted for a media timeout.
    pub fn on_event(&mut self, e: &Event) -> Option<String> {
        match e {
            Event::TapFinished { tap, path, .. } => {
                self.metrics.recordings_finished.inc();
                self.pending_taps.remove(tap);
                tracing::info!(path = %path.display(), "recording finished");
            }
            Event::TapFailed { tap, reason } => {
                // Counted by the call table (see `account`).
                self.pending_taps.remove(tap);
                tracing::debug!(?tap, %reason, "recording failed");
            }
            Event::ChannelClosed { stats, .. } => add(&mut self.closed, stats),
            _ => {}
        }
        let deleted = self.calls.on_event(&mut self.media, e, unix_seconds());
        self.account("timeout");
        deleted
    }

    /// Housekeeping once a second: expires cached replies, reads every live channel's
    /// statistics (one request per shard) and publishes what changes without a request
    /// (channels, RTP totals, loss and jitter of live calls).
    pub fn refresh(&mut self, now: Instant) {
        self.cache.expire(now);
        self.calls.refresh_stats(&mut self.media, unix_seconds());
        // Delayed deletes carried out now; waiting teardown commands retried.
        self.account("delete");
        let m = &self.metrics;
        m.cache_bytes.set(self.cache.bytes() as i64);
        m.channels.set(self.calls.channels().len() as i64);
        let mut total = self.closed;
        let (mut lost, mut jitter) = (0i64, 0u64);
        for s in self.calls.channel_stats() {
            add(&mut total, s);
            lost += s.packets_lost.max(0);
            jitter = jitter.max(s.jitter_us);
        }
        m.packets_lost.set(lost);
        m.jitter_max.set(jitter as f64 / 1e6);
        let r = &self.reported;
        m.rtp_packets_in
            .inc_by(total.packets_received.saturating_sub(r.packets_received));
        m.rtp_bytes_in
            .inc_by(total.bytes_received.saturating_sub(r.bytes_received));
        m.rtp_packets_out
            .inc_by(total.packets_sent.saturating_sub(r.packets_sent));
        m.rtp_bytes_out
            .inc_by(total.bytes_sent.saturating_sub(r.bytes_sent));
        let r = &mut self.reported;
        r.packets_received = r.packets_received.max(total.packets_received);
        r.bytes_received = r.bytes_received.max(total.bytes_received);
        r.packets_sent = r.packets_sent.max(total.packets_sent);
        r.bytes_sent = r.bytes_sent.max(total.bytes_sent);
        for ((_, _, _, pick), (c, done)) in MEDIA_COUNTERS
            .iter()
            .zip(m.media.iter().zip(&mut self.reported_media))
        {
            let now = pick(&total);
            c.inc_by(now.saturating_sub(*done));
            *done = (*done).max(now);
        }
    }

    /// Starts a shutdown: from now on offers are refused; every recording is stopped and
    /// every call deleted. Returns the recordings whose completion is awaited.
    pub fn begin_drain(&mut self) -> usize {
        self.draining = true;
        let taps = self.calls.drain(&mut self.media, unix_seconds());
        self.account("shutdown");
        self.pending_taps.extend(taps);
        self.pending_taps.len()
    }

    /// Whether a shutdown has started.
    pub fn draining(&self) -> bool {
        self.draining
    }

    /// Whether a shutdown has finished: no call left and every stopped recording complete.
    pub fn drained(&self) -> bool {
        self.draining && self.pending_taps.is_empty() && self.calls.is_empty()
    }

    /// Recordings stopped by the shutdown that have not completed yet.
    pub fn pending_recordings(&self) -> usize {
        self.pending_taps.len()
    }

    /// DTMF log datagrams to send: destination and payload.
    pub fn take_dtmf_log(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        self.calls.take_dtmf_log()
    }

    /// The call table.
    pub fn calls(&self) -> &Calls {
        &self.calls
    }

    /// The call table and the engine, for work outside requests (statistics queries).
    pub fn parts(&mut self) -> (&mut Calls, &mut M) {
        (&mut self.calls, &mut self.media)
    }

    /// The reply cache.
    pub fn cache(&self) -> &ReplyCache {
        &self.cache
    }

    /// The metrics updated.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }
}

fn add(total: &mut ChannelStats, s: &ChannelStats) {
    total.packets_received += s.packets_received;
    total.bytes_received += s.bytes_received;
    total.packets_sent += s.packets_sent;
    total.bytes_sent += s.bytes_sent;
    total.rtcp_received += s.rtcp_received;
    total.rtcp_bytes_received += s.rtcp_bytes_received;
    total.rtcp_errors += s.rtcp_errors;
    total.srtp_auth_failures += s.srtp_auth_failures;
    total.srtp_replays += s.srtp_replays;
    total.srtp_errors += s.srtp_errors;
}
