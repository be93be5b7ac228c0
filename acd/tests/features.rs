//! Hand-worked scenarios for multi-skill routing, caller lists, positions, records,
//! heartbeats and deadlines.

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

fn offered_to(actions: &[Action]) -> Option<AgentId> {
    actions.iter().find_map(|a| match a {
        Action::Offer { agent, .. } => Some(*agent),
        _ => None,
    })
}

fn position(actions: &[Action]) -> Option<u32> {
    actions.iter().find_map(|a| match a {
        Action::Queued { position, .. } => Some(*position),
        _ => None,
    })
}

fn two_queues(policy: Policy) -> AcdConfig {
    let mut cfg = AcdConfig::single_queue(4, policy);
    cfg.queues.push(QueueConfig {
        name: "sales".into(),
        sl_target: 0.8,
        sl_seconds: 20.0,
        overflow: vec![],
    });
    cfg
}

/// Logs agents in and makes them ready one second apart, in the order given.
fn ready(acd: &mut Acd, order: &[u32]) {
    for (i, &a) in order.iter().enumerate() {
        acd.agent_login(i as f64, ag(a)).unwrap();
        acd.agent_ready(i as f64, ag(a)).unwrap();
    }
    drain(acd);
}

#[test]
fn longest_idle_is_per_queue() {
    // Agent 0 (idle longest) serves queue 0 only; agents 2 and 1 serve queue 1.
    let mut cfg = two_queues(Policy::LongestIdle);
    cfg.agents[0].skills = vec![(q(0), 1)];
    cfg.agents[1].skills = vec![(q(0), 1), (q(1), 1)];
    cfg.agents[2].skills = vec![(q(1), 1)];
    cfg.agents[3].skills = vec![];
    let mut acd = Acd::new(cfg).unwrap();
    ready(&mut acd, &[0, 2, 1, 3]);
    acd.call_arrived(10.0, q(1), 1).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(2)));
    acd.call_arrived(11.0, q(1), 2).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(1)));
    // Queue 1 has nobody idle now; queue 0 still has agent 0.
    assert_eq!(acd.idle_agents_for(q(1)), 0);
    assert_eq!(acd.idle_agents_for(q(0)), 1);
    let c = acd.call_arrived(12.0, q(1), 3).unwrap();
    assert_eq!(position(&drain(&mut acd)), Some(1));
    assert_eq!(acd.call_state(c), Some(CallState::Queued(q(1))));
}

#[test]
fn skills_based_breaks_level_ties_by_idle_time() {
    let mut cfg = AcdConfig::single_queue(4, Policy::SkillsBased);
    for (a, level) in [(0, 2), (1, 5), (2, 5), (3, 1)] {
        cfg.agents[a].skills = vec![(q(0), level)];
    }
    let mut acd = Acd::new(cfg).unwrap();
    ready(&mut acd, &[2, 3, 0, 1]);
    // Level 5: agents 2 (idle since 0) and 1 (since 3): 2 first, then 1, then level 2, 1.
    let mut got = Vec::new();
    for i in 0..4u32 {
        acd.call_arrived(10.0 + f64::from(i), q(0), u64::from(i))
            .unwrap();
        got.push(offered_to(&drain(&mut acd)).unwrap().0);
    }
    assert_eq!(got, vec![2, 1, 0, 3]);
}

#[test]
fn round_robin_skips_busy_agents_and_wraps() {
    let mut acd = Acd::new(AcdConfig::single_queue(4, Policy::RoundRobin)).unwrap();
    ready(&mut acd, &[0, 1, 2, 3]);
    let c0 = acd.call_arrived(10.0, q(0), 1).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(0)));
    acd.call_arrived(11.0, q(0), 2).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(1)));
    // Agent 2 goes on a break: the next call skips it.
    acd.agent_not_ready(12.0, ag(2)).unwrap();
    acd.call_arrived(13.0, q(0), 3).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(3)));
    // Agent 0 frees up (ring abandon); the pointer wraps around to it.
    acd.caller_abandoned(14.0, c0).unwrap();
    drain(&mut acd);
    acd.call_arrived(15.0, q(0), 4).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(0)));
}

#[test]
fn fewest_calls_ties_go_to_the_longest_idle() {
    let mut acd = Acd::new(AcdConfig::single_queue(3, Policy::FewestCalls)).unwrap();
    ready(&mut acd, &[1, 2, 0]);
    // Agent 1 (longest idle) takes and completes a call: it now has 1 call.
    let c = acd.call_arrived(10.0, q(0), 1).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(1)));
    acd.agent_answered(11.0, ag(1)).unwrap();
    acd.call_ended(12.0, c).unwrap();
    acd.wrap_up_done(13.0, ag(1)).unwrap();
    drain(&mut acd);
    // 2 and 0 have no calls; 2 has been idle longer.
    acd.call_arrived(14.0, q(0), 2).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(2)));
    acd.call_arrived(15.0, q(0), 3).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(0)));
    acd.call_arrived(16.0, q(0), 4).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(1)));
}

#[test]
fn queue_positions_count_calls_ahead_and_vips_go_first() {
    let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
    cfg.vip = vec![77, 78];
    let mut acd = Acd::new(cfg).unwrap();
    acd.agent_login(0.0, ag(0)).unwrap();
    let mut pos = Vec::new();
    let mut calls = Vec::new();
    for caller in [1, 2, 77, 3, 78] {
        calls.push(acd.call_arrived(1.0, q(0), caller).unwrap());
        pos.push(position(&drain(&mut acd)).unwrap());
    }
    // 1 → 1st, 2 → 2nd, VIP 77 → 1st, 3 → 4th, VIP 78 → 2nd (behind VIP 77).
    assert_eq!(pos, vec![1, 2, 1, 4, 2]);
    let order: Vec<CallId> = acd.queued_calls(q(0)).collect();
    assert_eq!(
        order,
        vec![calls[2], calls[4], calls[0], calls[1], calls[3]]
    );
    assert!(acd.is_vip(77) && !acd.is_vip(1));
}

#[test]
fn vip_set_agent_takes_the_call_when_idle() {
    let mut cfg = AcdConfig::single_queue(3, Policy::LongestIdle);
    cfg.vip = vec![500];
    cfg.vip_agent = vec![(500, ag(2))];
    let mut acd = Acd::new(cfg).unwrap();
    ready(&mut acd, &[0, 1, 2]);
    // Agent 0 is the longest idle, but the VIP's set agent 2 is idle.
    let vip = acd.call_arrived(10.0, q(0), 500).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(2)));
    // With the set agent busy, the VIP goes to the longest-idle agent.
    acd.caller_abandoned(11.0, vip).unwrap();
    acd.agent_not_ready(11.0, ag(2)).unwrap();
    drain(&mut acd);
    acd.call_arrived(12.0, q(0), 500).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(0)));
}

#[test]
fn run_time_blacklist_rejects_busy() {
    let mut acd = Acd::new(AcdConfig::single_queue(1, Policy::LongestIdle)).unwrap();
    acd.set_blacklisted(13, true);
    let c = acd.call_arrived(1.0, q(0), 13).unwrap();
    assert_eq!(
        drain(&mut acd),
        vec![Action::Released {
            call: c,
            terminal: Terminal::Rejected
        }]
    );
    assert_eq!(acd.call_state(c), None);
    acd.set_blacklisted(13, false);
    let c = acd.call_arrived(2.0, q(0), 13).unwrap();
    assert_eq!(acd.call_state(c), Some(CallState::Queued(q(0))));
    assert_eq!(acd.stats().rejected, 1);
}

#[test]
fn overflow_on_expected_wait_goes_to_ivr() {
    let mut cfg = AcdConfig::single_queue(2, Policy::LongestIdle);
    cfg.queues[0].overflow = vec![OverflowRule {
        trigger: OverflowTrigger::ExpectedWaitAtLeast(100.0),
        target: OverflowTarget::Ivr,
    }];
    let mut acd = Acd::new(cfg).unwrap();
    acd.set_expected_handle_time(60.0);
    acd.agent_login(0.0, ag(0)).unwrap();
    acd.agent_login(0.0, ag(1)).unwrap();
    // Two staffed agents, none ready, AHT 60 s: the k-th waiting call expects k × 30 s.
    let mut released = Vec::new();
    for i in 0..5 {
        let c = acd.call_arrived(1.0, q(0), i).unwrap();
        let acts = drain(&mut acd);
        released.push(acts.contains(&Action::Released {
            call: c,
            terminal: Terminal::OverflowToIvr,
        }));
    }
    // Expected waits on arrival: 30, 60, 90, 120 → IVR, then 120 again → IVR.
    assert_eq!(released, vec![false, false, false, true, true]);
    assert_eq!(acd.queue_len(q(0)), 3);
    assert_eq!(acd.stats().overflow_ivr, 2);
}

#[test]
fn callback_overflow_when_list_full_keeps_the_call_queued() {
    let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
    cfg.queues[0].overflow = vec![OverflowRule {
        trigger: OverflowTrigger::WaitAtLeast(10.0),
        target: OverflowTarget::Callback,
    }];
    cfg.callback = Some(CallbackConfig {
        offer_when_expected_wait_s: f64::INFINITY,
        max_entries: 1,
        expire_after_s: 600.0,
        max_attempts: 1,
        start_at_s: 0.0,
    });
    let mut acd = Acd::new(cfg).unwrap();
    acd.agent_login(0.0, ag(0)).unwrap();
    let a = acd.call_arrived(1.0, q(0), 1).unwrap();
    let b = acd.call_arrived(2.0, q(0), 2).unwrap();
    let timers: Vec<(f64, Timer)> = drain(&mut acd)
        .into_iter()
        .filter_map(|x| match x {
            Action::ArmTimer { at, timer } => Some((at, timer)),
            _ => None,
        })
        .collect();
    assert_eq!(timers.len(), 2);
    for (at, t) in timers {
        acd.timer_fired(at, t);
    }
    // The first fills the one-entry list and is released; the second stays queued.
    assert_eq!(acd.call_state(a), None);
    assert_eq!(acd.call_state(b), Some(CallState::Queued(q(0))));
    assert_eq!(acd.callback_backlog(), 1);
    assert_eq!(acd.stats().callback_offered, 1);
}

#[test]
fn ring_no_answer_goes_straight_to_another_idle_agent() {
    let mut cfg = AcdConfig::single_queue(2, Policy::LongestIdle);
    cfg.ring_timeout_s = Some(8.0);
    let mut acd = Acd::new(cfg).unwrap();
    ready(&mut acd, &[0, 1]);
    let c = acd.call_arrived(10.0, q(0), 1).unwrap();
    drain(&mut acd);
    acd.timer_fired(18.0, Timer::RingTimeout(c, ag(0)));
    let acts = drain(&mut acd);
    assert_eq!(
        acts[0],
        Action::RingNoAnswer {
            call: c,
            agent: ag(0)
        }
    );
    assert_eq!(offered_to(&acts), Some(ag(1)));
    assert_eq!(acd.agent_state(ag(0)), Some(AgentState::NotReady));
    // The old timer is stale now and changes nothing.
    acd.timer_fired(18.0, Timer::RingTimeout(c, ag(0)));
    assert_eq!(acd.call_state(c), Some(CallState::Ringing(ag(1))));
    assert_eq!(acd.stats().ring_no_answer, 1);
}

#[test]
fn sticky_caller_stops_waiting_when_the_agent_logs_out() {
    let mut cfg = AcdConfig::single_queue(2, Policy::LongestIdle);
    cfg.sticky_wait_s = Some(30.0);
    let mut acd = Acd::new(cfg).unwrap();
    ready(&mut acd, &[0, 1]);
    // Caller 42 is served by agent 0.
    let c = acd.call_arrived(10.0, q(0), 42).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(0)));
    acd.agent_answered(11.0, ag(0)).unwrap();
    acd.call_ended(20.0, c).unwrap();
    // Agent 1 goes on a break; caller 42 calls again and waits for agent 0 (in wrap-up).
    acd.agent_not_ready(20.0, ag(1)).unwrap();
    let again = acd.call_arrived(21.0, q(0), 42).unwrap();
    drain(&mut acd);
    assert_eq!(acd.call_state(again), Some(CallState::Queued(q(0))));
    // Agent 0 ends the shift instead; agent 1 comes back and takes the caller at once.
    acd.wrap_up_done_not_ready(22.0, ag(0)).unwrap();
    acd.agent_logout(22.0, ag(0)).unwrap();
    acd.agent_ready(23.0, ag(1)).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(1)));
}

#[test]
fn heartbeat_loss_takes_silent_agents_offline() {
    let mut acd = Acd::new(AcdConfig::single_queue(3, Policy::LongestIdle)).unwrap();
    acd.set_heartbeat_timeout(Some(30.0));
    ready(&mut acd, &[0, 1, 2]);
    // Agent 0 gets a call and rings; agent 2 keeps sending heartbeats; agent 1 falls silent.
    let c = acd.call_arrived(5.0, q(0), 1).unwrap();
    drain(&mut acd);
    acd.agent_not_ready(6.0, ag(2)).unwrap();
    acd.agent_heartbeat(40.0, ag(2)).unwrap();
    assert_eq!(acd.check_heartbeats(20.0), 0);
    // At 40 s: agent 0 (last heard at 0 s, ringing since 5 s) and agent 1 (ready at 1 s) are
    // silent. The call is not re-offered to agent 1, which is going offline too.
    assert_eq!(acd.check_heartbeats(40.0), 2);
    let acts = drain(&mut acd);
    assert!(acts.contains(&Action::RingNoAnswer {
        call: c,
        agent: ag(0)
    }));
    assert_eq!(acd.agent_state(ag(0)), Some(AgentState::Offline));
    assert_eq!(acd.agent_state(ag(1)), Some(AgentState::Offline));
    assert_eq!(acd.agent_state(ag(2)), Some(AgentState::NotReady));
    // Nobody is ready: the call waits at the head of the queue.
    assert_eq!(acd.call_state(c), Some(CallState::Queued(q(0))));
    assert_eq!(acd.staffed(q(0)), 1);
    assert!(matches!(
        acd.agent_heartbeat(41.0, ag(0)),
        Err(AcdError::AgentState { .. })
    ));
    assert_eq!(
        acd.agent_heartbeat(41.0, ag(9)),
        Err(AcdError::UnknownAgent(ag(9)))
    );
}

#[test]
fn agent_records_add_up_to_agent_stats() {
    let mut acd = Acd::new(AcdConfig::single_queue(1, Policy::LongestIdle)).unwrap();
    acd.set_agent_records(true);
    acd.agent_login(0.0, ag(0)).unwrap();
    acd.agent_ready(5.0, ag(0)).unwrap();
    let c = acd.call_arrived(10.0, q(0), 1).unwrap();
    acd.agent_answered(12.0, ag(0)).unwrap();
    acd.call_ended(100.0, c).unwrap();
    acd.wrap_up_done(130.0, ag(0)).unwrap();
    let recs: Vec<AgentRecord> = acd.drain_agent_records().collect();
    let states: Vec<(AgentState, f64, f64)> =
        recs.iter().map(|r| (r.state, r.from, r.to)).collect();
    assert_eq!(
        states,
        vec![
            (AgentState::Offline, 0.0, 0.0),
            (AgentState::NotReady, 0.0, 5.0),
            (AgentState::Idle, 5.0, 10.0),
            (AgentState::Ringing, 10.0, 12.0),
            (AgentState::Talking, 12.0, 100.0),
            (AgentState::AfterCallWork, 100.0, 130.0),
        ]
    );
    let s = acd.agent_stats_at(150.0, ag(0)).unwrap();
    assert_eq!(s.seconds(AgentState::Talking), 88.0);
    assert_eq!(s.seconds(AgentState::Idle), 5.0 + 20.0);
    assert_eq!(s.logged_in(), 150.0);
    assert_eq!(s.occupancy(), Some(118.0 / 150.0));
    assert_eq!(s.calls_handled, 1);
}

#[test]
fn call_records_carry_queue_entry_and_answer_times() {
    let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
    cfg.record_calls = true;
    let mut acd = Acd::new(cfg).unwrap();
    acd.agent_login(0.0, ag(0)).unwrap();
    acd.agent_ready(0.0, ag(0)).unwrap();
    let first = acd.call_arrived(1.0, q(0), 10).unwrap();
    let second = acd.call_arrived(2.0, q(0), 20).unwrap();
    acd.agent_answered(3.0, ag(0)).unwrap();
    acd.call_ended(50.0, first).unwrap();
    acd.wrap_up_done(55.0, ag(0)).unwrap();
    acd.agent_answered(56.0, ag(0)).unwrap();
    acd.call_ended(80.0, second).unwrap();
    let recs: Vec<CallRecord> = acd.drain_records().collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(
        (
            recs[0].caller,
            recs[0].queued,
            recs[0].answered,
            recs[0].ended
        ),
        (10, None, Some(3.0), 50.0)
    );
    assert_eq!(
        (
            recs[1].caller,
            recs[1].queued,
            recs[1].answered,
            recs[1].ended
        ),
        (20, Some(2.0), Some(56.0), 80.0)
    );
    assert!(
        recs.iter()
            .all(|r| r.terminal == Terminal::Completed && r.agent == Some(ag(0)))
    );
}

#[test]
fn next_deadline_tells_when_callbacks_start_and_expire() {
    let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
    cfg.callback = Some(CallbackConfig {
        offer_when_expected_wait_s: 0.0,
        max_entries: 10,
        expire_after_s: 500.0,
        max_attempts: 1,
        start_at_s: 300.0,
    });
    let mut acd = Acd::new(cfg).unwrap();
    assert_eq!(acd.next_deadline(), None);
    acd.agent_login(0.0, ag(0)).unwrap();
    acd.call_arrived(10.0, q(0), 5).unwrap();
    acd.call_arrived(20.0, q(0), 6).unwrap();
    assert_eq!(acd.callback_backlog(), 2);
    assert_eq!(acd.next_deadline(), Some(300.0));
    // The agent becomes ready before the start time: no dial yet.
    acd.agent_ready(100.0, ag(0)).unwrap();
    drain(&mut acd);
    assert_eq!(acd.agent_state(ag(0)), Some(AgentState::Idle));
    acd.deadline_reached(300.0);
    let acts = drain(&mut acd);
    assert!(matches!(
        acts[..],
        [Action::DialCallback { number: 5, agent, .. }] if agent == ag(0)
    ));
    // One entry left, created at 20 s: it expires at 520 s.
    assert_eq!(acd.next_deadline(), Some(520.0));
    acd.deadline_reached(520.0);
    assert!(drain(&mut acd).contains(&Action::CallbackExpired {
        entry: CallbackId(2),
        number: 6
    }));
    assert_eq!(acd.next_deadline(), None);
}

#[test]
fn misuse_is_a_typed_error() {
    let mut acd = Acd::new(AcdConfig::single_queue(1, Policy::LongestIdle)).unwrap();
    assert_eq!(
        acd.callback_result(1.0, CallbackId(3), true),
        Err(AcdError::UnknownCallback(CallbackId(3)))
    );
    assert_eq!(
        acd.call_arrived(1.0, q(4), 1),
        Err(AcdError::UnknownQueue(q(4)))
    );
    assert!(matches!(
        acd.wrap_up_done(1.0, ag(0)),
        Err(AcdError::AgentState {
            state: AgentState::Offline,
            ..
        })
    ));
    let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
    cfg.agents[0].skills.push((q(0), 2));
    assert!(matches!(Acd::new(cfg), Err(AcdError::Config(_))));
}
