//! `tandem-gate`: the benchmark regression gate.
//!
//! Wall-clock time on small, shared CI machines is noise. Instruction counts under
//! `valgrind --tool=callgrind` are repeatable for the same binary and input, so the gate
//! compares those against baselines committed in `bench/gate/baselines.toml` and fails when
//! any benchmark costs more than the tolerance (3% by default) above its baseline.
//!
//! Each workload builds its state first and then runs its hot path inside
//! [`measure::gate_measure`], the only function whose instructions callgrind collects, so
//! set-up cost never pollutes the figure.
#![forbid(unsafe_code)]

mod baseline;
mod callgrind;
mod measure;
mod offload;
mod workloads;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

/// Instruction-count regression gate for Tandem's hot paths.
#[derive(Parser)]
#[command(name = "tandem-gate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the workloads.
    List,
    /// Run one workload once, natively (callgrind runs this).
    Run {
        /// Workload name, as printed by `list`.
        name: String,
    },
    /// Measure every workload and compare with the committed baselines.
    Check {
        /// Baseline file.
        #[arg(long, default_value = "bench/gate/baselines.toml")]
        baselines: PathBuf,
        /// Largest allowed rise above a baseline, in percent.
        #[arg(long, default_value_t = 3.0)]
        tolerance: f64,
        /// Measure only these workloads.
        #[arg(long)]
        only: Vec<String>,
    },
    /// Measure every workload (or only these) and write the results as the new baselines.
    Rebaseline {
        /// Baseline file to write.
        #[arg(long, default_value = "bench/gate/baselines.toml")]
        baselines: PathBuf,
        /// Measure and record only these workloads; the other baselines stay as they are.
        #[arg(long)]
        only: Vec<String>,
    },
}

fn main() -> std::process::ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tandem-gate: error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<std::process::ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::List => {
            for w in workloads::ALL {
                println!("{:<32} {}", w.name, w.about);
            }
        }
        Command::Run { name } => {
            let w =
                workloads::find(&name).with_context(|| format!("no workload named `{name}`"))?;
            (w.run)();
        }
        Command::Check {
            baselines,
            tolerance,
            only,
        } => {
            let base = baseline::load(&baselines)?;
            let selected: Vec<_> = workloads::ALL
                .iter()
                .filter(|w| only.is_empty() || only.iter().any(|o| o == w.name))
                .collect();
            if selected.is_empty() {
                bail!("no workload matches {only:?}");
            }
            let mut rows = Vec::new();
            for w in selected {
                let now = callgrind::instructions(w.name)?;
                rows.push(baseline::compare(
                    w.name,
                    base.get(w.name).copied(),
                    now,
                    tolerance,
                ));
            }
            print!("{}", baseline::table(&rows, tolerance));
            let failed = rows.iter().filter(|r| r.fails()).count();
            if failed > 0 {
                eprintln!(
                    "tandem-gate: {failed} benchmark(s) failed the gate; if the slowdown is \
                     intended, run `scripts/bench-gate.sh rebaseline` and say why in the commit"
                );
                return Ok(std::process::ExitCode::FAILURE);
            }
            println!(
                "gate: all {} benchmarks within {tolerance}% of baseline",
                rows.len()
            );
        }
        Command::Rebaseline { baselines, only } => {
            let mut counts = if only.is_empty() {
                std::collections::BTreeMap::new()
            } else {
                baseline::load(&baselines)?
            };
            if let Some(o) = only.iter().find(|o| workloads::find(o).is_none()) {
                bail!("no workload named `{o}`");
            }
            for w in workloads::ALL
                .iter()
                .filter(|w| only.is_empty() || only.iter().any(|o| o == w.name))
            {
                let n = callgrind::instructions(w.name)?;
                println!("{:<32} {n:>14}", w.name);
                counts.insert(w.name.to_string(), n);
            }
            baseline::save(&baselines, &counts)?;
            println!("wrote {}", baselines.display());
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
