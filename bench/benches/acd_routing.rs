//! Criterion benchmarks of ACD decisions with 500 agents.
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tandem_acd::{Acd, AcdConfig, AgentId, Policy, QueueId};

fn ready_acd(policy: Policy) -> Acd {
    let mut acd = Acd::new(AcdConfig::single_queue(500, policy)).unwrap();
    for a in 0..500 {
        acd.agent_login(0.0, AgentId(a)).unwrap();
        acd.agent_ready(0.0, AgentId(a)).unwrap();
    }
    while acd.poll_action().is_some() {}
    acd
}

fn routing(c: &mut Criterion) {
    // Arrival routed to the longest-idle of 500 idle agents, answered, ended and wrapped up,
    // so the agent returns to the idle set: one full decision cycle.
    let mut acd = ready_acd(Policy::LongestIdle);
    let mut t = 1.0;
    c.bench_function("acd/route_answer_end_500_agents", |b| {
        b.iter(|| {
            t += 1.0;
            let call = acd.call_arrived(t, QueueId(0), 7).unwrap();
            let agent = match acd.poll_action() {
                Some(tandem_acd::Action::Offer { agent, .. }) => agent,
                other => panic!("{other:?}"),
            };
            acd.agent_answered(t, agent).unwrap();
            acd.call_ended(t, call).unwrap();
            acd.wrap_up_done(t, agent).unwrap();
            while acd.poll_action().is_some() {}
            black_box(call)
        })
    });
    // All 500 agents busy: an arrival queues and then abandons.
    let mut busy = ready_acd(Policy::LongestIdle);
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
    let mut sb = ready_acd(Policy::SkillsBased);
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
