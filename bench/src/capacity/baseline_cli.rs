//! A command that measures the raw kernel baseline on its own: [`RawRelay`] at each load level,
//! the load generator in a child process, results as JSON lines then a table.
//!
//! ```text
//! <exe> raw-capacity [--levels N,N,...] [--duration-ms N] [--relay-cpu N]
//!       [--loadgen-cpu N[,N...]] [--loadgen-threads N] [--bind IP] [--loadgen-exe PATH]
//!       [--loadgen-prefix ARG]...
//! ```
//!
//! The load generator is `--loadgen-exe` (default: this executable) run with the
//! `--loadgen-prefix` arguments, so the executable must serve [`loadgen_main`] when given them
//! (as `tandem-loadgen` does with none).
//!
//! [`loadgen_main`]: super::loadgen_main

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use super::driver::{LoadGenMode, run_levels_observed};
use super::levels::{DEFAULT_LEVELS, json_line, table};
use super::raw_relay::RawRelay;
use super::relay::Relay;

const USAGE: &str = "usage: raw-capacity [--levels N,N,...] [--duration-ms N] [--relay-cpu N] \
[--loadgen-cpu N[,N...]] [--loadgen-threads N] [--bind IP] [--loadgen-exe PATH] \
[--loadgen-prefix ARG]...";

/// Runs the raw baseline capacity ladder with command-line `args` (after the subcommand
/// name); returns the exit status.
pub fn raw_capacity_main(args: &[String]) -> i32 {
    match run(args) {
        Ok(()) => 0,
        Err(msg) => {
            eprintln!("raw-capacity: {msg}\n{USAGE}");
            2
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let mut levels = DEFAULT_LEVELS.to_vec();
    let mut duration = Duration::from_secs(5);
    let mut relay_cpu = None;
    let mut loadgen_cpu = None;
    let mut bind = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut exe = None;
    let mut prefix = Vec::new();
    let mut it = args.iter();
    while let Some(name) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{name} needs a value"));
        let bad = |v: &str| format!("bad value {v:?} for {name}");
        match name.as_str() {
            "--levels" => {
                let v = value()?;
                levels = v
                    .split(',')
                    .map(|x| x.trim().parse().map_err(|_| bad(v)))
                    .collect::<Result<_, _>>()?;
            }
            "--duration-ms" => {
                let v = value()?;
                duration = Duration::from_millis(v.parse().map_err(|_| bad(v))?);
            }
            "--relay-cpu" => {
                let v = value()?;
                relay_cpu = Some(v.parse::<usize>().map_err(|_| bad(v))?);
            }
            "--loadgen-cpu" => loadgen_cpu = Some(value()?.clone()),
            "--loadgen-threads" => {
                prefix.extend(["--threads".to_string(), value()?.clone()]);
            }
            "--bind" => {
                let v = value()?;
                bind = v.parse().map_err(|_| bad(v))?;
            }
            "--loadgen-exe" => exe = Some(PathBuf::from(value()?)),
            "--loadgen-prefix" => prefix.push(value()?.clone()),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let exe = match exe {
        Some(e) => e,
        None => std::env::current_exe().map_err(|e| format!("cannot find own executable: {e}"))?,
    };
    if let Some(cpus) = loadgen_cpu {
        prefix.extend(["--cpu".to_string(), cpus]);
    }
    let mode = LoadGenMode::Subprocess {
        exe,
        args_prefix: prefix,
    };
    let mut factory = |calls: usize| -> std::io::Result<Box<dyn Relay>> {
        Ok(Box::new(RawRelay::start_pinned(calls, bind, relay_cpu)?))
    };
    let results = run_levels_observed(&mut factory, &levels, duration, &mode, &mut |r| {
        println!("{}", json_line(r));
    })
    .map_err(|e| e.to_string())?;
    println!();
    print!("{}", table(&results));
    Ok(())
}
