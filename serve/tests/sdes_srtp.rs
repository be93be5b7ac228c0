//! SDES-SRTP through a real daemon on 127.0.0.1: phones that speak SRTP (with tandem-srtp)
//! or plain RTP, bridged SRTP↔RTP, RTP↔SRTP and SRTP↔SRTP. The rewritten SDP carries the
//! relay's own keys (fresh per leg and per offer), payloads cross bit-exact both ways, and
//! what does not authenticate never reaches the other party. The SDES options Tandem
//! honours are checked here; those it refuses are refused by name.

mod support;

use std::time::Duration;

use support::srtp::{Party, reply_media, sdp_with, talk};
use support::{Daemon, error, local, marked, ok, rtp};
use tandem_serve::bencode::Value;
use tandem_srtp::negotiate;
use tandem_srtp::sdes::Crypto;
use tandem_srtp::{Keying, RecvContext, SendContext, Suite};

fn start() -> Daemon {
    Daemon::start("mio", 16, |_| {}).expect("the mio driver runs everywhere")
}

fn keying(suite: Suite) -> Keying {
    Keying::generate(suite, &mut rand::rng())
}

/// The caller's offer line with its key; the answer's line must have the same tag and suite
/// and a key of the relay's.
fn relay_answer_keying(line: &str, ours: &Keying, tag: u32) -> Keying {
    let c = Crypto::parse(line).unwrap();
    assert_eq!((c.tag, c.suite), (tag, ours.suite()));
    let k = c.keying().unwrap();
    assert_ne!(
        k.master(),
        ours.master(),
        "the relay answers with a key of its own"
    );
    k
}

#[test]
fn srtp_caller_bridges_to_a_plain_rtp_callee() {
    for suite in [Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32] {
        let d = start();
        let (mut caller, mut callee) = (Party::new(0xCA11), Party::new(0xCA1E));
        let k = keying(suite);
        caller.send = Some(SendContext::new(&k));
        let line = Crypto::for_keying(1, &k).to_string();
        let r = d.offer_sdp(
            "s2p",
            &sdp_with(caller.addr(), "RTP/SAVP", &[line]),
            &[("transport-protocol", Value::str("RTP/AVP"))],
        );
        let (proto, to_callee_port, crypto) = reply_media(&r);
        assert_eq!(proto, "RTP/AVP");
        assert!(
            crypto.is_empty(),
            "no keys towards a plain callee: {crypto:?}"
        );
        let r = d.answer_sdp("s2p", &sdp_with(callee.addr(), "RTP/AVP", &[]));
        let (proto, to_caller_port, crypto) = reply_media(&r);
        assert_eq!(proto, "RTP/SAVP", "the caller keeps its protocol");
        assert_eq!(crypto.len(), 1, "{crypto:?}");
        let relay = relay_answer_keying(&crypto[0], &k, 1);
        caller.recv = Some(RecvContext::new(&relay));
        talk(
            &mut caller,
            local(to_caller_port),
            &mut callee,
            local(to_callee_port),
            30,
        );
        d.stop();
    }
}

#[test]
fn plain_caller_bridges_to_an_srtp_callee_with_transport_protocol() {
    let d = start();
    let (mut caller, mut callee) = (Party::new(1), Party::new(2));
    let r = d.offer_sdp(
        "p2s",
        &sdp_with(caller.addr(), "RTP/AVP", &[]),
        &[("transport-protocol", Value::str("RTP/SAVP"))],
    );
    let (proto, to_callee_port, offered) = reply_media(&r);
    assert_eq!(proto, "RTP/SAVP");
    let suites: Vec<Suite> = offered
        .iter()
        .map(|l| Crypto::parse(l).unwrap().suite)
        .collect();
    assert_eq!(
        suites[..2],
        [Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32]
    );
    assert_eq!(suites.len(), 6, "every AES-CM suite, 128-bit first");
    // The callee picks the 32-bit tag line and answers with its own key.
    let picked: Vec<&str> = offered
        .iter()
        .filter(|l| l.contains("AES_CM_128_HMAC_SHA1_32"))
        .map(String::as_str)
        .collect();
    let n = negotiate::answer(picked, &mut rand::rng()).unwrap();
    callee.send = Some(SendContext::new(&n.send));
    callee.recv = Some(RecvContext::new(&n.receive));
    let r = d.answer_sdp(
        "p2s",
        &sdp_with(callee.addr(), "RTP/SAVP", &[n.answer.to_string()]),
    );
    let (proto, to_caller_port, crypto) = reply_media(&r);
    assert_eq!(proto, "RTP/AVP");
    assert!(crypto.is_empty());
    talk(
        &mut caller,
        local(to_caller_port),
        &mut callee,
        local(to_callee_port),
        30,
    );
    d.stop();
}

#[test]
fn srtp_to_srtp_re_keys_each_leg_and_drops_what_does_not_authenticate() {
    let d = start();
    let (mut caller, mut callee) = (Party::new(3), Party::new(4));
    let k = keying(Suite::AesCm128HmacSha1_80);
    caller.send = Some(SendContext::new(&k));
    let line = Crypto::for_keying(7, &k).to_string();
    let r = d.offer_sdp(
        "s2s",
        &sdp_with(caller.addr(), "RTP/SAVP", std::slice::from_ref(&line)),
        &[],
    );
    let (proto, to_callee_port, offered) = reply_media(&r);
    assert_eq!(proto, "RTP/SAVP");
    assert!(
        !offered.iter().any(|l| l.contains(&line[line.len() - 40..])),
        "the caller's key never crosses"
    );
    let n = negotiate::answer(offered.iter().map(String::as_str), &mut rand::rng()).unwrap();
    assert_eq!(n.suite(), Suite::AesCm128HmacSha1_80);
    callee.send = Some(SendContext::new(&n.send));
    callee.recv = Some(RecvContext::new(&n.receive));
    let r = d.answer_sdp(
        "s2s",
        &sdp_with(callee.addr(), "RTP/SAVP", &[n.answer.to_string()]),
    );
    let (_, to_caller_port, crypto) = reply_media(&r);
    let relay = relay_answer_keying(&crypto[0], &k, 7);
    assert_ne!(
        relay.master(),
        n.receive.master(),
        "each leg has its own relay key"
    );
    caller.recv = Some(RecvContext::new(&relay));
    talk(
        &mut caller,
        local(to_caller_port),
        &mut callee,
        local(to_callee_port),
        30,
    );
    // A tampered packet, a replay and a packet under another key reach no one.
    let good = caller.send(local(to_caller_port), &marked(0xA1, 30));
    let mut bad = good.clone();
    bad[14] ^= 0x40;
    caller.sock.send_to(&bad, local(to_caller_port)).unwrap();
    caller.sock.send_to(&good, local(to_caller_port)).unwrap();
    let mut stranger = SendContext::new(&keying(Suite::AesCm128HmacSha1_80));
    let mut forged = rtp(3, 31, &marked(0xEE, 31));
    let len = forged.len();
    forged.resize(len + 10, 0);
    stranger.protect_rtp(&mut forged, len).unwrap();
    caller.sock.send_to(&forged, local(to_caller_port)).unwrap();
    let got = callee.drain(Duration::from_millis(400));
    assert_eq!(got, vec![marked(0xA1, 30)], "only the genuine packet, once");
    d.stop();
}

#[test]
fn sdes_only_and_no_narrow_the_suites_offered() {
    let d = start();
    let caller = Party::new(5);
    let plain = sdp_with(caller.addr(), "RTP/AVP", &[]);
    let savp = [("transport-protocol", Value::str("RTP/SAVP"))];
    let suites = |r: &Value| -> Vec<Suite> {
        reply_media(r)
            .2
            .iter()
            .map(|l| Crypto::parse(l).unwrap().suite)
            .collect()
    };
    let r = d.offer_sdp(
        "only",
        &plain,
        &[
            savp[0].clone(),
            (
                "SDES",
                Value::List(vec![Value::str("only-AES_CM_128_HMAC_SHA1_32")]),
            ),
        ],
    );
    assert_eq!(suites(&r), [Suite::AesCm128HmacSha1_32]);
    let r = d.offer_sdp(
        "no",
        &plain,
        &[
            savp[0].clone(),
            (
                "flags",
                Value::List(vec![
                    Value::str("SDES-no-AES_CM_128_HMAC_SHA1_80"),
                    Value::str("SDES-no-AES_256_CM_HMAC_SHA1_32"),
                ]),
            ),
        ],
    );
    let got = suites(&r);
    assert_eq!(got.len(), 4);
    assert!(!got.contains(&Suite::AesCm128HmacSha1_80));
    assert!(!got.contains(&Suite::Aes256CmHmacSha1_32));
    // `off` leaves an SRTP offer to the callee without keys: refused by name.
    let e = error(&d.offer_sdp(
        "off",
        &plain,
        &[
            savp[0].clone(),
            ("SDES", Value::List(vec![Value::str("off")])),
        ],
    ));
    assert!(e.contains("SDES") && e.contains("off"), "{e}");
    // An unknown suite name is an error naming it.
    let e = error(&d.offer_sdp(
        "bogus",
        &plain,
        &[
            savp[0].clone(),
            ("SDES", Value::List(vec![Value::str("only-ROT13")])),
        ],
    ));
    assert!(e.contains("ROT13"), "{e}");
    d.stop();
}

#[test]
fn refused_srtp_options_and_bad_keying_are_errors_naming_them() {
    let d = start();
    let caller = Party::new(6);
    let plain = sdp_with(caller.addr(), "RTP/AVP", &[]);
    let cases: [(&str, Value, &str); 6] = [
        (
            "SDES",
            Value::List(vec![Value::str("unencrypted_srtp")]),
            "unencrypted_srtp",
        ),
        (
            "SDES",
            Value::List(vec![Value::str("lifetime")]),
            "lifetime",
        ),
        ("SDES", Value::List(vec![Value::str("pad")]), "pad"),
        (
            "flags",
            Value::List(vec![Value::str("pad crypto")]),
            "pad crypto",
        ),
        ("OSRTP", Value::List(vec![Value::str("offer")]), "OSRTP"),
        (
            "transport-protocol",
            Value::str("UDP/TLS/RTP/SAVP"),
            "UDP/TLS/RTP/SAVP",
        ),
    ];
    for (k, v, name) in cases {
        let e = error(&d.offer_sdp("refused", &plain, &[(k, v)]));
        assert!(e.contains(name), "{k}: {e}");
    }
    // DTLS-SRTP media and an SRTP offer with no usable key are refused.
    let dtls = sdp_with(caller.addr(), "UDP/TLS/RTP/SAVP", &[]);
    let e = error(&d.offer_sdp("dtls", &dtls, &[]));
    assert!(e.contains("DTLS"), "{e}");
    let no_key = sdp_with(caller.addr(), "RTP/SAVP", &[]);
    let e = error(&d.offer_sdp("nokey", &no_key, &[]));
    assert!(e.contains("a=crypto"), "{e}");
    let f8 = sdp_with(
        caller.addr(),
        "RTP/SAVP",
        &["1 F8_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR".into()],
    );
    let e = error(&d.offer_sdp("f8", &f8, &[]));
    assert!(e.contains("F8_128_HMAC_SHA1_80"), "{e}");
    // An answer naming a tag that was not offered is refused.
    ok(&d.offer_sdp(
        "badtag",
        &plain,
        &[("transport-protocol", Value::str("RTP/SAVP"))],
    ));
    let k = keying(Suite::AesCm128HmacSha1_80);
    let callee = Party::new(7);
    let e = error(&d.answer_sdp(
        "badtag",
        &sdp_with(
            callee.addr(),
            "RTP/SAVP",
            &[Crypto::for_keying(99, &k).to_string()],
        ),
    ));
    assert!(e.contains("99"), "{e}");
    // A callee offered SRTP that answers plain RTP is refused.
    let e = error(&d.answer_sdp("badtag", &sdp_with(callee.addr(), "RTP/AVP", &[])));
    assert!(e.contains("RTP/AVP"), "{e}");
    d.stop();
}
