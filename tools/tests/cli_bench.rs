//! `tandem bench` and `tandem capacity` on the real binary: their verdicts and exit codes,
//! the relays started by the harness (tandem serve, rtpengine) driven over ng, the spread over
//! shards, and the call set-up benchmark. Every run is tiny, and the targets it is held to
//! are set far out of reach or trivially in reach by options, so no outcome depends on the
//! machine's speed.

mod common;

use std::process::Output;

use common::tandem;

/// Exit status of a completed run that missed a stated target.
const MISSED: i32 = 3;

fn run(args: &[&str]) -> Output {
    tandem().args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The JSON lines (one per measured run) of a bench's stdout.
fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn rtpengine_installed() -> bool {
    let found = tandem_load::find_rtpengine(None).is_ok();
    if !found {
        eprintln!("skipped: rtpengine is not installed (apt-get install rtpengine-daemon)");
    }
    found
}

/// The raw relay and the in-process engine at 3 calls for 1 s.
const TINY_CAPACITY: [&str; 12] = [
    "bench",
    "--skip",
    "setup,media,sim",
    "--relays",
    "raw,mio",
    "--calls",
    "3",
    "--seconds",
    "1",
    "--no-pin",
    "--quiet",
    "--target",
];

#[test]
fn bench_passes_reachable_targets_and_exits_3_on_a_missed_one() {
    let mut easy = TINY_CAPACITY.to_vec();
    easy.extend(["p99-us=1e9", "--target", "cpu-vs-raw=1e9"]);
    let out = run(&easy);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains("| p99-us: engine-mio at 3 calls |"), "{text}");
    assert!(
        text.contains("| cpu-vs-raw: engine-mio at 3 calls |"),
        "{text}"
    );
    assert!(
        text.contains("2 passed, 0 failed, 0 not measured"),
        "{text}"
    );
    for v in json_lines(&out) {
        assert_eq!(v["report"]["lost"], 0, "{v}");
    }

    // No packet crosses a relay in zero time: a p99 limit of 0 µs is missed.
    let mut hard = TINY_CAPACITY.to_vec();
    hard.extend(["p99-us=0", "--target", "cpu-vs-raw=1e9"]);
    let out = run(&hard);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(MISSED), "{text}\n{}", stderr(&out));
    assert!(text.contains("≤ 0 µs | FAIL |"), "{text}");
    assert!(text.contains("1 passed, 1 failed"), "{text}");
    assert!(
        stderr(&out).contains("p99-us (engine-mio at 3 calls)"),
        "{}",
        stderr(&out)
    );

    // --no-verdict reports the same failure and exits 0.
    hard.push("--no-verdict");
    let out = run(&hard);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("FAIL"));
}

#[test]
fn bench_targets_are_listed_and_bad_ones_refused() {
    let out = run(&["bench", "--list-targets"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for t in tandem_load::verdict::BENCH_TARGETS {
        assert!(text.contains(t.name), "{} missing from\n{text}", t.name);
    }
    assert!(text.contains("≥ 5.00 M/s"), "{text}");
    let out = run(&["bench", "--list-targets", "--target", "p99-us=250"]);
    assert!(stdout(&out).contains("≤ 250 µs"));
    for bad in [
        ["--target", "nope=1"],
        ["--target", "p99-us"],
        ["--relays", "bogus"],
    ] {
        let out = run(&[
            "bench",
            "--skip",
            "setup,media,sim",
            "--calls",
            "1",
            bad[0],
            bad[1],
        ]);
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
        assert!(stderr(&out).contains("error"), "{bad:?}: {}", stderr(&out));
    }
}

#[test]
fn without_rtpengine_its_comparisons_are_not_measured_and_do_not_fail() {
    let out = run(&[
        "bench",
        "--setup",
        "--rtpengine",
        "/nonexistent/rtpengine",
        "--setup-calls",
        "30",
        "--setup-rounds",
        "1",
        "--no-pin",
        "--quiet",
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("| setup-vs-rtpengine: serve vs rtpengine | not measured | ≥ 1.00× | not measured: /nonexistent/rtpengine does not exist |"),
        "{text}"
    );
    assert!(
        text.contains("0 passed, 0 failed, 1 not measured"),
        "{text}"
    );
    // tandem serve alone was still measured.
    assert!(
        text.contains("serve: call set-ups (offer, answer, delete) per second"),
        "{text}"
    );
}

#[test]
fn serve_and_rtpengine_are_driven_over_ng_side_by_side() {
    if !rtpengine_installed() {
        return;
    }
    let out = run(&[
        "bench",
        "--skip",
        "media,sim",
        "--relays",
        "raw,serve,rtpengine",
        "--calls",
        "4",
        "--seconds",
        "1",
        "--rounds",
        "2",
        "--setup-calls",
        "100",
        "--setup-rounds",
        "2",
        "--no-pin",
        "--quiet",
        "--no-verdict",
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let runs = json_lines(&out);
    // Three relays, two rounds each, the order rotated: raw first in round 0, serve first in
    // round 1.
    let order: Vec<&str> = runs
        .iter()
        .filter(|v| v.get("report").is_some())
        .map(|v| v["relay"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["raw", "serve", "rtpengine", "serve", "rtpengine", "raw"],
        "{text}"
    );
    for v in runs.iter().filter(|v| v.get("report").is_some()) {
        let r = &v["report"];
        assert_eq!(r["sent"], 4 * 2 * 50, "{v}");
        assert_eq!(r["received"], r["sent"], "{v}");
        assert!(v["cpu_us_per_packet"].as_f64().unwrap() > 0.0, "{v}");
        assert!(v["packets_relayed"].as_u64().unwrap() >= 400, "{v}");
    }
    // The set-up runs: both daemons, every call set up and deleted.
    let setups: Vec<&serde_json::Value> = runs
        .iter()
        .filter(|v| v.get("setups_per_s").is_some())
        .collect();
    assert_eq!(setups.len(), 4, "{text}");
    assert!(setups.iter().any(|v| v["relay"] == "rtpengine"));
    assert!(
        text.contains("| cpu-vs-rtpengine: serve at 4 calls |"),
        "{text}"
    );
    assert!(
        text.contains("| setup-vs-rtpengine: serve vs rtpengine |"),
        "{text}"
    );
    assert!(text.contains("vs rtpengine"), "{text}");
}

#[test]
fn serve_with_two_shards_spreads_calls_and_keeps_each_on_one_shard() {
    let out = run(&[
        "bench",
        "--skip",
        "setup,media,sim",
        "--relays",
        "serve",
        "--shards",
        "2",
        "--calls",
        "20",
        "--seconds",
        "1",
        "--no-pin",
        "--quiet",
        "--target",
        "p99-us=1e9",
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let v = &json_lines(&out)[0];
    let shards = v["shards"]["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 2, "{v}");
    let calls: Vec<u64> = shards
        .iter()
        .map(|s| s["calls"].as_u64().unwrap())
        .collect();
    assert_eq!(calls.iter().sum::<u64>(), 20, "{v}");
    assert!(calls.iter().all(|&c| c > 0), "both shards carry calls: {v}");
    assert_eq!(v["shards"]["split_calls"], 0, "{v}");
    for s in shards {
        // 100 packets/s per call for 1 s, priming aside.
        let expect = s["calls"].as_u64().unwrap() * 100;
        let got = s["datagrams_in"].as_u64().unwrap();
        assert!(got >= expect, "{s}");
        assert!(s["datagrams_out"].as_u64().unwrap() >= got, "{s}");
    }
    assert!(
        text.contains("| cross-shard: serve, 2 shards, at 20 calls | 0 | ≤ 0 | PASS |"),
        "{text}"
    );
}

#[test]
fn capacity_exits_3_below_min_calls_and_0_within_its_targets() {
    let base = [
        "capacity",
        "--from",
        "2",
        "--to",
        "3",
        "--factor",
        "1.5",
        "--seconds",
        "1",
        "--no-pin",
        "--quiet",
        "--max-loss-pct",
        "100",
        "--max-p99-ms",
        "1e6",
    ];
    let mut easy = base.to_vec();
    easy.extend(["--min-calls", "1", "--json"]);
    let out = run(&easy);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = common::json(&out);
    assert_eq!(v["highest_sustained_calls"], 3, "{v}");
    let checks = v["verdict"]["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 3, "{v}");
    assert!(checks.iter().all(|c| c["outcome"] == "pass"), "{v}");

    let mut hard = base.to_vec();
    hard.extend(["--min-calls", "1000000"]);
    let out = run(&hard);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(MISSED), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("| min-calls: engine | 3 calls | ≥ 1000000 calls | FAIL |"),
        "{text}"
    );

    // An outside relay, started and driven over ng.
    let out = run(&[
        "capacity",
        "--relay",
        "serve",
        "--from",
        "2",
        "--to",
        "2",
        "--seconds",
        "1",
        "--no-pin",
        "--quiet",
        "--max-p99-ms",
        "1e6",
        "--json",
    ]);
    let v = common::json(&out);
    assert_eq!(v["relay"], "serve");
    assert_eq!(v["highest_sustained"]["report"]["lost"], 0, "{v}");
    for bad in [
        vec!["--relay", "nope"],
        vec!["--relay", "engine", "--shards", "2"],
        vec![
            "--relay",
            "rtpengine",
            "--rtpengine",
            "/nonexistent/rtpengine",
        ],
    ] {
        let out = run(&[&["capacity", "--from", "2", "--to", "2"], bad.as_slice()].concat());
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
    }
}
