//! Hand-worked routing scenarios, one per policy and feature.

use tandem_acd::*;

fn q(i: u32) -> QueueId {
    QueueId(i)
}
fn ag(i: u32) -> AgentId {
    AgentId(i)
}

fn drain(acd: &mut Acd) -> Vec<Action> {
    std::iter::from_fn(|| acd.poll_action()).collect()
}

fn offers(actions: &[Action]) -> Vec<(CallId, AgentId)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Offer { call, agent } => Some((*call, *agent)),
            _ => None,
        })
        .collect()
}

/// An ACD whose agents log in and become ready in the order given.
fn ready(cfg: AcdConfig, order: &[u32], t0: f64) -> Acd {
    let mut acd = Acd::new(cfg).unwrap();
    for (i, &a) in order.iter().enumerate() {
        let t = t0 + i as f64;
        acd.agent_login(Seconds(t), ag(a)).unwrap();
        acd.agent_ready(Seconds(t), ag(a)).unwrap();
    }
    drain(&mut acd);
    acd
}

#[test]
fn longest_idle_gets_the_call() {
    let mut acd = ready(
        AcdConfig::single_queue(3, Policy::LongestIdle),
        &[2, 0, 1],
        0.0,
    );
    let c = acd.call_arrived(Seconds(10.0), q(0), 100).unwrap();
    assert_eq!(offers(&drain(&mut acd)), vec![(c, ag(2))]);
    let c2 = acd.call_arrived(Seconds(11.0), q(0), 101).unwrap();
    assert_eq!(offers(&drain(&mut acd)), vec![(c2, ag(0))]);
}

#[test]
fn round_robin_rotates_in_configuration_order() {
    let mut acd = ready(
        AcdConfig::single_queue(3, Policy::RoundRobin),
        &[2, 1, 0],
        0.0,
    );
    let mut got = Vec::new();
    for i in 0..6 {
        let c = acd.call_arrived(Seconds(10.0 + i as f64), q(0), i).unwrap();
        let o = offers(&drain(&mut acd));
        assert_eq!(o[0].0, c);
        let a = o[0].1;
        got.push(a.0);
        acd.agent_answered(Seconds(10.5 + i as f64), a).unwrap();
        acd.call_ended(Seconds(10.6 + i as f64), c).unwrap();
        acd.wrap_up_done(Seconds(10.7 + i as f64), a).unwrap();
        drain(&mut acd);
    }
    assert_eq!(got, vec![0, 1, 2, 0, 1, 2]);
}

#[test]
fn fewest_calls_balances_load() {
    let mut acd = ready(
        AcdConfig::single_queue(2, Policy::FewestCalls),
        &[0, 1],
        0.0,
    );
    // Agent 0 takes a call and finishes it; it becomes the longest... no: most recently idle.
    let c = acd.call_arrived(Seconds(5.0), q(0), 1).unwrap();
    let a = offers(&drain(&mut acd))[0].1;
    assert_eq!(a, ag(0)); // both have 0 calls: longest idle breaks the tie
    acd.agent_answered(Seconds(5.1), a).unwrap();
    acd.call_ended(Seconds(6.0), c).unwrap();
    acd.wrap_up_done(Seconds(6.1), a).unwrap();
    drain(&mut acd);
    // Now agent 0 has 1 call, agent 1 has 0.
    acd.call_arrived(Seconds(7.0), q(0), 2).unwrap();
    assert_eq!(offers(&drain(&mut acd))[0].1, ag(1));
}

#[test]
fn skills_based_prefers_the_highest_level() {
    let mut cfg = AcdConfig::single_queue(3, Policy::SkillsBased);
    cfg.agents[0].skills = vec![(q(0), 2)];
    cfg.agents[1].skills = vec![(q(0), 9)];
    cfg.agents[2].skills = vec![(q(0), 5)];
    let mut acd = ready(cfg, &[0, 1, 2], 0.0);
    acd.call_arrived(Seconds(10.0), q(0), 1).unwrap();
    assert_eq!(offers(&drain(&mut acd))[0].1, ag(1));
    acd.call_arrived(Seconds(10.0), q(0), 2).unwrap();
    assert_eq!(offers(&drain(&mut acd))[0].1, ag(2));
}

#[test]
fn random_is_seeded_and_covers_every_agent() {
    let picks = |seed: u64| {
        let mut cfg = AcdConfig::single_queue(4, Policy::Random);
        cfg.seed = seed;
        let mut acd = ready(cfg, &[0, 1, 2, 3], 0.0);
        let mut v = Vec::new();
        for i in 0..200 {
            let c = acd.call_arrived(Seconds(10.0 + i as f64), q(0), i).unwrap();
            let a = offers(&drain(&mut acd))[0].1;
            v.push(a.0);
            acd.caller_abandoned(Seconds(10.5 + i as f64), c).unwrap(); // ring loss frees the agent
            drain(&mut acd);
        }
        v
    };
    let a = picks(7);
    assert_eq!(a, picks(7));
    assert_ne!(a, picks(8));
    for agent in 0..4 {
        let n = a.iter().filter(|&&x| x == agent).count();
        assert!((25..=75).contains(&n), "agent {agent} picked {n} of 200");
    }
}

#[test]
fn only_skilled_agents_are_offered() {
    let mut cfg = AcdConfig::single_queue(2, Policy::LongestIdle);
    cfg.queues.push(QueueConfig {
        name: "vip".into(),
        sl_target: 0.9,
        sl_seconds: 10.0,
        overflow: vec![],
    });
    cfg.agents[0].skills = vec![(q(1), 1)];
    let mut acd = ready(cfg, &[0, 1], 0.0);
    acd.call_arrived(Seconds(5.0), q(0), 1).unwrap();
    assert_eq!(offers(&drain(&mut acd))[0].1, ag(1));
    let c = acd.call_arrived(Seconds(5.0), q(0), 2).unwrap();
    assert!(offers(&drain(&mut acd)).is_empty());
    assert_eq!(acd.call_state(c), Some(CallState::Queued(q(0))));
}

#[test]
fn queue_is_fifo_and_agent_takes_the_oldest() {
    let mut acd = ready(AcdConfig::single_queue(1, Policy::LongestIdle), &[0], 0.0);
    let first = acd.call_arrived(Seconds(1.0), q(0), 1).unwrap();
    let waiting: Vec<CallId> = (0..3)
        .map(|i| {
            acd.call_arrived(Seconds(2.0 + i as f64), q(0), 10 + i)
                .unwrap()
        })
        .collect();
    let acts = drain(&mut acd);
    let positions: Vec<u32> = acts
        .iter()
        .filter_map(|a| match a {
            Action::Queued { position, .. } => Some(*position),
            _ => None,
        })
        .collect();
    assert_eq!(positions, vec![1, 2, 3]);
    acd.agent_answered(Seconds(1.5), ag(0)).unwrap();
    acd.call_ended(Seconds(3.0), first).unwrap();
    acd.wrap_up_done(Seconds(4.0), ag(0)).unwrap();
    assert_eq!(offers(&drain(&mut acd)), vec![(waiting[0], ag(0))]);
}

#[test]
fn vip_jumps_the_queue_and_blacklist_is_rejected() {
    let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
    cfg.vip = vec![777];
    cfg.blacklist = vec![666];
    let mut acd = ready(cfg, &[0], 0.0);
    let busy = acd.call_arrived(Seconds(1.0), q(0), 1).unwrap();
    acd.call_arrived(Seconds(2.0), q(0), 2).unwrap();
    let vip = acd.call_arrived(Seconds(3.0), q(0), 777).unwrap();
    let bl = acd.call_arrived(Seconds(4.0), q(0), 666).unwrap();
    let acts = drain(&mut acd);
    assert!(acts.contains(&Action::Released {
        call: bl,
        terminal: Terminal::Rejected
    }));
    assert!(acd.is_vip(777));
    acd.agent_answered(Seconds(1.1), ag(0)).unwrap();
    acd.call_ended(Seconds(5.0), busy).unwrap();
    acd.wrap_up_done(Seconds(5.0), ag(0)).unwrap();
    assert_eq!(offers(&drain(&mut acd)), vec![(vip, ag(0))]);
    assert_eq!(acd.stats().rejected, 1);
}

#[test]
fn ring_no_answer_returns_call_to_head_and_agent_goes_not_ready() {
    let mut cfg = AcdConfig::single_queue(2, Policy::LongestIdle);
    cfg.ring_timeout_s = Some(15.0);
    let mut acd = ready(cfg, &[0, 1], 0.0);
    let a = acd.call_arrived(Seconds(10.0), q(0), 1).unwrap();
    let acts = drain(&mut acd);
    let timer = acts
        .iter()
        .find_map(|x| match x {
            Action::ArmTimer { at, timer } => Some((*at, *timer)),
            _ => None,
        })
        .unwrap();
    assert_eq!(timer.0, Seconds(25.0));
    // Agent 1 is busy with another call; two more callers wait.
    let b = acd.call_arrived(Seconds(11.0), q(0), 2).unwrap();
    acd.agent_answered(Seconds(11.5), ag(1)).unwrap();
    let c = acd.call_arrived(Seconds(12.0), q(0), 3).unwrap();
    drain(&mut acd);
    acd.timer_fired(timer.0, timer.1);
    let acts = drain(&mut acd);
    assert!(acts.contains(&Action::RingNoAnswer {
        call: a,
        agent: ag(0)
    }));
    assert_eq!(acd.agent_state(ag(0)), Some(AgentState::NotReady));
    // When agent 1 frees up, the rung-out call goes first, ahead of the older waiting call.
    acd.call_ended(Seconds(30.0), b).unwrap();
    acd.wrap_up_done(Seconds(31.0), ag(1)).unwrap();
    assert_eq!(offers(&drain(&mut acd)), vec![(a, ag(1))]);
    assert_eq!(acd.call_state(c), Some(CallState::Queued(q(0))));
    assert_eq!(acd.stats().ring_no_answer, 1);
}

#[test]
fn overflow_after_wait_keeps_age_in_the_target_queue() {
    let mut cfg = AcdConfig::single_queue(2, Policy::LongestIdle);
    cfg.queues.push(QueueConfig {
        name: "backup".into(),
        sl_target: 0.8,
        sl_seconds: 20.0,
        overflow: vec![],
    });
    cfg.queues[0].overflow = vec![OverflowRule {
        trigger: OverflowTrigger::WaitAtLeast(30.0),
        target: OverflowTarget::Queue(q(1)),
    }];
    cfg.agents[0].skills = vec![(q(0), 1)];
    cfg.agents[1].skills = vec![(q(1), 1)];
    let mut acd = Acd::new(cfg).unwrap();
    for a in [0, 1] {
        acd.agent_login(Seconds(0.0), ag(a)).unwrap();
    }
    // Both agents not ready: calls wait.
    let old = acd.call_arrived(Seconds(1.0), q(0), 1).unwrap();
    let acts = drain(&mut acd);
    let (at, timer) = acts
        .iter()
        .find_map(|x| match x {
            Action::ArmTimer { at, timer } => Some((*at, *timer)),
            _ => None,
        })
        .unwrap();
    assert_eq!(at, Seconds(31.0));
    let native = acd.call_arrived(Seconds(20.0), q(1), 2).unwrap();
    drain(&mut acd);
    acd.timer_fired(at, timer);
    let acts = drain(&mut acd);
    assert!(acts.contains(&Action::Overflowed {
        call: old,
        from: q(0),
        to: q(1)
    }));
    // The overflowed call arrived first, so it is served before the native one.
    acd.agent_ready(Seconds(40.0), ag(1)).unwrap();
    assert_eq!(offers(&drain(&mut acd)), vec![(old, ag(1))]);
    assert_eq!(acd.call_state(native), Some(CallState::Queued(q(1))));
}

#[test]
fn overflow_to_voicemail_on_queue_length() {
    let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
    cfg.queues[0].overflow = vec![OverflowRule {
        trigger: OverflowTrigger::QueueLengthAtLeast(2),
        target: OverflowTarget::Voicemail,
    }];
    let mut acd = Acd::new(cfg).unwrap();
    acd.agent_login(Seconds(0.0), ag(0)).unwrap();
    for i in 0..2 {
        acd.call_arrived(Seconds(1.0), q(0), i).unwrap();
    }
    let third = acd.call_arrived(Seconds(2.0), q(0), 9).unwrap();
    assert!(drain(&mut acd).contains(&Action::Released {
        call: third,
        terminal: Terminal::OverflowToVoicemail
    }));
    assert_eq!(acd.queue_len(q(0)), 2);
}

fn callback_cfg(max_entries: usize, max_attempts: u32) -> AcdConfig {
    let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
    cfg.callback = Some(CallbackConfig {
        offer_when_expected_wait_s: 0.0,
        max_entries,
        expire_after_s: 600.0,
        max_attempts,
        start_at_s: 0.0,
    });
    cfg
}

#[test]
fn callback_list_is_bounded_and_deduplicated() {
    let mut acd = Acd::new(callback_cfg(2, 1)).unwrap();
    acd.agent_login(Seconds(0.0), ag(0)).unwrap(); // not ready: every call finds no agent
    let c1 = acd.call_arrived(Seconds(1.0), q(0), 100).unwrap();
    let c2 = acd.call_arrived(Seconds(2.0), q(0), 100).unwrap(); // same number again
    let c3 = acd.call_arrived(Seconds(3.0), q(0), 200).unwrap();
    let c4 = acd.call_arrived(Seconds(4.0), q(0), 300).unwrap(); // list full: queued instead
    let acts = drain(&mut acd);
    for c in [c1, c2, c3] {
        assert!(acts.contains(&Action::Released {
            call: c,
            terminal: Terminal::CallbackReleased
        }));
    }
    assert_eq!(acd.call_state(c4), Some(CallState::Queued(q(0))));
    assert_eq!(acd.callback_backlog(), 2);
}

#[test]
fn callbacks_are_dialled_when_idle_and_retried_then_expire() {
    let mut acd = Acd::new(callback_cfg(10, 2)).unwrap();
    acd.agent_login(Seconds(0.0), ag(0)).unwrap();
    acd.call_arrived(Seconds(1.0), q(0), 100).unwrap();
    acd.call_arrived(Seconds(2.0), q(0), 200).unwrap();
    drain(&mut acd);
    // The agent becomes ready with no inbound call waiting: the first callback is dialled.
    acd.agent_ready(Seconds(10.0), ag(0)).unwrap();
    let acts = drain(&mut acd);
    let Some(Action::DialCallback {
        entry,
        number,
        agent,
    }) = acts.first().copied()
    else {
        panic!("{acts:?}")
    };
    assert_eq!((number, agent), (100, ag(0)));
    // No answer: the entry goes to the back; the next one is dialled.
    assert_eq!(
        acd.callback_result(Seconds(20.0), entry, false).unwrap(),
        None
    );
    let acts = drain(&mut acd);
    let Some(Action::DialCallback {
        entry: e2,
        number: n2,
        ..
    }) = acts.first().copied()
    else {
        panic!("{acts:?}")
    };
    assert_eq!(n2, 200);
    let call = acd
        .callback_result(Seconds(30.0), e2, true)
        .unwrap()
        .unwrap();
    assert_eq!(acd.agent_state(ag(0)), Some(AgentState::Talking));
    acd.call_ended(Seconds(90.0), call).unwrap();
    acd.wrap_up_done(Seconds(95.0), ag(0)).unwrap();
    // Second attempt at 100 fails too: max_attempts = 2, so it expires.
    let acts = drain(&mut acd);
    let Some(Action::DialCallback {
        entry: e3,
        number: 100,
        ..
    }) = acts.first().copied()
    else {
        panic!("{acts:?}")
    };
    acd.callback_result(Seconds(100.0), e3, false).unwrap();
    assert!(drain(&mut acd).contains(&Action::CallbackExpired {
        entry: e3,
        number: 100
    }));
    assert_eq!(acd.stats().callback_served, 1);
    assert_eq!(acd.stats().callback_expired, 1);
    assert_eq!(acd.callback_backlog(), 0);
}

#[test]
fn callback_entries_expire_by_age() {
    let mut cfg = callback_cfg(10, 3);
    cfg.callback.as_mut().unwrap().expire_after_s = 60.0;
    let mut acd = Acd::new(cfg).unwrap();
    acd.agent_login(Seconds(0.0), ag(0)).unwrap();
    acd.call_arrived(Seconds(1.0), q(0), 100).unwrap();
    // The entry's age limit is armed as a timer: 60 s after it was listed.
    let expiry = drain(&mut acd).into_iter().find_map(|a| match a {
        Action::ArmTimer { at, timer } => Some((at, timer)),
        _ => None,
    });
    assert_eq!(expiry, Some((Seconds(61.0), Timer::CallbackExpiry)));
    acd.timer_fired(Seconds(61.0), Timer::CallbackExpiry);
    assert!(
        drain(&mut acd)
            .iter()
            .any(|a| matches!(a, Action::CallbackExpired { number: 100, .. }))
    );
    assert_eq!(acd.stats().callback_expired, 1);
}

/// Caller 42 is served by an agent who then goes into wrap-up; at t = 61 the caller rings
/// back. Returns the ACD, the agent, the new call and the actions of its arrival.
fn sticky_callback_scenario() -> (Acd, AgentId, CallId, Vec<Action>) {
    let mut cfg = AcdConfig::single_queue(2, Policy::LongestIdle);
    cfg.sticky_wait_s = Some(20.0);
    let mut acd = ready(cfg, &[0, 1], 0.0);
    let c = acd.call_arrived(Seconds(5.0), q(0), 42).unwrap();
    let a = offers(&drain(&mut acd))[0].1;
    acd.agent_answered(Seconds(5.5), a).unwrap();
    acd.call_ended(Seconds(60.0), c).unwrap();
    let again = acd.call_arrived(Seconds(61.0), q(0), 42).unwrap();
    let acts = drain(&mut acd);
    (acd, a, again, acts)
}

#[test]
fn sticky_agent_waits_for_the_last_agent() {
    // The other agent is idle, but the call waits for the sticky agent in wrap-up.
    let (mut acd, a, again, acts) = sticky_callback_scenario();
    assert!(offers(&acts).is_empty());
    acd.wrap_up_done(Seconds(65.0), a).unwrap();
    assert_eq!(offers(&drain(&mut acd)), vec![(again, a)]);
}

#[test]
fn sticky_wait_expires_to_any_agent() {
    let (mut acd, a, again, acts) = sticky_callback_scenario();
    let (at, timer) = acts
        .iter()
        .find_map(|x| match x {
            Action::ArmTimer { at, timer } => Some((*at, *timer)),
            _ => None,
        })
        .unwrap();
    acd.timer_fired(at, timer);
    let other = AgentId(1 - a.0);
    assert_eq!(offers(&drain(&mut acd)), vec![(again, other)]);
}

#[test]
fn bad_commands_are_errors_and_change_nothing() {
    let mut acd = ready(AcdConfig::single_queue(1, Policy::LongestIdle), &[0], 0.0);
    assert!(matches!(
        acd.agent_answered(Seconds(1.0), ag(0)),
        Err(AcdError::AgentState { .. })
    ));
    assert!(matches!(
        acd.agent_login(Seconds(1.0), ag(5)),
        Err(AcdError::UnknownAgent(_))
    ));
    assert!(matches!(
        acd.call_arrived(Seconds(1.0), q(3), 1),
        Err(AcdError::UnknownQueue(_))
    ));
    let c = acd.call_arrived(Seconds(2.0), q(0), 1).unwrap();
    assert!(matches!(
        acd.call_ended(Seconds(2.0), c),
        Err(AcdError::CallState { .. })
    ));
    acd.caller_abandoned(Seconds(3.0), c).unwrap();
    assert!(matches!(
        acd.caller_abandoned(Seconds(3.0), c),
        Err(AcdError::UnknownCall(_))
    ));
    assert_eq!(acd.agent_state(ag(0)), Some(AgentState::Idle));
    let mut bad = AcdConfig::single_queue(1, Policy::LongestIdle);
    bad.queues[0].overflow = vec![OverflowRule {
        trigger: OverflowTrigger::WaitAtLeast(1.0),
        target: OverflowTarget::Queue(q(9)),
    }];
    assert!(matches!(Acd::new(bad), Err(AcdError::Config(_))));
}

#[test]
fn agent_time_in_state_adds_up() {
    let mut acd = ready(AcdConfig::single_queue(1, Policy::LongestIdle), &[0], 0.0);
    let c = acd.call_arrived(Seconds(10.0), q(0), 1).unwrap();
    acd.agent_answered(Seconds(13.0), ag(0)).unwrap();
    acd.call_ended(Seconds(73.0), c).unwrap();
    acd.wrap_up_done(Seconds(83.0), ag(0)).unwrap();
    acd.agent_not_ready(Seconds(100.0), ag(0)).unwrap();
    let s = acd.agent_stats(ag(0)).unwrap();
    // Idle 0-10 and 83-100, ringing 10-13, talking 13-73, wrap-up 73-83.
    assert_eq!(s.seconds_in, [0.0, 27.0, 0.0, 3.0, 60.0, 10.0]);
    assert_eq!(s.calls_handled, 1);
}
