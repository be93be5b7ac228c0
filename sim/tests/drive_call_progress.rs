//! Call progress on drive mode's callback legs: the far end of each callback attempt plays
//! what the model says it does (ringback, busy, the vacant-code SIT) into the dialling
//! agent's channel, and the call-progress detector on the agent's phone hears exactly that.

use tandem_sim::Scenario;
use tandem_sim::drive::{DriveConfig, drive};
use tandem_sim::model::Run;

fn scenario(busy: f64, unassigned: f64) -> Result<Scenario, tandem_sim::SimError> {
    Scenario::from_toml(
        &format!(
            r#"
name = "callback-progress"
duration_s = 240
seed = 2
[arrivals]
kind = "poisson"
per_min = 20
[queue]
patience = {{ kind = "lognormal", mean = 60, sd = 20 }}
[agents]
count = 3
talk = {{ kind = "lognormal", mean = 20, sd = 5 }}
[callback]
offer_when_expected_wait_s = 15
dial_time = {{ kind = "deterministic", value = 8 }}
answer_probability = 0.4
busy_share = {busy}
unassigned_share = {unassigned}
start_at_s = 60
[callers]
population = 1000000
"#
        ),
        "callbacks.toml",
        None,
    )
}

fn callbacks(busy: f64, unassigned: f64) -> Scenario {
    scenario(busy, unassigned).expect("the scenario")
}

#[test]
fn busy_sit_and_ringback_on_callback_legs_are_detected_as_the_model_said() {
    let sc = callbacks(0.4, 0.3);
    let d = drive(&sc, &DriveConfig::default()).expect("the drive run");
    let pure = Run::new(&sc, 0).expect("a run").run().expect("the run");
    assert_eq!(pure.totals(), d.metrics.totals());
    let p = &d.drive.call_progress;
    println!("{}", d.drive.to_text());
    let tot = d.metrics.totals();
    assert_eq!(
        d.drive.counters.errors, 0,
        "{:?}",
        d.drive.counters.first_errors
    );
    // Every state occurred, and each attempt was heard as what it was.
    for (name, row) in [
        ("answered", &p.answered),
        ("no answer", &p.no_answer),
        ("busy", &p.busy),
        ("unassigned", &p.unassigned),
    ] {
        assert!(row.attempts > 0, "{name}: {p:#?}");
        assert_eq!(row.detected, row.attempts, "{name}: {p:#?}");
    }
    assert_eq!(p.answered.attempts as f64, tot.callback_served);
    assert_eq!(
        p.answered.attempts + p.no_answer.attempts + p.busy.attempts + p.unassigned.attempts,
        tot.callback_attempts as u64
    );
}

#[test]
fn far_end_shares_change_no_decision_of_the_model() {
    let plain = Run::new(&callbacks(0.0, 0.0), 0).unwrap().run().unwrap();
    let shares = Run::new(&callbacks(0.5, 0.5), 0).unwrap().run().unwrap();
    assert_eq!(plain.totals(), shares.totals());
    let e = scenario(0.7, 0.5).expect_err("refused").to_string();
    assert!(e.contains("busy_share + unassigned_share"), "{e}");
}
