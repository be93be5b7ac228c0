//! `tandem sim`: run a call-centre scenario and print the four-stage loss report.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use tandem_sim::scenario::BUILT_IN;
use tandem_sim::{Scenario, simulate};

/// Arguments of `tandem sim`.
#[derive(clap::Args)]
pub struct Args {
    /// Scenario: a TOML file or a built-in name (default: tv-burst).
    #[arg(long)]
    scenario: Option<String>,
    /// List the built-in scenarios.
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
    /// Worker threads for replications (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
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

/// Runs `tandem sim`.
pub fn run(args: Args) -> Result<()> {
    if args.list {
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
        return Ok(());
    }
    let mut sc = load(args.scenario.as_deref())?;
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
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let bar = if args.json || args.quiet {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(u64::from(sc.replications));
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {pos}/{len} replications ({elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b.set_message(sc.name.clone());
        b
    };
    let started = Instant::now();
    let report = simulate(&sc, threads, &|n| bar.set_position(u64::from(n)))?;
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
