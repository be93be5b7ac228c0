//! Where the load generator runs ([`LoadGenMode`]) and the parent side of its child-process
//! protocol: the command line the child gets ([`child`](crate::child) parses it) and the one
//! JSON line it prints.

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::bridged::{LoadGenConfig, LoadReport, run_load};
use crate::target::{self, CallTarget};

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
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "load generator {} failed: {}",
            exe.display(),
            out.status
        )));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
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
}
