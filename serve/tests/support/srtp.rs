//! SRTP for the daemon tests: SDP with a protocol and `a=crypto` lines, and a phone that
//! speaks plain RTP or SRTP (keyed with tandem-srtp).

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use tandem_codecs::rtp::looks_like_rtcp;
use tandem_serve::bencode::Value;
use tandem_serve::sdp::Sdp;
use tandem_srtp::{RecvContext, SendContext};

use super::{marked, ok, rtp};

/// A one-stream PCMU offer or answer for a party at `at` with protocol `proto` and the
/// given `a=crypto` values.
pub fn sdp_with(at: SocketAddr, proto: &str, crypto: &[String]) -> String {
    let mut s = format!(
        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} {proto} 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n",
        ip = at.ip(),
        port = at.port()
    );
    for c in crypto {
        s.push_str(&format!("a=crypto:{c}\r\n"));
    }
    s
}

/// The reply's SDP: its protocol, port and `a=crypto` values.
pub fn reply_media(reply: &Value) -> (String, u16, Vec<String>) {
    let text = ok(reply).get("sdp").and_then(Value::as_str).unwrap();
    let sdp = Sdp::parse(text).unwrap();
    let crypto = text
        .lines()
        .filter_map(|l| l.strip_prefix("a=crypto:"))
        .map(str::to_string)
        .collect();
    (sdp.media[0].proto.clone(), sdp.media[0].port, crypto)
}

/// A phone: plain RTP, or SRTP with a sending and (once known) a receiving context.
pub struct Party {
    pub sock: UdpSocket,
    pub ssrc: u32,
    pub seq: u16,
    pub send: Option<SendContext>,
    pub recv: Option<RecvContext>,
}

impl Party {
    pub fn new(ssrc: u32) -> Party {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        Party {
            sock,
            ssrc,
            seq: 0,
            send: None,
            recv: None,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    /// Sends the next packet (protected if the phone speaks SRTP); returns it as sent.
    pub fn send(&mut self, to: SocketAddr, payload: &[u8]) -> Vec<u8> {
        let mut pkt = rtp(self.ssrc, self.seq, payload);
        self.seq = self.seq.wrapping_add(1);
        if let Some(tx) = self.send.as_mut() {
            let len = pkt.len();
            pkt.resize(len + 16, 0);
            let n = tx.protect_rtp(&mut pkt, len).unwrap();
            pkt.truncate(n);
        }
        self.sock.send_to(&pkt, to).unwrap();
        pkt
    }

    /// RTP payloads received until nothing came for `quiet` (RTCP ignored), unprotected if
    /// the phone speaks SRTP; panics on a packet that does not authenticate.
    pub fn drain(&mut self, quiet: Duration) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        let mut last = Instant::now();
        while last.elapsed() < quiet {
            let Ok((n, _)) = self.sock.recv_from(&mut buf) else {
                continue;
            };
            last = Instant::now();
            if looks_like_rtcp(&buf[..n]) {
                continue;
            }
            let end = match self.recv.as_mut() {
                Some(rx) => rx.unprotect_rtp(&mut buf[..n]).expect("SRTP authenticates"),
                None => n,
            };
            got.push(buf[12..end].to_vec());
        }
        got
    }
}

/// `count` packets from `from` (sending to `to`) reach `into` bit-exact and in order.
pub fn one_way(from: &mut Party, to: SocketAddr, into: &mut Party, mark: u8, count: u16) {
    for n in 0..count {
        from.send(to, &marked(mark, n));
        if n % 10 == 9 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let got = into.drain(Duration::from_millis(600));
    assert_eq!(
        got,
        (0..count).map(|n| marked(mark, n)).collect::<Vec<_>>(),
        "payloads from {mark:#x}: every one, bit-exact, in order"
    );
}

/// `count` packets each way between `a` (sending to `to_a`) and `b` (to `to_b`).
pub fn talk(a: &mut Party, to_a: SocketAddr, b: &mut Party, to_b: SocketAddr, count: u16) {
    one_way(a, to_a, b, 0xA1, count);
    one_way(b, to_b, a, 0xB2, count);
}
