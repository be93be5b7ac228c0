//! The crypto suites this crate implements: AES in counter mode with HMAC-SHA1 authentication,
//! under their SDES names (RFC 4568 §6.2 for the 128-bit key, RFC 6188 §5 for 192 and 256).

use std::fmt;

/// Length of every suite's master salt (112 bits, RFC 3711 §8.2).
pub const MASTER_SALT_LEN: usize = 14;

/// Length of the session authentication key HMAC-SHA1 is keyed with (160 bits, RFC 3711 §4.2.1).
pub const SESSION_AUTH_KEY_LEN: usize = 20;

/// Length of the SRTCP authentication tag: 80 bits for every suite here, including the `_32`
/// ones, whose short tag applies to SRTP only (RFC 4568 §6.2.2, RFC 6188 §5).
pub const SRTCP_TAG_LEN: usize = 10;

/// An SRTP crypto suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Suite {
    /// AES-128 counter mode, 80-bit HMAC-SHA1 tag (the default suite of RFC 3711).
    AesCm128HmacSha1_80,
    /// AES-128 counter mode, 32-bit HMAC-SHA1 tag on SRTP (80-bit on SRTCP).
    AesCm128HmacSha1_32,
    /// AES-192 counter mode, 80-bit HMAC-SHA1 tag.
    Aes192CmHmacSha1_80,
    /// AES-192 counter mode, 32-bit HMAC-SHA1 tag on SRTP (80-bit on SRTCP).
    Aes192CmHmacSha1_32,
    /// AES-256 counter mode, 80-bit HMAC-SHA1 tag.
    Aes256CmHmacSha1_80,
    /// AES-256 counter mode, 32-bit HMAC-SHA1 tag on SRTP (80-bit on SRTCP).
    Aes256CmHmacSha1_32,
}

impl Suite {
    /// Every suite, strongest key first.
    pub const ALL: [Suite; 6] = [
        Suite::Aes256CmHmacSha1_80,
        Suite::Aes256CmHmacSha1_32,
        Suite::Aes192CmHmacSha1_80,
        Suite::Aes192CmHmacSha1_32,
        Suite::AesCm128HmacSha1_80,
        Suite::AesCm128HmacSha1_32,
    ];

    /// The suite's name in an SDP `a=crypto` line.
    pub fn name(self) -> &'static str {
        match self {
            Suite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Suite::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            Suite::Aes192CmHmacSha1_80 => "AES_192_CM_HMAC_SHA1_80",
            Suite::Aes192CmHmacSha1_32 => "AES_192_CM_HMAC_SHA1_32",
            Suite::Aes256CmHmacSha1_80 => "AES_256_CM_HMAC_SHA1_80",
            Suite::Aes256CmHmacSha1_32 => "AES_256_CM_HMAC_SHA1_32",
        }
    }

    /// The suite with this SDP name. Names are matched without regard to case, as ABNF string
    /// literals are (RFC 5234 §2.3).
    pub fn from_name(name: &str) -> Option<Suite> {
        Suite::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// Length of the master key (and of the session encryption key) in bytes.
    pub fn master_key_len(self) -> usize {
        match self {
            Suite::AesCm128HmacSha1_80 | Suite::AesCm128HmacSha1_32 => 16,
            Suite::Aes192CmHmacSha1_80 | Suite::Aes192CmHmacSha1_32 => 24,
            Suite::Aes256CmHmacSha1_80 | Suite::Aes256CmHmacSha1_32 => 32,
        }
    }

    /// Length of the master key followed by the master salt, as SDES carries them.
    pub fn key_salt_len(self) -> usize {
        self.master_key_len() + MASTER_SALT_LEN
    }

    /// Length of the SRTP authentication tag in bytes (10 or 4).
    pub fn rtp_tag_len(self) -> usize {
        match self {
            Suite::AesCm128HmacSha1_80
            | Suite::Aes192CmHmacSha1_80
            | Suite::Aes256CmHmacSha1_80 => 10,
            Suite::AesCm128HmacSha1_32
            | Suite::Aes192CmHmacSha1_32
            | Suite::Aes256CmHmacSha1_32 => 4,
        }
    }

    /// Length of the SRTCP authentication tag in bytes: always [`SRTCP_TAG_LEN`].
    pub fn rtcp_tag_len(self) -> usize {
        SRTCP_TAG_LEN
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_ignore_case() {
        for s in Suite::ALL {
            assert_eq!(Suite::from_name(s.name()), Some(s));
            assert_eq!(Suite::from_name(&s.name().to_ascii_lowercase()), Some(s));
        }
        assert_eq!(Suite::from_name("AEAD_AES_128_GCM"), None);
        assert_eq!(Suite::from_name("F8_128_HMAC_SHA1_80"), None);
    }

    #[test]
    fn short_tags_are_for_srtp_only() {
        assert_eq!(Suite::AesCm128HmacSha1_32.rtp_tag_len(), 4);
        assert_eq!(Suite::AesCm128HmacSha1_32.rtcp_tag_len(), 10);
        assert_eq!(Suite::AesCm128HmacSha1_80.rtp_tag_len(), 10);
        assert_eq!(Suite::Aes256CmHmacSha1_32.key_salt_len(), 46);
        assert_eq!(Suite::AesCm128HmacSha1_80.key_salt_len(), 30);
    }
}
