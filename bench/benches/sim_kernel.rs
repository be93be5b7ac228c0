//! Criterion benchmarks of the simulator: the M/M/n+M model with 500 agents at 95% load over
//! 1,000,000 calls, a full day of a 700-agent centre with every feature on, and the bare
//! event kernel.
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tandem_bench::fixtures;
use tandem_load::rigs::scenarios::mmnm_500_million;
use tandem_sim::{Scenario, simulate};

fn models(c: &mut Criterion) {
    let mut g = c.benchmark_group("sim");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let sc = mmnm_500_million();
    g.throughput(Throughput::Elements(1_000_000));
    g.bench_function("mmnm_500_agents_1M_calls", |b| {
        b.iter(|| black_box(simulate(&sc, 1, &|_| {}).unwrap().counts.offered))
    });
    let day = Scenario::built_in("day-700").unwrap();
    g.throughput(Throughput::Elements(200_000));
    g.bench_function("day_700_agents_all_features", |b| {
        b.iter(|| black_box(simulate(&day, 1, &|_| {}).unwrap().counts.offered))
    });
    g.finish();
}

fn kernel(c: &mut Criterion) {
    let mut g = c.benchmark_group("kernel");
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("100k_events_1k_pending", |b| {
        b.iter(|| {
            let mut k = fixtures::loaded_kernel();
            let mut x = 0x2545_F491_4F6C_DD1Du64;
            fixtures::kernel_churn(&mut k, 100_000, &mut x);
            black_box(k.processed())
        })
    });
    g.finish();
}

criterion_group!(benches, models, kernel);
criterion_main!(benches);
