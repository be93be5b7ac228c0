//! Scenarios the simulator benchmarks share.

use tandem_sim::Scenario;

/// M/M/500+M at 95% offered load (475 Erlang, 180 s talk, 120 s patience): 1,000,000
/// expected arrivals.
pub fn mmnm_500_million() -> Scenario {
    mmnm_500(1_000_000)
}

/// M/M/500+M at 95% offered load (475 Erlang, 180 s talk, 120 s patience), one replication
/// long enough for `calls` expected arrivals.
pub fn mmnm_500(calls: u32) -> Scenario {
    let per_s = 475.0 / 180.0;
    let toml = format!(
        r#"
        name = "mmnm-500"
        duration_s = {}
        interval_s = 3600
        [arrivals]
        kind = "poisson"
        per_min = {}
        [queue]
        patience = {{ kind = "exponential", mean = 120 }}
        [agents]
        count = 500
        talk = {{ kind = "exponential", mean = 180 }}
    "#,
        f64::from(calls) / per_s,
        per_s * 60.0
    );
    Scenario::from_toml(&toml, "bench", None).expect("valid scenario")
}
