//! `tandem bench`'s relay sections: the capacity comparison (every relay alternated at each
//! level) and the call set-up comparison (`tandem serve` against rtpengine over ng), with
//! their rows in the summary and their checks in the verdict.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use anyhow::{Result, bail};
use tandem_engine::DriverKind;
use tandem_load::compare::{Comparison, Contender, Progress, compare};
use tandem_load::setup_rate::{SetupComparison, SetupConfig, compare_setups};
use tandem_load::table::aligned_table;
use tandem_load::{
    DaemonKind, DaemonSpec, EngineRelay, LoadGenMode, NgRelay, RawRelay, Relay, Targets, Verdict,
    find_rtpengine, json_line,
};
use tandem_udp::raise_open_files_limit;

use super::args::Args;
use super::summary::Summary;
use crate::cmd::lab_progress::LabProgress;
use crate::cmd::load::loadgen_subprocess;

/// Relays whose latency and CPU targets are the project's own.
const ENGINE_RELAYS: [&str; 3] = ["engine-mio", "engine-uring", "serve"];

/// `tandem serve` as this executable's `serve` subcommand, with `threads` shards.
fn serve_spec(args: &Args, cpu: Option<usize>) -> Result<DaemonSpec> {
    serve_spec_with(args, cpu, &[])
}

/// [`serve_spec`] with more serve `options` (they may follow the subcommand in any order).
pub(super) fn serve_spec_with(
    args: &Args,
    cpu: Option<usize>,
    options: &[String],
) -> Result<DaemonSpec> {
    let mut args_prefix = vec!["serve".to_string()];
    args_prefix.extend_from_slice(options);
    Ok(DaemonSpec {
        kind: DaemonKind::Serve {
            exe: std::env::current_exe()?,
            args_prefix,
            driver: args.serve_driver.clone(),
        },
        threads: args.shards,
        cpu,
    })
}

/// Checks the `--calls` levels and readies a load run: enough open files for
/// `files_per_call` per call at the highest level, the generator's mode and the duration
/// of a level.
pub(super) fn load_run(args: &Args, files_per_call: u64) -> Result<(LoadGenMode, Duration)> {
    if args.calls.is_empty() || args.calls.contains(&0) {
        bail!("--calls: levels of at least one call");
    }
    let max = args.calls.iter().copied().max().unwrap_or(0) as u64;
    raise_open_files_limit(files_per_call * max + 1024)?;
    let mode = loadgen_subprocess(!args.no_pin, 1)?;
    Ok((mode, Duration::from_secs(args.seconds.max(1))))
}

fn rtpengine_spec(args: &Args, cpu: Option<usize>) -> Result<DaemonSpec, String> {
    Ok(DaemonSpec {
        kind: DaemonKind::Rtpengine {
            exe: find_rtpengine(args.rtpengine.as_deref())?,
        },
        threads: args.shards,
        cpu,
    })
}

/// Where the daemons' threads are pinned: core 0 with one media thread (the load generator
/// is on core 1), nowhere with several.
pub(super) fn daemon_cpu(args: &Args) -> Option<usize> {
    (!args.no_pin && args.shards == 1).then_some(0)
}

/// Relays that cannot run on this machine, each with the reason.
type Absent = Vec<(String, String)>;

/// The contenders named by `--relays`, and those that cannot run here.
fn contenders(args: &Args) -> Result<(Vec<Contender<'static>>, Absent)> {
    let pin = !args.no_pin;
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut out: Vec<Contender<'static>> = Vec::new();
    let mut absent = Vec::new();
    let boxed = |r: std::io::Result<Box<dyn Relay>>| r;
    for name in &args.relays {
        let (label, start): (&str, tandem_load::compare::RelayFactory<'static>) =
            match name.as_str() {
                "raw" => (
                    "raw",
                    Box::new(move |calls| {
                        boxed(Ok(Box::new(RawRelay::start_pinned(
                            calls,
                            ip,
                            pin.then_some(0),
                        )?)))
                    }),
                ),
                "mio" => (
                    "engine-mio",
                    Box::new(move |calls| {
                        boxed(Ok(Box::new(EngineRelay::start(
                            calls,
                            DriverKind::Mio,
                            pin,
                        )?)))
                    }),
                ),
                "io-uring" => (
                    "engine-uring",
                    Box::new(move |calls| {
                        boxed(Ok(Box::new(EngineRelay::start(
                            calls,
                            DriverKind::IoUring,
                            pin,
                        )?)))
                    }),
                ),
                "serve" => {
                    let spec = serve_spec(args, daemon_cpu(args))?;
                    (
                        "serve",
                        Box::new(move |calls| boxed(Ok(Box::new(NgRelay::start(&spec, calls)?)))),
                    )
                }
                "rtpengine" => match rtpengine_spec(args, daemon_cpu(args)) {
                    Ok(spec) => (
                        "rtpengine",
                        Box::new(move |calls| boxed(Ok(Box::new(NgRelay::start(&spec, calls)?)))),
                    ),
                    Err(why) => {
                        absent.push(("rtpengine".to_string(), why));
                        continue;
                    }
                },
                other => bail!(
                    "--relays: unknown relay {other:?} (raw, mio, io-uring, serve, rtpengine)"
                ),
            };
        out.push(Contender {
            name: label.to_string(),
            start,
        });
    }
    Ok((out, absent))
}

/// The capacity section.
pub(super) fn capacity(
    args: &Args,
    targets: &Targets,
    summary: &mut Summary,
    verdict: &mut Verdict,
) -> Result<()> {
    let (mode, duration) = load_run(args, 8)?;
    let (mut contenders, absent) = contenders(args)?;
    let steps = args.calls.len() * args.rounds * contenders.len();
    let progress = LabProgress::steps(args.quiet, "capacity", steps);
    for (name, why) in &absent {
        progress.note(&format!("capacity: {name} skipped: {why}"));
    }
    let c = compare(
        &mut contenders,
        &args.calls,
        args.rounds,
        duration,
        &mode,
        &mut |p| match p {
            Progress::Starting {
                relay,
                calls,
                round,
                ..
            } => progress.start(
                format!(
                    "{calls} calls, {relay}, round {}/{}",
                    round + 1,
                    args.rounds
                ),
                duration,
            ),
            Progress::Done(run) => {
                let r = &run.result;
                progress.stdout_line(&json_line(r));
                progress.note(&format!(
                    "  {} at {} calls: loss {:.3}%, p99 {:.0} µs, CPU {:.2} µs/packet",
                    r.relay,
                    r.calls,
                    r.report.loss_ratio * 100.0,
                    r.report.latency_p99_us,
                    r.cpu_us_per_packet
                ));
                progress.done();
            }
            Progress::Failed(f) => {
                progress.note(&format!(
                    "  {} at {} calls: not measured: {}",
                    f.relay, f.calls, f.error
                ));
                progress.done();
            }
            _ => {}
        },
    );
    progress.finish();
    let refs: Vec<&str> = ["raw", "rtpengine"]
        .into_iter()
        .filter(|r| c.relays.iter().any(|x| x == r))
        .collect();
    println!(
        "\n## capacity: medians of {} round(s), {} s per run\n\n```\n{}```",
        args.rounds,
        duration.as_secs(),
        c.table(&refs)
    );
    print_shards(&c);
    super::timing::print_timing(&c, summary);
    capacity_rows(args, targets, &c, &absent, summary, verdict);
    Ok(())
}

/// How serve's calls spread over its shards, per level (the last round's).
fn print_shards(c: &Comparison) {
    for calls in c.levels() {
        if let Some(spread) = c
            .runs_of("serve", calls)
            .filter_map(|r| r.result.shards.as_ref())
            .last()
            .filter(|s| s.shards.len() > 1)
        {
            println!(
                "\nserve, {} shards, {calls} calls:\n```\n{}```",
                spread.shards.len(),
                spread.text()
            );
        }
    }
}

fn capacity_rows(
    args: &Args,
    targets: &Targets,
    c: &Comparison,
    absent: &Absent,
    summary: &mut Summary,
    verdict: &mut Verdict,
) {
    let p99 = targets.get("p99-us");
    for f in &c.failures {
        summary.row(
            format!("{} at {} calls", f.relay, f.calls),
            format!("not measured: {}", f.error),
        );
    }
    for name in &c.relays {
        let best = c.highest_clean(name);
        summary.row(
            format!("{name}: most calls with ≤0.1% loss"),
            best.as_ref().map_or("none".into(), |b| b.calls.to_string()),
        );
        if let Some(b) = &best {
            summary.row(
                format!("{name}: p50/p99/p99.9 added latency at {} calls", b.calls),
                format!(
                    "{:.0}/{:.0}/{:.0} µs",
                    b.latency_p50_us, b.latency_p99_us, b.latency_p999_us
                ),
            );
        }
        if ENGINE_RELAYS.contains(&name.as_str()) {
            match &best {
                Some(b) => {
                    verdict.measured(
                        p99,
                        format!("{name} at {} calls", b.calls),
                        b.latency_p99_us,
                    );
                }
                None => verdict.missed(p99, name.clone(), "no level within 0.1% loss"),
            }
        }
        for calls in c.levels() {
            let Some(s) = c.summary(name, calls) else {
                continue;
            };
            let mut value = format!("{:.2} µs", s.cpu_us_per_packet);
            for (reference, target) in [("raw", "cpu-vs-raw"), ("rtpengine", "cpu-vs-rtpengine")] {
                let Some(x) = c
                    .paired_ratio(name, reference, calls)
                    .filter(|_| name != reference)
                else {
                    continue;
                };
                value.push_str(&format!(", {x:.2}× {reference}"));
                let applies = match target {
                    "cpu-vs-raw" => ENGINE_RELAYS.contains(&name.as_str()),
                    _ => name == "serve",
                };
                if applies {
                    verdict.measured(targets.get(target), format!("{name} at {calls} calls"), x);
                }
            }
            summary.row(
                format!("{name}: CPU per forwarded packet at {calls} calls"),
                value,
            );
        }
    }
    let ran = |n: &str| c.relays.iter().any(|x| x == n);
    let vs_rtpengine = targets.get("cpu-vs-rtpengine");
    if ran("serve") {
        if let Some((_, why)) = absent.iter().find(|(n, _)| n == "rtpengine") {
            verdict.not_measured(vs_rtpengine, "serve", why.clone());
        } else if ran("rtpengine")
            && c.levels()
                .iter()
                .all(|&l| c.paired_ratio("serve", "rtpengine", l).is_none())
        {
            let why = c
                .failures
                .iter()
                .map(|f| format!("{} at {}: {}", f.relay, f.calls, f.error))
                .next()
                .unwrap_or_else(|| "no level where both were measured".into());
            verdict.not_measured(vs_rtpengine, "serve", why);
        }
    }
    if ran("serve") && args.shards > 1 {
        let cross = targets.get("cross-shard");
        for calls in c.levels() {
            let spreads: Vec<u64> = c
                .runs_of("serve", calls)
                .filter_map(|r| r.result.shards.as_ref().map(|s| s.cross_shard()))
                .collect();
            let subject = format!("serve, {} shards, at {calls} calls", args.shards);
            match spreads.iter().max() {
                Some(&worst) => {
                    verdict.measured(cross, subject, worst as f64);
                }
                None => verdict.not_measured(cross, subject, "no per-shard counters"),
            }
        }
    }
}

/// The call set-up section.
pub(super) fn setup(
    args: &Args,
    targets: &Targets,
    summary: &mut Summary,
    verdict: &mut Verdict,
) -> Result<()> {
    let mut specs = vec![serve_spec(args, daemon_cpu(args))?];
    let target = targets.get("setup-vs-rtpengine");
    let absent = match rtpengine_spec(args, daemon_cpu(args)) {
        Ok(s) => {
            specs.push(s);
            None
        }
        Err(why) => Some(why),
    };
    let config = SetupConfig {
        calls: args.setup_calls.max(1),
        window: args.setup_window.max(1),
        cpu: (!args.no_pin).then_some(1),
        ..SetupConfig::default()
    };
    let progress = LabProgress::steps(args.quiet, "set-up", args.setup_rounds * specs.len());
    if let Some(why) = &absent {
        progress.note(&format!("set-up: rtpengine skipped: {why}"));
    }
    let c = compare_setups(
        &specs,
        &config,
        args.setup_rounds,
        &mut |relay, round, r| match r {
            None => progress.start(
                format!(
                    "{} calls, {relay}, round {}/{}",
                    config.calls,
                    round + 1,
                    args.setup_rounds
                ),
                Duration::ZERO,
            ),
            Some(r) => {
                progress.stdout_line(&serde_json::to_string(r).unwrap_or_default());
                progress.done();
            }
        },
    )?;
    progress.finish();
    println!(
        "\n## call set-up over ng: medians of {} round(s), {} calls each, {} in flight\n\n```\n{}```",
        args.setup_rounds,
        config.calls,
        config.window,
        setup_table(&c)
    );
    for relay in &c.relays {
        if let Some(rate) = c.median_of(relay, |r| r.setups_per_s) {
            summary.row(
                format!("{relay}: call set-ups (offer, answer, delete) per second"),
                format!("{rate:.0}"),
            );
        }
    }
    match (c.paired_rate_ratio("serve", "rtpengine"), absent) {
        (Some(x), _) => {
            summary.row("serve: set-up rate vs rtpengine", format!("{x:.2}×"));
            verdict.measured(target, "serve vs rtpengine", x);
        }
        (None, Some(why)) => verdict.not_measured(target, "serve vs rtpengine", why),
        (None, None) => verdict.not_measured(target, "serve vs rtpengine", "no paired round"),
    }
    Ok(())
}

fn setup_table(c: &SetupComparison) -> String {
    let rows: Vec<Vec<String>> = c
        .relays
        .iter()
        .map(|relay| {
            let m = |f: fn(&tandem_load::setup_rate::SetupReport) -> f64| {
                c.median_of(relay, f).unwrap_or(f64::NAN)
            };
            vec![
                relay.clone(),
                format!("{:.0}", m(|r| r.setups_per_s)),
                format!(
                    "{:.0}/{:.0}/{:.0}",
                    m(|r| r.offer.p50_us),
                    m(|r| r.offer.p99_us),
                    m(|r| r.offer.p999_us)
                ),
                format!(
                    "{:.0}/{:.0}/{:.0}",
                    m(|r| r.answer.p50_us),
                    m(|r| r.answer.p99_us),
                    m(|r| r.answer.p999_us)
                ),
                format!(
                    "{:.0}/{:.0}/{:.0}",
                    m(|r| r.delete.p50_us),
                    m(|r| r.delete.p99_us),
                    m(|r| r.delete.p999_us)
                ),
                format!("{:.1}", m(|r| r.cpu_us_per_setup)),
                format!("{:.0}", m(|r| r.retransmits as f64)),
            ]
        })
        .collect();
    aligned_table(
        &[
            "relay",
            "set-ups/s",
            "offer p50/p99/p99.9 µs",
            "answer p50/p99/p99.9 µs",
            "delete p50/p99/p99.9 µs",
            "CPU µs/set-up",
            "retransmits",
        ],
        &rows,
        1,
    )
}
