//! The whole control path without sockets (reply cache + call table over the in-memory
//! engine): which requests a cache may answer, its byte bound, the shutdown, and that any
//! bytes give a reply or nothing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use tandem_engine::{MediaEngine, Micros};
use tandem_engine::{MemoryEngine, NetworkConditions};
use tandem_serve::bencode::{self, Value};
use tandem_serve::calls::{Calls, CallsConfig};
use tandem_serve::daemon::ControlPath;
use tandem_serve::metrics::Metrics;

fn path(dir: &std::path::Path, cache_bytes: usize) -> ControlPath<MemoryEngine> {
    let calls = Calls::new(CallsConfig {
        timeout_s: 30,
        ..CallsConfig::new("10.0.0.1".parse().unwrap(), dir.to_path_buf())
    });
    let eng = MemoryEngine::new(1, NetworkConditions::default(), 1);
    ControlPath::new(calls, eng, cache_bytes, Arc::new(Metrics::new()))
}

fn src(port: u16) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], port))
}

fn msg(cookie: &str, body: &Value) -> Vec<u8> {
    let mut m = format!("{cookie} ").into_bytes();
    body.encode(&mut m);
    m
}

fn reply_body(reply: &[u8]) -> Value {
    let space = reply.iter().position(|&b| b == b' ').unwrap();
    bencode::parse(&reply[space + 1..]).unwrap()
}

fn result(reply: &[u8]) -> String {
    reply_body(reply)
        .get("result")
        .and_then(Value::as_str)
        .unwrap()
        .to_string()
}

fn offer(call: &str) -> Value {
    Value::dict()
        .with("command", Value::str("offer"))
        .with("call-id", Value::str(call))
        .with("from-tag", Value::str("ft"))
        .with("record call", Value::str("yes"))
        .with(
            "sdp",
            Value::str(
                "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
            ),
        )
}

fn answer(call: &str) -> Value {
    Value::dict()
        .with("command", Value::str("answer"))
        .with("call-id", Value::str(call))
        .with("from-tag", Value::str("ft"))
        .with("to-tag", Value::str("tt"))
        .with(
            "sdp",
            Value::str(
                "v=0\r\no=- 1 1 IN IP4 192.0.2.8\r\ns=-\r\nc=IN IP4 192.0.2.8\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
            ),
        )
}

fn cmd(command: &str, call: &str) -> Value {
    Value::dict()
        .with("command", Value::str(command))
        .with("call-id", Value::str(call))
}

#[test]
fn a_reused_cookie_is_carried_out_and_only_a_retransmission_is_cached() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = path(dir.path(), 1 << 20);
    let t = Instant::now();
    // Two proxies (two source ports) happen to use the same cookie for different offers.
    let a = msg("1_1", &offer("call-a"));
    let b = msg("1_1", &offer("call-b"));
    let ra = p.handle(src(5060), &a, t).reply.unwrap();
    let rb = p.handle(src(5062), &b, t).reply.unwrap();
    assert_eq!((result(&ra), result(&rb)), ("ok".into(), "ok".into()));
    assert_ne!(ra, rb, "the second proxy got its own call's reply");
    assert_eq!(p.calls().len(), 2, "both offers were carried out");
    // A retransmission from the first gets its reply again, from the cache.
    let again = p.handle(src(5060), &a, t + Duration::from_secs(1));
    assert!(again.from_cache);
    assert_eq!(again.reply.unwrap(), ra);
    assert_eq!(p.calls().len(), 2);
    // The same source reusing the cookie for a delete: the delete happens.
    let del = msg("1_1", &cmd("delete", "call-a"));
    let h = p.handle(src(5060), &del, t + Duration::from_secs(2));
    assert!(!h.from_cache);
    assert_eq!(result(&h.reply.unwrap()), "ok");
    assert_eq!(p.calls().len(), 1);
    let text = p.metrics().render();
    assert!(
        text.contains("tandem_ng_reply_cache_hits_total 1\n"),
        "{text}"
    );
    assert!(
        text.contains("tandem_calls_deleted_total{reason=\"delete\"} 1\n"),
        "{text}"
    );
    // After the window, a retransmission is carried out again (and finds no call: `ok` with
    // rtpengine's warning, as a delete without `fatal`).
    let late = p.handle(src(5060), &del, t + Duration::from_secs(40));
    assert!(!late.from_cache);
    let reply = String::from_utf8_lossy(&late.reply.unwrap()).into_owned();
    assert!(reply.contains("Call-ID not found"), "{reply}");
}

#[test]
fn a_flood_of_large_replies_stays_within_the_cache_bound() {
    let dir = tempfile::tempdir().unwrap();
    let bound = 256 * 1024;
    let mut p = path(dir.path(), bound);
    let t = Instant::now();
    for i in 0..40 {
        let id = format!("{i:03}-{}", "x".repeat(300));
        assert_eq!(
            result(
                &p.handle(src(1), &msg(&format!("o{i}"), &offer(&id)), t)
                    .reply
                    .unwrap()
            ),
            "ok"
        );
    }
    let list = cmd("list", "").with("limit", Value::Int(40));
    let mut biggest = 0;
    for n in 0..2_000 {
        let r = p
            .handle(src(2), &msg(&format!("l{n}"), &list), t)
            .reply
            .unwrap();
        biggest = biggest.max(r.len());
        assert!(p.cache().bytes() <= bound);
    }
    assert!(biggest > 10_000, "replies of {biggest} bytes");
    let text = p.metrics().render();
    let evictions: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("tandem_ng_reply_cache_evictions_total "))
        .unwrap()
        .parse()
        .unwrap();
    // 2,040 replies went in; about bound / reply size stay.
    assert!(
        evictions > 2_000 - (bound / biggest) as u64 - 50,
        "{evictions}"
    );
}

#[test]
fn a_shutdown_refuses_offers_deletes_calls_and_waits_for_recordings() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = path(dir.path(), 1 << 20);
    let t = Instant::now();
    for call in ["c1", "c2"] {
        let o = p.handle(src(1), &msg(&format!("o-{call}"), &offer(call)), t);
        assert_eq!(result(&o.reply.unwrap()), "ok");
        let a = p.handle(src(1), &msg(&format!("a-{call}"), &answer(call)), t);
        assert_eq!(result(&a.reply.unwrap()), "ok");
    }
    p.parts().1.advance_to(Micros::from_us(200_000));
    assert!(!p.draining());
    assert_eq!(p.begin_drain(), 2, "two recordings to finish");
    assert!(p.calls().is_empty());
    assert!(!p.drained(), "the recordings are not finished yet");
    let refused = p.handle(src(1), &msg("o3", &offer("c3")), t).reply.unwrap();
    let body = reply_body(&refused);
    assert_eq!(
        body.get("error-reason").and_then(Value::as_str),
        Some("shutting down")
    );
    assert!(p.calls().is_empty());
    // Other commands are still answered.
    let ping = Value::dict().with("command", Value::str("ping"));
    assert_eq!(
        result(&p.handle(src(1), &msg("p", &ping), t).reply.unwrap()),
        "pong"
    );
    // The engine completes the files; the path sees each TapFinished.
    let mut now = 200_000;
    while !p.drained() && now < 5_000_000 {
        now += 20_000;
        p.parts().1.advance_to(Micros::from_us(now));
        while let Some(e) = p.parts().1.poll_event() {
            p.on_event(&e);
        }
    }
    assert!(p.drained());
    let text = p.metrics().render();
    for line in [
        "tandem_recordings_started_total 2\n",
        "tandem_recordings_finished_total 2\n",
        "tandem_calls_deleted_total{reason=\"shutdown\"} 2\n",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let count = |ext: &str| names.iter().filter(|n| n.ends_with(ext)).count();
    assert_eq!((count(".wav"), count(".json")), (2, 2), "{names:?}");
}

#[test]
fn empty_and_garbage_messages() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = path(dir.path(), 1 << 20);
    let t = Instant::now();
    assert_eq!(p.handle(src(1), b"", t).reply, None);
    assert_eq!(p.handle(src(1), b" \r\n", t).reply, None);
    let r = p.handle(src(1), b"c1 d7:comma", t);
    assert_eq!(r.command, "malformed");
    let reply = r.reply.unwrap();
    assert!(reply.starts_with(b"c1 "), "the cookie is echoed");
    assert_eq!(result(&reply), "error");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_messages_get_a_reply_or_nothing_within_the_cache_bound(
        msgs in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..200),
                (0usize..6, "[a-z0-9]{1,4}").prop_map(|(k, cookie)| {
                    let body = match k {
                        0 => offer("p1"),
                        1 => answer("p1"),
                        2 => cmd("delete", "p1"),
                        3 => cmd("query", "p1"),
                        4 => cmd("list", ""),
                        _ => cmd("start recording", "p1"),
                    };
                    msg(&cookie, &body)
                }),
            ],
            1..30,
        ),
        bound in 0usize..8_000,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut p = path(dir.path(), bound);
        let t = Instant::now();
        for (i, m) in msgs.iter().enumerate() {
            let h = p.handle(src((i % 3) as u16), m, t + Duration::from_millis(i as u64));
            if let Some(r) = &h.reply {
                let space = r.iter().position(|&b| b == b' ');
                prop_assert!(space.is_some());
                prop_assert!(bencode::parse(&r[space.unwrap() + 1..]).is_ok());
            } else {
                prop_assert!(m.iter().all(u8::is_ascii_whitespace));
            }
            prop_assert!(p.cache().bytes() <= bound);
        }
    }
}
