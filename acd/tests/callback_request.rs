//! A caller's own callback request (a key pressed in the IVR's queue announcement): the call
//! leaves the queue, the number goes on the callback list, and a free agent dials it.

use tandem_acd::*;

fn acd(callbacks: bool) -> Acd {
    let mut cfg = AcdConfig::single_queue(1, Policy::LongestIdle);
    if callbacks {
        cfg.callback = Some(CallbackConfig {
            // The ACD's own offer never fires: every caller below declines it.
            offer_when_expected_wait_s: 0.0,
            max_entries: 1,
            expire_after_s: 600.0,
            max_attempts: 2,
            start_at_s: 0.0,
        });
    }
    let mut acd = Acd::new(cfg).unwrap();
    acd.agent_login(Seconds(0.0), AgentId(0)).unwrap();
    acd.agent_ready(Seconds(0.0), AgentId(0)).unwrap();
    acd
}

fn arrive(acd: &mut Acd, t: f64, caller: u64) -> CallId {
    let opts = CallOptions {
        priority: 0,
        accepts_callback: false,
    };
    acd.call_arrived_with(Seconds(t), QueueId(0), caller, opts)
        .unwrap()
}

fn drain(acd: &mut Acd) -> Vec<Action> {
    std::iter::from_fn(|| acd.poll_action()).collect()
}

#[test]
fn a_queued_caller_who_asks_is_called_back_by_the_next_free_agent() {
    let mut acd = acd(true);
    let first = arrive(&mut acd, 1.0, 100);
    drain(&mut acd);
    acd.agent_answered(Seconds(2.0), AgentId(0)).unwrap();
    let waiting = arrive(&mut acd, 3.0, 200);
    let third = arrive(&mut acd, 3.5, 300);
    drain(&mut acd);
    assert_eq!(acd.queued_total(), 2);
    assert!(acd.callback_requested(Seconds(10.0), waiting).unwrap());
    assert_eq!(acd.queued_total(), 1);
    assert_eq!(acd.call_state(waiting), None, "the call has ended");
    assert_eq!(acd.stats().callback_offered, 1);
    // The list holds one entry: a second request finds it full, and the caller counts as
    // abandoned.
    assert!(!acd.callback_requested(Seconds(11.0), third).unwrap());
    assert_eq!(acd.stats().abandoned_in_queue, 1);
    assert_eq!(acd.queued_total(), 0);
    // The agent's next free moment goes to the callback.
    acd.call_ended(Seconds(20.0), first).unwrap();
    acd.wrap_up_done(Seconds(21.0), AgentId(0)).unwrap();
    let dials: Vec<(u64, AgentId)> = drain(&mut acd)
        .into_iter()
        .filter_map(|a| match a {
            Action::DialCallback { number, agent, .. } => Some((number, agent)),
            _ => None,
        })
        .collect();
    assert_eq!(dials, vec![(200, AgentId(0))]);
}

#[test]
fn a_ringing_caller_who_asks_frees_the_agent_and_a_request_needs_a_list() {
    let mut acd = acd(true);
    let c = arrive(&mut acd, 1.0, 100);
    drain(&mut acd);
    assert_eq!(acd.call_state(c), Some(CallState::Ringing(AgentId(0))));
    assert!(acd.callback_requested(Seconds(2.0), c).unwrap());
    // The agent, free again, dials the caller back at once.
    let dials = drain(&mut acd)
        .into_iter()
        .filter(|a| matches!(a, Action::DialCallback { number: 100, .. }))
        .count();
    assert_eq!(dials, 1);
    // Ended calls and ACDs without a list refuse the request.
    assert!(matches!(
        acd.callback_requested(Seconds(3.0), c),
        Err(AcdError::UnknownCall(_))
    ));
    let mut plain = acd_without_list();
    let c = arrive(&mut plain, 1.0, 100);
    assert_eq!(
        plain.callback_requested(Seconds(2.0), c),
        Err(AcdError::NoCallbackList)
    );
}

fn acd_without_list() -> Acd {
    acd(false)
}
