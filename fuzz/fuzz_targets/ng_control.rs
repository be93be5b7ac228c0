#![no_main]
//! The whole control path, datagram to reply: messages from three sources go through the
//! reply cache and the call table over the in-memory engine (which runs between them and
//! reports its events), then the daemon shuts down. Every message gets an ng reply (cookie,
//! space, bencode) or nothing, and the cache never holds more than its bound.
//!
//! The input is the messages separated by blank lines (`\n\n`), which real ng datagrams
//! do not contain (SDP lines end in `\r\n`).
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use tandem_engine::{MediaEngine, MemoryEngine, Micros, NetworkConditions};
use tandem_serve::bencode;
use tandem_serve::calls::{Calls, CallsConfig};
use tandem_serve::daemon::ControlPath;
use tandem_serve::metrics::Metrics;

const CACHE_BYTES: usize = 16 * 1024;

fn messages(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.windows(2).position(|w| w == b"\n\n") {
            Some(i) => {
                let m = &rest[..i];
                rest = &rest[i + 2..];
                Some(m)
            }
            None => Some(std::mem::take(&mut rest)),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    // Recordings are real files: each input gets its own directory, removed after it.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let calls = Calls::new(CallsConfig {
        timeout_s: 1,
        ..CallsConfig::new("10.0.0.1".parse().unwrap(), dir.path().to_path_buf())
    });
    let eng = MemoryEngine::new(2, NetworkConditions::default(), 1);
    let mut path = ControlPath::new(calls, eng, CACHE_BYTES, Arc::new(Metrics::new()));
    let t0 = Instant::now();
    let mut now_us = 0;
    for (i, msg) in messages(data).take(64).enumerate() {
        let source = SocketAddr::from(([192, 0, 2, 1], 5060 + (i % 3) as u16));
        let at = t0 + Duration::from_millis(250 * i as u64);
        let handled = path.handle(source, msg, at);
        match handled.reply {
            Some(r) => {
                let space = r.iter().position(|&b| b == b' ').expect("a cookie");
                assert!(space > 0);
                bencode::parse(&r[space + 1..]).expect("a bencoded reply");
            }
            None => assert!(msg.iter().all(u8::is_ascii_whitespace)),
        }
        assert!(path.cache().bytes() <= CACHE_BYTES);
        now_us += 250_000;
        path.parts().1.advance_to(Micros::from_us(now_us));
        while let Some(e) = path.parts().1.poll_event() {
            path.on_event(&e);
        }
        path.refresh(at);
    }
    path.begin_drain();
    assert!(path.calls().is_empty());
    for _ in 0..200 {
        if path.drained() {
            break;
        }
        now_us += 20_000;
        path.parts().1.advance_to(Micros::from_us(now_us));
        while let Some(e) = path.parts().1.poll_event() {
            path.on_event(&e);
        }
    }
});
