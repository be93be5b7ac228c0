//! What a load level measured: one [`LevelResult`] per level and relay, printed as an
//! aligned text table ([`table`]) and as one JSON object per line ([`json_line`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::bridged::LoadReport;
use crate::rates::{LOSS_LIMIT, pps_offered};
use crate::shards::ShardSpread;
use crate::table::aligned_table;
use crate::timing::Quantiles;

/// What one level measured for one relay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelResult {
    /// The relay's name (`"raw"`, `"engine"`).
    pub relay: String,
    /// Bridged calls.
    pub calls: usize,
    /// Packets per second offered to the relay.
    pub pps_offered: f64,
    /// The load generator's figures.
    pub report: LoadReport,
    /// CPU time of the relay's threads from before the load generator started to after it
    /// finished (priming, load and drain), s.
    pub relay_cpu_s: f64,
    /// Datagrams the relay forwarded in the same window.
    pub packets_relayed: u64,
    /// `relay_cpu_s` per relayed datagram, µs.
    pub cpu_us_per_packet: f64,
    /// `relay_cpu_s` over the send phase's length: the share of one core the relay needed.
    pub busy_fraction: f64,
    /// Machine-wide steal time during the level, s (virtual machines): time virtual CPUs
    /// wanted to run but the hypervisor ran something else. Not part of any CPU figure here,
    /// but it delays wake-ups, so a large value explains latency tails.
    pub steal_s: f64,
    /// Machine-wide CPU time used during the level by anything but the relay's threads and
    /// the load generator, s: other processes, unattributed interrupt work. Much more than a
    /// few percent of the duration means the figures are disturbed.
    pub other_cpu_s: f64,
    /// How calls and datagrams spread over the relay's shards, for a relay that reports
    /// per-shard counters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<ShardSpread>,
    /// How long the relay's shard ticks took during the level, for a relay that reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tick_duration: Option<Quantiles>,
    /// How long packets dwelt in the relay's shards during the level (arrival at the host
    /// to the shard's send), for a relay that reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dwell: Option<Quantiles>,
}

impl LevelResult {
    /// Combines a load report with the relay's CPU time and packet count over the run.
    pub fn new(
        relay: &str,
        report: LoadReport,
        relay_cpu: Duration,
        packets_relayed: u64,
    ) -> LevelResult {
        let cpu_s = relay_cpu.as_secs_f64();
        LevelResult {
            relay: relay.to_string(),
            calls: report.calls,
            pps_offered: pps_offered(report.calls),
            relay_cpu_s: cpu_s,
            packets_relayed,
            cpu_us_per_packet: if packets_relayed == 0 {
                0.0
            } else {
                cpu_s * 1e6 / packets_relayed as f64
            },
            busy_fraction: if report.duration_s > 0.0 {
                cpu_s / report.duration_s
            } else {
                0.0
            },
            steal_s: 0.0,
            other_cpu_s: 0.0,
            shards: None,
            tick_duration: None,
            dwell: None,
            report,
        }
    }

    /// Records the machine-wide CPU time all tasks used (`busy`, see
    /// [`MachineCpu::busy_since`](tandem_udp::procfs::MachineCpu::busy_since)) and the `steal` over
    /// the level, from which the noise figures `steal_s` and `other_cpu_s` are derived.
    pub fn with_machine_cpu(mut self, busy: Duration, steal: Duration) -> LevelResult {
        self.steal_s = steal.as_secs_f64();
        self.other_cpu_s =
            (busy.as_secs_f64() - self.relay_cpu_s - self.report.loadgen_cpu_s).max(0.0);
        self
    }

    /// Whether this level lost more than [`LOSS_LIMIT`] (where stepping stops).
    pub fn over_loss_limit(&self) -> bool {
        self.report.loss_ratio > LOSS_LIMIT
    }
}

/// The result as one line of JSON (no trailing newline).
pub fn json_line(result: &LevelResult) -> String {
    serde_json::to_string(result).expect("a LevelResult always serialises")
}

/// Headers of the figures every results table shows, in this order: loss, added latency
/// p50/p99/p99.9/max, relay CPU per packet.
pub const FIGURE_HEADERS: [&str; 6] = [
    "loss %",
    "p50 µs",
    "p99 µs",
    "p99.9 µs",
    "max µs",
    "CPU µs/pkt",
];

/// An aligned text table of `results`, one row per result, for pasting into an issue.
///
/// The `vs raw` column is the CPU per packet divided by that of the `raw` relay at the same
/// number of calls, when `results` has one. `gen lag`, `steal` and `other` say how far the
/// row can be trusted: a late generator, a busy hypervisor or other work on the machine.
pub fn table(results: &[LevelResult]) -> String {
    let [loss, p50, p99, p999, max, cpu] = FIGURE_HEADERS;
    let headers = [
        "relay",
        "calls",
        "offered pps",
        "relayed pps",
        loss,
        p50,
        p99,
        p999,
        max,
        cpu,
        "vs raw",
        "busy %",
        "reord",
        "dup",
        "gen lag p99 µs",
        "steal s",
        "other s",
    ];
    let rows: Vec<[String; 17]> = results
        .iter()
        .map(|r| {
            let raw = results
                .iter()
                .find(|b| b.relay == "raw" && b.calls == r.calls && b.cpu_us_per_packet > 0.0);
            let rep = &r.report;
            [
                r.relay.clone(),
                r.calls.to_string(),
                format!("{:.0}", r.pps_offered),
                if rep.duration_s > 0.0 {
                    format!("{:.0}", r.packets_relayed as f64 / rep.duration_s)
                } else {
                    "-".into()
                },
                format!("{:.3}", rep.loss_ratio * 100.0),
                format!("{:.1}", rep.latency_p50_us),
                format!("{:.1}", rep.latency_p99_us),
                format!("{:.1}", rep.latency_p999_us),
                format!("{:.1}", rep.latency_max_us),
                format!("{:.2}", r.cpu_us_per_packet),
                raw.map_or("-".into(), |b| {
                    format!("{:.2}x", r.cpu_us_per_packet / b.cpu_us_per_packet)
                }),
                format!("{:.1}", r.busy_fraction * 100.0),
                rep.reordered.to_string(),
                rep.duplicates.to_string(),
                format!("{:.0}", rep.send_lag_p99_us),
                format!("{:.2}", r.steal_s),
                format!("{:.2}", r.other_cpu_s),
            ]
        })
        .collect();
    let rows: Vec<Vec<String>> = rows.into_iter().map(Vec::from).collect();
    aligned_table(&headers, &rows, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(calls: usize, lost: u64) -> LoadReport {
        let sent = calls as u64 * 2 * 250;
        LoadReport {
            calls,
            duration_s: 5.0,
            sent,
            received: sent - lost,
            lost,
            loss_ratio: lost as f64 / sent as f64,
            reordered: 0,
            duplicates: 0,
            latency_p50_us: 21.5,
            latency_p99_us: 48.25,
            latency_p999_us: 90.0,
            latency_max_us: 1500.0,
            misrouted: 0,
            malformed: 0,
            send_errors: 0,
            unprimed_calls: 0,
            send_lag_p99_us: 1100.0,
            send_lag_max_us: 1300.0,
            rx_stamp_fallbacks: 0,
            loadgen_cpu_s: 0.5,
        }
    }

    #[test]
    fn derived_figures() {
        let r = LevelResult::new("raw", report(100, 0), Duration::from_millis(500), 100_000);
        assert_eq!(r.pps_offered, 10_000.0);
        assert!((r.cpu_us_per_packet - 5.0).abs() < 1e-9);
        assert!((r.busy_fraction - 0.1).abs() < 1e-9);
        assert!(!r.over_loss_limit());
        let noisy = r
            .clone()
            .with_machine_cpu(Duration::from_millis(1100), Duration::from_millis(200));
        assert!((noisy.steal_s - 0.2).abs() < 1e-9);
        // 1.1 busy - 0.5 relay - 0.5 generator.
        assert!(
            (noisy.other_cpu_s - 0.1).abs() < 1e-9,
            "{}",
            noisy.other_cpu_s
        );
        let idle = r.clone().with_machine_cpu(Duration::ZERO, Duration::ZERO);
        assert_eq!(idle.other_cpu_s, 0.0);
        let bad = LevelResult::new("raw", report(100, 51), Duration::ZERO, 0);
        assert!(bad.over_loss_limit());
        assert_eq!(bad.cpu_us_per_packet, 0.0);
    }

    #[test]
    fn json_round_trips() {
        let r = LevelResult::new("engine", report(10, 0), Duration::from_millis(5), 900);
        let line = json_line(&r);
        assert!(!line.contains('\n'));
        assert_eq!(serde_json::from_str::<LevelResult>(&line).unwrap(), r);
    }

    #[test]
    fn table_is_aligned_and_compares_with_raw() {
        let results = [
            LevelResult::new("raw", report(100, 0), Duration::from_millis(500), 100_000),
            LevelResult::new(
                "engine",
                report(100, 0),
                Duration::from_millis(600),
                100_000,
            ),
        ];
        let t = table(&results);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("relay"));
        assert!(lines[3].starts_with("engine"));
        assert!(lines[3].contains("1.20x"), "{t}");
        assert!(lines[2].contains("1.00x"));
        // Right-aligned numeric columns end at the same place in every row.
        let end = |l: &str, col: &str| {
            let at = l.find(col).unwrap();
            l[..at].chars().count() + col.chars().count()
        };
        assert_eq!(end(lines[0], "CPU µs/pkt"), end(lines[2], "5.00"));
    }
}
