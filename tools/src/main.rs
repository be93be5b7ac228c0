//! `tandem`: the command-line front end to Tandem's simulator, calculators and media tools.
#![forbid(unsafe_code)]

mod cmd;

use clap::{Parser, Subcommand};

/// Tandem: a media switching core and a call-centre capacity lab.
#[derive(Parser)]
#[command(name = "tandem", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a call-centre scenario and report where calls are lost (default: tv-burst).
    Sim(cmd::sim::Args),
    /// Erlang B, C and A calculators.
    Erlang(cmd::erlang::Args),
    /// Find the fewest trunks, IVR ports and agents that meet loss and service targets.
    Staff(cmd::staff::Args),
    /// Run one call leg through the codecs end to end: RTP, loss, PLC, transcoding,
    /// recording, DTMF and RTCP.
    Demo(cmd::demo::Args),
    /// Convert a WAV file between PCM16, G.711 μ-law and G.711 A-law.
    Convert(cmd::convert::Args),
    /// Detect DTMF digits in a WAV file and print them with their start times.
    Dtmf(cmd::dtmf::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sim(a) => cmd::sim::run(a),
        Command::Erlang(a) => cmd::erlang::run(a),
        Command::Staff(a) => cmd::staff::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Convert(a) => cmd::convert::run(a),
        Command::Dtmf(a) => cmd::dtmf::run(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tandem: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
