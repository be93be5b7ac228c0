//! The failure and refusal counters, read the way Prometheus reads them: each is provoked on
//! a real daemon on 127.0.0.1 (or, for a stalled engine, on the control path over an engine
//! that refuses commands) and then scraped from `/metrics`.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{
    Daemon, Phone, cmd, error, eventually, local, many_streams, marked, ok, sdp, sdp_port,
};
use tandem_engine::{
    ChannelId, ChannelInfo, ChannelSpec, ChannelStats, Command, EngineError, Event, GroupKey,
    MediaAddresses, MediaEngine, MemoryEngine, NetworkConditions, RequestId, RoomId, RoomOptions,
    TapId, TapSpec, TapTarget,
};
use tandem_serve::bencode::Value;
use tandem_serve::calls::{Calls, CallsConfig};
use tandem_serve::daemon::ControlPath;
use tandem_serve::metrics::Metrics;
use tandem_serve::metrics::read::sum;

/// Polls `name` on `d` until it is `want` (the control thread and the shards publish
/// asynchronously); returns the last value seen.
fn await_metric(d: &Daemon, name: &str, want: f64) -> f64 {
    let mut v = f64::NAN;
    eventually(Duration::from_secs(20), || {
        v = d.metric(name);
        v == want
    });
    v
}

#[test]
fn refusals_failed_recordings_and_shard_channels_are_scraped() {
    let d = Daemon::start("mio", 400, |c| c.max_sessions = 2).unwrap();
    let text = d.scrape();
    // Every series is there from the start, at zero.
    for name in [
        "tandem_ng_refused_total{reason=\"limit\"}",
        "tandem_ng_refused_total{reason=\"loop\"}",
        "tandem_ng_refused_total{reason=\"shutting_down\"}",
        "tandem_ng_replies_too_large_total",
        "tandem_recordings_failed_total",
        "tandem_teardown_deferred_total",
        "tandem_teardown_failed_total",
        "tandem_shard_channels{shard=\"0\"}",
        "tandem_shard_control_waits_total{shard=\"0\"}",
        "tandem_shard_control_timeouts_total{shard=\"0\"}",
    ] {
        assert_eq!(sum(&text, name), Some(0.0), "{name} in\n{text}");
    }
    let (alice, bob) = (Phone::new(1), Phone::new(2));
    let mut offers = 0;
    let mut offer = |call: &str, sdp: &str| {
        offers += 1;
        d.ng(&cmd("offer", call)
            .with("from-tag", Value::str("caller"))
            .with("sdp", Value::str(sdp)))
    };
    let to_callee = sdp_port(ok(&offer("a", &sdp(alice.addr()))));
    // Over the streams-per-call limit, then over max-sessions.
    error(&offer("wide", &many_streams(17, 0)));
    ok(&offer("b", &sdp(alice.addr())));
    assert_eq!(
        error(&offer("c", &sdp(alice.addr()))),
        "Parallel session limit reached"
    );
    assert_eq!(d.metric("tandem_ng_refused_total{reason=\"limit\"}"), 2.0);
    // A reply that would not fit a datagram (the call limit is checked first: make room).
    ok(&d.delete("b"));
    let base = many_streams(16, 0).len();
    error(&offer("big", &many_streams(16, 65_330 - base)));
    assert_eq!(d.metric("tandem_ng_replies_too_large_total"), 1.0);
    // An answer naming one of the relay's own ports would loop.
    let looping = cmd("answer", "a")
        .with("from-tag", Value::str("caller"))
        .with("to-tag", Value::str("callee"))
        .with("sdp", Value::str(&sdp(local(to_callee))));
    assert!(error(&d.ng(&looping)).contains("own"));
    assert_eq!(d.metric("tandem_ng_refused_total{reason=\"loop\"}"), 1.0);
    ok(&d.answer("a", bob.addr()));
    assert_eq!(
        d.metric("tandem_ng_requests_total{command=\"offer\"}"),
        f64::from(offers)
    );
    assert_eq!(
        d.metric("tandem_ng_request_duration_seconds_count{command=\"offer\"}"),
        f64::from(offers)
    );
    // The shard counts the call's two channels at its next turn.
    assert_eq!(await_metric(&d, "tandem_shard_channels", 2.0), 2.0);
    // A recording whose file cannot be created: the directory has become a plain file.
    std::fs::remove_dir_all(&d.dir).unwrap();
    std::fs::write(&d.dir, b"not a directory").unwrap();
    let _ = d.ng(&cmd("start recording", "a"));
    assert_eq!(
        await_metric(&d, "tandem_recordings_failed_total", 1.0),
        1.0,
        "{}",
        d.scrape()
    );
    std::fs::remove_file(&d.dir).unwrap();
    std::fs::create_dir(&d.dir).unwrap();
    // Deleted: the shard has no channel left and every port pair is free again.
    ok(&d.delete("a"));
    assert_eq!(await_metric(&d, "tandem_shard_channels", 0.0), 0.0);
    let text = d.scrape();
    assert_eq!(sum(&text, "tandem_shard_port_pairs_in_use"), Some(0.0));
    assert_eq!(sum(&text, "tandem_shard_port_pairs_free"), Some(200.0));
    assert_eq!(
        sum(&text, "tandem_calls_deleted_total{reason=\"delete\"}"),
        Some(2.0)
    );
    // Nothing was refused that should not have been.
    assert_eq!(sum(&text, "tandem_teardown_failed_total"), Some(0.0));
    assert_eq!(sum(&text, "tandem_shard_control_timeouts_total"), Some(0.0));
    d.stop();
}

#[test]
fn media_calls_and_timeouts_move_their_counters() {
    const PACKETS: u16 = 25;
    let d = Daemon::start("mio", 100, |c| c.timeout = 1).unwrap();
    let text = d.scrape();
    let uptime = sum(&text, "tandem_uptime_seconds_total").unwrap();
    for name in [
        "tandem_calls_created_total",
        "tandem_rtp_packets_in_total",
        "tandem_rtp_packets_out_total",
        "tandem_rtp_payload_in_bytes_total",
        "tandem_calls_deleted_total{reason=\"timeout\"}",
    ] {
        assert_eq!(sum(&text, name), Some(0.0), "{name} in\n{text}");
    }
    let (mut alice, mut bob) = (Phone::new(1), Phone::new(2));
    let (alice_to, bob_to) = d.call("m", &alice, &bob, &[]);
    assert_eq!(d.metric("tandem_calls_created_total"), 1.0);
    assert_eq!(d.metric("tandem_calls"), 1.0);
    for n in 0..PACKETS {
        alice.send(alice_to, &marked(0xA0, n));
        bob.send(bob_to, &marked(0xB0, n));
        std::thread::sleep(Duration::from_millis(20));
    }
    let heard =
        bob.drain(Duration::from_millis(300)).len() + alice.drain(Duration::from_millis(300)).len();
    assert_eq!(heard, 2 * usize::from(PACKETS), "every packet relayed");
    // What the phones sent and heard, as the daemon counts it once its statistics refresh.
    let sent = f64::from(2 * PACKETS);
    assert_eq!(await_metric(&d, "tandem_rtp_packets_in_total", sent), sent);
    assert_eq!(await_metric(&d, "tandem_rtp_packets_out_total", sent), sent);
    assert_eq!(d.metric("tandem_rtp_payload_in_bytes_total"), 160.0 * sent);
    assert_eq!(d.metric("tandem_rtp_payload_out_bytes_total"), 160.0 * sent);
    // Silence on both legs: the media timeout deletes the call, and says why.
    assert_eq!(
        await_metric(&d, "tandem_calls_deleted_total{reason=\"timeout\"}", 1.0),
        1.0
    );
    let text = d.scrape();
    assert_eq!(sum(&text, "tandem_calls"), Some(0.0));
    assert_eq!(
        sum(&text, "tandem_calls_deleted_total{reason=\"delete\"}"),
        Some(0.0)
    );
    assert_eq!(await_metric(&d, "tandem_shard_channels", 0.0), 0.0);
    // The counters keep what the deleted call carried.
    assert_eq!(d.metric("tandem_rtp_packets_in_total"), sent);
    assert!(d.metric("tandem_uptime_seconds_total") > uptime);
    d.stop();
}

/// The in-memory engine behind a queue the test can fill: while `full`, teardown commands
/// are refused as a stalled shard's queue refuses them; once `stopped`, as a stopped
/// engine refuses them.
struct Stalling {
    inner: MemoryEngine,
    full: bool,
    stopped: bool,
    refused: u64,
}

impl MediaEngine for Stalling {
    fn create_channel(
        &mut self,
        group: GroupKey,
        spec: ChannelSpec,
    ) -> Result<ChannelInfo, EngineError> {
        self.inner.create_channel(group, spec)
    }
    fn create_room(
        &mut self,
        group: GroupKey,
        options: RoomOptions,
    ) -> Result<RoomId, EngineError> {
        self.inner.create_room(group, options)
    }
    fn command(&mut self, cmd: Command) -> Result<RequestId, EngineError> {
        if cmd.is_teardown() && (self.full || self.stopped) {
            self.refused += 1;
            return Err(if self.stopped {
                EngineError::ShutDown
            } else {
                EngineError::QueueFull(cmd.shard())
            });
        }
        self.inner.command(cmd)
    }
    fn start_tap(&mut self, target: TapTarget, spec: TapSpec) -> Result<TapId, EngineError> {
        self.inner.start_tap(target, spec)
    }
    fn read_stats(
        &mut self,
        channels: &[ChannelId],
    ) -> Result<Vec<(ChannelId, ChannelStats)>, EngineError> {
        self.inner.read_stats(channels)
    }
    fn media_addresses(&self) -> MediaAddresses {
        self.inner.media_addresses()
    }
    fn holds(&self, addr: SocketAddr) -> bool {
        self.inner.holds(addr)
    }
    fn poll_event(&mut self) -> Option<Event> {
        self.inner.poll_event()
    }
    fn barrier(&mut self) -> Result<(), EngineError> {
        self.inner.barrier()
    }
}

fn request(cookie: &str, body: &Value) -> Vec<u8> {
    let mut m = format!("{cookie} ").into_bytes();
    body.encode(&mut m);
    m
}

fn party(port: u16) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
}

#[test]
fn deferred_and_failed_teardowns_and_refusals_while_draining_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = Arc::new(Metrics::new());
    let calls = Calls::new(CallsConfig::new(
        "10.0.0.1".parse().unwrap(),
        dir.path().into(),
    ));
    let media = Stalling {
        inner: MemoryEngine::new(1, NetworkConditions::default(), 1),
        full: false,
        stopped: false,
        refused: 0,
    };
    let mut path = ControlPath::new(calls, media, 1 << 20, metrics.clone());
    let from: SocketAddr = "192.0.2.1:5060".parse().unwrap();
    let now = Instant::now();
    let run = |path: &mut ControlPath<Stalling>, cookie: &str, body: Value| {
        let h = path.handle(from, &request(cookie, &body), now);
        let reply = h.reply.unwrap();
        let space = reply.iter().position(|&b| b == b' ').unwrap();
        tandem_serve::bencode::parse(&reply[space + 1..]).unwrap()
    };
    let count = |name: &str| sum(&metrics.render(), name).unwrap_or(f64::NAN);
    let channels = |path: &mut ControlPath<Stalling>| {
        let (_, media) = path.parts();
        media
            .inner
            .advance_to(media.inner.now() + tandem_engine::Micros::from_ms(20));
        media.inner.shard_stats(0).unwrap().channels
    };
    for (k, call) in ["x", "y"].into_iter().enumerate() {
        let o = cmd("offer", call)
            .with("from-tag", Value::str("ft"))
            .with("sdp", Value::str(&party(4000 + 2 * k as u16)));
        ok(&run(&mut path, &format!("o{k}"), o));
    }
    assert_eq!(channels(&mut path), 4);

    // A stalled shard: the delete is answered, its teardown commands are kept.
    path.parts().1.full = true;
    ok(&run(&mut path, "d1", cmd("delete", "x")));
    let deferred = path.calls().teardown_pending();
    assert!(deferred >= 2, "{deferred} commands kept");
    assert_eq!(count("tandem_teardown_deferred_total"), deferred as f64);
    assert_eq!(channels(&mut path), 4, "nothing torn down yet");
    // Room again: the next housekeeping round sends them.
    path.parts().1.full = false;
    path.refresh(now);
    assert_eq!(path.calls().teardown_pending(), 0);
    assert_eq!(channels(&mut path), 2);
    assert_eq!(count("tandem_teardown_failed_total"), 0.0);

    // A stopped engine refuses for good: counted as failed, not kept.
    path.parts().1.stopped = true;
    let refused_before = path.parts().1.refused;
    ok(&run(&mut path, "d2", cmd("delete", "y")));
    let failed = path.parts().1.refused - refused_before;
    assert!(failed >= 2, "{failed}");
    assert_eq!(count("tandem_teardown_failed_total"), failed as f64);
    assert_eq!(path.calls().teardown_pending(), 0);
    assert_eq!(count("tandem_teardown_deferred_total"), deferred as f64);

    // Offers during a shutdown are refused and counted as such.
    path.begin_drain();
    let o = cmd("offer", "z")
        .with("from-tag", Value::str("ft"))
        .with("sdp", Value::str(&party(4010)));
    assert!(error(&run(&mut path, "o9", o)).contains("shutting down"));
    assert_eq!(
        count("tandem_ng_refused_total{reason=\"shutting_down\"}"),
        1.0
    );
    assert_eq!(count("tandem_ng_refused_total{reason=\"limit\"}"), 0.0);
}
