//! Simulated callers walking IVR flows with the real interpreter, against independent
//! references: per node counts balance in every replication, an IVR-only loss system
//! matches Erlang B, survey answers follow the callers' probabilities, the TV-shopping
//! flow's IVR port requirement against the rule of thumb "IVR ports + seats = trunks".

use proptest::prelude::*;
use tandem_sim::erlang::erlang_b;
use tandem_sim::flow_metrics::{Exit, FlowMetrics};
use tandem_sim::report::flow::FlowReport;
use tandem_sim::{Scenario, run_replications, simulate};

fn built_in(name: &str) -> Scenario {
    Scenario::built_in(name).unwrap()
}

/// Balance and closure of one replication's flow figures.
fn check_balance(f: &FlowMetrics, what: &str) {
    let bad: Vec<_> = f.unbalanced().iter().map(|&i| &f.nodes[i]).collect();
    assert!(
        bad.is_empty(),
        "{what}: nodes {:?}: {bad:?}",
        f.unbalanced()
    );
    // Every caller ends exactly once: by an end exit or by hanging up.
    let ends: f64 = f
        .nodes
        .iter()
        .flat_map(|n| &n.exits)
        .filter(|(e, _)| matches!(e, Exit::End(_)))
        .map(|(_, c)| c)
        .sum();
    let abandons: f64 = f.nodes.iter().map(|n| n.abandons).sum();
    assert_eq!(abandons, f.hung_up, "{what}");
    assert_eq!(ends + abandons, f.callers, "{what}");
    assert!(f.callers > 0.0, "{what}");
}

#[test]
fn every_node_balances_in_every_replication_of_the_tv_shopping_flow() {
    let mut sc = built_in("tv-shopping-flow");
    sc.duration_s = 300.0;
    sc.replications = 3;
    sc.warmup_s = 60.0;
    let runs = run_replications(&sc, 2, &|_| {}).unwrap();
    for (r, m) in runs.iter().enumerate() {
        let f = m.flow.as_ref().unwrap();
        check_balance(f, &format!("replication {r}"));
    }
    let report = simulate(&sc, 2, &|_| {}).unwrap();
    let f = report.ivr_flow.unwrap();
    let start = f.nodes.iter().find(|n| n.node == "hours").unwrap();
    assert!((start.entries - f.callers).abs() < 1e-9);
    for n in &f.nodes {
        let exits: f64 = n.exits.iter().map(|e| e.calls).sum();
        assert!((n.entries - exits - n.abandons).abs() < 1e-6, "{}", n.node);
    }
}

/// A bank-flow scenario with the given caller behaviour at its main menu.
fn bank(main: &str, seed: u64) -> Scenario {
    Scenario::from_toml(
        &format!(
            r#"
name = "bank-flow"
duration_s = 900
seed = {seed}
replications = 2
[arrivals]
kind = "poisson"
per_min = 40
[ivr]
ports = 30
flow = "bank"
starts_at = "2025-03-11 10:00"
prompt_s = {{ kind = "uniform", min = 1, max = 4 }}
[ivr.nodes.main]
{main}
[ivr.nodes.accounts]
choices = {{ "1" = 0.5, "2" = 0.2, "*" = 0.3 }}
no_input = 0.2
[ivr.nodes.survey]
hangup = 0.4
[queue]
patience = {{ kind = "exponential", mean = 40 }}
[agents]
count = 12
talk = {{ kind = "exponential", mean = 120 }}
"#
        ),
        "bank.toml",
        None,
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// Whatever callers choose at the bank's main menu, every node of every replication
    /// balances and every caller ends once.
    #[test]
    fn counts_balance_whatever_callers_choose(
        w in prop::collection::vec(0.0f64..1.0, 4),
        no_input in 0.0f64..0.3,
        hangup in 0.0f64..0.3,
        seed in 1u64..1000,
    ) {
        let main = format!(
            "choices = {{ \"1\" = {}, \"2\" = {}, \"0\" = {}, \"9\" = {} }}\nno_input = {no_input}\nhangup = {hangup}",
            w[0] + 0.01, w[1], w[2], w[3] * 0.2
        );
        let sc = bank(&main, seed);
        for (r, m) in run_replications(&sc, 1, &|_| {}).unwrap().iter().enumerate() {
            check_balance(m.flow.as_ref().unwrap(), &format!("seed {seed} rep {r}"));
        }
    }
}

#[test]
fn an_ivr_only_loss_system_matches_erlang_b() {
    // IVR ports are the servers of an M/G/c/c system: Poisson arrivals at 1/s, a log-normal
    // announcement (mean 28 s) and a 2 s goodbye, 30 ports, no agents reached. Erlang B with
    // the flow's mean holding time (30 s, so 30 Erl) gives the share that finds no port.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("info.toml"),
        r#"
name = "info-line"
start = "info"
[nodes.info]
kind = "play"
prompts = ["info"]
next = "bye"
[nodes.bye]
kind = "hangup"
prompts = ["bye"]
"#,
    )
    .unwrap();
    let text = r#"
name = "ivr-only"
duration_s = 14400
warmup_s = 600
replications = 8
[arrivals]
kind = "poisson"
per_min = 60
[ivr]
ports = 30
flow = "info.toml"
no_answer_hangup_s = 0
[ivr.prompts]
info = { kind = "lognormal", mean = 28, sd = 20 }
bye = { kind = "deterministic", value = 2 }
[queue]
patience = { kind = "exponential", mean = 30 }
[agents]
count = 1
talk = { kind = "exponential", mean = 60 }
"#;
    let path = dir.path().join("ivr-only.toml");
    std::fs::write(&path, text).unwrap();
    let sc = Scenario::load(&path).unwrap();
    let r = simulate(&sc, 2, &|_| {}).unwrap();
    let f = r.ivr_flow.as_ref().unwrap();
    // The measured mean port holding time is the flow's: 28 + 2 s.
    assert!((f.mean_port_s - 30.0).abs() < 0.5, "{}", f.mean_port_s);
    let want = erlang_b(30.0, 30);
    let got = r.rates.ivr_loss_share;
    let hw = r.half_width("ivr_loss_share").unwrap();
    assert!(
        (got - want).abs() < 3.0 * hw + 0.004,
        "IVR loss {got:.4} ± {hw:.4}, Erlang B {want:.4}"
    );
    // Every caller who got a port finished in self-service; none reached an agent.
    assert_eq!(r.counts.reached_acd, 0.0);
    assert!((f.self_service - f.callers).abs() < 1e-9);
}

#[test]
fn survey_answers_follow_the_callers_probabilities() {
    // The TV-shopping survey: per attempt, 35% hang up, 10% key nothing (one retry), 55%
    // score with weights 5/10/35/50 %. Participation = 0.55 + 0.10 × 0.55 = 0.605; mean
    // score = 0.05 + 2 × 0.10 + 3 × 0.35 + 4 × 0.50 = 3.30.
    let mut sc = built_in("tv-shopping-flow");
    sc.ivr.as_mut().unwrap().ports = 600;
    sc.replications = 3;
    let r = simulate(&sc, 2, &|_| {}).unwrap();
    let f = r.ivr_flow.unwrap();
    let s = &f.surveys[0];
    assert!(s.offered > 5000.0, "{}", s.offered);
    assert!(
        (s.participation - 0.605).abs() < 0.015,
        "{}",
        s.participation
    );
    assert!((s.mean.unwrap() - 3.30).abs() < 0.03, "{:?}", s.mean);
    let shares: Vec<f64> = s.scores.iter().map(|(_, c)| c / s.answered).collect();
    for (got, want) in shares.iter().zip([0.05, 0.10, 0.35, 0.50]) {
        assert!((got - want).abs() < 0.02, "{shares:?}");
    }
}

fn ports_report(ports: u32) -> (FlowReport, tandem_sim::Report) {
    let mut sc = built_in("tv-shopping-flow");
    sc.replications = 3;
    sc.ivr.as_mut().unwrap().ports = ports;
    let r = simulate(&sc, 2, &|_| {}).unwrap();
    (r.ivr_flow.clone().unwrap(), r)
}

#[test]
fn the_tv_shopping_port_requirement_against_the_rule_of_thumb() {
    // Start at the scenario's 240 ports, and size again from each run's figure until it
    // settles (queued callers hold ports, so more ports let more traffic through).
    let (mut f, _) = ports_report(240);
    let p = &f.ports;
    // The report's figures from its own inputs, by independent arithmetic: the rule of
    // thumb is 30 E1 − 400 seats; the requirement is the fewest ports with Erlang B ≤ 1% at
    // the busiest interval's offered traffic.
    assert_eq!(p.rule_of_thumb, Some(900 - 400));
    let fewest = (1..2000)
        .find(|n| erlang_b(p.offered_erlangs, *n) <= 0.01)
        .unwrap();
    assert_eq!(p.ports_for_1pct, Some(fewest));
    assert!(fewest > 240, "240 ports are short: {fewest}");
    let mut ports = fewest;
    for _ in 0..4 {
        let (next, _) = ports_report(ports);
        let need = next.ports.ports_for_1pct.unwrap();
        f = next;
        if need.abs_diff(ports) <= ports / 50 {
            break;
        }
        ports = need;
    }
    let settled = f.ports.ports_for_1pct.unwrap();
    // With the settled requirement the IVR loses about 1% of callers or fewer.
    let (_, r) = ports_report(settled);
    assert!(r.rates.ivr_loss_share < 0.01, "{}", r.rates.ivr_loss_share);
    // The rule of thumb (500) holds for this centre within 10%: every trunk call is either
    // at an agent's seat or on an IVR port (menus, queue announcements, the survey).
    let rule = 500.0;
    assert!(
        (f64::from(settled) - rule).abs() / rule < 0.10,
        "settled at {settled} ports, rule of thumb {rule}"
    );
}

#[test]
fn a_flow_loop_in_the_callers_choices_is_an_error() {
    // Callers who always press 9 (repeat the menu) never leave it: the flow's step bound
    // stops them, and the run reports it.
    let mut text = include_str!("../scenarios/tv-shopping-flow.toml").to_string();
    text = text.replace(
        r#"choices = { "1" = 0.70, "2" = 0.15, "0" = 0.13, "9" = 0.02 }"#,
        r#"choices = { "9" = 1 }"#,
    );
    let mut sc = Scenario::from_toml(&text, "loop.toml", None).unwrap();
    sc.replications = 1;
    sc.duration_s = 60.0;
    let e = simulate(&sc, 1, &|_| {}).unwrap_err().to_string();
    assert!(e.contains("max_steps") && e.contains("`main`"), "{e}");
}

#[test]
fn flow_keys_are_checked_against_the_flow() {
    let base = include_str!("../scenarios/tv-shopping-flow.toml");
    for (from, to, want) in [
        ("[ivr.nodes.main]", "[ivr.nodes.mian]", "has no node `mian`"),
        (
            "[ivr.nodes.voicemail]\nmessage",
            "[ivr.nodes.voicemail]\nthink",
            "does not apply to node `voicemail`",
        ),
        (r#""0" = 0.13"#, r#""7" = 0.13"#, "has no choice `7`"),
        ("digits = 10", "digits = 20", "takes 8 to 12 digits"),
        (
            "flow = \"tv-shopping\"",
            "flow = \"tv-shoping\"",
            "no shipped flow",
        ),
        (
            "prompt_s = { kind = \"deterministic\", value = 3 }",
            "",
            "no length for prompt",
        ),
        (
            "no_answer_hangup_s = 8",
            "no_answer_hangup_s = 8\ntime = { kind = \"deterministic\", value = 8 }",
            "drop `time` or `flow`",
        ),
        (
            "[queue]",
            "[callback]\noffer_when_expected_wait_s = 30\n[queue]",
            "the ACD's own offer",
        ),
    ] {
        assert!(base.contains(from), "{from}");
        let text = base.replace(from, to);
        let e = Scenario::from_toml(&text, "s.toml", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want) && e.contains("s.toml"), "{from}: {e}");
    }
    // Keys of a flow are refused on an IVR without one.
    let plain = include_str!("../scenarios/tv-burst.toml").replace(
        "self_service = 0.05",
        "self_service = 0.05\nthink = { kind = \"deterministic\", value = 1 }",
    );
    let e = Scenario::from_toml(&plain, "p.toml", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("ivr.think") && e.contains("flow"), "{e}");
}

#[test]
fn the_report_shows_the_flow_in_text_json_and_html() {
    let mut sc = built_in("tv-shopping-flow");
    sc.duration_s = 300.0;
    sc.replications = 2;
    let r = simulate(&sc, 2, &|_| {}).unwrap();
    let text = r.to_text();
    assert!(text.contains("IVR flow tv-shopping") && text.contains("sales_queue"));
    assert!(text.contains("survey survey:") && text.contains("rule of thumb"));
    let json: serde_json::Value = serde_json::to_value(&r).unwrap();
    let f = &json["ivr_flow"];
    assert_eq!(f["flow"], "tv-shopping");
    assert_eq!(f["replications"].as_array().unwrap().len(), 2);
    assert!(f["nodes"].as_array().unwrap().len() > 10);
    let html = tandem_sim::html::render(&r, &sc);
    assert!(html.contains("IVR flow") && html.contains("sales_queue"));
    // Without a flow there is no such section.
    let plain = simulate(
        &{
            let mut s = built_in("tv-burst");
            s.replications = 1;
            s.duration_s = 120.0;
            s
        },
        1,
        &|_| {},
    )
    .unwrap();
    assert!(plain.ivr_flow.is_none() && !plain.to_text().contains("IVR flow"));
}
