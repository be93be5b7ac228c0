//! `tandem sim`: run a call-centre scenario and print the four-stage loss report; with
//! `--compare`, several scenarios side by side; with `--drive`, the calls as media.

mod compare;
mod drive;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use tandem_sim::scenario::{BUILT_IN, BUILT_IN_SETS};
use tandem_sim::{Scenario, simulate};

use crate::ui::progress;

/// Arguments of `tandem sim`.
#[derive(clap::Args)]
pub struct Args {
    /// Scenario: a TOML file or a built-in name (default: tv-burst).
    #[arg(long, conflicts_with = "compare")]
    scenario: Option<String>,
    /// Run these scenarios (files, built-in names, or a built-in set such as
    /// tv-burst-compare) with common random numbers and report every KPI side by side, with
    /// each one's difference from the first and its confidence interval.
    #[arg(long, num_args = 1.., value_name = "SCENARIO", conflicts_with = "drive")]
    compare: Vec<String>,
    /// List the built-in scenarios and sets.
    #[arg(long)]
    list: bool,
    /// Print one JSON object on stdout instead of the text report.
    #[arg(long)]
    json: bool,
    /// Also write a self-contained HTML report here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override the scenario's number of replications.
    #[arg(long)]
    replications: Option<u32>,
    /// Override the SL threshold T in seconds.
    #[arg(long)]
    sl_threshold: Option<f64>,
    /// Confidence level of the intervals: 0.90, 0.95 or 0.99 (Student t across
    /// replications; default: the scenario's, 0.95 unless it says otherwise).
    #[arg(long)]
    ci_level: Option<f64>,
    /// Worker threads for replications (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Raise (or lower) the limit on the events the whole run may be estimated to process
    /// (the scenario's `[limits] max_events`; default 5e9).
    #[arg(long)]
    max_events: Option<f64>,
    /// Raise (or lower) the limit on the memory the run may be estimated to hold, MiB (the
    /// scenario's `[limits] max_memory_mib`; default 2048).
    #[arg(long)]
    max_memory_mib: Option<f64>,
    /// No progress bar (there is none either when stderr is not a terminal).
    #[arg(long)]
    quiet: bool,
    /// Drive mode: run every call as real media through the engine (one replication).
    #[arg(long)]
    drive: bool,
    /// Drive mode's transport: memory (virtual clock) or udp (127.0.0.1, real time).
    #[arg(long, default_value = "memory", requires = "drive")]
    transport: String,
    /// Drive mode: simulated seconds per media second (compresses the whole run).
    #[arg(long, default_value_t = 1.0, requires = "drive")]
    time_scale: f64,
    /// Drive mode: record every conversation (as the scenario key `record = true`).
    #[arg(long, requires = "drive")]
    record: bool,
    /// Drive mode: directory for recordings (implies --record; default: a new temporary
    /// directory).
    #[arg(long, requires = "drive")]
    record_dir: Option<PathBuf>,
    /// Drive mode: recording encoding, pcm16 or ulaw.
    #[arg(long, default_value = "pcm16", requires = "drive")]
    record_encoding: String,
    /// Drive mode: fraction of conversations a supervisor listens to (overrides the
    /// scenario's `supervisor_fraction`).
    #[arg(long, requires = "drive")]
    supervisor_fraction: Option<f64>,
    /// Drive mode, memory transport: one-way delay of every simulated link, ms.
    #[arg(long, default_value_t = 1.0, requires = "drive")]
    net_delay_ms: f64,
    /// Drive mode, memory transport: extra delay per datagram, uniform in 0..=this, ms.
    #[arg(long, default_value_t = 0.0, requires = "drive")]
    net_jitter_ms: f64,
    /// Drive mode, memory transport: loss per datagram per link, percent.
    #[arg(long, default_value_t = 0.0, requires = "drive")]
    net_loss_pct: f64,
    /// Drive mode: engine shards.
    #[arg(long, default_value_t = 1, requires = "drive")]
    shards: usize,
    /// Drive mode, a scenario with an IVR flow: how the phones key the callers' choices,
    /// rfc4733 (telephone-events) or inband (tones in the audio).
    #[arg(long, default_value = "rfc4733", requires = "drive")]
    dtmf: String,
    /// Drive mode: write one CSV line per conversation (loss, jitter, latency, R, MOS).
    #[arg(long, requires = "drive")]
    calls_csv: Option<PathBuf>,
}

/// Loads a scenario from a path or a built-in name.
pub fn load(spec: Option<&str>) -> Result<Scenario> {
    let spec = spec.unwrap_or("tv-burst");
    if BUILT_IN.iter().any(|(n, _)| *n == spec) {
        return Ok(Scenario::built_in(spec)?);
    }
    let path = PathBuf::from(spec);
    if !path.exists() {
        bail!(
            "no scenario file `{spec}` and no built-in scenario of that name (see `tandem sim --list`)"
        );
    }
    Ok(Scenario::load(&path)?)
}

/// Applies the overrides every mode shares: seed, replications, SL threshold, CI level.
fn apply_overrides(args: &Args, sc: &mut Scenario) -> Result<()> {
    if let Some(s) = args.seed {
        sc.seed = s;
    }
    if let Some(r) = args.replications {
        if r == 0 {
            bail!("--replications must be at least 1");
        }
        sc.replications = r;
    }
    if let Some(t) = args.sl_threshold {
        if t.is_nan() || t < 0.0 {
            bail!("--sl-threshold must be ≥ 0");
        }
        sc.sl_threshold_s = t;
    }
    if let Some(l) = args.ci_level {
        if tandem_sim::report::CI_LEVELS
            .iter()
            .all(|c| (c - l).abs() > 1e-9)
        {
            bail!("--ci-level must be 0.90, 0.95 or 0.99, got {l}");
        }
        sc.ci_level = l;
    }
    if let Some(n) = args.max_events {
        if !(1.0..=1e13).contains(&n) {
            bail!("--max-events must be in [1, 1e13]");
        }
        sc.limits.max_events = n;
    }
    if let Some(m) = args.max_memory_mib {
        if !(1.0..=1e7).contains(&m) {
            bail!("--max-memory-mib must be in [1, 1e7]");
        }
        sc.limits.max_memory_mib = m;
    }
    sc.validate()?;
    Ok(())
}

fn threads(args: &Args) -> usize {
    args.threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

fn list() -> Result<()> {
    for (name, _) in BUILT_IN {
        let s = Scenario::built_in(name)?;
        println!(
            "{name:<20} {}",
            s.description
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    println!("\nSets for --compare:");
    for (name, what, members) in BUILT_IN_SETS {
        println!("{name:<20} {what}: {}", members.join(", "));
    }
    Ok(())
}

/// Runs `tandem sim`.
pub fn run(args: Args) -> Result<()> {
    if args.list {
        return list();
    }
    if !args.compare.is_empty() {
        return compare::run(&args);
    }
    let mut sc = load(args.scenario.as_deref())?;
    if args.drive {
        if args.replications.is_some_and(|r| r != 1) {
            bail!("--drive runs one replication (drop --replications or pass 1)");
        }
        sc.replications = 1;
    }
    apply_overrides(&args, &mut sc)?;
    if args.drive {
        return drive::run(&args, sc);
    }
    let bar = progress::bar(
        u64::from(sc.replications),
        "replications",
        sc.name.clone(),
        args.quiet || args.json,
    );
    let started = Instant::now();
    let report = simulate(&sc, threads(&args), &|n| bar.set_position(u64::from(n)))?;
    bar.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    if let Some(path) = &args.html {
        std::fs::write(path, tandem_sim::html::render(&report, &sc))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.to_text());
        println!(
            "\nsimulated {:.0} calls × {} replication(s) in {:.2} s wall time",
            report.counts.offered, report.replications, wall
        );
        if let Some(path) = &args.html {
            println!("HTML report: {}", path.display());
        }
    }
    Ok(())
}
