//! The model's features against analytic and published results, each within the
//! simulator's own confidence interval.

use crate::reference::{
    birth_death, cobham, erlang_b, mean_ci, mmn_g, pollaczek_khinchine, riordan,
};
use crate::support::{check, column, per_replication, proportion, report, scenario, within_ci};

const NEVER: &str = "{ kind = \"deterministic\", value = 1e7 }";

/// Overflow without delay from a loss group of 20 agents offered 20 Erlang to a group large
/// enough never to be full: the traffic the second group carries has Riordan's mean
/// A·B(c, A) and variance M(1 − M + A/(c + 1 + M − A)), the moments Wilkinson's
/// equivalent random method starts from.
#[test]
fn overflow_traffic_has_riordans_mean_and_variance() {
    let r = report(&format!(
        "name = \"overflow\"\nduration_s = 36000\nwarmup_s = 1800\nreplications = 10\nseed = 4\n\
         [arrivals]\nkind = \"poisson\"\nper_min = 20\n\
         [queue]\npatience = {NEVER}\noverflow = [{{ after_s = 0, to = \"second\" }}]\n\
         [agents]\ncount = 20\ntalk = {{ kind = \"exponential\", mean = 60 }}\n\
         [[groups]]\nname = \"second\"\ncount = 60\n"
    ));
    let (m, v) = riordan(20.0, 20);
    let g = &r.groups[1];
    assert_eq!(g.name, "second");
    check(&r, "group.second.busy_mean", g.busy_mean, m);
    check(&r, "group.second.busy_variance", g.busy_variance, v);
    // Every call the first group could not take overflowed at once.
    assert_eq!(r.counts.queue_abandoned, 0.0);
    assert!((r.overflows[0].calls - r.counts.overflowed).abs() < 1e-9);
    assert!(r.counts.overflowed > 0.0);
}

/// Erlang B is insensitive to the holding-time distribution (M/G/c/c): the same blocking
/// for gamma, Erlang-k, hyperexponential and empirical (CSV) holding times of equal mean.
#[test]
fn trunk_blocking_is_insensitive_to_the_holding_time_distribution() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("aht.csv"),
        "handle_s,agent\n30,a\n45,b\n60,c\n75,d\n90,e\n",
    )
    .unwrap();
    let csv = dir.path().join("aht.csv");
    for talk in [
        "{ kind = \"gamma\", mean = 60, sd = 120 }".to_string(),
        "{ kind = \"erlang\", k = 4, mean = 60 }".to_string(),
        "{ kind = \"hyperexponential\", means = [20, 200], weights = [0.7777778, 0.2222222] }"
            .to_string(),
        format!("{{ kind = \"empirical\", csv = \"{}\" }}", csv.display()),
    ] {
        let r = report(&format!(
            "name = \"mgcc\"\nduration_s = 36000\nwarmup_s = 600\nreplications = 8\nseed = 21\n\
             [arrivals]\nkind = \"poisson\"\nper_min = 15\n[trunks]\nchannels = 20\n\
             [queue]\npatience = {NEVER}\n[agents]\ncount = 30\ntalk = {talk}\n"
        ));
        check(
            &r,
            "trunk_loss_share",
            r.rates.trunk_loss_share,
            erlang_b(15.0, 20),
        );
    }
}

/// One long run cut into batch means, after a warm-up: the mean wait of M/D/1, M/E₄/1 and
/// M/H₂/1 queues against Pollaczek–Khinchine.
#[test]
fn batch_means_match_pollaczek_khinchine() {
    let lambda = 0.7 / 60.0;
    for (talk, es2) in [
        ("{ kind = \"deterministic\", value = 60 }", 3600.0),
        ("{ kind = \"erlang\", k = 4, mean = 60 }", 3600.0 * 1.25),
        (
            "{ kind = \"hyperexponential\", means = [30, 180], weights = [0.8, 0.2] }",
            0.8 * 2.0 * 900.0 + 0.2 * 2.0 * 32400.0,
        ),
    ] {
        let r = report(&format!(
            "name = \"mg1\"\nduration_s = 4000000\nwarmup_s = 20000\nbatches = 20\nseed = 8\n\
             [arrivals]\nkind = \"poisson\"\nper_min = 0.7\n\
             [queue]\npatience = {NEVER}\n[agents]\ncount = 1\ntalk = {talk}\n"
        ));
        assert_eq!(r.method.kind, "batch-means");
        assert_eq!(r.method.batches, Some(20));
        assert_eq!(r.method.warmup_s, 20000.0);
        assert!(r.method.lag1_autocorrelation.contains_key("asa_s"));
        check(
            &r,
            "asa_s",
            r.rates.asa_s,
            pollaczek_khinchine(lambda, 60.0, es2),
        );
    }
}

/// Patience as a mixture — a fifth of callers hang up at once if they must wait, the rest
/// wait an exponential time — against the M/M/n+G queue, and the four service-level
/// definitions against its answer- and abandon-time distributions.
#[test]
fn patience_mixture_and_service_level_variants_match_mmng() {
    let r = report(
        "name = \"mix\"\nduration_s = 36000\nwarmup_s = 1800\nreplications = 10\nseed = 5\n\
         sl_threshold_s = 20\n[arrivals]\nkind = \"poisson\"\nper_min = 11\n\
         [queue]\npatience = { kind = \"mixture\", parts = [\
           { weight = 0.2, dist = { kind = \"deterministic\", value = 0 } }, \
           { weight = 0.8, dist = { kind = \"exponential\", mean = 60 } } ] }\n\
         [agents]\ncount = 10\ntalk = { kind = \"exponential\", mean = 60 }\n",
    );
    let q = mmn_g(11.0 / 60.0, 1.0 / 60.0, 10, 20.0, |x| {
        0.8 * (-x / 60.0).exp()
    });
    check(&r, "abandon_rate", r.rates.abandon_rate, q.p_abandon);
    check(&r, "p_wait", r.rates.p_wait, q.p_wait);
    let sl = &r.service_levels;
    let answered = 1.0 - q.p_abandon;
    check(
        &r,
        "sl_of_answered_and_abandoned",
        sl.of_answered_and_abandoned,
        q.p_answered_within,
    );
    check(
        &r,
        "sl_excluding_short_abandons",
        sl.excluding_short_abandons,
        q.p_answered_within / (1.0 - q.p_abandon_within),
    );
    check(&r, "sl_of_offered", sl.of_offered, q.p_answered_within);
    check(
        &r,
        "sl_of_answered",
        sl.of_answered,
        q.p_answered_within / answered,
    );
    assert!(r.counts.abandoned_within_sl > 0.0);
}

/// Abandonment that changes after a delay announcement: callers wait with an exponential
/// patience of mean 20 s, and those still waiting when the announcement plays at 30 s draw
/// a patience of mean 200 s. Their patience has a piecewise-constant hazard, and the queue
/// is M/M/n+G with that patience.
#[test]
fn abandonment_after_the_delay_announcement_matches_mmng() {
    let r = report(
        "name = \"announce\"\nduration_s = 36000\nwarmup_s = 1800\nreplications = 10\nseed = 6\n\
         [arrivals]\nkind = \"poisson\"\nper_min = 10.5\n\
         [queue]\npatience = { kind = \"exponential\", mean = 20 }\n\
         announcement = { after_s = 30, patience = { kind = \"exponential\", mean = 200 } }\n\
         [agents]\ncount = 10\ntalk = { kind = \"exponential\", mean = 60 }\n",
    );
    let surv = |x: f64| {
        if x < 30.0 {
            (-x / 20.0).exp()
        } else {
            (-30.0 / 20.0 - (x - 30.0) / 200.0).exp()
        }
    };
    let q = mmn_g(10.5 / 60.0, 1.0 / 60.0, 10, 20.0, surv);
    check(&r, "abandon_rate", r.rates.abandon_rate, q.p_abandon);
    check(&r, "p_wait", r.rates.p_wait, q.p_wait);
}

/// Balking on the announced queue position, with exponential patience: a birth–death chain
/// whose arrival rate in state n ≥ c is λ(1 − b(n − c + 1)).
#[test]
fn balking_on_the_announced_position_matches_the_birth_death_chain() {
    let sc = scenario(
        "name = \"balk\"\nduration_s = 36000\nwarmup_s = 1800\nreplications = 10\nseed = 7\n\
         [arrivals]\nkind = \"poisson\"\nper_min = 6\n\
         [queue]\npatience = { kind = \"exponential\", mean = 120 }\n\
         announcement = { tells = \"position\", balk = [[1, 0.1], [4, 0.5], [8, 1.0]] }\n\
         [agents]\ncount = 5\ntalk = { kind = \"exponential\", mean = 60 }\n",
    );
    let (lambda, mu, theta, c) = (0.1, 1.0 / 60.0, 1.0 / 120.0, 5usize);
    let b = |pos: usize| match pos {
        0 => 0.0,
        1..=3 => 0.1,
        4..=7 => 0.5,
        _ => 1.0,
    };
    let p = birth_death(
        c + 8,
        |n| {
            if n < c {
                lambda
            } else {
                lambda * (1.0 - b(n - c + 1))
            }
        },
        |n| n.min(c) as f64 * mu + n.saturating_sub(c) as f64 * theta,
    );
    let p_wait: f64 = p[c..].iter().sum();
    let balk: f64 = (c..p.len()).map(|n| p[n] * b(n - c + 1)).sum();
    let abandon = balk
        + (c..p.len())
            .map(|n| p[n] * (n - c) as f64 * theta)
            .sum::<f64>()
            / lambda;
    let rows = per_replication(&sc, |m| {
        let t = m.totals();
        vec![t.waited / t.reached_acd, t.balked / t.reached_acd]
    });
    let r = tandem_sim::simulate(&sc, 2, &|_| {}).unwrap();
    check(&r, "p_wait", r.rates.p_wait, p_wait);
    check(&r, "abandon_rate", r.rates.abandon_rate, abandon);
    let (m, hw) = mean_ci(&column(&rows, 1));
    within_ci("balked share", m, hw, balk);
    let (m, hw) = mean_ci(&column(&rows, 0));
    within_ci("p_wait per replication", m, hw, p_wait);
}

/// A doubly stochastic arrival process: a gamma day factor (mean 1, sd 0.2) multiplies a
/// Poisson rate, so the daily count has variance mean + mean² · Var(factor).
#[test]
fn day_to_day_busyness_gives_the_mixed_poisson_variance() {
    let sc = scenario(
        "name = \"days\"\nduration_s = 3600\nreplications = 400\nseed = 9\n\
         busyness = { kind = \"gamma\", mean = 1, sd = 0.2 }\n\
         [arrivals]\nkind = \"poisson\"\nper_min = 10\n\
         [queue]\npatience = { kind = \"exponential\", mean = 60 }\n\
         [agents]\ncount = 50\ntalk = { kind = \"exponential\", mean = 1 }\n",
    );
    let xs = column(&per_replication(&sc, |m| vec![m.totals().offered]), 0);
    let n = xs.len() as f64;
    let (mean, hw) = mean_ci(&xs);
    within_ci("daily mean", mean, hw, 600.0);
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
    // Standard error of a sample variance from the fourth central moment.
    let se = ((m4 - var * var * (n - 3.0) / (n - 1.0)) / n).sqrt();
    within_ci(
        "daily variance",
        var,
        1.96 * se,
        600.0 + 600.0 * 600.0 * 0.04,
    );
}

/// Call types with their own arrival streams and priorities on one group: the mean waits
/// of an M/M/c queue with non-preemptive priorities (Cobham).
#[test]
fn call_type_priorities_match_cobham() {
    let r = report(
        "name = \"types\"\nduration_s = 36000\nwarmup_s = 1800\nreplications = 10\nseed = 10\n\
         [arrivals]\nkind = \"poisson\"\nper_min = 0\n\
         [queue]\npatience = { kind = \"deterministic\", value = 1e7 }\n\
         [agents]\ncount = 10\ntalk = { kind = \"exponential\", mean = 60 }\n\
         [[call_types]]\nname = \"gold\"\npriority = 5\narrivals = { kind = \"poisson\", per_min = 3 }\n\
         [[call_types]]\nname = \"standard\"\narrivals = { kind = \"poisson\", per_min = 5 }\n",
    );
    let lambdas = [3.0 / 60.0, 5.0 / 60.0];
    for (k, t) in r.call_types.iter().enumerate() {
        check(
            &r,
            &format!("type.{}.asa_s", t.name),
            t.asa_s,
            cobham(&lambdas, 1.0 / 60.0, 10, k),
        );
    }
    assert!(r.call_types[0].asa_s < r.call_types[1].asa_s);
}

/// Call types with their own handle times: with no abandonment every call is served, so
/// occupancy is the offered load Σ λₖ·AHTₖ ÷ agents.
#[test]
fn call_type_handle_times_make_the_offered_load() {
    let r = report(
        "name = \"aht\"\nduration_s = 36000\nwarmup_s = 1800\nreplications = 8\nseed = 11\n\
         [arrivals]\nkind = \"poisson\"\nper_min = 6\n\
         [queue]\npatience = { kind = \"deterministic\", value = 1e7 }\n\
         [agents]\ncount = 12\ntalk = { kind = \"exponential\", mean = 60 }\n\
         [[call_types]]\nname = \"short\"\nshare = 2\ntalk = { kind = \"exponential\", mean = 30 }\n\
         [[call_types]]\nname = \"long\"\nshare = 1\ntalk = { kind = \"gamma\", mean = 150, sd = 100 }\n\
         acw = { kind = \"deterministic\", value = 30 }\n",
    );
    // 4/min × 30 s + 2/min × (150 + 30) s = 8 Erlang on 12 agents.
    check(&r, "occupancy", r.rates.occupancy, 8.0 / 12.0);
}

/// Callback acceptance and per-attempt answer probabilities, and redial probabilities after
/// a busy tone and after abandoning: each observed proportion against its probability.
#[test]
fn callback_and_redial_probabilities_are_honoured() {
    let r = report(
        "name = \"cb\"\nduration_s = 7200\nreplications = 4\nseed = 12\n\
         [arrivals]\nkind = \"poisson\"\nper_min = 30\n\
         [queue]\npatience = { kind = \"exponential\", mean = 60 }\n\
         [agents]\ncount = 12\ntalk = { kind = \"exponential\", mean = 30 }\n\
         [callback]\noffer_when_expected_wait_s = 0\nacceptance = 0.6\nmax_attempts = 3\n\
         attempt_answer_probabilities = [0.5, 0.8]\n\
         dial_time = { kind = \"deterministic\", value = 5 }\n",
    );
    let n = f64::from(r.replications);
    let cb = r.callback_survey.as_ref().unwrap();
    proportion(
        "callback acceptance",
        cb.accepted * n,
        (cb.accepted + cb.declined) * n,
        0.6,
    );
    for (i, p) in [0.5, 0.8, 0.8].iter().enumerate() {
        let [placed, answered] = cb.by_attempt[i];
        proportion(
            &format!("answer on attempt {}", i + 1),
            answered * n,
            placed * n,
            *p,
        );
    }
    let redial = |after: &str, trunks: &str| {
        report(&format!(
            "name = \"redial\"\nduration_s = 7200\nreplications = 4\nseed = 13\n\
             [arrivals]\nkind = \"poisson\"\nper_min = 30\n{trunks}\
             [redial]\nprobability = 0.0\n{after}\nmax_attempts = 100\n\
             delay = {{ kind = \"deterministic\", value = 1 }}\n\
             [queue]\npatience = {{ kind = \"exponential\", mean = 20 }}\n\
             [agents]\ncount = 10\ntalk = {{ kind = \"exponential\", mean = 30 }}\n"
        ))
    };
    let busy = redial("after_busy = 0.6", "[trunks]\nchannels = 12\n");
    let c = &busy.counts;
    // Losses in the last second cannot redial (the line has closed): a handful at most.
    proportion(
        "redial after busy",
        c.redials * 4.0,
        c.trunk_lost * 4.0,
        0.6,
    );
    assert!(c.queue_abandoned > 0.0);
    let gave_up = redial("after_abandon = 0.3", "");
    let c = &gave_up.counts;
    proportion(
        "redial after abandoning",
        c.redials * 4.0,
        (c.queue_abandoned + c.ring_lost) * 4.0,
        0.3,
    );
}
