//! `tandem bench`: the capacity harness and the simulator benchmark, summarised in one
//! table a person can paste into an issue.
//!
//! Sections:
//! - **capacity**: N bridged calls over loopback through the raw recvmmsg/sendmmsg relay and
//!   through the engine (each UDP driver), 50 packets/s per direction per leg, from a load
//!   generator in a separate process (this binary's hidden `loadgen` subcommand). Each relay
//!   steps through the levels until one loses more than 0.1%.
//! - **media**: mixing cost per participant, a jitter-buffer cycle, and concurrent stereo
//!   recordings on one shard.
//! - **sim**: simulated calls per second on the 1,000,000-call M/M/500+M model, and the
//!   default scenario's wall time.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tandem_engine::DriverKind;
use tandem_load::rigs::{JitterRig, MixRig, recording_load, scenarios};
use tandem_load::{
    EngineRelay, LevelResult, RawRelay, Relay, json_line, run_levels_observed, table,
};
use tandem_sim::{Scenario, simulate};

/// Arguments of `tandem bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Load levels (bridged calls) for the capacity harness.
    #[arg(long, value_delimiter = ',', default_value = "100,250,500,1000,2000")]
    calls: Vec<usize>,
    /// Seconds of load per level.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Relays to measure: raw, mio, io-uring.
    #[arg(long, value_delimiter = ',', default_value = "raw,mio,io-uring")]
    relays: Vec<String>,
    /// Concurrent stereo recordings in the media section.
    #[arg(long, default_value_t = 1000)]
    recordings: usize,
    /// A short run (small levels, 2 s each, 200 recordings): checks the harness works.
    #[arg(long)]
    quick: bool,
    /// Sections to skip: capacity, media, sim.
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
    /// Do not pin the engine's shard to core 0 and the load generator to core 1.
    #[arg(long)]
    no_pin: bool,
}

struct Row {
    what: String,
    value: String,
    target: String,
}

fn row(
    rows: &mut Vec<Row>,
    what: impl Into<String>,
    value: impl Into<String>,
    target: impl Into<String>,
) {
    let r = Row {
        what: what.into(),
        value: value.into(),
        target: target.into(),
    };
    eprintln!("  {:<52} {:>18}  {}", r.what, r.value, r.target);
    rows.push(r);
}

/// Runs `tandem bench`.
pub fn run(mut args: Args) -> Result<()> {
    if args.quick {
        args.calls = vec![50, 200];
        args.seconds = 2;
        args.recordings = args.recordings.min(200);
    }
    for s in &args.skip {
        if !["capacity", "media", "sim"].contains(&s.as_str()) {
            bail!("--skip: unknown section {s:?} (capacity, media, sim)");
        }
    }
    let mut rows = Vec::new();
    if !args.skip.iter().any(|s| s == "capacity") {
        capacity(&args, &mut rows)?;
    }
    if !args.skip.iter().any(|s| s == "media") {
        media(&args, &mut rows)?;
    }
    if !args.skip.iter().any(|s| s == "sim") {
        sim(&mut rows)?;
    }
    println!(
        "\n## tandem bench summary ({} cores)\n",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| measurement | value | target |");
    println!("|---|---:|---|");
    for r in &rows {
        println!("| {} | {} | {} |", r.what, r.value, r.target);
    }
    Ok(())
}

fn capacity(args: &Args, rows: &mut Vec<Row>) -> Result<()> {
    let mode = super::load::loadgen_subprocess(!args.no_pin, 1)?;
    let duration = Duration::from_secs(args.seconds);
    let pin = !args.no_pin;
    let mut all: Vec<LevelResult> = Vec::new();
    for name in &args.relays {
        let mut factory: Box<dyn FnMut(usize) -> std::io::Result<Box<dyn Relay>>> = match name
            .as_str()
        {
            "raw" => Box::new(move |calls| {
                let ip = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
                let r = RawRelay::start_pinned(calls, ip, pin.then_some(0))?;
                Ok(Box::new(r) as Box<dyn Relay>)
            }),
            "mio" => Box::new(move |calls| {
                Ok(Box::new(EngineRelay::start(calls, DriverKind::Mio, pin)?) as Box<dyn Relay>)
            }),
            "io-uring" => Box::new(move |calls| {
                Ok(
                    Box::new(EngineRelay::start(calls, DriverKind::IoUring, pin)?)
                        as Box<dyn Relay>,
                )
            }),
            other => bail!("--relays: unknown relay {other:?} (raw, mio, io-uring)"),
        };
        eprintln!("capacity: {name}");
        let results =
            match run_levels_observed(&mut *factory, &args.calls, duration, &mode, &mut |r| {
                println!("{}", json_line(r));
            }) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("  {name}: not measured: {e}");
                    row(
                        rows,
                        format!("capacity {name}"),
                        "not measured",
                        e.to_string(),
                    );
                    continue;
                }
            };
        all.extend(results);
    }
    eprintln!("\n{}", table(&all));
    // Summaries: the highest level without loss per relay, and the engine/raw CPU ratio
    // at each level both completed.
    for name in ["raw", "engine-mio", "engine-uring"] {
        let mine: Vec<&LevelResult> = all.iter().filter(|r| r.relay == name).collect();
        if mine.is_empty() {
            continue;
        }
        let clean = mine
            .iter()
            .filter(|r| !r.over_loss_limit())
            .map(|r| r.calls)
            .max();
        row(
            rows,
            format!("{name}: most calls with ≤0.1% loss"),
            clean.map_or("none".into(), |c| c.to_string()),
            "",
        );
        if let Some(best) = mine
            .iter()
            .filter(|r| !r.over_loss_limit())
            .max_by_key(|r| r.calls)
        {
            row(
                rows,
                format!("{name}: p50/p99/p99.9 latency at {} calls", best.calls),
                format!(
                    "{:.0}/{:.0}/{:.0} µs",
                    best.report.latency_p50_us,
                    best.report.latency_p99_us,
                    best.report.latency_p999_us
                ),
                if name == "raw" {
                    ""
                } else {
                    "p99 ≤ 1,000 µs"
                },
            );
        }
        if name != "raw" {
            for r in &mine {
                if let Some(raw) = all.iter().find(|x| x.relay == "raw" && x.calls == r.calls) {
                    row(
                        rows,
                        format!("{name}: CPU per packet vs raw at {} calls", r.calls),
                        format!(
                            "{:.2} / {:.2} µs = {:.2}×",
                            r.cpu_us_per_packet,
                            raw.cpu_us_per_packet,
                            r.cpu_us_per_packet / raw.cpu_us_per_packet
                        ),
                        "≤ 1.25×",
                    );
                }
            }
        }
    }
    Ok(())
}

/// Median of `runs` timings of `iters` calls of `f`, per call.
fn time_per_call(runs: usize, iters: usize, f: &mut dyn FnMut()) -> Duration {
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            for _ in 0..iters {
                f();
            }
            s.elapsed() / iters as u32
        })
        .collect();
    t.sort();
    t[t.len() / 2]
}

fn media(args: &Args, rows: &mut Vec<Row>) -> Result<()> {
    eprintln!("media");
    for n in [3usize, 10, 100, 1000] {
        let mut rig = MixRig::new(n);
        let per_tick = time_per_call(9, (20_000 / n).max(20), &mut || {
            black_box(rig.tick());
        });
        row(
            rows,
            format!("mix: per participant per tick, N = {n}"),
            format!("{:.3} µs", per_tick.as_secs_f64() * 1e6 / n as f64),
            "≤ 0.5 µs",
        );
    }
    let mut jb = JitterRig::new();
    let t = time_per_call(9, 20_000, &mut || {
        black_box(jb.cycle());
    });
    row(
        rows,
        "jitter buffer: one packet in, one frame out",
        format!("{:.0} ns", t.as_secs_f64() * 1e9),
        "",
    );
    let dir = tempfile::tempdir().context("temporary directory for recordings")?;
    let secs = if args.quick { 3 } else { 10 };
    let r = recording_load(args.recordings, secs, dir.path()).context("recording load")?;
    row(
        rows,
        format!(
            "{} stereo PCM16 recordings on one shard, {secs} s",
            r.recordings
        ),
        format!("{} dropped frames", r.dropped_frames),
        "0 dropped",
    );
    row(
        rows,
        "  disk write rate",
        format!("{:.1} MB/s", r.disk_bytes_per_s / 1e6),
        "",
    );
    row(
        rows,
        "  shard busy (share of one core)",
        format!("{:.1}%", r.shard_busy * 100.0),
        "",
    );
    Ok(())
}

fn sim(rows: &mut Vec<Row>) -> Result<()> {
    eprintln!("sim");
    let sc = scenarios::mmnm_500_million();
    let mut best = Duration::MAX;
    let mut offered = 0.0;
    for _ in 0..3 {
        let s = Instant::now();
        let r = simulate(&sc, 1, &|_| {}).map_err(|e| anyhow::anyhow!("{e}"))?;
        best = best.min(s.elapsed());
        offered = r.counts.offered;
    }
    row(
        rows,
        "sim: M/M/500+M, simulated calls per second",
        format!("{:.2} M/s", offered / best.as_secs_f64() / 1e6),
        "≥ 5 M/s",
    );
    let tv = Scenario::built_in("tv-burst").map_err(|e| anyhow::anyhow!("{e}"))?;
    let s = Instant::now();
    let r = simulate(&tv, 1, &|_| {}).map_err(|e| anyhow::anyhow!("{e}"))?;
    row(
        rows,
        format!(
            "sim: tv-burst ({} calls), one replication",
            r.counts.offered
        ),
        format!("{:.1} ms", s.elapsed().as_secs_f64() * 1e3),
        "",
    );
    Ok(())
}
