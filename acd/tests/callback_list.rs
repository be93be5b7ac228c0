//! Property tests of the callback list over random traffic: it stays within its bound, holds a
//! number at most once, dials an entry at most `max_attempts` times, and every entry ends once
//! (served or expired) and is never dialled afterwards.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use tandem_acd::*;

const MAX_ENTRIES: usize = 4;
const MAX_ATTEMPTS: u32 = 2;

#[derive(Clone, Debug)]
enum Op {
    /// A caller arrives (offered a callback when both agents are busy).
    Arrive(u64),
    /// The oldest outstanding dial gets its result.
    DialResult(bool),
    /// Time passes (entries may expire).
    Wait(u8),
    /// A talking agent finishes its call and wrap-up.
    Finish(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u64..8).prop_map(Op::Arrive),
        3 => any::<bool>().prop_map(Op::DialResult),
        1 => any::<u8>().prop_map(Op::Wait),
        3 => any::<usize>().prop_map(Op::Finish),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn callback_list_keeps_its_promises(ops in prop::collection::vec(op(), 1..200)) {
        let mut cfg = AcdConfig::single_queue(2, Policy::LongestIdle);
        cfg.callback = Some(CallbackConfig {
            offer_when_expected_wait_s: 0.0,
            max_entries: MAX_ENTRIES,
            expire_after_s: 120.0,
            max_attempts: MAX_ATTEMPTS,
            start_at_s: 0.0,
        });
        let mut acd = Acd::new(cfg).unwrap();
        let mut now = 0.0;
        for a in 0..2 {
            acd.agent_login(Seconds(now), AgentId(a)).unwrap();
            acd.agent_ready(Seconds(now), AgentId(a)).unwrap();
        }
        let mut dialling: Vec<(CallbackId, u64)> = Vec::new();
        let mut attempts: HashMap<CallbackId, u32> = HashMap::new();
        let mut ended: HashSet<CallbackId> = HashSet::new();
        let mut talking: Vec<CallId> = Vec::new();
        let mut served = 0u64;
        // The ACD's timers (callback expiry), fired in time order as the clock passes them.
        let mut timers: Vec<(Seconds, Timer)> = Vec::new();
        for op in ops {
            now += 1.0;
            if let Op::Wait(s) = op {
                now += f64::from(s);
            }
            timers.sort_by(|a, b| b.0.get().total_cmp(&a.0.get()));
            while timers.last().is_some_and(|(at, _)| at.get() <= now) {
                let (at, timer) = timers.pop().unwrap();
                acd.timer_fired(at, timer);
            }
            match op {
                Op::Arrive(caller) => {
                    // Offered calls are answered below, as their `Offer` is drained.
                    acd.call_arrived(Seconds(now), QueueId(0), caller).unwrap();
                }
                Op::DialResult(answered) => {
                    if !dialling.is_empty() {
                        let (id, _) = dialling.remove(0);
                        if let Some(c) = acd.callback_result(Seconds(now), id, answered).unwrap() {
                            prop_assert!(answered);
                            ended.insert(id);
                            served += 1;
                            talking.push(c);
                        }
                    }
                }
                Op::Wait(_) => {}
                Op::Finish(i) => {
                    if !talking.is_empty() {
                        let c = talking.remove(i % talking.len());
                        let Some(CallState::Talking(a)) = acd.call_state(c) else {
                            return Err(TestCaseError::fail("talking call lost"));
                        };
                        acd.call_ended(Seconds(now), c).unwrap();
                        acd.wrap_up_done(Seconds(now), a).unwrap();
                    }
                }
            }
            while let Some(action) = acd.poll_action() {
                match action {
                    Action::DialCallback { entry, number, agent } => {
                        prop_assert!(!ended.contains(&entry), "ended entry dialled");
                        prop_assert!(
                            dialling.iter().all(|&(_, n)| n != number),
                            "number {} dialled twice at once", number
                        );
                        let n = attempts.entry(entry).or_default();
                        *n += 1;
                        prop_assert!(*n <= MAX_ATTEMPTS);
                        prop_assert_eq!(acd.agent_state(agent), Some(AgentState::Ringing));
                        dialling.push((entry, number));
                    }
                    Action::ArmTimer { at, timer } => timers.push((at, timer)),
                    Action::CallbackExpired { entry, .. } => {
                        prop_assert!(ended.insert(entry), "entry ended twice");
                    }
                    Action::Offer { call, agent } => {
                        prop_assert_eq!(acd.agent_answered(Seconds(now), agent).unwrap(), call);
                        talking.push(call);
                    }
                    _ => {}
                }
            }
            prop_assert!(acd.callback_backlog() <= MAX_ENTRIES);
            prop_assert!(dialling.len() <= 2, "more dials than agents");
        }
        let s = acd.stats();
        prop_assert_eq!(s.callback_served, served);
        prop_assert_eq!(s.callback_served + s.callback_expired, ended.len() as u64);
        // Every entry ever dialled is still on the list or has ended.
        let open = attempts.keys().filter(|e| !ended.contains(e)).count();
        prop_assert!(open <= acd.callback_backlog());
    }
}
