//! The Prometheus text exposition of the daemon's state.

use std::fmt::Write as _;

use tandem_engine::Engine;

use crate::calls::Calls;

fn metric(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, v) in samples {
        let _ = writeln!(out, "{name}{labels} {v}");
    }
}

/// Renders every metric.
pub fn exposition(calls: &Calls, engine: &Engine, recordings_finished: u64) -> String {
    let mut out = String::new();
    let t = calls.totals();
    let one = |v: f64| vec![(String::new(), v)];
    metric(
        &mut out,
        "tandem_calls",
        "gauge",
        "Calls in progress.",
        &one(calls.len() as f64),
    );
    metric(
        &mut out,
        "tandem_channels",
        "gauge",
        "Media channels in use.",
        &one(calls.channels().len() as f64),
    );
    metric(
        &mut out,
        "tandem_calls_created_total",
        "counter",
        "Calls created by offers.",
        &one(t.calls_created as f64),
    );
    metric(
        &mut out,
        "tandem_calls_deleted_total",
        "counter",
        "Calls deleted.",
        &one(t.calls_deleted as f64),
    );
    metric(
        &mut out,
        "tandem_calls_timed_out_total",
        "counter",
        "Calls deleted for media timeout.",
        &one(t.calls_timed_out as f64),
    );
    let (mut packets, mut lost, mut jitter_max) = (0u64, 0i64, 0u64);
    for s in calls.channel_stats() {
        packets += s.packets_received;
        lost += s.packets_lost.max(0);
        jitter_max = jitter_max.max(s.jitter_us);
    }
    metric(
        &mut out,
        "tandem_call_packets_received",
        "gauge",
        "RTP packets received on live calls.",
        &one(packets as f64),
    );
    metric(
        &mut out,
        "tandem_call_packets_lost",
        "gauge",
        "RTP packets lost on live calls.",
        &one(lost as f64),
    );
    metric(
        &mut out,
        "tandem_call_jitter_seconds_max",
        "gauge",
        "Highest interarrival jitter of a live channel.",
        &one(jitter_max as f64 / 1e6),
    );
    metric(
        &mut out,
        "tandem_recordings_started_total",
        "counter",
        "Recordings started.",
        &one(t.recordings as f64),
    );
    metric(
        &mut out,
        "tandem_recordings_finished_total",
        "counter",
        "Recordings finished.",
        &one(recordings_finished as f64),
    );
    let shards = engine.thread_stats();
    let per = |f: &dyn Fn(&tandem_engine::ShardThreadStats) -> u64| -> Vec<(String, f64)> {
        shards
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("{{shard=\"{i}\"}}"), f(s) as f64))
            .collect()
    };
    metric(
        &mut out,
        "tandem_shard_datagrams_in_total",
        "counter",
        "Datagrams received per shard.",
        &per(&|s| s.datagrams_in),
    );
    metric(
        &mut out,
        "tandem_shard_datagrams_out_total",
        "counter",
        "Datagrams sent per shard.",
        &per(&|s| s.datagrams_out),
    );
    metric(
        &mut out,
        "tandem_shard_send_errors_total",
        "counter",
        "Datagrams the kernel refused per shard.",
        &per(&|s| s.send_errors),
    );
    metric(
        &mut out,
        "tandem_shard_ticks_missed_total",
        "counter",
        "Ticks skipped because the shard was late.",
        &per(&|s| s.ticks_missed),
    );
    out
}
