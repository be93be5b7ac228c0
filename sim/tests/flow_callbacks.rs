//! Callbacks asked for in an IVR flow: a caller who keys the queue's callback key leaves the
//! queue, the number goes on the ACD's callback list, and agents dial it back.

use tandem_sim::Scenario;
use tandem_sim::model::Run;

/// The TV-shopping flow's burst, with a quarter of its agents, and a callback list behind
/// its callback key.
fn with_list(extra: &str) -> Result<Scenario, tandem_sim::SimError> {
    let text = include_str!("../scenarios/tv-shopping-flow.toml")
        .replace("duration_s = 1200", "duration_s = 600")
        .replace("replications = 5", "replications = 1")
        // Fewer agents: callers wait long enough to hear the callback offer.
        .replace("count = 400", "count = 100")
        .replace(
            "[queue]",
            &format!("[callback]\nmax_attempts = 2\nanswer_probability = 0.6\n{extra}\n[queue]"),
        );
    Scenario::from_toml(&text, "tv-callbacks.toml", None)
}

#[test]
fn callback_requests_from_the_flow_are_dialled_by_agents() {
    let sc = with_list("").expect("the scenario");
    let m = Run::new(&sc, 0).expect("a run").run().expect("the run");
    let tot = m.totals();
    let f = m.flow.as_ref().expect("flow figures");
    // Every request in the flow (after the warm-up, none here) put a number on the list.
    assert!(
        f.callback_requests > 50.0,
        "{} {tot:?} {f:?}",
        f.callback_requests
    );
    assert_eq!(tot.callback_offered, f.callback_requests);
    // Agents dialled them once the burst eased: attempts, answers as the scenario says.
    assert!(
        tot.callback_attempts > 0.0 && tot.callback_served > 0.0,
        "{tot:?}"
    );
    assert!(tot.callback_served <= tot.callback_offered);
    let answered = tot.callback_served / tot.callback_attempts;
    assert!((0.45..=0.75).contains(&answered), "{answered}");
    // Nothing was offered by the ACD itself.
    assert_eq!(tot.callback_declined, 0.0);
}

#[test]
fn the_acds_own_offer_does_not_combine_with_a_flow() {
    for extra in ["offer_when_expected_wait_s = 10", "acceptance = 0.5"] {
        let e = with_list(extra).expect_err("refused").to_string();
        assert!(e.contains("the ACD's own offer"), "{extra}: {e}");
    }
}
