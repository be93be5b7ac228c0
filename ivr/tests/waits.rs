//! Table tests of the nodes that wait for the network or end the call — voicemail, queue,
//! transfer, survey, hang-up — and of the session's own limits and errors. Traces as in
//! `nodes.rs`.

mod common;

use common::Step::{Done, Ev, Key, Wait};
use common::*;
use tandem_ivr::*;

const VOICEMAIL: &str = r##"
name = "t"
start = "v"
[nodes.v]
kind = "voicemail"
prompts = ["leave"]
mailbox = "mb"
max_duration_ms = 10000
finish_key = "#"
next = "bye"
[nodes.bye]
kind = "hangup"
prompts = ["thanks"]
"##;

#[test]
fn voicemail() {
    use EndReason::*;
    let rec = Ev(Event::RecordingFinished {
        duration: Micros::from_secs(5),
    });
    let tail = ["@bye", "play thanks", "hangup", "end Completed"];
    let with = |mid: &[&'static str]| -> Vec<&'static str> {
        let mut v = vec!["@v", "play leave", "record mb"];
        v.extend_from_slice(mid);
        v.extend_from_slice(&tail);
        v
    };
    let f = flow(VOICEMAIL);
    let cases: Vec<(&str, Vec<common::Step>, Vec<&str>)> = vec![
        ("recorded", vec![Done, rec, Done], with(&[])),
        (
            "the finish key",
            vec![Done, Key('#'), rec, Done],
            with(&["stop-recording"]),
        ),
        (
            "other keys do nothing",
            vec![Done, Key('1'), rec, Done],
            with(&[]),
        ),
        (
            "the limit, then the driver never reports",
            vec![Done, Wait, Wait, Done],
            with(&["stop-recording"]),
        ),
    ];
    for (name, steps, trace) in cases {
        let mut d = Driver::new(f.clone(), "1", "2", MONDAY_10AM);
        d.run(&steps);
        assert_eq!(d.trace, trace, "case `{name}`");
        assert_eq!(d.reason(), Some(Completed));
    }
    let mut d = Driver::new(f, "1", "2", MONDAY_10AM);
    d.run(&[Done, Ev(Event::CallerHungUp)]);
    assert_eq!(d.trace.last().unwrap(), "end CallerHungUp");
    // The limit is the recording's, plus the driver's grace.
    let mut d = Driver::new(flow(VOICEMAIL), "1", "2", MONDAY_10AM);
    d.run(&[Done]);
    assert_eq!(
        d.s.next_deadline(),
        Some(d.now.saturating_add(Micros::from_secs(12)))
    );
}

const QUEUE: &str = r#"
name = "t"
start = "q"
[nodes.q]
kind = "queue"
queue = "sales"
prompts = ["hold"]
callback_key = "1"
repeat_prompts = ["press1"]
repeat_every_ms = 10000
max_wait_ms = 25000
on_callback = "cb"
on_overflow = "vm"
after_agent = "survey"
[nodes.cb]
kind = "hangup"
prompts = ["we-call-back"]
[nodes.vm]
kind = "hangup"
prompts = ["vm"]
[nodes.survey]
kind = "survey"
survey = "sat"
prompts = ["rate"]
thanks_prompts = ["thx"]
retries = 0
next = "bye"
[nodes.bye]
kind = "hangup"
"#;

#[test]
fn queue() {
    use EndReason::*;
    let head = ["@q", "play hold", "queue sales"];
    let f = flow(QUEUE);
    let cases: Vec<(&str, Vec<common::Step>, Vec<&str>, EndReason)> = vec![
        (
            "answered, then the survey after the agent",
            vec![
                Done,
                Ev(Event::QueueAnswered),
                Key('5'),
                Ev(Event::AgentHungUp),
                Key('3'),
                Done,
            ],
            vec![
                "@survey",
                "play* rate",
                "stop",
                "survey sat=3",
                "play thx",
                "@bye",
                "hangup",
                "end Completed",
            ],
            Completed,
        ),
        (
            "the callback key",
            vec![Done, Key('1'), Done],
            vec![
                "leave sales",
                "callback sales",
                "@cb",
                "play we-call-back",
                "hangup",
                "end Completed",
            ],
            Completed,
        ),
        (
            "the callback key during the repeated offer",
            vec![Done, Key('7'), Wait, Key('1')],
            vec![
                "play* press1",
                "stop",
                "leave sales",
                "callback sales",
                "@cb",
                "play we-call-back",
            ],
            Completed,
        ),
        (
            "waited too long",
            vec![Done, Wait, Done, Wait, Wait],
            vec![
                "play* press1",
                "play* press1",
                "stop",
                "leave sales",
                "@vm",
                "play vm",
            ],
            Completed,
        ),
        (
            "the ACD overflows the call",
            vec![Done, Ev(Event::QueueOverflow)],
            vec!["@vm", "play vm"],
            Completed,
        ),
        (
            "the survey unanswered",
            vec![
                Done,
                Ev(Event::QueueAnswered),
                Ev(Event::AgentHungUp),
                Done,
                Wait,
            ],
            vec![
                "@survey",
                "play* rate",
                "survey sat=none",
                "@bye",
                "hangup",
                "end Completed",
            ],
            Completed,
        ),
    ];
    for (name, steps, tail, _) in cases {
        let mut d = Driver::new(f.clone(), "1", "2", MONDAY_10AM);
        d.run(&steps);
        let mut want: Vec<&str> = head.to_vec();
        want.extend(tail);
        assert_eq!(d.trace, want, "case `{name}`");
    }
    // Talking to an agent has no deadline; without an after-agent node the call ends there.
    let text = r#"
        name = "t"
        start = "q"
        [nodes.q]
        kind = "queue"
        queue = "s"
    "#;
    let mut d = Driver::new(flow(text), "1", "2", MONDAY_10AM);
    d.run(&[Ev(Event::QueueAnswered)]);
    assert_eq!(d.s.next_deadline(), None);
    assert!(d.s.waiting_for_driver());
    d.run(&[Ev(Event::AgentHungUp)]);
    assert_eq!(d.reason(), Some(AgentHungUp));
    assert_eq!(&d.trace[d.trace.len() - 2..], ["hangup", "end AgentHungUp"]);
}

const TRANSFER: &str = r#"
name = "t"
start = "t"
[nodes.t]
kind = "transfer"
prompts = ["connecting"]
target = "duty"
ring_timeout_ms = 20000
on_fail = "vm"
[nodes.vm]
kind = "hangup"
prompts = ["sorry"]
"#;

#[test]
fn transfer() {
    use EndReason::*;
    table(
        TRANSFER,
        &[
            (
                "answered",
                &[Done, Ev(Event::TransferAnswered)],
                &["@t", "play connecting", "transfer duty", "end Transferred"],
                Some(Transferred),
            ),
            (
                "failed",
                &[Done, Ev(Event::TransferFailed), Done],
                &[
                    "@t",
                    "play connecting",
                    "transfer duty",
                    "@vm",
                    "play sorry",
                    "hangup",
                    "end Completed",
                ],
                Some(Completed),
            ),
            (
                "rang too long",
                &[Done, Wait, Done],
                &[
                    "@t",
                    "play connecting",
                    "transfer duty",
                    "cancel-transfer",
                    "@vm",
                    "play sorry",
                    "hangup",
                    "end Completed",
                ],
                Some(Completed),
            ),
        ],
    );
    let bare = r#"
        name = "t"
        start = "t"
        [nodes.t]
        kind = "transfer"
        target = "x"
    "#;
    table(
        bare,
        &[(
            "failed without an exit",
            &[Ev(Event::TransferFailed)],
            &["@t", "transfer x", "hangup", "end TransferFailed"],
            Some(TransferFailed),
        )],
    );
}

const SURVEY: &str = r#"
name = "t"
start = "s"
[nodes.s]
kind = "survey"
survey = "sat"
prompts = ["rate"]
min = 1
max = 4
timeout_ms = 3000
retries = 1
invalid_prompts = ["1-to-4"]
no_input_prompts = ["again"]
thanks_prompts = ["thx"]
next = "bye"
[nodes.bye]
kind = "hangup"
"#;

#[test]
fn survey() {
    let end = ["@bye", "hangup", "end Completed"];
    let with = |mid: &[&'static str]| -> Vec<&'static str> {
        let mut v = vec!["@s", "play* rate"];
        v.extend_from_slice(mid);
        v.extend_from_slice(&end);
        v
    };
    let f = flow(SURVEY);
    let cases: Vec<(&str, Vec<common::Step>, Vec<&str>)> = vec![
        (
            "a score",
            vec![Done, Key('4'), Done],
            with(&["survey sat=4", "play thx"]),
        ),
        (
            "out of range, then a score",
            vec![Done, Key('5'), Done, Done, Key('2'), Done],
            with(&["play* 1-to-4", "play* rate", "survey sat=2", "play thx"]),
        ),
        (
            "not a digit, then silence",
            vec![Done, Key('*'), Done, Done, Wait],
            with(&["play* 1-to-4", "play* rate", "survey sat=none"]),
        ),
        (
            "silence throughout",
            vec![Done, Wait, Done, Done, Wait],
            with(&["play* again", "play* rate", "survey sat=none"]),
        ),
    ];
    for (name, steps, trace) in cases {
        let mut d = Driver::new(f.clone(), "1", "2", MONDAY_10AM);
        d.run(&steps);
        assert_eq!(d.trace, trace, "case `{name}`");
    }
}

#[test]
fn type_ahead_does_not_reach_past_a_queue() {
    // A "3" that interrupts the greeting before the queue must not become the survey's score
    // after the agent hangs up.
    let text = r#"
        name = "t"
        start = "p"
        [nodes.p]
        kind = "play"
        prompts = ["welcome"]
        barge_in = true
        next = "q"
        [nodes.q]
        kind = "queue"
        queue = "s"
        after_agent = "survey"
        [nodes.survey]
        kind = "survey"
        survey = "sat"
        retries = 0
    "#;
    let mut d = Driver::new(flow(text), "1", "2", MONDAY_10AM);
    d.run(&[
        Key('3'),
        Ev(Event::QueueAnswered),
        Ev(Event::AgentHungUp),
        Wait,
    ]);
    assert_eq!(
        d.trace,
        [
            "@p",
            "play* welcome",
            "stop",
            "@q",
            "queue s",
            "@survey",
            "survey sat=none",
            "hangup",
            "end Completed"
        ]
    );
}

#[test]
fn hangup() {
    let text = r#"
        name = "t"
        start = "h"
        [nodes.h]
        kind = "hangup"
        prompts = ["bye"]
    "#;
    table(
        text,
        &[(
            "goodbye",
            &[Key('1'), Done],
            &["@h", "play bye", "hangup", "end Completed"],
            Some(EndReason::Completed),
        )],
    );
}

#[test]
fn the_step_budget_ends_a_caller_who_keeps_looping() {
    let text = r#"
        name = "t"
        start = "m"
        max_steps = 16
        [nodes.m]
        kind = "menu"
        prompts = ["menu"]
        choices = { "9" = "m" }
    "#;
    let mut d = Driver::new(flow(text), "1", "2", MONDAY_10AM);
    for _ in 0..100 {
        d.step(Key('9'));
    }
    let o = d.s.outcome().unwrap();
    assert_eq!((o.reason, o.steps), (EndReason::StepBudget, 17));
    assert_eq!(d.trace.iter().filter(|t| *t == "@m").count(), 16);
}

#[test]
fn inputs_the_session_cannot_take() {
    let f = flow(MENU);
    let mut s = Session::new(f.clone());
    assert_eq!(s.key(Micros::ZERO, '1'), Err(IvrError::NotStarted));
    assert_eq!(s.advance(Micros::ZERO), Err(IvrError::NotStarted));
    let call = CallInfo {
        dnis: "1".into(),
        ani: "x".repeat(33),
        unix_time: 0,
    };
    assert!(matches!(
        s.start(Micros::ZERO, call),
        Err(IvrError::InvalidCall(_))
    ));
    let call = CallInfo {
        dnis: "1".into(),
        ani: "2".into(),
        unix_time: 0,
    };
    s.start(Micros::ZERO, call.clone()).unwrap();
    assert_eq!(s.start(Micros::ZERO, call), Err(IvrError::AlreadyStarted));
    assert_eq!(s.key(Micros::ZERO, 'x'), Err(IvrError::InvalidKey('X')));
    // A stale timer is ignored; time never runs backwards.
    let mut timers = Vec::new();
    while let Some(a) = s.poll_action() {
        if let Action::ArmTimer { timer, .. } = a {
            timers.push(timer);
        }
    }
    s.event(Micros::from_secs(10), Event::PromptFinished)
        .unwrap();
    assert_eq!(
        s.timer_fired(Micros::from_secs(5), timers[0]),
        Ok(Handled::Ignored)
    );
    let d = s.next_deadline().unwrap();
    assert_eq!(d, Micros::from_secs(13));
    // A key after the deadline: the timeout happens first (the no-input retry), then the key.
    s.key(Micros::from_secs(14), '1').unwrap();
    let trace: Vec<String> = std::iter::from_fn(|| s.poll_action())
        .filter_map(|a| describe(&f, &a))
        .collect();
    assert_eq!(trace, ["play* again", "stop", "@one", "play p1"]);
    // After the end, everything is ignored.
    s.event(Micros::from_secs(15), Event::CallerHungUp).unwrap();
    assert!(s.is_finished());
    assert_eq!(s.key(Micros::from_secs(16), '1'), Ok(Handled::Ignored));
    assert_eq!(
        s.poll_action().map(|a| describe(&f, &a)),
        Some(Some("end CallerHungUp".into()))
    );
    assert_eq!(s.poll_action(), None);
}
