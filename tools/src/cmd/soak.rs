//! `tandem soak`: `tandem serve` under call churn with hostile traffic for a long time
//! (default 30 minutes at 1,000 concurrent calls), watched from outside, with a verdict:
//! memory and descriptors flat, nothing left after the last delete, no missed tick at the
//! 99.9th percentile, no foreign media delivered to a party (`tandem_load::soak`).
//!
//! The daemon is this executable's `serve` subcommand, started on 127.0.0.1 with free ports
//! and stopped by its PID at the end. It is a benchmark: run it on a machine that is not
//! busy with anything else, with a release build.

use std::io::Write as _;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tandem_load::soak::{SoakConfig, run_soak};
use tandem_load::{DaemonKind, DaemonSpec, RelayDaemon};

/// Arguments of `tandem soak`.
#[derive(clap::Args)]
pub struct Args {
    /// Calls live at once.
    #[arg(long, default_value_t = 1_000)]
    calls: usize,
    /// Minutes of churn.
    #[arg(long, default_value_t = 30.0)]
    minutes: f64,
    /// Seconds each call streams before it is deleted (with --calls, the churn rate:
    /// calls / hold set-ups and deletes per second).
    #[arg(long, default_value_t = 20.0)]
    hold: f64,
    /// Cohorts the calls are split into, starting staggered over one holding time.
    #[arg(long, default_value_t = 10)]
    cohorts: usize,
    /// Seconds between samples of the daemon.
    #[arg(long, default_value_t = 10.0)]
    sample_every: f64,
    /// No hostile traffic: churn alone.
    #[arg(long)]
    no_hostile: bool,
    /// The daemon's shards.
    #[arg(long, default_value_t = 1)]
    shards: usize,
    /// The daemon's UDP driver (`auto`, `mio`, `io-uring`).
    #[arg(long, default_value = "auto")]
    driver: String,
    /// Print the report as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Seconds as a duration, refusing what is not a positive finite number.
fn seconds(name: &str, s: f64) -> Result<Duration> {
    if !(s.is_finite() && s > 0.0) {
        bail!("--{name} must be a positive number of seconds, not {s}");
    }
    Ok(Duration::from_secs_f64(s))
}

/// Runs `tandem soak`.
pub fn run(a: Args) -> Result<()> {
    let config = SoakConfig {
        calls: a.calls,
        cohorts: a.cohorts,
        hold: seconds("hold", a.hold)?,
        duration: seconds("minutes", a.minutes * 60.0)?,
        sample_every: seconds("sample-every", a.sample_every)?,
        hostile: !a.no_hostile,
    };
    config.validate().map_err(anyhow::Error::msg)?;
    let spec = DaemonSpec {
        kind: DaemonKind::Serve {
            exe: std::env::current_exe()?,
            args_prefix: vec!["serve".into()],
            driver: a.driver.clone(),
        },
        threads: a.shards,
        cpu: None,
    };
    // Room for the cohort turning over on top of the calls live.
    let room = a.calls + a.calls.div_ceil(a.cohorts) + 16;
    let daemon = RelayDaemon::start(&spec, room).context("starting tandem serve")?;
    eprintln!(
        "soak: tandem serve (pid {}, ng {}) with {} calls for {:.1} min; a sample every {:.0} s",
        daemon.pid(),
        daemon.ng_addr(),
        a.calls,
        a.minutes,
        a.sample_every
    );
    let mut progress = |s: &tandem_load::soak::watch::Sample| {
        eprintln!(
            "  {:>6.0} s  RSS {:>7.1} MiB  FDs {:>5}  calls {:>5.0}  channels {:>5.0}  \
             port pairs {:>5.0}  ticks missed {:.0}",
            s.at_s,
            s.rss_kib as f64 / 1024.0,
            s.fds,
            s.calls,
            s.channels,
            s.port_pairs_in_use,
            s.ticks_missed
        );
    };
    let report = run_soak(&daemon, &config, &mut progress);
    let log = daemon.log_tail();
    daemon.stop();
    let report =
        report.with_context(|| format!("the soak failed; the daemon's log ends: {log}"))?;
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    } else {
        write!(out, "{}", report.text())?;
    }
    report.verdict.result()?;
    Ok(())
}
