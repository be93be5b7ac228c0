#![no_main]
//! The IVR flow loader: any text gives a flow or an error naming where, never a panic. A
//! loaded flow is then walked with keys, events and timeouts taken from the bytes after the
//! first NUL; the walk must keep its promises (one end, within the step budget).
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use tandem_ivr::{Action, CallInfo, Event, Flow, Micros, Session};

fuzz_target!(|data: &[u8]| {
    let (text, script) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let flow = match Flow::from_toml(text, "fuzz.toml") {
        Ok(f) => Arc::new(f),
        Err(e) => {
            assert!(!e.message.is_empty());
            return;
        }
    };
    let mut s = Session::new(flow.clone());
    let call = CallInfo {
        dnis: "4008101001".into(),
        ani: "13800138000".into(),
        unix_time: 1_736_128_800 + i64::from(script.first().copied().unwrap_or(0)) * 3600,
    };
    s.start(Micros::ZERO, call).unwrap();
    let mut now = Micros::ZERO;
    let mut ends = 0;
    let mut check = |s: &mut Session| {
        while let Some(a) = s.poll_action() {
            assert_eq!(ends, 0, "an action after the end");
            if matches!(a, Action::End(_)) {
                ends += 1;
            }
        }
        assert!(s.steps() <= flow.max_steps() + 1);
    };
    check(&mut s);
    const KEYS: &[u8] = b"0123456789*#ABCD";
    for &b in script.iter().skip(1) {
        now = now.saturating_add(Micros::from_millis(u64::from(b) * 37));
        let _ = match b % 4 {
            0 | 1 => s.key(now, char::from(KEYS[usize::from(b / 4) % KEYS.len()])),
            2 => {
                let e = match (b / 4) % 8 {
                    0 => Event::PromptFinished,
                    1 => Event::RecordingFinished { duration: Micros::from_secs(2) },
                    2 => Event::QueueAnswered,
                    3 => Event::QueueOverflow,
                    4 => Event::AgentHungUp,
                    5 => Event::TransferAnswered,
                    6 => Event::TransferFailed,
                    _ => Event::CallerHungUp,
                };
                s.event(now, e)
            }
            _ => {
                now = now.max(s.next_deadline().unwrap_or(now));
                s.advance(now)
            }
        };
        check(&mut s);
    }
});
