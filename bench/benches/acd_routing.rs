//! Criterion benchmarks of ACD decisions with 500 agents.
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tandem_acd::{Policy, QueueId};
use tandem_bench::fixtures::{ready_acd, route_cycle};

fn routing(c: &mut Criterion) {
    // Arrival routed to the longest-idle of 500 idle agents, answered, ended and wrapped up,
    // so the agent returns to the idle set: one full decision cycle.
    let mut acd = ready_acd(500, Policy::LongestIdle);
    let mut t = 1.0;
    c.bench_function("acd/route_answer_end_500_agents", |b| {
        b.iter(|| {
            t += 1.0;
            black_box(route_cycle(&mut acd, t, 7))
        })
    });
    // All 500 agents busy: an arrival queues and then abandons.
    let mut busy = ready_acd(500, Policy::LongestIdle);
    for i in 0..500 {
        busy.call_arrived(1.0, QueueId(0), i).unwrap();
    }
    while busy.poll_action().is_some() {}
    let mut t = 2.0;
    c.bench_function("acd/queue_then_abandon_500_busy", |b| {
        b.iter(|| {
            t += 1.0;
            let call = busy.call_arrived(t, QueueId(0), 9).unwrap();
            busy.caller_abandoned(t, call).unwrap();
            while busy.poll_action().is_some() {}
            black_box(call)
        })
    });
    let mut sb = ready_acd(500, Policy::SkillsBased);
    c.bench_function("acd/route_skills_based_500_agents", |b| {
        b.iter(|| {
            t += 1.0;
            let call = sb.call_arrived(t, QueueId(0), 7).unwrap();
            sb.caller_abandoned(t, call).unwrap();
            while sb.poll_action().is_some() {}
            black_box(call)
        })
    });
}

criterion_group!(benches, routing);
criterion_main!(benches);
