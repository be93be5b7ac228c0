#![no_main]
//! SRTP and SRTCP unprotect on arbitrary bytes: Ok or a typed error, never a panic, never
//! more bytes out than in; a refused packet is left unchanged. The first byte picks the suite
//! and whether the context expects an MKI; the rest is the packet, tried as SRTP and SRTCP.
use libfuzzer_sys::fuzz_target;
use tandem_srtp::{Keying, MasterKey, Mki, RecvContext, Suite};

/// libsrtp's 46-byte test key, cut to each suite's key and salt (its reference packets are
/// in the seed corpus).
const KEY: [u8; 46] = [
    0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
    0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6, 0xc1, 0x73,
    0xc3, 0x17, 0xf2, 0xda, 0xbe, 0x35, 0x77, 0x93, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, pkt)) = data.split_first() else {
        return;
    };
    let suite = Suite::ALL[usize::from(pick & 0x7) % Suite::ALL.len()];
    let n = suite.master_key_len();
    let master = MasterKey::new(&KEY[..n], &KEY[n..n + 14]).unwrap();
    let mki = (pick & 0x80 != 0).then(|| Mki::new(0xe1f9_7a0d, 4).unwrap());
    let mut rx = RecvContext::new(&Keying::new(suite, master, mki, None).unwrap());
    for rtcp in [false, true] {
        let mut buf = pkt.to_vec();
        let r = if rtcp {
            rx.unprotect_rtcp(&mut buf)
        } else {
            rx.unprotect_rtp(&mut buf)
        };
        match r {
            Ok(len) => assert!(len <= pkt.len()),
            Err(_) => assert_eq!(buf, pkt, "a refused packet must be unchanged"),
        }
    }
});
