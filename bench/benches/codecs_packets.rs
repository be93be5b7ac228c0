//! Criterion benchmarks of RTP, RTCP and RFC 4733 parsing and building.
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tandem_bench::fixtures;
use tandem_codecs::rtcp::Compound;
use tandem_codecs::rtp::{ExtensionSpec, RtpHeader, RtpPacket, rewrite_header};
use tandem_codecs::telephone_event::TelephoneEvent;

fn rtp(c: &mut Criterion) {
    let plain = fixtures::pcmu_packet();
    let els: &[(u8, &[u8])] = &[(1, &[0x90]), (3, &[1, 2, 3])];
    let mut ext = Vec::new();
    RtpHeader {
        payload_type: 8,
        sequence: 1,
        timestamp: 2,
        ssrc: 3,
        extension: Some(ExtensionSpec::OneByte(els)),
        ..Default::default()
    }
    .write(&mut ext, &[0xD5; 160])
    .unwrap();

    c.bench_function("rtp/parse_header_172B", |b| {
        b.iter(|| {
            let p = RtpPacket::parse(black_box(&plain)).unwrap();
            (p.sequence(), p.timestamp(), p.ssrc(), p.payload().len())
        })
    });
    c.bench_function("rtp/parse_with_extension_elements", |b| {
        b.iter(|| {
            let p = RtpPacket::parse(black_box(&ext)).unwrap();
            p.extension().unwrap().elements().count()
        })
    });
    let mut relay = plain.clone();
    c.bench_function("rtp/rewrite_header_in_place", |b| {
        b.iter(|| rewrite_header(black_box(&mut relay), false, black_box(7), 8, 9).unwrap())
    });
    let payload = [0xFFu8; 160];
    let mut out = [0u8; 200];
    c.bench_function("rtp/write_header_and_payload", |b| {
        b.iter(|| {
            RtpHeader {
                payload_type: 0,
                sequence: black_box(9),
                timestamp: 1,
                ssrc: 2,
                ..Default::default()
            }
            .write_into(&mut out, black_box(&payload))
            .unwrap()
        })
    });
}

fn rtcp_and_dtmf(c: &mut Criterion) {
    let v = fixtures::sr_sdes_compound();
    c.bench_function("rtcp/parse_sr_sdes_compound", |b| {
        b.iter(|| Compound::parse(black_box(&v)).unwrap().packets().count())
    });
    let ev = [5u8, 0x8A, 0x03, 0x20];
    c.bench_function("rfc4733/parse", |b| {
        b.iter(|| TelephoneEvent::parse(black_box(&ev)).unwrap())
    });
}

criterion_group!(benches, rtp, rtcp_and_dtmf);
criterion_main!(benches);
