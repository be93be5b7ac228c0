//! The simulator against the analytic oracles, within confidence intervals.

use tandem_sim::erlang::{erlang_a, erlang_b, erlang_c};
use tandem_sim::{Scenario, simulate};

fn run(toml: &str) -> tandem_sim::Report {
    let sc = Scenario::from_toml(toml, "test", None).unwrap();
    simulate(&sc, 2, &|_| {}).unwrap()
}

/// |sim − theory| within three half-widths, plus `slack` for start-up bias (runs begin empty).
fn close(name: &str, sim: f64, hw: f64, theory: f64, slack: f64) {
    assert!(
        (sim - theory).abs() <= 3.0 * hw + slack,
        "{name}: simulated {sim:.4} ± {hw:.4}, theory {theory:.4}"
    );
}

#[test]
fn mmcc_trunk_blocking_matches_erlang_b() {
    // 15 Erlang (15 calls/min × 60 s) on 20 channels; every seized call gets an agent at once.
    let r = run(r#"
        name = "mmcc"
        duration_s = 36000
        replications = 8
        seed = 11
        [arrivals]
        kind = "poisson"
        per_min = 15
        [trunks]
        channels = 20
        [queue]
        patience = { kind = "deterministic", value = 1e9 }
        [agents]
        count = 20
        talk = { kind = "exponential", mean = 60 }
    "#);
    let b = erlang_b(15.0, 20);
    close(
        "P(block)",
        r.rates.trunk_loss_share,
        r.ci95["trunk_loss_share"],
        b,
        0.002,
    );
    assert_eq!(r.counts.queue_abandoned + r.counts.ring_lost, 0.0);
}

#[test]
fn mmn_waiting_matches_erlang_c() {
    // 18 Erlang on 20 agents, no abandonment.
    let r = run(r#"
        name = "mmn"
        duration_s = 36000
        replications = 8
        seed = 5
        [arrivals]
        kind = "poisson"
        per_min = 18
        [queue]
        patience = { kind = "deterministic", value = 1e9 }
        [agents]
        count = 20
        talk = { kind = "exponential", mean = 60 }
    "#);
    let c = erlang_c(18.0 / 60.0, 60.0, 20, 20.0).unwrap();
    close("P(wait)", r.rates.p_wait, r.ci95["p_wait"], c.p_wait, 0.01);
    close("ASA", r.rates.asa_s, r.ci95["asa_s"], c.asa_s, 0.5);
    close(
        "SL",
        r.rates.service_level,
        r.ci95["service_level"],
        c.service_level,
        0.01,
    );
    close(
        "occupancy",
        r.rates.occupancy,
        r.ci95["occupancy"],
        c.occupancy,
        0.01,
    );
}

#[test]
fn mmnm_small_matches_erlang_a() {
    let r = run(r#"
        name = "mmnm"
        duration_s = 36000
        replications = 8
        seed = 3
        [arrivals]
        kind = "poisson"
        per_min = 22
        [queue]
        patience = { kind = "exponential", mean = 45 }
        [agents]
        count = 20
        talk = { kind = "exponential", mean = 60 }
    "#);
    let a = erlang_a(22.0 / 60.0, 60.0, 45.0, 20, 20.0);
    close(
        "P(abandon)",
        r.rates.abandon_rate,
        r.ci95["abandon_rate"],
        a.p_abandon,
        0.005,
    );
    close("P(wait)", r.rates.p_wait, r.ci95["p_wait"], a.p_wait, 0.01);
    close("ASA", r.rates.asa_s, r.ci95["asa_s"], a.asa_s, 0.5);
    close(
        "SL",
        r.rates.service_level,
        r.ci95["service_level"],
        a.service_level,
        0.01,
    );
}

#[test]
fn mmnm_500_agents_matches_erlang_a() {
    // 500 agents at 95% offered load (475 Erlang), 180 s talk, 120 s mean patience.
    let per_min = 475.0 / 180.0 * 60.0;
    let r = run(&format!(
        r#"
        name = "mmnm500"
        duration_s = 10800
        replications = 6
        seed = 9
        [arrivals]
        kind = "poisson"
        per_min = {per_min}
        [queue]
        patience = {{ kind = "exponential", mean = 120 }}
        [agents]
        count = 500
        talk = {{ kind = "exponential", mean = 180 }}
    "#
    ));
    let a = erlang_a(per_min / 60.0, 180.0, 120.0, 500, 20.0);
    close(
        "P(abandon)",
        r.rates.abandon_rate,
        r.ci95["abandon_rate"],
        a.p_abandon,
        0.004,
    );
    close("P(wait)", r.rates.p_wait, r.ci95["p_wait"], a.p_wait, 0.03);
    close(
        "SL",
        r.rates.service_level,
        r.ci95["service_level"],
        a.service_level,
        0.02,
    );
}

#[test]
fn same_seed_same_report_byte_for_byte_whatever_the_threads() {
    let sc = Scenario::built_in("tv-burst").unwrap();
    let a = serde_json::to_string(&simulate(&sc, 1, &|_| {}).unwrap()).unwrap();
    let b = serde_json::to_string(&simulate(&sc, 2, &|_| {}).unwrap()).unwrap();
    assert_eq!(a, b);
    let mut other = sc.clone();
    other.seed = 2;
    let c = serde_json::to_string(&simulate(&other, 2, &|_| {}).unwrap()).unwrap();
    assert_ne!(a, c);
}

#[test]
fn every_offered_call_is_accounted_for() {
    for name in ["tv-burst", "tv-burst-callback", "day-700"] {
        let mut sc = Scenario::built_in(name).unwrap();
        sc.replications = 1;
        let r = simulate(&sc, 1, &|_| {}).unwrap();
        let c = &r.counts;
        let ended = c.trunk_lost
            + c.ivr_lost
            + c.queue_abandoned
            + c.ring_lost
            + c.answered
            + c.ivr_completed
            + c.callback_offered
            + c.voicemail
            + c.rejected;
        assert_eq!(ended, c.offered, "{name}: {c:?}");
        assert!(c.callback_served + c.callback_expired <= c.callback_offered);
    }
}

#[test]
fn the_case_rebuild_raises_answered_calls() {
    let before = simulate(&Scenario::built_in("tv-burst").unwrap(), 2, &|_| {}).unwrap();
    let after = simulate(&Scenario::built_in("tv-burst-rebuilt").unwrap(), 2, &|_| {}).unwrap();
    // Before the rebuild most calls are lost, overwhelmingly at the trunks.
    assert!(
        before.rates.total_loss_share > 0.6,
        "{}",
        before.rates.total_loss_share
    );
    assert!(before.rates.trunk_loss_share > 0.8 * before.rates.total_loss_share);
    assert!(after.counts.answered > 1.3 * before.counts.answered);
}
