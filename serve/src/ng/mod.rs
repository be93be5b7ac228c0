//! ng messages: `<cookie> <bencoded dictionary>`, over UDP (one per datagram) or TCP (one
//! after another on the stream); replies echo the cookie.
//!
//! Keys and flags are matched after normalising case and separators (`call-id`, `Call ID`
//! and `call_id` are the same key), because proxies and rtpengine versions spell them
//! differently. What Tandem does with each is in one table ([`options`]); [`Params`] reads
//! a request through it.

#[cfg(test)]
mod conformance;
pub mod doc;
pub mod options;
mod params;
mod table;

use thiserror::Error;

pub use params::{CodecOps, Family, Params, SdesOptions, Strictness};

use crate::bencode::{self, BencodeError, Value};

/// Why bytes are not an ng request.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum NgError {
    /// No space separating the cookie from the body.
    #[error("no cookie")]
    NoCookie,
    /// The body is not bencode.
    #[error("body is not bencode: {0}")]
    Bencode(#[from] BencodeError),
    /// The body is not a dictionary.
    #[error("body is not a dictionary")]
    NotDict,
}

/// A request: its cookie and dictionary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The cookie, echoed in the reply.
    pub cookie: Vec<u8>,
    /// The dictionary.
    pub body: Value,
}

/// Longest cookie accepted.
const MAX_COOKIE: usize = 256;

/// Parses one request from the start of `bytes`; returns it and the bytes used (the rest is
/// the next message on a TCP stream). `Ok(None)`: incomplete, read more.
pub fn parse_prefix(bytes: &[u8]) -> Result<Option<(Request, usize)>, NgError> {
    let Some(space) = bytes.iter().take(MAX_COOKIE + 1).position(|&b| b == b' ') else {
        return if bytes.len() > MAX_COOKIE {
            Err(NgError::NoCookie)
        } else {
            Ok(None)
        };
    };
    if space == 0 {
        return Err(NgError::NoCookie);
    }
    let cookie = bytes[..space].to_vec();
    let body = &bytes[space + 1..];
    match bencode::parse_prefix(body) {
        Ok((value, used)) => {
            if !matches!(value, Value::Dict(_)) {
                return Err(NgError::NotDict);
            }
            Ok(Some((
                Request {
                    cookie,
                    body: value,
                },
                space + 1 + used,
            )))
        }
        Err(BencodeError::Truncated(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Parses a whole datagram as one request (trailing whitespace tolerated).
pub fn parse_datagram(bytes: &[u8]) -> Result<Request, NgError> {
    match parse_prefix(bytes)? {
        Some((req, used)) if bytes[used..].iter().all(u8::is_ascii_whitespace) => Ok(req),
        Some(_) => Err(NgError::Bencode(BencodeError::Unexpected {
            byte: b' ',
            at: 0,
        })),
        None if bytes.contains(&b' ') => {
            Err(NgError::Bencode(BencodeError::Truncated(bytes.len())))
        }
        None => Err(NgError::NoCookie),
    }
}

/// The bytes of a reply.
pub fn reply(cookie: &[u8], body: &Value) -> Vec<u8> {
    let mut out = cookie.to_vec();
    out.push(b' ');
    body.encode(&mut out);
    out
}

/// An error reply.
pub fn error_reply(reason: &str) -> Value {
    Value::dict()
        .with("result", Value::str("error"))
        .with("error-reason", Value::str(reason))
}

/// A key or flag in canonical form: lower case, words separated by single spaces.
pub fn normalise(key: &str) -> String {
    key.trim()
        .to_ascii_lowercase()
        .replace(['-', '_'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_cookie_and_body_and_reads_kamailio_keys() {
        let msg = b"5323_1 d7:command5:offer7:call-id4:c1@x8:from-tag2:ft3:sdp3:v=05:flagsl13:trust-address9:symmetrice7:replacel6:origin18:session-connectione3:ICE6:remove18:transport-protocol7:RTP/AVP11:record call3:yes13:received-froml3:IP49:127.0.0.1ee";
        let req = parse_datagram(msg).unwrap();
        assert_eq!(req.cookie, b"5323_1");
        let p = Params::from_body(&req.body).unwrap();
        assert_eq!(p.command, "offer");
        assert_eq!(p.call_id.as_deref(), Some("c1@x"));
        assert_eq!(p.from_tag.as_deref(), Some("ft"));
        assert!(p.flag("trust address") && p.flag("symmetric"));
        assert_eq!(p.replace, vec!["origin", "session connection"]);
        assert!(p.ice_remove);
        assert_eq!(p.record_call, Some(true));
        assert_eq!(p.received_from, Some("127.0.0.1".parse().unwrap()));
        let r = reply(
            &req.cookie,
            &Value::dict().with("result", Value::str("pong")),
        );
        assert_eq!(r, b"5323_1 d6:result4:ponge".to_vec());
    }

    #[test]
    fn streams_and_errors() {
        let two = b"a d7:command4:pingeb d7:command4:pinge";
        let (r1, n) = parse_prefix(two).unwrap().unwrap();
        assert_eq!(r1.cookie, b"a");
        let (r2, m) = parse_prefix(&two[n..]).unwrap().unwrap();
        assert_eq!((r2.cookie.as_slice(), n + m), (&b"b"[..], two.len()));
        assert_eq!(
            parse_prefix(b"a d7:comma").unwrap(),
            None,
            "incomplete: read more"
        );
        assert_eq!(parse_datagram(b"nocookie"), Err(NgError::NoCookie));
        assert_eq!(parse_datagram(b"c i42e"), Err(NgError::NotDict));
        assert!(parse_datagram(b"c d7:command").is_err());
        assert!(parse_datagram(b" d4:pingi1ee").is_err());
    }
}
