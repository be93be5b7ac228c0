//! Property tests over random command sequences: the ACD's books always balance.

use std::collections::{BTreeMap, HashMap, HashSet};

use proptest::prelude::*;
use tandem_acd::*;

#[derive(Clone, Debug)]
enum Op {
    Arrive { queue: u32, caller: u64 },
    Answer(usize),
    End(usize),
    Wrap(usize),
    Abandon(usize),
    Ready(usize),
    NotReady(usize),
    FireTimer,
    CallbackOutcome(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u32..2, 0u64..12).prop_map(|(queue, caller)| Op::Arrive { queue, caller }),
        3 => any::<usize>().prop_map(Op::Answer),
        3 => any::<usize>().prop_map(Op::End),
        3 => any::<usize>().prop_map(Op::Wrap),
        2 => any::<usize>().prop_map(Op::Abandon),
        1 => any::<usize>().prop_map(Op::Ready),
        1 => any::<usize>().prop_map(Op::NotReady),
        2 => Just(Op::FireTimer),
        1 => any::<bool>().prop_map(Op::CallbackOutcome),
    ]
}

fn config(policy: Policy, features: bool) -> AcdConfig {
    let mut cfg = AcdConfig::single_queue(4, policy);
    cfg.queues.push(QueueConfig {
        name: "second".into(),
        sl_target: 0.8,
        sl_seconds: 20.0,
        overflow: vec![],
    });
    cfg.agents[0].skills = vec![(QueueId(0), 3), (QueueId(1), 1)];
    cfg.agents[1].skills = vec![(QueueId(1), 2)];
    cfg.record_calls = true;
    if features {
        cfg.ring_timeout_s = Some(7.0);
        cfg.sticky_wait_s = Some(5.0);
        cfg.vip = vec![3];
        cfg.blacklist = vec![11];
        cfg.queues[0].overflow = vec![OverflowRule {
            trigger: OverflowTrigger::WaitAtLeast(9.0),
            target: OverflowTarget::Queue(QueueId(1)),
        }];
        cfg.queues[1].overflow = vec![
            OverflowRule {
                trigger: OverflowTrigger::QueueLengthAtLeast(4),
                target: OverflowTarget::Callback,
            },
            OverflowRule {
                trigger: OverflowTrigger::WaitAtLeast(30.0),
                target: OverflowTarget::Voicemail,
            },
        ];
        cfg.callback = Some(CallbackConfig {
            offer_when_expected_wait_s: 1e9,
            max_entries: 3,
            expire_after_s: 50.0,
            max_attempts: 2,
            start_at_s: 0.0,
        });
    }
    cfg
}

/// Drives the ACD, checking after every step that no agent holds two calls, and at the end
/// that every arrival reached exactly one terminal state.
fn run(policy: Policy, features: bool, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut acd = Acd::new(config(policy, features)).unwrap();
    let mut now = 0.0;
    for a in 0..4 {
        acd.agent_login(Seconds(now), AgentId(a)).unwrap();
        acd.agent_ready(Seconds(now), AgentId(a)).unwrap();
    }
    let mut timers: BTreeMap<(u64, u64), Timer> = BTreeMap::new();
    let mut timer_seq = 0u64;
    let mut arrivals: Vec<CallId> = Vec::new();
    let mut agent_call: HashMap<AgentId, CallId> = HashMap::new();
    let mut dialling: Vec<CallbackId> = Vec::new();
    let mut callback_calls = 0u64;
    for op in ops {
        now += 1.0;
        match op {
            Op::Arrive { queue, caller } => {
                arrivals.push(
                    acd.call_arrived(Seconds(now), QueueId(queue), caller)
                        .unwrap(),
                );
            }
            Op::Answer(i) => {
                let ringing: Vec<AgentId> = (0..4)
                    .map(AgentId)
                    .filter(|a| {
                        acd.agent_state(*a) == Some(AgentState::Ringing)
                            && agent_call.contains_key(a)
                    })
                    .collect();
                if !ringing.is_empty() {
                    let a = ringing[i % ringing.len()];
                    let c = acd.agent_answered(Seconds(now), a).unwrap();
                    prop_assert_eq!(Some(&c), agent_call.get(&a));
                }
            }
            Op::End(i) => {
                let talking: Vec<(AgentId, CallId)> = agent_call
                    .iter()
                    .filter(|(a, _)| acd.agent_state(**a) == Some(AgentState::Talking))
                    .map(|(a, c)| (*a, *c))
                    .collect();
                if !talking.is_empty() {
                    let mut talking = talking;
                    talking.sort();
                    let (a, c) = talking[i % talking.len()];
                    acd.call_ended(Seconds(now), c).unwrap();
                    agent_call.remove(&a);
                }
            }
            Op::Wrap(i) => {
                let acw: Vec<AgentId> = (0..4)
                    .map(AgentId)
                    .filter(|a| acd.agent_state(*a) == Some(AgentState::AfterCallWork))
                    .collect();
                if !acw.is_empty() {
                    acd.wrap_up_done(Seconds(now), acw[i % acw.len()]).unwrap();
                }
            }
            Op::Abandon(i) => {
                let live: Vec<CallId> = arrivals
                    .iter()
                    .copied()
                    .filter(|c| {
                        matches!(
                            acd.call_state(*c),
                            Some(CallState::Queued(_)) | Some(CallState::Ringing(_))
                        )
                    })
                    .collect();
                if !live.is_empty() {
                    let c = live[i % live.len()];
                    if let Some(CallState::Ringing(a)) = acd.call_state(c) {
                        agent_call.remove(&a);
                    }
                    acd.caller_abandoned(Seconds(now), c).unwrap();
                }
            }
            Op::Ready(i) => {
                let a = AgentId((i % 4) as u32);
                let _ = acd.agent_ready(Seconds(now), a);
            }
            Op::NotReady(i) => {
                let a = AgentId((i % 4) as u32);
                let _ = acd.agent_not_ready(Seconds(now), a);
            }
            Op::FireTimer => {
                if let Some((&(at, k), &t)) = timers.iter().next() {
                    timers.remove(&(at, k));
                    now = now.max(at as f64);
                    if let Timer::RingTimeout(_, a) = t {
                        if acd.agent_state(a) == Some(AgentState::Ringing) {
                            if let Some(c) = agent_call.get(&a).copied() {
                                if acd.call_state(c) == Some(CallState::Ringing(a)) {
                                    agent_call.remove(&a);
                                }
                            }
                        }
                    }
                    acd.timer_fired(Seconds(now), t);
                }
            }
            Op::CallbackOutcome(answered) => {
                if let Some(id) = dialling.pop() {
                    if let Some(c) = acd.callback_result(Seconds(now), id, answered).unwrap() {
                        callback_calls += 1;
                        let Some(CallState::Talking(a)) = acd.call_state(c) else {
                            return Err(TestCaseError::fail("answered callback is not talking"));
                        };
                        prop_assert!(!agent_call.contains_key(&a), "dialler holds a call");
                        agent_call.insert(a, c);
                    }
                }
            }
        }
        while let Some(action) = acd.poll_action() {
            match action {
                Action::Offer { call, agent } => {
                    // Never offered a second call while holding one.
                    prop_assert!(
                        !agent_call.contains_key(&agent),
                        "agent {:?} offered two calls",
                        agent
                    );
                    prop_assert!(
                        !agent_call.values().any(|c| *c == call),
                        "call offered twice"
                    );
                    agent_call.insert(agent, call);
                }
                Action::ArmTimer { at, timer } => {
                    timer_seq += 1;
                    timers.insert((at.0.ceil() as u64, timer_seq), timer);
                }
                Action::DialCallback { entry, .. } => dialling.push(entry),
                _ => {}
            }
        }
    }
    // Close the books: hang up everything still open.
    now += 1000.0;
    for c in arrivals.clone() {
        match acd.call_state(c) {
            Some(CallState::Queued(_)) | Some(CallState::Ringing(_)) => {
                acd.caller_abandoned(Seconds(now), c).unwrap()
            }
            Some(CallState::Talking(_)) => acd.call_ended(Seconds(now), c).unwrap(),
            _ => {}
        }
    }
    for c in agent_call.values() {
        if let Some(CallState::Talking(_)) = acd.call_state(*c) {
            acd.call_ended(Seconds(now), *c).unwrap();
        }
    }
    let records: Vec<CallRecord> = acd.drain_records().collect();
    let inbound = records.iter().filter(|r| !r.callback).count();
    prop_assert_eq!(inbound, arrivals.len(), "every arrival ends exactly once");
    prop_assert_eq!(records.len() as u64 - inbound as u64, callback_calls);
    let s = *acd.stats();
    let terminals = s.completed - callback_calls
        + s.abandoned_in_queue
        + s.abandoned_ringing
        + s.rejected
        + s.overflow_ivr
        + s.overflow_voicemail
        + s.callback_offered;
    prop_assert_eq!(terminals, s.offered);
    prop_assert!(arrivals.iter().all(|c| acd.call_state(*c).is_none()));
    let distinct: HashSet<CallId> = arrivals.iter().copied().collect();
    prop_assert!(distinct.len() <= arrivals.len());
    Ok(())
}

fn policy() -> impl Strategy<Value = Policy> {
    prop::sample::select(vec![
        Policy::LongestIdle,
        Policy::RoundRobin,
        Policy::FewestCalls,
        Policy::Random,
        Policy::SkillsBased,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn books_balance_with_every_feature(p in policy(), ops in prop::collection::vec(op(), 1..150)) {
        run(p, true, ops)?;
    }

    #[test]
    fn books_balance_plain(p in policy(), ops in prop::collection::vec(op(), 1..150)) {
        run(p, false, ops)?;
    }

    /// FIFO within a priority: with one queue, one priority and no ring timeouts, calls are
    /// offered in arrival order.
    #[test]
    fn fifo_within_priority(ops in prop::collection::vec(op(), 1..200)) {
        let mut acd = Acd::new(AcdConfig::single_queue(3, Policy::LongestIdle)).unwrap();
        for a in 0..3 {
            acd.agent_login(Seconds(0.0), AgentId(a)).unwrap();
        }
        let mut now = 0.0;
        let mut order: Vec<CallId> = Vec::new();
        let mut abandoned: HashSet<CallId> = HashSet::new();
        let mut offered: Vec<CallId> = Vec::new();
        for op in ops {
            now += 1.0;
            match op {
                Op::Arrive { caller, .. } => order.push(acd.call_arrived(Seconds(now), QueueId(0), caller).unwrap()),
                Op::Abandon(i) => {
                    let live: Vec<CallId> = order.iter().copied().filter(|c| matches!(acd.call_state(*c), Some(CallState::Queued(_)))).collect();
                    if !live.is_empty() {
                        let c = live[i % live.len()];
                        acd.caller_abandoned(Seconds(now), c).unwrap();
                        abandoned.insert(c);
                    }
                }
                Op::Ready(i) | Op::Wrap(i) => {
                    let a = AgentId((i % 3) as u32);
                    match acd.agent_state(a) {
                        Some(AgentState::NotReady) => acd.agent_ready(Seconds(now), a).unwrap(),
                        Some(AgentState::Ringing) => { let c = acd.agent_answered(Seconds(now), a).unwrap(); acd.call_ended(Seconds(now), c).unwrap(); acd.wrap_up_done(Seconds(now), a).unwrap(); }
                        _ => {}
                    }
                }
                _ => {}
            }
            while let Some(a) = acd.poll_action() {
                if let Action::Offer { call, .. } = a { offered.push(call); }
            }
        }
        let expected: Vec<CallId> = order.iter().copied().filter(|c| offered.contains(c)).collect();
        prop_assert_eq!(offered, expected);
    }
}
