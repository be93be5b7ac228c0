//! The load generator as a child process: its command line (parsed by clap) and its one
//! line of JSON on stdout. The parent side is [`runner`](crate::runner).
//!
//! ```text
//! <exe> [--host IP] --targets A/B[,A/B...]|- --duration-ms N [--drain-ms N] [--period-ms N]
//!       [--prime-timeout-ms N] [--tick-us N] [--bind IP] [--threads N] [--cpu N[,N...]]
//!       [--conference K [--warmup-ms N]]
//! <exe> --endpoints N --bind IP --duration-ms N [options as above]
//! ```
//!
//! Each target is a call's two relay ports, `A/B`, each `ip:port` (`[v6]:port`) or a bare
//! port on `--host` (default 127.0.0.1). `--targets -` reads the list from stdin (for lists
//! longer than the kernel's 128 KiB limit on one argument). On success the report is printed
//! as one JSON line on stdout and the exit status is 0; bad arguments exit with 2, I/O errors
//! with 1.
//!
//! With `--endpoints N` (instead of `--targets`) the generator runs in two steps, for a relay
//! that must learn the endpoints' addresses before it has ports: it binds N calls' endpoints
//! on `--bind`, prints their addresses as one JSON line (`{"host":…,"endpoints":"A/B,…"}`),
//! reads the relay's ports from stdin as one JSON line (`{"host":…,"targets":"A/B,…"}`),
//! then runs as usual ([`runner`](crate::runner) is the parent's side).
//!
//! With `--conference K` the targets are single ports (`P[,P...]`, each `ip:port` or a bare
//! port), K per room in room order, and the [`ConferenceReport`](crate::ConferenceReport) is
//! printed instead (`--warmup-ms N` sets the silent warm-up; `--threads` and `--bind` do not
//! apply).

use std::ffi::OsString;
use std::io::{self, Read as _, Write as _};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::Parser;

use crate::bridged::{LoadGen, LoadGenConfig, run_load};
use crate::conference::{ConferenceConfig, run_conference};
use crate::runner::{EndpointsLine, TargetsLine, bind_endpoints};
use crate::target::{CallTarget, parse_ports, parse_targets};

/// Exit status of bad arguments.
const USAGE_ERROR: i32 = 2;

/// The generator's arguments. Options left out take the defaults of [`LoadGenConfig`] (and,
/// with `--conference`, of [`ConferenceConfig`]).
#[derive(Parser, Debug)]
#[command(
    name = "loadgen",
    about = "RTP load through a relay's ports; prints the report as one JSON line",
    after_help = "The tandem-loadgen executable also runs `raw-capacity` (see \
                  `tandem-loadgen raw-capacity --help`): the raw kernel relay's ladder."
)]
pub struct LoadgenArgs {
    /// The relay's ports: `A/B[,A/B...]`, or with --conference single ports, K per room;
    /// each `ip:port` or a bare port on --host; `-` reads the list from stdin.
    #[arg(
        long,
        allow_hyphen_values = true,
        required_unless_present = "endpoints"
    )]
    targets: Option<String>,
    /// Two steps: bind N calls' endpoints on --bind, print them, read the relay's ports
    /// from stdin (JSON lines).
    #[arg(long, value_name = "N", conflicts_with_all = ["targets", "conference"], requires = "bind")]
    endpoints: Option<usize>,
    /// Host of bare ports in --targets.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Milliseconds every stream sends.
    #[arg(long)]
    duration_ms: u64,
    /// Milliseconds after the last send for packets in flight.
    #[arg(long)]
    drain_ms: Option<u64>,
    /// Packet interval per stream, ms.
    #[arg(long)]
    period_ms: Option<u64>,
    /// Longest wait, ms, for the relay to latch every call before the load starts anyway.
    #[arg(long)]
    prime_timeout_ms: Option<u64>,
    /// Shortest sleep between turns of the send loop, µs (0 busy-polls).
    #[arg(long)]
    tick_us: Option<u64>,
    /// Local address of the endpoint sockets (default: the wildcard of each target's family).
    #[arg(long)]
    bind: Option<IpAddr>,
    /// Generator threads, each with an equal share of the calls.
    #[arg(long)]
    threads: Option<usize>,
    /// Pin thread i to CPU cpus[i % len].
    #[arg(long, value_delimiter = ',', value_parser = cpu_number)]
    cpu: Vec<usize>,
    /// Conference rooms of K participants instead of bridged calls.
    #[arg(long, value_name = "K")]
    conference: Option<usize>,
    /// Milliseconds of silent frames before the marks (conference).
    #[arg(long, requires = "conference")]
    warmup_ms: Option<u64>,
}

/// A CPU number, blanks around it allowed (`--cpu "1, 0"`).
fn cpu_number(s: &str) -> Result<usize, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("bad CPU number {s:?}"))
}

/// What the command line asks for.
#[derive(Debug)]
enum Job {
    /// Two-party calls.
    Calls(Vec<CallTarget>, LoadGenConfig),
    /// Two-party calls whose relay ports come after the endpoints are bound.
    TwoStep(usize, IpAddr, LoadGenConfig),
    /// Conference rooms.
    Rooms(Vec<SocketAddr>, ConferenceConfig),
}

/// Why the command line does not give a job.
#[derive(Debug)]
enum Refusal {
    /// From clap, help and version requests included (it knows their exit status).
    Clap(clap::Error),
    /// Parsed, but not usable.
    Invalid(String),
}

/// Runs the load generator with command-line `args` (without the program or subcommand
/// name), prints its report as one JSON line, and returns the exit status.
pub fn loadgen_main(args: &[String]) -> i32 {
    let job = match job(args) {
        Ok(job) => job,
        Err(Refusal::Clap(e)) => {
            // Help on stdout, errors on stderr, with clap's status (0 for help).
            let _ = e.print();
            return e.exit_code();
        }
        Err(Refusal::Invalid(msg)) => {
            eprintln!("loadgen: {msg}");
            return USAGE_ERROR;
        }
    };
    let line = match job {
        Job::Calls(targets, config) => run_load(&targets, config)
            .map(|r| serde_json::to_string(&r).expect("a LoadReport always serialises")),
        Job::TwoStep(calls, ip, config) => run_two_step(calls, ip, config)
            .map(|r| serde_json::to_string(&r).expect("a LoadReport always serialises")),
        Job::Rooms(ports, config) => run_conference(&ports, &config)
            .map(|r| serde_json::to_string(&r).expect("a ConferenceReport always serialises")),
    };
    match line {
        Ok(line) => {
            println!("{line}");
            0
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            1
        }
    }
}

/// `--endpoints N`: binds, prints the endpoints, reads the targets, runs.
fn run_two_step(calls: usize, ip: IpAddr, config: LoadGenConfig) -> io::Result<crate::LoadReport> {
    let (sockets, endpoints) = bind_endpoints(calls, ip)?;
    let line = serde_json::to_string(&EndpointsLine::new(&endpoints)).map_err(io::Error::other)?;
    {
        let mut out = io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    let mut input = String::new();
    io::stdin().read_line(&mut input)?;
    let bad = |why: String| io::Error::new(io::ErrorKind::InvalidData, why);
    let t: TargetsLine = serde_json::from_str(input.trim()).map_err(|e| {
        bad(format!(
            "stdin {:?} is not the relay's ports: {e}",
            input.trim()
        ))
    })?;
    let targets = parse_targets(&t.targets, t.host.unwrap_or(ip)).map_err(bad)?;
    LoadGen::with_sockets(sockets, &targets, config)?.run()
}

/// Parses `args` (without the program or subcommand name) as command `name`'s.
pub(crate) fn parse<T: Parser>(name: &str, args: &[String]) -> Result<T, clap::Error> {
    T::try_parse_from(std::iter::once(OsString::from(name)).chain(args.iter().map(OsString::from)))
}

/// Parses the arguments into a job.
fn job(args: &[String]) -> Result<Job, Refusal> {
    let a: LoadgenArgs = parse("loadgen", args).map_err(Refusal::Clap)?;
    let invalid = |msg: String| Refusal::Invalid(msg);
    let defaults = LoadGenConfig::default();
    let ms = Duration::from_millis;
    let config = LoadGenConfig {
        duration: ms(a.duration_ms),
        drain: a.drain_ms.map_or(defaults.drain, ms),
        period: a.period_ms.map_or(defaults.period, ms),
        prime_timeout: a.prime_timeout_ms.map_or(defaults.prime_timeout, ms),
        bind: a.bind,
        cpus: a.cpu,
        threads: a.threads.unwrap_or(defaults.threads),
        tick: a.tick_us.map_or(defaults.tick, Duration::from_micros),
    };
    if config.period.is_zero() {
        return Err(invalid("--period-ms must be positive".into()));
    }
    if let Some(calls) = a.endpoints {
        let ip = a.bind.expect("clap requires --bind with --endpoints");
        if calls == 0 {
            return Err(invalid("--endpoints must be at least 1".into()));
        }
        return Ok(Job::TwoStep(calls, ip, config));
    }
    let mut list = a
        .targets
        .expect("clap requires --targets without --endpoints");
    if list == "-" {
        list.clear();
        io::stdin()
            .read_to_string(&mut list)
            .map_err(|e| invalid(format!("reading targets from stdin: {e}")))?;
    }
    let Some(k) = a.conference else {
        let targets = parse_targets(list.trim(), a.host).map_err(invalid)?;
        return Ok(Job::Calls(targets, config));
    };
    let rooms = ConferenceConfig::default();
    let rooms = ConferenceConfig {
        participants: k,
        duration: config.duration,
        warmup: a.warmup_ms.map_or(rooms.warmup, ms),
        drain: a.drain_ms.map_or(rooms.drain, ms),
        period: config.period,
        tick: config.tick,
        cpu: config.cpus.first().copied(),
    };
    let ports = parse_ports(list.trim(), a.host).map_err(invalid)?;
    Ok(Job::Rooms(ports, rooms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_a_full_command_line() {
        let Ok(Job::Calls(targets, config)) = job(&args(
            "--targets 4000/4001,[::1]:5000/127.0.0.2:5001 --duration-ms 1500 --drain-ms=50 \
             --cpu 1,0 --bind 127.0.0.1 --tick-us 200 --threads 2",
        )) else {
            panic!("a two-party job")
        };
        assert_eq!(targets.len(), 2);
        assert_eq!(targets[0].a_port, "127.0.0.1:4000".parse().unwrap());
        assert_eq!(targets[1].a_port, "[::1]:5000".parse().unwrap());
        assert_eq!(targets[1].b_port, "127.0.0.2:5001".parse().unwrap());
        assert_eq!(config.duration, Duration::from_millis(1500));
        assert_eq!(config.drain, Duration::from_millis(50));
        assert_eq!(config.cpus, vec![1, 0]);
        assert_eq!(config.threads, 2);
        assert_eq!(config.tick, Duration::from_micros(200));
        assert_eq!(config.bind, Some("127.0.0.1".parse().unwrap()));
        // What is left out is the generator's default.
        let d = LoadGenConfig::default();
        assert_eq!(
            (config.period, config.prime_timeout),
            (d.period, d.prime_timeout)
        );
    }

    #[test]
    fn rejects_bad_command_lines() {
        for bad in [
            "--duration-ms 10",
            "--targets 1/2",
            "--targets 1/2 --duration-ms x",
            "--targets 1-2 --duration-ms 10",
            "--targets 1/2 --duration-ms 10 --frobnicate",
            "--targets",
            "--targets 1/2 --duration-ms 10 --warmup-ms 5",
            "--targets 1/2 --duration-ms 10 --conference 3",
            "--targets 1,2,3 --duration-ms 10 --conference x",
            "--targets 1/2 --duration-ms 10 --period-ms 0",
            "--endpoints 2 --duration-ms 10",
            "--endpoints 2 --bind 127.0.0.1 --targets 1/2 --duration-ms 10",
            "--endpoints 0 --bind 127.0.0.1 --duration-ms 10",
            "--endpoints 2 --bind 127.0.0.1 --duration-ms 10 --conference 3",
        ] {
            assert!(job(&args(bad)).is_err(), "{bad}");
        }
        assert!(matches!(
            job(&args("--help")),
            Err(Refusal::Clap(e)) if e.kind() == clap::error::ErrorKind::DisplayHelp
        ));
        assert_eq!(loadgen_main(&args("--bogus")), 2);
        assert_eq!(
            loadgen_main(&args("--targets 1/2 --duration-ms 10 --period-ms 0")),
            2
        );
    }

    #[test]
    fn parses_a_two_step_command_line() {
        let Ok(Job::TwoStep(calls, ip, config)) = job(&args(
            "--endpoints 3 --bind 127.0.0.1 --duration-ms 700 --cpu 1",
        )) else {
            panic!("a two-step job")
        };
        assert_eq!((calls, ip.to_string().as_str()), (3, "127.0.0.1"));
        assert_eq!(config.duration, Duration::from_millis(700));
        assert_eq!(config.cpus, vec![1]);
    }

    #[test]
    fn parses_a_conference_command_line() {
        let Ok(Job::Rooms(ports, c)) = job(&args(
            "--conference 3 --targets 4000,4001,[::1]:4002 --duration-ms 900 --warmup-ms 60 \
             --cpu 1",
        )) else {
            panic!("a conference job")
        };
        assert_eq!(ports.len(), 3);
        assert_eq!(ports[2], "[::1]:4002".parse().unwrap());
        assert_eq!(c.participants, 3);
        assert_eq!(c.duration, Duration::from_millis(900));
        assert_eq!(c.warmup, Duration::from_millis(60));
        assert_eq!(c.drain, ConferenceConfig::default().drain);
        assert_eq!(c.cpu, Some(1));
    }
}
