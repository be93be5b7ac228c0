//! `tandem capacity`: the most concurrent calls the engine carries on UDP within a quality
//! target.
//!
//! Starts an in-process engine with N bridged calls (one shard, the capacity harness's
//! `EngineRelay`), drives it for a few seconds from a load generator in its own process
//! (this binary's hidden `loadgen`), and raises N geometrically until the target breaks:
//! more than 0.1% loss or a p99 one-way latency over 20 ms (both adjustable). Prints every
//! level measured and the highest one sustained, with its figures.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use tandem_load::{EngineRelay, LevelResult, geometric_levels, json_line, run_level, table};
use tandem_udp::raise_open_files_limit;

use super::load::{driver_kind, loadgen_subprocess, report_text};

/// Arguments of `tandem capacity`.
#[derive(clap::Args)]
pub struct Args {
    /// First level (concurrent bridged calls).
    #[arg(long, default_value_t = 250)]
    from: usize,
    /// Highest level tried.
    #[arg(long, default_value_t = 20_000)]
    to: usize,
    /// Each level is this many times the previous.
    #[arg(long, default_value_t = 1.5)]
    factor: f64,
    /// Seconds of load per level.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// UDP driver: mio or io-uring.
    #[arg(long, default_value = "mio")]
    driver: String,
    /// Quality target: most loss, percent.
    #[arg(long, default_value_t = 0.1)]
    max_loss_pct: f64,
    /// Quality target: highest p99 one-way latency, ms.
    #[arg(long, default_value_t = 20.0)]
    max_p99_ms: f64,
    /// Load generator threads.
    #[arg(long, default_value_t = 1)]
    loadgen_threads: usize,
    /// Do not pin the engine to core 0 and the generator to core 1.
    #[arg(long)]
    no_pin: bool,
    /// Print one JSON line per level, then the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Whether a level met the target.
fn sustained(r: &LevelResult, max_loss_pct: f64, max_p99_ms: f64) -> bool {
    r.report.loss_ratio * 100.0 <= max_loss_pct
        && r.report.latency_p99_us <= max_p99_ms * 1000.0
        && r.report.received > 0
}

/// Runs `tandem capacity`.
pub fn run(args: Args) -> Result<()> {
    if args.from == 0 || args.to < args.from {
        bail!("need 1 ≤ --from ≤ --to");
    }
    if args.factor.is_nan() || args.factor <= 1.0 {
        bail!("--factor must be above 1");
    }
    let levels = geometric_levels(args.from, args.to, args.factor);
    let driver = driver_kind(&args.driver)?;
    let pin = !args.no_pin;
    let mode = loadgen_subprocess(pin, args.loadgen_threads)?;
    let duration = Duration::from_secs(args.seconds.max(1));
    raise_open_files_limit(2 * args.to as u64 + 256).context("raising the open-files limit")?;
    let mut results: Vec<LevelResult> = Vec::new();
    let mut best: Option<usize> = None;
    for calls in levels {
        if !args.json {
            eprintln!("capacity: {calls} calls for {} s…", duration.as_secs());
        }
        let relay = EngineRelay::start(calls, driver, pin)
            .with_context(|| format!("starting the engine with {calls} calls"))?;
        let r = run_level(Box::new(relay), duration, &mode)
            .with_context(|| format!("measuring {calls} calls"))?;
        let ok = sustained(&r, args.max_loss_pct, args.max_p99_ms);
        if args.json {
            println!("{}", json_line(&r));
        } else {
            eprintln!(
                "  loss {:.4}%, p99 {:.2} ms, engine CPU {:.2} µs/packet: {}",
                r.report.loss_ratio * 100.0,
                r.report.latency_p99_us / 1000.0,
                r.cpu_us_per_packet,
                if ok { "sustained" } else { "target broken" }
            );
        }
        results.push(r);
        if !ok {
            break;
        }
        best = Some(results.len() - 1);
    }
    let best = best.map(|i| &results[i]);
    if args.json {
        let v = serde_json::json!({
            "max_loss_pct": args.max_loss_pct,
            "max_p99_ms": args.max_p99_ms,
            "highest_sustained_calls": best.map(|b| b.calls),
            "highest_sustained": best,
        });
        println!("{v}");
        return Ok(());
    }
    println!("{}", table(&results));
    match best {
        Some(b) => {
            println!(
                "highest sustained: {} concurrent calls ({} packets/s into the engine) within \
                 {}% loss and p99 ≤ {} ms; engine busy {:.0}% of one core, {:.2} µs CPU per \
                 packet",
                b.calls,
                b.pps_offered,
                args.max_loss_pct,
                args.max_p99_ms,
                b.busy_fraction * 100.0,
                b.cpu_us_per_packet
            );
            print!("{}", report_text(&b.report));
        }
        None => println!(
            "no level met the target (first level {} calls); try a lower --from",
            args.from
        ),
    }
    if results
        .last()
        .is_some_and(|r| sustained(r, args.max_loss_pct, args.max_p99_ms))
    {
        println!("(every level up to --to {} was sustained)", args.to);
    }
    Ok(())
}
