//! `tandem load`: a standalone RTP load generator for any relay.
//!
//! N calls, each two endpoints streaming G.711 at 50 packets/s towards a relay's pair of
//! ports, with a stream id, sequence number and send time in every payload; the report gives
//! loss, reordering, duplicates, cross-talk and one-way latency percentiles (the load lab's
//! generator, `tandem_load::LoadGen`).
//!
//! With `--relay-ports` the calls go to those ports (any relay: rtpengine, a media server,
//! `tandem serve` with calls set up by the ng protocol). Without it, an in-process engine
//! (UDP, mio or io_uring) bridges N calls, and the generator runs in its own process (this
//! binary's hidden `loadgen` subcommand) so the engine's CPU time per packet is its own.
//!
//! With `--ng ADDR` the generator learns the relay's ports as a SIP proxy would, over
//! rtpengine's ng protocol (`tandem_serve::client`): it binds every endpoint first,
//! then per call sends `offer` (endpoint A's address) and `answer` (endpoint B's), streams
//! through the ports the replies name, and at the end sends `query` (the relay's own packet
//! count) and `delete` for every call. It runs in this process: the relay is elsewhere, so
//! there is no CPU time to keep apart.
//!
//! With `--conference K` the in-process engine holds `--calls` rooms of K participants
//! instead of bridged calls; every participant sends 50 packets/s and hears the mix of the
//! others (`tandem_load::conference` and `tandem_load::probe` explain how marks survive
//! mixing and what is counted).

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tandem_engine::DriverKind;
use tandem_load::target::parse_targets;
use tandem_load::{
    CallTarget, EngineConference, EngineRelay, LoadGen, LoadGenConfig, LoadGenMode, LoadReport,
    MAX_PARTICIPANTS, MIN_PARTICIPANTS, Relay, conference_text, json_line, run_conference_level,
    run_level, run_load, table,
};
use tandem_serve::client::NgClient;
use tandem_udp::raise_open_files_limit;

use super::lab_progress::LabProgress;

/// Arguments of `tandem load`.
#[derive(clap::Args)]
pub struct Args {
    /// Calls (two streams each, 50 packets/s per stream); with --conference, rooms.
    #[arg(long, default_value_t = 100)]
    calls: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// The relay's ports: a file, or a comma-separated list of `A/B` pairs (each
    /// `ip:port`, or a bare port on --host). Without it an in-process engine relays.
    #[arg(long)]
    relay_ports: Option<String>,
    /// Host of bare ports in --relay-ports and --ng.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Learn the relay's ports over rtpengine's ng protocol at this address (`IP:PORT`, or
    /// a bare port on --host): per call an offer and an answer; at the end a query (the
    /// relay's own packet count, `ng.relay_packets` in --json) and a delete.
    #[arg(long, value_name = "ADDR")]
    ng: Option<String>,
    /// Wait for each ng reply this long before sending the request again.
    #[arg(long, default_value_t = 1000)]
    ng_timeout_ms: u64,
    /// Times each ng request is sent before the relay counts as unreachable.
    #[arg(long, default_value_t = 3)]
    ng_attempts: u32,
    /// In-process engine: conference rooms of K participants (3 to 20) instead of bridged
    /// calls; --calls is the number of rooms. Every participant talks at 50 packets/s and
    /// hears the mix of the others; marks in each frame measure delivery per listener.
    #[arg(long, value_name = "K")]
    conference: Option<usize>,
    /// Load generator threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// In-process engine: UDP driver, mio or io-uring.
    #[arg(long, default_value = "mio")]
    driver: String,
    /// In-process engine: record every call as a stereo WAV (with --conference: every room
    /// as a mixed mono WAV) into this directory.
    #[arg(long)]
    record: Option<PathBuf>,
    /// In-process engine: do not pin the engine to core 0 and the generator to core 1.
    #[arg(long)]
    no_pin: bool,
    /// Print the result as one JSON line.
    #[arg(long)]
    json: bool,
    /// No countdown on stderr.
    #[arg(long)]
    quiet: bool,
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
    if args.ng.is_some() && args.relay_ports.is_some() {
        bail!("--ng and --relay-ports both name the relay's ports; give one");
    }
    if let Some(k) = args.conference {
        if args.relay_ports.is_some() || args.ng.is_some() {
            bail!(
                "--conference needs the in-process engine's rooms; an outside relay's room \
                 ports cannot be named (drop --relay-ports / --ng)"
            );
        }
        return run_conference(&args, k, duration);
    }
    if let Some(ng) = &args.ng {
        return run_ng(&args, ng, duration);
    }
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
        let progress =
            LabProgress::countdown(args.quiet, &format!("{} calls", targets.len()), duration);
        let report = run_load(&targets, config).context("load generator");
        progress.finish();
        let report = report?;
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
    let progress = LabProgress::countdown(args.quiet, &format!("{} calls", args.calls), duration);
    let result = run_level(relay, duration, &mode).context("load run");
    progress.finish();
    let result = result?;
    if args.json {
        println!("{}", json_line(&result));
    } else {
        print!("{}", table(std::slice::from_ref(&result)));
        print!("{}", report_text(&result.report));
        if let Some(dir) = &args.record {
            print_recordings(dir);
        }
    }
    Ok(())
}

/// `tandem load --conference K`: rooms in the in-process engine.
fn run_conference(args: &Args, k: usize, duration: Duration) -> Result<()> {
    if !(MIN_PARTICIPANTS..=MAX_PARTICIPANTS).contains(&k) {
        bail!(
            "--conference {k}: rooms of {MIN_PARTICIPANTS} to {MAX_PARTICIPANTS} participants \
             (each talker's mark has its own slot of the 160-byte frame; two parties are the \
             default bridged mode)"
        );
    }
    if args.calls == 0 {
        bail!("--calls (the number of rooms) must be at least 1");
    }
    if args.threads > 1 {
        bail!("--conference drives its rooms from one generator thread; drop --threads");
    }
    raise_open_files_limit(2 * (args.calls * k) as u64 + 256)
        .context("raising the open-files limit")?;
    let driver = driver_kind(&args.driver)?;
    // Recording adds the writer thread, so (as for calls) the engine is not pinned.
    let pin = !args.no_pin && args.record.is_none();
    let conf = EngineConference::start(args.calls, k, driver, pin, args.record.as_deref())
        .context("starting the engine's rooms")?;
    let mode = loadgen_subprocess(pin, 1)?;
    let progress = LabProgress::countdown(
        args.quiet,
        &format!("{} rooms of {k}", args.calls),
        duration,
    );
    let result = run_conference_level(Box::new(conf), duration, &mode).context("conference run");
    progress.finish();
    let result = result?;
    if args.json {
        println!("{}", serde_json::to_string(&result)?);
    } else {
        print!("{}", conference_text(&result));
        if let Some(dir) = &args.record {
            print_recordings(dir);
        }
    }
    Ok(())
}

/// Says how many files the run recorded into `dir` (none if it cannot be read: the run
/// itself succeeded, so this only informs).
fn print_recordings(dir: &Path) {
    let files = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).count())
        .unwrap_or(0);
    println!("recordings: {files} files in {}", dir.display());
}

/// Parses `--ng`: `IP:PORT`, or a bare port on `host`.
fn ng_addr(spec: &str, host: IpAddr) -> Result<SocketAddr> {
    if let Ok(port) = spec.parse::<u16>() {
        return Ok(SocketAddr::new(host, port));
    }
    spec.parse()
        .with_context(|| format!("--ng {spec:?} is not IP:PORT or a port"))
}

/// `tandem load --ng ADDR`: calls set up over ng, load through them, then query and delete.
fn run_ng(args: &Args, spec: &str, duration: Duration) -> Result<()> {
    if args.record.is_some() {
        bail!("--record records in the in-process engine; an outside relay records itself");
    }
    if args.calls == 0 {
        bail!("--calls must be at least 1");
    }
    let addr = ng_addr(spec, args.host)?;
    let timeout = Duration::from_millis(args.ng_timeout_ms.max(1));
    let mut ng = NgClient::new(addr, timeout, args.ng_attempts)
        .with_context(|| format!("ng socket for {addr}"))?;
    ng.ping()?;
    // Endpoints bind first, on the address the route to the relay uses, so the SDP names
    // ports that exist.
    let ip = ng.local_ip()?;
    raise_open_files_limit(2 * args.calls as u64 + 256).context("raising the open-files limit")?;
    let sockets = (0..2 * args.calls)
        .map(|_| UdpSocket::bind(SocketAddr::new(ip, 0)))
        .collect::<std::io::Result<Vec<_>>>()
        .context("binding the endpoints")?;
    let call_ids: Vec<String> = (0..args.calls)
        .map(|i| format!("tandem-load-{}-{i}", std::process::id()))
        .collect();
    let mut targets = Vec::with_capacity(args.calls);
    for (i, id) in call_ids.iter().enumerate() {
        let a = sockets[2 * i].local_addr()?;
        let b = sockets[2 * i + 1].local_addr()?;
        match ng.setup_call(id, a, b) {
            Ok(p) => targets.push(CallTarget {
                a_port: p.a_port,
                b_port: p.b_port,
            }),
            Err(e) => {
                // Leave nothing behind on the relay: the offer may have created the call.
                for id in &call_ids[..=i] {
                    let _ = ng.delete(id);
                }
                return Err(anyhow::Error::new(e).context(format!("setting up call {id}")));
            }
        }
    }
    let config = LoadGenConfig {
        duration,
        threads: args.threads.max(1),
        ..LoadGenConfig::default()
    };
    let progress = LabProgress::countdown(
        args.quiet,
        &format!("{} calls over ng", targets.len()),
        duration,
    );
    let report = LoadGen::with_sockets(sockets, &targets, config).and_then(LoadGen::run);
    progress.finish();
    // Query and delete every call even if the load failed.
    let mut relay_packets = Some(0u64);
    let mut query_error = None;
    let mut deleted = 0usize;
    let mut delete_error = None;
    for id in &call_ids {
        match ng.query_packets(id) {
            Ok(p) => relay_packets = relay_packets.zip(p).map(|(a, b)| a + b),
            Err(e) => {
                relay_packets = None;
                query_error.get_or_insert(e);
            }
        }
        match ng.delete(id) {
            Ok(()) => deleted += 1,
            Err(e) => {
                delete_error.get_or_insert(e);
            }
        }
    }
    let report = report.context("load generator")?;
    if let Some(e) = delete_error {
        return Err(anyhow::Error::new(e).context(format!(
            "deleting the calls ({deleted} of {} deleted)",
            call_ids.len()
        )));
    }
    if let Some(e) = &query_error {
        eprintln!("tandem load: warning: query failed, no relay counters: {e}");
    }
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        v["ng"] = serde_json::json!({
            "addr": addr.to_string(),
            "calls_set_up": targets.len(),
            "calls_deleted": deleted,
            "relay_packets": relay_packets,
        });
        println!("{v}");
    } else {
        print!("{}", report_text(&report));
        let relay = relay_packets.map_or("not reported".to_string(), |p| p.to_string());
        println!(
            "  {:<32} {addr}: {} calls set up, {deleted} deleted, relay counted {relay} packets",
            "ng relay",
            targets.len()
        );
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
