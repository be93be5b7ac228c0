//! `tandem serve`'s control plane against hostile and careless clients, on the real binary
//! over loopback: clients sharing a cookie, a flood of distinct cookies with large replies,
//! a full control queue, and addresses that cannot be bound.

mod common;

use std::net::{TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use tandem_serve::bencode::Value;

use common::serve::{Serve, command, message, offer, result, split_reply};
use common::tandem;

#[test]
fn two_clients_with_one_cookie_each_get_their_own_call() {
    let d = Serve::start(&[]);
    let (p1, p2) = (d.ng(), d.ng());
    // Two proxies (different source ports) use the same cookie for different offers.
    let r1 = p1.with_cookie("42_1", &offer("call-one", 4000));
    let r2 = p2.with_cookie("42_1", &offer("call-two", 4002));
    assert_eq!((result(&r1), result(&r2)), ("ok", "ok"));
    let port = |r: &Value| common::serve::sdp_port(r);
    assert_ne!(port(&r1), port(&r2), "the second offer was carried out");
    let mut admin = d.ng();
    let list = admin.request(&Value::dict().with("command", Value::str("list")));
    assert_eq!(
        list.get("calls")
            .and_then(Value::as_list)
            .map(<[Value]>::len),
        Some(2)
    );
    // A retransmission of the first offer gets the same reply and creates nothing.
    assert_eq!(p1.with_cookie("42_1", &offer("call-one", 4000)), r1);
    // The first proxy reuses its cookie for a delete: it is carried out, not answered
    // from the cache.
    let del = p1.with_cookie("42_1", &command("delete", "call-one"));
    assert_eq!(result(&del), "ok", "{del:?}");
    let q = admin.request(&command("query", "call-one"));
    assert_eq!(result(&q), "error", "call-one is gone");
    let q = admin.request(&command("query", "call-two"));
    assert_eq!(result(&q), "ok", "call-two is untouched");
    let text = d.scrape();
    assert_eq!(
        common::serve::metric(&text, "tandem_ng_reply_cache_hits_total"),
        1.0
    );
    assert_eq!(
        common::serve::metric(&text, "tandem_calls_deleted_total{reason=\"delete\"}"),
        1.0
    );
}

/// Sends `n` distinct-cookie requests, keeping `window` in flight; returns replies seen.
fn flood(sock: &UdpSocket, to: std::net::SocketAddr, body: &Value, n: usize) -> usize {
    const WINDOW: usize = 8;
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = vec![0u8; 65_536];
    let (mut sent, mut in_flight, mut got) = (0, 0, 0);
    while sent < n || in_flight > 0 {
        while sent < n && in_flight < WINDOW {
            sock.send_to(&message(&format!("f{sent}"), body), to)
                .unwrap();
            sent += 1;
            in_flight += 1;
        }
        // A reply lost in the client's socket buffer times out and frees its slot.
        if sock.recv_from(&mut buf).is_ok() {
            got += 1;
        }
        in_flight -= 1;
    }
    got
}

#[test]
fn twenty_thousand_cookies_of_large_replies_stay_within_the_cache_bound() {
    const CACHE: u64 = 4 << 20;
    let d = Serve::start(&["--reply-cache-bytes", &CACHE.to_string()]);
    let mut ng = d.ng();
    // 40 calls with 300-character Call-IDs: each list reply is about 12 KB.
    for i in 0..40 {
        let id = format!("{i:02}-{}", "c".repeat(300));
        let r = ng.request(&offer(&id, 4000 + 2 * i));
        assert_eq!(result(&r), "ok", "{r:?}");
    }
    let list = Value::dict()
        .with("command", Value::str("list"))
        .with("limit", Value::Int(40));
    let reply_len = {
        ng.sock.send_to(&message("probe", &list), d.ng).unwrap();
        let mut buf = vec![0u8; 65_536];
        let (n, _) = ng.sock.recv_from(&mut buf).unwrap();
        let (_, body) = split_reply(&buf[..n]);
        assert_eq!(
            body.get("calls")
                .and_then(Value::as_list)
                .map(<[Value]>::len),
            Some(40)
        );
        n
    };
    assert!(reply_len > 10_000, "list replies of {reply_len} bytes");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let before = d.rss_kib();
    let t = Instant::now();
    let got = flood(&sock, d.ng, &list, 20_000);
    let secs = t.elapsed().as_secs_f64();
    let after = d.rss_kib();
    let text = d.scrape();
    let held = common::serve::metric(&text, "tandem_ng_reply_cache_bytes");
    let evictions = common::serve::metric(&text, "tandem_ng_reply_cache_evictions_total");
    println!(
        "20,000 list requests ({reply_len}-byte replies, {got} received) in {secs:.1} s: \
         RSS {before} -> {after} KiB, cache holds {held} bytes, {evictions} evictions"
    );
    assert!(held <= CACHE as f64, "{held}");
    // Unbounded, the replies alone would take 20,000 x reply_len (about 240 MB).
    let growth_kib = after.saturating_sub(before);
    assert!(
        growth_kib < 2 * CACHE / 1024 + 16 * 1024,
        "RSS grew {growth_kib} KiB with a {CACHE}-byte cache"
    );
    let cached = CACHE as f64 / reply_len as f64;
    assert!(evictions > 20_000.0 - cached - 100.0, "{evictions}");
    assert!(got > 19_000, "{got} replies");
}

#[test]
fn a_full_control_queue_answers_overloaded_instead_of_dropping() {
    let d = Serve::start(&["--max-pending-requests", "1"]);
    let mut ng = d.ng();
    for i in 0..20 {
        let id = format!("{i:02}-{}", "o".repeat(300));
        assert_eq!(result(&ng.request(&offer(&id, 4000 + 2 * i))), "ok");
    }
    let list = Value::dict()
        .with("command", Value::str("list"))
        .with("limit", Value::Int(20));
    // A burst: the I/O thread reads faster than the control thread builds large replies.
    // Replies are read by a thread of their own while the burst is sent, so the socket's
    // receive buffer does not overflow on a busy machine.
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let reader = {
        let sock = sock.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_536];
            let (mut overloaded, mut answered) = (0u32, 0u32);
            while let Ok((n, _)) = sock.recv_from(&mut buf) {
                let (_, body) = split_reply(&buf[..n]);
                match result(&body) {
                    "ok" => answered += 1,
                    "error" => {
                        let why = body.get("error-reason").and_then(Value::as_str);
                        assert_eq!(why, Some("overloaded, retry"));
                        overloaded += 1;
                    }
                    other => panic!("{other}"),
                }
            }
            (answered, overloaded)
        })
    };
    for i in 0..200 {
        sock.send_to(&message(&format!("b{i}"), &list), d.ng)
            .unwrap();
    }
    let (answered, overloaded) = reader.join().unwrap();
    println!("burst of 200: {answered} answered, {overloaded} refused as overloaded");
    assert!(overloaded > 0 && answered > 0, "{answered} / {overloaded}");
    // Every refusal seen is counted, and no more were counted than requests went unanswered
    // (a reply can still be lost on a loaded loopback).
    let counted = d.metric("tandem_ng_overloaded_total");
    assert!(
        counted >= f64::from(overloaded) && counted <= f64::from(200 - answered),
        "{counted} refusals counted, {overloaded} seen, {answered} answered"
    );
}

fn fails_to_start(args: &[&str], expect: &str) {
    let t = Instant::now();
    let out = tandem()
        .arg("serve")
        .args(["--num-threads", "1"])
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} started: {err}");
    assert!(err.contains(expect), "{args:?}: {err}");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "{args:?} took {:?}",
        t.elapsed()
    );
}

#[test]
fn unusable_addresses_fail_at_start_with_a_clear_message() {
    // TEST-NET-1 is no address of this host.
    fails_to_start(
        &[
            "--listen-ng",
            "127.0.0.1:0",
            "--listen-metrics",
            "none",
            "--interface",
            "192.0.2.1",
        ],
        "media interface 192.0.2.1: cannot bind",
    );
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let ng = taken.local_addr().unwrap().to_string();
    fails_to_start(
        &["--listen-ng", &ng, "--listen-metrics", "none"],
        &format!("cannot listen on {ng}"),
    );
    let http = TcpListener::bind("127.0.0.1:0").unwrap();
    let m = http.local_addr().unwrap().to_string();
    fails_to_start(
        &["--listen-ng", "127.0.0.1:0", "--listen-metrics", &m],
        &format!("cannot listen on {m}"),
    );
    fails_to_start(&["--grace=-1"], "grace");
    fails_to_start(&["--max-tcp-connections", "0"], "max-tcp-connections");
}
