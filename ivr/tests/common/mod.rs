//! A scripted driver for sessions, and a readable trace of what they did.
#![allow(dead_code)] // each test crate uses a different subset

use std::sync::Arc;

use tandem_ivr::*;

/// 2025-01-06 (a Monday) 10:00 at UTC+08:00.
pub const MONDAY_10AM: i64 = 1_736_128_800;

pub fn flow(text: &str) -> Arc<Flow> {
    Arc::new(Flow::from_toml(text, "test.toml").unwrap_or_else(|e| panic!("{e}")))
}

pub fn example(name: &str) -> Arc<Flow> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("flows")
        .join(name);
    Arc::new(Flow::load(&path).unwrap_or_else(|e| panic!("{e}")))
}

/// One step of a script.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// A key, 100 ms after the previous step.
    Key(char),
    /// The prompts playing end, 1 s later.
    Done,
    /// Nothing happens until the session's deadline.
    Wait,
    /// An event, 1 s later.
    Ev(Event),
}

pub struct Driver {
    pub s: Session,
    pub now: Micros,
    pub trace: Vec<String>,
}

impl Driver {
    pub fn new(flow: Arc<Flow>, dnis: &str, ani: &str, unix_time: i64) -> Driver {
        let mut s = Session::new(flow);
        s.start(
            Micros::ZERO,
            CallInfo {
                dnis: dnis.into(),
                ani: ani.into(),
                unix_time,
            },
        )
        .unwrap();
        let mut d = Driver {
            s,
            now: Micros::ZERO,
            trace: Vec::new(),
        };
        d.drain();
        d
    }

    pub fn drain(&mut self) {
        while let Some(a) = self.s.poll_action() {
            if let Some(t) = describe(self.s.flow(), &a) {
                self.trace.push(t);
            }
        }
    }

    pub fn step(&mut self, step: Step) -> Handled {
        let h = match step {
            Step::Key(k) => {
                self.now = self.now.saturating_add(Micros::from_millis(100));
                self.s.key(self.now, k).unwrap()
            }
            Step::Done => {
                self.now = self.now.saturating_add(Micros::from_secs(1));
                self.s.event(self.now, Event::PromptFinished).unwrap()
            }
            Step::Wait => match self.s.next_deadline() {
                Some(at) => {
                    self.now = self.now.max(at);
                    self.s.advance(self.now).unwrap()
                }
                None => Handled::Ignored,
            },
            Step::Ev(e) => {
                self.now = self.now.saturating_add(Micros::from_secs(1));
                self.s.event(self.now, e).unwrap()
            }
        };
        self.drain();
        h
    }

    pub fn run(&mut self, steps: &[Step]) -> &mut Self {
        for &s in steps {
            self.step(s);
        }
        self
    }

    pub fn reason(&self) -> Option<EndReason> {
        self.s.outcome().map(|o| o.reason)
    }
}

/// A short text for an action (timers left out).
pub fn describe(flow: &Flow, a: &Action) -> Option<String> {
    Some(match a {
        Action::Entered { node } => format!("@{}", flow.node(*node).name),
        Action::Play { prompts, barge_in } => {
            let names: Vec<&str> = prompts.iter().map(|p| &**p).collect();
            format!(
                "play{} {}",
                if *barge_in { "*" } else { "" },
                names.join(",")
            )
        }
        Action::StopPlayback => "stop".into(),
        Action::CollectDigits { max_digits, .. } => format!("collect {max_digits}"),
        Action::Record { mailbox, .. } => format!("record {mailbox}"),
        Action::StopRecording => "stop-recording".into(),
        Action::EnterQueue { queue, .. } => format!("queue {queue}"),
        Action::LeaveQueue { queue } => format!("leave {queue}"),
        Action::RequestCallback { queue } => format!("callback {queue}"),
        Action::Transfer { target, .. } => format!("transfer {target}"),
        Action::CancelTransfer => "cancel-transfer".into(),
        Action::SetVariable { var, value } => {
            format!("set {}={value}", flow.variables()[usize::from(var.0)])
        }
        Action::SurveyResult { survey, score } => match score {
            Some(s) => format!("survey {survey}={s}"),
            None => format!("survey {survey}=none"),
        },
        Action::ArmTimer { .. } => return None,
        Action::Hangup => "hangup".into(),
        Action::End(o) => format!("end {:?}", o.reason),
        other => format!("{other:?}"),
    })
}

/// A case: its name, the script, the trace expected and how the call ends.
pub type Case<'a> = (&'a str, &'a [Step], &'a [&'a str], Option<EndReason>);

/// Runs each case against `text`.
pub fn table(text: &str, cases: &[Case]) {
    let f = flow(text);
    for (name, steps, trace, end) in cases {
        let mut d = Driver::new(f.clone(), "4008101001", "13800138000", MONDAY_10AM);
        d.run(steps);
        assert_eq!(d.trace, *trace, "case `{name}`");
        assert_eq!(d.reason(), *end, "case `{name}`");
    }
}

/// A menu with every exit: 1 and 2 choose, silence and wrong keys each have a node.
pub const MENU: &str = r#"
name = "t"
start = "m"
[nodes.m]
kind = "menu"
prompts = ["menu"]
choices = { "1" = "one", "2" = "two" }
timeout_ms = 3000
retries = 1
no_input_prompts = ["again"]
invalid_prompts = ["bad"]
on_no_input = "quiet"
on_no_match = "wrong"
[nodes.one]
kind = "hangup"
prompts = ["p1"]
[nodes.two]
kind = "hangup"
[nodes.quiet]
kind = "hangup"
prompts = ["bye-quiet"]
[nodes.wrong]
kind = "hangup"
prompts = ["bye-wrong"]
"#;
