//! What the daemon tests share: a real `tandem serve` on 127.0.0.1 (started in-process on
//! ports picked at run time), an ng client, RTP phones, and process introspection.

#![allow(dead_code)]

pub mod srtp;

use std::fmt::Write as _;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tandem_codecs::rtp::{RtpHeader, RtpPacket};
use tandem_engine::EngineError;
use tandem_serve::bencode::{self, Value};
use tandem_serve::config::ServeConfig;
use tandem_serve::daemon::{self, Running, ServeError};
use tandem_serve::sdp::Sdp;

/// A running daemon with an ng client.
pub struct Daemon {
    running: Option<Running>,
    /// Its ng address.
    pub ng: SocketAddr,
    /// Its metrics address.
    pub metrics: Option<SocketAddr>,
    /// Its media port range.
    pub ports: (u16, u16),
    /// Its recording directory (removed with the daemon unless given).
    pub dir: std::path::PathBuf,
    _tmp: Option<tempfile::TempDir>,
    proxy: UdpSocket,
    cookie: AtomicU64,
}

/// Ports the kernel hands out for `bind(0)`: media blocks are picked outside them, so a
/// test's phones never land inside the daemon's media range.
fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|v| v.parse().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((32_768, 60_999))
}

/// A block of `n` consecutive UDP ports on 127.0.0.1 that are free now, below the
/// ephemeral range; different calls (threads of one test binary) get different blocks.
pub fn free_port_block(n: u16) -> (u16, u16) {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let top = ephemeral_range().0.min(32_768) - n - 2;
    let span = u64::from(top - 10_000);
    let seed = u64::from(std::process::id()) * 7_919;
    for _ in 0..200 {
        let k = NEXT.fetch_add(1, Ordering::Relaxed);
        let base = 10_000 + ((seed + k * 1_237) % span) as u16;
        let base = base - base % 2;
        let free = (base..base + n).all(|p| UdpSocket::bind(("127.0.0.1", p)).is_ok());
        if free {
            return (base, base + n - 1);
        }
    }
    panic!("no free block of {n} UDP ports");
}

/// Settings for a test daemon: loopback, ephemeral ng and metrics ports, one shard.
pub fn config(driver: &str, ports: (u16, u16), dir: &std::path::Path) -> ServeConfig {
    ServeConfig {
        listen_ng: "127.0.0.1:0".parse().unwrap(),
        listen_metrics: Some("127.0.0.1:0".parse().unwrap()),
        port_min: ports.0,
        port_max: ports.1,
        num_threads: 1,
        recording_dir: dir.to_path_buf(),
        timeout: 60,
        driver: driver.into(),
        ..ServeConfig::default()
    }
}

impl Daemon {
    /// Starts a daemon on `driver` with `ports` media ports, after `tweak` has adjusted
    /// its settings. `None` (with a message) where the driver is io_uring and this machine
    /// forbids it.
    pub fn start(driver: &str, ports: u16, tweak: impl FnOnce(&mut ServeConfig)) -> Option<Daemon> {
        let tmp = tempfile::tempdir().unwrap();
        let mut cfg = config(driver, free_port_block(ports), tmp.path());
        tweak(&mut cfg);
        let running = match daemon::start(cfg.clone()) {
            Ok(r) => r,
            Err(ServeError::Engine(EngineError::Io(e)))
                if matches!(
                    e.kind(),
                    io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied
                ) =>
            {
                eprintln!(
                    "SKIPPED: the {driver} driver is not available here ({e}); the test did not run"
                );
                return None;
            }
            Err(e) => panic!("daemon failed to start: {e}"),
        };
        let proxy = UdpSocket::bind("127.0.0.1:0").unwrap();
        // Connected: the kernel drops datagrams from anyone but the daemon's ng socket (a
        // relay sends RTCP to a phone's port + 1, which may be this socket's port).
        proxy.connect(running.ng_addr).unwrap();
        proxy
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Some(Daemon {
            ng: running.ng_addr,
            metrics: running.metrics_addr,
            ports: (cfg.port_min, cfg.port_max),
            dir: cfg.recording_dir.clone(),
            running: Some(running),
            _tmp: Some(tmp),
            proxy,
            cookie: AtomicU64::new(1),
        })
    }

    /// Sends one ng request over UDP and returns the reply's dictionary.
    pub fn ng(&self, body: &Value) -> Value {
        let cookie = format!("t{}", self.cookie.fetch_add(1, Ordering::Relaxed));
        let mut msg = format!("{cookie} ").into_bytes();
        body.encode(&mut msg);
        self.proxy.send(&msg).unwrap();
        let mut buf = vec![0u8; 65_536];
        loop {
            let n = self.proxy.recv(&mut buf).expect("an ng reply");
            let reply = &buf[..n];
            let space = reply.iter().position(|&b| b == b' ');
            if let Some(space) = space.filter(|&s| &reply[..s] == cookie.as_bytes()) {
                return bencode::parse(&reply[space + 1..]).unwrap();
            }
        }
    }

    /// `offer` for a call whose caller sends from `from`; returns the reply.
    pub fn offer(&self, call: &str, from: SocketAddr, extra: &[(&str, Value)]) -> Value {
        self.offer_sdp(call, &sdp(from), extra)
    }

    /// `offer` with the caller's SDP as given and `extra` keys; returns the reply.
    pub fn offer_sdp(&self, call: &str, sdp: &str, extra: &[(&str, Value)]) -> Value {
        let mut body = cmd("offer", call)
            .with("from-tag", Value::str("caller"))
            .with("sdp", Value::str(sdp));
        for (k, v) in extra {
            body = body.with(k, v.clone());
        }
        self.ng(&body)
    }

    /// `answer` for a call whose callee sends from `from`; returns the reply.
    pub fn answer(&self, call: &str, from: SocketAddr) -> Value {
        self.answer_sdp(call, &sdp(from))
    }

    /// `answer` with the callee's SDP as given; returns the reply.
    pub fn answer_sdp(&self, call: &str, sdp: &str) -> Value {
        self.ng(&cmd("answer", call)
            .with("from-tag", Value::str("caller"))
            .with("to-tag", Value::str("callee"))
            .with("sdp", Value::str(sdp)))
    }

    /// Sets up a call between two phones; returns (where the caller sends, where the
    /// callee sends).
    pub fn call(
        &self,
        call: &str,
        caller: &Phone,
        callee: &Phone,
        extra: &[(&str, Value)],
    ) -> (SocketAddr, SocketAddr) {
        let to_callee = sdp_port(ok(&self.offer(call, caller.addr(), extra)));
        let to_caller = sdp_port(ok(&self.answer(call, callee.addr())));
        (local(to_caller), local(to_callee))
    }

    /// `delete`.
    pub fn delete(&self, call: &str) -> Value {
        self.ng(&cmd("delete", call))
    }

    /// A `statistics` figure from `currentstatistics`.
    pub fn current(&self, key: &str) -> i64 {
        self.statistic("currentstatistics", key)
    }

    /// A `statistics` figure from `totalstatistics`.
    pub fn total(&self, key: &str) -> i64 {
        self.statistic("totalstatistics", key)
    }

    fn statistic(&self, section: &str, key: &str) -> i64 {
        self.ng(&Value::dict().with("command", Value::str("statistics")))
            .get("statistics")
            .and_then(|s| s.get(section))
            .and_then(|s| s.get(key))
            .and_then(Value::as_int)
            .unwrap()
    }

    /// The metrics page now.
    pub fn scrape(&self) -> String {
        let addr = self.metrics.expect("a metrics address");
        tandem_serve::metrics::read::scrape(addr, Duration::from_secs(10)).unwrap()
    }

    /// The sum of a metric's samples (see [`read::sum`]), 0 when there are none.
    ///
    /// [`read::sum`]: tandem_serve::metrics::read::sum
    pub fn metric(&self, name: &str) -> f64 {
        tandem_serve::metrics::read::sum(&self.scrape(), name).unwrap_or(0.0)
    }

    /// Stops the daemon and waits for its threads.
    pub fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop();
        }
    }
}

/// An ng request with its command and call-id.
pub fn cmd(command: &str, call: &str) -> Value {
    Value::dict()
        .with("command", Value::str(command))
        .with("call-id", Value::str(call))
}

/// The reply, checked to be `ok`.
pub fn ok(v: &Value) -> &Value {
    assert_eq!(v.get("result").and_then(Value::as_str), Some("ok"), "{v:?}");
    v
}

/// The error reason of a reply that must be an error.
pub fn error(v: &Value) -> String {
    assert_eq!(
        v.get("result").and_then(Value::as_str),
        Some("error"),
        "{v:?}"
    );
    v.get("error-reason")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A one-stream PCMU offer or answer for a party at `at`.
pub fn sdp(at: SocketAddr) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n",
        ip = at.ip(),
        port = at.port()
    )
}

/// An offer SDP with `streams` audio m-lines (each with its RTCP port) for a party at
/// 10.0.0.9, padded with an attribute of `pad` bytes.
pub fn many_streams(streams: usize, pad: usize) -> String {
    let mut s =
        String::from("v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n");
    if pad > 0 {
        let _ = write!(s, "a=x-pad:{}\r\n", "p".repeat(pad));
    }
    for k in 0..streams {
        let _ = write!(
            s,
            "m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp:{}\r\n",
            4 + 2 * k,
            5 + 2 * k
        );
    }
    s
}

/// The first audio port of a reply's SDP.
pub fn sdp_port(reply: &Value) -> u16 {
    Sdp::parse(reply.get("sdp").and_then(Value::as_str).unwrap())
        .unwrap()
        .media[0]
        .port
}

/// A port of the daemon on 127.0.0.1.
pub fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// One PCMU packet.
pub fn rtp(ssrc: u32, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    RtpHeader {
        payload_type: 0,
        sequence: seq,
        timestamp: u32::from(seq).wrapping_mul(160),
        ssrc,
        ..Default::default()
    }
    .write(&mut v, payload)
    .unwrap();
    v
}

/// A 160-byte payload that names its sender and packet: byte 0 is the sender's mark, the
/// next two the packet number.
pub fn marked(mark: u8, n: u16) -> Vec<u8> {
    let mut p = vec![mark; 160];
    p[1..3].copy_from_slice(&n.to_be_bytes());
    p
}

/// An RTP phone on 127.0.0.1.
pub struct Phone {
    pub sock: UdpSocket,
    pub ssrc: u32,
    pub seq: u16,
}

impl Phone {
    pub fn new(ssrc: u32) -> Phone {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        Phone { sock, ssrc, seq: 0 }
    }

    pub fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    /// Sends the next packet of its stream to `to`.
    pub fn send(&mut self, to: SocketAddr, payload: &[u8]) {
        let pkt = rtp(self.ssrc, self.seq, payload);
        self.seq = self.seq.wrapping_add(1);
        self.sock.send_to(&pkt, to).unwrap();
    }

    /// The PCMU payloads received until nothing came for `quiet`.
    pub fn drain(&self, quiet: Duration) -> Vec<Vec<u8>> {
        self.drain_rtp(quiet)
            .into_iter()
            .filter(|(pt, _)| *pt == 0)
            .map(|(_, payload)| payload)
            .collect()
    }

    /// (payload type, payload) of every RTP packet received until nothing came for `quiet`
    /// (RTCP ignored).
    pub fn drain_rtp(&self, quiet: Duration) -> Vec<(u8, Vec<u8>)> {
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        let mut last = Instant::now();
        while last.elapsed() < quiet {
            if let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                last = Instant::now();
                if let Ok(p) = RtpPacket::parse(&buf[..n]) {
                    if !(72..=79).contains(&p.payload_type()) {
                        got.push((p.payload_type(), p.payload().to_vec()));
                    }
                }
            }
        }
        got
    }
}

/// Descriptors this process has open.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// Waits up to `limit` for `f` to hold.
pub fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}
