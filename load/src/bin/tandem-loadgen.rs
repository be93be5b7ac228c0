//! The load generator as its own executable (the `tandem` binary runs the same as a hidden
//! subcommand), plus `raw-capacity`: the raw kernel baseline ladder. Both parse their
//! arguments with clap; `--help` on either says what they take.
//!
//! ```text
//! tandem-loadgen --targets 40000/40001,... --duration-ms 5000   # one load run, JSON report
//! tandem-loadgen raw-capacity --levels 100,500,1000 --duration-ms 5000
//! ```

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = match args.first().map(String::as_str) {
        Some("raw-capacity") => tandem_load::raw_capacity_main(&args[1..]),
        _ => tandem_load::loadgen_main(&args),
    };
    std::process::exit(status);
}
