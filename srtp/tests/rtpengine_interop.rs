//! Interoperability with an independent SRTP implementation: rtpengine (Debian package
//! `rtpengine-daemon`), started here on 127.0.0.1 with free ports and driven with its own ng
//! client (`rtpengine-ng-client`, package `rtpengine-utils`).
//!
//! Endpoint A offers plain RTP/AVP and asks rtpengine for RTP/SAVP toward B, so rtpengine
//! encrypts toward B and gives B its `a=crypto` lines. B answers as a Tandem leg would: the
//! negotiation helper picks a line and B advertises its own key. Then, for each suite:
//!
//! - A sends plain RTP through the sequence-number wrap (with one packet held back and sent
//!   after the wrap); B unprotects what rtpengine sends and gets A's exact packets, and its
//!   rollover counter follows rtpengine's.
//! - B protects its packets (the same pattern) with the key it advertised; A receives
//!   rtpengine's decryption and gets B's exact packets.
//! - The same for one RTCP packet each way (SRTCP toward B).
//!
//! Without rtpengine the test is skipped with a message, except under CI (`CI` set), where
//! `.ci/run` installs it and a missing daemon is a failure. The daemon is stopped by PID.

mod rtpengine;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use rtpengine::{CLIENT, DAEMON, Daemon, endpoint, installed, media, new_sdp, ng};

use rand::SeedableRng;
use rand::rngs::StdRng;
use tandem_srtp::negotiate::answer;
use tandem_srtp::sdes::Crypto;
use tandem_srtp::{Keying, MasterKey, Mki, RecvContext, SendContext, Suite};

const SSRC_A: u32 = 0x0A0A_0A0A;
const SSRC_B: u32 = 0x0B0B_0B0B;

fn sdp(port: u16, proto: &str, extra: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} {proto} 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n{extra}"
    )
}

/// Sequence numbers through the wrap, 65533 held back until after it.
fn sequence() -> Vec<u16> {
    let mut s: Vec<u16> = (65_526..=65_535).filter(|&q| q != 65_533).collect();
    s.extend(0..6);
    s.push(65_533);
    s.extend(6..12);
    s
}

fn rtp(ssrc: u32, seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend((0..160).map(|i| (i as u8) ^ (seq as u8) ^ (ssrc as u8)));
    p
}

/// A receiver report from `ssrc` with no report blocks, and a BYE-free SDES CNAME.
fn rtcp(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 201, 0, 1];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[0x81, 202, 0, 3]);
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[1, 3, b'a', b'b', b'c', 0, 0, 0]);
    p
}

/// Receives datagrams on `sock` until `want` of them were taken by `take` or 3 s passed.
fn receive(sock: &UdpSocket, want: usize, mut take: impl FnMut(&mut [u8]) -> bool) -> usize {
    let deadline = Instant::now() + Duration::from_secs(3);
    let (mut got, mut buf) = (0, [0u8; 2048]);
    while got < want && Instant::now() < deadline {
        if let Ok(n) = sock.recv(&mut buf)
            && take(&mut buf[..n])
        {
            got += 1;
        }
    }
    got
}

/// One call: B answers with `suite` (and `mki` on its own key, if given).
fn call(d: &Daemon, suite: Suite, mki: Option<Mki>) {
    let call_id = format!("srtp-{}-{}-{}", suite, mki.is_some(), std::process::id());
    let (a_rtp, a_rtcp) = endpoint();
    let (b_rtp, b_rtcp) = endpoint();
    let a_port = a_rtp.local_addr().unwrap().port();
    let b_port = b_rtp.local_addr().unwrap().port();
    let tags = |to: bool| {
        let mut v = vec![format!("--call-id={call_id}"), "--from-tag=a".to_string()];
        if to {
            v.push("--to-tag=b".into());
        }
        v
    };

    let mut args = tags(false);
    args.push("--protocol=RTP/SAVP".into());
    args.push("--DTLS=off".into());
    args.push(format!("--sdp={}", sdp(a_port, "RTP/AVP", "")));
    let (ok, out) = ng(d.ng_port, "offer", &args);
    assert!(ok, "offer: {out}");
    let (to_engine_b, to_engine_b_rtcp, offered) = media(&new_sdp(&out));
    let lines: Vec<&str> = offered
        .iter()
        .map(String::as_str)
        .filter(|l| l.split_whitespace().nth(1) == Some(suite.name()))
        .collect();
    assert!(
        !lines.is_empty(),
        "rtpengine offered no {suite}: {offered:?}"
    );
    let mut rng = StdRng::seed_from_u64(u64::from(b_port));
    let mut negotiated = answer(lines, &mut rng).unwrap();
    if let Some(m) = mki {
        let k = Keying::new(suite, MasterKey::generate(suite, &mut rng), Some(m), None).unwrap();
        negotiated.answer = Crypto::for_keying(negotiated.tag, &k);
        negotiated.send = k;
    }

    let mut args = tags(true);
    args.push(format!(
        "--sdp={}",
        sdp(
            b_port,
            "RTP/SAVP",
            &format!("a=crypto:{}\r\n", negotiated.answer)
        )
    ));
    let (ok, out) = ng(d.ng_port, "answer", &args);
    assert!(ok, "answer: {out}");
    let (to_engine_a, to_engine_a_rtcp, _) = media(&new_sdp(&out));

    // A → rtpengine (plain) → B (SRTP).
    let mut rx = RecvContext::new(&negotiated.receive);
    let seqs = sequence();
    for &seq in &seqs {
        a_rtp.send_to(&rtp(SSRC_A, seq), to_engine_a).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut got = Vec::new();
    let n = receive(&b_rtp, seqs.len(), |pkt| match rx.unprotect_rtp(pkt) {
        Ok(len) => {
            got.push(pkt[..len].to_vec());
            true
        }
        Err(e) => panic!("{suite}: B cannot unprotect rtpengine's SRTP: {e}"),
    });
    assert_eq!(
        n,
        seqs.len(),
        "{suite}: B got {n} of {} packets",
        seqs.len()
    );
    let want: Vec<Vec<u8>> = seqs.iter().map(|&s| rtp(SSRC_A, s)).collect();
    assert_eq!(got, want, "{suite}: B's plaintext differs from what A sent");
    assert_eq!(rx.roc(SSRC_A), Some(1), "{suite}: B followed the wrap");

    // B (SRTP) → rtpengine → A (plain).
    let mut tx = SendContext::new(&negotiated.send);
    for &seq in &seqs {
        let mut buf = rtp(SSRC_B, seq);
        let len = buf.len();
        buf.resize(len + tx.rtp_overhead(), 0);
        let n = tx.protect_rtp(&mut buf, len).unwrap();
        b_rtp.send_to(&buf[..n], to_engine_b).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut got = Vec::new();
    let n = receive(&a_rtp, seqs.len(), |pkt| {
        got.push(pkt.to_vec());
        true
    });
    let want: Vec<Vec<u8>> = seqs.iter().map(|&s| rtp(SSRC_B, s)).collect();
    assert_eq!(
        n,
        seqs.len(),
        "{suite}: A got {n} of {} packets from B",
        seqs.len()
    );
    assert_eq!(
        got, want,
        "{suite}: A's plaintext differs from what B protected"
    );

    // RTCP: A → B as SRTCP, B → A as plain.
    a_rtcp.send_to(&rtcp(SSRC_A), to_engine_a_rtcp).unwrap();
    let n = receive(&b_rtcp, 1, |pkt| match rx.unprotect_rtcp(pkt) {
        Ok(len) => {
            assert_eq!(&pkt[..len], &rtcp(SSRC_A)[..], "{suite}: B's RTCP");
            true
        }
        Err(e) => panic!("{suite}: B cannot unprotect rtpengine's SRTCP: {e}"),
    });
    assert_eq!(n, 1, "{suite}: B got no SRTCP");
    for _ in 0..2 {
        let mut buf = rtcp(SSRC_B);
        let len = buf.len();
        buf.resize(len + tx.rtcp_overhead(), 0);
        let n = tx.protect_rtcp(&mut buf, len).unwrap();
        b_rtcp.send_to(&buf[..n], to_engine_b_rtcp).unwrap();
    }
    let n = receive(&a_rtcp, 2, |pkt| {
        assert_eq!(pkt, &rtcp(SSRC_B)[..], "{suite}: A's RTCP");
        true
    });
    assert_eq!(n, 2, "{suite}: A got {n} of 2 RTCP packets from B");

    let (ok, out) = ng(d.ng_port, "delete", &tags(false));
    assert!(ok, "delete: {out}");
}

#[test]
fn rtpengine_decrypts_ours_and_we_decrypt_rtpengines() {
    if !installed(DAEMON) || !installed(CLIENT) {
        assert!(
            std::env::var_os("CI").is_none(),
            "{DAEMON} or {CLIENT} is missing: .ci/run must install rtpengine-daemon and rtpengine-utils"
        );
        eprintln!(
            "skipped: {DAEMON} or {CLIENT} not installed (apt-get install rtpengine-daemon rtpengine-utils)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("rtpengine.log");
    let d = Daemon::start(&log);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for suite in [
            Suite::AesCm128HmacSha1_80,
            Suite::AesCm128HmacSha1_32,
            Suite::Aes192CmHmacSha1_80,
            Suite::Aes256CmHmacSha1_80,
            Suite::Aes256CmHmacSha1_32,
        ] {
            call(&d, suite, None);
        }
        call(
            &d,
            Suite::AesCm128HmacSha1_80,
            Some(Mki::new(1, 4).unwrap()),
        );
    }));
    drop(d);
    if let Err(e) = result {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        eprintln!(
            "rtpengine log (last lines, newest first):\n{}",
            tail.join("\n")
        );
        std::panic::resume_unwind(e);
    }
}
