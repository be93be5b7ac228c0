//! `tandem load --ng` against a real `tandem serve`, and `tandem load --conference`, on the
//! real binary.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use tandem_serve::bencode::{self, Value};

use common::{free_udp_port, json, tandem};

/// One ng request over UDP; `None` if nothing answers within 200 ms.
fn ng(to: SocketAddr, body: &Value) -> Option<Value> {
    // A fresh cookie each time: the relay answers a repeated cookie from its reply cache.
    static SERIAL: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut msg = format!("test{n} ").into_bytes();
    body.encode(&mut msg);
    s.send_to(&msg, to).unwrap();
    let mut buf = vec![0u8; 65_536];
    let (n, _) = s.recv_from(&mut buf).ok()?;
    let space = buf[..n].iter().position(|&b| b == b' ')?;
    bencode::parse(&buf[space + 1..n]).ok()
}

/// `tandem serve` on a free ng port and a media port range of its own; killed on drop.
struct Daemon {
    child: Child,
    ng: SocketAddr,
}

impl Daemon {
    fn start() -> Daemon {
        let port = free_udp_port();
        let ng: SocketAddr = SocketAddr::from(([127, 0, 0, 1], port));
        // A range of this test process's own, away from the other tests' fixed ranges.
        let base = 46_000 + (std::process::id() % 80) as u16 * 100;
        let child = tandem()
            .args([
                "serve",
                "--listen-ng",
                &ng.to_string(),
                "--listen-metrics",
                "none",
            ])
            .args(["--port-min", &base.to_string()])
            .args(["--port-max", &(base + 99).to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let d = Daemon { child, ng };
        let ping = Value::dict().with("command", Value::str("ping"));
        let until = Instant::now() + Duration::from_secs(10);
        while ng_result(d.ng, &ping).as_deref() != Some("pong") {
            assert!(Instant::now() < until, "tandem serve did not answer ping");
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }

    fn calls(&self) -> Vec<String> {
        let list = ng(self.ng, &Value::dict().with("command", Value::str("list"))).unwrap();
        list.get("calls")
            .and_then(Value::as_list)
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ng_result(to: SocketAddr, body: &Value) -> Option<String> {
    ng(to, body)?
        .get("result")
        .and_then(Value::as_str)
        .map(String::from)
}

#[test]
fn load_over_ng_through_tandem_serve_loses_nothing_and_deletes_its_calls() {
    let d = Daemon::start();
    let out = tandem()
        .args(["load", "--ng", &d.ng.to_string()])
        .args(["--calls", "5", "--duration", "2", "--json"])
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(v["calls"], 5);
    assert_eq!(v["sent"], 5 * 2 * 2 * 50, "{v}");
    assert_eq!(v["received"], v["sent"], "{v}");
    assert_eq!(
        (v["lost"].as_u64(), v["misrouted"].as_u64()),
        (Some(0), Some(0)),
        "{v}"
    );
    assert_eq!(v["unprimed_calls"], 0);
    assert_eq!(v["ng"]["calls_set_up"], 5);
    assert_eq!(v["ng"]["calls_deleted"], 5);
    // The relay saw the streams too (its counters refresh once a second, so a few may be
    // missing from the count).
    assert!(v["ng"]["relay_packets"].as_u64().unwrap() > 500, "{v}");
    assert_eq!(d.calls(), Vec::<String>::new(), "calls left on the relay");
}

#[test]
fn load_over_ng_with_nobody_listening_fails_clearly() {
    let port = free_udp_port();
    let t = Instant::now();
    let out = tandem()
        .args([
            "load",
            "--ng",
            &port.to_string(),
            "--calls",
            "1",
            "--duration",
            "1",
        ])
        .args(["--ng-timeout-ms", "100", "--ng-attempts", "2"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did not answer ping"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(5));
    for bad in [
        vec!["--ng", "nowhere"],
        vec!["--ng", "1", "--relay-ports", "1/2"],
        vec!["--ng", "1", "--conference", "3"],
    ] {
        let out = tandem().arg("load").args(&bad).output().unwrap();
        assert!(!out.status.success(), "{bad:?}");
        assert!(!out.stderr.is_empty(), "{bad:?}");
    }
}

#[test]
fn conference_rooms_deliver_every_participant_to_every_other() {
    let out = tandem()
        .args([
            "load",
            "--conference",
            "3",
            "--calls",
            "2",
            "--duration",
            "2",
        ])
        .args(["--no-pin", "--json"])
        .output()
        .unwrap();
    let v = json(&out);
    let r = &v["report"];
    assert_eq!(
        (v["rooms"].as_u64(), v["participants_per_room"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(r["sent"], 6 * 2 * 50, "{v}");
    assert_eq!(r["marks_expected"], 6 * 2 * 50 * 2);
    assert_eq!(r["marks_heard"], r["marks_expected"], "{v}");
    assert_eq!(r["marks_lost"], 0, "{v}");
    assert_eq!(r["cross_talk"], 0, "{v}");
    assert_eq!(r["echo"], 0, "{v}");
    assert_eq!(r["pairs_unheard"], 0, "{v}");
    assert_eq!(r["mix_lost"], 0, "{v}");
    assert!(r["latency_p50_us"].as_f64().unwrap() > 0.0);
    assert!(v["cpu_us_per_participant_frame"].as_f64().unwrap() > 0.0);
}

#[test]
fn conference_recording_writes_one_file_per_room_and_bad_sizes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rooms");
    let out = tandem()
        .args([
            "load",
            "--conference",
            "4",
            "--calls",
            "2",
            "--duration",
            "1",
        ])
        .args(["--no-pin", "--json", "--record", rec.to_str().unwrap()])
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(v["report"]["marks_lost"], 0, "{v}");
    let mut files: Vec<_> = std::fs::read_dir(&rec)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    for f in &files {
        // A WAV header and about a second of 8 kHz PCM16.
        let len = std::fs::metadata(f).unwrap().len();
        assert!(len > 44 + 8_000, "{} is {len} bytes", f.display());
        assert_eq!(&std::fs::read(f).unwrap()[..4], b"RIFF");
    }
    for k in ["2", "21", "x"] {
        let out = tandem()
            .args(["load", "--conference", k, "--calls", "1", "--duration", "1"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "--conference {k}");
    }
}
