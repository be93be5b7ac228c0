//! The media engine's metrics, read from the engine on each scrape: per-shard datagram
//! counters, live channels, waits on full control queues, and port pools. Nothing is
//! reported once the engine has stopped.

use std::sync::Weak;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use tandem_engine::{Engine, ShardLoad, ShardThreadStats, TICK_BUCKETS_US, TickHistogram};

/// Reads a running engine's counters when the metrics are rendered.
pub struct EngineCollector {
    engine: Weak<Engine>,
}

impl EngineCollector {
    /// A collector for `engine` (held weakly: the collector does not keep it running).
    pub fn new(engine: Weak<Engine>) -> EngineCollector {
        EngineCollector { engine }
    }
}

impl std::fmt::Debug for EngineCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EngineCollector")
    }
}

type ShardCounter = (&'static str, &'static str, fn(&ShardThreadStats) -> u64);

const SHARD_COUNTERS: [ShardCounter; 8] = [
    (
        "tandem_shard_datagrams_in",
        "Datagrams received per shard.",
        |s| s.datagrams_in,
    ),
    (
        "tandem_shard_datagrams_out",
        "Datagrams sent per shard.",
        |s| s.datagrams_out,
    ),
    (
        "tandem_shard_send_errors",
        "Datagrams the kernel refused per shard.",
        |s| s.send_errors,
    ),
    (
        "tandem_shard_ticks_missed",
        "Ticks skipped because the shard was late.",
        |s| s.ticks_missed,
    ),
    (
        "tandem_shard_stale_dropped",
        "Media packets dropped unread because they had waited longer than max-queue-delay-ms (the shard was behind).",
        |s| s.stale_dropped,
    ),
    (
        "tandem_shard_events_dropped",
        "Events the shard dropped because the daemon did not read them in time.",
        |s| s.events_dropped,
    ),
    (
        "tandem_shard_control_waits",
        "Teardown commands and statistics reads that found the shard's queue full and waited for room.",
        |s| s.control_waits,
    ),
    (
        "tandem_shard_control_timeouts",
        "Of those, the ones still refused when the wait ended (the daemon keeps a teardown and retries it).",
        |s| s.control_timeouts,
    ),
];

fn shard_label(i: usize) -> [(&'static str, String); 1] {
    [("shard", i.to_string())]
}

impl Collector for EngineCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(engine) = self.engine.upgrade() else {
            return Ok(());
        };
        let stats = engine.thread_stats();
        let ports = engine.ports_in_use();
        let kernel = engine.kernel_forwarding();
        let load = engine.load();
        drop(engine);
        encode_kernel(&mut encoder, kernel.as_ref())?;
        for (name, help, read) in SHARD_COUNTERS {
            let mut m = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (i, s) in stats.iter().enumerate() {
                let label = shard_label(i);
                ConstCounter::new(read(s)).encode(m.encode_family(&label)?)?;
            }
        }
        let mut m = encoder.encode_descriptor(
            "tandem_shard_channels",
            "Live media channels per shard, as the shard counted them at its last turn.",
            None,
            MetricType::Gauge,
        )?;
        for (i, s) in stats.iter().enumerate() {
            ConstGauge::new(s.channels as i64).encode(m.encode_family(&shard_label(i))?)?;
        }
        for (name, help, pick) in [
            (
                "tandem_shard_port_pairs_in_use",
                "RTP/RTCP port pairs in use per shard.",
                0,
            ),
            (
                "tandem_shard_port_pairs_free",
                "RTP/RTCP port pairs free per shard.",
                1,
            ),
        ] {
            let mut m = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for (i, &(used, free)) in ports.iter().enumerate() {
                let v = if pick == 0 { used } else { free } as i64;
                ConstGauge::new(v).encode(m.encode_family(&shard_label(i))?)?;
            }
        }
        type Reading = fn(&ShardLoad) -> f64;
        let readings: [(&str, &str, Reading); 2] = [
            (
                "tandem_shard_busy_ratio",
                "Fraction of the time each shard's thread works rather than waits, smoothed over the last seconds (max-shard-busy refuses new calls above it).",
                |l| l.busy,
            ),
            (
                "tandem_shard_packet_rate",
                "Media packets each shard receives per second, smoothed over the last seconds (max-packet-rate refuses new calls above it).",
                |l| l.packet_rate,
            ),
        ];
        for (name, help, read) in readings {
            let mut m = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for (i, l) in load.iter().enumerate() {
                ConstGauge::new(read(l)).encode(m.encode_family(&shard_label(i))?)?;
            }
        }
        type Pick = fn(&ShardThreadStats) -> TickHistogram;
        let histograms: [(&str, &str, Pick); 3] = [
            (
                "tandem_shard_tick_duration_seconds",
                "How long each shard tick (playout, mixing, players, timeouts, RTCP) took.",
                |s| s.tick_duration,
            ),
            (
                "tandem_shard_tick_lateness_seconds",
                "How late each shard tick started after its deadline (a tick more than one period late is missed).",
                |s| s.tick_lateness,
            ),
            (
                "tandem_shard_dwell_seconds",
                "How long each media packet dwelt in its shard: from its arrival at the host (the kernel's receive stamp) to the shard handing its turn's output to the kernel.",
                |s| s.dwell,
            ),
        ];
        for (name, help, pick) in histograms {
            let mut m = encoder.encode_descriptor(name, help, None, MetricType::Histogram)?;
            for (i, s) in stats.iter().enumerate() {
                Seconds(pick(s)).encode(m.encode_family(&shard_label(i))?)?;
            }
        }
        Ok(())
    }
}

/// The kernel fast path: whether it is on, streams in it, packets it forwarded (zeros
/// while it is off, so dashboards need no special case).
fn encode_kernel(
    encoder: &mut DescriptorEncoder,
    kernel: Option<&tandem_engine::KernelForwardingStats>,
) -> Result<(), std::fmt::Error> {
    let on = i64::from(kernel.is_some());
    let streams = kernel.map_or(0, |k| k.streams as i64);
    let packets = kernel.map_or(0, |k| k.packets);
    for (name, help, v) in [
        (
            "tandem_kernel_forwarding",
            "1 when pass-through calls are forwarded by the eBPF program in the kernel.",
            on,
        ),
        (
            "tandem_kernel_streams",
            "Call directions forwarded in the kernel now.",
            streams,
        ),
    ] {
        let m = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
        ConstGauge::new(v).encode(m)?;
    }
    let m = encoder.encode_descriptor(
        "tandem_kernel_forwarded_packets",
        "Media packets the kernel forwarded without waking a shard.",
        None,
        MetricType::Counter,
    )?;
    ConstCounter::new(packets).encode(m)
}

/// A tick histogram in seconds, as Prometheus wants durations.
#[derive(Debug)]
struct Seconds(TickHistogram);

impl EncodeMetric for Seconds {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let h = &self.0;
        let buckets: Vec<(f64, u64)> = h
            .counts
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let bound = TICK_BUCKETS_US
                    .get(i)
                    .map_or(f64::INFINITY, |&us| us as f64 / 1e6);
                (bound, c)
            })
            .collect();
        encoder.encode_histogram::<NoLabelSet>(h.sum_us as f64 / 1e6, h.count(), &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}
