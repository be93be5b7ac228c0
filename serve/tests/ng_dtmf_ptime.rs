//! `ptime`, `ptime-reverse`, `repacketize` and DTMF conversion (`codec` `transcode`
//! naming telephone-event) against the in-memory engine: the rewritten SDP and the media
//! each party receives.

use std::f64::consts::TAU;
use std::net::SocketAddr;

use tandem_codecs::dtmf::{DtmfConfig, DtmfDetector};
use tandem_codecs::g711::{self, Law};
use tandem_codecs::rtp::{RtpHeader, RtpPacket};
use tandem_codecs::telephone_event::TelephoneEvent;
use tandem_codecs::tone::{amplitude_for_dbm0, dtmf_freqs};
use tandem_engine::Micros;
use tandem_engine::{MemoryEngine, NetworkConditions};
use tandem_serve::bencode::Value;
use tandem_serve::calls::{Calls, CallsConfig, RequestCtx};
use tandem_serve::sdp::Sdp;

const MEDIA_IP: &str = "10.0.0.1";
const CTX: RequestCtx = RequestCtx {
    now_unix_s: 1_700_000_000,
    reply_budget: Some(65_000),
};

fn sdp(ip: &str, port: u16, pts: &str, ptime: Option<u32>) -> String {
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
    if let Some(p) = ptime {
        s.push_str(&format!("a=ptime:{p}\r\n"));
    }
    s
}

fn cmd(command: &str, call: &str) -> Value {
    Value::dict()
        .with("command", Value::str(command))
        .with("call-id", Value::str(call))
}

fn result(v: &Value) -> Result<&Value, String> {
    match v.get("result").and_then(Value::as_str) {
        Some("ok") => Ok(v),
        _ => Err(v
            .get("error-reason")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string()),
    }
}

fn parsed(v: &Value) -> Sdp {
    Sdp::parse(v.get("sdp").and_then(Value::as_str).unwrap()).unwrap()
}

struct Call {
    eng: MemoryEngine,
    alice: SocketAddr,
    bob: SocketAddr,
    to_alice: SocketAddr,
    to_bob: SocketAddr,
    /// The offer as the callee got it, and the answer as the caller got it.
    offer_out: Sdp,
    answer_out: Sdp,
    _dir: tempfile::TempDir,
}

/// Alice offers `alice` (formats, ptime) with `keys`; Bob answers `bob`.
fn call(
    alice: (&str, Option<u32>),
    bob: (&str, Option<u32>),
    keys: &[(&str, Value)],
) -> Result<Call, String> {
    let dir = tempfile::tempdir().unwrap();
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 3);
    let mut calls = Calls::new(CallsConfig {
        timeout_s: 30,
        ..CallsConfig::new(MEDIA_IP.parse().unwrap(), dir.path().to_path_buf())
    });
    let mut offer = cmd("offer", "c1")
        .with("from-tag", Value::str("alice-tag"))
        .with(
            "sdp",
            Value::str(&sdp("192.0.2.10", 4000, alice.0, alice.1)),
        );
    for (k, v) in keys {
        offer = offer.with(k, v.clone());
    }
    let r = calls.handle(&mut eng, &offer, &CTX);
    let offer_out = parsed(result(&r)?);
    let answer = cmd("answer", "c1")
        .with("from-tag", Value::str("alice-tag"))
        .with("to-tag", Value::str("bob-tag"))
        .with("sdp", Value::str(&sdp("192.0.2.20", 5000, bob.0, bob.1)));
    let r = calls.handle(&mut eng, &answer, &CTX);
    let answer_out = parsed(result(&r)?);
    let to_bob = format!("{MEDIA_IP}:{}", offer_out.media[0].port);
    let to_alice = format!("{MEDIA_IP}:{}", answer_out.media[0].port);
    Ok(Call {
        eng,
        alice: "192.0.2.10:4000".parse().unwrap(),
        bob: "192.0.2.20:5000".parse().unwrap(),
        to_alice: to_alice.parse().unwrap(),
        to_bob: to_bob.parse().unwrap(),
        offer_out,
        answer_out,
        _dir: dir,
    })
}

/// A received RTP packet: payload type, sequence, timestamp, marker, payload.
type Got = (u8, u16, u32, bool, Vec<u8>);

fn received(eng: &mut MemoryEngine, at: SocketAddr) -> Vec<Got> {
    std::iter::from_fn(|| eng.recv(at))
        .filter(|d| d.from.port() % 2 == 0)
        .map(|d| {
            let p = RtpPacket::parse(&d.data).unwrap();
            (
                p.payload_type(),
                p.sequence(),
                p.timestamp(),
                p.marker(),
                p.payload().to_vec(),
            )
        })
        .collect()
}

fn rtp(pt: u8, seq: u16, ts: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    RtpHeader {
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc: 0x5eed,
        marker,
        ..Default::default()
    }
    .write(&mut v, payload)
    .unwrap();
    v
}

/// Sends `sig` from Alice to Bob (or Bob to Alice) in `ms` packets (PCMU); returns what
/// the other party got.
fn relay(c: &mut Call, from_alice: bool, ms: usize, sig: &[u8]) -> Vec<Got> {
    let (from, to, at) = if from_alice {
        (c.alice, c.to_alice, c.bob)
    } else {
        (c.bob, c.to_bob, c.alice)
    };
    for (n, chunk) in sig.chunks(ms * 8).enumerate() {
        let ts = 9000 + (n * ms * 8) as u32;
        c.eng
            .send(from, to, &rtp(0, 100 + n as u16, ts, n == 0, chunk));
        c.eng.advance_by(Micros::from_us(ms as u64 * 1000));
    }
    c.eng.advance_by(Micros::from_us(100_000));
    received(&mut c.eng, at)
}

fn signal(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 13 + i / 97) % 256) as u8).collect()
}

/// The packets are `ms` long, continuous in sequence and timestamp, and carry `sig`.
fn assert_reframed(got: &[Got], ms: usize, sig: &[u8]) {
    assert_eq!(got.len(), sig.len() / (ms * 8), "packet count");
    for (i, g) in got.iter().enumerate() {
        assert_eq!(g.4.len(), ms * 8, "packet {i} length");
        assert_eq!(g.1, got[0].1.wrapping_add(i as u16), "sequence");
        assert_eq!(g.2, got[0].2.wrapping_add((i * ms * 8) as u32), "timestamp");
        assert_eq!(g.3, i == 0, "marker");
    }
    let bytes: Vec<u8> = got.iter().flat_map(|g| g.4.clone()).collect();
    assert_eq!(bytes, sig);
}

fn ptime_attr(s: &Sdp) -> Option<&str> {
    s.attribute(0, "ptime")
}

#[test]
fn ptime_towards_the_callee_is_put_in_the_offer_and_the_media_reframed() {
    let mut c = call(
        ("0", Some(20)),
        ("0", Some(20)),
        &[("ptime", Value::Int(30))],
    )
    .unwrap();
    assert_eq!(ptime_attr(&c.offer_out), Some("30"));
    let sig = signal(240 * 10);
    let got = relay(&mut c, true, 20, &sig);
    assert_reframed(&got, 30, &sig);
    // The other way nothing changes: Bob's 20 ms packets reach Alice as they are.
    let back = relay(&mut c, false, 20, &sig);
    assert_reframed(&back, 20, &sig);
}

#[test]
fn ptime_reverse_is_put_in_the_answer_and_the_callee_reframed() {
    let mut c = call(
        ("0", Some(20)),
        ("0", Some(60)),
        &[("ptime-reverse", Value::Int(10))],
    )
    .unwrap();
    assert_eq!(ptime_attr(&c.answer_out), Some("10"));
    let sig = signal(480 * 4);
    let got = relay(&mut c, false, 60, &sig);
    assert_reframed(&got, 10, &sig);
}

#[test]
fn repacketize_reframes_both_directions() {
    let mut c = call(
        ("0", Some(20)),
        ("0", Some(30)),
        &[("repacketize", Value::Int(40))],
    )
    .unwrap();
    assert_eq!(ptime_attr(&c.offer_out), Some("40"));
    assert_eq!(ptime_attr(&c.answer_out), Some("40"));
    let sig = signal(960 * 5);
    let got = relay(&mut c, true, 20, &sig);
    assert_reframed(&got, 40, &sig);
    let back = relay(&mut c, false, 30, &sig);
    assert_reframed(&back, 40, &sig);
}

#[test]
fn a_re_offer_keeps_the_re_framing_or_is_refused_for_changing_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 3);
    let mut calls = Calls::new(CallsConfig::new(
        MEDIA_IP.parse().unwrap(),
        dir.path().to_path_buf(),
    ));
    let offer = |ptime: Option<i64>| {
        let o = cmd("offer", "c1")
            .with("from-tag", Value::str("alice-tag"))
            .with("sdp", Value::str(&sdp("192.0.2.10", 4000, "0", Some(20))));
        match ptime {
            Some(p) => o.with("ptime", Value::Int(p)),
            None => o,
        }
    };
    let first = parsed(result(&calls.handle(&mut eng, &offer(Some(30)), &CTX)).unwrap());
    assert_eq!(ptime_attr(&first), Some("30"));
    // Repeated, or left out: the leg still re-frames to 30 ms and the SDP says so.
    for again in [Some(30), None] {
        let r = calls.handle(&mut eng, &offer(again), &CTX);
        assert_eq!(ptime_attr(&parsed(result(&r).unwrap())), Some("30"));
    }
    let e = result(&calls.handle(&mut eng, &offer(Some(40)), &CTX)).unwrap_err();
    assert!(e.contains("ptime"), "{e}");
}

#[test]
fn a_ptime_the_engine_cannot_reframe_to_is_refused_naming_it() {
    for (key, v) in [("ptime", 80), ("ptime-reverse", 5), ("repacketize", 90)] {
        let e = call(("0", None), ("0", None), &[(key, Value::Int(v))])
            .err()
            .unwrap_or_else(|| panic!("{key} {v} accepted"));
        assert!(e.contains(&v.to_string()) || e.contains(key), "{key}: {e}");
    }
}

fn transcode_te() -> (&'static str, Value) {
    (
        "codec",
        Value::dict().with(
            "transcode",
            Value::List(vec![Value::str("telephone-event")]),
        ),
    )
}

fn event(seq: u16, ts: u32, digit: char, end: bool, duration: u16) -> Vec<u8> {
    let mut e = TelephoneEvent::from_char(digit, 10).unwrap();
    e.end = end;
    e.duration = duration;
    rtp(101, seq, ts, duration == 160, &e.to_bytes().unwrap())
}

fn detect(got: &[Got], pt: u8, law: Law) -> Vec<char> {
    let mut pcm = Vec::new();
    for g in got.iter().filter(|g| g.0 == pt) {
        let mut out = vec![0i16; g.4.len()];
        g711::decode_frame(law, &g.4, &mut out);
        pcm.extend_from_slice(&out);
    }
    DtmfDetector::new(DtmfConfig::default())
        .detect(&pcm)
        .iter()
        .map(|d| d.key)
        .collect()
}

#[test]
fn transcoded_telephone_event_reaches_a_caller_without_it_as_tones_and_back_as_events() {
    let mut c = call(("8", None), ("8 101", None), &[transcode_te()]).unwrap();
    let te = c.offer_out.media[0].formats.clone();
    assert!(
        te.iter().any(|f| f == "101"),
        "telephone-event offered: {te:?}"
    );
    assert_eq!(
        c.answer_out.media[0].formats,
        vec!["8"],
        "the caller has none"
    );
    // Bob sends '3' as RFC 4733 (100 ms); Alice hears it.
    let quiet = [0xD5u8; 160];
    let mut seq = 1u16;
    let (bob, to_bob) = (c.bob, c.to_bob);
    for n in 0..3u32 {
        c.eng
            .send(bob, to_bob, &rtp(8, seq, n * 160, n == 0, &quiet));
        seq += 1;
        c.eng.advance_by(Micros::from_us(20_000));
    }
    for k in 1..=5u16 {
        c.eng
            .send(bob, to_bob, &event(seq, 480, '3', k == 5, k * 160));
        seq += 1;
        c.eng.advance_by(Micros::from_us(20_000));
    }
    for n in 0..5u32 {
        c.eng
            .send(bob, to_bob, &rtp(8, seq, 1280 + n * 160, false, &quiet));
        seq += 1;
        c.eng.advance_by(Micros::from_us(20_000));
    }
    let at_alice = received(&mut c.eng, c.alice);
    assert!(at_alice.iter().all(|g| g.0 == 8), "no events reach Alice");
    assert_eq!(detect(&at_alice, 8, Law::Alaw), vec!['3']);

    // Alice sends '6' in-band (120 ms at -10 dBm0 a tone); Bob gets RFC 4733 events.
    let (lo, hi) = dtmf_freqs('6').unwrap();
    let a = amplitude_for_dbm0(-10.0);
    let mut pcm = vec![0i16; 800];
    pcm.extend((0..960).map(|i| {
        let t = f64::from(i) / 8000.0;
        (a * ((TAU * lo * t).sin() + (TAU * hi * t).sin())) as i16
    }));
    pcm.extend(vec![0i16; 1600]);
    let (alice, to_alice) = (c.alice, c.to_alice);
    for (n, chunk) in pcm.chunks(160).enumerate() {
        let mut coded = [0u8; 160];
        g711::encode_frame(Law::Alaw, chunk, &mut coded);
        c.eng.send(
            alice,
            to_alice,
            &rtp(8, n as u16, (n * 160) as u32, n == 0, &coded),
        );
        c.eng.advance_by(Micros::from_us(20_000));
    }
    let at_bob = received(&mut c.eng, c.bob);
    let events: Vec<TelephoneEvent> = at_bob
        .iter()
        .filter(|g| g.0 == 101)
        .map(|g| TelephoneEvent::parse(&g.4).unwrap())
        .collect();
    assert!(events.iter().all(|e| e.digit() == Some('6')), "{events:?}");
    let ends: Vec<_> = events.iter().filter(|e| e.end).collect();
    assert_eq!(ends.len(), 3, "{events:?}");
    assert!(
        u32::from(ends[0].duration).abs_diff(960) <= 320,
        "{:?}",
        ends[0]
    );
}

#[test]
fn without_transcoding_digits_are_forwarded_as_events() {
    let mut c = call(("0 101", None), ("0", None), &[]).unwrap();
    let (alice, to_alice) = (c.alice, c.to_alice);
    for k in 1..=3u16 {
        c.eng
            .send(alice, to_alice, &event(k, 0, '1', k == 3, k * 160));
        c.eng.advance_by(Micros::from_us(20_000));
    }
    let at_bob = received(&mut c.eng, c.bob);
    assert_eq!(at_bob.len(), 3);
    assert!(
        at_bob.iter().all(|g| g.0 == 101),
        "as rtpengine: events pass"
    );
}

#[test]
fn transcoded_telephone_event_becomes_tones_for_a_callee_that_answers_without_it() {
    let mut c = call(("0 101", None), ("0", None), &[transcode_te()]).unwrap();
    let (alice, to_alice) = (c.alice, c.to_alice);
    for k in 1..=6u16 {
        c.eng
            .send(alice, to_alice, &event(k, 0, '#', k == 6, k * 160));
        c.eng.advance_by(Micros::from_us(20_000));
    }
    let at_bob = received(&mut c.eng, c.bob);
    assert!(at_bob.iter().all(|g| g.0 == 0), "no events reach Bob");
    assert_eq!(detect(&at_bob, 0, Law::Ulaw), vec!['#']);
}

#[test]
fn dtmf_replacement_modes_are_refused_naming_them() {
    let e = call(
        ("0 101", None),
        ("0 101", None),
        &[("DTMF-security", Value::str("silence"))],
    );
    let msg = e.err().unwrap_or_default();
    assert!(
        msg.contains("silence") || msg.contains("DTMF-security"),
        "{msg}"
    );
}
