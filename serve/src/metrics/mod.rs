//! The daemon's Prometheus metrics.
//!
//! Counters the daemon owns (requests, calls, recordings, the reply cache, TCP
//! connections) are atomics updated where the thing happens, so a scrape reads them as they
//! are. The media engine's per-shard counters and port pools are read from the engine on
//! each scrape ([`engine`]). Per-call RTP totals come from the channel statistics the
//! daemon refreshes once a second. [`http`] serves the exposition; [`read`] reads it back
//! from outside.

pub mod engine;
pub mod http;
pub mod read;

use std::sync::Arc;
use std::time::Instant;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// A metric with one label.
pub type Labelled<M> = Family<[(&'static str, &'static str); 1], M>;
/// Histograms with one label.
pub type LabelledHistogram =
    Family<[(&'static str, &'static str); 1], Histogram, fn() -> Histogram>;

/// Every metric the daemon updates.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Calls in the table.
    pub calls: Gauge,
    /// Media channels of those calls.
    pub channels: Gauge,
    /// Calls created by offers.
    pub calls_created: Counter,
    /// Calls deleted, by reason (`delete`, `timeout`, `shutdown`, `other`).
    pub calls_deleted: Labelled<Counter>,
    /// Recordings started.
    pub recordings_started: Counter,
    /// Recordings whose file was completed.
    pub recordings_finished: Counter,
    /// Recordings that stopped on an error.
    pub recordings_failed: Counter,
    /// Requests refused, by reason (one of [`REFUSE_REASONS`]).
    pub refused: Labelled<Counter>,
    /// Requests whose reply would not fit the transport (answered with an error).
    pub replies_too_large: Counter,
    /// Teardown commands the engine could not take at once (kept and retried).
    pub teardown_deferred: Counter,
    /// Teardown commands the engine refused for good.
    pub teardown_failed: Counter,
    /// ng requests, by command (cache hits included).
    pub requests: Labelled<Counter>,
    /// ng error replies, by command.
    pub request_errors: Labelled<Counter>,
    /// Time from receiving a request to its reply, by command.
    pub request_seconds: LabelledHistogram,
    /// Messages that were not ng requests.
    pub malformed: Counter,
    /// Requests answered from the reply cache.
    pub cache_hits: Counter,
    /// Reply-cache entries dropped to stay within its byte bound.
    pub cache_evictions: Counter,
    /// Bytes the reply cache holds.
    pub cache_bytes: Gauge,
    /// Requests refused with "overloaded" because the control queue was full.
    pub overloaded: Counter,
    /// Replies over UDP the kernel did not take.
    pub udp_reply_errors: Counter,
    /// TCP connections accepted.
    pub tcp_accepted: Counter,
    /// TCP connections closed at once because the connection cap was reached.
    pub tcp_refused: Counter,
    /// TCP connections closed by the daemon, by reason (`idle`, `read_deadline`,
    /// `too_large`, `malformed`, `error`) or by the peer (`peer`).
    pub tcp_closed: Labelled<Counter>,
    /// TCP connections open.
    pub tcp_open: Gauge,
    /// ng messages framed on TCP.
    pub tcp_messages: Counter,
    /// Bytes the TCP framer scanned (each byte once: equals the bytes framed).
    pub tcp_scanned_bytes: Counter,
    /// RTP packets received on calls' channels.
    pub rtp_packets_in: Counter,
    /// RTP payload bytes received.
    pub rtp_bytes_in: Counter,
    /// RTP packets sent.
    pub rtp_packets_out: Counter,
    /// RTP payload bytes sent.
    pub rtp_bytes_out: Counter,
    /// RTP packets lost on live calls.
    pub packets_lost: Gauge,
    /// Highest interarrival jitter of a live channel, seconds.
    pub jitter_max: Gauge<f64, std::sync::atomic::AtomicU64>,
    /// The channel counters of [`MEDIA_COUNTERS`], summed over calls, in that order.
    pub media: [Counter; MEDIA_COUNTERS.len()],
}

/// A channel counter published as a daemon-wide total: name, help, unit, the field.
pub type MediaCounter = (
    &'static str,
    &'static str,
    Option<Unit>,
    fn(&tandem_engine::ChannelStats) -> u64,
);

/// Channel counters summed over every call the daemon carried (live and ended): RTCP
/// received and dropped, and SRTP/SRTCP packets dropped by cause.
pub const MEDIA_COUNTERS: [MediaCounter; 6] = [
    (
        "tandem_rtcp_packets_in",
        "RTCP compound packets received on calls.",
        None,
        |s| s.rtcp_received,
    ),
    (
        "tandem_rtcp_in",
        "RTCP bytes received on calls.",
        Some(Unit::Bytes),
        |s| s.rtcp_bytes_received,
    ),
    (
        "tandem_rtcp_errors",
        "RTCP datagrams dropped on calls: not RTCP, or from a host other than the party's.",
        None,
        |s| s.rtcp_errors,
    ),
    (
        "tandem_srtp_auth_failures",
        "SRTP and SRTCP packets dropped because their authentication tag did not match.",
        None,
        |s| s.srtp_auth_failures,
    ),
    (
        "tandem_srtp_replays",
        "SRTP and SRTCP packets dropped as replays (seen before, or behind the replay window).",
        None,
        |s| s.srtp_replays,
    ),
    (
        "tandem_srtp_errors",
        "SRTP and SRTCP packets dropped for another reason (too short, unknown key), or not protected and so not sent.",
        None,
        |s| s.srtp_errors,
    ),
];

/// Why requests are refused: a limit (calls, streams per call), a media address that is
/// the relay's own (a loop), an offer during a shutdown, an offer for a new call while a
/// media shard is over a load limit (`max-shard-busy`, `max-packet-rate`).
pub const REFUSE_REASONS: [&str; 5] = [
    "limit",
    "loop",
    "shutting_down",
    "max_shard_busy",
    "max_packet_rate",
];
/// Why calls are deleted: an ng `delete`, a media timeout, a shutdown, anything else.
pub const DELETE_REASONS: [&str; 4] = ["delete", "timeout", "shutdown", "other"];
/// Why ng TCP connections close.
pub const CLOSE_REASONS: [&str; 6] = [
    "idle",
    "read_deadline",
    "too_large",
    "malformed",
    "error",
    "peer",
];

fn latency_histogram() -> Histogram {
    // 50 µs to ~1.6 s.
    Histogram::new(exponential_buckets(50e-6, 2.0, 16))
}

#[derive(Debug)]
struct Uptime(Instant);

impl Collector for Uptime {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let c = ConstCounter::new(self.0.elapsed().as_secs_f64());
        let m = encoder.encode_descriptor(
            "tandem_uptime",
            "Seconds since the daemon started.",
            Some(&Unit::Seconds),
            c.metric_type(),
        )?;
        c.encode(m)
    }
}

impl Metrics {
    /// Fresh metrics, registered (the engine's are added with [`Metrics::with_engine`]).
    pub fn new() -> Metrics {
        Self::build(None)
    }

    /// Fresh metrics that also report `engine`'s shards while it runs.
    pub fn with_engine(engine: std::sync::Weak<tandem_engine::Engine>) -> Metrics {
        Self::build(Some(engine))
    }

    fn build(engine: Option<std::sync::Weak<tandem_engine::Engine>>) -> Metrics {
        let mut r = Registry::default();
        let m = Metrics {
            registry: Registry::default(),
            calls: Gauge::default(),
            channels: Gauge::default(),
            calls_created: Counter::default(),
            calls_deleted: Family::default(),
            recordings_started: Counter::default(),
            recordings_finished: Counter::default(),
            recordings_failed: Counter::default(),
            refused: Family::default(),
            replies_too_large: Counter::default(),
            teardown_deferred: Counter::default(),
            teardown_failed: Counter::default(),
            requests: Family::default(),
            request_errors: Family::default(),
            request_seconds: Family::new_with_constructor(latency_histogram),
            malformed: Counter::default(),
            cache_hits: Counter::default(),
            cache_evictions: Counter::default(),
            cache_bytes: Gauge::default(),
            overloaded: Counter::default(),
            udp_reply_errors: Counter::default(),
            tcp_accepted: Counter::default(),
            tcp_refused: Counter::default(),
            tcp_closed: Family::default(),
            tcp_open: Gauge::default(),
            tcp_messages: Counter::default(),
            tcp_scanned_bytes: Counter::default(),
            rtp_packets_in: Counter::default(),
            rtp_bytes_in: Counter::default(),
            rtp_packets_out: Counter::default(),
            rtp_bytes_out: Counter::default(),
            packets_lost: Gauge::default(),
            jitter_max: Gauge::default(),
            media: Default::default(),
        };
        let counters: [(&str, &str, Option<Unit>, &Counter); 19] = [
            (
                "tandem_calls_created",
                "Calls created by offers.",
                None,
                &m.calls_created,
            ),
            (
                "tandem_recordings_started",
                "Recordings started.",
                None,
                &m.recordings_started,
            ),
            (
                "tandem_recordings_finished",
                "Recordings whose file was completed.",
                None,
                &m.recordings_finished,
            ),
            (
                "tandem_recordings_failed",
                "Recordings that stopped on an error (file not created or not written).",
                None,
                &m.recordings_failed,
            ),
            (
                "tandem_ng_replies_too_large",
                "Requests whose reply would not fit the transport (answered with an error; an offer or answer is rolled back).",
                None,
                &m.replies_too_large,
            ),
            (
                "tandem_teardown_deferred",
                "Teardown commands (channel destroys, recording stops) the engine could not take at once; kept in order and retried.",
                None,
                &m.teardown_deferred,
            ),
            (
                "tandem_teardown_failed",
                "Teardown commands the engine refused for good (it had stopped).",
                None,
                &m.teardown_failed,
            ),
            (
                "tandem_ng_malformed",
                "Messages that were not ng requests.",
                None,
                &m.malformed,
            ),
            (
                "tandem_ng_reply_cache_hits",
                "Retransmitted requests answered from the reply cache.",
                None,
                &m.cache_hits,
            ),
            (
                "tandem_ng_reply_cache_evictions",
                "Reply-cache entries dropped to stay within its byte bound.",
                None,
                &m.cache_evictions,
            ),
            (
                "tandem_ng_overloaded",
                "Requests refused with an overloaded error because the control queue was full.",
                None,
                &m.overloaded,
            ),
            (
                "tandem_ng_udp_reply_errors",
                "Replies over UDP the kernel did not take.",
                None,
                &m.udp_reply_errors,
            ),
            (
                "tandem_ng_tcp_connections_accepted",
                "ng TCP connections accepted.",
                None,
                &m.tcp_accepted,
            ),
            (
                "tandem_ng_tcp_connections_refused",
                "ng TCP connections closed at once because the connection cap was reached.",
                None,
                &m.tcp_refused,
            ),
            (
                "tandem_ng_tcp_messages",
                "ng messages framed on TCP.",
                None,
                &m.tcp_messages,
            ),
            (
                "tandem_ng_tcp_scanned",
                "Bytes the TCP framer scanned; each byte is scanned once.",
                Some(Unit::Bytes),
                &m.tcp_scanned_bytes,
            ),
            (
                "tandem_rtp_packets_in",
                "RTP packets received on calls.",
                None,
                &m.rtp_packets_in,
            ),
            (
                "tandem_rtp_packets_out",
                "RTP packets sent on calls.",
                None,
                &m.rtp_packets_out,
            ),
            (
                "tandem_rtp_payload_in",
                "RTP payload bytes received on calls.",
                Some(Unit::Bytes),
                &m.rtp_bytes_in,
            ),
        ];
        for (name, help, unit, c) in counters {
            match unit {
                Some(u) => r.register_with_unit(name, help, u, c.clone()),
                None => r.register(name, help, c.clone()),
            }
        }
        for ((name, help, unit, _), c) in MEDIA_COUNTERS.iter().zip(&m.media) {
            match unit {
                Some(u) => r.register_with_unit(*name, *help, u.clone(), c.clone()),
                None => r.register(*name, *help, c.clone()),
            }
        }
        r.register_with_unit(
            "tandem_rtp_payload_out",
            "RTP payload bytes sent on calls.",
            Unit::Bytes,
            m.rtp_bytes_out.clone(),
        );
        let gauges: [(&str, &str, Option<Unit>, &Gauge); 5] = [
            ("tandem_calls", "Calls in progress.", None, &m.calls),
            (
                "tandem_channels",
                "Media channels of calls in progress.",
                None,
                &m.channels,
            ),
            (
                "tandem_ng_reply_cache",
                "Bytes the reply cache holds.",
                Some(Unit::Bytes),
                &m.cache_bytes,
            ),
            (
                "tandem_ng_tcp_connections",
                "ng TCP connections open.",
                None,
                &m.tcp_open,
            ),
            (
                "tandem_call_packets_lost",
                "RTP packets lost on live calls.",
                None,
                &m.packets_lost,
            ),
        ];
        for (name, help, unit, g) in gauges {
            match unit {
                Some(u) => r.register_with_unit(name, help, u, g.clone()),
                None => r.register(name, help, g.clone()),
            }
        }
        let families: [(&str, &str, &Labelled<Counter>); 5] = [
            (
                "tandem_calls_deleted",
                "Calls deleted, by reason: delete (ng command), timeout (no media), shutdown, other.",
                &m.calls_deleted,
            ),
            (
                "tandem_ng_refused",
                "Requests refused, by reason: limit (calls, streams per call), loop (a media address that is the relay's own), shutting_down (an offer during a shutdown), max_shard_busy and max_packet_rate (an offer for a new call while a media shard is over that load limit).",
                &m.refused,
            ),
            (
                "tandem_ng_requests",
                "ng requests, by command.",
                &m.requests,
            ),
            (
                "tandem_ng_error_replies",
                "ng error replies, by command.",
                &m.request_errors,
            ),
            (
                "tandem_ng_tcp_connections_closed",
                "ng TCP connections closed, by reason: idle, read_deadline, too_large, malformed, error, peer.",
                &m.tcp_closed,
            ),
        ];
        for (name, help, f) in families {
            r.register(name, help, f.clone());
        }
        r.register_with_unit(
            "tandem_ng_request_duration",
            "Time from receiving an ng request to its reply, by command.",
            Unit::Seconds,
            m.request_seconds.clone(),
        );
        r.register(
            "tandem_call_jitter_seconds_max",
            "Highest interarrival jitter of a live channel.",
            m.jitter_max.clone(),
        );
        // Every reason is shown from the start, at zero.
        for reason in DELETE_REASONS {
            let _ = m.calls_deleted.get_or_create(&[("reason", reason)]);
        }
        for reason in CLOSE_REASONS {
            let _ = m.tcp_closed.get_or_create(&[("reason", reason)]);
        }
        for reason in REFUSE_REASONS {
            let _ = m.refused.get_or_create(&[("reason", reason)]);
        }
        r.register_collector(Box::new(Uptime(Instant::now())));
        if let Some(e) = engine {
            r.register_collector(Box::new(engine::EngineCollector::new(e)));
        }
        Metrics { registry: r, ..m }
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric now.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }

    /// Counts a call deletion.
    pub fn call_deleted(&self, reason: &'static str, n: u64) {
        if n > 0 {
            self.calls_deleted
                .get_or_create(&[("reason", reason)])
                .inc_by(n);
        }
    }

    /// Counts `n` requests refused for `reason` (one of [`REFUSE_REASONS`]).
    pub fn refused(&self, reason: &'static str, n: u64) {
        if n > 0 {
            self.refused.get_or_create(&[("reason", reason)]).inc_by(n);
        }
    }

    /// Counts a TCP connection the daemon or the peer closed.
    pub fn tcp_closed(&self, reason: &'static str) {
        self.tcp_closed.get_or_create(&[("reason", reason)]).inc();
        self.tcp_open.dec();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Shared metrics.
pub type SharedMetrics = Arc<Metrics>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_end_as_prometheus_expects() {
        let m = Metrics::new();
        m.calls_created.inc();
        m.call_deleted("timeout", 2);
        m.requests.get_or_create(&[("command", "offer")]).inc();
        m.request_seconds
            .get_or_create(&[("command", "offer")])
            .observe(0.001);
        let text = m.render();
        for line in [
            "tandem_calls_created_total 1\n",
            "tandem_calls_deleted_total{reason=\"timeout\"} 2\n",
            "tandem_ng_requests_total{command=\"offer\"} 1\n",
            "tandem_ng_request_duration_seconds_count{command=\"offer\"} 1\n",
            "# TYPE tandem_uptime_seconds_total counter\n",
            "\ntandem_calls 0\n",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
        for l in text.lines().filter(|l| l.starts_with("# TYPE")) {
            if l.ends_with(" counter") {
                let name = l.split(' ').nth(2).unwrap();
                assert!(name.ends_with("_total"), "{l}");
            }
        }
    }
}
