//! `tandem erlang` on the real binary: the figures, significant digits, `--json`, tables,
//! the inverse (fewest channels or agents) against published tables and direct scans, and
//! clear errors for impossible targets and bad input.

mod common;

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{json, tandem};
use serde_json::Value;
use tandem_sim::erlang::try_erlang_a;

/// Runs `tandem erlang ARGS` (split on spaces), failing the test if it takes more than a
/// minute.
fn erlang(args: &str) -> Output {
    let mut child = tandem()
        .arg("erlang")
        .args(args.split_whitespace())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("`tandem erlang {args}` hangs");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The value printed after `label` on its line.
fn figure(text: &str, label: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no `{label}` in\n{text}"));
    line[label.len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap_or_else(|e| panic!("`{line}`: {e}"))
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("`{key}` missing or not a number in {v}"))
}

#[test]
fn heavy_overload_answers_with_the_exact_figures() {
    // All agents are busy almost surely, so carried load = n and P(abandon) = 1 - n/a.
    let o = erlang("a --rate-per-min 785 --aht 60 --patience 400 --agents 400");
    let text = stdout(&o);
    assert_eq!(figure(&text, "P(abandon) "), 0.4904, "{text}");
    assert!(
        (figure(&text, "ASA (answered)") - 269.6127).abs() < 1e-9,
        "{text}"
    );
    assert!(!text.contains("NaN"), "{text}");
    let v = json(&erlang(
        "a --rate-per-min 2000 --aht 60 --patience 600 --agents 1000 --json",
    ));
    let r = &v["results"];
    assert!((num(r, "p_abandon") - 0.5).abs() < 1e-12, "{v}");
    // Little's law on the abandonment flow: mean wait = P(abandon) × patience.
    assert!((num(r, "mean_wait_all_s") - 300.0).abs() < 1e-9, "{v}");
}

#[test]
fn small_figures_keep_their_significant_digits() {
    // Erlang B, 1 Erlang on 8 channels: (1/8!) / Σ_{j≤8} 1/j! ≈ 9.12e-6.
    let mut fact = 1.0;
    let mut sum = 1.0;
    for j in 1..=8 {
        fact *= f64::from(j);
        sum += 1.0 / fact;
    }
    let want = (1.0 / fact) / sum;
    let text = stdout(&erlang("b --rate-per-min 1 --holding 60 --channels 8"));
    let got = figure(&text, "P(block)");
    assert!((got / want - 1.0).abs() < 1e-3, "{got} vs {want}: {text}");
    assert!(text.contains("e-6"), "{text}");
    assert!(!text.contains("0.0000 "), "{text}");
    let v = json(&erlang(
        "b --rate-per-min 1 --holding 60 --channels 8 --json",
    ));
    assert!((num(&v["results"], "blocking") / want - 1.0).abs() < 1e-12);
}

#[test]
fn json_holds_the_inputs_and_every_figure() {
    let v = json(&erlang(
        "a --rate-per-min 100 --aht 180 --patience 120 --agents 310 --sl-threshold 15 --json",
    ));
    assert_eq!(v["model"], "erlang_a");
    for (k, want) in [
        ("rate_per_min", 100.0),
        ("aht_s", 180.0),
        ("patience_s", 120.0),
        ("agents", 310.0),
        ("sl_threshold_s", 15.0),
    ] {
        assert_eq!(num(&v["inputs"], k), want, "{k}");
    }
    for k in [
        "offered_erlang",
        "offered_per_agent",
        "carried_erlang",
        "p_wait",
        "p_abandon",
        "p_abandon_given_wait",
        "p_abandon_within_t",
        "asa_s",
        "mean_wait_abandoned_s",
        "mean_wait_all_s",
        "mean_queue_length",
        "service_level",
        "service_level_answered",
        "service_level_excluding_short_abandons",
        "sl_threshold_s",
        "occupancy",
    ] {
        num(&v["results"], k);
    }
    let c = json(&erlang(
        "c --rate-per-min 100 --aht 180 --agents 310 --json",
    ));
    assert_eq!(c["model"], "erlang_c");
    for k in [
        "p_wait",
        "asa_s",
        "service_level",
        "occupancy",
        "wait_if_delayed_s",
        "mean_queue_length",
    ] {
        num(&c["results"], k);
    }
    let b = json(&erlang("b --rate-per-min 785 --holding 30 --e1 6 --json"));
    assert_eq!(num(&b["inputs"], "channels"), 180.0);
    for k in [
        "offered_erlang",
        "blocking",
        "carried_erlang",
        "occupancy",
        "lost_per_min",
    ] {
        num(&b["results"], k);
    }
}

#[test]
fn inverse_erlang_b_matches_published_tables() {
    // Erlang B tables at 1% blocking: 10 channels carry 4.46 E, 18 carry 10 E, 20 carry
    // 12.0 E, 30 carry 20.3 E, 50 carry 37.9 E, 100 carry 84.06 E.
    for (erlangs, channels) in [
        ("4.46", 10.0),
        ("10", 18.0),
        ("12.0", 20.0),
        ("20.3", 30.0),
        ("37.9", 50.0),
        ("84.0", 100.0),
    ] {
        let v = json(&erlang(&format!(
            "b --rate-per-min {erlangs} --holding 60 --target-blocking 0.01 --json"
        )));
        assert_eq!(num(&v, "channels"), channels, "{erlangs} E: {v}");
        assert!(num(&v["results"], "blocking") <= 0.01);
        assert!(num(&v["one_fewer"], "blocking") > 0.01);
        assert_eq!(num(&v, "e1"), (channels / 30.0).ceil());
    }
    let text = stdout(&erlang(
        "b --rate-per-min 10 --holding 60 --target-blocking 0.01",
    ));
    assert_eq!(figure(&text, "channels needed"), 18.0, "{text}");
    assert!(text.contains("18 (1 E1 span)"), "{text}");
}

/// Erlang C's service level from its textbook closed form, summed directly.
fn erlang_c_sl(a: f64, n: u32, aht: f64, t: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..n {
        sum += term;
        term *= a / f64::from(k + 1);
    }
    let nf = f64::from(n);
    let top = term * nf / (nf - a);
    let c = top / (sum + top);
    1.0 - c * (-(nf - a) / aht * t).exp()
}

#[test]
fn inverse_erlang_c_is_the_first_size_a_direct_scan_accepts() {
    for (rate_per_min, aht, target, t) in [
        (2.0, 180.0, 0.8, 20.0),
        (30.0, 60.0, 0.8, 20.0),
        (100.0, 180.0, 0.9, 10.0),
        (7.0, 300.0, 0.95, 60.0),
    ] {
        let a: f64 = rate_per_min / 60.0 * aht;
        let scan = (a.floor() as u32 + 1..)
            .find(|&n| erlang_c_sl(a, n, aht, t) >= target)
            .unwrap();
        let v = json(&erlang(&format!(
            "c --rate-per-min {rate_per_min} --aht {aht} --target-sl {target}/{t} --json"
        )));
        assert_eq!(num(&v, "agents"), f64::from(scan), "{v}");
    }
    // An ASA ceiling alone.
    let v = json(&erlang(
        "c --rate-per-min 100 --aht 180 --max-asa 15 --json",
    ));
    assert!(num(&v["results"], "asa_s") <= 15.0 && num(&v["one_fewer"], "asa_s") > 15.0);
}

#[test]
fn inverse_erlang_a_is_the_first_size_a_scan_accepts_even_for_big_loads() {
    let scan = |lambda: f64, aht: f64, patience: f64, ok: &dyn Fn(f64, f64) -> bool| {
        (1u32..)
            .find(|&n| {
                let r = try_erlang_a(lambda, aht, patience, n, 20.0).unwrap();
                ok(r.service_level, r.p_abandon)
            })
            .unwrap()
    };
    for (rate_per_min, aht, patience) in [(20.0, 60.0, 30.0), (100.0, 180.0, 120.0)] {
        let lambda = rate_per_min / 60.0;
        let want = scan(lambda, aht, patience, &|sl, ab| sl >= 0.8 && ab <= 0.03);
        let v = json(&erlang(&format!(
            "a --rate-per-min {rate_per_min} --aht {aht} --patience {patience} \
             --target-sl 0.8/20 --max-abandon 0.03 --json"
        )));
        assert_eq!(num(&v, "agents"), f64::from(want), "{v}");
    }
    // 60,000 calls/min at 3 min: 180,000 Erlang. With 10 min of patience and 20 s to
    // answer, the answer sits near the load (at least 0.8 a, as answered ≤ n/a), found by a
    // search rather than a scan.
    let v = json(&erlang(
        "a --rate-per-min 60000 --aht 180 --patience 600 --target-sl 0.8/20 --json",
    ));
    let n = num(&v, "agents");
    assert!((144_000.0..185_000.0).contains(&n), "{v}");
    assert!(num(&v["results"], "service_level") >= 0.8);
    assert!(num(&v["one_fewer"], "service_level") < 0.8);
}

#[test]
fn tables_are_monotone_and_complete() {
    let v = json(&erlang(
        "a --rate-per-min 100 --aht 180 --patience 120 --agents 280..330 --step 5 --json",
    ));
    let rows = v["table"].as_array().unwrap();
    assert_eq!(rows.len(), 11);
    for w in rows.windows(2) {
        let (x, y) = (&w[0], &w[1]);
        assert_eq!(num(y, "agents") - num(x, "agents"), 5.0);
        assert!(num(y, "service_level") >= num(x, "service_level"));
        assert!(num(y, "asa_s") <= num(x, "asa_s"));
        assert!(num(y, "p_wait") <= num(x, "p_wait"));
        assert!(num(y, "p_abandon") <= num(x, "p_abandon"));
        assert!(num(y, "occupancy") <= num(x, "occupancy"));
    }
    let v = json(&erlang(
        "b --rate-per-min 20 --holding 60 --channels 0..40 --json",
    ));
    let rows = v["table"].as_array().unwrap();
    assert_eq!(rows.len(), 41);
    assert_eq!(num(&rows[0], "blocking"), 1.0);
    for w in rows.windows(2) {
        assert!(num(&w[1], "blocking") < num(&w[0], "blocking"));
    }
    // Erlang C rows at or below the load are marked unstable, not dropped.
    let v = json(&erlang(
        "c --rate-per-min 10 --aht 60 --agents 8..12 --json",
    ));
    let rows = v["table"].as_array().unwrap();
    let stable: Vec<bool> = rows.iter().map(|r| r["stable"] == true).collect();
    assert_eq!(stable, [false, false, false, true, true]);
    let text = stdout(&erlang("c --rate-per-min 10 --aht 60 --agents 8..12"));
    assert_eq!(text.lines().count(), 6, "header and five rows: {text}");
    assert!(text.contains("unstable"));
}

#[test]
fn impossible_targets_and_bad_input_are_clear_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "a --rate-per-min 100 --aht 180 --patience 60 --target-sl 1/0",
            "service level must be above 0 and below 1",
        ),
        (
            "c --rate-per-min 100 --aht 180 --target-sl 1.0/20",
            "service level must be above 0 and below 1",
        ),
        (
            "a --rate-per-min 100 --aht 180 --patience 60 --max-abandon 0",
            "abandonment ceiling must be above 0",
        ),
        (
            "b --rate-per-min 10 --holding 60 --target-blocking 0",
            "blocking target must be above 0",
        ),
        (
            "b --rate-per-min 1e12 --holding 1e6 --target-blocking 0.01",
            "more than 4294967295",
        ),
        (
            "a --rate-per-min -5 --aht 180 --patience 60 --agents 3",
            "--rate-per-min must be a positive",
        ),
        (
            "a --rate-per-min 5 --aht 180 --patience 0 --agents 3",
            "--patience must be a positive",
        ),
        (
            "a --rate-per-min 5 --aht NaN --patience 3 --agents 3",
            "--aht must be a positive",
        ),
        (
            "a --rate-per-min 5 --aht 180 --patience 60 --agents 0",
            "at least one agent",
        ),
        (
            "a --rate-per-min 5 --aht 180 --patience 60 --agents 1..4000000000",
            "more than 10000",
        ),
        (
            "a --rate-per-min 5 --aht 180 --patience 60 --agents 9000000000",
            "not a whole number",
        ),
        (
            "a --rate-per-min 5 --aht 180 --patience 60 --agents 20..10",
            "is empty",
        ),
        (
            "a --rate-per-min 5 --aht 180 --patience 60 --agents 20 --step 2",
            "--step needs a range",
        ),
        (
            "a --rate-per-min 5 --aht 180 --patience 60 --agents 1..9 --step 0",
            "--step must be at least 1",
        ),
        (
            "a --rate-per-min 5 --aht 180 --patience 60 --agents 20 --target-sl 0.8/20",
            "not both",
        ),
        ("a --rate-per-min 5 --aht 180 --patience 60", "or a target"),
        (
            "c --rate-per-min 10 --aht 60 --agents 9",
            "grows without bound",
        ),
        (
            "c --rate-per-min 10 --aht 60 --agents 20 --sl-threshold -1",
            "threshold",
        ),
        (
            "a --rate-per-min 10 --aht 60 --patience 6 --target-sl 0.8",
            "looks like 0.8/20",
        ),
    ];
    for &(args, message) in cases {
        let o = erlang(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(err.contains(message), "{args:?}: `{err}` lacks `{message}`");
        assert!(o.stdout.is_empty(), "{args:?} printed {:?}", o.stdout);
    }
}
