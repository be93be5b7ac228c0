//! The simulator against the analytic oracles, within confidence intervals.

mod features;
mod fixes;
mod reference;
mod support;

use tandem_sim::erlang::{erlang_a, erlang_b, erlang_c};
use tandem_sim::{Scenario, simulate};

fn run(toml: &str) -> tandem_sim::Report {
    let sc = Scenario::from_toml(toml, "test", None).unwrap();
    simulate(&sc, 2, &|_| {}).unwrap()
}

/// A Markovian model: Poisson arrivals, exponential talk with mean `aht`, `agents` agents,
/// `patience` as a TOML distribution, `trunks` channels (0: unlimited); 10 simulated hours.
fn markov(
    per_min: f64,
    aht: f64,
    agents: u32,
    patience: &str,
    trunks: u32,
    seed: u64,
) -> tandem_sim::Report {
    let trunks = if trunks > 0 {
        format!("[trunks]\nchannels = {trunks}\n")
    } else {
        String::new()
    };
    run(&format!(
        "name = \"markov\"\nduration_s = 36000\nreplications = 8\nseed = {seed}\n\
         [arrivals]\nkind = \"poisson\"\nper_min = {per_min}\n{trunks}\
         [queue]\npatience = {patience}\n\
         [agents]\ncount = {agents}\ntalk = {{ kind = \"exponential\", mean = {aht} }}\n"
    ))
}

/// |simulated − theory| within three 95% half-widths, plus `slack` for start-up bias (runs
/// begin empty).
fn close(r: &tandem_sim::Report, key: &str, sim: f64, theory: f64, slack: f64) {
    let hw = r
        .half_width(key)
        .expect("several replications give a half-width");
    assert!(
        (sim - theory).abs() <= 3.0 * hw + slack,
        "{key}: simulated {sim:.4} ± {hw:.4}, theory {theory:.4}"
    );
}

const NO_ABANDON: &str = "{ kind = \"deterministic\", value = 1e7 }";

#[test]
fn mmcc_trunk_blocking_matches_erlang_b() {
    // 15 Erlang on 20 channels; every seized call gets an agent at once.
    let r = markov(15.0, 60.0, 20, NO_ABANDON, 20, 11);
    close(
        &r,
        "trunk_loss_share",
        r.rates.trunk_loss_share,
        erlang_b(15.0, 20),
        0.002,
    );
    assert_eq!(r.counts.queue_abandoned + r.counts.ring_lost, 0.0);
}

#[test]
fn mmn_waiting_matches_erlang_c() {
    // 18 Erlang on 20 agents, no abandonment.
    let r = markov(18.0, 60.0, 20, NO_ABANDON, 0, 5);
    let c = erlang_c(18.0 / 60.0, 60.0, 20, 20.0).unwrap();
    close(&r, "p_wait", r.rates.p_wait, c.p_wait, 0.01);
    close(&r, "asa_s", r.rates.asa_s, c.asa_s, 0.5);
    close(
        &r,
        "service_level",
        r.rates.service_level,
        c.service_level,
        0.01,
    );
    close(&r, "occupancy", r.rates.occupancy, c.occupancy, 0.01);
}

#[test]
fn mmnm_small_matches_erlang_a() {
    let r = markov(
        22.0,
        60.0,
        20,
        "{ kind = \"exponential\", mean = 45 }",
        0,
        3,
    );
    let a = erlang_a(22.0 / 60.0, 60.0, 45.0, 20, 20.0);
    close(&r, "abandon_rate", r.rates.abandon_rate, a.p_abandon, 0.005);
    close(&r, "p_wait", r.rates.p_wait, a.p_wait, 0.01);
    close(&r, "asa_s", r.rates.asa_s, a.asa_s, 0.5);
    close(
        &r,
        "service_level",
        r.rates.service_level,
        a.service_level,
        0.01,
    );
}

#[test]
fn mmnm_500_agents_matches_erlang_a() {
    // 500 agents at 95% offered load (475 Erlang), 180 s talk, 120 s mean patience.
    let per_min = 475.0 / 180.0 * 60.0;
    let r = markov(
        per_min,
        180.0,
        500,
        "{ kind = \"exponential\", mean = 120 }",
        0,
        9,
    );
    let a = erlang_a(per_min / 60.0, 180.0, 120.0, 500, 20.0);
    close(&r, "abandon_rate", r.rates.abandon_rate, a.p_abandon, 0.004);
    close(&r, "p_wait", r.rates.p_wait, a.p_wait, 0.03);
    close(
        &r,
        "service_level",
        r.rates.service_level,
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

#[test]
fn profile_csv_is_read_relative_to_the_scenario_file() {
    let dir = std::env::temp_dir().join(format!("tandem-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("day.csv"),
        "time,per_min\n00:00,0\n00:10,60\n00:20,0\n",
    )
    .unwrap();
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        "name = \"csv\"\nduration_s = 1800\nreplications = 4\n[arrivals]\nkind = \"profile\"\ncsv = \"day.csv\"\n\
         [queue]\npatience = { kind = \"exponential\", mean = 60 }\n[agents]\ncount = 200\n\
         talk = { kind = \"exponential\", mean = 30 }\n",
    )
    .unwrap();
    let sc = Scenario::load(&path).unwrap();
    let r = simulate(&sc, 2, &|_| {}).unwrap();
    // 60 calls/min for 10 minutes and nothing else: about 600 per replication, all between
    // minute 10 and minute 20.
    assert!(
        (r.counts.offered - 600.0).abs() < 60.0,
        "{}",
        r.counts.offered
    );
    let outside: f64 = r
        .intervals
        .iter()
        .filter(|i| i.start_s < 600.0 || i.start_s >= 1200.0)
        .map(|i| i.counts.offered)
        .sum();
    assert_eq!(outside, 0.0);
    std::fs::write(dir.join("day.csv"), "00:00,1\nlater,2\n").unwrap();
    let e = Scenario::load(&path).unwrap_err().to_string();
    assert!(e.contains("day.csv:2"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
