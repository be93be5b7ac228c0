//! The counters `query` and `/metrics` report, against packet counts the test sent itself
//! through a real daemon on 127.0.0.1: RTCP packets, bytes and errors in the `totals` RTCP
//! block (what Kamailio's `$rtpstat` shows) and per stream, and SRTP drops by cause.

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use support::srtp::{Party, reply_media, sdp_with};
use support::{Daemon, Phone, cmd, eventually, local, marked, ok};
use tandem_serve::bencode::Value;
use tandem_srtp::sdes::Crypto;
use tandem_srtp::{Keying, RecvContext, SendContext, Suite};

/// Polls `name` on `d` until it is `want`; returns the last value seen.
fn await_metric(d: &Daemon, name: &str, want: f64) -> f64 {
    let mut v = f64::NAN;
    eventually(Duration::from_secs(20), || {
        v = d.metric(name);
        v == want
    });
    v
}

fn int_at(v: &Value, path: &[&str]) -> i64 {
    let mut cur = v;
    for k in path {
        cur = cur
            .get(k)
            .unwrap_or_else(|| panic!("no '{k}' in {path:?}: {v:?}"));
    }
    cur.as_int().unwrap()
}

/// The caller tag's first stream blocks: (RTP, RTCP).
fn caller_streams(q: &Value) -> (Value, Value) {
    let streams = q
        .get("tags")
        .and_then(|t| t.get("caller"))
        .and_then(|t| t.get("medias"))
        .and_then(Value::as_list)
        .and_then(|m| m.first())
        .and_then(|m| m.get("streams"))
        .and_then(Value::as_list)
        .expect("the caller's streams");
    (streams[0].clone(), streams[1].clone())
}

/// A sender report with no report blocks (RFC 3550 §6.4.1): 28 bytes.
fn sender_report(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 200, 0, 6];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[0; 20]);
    p
}

/// A receiver report with no report blocks (RFC 3550 §6.4.2): 8 bytes.
fn receiver_report(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 201, 0, 1];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p
}

#[test]
fn rtcp_packets_bytes_and_errors_are_counted_in_query_and_metrics() {
    let d = Daemon::start("mio", 16, |_| {}).unwrap();
    let mut alice = Phone::new(0xA11CE);
    let bob = Phone::new(0xB0B);
    let (to_alice, _) = d.call("rtcp", &alice, &bob, &[]);
    let rtcp_port = SocketAddr::new(to_alice.ip(), to_alice.port() + 1);
    for n in 0..10u16 {
        alice.send(to_alice, &marked(0xA1, n));
    }
    // From Alice's host: 4 sender reports and 3 receiver reports (4 × 28 + 3 × 8 = 136
    // bytes), and 2 datagrams that are not RTCP.
    let rtcp = UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..4 {
        rtcp.send_to(&sender_report(0xA11CE), rtcp_port).unwrap();
    }
    for _ in 0..3 {
        rtcp.send_to(&receiver_report(0xA11CE), rtcp_port).unwrap();
    }
    for _ in 0..2 {
        rtcp.send_to(&[0xFF; 40], rtcp_port).unwrap();
    }
    // RTCP from another host is not Alice's.
    if let Ok(other) = UdpSocket::bind("127.0.0.2:0") {
        other.send_to(&receiver_report(9), rtcp_port).unwrap();
    } else {
        rtcp.send_to(&[0xAB, 0xCD], rtcp_port).unwrap();
    }
    let mut q = Value::dict();
    let settled = eventually(Duration::from_secs(10), || {
        q = ok(&d.ng(&cmd("query", "rtcp"))).clone();
        int_at(&q, &["totals", "RTCP", "errors"]) == 3
            && int_at(&q, &["totals", "RTP", "packets"]) == 10
    });
    assert!(settled, "{q:?}");
    assert_eq!(int_at(&q, &["totals", "RTCP", "packets"]), 7);
    assert_eq!(int_at(&q, &["totals", "RTCP", "bytes"]), 136);
    assert_eq!(int_at(&q, &["totals", "RTP", "bytes"]), 1600);
    assert_eq!(
        int_at(&q, &["totals", "RTP", "errors"]),
        0,
        "RTCP drops are not RTP errors"
    );
    let (rtp, rtcp_block) = caller_streams(&q);
    assert_eq!(int_at(&rtp, &["stats", "packets"]), 10);
    assert_eq!(
        (
            int_at(&rtcp_block, &["stats", "packets"]),
            int_at(&rtcp_block, &["stats", "bytes"]),
            int_at(&rtcp_block, &["stats", "errors"]),
        ),
        (7, 136, 3)
    );
    assert!(
        rtp.get("stats").unwrap().get("SRTP").is_none(),
        "no SRTP block on a plain leg"
    );
    assert_eq!(await_metric(&d, "tandem_rtcp_packets_in_total", 7.0), 7.0);
    assert_eq!(await_metric(&d, "tandem_rtcp_in_bytes_total", 136.0), 136.0);
    assert_eq!(await_metric(&d, "tandem_rtcp_errors_total", 3.0), 3.0);
    // `delete` reports the same totals, and the metrics keep them after the call.
    let del = ok(&d.delete("rtcp")).clone();
    assert_eq!(int_at(&del, &["totals", "RTCP", "packets"]), 7);
    assert_eq!(int_at(&del, &["totals", "RTCP", "errors"]), 3);
    assert_eq!(await_metric(&d, "tandem_rtcp_packets_in_total", 7.0), 7.0);
    d.stop();
}

#[test]
fn srtp_authentication_failures_and_replays_are_counted_per_stream_and_in_metrics() {
    let d = Daemon::start("mio", 16, |_| {}).unwrap();
    let (mut caller, callee) = (Party::new(0x5A), Party::new(0x5B));
    let k = Keying::generate(Suite::AesCm128HmacSha1_80, &mut rand::rng());
    caller.send = Some(SendContext::new(&k));
    let line = Crypto::for_keying(1, &k).to_string();
    let r = d.ng(&cmd("offer", "srtp-counts")
        .with("from-tag", Value::str("caller"))
        .with(
            "sdp",
            Value::str(&sdp_with(caller.addr(), "RTP/SAVP", &[line])),
        )
        .with("transport-protocol", Value::str("RTP/AVP")));
    reply_media(ok(&r));
    let r = d.ng(&cmd("answer", "srtp-counts")
        .with("from-tag", Value::str("caller"))
        .with("to-tag", Value::str("callee"))
        .with("sdp", Value::str(&sdp_with(callee.addr(), "RTP/AVP", &[]))));
    let (_, to_caller_port, crypto) = reply_media(ok(&r));
    let relay = Crypto::parse(&crypto[0]).unwrap().keying().unwrap();
    caller.recv = Some(RecvContext::new(&relay));
    let to_caller = local(to_caller_port);
    // 5 genuine packets; 3 tampered ones; 2 replays of the last genuine one.
    let mut last = Vec::new();
    for n in 0..5u16 {
        last = caller.send(to_caller, &marked(0xA1, n));
    }
    for n in 5..8u16 {
        let mut bad = caller.send(local(1), &marked(0xA1, n));
        bad[20] ^= 0x01;
        caller.sock.send_to(&bad, to_caller).unwrap();
    }
    for _ in 0..2 {
        caller.sock.send_to(&last, to_caller).unwrap();
    }
    let mut q = Value::dict();
    let settled = eventually(Duration::from_secs(10), || {
        q = ok(&d.ng(&cmd("query", "srtp-counts"))).clone();
        let (rtp, _) = caller_streams(&q);
        int_at(&rtp, &["stats", "SRTP", "replays"]) == 2
            && int_at(&rtp, &["stats", "SRTP", "authentication failures"]) == 3
    });
    assert!(settled, "{q:?}");
    let (rtp, _) = caller_streams(&q);
    assert_eq!(int_at(&rtp, &["stats", "packets"]), 5);
    assert_eq!(int_at(&rtp, &["stats", "SRTP", "errors"]), 0);
    assert_eq!(
        await_metric(&d, "tandem_srtp_auth_failures_total", 3.0),
        3.0
    );
    assert_eq!(await_metric(&d, "tandem_srtp_replays_total", 2.0), 2.0);
    assert_eq!(d.metric("tandem_srtp_errors_total"), 0.0);
    d.stop();
}
