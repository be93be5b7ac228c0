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

/// Every model feature at once, for the instruction-count gate: three agent groups with
/// skills and overflow after a delay, three call types (a share of the main stream, a stream
/// of their own, a priority), gamma, Erlang-k, hyperexponential and empirical handle times,
/// a patience mixture, a delay announcement with balking and patience after it, a day
/// busyness factor, callbacks with acceptance and per-attempt answer probabilities on
/// trunks, redials after busy and after abandoning, the first-free shift rule, a warm-up and
/// batch means. Four hours, about 35,000 calls.
pub fn every_feature() -> Scenario {
    Scenario::from_toml(EVERY_FEATURE, "every-feature", None).expect("valid scenario")
}

/// The TOML of [`every_feature`].
pub const EVERY_FEATURE: &str = r#"
name = "every-feature"
duration_s = 14400
interval_s = 900
warmup_s = 1800
batches = 10
busyness = { kind = "gamma", mean = 1.0, sd = 0.1 }

[arrivals]
kind = "profile"
rates = [[0, 80], [3600, 120], [7200, 140], [10800, 100]]

[redial]
probability = 0.2
after_busy = 0.5
after_abandon = 0.3
delay = { kind = "exponential", mean = 60 }

[trunks]
channels = 400

[ivr]
ports = 120
time = { kind = "erlang", k = 3, mean = 15 }
self_service = 0.1

[queue]
patience = { kind = "mixture", parts = [
  { weight = 0.1, dist = { kind = "deterministic", value = 0 } },
  { weight = 0.9, dist = { kind = "exponential", mean = 90 } } ] }
voicemail_after_s = 600
announcement = { after_s = 20, tells = "expected-wait", balk = [[20, 0.1], [60, 0.4]], patience = { kind = "exponential", mean = 150 } }

[agents]
count = 200
talk = { kind = "gamma", mean = 170, sd = 90 }
acw = { kind = "empirical", values = [5, 10, 15, 20, 40] }
ring = { kind = "uniform", min = 2, max = 6 }
ring_timeout_s = 20
shift_change = "first-free"
serves = ["orders", "service"]
shifts = [{ start_s = 0, end_s = 7200, count = 200 }, { start_s = 7200, end_s = 14400, count = 180 }]

[[groups]]
name = "experts"
count = 60
serves = ["priority"]

[[groups]]
name = "overflow"
count = 40

[[call_types]]
name = "orders"
share = 3
overflow = [{ after_s = 30, to = "overflow" }, { after_s = 60, to = "experts" }]

[[call_types]]
name = "service"
arrivals = { kind = "poisson", per_min = 25 }
talk = { kind = "hyperexponential", means = [120, 600], weights = [0.85, 0.15] }
overflow = [{ after_s = 45, to = "overflow" }]

[[call_types]]
name = "priority"
share = 1
priority = 10
talk = { kind = "erlang", k = 2, mean = 240 }
patience = { kind = "exponential", mean = 180 }
overflow = [{ after_s = 0, to = "overflow" }]

[callback]
offer_when_expected_wait_s = 30
acceptance = 0.7
attempt_answer_probabilities = [0.6, 0.5, 0.4]
max_attempts = 3
dial_time = { kind = "uniform", min = 10, max = 25 }
start_at_s = 0
trunk_retry_s = 15

[callers]
population = 500000
vip_fraction = 0.005
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// The gate's feature workload exercises every feature it names.
    #[test]
    fn every_feature_is_exercised() {
        let r = tandem_sim::simulate(&every_feature(), 1, &|_| {}).unwrap();
        let c = &r.counts;
        assert!(
            c.balked > 0.0 && c.overflowed > 0.0 && c.redials > 0.0,
            "{c:?}"
        );
        assert!(
            c.callback_declined > 0.0 && c.callback_served > 0.0,
            "{c:?}"
        );
        assert!(c.ivr_completed > 0.0 && c.voicemail + c.abandoned_within_sl > 0.0);
        assert_eq!(r.method.kind, "batch-means");
        assert_eq!(r.call_types.len(), 3);
        assert_eq!(r.groups.len(), 3);
        assert!(
            r.overflows.iter().all(|o| o.calls > 0.0),
            "{:?}",
            r.overflows
        );
        let cb = r.callback_survey.as_ref().unwrap();
        assert_eq!(cb.by_attempt.len(), 3);
    }
}
