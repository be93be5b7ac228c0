//! `tandem load`: a standalone RTP load generator for any relay.
//!
//! N calls, each two endpoints streaming G.711 at 50 packets/s towards a relay's pair of
//! ports, with a stream id, sequence number and send time in every payload; the report gives
//! loss, reordering, duplicates, cross-talk and one-way latency percentiles (the capacity
//! harness's load generator, `tandem_bench::capacity::LoadGen`).
//!
//! With `--relay-ports` the calls go to those ports (any relay: rtpengine, a media server,
//! `tandem serve` with calls set up by the ng protocol). Without it, an in-process engine
//! (UDP, mio or io_uring) bridges N calls, and the generator runs in its own process (this
//! binary's hidden `loadgen` subcommand) so the engine's CPU time per packet is its own.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tandem_bench::capacity::cli::parse_targets;
use tandem_bench::capacity::os::raise_open_files_limit;
use tandem_bench::capacity::{
    CallTarget, LoadGenConfig, LoadGenMode, LoadReport, Relay, json_line, run_level, run_load,
    table,
};
use tandem_bench::engine_relay::EngineRelay;
use tandem_engine::DriverKind;

/// Arguments of `tandem load`.
#[derive(clap::Args)]
pub struct Args {
    /// Calls (two streams each, 50 packets/s per stream).
    #[arg(long, default_value_t = 100)]
    calls: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// The relay's ports: a file, or a comma-separated list of `A/B` pairs (each
    /// `ip:port`, or a bare port on --host). Without it an in-process engine relays.
    #[arg(long)]
    relay_ports: Option<String>,
    /// Host of bare ports in --relay-ports.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Load generator threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// In-process engine: UDP driver, mio or io-uring.
    #[arg(long, default_value = "mio")]
    driver: String,
    /// In-process engine: record every call as a stereo WAV into this directory.
    #[arg(long)]
    record: Option<PathBuf>,
    /// In-process engine: do not pin the engine to core 0 and the generator to core 1.
    #[arg(long)]
    no_pin: bool,
    /// Print the result as one JSON line.
    #[arg(long)]
    json: bool,
}

/// Reads `--relay-ports`: a file's contents (commas or newlines between pairs) or the list.
fn relay_targets(spec: &str, host: IpAddr) -> Result<Vec<CallTarget>> {
    let path = PathBuf::from(spec);
    let list = if path.is_file() {
        std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(",")
    } else {
        spec.to_string()
    };
    let targets = parse_targets(&list, host).map_err(anyhow::Error::msg)?;
    if targets.is_empty() {
        bail!("--relay-ports names no A/B pairs");
    }
    Ok(targets)
}

/// The load generator as a child process: this binary's hidden `loadgen` subcommand.
pub fn loadgen_subprocess(pin: bool, threads: usize) -> Result<LoadGenMode> {
    let exe = std::env::current_exe().context("finding this executable for the generator")?;
    let mut prefix = vec!["loadgen".to_string()];
    if pin {
        prefix.extend(["--cpu".to_string(), "1".to_string()]);
    }
    if threads > 1 {
        prefix.extend(["--threads".to_string(), threads.to_string()]);
    }
    Ok(LoadGenMode::Subprocess {
        exe,
        args_prefix: prefix,
    })
}

/// Parses a UDP driver name.
pub fn driver_kind(name: &str) -> Result<DriverKind> {
    name.parse().map_err(anyhow::Error::msg)
}

/// Runs `tandem load`.
pub fn run(args: Args) -> Result<()> {
    if !(args.duration.is_finite() && args.duration > 0.0) {
        bail!("--duration must be > 0 seconds");
    }
    let duration = Duration::from_secs_f64(args.duration);
    if let Some(spec) = &args.relay_ports {
        if args.record.is_some() {
            bail!("--record records in the in-process engine; an outside relay records itself");
        }
        let mut targets = relay_targets(spec, args.host)?;
        if args.calls < targets.len() && args.calls > 0 {
            targets.truncate(args.calls);
        }
        let config = LoadGenConfig {
            duration,
            threads: args.threads.max(1),
            ..LoadGenConfig::default()
        };
        let report = run_load(&targets, config).context("load generator")?;
        if args.json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            print!("{}", report_text(&report));
        }
        return Ok(());
    }
    if args.calls == 0 {
        bail!("--calls must be at least 1");
    }
    raise_open_files_limit(4 * args.calls as u64 + 256).context("raising the open-files limit")?;
    let driver = driver_kind(&args.driver)?;
    let pin = !args.no_pin;
    let relay: Box<dyn Relay> = match &args.record {
        None => {
            Box::new(EngineRelay::start(args.calls, driver, pin).context("starting the engine")?)
        }
        Some(dir) => Box::new(
            EngineRelay::start_recording(args.calls, driver, dir).with_context(|| {
                format!("starting the engine, recording into {}", dir.display())
            })?,
        ),
    };
    let mode = loadgen_subprocess(pin, args.threads)?;
    let result = run_level(relay, duration, &mode).context("load run")?;
    if args.json {
        println!("{}", json_line(&result));
    } else {
        print!("{}", table(std::slice::from_ref(&result)));
        print!("{}", report_text(&result.report));
        if let Some(dir) = &args.record {
            let files = std::fs::read_dir(dir)
                .map(|d| d.filter_map(Result::ok).count())
                .unwrap_or(0);
            println!("recordings: {files} files in {}", dir.display());
        }
    }
    Ok(())
}

/// A load report as aligned text.
pub fn report_text(r: &LoadReport) -> String {
    let rows = [
        ("calls", r.calls.to_string()),
        ("send phase", format!("{:.1} s", r.duration_s)),
        ("packets sent", r.sent.to_string()),
        ("packets received", r.received.to_string()),
        ("lost", format!("{} ({:.4}%)", r.lost, r.loss_ratio * 100.0)),
        (
            "reordered / duplicates",
            format!("{} / {}", r.reordered, r.duplicates),
        ),
        (
            "cross-talk / malformed",
            format!("{} / {}", r.misrouted, r.malformed),
        ),
        (
            "latency p50 / p99 / p99.9 / max",
            format!(
                "{:.0} / {:.0} / {:.0} / {:.0} µs",
                r.latency_p50_us, r.latency_p99_us, r.latency_p999_us, r.latency_max_us
            ),
        ),
        ("calls not primed", r.unprimed_calls.to_string()),
        ("send errors", r.send_errors.to_string()),
        (
            "generator send lag p99 / max",
            format!("{:.0} / {:.0} µs", r.send_lag_p99_us, r.send_lag_max_us),
        ),
        ("generator CPU", format!("{:.2} s", r.loadgen_cpu_s)),
    ];
    rows.iter()
        .map(|(k, v)| format!("  {k:<32} {v}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_ports_from_a_list_or_a_file() {
        let host: IpAddr = "127.0.0.1".parse().unwrap();
        let t = relay_targets("4000/4001, 4002/4003", host).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].b_port, "127.0.0.1:4003".parse().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ports.txt");
        std::fs::write(
            &f,
            "# relay ports\n10.0.0.1:5000/10.0.0.1:5002\n5004/5006\n",
        )
        .unwrap();
        let t = relay_targets(f.to_str().unwrap(), host).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].a_port, "10.0.0.1:5000".parse().unwrap());
        assert_eq!(t[1].a_port, "127.0.0.1:5004".parse().unwrap());
        assert!(relay_targets("4000-4001", host).is_err());
        assert!(relay_targets(",", host).is_err());
    }
}
