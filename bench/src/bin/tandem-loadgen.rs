//! The capacity harness's load generator as its own executable (the `tandem` binary exposes
//! the same as a hidden subcommand), plus `raw-capacity`: the raw kernel baseline ladder.
//!
//! ```text
//! tandem-loadgen --targets 40000/40001,... --duration-ms 5000   # one load run, JSON report
//! tandem-loadgen raw-capacity --levels 100,500,1000 --duration-ms 5000
//! ```

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = match args.first().map(String::as_str) {
        Some("raw-capacity") => tandem_bench::capacity::raw_capacity_main(&args[1..]),
        _ => tandem_bench::capacity::loadgen_main(&args),
    };
    std::process::exit(status);
}
