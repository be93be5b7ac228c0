//! `tandem sim --drive`, `tandem load` and `tandem capacity` on the real binary.

mod common;

use std::net::UdpSocket;
use std::path::Path;
use std::time::Duration;

use common::{json, tandem};

const SMALL: &str = r#"
name = "small-drive"
duration_s = 120
seed = 9
[arrivals]
kind = "poisson"
per_min = 30
[trunks]
channels = 8
[ivr]
ports = 3
time = { kind = "lognormal", mean = 5, sd = 2 }
[queue]
patience = { kind = "lognormal", mean = 20, sd = 8 }
[agents]
count = 4
talk = { kind = "lognormal", mean = 20, sd = 8 }
ring = { kind = "uniform", min = 1, max = 3 }
"#;

fn write_scenario(dir: &Path) -> String {
    let p = dir.join("small.toml");
    std::fs::write(&p, SMALL).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn drive_json_has_the_loss_counts_of_the_pure_run_and_media_figures() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write_scenario(dir.path());
    let pure = json(
        &tandem()
            .args(["sim", "--scenario", &sc, "--json", "--replications", "1"])
            .output()
            .unwrap(),
    );
    let driven = json(
        &tandem()
            .args(["sim", "--scenario", &sc, "--json", "--drive"])
            .output()
            .unwrap(),
    );
    for k in [
        "offered",
        "trunk_lost",
        "ivr_lost",
        "queue_abandoned",
        "ring_lost",
        "answered",
        "service_level",
        "asa_s",
    ] {
        assert_eq!(pure[k], driven[k], "{k}");
    }
    let d = &driven["drive"];
    assert_eq!(d["transport"], "memory");
    assert_eq!(d["time_compressed"], false);
    assert_eq!(
        d["media"]["conversations"].as_f64(),
        driven["answered"].as_f64()
    );
    assert_eq!(d["media"]["voice_lost"], 0);
    assert!(d["real_time_factor"].as_f64().unwrap() > 1.0);
    assert!(d["engine"]["shards"][0]["ticks"].as_u64().unwrap() > 0);
    assert!(d["counters"]["peak_channels"].as_u64().unwrap() > 0);
    assert!(d["media"]["quality"]["mos_mean"].as_f64().unwrap() > 4.0);
}

#[test]
fn drive_records_one_wav_per_conversation_and_reports_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write_scenario(dir.path());
    let rec = dir.path().join("rec");
    let csv = dir.path().join("calls.csv");
    let out = tandem()
        .args(["sim", "--scenario", &sc, "--drive", "--record", "--quiet"])
        .arg("--record-dir")
        .arg(&rec)
        .arg("--calls-csv")
        .arg(&csv)
        .args([
            "--net-delay-ms",
            "20",
            "--net-jitter-ms",
            "5",
            "--net-loss-pct",
            "1",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Drive mode: memory transport"), "{text}");
    assert!(text.contains(&rec.display().to_string()), "{text}");
    assert!(text.contains("E-model"), "{text}");
    let wavs = std::fs::read_dir(&rec).unwrap().count();
    let lines = std::fs::read_to_string(&csv).unwrap().lines().count() - 1;
    assert!(wavs > 3);
    assert_eq!(wavs, lines, "one recording per conversation");
}

#[test]
fn drive_rejects_bad_options() {
    for args in [
        vec!["sim", "--drive", "--replications", "3"],
        vec!["sim", "--drive", "--transport", "carrier-pigeon"],
        vec!["sim", "--drive", "--time-scale", "0"],
        vec![
            "sim",
            "--drive",
            "--transport",
            "udp",
            "--net-loss-pct",
            "1",
        ],
        vec!["sim", "--transport", "udp"],
    ] {
        let out = tandem().args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
    }
}

#[test]
fn load_through_an_in_process_engine() {
    let out = tandem()
        .args([
            "load",
            "--calls",
            "4",
            "--duration",
            "1",
            "--no-pin",
            "--json",
        ])
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(v["calls"], 4);
    assert_eq!(v["report"]["sent"], 4 * 2 * 50);
    assert_eq!(v["report"]["lost"], 0, "{v}");
    assert!(v["packets_relayed"].as_u64().unwrap() >= 400);
}

/// A minimal relay for one call: what arrives on port A from endpoint a goes out of port B
/// to endpoint b, and back (symmetric RTP: each side's address is latched on first packet).
fn spawn_test_relay() -> (String, std::thread::JoinHandle<u64>) {
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    let ports = format!(
        "{}/{}",
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port()
    );
    for s in [&a, &b] {
        s.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
    }
    let h = std::thread::spawn(move || {
        let (mut peer_a, mut peer_b) = (None, None);
        let mut buf = [0u8; 2048];
        let mut relayed = 0;
        let mut idle = 0;
        while idle < 2000 {
            let mut any = false;
            if let Ok((n, from)) = a.recv_from(&mut buf) {
                peer_a = Some(from);
                if let Some(to) = peer_b {
                    b.send_to(&buf[..n], to).unwrap();
                    relayed += 1;
                }
                any = true;
            }
            if let Ok((n, from)) = b.recv_from(&mut buf) {
                peer_b = Some(from);
                if let Some(to) = peer_a {
                    a.send_to(&buf[..n], to).unwrap();
                    relayed += 1;
                }
                any = true;
            }
            idle = if any { 0 } else { idle + 1 };
        }
        relayed
    });
    (ports, h)
}

#[test]
fn load_through_relay_ports_given_on_the_command_line() {
    let (ports, relay) = spawn_test_relay();
    let out = tandem()
        .args(["load", "--duration", "1", "--json", "--relay-ports", &ports])
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(v["calls"], 1);
    assert_eq!(v["sent"], 100);
    assert_eq!(v["received"], 100, "{v}");
    assert!(relay.join().unwrap() >= 100);
}

#[test]
fn capacity_steps_up_and_reports_the_highest_sustained_level() {
    // The command's stepping and its choice are checked against its own per-level figures,
    // not the machine's speed: a level is sustained when it loses at most 0.1% and its p99
    // latency is within the target (generous here: a loaded machine delays the loopback).
    let out = tandem()
        .args([
            "capacity",
            "--from",
            "5",
            "--to",
            "10",
            "--factor",
            "2",
            "--seconds",
            "1",
            "--max-p99-ms",
            "500",
            "--no-pin",
            "--json",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    let (result, levels) = lines.split_last().expect("a result line");
    let sustained = |l: &serde_json::Value| {
        l["report"]["loss_ratio"].as_f64().unwrap() <= 0.001
            && l["report"]["latency_p99_us"].as_f64().unwrap() <= 500_000.0
    };
    let tried: Vec<u64> = levels
        .iter()
        .map(|l| l["calls"].as_u64().unwrap())
        .collect();
    // Up the ladder until the first level that is not sustained.
    let passed = levels.iter().take_while(|l| sustained(l)).count();
    assert_eq!(tried, [5, 10][..(passed + 1).min(2)], "{text}");
    match passed {
        0 => assert_eq!(out.status.code(), Some(3), "the first level failed: {text}"),
        n => {
            assert!(out.status.success(), "{out:?}");
            assert_eq!(result["highest_sustained_calls"], tried[n - 1], "{text}");
            // 0.1% of the 1,000 packets of 10 calls for a second is less than one.
            assert_eq!(result["highest_sustained"]["report"]["lost"], 0, "{text}");
        }
    }
}
