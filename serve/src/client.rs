//! A client of rtpengine's ng control protocol, as a SIP proxy uses it: `ping`, `offer`,
//! `answer`, `query`, `delete` and `list` over UDP, with retransmission. `tandem load --ng`
//! learns a relay's ports with it the way a proxy would.
//!
//! Framing: each UDP datagram is `<cookie> <bencoded dictionary>`, and the reply echoes the
//! cookie. A request that gets no reply within the timeout is sent again with the same
//! cookie (a relay answers a retransmission from its reply cache instead of acting twice),
//! a few times, before the relay counts as unreachable. Replies carry `result` = `ok` (or
//! `pong`), or `error` with an `error-reason`.
//!
//! Per call, [`NgClient::setup_call`] sends `offer` with endpoint A's address and port in the
//! SDP and `answer` with endpoint B's ([`NgClient::offer`] and [`NgClient::answer`] alone
//! return the address in each reply). In rtpengine's model the SDP the relay returns for the
//! offer goes to the callee, so **B sends to the port in the offer's reply**; the SDP
//! returned for the answer goes to the caller, so **A sends to the port in the answer's
//! reply**.

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::bencode::Value;
use crate::ng;
use crate::sdp::Sdp;

/// Why an ng exchange failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NgClientError {
    /// No reply after every retransmission.
    #[error("ng relay {addr} did not answer {command} ({attempts} attempts, {timeout_ms} ms each)")]
    Unreachable {
        /// The relay's ng address.
        addr: SocketAddr,
        /// The command sent.
        command: String,
        /// Attempts made.
        attempts: u32,
        /// Wait per attempt.
        timeout_ms: u128,
    },
    /// The relay answered `result: error`.
    #[error("ng relay refused {command}: {reason}")]
    Refused {
        /// The command sent.
        command: String,
        /// Its `error-reason`.
        reason: String,
    },
    /// A reply that is not an ng message or has an unexpected result.
    #[error("ng relay sent a bad reply to {command}: {why}")]
    BadReply {
        /// The command sent.
        command: String,
        /// What is wrong with it.
        why: String,
    },
    /// The reply's SDP has no audio stream with an address and port to send to.
    #[error("SDP in the reply to {command} has no usable audio address: {why}")]
    NoMedia {
        /// The command sent.
        command: String,
        /// What is missing.
        why: String,
    },
    /// A socket error.
    #[error("ng socket: {0}")]
    Io(#[from] io::Error),
}

/// The relay ports of one call set up by [`NgClient::setup_call`]: where each endpoint
/// sends (and, with symmetric RTP, receives from).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallPorts {
    /// Where endpoint A (the caller) sends: the address in the answer's reply.
    pub a_port: SocketAddr,
    /// Where endpoint B (the callee) sends: the address in the offer's reply.
    pub b_port: SocketAddr,
}

/// Clients made so far by this process, to keep their cookies apart.
static CLIENTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// An ng client bound to one relay.
pub struct NgClient {
    sock: UdpSocket,
    addr: SocketAddr,
    timeout: Duration,
    attempts: u32,
    serial: u64,
    cookie_base: String,
    buf: Vec<u8>,
}

impl NgClient {
    /// A client of the relay at `addr`: waits `timeout` for each reply, sends each request
    /// at most `attempts` times.
    pub fn new(addr: SocketAddr, timeout: Duration, attempts: u32) -> io::Result<NgClient> {
        let local: SocketAddr = match addr {
            SocketAddr::V4(_) => "0.0.0.0:0".parse().expect("valid"),
            SocketAddr::V6(_) => "[::]:0".parse().expect("valid"),
        };
        let sock = UdpSocket::bind(local)?;
        // Connected: the kernel drops datagrams from anyone but the relay.
        sock.connect(addr)?;
        Ok(NgClient {
            sock,
            addr,
            timeout,
            attempts: attempts.max(1),
            serial: 0,
            // Unique per client, not only per process: a relay answers a cookie it has seen
            // (from any client) from its reply cache.
            cookie_base: format!(
                "tl{}c{}",
                std::process::id(),
                CLIENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ),
            buf: vec![0; 65_536],
        })
    }

    /// The local address the route to the relay uses: where endpoints should bind so the
    /// SDP carries an address the relay can reach.
    pub fn local_ip(&self) -> io::Result<IpAddr> {
        Ok(self.sock.local_addr()?.ip())
    }

    /// Sends `body` (a dictionary with `command`) and returns the reply's dictionary, whose
    /// `result` is not `error`.
    pub fn request(&mut self, body: &Value) -> Result<Value, NgClientError> {
        let command = body
            .get("command")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        self.serial += 1;
        let cookie = format!("{}_{}", self.cookie_base, self.serial);
        let msg = ng::reply(cookie.as_bytes(), body);
        for _ in 0..self.attempts {
            self.sock.send(&msg)?;
            let deadline = Instant::now() + self.timeout;
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                if left.is_zero() {
                    break;
                }
                self.sock.set_read_timeout(Some(left))?;
                let n = match self.sock.recv(&mut self.buf) {
                    Ok(n) => n,
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        break;
                    }
                    // ICMP port unreachable on the connected socket: nobody listens (yet);
                    // wait out this attempt as for silence, then retransmit.
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                        std::thread::sleep(left);
                        break;
                    }
                    Err(e) => return Err(e.into()),
                };
                let reply =
                    ng::parse_datagram(&self.buf[..n]).map_err(|e| NgClientError::BadReply {
                        command: command.clone(),
                        why: e.to_string(),
                    })?;
                if reply.cookie != cookie.as_bytes() {
                    continue; // a late reply to an earlier request
                }
                return check_result(&command, reply.body);
            }
        }
        Err(NgClientError::Unreachable {
            addr: self.addr,
            command,
            attempts: self.attempts,
            timeout_ms: self.timeout.as_millis(),
        })
    }

    /// `ping`: whether the relay answers at all.
    pub fn ping(&mut self) -> Result<(), NgClientError> {
        self.request(&Value::dict().with("command", Value::str("ping")))
            .map(|_| ())
    }

    /// `offer`: the caller (tag `from_tag`) offers PCMU at `a`. Returns the address in the
    /// reply's SDP, which goes to the callee: where the callee sends.
    pub fn offer(
        &mut self,
        call_id: &str,
        from_tag: &str,
        a: SocketAddr,
    ) -> Result<SocketAddr, NgClientError> {
        self.negotiate("offer", call_id, &[("from-tag", from_tag)], a)
    }

    /// `answer`: the callee (tag `to_tag`) answers with PCMU at `b`. Returns the address in
    /// the reply's SDP, which goes to the caller: where the caller sends.
    pub fn answer(
        &mut self,
        call_id: &str,
        from_tag: &str,
        to_tag: &str,
        b: SocketAddr,
    ) -> Result<SocketAddr, NgClientError> {
        let tags = [("from-tag", from_tag), ("to-tag", to_tag)];
        self.negotiate("answer", call_id, &tags, b)
    }

    /// `command` (offer or answer) for `call_id` with `tags` and an SDP offering PCMU at
    /// `at`; returns the address in the reply's SDP.
    fn negotiate(
        &mut self,
        command: &str,
        call_id: &str,
        tags: &[(&str, &str)],
        at: SocketAddr,
    ) -> Result<SocketAddr, NgClientError> {
        let mut body = Value::dict()
            .with("command", Value::str(command))
            .with("call-id", Value::str(call_id));
        for (key, tag) in tags {
            body = body.with(key, Value::str(tag));
        }
        let body = body.with("sdp", Value::str(&pcmu_sdp(at)));
        media_address(command, &self.request(&body)?)
    }

    /// Sets up one call with endpoint `a` (the caller) and endpoint `b` (the callee), tags
    /// `<call_id>-a` and `<call_id>-b`, and returns the relay ports each must send to.
    pub fn setup_call(
        &mut self,
        call_id: &str,
        a: SocketAddr,
        b: SocketAddr,
    ) -> Result<CallPorts, NgClientError> {
        let (from_tag, to_tag) = (format!("{call_id}-a"), format!("{call_id}-b"));
        let b_port = self.offer(call_id, &from_tag, a)?;
        let a_port = self.answer(call_id, &from_tag, &to_tag, b)?;
        Ok(CallPorts { a_port, b_port })
    }

    /// `query`: the relay's RTP packet count for the call (`totals.RTP.packets`, as rtpengine
    /// and `tandem serve` report it), if the reply has one.
    pub fn query_packets(&mut self, call_id: &str) -> Result<Option<u64>, NgClientError> {
        let q = Value::dict()
            .with("command", Value::str("query"))
            .with("call-id", Value::str(call_id));
        let r = self.request(&q)?;
        Ok(r.get("totals")
            .and_then(|t| t.get("RTP"))
            .and_then(|t| t.get("packets"))
            .and_then(Value::as_int)
            .and_then(|p| u64::try_from(p).ok()))
    }

    /// `delete`: ends the call and frees its ports. Asks for no delete delay: rtpengine
    /// otherwise keeps a deleted call (and its ports) for 30 s, which the next load run would
    /// find occupied.
    pub fn delete(&mut self, call_id: &str) -> Result<(), NgClientError> {
        let d = Value::dict()
            .with("command", Value::str("delete"))
            .with("call-id", Value::str(call_id))
            .with("delete-delay", Value::Int(0));
        self.request(&d).map(|_| ())
    }

    /// `list`: the call-ids the relay holds.
    pub fn list(&mut self) -> Result<Vec<String>, NgClientError> {
        let r = self.request(&Value::dict().with("command", Value::str("list")))?;
        let bad = |why: &str| NgClientError::BadReply {
            command: "list".into(),
            why: why.into(),
        };
        r.get("calls")
            .and_then(Value::as_list)
            .ok_or_else(|| bad("no calls list"))?
            .iter()
            .map(|c| {
                c.as_str()
                    .map(String::from)
                    .ok_or_else(|| bad("a call-id that is not a string"))
            })
            .collect()
    }
}

/// `Ok(body)` unless `result` is `error` or missing.
fn check_result(command: &str, body: Value) -> Result<Value, NgClientError> {
    match body.get("result").and_then(Value::as_str) {
        Some("error") => Err(NgClientError::Refused {
            command: command.to_string(),
            reason: body
                .get("error-reason")
                .and_then(Value::as_str)
                .unwrap_or("(no error-reason)")
                .to_string(),
        }),
        Some(_) => Ok(body),
        None => Err(NgClientError::BadReply {
            command: command.to_string(),
            why: "no result".into(),
        }),
    }
}

/// An SDP offering PCMU/8000 (payload type 0) at `addr`.
pub fn pcmu_sdp(addr: SocketAddr) -> String {
    let (fam, ip) = match addr.ip() {
        IpAddr::V4(ip) => ("IP4", ip.to_string()),
        IpAddr::V6(ip) => ("IP6", ip.to_string()),
    };
    format!(
        "v=0\r\no=- 1 1 IN {fam} {ip}\r\ns=tandem load\r\nc=IN {fam} {ip}\r\nt=0 0\r\n\
         m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
        addr.port()
    )
}

/// The address of the first audio stream (with a port) in a reply's `sdp`.
pub fn media_address(command: &str, reply: &Value) -> Result<SocketAddr, NgClientError> {
    let none = |why: &str| NgClientError::NoMedia {
        command: command.to_string(),
        why: why.to_string(),
    };
    let text = reply
        .get("sdp")
        .and_then(Value::as_str)
        .ok_or_else(|| none("the reply has no sdp"))?;
    let sdp = Sdp::parse(text).map_err(|e| none(&e.to_string()))?;
    let i = sdp
        .media
        .iter()
        .position(|m| m.kind == "audio" && m.port != 0)
        .ok_or_else(|| none("no m=audio line with a non-zero port"))?;
    let ip = sdp
        .connection(i)
        .ok_or_else(|| none("no c= line for the audio stream"))?;
    if ip.is_unspecified() {
        return Err(none(&format!("c= address {ip} (on hold)")));
    }
    Ok(SocketAddr::new(ip, sdp.media[i].port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply_sdp(body: &str) -> Value {
        Value::dict()
            .with("result", Value::str("ok"))
            .with("sdp", Value::str(body))
    }

    #[test]
    fn the_port_comes_from_the_audio_stream_and_its_connection() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
                   m=video 0 RTP/AVP 96\r\nm=audio 30004 RTP/AVP 0\r\nc=IN IP4 127.0.0.7\r\n";
        assert_eq!(
            media_address("offer", &reply_sdp(sdp)).unwrap(),
            "127.0.0.7:30004".parse().unwrap()
        );
        let session_c = "v=0\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
        assert_eq!(
            media_address("offer", &reply_sdp(session_c)).unwrap(),
            "[::1]:4000".parse().unwrap()
        );
        // Our own offer parses back to the endpoint.
        let ep: SocketAddr = "127.0.0.1:5555".parse().unwrap();
        assert_eq!(media_address("x", &reply_sdp(&pcmu_sdp(ep))).unwrap(), ep);
    }

    #[test]
    fn unusable_sdp_is_a_clear_error() {
        for (sdp, why) in [
            (
                "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 0 RTP/AVP 0\r\n",
                "non-zero port",
            ),
            ("v=0\r\nm=audio 4000 RTP/AVP 0\r\n", "no c= line"),
            (
                "v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n",
                "on hold",
            ),
            (
                "v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 4000 RTP/AVP 96\r\n",
                "m=audio",
            ),
            ("not sdp", "not of the form"),
        ] {
            let e = media_address("offer", &reply_sdp(sdp)).unwrap_err();
            assert!(matches!(e, NgClientError::NoMedia { .. }), "{e}");
            assert!(e.to_string().contains(why), "{e} lacks {why:?}");
        }
        let e =
            media_address("answer", &Value::dict().with("result", Value::str("ok"))).unwrap_err();
        assert!(e.to_string().contains("no sdp"), "{e}");
    }

    /// A fake relay answering each request with `reply(request)`, counting requests.
    fn fake_relay(
        reply: impl Fn(&ng::Request, u32) -> Option<Vec<u8>> + Send + 'static,
    ) -> (SocketAddr, std::thread::JoinHandle<u32>) {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(600)))
            .unwrap();
        let addr = s.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            let mut buf = [0u8; 65_536];
            let mut n = 0;
            while let Ok((len, from)) = s.recv_from(&mut buf) {
                n += 1;
                let req = ng::parse_datagram(&buf[..len]).unwrap();
                if let Some(out) = reply(&req, n) {
                    s.send_to(&out, from).unwrap();
                }
            }
            n
        });
        (addr, h)
    }

    #[test]
    fn an_error_reply_is_refused_with_its_reason() {
        let (addr, h) =
            fake_relay(|req, _| Some(ng::reply(&req.cookie, &ng::error_reply("Unknown call-id"))));
        let mut c = NgClient::new(addr, Duration::from_millis(200), 3).unwrap();
        let e = c.delete("nope").unwrap_err();
        assert!(
            matches!(&e, NgClientError::Refused { command, reason }
                if command == "delete" && reason == "Unknown call-id"),
            "{e}"
        );
        drop(c);
        assert_eq!(h.join().unwrap(), 1, "an error reply is not retransmitted");
    }

    #[test]
    fn silence_is_retransmitted_with_the_same_cookie_then_answered() {
        let cookies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = cookies.clone();
        // Ignores the first two attempts.
        let (addr, h) = fake_relay(move |req, n| {
            seen.lock().unwrap().push(req.cookie.clone());
            (n >= 3).then(|| {
                ng::reply(
                    &req.cookie,
                    &Value::dict().with("result", Value::str("pong")),
                )
            })
        });
        let mut c = NgClient::new(addr, Duration::from_millis(100), 3).unwrap();
        c.ping().unwrap();
        drop(c);
        assert_eq!(h.join().unwrap(), 3);
        let cookies = cookies.lock().unwrap();
        assert!(cookies.iter().all(|k| *k == cookies[0]), "{cookies:?}");
    }

    #[test]
    fn two_clients_of_one_process_use_different_cookies() {
        let cookies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = cookies.clone();
        let (addr, h) = fake_relay(move |req, _| {
            seen.lock().unwrap().push(req.cookie.clone());
            Some(ng::reply(
                &req.cookie,
                &Value::dict().with("result", Value::str("pong")),
            ))
        });
        for _ in 0..2 {
            NgClient::new(addr, Duration::from_millis(500), 1)
                .unwrap()
                .ping()
                .unwrap();
        }
        h.join().unwrap();
        let cookies = cookies.lock().unwrap();
        assert_eq!(cookies.len(), 2);
        assert_ne!(
            cookies[0], cookies[1],
            "a relay's reply cache would answer the second"
        );
    }

    #[test]
    fn nobody_listening_is_unreachable_after_the_retries() {
        // A port that was just free: nobody listens on it.
        let port = UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let mut c = NgClient::new(port, Duration::from_millis(50), 3).unwrap();
        let t = Instant::now();
        let e = c.ping().unwrap_err();
        assert!(
            matches!(e, NgClientError::Unreachable { attempts: 3, .. }),
            "{e}"
        );
        assert!(
            t.elapsed() >= Duration::from_millis(100),
            "{:?}",
            t.elapsed()
        );
        assert!(e.to_string().contains(&port.to_string()));
    }

    #[test]
    fn offer_then_answer_give_each_endpoint_the_other_reply_port() {
        let (addr, h) = fake_relay(|req, _| {
            let cmd = req.body.get("command").and_then(Value::as_str).unwrap();
            let port = match cmd {
                "offer" => 40_000,
                "answer" => 40_002,
                _ => return Some(ng::reply(&req.cookie, &ng::error_reply("unexpected"))),
            };
            let sdp = pcmu_sdp(SocketAddr::from(([127, 0, 0, 1], port)));
            Some(ng::reply(&req.cookie, &reply_sdp(&sdp)))
        });
        let mut c = NgClient::new(addr, Duration::from_millis(500), 2).unwrap();
        let a: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:7002".parse().unwrap();
        let t = c.setup_call("c1", a, b).unwrap();
        // B gets the offer's reply, A the answer's.
        assert_eq!(t.b_port.port(), 40_000);
        assert_eq!(t.a_port.port(), 40_002);
        let e = c.query_packets("c1").unwrap_err();
        assert!(matches!(e, NgClientError::Refused { .. }), "{e}");
        drop(c);
        h.join().unwrap();
    }

    #[test]
    fn list_returns_the_call_ids_and_a_bad_list_is_a_bad_reply() {
        let (addr, h) = fake_relay(|req, n| {
            let ok = Value::dict().with("result", Value::str("ok"));
            let body = match n {
                1 => ok.with(
                    "calls",
                    Value::List(vec![Value::str("c1"), Value::str("c2")]),
                ),
                2 => ok.with("calls", Value::List(vec![Value::Int(7)])),
                _ => ok,
            };
            Some(ng::reply(&req.cookie, &body))
        });
        let mut c = NgClient::new(addr, Duration::from_millis(500), 2).unwrap();
        assert_eq!(c.list().unwrap(), ["c1", "c2"]);
        for _ in 0..2 {
            let e = c.list().unwrap_err();
            assert!(matches!(e, NgClientError::BadReply { .. }), "{e}");
        }
        drop(c);
        assert_eq!(h.join().unwrap(), 3);
    }
}
