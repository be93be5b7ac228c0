//! The ng commands against the in-memory engine: SDP rewriting, media through the legs,
//! transcoding, recording, DTMF, filters, delete.

use std::net::SocketAddr;
use std::path::PathBuf;

use tandem_codecs::g711;
use tandem_codecs::rtp::{RtpHeader, RtpPacket};
use tandem_engine::{MediaEngine, Micros};
use tandem_engine::{MemoryEngine, NetworkConditions};
use tandem_serve::bencode::Value;
use tandem_serve::calls::{Calls, CallsConfig, RequestCtx};
use tandem_serve::sdp::Sdp;

const MEDIA_IP: &str = "10.0.0.1";
const CTX: RequestCtx = RequestCtx {
    now_unix_s: 1_700_000_000,
    reply_budget: Some(65_000),
};

fn calls(dir: PathBuf) -> Calls {
    Calls::new(CallsConfig {
        timeout_s: 30,
        ..CallsConfig::new(MEDIA_IP.parse().unwrap(), dir)
    })
}

fn sdp(ip: &str, port: u16, pts: &str, extra: &str) -> String {
    let mut s = format!(
        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP {pts}\r\n"
    );
    for pt in pts.split(' ') {
        match pt {
            "0" => s.push_str("a=rtpmap:0 PCMU/8000\r\n"),
            "8" => s.push_str("a=rtpmap:8 PCMA/8000\r\n"),
            "101" => s.push_str("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"),
            _ => {}
        }
    }
    s.push_str(extra);
    s
}

fn cmd(command: &str, call: &str) -> Value {
    Value::dict()
        .with("command", Value::str(command))
        .with("call-id", Value::str(call))
}

/// The flags Kamailio's rtpengine module sends by default with an offer.
fn kamailio_offer(call: &str, body: &str) -> Value {
    cmd("offer", call)
        .with("from-tag", Value::str("alice-tag"))
        .with("sdp", Value::str(body))
        .with(
            "flags",
            Value::List(vec![Value::str("trust-address"), Value::str("symmetric")]),
        )
        .with(
            "replace",
            Value::List(vec![Value::str("origin"), Value::str("session-connection")]),
        )
        .with("ICE", Value::str("remove"))
        .with(
            "received-from",
            Value::List(vec![Value::str("IP4"), Value::str("192.0.2.1")]),
        )
}

fn ok(v: &Value) -> &Value {
    assert_eq!(v.get("result").and_then(Value::as_str), Some("ok"), "{v:?}");
    v
}

fn audio_port(body: &Value) -> (Sdp, u16) {
    let s = Sdp::parse(body.get("sdp").and_then(Value::as_str).unwrap()).unwrap();
    let port = s.media[0].port;
    (s, port)
}

fn rtp(pt: u8, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    RtpHeader {
        payload_type: pt,
        sequence: seq,
        timestamp: u32::from(seq) * 160,
        ssrc: 77,
        ..Default::default()
    }
    .write(&mut v, payload)
    .unwrap();
    v
}

struct Setup {
    eng: MemoryEngine,
    calls: Calls,
    alice: SocketAddr,
    bob: SocketAddr,
    to_alice: SocketAddr,
    to_bob: SocketAddr,
    _dir: tempfile::TempDir,
}

fn setup(alice_pts: &str, bob_pts: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mut eng = MemoryEngine::new(2, NetworkConditions::default(), 1);
    let mut calls = calls(dir.path().to_path_buf());
    let offer = kamailio_offer(
        "c1",
        &sdp(
            "192.0.2.10",
            4000,
            alice_pts,
            "a=sendrecv\r\na=candidate:1 1 UDP 1 10.9.9.9 4000 typ host\r\n",
        ),
    );
    let r = calls.handle(&mut eng, &offer, &CTX);
    let (offer_out, to_bob) = audio_port(ok(&r));
    assert_eq!(offer_out.connection(0), Some(MEDIA_IP.parse().unwrap()));
    let text = offer_out.to_string();
    assert!(
        text.contains(&format!("o=- 1 1 IN IP4 {MEDIA_IP}")),
        "replace origin: {text}"
    );
    assert!(!text.contains("candidate"), "ICE removed");
    let answer = cmd("answer", "c1")
        .with("from-tag", Value::str("alice-tag"))
        .with("to-tag", Value::str("bob-tag"))
        .with("sdp", Value::str(&sdp("192.0.2.20", 5000, bob_pts, "")));
    let r = calls.handle(&mut eng, &answer, &CTX);
    let (_, to_alice) = audio_port(ok(&r));
    assert_ne!(to_alice, to_bob);
    Setup {
        eng,
        calls,
        alice: "192.0.2.10:4000".parse().unwrap(),
        bob: "192.0.2.20:5000".parse().unwrap(),
        to_alice: format!("{MEDIA_IP}:{to_alice}").parse().unwrap(),
        to_bob: format!("{MEDIA_IP}:{to_bob}").parse().unwrap(),
        _dir: dir,
    }
}

fn received(eng: &mut MemoryEngine, at: SocketAddr) -> Vec<(u8, Vec<u8>)> {
    std::iter::from_fn(|| eng.recv(at))
        .filter(|d| d.from.port() % 2 == 0)
        .map(|d| {
            let p = RtpPacket::parse(&d.data).unwrap();
            (p.payload_type(), p.payload().to_vec())
        })
        .collect()
}

#[test]
fn offer_answer_relays_media_both_ways() {
    let mut s = setup("0 8 101", "0 101");
    for n in 0..5u16 {
        s.eng
            .send(s.alice, s.to_alice, &rtp(0, n, &[n as u8 + 1; 160]));
        s.eng
            .send(s.bob, s.to_bob, &rtp(0, n, &[n as u8 + 100; 160]));
        s.eng.advance_by(Micros::from_us(20_000));
    }
    s.eng.advance_by(Micros::from_us(20_000));
    let at_bob = received(&mut s.eng, s.bob);
    assert_eq!(at_bob.len(), 5);
    assert!(
        at_bob
            .iter()
            .enumerate()
            .all(|(n, (pt, p))| *pt == 0 && p == &vec![n as u8 + 1; 160])
    );
    let at_alice = received(&mut s.eng, s.alice);
    assert_eq!(at_alice.len(), 5);

    let q = s.calls.handle(&mut s.eng, &cmd("query", "c1"), &CTX);
    assert!(ok(&q).get("tags").and_then(|t| t.get("bob-tag")).is_some());
    let l = s.calls.handle(&mut s.eng, &cmd("list", "c1"), &CTX);
    assert_eq!(
        ok(&l)
            .get("calls")
            .and_then(Value::as_list)
            .map(<[Value]>::len),
        Some(1)
    );
    let d = s.calls.handle(&mut s.eng, &cmd("delete", "c1"), &CTX);
    ok(&d);
    assert!(s.calls.is_empty());
    let again = s.calls.handle(&mut s.eng, &cmd("delete", "c1"), &CTX);
    assert!(again.get("warning").is_some(), "gone: ok with a warning");
    // Every port is free again: the same call can be set up.
    let _ = setup("0", "0");
}

#[test]
fn a_law_against_mu_law_is_transcoded() {
    let mut s = setup("0", "8");
    let mu: Vec<u8> = (0..160).map(|i| (i * 3) as u8).collect();
    s.eng.send(s.alice, s.to_alice, &rtp(0, 1, &mu));
    s.eng.send(s.bob, s.to_bob, &rtp(8, 1, &[0xD5; 160]));
    s.eng.advance_to(Micros::from_us(40_000));
    let at_bob = received(&mut s.eng, s.bob);
    assert_eq!(at_bob[0].0, 8, "Bob gets PCMA");
    assert_eq!(
        at_bob[0].1,
        mu.iter()
            .map(|&c| g711::ulaw_to_alaw(c))
            .collect::<Vec<_>>()
    );
    let at_alice = received(&mut s.eng, s.alice);
    assert_eq!(at_alice[0].0, 0, "Alice gets PCMU");
}

#[test]
fn answer_sdp_offers_the_caller_its_own_codec() {
    let dir = tempfile::tempdir().unwrap();
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 2);
    let mut c = calls(dir.path().to_path_buf());
    ok(&c.handle(
        &mut eng,
        &kamailio_offer("c2", &sdp("192.0.2.10", 4000, "0 101", "")),
        &CTX,
    ));
    let answer = cmd("answer", "c2")
        .with("from-tag", Value::str("alice-tag"))
        .with("to-tag", Value::str("bob"))
        .with("sdp", Value::str(&sdp("192.0.2.20", 5000, "8 101", "")));
    let r = c.handle(&mut eng, &answer, &CTX);
    let (s, _) = audio_port(ok(&r));
    assert_eq!(
        s.media[0].formats,
        vec!["0", "101"],
        "the caller offered only PCMU"
    );
}

#[test]
fn recording_dtmf_and_filters() {
    let mut s = setup("0 101", "0 101");
    let start = s
        .calls
        .handle(&mut s.eng, &cmd("start recording", "c1"), &CTX);
    ok(&start);
    for n in 0..25u16 {
        s.eng.send(s.alice, s.to_alice, &rtp(0, n, &[0x20; 160]));
        s.eng.send(s.bob, s.to_bob, &rtp(0, n, &[0xA0; 160]));
        s.eng.advance_by(Micros::from_us(20_000));
    }
    ok(&s
        .calls
        .handle(&mut s.eng, &cmd("stop recording", "c1"), &CTX));
    s.eng.advance_by(Micros::from_us(40_000));
    let finished: Vec<_> = std::iter::from_fn(|| s.eng.poll_event())
        .filter_map(|e| match e {
            tandem_engine::Event::TapFinished { path, .. } => Some(path),
            _ => None,
        })
        .collect();
    assert_eq!(finished.len(), 1);
    let wav = tandem_codecs::wav::Wav::parse(&std::fs::read(&finished[0]).unwrap()).unwrap();
    assert_eq!(wav.format.channels, 2);

    // play DTMF from Alice: telephone-events arrive at Bob.
    received(&mut s.eng, s.bob);
    let dtmf = cmd("play DTMF", "c1")
        .with("from-tag", Value::str("alice-tag"))
        .with("code", Value::str("5"));
    ok(&s.calls.handle(&mut s.eng, &dtmf, &CTX));
    s.eng.advance_by(Micros::from_us(400_000));
    assert!(received(&mut s.eng, s.bob).iter().any(|(pt, _)| *pt == 101));

    // block media from Alice: Bob hears nothing; unblock: audio again.
    let directional = || Value::List(vec![Value::str("directional")]);
    let block = cmd("block media", "c1")
        .with("from-tag", Value::str("alice-tag"))
        .with("flags", directional());
    ok(&s.calls.handle(&mut s.eng, &block, &CTX));
    s.eng.send(s.alice, s.to_alice, &rtp(0, 100, &[0x20; 160]));
    s.eng.advance_by(Micros::from_us(20_000));
    assert!(received(&mut s.eng, s.bob).is_empty());
    let silence = cmd("silence media", "c1")
        .with("from-tag", Value::str("alice-tag"))
        .with("flags", directional());
    ok(&s.calls.handle(
        &mut s.eng,
        &cmd("unblock media", "c1")
            .with("from-tag", Value::str("alice-tag"))
            .with("flags", directional()),
        &CTX,
    ));
    ok(&s.calls.handle(&mut s.eng, &silence, &CTX));
    s.eng.send(s.alice, s.to_alice, &rtp(0, 101, &[0x20; 160]));
    s.eng.advance_by(Micros::from_us(20_000));
    let got = received(&mut s.eng, s.bob);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, vec![0xFF; 160], "silenced: μ-law zero");
}

#[test]
fn bad_requests_get_error_replies_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 3);
    let mut c = calls(dir.path().to_path_buf());
    for (req, why) in [
        (
            cmd("offer", "x")
                .with("from-tag", Value::str("a"))
                .with("sdp", Value::str("garbage")),
            "malformed SDP",
        ),
        (
            cmd("offer", "x")
                .with("from-tag", Value::str("a"))
                .with("sdp", Value::str(&sdp("192.0.2.1", 4000, "13", ""))),
            "comfort noise only: no codec to relay",
        ),
        (
            cmd("offer", "x").with("sdp", Value::str(&sdp("192.0.2.1", 4000, "0", ""))),
            "no from-tag",
        ),
        (
            cmd("answer", "nope")
                .with("to-tag", Value::str("b"))
                .with("sdp", Value::str(&sdp("192.0.2.1", 4000, "0", ""))),
            "unknown call",
        ),
        (cmd("frobnicate", "x"), "unknown command"),
        (Value::dict(), "no command"),
    ] {
        let r = c.handle(&mut eng, &req, &CTX);
        assert_eq!(
            r.get("result").and_then(Value::as_str),
            Some("error"),
            "{why}: {r:?}"
        );
        assert!(
            r.get("error-reason")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty()),
            "{why}"
        );
    }
    assert!(c.is_empty());
    assert_eq!(
        c.handle(&mut eng, &cmd("ping", ""), &CTX)
            .get("result")
            .and_then(Value::as_str),
        Some("pong")
    );
}

#[test]
fn non_audio_streams_are_rejected_unless_passed() {
    let dir = tempfile::tempdir().unwrap();
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 4);
    let mut c = calls(dir.path().to_path_buf());
    let body = sdp(
        "192.0.2.10",
        4000,
        "0",
        "m=video 6000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
    );
    let r = c.handle(&mut eng, &kamailio_offer("v1", &body), &CTX);
    let (s, _) = audio_port(ok(&r));
    assert_eq!(s.media[1].port, 0, "video rejected");
    let passed =
        kamailio_offer("v2", &body).with("flags", Value::List(vec![Value::str("pass-non-audio")]));
    let r = c.handle(&mut eng, &passed, &CTX);
    let (s, _) = audio_port(ok(&r));
    assert_eq!(s.media[1].port, 6000, "video passed untouched");
}
