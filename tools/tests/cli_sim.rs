//! `tandem sim` and `tandem erlang` on the real binary: the JSON contract, errors, listing.

mod common;

use common::tandem;

#[test]
fn sim_json_has_the_contracted_keys() {
    let o = tandem()
        .args(["sim", "--json", "--replications", "2", "--seed", "4"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    for k in [
        "offered",
        "trunk_lost",
        "ivr_lost",
        "queue_abandoned",
        "ring_lost",
        "answered",
        "ivr_completed",
        "callback_offered",
        "callback_served",
        "callback_expired",
        "service_level",
        "sl_threshold_s",
        "asa_s",
        "p_wait",
        "abandon_rate",
        "occupancy",
    ] {
        assert!(v[k].is_number(), "missing or non-numeric `{k}`");
    }
    for p in ["p50", "p90", "p99"] {
        assert!(
            v["wait_percentiles_s"][p].is_number(),
            "wait_percentiles_s.{p}"
        );
    }
    assert!(v["intervals"].as_array().is_some_and(|a| !a.is_empty()));
    assert_eq!(v["replications"], 2);
    assert_eq!(v["ci_level"], 0.95);
    assert!(v["ci_half_width"]["service_level"].is_number());
    assert_eq!(v["scenario"], "tv-burst");
    // Nothing but the JSON on stdout.
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim().lines().count(), 1);
}

#[test]
fn sim_default_prints_the_four_stages() {
    let o = tandem()
        .args(["sim", "--quiet", "--replications", "1"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for stage in [
        "trunk loss",
        "IVR loss",
        "queue loss",
        "ring loss",
        "service level",
    ] {
        assert!(text.contains(stage), "{stage} missing:\n{text}");
    }
}

#[test]
fn malformed_scenario_names_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "name = \"bad\"\nduration_s = 600\n[arrivals]\nkind = \"poisson\"\nper_min = 10\n[queue]\npatience = { kind = \"exponential\", mean = 30 }\n[agents]\ncount = 10\ntalk = { kind = \"uniform\", min = 9, max = 1 }\n",
    )
    .unwrap();
    let o = tandem()
        .args(["sim", "--scenario"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml:10") && err.contains("agents.talk"),
        "{err}"
    );

    let o = tandem()
        .args(["sim", "--scenario", "no-such-thing"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-thing"));
}

#[test]
fn list_and_html() {
    let o = tandem().args(["sim", "--list"]).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    for n in [
        "tv-burst",
        "tv-burst-rebuilt",
        "tv-burst-callback",
        "mm-n-m",
        "day-700",
    ] {
        assert!(text.contains(n), "{n}");
    }
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let o = tandem()
        .args(["sim", "--quiet", "--replications", "1", "--html"])
        .arg(&html)
        .output()
        .unwrap();
    assert!(o.status.success());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("trunk loss"));
    assert_self_contained(&page);
}

/// A page that loads nothing: no scripts, no external images, styles or fonts.
pub fn assert_self_contained(page: &str) {
    for bad in [
        "<script", " src=", "href=", "url(", "@import", "<link", "<img", "<iframe",
    ] {
        assert!(!page.contains(bad), "the page has `{bad}`");
    }
}

#[test]
fn erlang_calculators() {
    let o = tandem()
        .args([
            "erlang",
            "b",
            "--rate-per-min",
            "10",
            "--holding",
            "60",
            "--channels",
            "10",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("0.2146"));
    let o = tandem()
        .args([
            "erlang",
            "c",
            "--rate-per-min",
            "10",
            "--aht",
            "60",
            "--agents",
            "9",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success(), "unstable load must be an error");
    let o = tandem()
        .args([
            "erlang",
            "a",
            "--rate-per-min",
            "100",
            "--aht",
            "180",
            "--patience",
            "120",
            "--agents",
            "310",
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("P(abandon)"));
}
