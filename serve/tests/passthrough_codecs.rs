//! Codecs Tandem does not transcode (G.722, opus) through a real daemon on 127.0.0.1: the
//! rewritten SDP keeps them, their payloads cross bit-exact both ways when both sides
//! share them, the `codec` operations apply to them, and what needs the audio decoded
//! (recording, playback, silencing, transcoding to them) is refused by name.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use support::{Daemon, Phone, cmd, error, local, ok};
use tandem_codecs::rtp::RtpHeader;
use tandem_serve::bencode::Value;
use tandem_serve::sdp::Sdp;

fn start() -> Daemon {
    Daemon::start("mio", 64, |_| {}).expect("the mio driver runs everywhere")
}

/// A phone on 127.0.0.1 sending payload type `pt`.
struct Party {
    phone: Phone,
    pt: u8,
}

impl Party {
    fn new(ssrc: u32, pt: u8) -> Party {
        Party {
            phone: Phone::new(ssrc),
            pt,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.phone.addr()
    }

    fn send(&mut self, to: SocketAddr, payload: &[u8]) {
        let p = &mut self.phone;
        let mut v = Vec::new();
        RtpHeader {
            payload_type: self.pt,
            sequence: p.seq,
            timestamp: u32::from(p.seq).wrapping_mul(960),
            ssrc: p.ssrc,
            ..Default::default()
        }
        .write(&mut v, payload)
        .unwrap();
        p.seq = p.seq.wrapping_add(1);
        p.sock.send_to(&v, to).unwrap();
    }

    /// (payload type, payload) of every RTP packet until nothing came for `quiet`.
    fn drain(&self, quiet: Duration) -> Vec<(u8, Vec<u8>)> {
        self.phone.drain_rtp(quiet)
    }
}

/// A payload no G.711 table maps to itself, numbered: every byte value appears.
fn opaque(mark: u8, n: u16, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u16).wrapping_mul(7).wrapping_add(n * 13) as u8 ^ mark)
        .collect()
}

fn sdp(at: SocketAddr, formats: &str, attrs: &[&str]) -> String {
    let mut s = format!(
        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP {formats}\r\n",
        ip = at.ip(),
        port = at.port()
    );
    for a in attrs {
        s.push_str(&format!("a={a}\r\n"));
    }
    s.push_str("a=sendrecv\r\n");
    s
}

/// The first media of a reply's SDP: (port, formats, attribute lines).
fn media(reply: &Value) -> (u16, Vec<String>, Vec<String>) {
    let text = ok(reply).get("sdp").and_then(Value::as_str).unwrap();
    let sdp = Sdp::parse(text).unwrap();
    let m = &sdp.media[0];
    let attrs = text
        .lines()
        .skip_while(|l| !l.starts_with("m="))
        .filter(|l| l.starts_with("a="))
        .map(|l| l.trim_end().to_string())
        .collect();
    (m.port, m.formats.clone(), attrs)
}

/// `n` packets each way, checked bit-exact with each side's payload type.
fn talk(caller: &mut Party, to_caller: u16, callee: &mut Party, to_callee: u16, n: u16) {
    for k in 0..n {
        caller.send(local(to_caller), &opaque(0xA0, k, 160));
        callee.send(local(to_callee), &opaque(0x0B, k, 160));
        std::thread::sleep(Duration::from_millis(2));
    }
    let at_callee = callee.drain(Duration::from_millis(300));
    let at_caller = caller.drain(Duration::from_millis(300));
    let want =
        |mark, pt| -> Vec<(u8, Vec<u8>)> { (0..n).map(|k| (pt, opaque(mark, k, 160))).collect() };
    assert_eq!(at_callee, want(0xA0, callee.pt), "caller to callee");
    assert_eq!(at_caller, want(0x0B, caller.pt), "callee to caller");
}

#[test]
fn g722_is_kept_and_relayed_bit_exact_both_ways() {
    let d = start();
    let (mut caller, mut callee) = (Party::new(1, 9), Party::new(2, 9));
    let r = d.offer_sdp(
        "g722",
        &sdp(
            caller.addr(),
            "0 9 101",
            &["rtpmap:0 PCMU/8000", "rtpmap:101 telephone-event/8000"],
        ),
        &[],
    );
    assert!(ok(&r).get("warning").is_none(), "{r:?}");
    let (to_callee, formats, _) = media(&r);
    assert_eq!(formats, ["0", "9", "101"], "G.722 stays in the offer");
    let r = d.answer_sdp("g722", &sdp(callee.addr(), "9 101", &[]));
    let (to_caller, formats, attrs) = media(&r);
    assert_eq!(formats, ["9", "101"], "the caller is answered G.722");
    assert!(
        attrs.iter().any(|a| a == "a=rtpmap:9 G722/8000"),
        "{attrs:?}"
    );
    talk(&mut caller, to_caller, &mut callee, to_callee, 40);
    let q = ok(&d.ng(&cmd("query", "g722"))).clone();
    let codec = q
        .get("tags")
        .and_then(|t| t.get("caller"))
        .and_then(|t| t.get("medias"))
        .and_then(Value::as_list)
        .and_then(|m| m[0].get("codec"))
        .and_then(Value::as_str)
        .map(str::to_string);
    assert_eq!(codec.as_deref(), Some("G722/8000"));
    d.stop();
}

#[test]
fn a_g722_only_call_relays_and_refuses_what_needs_decoding() {
    let d = start();
    let (mut caller, mut callee) = (Party::new(3, 9), Party::new(4, 9));
    let r = d.offer_sdp("only", &sdp(caller.addr(), "9", &[]), &[]);
    let (to_callee, formats, _) = media(&r);
    assert_eq!(formats, ["9"]);
    let r = d.answer_sdp("only", &sdp(callee.addr(), "9", &[]));
    let (to_caller, _, _) = media(&r);
    talk(&mut caller, to_caller, &mut callee, to_callee, 30);
    for (command, extra) in [
        ("start recording", None),
        ("play media", Some(("file", "/nonexistent.wav"))),
        ("play DTMF", Some(("code", "5"))),
        ("silence media", None),
    ] {
        let mut body = cmd(command, "only").with("from-tag", Value::str("caller"));
        if let Some((k, v)) = extra {
            body = body.with(k, Value::str(v));
        }
        let e = error(&d.ng(&body));
        assert!(
            e.contains("needs PCMU or PCMA") && e.contains("G722/8000"),
            "{command}: {e}"
        );
    }
    // Still relaying after the refusals.
    talk(&mut caller, to_caller, &mut callee, to_callee, 10);
    // Recording or DTMF detection asked for with a G.722-only offer: refused by name.
    for (flag, name) in [("record-call", "recording"), ("detect-DTMF", "detect DTMF")] {
        let extra: Vec<(&str, Value)> = if flag == "record-call" {
            vec![("record call", Value::str("yes"))]
        } else {
            vec![("flags", Value::List(vec![Value::str("detect DTMF")]))]
        };
        let e = error(&d.offer_sdp(flag, &sdp(caller.addr(), "9", &[]), &extra));
        assert!(e.contains(name) && e.contains("G722/8000"), "{e}");
    }
    d.stop();
}

#[test]
fn opus_is_kept_with_its_parameters_and_relayed() {
    let d = start();
    let (mut caller, mut callee) = (Party::new(5, 111), Party::new(6, 111));
    let r = d.offer_sdp(
        "opus",
        &sdp(
            caller.addr(),
            "111 0",
            &[
                "rtpmap:111 opus/48000/2",
                "fmtp:111 minptime=10;useinbandfec=1",
            ],
        ),
        &[],
    );
    let (to_callee, formats, attrs) = media(&r);
    assert_eq!(formats, ["111", "0"]);
    assert!(
        attrs.iter().any(|a| a == "a=rtpmap:111 opus/48000/2"),
        "{attrs:?}"
    );
    assert!(
        attrs
            .iter()
            .any(|a| a == "a=fmtp:111 minptime=10;useinbandfec=1"),
        "{attrs:?}"
    );
    let r = d.answer_sdp(
        "opus",
        &sdp(
            callee.addr(),
            "111",
            &["rtpmap:111 opus/48000/2", "fmtp:111 useinbandfec=1"],
        ),
    );
    let (to_caller, formats, _) = media(&r);
    assert_eq!(formats, ["111"]);
    talk(&mut caller, to_caller, &mut callee, to_callee, 30);
    // Transcoding to opus is refused, naming it.
    let e = error(&d.offer_sdp(
        "to-opus",
        &sdp(caller.addr(), "0", &[]),
        &[(
            "codec",
            Value::dict().with("transcode", Value::List(vec![Value::str("opus")])),
        )],
    ));
    assert!(e.contains("opus") && e.contains("not supported"), "{e}");
    d.stop();
}

#[test]
fn codec_operations_apply_to_codecs_that_pass_through() {
    let d = start();
    let caller = Party::new(7, 9);
    let offered = sdp(
        caller.addr(),
        "0 9 111 101",
        &[
            "rtpmap:0 PCMU/8000",
            "rtpmap:111 opus/48000/2",
            "rtpmap:101 telephone-event/8000",
        ],
    );
    let list = |v: &[&str]| Value::List(v.iter().map(|s| Value::str(s)).collect());
    for (op, arg, want) in [
        ("strip", list(&["G722"]), vec!["0", "111", "101"]),
        ("mask", list(&["opus"]), vec!["0", "9", "101"]),
        (
            "offer",
            list(&["opus", "G722"]),
            vec!["111", "9", "0", "101"],
        ),
        ("except", list(&["G722"]), vec!["9", "101"]),
    ] {
        let mut codec = Value::dict().with(op, arg);
        if op == "except" {
            codec = codec.with("strip", list(&["all"]));
        }
        let call = format!("ops-{op}");
        let (_, formats, _) = media(&d.offer_sdp(&call, &offered, &[("codec", codec)]));
        assert_eq!(formats, want, "{op}");
    }
    // Recording keeps the call on G.711: the others leave the offer, named.
    let r = d.offer_sdp("rec", &offered, &[("record call", Value::str("yes"))]);
    let (_, formats, _) = media(&r);
    assert_eq!(formats, ["0", "101"]);
    let w = ok(&r)
        .get("warning")
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    assert!(w.contains("G722/8000") && w.contains("OPUS/48000/2"), "{w}");
    d.stop();
}

#[test]
fn an_answer_with_a_pass_through_codec_is_refused_when_the_audio_must_be_decoded() {
    let d = start();
    let (caller, callee) = (Party::new(8, 9), Party::new(9, 9));
    let offered = sdp(caller.addr(), "0 9", &["rtpmap:0 PCMU/8000"]);
    ok(&d.offer_sdp("silenced", &offered, &[]));
    ok(&d.ng(&cmd("silence media", "silenced").with("from-tag", Value::str("caller"))));
    let e = error(&d.answer_sdp("silenced", &sdp(callee.addr(), "9", &[])));
    assert!(
        e.contains("silence media") && e.contains("G722/8000"),
        "{e}"
    );
    // The same callee answering PCMU is fine.
    let (_, formats, _) = media(&d.answer_sdp("silenced", &sdp(callee.addr(), "0", &[])));
    assert_eq!(formats, ["0"]);
    d.stop();
}
