//! Scenarios the simulator benchmarks share.

use tandem_sim::Scenario;

/// M/M/500+M at 95% offered load (475 Erlang, 180 s talk, 120 s patience): 1,000,000
/// expected arrivals.
pub fn mmnm_500_million() -> Scenario {
    let per_s = 475.0 / 180.0;
    let toml = format!(
        r#"
        name = "mmnm-500-1M"
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
        1_000_000.0 / per_s,
        per_s * 60.0
    );
    Scenario::from_toml(&toml, "bench", None).expect("valid scenario")
}
