//! SDES-SRTP (RFC 4568) on a call's legs: which legs are SRTP, the keys each gets, and the
//! `a=crypto` lines the rewritten SDP carries.
//!
//! The relay terminates SRTP on each leg: it decrypts what a party sends with the key the
//! party announced and encrypts what it sends with a key of its own, fresh for every leg
//! and every offer (from the operating system's CSPRNG through `rand`'s thread generator).
//! So SRTP↔RTP and SRTP↔SRTP bridges both work, and no key crosses from one leg to the other.
//!
//! - Towards the **caller**: an offer with `RTP/SAVP`/`RTP/SAVPF` is answered with the first
//!   acceptable `a=crypto` line it carries (same tag and suite, the relay's key).
//! - Towards the **callee**: when the offer it gets is `RTP/SAVP`/`RTP/SAVPF` (the caller's,
//!   or `transport-protocol`), the relay offers one line per suite it supports (AES-CM 128,
//!   192 and 256 with 80- and 32-bit tags, 128-bit first, as most phones prefer), filtered by
//!   `SDES-no-…`/`SDES-only-…`; the callee's answer must pick one of them.

use tandem_engine::SrtpKeys;
use tandem_srtp::Suite;
use tandem_srtp::negotiate::{self, Negotiated};
use tandem_srtp::sdes::Crypto;

use crate::ng::SdesOptions;
use crate::ng::options::{Kind, refusal};
use crate::sdp::{Line, Sdp};

/// The suites offered to a callee, in order of preference.
const OFFERED: [Suite; 6] = [
    Suite::AesCm128HmacSha1_80,
    Suite::AesCm128HmacSha1_32,
    Suite::Aes192CmHmacSha1_80,
    Suite::Aes192CmHmacSha1_32,
    Suite::Aes256CmHmacSha1_80,
    Suite::Aes256CmHmacSha1_32,
];

/// Whether `proto` is SRTP keyed in the SDP (SDES).
pub(super) fn is_srtp(proto: &str) -> bool {
    matches!(
        proto.to_ascii_uppercase().as_str(),
        "RTP/SAVP" | "RTP/SAVPF"
    )
}

/// The values of media `i`'s `a=crypto` lines.
fn crypto_lines(sdp: &Sdp, i: usize) -> Vec<&str> {
    sdp.media[i]
        .lines
        .iter()
        .filter_map(Line::attribute)
        .filter(|(n, _)| *n == "crypto")
        .map(|(_, v)| v)
        .collect()
}

fn keys(n: Negotiated) -> (SrtpKeys, Crypto) {
    (
        SrtpKeys {
            inbound: n.receive,
            outbound: n.send,
        },
        n.answer,
    )
}

/// The caller side of an offer: for SRTP media `i`, the caller leg's keys and the line the
/// caller is answered with; `None` for plain RTP.
pub(super) fn answer_offer(sdp: &Sdp, i: usize) -> Result<Option<(SrtpKeys, Crypto)>, String> {
    if !is_srtp(&sdp.media[i].proto) {
        return Ok(None);
    }
    negotiate::answer(crypto_lines(sdp, i), &mut rand::rng())
        .map(|n| Some(keys(n)))
        .map_err(|e| format!("audio stream {} ({}): SDES: {e}", i + 1, sdp.media[i].proto))
}

/// The lines offered to a callee whose offer is `proto` (none for plain RTP), fresh keys
/// each.
pub(super) fn offer_lines(proto: &str, o: &SdesOptions) -> Result<Vec<Crypto>, String> {
    if !is_srtp(proto) {
        return Ok(Vec::new());
    }
    if o.off {
        return Err(refusal(
            Kind::Value("SDES"),
            "off",
            &format!("{proto} towards the callee needs SDES keys (DTLS-SRTP is not supported)"),
        ));
    }
    for name in o.no.iter().chain(&o.only) {
        if Suite::from_name(name).is_none() {
            return Err(format!(
                "SDES: unknown crypto suite '{name}' (known: {})",
                OFFERED.map(Suite::name).join(", ")
            ));
        }
    }
    let named = |list: &[String], s: Suite| list.iter().any(|n| Suite::from_name(n) == Some(s));
    let suites: Vec<Suite> = OFFERED
        .into_iter()
        .filter(|&s| o.only.is_empty() || named(&o.only, s))
        .filter(|&s| !named(&o.no, s))
        .collect();
    if suites.is_empty() {
        return Err("SDES-no/SDES-only leave no crypto suite to offer".into());
    }
    Ok(negotiate::offer(&suites, &mut rand::rng()))
}

/// The callee's answer on media `i` to the lines it was `offered`: the callee leg's keys.
pub(super) fn accept_answer(offered: &[Crypto], sdp: &Sdp, i: usize) -> Result<SrtpKeys, String> {
    let proto = &sdp.media[i].proto;
    if !is_srtp(proto) {
        return Err(format!(
            "answer stream {}: the callee was offered SRTP and answered {proto}",
            i + 1
        ));
    }
    let lines = crypto_lines(sdp, i);
    let [line] = lines[..] else {
        return Err(format!(
            "answer stream {}: an SDES answer has exactly one a=crypto line, not {}",
            i + 1,
            lines.len()
        ));
    };
    negotiate::accept_answer(offered, line)
        .map(|n| keys(n).0)
        .map_err(|e| format!("answer stream {}: SDES: {e}", i + 1))
}

/// Puts `lines` on media `i` as its `a=crypto` lines (replacing any).
pub(super) fn put_crypto(sdp: &mut Sdp, i: usize, lines: &[Crypto]) {
    sdp.remove_attribute(i, "crypto");
    for c in lines {
        sdp.media[i]
            .lines
            .push(Line::new(b'a', format!("crypto:{c}")));
    }
}
