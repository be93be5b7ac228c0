//! A command that measures the raw kernel baseline on its own: [`RawRelay`] at each load
//! level, the load generator in a child process, results as JSON lines then a table.
//!
//! ```text
//! <exe> raw-capacity [--levels N,N,...] [--duration-ms N] [--relay-cpu N]
//!       [--loadgen-cpu N[,N...]] [--loadgen-threads N] [--bind IP] [--loadgen-exe PATH]
//!       [--loadgen-prefix ARG]...
//! ```
//!
//! The load generator is `--loadgen-exe` (default: this executable) run with the
//! `--loadgen-prefix` arguments, so the executable must serve [`loadgen_main`] when given
//! them (as `tandem-loadgen` does with none).
//!
//! [`loadgen_main`]: crate::child::loadgen_main

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::child;
use crate::levels::{DEFAULT_LEVELS, run_levels_observed};
use crate::raw_relay::RawRelay;
use crate::relay::Relay;
use crate::results::{json_line, table};
use crate::runner::LoadGenMode;

/// Exit status of bad arguments and of a failed run.
const FAILED: i32 = 2;

/// The raw baseline ladder's arguments.
#[derive(Parser, Debug)]
#[command(
    name = "raw-capacity",
    about = "The raw recvmmsg/sendmmsg relay at each load level"
)]
struct BaselineArgs {
    /// Load levels (bridged calls).
    #[arg(long, value_delimiter = ',', default_values_t = DEFAULT_LEVELS.to_vec())]
    levels: Vec<usize>,
    /// Milliseconds of load per level.
    #[arg(long, default_value_t = 5000)]
    duration_ms: u64,
    /// Pin the relay's thread to this CPU.
    #[arg(long)]
    relay_cpu: Option<usize>,
    /// Pin the generator's threads to these CPUs (passed on as its --cpu).
    #[arg(long, value_name = "N[,N...]")]
    loadgen_cpu: Option<String>,
    /// Generator threads (passed on as its --threads).
    #[arg(long)]
    loadgen_threads: Option<usize>,
    /// Address the relay's ports bind to.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// The generator's executable (default: this one).
    #[arg(long)]
    loadgen_exe: Option<PathBuf>,
    /// An argument put before the generator's own (repeat for several).
    #[arg(long, allow_hyphen_values = true)]
    loadgen_prefix: Vec<String>,
}

/// Runs the raw baseline capacity ladder with command-line `args` (after the subcommand
/// name); returns the exit status.
pub fn raw_capacity_main(args: &[String]) -> i32 {
    let a = match child::parse::<BaselineArgs>("raw-capacity", args) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { FAILED } else { 0 };
        }
    };
    match run(a) {
        Ok(()) => 0,
        Err(msg) => {
            eprintln!("raw-capacity: {msg}");
            FAILED
        }
    }
}

fn run(a: BaselineArgs) -> Result<(), String> {
    let exe = match a.loadgen_exe {
        Some(e) => e,
        None => std::env::current_exe().map_err(|e| format!("cannot find own executable: {e}"))?,
    };
    let mut prefix = a.loadgen_prefix;
    if let Some(n) = a.loadgen_threads {
        prefix.extend(["--threads".to_string(), n.to_string()]);
    }
    if let Some(cpus) = a.loadgen_cpu {
        prefix.extend(["--cpu".to_string(), cpus]);
    }
    let mode = LoadGenMode::Subprocess {
        exe,
        args_prefix: prefix,
    };
    let (bind, relay_cpu) = (a.bind, a.relay_cpu);
    let mut factory = |calls: usize| -> std::io::Result<Box<dyn Relay>> {
        Ok(Box::new(RawRelay::start_pinned(calls, bind, relay_cpu)?))
    };
    let duration = Duration::from_millis(a.duration_ms);
    let results = run_levels_observed(&mut factory, &a.levels, duration, &mode, &mut |r| {
        println!("{}", json_line(r));
    })
    .map_err(|e| e.to_string())?;
    println!();
    print!("{}", table(&results));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_and_refuses() {
        let a = BaselineArgs::try_parse_from(args(
            "raw-capacity --levels 10,20 --duration-ms 300 --loadgen-prefix loadgen \
             --loadgen-prefix --quiet --loadgen-threads 2",
        ))
        .unwrap();
        assert_eq!(a.levels, vec![10, 20]);
        assert_eq!(a.duration_ms, 300);
        assert_eq!(a.loadgen_prefix, vec!["loadgen", "--quiet"]);
        assert_eq!(a.loadgen_threads, Some(2));
        let d = BaselineArgs::try_parse_from(args("raw-capacity")).unwrap();
        assert_eq!(d.levels, DEFAULT_LEVELS);
        assert_eq!(raw_capacity_main(&args("--levels x")), FAILED);
        assert_eq!(raw_capacity_main(&args("--frobnicate")), FAILED);
        assert_eq!(raw_capacity_main(&args("--help")), 0);
    }
}
