//! `tandem`: the command-line front end to Tandem's simulator, calculators and media tools.
#![forbid(unsafe_code)]

mod cmd;
mod ui;

/// The process's allocator: jemalloc. `tandem serve` churns calls, replies and requests of
/// every size for days. glibc's allocator keeps the pages such churn frees inside its arenas:
/// in a soak at 1,000 calls its arenas grew by 2.9 MB in five minutes while the bytes in use
/// fell by 2.3 MB, and resident memory kept rising in steps. jemalloc gives pages that stay
/// free back to the system after a few seconds, so resident memory follows what is in use
/// (flat in the same soak), at the same level.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
    /// Measure: engine capacity over loopback against a raw kernel relay, media costs, and
    /// simulator speed, summarised in one table.
    Bench(cmd::bench::Args),
    /// Run the media daemon that SIP proxies drive with rtpengine's ng protocol.
    Serve(cmd::serve::Args),
    /// RTP load generator for any relay (or an in-process engine): N calls at 50
    /// packets/s per direction (relay ports given, or set up over ng with --ng), or N
    /// conference rooms of K participants (--conference); loss, reordering and latency.
    Load(cmd::load::Args),
    /// Raise concurrent calls through the engine on UDP until loss or latency breaks the
    /// target; print the highest sustained level.
    Capacity(cmd::capacity::Args),
    /// Soak `tandem serve`: call churn at N concurrent calls with hostile traffic for a
    /// long time; memory, descriptors, leftovers and missed ticks against their targets.
    Soak(cmd::soak::Args),
    /// The load generator in its own process (run by `tandem load`, `tandem capacity` and
    /// `tandem bench`).
    #[command(hide = true)]
    Loadgen {
        /// Load generator arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
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
        Command::Bench(a) => cmd::bench::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Load(a) => cmd::load::run(a),
        Command::Capacity(a) => cmd::capacity::run(a),
        Command::Soak(a) => cmd::soak::run(a),
        Command::Loadgen { args } => {
            return std::process::ExitCode::from(
                tandem_load::loadgen_main(&args).clamp(0, 255) as u8
            );
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if let Some(missed) = e.downcast_ref::<tandem_load::TargetsMissed>() {
                // The run completed; its verdict (on stdout) says what was missed.
                eprintln!("tandem: {missed}");
                return std::process::ExitCode::from(tandem_load::verdict::EXIT_TARGETS_MISSED);
            }
            eprintln!("tandem: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
