//! Interoperability with an independent ng implementation: rtpengine's own command-line
//! client (`rtpengine-ng-client`, Debian package `rtpengine-utils`, Perl with its own
//! bencode module) sets up a call against `tandem serve`, and RTP flows through the ports
//! it was given. `.ci/run` installs the client; without it, the test fails under CI and is
//! skipped (with a message) elsewhere.

use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use tandem_codecs::rtp::{RtpHeader, RtpPacket};
use tandem_serve::config::ServeConfig;
use tandem_serve::daemon;

const CLIENT: &str = "rtpengine-ng-client";

/// Runs the client; returns whether it succeeded, and what it printed.
fn run(port: u16, args: &[&str]) -> (bool, String) {
    let out = Command::new(CLIENT)
        .arg(format!("--proxy-port={port}"))
        .arg("--proxy-address=127.0.0.1")
        .args(args)
        .output()
        .expect("run rtpengine-ng-client");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn client(port: u16, args: &[&str]) -> String {
    let (ok, text) = run(port, args);
    assert!(ok, "{text}");
    text
}

/// The audio port of the "New SDP" the client printed.
fn new_sdp_port(out: &str) -> u16 {
    let new = out
        .split("New SDP:")
        .nth(1)
        .expect("the client printed a new SDP");
    let m = new
        .lines()
        .find(|l| l.starts_with("m=audio "))
        .expect("an audio line");
    m.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn sdp(port: u16, pt: &str) -> String {
    format!(
        "v=0\r\no=moo 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP {pt}\r\n"
    )
}

#[test]
fn rtpengines_own_client_sets_up_a_call_through_tandem() {
    if Command::new(CLIENT).arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{CLIENT} is missing: .ci/run must install rtpengine-utils"
        );
        eprintln!("skipped: {CLIENT} not installed (apt-get install rtpengine-utils)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = ServeConfig {
        listen_ng: "127.0.0.1:0".parse().unwrap(),
        listen_metrics: None,
        port_min: 45_000,
        port_max: 45_099,
        num_threads: 1,
        recording_dir: dir.path().to_path_buf(),
        ..ServeConfig::default()
    };
    let running = daemon::start(cfg).unwrap();
    let port = running.ng_addr.port();
    let (alice, bob) = (
        UdpSocket::bind("127.0.0.1:0").unwrap(),
        UdpSocket::bind("127.0.0.1:0").unwrap(),
    );
    for s in [&alice, &bob] {
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    }

    assert!(client(port, &["ping"]).contains("pong"));
    let a_sdp = sdp(alice.local_addr().unwrap().port(), "0 8");
    let offer = client(
        port,
        &[
            "offer",
            "--trust-address",
            "--from-tag=ft",
            "--call-id=interop-1",
            &format!("--sdp={a_sdp}"),
        ],
    );
    let to_bob = new_sdp_port(&offer);
    let b_sdp = sdp(bob.local_addr().unwrap().port(), "8");
    let answer = client(
        port,
        &[
            "answer",
            "--from-tag=ft",
            "--to-tag=tt",
            "--call-id=interop-1",
            &format!("--sdp={b_sdp}"),
        ],
    );
    let to_alice = new_sdp_port(&answer);
    assert!((45_000..=45_099).contains(&to_bob) && (45_000..=45_099).contains(&to_alice));

    let mut pkt = Vec::new();
    RtpHeader {
        payload_type: 8,
        sequence: 1,
        timestamp: 160,
        ssrc: 5,
        ..Default::default()
    }
    .write(&mut pkt, &[0xD5; 160])
    .unwrap();
    bob.send_to(&pkt, ("127.0.0.1", to_bob)).unwrap();
    let mut buf = [0u8; 2048];
    let (n, _) = alice
        .recv_from(&mut buf)
        .expect("Bob's packet reaches Alice through tandem");
    assert_eq!(
        RtpPacket::parse(&buf[..n]).unwrap().payload_type(),
        8,
        "both offered PCMA: no transcoding"
    );

    let query = client(port, &["query", "--call-id=interop-1"]);
    assert!(
        query.contains("tt") && query.contains("local port"),
        "{query}"
    );
    let delete = client(port, &["delete", "--call-id=interop-1", "--from-tag=ft"]);
    assert!(delete.contains("totals"), "{delete}");
    // Gone: `ok` with rtpengine's warning; with `fatal` an error whose reason the client
    // reports.
    let (_, again) = run(port, &["delete", "--call-id=interop-1", "--from-tag=ft"]);
    assert!(again.contains("Call-ID not found"), "{again}");
    let (ok, fatal) = run(
        port,
        &[
            "delete",
            "--call-id=interop-1",
            "--from-tag=ft",
            "--flags=fatal",
        ],
    );
    assert!(
        !ok && fatal.contains("Call-ID not found"),
        "the client reports our error reason: {fatal}"
    );
    running.stop();
}
