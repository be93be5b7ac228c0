//! Criterion benchmarks of G.711 and DTMF detection on 20 ms frames.
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tandem_bench::fixtures::speech_frame;
use tandem_codecs::dtmf::DtmfDetector;
use tandem_codecs::g711::{self, Law};
use tandem_codecs::tone::dtmf_sequence;

fn g711(c: &mut Criterion) {
    let pcm = speech_frame();
    for law in [Law::Ulaw, Law::Alaw] {
        let name = law.encoding_name();
        let mut codes = [0u8; 160];
        g711::encode_frame(law, &pcm, &mut codes);
        let mut out = [0i16; 160];
        let mut enc = [0u8; 160];
        c.bench_function(&format!("g711/{name}/encode_160"), |b| {
            b.iter(|| g711::encode_frame(law, black_box(&pcm), black_box(&mut enc)))
        });
        c.bench_function(&format!("g711/{name}/decode_160"), |b| {
            b.iter(|| g711::decode_frame(law, black_box(&codes), black_box(&mut out)))
        });
        c.bench_function(&format!("g711/{name}/decode_encode_160"), |b| {
            b.iter(|| {
                g711::decode_frame(law, black_box(&codes), &mut out);
                g711::encode_frame(law, &out, black_box(&mut enc))
            })
        });
    }
    let codes = [0x55u8; 160];
    let mut out = [0u8; 160];
    c.bench_function("g711/transcode_ulaw_to_alaw_160", |b| {
        b.iter(|| {
            g711::transcode_frame(Law::Ulaw, Law::Alaw, black_box(&codes), black_box(&mut out))
        })
    });
}

fn dtmf(c: &mut Criterion) {
    let pcm = dtmf_sequence("5", 100, 0, -10.0);
    let frame = &pcm[..160];
    let mut det = DtmfDetector::default();
    c.bench_function("dtmf/goertzel_20ms_frame", |b| {
        b.iter(|| {
            det.process(black_box(frame), |d| {
                black_box(d);
            })
        })
    });
}

criterion_group!(benches, g711, dtmf);
criterion_main!(benches);
