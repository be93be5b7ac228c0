//! A soak's figures and its verdict.
//!
//! Drift is measured over the samples taken under full churn: from **start**, the first one
//! after every cohort has run a turn and a half (1.5 holding times), to **end**, the last
//! one before the cohorts wind down (one holding time before the end). The number of live
//! calls at any one sample depends on where the cohorts are in their turns (a cohort being
//! set up or deleted holds fewer), and memory and descriptors follow it, so two samples are
//! not compared as they are: a least-squares fit `value = a + b·channels + c·t` over the
//! window separates what the live channels hold (`b` per channel) from growth over time
//! (`c`), and the drift is `c` over the window (end against start at equal load) in percent
//! of the mean. **After** is the sample once the last calls are deleted and the daemon has
//! settled: nothing may be left of any call. Tick lateness is the daemon's own histogram of
//! how late each shard tick started after its deadline, over its whole run: at the 99.9th
//! percentile it must stay under one tick period (a tick later than that is missed). The
//! missed ticks the shards counted are reported beside it.

use std::fmt::Write as _;

use serde::Serialize;

use super::SoakConfig;
use super::cohort::CohortTally;
use super::drift::{MIN_SAMPLES, drift};
use super::hostile::HostileCounts;
use super::watch::Sample;
use crate::table::aligned_table;
use crate::verdict::{Bound, Target, Verdict};
use tandem_serve::metrics::read::{histogram_quantile, sum};

/// The engine's tick, seconds.
const TICK_S: f64 = 0.020;

const fn at_most(
    name: &'static str,
    limit: f64,
    unit: &'static str,
    decimals: usize,
    what: &'static str,
) -> Target {
    Target {
        name,
        bound: Bound::AtMost,
        limit,
        unit,
        decimals,
        what,
    }
}

/// What a soak must show.
pub const SOAK_TARGETS: [Target; 8] = [
    at_most(
        "rss_drift",
        5.0,
        "%",
        1,
        "resident memory, end against start of the churn",
    ),
    at_most(
        "fd_drift",
        5.0,
        "%",
        1,
        "open descriptors, end against start of the churn",
    ),
    at_most(
        "calls_left",
        0.0,
        "",
        0,
        "calls in the table after every delete",
    ),
    at_most(
        "channels_left",
        0.0,
        "",
        0,
        "channels the shards hold after every delete",
    ),
    at_most(
        "ports_left",
        0.0,
        "",
        0,
        "port pairs in use after every delete",
    ),
    at_most(
        "fds_left",
        0.0,
        "",
        0,
        "descriptors open after every delete beyond those before the first call",
    ),
    at_most(
        "tick_lateness",
        1000.0 * TICK_S,
        "ms",
        1,
        "99.9th percentile of how late a shard tick started (bucket bound; one period is a missed tick)",
    ),
    at_most(
        "foreign_media",
        0.0,
        "",
        0,
        "packets a party received that were not its peer's (cross-talk, a stranger relayed)",
    ),
];

/// The daemon's own counts at the end.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DaemonCounts {
    /// Calls created.
    pub calls_created: f64,
    /// Calls deleted (any reason).
    pub calls_deleted: f64,
    /// ng messages that were not requests.
    pub ng_malformed: f64,
    /// ng error replies.
    pub ng_errors: f64,
    /// Teardown commands deferred because a shard's queue was full.
    pub teardown_deferred: f64,
    /// Teardown commands refused for good.
    pub teardown_failed: f64,
    /// Statistics reads and teardowns that timed out on a full queue.
    pub control_timeouts: f64,
    /// TCP connections the daemon closed on its read deadline.
    pub tcp_read_timeouts: f64,
}

impl DaemonCounts {
    fn from_metrics(text: &str) -> DaemonCounts {
        let get = |name: &str| sum(text, name).unwrap_or(f64::NAN);
        DaemonCounts {
            calls_created: get("tandem_calls_created_total"),
            calls_deleted: get("tandem_calls_deleted_total"),
            ng_malformed: get("tandem_ng_malformed_total"),
            ng_errors: get("tandem_ng_error_replies_total"),
            teardown_deferred: get("tandem_teardown_deferred_total"),
            teardown_failed: get("tandem_teardown_failed_total"),
            control_timeouts: get("tandem_shard_control_timeouts_total"),
            tcp_read_timeouts: get(
                "tandem_ng_tcp_connections_closed_total{reason=\"read_deadline\"}",
            ),
        }
    }
}

/// A soak's figures and verdict.
#[derive(Clone, Debug, Serialize)]
pub struct SoakReport {
    /// Calls live at once.
    pub calls: usize,
    /// Cohorts.
    pub cohorts: usize,
    /// Holding time, s.
    pub hold_s: f64,
    /// Length of the churn, s.
    pub duration_s: f64,
    /// The daemon's shards.
    pub shards: usize,
    /// Before the first call.
    pub idle: Sample,
    /// Every sample taken during the churn.
    pub samples: Vec<Sample>,
    /// Under full churn, first and last (see the module's notes).
    pub start: Option<Sample>,
    /// Under full churn, last.
    pub end: Option<Sample>,
    /// When the churn stopped.
    pub churn_end: Sample,
    /// After every delete, settled.
    pub after: Sample,
    /// What the cohorts did.
    pub churn: CohortTally,
    /// What the hostile traffic sent.
    pub hostile: HostileCounts,
    /// The daemon's counts.
    pub daemon: DaemonCounts,
    /// Ticks the shards ran during the churn.
    pub ticks_run: f64,
    /// Of those, skipped.
    pub ticks_missed: f64,
    /// The 99.9th percentile of tick lateness, ms (the upper bound of its histogram
    /// bucket; infinite beyond the last bound), if the daemon reports the histogram.
    pub tick_lateness_p999_ms: Option<f64>,
    /// The figures against [`SOAK_TARGETS`].
    pub verdict: Verdict,
}

impl SoakReport {
    /// Assembles the report; `metrics` is the daemon's last metrics page.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: &SoakConfig,
        shards: usize,
        idle: Sample,
        samples: Vec<Sample>,
        churn_end: Sample,
        after: Sample,
        churn: CohortTally,
        hostile: HostileCounts,
        metrics: &str,
    ) -> SoakReport {
        let hold = config.hold.as_secs_f64();
        let duration = config.duration.as_secs_f64();
        let start = samples.iter().find(|s| s.at_s >= 1.5 * hold).cloned();
        let end = samples
            .iter()
            .rev()
            .find(|s| s.at_s <= duration - hold)
            .cloned();
        let ticks_run = (churn_end.at_s - idle.at_s) / TICK_S * shards as f64;
        let ticks_missed = churn_end.ticks_missed - idle.ticks_missed;
        let mut r = SoakReport {
            calls: config.calls,
            cohorts: config.cohorts,
            hold_s: hold,
            duration_s: duration,
            shards,
            idle,
            samples,
            start,
            end,
            churn_end,
            after,
            churn,
            hostile,
            daemon: DaemonCounts::from_metrics(metrics),
            ticks_run,
            ticks_missed,
            tick_lateness_p999_ms: histogram_quantile(
                metrics,
                "tandem_shard_tick_lateness_seconds",
                0.999,
            )
            .map(|s| s * 1000.0),
            verdict: Verdict::new(),
        };
        r.verdict = r.judge();
        r
    }

    fn judge(&self) -> Verdict {
        let mut v = Verdict::new();
        let t = |name: &str| {
            SOAK_TARGETS
                .iter()
                .find(|t| t.name == name)
                .expect("a soak target")
        };
        let window = self.window();
        let figures: [Figure; 2] = [
            ("rss_drift", |s| s.rss_kib as f64),
            ("fd_drift", |s| s.fds as f64),
        ];
        for (name, value) in figures {
            match drift(&window, value) {
                Some(d) => {
                    let span = format!(
                        "{:.0} s to {:.0} s, {} samples",
                        window[0].at_s,
                        window[window.len() - 1].at_s,
                        window.len()
                    );
                    v.measured(t(name), span, d);
                }
                None => v.not_measured(
                    t(name),
                    "churn",
                    format!(
                        "{} samples under full churn, {MIN_SAMPLES} needed (a longer soak, or \
                         more frequent samples)",
                        window.len()
                    ),
                ),
            }
        }
        let after = format!("{:.0} s", self.after.at_s);
        v.measured(t("calls_left"), &after, self.after.calls);
        v.measured(t("channels_left"), &after, self.after.channels);
        v.measured(t("ports_left"), &after, self.after.port_pairs_in_use);
        v.measured(
            t("fds_left"),
            &after,
            self.after.fds as f64 - self.idle.fds as f64,
        );
        match self.tick_lateness_p999_ms {
            Some(ms) => {
                v.measured(t("tick_lateness"), "p99.9, whole run", ms);
            }
            None => v.not_measured(
                t("tick_lateness"),
                "p99.9",
                "the daemon reports no tick lateness histogram",
            ),
        }
        v.measured(
            t("foreign_media"),
            format!("{} packets sent", self.churn.sent),
            (self.churn.misrouted + self.churn.malformed) as f64,
        );
        v
    }

    /// The samples, the counts and the verdict, as text.
    pub fn text(&self) -> String {
        let headers = [
            "t (s)",
            "RSS (MiB)",
            "FDs",
            "calls",
            "channels",
            "port pairs",
            "ticks missed",
        ];
        let mut rows = Vec::new();
        let mut row = |label: &str, s: &Sample| {
            rows.push(vec![
                format!("{:.0}{label}", s.at_s),
                format!("{:.1}", s.rss_kib as f64 / 1024.0),
                s.fds.to_string(),
                format!("{:.0}", s.calls),
                format!("{:.0}", s.channels),
                format!("{:.0}", s.port_pairs_in_use),
                format!("{:.0}", s.ticks_missed),
            ]);
        };
        row(" idle", &self.idle);
        for s in &self.samples {
            let tag = match (&self.start, &self.end) {
                (Some(a), _) if a == s => " start",
                (_, Some(b)) if b == s => " end",
                _ => "",
            };
            row(tag, s);
        }
        row(" churn over", &self.churn_end);
        row(" after", &self.after);
        let mut out = format!(
            "soak: {} calls in {} cohorts, {:.0} s holding time, {:.0} s of churn, {} shard(s)\n\n",
            self.calls, self.cohorts, self.hold_s, self.duration_s, self.shards
        );
        out += &aligned_table(&headers, &rows, 1);
        let c = &self.churn;
        let _ = writeln!(
            out,
            "\nchurn: {} calls set up in {} turns ({:.1}/s), {} set-up and {} delete failures{}",
            c.calls_set_up,
            c.turns,
            c.calls_set_up as f64 / self.duration_s,
            c.setup_failures,
            c.delete_failures,
            c.first_failure
                .as_ref()
                .map_or(String::new(), |f| format!(" (first: {f})"))
        );
        let _ = writeln!(
            out,
            "media: {} packets sent, {} lost ({:.3}%), {} cross-talk, {} foreign, {} calls unprimed",
            c.sent,
            c.lost,
            100.0 * c.lost as f64 / c.sent.max(1) as f64,
            c.misrouted,
            c.malformed,
            c.unprimed_calls
        );
        let h = &self.hostile;
        let _ = writeln!(
            out,
            "hostile: {} stranger packets, {} SSRC-flood packets, {} odd datagrams, {} garbage ng \
             ({} answered), {} garbage TCP connections, {} sends refused",
            h.stranger_packets,
            h.flood_packets,
            h.odd_datagrams,
            h.garbage_ng,
            h.garbage_ng_replies,
            h.garbage_tcp,
            h.send_errors
        );
        let d = &self.daemon;
        let _ = writeln!(
            out,
            "daemon: {:.0} calls created, {:.0} deleted; {:.0} malformed ng, {:.0} error replies; \
             teardowns {:.0} deferred, {:.0} failed; {:.0} queue timeouts; {:.0} TCP connections closed on the read deadline; \
             {:.0} of {:.0} ticks missed\n",
            d.calls_created,
            d.calls_deleted,
            d.ng_malformed,
            d.ng_errors,
            d.teardown_deferred,
            d.teardown_failed,
            d.control_timeouts,
            d.tcp_read_timeouts,
            self.ticks_missed,
            self.ticks_run
        );
        out += &self.verdict.text();
        out
    }
}

/// A figure of a sample, by name.
type Figure = (&'static str, fn(&Sample) -> f64);

impl SoakReport {
    /// The samples under full churn, from start to end.
    fn window(&self) -> Vec<&Sample> {
        match (&self.start, &self.end) {
            (Some(a), Some(b)) => self
                .samples
                .iter()
                .filter(|s| s.at_s >= a.at_s && s.at_s <= b.at_s)
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Outcome;
    use std::time::Duration;

    fn sample(at_s: f64, rss_kib: u64, fds: u64, live: f64, missed: f64) -> Sample {
        Sample {
            at_s,
            rss_kib,
            fds,
            calls: live,
            channels: 2.0 * live,
            port_pairs_in_use: 2.0 * live,
            ticks_missed: missed,
        }
    }

    fn config() -> SoakConfig {
        SoakConfig {
            calls: 10,
            cohorts: 2,
            hold: Duration::from_secs(10),
            duration: Duration::from_secs(60),
            sample_every: Duration::from_secs(5),
            hostile: true,
        }
    }

    /// A metrics page whose tick lateness histogram has `late` of 2,000 ticks beyond 20 ms.
    fn lateness(late: u64) -> String {
        let b = |le: &str, n: u64| {
            format!("tandem_shard_tick_lateness_seconds_bucket{{shard=\"0\",le=\"{le}\"}} {n}\n")
        };
        [b("0.001", 1990), b("0.02", 2000 - late), b("+Inf", 2000)].concat()
    }

    fn report(end_rss: u64, after: Sample, missed: f64) -> SoakReport {
        let samples: Vec<Sample> = (1..=12)
            .map(|i| {
                sample(
                    5.0 * i as f64,
                    if i >= 10 { end_rss } else { 1000 },
                    50,
                    10.0,
                    0.0,
                )
            })
            .collect();
        SoakReport::new(
            &config(),
            2,
            sample(0.0, 900, 20, 0.0, 0.0),
            samples,
            sample(60.0, end_rss, 50, 0.0, missed),
            after,
            CohortTally::default(),
            HostileCounts::default(),
            &lateness(missed as u64),
        )
    }

    #[test]
    fn a_flat_clean_run_passes_and_the_samples_under_full_churn_are_compared() {
        let r = report(1040, sample(62.0, 1040, 20, 0.0, 0.0), 1.0);
        assert_eq!(r.start.as_ref().unwrap().at_s, 15.0);
        assert_eq!(r.end.as_ref().unwrap().at_s, 50.0);
        // 60 s of two shards: 6,000 ticks; 1 of 2,000 beyond 20 ms is still p99.9.
        assert_eq!(r.ticks_run, 6000.0);
        assert_eq!(r.tick_lateness_p999_ms, Some(20.0));
        assert_eq!(r.verdict.count(Outcome::Fail), 0, "{}", r.text());
        assert!(r.text().contains("8 passed, 0 failed"), "{}", r.text());
    }

    #[test]
    fn growth_leftovers_and_missed_ticks_fail() {
        let left = Sample {
            channels: 2.0,
            ..sample(62.0, 1100, 23, 1.0, 0.0)
        };
        let r = report(1100, left, 7.0);
        let failed: Vec<&str> = r
            .verdict
            .checks()
            .iter()
            .filter(|c| c.outcome == Outcome::Fail)
            .map(|c| c.target.as_str())
            .collect();
        assert_eq!(
            failed,
            [
                "rss_drift",
                "calls_left",
                "channels_left",
                "ports_left",
                "fds_left",
                "tick_lateness"
            ]
        );
    }

    #[test]
    fn descriptors_that_follow_the_live_channels_do_not_drift_and_a_leak_does() {
        // 2 descriptors per channel plus 17, the live channels varying with the turns.
        let at = |i: usize, ch: f64, leak: u64| Sample {
            at_s: 10.0 * i as f64,
            fds: 17 + 2 * ch as u64 + leak * i as u64,
            rss_kib: 30_000,
            channels: ch,
            ..Sample::default()
        };
        let phases = [
            2000.0, 1898.0, 1954.0, 1514.0, 1724.0, 2000.0, 1152.0, 2000.0,
        ];
        let flat: Vec<Sample> = phases
            .iter()
            .enumerate()
            .map(|(i, &c)| at(i, c, 0))
            .collect();
        let refs: Vec<&Sample> = flat.iter().collect();
        assert!(drift(&refs, |s| s.fds as f64).unwrap() < 1e-6);
        assert!(drift(&refs, |s| s.rss_kib as f64).unwrap() < 1e-6);
        // 40 descriptors more every sample: 280 over the window.
        let leaky: Vec<Sample> = phases
            .iter()
            .enumerate()
            .map(|(i, &c)| at(i, c, 40))
            .collect();
        let refs: Vec<&Sample> = leaky.iter().collect();
        let d = drift(&refs, |s| s.fds as f64).unwrap();
        let mean = leaky.iter().map(|s| s.fds as f64).sum::<f64>() / 8.0;
        assert!((d - 100.0 * 280.0 / mean).abs() < 1e-6, "{d}");
        assert!(drift(&refs[..3], |s| s.fds as f64).is_none());
    }

    #[test]
    fn a_run_too_short_to_compare_says_so() {
        let mut c = config();
        c.duration = Duration::from_secs(20);
        let r = SoakReport::new(
            &c,
            1,
            sample(0.0, 900, 20, 0.0, 0.0),
            vec![sample(5.0, 1000, 50, 10.0, 0.0)],
            sample(20.0, 1000, 50, 0.0, 0.0),
            sample(21.0, 900, 20, 0.0, 0.0),
            CohortTally::default(),
            HostileCounts::default(),
            "",
        );
        assert_eq!(
            r.verdict.count(Outcome::NotMeasured),
            3,
            "drifts, and no lateness"
        );
        assert_eq!(r.verdict.count(Outcome::Fail), 0);
    }
}
