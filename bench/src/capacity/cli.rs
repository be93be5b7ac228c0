//! The load generator's command line, for running it in its own process:
//!
//! ```text
//! <exe> [--host IP] --targets A/B[,A/B...]|- --duration-ms N [--drain-ms N] [--period-ms N]
//!       [--prime-timeout-ms N] [--tick-us N] [--bind IP] [--threads N] [--cpu N[,N...]]
//! ```
//!
//! Each target is a call's two relay ports, `A/B`, each `ip:port` (`[v6]:port`) or a bare port
//! on `--host` (default 127.0.0.1). `--targets -` reads the list from stdin (for lists longer
//! than the kernel's 128 KiB limit on one argument). On success the report is printed as one
//! JSON line on stdout and the exit status is 0; bad arguments exit with 2, I/O errors with 1.
//!
//! With `--conference K` the targets are single ports (`P[,P...]`, each `ip:port` or a bare
//! port), K per room in room order, and the [`ConferenceReport`](super::ConferenceReport) is
//! printed instead (`--warmup-ms N` sets the silent warm-up; `--threads` and `--bind` do not
//! apply).

use std::io::{self, Read as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use super::conference::{ConferenceConfig, run_conference};
use super::loadgen::{LoadGenConfig, run_load};
use super::relay::CallTarget;

const USAGE: &str = "usage: loadgen [--host IP] --targets A/B[,A/B...]|- --duration-ms N \
[--drain-ms N] [--period-ms N] [--prime-timeout-ms N] [--tick-us N] [--bind IP] [--threads N] \
[--cpu N[,N...]] [--conference K [--warmup-ms N]]";

/// What the command line asks for.
enum Job {
    /// Two-party calls.
    Calls(Vec<CallTarget>, LoadGenConfig),
    /// Conference rooms.
    Rooms(Vec<SocketAddr>, ConferenceConfig),
}

/// Runs the load generator with command-line `args` (without the program or subcommand
/// name), prints its [`LoadReport`](super::LoadReport) as one JSON line, and returns the exit
/// status.
pub fn loadgen_main(args: &[String]) -> i32 {
    let job = match parse_args(args) {
        Ok(Some(job)) => job,
        Ok(None) => {
            println!("{USAGE}");
            return 0;
        }
        Err(msg) => {
            eprintln!("loadgen: {msg}\n{USAGE}");
            return 2;
        }
    };
    let line = match job {
        Job::Calls(targets, config) => run_load(&targets, config)
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

/// Parses the arguments; `Ok(None)` for `--help`.
fn parse_args(args: &[String]) -> Result<Option<Job>, String> {
    let mut config = LoadGenConfig::default();
    let mut conference: Option<usize> = None;
    let mut warmup = None;
    let mut drain_set = false;
    let mut host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut targets: Option<String> = None;
    let mut duration = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        if name == "-h" || name == "--help" {
            return Ok(None);
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name {
            "--targets" => targets = Some(value()?),
            "--host" => host = parse(name, &value()?)?,
            "--duration-ms" => duration = Some(millis(name, &value()?)?),
            "--drain-ms" => {
                config.drain = millis(name, &value()?)?;
                drain_set = true;
            }
            "--conference" => conference = Some(parse(name, &value()?)?),
            "--warmup-ms" => warmup = Some(millis(name, &value()?)?),
            "--period-ms" => config.period = millis(name, &value()?)?,
            "--prime-timeout-ms" => config.prime_timeout = millis(name, &value()?)?,
            "--tick-us" => config.tick = Duration::from_micros(parse(name, &value()?)?),
            "--bind" => config.bind = Some(parse(name, &value()?)?),
            "--cpu" => {
                let v = value()?;
                config.cpus = v
                    .split(',')
                    .map(|c| parse(name, c.trim()))
                    .collect::<Result<_, _>>()?;
            }
            "--threads" => config.threads = parse(name, &value()?)?,
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    config.duration = duration.ok_or("--duration-ms is required")?;
    if config.period.is_zero() {
        return Err("--period-ms must be positive".into());
    }
    let mut list = targets.ok_or("--targets is required")?;
    if list == "-" {
        list.clear();
        io::stdin()
            .read_to_string(&mut list)
            .map_err(|e| format!("reading targets from stdin: {e}"))?;
    }
    let Some(k) = conference else {
        if warmup.is_some() {
            return Err("--warmup-ms needs --conference".into());
        }
        return Ok(Some(Job::Calls(parse_targets(list.trim(), host)?, config)));
    };
    let defaults = ConferenceConfig::default();
    let rooms = ConferenceConfig {
        participants: k,
        duration: config.duration,
        warmup: warmup.unwrap_or(defaults.warmup),
        drain: if drain_set {
            config.drain
        } else {
            defaults.drain
        },
        period: config.period,
        tick: config.tick,
        cpu: config.cpus.first().copied(),
    };
    Ok(Some(Job::Rooms(parse_ports(list.trim(), host)?, rooms)))
}

fn parse<T: FromStr>(name: &str, v: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("bad value {v:?} for {name}"))
}

fn millis(name: &str, v: &str) -> Result<Duration, String> {
    parse(name, v).map(Duration::from_millis)
}

/// One address of a list: `ip:port` (`[v6]:port`), or a bare port on `host`; `what` names
/// it in the error.
fn parse_address(s: &str, host: IpAddr, what: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    SocketAddr::from_str(s)
        .or_else(|_| s.parse::<u16>().map(|p| SocketAddr::new(host, p)))
        .map_err(|_| format!("bad {what} {s:?}"))
}

/// The IP every address is on, if they share one: a list then names bare ports and the
/// host once (the usual case, and 6 bytes per port).
fn common_host(mut addrs: impl Iterator<Item = SocketAddr>) -> Option<IpAddr> {
    let host = addrs.next()?.ip();
    addrs.all(|a| a.ip() == host).then_some(host)
}

/// An address as a list writes it: the bare port when the list has a common host.
fn list_address(addr: SocketAddr, common: bool) -> String {
    if common {
        addr.port().to_string()
    } else {
        addr.to_string()
    }
}

/// Parses a comma-separated list of `A/B` targets; bare ports are on `host`.
pub fn parse_targets(list: &str, host: IpAddr) -> Result<Vec<CallTarget>, String> {
    list.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| {
            let (a, b) = item
                .split_once('/')
                .ok_or_else(|| format!("target {item:?} is not A/B"))?;
            Ok(CallTarget {
                a_port: parse_address(a, host, "target address")?,
                b_port: parse_address(b, host, "target address")?,
            })
        })
        .collect()
}

/// Formats targets for `--targets`: bare ports plus the common host when every port is on
/// the same IP, else full addresses.
pub fn format_targets(targets: &[CallTarget]) -> (Option<IpAddr>, String) {
    let host = common_host(targets.iter().flat_map(|t| [t.a_port, t.b_port]));
    let list = targets
        .iter()
        .map(|t| {
            format!(
                "{}/{}",
                list_address(t.a_port, host.is_some()),
                list_address(t.b_port, host.is_some())
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    (host, list)
}

/// Parses a comma-separated list of single ports (conference participants); bare ports are
/// on `host`.
pub fn parse_ports(list: &str, host: IpAddr) -> Result<Vec<SocketAddr>, String> {
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_address(s, host, "port"))
        .collect()
}

/// Formats conference ports for `--targets`, as [`format_targets`] does calls.
pub fn format_ports(ports: &[SocketAddr]) -> (Option<IpAddr>, String) {
    let host = common_host(ports.iter().copied());
    let list = ports
        .iter()
        .map(|&p| list_address(p, host.is_some()))
        .collect::<Vec<_>>()
        .join(",");
    (host, list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_format_and_parse() {
        let host: IpAddr = "127.0.0.1".parse().unwrap();
        let p = vec![SocketAddr::new(host, 1), SocketAddr::new(host, 2)];
        let (h, list) = format_ports(&p);
        assert_eq!((h, list.as_str()), (Some(host), "1,2"));
        assert_eq!(parse_ports(&list, host).unwrap(), p);
        let mixed = vec![p[0], "[::1]:7".parse().unwrap()];
        let (h, list) = format_ports(&mixed);
        assert_eq!(h, None);
        assert_eq!(parse_ports(&list, host).unwrap(), mixed);
        assert!(parse_ports("1,x", host).is_err());
    }

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_a_full_command_line() {
        let Some(Job::Calls(targets, config)) = parse_args(&args(
            "--targets 4000/4001,[::1]:5000/127.0.0.2:5001 --duration-ms 1500 --drain-ms=50 \
             --cpu 1,0 --bind 127.0.0.1 --tick-us 200 --threads 2",
        ))
        .unwrap() else {
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
        ] {
            assert!(parse_args(&args(bad)).is_err(), "{bad}");
        }
        assert!(parse_args(&args("--help")).unwrap().is_none());
        assert_eq!(loadgen_main(&args("--bogus")), 2);
    }

    #[test]
    fn parses_a_conference_command_line() {
        let Some(Job::Rooms(ports, c)) = parse_args(&args(
            "--conference 3 --targets 4000,4001,[::1]:4002 --duration-ms 900 --warmup-ms 60 \
             --cpu 1",
        ))
        .unwrap() else {
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

    #[test]
    fn format_and_parse_round_trip() {
        let host: IpAddr = "127.0.0.1".parse().unwrap();
        let t = vec![
            CallTarget {
                a_port: SocketAddr::new(host, 1000),
                b_port: SocketAddr::new(host, 1001),
            },
            CallTarget {
                a_port: SocketAddr::new(host, 1002),
                b_port: SocketAddr::new(host, 1003),
            },
        ];
        let (h, list) = format_targets(&t);
        assert_eq!((h, list.as_str()), (Some(host), "1000/1001,1002/1003"));
        assert_eq!(parse_targets(&list, host).unwrap(), t);

        let mut mixed = t.clone();
        mixed[1].b_port = "[::1]:7".parse().unwrap();
        let (h, list) = format_targets(&mixed);
        assert_eq!(h, None);
        assert_eq!(parse_targets(&list, host).unwrap(), mixed);
        assert_eq!(format_targets(&[]), (None, String::new()));
    }
}
