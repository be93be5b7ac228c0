//! `tandem capacity`: the most concurrent calls a relay carries on UDP within a quality
//! target.
//!
//! Starts the relay with N bridged calls — by default an in-process engine (one shard, the
//! capacity harness's `EngineRelay`); with `--relay` `tandem serve` or rtpengine started by
//! the harness and driven over ng, or the raw kernel baseline — drives it for a few seconds
//! from a load generator in its own process (this binary's hidden `loadgen`), and raises N
//! geometrically until the target breaks: more than 0.1% loss or a p99 one-way latency over
//! 20 ms (both adjustable). Prints every level measured and the highest one sustained, with
//! its figures, then the verdict: the highest sustained level against `--min-calls` and the
//! quality figures there. A missed target makes the exit status 3 (`--no-verdict`: 0).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tandem_load::compare::RelayFactory;
use tandem_load::verdict::{Bound, Target};
use tandem_load::{
    DaemonKind, DaemonSpec, EngineRelay, LevelResult, NgRelay, RawRelay, Relay, Verdict,
    find_rtpengine, geometric_levels, json_line, run_level, table,
};
use tandem_udp::raise_open_files_limit;

use super::lab_progress::LabProgress;
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
    /// The relay measured: engine (in-process, one shard), serve (tandem serve over ng),
    /// rtpengine (Debian's rtpengine-daemon in userspace, over ng), raw (the kernel-only
    /// recvmmsg/sendmmsg baseline).
    #[arg(long, default_value = "engine")]
    relay: String,
    /// The rtpengine executable for --relay rtpengine (default: `rtpengine` on the PATH).
    #[arg(long, value_name = "PATH")]
    rtpengine: Option<std::path::PathBuf>,
    /// Media threads of serve (shards) and rtpengine.
    #[arg(long, default_value_t = 1)]
    shards: usize,
    /// UDP driver of the engine and of serve: mio or io-uring (serve also takes auto).
    #[arg(long, default_value = "mio")]
    driver: String,
    /// Quality target: most loss, percent.
    #[arg(long, default_value_t = 0.1)]
    max_loss_pct: f64,
    /// Quality target: highest p99 one-way latency, ms.
    #[arg(long, default_value_t = 20.0)]
    max_p99_ms: f64,
    /// Capacity target: the highest sustained level must be at least this many calls
    /// (default: --from, i.e. the first level must meet the quality target).
    #[arg(long)]
    min_calls: Option<usize>,
    /// Load generator threads.
    #[arg(long, default_value_t = 1)]
    loadgen_threads: usize,
    /// Do not pin the relay to core 0 and the generator to core 1.
    #[arg(long)]
    no_pin: bool,
    /// Print one JSON line per level, then the result as JSON.
    #[arg(long)]
    json: bool,
    /// Report the verdict but exit 0 even if a target is missed.
    #[arg(long)]
    no_verdict: bool,
    /// No progress display, no step lines on stderr.
    #[arg(long)]
    quiet: bool,
}

/// Whether a level met the target.
fn sustained(r: &LevelResult, max_loss_pct: f64, max_p99_ms: f64) -> bool {
    r.report.loss_ratio * 100.0 <= max_loss_pct
        && r.report.latency_p99_us <= max_p99_ms * 1000.0
        && r.report.received > 0
}

/// The stated targets of a capacity run: the quality each level must meet and the level
/// that must be sustained.
fn targets(args: &Args) -> [Target; 3] {
    [
        Target {
            name: "min-calls",
            bound: Bound::AtLeast,
            limit: args.min_calls.unwrap_or(args.from) as f64,
            unit: "calls",
            decimals: 0,
            what: "highest level sustained within the loss and latency targets",
        },
        Target {
            name: "max-loss-pct",
            bound: Bound::AtMost,
            limit: args.max_loss_pct,
            unit: "%",
            decimals: 3,
            what: "packet loss at the highest sustained level",
        },
        Target {
            name: "max-p99-ms",
            bound: Bound::AtMost,
            limit: args.max_p99_ms,
            unit: "ms",
            decimals: 2,
            what: "p99 added one-way latency at the highest sustained level",
        },
    ]
}

/// Starts the relay `--relay` names, per level.
fn relay_factory(args: &Args) -> Result<RelayFactory<'static>> {
    let pin = !args.no_pin;
    let cpu = (pin && args.shards == 1).then_some(0);
    if args.shards == 0 {
        bail!("--shards must be at least 1");
    }
    if args.shards > 1 && !["serve", "rtpengine"].contains(&args.relay.as_str()) {
        bail!("--shards applies to --relay serve and rtpengine (the engine relay has one shard)");
    }
    let daemon = |kind| DaemonSpec {
        kind,
        threads: args.shards,
        cpu,
    };
    Ok(match args.relay.as_str() {
        "engine" => {
            let driver = driver_kind(&args.driver)?;
            Box::new(move |calls| {
                Ok(Box::new(EngineRelay::start(calls, driver, pin)?) as Box<dyn Relay>)
            })
        }
        "raw" => {
            let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
            Box::new(move |calls| {
                Ok(Box::new(RawRelay::start_pinned(calls, ip, cpu)?) as Box<dyn Relay>)
            })
        }
        "serve" => {
            let spec = daemon(DaemonKind::Serve {
                exe: std::env::current_exe()?,
                args_prefix: vec!["serve".into()],
                driver: args.driver.clone(),
            });
            Box::new(move |calls| Ok(Box::new(NgRelay::start(&spec, calls)?) as Box<dyn Relay>))
        }
        "rtpengine" => {
            let exe = find_rtpengine(args.rtpengine.as_deref()).map_err(anyhow::Error::msg)?;
            let spec = daemon(DaemonKind::Rtpengine { exe });
            Box::new(move |calls| Ok(Box::new(NgRelay::start(&spec, calls)?) as Box<dyn Relay>))
        }
        other => bail!("--relay: unknown relay {other:?} (engine, serve, rtpengine, raw)"),
    })
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
    let mut factory = relay_factory(&args)?;
    let pin = !args.no_pin;
    let mode = loadgen_subprocess(pin, args.loadgen_threads)?;
    let duration = Duration::from_secs(args.seconds.max(1));
    raise_open_files_limit(8 * args.to as u64 + 1024).context("raising the open-files limit")?;
    let mut results: Vec<LevelResult> = Vec::new();
    let mut best: Option<usize> = None;
    let progress = LabProgress::steps(args.quiet || args.json, "capacity", levels.len());
    for calls in levels {
        progress.start(format!("{calls} calls through {}", args.relay), duration);
        let relay = factory(calls)
            .with_context(|| format!("starting {} with {calls} calls", args.relay))?;
        let r = run_level(relay, duration, &mode)
            .with_context(|| format!("measuring {calls} calls"))?;
        progress.done();
        let ok = sustained(&r, args.max_loss_pct, args.max_p99_ms);
        if args.json {
            progress.stdout_line(&json_line(&r));
        } else {
            progress.note(&format!(
                "  {calls} calls: loss {:.4}%, p99 {:.2} ms, relay CPU {:.2} µs/packet: {}",
                r.report.loss_ratio * 100.0,
                r.report.latency_p99_us / 1000.0,
                r.cpu_us_per_packet,
                if ok { "sustained" } else { "target broken" }
            ));
        }
        results.push(r);
        if !ok {
            break;
        }
        best = Some(results.len() - 1);
    }
    progress.finish();
    let best = best.map(|i| &results[i]);
    let verdict = verdict(&args, best, results.first());
    if args.json {
        let v = serde_json::json!({
            "relay": args.relay,
            "max_loss_pct": args.max_loss_pct,
            "max_p99_ms": args.max_p99_ms,
            "highest_sustained_calls": best.map(|b| b.calls),
            "highest_sustained": best,
            "verdict": verdict,
        });
        println!("{v}");
        return finish(&args, &verdict);
    }
    println!("{}", table(&results));
    match best {
        Some(b) => {
            println!(
                "highest sustained: {} concurrent calls ({} packets/s into the relay) within \
                 {}% loss and p99 ≤ {} ms; relay busy {:.0}% of one core, {:.2} µs CPU per \
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
    println!("\n{}", verdict.text());
    finish(&args, &verdict)
}

/// The checks: the highest sustained level against --min-calls, and the quality figures at
/// that level (at the first level when none was sustained).
fn verdict(args: &Args, best: Option<&LevelResult>, first: Option<&LevelResult>) -> Verdict {
    let [min_calls, loss, p99] = targets(args);
    let mut v = Verdict::new();
    v.measured(
        &min_calls,
        &args.relay,
        best.map_or(0.0, |b| b.calls as f64),
    );
    if let Some(r) = best.or(first) {
        let at = format!("{} at {} calls", args.relay, r.calls);
        v.measured(&loss, &at, r.report.loss_ratio * 100.0);
        v.measured(&p99, &at, r.report.latency_p99_us / 1000.0);
    }
    v
}

fn finish(args: &Args, verdict: &Verdict) -> Result<()> {
    if args.no_verdict {
        return Ok(());
    }
    verdict.result().map_err(anyhow::Error::new)
}
