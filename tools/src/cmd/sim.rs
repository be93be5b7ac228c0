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
    /// Raise (or lower) the limit on the events the whole run may be estimated to process
    /// (the scenario's `[limits] max_events`; default 5e9).
    #[arg(long)]
    max_events: Option<f64>,
    /// Raise (or lower) the limit on the memory the run may be estimated to hold, MiB (the
    /// scenario's `[limits] max_memory_mib`; default 2048).
    #[arg(long)]
    max_memory_mib: Option<f64>,
    /// No progress bar.
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
    if args.drive {
        if args.replications.is_none_or(|r| r == 1) {
            sc.replications = 1;
        } else {
            bail!("--drive runs one replication (drop --replications or pass 1)");
        }
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
    if args.drive {
        return run_drive(&args, sc);
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

/// `tandem sim --drive`: the scenario's calls as media through the engine.
fn run_drive(args: &Args, mut sc: Scenario) -> Result<()> {
    use tandem_codecs::wav::Encoding;
    use tandem_engine::NetworkConditions;
    use tandem_sim::drive::{DriveConfig, TransportKind, drive};

    let transport: TransportKind = args.transport.parse().map_err(anyhow::Error::msg)?;
    if args.record || args.record_dir.is_some() {
        sc.record = true;
    }
    if let Some(f) = args.supervisor_fraction {
        if !(0.0..=1.0).contains(&f) {
            bail!("--supervisor-fraction must be in [0, 1]");
        }
        sc.supervisor_fraction = f;
    }
    let ms = |name: &str, v: f64| -> Result<u64> {
        if !(v.is_finite() && v >= 0.0) {
            bail!("{name} must be ≥ 0");
        }
        Ok((v * 1000.0).round() as u64)
    };
    if !(0.0..100.0).contains(&args.net_loss_pct) {
        bail!("--net-loss-pct must be in [0, 100)");
    }
    if transport == TransportKind::Udp
        && (args.net_delay_ms != 1.0 || args.net_jitter_ms != 0.0 || args.net_loss_pct != 0.0)
    {
        bail!("--net-* options shape the memory transport's simulated network only");
    }
    let cfg = DriveConfig {
        transport,
        shards: args.shards.max(1),
        network: NetworkConditions {
            delay_us: ms("--net-delay-ms", args.net_delay_ms)?,
            jitter_us: ms("--net-jitter-ms", args.net_jitter_ms)?,
            loss: args.net_loss_pct / 100.0,
        },
        time_scale: args.time_scale,
        record_dir: args.record_dir.clone(),
        record_encoding: match args.record_encoding.as_str() {
            "pcm16" => Encoding::Pcm16,
            "ulaw" => Encoding::Ulaw,
            other => bail!("--record-encoding: {other:?} is not pcm16 or ulaw"),
        },
        ..DriveConfig::default()
    };
    if !args.quiet && !args.json {
        eprintln!(
            "driving {} through the engine ({} transport{})…",
            sc.name,
            args.transport,
            if cfg.time_scale != 1.0 {
                format!(", time compressed ×{}", cfg.time_scale)
            } else {
                String::new()
            }
        );
    }
    let d = drive(&sc, &cfg)?;
    if let Some(path) = &args.calls_csv {
        std::fs::write(path, d.drive.calls_csv())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.html {
        std::fs::write(path, tandem_sim::html::render(&d.report, &sc))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        let mut v = serde_json::to_value(&d.report)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("drive".into(), serde_json::to_value(&d.drive)?);
        }
        println!("{}", serde_json::to_string(&v)?);
    } else {
        print!("{}", d.report.to_text());
        print!("{}", d.drive.to_text());
        if let Some(path) = &args.calls_csv {
            println!("  per-call media: {}", path.display());
        }
    }
    if d.drive.counters.errors > 0 {
        bail!(
            "drive mode met {} error(s); first: {}",
            d.drive.counters.errors,
            d.drive
                .counters
                .first_errors
                .first()
                .map_or("", String::as_str)
        );
    }
    Ok(())
}
