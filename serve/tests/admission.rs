//! Admission control on a real daemon on 127.0.0.1: with a tiny `max-packet-rate`, a flood
//! of media on one call makes offers for new calls fail with a reason naming the limit
//! (counted in the metrics), while answers, queries, re-offers and deletes of calls that
//! exist still work; once the flood stops, offers are taken again.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use support::{Daemon, Phone, cmd, error, eventually, ok, rtp};
use tandem_serve::bencode::Value;

/// Sends RTP from `phone`'s socket to `to` as fast as it can until `stop`.
fn flood(phone: &Phone, to: std::net::SocketAddr, stop: Arc<AtomicBool>) -> thread::JoinHandle<()> {
    let sock = phone.sock.try_clone().unwrap();
    let ssrc = phone.ssrc;
    thread::spawn(move || {
        let mut seq = 0u16;
        while !stop.load(Ordering::Relaxed) {
            for _ in 0..32 {
                let _ = sock.send_to(&rtp(ssrc, seq, &[0xFF; 160]), to);
                seq = seq.wrapping_add(1);
            }
            // Fast enough to be far over the limit, slow enough to leave the machine usable.
            thread::sleep(Duration::from_millis(2));
        }
    })
}

fn result(v: &Value) -> &str {
    v.get("result").and_then(Value::as_str).unwrap_or_default()
}

#[test]
fn offers_are_refused_while_a_shard_is_over_its_packet_rate_and_taken_again_after() {
    for driver in ["mio", "io-uring"] {
        let Some(d) = Daemon::start(driver, 200, |c| c.max_packet_rate = 200) else {
            continue;
        };
        let (alice, bob) = (Phone::new(1), Phone::new(2));
        let (alice_to, _) = d.call("busy", &alice, &bob, &[]);
        // Idle, a new call is taken.
        ok(&d.offer("idle", Phone::new(3).addr(), &[]));
        ok(&d.delete("idle"));

        let stop = Arc::new(AtomicBool::new(false));
        let flooder = flood(&alice, alice_to, stop.clone());
        let mut reason = String::new();
        let refused = eventually(Duration::from_secs(20), || {
            let r = d.offer("new", Phone::new(4).addr(), &[]);
            if result(&r) == "ok" {
                ok(&d.delete("new"));
                return false;
            }
            reason = error(&r);
            true
        });
        assert!(refused, "{driver}: no offer was refused");
        assert!(
            reason.contains("max-packet-rate 200") && reason.contains("packets/s"),
            "{driver}: {reason}"
        );
        // A proxy that supports it is told `load limit`, so it tries another relay.
        let supports = Value::List(vec![Value::str("load limit")]);
        let r = d.offer("new", Phone::new(5).addr(), &[("supports", supports)]);
        assert_eq!(result(&r), "load limit", "{driver}: {r:?}");
        // What exists goes on: an answer, a query, a re-offer, a delete.
        ok(&d.answer("busy", bob.addr()));
        ok(&d.ng(&cmd("query", "busy")));
        ok(&d.offer("busy", alice.addr(), &[]));
        let refused_metric = d.metric("tandem_ng_refused_total{reason=\"max_packet_rate\"}");
        assert!(refused_metric >= 2.0, "{driver}: {refused_metric}");
        assert!(
            d.metric("tandem_shard_packet_rate") > 200.0,
            "{driver}: the metric shows the load"
        );
        ok(&d.delete("busy"));

        stop.store(true, Ordering::Relaxed);
        flooder.join().unwrap();
        // The smoothed rate halves each second once the media stops.
        let taken = eventually(Duration::from_secs(30), || {
            result(&d.offer("after", Phone::new(6).addr(), &[])) == "ok"
        });
        assert!(
            taken,
            "{driver}: offers are still refused after the load stopped"
        );
        assert!(d.metric("tandem_shard_packet_rate") <= 200.0, "{driver}");
        d.stop();
    }
}
