//! `tandem bench`: the capacity harness, the call set-up benchmark, media costs and the
//! simulator benchmark, summarised in one table a person can paste into an issue, then each
//! stated target with its measured value and PASS or FAIL.
//!
//! Sections:
//! - **capacity**: N bridged calls over loopback through each relay — the raw
//!   recvmmsg/sendmmsg relay, the in-process engine (each UDP driver), `tandem serve` and
//!   rtpengine (both started by the harness and driven over ng) — 50 packets/s per direction
//!   per leg, from a load generator in a separate process (this binary's hidden `loadgen`
//!   subcommand), alternated at each level and round ([`tandem_load::compare`]); each relay
//!   climbs until a level loses more than 0.1%.
//! - **setup**: calls set up and deleted per second over ng, `tandem serve` against rtpengine,
//!   alternated ([`tandem_load::setup_rate`]).
//! - **media**: mixing cost per participant, a jitter-buffer cycle, and concurrent stereo
//!   recordings on one shard.
//! - **sim**: simulated calls per second on the 1,000,000-call M/M/500+M model, and the
//!   default scenario's wall time.
//!
//! - **overload** (only with `--overload`, alone): `tandem serve` at twice the highest level
//!   it carries within 0.1% loss, with admission control on; the delivered packets' p99
//!   added latency, the datagrams shed and the offers refused.
//!
//! The targets are [`tandem_load::verdict::BENCH_TARGETS`]; a missed one makes the exit
//! status 3 unless `--no-verdict` is given.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tandem_load::rigs::{JitterRig, MixRig, recording_load, scenarios};
use tandem_load::{Targets, Verdict};
use tandem_sim::{Scenario, simulate};

use super::lab_progress::LabProgress;

mod args;
mod overload;
mod relays;
mod summary;
mod timing;

pub use args::Args;
use summary::Summary;

/// Runs `tandem bench`.
pub fn run(mut args: Args) -> Result<()> {
    let mut targets = Targets::bench();
    for t in &args.targets {
        targets.set(t).map_err(anyhow::Error::msg)?;
    }
    if args.list_targets {
        print!("{}", targets.table());
        return Ok(());
    }
    if args.quick {
        args.calls = vec![50, 200];
        args.seconds = 2;
        args.recordings = args.recordings.min(200);
        args.setup_calls = args.setup_calls.min(500);
        args.setup_rounds = args.setup_rounds.min(3);
    }
    const SECTIONS: [&str; 4] = ["capacity", "setup", "media", "sim"];
    for s in &args.skip {
        if !SECTIONS.contains(&s.as_str()) {
            bail!("--skip: unknown section {s:?} (capacity, setup, media, sim)");
        }
    }
    if args.setup {
        args.skip = vec!["capacity".into(), "media".into(), "sim".into()];
    }
    if args.overload {
        args.skip = SECTIONS.iter().map(|s| s.to_string()).collect();
    }
    if args.shards == 0 || args.rounds == 0 {
        bail!("--shards and --rounds must be at least 1");
    }
    let runs = |s: &str| !args.skip.iter().any(|k| k == s);
    let load_before = load_average();
    let mut summary = Summary { rows: Vec::new() };
    let mut verdict = Verdict::new();
    if runs("capacity") {
        relays::capacity(&args, &targets, &mut summary, &mut verdict)?;
    }
    if runs("setup") {
        relays::setup(&args, &targets, &mut summary, &mut verdict)?;
    }
    if runs("media") {
        media(&args, &targets, &mut summary, &mut verdict)?;
    }
    if runs("sim") {
        sim(&args, &targets, &mut summary, &mut verdict)?;
    }
    if args.overload {
        overload::overload(&args, &targets, &mut summary, &mut verdict)?;
    }
    println!(
        "\n## tandem bench summary ({} cores; load average {} before, {} after)\n",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        load_before,
        load_average()
    );
    println!("| measurement | value |");
    println!("|---|---:|");
    for r in &summary.rows {
        println!("| {} | {} |", r.what, r.value);
    }
    println!("\n## Verdict\n\n{}", verdict.text());
    if args.no_verdict {
        return Ok(());
    }
    verdict.result().map_err(anyhow::Error::new)
}

/// The 1-minute load average from `/proc/loadavg` (how busy the machine was), or `?`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(String::from))
        .unwrap_or_else(|| "?".into())
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

fn media(
    args: &Args,
    targets: &Targets,
    summary: &mut Summary,
    verdict: &mut Verdict,
) -> Result<()> {
    let secs: u32 = if args.quick { 3 } else { 10 };
    let progress = LabProgress::steps(args.quiet, "media", 3);
    progress.start("mixing rooms of 3 to 1,000".into(), Duration::ZERO);
    let mix = targets.get("mix-us");
    for n in [3usize, 10, 100, 1000] {
        let mut rig = MixRig::new(n);
        let per_tick = time_per_call(9, (20_000 / n).max(20), &mut || {
            black_box(rig.tick());
        });
        let us = per_tick.as_secs_f64() * 1e6 / n as f64;
        let what = format!("mix: per participant per tick, N = {n}");
        summary.row(&what, mix.show(us));
        verdict.measured(mix, format!("rooms of {n}"), us);
    }
    progress.done();
    progress.start("jitter buffer".into(), Duration::ZERO);
    let mut jb = JitterRig::new();
    let t = time_per_call(9, 20_000, &mut || {
        black_box(jb.cycle());
    });
    summary.row(
        "jitter buffer: one packet in, one frame out",
        format!("{:.0} ns", t.as_secs_f64() * 1e9),
    );
    progress.done();
    progress.start(
        format!("{} stereo recordings", args.recordings),
        Duration::from_secs(u64::from(secs)),
    );
    let dir = tempfile::tempdir().context("temporary directory for recordings")?;
    let r = recording_load(args.recordings, secs, dir.path()).context("recording load")?;
    progress.finish();
    let drops = targets.get("recording-drops");
    summary.row(
        format!(
            "{} stereo PCM16 recordings on one shard, {secs} s",
            r.recordings
        ),
        format!("{} dropped frames", r.dropped_frames),
    );
    verdict.measured(
        drops,
        format!("{} recordings for {secs} s", r.recordings),
        r.dropped_frames as f64,
    );
    summary.row(
        "  disk write rate",
        format!("{:.1} MB/s", r.disk_bytes_per_s / 1e6),
    );
    summary.row(
        "  shard busy (share of one core)",
        format!("{:.1}%", r.shard_busy * 100.0),
    );
    Ok(())
}

fn sim(args: &Args, targets: &Targets, summary: &mut Summary, verdict: &mut Verdict) -> Result<()> {
    let progress = LabProgress::steps(args.quiet, "sim", 4);
    let sc = scenarios::mmnm_500_million();
    let mut best = Duration::MAX;
    let mut offered = 0.0;
    for i in 0..3 {
        progress.start(
            format!("M/M/500+M, 1,000,000 calls, run {}/3", i + 1),
            Duration::ZERO,
        );
        let s = Instant::now();
        let r = simulate(&sc, 1, &|_| {}).map_err(|e| anyhow::anyhow!("{e}"))?;
        best = best.min(s.elapsed());
        offered = r.counts.offered;
        progress.done();
    }
    let rate = offered / best.as_secs_f64() / 1e6;
    let target = targets.get("sim-rate");
    summary.row(
        "sim: M/M/500+M, simulated calls per second",
        target.show(rate),
    );
    verdict.measured(target, "M/M/500+M, best of 3", rate);
    progress.start("tv-burst".into(), Duration::ZERO);
    let tv = Scenario::built_in("tv-burst").map_err(|e| anyhow::anyhow!("{e}"))?;
    let s = Instant::now();
    let r = simulate(&tv, 1, &|_| {}).map_err(|e| anyhow::anyhow!("{e}"))?;
    progress.finish();
    summary.row(
        format!(
            "sim: tv-burst ({} calls), one replication",
            r.counts.offered
        ),
        format!("{:.1} ms", s.elapsed().as_secs_f64() * 1e3),
    );
    Ok(())
}
