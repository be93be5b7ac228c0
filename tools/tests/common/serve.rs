//! `tandem serve` as a process for hostile tests: started on free ports (it binds port 0
//! and the test reads the addresses from its banner), spoken to over ng UDP and TCP,
//! scraped, signalled, measured from /proc, and fed RTP.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tandem_codecs::rtp::RtpHeader;
use tandem_serve::bencode::{self, Value};

use super::tandem;

/// A running `tandem serve`, killed on drop if it is still running.
pub struct Serve {
    child: Child,
    /// ng address (UDP and TCP).
    pub ng: SocketAddr,
    /// Metrics address.
    pub metrics: SocketAddr,
    /// Recording directory (removed on drop).
    pub dir: tempfile::TempDir,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// A media port range of its own for each daemon a test process starts.
fn port_range() -> (u16, u16) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let slot = (std::process::id().wrapping_mul(7).wrapping_add(n * 13)) % 36;
    let base = 50_000 + slot as u16 * 400;
    (base, base + 399)
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

impl Serve {
    /// Starts the daemon with `args` added (one shard, its own port range and recording
    /// directory, logs in `serve.log` there) and waits until it listens.
    pub fn start(args: &[&str]) -> Serve {
        Self::spawn(args, true)
    }

    /// As [`start`](Self::start), logging to stderr (see [`stderr`](Self::stderr)).
    pub fn start_logging_to_stderr(args: &[&str]) -> Serve {
        Self::spawn(args, false)
    }

    fn spawn(args: &[&str], log_file: bool) -> Serve {
        let dir = tempfile::tempdir().unwrap();
        let (lo, hi) = port_range();
        let mut cmd = tandem();
        cmd.arg("serve")
            .args([
                "--listen-ng",
                "127.0.0.1:0",
                "--listen-metrics",
                "127.0.0.1:0",
            ])
            .args(["--num-threads", "1", "--driver", "mio"])
            .args(["--port-min", &lo.to_string(), "--port-max", &hi.to_string()])
            .arg("--recording-dir")
            .arg(dir.path());
        if log_file {
            cmd.arg("--log-file").arg(dir.path().join("serve.log"));
        }
        let mut child = cmd
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = stderr.clone();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if line.contains("tandem serve: ng on") {
                    let _ = tx.send(line.clone());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let banner = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(b) => b,
            Err(_) => {
                let _ = child.kill();
                panic!("tandem serve did not start: {:?}", stderr.lock().unwrap());
            }
        };
        let ng = between(&banner, "ng on ", " ").unwrap().parse().unwrap();
        let metrics = between(&banner, "http://", "/metrics")
            .unwrap()
            .parse()
            .unwrap();
        Serve {
            child,
            ng,
            metrics,
            dir,
            stderr,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory, KiB (from /proc).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        between(&status, "VmRSS:", "kB")
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Threads of the process (from /proc).
    pub fn threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.pid()))
            .unwrap()
            .count()
    }

    /// Sends a signal (`TERM`, `INT`, `HUP`) with kill(1).
    pub fn signal(&self, name: &str) {
        let ok = std::process::Command::new("kill")
            .args(["-s", name, &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -s {name}");
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// What the daemon wrote to stderr so far.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Its log file.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("serve.log")
    }

    /// A UDP ng client for this daemon.
    pub fn ng(&self) -> Ng {
        Ng::new(self.ng)
    }

    /// The metrics page.
    pub fn scrape(&self) -> String {
        let (status, body) = http(self.metrics, "GET", "/metrics", Duration::from_secs(10));
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The sum of a metric's samples whose line starts with `name` (labels included or
    /// not), from a fresh scrape.
    pub fn metric(&self, name: &str) -> f64 {
        metric(&self.scrape(), name)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sum of the samples in `text` whose line starts with `name` (0 if there are none).
pub fn metric(text: &str, name: &str) -> f64 {
    tandem_serve::metrics::read::sum(text, name).unwrap_or(0.0)
}

/// One HTTP/1.1 request on a new connection: the status and the body.
pub fn http(to: SocketAddr, method: &str, path: &str, limit: Duration) -> (u16, String) {
    let mut s = TcpStream::connect(to).unwrap();
    s.set_read_timeout(Some(limit)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = between(&text, " ", " ").unwrap().parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    (status, body)
}

/// ng over UDP from one socket, with a fresh cookie per request.
pub struct Ng {
    /// The client's socket.
    pub sock: UdpSocket,
    to: SocketAddr,
    serial: u32,
}

impl Ng {
    /// A client of the daemon at `to`.
    pub fn new(to: SocketAddr) -> Ng {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Ng {
            sock,
            to,
            serial: 0,
        }
    }

    /// Sends `body` under `cookie` and returns the reply's body (panics without one).
    pub fn with_cookie(&self, cookie: &str, body: &Value) -> Value {
        self.sock.send_to(&message(cookie, body), self.to).unwrap();
        let mut buf = vec![0u8; 65_536];
        let (n, _) = self.sock.recv_from(&mut buf).expect("an ng reply");
        let (c, body) = split_reply(&buf[..n]);
        assert_eq!(c, cookie.as_bytes(), "the reply echoes the cookie");
        body
    }

    /// Sends `body` under a fresh cookie and returns the reply's body.
    pub fn request(&mut self, body: &Value) -> Value {
        self.serial += 1;
        let cookie = format!("t{}_{}", std::process::id(), self.serial);
        self.with_cookie(&cookie, body)
    }
}

/// `cookie body` as sent on the wire.
pub fn message(cookie: &str, body: &Value) -> Vec<u8> {
    let mut m = format!("{cookie} ").into_bytes();
    body.encode(&mut m);
    m
}

/// A reply's cookie and body.
pub fn split_reply(reply: &[u8]) -> (&[u8], Value) {
    let space = reply.iter().position(|&b| b == b' ').expect("a cookie");
    let body = bencode::parse(&reply[space + 1..]).expect("a bencoded reply");
    (&reply[..space], body)
}

/// The `result` of a reply body.
pub fn result(body: &Value) -> &str {
    body.get("result").and_then(Value::as_str).unwrap_or("")
}

/// ng over one TCP connection; replies are read through a buffer, so pipelined replies
/// are not lost.
pub struct TcpNg {
    /// The connection.
    pub conn: TcpStream,
    buf: Vec<u8>,
}

impl TcpNg {
    /// Connects to the daemon at `to` (reads time out after 10 s).
    pub fn connect(to: SocketAddr) -> TcpNg {
        let conn = TcpStream::connect(to).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        TcpNg {
            conn,
            buf: Vec::new(),
        }
    }

    /// Writes one request.
    pub fn send(&mut self, cookie: &str, body: &Value) {
        self.conn.write_all(&message(cookie, body)).unwrap();
    }

    /// Writes one request and reads its reply.
    pub fn request(&mut self, cookie: &str, body: &Value) -> Value {
        self.send(cookie, body);
        self.reply(cookie)
    }

    /// Reads the next reply, which must carry `cookie`.
    pub fn reply(&mut self, cookie: &str) -> Value {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let start = self
                .buf
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            let rest = &self.buf[start..];
            if let Some(space) = rest.iter().position(|&b| b == b' ') {
                if let Ok((v, used)) = bencode::parse_prefix(&rest[space + 1..]) {
                    assert_eq!(
                        String::from_utf8_lossy(&rest[..space]),
                        cookie,
                        "replies come in request order"
                    );
                    self.buf.drain(..start + space + 1 + used);
                    return v;
                }
            }
            let n = self.conn.read(&mut chunk).expect("a reply on TCP");
            assert!(n > 0, "connection closed before the reply to {cookie}");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Whether the daemon closed `conn` within `limit` (EOF or reset), reading and discarding
/// anything it sent first.
pub fn closed_within(conn: &mut TcpStream, limit: Duration) -> bool {
    conn.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 512];
    let until = Instant::now() + limit;
    while Instant::now() < until {
        match conn.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
    false
}

/// An SDP body with one PCMU stream at 127.0.0.1:`port`.
pub fn sdp(port: u16) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
    )
}

/// An offer from `from_tag` whose media comes from `port`.
pub fn offer(call: &str, port: u16) -> Value {
    Value::dict()
        .with("command", Value::str("offer"))
        .with("call-id", Value::str(call))
        .with("from-tag", Value::str("caller"))
        .with("sdp", Value::str(&sdp(port)))
}

/// The answer to [`offer`], media from `port`.
pub fn answer(call: &str, port: u16) -> Value {
    Value::dict()
        .with("command", Value::str("answer"))
        .with("call-id", Value::str(call))
        .with("from-tag", Value::str("caller"))
        .with("to-tag", Value::str("callee"))
        .with("sdp", Value::str(&sdp(port)))
}

/// A command on a call.
pub fn command(name: &str, call: &str) -> Value {
    Value::dict()
        .with("command", Value::str(name))
        .with("call-id", Value::str(call))
}

/// The audio port of the SDP in a reply.
pub fn sdp_port(reply: &Value) -> u16 {
    let sdp = reply.get("sdp").and_then(Value::as_str).expect("an SDP");
    let m = sdp.lines().find(|l| l.starts_with("m=audio ")).unwrap();
    m.split(' ').nth(1).unwrap().parse().unwrap()
}

/// A party's RTP stream: PCMU packets of 20 ms from its own socket.
pub struct Rtp {
    /// The socket it sends from (and media comes back to).
    pub sock: UdpSocket,
    ssrc: u32,
    seq: u16,
    ts: u32,
}

impl Rtp {
    /// A new party on 127.0.0.1.
    pub fn new(ssrc: u32) -> Rtp {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        Rtp {
            sock,
            ssrc,
            seq: 0,
            ts: 0,
        }
    }

    /// Its port (for its SDP).
    pub fn port(&self) -> u16 {
        self.sock.local_addr().unwrap().port()
    }

    /// Sends one 20 ms packet of `payload` (160 μ-law bytes) to `to`.
    pub fn send(&mut self, to: SocketAddr, payload: &[u8; 160]) {
        let mut p = Vec::with_capacity(172);
        RtpHeader {
            payload_type: 0,
            sequence: self.seq,
            timestamp: self.ts,
            ssrc: self.ssrc,
            ..Default::default()
        }
        .write(&mut p, payload)
        .unwrap();
        self.sock.send_to(&p, to).unwrap();
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(160);
    }
}

/// 20 ms of a μ-law tone at `hz` (whole cycles per frame for 400 Hz multiples).
pub fn tone_frame(hz: f64, frame: u32) -> [u8; 160] {
    let mut out = [0u8; 160];
    for (i, o) in out.iter_mut().enumerate() {
        let t = f64::from(frame * 160 + i as u32) / 8000.0;
        let s = (8000.0 * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16;
        *o = tandem_codecs::g711::linear_to_ulaw(s);
    }
    out
}
