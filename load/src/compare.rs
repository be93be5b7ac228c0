//! Relays measured side by side ([`compare`]): at each load level every contender runs in
//! turn, for a number of rounds, the order rotated each round so that none always runs first
//! or last; a machine that gets busier or quieter during the run then touches every
//! contender alike. Each figure is summarised as its median over the rounds
//! ([`Summary`]), and CPU ratios are taken within a round, then their median
//! ([`Comparison::paired_ratio`]).
//!
//! A contender stops climbing after the first level whose median loss is over 0.1%
//! ([`LOSS_LIMIT`]) or at which it could not be started or measured; the others go on.

use std::io;
use std::time::Duration;

use serde::Serialize;

use crate::levels::run_level;
use crate::rates::LOSS_LIMIT;
use crate::relay::Relay;
use crate::results::{FIGURE_HEADERS, LevelResult};
use crate::runner::LoadGenMode;
use crate::table::aligned_table;

/// Starts a contender's relay for a number of calls.
pub type RelayFactory<'a> = Box<dyn FnMut(usize) -> io::Result<Box<dyn Relay>> + 'a>;

/// One relay in a comparison.
pub struct Contender<'a> {
    /// Its name in the reports (what its relay calls itself).
    pub name: String,
    /// A fresh relay per level and round.
    pub start: RelayFactory<'a>,
}

/// One measured run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Run {
    /// The round (from 0).
    pub round: usize,
    /// What it measured.
    pub result: LevelResult,
}

/// A run that could not be made.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Failure {
    /// The contender.
    pub relay: String,
    /// The level.
    pub calls: usize,
    /// Why.
    pub error: String,
}

/// What [`compare`] tells its observer as it goes.
#[derive(Debug)]
#[non_exhaustive]
pub enum Progress<'r> {
    /// A run starts: `step` of at most `steps`.
    Starting {
        /// The contender.
        relay: &'r str,
        /// The level.
        calls: usize,
        /// The round (from 0).
        round: usize,
        /// Runs started so far, this one included.
        step: usize,
        /// Runs planned (contenders that drop out shorten it).
        steps: usize,
    },
    /// A run finished.
    Done(&'r Run),
    /// A run could not be made; the contender stops climbing.
    Failed(&'r Failure),
}

/// Every run of a comparison.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Comparison {
    /// The contenders, in the order given.
    pub relays: Vec<String>,
    /// Every run, in the order made.
    pub runs: Vec<Run>,
    /// Runs that could not be made.
    pub failures: Vec<Failure>,
}

/// Runs every contender at each of `levels`, `rounds` times, alternated (see the module
/// documentation), `duration` of load per run.
pub fn compare(
    contenders: &mut [Contender<'_>],
    levels: &[usize],
    rounds: usize,
    duration: Duration,
    mode: &LoadGenMode,
    observer: &mut dyn FnMut(Progress<'_>),
) -> Comparison {
    let rounds = rounds.max(1);
    let mut out = Comparison {
        relays: contenders.iter().map(|c| c.name.clone()).collect(),
        ..Comparison::default()
    };
    let mut climbing = vec![true; contenders.len()];
    let steps = levels.len() * rounds * contenders.len();
    let mut step = 0;
    for &calls in levels {
        for round in 0..rounds {
            let n = contenders.len();
            for k in 0..n {
                let i = (k + round) % n;
                if !climbing[i] {
                    continue;
                }
                let c = &mut contenders[i];
                step += 1;
                observer(Progress::Starting {
                    relay: &c.name,
                    calls,
                    round,
                    step,
                    steps,
                });
                let measured = (c.start)(calls).and_then(|r| run_level(r, duration, mode));
                match measured {
                    Ok(result) => {
                        out.runs.push(Run { round, result });
                        observer(Progress::Done(out.runs.last().expect("just pushed")));
                    }
                    Err(e) => {
                        climbing[i] = false;
                        out.failures.push(Failure {
                            relay: c.name.clone(),
                            calls,
                            error: e.to_string(),
                        });
                        observer(Progress::Failed(out.failures.last().expect("just pushed")));
                    }
                }
            }
        }
        for (i, c) in contenders.iter().enumerate() {
            if out
                .summary(&c.name, calls)
                .is_some_and(|s| s.loss_ratio > LOSS_LIMIT)
            {
                climbing[i] = false;
            }
        }
    }
    out
}

/// A contender's figures at one level: medians over its rounds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// The contender.
    pub relay: String,
    /// The level.
    pub calls: usize,
    /// Rounds measured.
    pub rounds: usize,
    /// Loss ratio.
    pub loss_ratio: f64,
    /// Added latency percentiles and maximum, µs.
    pub latency_p50_us: f64,
    /// p99, µs.
    pub latency_p99_us: f64,
    /// p99.9, µs.
    pub latency_p999_us: f64,
    /// Maximum, µs.
    pub latency_max_us: f64,
    /// Relay CPU per forwarded packet, µs.
    pub cpu_us_per_packet: f64,
    /// Relay CPU over the send phase (share of one core).
    pub busy_fraction: f64,
    /// Generator send lag p99, µs.
    pub send_lag_p99_us: f64,
    /// Machine-wide steal time, s.
    pub steal_s: f64,
    /// Machine-wide CPU time of other work, s.
    pub other_cpu_s: f64,
}

/// Median of `v` (mean of the middle two for an even count); NaN when empty.
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

impl Comparison {
    /// The runs of `relay` at `calls`.
    pub fn runs_of<'s>(&'s self, relay: &'s str, calls: usize) -> impl Iterator<Item = &'s Run> {
        self.runs
            .iter()
            .filter(move |r| r.result.relay == relay && r.result.calls == calls)
    }

    /// The levels measured, ascending.
    pub fn levels(&self) -> Vec<usize> {
        let mut l: Vec<usize> = self.runs.iter().map(|r| r.result.calls).collect();
        l.sort_unstable();
        l.dedup();
        l
    }

    /// `relay`'s medians at `calls`, if it ran there.
    pub fn summary(&self, relay: &str, calls: usize) -> Option<Summary> {
        let runs: Vec<&LevelResult> = self.runs_of(relay, calls).map(|r| &r.result).collect();
        if runs.is_empty() {
            return None;
        }
        let m = |f: fn(&LevelResult) -> f64| median(runs.iter().map(|r| f(r)).collect());
        Some(Summary {
            relay: relay.to_string(),
            calls,
            rounds: runs.len(),
            loss_ratio: m(|r| r.report.loss_ratio),
            latency_p50_us: m(|r| r.report.latency_p50_us),
            latency_p99_us: m(|r| r.report.latency_p99_us),
            latency_p999_us: m(|r| r.report.latency_p999_us),
            latency_max_us: m(|r| r.report.latency_max_us),
            cpu_us_per_packet: m(|r| r.cpu_us_per_packet),
            busy_fraction: m(|r| r.busy_fraction),
            send_lag_p99_us: m(|r| r.report.send_lag_p99_us),
            steal_s: m(|r| r.steal_s),
            other_cpu_s: m(|r| r.other_cpu_s),
        })
    }

    /// Every summary, level by level, contenders in their order.
    pub fn summaries(&self) -> Vec<Summary> {
        self.levels()
            .into_iter()
            .flat_map(|calls| {
                self.relays
                    .iter()
                    .filter_map(move |r| self.summary(r, calls))
            })
            .collect()
    }

    /// Median over the rounds in which both ran of `relay`'s CPU per packet over
    /// `reference`'s at `calls`.
    pub fn paired_ratio(&self, relay: &str, reference: &str, calls: usize) -> Option<f64> {
        let ratios: Vec<f64> = self
            .runs_of(relay, calls)
            .filter_map(|r| {
                let b = self
                    .runs_of(reference, calls)
                    .find(|b| b.round == r.round && b.result.cpu_us_per_packet > 0.0)?;
                Some(r.result.cpu_us_per_packet / b.result.cpu_us_per_packet)
            })
            .collect();
        (!ratios.is_empty()).then(|| median(ratios))
    }

    /// `relay`'s summary at the highest level whose median loss is within 0.1%.
    pub fn highest_clean(&self, relay: &str) -> Option<Summary> {
        self.levels()
            .into_iter()
            .rev()
            .filter_map(|calls| self.summary(relay, calls))
            .find(|s| s.loss_ratio <= LOSS_LIMIT)
    }

    /// The summaries as an aligned table, with each contender's CPU per packet against
    /// every contender named in `references` (paired medians; `-` where one did not run).
    pub fn table(&self, references: &[&str]) -> String {
        let mut headers = vec!["relay", "calls", "rounds"];
        headers.extend(FIGURE_HEADERS);
        let ratio_headers: Vec<String> = references.iter().map(|r| format!("vs {r}")).collect();
        headers.extend(ratio_headers.iter().map(String::as_str));
        headers.extend(["busy %", "gen lag p99 µs", "steal s", "other s"]);
        let rows: Vec<Vec<String>> = self
            .summaries()
            .iter()
            .map(|s| {
                let mut row = vec![
                    s.relay.clone(),
                    s.calls.to_string(),
                    s.rounds.to_string(),
                    format!("{:.3}", s.loss_ratio * 100.0),
                    format!("{:.0}", s.latency_p50_us),
                    format!("{:.0}", s.latency_p99_us),
                    format!("{:.0}", s.latency_p999_us),
                    format!("{:.0}", s.latency_max_us),
                    format!("{:.2}", s.cpu_us_per_packet),
                ];
                for r in references {
                    row.push(
                        self.paired_ratio(&s.relay, r, s.calls)
                            .map_or("-".into(), |x| format!("{x:.2}x")),
                    );
                }
                row.extend([
                    format!("{:.1}", s.busy_fraction * 100.0),
                    format!("{:.0}", s.send_lag_p99_us),
                    format!("{:.2}", s.steal_s),
                    format!("{:.2}", s.other_cpu_s),
                ]);
                row
            })
            .collect();
        aligned_table(&headers, &rows, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridged::LoadReport;
    use crate::raw_relay::RawRelay;
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn medians_of_odd_even_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }

    fn result(relay: &str, calls: usize, cpu_s: f64, lost: u64) -> LevelResult {
        let sent = calls as u64 * 500;
        let report: LoadReport = serde_json::from_value(serde_json::json!({
            "calls": calls, "duration_s": 5.0, "sent": sent, "received": sent - lost,
            "lost": lost, "loss_ratio": lost as f64 / sent as f64, "reordered": 0,
            "duplicates": 0, "latency_p50_us": 20.0, "latency_p99_us": 50.0,
            "latency_p999_us": 90.0, "latency_max_us": 200.0, "misrouted": 0, "malformed": 0,
            "send_errors": 0, "unprimed_calls": 0, "send_lag_p99_us": 10.0,
            "send_lag_max_us": 20.0, "rx_stamp_fallbacks": 0, "loadgen_cpu_s": 0.1
        }))
        .unwrap();
        LevelResult::new(relay, report, Duration::from_secs_f64(cpu_s), sent)
    }

    #[test]
    fn ratios_pair_rounds_and_summaries_take_medians() {
        let runs = [
            (0, result("raw", 100, 1.0, 0)),
            (0, result("serve", 100, 1.2, 0)),
            (1, result("serve", 100, 3.0, 0)), // a disturbed round: raw slow too
            (1, result("raw", 100, 2.5, 0)),
            (2, result("raw", 100, 1.0, 0)),
            (2, result("serve", 100, 1.1, 0)),
        ];
        let c = Comparison {
            relays: vec!["raw".into(), "serve".into()],
            runs: runs
                .into_iter()
                .map(|(round, result)| Run { round, result })
                .collect(),
            failures: vec![],
        };
        // Paired ratios 1.2, 1.2, 1.1: median 1.2 (the ratio of medians would be 1.2 too,
        // but a disturbed round no longer decides it).
        let r = c.paired_ratio("serve", "raw", 100).unwrap();
        assert!((r - 1.2).abs() < 1e-9, "{r}");
        assert_eq!(c.paired_ratio("serve", "rtpengine", 100), None);
        let s = c.summary("serve", 100).unwrap();
        assert_eq!(s.rounds, 3);
        assert!(
            (s.cpu_us_per_packet - 1.2e6 / 50_000.0).abs() < 1e-6,
            "{s:?}"
        );
        assert_eq!(c.summaries().len(), 2);
        let t = c.table(&["raw"]);
        assert!(t.lines().nth(3).unwrap().contains("1.20x"), "{t}");
        assert_eq!(c.highest_clean("serve").unwrap().calls, 100);
    }

    #[test]
    fn contenders_alternate_and_one_that_fails_stops_climbing() {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let mut contenders = vec![
            Contender {
                name: "raw".into(),
                start: Box::new(move |calls| {
                    Ok(Box::new(RawRelay::start(calls, ip)?) as Box<dyn Relay>)
                }),
            },
            Contender {
                name: "broken".into(),
                start: Box::new(|_| Err(io::Error::other("no such relay"))),
            },
        ];
        let mut order = Vec::new();
        let c = compare(
            &mut contenders,
            &[2, 3],
            2,
            Duration::from_millis(100),
            &LoadGenMode::InProcessThread,
            &mut |p| {
                if let Progress::Starting { relay, calls, .. } = p {
                    order.push(format!("{relay}@{calls}"));
                }
            },
        );
        // Round 0 starts with raw, round 1 with the next contender; broken fails once and
        // is not tried again.
        assert_eq!(order, ["raw@2", "broken@2", "raw@2", "raw@3", "raw@3"]);
        assert_eq!(c.failures.len(), 1);
        assert!(c.failures[0].error.contains("no such relay"));
        assert_eq!(c.runs.len(), 4);
        assert!(c.runs.iter().all(|r| r.result.report.lost == 0));
        assert_eq!(c.levels(), [2, 3]);
    }
}
