//! AES counter mode (RFC 3711 §4.1.1), the key derivation built on it (§4.3, key derivation
//! rate 0), and the session keys of one packet kind (SRTP or SRTCP).
//!
//! The block cipher, counter mode and HMAC are RustCrypto's `aes`, `ctr`, `hmac` and `sha1`;
//! what is written here is only the SRTP-specific arrangement of IVs and labels.

use aes::cipher::consts::U16;
use aes::cipher::{
    BlockCipher, BlockEncryptMut, InnerIvInit, KeyInit, StreamCipher, StreamCipherCoreWrapper,
};
use aes::{Aes128Enc, Aes192Enc, Aes256Enc};
use ctr::CtrCore;
use ctr::flavors::Ctr128BE;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::key::MasterKey;
use crate::suite::{MASTER_SALT_LEN, SESSION_AUTH_KEY_LEN};

/// Key derivation labels (RFC 3711 §4.3.1 and §4.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Label {
    RtpEncryption = 0,
    RtpAuth = 1,
    RtpSalt = 2,
    RtcpEncryption = 3,
    RtcpAuth = 4,
    RtcpSalt = 5,
}

/// An expanded AES encryption key of any of the three sizes.
#[derive(Clone)]
pub(crate) enum Aes {
    A128(Aes128Enc),
    A192(Aes192Enc),
    A256(Aes256Enc),
}

impl Aes {
    /// `key` is 16, 24 or 32 bytes (the callers hold validated keys); any other length gives
    /// `None`.
    pub(crate) fn new(key: &[u8]) -> Option<Aes> {
        Some(match key.len() {
            16 => Aes::A128(Aes128Enc::new_from_slice(key).ok()?),
            24 => Aes::A192(Aes192Enc::new_from_slice(key).ok()?),
            32 => Aes::A256(Aes256Enc::new_from_slice(key).ok()?),
            _ => return None,
        })
    }

    /// XORs `data` with the AES-CM key stream that starts at counter block `iv`.
    pub(crate) fn apply_keystream(&self, iv: &[u8; 16], data: &mut [u8]) {
        match self {
            Aes::A128(c) => ctr(c, iv, data),
            Aes::A192(c) => ctr(c, iv, data),
            Aes::A256(c) => ctr(c, iv, data),
        }
    }
}

/// Counter mode with a 128-bit big-endian counter over block cipher `c`.
fn ctr<C>(c: &C, iv: &[u8; 16], data: &mut [u8])
where
    C: BlockEncryptMut + BlockCipher<BlockSize = U16> + Clone,
{
    // Cloning the expanded key (a copy, no allocation) is cheaper than expanding it again.
    let core = CtrCore::<C, Ctr128BE>::inner_iv_init(c.clone(), iv.into());
    StreamCipherCoreWrapper::from_core(core).apply_keystream(data);
}

/// The AES-CM PRF of RFC 3711 §4.3.1 with key derivation rate 0 (so `r` = 0): fills `out`
/// with the key stream of IV = (master salt XOR label·2^48)·2^16, keyed by the master key.
pub(crate) fn derive(master: &MasterKey, label: Label, out: &mut [u8]) {
    let mut iv = [0u8; 16];
    iv[..MASTER_SALT_LEN].copy_from_slice(master.salt());
    // key_id = label || r (7 bytes) is XORed into the low end of the 14-byte salt.
    iv[MASTER_SALT_LEN - 7] ^= label as u8;
    out.fill(0);
    let aes = Aes::new(master.key()).expect("a MasterKey holds a 16, 24 or 32-byte key");
    aes.apply_keystream(&iv, out);
}

/// The counter-mode IV of RFC 3711 §4.1.1: (k_s·2^16) XOR (SSRC·2^64) XOR (index·2^16).
pub(crate) fn packet_iv(salt: &[u8; MASTER_SALT_LEN], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..MASTER_SALT_LEN].copy_from_slice(salt);
    for (b, s) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
        *b ^= s;
    }
    // The index is at most 48 bits: its low six bytes land in bytes 8..14.
    for (b, s) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
        *b ^= s;
    }
    iv
}

/// The session keys of one packet kind: encryption key, salt and the keyed HMAC.
#[derive(Clone)]
pub(crate) struct SessionKeys {
    aes: Aes,
    salt: [u8; MASTER_SALT_LEN],
    mac: Hmac<Sha1>,
    tag_len: usize,
}

impl SessionKeys {
    /// Derives the SRTP (`rtcp == false`) or SRTCP session keys from `master`.
    pub(crate) fn derive(master: &MasterKey, rtcp: bool, tag_len: usize) -> SessionKeys {
        let (enc, auth, salt_label) = if rtcp {
            (Label::RtcpEncryption, Label::RtcpAuth, Label::RtcpSalt)
        } else {
            (Label::RtpEncryption, Label::RtpAuth, Label::RtpSalt)
        };
        let mut key = [0u8; 32];
        let key = &mut key[..master.key().len()];
        derive(master, enc, key);
        let aes = Aes::new(key).expect("session key has the master key's length");
        let mut auth_key = [0u8; SESSION_AUTH_KEY_LEN];
        derive(master, auth, &mut auth_key);
        let mac =
            <Hmac<Sha1> as Mac>::new_from_slice(&auth_key).expect("HMAC takes any key length");
        let mut salt = [0u8; MASTER_SALT_LEN];
        derive(master, salt_label, &mut salt);
        zeroize::Zeroize::zeroize(key);
        zeroize::Zeroize::zeroize(&mut auth_key);
        SessionKeys {
            aes,
            salt,
            mac,
            tag_len,
        }
    }

    /// Length of the authentication tag.
    pub(crate) fn tag_len(&self) -> usize {
        self.tag_len
    }

    /// Encrypts or decrypts `data` in place for packet `index` of `ssrc`.
    pub(crate) fn crypt(&self, ssrc: u32, index: u64, data: &mut [u8]) {
        self.aes
            .apply_keystream(&packet_iv(&self.salt, ssrc, index), data);
    }

    /// The full 20-byte HMAC-SHA1 of `authenticated` followed by `suffix` (the ROC for SRTP,
    /// nothing for SRTCP, whose index is inside `authenticated`).
    pub(crate) fn mac(&self, authenticated: &[u8], suffix: &[u8]) -> [u8; 20] {
        // Cloning the keyed state skips re-hashing the key pads per packet; no allocation.
        let mut mac = self.mac.clone();
        mac.update(authenticated);
        mac.update(suffix);
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 3711 Appendix B.2: the AES-CM key stream for session key 2B7E…, session salt
    /// F0F1…FD, SSRC 0, ROC 0, SEQ 0. The RFC lists counter blocks 0000, 0001, 0002 and
    /// FEFF, FF00, FF01.
    #[test]
    fn rfc3711_b2_aes_cm_keystream() {
        let aes = Aes::new(&hex("2B7E151628AED2A6ABF7158809CF4F3C")).unwrap();
        let salt: [u8; 14] = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD").try_into().unwrap();
        let iv = packet_iv(&salt, 0, 0);
        assert_eq!(iv.to_vec(), hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"));
        let mut stream = vec![0u8; 0xFF02 * 16];
        aes.apply_keystream(&iv, &mut stream);
        let block = |i: usize| stream[i * 16..(i + 1) * 16].to_vec();
        assert_eq!(block(0x0000), hex("E03EAD0935C95E80E166B16DD92B4EB4"));
        assert_eq!(block(0x0001), hex("D23513162B02D0F72A43A2FE4A5F97AB"));
        assert_eq!(block(0x0002), hex("41E95B3BB0A2E8DD477901E4FCA894C0"));
        assert_eq!(block(0xFEFF), hex("EC8CDF7398607CB0F2D21675EA9EA1E4"));
        assert_eq!(block(0xFF00), hex("362B7C3C6773516318A077D7FC5073AE"));
        assert_eq!(block(0xFF01), hex("6A2CC3787889374FBEB4C81B17BA6C44"));
    }

    /// RFC 3711 Appendix B.3: session keys derived from master key E1F9…, master salt
    /// 0EC6…, index 0, key derivation rate 0. The RFC prints 94 bytes of the authentication
    /// key stream; SRTP uses the first 20.
    #[test]
    fn rfc3711_b3_key_derivation() {
        let master = MasterKey::new(
            &hex("E1F97A0D3E018BE0D64FA32C06DE4139"),
            &hex("0EC675AD498AFEEBB6960B3AABE6"),
        )
        .unwrap();
        let mut enc = [0u8; 16];
        derive(&master, Label::RtpEncryption, &mut enc);
        assert_eq!(enc.to_vec(), hex("C61E7A93744F39EE10734AFE3FF7A087"));
        let mut salt = [0u8; 14];
        derive(&master, Label::RtpSalt, &mut salt);
        assert_eq!(salt.to_vec(), hex("30CBBC08863D8C85D49DB34A9AE1"));
        let mut auth = [0u8; 94];
        derive(&master, Label::RtpAuth, &mut auth);
        assert_eq!(
            auth.to_vec(),
            hex(
                "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
                 E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
                 6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"
            )
        );
    }

    /// NIST's SRTP KDF validation sample (SP 800-135 CAVS, AES-128, kdr 0, so the index does
    /// not enter), as quoted in cisco/libsrtp issue #454. Only its SRTP keys apply: its SRTCP
    /// keys place the label for a 32-bit index, which RFC 3711 erratum 3712 corrected to the
    /// 48-bit layout libsrtp and rtpengine use (the libsrtp SRTCP packet vector in
    /// tests/vectors.rs checks labels 3 to 5).
    #[test]
    fn nist_srtp_key_derivation() {
        let master = MasterKey::new(
            &hex("c4809f6d369888728e26adb532129890"),
            &hex("0e23006c6c044f5662400e9d1bd6"),
        )
        .unwrap();
        let check = |label, want: &str| {
            let want = hex(want);
            let mut out = vec![0u8; want.len()];
            derive(&master, label, &mut out);
            assert_eq!(out, want, "{label:?}");
        };
        check(Label::RtpEncryption, "dc382192ab65108a86b259b61b3af46f");
        check(Label::RtpAuth, "b83937fb321792ee87b788193be5a4e3bd326ee4");
        check(Label::RtpSalt, "f1c035c00b5a54a61692c016276c");
        // The pre-erratum SRTCP encryption key differs from ours.
        let mut out = [0u8; 16];
        derive(&master, Label::RtcpEncryption, &mut out);
        assert_ne!(out.to_vec(), hex("ab5be0b456235dcf77d5086929bafb38"));
    }

    /// RFC 6188 §7.2 (AES-256) and §7.4 (AES-192) key derivation test cases.
    #[test]
    fn rfc6188_key_derivation() {
        let cases = [
            (
                "f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6",
                "3b04803de51ee7c96423ab5b78d2",
                "5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4",
                "fa31791685ca444a9e07c6c64e93",
                "fd9c32d39ed5fbb5a9dc96b30818454d1313dc05",
            ),
            (
                "73edc66c4fa15776fb57f9505c17136550ffda71f3e8e5f1",
                "c8522f3acd4ce86d5add78edbb11",
                "31874736a8f1143870c26e4857d8a5b2c4a354407faadabb",
                "2372b82d639b6d8503a47adc0a6c",
                "355b10973cd95b9eacf4061c7e1a7151e7cfbfcb",
            ),
        ];
        for (key, salt, enc, session_salt, auth) in cases {
            let master = MasterKey::new(&hex(key), &hex(salt)).unwrap();
            let mut out = vec![0u8; master.key().len()];
            derive(&master, Label::RtpEncryption, &mut out);
            assert_eq!(out, hex(enc));
            let mut out = [0u8; 14];
            derive(&master, Label::RtpSalt, &mut out);
            assert_eq!(out.to_vec(), hex(session_salt));
            let mut out = [0u8; 20];
            derive(&master, Label::RtpAuth, &mut out);
            assert_eq!(out.to_vec(), hex(auth));
        }
    }

    #[test]
    fn iv_places_ssrc_and_index() {
        let iv = packet_iv(&[0; 14], 0x1122_3344, 0xAABB_CCDD_EEFF);
        assert_eq!(
            iv,
            [
                0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0, 0
            ]
        );
    }
}
