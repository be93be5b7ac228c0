//! A real daemon on 127.0.0.1 against requests that would exhaust it or whose reply would
//! not fit in a datagram: each is refused with an error naming the limit, and nothing is
//! created.

mod support;

use std::collections::BTreeSet;

use support::{Daemon, Phone, error, many_streams, ok};
use tandem_serve::bencode::Value;

#[test]
fn offers_over_a_limit_are_refused_and_create_nothing() {
    let d = Daemon::start("mio", 400, |c| c.max_sessions = 3).unwrap();
    for streams in [17, 1_000] {
        let reason = error(&d.offer_sdp("wide", &many_streams(streams, 0), &[]));
        assert!(reason.contains("max-streams-per-call"), "{reason}");
        assert!(reason.contains("16"), "{reason}");
        assert!(reason.contains(&streams.to_string()), "{reason}");
    }
    assert_eq!(d.current("channels"), 0);
    // Sixteen streams is within the limit.
    ok(&d.offer_sdp("c0", &many_streams(16, 0), &[]));
    assert_eq!(d.current("channels"), 32);
    let alice = Phone::new(1);
    ok(&d.offer("c1", alice.addr(), &[]));
    ok(&d.offer("c2", alice.addr(), &[]));
    // rtpengine's words, which a proxy module takes as "try another relay".
    let reason = error(&d.offer("c3", alice.addr(), &[]));
    assert_eq!(reason, "Parallel session limit reached");
    // A proxy that supports it gets `load limit`, with the limit named.
    let supports = Value::List(vec![Value::str("load limit")]);
    let r = d.offer("c3", alice.addr(), &[("supports", supports)]);
    assert_eq!(r.get("result").and_then(Value::as_str), Some("load limit"));
    let message = r.get("message").and_then(Value::as_str).unwrap_or_default();
    assert!(
        message.contains("max-sessions") && message.contains('3'),
        "{r:?}"
    );
    assert_eq!(d.current("sessionsown"), 3);
    // A re-offer of a call that exists is not a new call.
    ok(&d.offer("c2", alice.addr(), &[]));
    ok(&d.delete("c1"));
    ok(&d.offer("c3", alice.addr(), &[]));
    assert_eq!(d.current("channels"), 32 + 4);
    d.stop();
}

#[test]
fn an_offer_whose_reply_would_not_fit_a_datagram_is_refused_whole() {
    let d = Daemon::start("mio", 200, |_| {}).unwrap();
    // Sixteen streams whose rewriting (five-digit ports, the relay's address) adds about
    // 130 bytes: a request just under the 65,507-byte datagram limit whose reply would not
    // fit in 65,000.
    let base = many_streams(16, 0).len();
    let too_big = many_streams(16, 65_330 - base);
    let reason = error(&d.offer_sdp("big", &too_big, &[]));
    assert!(reason.contains("limit"), "{reason}");
    assert_eq!(d.current("channels"), 0, "no channel remains");
    assert_eq!(d.current("sessionsown"), 0);
    // A large offer that fits is carried out.
    let fits = many_streams(16, 60_000 - base);
    let r = d.offer_sdp("big", &fits, &[]);
    assert!(
        ok(&r).get("sdp").and_then(Value::as_str).unwrap().len() > 60_000,
        "the whole SDP comes back"
    );
    assert_eq!(d.current("channels"), 32);
    d.stop();
}

#[test]
fn list_pages_through_long_call_ids_within_a_datagram() {
    let d = Daemon::start("mio", 1_400, |_| {}).unwrap();
    let alice = Phone::new(1);
    let mut ids = BTreeSet::new();
    for n in 0..300 {
        // 250-character call-ids: 300 of them are 75 KB, more than one datagram.
        let id = format!("{n:04}-{}", "x".repeat(245));
        ok(&d.offer(&id, alice.addr(), &[]));
        ids.insert(id);
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut req = Value::dict()
            .with("command", Value::str("list"))
            .with("limit", Value::Int(100_000));
        if let Some(a) = &after {
            req = req.with("after", Value::str(a));
        }
        let r = d.ng(&req);
        let page: Vec<String> = ok(&r)
            .get("calls")
            .and_then(Value::as_list)
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert!(!page.is_empty());
        pages += 1;
        seen.extend(page);
        if r.get("more").and_then(Value::as_int) == Some(0) {
            break;
        }
        after = r.get("next").and_then(Value::as_str).map(str::to_string);
        assert!(after.is_some(), "more pages come with a cursor");
        assert!(pages < 10);
    }
    assert!(pages >= 2, "75 KB of call-ids cannot come in one datagram");
    assert_eq!(
        seen,
        ids.into_iter().collect::<Vec<_>>(),
        "each once, in order"
    );
    // A small limit is honoured.
    let r = d.ng(&Value::dict()
        .with("command", Value::str("list"))
        .with("limit", Value::Int(5)));
    assert_eq!(
        ok(&r).get("calls").and_then(Value::as_list).unwrap().len(),
        5
    );
    assert_eq!(r.get("more").and_then(Value::as_int), Some(1));
    d.stop();
}
