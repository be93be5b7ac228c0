//! ng over TCP and the metrics endpoint under hostile connections, on the real binary:
//! hundreds of idle connections against the cap, slowloris senders against the read
//! deadline, a 900 KB message in 240-byte pieces, pipelined requests, and scrapes while
//! idle HTTP connections are open.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tandem_serve::bencode::Value;

use common::serve::{Serve, TcpNg, closed_within, http, message, metric, result};

fn ping() -> Value {
    Value::dict().with("command", Value::str("ping"))
}

/// Polls a metric until it reaches `want` (the daemon works asynchronously).
fn await_metric(d: &Serve, name: &str, want: f64) -> f64 {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let v = d.metric(name);
        if v >= want || Instant::now() > until {
            return v;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the daemon has closed `c` (EOF or reset), without waiting.
fn closed_now(c: &TcpStream) -> bool {
    c.set_nonblocking(true).unwrap();
    let mut b = [0u8; 64];
    let closed = match (&*c).read(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    };
    c.set_nonblocking(false).unwrap();
    closed
}

#[test]
fn five_hundred_idle_connections_hold_the_cap_and_idle_ones_are_closed() {
    const CAP: usize = 64;
    const CLIENTS: usize = 500;
    let d = Serve::start(&[
        "--max-tcp-connections",
        &CAP.to_string(),
        "--tcp-idle-timeout",
        "3",
    ]);
    // The metrics server starts its handler threads with the first scrape: count after it.
    d.scrape();
    let threads_before = d.threads();
    let idle: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| TcpStream::connect(d.ng).unwrap())
        .collect();
    // What reached the daemon: the listen backlog (1024 by default) holds all 500
    // handshakes, so every one arrives; on a loaded machine the last may take a while.
    let reached = || {
        let text = d.scrape();
        metric(&text, "tandem_ng_tcp_connections_accepted_total")
            + metric(&text, "tandem_ng_tcp_connections_refused_total")
    };
    let until = Instant::now() + Duration::from_secs(60);
    while reached() < CLIENTS as f64 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = d.scrape();
    let accepted = metric(&text, "tandem_ng_tcp_connections_accepted_total");
    let refused = metric(&text, "tandem_ng_tcp_connections_refused_total");
    println!("{accepted} accepted, {refused} refused of {CLIENTS} connections");
    // The cap held: exactly CAP accepted and open, every other arrival refused.
    assert_eq!(accepted, CAP as f64);
    assert_eq!(metric(&text, "tandem_ng_tcp_connections"), CAP as f64);
    assert_eq!(
        accepted + refused,
        CLIENTS as f64,
        "every handshake arrived"
    );
    // Refused clients see their connection closed (the daemon counts a refusal just before
    // it closes the socket); the accepted ones are the open rest.
    let (mut open, mut gone) = (idle, Vec::<TcpStream>::new());
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let (still, closed): (Vec<TcpStream>, Vec<TcpStream>) =
            open.into_iter().partition(|c| !closed_now(c));
        open = still;
        gone.extend(closed);
        if gone.len() as f64 >= refused || Instant::now() > until {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(gone.len() as f64, refused);
    assert_eq!(open.len(), CAP);
    // tiny_http's pool grows and shrinks a little with scrapes; a thread per ng connection
    // would add 64.
    let threads = d.threads();
    assert!(
        threads < threads_before + 8,
        "no thread per connection: {threads_before} threads before, {threads} with {CAP} connections"
    );
    // A new client while the cap is full is refused at once, not left hanging.
    let mut late = TcpStream::connect(d.ng).unwrap();
    late.write_all(&message("late", &ping())).unwrap_or(());
    assert!(
        closed_within(&mut late, Duration::from_secs(10)),
        "a clear refusal"
    );
    // UDP is served all along.
    assert_eq!(result(&d.ng().with_cookie("u1", &ping())), "pong");
    // Clients that go away free their slots; a new client is served.
    open.truncate(CAP - 10);
    assert_eq!(
        await_metric(
            &d,
            "tandem_ng_tcp_connections_closed_total{reason=\"peer\"}",
            10.0
        ),
        10.0
    );
    let mut fresh = TcpNg::connect(d.ng);
    assert_eq!(result(&fresh.request("f1", &ping())), "pong");
    drop(fresh);
    // The idle deadline closes the rest.
    let t = Instant::now();
    for c in &mut open {
        assert!(
            closed_within(c, Duration::from_secs(20)),
            "closed when idle"
        );
    }
    println!(
        "idle connections closed {:?} after the check began",
        t.elapsed()
    );
    assert_eq!(
        await_metric(
            &d,
            "tandem_ng_tcp_connections_closed_total{reason=\"idle\"}",
            (CAP - 10) as f64
        ),
        (CAP - 10) as f64
    );
}

#[test]
fn slowloris_connections_are_closed_by_the_read_deadline() {
    let d = Serve::start(&["--tcp-read-timeout", "1"]);
    let mut slow: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut c = TcpStream::connect(d.ng).unwrap();
            // A valid start whose string will not complete before the deadline.
            c.write_all(b"s1 d3:pad900000:").unwrap();
            c
        })
        .collect();
    let writers: Vec<TcpStream> = slow.iter().map(|c| c.try_clone().unwrap()).collect();
    // One byte every 200 ms on every connection for up to a minute: more bytes never
    // extend the deadline, so every connection is closed while its bytes still come.
    // Returns the connections the drip outlived.
    let drip = std::thread::spawn(move || {
        let mut writers = writers;
        for _ in 0..300 {
            std::thread::sleep(Duration::from_millis(200));
            writers.retain_mut(|w| w.write_all(b"a").is_ok());
            if writers.is_empty() {
                break;
            }
        }
        writers.len()
    });
    // A legitimate client is served during the attack.
    let mut good = TcpNg::connect(d.ng);
    assert_eq!(result(&good.request("g1", &ping())), "pong");
    let t = Instant::now();
    for c in &mut slow {
        assert!(
            closed_within(c, Duration::from_secs(50)),
            "slowloris survived"
        );
    }
    println!("20 slowloris connections closed within {:?}", t.elapsed());
    assert_eq!(drip.join().unwrap(), 0, "closed while still sending");
    assert_eq!(
        await_metric(
            &d,
            "tandem_ng_tcp_connections_closed_total{reason=\"read_deadline\"}",
            20.0
        ),
        20.0
    );
    // The good connection is not a partial message: it stays open and usable.
    assert_eq!(result(&good.request("g2", &ping())), "pong");
}

#[test]
fn a_900_kb_message_in_240_byte_pieces_is_scanned_once() {
    let d = Serve::start(&["--tcp-read-timeout", "30"]);
    let big = ping().with("pad", Value::Bytes(vec![b'p'; 900_000]));
    let msg = message("big1", &big);
    let mut c = TcpNg::connect(d.ng);
    c.conn.set_nodelay(true).unwrap();
    for (i, piece) in msg.chunks(240).enumerate() {
        c.conn.write_all(piece).unwrap();
        if i % 16 == 0 {
            std::thread::sleep(Duration::from_micros(500));
        }
    }
    // `pad` is no ng key: the whole message arrives and is parsed, and the reply refuses
    // the key by name rather than ignoring it.
    let reply = c.reply("big1");
    assert_eq!(result(&reply), "error");
    let reason = reply
        .get("error-reason")
        .and_then(Value::as_str)
        .unwrap_or("");
    assert!(reason.contains("pad"), "{reason}");
    let text = d.scrape();
    // Every byte was scanned once and the message parsed once: a parser that restarted on
    // each read would have scanned ~3,750 prefixes (about 1.7 GB).
    assert_eq!(
        metric(&text, "tandem_ng_tcp_scanned_bytes_total"),
        msg.len() as f64
    );
    assert_eq!(metric(&text, "tandem_ng_tcp_messages_total"), 1.0);
    // Over the limit (1 MiB by default): an error reply naming it, then the close.
    let mut c = TcpNg::connect(d.ng);
    let huge = message(
        "huge",
        &ping().with("pad", Value::Bytes(vec![b'p'; 2 << 20])),
    );
    let _ = c.conn.write_all(&huge);
    let reply = c.reply("huge");
    assert_eq!(result(&reply), "error");
    let why = reply.get("error-reason").and_then(Value::as_str).unwrap();
    assert!(why.contains("longer than 1048576 bytes"), "{why}");
    assert!(closed_within(&mut c.conn, Duration::from_secs(5)));
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let d = Serve::start(&[]);
    let mut c = TcpNg::connect(d.ng);
    let mut burst = Vec::new();
    for i in 0..100 {
        let body = if i % 2 == 0 {
            ping()
        } else {
            Value::dict().with("command", Value::str("list"))
        };
        burst.extend(message(&format!("p{i}"), &body));
        burst.extend(b"\r\n");
    }
    c.conn.write_all(&burst).unwrap();
    for i in 0..100 {
        let r = c.reply(&format!("p{i}"));
        assert_eq!(result(&r), if i % 2 == 0 { "pong" } else { "ok" });
    }
    // Malformed bencode on a stream: an error reply with the cookie, then the close.
    c.conn.write_all(b"bad1 dx").unwrap();
    let r = c.reply("bad1");
    assert_eq!(result(&r), "error");
    assert!(closed_within(&mut c.conn, Duration::from_secs(5)));
}

#[test]
fn scrapes_are_prompt_with_idle_connections_open_and_only_metrics_is_served() {
    let d = Serve::start(&[]);
    // Ten idle connections, one of them with half a request: a server that read one
    // connection at a time with a 2 s read timeout would take 20 s per scrape.
    let idle: Vec<TcpStream> = (0..10)
        .map(|i| {
            let mut s = TcpStream::connect(d.metrics).unwrap();
            if i == 0 {
                s.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
            }
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let t = Instant::now();
        let (status, body) = http(d.metrics, "GET", "/metrics", Duration::from_secs(30));
        slowest = slowest.max(t.elapsed());
        assert_eq!(status, 200);
        assert!(body.contains("tandem_uptime_seconds_total"), "{body}");
    }
    println!("slowest of 5 scrapes with 10 idle connections open: {slowest:?}");
    assert!(slowest < Duration::from_secs(10), "{slowest:?}");
    assert_eq!(
        http(d.metrics, "GET", "/metricsfoo", Duration::from_secs(5)).0,
        404
    );
    assert_eq!(http(d.metrics, "GET", "/", Duration::from_secs(5)).0, 404);
    assert_eq!(
        http(d.metrics, "POST", "/metrics", Duration::from_secs(5)).0,
        405
    );
    let (status, body) = http(d.metrics, "HEAD", "/metrics", Duration::from_secs(5));
    assert_eq!((status, body.as_str()), (200, ""));
    // Counters the daemon owns are current at once, not refreshed once a second.
    let before = d.metric("tandem_ng_requests_total{command=\"ping\"}");
    assert_eq!(result(&d.ng().with_cookie("x", &ping())), "pong");
    assert_eq!(
        d.metric("tandem_ng_requests_total{command=\"ping\"}"),
        before + 1.0
    );
    drop(idle);
}
