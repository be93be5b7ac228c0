//! The text report of `tandem sim` on the real binary: every interval with activity is
//! shown, headings are unique, half-widths that cannot exist say "n/a", and `--ci-level`
//! scales them by the published Student t quantiles.

mod common;

use common::{json, stdout_ok as text, tandem};

fn sim(args: &[&str]) -> std::process::Output {
    tandem()
        .arg("sim")
        .arg("--quiet")
        .args(args)
        .output()
        .unwrap()
}

/// `H:MM:SS`, as the table prints interval starts.
fn clock(t: f64) -> String {
    let s = t as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn active(row: &serde_json::Value) -> bool {
    [
        "offered",
        "answered",
        "queue_abandoned",
        "ring_lost",
        "ivr_lost",
        "ivr_completed",
        "callback_served",
        "callback_expired",
        "voicemail",
        "queue_len",
        "trunks_busy",
    ]
    .iter()
    .any(|k| row[k].as_f64().unwrap_or(0.0) > 0.0)
}

#[test]
fn every_interval_with_activity_is_in_the_table() {
    // The callback scenario serves its callbacks after arrivals stop: those intervals must
    // be listed, marked as draining.
    let args = ["--scenario", "tv-burst-callback", "--replications", "1"];
    let v = json(&sim(&[&args[..], &["--json"]].concat()));
    let t = text(&sim(&args));
    let rows = v["intervals"].as_array().unwrap();
    let duration = v["duration_s"].as_f64().unwrap();
    let mut after_end = 0;
    for row in rows.iter().filter(|r| active(r)) {
        let start = row["start_s"].as_f64().unwrap();
        let line = t
            .lines()
            .find(|l| l.trim_start_matches([' ', '*']).starts_with(&clock(start)))
            .unwrap_or_else(|| panic!("interval {} missing:\n{t}", clock(start)));
        if start >= duration {
            after_end += 1;
            assert!(line.trim_start().starts_with('*'), "not marked: {line}");
        }
    }
    assert!(after_end >= 2, "callbacks after the end: {after_end}\n{t}");
    let served_after: f64 = rows
        .iter()
        .filter(|r| r["start_s"].as_f64().unwrap() >= duration)
        .map(|r| r["callback_served"].as_f64().unwrap())
        .sum();
    assert!(served_after > 100.0, "{served_after}");
}

#[test]
fn headings_are_unique() {
    let t = text(&sim(&["--replications", "1"]));
    let head = t
        .lines()
        .find(|l| l.trim_start().starts_with("start "))
        .expect("table heading");
    let words: Vec<&str> = head.split_whitespace().collect();
    let mut unique = words.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), words.len(), "{head}");
}

#[test]
fn one_replication_has_no_half_width() {
    let out = sim(&["--replications", "1"]);
    let t = text(&out);
    assert!(t.contains("± n/a"), "{t}");
    assert!(
        !t.contains("± 0.0 ") && !t.lines().any(|l| l.ends_with("± 0.0")),
        "{t}"
    );
    let v = json(&sim(&["--replications", "1", "--json"]));
    assert!(v["ci_half_width"]["service_level"].is_null());
    assert!(v["ci_half_width"]["total_loss_share"].is_null());
}

#[test]
fn ci_level_scales_half_widths_by_student_t() {
    let hw = |level: &str| {
        let v = json(&sim(&[
            "--replications",
            "5",
            "--json",
            "--ci-level",
            level,
        ]));
        assert_eq!(
            v["ci_level"].as_f64().unwrap(),
            level.parse::<f64>().unwrap()
        );
        v["ci_half_width"]["trunk_loss_share"].as_f64().unwrap()
    };
    let (h90, h95, h99) = (hw("0.90"), hw("0.95"), hw("0.99"));
    assert!(h90 > 0.0);
    // Published two-sided quantiles for 4 degrees of freedom: 2.132, 2.776, 4.604.
    assert!((h95 / h90 - 2.776 / 2.132).abs() < 1e-3, "{h90} {h95}");
    assert!((h99 / h90 - 4.604 / 2.132).abs() < 1e-3, "{h90} {h99}");
    let t = text(&sim(&["--replications", "5", "--ci-level", "0.99"]));
    assert!(t.contains("99% confidence"), "{t}");

    let out = sim(&["--ci-level", "0.8"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ci-level"));
}

#[test]
fn long_tables_merge_intervals_but_keep_every_call() {
    // day-700 has 96 quarter-hours of arrivals: rows merge two by two, and the offered
    // calls of the rows add up to the total.
    let t = text(&sim(&["--scenario", "day-700"]));
    assert!(t.contains("2 merged per row"), "{t}");
    let offered: f64 = t
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("start "))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.trim_start_matches([' ', '*']).split_whitespace().nth(1))
        .filter_map(|w| w.parse::<f64>().ok())
        .sum();
    let v = json(&sim(&["--scenario", "day-700", "--json"]));
    let total = v["offered"].as_f64().unwrap();
    assert!((offered - total).abs() <= 50.0, "{offered} vs {total}");
}
