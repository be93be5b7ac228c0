//! Property tests: whatever the caller keys, with timeouts and driver events interleaved, a
//! call ends — for the example flows and for random flows — and the loader accepts a random
//! flow exactly when its automatic edges have no cycle.
//!
//! The bound checked: once the caller stops keying, the call ends after at most one entry per
//! node (the silent path follows automatic edges only, which the loader guarantees acyclic)
//! and a bounded number of driver rounds; and no call ever makes more node entries than the
//! flow's step budget.

mod common;

use std::sync::Arc;

use common::{MONDAY_10AM, example};
use proptest::prelude::*;
use tandem_ivr::*;

/// What happens next on the call.
#[derive(Clone, Copy, Debug)]
enum Input {
    Key(char),
    /// Nothing until the deadline.
    Timeout,
    Event(Event),
    /// A long gap (time passes, several deadlines may fall due at once).
    Gap(u32),
}

fn input() -> impl Strategy<Value = Input> {
    let key = prop::sample::select(vec![
        '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#',
    ]);
    prop_oneof![
        8 => key.prop_map(Input::Key),
        3 => Just(Input::Timeout),
        1 => Just(Input::Event(Event::PromptFinished)),
        1 => Just(Input::Event(Event::RecordingFinished { duration: Micros::from_secs(3) })),
        1 => Just(Input::Event(Event::QueueAnswered)),
        1 => Just(Input::Event(Event::QueueOverflow)),
        1 => Just(Input::Event(Event::AgentHungUp)),
        1 => Just(Input::Event(Event::TransferAnswered)),
        1 => Just(Input::Event(Event::TransferFailed)),
        1 => (1u32..200_000).prop_map(Input::Gap),
    ]
}

/// Checks the action stream's shape as it goes: one `End`, last.
struct Run {
    s: Session,
    now: Micros,
    ended: bool,
}

impl Run {
    fn drain(&mut self) {
        while let Some(a) = self.s.poll_action() {
            assert!(!self.ended, "an action after the end: {a:?}");
            if let Action::End(o) = a {
                self.ended = true;
                assert_eq!(Some(o), self.s.outcome());
            }
        }
        assert_eq!(self.ended, self.s.is_finished());
    }

    fn apply(&mut self, i: Input) {
        match i {
            Input::Key(k) => {
                self.now = self.now.saturating_add(Micros::from_millis(300));
                self.s.key(self.now, k).unwrap();
            }
            Input::Timeout => {
                if let Some(at) = self.s.next_deadline() {
                    self.now = self.now.max(at);
                    self.s.advance(self.now).unwrap();
                }
            }
            Input::Event(e) => {
                self.now = self.now.saturating_add(Micros::from_millis(500));
                self.s.event(self.now, e).unwrap();
            }
            Input::Gap(ms) => {
                self.now = self.now.saturating_add(Micros::from_millis(u64::from(ms)));
                self.s.advance(self.now).unwrap();
            }
        }
        self.drain();
        assert!(self.s.steps() <= self.s.flow().max_steps() + 1);
    }

    /// The caller falls silent and the driver does its part; returns the rounds taken.
    fn drain_silently(&mut self) -> usize {
        let before = self.s.steps();
        let mut rounds = 0;
        while !self.s.is_finished() {
            rounds += 1;
            assert!(rounds <= 10_000, "stuck at {:?}", self.s.node());
            for e in [
                Event::PromptFinished,
                Event::RecordingFinished {
                    duration: Micros::from_secs(1),
                },
                Event::AgentHungUp,
                Event::TransferFailed,
            ] {
                self.apply(Input::Event(e));
            }
            self.apply(Input::Timeout);
        }
        let entries = self.s.steps() - before;
        let nodes = self.s.flow().nodes().len() as u32;
        assert!(
            entries <= nodes || self.s.outcome().unwrap().reason == EndReason::StepBudget,
            "a silent caller entered {entries} nodes of {nodes}"
        );
        rounds
    }
}

fn walk(flow: Arc<Flow>, dnis: &str, unix_time: i64, inputs: &[Input]) -> Outcome {
    let mut s = Session::new(flow);
    s.start(
        Micros::ZERO,
        CallInfo {
            dnis: dnis.into(),
            ani: "13800138000".into(),
            unix_time,
        },
    )
    .unwrap();
    let mut r = Run {
        s,
        now: Micros::ZERO,
        ended: false,
    };
    r.drain();
    for &i in inputs {
        r.apply(i);
    }
    let rounds = r.drain_silently();
    // Each silent round moves the call on: at most a few per node (retries, the queue's
    // repeated announcements within its longest wait).
    let nodes = r.s.flow().nodes().len();
    assert!(rounds <= nodes * 12 + 400, "{rounds} rounds");
    r.s.outcome().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn example_calls_always_end(
        tv in any::<bool>(),
        dnis in prop::sample::select(vec!["4008101001", "4008101002", "95588", "1"]),
        offset in 0i64..(14 * 24 * 3600),
        inputs in prop::collection::vec(input(), 0..120),
    ) {
        let f = example(if tv { "tv-shopping.toml" } else { "bank.toml" });
        walk(f, dnis, MONDAY_10AM + offset, &inputs);
    }
}

/// A generated node: its kind (0–10) and some choices.
#[derive(Clone, Debug)]
struct Gen {
    kind: u8,
    picks: Vec<usize>,
    keys: Vec<char>,
    flags: u8,
}

fn gen_node() -> impl Strategy<Value = Gen> {
    (
        0u8..11,
        prop::collection::vec(any::<usize>(), 6),
        prop::collection::vec(
            prop::sample::select(vec!['1', '2', '3', '9', '*', '#']),
            1..4,
        ),
        any::<u8>(),
    )
        .prop_map(|(kind, picks, keys, flags)| Gen {
            kind,
            picks,
            keys,
            flags,
        })
}

/// Renders generated nodes as a flow. With `dag`, automatic edges only point forward (so the
/// flow is valid); otherwise anywhere. Returns the text and the automatic edges written.
fn render(nodes: &[Gen], dag: bool) -> (String, Vec<Vec<usize>>) {
    let n = nodes.len();
    let mut text = String::from("name = \"gen\"\nstart = \"n0\"\nmax_steps = 64\n");
    let mut auto = vec![Vec::new(); n];
    for (i, g) in nodes.iter().enumerate() {
        let any = |k: usize| g.picks[k] % n;
        // An automatic target: forward for a DAG (none from the last node).
        let fwd = |k: usize| -> Option<usize> {
            if dag {
                (i + 1 < n).then(|| i + 1 + g.picks[k] % (n - i - 1))
            } else {
                Some(g.picks[k] % n)
            }
        };
        let last = dag && i + 1 == n;
        let kind = if last && matches!(g.kind, 3..=5) {
            10
        } else {
            g.kind
        };
        text.push_str(&format!("[nodes.n{i}]\n"));
        let mut a = |t: Option<usize>, key: &str, text: &mut String| {
            if let Some(t) = t {
                text.push_str(&format!("{key} = \"n{t}\"\n"));
                auto[i].push(t);
            }
        };
        match kind {
            0 => {
                text.push_str(
                    "kind = \"menu\"\nprompts = [\"m\"]\nretries = 1\ntimeout_ms = 1000\n",
                );
                let mut keys = g.keys.clone();
                keys.sort_unstable();
                keys.dedup();
                let choices: Vec<String> = keys
                    .iter()
                    .enumerate()
                    .map(|(k, c)| format!("\"{c}\" = \"n{}\"", any(k)))
                    .collect();
                text.push_str(&format!("choices = {{ {} }}\n", choices.join(", ")));
                a(
                    fwd(4).filter(|_| g.flags & 1 != 0),
                    "on_no_input",
                    &mut text,
                );
                text.push_str(&format!("on_no_match = \"n{}\"\n", any(5)));
            }
            1 => {
                text.push_str(&format!(
                    "kind = \"play\"\nprompts = [\"p\"]\nbarge_in = {}\n",
                    g.flags & 2 != 0
                ));
                a(fwd(0).filter(|_| g.flags & 1 != 0), "next", &mut text);
            }
            2 => {
                text.push_str("kind = \"collect\"\nvar = \"v\"\nmin_digits = 1\nmax_digits = 3\nterminator = \"#\"\nretries = 1\n");
                text.push_str(&format!("next = \"n{}\"\n", any(0)));
                a(fwd(1).filter(|_| g.flags & 1 != 0), "on_failure", &mut text);
            }
            3 => {
                let (t1, t2) = (fwd(0), fwd(1));
                text.push_str(&format!(
                    "kind = \"branch\"\nrules = [{{ dnis_prefix = [\"400\"], next = \"n{}\" }}, {{ time = \"08:00-12:00\", next = \"n{}\" }}]\n",
                    t1.unwrap_or(0),
                    t2.unwrap_or(0)
                ));
                a(t1, "# rule", &mut text);
                a(t2, "# rule", &mut text);
                a(fwd(2), "else", &mut text);
            }
            4 => {
                text.push_str("kind = \"goto\"\n");
                a(fwd(0), "next", &mut text);
            }
            5 => {
                text.push_str("kind = \"set\"\nvar = \"w\"\nfrom = \"ani\"\n");
                a(fwd(0), "next", &mut text);
            }
            6 => {
                text.push_str("kind = \"voicemail\"\nmailbox = \"mb\"\nmax_duration_ms = 5000\nfinish_key = \"#\"\n");
                a(fwd(0).filter(|_| g.flags & 1 != 0), "next", &mut text);
            }
            7 => {
                text.push_str("kind = \"queue\"\nqueue = \"q\"\nmax_wait_ms = 30000\nrepeat_prompts = [\"r\"]\nrepeat_every_ms = 10000\n");
                if g.flags & 4 != 0 {
                    text.push_str(&format!(
                        "callback_key = \"1\"\non_callback = \"n{}\"\n",
                        any(3)
                    ));
                }
                a(
                    fwd(0).filter(|_| g.flags & 1 != 0),
                    "on_overflow",
                    &mut text,
                );
                a(
                    fwd(1).filter(|_| g.flags & 2 != 0),
                    "after_agent",
                    &mut text,
                );
            }
            8 => {
                text.push_str("kind = \"transfer\"\ntarget = \"t\"\nring_timeout_ms = 10000\n");
                a(fwd(0).filter(|_| g.flags & 1 != 0), "on_fail", &mut text);
            }
            9 => {
                text.push_str(
                    "kind = \"survey\"\nsurvey = \"s\"\nprompts = [\"q\"]\nretries = 1\n",
                );
                a(fwd(0).filter(|_| g.flags & 1 != 0), "next", &mut text);
            }
            _ => text.push_str("kind = \"hangup\"\n"),
        }
    }
    (text, auto)
}

/// An independent cycle check over the generator's own record of automatic edges.
fn has_cycle(auto: &[Vec<usize>]) -> bool {
    fn visit(v: usize, auto: &[Vec<usize>], state: &mut [u8]) -> bool {
        state[v] = 1;
        for &w in &auto[v] {
            if state[w] == 1 || (state[w] == 0 && visit(w, auto, state)) {
                return true;
            }
        }
        state[v] = 2;
        false
    }
    let mut state = vec![0u8; auto.len()];
    (0..auto.len()).any(|v| state[v] == 0 && visit(v, auto, &mut state))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_valid_flows_always_end(
        nodes in prop::collection::vec(gen_node(), 1..25),
        inputs in prop::collection::vec(input(), 0..150),
        offset in 0i64..(7 * 24 * 3600),
    ) {
        let (text, _) = render(&nodes, true);
        let flow = Flow::from_toml(&text, "gen.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        walk(Arc::new(flow), "4001", MONDAY_10AM + offset, &inputs);
    }

    #[test]
    fn the_loader_refuses_exactly_the_silent_loops(nodes in prop::collection::vec(gen_node(), 1..12)) {
        let (text, auto) = render(&nodes, false);
        let result = Flow::from_toml(&text, "gen.toml");
        prop_assert_eq!(result.is_err(), has_cycle(&auto), "{:?}\n{}", result.err(), text);
        if let Err(e) = result {
            prop_assert!(e.message.contains("loop without caller input"), "{}", e);
            prop_assert!(e.node.is_some() && e.line.is_some());
        }
    }
}
