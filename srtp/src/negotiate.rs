//! SDES offer/answer (RFC 4568 §7.1): each side keys the packets it sends with its own master
//! key and tells the other in its `a=crypto` line.
//!
//! As answerer, [`answer`] takes the offer's crypto lines in order, picks the first one whose
//! suite and parameters are all supported, and produces the answer's line (same tag and suite,
//! a fresh key). As offerer, [`offer`] makes the lines and [`accept_answer`] checks the
//! answer against them. Either way the result is a [`Negotiated`]: the keying for the
//! [`SendContext`](crate::SendContext) and for the [`RecvContext`](crate::RecvContext).

use std::fmt::Write as _;

use rand::CryptoRng;
use thiserror::Error;

use crate::key::{Keying, MasterKey, Mki};
use crate::sdes::{Crypto, SdesError};
use crate::suite::Suite;

/// Most `a=crypto` lines an offer may carry.
pub const MAX_OFFERED: usize = 64;

/// An offered line that was not chosen, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Position of the line among the offered ones (0-based).
    pub line: usize,
    /// Why it was not acceptable.
    pub reason: SdesError,
}

fn list(rejections: &[Rejection]) -> String {
    let mut s = String::new();
    for (i, r) in rejections.iter().enumerate() {
        let sep = if i == 0 { "" } else { "; " };
        let _ = write!(s, "{sep}line {}: {}", r.line + 1, r.reason);
    }
    s
}

/// Why SDES negotiation failed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NegotiationError {
    /// The offer has no `a=crypto` line.
    #[error("the offer has no a=crypto line")]
    NoOffer,
    /// More than [`MAX_OFFERED`] lines.
    #[error("more than {MAX_OFFERED} a=crypto lines")]
    TooManyOffers,
    /// No offered line is acceptable; each line's reason.
    #[error("no acceptable a=crypto line ({})", list(.0))]
    NoneAcceptable(Vec<Rejection>),
    /// The answer's line cannot be used.
    #[error("answer's a=crypto: {0}")]
    BadAnswer(SdesError),
    /// The answer names a tag that was not offered.
    #[error("answer's a=crypto tag {0} was not offered")]
    UnknownTag(u32),
    /// The answer changes the suite of the line it accepts.
    #[error("answer's a=crypto tag {tag} has suite {answered}, but {offered} was offered")]
    SuiteMismatch {
        /// The tag.
        tag: u32,
        /// The suite offered under it.
        offered: Suite,
        /// The suite the answer gives.
        answered: Suite,
    },
}

/// The outcome of a negotiation, on either side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// The tag of the accepted line.
    pub tag: u32,
    /// The answer's `a=crypto` line (print it with `Display`).
    pub answer: Crypto,
    /// Keying for what this side sends.
    pub send: Keying,
    /// Keying for what this side receives.
    pub receive: Keying,
}

impl Negotiated {
    /// The negotiated suite.
    pub fn suite(&self) -> Suite {
        self.send.suite()
    }
}

/// Answers an offer: `offered` are the values of its `a=crypto` lines in order. Picks the
/// first line that parses and whose suite and parameters are all supported
/// ([`Crypto::keying`]); the answer's line has the same tag and suite and a fresh master key
/// from `rng`. If the chosen line's key carries an MKI, the answer's key carries one of the
/// same length (value 1), for peers that expect MKIs both ways. Fails with every line's
/// reason when none is acceptable.
pub fn answer<'a, R: CryptoRng + ?Sized>(
    offered: impl IntoIterator<Item = &'a str>,
    rng: &mut R,
) -> Result<Negotiated, NegotiationError> {
    let mut rejections = Vec::new();
    for (line, value) in offered.into_iter().enumerate() {
        if line == MAX_OFFERED {
            return Err(NegotiationError::TooManyOffers);
        }
        let chosen = Crypto::parse(value).and_then(|c| c.keying().map(|k| (c, k)));
        let (offer, receive) = match chosen {
            Ok(x) => x,
            Err(reason) => {
                rejections.push(Rejection { line, reason });
                continue;
            }
        };
        let mki = receive
            .mki()
            .map(|m| Mki::new(1, m.len()).expect("1 fits in any MKI length"));
        let send = Keying::new(
            offer.suite,
            MasterKey::generate(offer.suite, rng),
            mki,
            None,
        )
        .expect("a generated key fits its suite");
        return Ok(Negotiated {
            tag: offer.tag,
            answer: Crypto::for_keying(offer.tag, &send),
            send,
            receive,
        });
    }
    if rejections.is_empty() {
        Err(NegotiationError::NoOffer)
    } else {
        Err(NegotiationError::NoneAcceptable(rejections))
    }
}

/// Lines offering `suites` in order of preference, tagged 1, 2, …, each with its own fresh
/// key. Keep them to check the answer with [`accept_answer`].
pub fn offer<R: CryptoRng + ?Sized>(suites: &[Suite], rng: &mut R) -> Vec<Crypto> {
    suites
        .iter()
        .zip(1..)
        .map(|(&suite, tag)| Crypto::generate(tag, suite, rng).0)
        .collect()
}

/// Checks the answer's `a=crypto` value against the lines this side offered: it must name an
/// offered tag with the same suite and be acceptable itself. Returns the keying of both
/// directions: the offered key for sending, the answer's key for receiving.
pub fn accept_answer(offered: &[Crypto], answer: &str) -> Result<Negotiated, NegotiationError> {
    let answer = Crypto::parse(answer).map_err(NegotiationError::BadAnswer)?;
    let ours = offered
        .iter()
        .find(|c| c.tag == answer.tag)
        .ok_or(NegotiationError::UnknownTag(answer.tag))?;
    if ours.suite != answer.suite {
        return Err(NegotiationError::SuiteMismatch {
            tag: answer.tag,
            offered: ours.suite,
            answered: answer.suite,
        });
    }
    let receive = answer.keying().map_err(NegotiationError::BadAnswer)?;
    let send = ours.keying().map_err(NegotiationError::BadAnswer)?;
    Ok(Negotiated {
        tag: answer.tag,
        answer,
        send,
        receive,
    })
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    const KEY: &str = "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";

    #[test]
    fn the_first_supported_line_is_answered_with_a_fresh_key() {
        let mut rng = StdRng::seed_from_u64(1);
        let lines = [
            format!("1 AEAD_AES_256_GCM {KEY}"),
            format!("2 AES_CM_128_HMAC_SHA1_80 {KEY} UNENCRYPTED_SRTP"),
            format!("3 AES_CM_128_HMAC_SHA1_32 {KEY}|1:4"),
            format!("4 AES_CM_128_HMAC_SHA1_80 {KEY}"),
        ];
        let n = answer(lines.iter().map(String::as_str), &mut rng).unwrap();
        assert_eq!(n.tag, 3);
        assert_eq!(n.suite(), Suite::AesCm128HmacSha1_32);
        assert_eq!(n.answer.tag, 3);
        assert_ne!(
            n.send.master(),
            n.receive.master(),
            "the answerer's own key"
        );
        assert_eq!(n.receive.mki(), Some(Mki::new(1, 4).unwrap()));
        assert_eq!(n.send.mki().map(|m| m.len()), Some(4));
        // The printed answer parses back to the sending keying.
        let back = Crypto::parse(&n.answer.to_string()).unwrap();
        assert_eq!(back.keying().unwrap(), n.send);
    }

    #[test]
    fn no_acceptable_line_lists_every_reason() {
        let mut rng = StdRng::seed_from_u64(2);
        let lines = [
            format!("1 F8_128_HMAC_SHA1_80 {KEY}"),
            format!("2 AES_CM_128_HMAC_SHA1_80 {KEY} FEC_ORDER=SRTP_FEC"),
            "garbage".to_string(),
        ];
        let e = answer(lines.iter().map(String::as_str), &mut rng).unwrap_err();
        let text = e.to_string();
        for part in ["F8_128_HMAC_SHA1_80", "FEC_ORDER=SRTP_FEC", "line 3"] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
        assert!(matches!(e, NegotiationError::NoneAcceptable(r) if r.len() == 3));
        assert_eq!(answer([], &mut rng), Err(NegotiationError::NoOffer));
        let many = vec!["x"; MAX_OFFERED + 1];
        assert_eq!(answer(many, &mut rng), Err(NegotiationError::TooManyOffers));
    }

    #[test]
    fn offerer_checks_the_answer() {
        let mut rng = StdRng::seed_from_u64(3);
        let offered = offer(
            &[Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32],
            &mut rng,
        );
        assert_eq!(offered.iter().map(|c| c.tag).collect::<Vec<_>>(), [1, 2]);
        let values: Vec<String> = offered.iter().map(Crypto::to_string).collect();
        // The answerer picks the first; the offerer accepts its line.
        let theirs = answer(values.iter().map(String::as_str), &mut rng).unwrap();
        let ours = accept_answer(&offered, &theirs.answer.to_string()).unwrap();
        assert_eq!(ours.send, theirs.receive);
        assert_eq!(ours.receive, theirs.send);
        // A tag or suite the offer did not have is refused.
        let (other, _) = Crypto::generate(9, Suite::AesCm128HmacSha1_80, &mut rng);
        assert_eq!(
            accept_answer(&offered, &other.to_string()),
            Err(NegotiationError::UnknownTag(9))
        );
        let (swapped, _) = Crypto::generate(1, Suite::AesCm128HmacSha1_32, &mut rng);
        assert!(matches!(
            accept_answer(&offered, &swapped.to_string()),
            Err(NegotiationError::SuiteMismatch { tag: 1, .. })
        ));
        let kdr = format!("1 AES_CM_128_HMAC_SHA1_80 {KEY} KDR=4");
        assert_eq!(
            accept_answer(&offered, &kdr),
            Err(NegotiationError::BadAnswer(SdesError::UnsupportedParam(
                "KDR=4".into()
            )))
        );
    }
}
