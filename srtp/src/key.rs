//! Master keys, master key identifiers, and the keying of one direction of a stream.

use std::fmt;

use rand::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::error::KeyError;
use crate::suite::{MASTER_SALT_LEN, Suite};

/// Longest master key (AES-256).
pub const MAX_MASTER_KEY_LEN: usize = 32;

/// Longest MKI RFC 4568 allows (the `mki-length` field is at most 128).
pub const MAX_MKI_LEN: usize = 128;

/// Most packets one master key may protect (RFC 3711 §9.2: 2^48 SRTP packets).
pub const MAX_LIFETIME: u64 = 1 << 48;

/// A master key and master salt. Zeroed when dropped; `Debug` does not print it.
#[derive(Clone)]
pub struct MasterKey {
    // key || salt, as SDES carries them.
    bytes: [u8; MAX_MASTER_KEY_LEN + MASTER_SALT_LEN],
    key_len: u8,
}

impl MasterKey {
    /// A master key from its key (16, 24 or 32 bytes) and salt (14 bytes).
    pub fn new(key: &[u8], salt: &[u8]) -> Result<MasterKey, KeyError> {
        if !matches!(key.len(), 16 | 24 | 32) {
            return Err(KeyError::BadKeyLength(key.len()));
        }
        if salt.len() != MASTER_SALT_LEN {
            return Err(KeyError::BadSaltLength(salt.len()));
        }
        let mut bytes = [0; MAX_MASTER_KEY_LEN + MASTER_SALT_LEN];
        bytes[..key.len()].copy_from_slice(key);
        bytes[key.len()..key.len() + MASTER_SALT_LEN].copy_from_slice(salt);
        Ok(MasterKey {
            bytes,
            key_len: key.len() as u8,
        })
    }

    /// A master key from key and salt concatenated, checked against `suite`'s lengths.
    pub fn from_key_salt(suite: Suite, key_salt: &[u8]) -> Result<MasterKey, KeyError> {
        if key_salt.len() != suite.key_salt_len() {
            return Err(KeyError::SuiteMismatch {
                suite,
                expected: suite.key_salt_len(),
                got: key_salt.len(),
            });
        }
        let (key, salt) = key_salt.split_at(suite.master_key_len());
        MasterKey::new(key, salt)
    }

    /// A fresh random master key for `suite`.
    pub fn generate<R: CryptoRng + ?Sized>(suite: Suite, rng: &mut R) -> MasterKey {
        let mut bytes = [0; MAX_MASTER_KEY_LEN + MASTER_SALT_LEN];
        rng.fill_bytes(&mut bytes[..suite.key_salt_len()]);
        MasterKey {
            bytes,
            key_len: suite.master_key_len() as u8,
        }
    }

    /// The master key.
    pub fn key(&self) -> &[u8] {
        &self.bytes[..self.key_len as usize]
    }

    /// The master salt.
    pub fn salt(&self) -> &[u8] {
        let k = self.key_len as usize;
        &self.bytes[k..k + MASTER_SALT_LEN]
    }

    /// Key and salt concatenated, as SDES carries them.
    pub fn key_salt(&self) -> &[u8] {
        &self.bytes[..self.key_len as usize + MASTER_SALT_LEN]
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl PartialEq for MasterKey {
    fn eq(&self, other: &MasterKey) -> bool {
        self.key_len == other.key_len && bool::from(self.bytes.ct_eq(&other.bytes))
    }
}

impl Eq for MasterKey {}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("key_len", &self.key_len)
            .finish_non_exhaustive()
    }
}

/// A master key identifier: a value carried in `len` bytes (big-endian) in every packet,
/// between the encrypted portion and the authentication tag (RFC 3711 §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mki {
    value: u64,
    len: u8,
}

impl Mki {
    /// An MKI of `len` bytes (1..=128) holding `value`.
    pub fn new(value: u64, len: usize) -> Result<Mki, KeyError> {
        if !(1..=MAX_MKI_LEN).contains(&len) {
            return Err(KeyError::BadMkiLength(len));
        }
        if len < 8 && value >> (8 * len) != 0 {
            return Err(KeyError::MkiTooLarge { value, len });
        }
        Ok(Mki {
            value,
            len: len as u8,
        })
    }

    /// The value.
    pub fn value(&self) -> u64 {
        self.value
    }

    /// The length on the wire, in bytes.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Always false: an MKI has at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The byte at position `i` (0..len) of the big-endian wire form.
    fn byte(&self, i: usize) -> u8 {
        let from_end = self.len() - 1 - i;
        if from_end >= 8 {
            0
        } else {
            (self.value >> (8 * from_end)) as u8
        }
    }

    /// Writes the wire form into `out`, which must be `len()` bytes.
    pub(crate) fn write(&self, out: &mut [u8]) {
        for (i, b) in out.iter_mut().enumerate() {
            *b = self.byte(i);
        }
    }

    /// Whether `wire` is this MKI's wire form.
    pub(crate) fn matches(&self, wire: &[u8]) -> bool {
        wire.len() == self.len() && wire.iter().enumerate().all(|(i, &b)| b == self.byte(i))
    }
}

/// Everything that keys one direction of a stream: the suite, the master key, the MKI its
/// packets carry (if any) and the master key's lifetime in packets (if limited).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keying {
    suite: Suite,
    master: MasterKey,
    mki: Option<Mki>,
    lifetime: Option<u64>,
}

impl Keying {
    /// Keying for `suite`. Fails if the master key's length does not fit the suite or the
    /// lifetime is 0 or above 2^48.
    pub fn new(
        suite: Suite,
        master: MasterKey,
        mki: Option<Mki>,
        lifetime: Option<u64>,
    ) -> Result<Keying, KeyError> {
        if master.key().len() != suite.master_key_len() {
            return Err(KeyError::SuiteMismatch {
                suite,
                expected: suite.key_salt_len(),
                got: master.key_salt().len(),
            });
        }
        if let Some(l) = lifetime
            && !(1..=MAX_LIFETIME).contains(&l)
        {
            return Err(KeyError::BadLifetime(l));
        }
        Ok(Keying {
            suite,
            master,
            mki,
            lifetime,
        })
    }

    /// Fresh random keying for `suite`, with no MKI and no lifetime limit.
    pub fn generate<R: CryptoRng + ?Sized>(suite: Suite, rng: &mut R) -> Keying {
        Keying {
            suite,
            master: MasterKey::generate(suite, rng),
            mki: None,
            lifetime: None,
        }
    }

    /// The suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The master key.
    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    /// The MKI every packet carries, if any.
    pub fn mki(&self) -> Option<Mki> {
        self.mki
    }

    /// How many packets (SRTP and SRTCP together) the master key may protect; `None` is the
    /// RFC 3711 maximum of 2^48.
    pub fn lifetime(&self) -> Option<u64> {
        self.lifetime
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_checked() {
        assert_eq!(
            MasterKey::new(&[0; 15], &[0; 14]),
            Err(KeyError::BadKeyLength(15))
        );
        assert_eq!(
            MasterKey::new(&[0; 16], &[0; 12]),
            Err(KeyError::BadSaltLength(12))
        );
        let k = MasterKey::new(&[1; 32], &[2; 14]).unwrap();
        assert_eq!(k.key(), &[1; 32]);
        assert_eq!(k.salt(), &[2; 14]);
        assert!(matches!(
            Keying::new(Suite::AesCm128HmacSha1_80, k.clone(), None, None),
            Err(KeyError::SuiteMismatch {
                expected: 30,
                got: 46,
                ..
            })
        ));
        assert!(Keying::new(Suite::Aes256CmHmacSha1_32, k.clone(), None, Some(0)).is_err());
        assert!(Keying::new(Suite::Aes256CmHmacSha1_32, k, None, Some(1 << 48)).is_ok());
        assert!(format!("{:?}", MasterKey::new(&[7; 16], &[7; 14]).unwrap()).contains(".."));
    }

    #[test]
    fn mki_wire_form_is_big_endian_and_padded() {
        let m = Mki::new(0x0102, 4).unwrap();
        let mut out = [0xFF; 4];
        m.write(&mut out);
        assert_eq!(out, [0, 0, 1, 2]);
        assert!(m.matches(&[0, 0, 1, 2]));
        assert!(!m.matches(&[0, 0, 1, 3]));
        assert!(!m.matches(&[0, 1, 2]));
        let long = Mki::new(u64::MAX, 10).unwrap();
        let mut out = [1; 10];
        long.write(&mut out);
        assert_eq!(out, [0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(
            Mki::new(256, 1),
            Err(KeyError::MkiTooLarge { value: 256, len: 1 })
        );
        assert_eq!(Mki::new(1, 0), Err(KeyError::BadMkiLength(0)));
        assert_eq!(Mki::new(1, 129), Err(KeyError::BadMkiLength(129)));
    }
}
