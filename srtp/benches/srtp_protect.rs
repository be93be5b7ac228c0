//! SRTP cost per packet: protect then unprotect one 172-byte PCMU packet (12-byte header, 20 ms
//! of G.711 at 8 kHz), for the 80- and 32-bit tag suites. Each iteration advances the
//! sequence number, as a stream does, so the replay check passes.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tandem_srtp::{Keying, RecvContext, SendContext, Suite};

const RTP_LEN: usize = 172;

fn protect_unprotect(c: &mut Criterion) {
    let mut g = c.benchmark_group("srtp");
    g.throughput(Throughput::Elements(1));
    for suite in [Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32] {
        let keying = Keying::generate(suite, &mut StdRng::seed_from_u64(1));
        let mut tx = SendContext::new(&keying);
        let mut rx = RecvContext::new(&keying);
        let mut buf = [0u8; 256];
        buf[..12].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78]);
        let mut seq: u16 = 0;
        g.bench_function(format!("protect+unprotect PCMU 172 B {suite}"), |b| {
            b.iter(|| {
                seq = seq.wrapping_add(1);
                buf[2..4].copy_from_slice(&seq.to_be_bytes());
                buf[12..RTP_LEN].fill(0xD5);
                let n = tx.protect_rtp(&mut buf, RTP_LEN).unwrap();
                let m = rx.unprotect_rtp(black_box(&mut buf[..n])).unwrap();
                black_box(m)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, protect_unprotect);
criterion_main!(benches);
