//! Table tests of the nodes that talk to the caller or route the call: menu, play,
//! collect, branch, goto and set — scripted step by step against the trace the flow format
//! promises (see docs/ivr.md). `play*` is a prompt the caller may interrupt; `@x` entering
//! node `x`.

mod common;

use common::Step::{Done, Ev, Key, Wait};
use common::*;
use tandem_ivr::*;

#[test]
fn menu() {
    use EndReason::*;
    table(
        MENU,
        &[
            (
                "a choice after the prompts",
                &[Done, Key('1'), Done],
                &[
                    "@m",
                    "play* menu",
                    "@one",
                    "play p1",
                    "hangup",
                    "end Completed",
                ],
                Some(Completed),
            ),
            (
                "barge-in",
                &[Key('2')],
                &[
                    "@m",
                    "play* menu",
                    "stop",
                    "@two",
                    "hangup",
                    "end Completed",
                ],
                Some(Completed),
            ),
            (
                "no input through every retry",
                &[Done, Wait, Done, Done, Wait, Done],
                &[
                    "@m",
                    "play* menu",
                    "play* again",
                    "play* menu",
                    "@quiet",
                    "play bye-quiet",
                    "hangup",
                    "end Completed",
                ],
                Some(Completed),
            ),
            (
                "an invalid key, then a valid one",
                &[Done, Key('7'), Done, Done, Key('1'), Done],
                &[
                    "@m",
                    "play* menu",
                    "play* bad",
                    "play* menu",
                    "@one",
                    "play p1",
                    "hangup",
                    "end Completed",
                ],
                Some(Completed),
            ),
            (
                "invalid keys through every retry",
                &[Done, Key('7'), Key('8'), Done],
                &[
                    "@m",
                    "play* menu",
                    "play* bad",
                    "stop",
                    "@wrong",
                    "play bye-wrong",
                    "hangup",
                    "end Completed",
                ],
                Some(Completed),
            ),
            (
                "a key interrupts the invalid-entry prompt and counts",
                &[Done, Key('9'), Key('2')],
                &[
                    "@m",
                    "play* menu",
                    "play* bad",
                    "stop",
                    "@two",
                    "hangup",
                    "end Completed",
                ],
                Some(Completed),
            ),
            (
                "the caller hangs up",
                &[Done, Ev(Event::CallerHungUp)],
                &["@m", "play* menu", "end CallerHungUp"],
                Some(CallerHungUp),
            ),
        ],
    );
    // Without exits, failures end the call with their reason.
    let bare = r#"
        name = "t"
        start = "m"
        [nodes.m]
        kind = "menu"
        choices = { "1" = "m" }
        retries = 0
    "#;
    table(
        bare,
        &[
            (
                "silent",
                &[Wait],
                &["@m", "hangup", "end NoInput"],
                Some(NoInput),
            ),
            (
                "wrong",
                &[Key('5')],
                &["@m", "hangup", "end NoMatch"],
                Some(NoMatch),
            ),
        ],
    );
}

#[test]
fn play_and_type_ahead() {
    let text = r#"
        name = "t"
        start = "p"
        [nodes.p]
        kind = "play"
        prompts = ["a", "b"]
        next = "h"
        [nodes.h]
        kind = "hangup"
    "#;
    table(
        text,
        &[
            (
                "played",
                &[Done],
                &["@p", "play a,b", "@h", "hangup", "end Completed"],
                Some(EndReason::Completed),
            ),
            (
                "a key cannot interrupt",
                &[Key('1'), Done],
                &["@p", "play a,b", "@h", "hangup", "end Completed"],
                Some(EndReason::Completed),
            ),
            (
                "the driver never reports the end: the prompt guard stops it",
                &[Wait],
                &["@p", "play a,b", "stop", "@h", "hangup", "end Completed"],
                Some(EndReason::Completed),
            ),
        ],
    );
    // A key during an interruptible greeting is kept for the menu after it, whose prompts
    // are then skipped.
    let text = r#"
        name = "t"
        start = "p"
        [nodes.p]
        kind = "play"
        prompts = ["welcome"]
        barge_in = true
        next = "m"
        [nodes.m]
        kind = "menu"
        prompts = ["menu"]
        choices = { "1" = "x" }
        [nodes.x]
        kind = "hangup"
    "#;
    table(
        text,
        &[(
            "type-ahead",
            &[Key('1')],
            &[
                "@p",
                "play* welcome",
                "stop",
                "@m",
                "@x",
                "hangup",
                "end Completed",
            ],
            Some(EndReason::Completed),
        )],
    );
}

const COLLECT: &str = r##"
name = "t"
start = "c"
[nodes.c]
kind = "collect"
prompts = ["enter"]
var = "acct"
min_digits = 3
max_digits = 5
terminator = "#"
timeout_ms = 3000
inter_digit_timeout_ms = 2000
retries = 1
no_input_prompts = ["none"]
invalid_prompts = ["short"]
next = "ok"
on_failure = "fail"
[nodes.ok]
kind = "hangup"
[nodes.fail]
kind = "hangup"
prompts = ["failed"]
"##;

#[test]
fn collect() {
    let ok = |v: &'static str| -> Vec<&'static str> {
        vec![
            "@c",
            "play* enter",
            "collect 5",
            v,
            "@ok",
            "hangup",
            "end Completed",
        ]
    };
    let f = flow(COLLECT);
    let cases: Vec<(&str, Vec<common::Step>, Vec<&str>)> = vec![
        (
            "up to the most digits",
            vec![Done, Key('1'), Key('2'), Key('3'), Key('4'), Key('5')],
            ok("set acct=12345"),
        ),
        (
            "the terminator",
            vec![Done, Key('1'), Key('2'), Key('3'), Key('#')],
            ok("set acct=123"),
        ),
        (
            "the inter-digit timeout ends entry",
            vec![Done, Key('1'), Key('2'), Key('3'), Wait],
            ok("set acct=123"),
        ),
        (
            "too short, then a retry",
            vec![
                Done,
                Key('1'),
                Key('#'),
                Done,
                Done,
                Key('4'),
                Key('5'),
                Key('6'),
                Key('#'),
            ],
            vec![
                "@c",
                "play* enter",
                "collect 5",
                "play* short",
                "play* enter",
                "collect 5",
                "set acct=456",
                "@ok",
                "hangup",
                "end Completed",
            ],
        ),
        (
            "no input through every retry",
            vec![Done, Wait, Done, Done, Wait, Done],
            vec![
                "@c",
                "play* enter",
                "collect 5",
                "play* none",
                "play* enter",
                "collect 5",
                "@fail",
                "play failed",
                "hangup",
                "end Completed",
            ],
        ),
        (
            "keys interrupting the prompt are the first digits",
            vec![Key('9'), Key('8'), Key('7'), Key('#')],
            vec![
                "@c",
                "play* enter",
                "stop",
                "collect 5",
                "set acct=987",
                "@ok",
                "hangup",
                "end Completed",
            ],
        ),
    ];
    for (name, steps, trace) in cases {
        let mut d = Driver::new(f.clone(), "1", "2", MONDAY_10AM);
        d.run(&steps);
        assert_eq!(d.trace, trace, "case `{name}`");
    }
}

const BRANCH: &str = r#"
name = "t"
start = "b"
utc_offset = "+08:00"
[holidays]
h = ["2025-01-01"]
[nodes.b]
kind = "branch"
rules = [
  { holiday = "h", next = "holiday" },
  { dnis = ["100"], next = "d100" },
  { dnis_prefix = ["400"], ani_prefix = ["138"], next = "both" },
  { dnis_prefix = ["400"], next = "p400" },
  { ani = ["555"], next = "vip" },
  { weekdays = ["sat", "sun"], next = "weekend" },
  { time = "22:00-06:00", next = "night" },
  { time = "09:00-17:00", next = "day" },
]
else = "other"
[nodes.holiday]
kind = "hangup"
[nodes.d100]
kind = "hangup"
[nodes.both]
kind = "hangup"
[nodes.p400]
kind = "hangup"
[nodes.vip]
kind = "hangup"
[nodes.weekend]
kind = "hangup"
[nodes.night]
kind = "hangup"
[nodes.day]
kind = "hangup"
[nodes.other]
kind = "hangup"
"#;

#[test]
fn branch_conditions() {
    const HOUR: i64 = 3600;
    // Local times at UTC+08:00, from Monday 2025-01-06 10:00.
    let mon = MONDAY_10AM;
    let cases: &[(&str, &str, i64, &str)] = &[
        ("999", "1", mon - 5 * 24 * HOUR, "holiday"), // 2025-01-01, a Wednesday
        ("100", "1", mon, "d100"),
        ("4001", "13800", mon, "both"),
        ("4001", "13900", mon, "p400"),
        ("999", "555", mon, "vip"),
        ("999", "1", mon + 5 * 24 * HOUR, "weekend"), // Saturday
        ("999", "1", mon + 13 * HOUR, "night"),       // 23:00
        ("999", "1", mon - 4 * HOUR - 60, "night"),   // 05:59
        ("999", "1", mon - 4 * HOUR, "other"),        // 06:00
        ("999", "1", mon, "day"),
        ("999", "1", mon + 7 * HOUR - 1, "day"), // 16:59:59
        ("999", "1", mon + 7 * HOUR, "other"),   // 17:00, the end is excluded
    ];
    let f = flow(BRANCH);
    for &(dnis, ani, t, want) in cases {
        let d = Driver::new(f.clone(), dnis, ani, t);
        assert_eq!(d.trace[1], format!("@{want}"), "{dnis} {ani} {t}");
    }
}

#[test]
fn branch_uses_the_time_when_it_is_reached() {
    // The call starts at 16:59:59; after a one-second prompt the branch sees 17:00:00.
    let text = r#"
        name = "t"
        start = "p"
        utc_offset = "+08:00"
        [nodes.p]
        kind = "play"
        prompts = ["a"]
        next = "b"
        [nodes.b]
        kind = "branch"
        rules = [{ time = "09:00-17:00", next = "open" }]
        else = "closed"
        [nodes.open]
        kind = "hangup"
        [nodes.closed]
        kind = "hangup"
    "#;
    let mut d = Driver::new(flow(text), "1", "2", MONDAY_10AM + 7 * 3600 - 1);
    d.run(&[Done]);
    assert!(d.trace.contains(&"@closed".to_string()), "{:?}", d.trace);
}

#[test]
fn goto_and_set() {
    let text = r#"
        name = "t"
        start = "g"
        [nodes.g]
        kind = "goto"
        next = "s1"
        [nodes.s1]
        kind = "set"
        var = "a"
        from = "ani"
        next = "s2"
        [nodes.s2]
        kind = "set"
        var = "b"
        value = "gold"
        next = "s3"
        [nodes.s3]
        kind = "set"
        var = "c"
        from = "var.b"
        next = "s4"
        [nodes.s4]
        kind = "set"
        var = "d"
        from = "dnis"
        next = "br"
        [nodes.br]
        kind = "branch"
        rules = [{ var = "c", values = ["silver", "gold"], next = "yes" }]
        else = "no"
        [nodes.yes]
        kind = "hangup"
        [nodes.no]
        kind = "hangup"
    "#;
    table(
        text,
        &[(
            "variables",
            &[],
            &[
                "@g",
                "@s1",
                "set a=13800138000",
                "@s2",
                "set b=gold",
                "@s3",
                "set c=gold",
                "@s4",
                "set d=4008101001",
                "@br",
                "@yes",
                "hangup",
                "end Completed",
            ],
            Some(EndReason::Completed),
        )],
    );
}
