//! Criterion benchmarks of the engine's media path: jitter buffer, bridges and rooms.
//!
//! `mix/N` is the mixing arithmetic alone (decode, sum, minus own, saturate, encode);
//! `room_tick/N` is a whole shard period for a room: packets received, jitter buffers,
//! VAD, mixing and RTP out. Room figures are per period (20 ms of audio for every participant); divide by N for
//! the cost per participant. `Throughput::Elements(N)` makes criterion print that rate.
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tandem_load::rigs::{JitterRig, MediaRig, MixRig};

fn jitter(c: &mut Criterion) {
    let mut rig = JitterRig::new();
    c.bench_function("jitter/insert_pop_20ms", |b| {
        b.iter(|| black_box(rig.cycle()))
    });
}

fn bridges(c: &mut Criterion) {
    let mut g = c.benchmark_group("bridge_100_calls");
    g.throughput(Throughput::Elements(200));
    for (name, buffered) in [("pass_through", false), ("buffered", true)] {
        let mut rig = MediaRig::bridges(100, buffered);
        g.bench_function(name, |b| b.iter(|| black_box(rig.period())));
    }
    g.finish();
}

fn mixing(c: &mut Criterion) {
    let mut g = c.benchmark_group("mix");
    for n in [3usize, 10, 100, 1000] {
        let mut rig = MixRig::new(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("{n}_participants"), |b| {
            b.iter(|| black_box(rig.tick()))
        });
    }
    g.finish();
}

fn rooms(c: &mut Criterion) {
    let mut g = c.benchmark_group("room_tick");
    for n in [3usize, 10, 100, 1000] {
        let mut rig = MediaRig::room(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("{n}_participants"), |b| {
            b.iter(|| black_box(rig.period()))
        });
    }
    g.finish();
}

criterion_group!(benches, jitter, mixing, bridges, rooms);
criterion_main!(benches);
