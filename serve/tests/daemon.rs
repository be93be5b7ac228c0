//! The daemon end to end: ng over UDP and TCP as a proxy sends it, RTP through the ports it
//! hands out, retransmissions, metrics, delete.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use tandem_codecs::rtp::{RtpHeader, RtpPacket};
use tandem_serve::bencode::{self, Value};
use tandem_serve::daemon;
use tandem_serve::sdp::Sdp;

fn ng(sock: &UdpSocket, to: SocketAddr, cookie: &str, body: &Value) -> Value {
    let mut msg = format!("{cookie} ").into_bytes();
    body.encode(&mut msg);
    sock.send_to(&msg, to).unwrap();
    let mut buf = vec![0u8; 65_536];
    let (n, _) = sock.recv_from(&mut buf).unwrap();
    let reply = &buf[..n];
    let space = reply.iter().position(|&b| b == b' ').unwrap();
    assert_eq!(
        &reply[..space],
        cookie.as_bytes(),
        "the reply echoes the cookie"
    );
    bencode::parse(&reply[space + 1..]).unwrap()
}

fn sdp(port: u16) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
    )
}

fn rtp(seq: u16, fill: u8) -> Vec<u8> {
    let mut v = Vec::new();
    RtpHeader {
        payload_type: 0,
        sequence: seq,
        timestamp: u32::from(seq) * 160,
        ssrc: 9,
        ..Default::default()
    }
    .write(&mut v, &[fill; 160])
    .unwrap();
    v
}

#[test]
fn a_proxy_sets_up_a_call_media_flows_and_delete_frees_it() {
    let dir = tempfile::tempdir().unwrap();
    let running = daemon::start(support::config(
        "auto",
        support::free_port_block(100),
        dir.path(),
    ))
    .unwrap();
    let ngaddr = running.ng_addr;
    let proxy = UdpSocket::bind("127.0.0.1:0").unwrap();
    proxy
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let (alice, bob) = (
        UdpSocket::bind("127.0.0.1:0").unwrap(),
        UdpSocket::bind("127.0.0.1:0").unwrap(),
    );
    for s in [&alice, &bob] {
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    }

    assert_eq!(
        ng(
            &proxy,
            ngaddr,
            "p1",
            &Value::dict().with("command", Value::str("ping"))
        )
        .get("result")
        .and_then(Value::as_str),
        Some("pong")
    );

    let offer = Value::dict()
        .with("command", Value::str("offer"))
        .with("call-id", Value::str("call-1"))
        .with("from-tag", Value::str("a"))
        .with("sdp", Value::str(&sdp(alice.local_addr().unwrap().port())))
        .with(
            "replace",
            Value::List(vec![Value::str("origin"), Value::str("session-connection")]),
        )
        .with("ICE", Value::str("remove"));
    let r1 = ng(&proxy, ngaddr, "o1", &offer);
    assert_eq!(
        r1.get("result").and_then(Value::as_str),
        Some("ok"),
        "{r1:?}"
    );
    // A retransmission (same cookie) gets the same reply and creates nothing new.
    let r1b = ng(&proxy, ngaddr, "o1", &offer);
    assert_eq!(r1, r1b);
    let to_bob = Sdp::parse(r1.get("sdp").unwrap().as_str().unwrap())
        .unwrap()
        .media[0]
        .port;

    let answer = Value::dict()
        .with("command", Value::str("answer"))
        .with("call-id", Value::str("call-1"))
        .with("from-tag", Value::str("a"))
        .with("to-tag", Value::str("b"))
        .with("sdp", Value::str(&sdp(bob.local_addr().unwrap().port())));
    let r2 = ng(&proxy, ngaddr, "a1", &answer);
    assert_eq!(
        r2.get("result").and_then(Value::as_str),
        Some("ok"),
        "{r2:?}"
    );
    let to_alice = Sdp::parse(r2.get("sdp").unwrap().as_str().unwrap())
        .unwrap()
        .media[0]
        .port;

    // Media both ways through the daemon's ports.
    let mut buf = [0u8; 2048];
    for n in 0..5u16 {
        alice
            .send_to(&rtp(n, 0x11), ("127.0.0.1", to_alice))
            .unwrap();
        bob.send_to(&rtp(n, 0x22), ("127.0.0.1", to_bob)).unwrap();
    }
    for (who, fill) in [(&bob, 0x11u8), (&alice, 0x22u8)] {
        for _ in 0..5 {
            let (len, from) = who.recv_from(&mut buf).unwrap();
            let p = RtpPacket::parse(&buf[..len]).unwrap();
            assert_eq!(p.payload(), &[fill; 160][..]);
            assert!(from.port() == to_alice || from.port() == to_bob);
        }
    }

    // TCP speaks the same protocol.
    let mut tcp = TcpStream::connect(ngaddr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut msg = b"t1 ".to_vec();
    Value::dict()
        .with("command", Value::str("list"))
        .encode(&mut msg);
    tcp.write_all(&msg).unwrap();
    let mut reply = vec![0u8; 4096];
    let n = tcp.read(&mut reply).unwrap();
    let body = bencode::parse(&reply[3..n]).unwrap();
    assert_eq!(
        body.get("calls")
            .and_then(Value::as_list)
            .map(<[Value]>::len),
        Some(1)
    );

    // Metrics show the call once statistics have been refreshed.
    std::thread::sleep(Duration::from_millis(1_300));
    let mut http = TcpStream::connect(running.metrics_addr.unwrap()).unwrap();
    http.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut text = String::new();
    http.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.0 200"), "{text}");
    assert!(text.contains("\ntandem_calls 1\n"), "{text}");
    assert!(
        text.contains("tandem_shard_datagrams_in_total{shard=\"0\"}"),
        "{text}"
    );

    let del = Value::dict()
        .with("command", Value::str("delete"))
        .with("call-id", Value::str("call-1"));
    let r3 = ng(&proxy, ngaddr, "d1", &del);
    assert_eq!(r3.get("result").and_then(Value::as_str), Some("ok"));
    // Gone: rtpengine's `ok` with a warning, or an error with `fatal`.
    let r4 = ng(&proxy, ngaddr, "d2", &del);
    assert!(r4.get("warning").is_some(), "{r4:?}");
    let fatal = del.with("flags", Value::List(vec![Value::str("fatal")]));
    let r5 = ng(&proxy, ngaddr, "d3", &fatal);
    assert_eq!(r5.get("result").and_then(Value::as_str), Some("error"));

    // Garbage gets an error reply, not silence.
    proxy.send_to(b"x1 d7:comma", ngaddr).unwrap();
    let (n, _) = proxy.recv_from(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("error"));
    running.stop();
}
