//! Hand-worked scenarios for multi-skill routing, caller lists, positions, records,
//! heartbeats and the callback timers.

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
        acd.agent_login(Seconds(i as f64), ag(a)).unwrap();
        acd.agent_ready(Seconds(i as f64), ag(a)).unwrap();
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
    acd.call_arrived(Seconds(10.0), q(1), 1).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(2)));
    acd.call_arrived(Seconds(11.0), q(1), 2).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(1)));
    // Queue 1 has nobody idle now; queue 0 still has agent 0.
    assert_eq!(acd.idle_agents_for(q(1)), 0);
    assert_eq!(acd.idle_agents_for(q(0)), 1);
    let c = acd.call_arrived(Seconds(12.0), q(1), 3).unwrap();
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
        acd.call_arrived(Seconds(10.0 + f64::from(i)), q(0), u64::from(i))
            .unwrap();
        got.push(offered_to(&drain(&mut acd)).unwrap().0);
    }
    assert_eq!(got, vec![2, 1, 0, 3]);
}

#[test]
fn round_robin_skips_busy_agents_and_wraps() {
    let mut acd = Acd::new(AcdConfig::single_queue(4, Policy::RoundRobin)).unwrap();
    ready(&mut acd, &[0, 1, 2, 3]);
    let c0 = acd.call_arrived(Seconds(10.0), q(0), 1).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(0)));
    acd.call_arrived(Seconds(11.0), q(0), 2).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(1)));
    // Agent 2 goes on a break: the next call skips it.
    acd.agent_not_ready(Seconds(12.0), ag(2)).unwrap();
    acd.call_arrived(Seconds(13.0), q(0), 3).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(3)));
    // Agent 0 frees up (ring abandon); the pointer wraps around to it.
    acd.caller_abandoned(Seconds(14.0), c0).unwrap();
    drain(&mut acd);
    acd.call_arrived(Seconds(15.0), q(0), 4).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(0)));
}

#[test]
fn fewest_calls_ties_go_to_the_longest_idle() {
    let mut acd = Acd::new(AcdConfig::single_queue(3, Policy::FewestCalls)).unwrap();
    ready(&mut acd, &[1, 2, 0]);
    // Agent 1 (longest idle) takes and completes a call: it now has 1 call.
    let c = acd.call_arrived(Seconds(10.0), q(0), 1).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(1)));
    acd.agent_answered(Seconds(11.0), ag(1)).unwrap();
    acd.call_ended(Seconds(12.0), c).unwrap();
    acd.wrap_up_done(Seconds(13.0), ag(1)).unwrap();
    drain(&mut acd);
    // 2 and 0 have no calls; 2 has been idle longer.
    acd.call_arrived(Seconds(14.0), q(0), 2).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(2)));
    acd.call_arrived(Seconds(15.0), q(0), 3).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(0)));
    acd.call_arrived(Seconds(16.0), q(0), 4).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(1)));
}

#[test]
fn queue_positions_count_calls_ahead_and_vips_go_first() {
    let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
    cfg.vip = vec![77, 78];
    let mut acd = Acd::new(cfg).unwrap();
    acd.agent_login(Seconds(0.0), ag(0)).unwrap();
    let mut pos = Vec::new();
    let mut calls = Vec::new();
    for caller in [1, 2, 77, 3, 78] {
        calls.push(acd.call_arrived(Seconds(1.0), q(0), caller).unwrap());
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
    let vip = acd.call_arrived(Seconds(10.0), q(0), 500).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(2)));
    // With the set agent busy, the VIP goes to the longest-idle agent.
    acd.caller_abandoned(Seconds(11.0), vip).unwrap();
    acd.agent_not_ready(Seconds(11.0), ag(2)).unwrap();
    drain(&mut acd);
    acd.call_arrived(Seconds(12.0), q(0), 500).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(0)));
}

#[test]
fn run_time_blacklist_rejects_busy() {
    let mut acd = Acd::new(AcdConfig::single_queue(1, Policy::LongestIdle)).unwrap();
    acd.set_blacklisted(13, true);
    let c = acd.call_arrived(Seconds(1.0), q(0), 13).unwrap();
    assert_eq!(
        drain(&mut acd),
        vec![Action::Released {
            call: c,
            terminal: Terminal::Rejected
        }]
    );
    assert_eq!(acd.call_state(c), None);
    acd.set_blacklisted(13, false);
    let c = acd.call_arrived(Seconds(2.0), q(0), 13).unwrap();
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
    acd.set_expected_handle_time(Seconds(60.0));
    acd.agent_login(Seconds(0.0), ag(0)).unwrap();
    acd.agent_login(Seconds(0.0), ag(1)).unwrap();
    // Two staffed agents, none ready, AHT 60 s: the k-th waiting call expects k × 30 s.
    let mut released = Vec::new();
    for i in 0..5 {
        let c = acd.call_arrived(Seconds(1.0), q(0), i).unwrap();
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
    acd.agent_login(Seconds(0.0), ag(0)).unwrap();
    let a = acd.call_arrived(Seconds(1.0), q(0), 1).unwrap();
    let b = acd.call_arrived(Seconds(2.0), q(0), 2).unwrap();
    let timers: Vec<(Seconds, Timer)> = drain(&mut acd)
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
    let c = acd.call_arrived(Seconds(10.0), q(0), 1).unwrap();
    drain(&mut acd);
    acd.timer_fired(Seconds(18.0), Timer::RingTimeout(c, ag(0)));
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
    acd.timer_fired(Seconds(18.0), Timer::RingTimeout(c, ag(0)));
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
    let c = acd.call_arrived(Seconds(10.0), q(0), 42).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(0)));
    acd.agent_answered(Seconds(11.0), ag(0)).unwrap();
    acd.call_ended(Seconds(20.0), c).unwrap();
    // Agent 1 goes on a break; caller 42 calls again and waits for agent 0 (in wrap-up).
    acd.agent_not_ready(Seconds(20.0), ag(1)).unwrap();
    let again = acd.call_arrived(Seconds(21.0), q(0), 42).unwrap();
    drain(&mut acd);
    assert_eq!(acd.call_state(again), Some(CallState::Queued(q(0))));
    // Agent 0 ends the shift instead; agent 1 comes back and takes the caller at once.
    acd.wrap_up_done_not_ready(Seconds(22.0), ag(0)).unwrap();
    acd.agent_logout(Seconds(22.0), ag(0)).unwrap();
    acd.agent_ready(Seconds(23.0), ag(1)).unwrap();
    assert_eq!(offered_to(&drain(&mut acd)), Some(ag(1)));
}

/// Plays the driver's part for the ACD's timers: drains its actions, keeps every timer it
/// arms, and fires them in time order (ties in the order armed) up to `until`. Returns the
/// other actions.
fn run_timers(acd: &mut Acd, timers: &mut Vec<(Seconds, Timer)>, until: f64) -> Vec<Action> {
    let mut out = Vec::new();
    loop {
        for a in drain(acd) {
            match a {
                Action::ArmTimer { at, timer } => timers.push((at, timer)),
                a => out.push(a),
            }
        }
        let next = (0..timers.len())
            .filter(|&i| timers[i].0.get() <= until)
            .min_by(|&i, &j| {
                timers[i]
                    .0
                    .get()
                    .total_cmp(&timers[j].0.get())
                    .then(i.cmp(&j))
            });
        let Some(i) = next else { return out };
        let (at, timer) = timers.remove(i);
        acd.timer_fired(at, timer);
    }
}

#[test]
fn heartbeat_loss_takes_silent_agents_offline() {
    let mut acd = Acd::new(AcdConfig::single_queue(3, Policy::LongestIdle)).unwrap();
    acd.set_heartbeat_timeout(Seconds(0.0), Some(Seconds(30.0)))
        .unwrap();
    let mut timers = Vec::new();
    for a in 0..3 {
        acd.agent_login(Seconds(0.0), ag(a)).unwrap();
        acd.agent_ready(Seconds(0.0), ag(a)).unwrap();
    }
    // Agent 0 gets a call and rings; agent 2 keeps sending heartbeats; agent 1 falls silent.
    let c = acd.call_arrived(Seconds(5.0), q(0), 1).unwrap();
    assert_eq!(
        offered_to(&run_timers(&mut acd, &mut timers, 5.0)),
        Some(ag(0))
    );
    acd.agent_not_ready(Seconds(6.0), ag(2)).unwrap();
    acd.agent_heartbeat(Seconds(25.0), ag(2)).unwrap();
    run_timers(&mut acd, &mut timers, 20.0);
    assert!((0..3).all(|a| acd.agent_state(ag(a)) != Some(AgentState::Offline)));
    // At 30 s: agent 0 (last heard at 0 s, ringing since 5 s) and agent 1 (ready at 0 s) are
    // silent. The call is not re-offered to agent 1, which is going offline too.
    let acts = run_timers(&mut acd, &mut timers, 40.0);
    assert!(acts.contains(&Action::RingNoAnswer {
        call: c,
        agent: ag(0)
    }));
    assert_eq!(offered_to(&acts), None);
    assert_eq!(acd.agent_state(ag(0)), Some(AgentState::Offline));
    assert_eq!(acd.agent_state(ag(1)), Some(AgentState::Offline));
    assert_eq!(acd.agent_state(ag(2)), Some(AgentState::NotReady));
    // Nobody is ready: the call waits at the head of the queue.
    assert_eq!(acd.call_state(c), Some(CallState::Queued(q(0))));
    assert_eq!(acd.staffed(q(0)), 1);
    assert!(matches!(
        acd.agent_heartbeat(Seconds(41.0), ag(0)),
        Err(AcdError::AgentState { .. })
    ));
    assert_eq!(
        acd.agent_heartbeat(Seconds(41.0), ag(9)),
        Err(AcdError::UnknownAgent(ag(9)))
    );
    // Agent 2 falls silent too, 30 s after its last heartbeat.
    run_timers(&mut acd, &mut timers, 54.0);
    assert_eq!(acd.agent_state(ag(2)), Some(AgentState::NotReady));
    run_timers(&mut acd, &mut timers, 55.0);
    assert_eq!(acd.agent_state(ag(2)), Some(AgentState::Offline));
}

#[test]
fn heartbeat_loss_spares_an_agent_until_the_call_is_done() {
    let mut acd = Acd::new(AcdConfig::single_queue(1, Policy::LongestIdle)).unwrap();
    let mut timers = Vec::new();
    acd.agent_login(Seconds(0.0), ag(0)).unwrap();
    acd.agent_ready(Seconds(0.0), ag(0)).unwrap();
    // Turned on with the agent already logged in: its deadline is armed from its last sign
    // of life.
    acd.set_heartbeat_timeout(Seconds(1.0), Some(Seconds(30.0)))
        .unwrap();
    let c = acd.call_arrived(Seconds(1.0), q(0), 1).unwrap();
    acd.agent_answered(Seconds(2.0), ag(0)).unwrap();
    // Silent from 2 s, but talking and then in after-call work: left alone.
    run_timers(&mut acd, &mut timers, 39.0);
    acd.call_ended(Seconds(40.0), c).unwrap();
    run_timers(&mut acd, &mut timers, 69.0);
    assert_eq!(acd.agent_state(ag(0)), Some(AgentState::AfterCallWork));
    // Back at 70 s, then silent: offline 30 s later.
    acd.wrap_up_done(Seconds(70.0), ag(0)).unwrap();
    run_timers(&mut acd, &mut timers, 99.0);
    assert_eq!(acd.agent_state(ag(0)), Some(AgentState::Idle));
    run_timers(&mut acd, &mut timers, 100.0);
    assert_eq!(acd.agent_state(ag(0)), Some(AgentState::Offline));
    // Turned off: timers still armed do nothing.
    acd.agent_login(Seconds(101.0), ag(0)).unwrap();
    acd.set_heartbeat_timeout(Seconds(101.0), None).unwrap();
    run_timers(&mut acd, &mut timers, 1000.0);
    assert_eq!(acd.agent_state(ag(0)), Some(AgentState::NotReady));
}

#[test]
fn agent_records_add_up_to_agent_stats() {
    let mut acd = Acd::new(AcdConfig::single_queue(1, Policy::LongestIdle)).unwrap();
    acd.set_agent_records(true);
    acd.agent_login(Seconds(0.0), ag(0)).unwrap();
    acd.agent_ready(Seconds(5.0), ag(0)).unwrap();
    let c = acd.call_arrived(Seconds(10.0), q(0), 1).unwrap();
    acd.agent_answered(Seconds(12.0), ag(0)).unwrap();
    acd.call_ended(Seconds(100.0), c).unwrap();
    acd.wrap_up_done(Seconds(130.0), ag(0)).unwrap();
    let recs: Vec<AgentRecord> = acd.drain_agent_records().collect();
    let states: Vec<(AgentState, f64, f64)> =
        recs.iter().map(|r| (r.state, r.from.0, r.to.0)).collect();
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
    let s = acd.agent_stats_at(Seconds(150.0), ag(0)).unwrap();
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
    acd.agent_login(Seconds(0.0), ag(0)).unwrap();
    acd.agent_ready(Seconds(0.0), ag(0)).unwrap();
    let first = acd.call_arrived(Seconds(1.0), q(0), 10).unwrap();
    let second = acd.call_arrived(Seconds(2.0), q(0), 20).unwrap();
    acd.agent_answered(Seconds(3.0), ag(0)).unwrap();
    acd.call_ended(Seconds(50.0), first).unwrap();
    acd.wrap_up_done(Seconds(55.0), ag(0)).unwrap();
    acd.agent_answered(Seconds(56.0), ag(0)).unwrap();
    acd.call_ended(Seconds(80.0), second).unwrap();
    let recs: Vec<CallRecord> = acd.drain_records().collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(
        (
            recs[0].caller,
            recs[0].queued,
            recs[0].answered,
            recs[0].ended
        ),
        (10, None, Some(Seconds(3.0)), Seconds(50.0))
    );
    assert_eq!(
        (
            recs[1].caller,
            recs[1].queued,
            recs[1].answered,
            recs[1].ended
        ),
        (20, Some(Seconds(2.0)), Some(Seconds(56.0)), Seconds(80.0))
    );
    assert!(
        recs.iter()
            .all(|r| r.terminal == Terminal::Completed && r.agent == Some(ag(0)))
    );
}

#[test]
fn callback_start_and_expiry_come_as_timers() {
    let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
    cfg.callback = Some(CallbackConfig {
        offer_when_expected_wait_s: 0.0,
        max_entries: 10,
        expire_after_s: 500.0,
        max_attempts: 1,
        start_at_s: 300.0,
    });
    let mut acd = Acd::new(cfg).unwrap();
    // The start time is armed at once.
    assert_eq!(
        drain(&mut acd),
        [Action::ArmTimer {
            at: Seconds(300.0),
            timer: Timer::CallbackStart
        }]
    );
    acd.agent_login(Seconds(0.0), ag(0)).unwrap();
    acd.call_arrived(Seconds(10.0), q(0), 5).unwrap();
    acd.call_arrived(Seconds(20.0), q(0), 6).unwrap();
    assert_eq!(acd.callback_backlog(), 2);
    // The oldest entry's expiry is armed (one timer for the list).
    let armed: Vec<Action> = drain(&mut acd)
        .into_iter()
        .filter(|a| matches!(a, Action::ArmTimer { .. }))
        .collect();
    assert_eq!(
        armed,
        [Action::ArmTimer {
            at: Seconds(510.0),
            timer: Timer::CallbackExpiry
        }]
    );
    // The agent becomes ready before the start time: no dial yet.
    acd.agent_ready(Seconds(100.0), ag(0)).unwrap();
    drain(&mut acd);
    assert_eq!(acd.agent_state(ag(0)), Some(AgentState::Idle));
    acd.timer_fired(Seconds(300.0), Timer::CallbackStart);
    let acts = drain(&mut acd);
    assert!(matches!(
        acts[..],
        [Action::DialCallback { number: 5, agent, .. }] if agent == ag(0)
    ));
    // One entry left, created at 20 s: at 510 s it is not yet due, and its own expiry at
    // 520 s is armed.
    acd.timer_fired(Seconds(510.0), Timer::CallbackExpiry);
    assert_eq!(
        drain(&mut acd),
        [Action::ArmTimer {
            at: Seconds(520.0),
            timer: Timer::CallbackExpiry
        }]
    );
    acd.timer_fired(Seconds(520.0), Timer::CallbackExpiry);
    assert_eq!(
        drain(&mut acd),
        [Action::CallbackExpired {
            entry: CallbackId(2),
            number: 6
        }]
    );
    // Nothing waits: no timer is armed, and a stale one does nothing.
    acd.timer_fired(Seconds(600.0), Timer::CallbackExpiry);
    assert_eq!(drain(&mut acd), []);
}

#[test]
fn misuse_is_a_typed_error() {
    let mut acd = Acd::new(AcdConfig::single_queue(1, Policy::LongestIdle)).unwrap();
    assert_eq!(
        acd.callback_result(Seconds(1.0), CallbackId(3), true),
        Err(AcdError::UnknownCallback(CallbackId(3)))
    );
    assert_eq!(
        acd.call_arrived(Seconds(1.0), q(4), 1),
        Err(AcdError::UnknownQueue(q(4)))
    );
    assert!(matches!(
        acd.wrap_up_done(Seconds(1.0), ag(0)),
        Err(AcdError::AgentState {
            state: AgentState::Offline,
            ..
        })
    ));
    let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
    cfg.agents[0].skills.push((q(0), 2));
    assert!(matches!(Acd::new(cfg), Err(AcdError::Config(_))));
}

#[test]
fn timer_spans_must_be_finite_and_not_negative() {
    let bad = [f64::NAN, f64::INFINITY, -1.0];
    for x in bad {
        let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
        cfg.ring_timeout_s = Some(x);
        assert!(matches!(Acd::new(cfg), Err(AcdError::Config(_))), "{x}");
        let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
        cfg.queues[0].overflow.push(OverflowRule {
            trigger: OverflowTrigger::WaitAtLeast(x),
            target: OverflowTarget::Voicemail,
        });
        assert!(matches!(Acd::new(cfg), Err(AcdError::Config(_))), "{x}");
        let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
        cfg.callback = Some(CallbackConfig {
            offer_when_expected_wait_s: f64::INFINITY,
            max_entries: 1,
            expire_after_s: x,
            max_attempts: 1,
            start_at_s: 0.0,
        });
        assert!(matches!(Acd::new(cfg), Err(AcdError::Config(_))), "{x}");
        let mut acd = Acd::new(AcdConfig::single_queue(1, Policy::LongestIdle)).unwrap();
        assert!(matches!(
            acd.set_heartbeat_timeout(Seconds(0.0), Some(Seconds(x))),
            Err(AcdError::Config(_))
        ));
    }
}

#[test]
fn call_priorities_order_the_queue_below_vips() {
    let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
    cfg.vip = vec![77];
    let mut acd = Acd::new(cfg).unwrap();
    acd.agent_login(Seconds(0.0), ag(0)).unwrap();
    let opts = |priority| CallOptions {
        priority,
        accepts_callback: true,
    };
    let mut calls = Vec::new();
    for (caller, p) in [(1, 0), (2, 5), (77, 0), (3, 5), (4, 255)] {
        calls.push(
            acd.call_arrived_with(Seconds(1.0), q(0), caller, opts(p))
                .unwrap(),
        );
    }
    // The VIP first; then 255, capped to 254 below the VIPs; then the two of priority 5 in
    // arrival order; then priority 0.
    let order: Vec<CallId> = acd.queued_calls(q(0)).collect();
    assert_eq!(
        order,
        vec![calls[2], calls[4], calls[1], calls[3], calls[0]]
    );
}

#[test]
fn a_caller_who_declines_the_callback_stays_in_the_queue() {
    let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
    cfg.callback = Some(CallbackConfig {
        offer_when_expected_wait_s: 0.0,
        max_entries: 10,
        expire_after_s: 500.0,
        max_attempts: 1,
        start_at_s: 0.0,
    });
    let mut acd = Acd::new(cfg).unwrap();
    acd.agent_login(Seconds(0.0), ag(0)).unwrap();
    drain(&mut acd);
    let no = CallOptions {
        priority: 0,
        accepts_callback: false,
    };
    acd.call_arrived_with(Seconds(1.0), q(0), 5, no).unwrap();
    assert_eq!(position(&drain(&mut acd)), Some(1));
    assert_eq!(acd.stats().callback_declined, 1);
    assert_eq!(acd.callback_backlog(), 0);
    acd.call_arrived(Seconds(2.0), q(0), 6).unwrap();
    assert_eq!(acd.callback_backlog(), 1);
    assert_eq!(acd.stats().callback_offered, 1);
}

#[test]
fn the_expected_wait_follows_the_handle_cycle() {
    let mut acd = Acd::new(AcdConfig::single_queue(1, Policy::LongestIdle)).unwrap();
    acd.set_expected_handle_time(Seconds(100.0));
    ready(&mut acd, &[0]);
    // Ring 5 s, talk 40 s, wrap-up 15 s: a 60 s cycle pulls the estimate 1% of the way.
    let c = acd.call_arrived(Seconds(10.0), q(0), 1).unwrap();
    acd.agent_answered(Seconds(15.0), ag(0)).unwrap();
    acd.call_ended(Seconds(55.0), c).unwrap();
    assert_eq!(acd.expected_handle_time(), Seconds(100.0));
    acd.wrap_up_done(Seconds(70.0), ag(0)).unwrap();
    let aht = acd.expected_handle_time().get();
    assert!(
        (aht - (100.0 + 0.01 * (60.0 - 100.0))).abs() < 1e-9,
        "{aht}"
    );
    // With the agent busy and one call waiting, the next caller expects a cycle for the
    // call ahead and one for itself.
    acd.call_arrived(Seconds(80.0), q(0), 2).unwrap();
    acd.call_arrived(Seconds(81.0), q(0), 3).unwrap();
    assert!((acd.expected_wait(q(0)) - 2.0 * aht).abs() < 1e-9);
}
