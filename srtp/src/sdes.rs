//! The SDP `a=crypto` attribute of SDES (RFC 4568 §9.2):
//! `<tag> <crypto-suite> inline:<key||salt base64>[|<lifetime>][|<MKI>:<length>][;inline:…]
//! [<session-param> …]`.
//!
//! [`Crypto::parse`] is total: any text gives a [`Crypto`] or an [`SdesError`] naming what is
//! wrong, never a panic, and bounded work (lines, keys and parameters have limits). Parsing
//! accepts every syntactically valid line of a supported suite, including session parameters
//! this crate does not implement; [`Crypto::keying`] is where those are refused, by name, so
//! a caller can answer with an error instead of ignoring them.

use std::fmt;

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use rand::CryptoRng;
use thiserror::Error;
use zeroize::Zeroize;

use crate::error::KeyError;
use crate::key::{Keying, MAX_LIFETIME, MasterKey, Mki};
use crate::replay::REPLAY_WINDOW;
use crate::suite::Suite;

/// Longest attribute value accepted.
pub const MAX_LINE_LEN: usize = 4096;

/// Most keys one line may carry.
pub const MAX_KEYS: usize = 16;

/// Most session parameters one line may carry.
pub const MAX_PARAMS: usize = 16;

/// Longest text an error quotes from the input.
const QUOTE_LEN: usize = 64;

/// Base64 as RFC 4568 uses it (RFC 4648 §4), decoding with or without the `=` padding (peers
/// differ; rtpengine omits it).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why an `a=crypto` value cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SdesError {
    /// Longer than [`MAX_LINE_LEN`].
    #[error("a=crypto value of {0} bytes is longer than 4096")]
    TooLong(usize),
    /// A required field is absent.
    #[error("a=crypto has no {0}")]
    Missing(&'static str),
    /// The tag is not 1 to 9 decimal digits.
    #[error("a=crypto tag {0:?} is not 1 to 9 digits")]
    BadTag(String),
    /// A crypto suite this crate does not implement.
    #[error("unsupported crypto suite {0}")]
    UnknownSuite(String),
    /// A key method other than `inline`.
    #[error("unsupported key method {0:?}")]
    UnknownKeyMethod(String),
    /// The key and salt are not valid base64.
    #[error("inline key is not valid base64")]
    BadBase64,
    /// The key is the wrong length for the suite, or another keying value is out of range.
    #[error("inline key: {0}")]
    Key(#[from] KeyError),
    /// A lifetime that is not `2^n` or a number of packets in 1..=2^48.
    #[error("bad key lifetime {0:?}")]
    BadLifetime(String),
    /// An MKI that is not `<value>:<length>` with a length in 1..=128 bytes holding the value.
    #[error("bad MKI {0:?}")]
    BadMki(String),
    /// More than [`MAX_KEYS`] keys.
    #[error("more than {MAX_KEYS} keys on one a=crypto line")]
    TooManyKeys,
    /// More than [`MAX_PARAMS`] session parameters.
    #[error("more than {MAX_PARAMS} session parameters on one a=crypto line")]
    TooManyParams,
    /// A session parameter that is malformed (a known name with a bad value, or invisible
    /// characters).
    #[error("malformed session parameter {0:?}")]
    BadSessionParam(String),
    /// A well-formed session parameter this crate does not implement, named so it can be
    /// refused rather than ignored.
    #[error("unsupported session parameter {0}")]
    UnsupportedParam(String),
    /// More than one key on a line (key switching by MKI is not implemented).
    #[error("{0} keys on one a=crypto line; only one is supported")]
    MultipleKeys(usize),
}

/// Quotes at most [`QUOTE_LEN`] bytes of `s` (on a character boundary).
fn quote(s: &str) -> String {
    let mut end = s.len().min(QUOTE_LEN);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// One `inline:` key of a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineKey {
    /// Master key and salt.
    pub master: MasterKey,
    /// Lifetime in packets, if given.
    pub lifetime: Option<u64>,
    /// Master key identifier, if given.
    pub mki: Option<Mki>,
}

/// An SRTP session parameter (RFC 4568 §6.3).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionParam {
    /// `KDR=n`: key derivation every 2^n packets.
    Kdr(u8),
    /// `UNENCRYPTED_SRTP`.
    UnencryptedSrtp,
    /// `UNENCRYPTED_SRTCP`.
    UnencryptedSrtcp,
    /// `UNAUTHENTICATED_SRTP`.
    UnauthenticatedSrtp,
    /// `FEC_ORDER=FEC_SRTP` or `FEC_ORDER=SRTP_FEC` (the value, upper case).
    FecOrder(String),
    /// `FEC_KEY=<key-params>`.
    FecKey(String),
    /// `WSH=n`: the replay window size the sender suggests (at least 64).
    Wsh(u64),
    /// Any other parameter, as written. A leading `-` marks it optional (RFC 4568 §6.3.7).
    Extension(String),
}

impl fmt::Display for SessionParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionParam::Kdr(n) => write!(f, "KDR={n}"),
            SessionParam::UnencryptedSrtp => f.write_str("UNENCRYPTED_SRTP"),
            SessionParam::UnencryptedSrtcp => f.write_str("UNENCRYPTED_SRTCP"),
            SessionParam::UnauthenticatedSrtp => f.write_str("UNAUTHENTICATED_SRTP"),
            SessionParam::FecOrder(v) => write!(f, "FEC_ORDER={v}"),
            SessionParam::FecKey(v) => write!(f, "FEC_KEY={v}"),
            SessionParam::Wsh(n) => write!(f, "WSH={n}"),
            SessionParam::Extension(v) => f.write_str(v),
        }
    }
}

/// A parsed `a=crypto` attribute value of a supported suite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crypto {
    /// The tag (0..=999999999) an answer uses to name the line it accepts.
    pub tag: u32,
    /// The crypto suite.
    pub suite: Suite,
    /// The keys (at least one).
    pub keys: Vec<InlineKey>,
    /// Session parameters in order.
    pub params: Vec<SessionParam>,
}

fn all_digits(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_lifetime(s: &str) -> Result<u64, SdesError> {
    let bad = || SdesError::BadLifetime(quote(s));
    let n = if let Some(exp) = s.strip_prefix("2^") {
        if !all_digits(exp, 2) {
            return Err(bad());
        }
        let e: u32 = exp.parse().map_err(|_| bad())?;
        1u64.checked_shl(e).ok_or_else(bad)?
    } else {
        if !all_digits(s, 15) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())?
    };
    if !(1..=MAX_LIFETIME).contains(&n) {
        return Err(bad());
    }
    Ok(n)
}

fn parse_mki(s: &str) -> Result<Mki, SdesError> {
    let bad = || SdesError::BadMki(quote(s));
    let (value, len) = s.split_once(':').ok_or_else(bad)?;
    if !all_digits(value, 20) || !all_digits(len, 3) {
        return Err(bad());
    }
    let value: u64 = value.parse().map_err(|_| bad())?;
    let len: usize = len.parse().map_err(|_| bad())?;
    Mki::new(value, len).map_err(|_| bad())
}

fn parse_key(suite: Suite, param: &str) -> Result<InlineKey, SdesError> {
    let (method, info) = param
        .split_once(':')
        .ok_or_else(|| SdesError::UnknownKeyMethod(quote(param)))?;
    if !method.eq_ignore_ascii_case("inline") {
        return Err(SdesError::UnknownKeyMethod(quote(method)));
    }
    let mut parts = info.split('|');
    let key_salt = parts.next().unwrap_or("");
    // 46 bytes (AES-256) take 64 base64 characters with padding.
    if key_salt.len() > 64 {
        return Err(SdesError::BadBase64);
    }
    let mut raw = [0u8; 48];
    let n = BASE64
        .decode_slice(key_salt, &mut raw)
        .map_err(|_| SdesError::BadBase64)?;
    let master = MasterKey::from_key_salt(suite, &raw[..n]);
    raw.zeroize();
    let master = master?;
    let (mut lifetime, mut mki) = (None, None);
    for part in parts {
        if mki.is_some() {
            // Nothing may follow the MKI.
            return Err(SdesError::BadMki(quote(part)));
        }
        if part.contains(':') {
            mki = Some(parse_mki(part)?);
        } else if lifetime.is_none() {
            lifetime = Some(parse_lifetime(part)?);
        } else {
            return Err(SdesError::BadLifetime(quote(part)));
        }
    }
    Ok(InlineKey {
        master,
        lifetime,
        mki,
    })
}

fn parse_param(tok: &str) -> Result<SessionParam, SdesError> {
    let bad = || SdesError::BadSessionParam(quote(tok));
    if !tok.bytes().all(|b| (0x21..=0x7E).contains(&b)) {
        return Err(bad());
    }
    let (name, value) = match tok.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (tok, None),
    };
    let is = |known: &str| name.eq_ignore_ascii_case(known);
    Ok(match value {
        Some(v) if is("KDR") => {
            if !all_digits(v, 2) {
                return Err(bad());
            }
            let n: u8 = v.parse().map_err(|_| bad())?;
            if n > 24 {
                return Err(bad());
            }
            SessionParam::Kdr(n)
        }
        Some(v) if is("FEC_ORDER") => {
            if !(v.eq_ignore_ascii_case("FEC_SRTP") || v.eq_ignore_ascii_case("SRTP_FEC")) {
                return Err(bad());
            }
            SessionParam::FecOrder(v.to_ascii_uppercase())
        }
        Some(v) if is("FEC_KEY") => {
            if v.is_empty() {
                return Err(bad());
            }
            SessionParam::FecKey(v.to_string())
        }
        Some(v) if is("WSH") => {
            if !all_digits(v, 12) || v.len() < 2 {
                return Err(bad());
            }
            let n: u64 = v.parse().map_err(|_| bad())?;
            if n < 64 {
                return Err(bad());
            }
            SessionParam::Wsh(n)
        }
        None if is("UNENCRYPTED_SRTP") => SessionParam::UnencryptedSrtp,
        None if is("UNENCRYPTED_SRTCP") => SessionParam::UnencryptedSrtcp,
        None if is("UNAUTHENTICATED_SRTP") => SessionParam::UnauthenticatedSrtp,
        _ if ["KDR", "FEC_ORDER", "FEC_KEY", "WSH"].iter().any(|k| is(k))
            || [
                "UNENCRYPTED_SRTP",
                "UNENCRYPTED_SRTCP",
                "UNAUTHENTICATED_SRTP",
            ]
            .iter()
            .any(|k| is(k)) =>
        {
            return Err(bad());
        }
        _ => SessionParam::Extension(tok.to_string()),
    })
}

impl Crypto {
    /// Parses an attribute value (the text after `a=crypto:`; a trailing line end is
    /// ignored). Never panics.
    pub fn parse(value: &str) -> Result<Crypto, SdesError> {
        if value.len() > MAX_LINE_LEN {
            return Err(SdesError::TooLong(value.len()));
        }
        let value = value.trim_end_matches(['\r', '\n']);
        let mut fields = value.split([' ', '\t']).filter(|f| !f.is_empty());
        let tag = fields.next().ok_or(SdesError::Missing("tag"))?;
        if !all_digits(tag, 9) {
            return Err(SdesError::BadTag(quote(tag)));
        }
        let tag: u32 = tag.parse().map_err(|_| SdesError::BadTag(quote(tag)))?;
        let name = fields.next().ok_or(SdesError::Missing("crypto suite"))?;
        let suite = Suite::from_name(name).ok_or_else(|| SdesError::UnknownSuite(quote(name)))?;
        let key_params = fields.next().ok_or(SdesError::Missing("key parameters"))?;
        let mut keys = Vec::new();
        for param in key_params.split(';') {
            if keys.len() == MAX_KEYS {
                return Err(SdesError::TooManyKeys);
            }
            keys.push(parse_key(suite, param)?);
        }
        let mut params = Vec::new();
        for tok in fields {
            if params.len() == MAX_PARAMS {
                return Err(SdesError::TooManyParams);
            }
            params.push(parse_param(tok)?);
        }
        Ok(Crypto {
            tag,
            suite,
            keys,
            params,
        })
    }

    /// A line offering `keying` under `tag`, with no session parameters.
    pub fn for_keying(tag: u32, keying: &Keying) -> Crypto {
        Crypto {
            tag,
            suite: keying.suite(),
            keys: vec![InlineKey {
                master: keying.master().clone(),
                lifetime: keying.lifetime(),
                mki: keying.mki(),
            }],
            params: Vec::new(),
        }
    }

    /// A line for `suite` under `tag` with a fresh random key, and the keying it describes.
    pub fn generate<R: CryptoRng + ?Sized>(
        tag: u32,
        suite: Suite,
        rng: &mut R,
    ) -> (Crypto, Keying) {
        let keying = Keying::generate(suite, rng);
        (Crypto::for_keying(tag, &keying), keying)
    }

    /// Checks that everything the line asks for is implemented: a single key, and no session
    /// parameters other than a `WSH` this crate's replay window already meets and optional
    /// (`-` prefixed) extensions, which RFC 4568 §6.3.7 lets a receiver ignore. Anything else
    /// is refused by name: `KDR` (RFC 4568 gives it as an exponent, so every value asks for
    /// re-keying during the stream), `UNENCRYPTED_SRTP`, `UNENCRYPTED_SRTCP`,
    /// `UNAUTHENTICATED_SRTP`, `FEC_ORDER`, `FEC_KEY`, a larger `WSH`, and mandatory
    /// extensions.
    pub fn check_supported(&self) -> Result<(), SdesError> {
        if self.keys.len() != 1 {
            return Err(SdesError::MultipleKeys(self.keys.len()));
        }
        for p in &self.params {
            let ok = match p {
                SessionParam::Wsh(n) => *n <= REPLAY_WINDOW,
                SessionParam::Extension(e) => e.starts_with('-'),
                _ => false,
            };
            if !ok {
                return Err(SdesError::UnsupportedParam(quote(&p.to_string())));
            }
        }
        Ok(())
    }

    /// The keying of the stream this line describes (the packets its sender will send), after
    /// [`check_supported`](Self::check_supported).
    pub fn keying(&self) -> Result<Keying, SdesError> {
        self.check_supported()?;
        let k = &self.keys[0];
        Ok(Keying::new(
            self.suite,
            k.master.clone(),
            k.mki,
            k.lifetime,
        )?)
    }
}

fn write_lifetime(f: &mut fmt::Formatter<'_>, n: u64) -> fmt::Result {
    if n.is_power_of_two() {
        write!(f, "|2^{}", n.trailing_zeros())
    } else {
        write!(f, "|{n}")
    }
}

impl fmt::Display for Crypto {
    /// The attribute value, with padded base64 keys and canonical upper-case names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.tag, self.suite)?;
        for (i, k) in self.keys.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            let mut b64 = STANDARD.encode(k.master.key_salt());
            write!(f, "inline:{b64}")?;
            b64.zeroize();
            if let Some(n) = k.lifetime {
                write_lifetime(f, n)?;
            }
            if let Some(m) = k.mki {
                write!(f, "|{}:{}", m.value(), m.len())?;
            }
        }
        for p in &self.params {
            write!(f, " {p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4568 §4's example line.
    const RFC_EXAMPLE: &str =
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32";

    #[test]
    fn parses_the_rfc_example() {
        let c = Crypto::parse(RFC_EXAMPLE).unwrap();
        assert_eq!(c.tag, 1);
        assert_eq!(c.suite, Suite::AesCm128HmacSha1_80);
        assert_eq!(c.keys.len(), 1);
        assert_eq!(c.keys[0].lifetime, Some(1 << 20));
        assert_eq!(c.keys[0].mki, Some(Mki::new(1, 32).unwrap()));
        assert_eq!(
            c.keys[0].master.key_salt(),
            STANDARD
                .decode("PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR")
                .unwrap()
        );
        assert_eq!(c.to_string(), RFC_EXAMPLE);
        let k = c.keying().unwrap();
        assert_eq!(k.lifetime(), Some(1 << 20));
    }

    #[test]
    fn unpadded_aes256_keys_as_rtpengine_writes_them() {
        // From rtpengine 10.5's offer: 46 bytes in 62 characters, no '=' padding.
        let c = Crypto::parse(
            "3 AES_256_CM_HMAC_SHA1_80 inline:JWX3wh0yPnSplyv0b64HrSITLoqzj8xdoFTVVircXwN/a/NMddMLoukBJyJSHQ",
        )
        .unwrap();
        assert_eq!(c.suite, Suite::Aes256CmHmacSha1_80);
        assert_eq!(c.keys[0].master.key().len(), 32);
        let again = Crypto::parse(&c.to_string()).unwrap();
        assert_eq!(again, c);
        assert!(c.to_string().ends_with("=="));
    }

    #[test]
    fn typed_errors_name_the_problem() {
        use SdesError::*;
        // `@` stands for a valid suite and key.
        let full = "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
        let cases = [
            ("", Missing("tag")),
            ("1", Missing("crypto suite")),
            ("1 AES_CM_128_HMAC_SHA1_80", Missing("key parameters")),
            ("x AES_CM_128_HMAC_SHA1_80 k", BadTag("x".into())),
            (
                "1234567890 AES_CM_128_HMAC_SHA1_80 k",
                BadTag("1234567890".into()),
            ),
            (
                "1 AEAD_AES_128_GCM inline:x",
                UnknownSuite("AEAD_AES_128_GCM".into()),
            ),
            (
                "1 AES_CM_128_HMAC_SHA1_80 uri:x",
                UnknownKeyMethod("uri".into()),
            ),
            ("1 AES_CM_128_HMAC_SHA1_80 inline:!!", BadBase64),
            ("@|2^49", BadLifetime("2^49".into())),
            ("@|0", BadLifetime("0".into())),
            ("@|256:1", BadMki("256:1".into())),
            ("@|1:0", BadMki("1:0".into())),
            ("@|1:4|2^20", BadMki("2^20".into())),
            ("@ KDR=25", BadSessionParam("KDR=25".into())),
            ("@ WSH=10", BadSessionParam("WSH=10".into())),
            (
                "@ UNENCRYPTED_SRTP=1",
                BadSessionParam("UNENCRYPTED_SRTP=1".into()),
            ),
        ];
        for (line, want) in cases {
            let line = line.replace('@', full);
            assert_eq!(Crypto::parse(&line), Err(want), "{line}");
        }
        // A 128-bit suite with a 256-bit key.
        let long = "1 AES_CM_128_HMAC_SHA1_80 inline:JWX3wh0yPnSplyv0b64HrSITLoqzj8xdoFTVVircXwN/a/NMddMLoukBJyJSHQ";
        assert!(matches!(
            Crypto::parse(long),
            Err(Key(KeyError::SuiteMismatch {
                expected: 30,
                got: 46,
                ..
            }))
        ));
        assert_eq!(Crypto::parse(&"1".repeat(5000)), Err(TooLong(5000)));
    }

    #[test]
    fn unsupported_parameters_are_refused_by_name() {
        let base = "7 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
        for (param, name) in [
            ("KDR=0", "KDR=0"),
            ("kdr=10", "KDR=10"),
            ("UNENCRYPTED_SRTP", "UNENCRYPTED_SRTP"),
            ("UNENCRYPTED_SRTCP", "UNENCRYPTED_SRTCP"),
            ("UNAUTHENTICATED_SRTP", "UNAUTHENTICATED_SRTP"),
            ("FEC_ORDER=FEC_SRTP", "FEC_ORDER=FEC_SRTP"),
            ("FEC_KEY=inline:abc", "FEC_KEY=inline:abc"),
            ("WSH=256", "WSH=256"),
            ("NEW_THING", "NEW_THING"),
        ] {
            let c = Crypto::parse(&format!("{base} {param}")).unwrap();
            let e = c.keying().unwrap_err();
            assert_eq!(e, SdesError::UnsupportedParam(name.into()));
            assert!(e.to_string().contains(name), "{e}");
        }
        for ok in ["WSH=64", "WSH=128", "-OPTIONAL_THING"] {
            let c = Crypto::parse(&format!("{base} {ok}")).unwrap();
            assert!(c.keying().is_ok(), "{ok}");
        }
        let two = format!("{base};inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|2:4");
        let c = Crypto::parse(&two).unwrap();
        assert_eq!(c.keys.len(), 2);
        assert_eq!(c.keying(), Err(SdesError::MultipleKeys(2)));
    }

    #[test]
    fn whitespace_and_case() {
        let c = Crypto::parse(
            "01\taes_cm_128_hmac_sha1_80   INLINE:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1048576 wsh=64\r\n",
        )
        .unwrap();
        assert_eq!(c.tag, 1);
        assert_eq!(c.keys[0].lifetime, Some(1 << 20));
        assert_eq!(c.params, vec![SessionParam::Wsh(64)]);
        assert_eq!(
            c.to_string(),
            "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20 WSH=64"
        );
    }
}
