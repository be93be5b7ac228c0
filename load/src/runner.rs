//! Where the load generator runs ([`LoadGenMode`]) and the parent side of its child-process
//! protocol: the command line the child gets ([`child`](crate::child) parses it) and the one
//! JSON line it prints.
//!
//! For a relay that must be told the endpoints' addresses first (offer/answer over ng), the
//! child runs in two steps: started with `--endpoints N --bind IP`, it binds the endpoints and
//! prints their addresses as one JSON line (`EndpointsLine`); the parent sets up the calls
//! and writes the relay's ports to the child's stdin as one JSON line (`TargetsLine`); the
//! child then runs the load and prints its report. The relay's set-up work thus falls before
//! the measured window ([`Prepared`]).

use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::bridged::{LoadGen, LoadGenConfig, LoadReport, run_load};
use crate::relay::Relay;
use crate::target::{self, CallTarget, parse_targets};

/// What a two-step child prints first: its endpoints' addresses, two per call (`a_port` is
/// endpoint a, `b_port` endpoint b), as a target list with its common host.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct EndpointsLine {
    /// The host of bare ports in `endpoints`.
    pub host: Option<IpAddr>,
    /// `A/B[,A/B...]`.
    pub endpoints: String,
}

/// What the parent then writes to a two-step child's stdin: the relay's ports.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct TargetsLine {
    /// The host of bare ports in `targets`.
    pub host: Option<IpAddr>,
    /// `A/B[,A/B...]`.
    pub targets: String,
}

impl EndpointsLine {
    /// The line for `endpoints`.
    pub(crate) fn new(endpoints: &[CallTarget]) -> EndpointsLine {
        let (host, endpoints) = target::format_targets(endpoints);
        EndpointsLine { host, endpoints }
    }
}

/// Binds `2 * calls` endpoint sockets on `ip`, and returns them with their addresses as
/// call pairs.
pub(crate) fn bind_endpoints(
    calls: usize,
    ip: IpAddr,
) -> io::Result<(Vec<UdpSocket>, Vec<CallTarget>)> {
    tandem_udp::raise_open_files_limit(2 * calls as u64 + 256)?;
    let sockets = (0..2 * calls)
        .map(|_| UdpSocket::bind(SocketAddr::new(ip, 0)))
        .collect::<io::Result<Vec<_>>>()?;
    let addrs = sockets
        .iter()
        .map(UdpSocket::local_addr)
        .collect::<io::Result<Vec<_>>>()?;
    let pairs = addrs
        .chunks(2)
        .map(|p| CallTarget {
            a_port: p[0],
            b_port: p[1],
        })
        .collect();
    Ok((sockets, pairs))
}

/// A load run ready to start: the relay's ports are known and, for a relay that needed the
/// endpoints first, the endpoints are bound and the calls set up. [`run`](Prepared::run)
/// starts the load; dropping it unrun stops a waiting child.
pub struct Prepared {
    targets: Vec<CallTarget>,
    how: How,
}

enum How {
    /// The generator binds its own endpoints when it runs.
    Fresh,
    /// Endpoints bound in this process, for a generator thread.
    Sockets(Vec<UdpSocket>),
    /// A two-step child waiting for the targets on stdin.
    Child(WaitingChild),
}

struct WaitingChild {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    exe: PathBuf,
}

impl Drop for WaitingChild {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Gets `relay` ready for a load run of `duration` from `mode`: for a relay with ports,
/// nothing to do; for one that needs the endpoints first, binds them (in this process or
/// a two-step child) and has the relay set up the calls.
pub fn prepare(
    relay: &mut dyn Relay,
    duration: Duration,
    mode: &LoadGenMode,
) -> io::Result<Prepared> {
    let Some((calls, ip)) = relay.endpoints_needed() else {
        return Ok(Prepared {
            targets: relay.targets(),
            how: How::Fresh,
        });
    };
    match mode {
        LoadGenMode::InProcessThread => {
            let (sockets, endpoints) = bind_endpoints(calls, ip)?;
            relay.connect(&endpoints)?;
            Ok(Prepared {
                targets: relay.targets(),
                how: How::Sockets(sockets),
            })
        }
        LoadGenMode::Subprocess { exe, args_prefix } => {
            let mut waiting = spawn_two_step(exe, args_prefix, calls, ip, duration)?;
            let mut line = String::new();
            waiting.stdout.read_line(&mut line)?;
            let bad = |why: String| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("load generator {} printed {line:?}: {why}", exe.display()),
                )
            };
            let ep: EndpointsLine = serde_json::from_str(line.trim())
                .map_err(|e| bad(format!("not its endpoints ({e})")))?;
            let host = ep.host.unwrap_or(ip);
            let endpoints = parse_targets(&ep.endpoints, host).map_err(bad)?;
            if endpoints.len() != calls {
                return Err(bad(format!(
                    "{} endpoint pairs, not {calls}",
                    endpoints.len()
                )));
            }
            relay.connect(&endpoints)?;
            Ok(Prepared {
                targets: relay.targets(),
                how: How::Child(waiting),
            })
        }
    }
}

fn spawn_two_step(
    exe: &Path,
    args_prefix: &[String],
    calls: usize,
    ip: IpAddr,
    duration: Duration,
) -> io::Result<WaitingChild> {
    let mut child = Command::new(exe)
        .args(args_prefix)
        .args(["--endpoints", &calls.to_string(), "--bind", &ip.to_string()])
        .args(["--duration-ms", &duration.as_millis().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot start load generator {}: {e}", exe.display()),
            )
        })?;
    let stdin = child.stdin.take();
    let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    Ok(WaitingChild {
        child: Some(child),
        stdin,
        stdout,
        exe: exe.to_path_buf(),
    })
}

impl Prepared {
    /// The relay ports the load goes to.
    pub fn targets(&self) -> &[CallTarget] {
        &self.targets
    }

    /// Runs the load for `duration` (as prepared, from `mode`) and returns the report.
    pub fn run(self, duration: Duration, mode: &LoadGenMode) -> io::Result<LoadReport> {
        let Prepared { targets, how } = self;
        match how {
            How::Fresh => run_loadgen(&targets, duration, mode),
            How::Sockets(sockets) => {
                let config = LoadGenConfig {
                    duration,
                    ..LoadGenConfig::default()
                };
                on_loadgen_thread(move || {
                    LoadGen::with_sockets(sockets, &targets, config).and_then(LoadGen::run)
                })
            }
            How::Child(mut w) => {
                let (host, list) = target::format_targets(&targets);
                let line = serde_json::to_string(&TargetsLine {
                    host,
                    targets: list,
                })
                .map_err(io::Error::other)?;
                let mut stdin = w.stdin.take().expect("stdin is piped");
                stdin.write_all(line.as_bytes())?;
                stdin.write_all(b"\n")?;
                drop(stdin);
                let mut out = Vec::new();
                w.stdout.read_to_end(&mut out)?;
                let status = w.child.take().expect("not yet waited for").wait()?;
                last_json_line(&w.exe, status, &out)
            }
        }
    }
}

/// Longest `--targets` argument passed on the command line; longer lists go through stdin
/// (Linux limits one argument to 128 KiB).
const MAX_TARGETS_ARG: usize = 100_000;

/// Where the load generator runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadGenMode {
    /// In a child process: `exe args_prefix... [--host IP] --duration-ms N --targets LIST`,
    /// which must run [`loadgen_main`](crate::loadgen_main) on the arguments after the
    /// prefix and print one JSON [`LoadReport`] line on stdout. The prefix names the
    /// subcommand (e.g. `["loadgen"]` for a hidden `tandem loadgen`) and may add options
    /// such as `--cpu 1` after it.
    Subprocess {
        /// The executable.
        exe: PathBuf,
        /// Arguments before the generated ones.
        args_prefix: Vec<String>,
    },
    /// On a thread of this process (for tests: the relay's CPU figures then compete with the
    /// generator for cores and the process's scheduling).
    InProcessThread,
}

/// Runs the load generator against `targets` for `duration` and returns its report.
pub fn run_loadgen(
    targets: &[CallTarget],
    duration: Duration,
    mode: &LoadGenMode,
) -> io::Result<LoadReport> {
    match mode {
        LoadGenMode::InProcessThread => {
            let targets = targets.to_vec();
            let config = LoadGenConfig {
                duration,
                ..LoadGenConfig::default()
            };
            on_loadgen_thread(move || run_load(&targets, config))
        }
        LoadGenMode::Subprocess { exe, args_prefix } => {
            run_subprocess(exe, args_prefix, targets, duration)
        }
    }
}

/// Runs `generate` on a thread of its own named `loadgen` (so its CPU time is apart from the
/// relay's when both are in this process) and waits for it.
pub(crate) fn on_loadgen_thread<T: Send + 'static>(
    generate: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    std::thread::Builder::new()
        .name("loadgen".into())
        .spawn(generate)?
        .join()
        .map_err(|_| io::Error::other("load generator thread panicked"))?
}

fn run_subprocess(
    exe: &PathBuf,
    args_prefix: &[String],
    targets: &[CallTarget],
    duration: Duration,
) -> io::Result<LoadReport> {
    let (host, list) = target::format_targets(targets);
    run_child(exe, args_prefix, host, duration, &[], &list)
}

/// Runs the generator `exe args_prefix... [extra...] [--host IP] --duration-ms N --targets
/// LIST|-` (the list on stdin when it is too long for one argument) and parses the last
/// non-empty line of its stdout as JSON.
pub(crate) fn run_child<T: serde::de::DeserializeOwned>(
    exe: &PathBuf,
    args_prefix: &[String],
    host: Option<std::net::IpAddr>,
    duration: Duration,
    extra: &[String],
    list: &str,
) -> io::Result<T> {
    let mut cmd = Command::new(exe);
    cmd.args(args_prefix).args(extra);
    if let Some(h) = host {
        cmd.arg("--host").arg(h.to_string());
    }
    cmd.arg("--duration-ms")
        .arg(duration.as_millis().to_string());
    let via_stdin = list.len() > MAX_TARGETS_ARG;
    cmd.arg("--targets")
        .arg(if via_stdin { "-" } else { list })
        .stdin(if via_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot start load generator {}: {e}", exe.display()),
        )
    })?;
    if via_stdin {
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin.write_all(list.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    last_json_line(exe, out.status, &out.stdout)
}

/// The last non-empty line of a generator's stdout, as JSON, if it exited successfully.
fn last_json_line<T: serde::de::DeserializeOwned>(
    exe: &Path,
    status: std::process::ExitStatus,
    stdout: &[u8],
) -> io::Result<T> {
    if !status.success() {
        return Err(io::Error::other(format!(
            "load generator {} failed: {status}",
            exe.display()
        )));
    }
    let stdout = String::from_utf8_lossy(stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    serde_json::from_str(line).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "load generator printed {line:?}, not a {}: {e}",
                std::any::type_name::<T>()
                    .rsplit("::")
                    .next()
                    .unwrap_or("report")
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn targets(n: usize) -> Vec<CallTarget> {
        (0..n)
            .map(|i| CallTarget {
                a_port: SocketAddr::from(([127, 0, 0, 1], 10_000 + (2 * i % 50_000) as u16)),
                b_port: SocketAddr::from(([127, 0, 0, 1], 10_001 + (2 * i % 50_000) as u16)),
            })
            .collect()
    }

    /// A stand-in load generator: a shell script that reports the number of targets it was
    /// given (on the command line or stdin) as `calls` and echoes the arguments to stderr.
    fn fake_loadgen() -> LoadGenMode {
        let report = zero_report();
        let json = serde_json::to_string(&report)
            .unwrap()
            .replace("\"calls\":0", "\"calls\":N");
        let script = format!(
            r#"while [ "$1" != "--targets" ]; do shift; done
list="$2"; [ "$list" = "-" ] && list=$(cat)
n=$(printf '%s' "$list" | tr ',' '\n' | grep -c /)
echo "some noise first"
echo '{json}' | sed "s/\"calls\":N/\"calls\":$n/""#
        );
        LoadGenMode::Subprocess {
            exe: PathBuf::from("/bin/sh"),
            args_prefix: vec!["-c".into(), script, "loadgen".into()],
        }
    }

    fn zero_report() -> LoadReport {
        serde_json::from_str(
            r#"{"calls":0,"duration_s":1.0,"sent":0,"received":0,"lost":0,"loss_ratio":0.0,
            "reordered":0,"duplicates":0,"latency_p50_us":0.0,"latency_p99_us":0.0,
            "latency_p999_us":0.0,"latency_max_us":0.0,"misrouted":0,"malformed":0,
            "send_errors":0,"unprimed_calls":0,"send_lag_p99_us":0.0,"send_lag_max_us":0.0,
            "rx_stamp_fallbacks":0,"loadgen_cpu_s":0.0}"#,
        )
        .unwrap()
    }

    #[test]
    fn subprocess_gets_targets_on_the_command_line() {
        let r = run_loadgen(&targets(3), Duration::from_millis(10), &fake_loadgen()).unwrap();
        assert_eq!(r.calls, 3);
    }

    #[test]
    fn subprocess_gets_long_target_lists_on_stdin() {
        // 12,000 calls: ~145 KB of ports, over the 128 KiB limit of one argument.
        let many = targets(12_000);
        assert!(target::format_targets(&many).1.len() > MAX_TARGETS_ARG);
        let r = run_loadgen(&many, Duration::from_millis(10), &fake_loadgen()).unwrap();
        assert_eq!(r.calls, 12_000);
    }

    #[test]
    fn subprocess_failures_are_errors() {
        let fails = LoadGenMode::Subprocess {
            exe: PathBuf::from("/bin/sh"),
            args_prefix: vec!["-c".into(), "exit 3".into()],
        };
        assert!(run_loadgen(&targets(1), Duration::ZERO, &fails).is_err());
        let garbage = LoadGenMode::Subprocess {
            exe: PathBuf::from("/bin/sh"),
            args_prefix: vec!["-c".into(), "echo not json".into()],
        };
        let e = run_loadgen(&targets(1), Duration::ZERO, &garbage).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let missing = LoadGenMode::Subprocess {
            exe: PathBuf::from("/nonexistent/loadgen"),
            args_prefix: vec![],
        };
        assert!(run_loadgen(&targets(1), Duration::ZERO, &missing).is_err());
    }

    /// A relay that needs the endpoints first: it records them and hands out, per call,
    /// ports 100 above them.
    struct Offering {
        calls: usize,
        endpoints: Vec<CallTarget>,
        refuse: bool,
    }

    impl Relay for Offering {
        fn name(&self) -> &str {
            "offering"
        }
        fn targets(&self) -> Vec<CallTarget> {
            let up = |a: std::net::SocketAddr| SocketAddr::new(a.ip(), a.port() + 100);
            self.endpoints
                .iter()
                .map(|e| CallTarget {
                    a_port: up(e.a_port),
                    b_port: up(e.b_port),
                })
                .collect()
        }
        fn endpoints_needed(&self) -> Option<(usize, IpAddr)> {
            Some((self.calls, IpAddr::from([127, 0, 0, 1])))
        }
        fn connect(&mut self, endpoints: &[CallTarget]) -> io::Result<()> {
            if self.refuse {
                return Err(io::Error::other("offer refused"));
            }
            self.endpoints = endpoints.to_vec();
            Ok(())
        }
        fn cpu_time(&self) -> io::Result<Duration> {
            Ok(Duration::ZERO)
        }
        fn packets_relayed(&self) -> u64 {
            0
        }
        fn stop(self: Box<Self>) {}
    }

    /// A stand-in two-step generator: prints endpoints `1000/1001,1002/1003`, then reads
    /// the targets line and reports `calls` as the number of targets naming ports 1100+.
    fn two_step_loadgen(first_line: &str) -> LoadGenMode {
        let json = serde_json::to_string(&zero_report())
            .unwrap()
            .replace("\"calls\":0", "\"calls\":N");
        let script = format!(
            r#"case "$*" in *"--endpoints 2 --bind 127.0.0.1"*) ;; *) exit 9;; esac
echo '{first_line}'
read -r line
n=$(printf '%s' "$line" | tr ',' '\n' | grep -c '110[0-3]/110[0-3]')
echo '{json}' | sed "s/\"calls\":N/\"calls\":$n/""#
        );
        LoadGenMode::Subprocess {
            exe: PathBuf::from("/bin/sh"),
            args_prefix: vec!["-c".into(), script, "loadgen".into()],
        }
    }

    #[test]
    fn a_two_step_child_gets_the_relay_ports_for_its_endpoints() {
        let mode = two_step_loadgen(r#"{"host":"127.0.0.1","endpoints":"1000/1001,1002/1003"}"#);
        let mut relay = Offering {
            calls: 2,
            endpoints: vec![],
            refuse: false,
        };
        let p = prepare(&mut relay, Duration::from_millis(10), &mode).unwrap();
        assert_eq!(relay.endpoints.len(), 2);
        assert_eq!(relay.endpoints[1].b_port.port(), 1003);
        assert_eq!(p.targets()[0].a_port.port(), 1100);
        let r = p.run(Duration::from_millis(10), &mode).unwrap();
        assert_eq!(r.calls, 2, "the child saw both relay port pairs");
    }

    #[test]
    fn a_two_step_child_that_misbehaves_or_a_refused_offer_is_an_error() {
        let short = Duration::from_millis(10);
        for (line, why) in [
            ("not json", "not its endpoints"),
            (
                r#"{"host":null,"endpoints":"1000/1001"}"#,
                "1 endpoint pairs, not 2",
            ),
            (r#"{"host":null,"endpoints":"1000-1001"}"#, "not A/B"),
        ] {
            let mut relay = Offering {
                calls: 2,
                endpoints: vec![],
                refuse: false,
            };
            let e = prepare(&mut relay, short, &two_step_loadgen(line))
                .err()
                .unwrap();
            assert!(e.to_string().contains(why), "{line}: {e}");
        }
        let mut refusing = Offering {
            calls: 2,
            endpoints: vec![],
            refuse: true,
        };
        let mode = two_step_loadgen(r#"{"host":"127.0.0.1","endpoints":"1000/1001,1002/1003"}"#);
        let e = prepare(&mut refusing, short, &mode).err().unwrap();
        assert!(e.to_string().contains("offer refused"), "{e}");
        // In process: the endpoints are real sockets, bound before the relay is told.
        let mut relay = Offering {
            calls: 3,
            endpoints: vec![],
            refuse: false,
        };
        let p = prepare(&mut relay, short, &LoadGenMode::InProcessThread).unwrap();
        assert_eq!(relay.endpoints.len(), 3);
        assert!(relay.endpoints.iter().all(|e| e.a_port.port() != 0));
        assert_eq!(p.targets().len(), 3);
    }
}
