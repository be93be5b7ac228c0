//! Known-answer packet vectors from two independent implementations:
//!
//! - libsrtp (cisco/libsrtp, test/srtp_driver.c, `srtp_validate` and `srtp_validate_aes_256`):
//!   one SRTP and one SRTCP packet with AES_CM_128_HMAC_SHA1_80, and one SRTP packet with
//!   AES_256_CM_HMAC_SHA1_80 under the RFC 6188 §7.2 master key.
//! - rtpengine (sipwise/rtpengine, t/aes-crypt.c): the same plaintexts protected with
//!   AES-192 and AES-256 counter mode, SRTP and SRTCP, keys cut from libsrtp's 46-byte test key.
//!
//! Every plaintext is sequence number 0x1234, SSRC 0xcafebabe, ROC 0; every SRTCP ciphertext
//! carries SRTCP index 1 with the E flag (libsrtp counts from 1, RFC 3711 from 0, so the
//! sending test protects one packet first). The RFC 3711 Appendix B.2 and B.3 vectors (key
//! stream and key derivation) are unit tests of the `kdf` module, with RFC 6188 §7's.

use tandem_srtp::{Keying, MasterKey, Mki, RecvContext, SendContext, SrtpError, Suite};

/// libsrtp's `test_key`: 46 bytes, cut into key || salt for each key size.
const TEST_KEY: [u8; 46] = [
    0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
    0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6, 0xc1, 0x73,
    0xc3, 0x17, 0xf2, 0xda, 0xbe, 0x35, 0x77, 0x93, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
];

/// libsrtp's `aes_256_test_key` (the RFC 6188 §7.2 master key and salt).
const AES_256_TEST_KEY: [u8; 46] = [
    0xf0, 0xf0, 0x49, 0x14, 0xb5, 0x13, 0xf2, 0x76, 0x3a, 0x1b, 0x1f, 0xa1, 0x30, 0xf1, 0x0e, 0x29,
    0x98, 0xf6, 0xf6, 0xe4, 0x3e, 0x43, 0x09, 0xd1, 0xe6, 0x22, 0xa0, 0xe3, 0x32, 0xb9, 0xf1, 0xb6,
    0x3b, 0x04, 0x80, 0x3d, 0xe5, 0x1e, 0xe7, 0xc9, 0x64, 0x23, 0xab, 0x5b, 0x78, 0xd2,
];

const RTP_PLAIN: [u8; 28] = [
    0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
];

const RTCP_PLAIN: [u8; 24] = [
    0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
];

/// libsrtp `srtp_validate` (and rtpengine `srtp_ciphertext_128`).
const SRTP_128: [u8; 38] = [
    0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0x4e, 0x55, 0xdc, 0x4c,
    0xe7, 0x99, 0x78, 0xd8, 0x8c, 0xa4, 0xd2, 0x15, 0x94, 0x9d, 0x24, 0x02, 0xb7, 0x8d, 0x6a, 0xcc,
    0x99, 0xea, 0x17, 0x9b, 0x8d, 0xbb,
];

/// libsrtp `srtp_validate` (and rtpengine `srtcp_ciphertext_128`).
const SRTCP_128: [u8; 38] = [
    0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0x71, 0x28, 0x03, 0x5b, 0xe4, 0x87, 0xb9, 0xbd,
    0xbe, 0xf8, 0x90, 0x41, 0xf9, 0x77, 0xa5, 0xa8, 0x80, 0x00, 0x00, 0x01, 0x99, 0x3e, 0x08, 0xcd,
    0x54, 0xd6, 0xc1, 0x23, 0x07, 0x98,
];

/// rtpengine `srtp_ciphertext_192`.
const SRTP_192: [u8; 38] = [
    0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0x01, 0x57, 0x81, 0x89,
    0x44, 0x62, 0x52, 0x9d, 0x91, 0xcf, 0x36, 0x59, 0xd2, 0x46, 0x2d, 0xb3, 0x08, 0xd9, 0xa0, 0x44,
    0xc5, 0xd7, 0xd6, 0x8b, 0x26, 0xba,
];

/// rtpengine `srtcp_ciphertext_192`.
const SRTCP_192: [u8; 38] = [
    0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0x96, 0x6d, 0x60, 0x3e, 0x71, 0xf9, 0xaf, 0x33,
    0x5c, 0xf9, 0x09, 0x1a, 0x50, 0xca, 0x4d, 0x3a, 0x80, 0x00, 0x00, 0x01, 0xd4, 0x2b, 0x40, 0x21,
    0x8d, 0xde, 0x49, 0x90, 0xbd, 0xef,
];

/// rtpengine `srtp_ciphertext_256`.
const SRTP_256: [u8; 38] = [
    0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0x00, 0x98, 0x21, 0x9f,
    0x7e, 0xbd, 0xba, 0x1c, 0x3d, 0x22, 0xf4, 0x93, 0x6f, 0x1e, 0xac, 0x99, 0x06, 0xf6, 0xb2, 0x27,
    0xc8, 0x49, 0x61, 0xa7, 0xb4, 0x28,
];

/// rtpengine `srtcp_ciphertext_256`.
const SRTCP_256: [u8; 38] = [
    0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0x0a, 0x86, 0x5d, 0x33, 0x9e, 0x31, 0x26, 0x93,
    0x59, 0x23, 0x87, 0xd4, 0x5b, 0x99, 0xa5, 0x57, 0x80, 0x00, 0x00, 0x01, 0x84, 0xf3, 0xb4, 0xf2,
    0xb5, 0x95, 0x61, 0x5a, 0xf9, 0xb5,
];

/// libsrtp `srtp_validate_aes_256` (and rtpengine `aes_256_srtp_ciphertext`).
const SRTP_256_RFC6188_KEY: [u8; 38] = [
    0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0xf1, 0xd9, 0xde, 0x17,
    0xff, 0x25, 0x1f, 0xf1, 0xaa, 0x00, 0x77, 0x74, 0xb0, 0xb4, 0xb4, 0x0d, 0xa0, 0x8d, 0x9d, 0x9a,
    0x5b, 0x3a, 0x55, 0xd8, 0x87, 0x3b,
];

fn keying(suite: Suite, key: &[u8; 46], mki: Option<Mki>) -> Keying {
    let n = suite.master_key_len();
    let master = MasterKey::new(&key[..n], &key[n..n + 14]).unwrap();
    Keying::new(suite, master, mki, None).unwrap()
}

/// Protects the reference plaintext and unprotects the reference ciphertext.
fn check_rtp(k: &Keying, want: &[u8]) {
    let mut buf = [0u8; 64];
    buf[..28].copy_from_slice(&RTP_PLAIN);
    let n = SendContext::new(k).protect_rtp(&mut buf, 28).unwrap();
    assert_eq!(&buf[..n], want, "{} protect", k.suite());
    let mut pkt = want.to_vec();
    let m = RecvContext::new(k).unprotect_rtp(&mut pkt).unwrap();
    assert_eq!(&pkt[..m], &RTP_PLAIN, "{} unprotect", k.suite());
}

/// As `check_rtp` for SRTCP; the vector has index 1, so one packet is protected first.
fn check_rtcp(k: &Keying, want: &[u8]) {
    let mut tx = SendContext::new(k);
    let mut buf = [0u8; 64];
    buf[..24].copy_from_slice(&RTCP_PLAIN);
    let first = tx.protect_rtcp(&mut buf, 24).unwrap();
    assert_eq!(
        &buf[24..28],
        &[0x80, 0, 0, 0],
        "RFC 3711 starts the index at 0"
    );
    assert_ne!(&buf[..first], want);
    buf[..24].copy_from_slice(&RTCP_PLAIN);
    let n = tx.protect_rtcp(&mut buf, 24).unwrap();
    assert_eq!(&buf[..n], want, "{} protect", k.suite());
    let mut pkt = want.to_vec();
    let m = RecvContext::new(k).unprotect_rtcp(&mut pkt).unwrap();
    assert_eq!(&pkt[..m], &RTCP_PLAIN, "{} unprotect", k.suite());
}

#[test]
fn libsrtp_aes_cm_128_hmac_sha1_80() {
    let k = keying(Suite::AesCm128HmacSha1_80, &TEST_KEY, None);
    check_rtp(&k, &SRTP_128);
    check_rtcp(&k, &SRTCP_128);
}

/// The `_32` suite's SRTP tag is the leftmost 32 bits of the same HMAC (RFC 3711 §4.2), and
/// its SRTCP tag stays 80 bits (RFC 4568 §6.2.2), so libsrtp's `_80` vectors give its answers.
#[test]
fn libsrtp_vectors_truncated_for_aes_cm_128_hmac_sha1_32() {
    let k = keying(Suite::AesCm128HmacSha1_32, &TEST_KEY, None);
    check_rtp(&k, &SRTP_128[..32]);
    check_rtcp(&k, &SRTCP_128);
}

#[test]
fn rtpengine_aes_192_and_256() {
    let k = keying(Suite::Aes192CmHmacSha1_80, &TEST_KEY, None);
    check_rtp(&k, &SRTP_192);
    check_rtcp(&k, &SRTCP_192);
    let k = keying(Suite::Aes256CmHmacSha1_80, &TEST_KEY, None);
    check_rtp(&k, &SRTP_256);
    check_rtcp(&k, &SRTCP_256);
}

#[test]
fn libsrtp_aes_256_with_the_rfc6188_key() {
    let k = keying(Suite::Aes256CmHmacSha1_80, &AES_256_TEST_KEY, None);
    check_rtp(&k, &SRTP_256_RFC6188_KEY);
}

/// The MKI sits between the encrypted portion and the tag and is not authenticated (RFC 3711
/// §3.1, §3.4), so with an MKI the reference packets gain it in the middle, unchanged
/// otherwise. The MKI value is libsrtp's `test_mki_id`.
#[test]
fn mki_is_inserted_before_the_tag() {
    let mki = Mki::new(0xe1f9_7a0d, 4).unwrap();
    let k = keying(Suite::AesCm128HmacSha1_80, &TEST_KEY, Some(mki));
    let mut want = SRTP_128[..28].to_vec();
    want.extend_from_slice(&[0xe1, 0xf9, 0x7a, 0x0d]);
    want.extend_from_slice(&SRTP_128[28..]);
    check_rtp(&k, &want);
    let mut want = SRTCP_128[..28].to_vec();
    want.extend_from_slice(&[0xe1, 0xf9, 0x7a, 0x0d]);
    want.extend_from_slice(&SRTCP_128[28..]);
    check_rtcp(&k, &want);

    // Another MKI is refused before the tag is even checked.
    let other = keying(
        Suite::AesCm128HmacSha1_80,
        &TEST_KEY,
        Some(Mki::new(7, 4).unwrap()),
    );
    let mut pkt = SRTP_128[..28].to_vec();
    pkt.extend_from_slice(&[0xe1, 0xf9, 0x7a, 0x0d]);
    pkt.extend_from_slice(&SRTP_128[28..]);
    assert_eq!(
        RecvContext::new(&other).unprotect_rtp(&mut pkt),
        Err(SrtpError::UnknownMki)
    );
}

/// A context keyed for another suite or key does not accept the vectors.
#[test]
fn wrong_keys_fail_authentication() {
    let k = keying(Suite::AesCm128HmacSha1_80, &AES_256_TEST_KEY, None);
    let mut pkt = SRTP_128;
    assert_eq!(
        RecvContext::new(&k).unprotect_rtp(&mut pkt),
        Err(SrtpError::AuthFailed)
    );
    assert_eq!(pkt, SRTP_128, "a refused packet is left as it was");
    let mut pkt = SRTCP_128;
    assert_eq!(
        RecvContext::new(&k).unprotect_rtcp(&mut pkt),
        Err(SrtpError::AuthFailed)
    );
}
