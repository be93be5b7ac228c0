//! Criterion benchmarks of ACD decisions with 500 agents: the operations an M/M/n+M
//! simulation performs per call (arrival routed to an idle agent, abandon from the queue, a
//! freed agent taking the next waiting call), and the routing cost of each policy.
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tandem_acd::{Acd, Action, AgentId, CallId, Policy, QueueId, Seconds};
use tandem_bench::fixtures::{ready_acd, route_cycle};

const AGENTS: u32 = 500;

fn drain(acd: &mut Acd) {
    while acd.poll_action().is_some() {}
}

/// All agents talking and `waiting` calls in the queue; returns the talking calls by agent.
fn busy_acd(waiting: u32) -> (Acd, Vec<CallId>) {
    let mut acd = ready_acd(AGENTS, Policy::LongestIdle);
    let mut talking = vec![CallId(0); AGENTS as usize];
    for i in 0..AGENTS {
        let c = acd
            .call_arrived(Seconds(1.0), QueueId(0), u64::from(i))
            .unwrap();
        let Some(Action::Offer { agent, .. }) = acd.poll_action() else {
            panic!("idle agents remain")
        };
        acd.agent_answered(Seconds(1.0), agent).unwrap();
        talking[agent.0 as usize] = c;
    }
    for i in 0..waiting {
        acd.call_arrived(Seconds(1.0), QueueId(0), u64::from(i))
            .unwrap();
    }
    drain(&mut acd);
    (acd, talking)
}

fn routing(c: &mut Criterion) {
    // Arrival routed to the longest-idle of 500 idle agents; the caller then hangs up while
    // it rings, so the agent returns to the idle set (at the back).
    let mut acd = ready_acd(AGENTS, Policy::LongestIdle);
    let mut t = 1.0;
    c.bench_function("acd/arrive_offer_longest_idle_500", |b| {
        b.iter(|| {
            t += 1.0;
            let call = acd.call_arrived(Seconds(t), QueueId(0), 7).unwrap();
            let Some(Action::Offer { .. }) = acd.poll_action() else {
                panic!("an idle agent is offered the call")
            };
            acd.caller_abandoned(Seconds(t), call).unwrap();
            drain(&mut acd);
            black_box(call)
        })
    });

    // One full decision cycle with idle agents: arrival, offer, answer, end, wrap-up.
    let mut acd = ready_acd(AGENTS, Policy::LongestIdle);
    c.bench_function("acd/route_answer_end_500_agents", |b| {
        b.iter(|| {
            t += 1.0;
            black_box(route_cycle(&mut acd, t, 7))
        })
    });

    // All 500 agents busy and 50 calls waiting: an arrival queues and then abandons.
    let (mut busy, _) = busy_acd(50);
    c.bench_function("acd/queue_then_abandon_500_busy", |b| {
        b.iter(|| {
            t += 1.0;
            let call = busy.call_arrived(Seconds(t), QueueId(0), 9).unwrap();
            busy.caller_abandoned(Seconds(t), call).unwrap();
            drain(&mut busy);
            black_box(call)
        })
    });

    // All 500 agents busy and 50 calls waiting: a talking agent ends and wraps up, takes the
    // head of the queue and answers it; a new arrival joins the tail (queue length stays 50).
    let (mut busy, mut talking) = busy_acd(50);
    let mut next = 0usize;
    c.bench_function("acd/agent_free_takes_next_call_500_busy", |b| {
        b.iter(|| {
            t += 1.0;
            let a = AgentId(next as u32);
            next = (next + 1) % AGENTS as usize;
            busy.call_ended(Seconds(t), talking[a.0 as usize]).unwrap();
            busy.wrap_up_done(Seconds(t), a).unwrap();
            talking[a.0 as usize] = busy.agent_answered(Seconds(t), a).unwrap();
            busy.call_arrived(Seconds(t), QueueId(0), 9).unwrap();
            drain(&mut busy);
            black_box(a)
        })
    });

    // The other policies: arrival offered among 500 idle agents, freed by a ring abandon.
    for (name, policy) in [
        ("acd/arrive_offer_skills_based_500", Policy::SkillsBased),
        ("acd/arrive_offer_round_robin_500", Policy::RoundRobin),
        ("acd/arrive_offer_fewest_calls_500", Policy::FewestCalls),
        ("acd/arrive_offer_random_500", Policy::Random),
    ] {
        let mut acd = ready_acd(AGENTS, policy);
        c.bench_function(name, |b| {
            b.iter(|| {
                t += 1.0;
                let call = acd.call_arrived(Seconds(t), QueueId(0), 7).unwrap();
                acd.caller_abandoned(Seconds(t), call).unwrap();
                drain(&mut acd);
                black_box(call)
            })
        });
    }
}

criterion_group!(benches, routing);
criterion_main!(benches);
