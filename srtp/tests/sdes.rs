//! SDES `a=crypto` properties: printing then parsing gives the same value back; any text
//! parses to a value or a typed error; negotiation produces keys that work against each other.

use base64::Engine;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tandem_srtp::negotiate::{accept_answer, answer, offer};
use tandem_srtp::sdes::{Crypto, InlineKey, SessionParam};
use tandem_srtp::{MasterKey, Mki, RecvContext, SendContext, Suite};

fn inline_key(suite: Suite) -> impl Strategy<Value = InlineKey> {
    (
        proptest::collection::vec(any::<u8>(), suite.key_salt_len()),
        proptest::option::of(prop_oneof![
            (0u32..=48).prop_map(|e| 1u64 << e),
            1u64..=(1 << 48)
        ]),
        proptest::option::of((any::<u64>(), 1usize..=128).prop_map(|(v, l)| {
            let v = if l < 8 { v & ((1 << (8 * l)) - 1) } else { v };
            Mki::new(v, l).unwrap()
        })),
    )
        .prop_map(move |(bytes, lifetime, mki)| InlineKey {
            master: MasterKey::from_key_salt(suite, &bytes).unwrap(),
            lifetime,
            mki,
        })
}

fn param() -> impl Strategy<Value = SessionParam> {
    prop_oneof![
        (0u8..=24).prop_map(SessionParam::Kdr),
        Just(SessionParam::UnencryptedSrtp),
        Just(SessionParam::UnencryptedSrtcp),
        Just(SessionParam::UnauthenticatedSrtp),
        Just(SessionParam::FecOrder("FEC_SRTP".into())),
        Just(SessionParam::FecOrder("SRTP_FEC".into())),
        "[!-~&&[^=]]{1,20}".prop_map(|k| SessionParam::FecKey(format!("inline:{k}"))),
        (64u64..100_000).prop_map(SessionParam::Wsh),
        "-?X_[A-Z0-9_]{1,12}(=[!-~]{1,8})?".prop_map(SessionParam::Extension),
    ]
}

fn crypto() -> impl Strategy<Value = Crypto> {
    proptest::sample::select(Suite::ALL.to_vec()).prop_flat_map(|suite| {
        (
            0u32..1_000_000_000,
            proptest::collection::vec(inline_key(suite), 1..=3),
            proptest::collection::vec(param(), 0..=4),
        )
            .prop_map(move |(tag, keys, params)| Crypto {
                tag,
                suite,
                keys,
                params,
            })
    })
}

proptest! {
    #[test]
    fn print_then_parse_round_trips(c in crypto()) {
        let text = c.to_string();
        prop_assert_eq!(Crypto::parse(&text), Ok(c.clone()), "{}", text);
        // Unpadded base64 (as rtpengine writes it) parses to the same value.
        let unpadded = text.replace('=', "");
        if c.params.iter().all(|p| !p.to_string().contains('=')) {
            prop_assert_eq!(Crypto::parse(&unpadded), Ok(c));
        }
    }

    #[test]
    fn any_text_parses_or_gives_a_typed_error(s in "\\PC{0,200}") {
        if let Ok(c) = Crypto::parse(&s) {
            prop_assert_eq!(Crypto::parse(&c.to_string()), Ok(c));
        }
    }

    /// Valid lines with one character replaced: still no panic, and whatever parses prints
    /// back to something that parses the same.
    #[test]
    fn altered_lines_are_handled(c in crypto(), at in any::<prop::sample::Index>(), ch in any::<char>()) {
        let mut chars: Vec<char> = c.to_string().chars().collect();
        let i = at.index(chars.len());
        chars[i] = ch;
        let s: String = chars.into_iter().collect();
        if let Ok(c) = Crypto::parse(&s) {
            prop_assert_eq!(Crypto::parse(&c.to_string()), Ok(c));
        }
    }

    /// Whatever an offer holds, the answerer's keys and the offerer's keys protect and
    /// unprotect each other's packets.
    #[test]
    fn negotiated_keys_interoperate(seed in any::<u64>(), first in 0usize..6) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut suites = Suite::ALL.to_vec();
        suites.rotate_left(first);
        let offered = offer(&suites, &mut rng);
        let lines: Vec<String> = offered.iter().map(Crypto::to_string).collect();
        let answerer = answer(lines.iter().map(String::as_str), &mut rng).unwrap();
        prop_assert_eq!(answerer.suite(), suites[0]);
        let offerer = accept_answer(&offered, &answerer.answer.to_string()).unwrap();
        for (from, to) in [(&offerer, &answerer), (&answerer, &offerer)] {
            let mut tx = SendContext::new(&from.send);
            let mut rx = RecvContext::new(&to.receive);
            let mut buf = [0u8; 64];
            buf[..12].copy_from_slice(&[0x80, 8, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4]);
            buf[12..32].fill(0x55);
            let n = tx.protect_rtp(&mut buf, 32).unwrap();
            let m = rx.unprotect_rtp(&mut buf[..n]).unwrap();
            prop_assert_eq!(&buf[12..m], &[0x55; 20][..]);
        }
    }
}

#[test]
fn key_bytes_are_the_base64_of_key_and_salt() {
    let mut rng = StdRng::seed_from_u64(1);
    let (c, k) = Crypto::generate(5, Suite::AesCm128HmacSha1_80, &mut rng);
    let text = c.to_string();
    let b64 = text
        .strip_prefix("5 AES_CM_128_HMAC_SHA1_80 inline:")
        .unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(raw.len(), 30);
    assert_eq!(&raw[..16], k.master().key());
    assert_eq!(&raw[16..], k.master().salt());
}
