//! Regressions: exact figures whatever the interval, callbacks on trunks, the shift-change
//! rules, and bounds on every input.

use tandem_sim::lifecycle::{Transcript, Transition};
use tandem_sim::model::Run;
use tandem_sim::{Scenario, simulate};

use crate::support::{report, scenario};

fn overloaded(interval: f64, duration: f64) -> String {
    format!(
        "name = \"f2\"\nduration_s = {duration}\ninterval_s = {interval}\nreplications = 2\n\
         [arrivals]\nkind = \"poisson\"\nper_min = 200\n[trunks]\nchannels = 400\n\
         [queue]\npatience = {{ kind = \"exponential\", mean = 60 }}\n\
         [agents]\ncount = 300\ntalk = {{ kind = \"exponential\", mean = 180 }}\n"
    )
}

/// Occupancies are taken over exactly the open hours, whatever the interval: 600 s
/// intervals over a 1,000 s run used to count the drain up to 1,200 s against 1,000 s of
/// capacity (104.6 % trunk occupancy).
#[test]
fn occupancy_does_not_depend_on_the_interval() {
    let base = report(&overloaded(100.0, 1000.0));
    for iv in [600.0, 300.0, 7.3, 1.2] {
        let r = report(&overloaded(iv, 1000.0));
        for (k, a, b) in [
            ("trunk", base.rates.trunk_occupancy, r.rates.trunk_occupancy),
            ("agent", base.rates.occupancy, r.rates.occupancy),
        ] {
            assert!((a - b).abs() < 1e-9, "{iv}: {k} occupancy {a} vs {b}");
        }
        assert!(r.rates.trunk_occupancy <= 1.0);
        let (mut a, mut b) = (r.counts, base.counts);
        assert!((a.wait_sum - b.wait_sum).abs() < 1e-9 * b.wait_sum);
        (a.wait_sum, b.wait_sum) = (0.0, 0.0);
        assert_eq!(a, b);
    }
}

/// Widths that are not binary fractions used to hang the integration at a boundary that
/// rounded back onto itself.
#[test]
fn awkward_intervals_finish() {
    let base = report(&overloaded(60.0, 60.0));
    for iv in [7.3, 1.2, 0.6, 0.1] {
        let r = report(&overloaded(iv, 60.0));
        assert!(
            (r.rates.occupancy - base.rates.occupancy).abs() < 1e-9,
            "{iv}"
        );
        let covered: f64 = r.intervals.iter().map(|i| i.counts.offered).sum();
        assert!((covered - r.counts.offered).abs() < 1e-9, "{iv}");
    }
}

/// Outbound callbacks hold a trunk channel while they ring and talk: after the inbound
/// calls have drained, the busy trunk-seconds are exactly the callbacks' dial and talk
/// time.
#[test]
fn callbacks_hold_trunk_channels() {
    let r = report(
        "name = \"cb-trunks\"\nduration_s = 600\ninterval_s = 100\nreplications = 2\n\
         [arrivals]\nkind = \"poisson\"\nper_min = 120\n[trunks]\nchannels = 500\n\
         [queue]\npatience = { kind = \"exponential\", mean = 30 }\n\
         [agents]\ncount = 20\ntalk = { kind = \"deterministic\", value = 100 }\n\
         [callback]\noffer_when_expected_wait_s = 0\nstart_at_s = 3000\nexpire_after_s = 100000\n\
         answer_probability = 0.7\ndial_time = { kind = \"deterministic\", value = 10 }\n",
    );
    let cb = r.callback_survey.as_ref().unwrap();
    assert!(cb.attempts > 100.0, "{cb:?}");
    let after: f64 = r
        .intervals
        .iter()
        .filter(|i| i.start_s >= 3000.0)
        .map(|i| i.trunks_busy * 100.0)
        .sum();
    let expected = cb.attempts * 10.0 + cb.answered * 100.0;
    assert!(
        (after - expected).abs() < 1e-6 * expected,
        "{after} trunk-seconds vs {expected}"
    );
}

/// With few trunks, callbacks dialled while calls keep arriving compete for channels: some
/// dial tries find every channel seized and wait, and inbound calls are lost at the trunk.
#[test]
fn callbacks_compete_with_inbound_calls_for_trunks() {
    let mut sc = Scenario::built_in("tv-burst-callback").unwrap();
    sc.trunks.e1 = None;
    sc.trunks.channels = Some(450);
    sc.replications = 2;
    let cb = sc.callback.as_mut().unwrap();
    cb.offer_when_expected_wait_s = 0.0;
    cb.start_at_s = 0.0;
    let r = simulate(&sc, 2, &|_| {}).unwrap();
    assert!(r.trunk_peak <= 450.0);
    let s = r.callback_survey.as_ref().unwrap();
    assert!(s.trunk_blocked > 0.0, "{s:?}");
    assert!(r.counts.trunk_lost > 1000.0, "{}", r.counts.trunk_lost);
}

fn shift_drop(rule: &str) -> Scenario {
    scenario(&format!(
        "name = \"shift\"\nduration_s = 600\ninterval_s = 20\nreplications = 1\nseed = 3\n\
         [arrivals]\nkind = \"poisson\"\nper_min = 60\n\
         [queue]\npatience = {{ kind = \"deterministic\", value = 1e7 }}\n\
         [agents]\ncount = 0\nshift_change = \"{rule}\"\n\
         talk = {{ kind = \"deterministic\", value = 50 }}\n\
         shifts = [{{ start_s = 0, end_s = 300, count = 10 }}, {{ start_s = 300, end_s = 600, count = 5 }}]\n"
    ))
}

/// Answer times after the staffing drops from 10 to 5 at 300 s.
fn answers_after_the_drop(sc: &Scenario) -> Vec<f64> {
    let mut t = Transcript::default();
    Run::with_observer(sc, 0, &mut t).unwrap().run().unwrap();
    t.steps
        .iter()
        .filter(|(at, _, s)| *at >= 300.0 && matches!(s, Transition::Answered { .. }))
        .map(|(at, _, _)| *at)
        .collect()
}

/// The `first-free` rule answers no new call until the busy agents are below the new
/// target; the `designated` rule lets the agents who stay keep taking calls while the
/// leavers finish.
#[test]
fn shift_change_rules() {
    let first_free = answers_after_the_drop(&shift_drop("first-free"));
    let designated = answers_after_the_drop(&shift_drop("designated"));
    // Ten agents are busy with 50 s calls at 300 s (the queue never empties): under
    // first-free the first five to finish leave, so nothing is answered until the sixth
    // finishes; under designated, the five who stay answer as soon as they finish.
    let first = |v: &[f64]| v.first().copied().unwrap_or(f64::INFINITY);
    assert!(
        first(&first_free) > first(&designated),
        "first-free {:?} designated {:?}",
        &first_free[..3],
        &designated[..3]
    );
    // Both end with five agents on duty.
    for sc in [shift_drop("first-free"), shift_drop("designated")] {
        let r = simulate(&sc, 1, &|_| {}).unwrap();
        let last = r.intervals.iter().rfind(|i| i.start_s < 600.0).unwrap();
        assert!(
            (last.agents_staffed - 5.0).abs() < 1e-9,
            "{}",
            last.agents_staffed
        );
    }
}

/// Inputs beyond any bound are refused before work starts, naming the key and the bound.
#[test]
fn bounds_and_limits_refuse_before_work() {
    let base = overloaded(60.0, 3600.0);
    for (from, to, key) in [
        ("per_min = 200", "per_min = 1e12", "arrivals.per_min"),
        ("mean = 180", "mean = 1e300", "agents.talk"),
        ("duration_s = 3600", "duration_s = 1e300", "duration_s"),
        ("duration_s = 3600", "duration_s = 315360000", "duration_s"),
        ("replications = 2", "replications = 20000", "replications"),
        ("channels = 400", "channels = 0", "trunks.channels"),
    ] {
        let text = base.replace(from, to);
        let e = Scenario::from_toml(&text, "t.toml", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains(key) && e.contains("bounds"), "{to}: {e}");
    }
    let huge = "x".repeat(2 << 20);
    let e = Scenario::from_toml(&huge, "t.toml", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("1024 KiB"), "{e}");
    // A year at 10,000 calls a minute, a thousand times over: refused at once.
    let mut sc = scenario(&base);
    sc.duration_s = 366.0 * 86_400.0;
    sc.interval_s = 3600.0;
    sc.replications = 1000;
    if let tandem_sim::arrivals::ArrivalSpec::Poisson { per_min } = &mut sc.arrivals {
        *per_min = 10_000.0;
    }
    let started = std::time::Instant::now();
    let e = simulate(&sc, 2, &|_| {}).unwrap_err().to_string();
    assert!(e.contains("max_events"), "{e}");
    assert!(started.elapsed().as_secs() < 5, "refused only after work");
    // A replication far beyond its estimate is stopped.
    let mut sc = scenario(&base);
    sc.limits.max_events = 1000.0;
    sc.replications = 1;
    let e = tandem_sim::budget::check(&sc, 1).unwrap_err().to_string();
    assert!(e.contains("max_events"), "{e}");
    let e = Run::new(&sc, 0).unwrap().run().unwrap_err().to_string();
    assert!(e.contains("stopped"), "{e}");
}
