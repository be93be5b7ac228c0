//! The command line of `tandem bench`.

/// Arguments of `tandem bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Load levels (bridged calls) for the capacity harness.
    #[arg(long, value_delimiter = ',', default_value = "100,250,500,1000,2000")]
    pub(crate) calls: Vec<usize>,
    /// Seconds of load per level.
    #[arg(long, default_value_t = 5)]
    pub(crate) seconds: u64,
    /// Relays to measure: raw, mio, io-uring (the in-process engine on each driver), serve
    /// (tandem serve over ng), rtpengine (over ng; skipped if not installed).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "raw,mio,io-uring,serve,rtpengine"
    )]
    pub(crate) relays: Vec<String>,
    /// Rounds per level: each relay runs once per round, the order rotated; figures are
    /// medians over the rounds.
    #[arg(long, default_value_t = 1)]
    pub(crate) rounds: usize,
    /// Media threads of tandem serve (--num-threads: shards) and rtpengine (--num-threads).
    /// With more than one, the relays are not pinned and the spread over shards is shown.
    #[arg(long, default_value_t = 1)]
    pub(crate) shards: usize,
    /// The rtpengine executable (default: `rtpengine` on the PATH); where there is none,
    /// rtpengine is skipped and its comparisons are reported as not measured.
    #[arg(long, value_name = "PATH")]
    pub(crate) rtpengine: Option<std::path::PathBuf>,
    /// tandem serve's UDP driver: auto, mio or io-uring.
    #[arg(long, default_value = "auto")]
    pub(crate) serve_driver: String,
    /// Concurrent stereo recordings in the media section.
    #[arg(long, default_value_t = 1000)]
    pub(crate) recordings: usize,
    /// A short run (small levels, 2 s each, 200 recordings, 500 set-ups): checks the harness
    /// works.
    #[arg(long)]
    pub(crate) quick: bool,
    /// Only the call set-up benchmark (as --skip capacity,media,sim).
    #[arg(long)]
    pub(crate) setup: bool,
    /// Calls per set-up round.
    #[arg(long, default_value_t = 2000)]
    pub(crate) setup_calls: usize,
    /// Calls in flight at once in the set-up benchmark.
    #[arg(long, default_value_t = 64)]
    pub(crate) setup_window: usize,
    /// Set-up rounds per daemon.
    #[arg(long, default_value_t = 5)]
    pub(crate) setup_rounds: usize,
    /// Only the overload benchmark: tandem serve climbs the --calls levels, then carries
    /// twice the highest level within 0.1% loss; reports the delivered packets' p99 added
    /// latency (target overload-p99-ms), datagrams shed and offers refused.
    #[arg(long)]
    pub(crate) overload: bool,
    /// tandem serve's --max-shard-busy (percent) in the overload benchmark.
    #[arg(long, default_value_t = 90, value_name = "PERCENT")]
    pub(crate) overload_max_busy: u32,
    /// Sections to skip: capacity, setup, media, sim.
    #[arg(long, value_delimiter = ',')]
    pub(crate) skip: Vec<String>,
    /// Do not pin the relays to core 0 and the load generator to core 1.
    #[arg(long)]
    pub(crate) no_pin: bool,
    /// Change a target's limit, NAME=VALUE (repeatable; --list-targets names them).
    #[arg(long = "target", value_name = "NAME=VALUE")]
    pub(crate) targets: Vec<String>,
    /// Print the targets with their limits and what they measure, and exit.
    #[arg(long)]
    pub(crate) list_targets: bool,
    /// Report the verdict but exit 0 even if a target is missed.
    #[arg(long)]
    pub(crate) no_verdict: bool,
    /// No progress display, no step lines on stderr.
    #[arg(long)]
    pub(crate) quiet: bool,
}
