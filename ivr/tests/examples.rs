//! The shipped example flows, walked through the calls their comments describe.

mod common;

use common::Step::{Done, Ev, Key, Wait};
use common::*;
use tandem_ivr::*;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

fn has(d: &Driver, t: &str) -> bool {
    d.trace.iter().any(|x| x == t)
}

fn keys(s: &str) -> Vec<common::Step> {
    s.chars().map(Key).collect()
}

#[test]
fn both_examples_load() {
    for name in ["tv-shopping.toml", "bank.toml"] {
        let f = example(name);
        assert!(f.nodes().len() > 10, "{name}");
        assert!(f.origin().ends_with(name));
    }
}

#[test]
fn tv_greeting_by_dialled_number() {
    let f = example("tv-shopping.toml");
    for (dnis, greeting) in [
        ("4008101001", "play* tv/welcome-channel1"),
        ("4008101002", "play* tv/welcome-channel2"),
        ("4008109999", "play* tv/welcome"),
    ] {
        let d = Driver::new(f.clone(), dnis, "13800138000", MONDAY_10AM);
        assert_eq!(d.trace.last().unwrap(), greeting);
    }
}

#[test]
fn tv_peak_callback_dissuasion() {
    // Order (1), wait; the 15 s offer comes; press 1 for a callback.
    let mut d = Driver::new(
        example("tv-shopping.toml"),
        "4008101001",
        "13912345678",
        MONDAY_10AM,
    );
    d.run(&[Done, Key('1'), Done, Wait, Key('1'), Done]);
    let want = [
        "@buy",
        "set intent=order",
        "@sales_queue",
        "play tv/connecting",
        "queue sales",
        "play* tv/all-busy-press-1-for-callback",
        "stop",
        "leave sales",
        "callback sales",
        "@callback_number",
        "set callback_number=13912345678",
        "@callback_confirmed",
        "play tv/we-will-call-you-back",
        "hangup",
        "end Completed",
    ];
    let at = d.trace.iter().position(|t| t == "@buy").unwrap();
    assert_eq!(d.trace[at..], want);
}

#[test]
fn tv_agent_then_survey() {
    let mut d = Driver::new(example("tv-shopping.toml"), "4008101002", "1", MONDAY_10AM);
    d.run(&[
        Key('0'),
        Done,
        Ev(Event::QueueAnswered),
        Ev(Event::AgentHungUp),
        Done,
        Key('4'),
        Done,
        Done,
    ]);
    assert!(has(&d, "set intent=agent"));
    assert!(has(&d, "survey sales-satisfaction=4"));
    assert_eq!(d.reason(), Some(EndReason::Completed));
}

#[test]
fn tv_long_wait_goes_to_voicemail() {
    let mut d = Driver::new(example("tv-shopping.toml"), "4008101001", "1", MONDAY_10AM);
    d.run(&[Key('1'), Done, Wait, Done, Wait, Done, Wait]);
    assert!(has(&d, "leave sales"), "{:?}", d.trace);
    assert!(has(&d, "@voicemail"));
    d.run(&[
        Done,
        Ev(Event::RecordingFinished {
            duration: Micros::from_secs(20),
        }),
        Done,
    ]);
    assert!(has(&d, "record sales"));
    assert_eq!(d.reason(), Some(EndReason::Completed));
}

#[test]
fn tv_after_hours_voicemail() {
    let mut d = Driver::new(
        example("tv-shopping.toml"),
        "4008101001",
        "1",
        MONDAY_10AM + 13 * HOUR + 1800,
    );
    d.run(&[
        Done,
        Done,
        Key('#'),
        Ev(Event::RecordingFinished {
            duration: Micros::from_secs(9),
        }),
        Done,
    ]);
    assert_eq!(d.trace[1], "@closed");
    assert!(has(&d, "record after-hours"));
    assert!(has(&d, "stop-recording"));
    assert_eq!(d.reason(), Some(EndReason::Completed));
}

#[test]
fn tv_order_tracking() {
    let mut d = Driver::new(example("tv-shopping.toml"), "4008101001", "1", MONDAY_10AM);
    let mut steps = vec![Key('2'), Done];
    steps.extend(keys("20250106#"));
    steps.extend([Done, Done, Wait, Done]);
    d.run(&steps);
    assert!(has(&d, "set order=20250106"), "{:?}", d.trace);
    assert!(has(&d, "play tv/order-status-sent-by-sms"));
    assert!(has(&d, "@goodbye"));
}

#[test]
fn bank_three_levels_deep() {
    let mut d = Driver::new(example("bank.toml"), "95588", "1", MONDAY_10AM);
    let mut steps = vec![Key('1'), Done];
    steps.extend(keys("6222020012#")); // account number
    steps.extend([Key('1'), Done, Key('*'), Key('2'), Key('2'), Done]);
    steps.extend(keys("1234"));
    steps.extend([Done, Done]);
    d.run(&steps);
    let path: Vec<&str> = d.trace.iter().filter_map(|t| t.strip_prefix('@')).collect();
    assert_eq!(
        path,
        [
            "calendar",
            "main",
            "account_number",
            "accounts",
            "balance",
            "accounts",
            "main",
            "cards",
            "card_digits",
            "card_activated",
            "goodbye"
        ]
    );
    assert!(has(&d, "set account=6222020012"));
    assert!(has(&d, "set card_last4=1234"));
}

#[test]
fn bank_money_transfer_confirmed() {
    let mut d = Driver::new(example("bank.toml"), "95588", "1", MONDAY_10AM);
    let mut steps = vec![Key('1'), Done];
    steps.extend(keys("62220200#"));
    steps.extend([Key('2'), Done]);
    steps.extend(keys("500#"));
    steps.extend([Done, Key('1'), Done]);
    d.run(&steps);
    assert!(has(&d, "set amount=500"));
    assert!(has(&d, "set transfer=500"));
    assert_eq!(
        d.trace.last().unwrap(),
        "play* bank/accounts-balance-1-transfer-2-back-star"
    );
}

#[test]
fn bank_calendar_routing() {
    let f = example("bank.toml");
    let first = |t: i64| Driver::new(f.clone(), "95588", "1", t).trace[1].clone();
    assert_eq!(first(MONDAY_10AM), "@main");
    assert_eq!(first(MONDAY_10AM + 7 * HOUR), "@closed"); // 17:00
    assert_eq!(first(MONDAY_10AM + 5 * DAY + HOUR), "@main"); // Saturday 11:00
    assert_eq!(first(MONDAY_10AM + 5 * DAY + 3 * HOUR), "@closed"); // Saturday 13:00
    assert_eq!(first(MONDAY_10AM + 6 * DAY), "@closed"); // Sunday
    // 2025-10-01 10:00, a Wednesday and a national holiday.
    let oct1 = MONDAY_10AM + (31 + 28 + 31 + 30 + 31 + 30 + 31 + 31 + 30 - 5) * DAY;
    assert_eq!(first(oct1), "@closed");
    assert_eq!(first(oct1 + 8 * DAY), "@main"); // 2025-10-09
}

#[test]
fn bank_holiday_lost_card_reaches_the_duty_officer() {
    let f = example("bank.toml");
    let holiday = MONDAY_10AM + 25 * DAY; // 2025-01-31, Spring Festival
    let mut d = Driver::new(f.clone(), "95588", "1", holiday);
    d.run(&[Key('1'), Done, Ev(Event::TransferAnswered)]);
    assert!(has(&d, "transfer duty-officer"));
    assert_eq!(d.reason(), Some(EndReason::Transferred));
    // Nobody answers: a message for the card-emergency mailbox.
    let mut d = Driver::new(f, "95588", "1", holiday);
    d.run(&[Key('1'), Done, Wait, Done]);
    assert!(has(&d, "cancel-transfer"));
    assert!(has(&d, "record card-emergencies"));
}

#[test]
fn bank_lost_card_in_hours_overflows_to_the_duty_phone() {
    let mut d = Driver::new(example("bank.toml"), "95588", "1", MONDAY_10AM);
    d.run(&[
        Key('2'),
        Key('1'),
        Done,
        Wait,
        Done,
        Ev(Event::TransferAnswered),
    ]);
    assert!(has(&d, "set reason=lost-card"));
    assert!(has(&d, "queue cards"));
    assert!(has(&d, "leave cards"));
    assert_eq!(d.reason(), Some(EndReason::Transferred));
}

#[test]
fn the_shipped_flows_by_name_are_the_files() {
    for (name, file) in [("tv-shopping", "tv-shopping.toml"), ("bank", "bank.toml")] {
        let built_in = Flow::shipped(name).unwrap().unwrap();
        let f = example(file);
        assert_eq!(built_in.name(), f.name());
        assert_eq!(built_in.nodes().len(), f.nodes().len());
        assert_eq!(built_in.origin(), format!("built-in:{name}"));
    }
    assert!(Flow::shipped("no-such-flow").is_none());
}
