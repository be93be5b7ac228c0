//! Interop with rtpengine as the far end of an SRTP leg: `tandem serve` (in-process on
//! 127.0.0.1) bridges SRTP on one side and plain RTP on the other, and rtpengine (Debian
//! `rtpengine-daemon`, started here on free ports and stopped by PID) produces and consumes
//! that SRTP with its own implementation. Both ways round:
//!
//! - rtpengine encrypts towards Tandem: phone A (plain) → rtpengine (asked for `RTP/SAVP`)
//!   → Tandem's caller leg (SRTP, `transport-protocol=RTP/AVP`) → phone B (plain);
//! - Tandem encrypts towards rtpengine: phone A (plain) → Tandem (asked for `RTP/SAVP`) →
//!   rtpengine (asked for `RTP/AVP`) → phone B (plain).
//!
//! Each time audio goes both ways and the payloads arrive bit-exact. Without rtpengine the
//! test is skipped with a message, except under CI (`CI` set), where a missing daemon fails.

#[path = "../../srtp/tests/rtpengine/mod.rs"]
mod rtpengine;
mod support;

use rtpengine::{CLIENT, DAEMON, installed, media, new_sdp, ng};
use support::srtp::{Party, reply_media, sdp_with, talk};
use support::{Daemon, cmd, local};
use tandem_serve::bencode::Value;

/// Tandem's reply to `body` (with `sdp`): its SDP, audio port and `a=crypto` values.
fn tandem(d: &Daemon, body: Value, sdp: &str) -> (String, u16, Vec<String>) {
    let r = d.ng(&body
        .with("from-tag", Value::str("a"))
        .with("sdp", Value::str(sdp)));
    let (_, port, crypto) = reply_media(&r);
    let text = r.get("sdp").and_then(Value::as_str).unwrap_or_default();
    assert!(port != 0, "{text}");
    (text.to_string(), port, crypto)
}

fn tandem_offer(d: &Daemon, call: &str, sdp: &str, proto: &str) -> (String, u16, Vec<String>) {
    let body = cmd("offer", call).with("transport-protocol", Value::str(proto));
    tandem(d, body, sdp)
}

fn tandem_answer(d: &Daemon, call: &str, sdp: &str) -> (String, u16, Vec<String>) {
    tandem(d, cmd("answer", call).with("to-tag", Value::str("b")), sdp)
}

/// rtpengine's `offer` or `answer` with `sdp`; returns its new SDP.
fn engine(port: u16, command: &str, call: &str, sdp: &str, proto: Option<&str>) -> String {
    let mut args = vec![format!("--call-id={call}"), "--from-tag=a".to_string()];
    if command == "answer" {
        args.push("--to-tag=b".into());
    }
    if let Some(p) = proto {
        args.push(format!("--protocol={p}"));
        args.push("--DTLS=off".into());
    }
    args.push(format!("--sdp={sdp}"));
    let (ok, out) = ng(port, command, &args);
    assert!(ok, "rtpengine {command}: {out}");
    new_sdp(&out)
}

/// rtpengine encrypts towards Tandem's caller leg and decrypts what Tandem sends.
fn rtpengine_as_srtp_caller(d: &Daemon, engine_port: u16) {
    let call = format!("re-caller-{}", std::process::id());
    let (mut a, mut b) = (Party::new(0xA), Party::new(0xB));
    let to_tandem = engine(
        engine_port,
        "offer",
        &call,
        &sdp_with(a.addr(), "RTP/AVP", &[]),
        Some("RTP/SAVP"),
    );
    let (_, _, offered) = media(&to_tandem);
    assert!(!offered.is_empty(), "rtpengine offers SDES: {to_tandem}");
    let (_, to_callee, crypto) = tandem_offer(d, &call, &to_tandem, "RTP/AVP");
    assert!(crypto.is_empty());
    let (answer, _, crypto) = tandem_answer(d, &call, &sdp_with(b.addr(), "RTP/AVP", &[]));
    assert_eq!(
        crypto.len(),
        1,
        "Tandem answers rtpengine with one line: {answer}"
    );
    let to_a = engine(engine_port, "answer", &call, &answer, None);
    let (engine_for_a, _, _) = media(&to_a);
    talk(&mut a, engine_for_a, &mut b, local(to_callee), 40);
}

/// Tandem encrypts towards rtpengine (as the callee) and decrypts what rtpengine sends.
fn rtpengine_as_srtp_callee(d: &Daemon, engine_port: u16) {
    let call = format!("re-callee-{}", std::process::id());
    let (mut a, mut b) = (Party::new(0xC), Party::new(0xD));
    let (to_engine, _, offered) =
        tandem_offer(d, &call, &sdp_with(a.addr(), "RTP/AVP", &[]), "RTP/SAVP");
    assert!(offered.len() > 1, "{to_engine}");
    let to_b = engine(engine_port, "offer", &call, &to_engine, Some("RTP/AVP"));
    let (engine_for_b, _, _) = media(&to_b);
    let engine_answer = engine(
        engine_port,
        "answer",
        &call,
        &sdp_with(b.addr(), "RTP/AVP", &[]),
        None,
    );
    let (_, _, picked) = media(&engine_answer);
    assert_eq!(
        picked.len(),
        1,
        "rtpengine picks one of Tandem's lines: {engine_answer}"
    );
    let (_, to_caller, crypto) = tandem_answer(d, &call, &engine_answer);
    assert!(crypto.is_empty());
    talk(&mut a, local(to_caller), &mut b, engine_for_b, 40);
}

#[test]
fn tandem_bridges_rtpengines_srtp_to_plain_rtp_both_ways() {
    if !installed(DAEMON) || !installed(CLIENT) {
        assert!(
            std::env::var_os("CI").is_none(),
            "{DAEMON} or {CLIENT} is missing: .ci/run must install rtpengine-daemon and rtpengine-utils"
        );
        eprintln!("skipped: {DAEMON} or {CLIENT} not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let re = rtpengine::Daemon::start(&dir.path().join("rtpengine.log"));
    let d = Daemon::start("mio", 16, |_| {}).expect("the mio driver runs everywhere");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rtpengine_as_srtp_caller(&d, re.ng_port);
        rtpengine_as_srtp_callee(&d, re.ng_port);
    }));
    d.stop();
    drop(re);
    if let Err(e) = result {
        let log = std::fs::read_to_string(dir.path().join("rtpengine.log")).unwrap_or_default();
        eprintln!("rtpengine's log:\n{log}");
        std::panic::resume_unwind(e);
    }
}
