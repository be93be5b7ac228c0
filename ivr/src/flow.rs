//! A compiled flow: nodes with their references resolved to ids, read-only.
//!
//! [`Flow::from_toml`](crate::Flow::from_toml) builds one (see `load.rs`); a
//! [`Session`](crate::Session) runs it. Embedders that walk a flow themselves (a simulator
//! choosing menu keys) read the nodes here.

use std::sync::Arc;

use crate::time::{Date, Micros};

/// A node, by index into [`Flow::nodes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A flow variable, by index into [`Flow::variables`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarId(pub u16);

/// A list of prompt names, played in order. Names are the embedder's (recorded files, prompt
/// cache keys); the flow never synthesises speech.
pub type Prompts = Arc<[Arc<str>]>;

/// A validated flow.
#[derive(Clone, Debug)]
pub struct Flow {
    pub(crate) name: Arc<str>,
    pub(crate) origin: Arc<str>,
    pub(crate) start: NodeId,
    pub(crate) utc_offset: i32,
    pub(crate) max_steps: u32,
    pub(crate) prompt_guard: Micros,
    pub(crate) nodes: Vec<Node>,
    pub(crate) vars: Vec<Arc<str>>,
    pub(crate) holidays: Vec<Holidays>,
}

impl Flow {
    /// The flow's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it was loaded from (a file name, or what the embedder called it).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The first node.
    pub fn start(&self) -> NodeId {
        self.start
    }

    /// The nodes, indexed by [`NodeId`].
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Node `id` (ids come from this flow; a foreign id panics).
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// The node named `name`.
    pub fn find(&self, name: &str) -> Option<NodeId> {
        self.nodes
            .iter()
            .position(|n| &*n.name == name)
            .map(|i| NodeId(i as u32))
    }

    /// Variable names, indexed by [`VarId`].
    pub fn variables(&self) -> &[Arc<str>] {
        &self.vars
    }

    /// The variable named `name`.
    pub fn variable(&self, name: &str) -> Option<VarId> {
        self.vars
            .iter()
            .position(|v| &**v == name)
            .map(|i| VarId(i as u16))
    }

    /// The wall clock's offset from UTC, in seconds.
    pub fn utc_offset_secs(&self) -> i32 {
        self.utc_offset
    }

    /// Node entries after which a call is ended with [`EndReason::StepBudget`](crate::EndReason).
    pub fn max_steps(&self) -> u32 {
        self.max_steps
    }

    /// The holiday calendars.
    pub fn holidays(&self) -> &[Holidays] {
        &self.holidays
    }

    /// Every prompt name the flow can play, sorted and without repeats, so a driver can load
    /// them all before the first call (and refuse a flow whose prompts are missing).
    pub fn prompts(&self) -> Vec<Arc<str>> {
        let mut all: Vec<Arc<str>> = Vec::new();
        for node in &self.nodes {
            let lists: Vec<&Prompts> = match &node.kind {
                NodeKind::Menu(m) => vec![&m.announce.prompts, &m.retry.no_input, &m.retry.invalid],
                NodeKind::Play(p) => vec![&p.announce.prompts],
                NodeKind::Collect(c) => {
                    vec![&c.announce.prompts, &c.retry.no_input, &c.retry.invalid]
                }
                NodeKind::Voicemail(v) => vec![&v.announce.prompts],
                NodeKind::Queue(q) => vec![&q.announce.prompts, &q.repeat],
                NodeKind::Transfer(t) => vec![&t.announce.prompts],
                NodeKind::Survey(s) => vec![
                    &s.announce.prompts,
                    &s.retry.no_input,
                    &s.retry.invalid,
                    &s.thanks,
                ],
                NodeKind::Hangup(h) => vec![&h.prompts],
                NodeKind::Goto(_) | NodeKind::Branch(_) | NodeKind::Set(_) => Vec::new(),
            };
            all.extend(lists.into_iter().flat_map(|l| l.iter().cloned()));
        }
        all.sort();
        all.dedup();
        all
    }
}

/// A named list of holiday dates (sorted, distinct).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holidays {
    /// Its name.
    pub name: Arc<str>,
    /// The dates.
    pub dates: Vec<Date>,
}

/// One node.
#[derive(Clone, Debug)]
pub struct Node {
    /// Its name in the flow file.
    pub name: Arc<str>,
    /// The line of its table in the flow file.
    pub line: u32,
    /// What it does.
    pub kind: NodeKind,
}

/// What a node does. The flow format documents each kind's keys.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum NodeKind {
    /// Prompts, then one key chooses the next node.
    Menu(Menu),
    /// Prompts, then the next node.
    Play(Play),
    /// Prompts, then digits into a variable.
    Collect(Collect),
    /// The first rule whose conditions all hold chooses the next node.
    Branch(Branch),
    /// Straight to another node.
    Goto(NodeId),
    /// Sets a variable.
    Set(SetVar),
    /// A greeting, then a recording into a mailbox.
    Voicemail(Voicemail),
    /// Waits in an ACD queue, with a callback key; runs a node after the agent hangs up.
    Queue(Queue),
    /// Hands the call to another number.
    Transfer(Transfer),
    /// A keypad rating, reported as an action.
    Survey(Survey),
    /// Prompts, then the call is released.
    Hangup(Hangup),
}

impl NodeKind {
    /// The kind's name in flow files.
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Menu(_) => "menu",
            NodeKind::Play(_) => "play",
            NodeKind::Collect(_) => "collect",
            NodeKind::Branch(_) => "branch",
            NodeKind::Goto(_) => "goto",
            NodeKind::Set(_) => "set",
            NodeKind::Voicemail(_) => "voicemail",
            NodeKind::Queue(_) => "queue",
            NodeKind::Transfer(_) => "transfer",
            NodeKind::Survey(_) => "survey",
            NodeKind::Hangup(_) => "hangup",
        }
    }
}

/// How an edge is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// Only on something the caller keyed (a menu choice, a callback key).
    Input,
    /// Without caller input (a timeout, the end of a prompt, a condition, the network).
    Automatic,
}

impl Node {
    /// Every node this one can lead to, and how.
    pub fn edges(&self) -> Vec<(NodeId, Edge)> {
        use Edge::{Automatic as A, Input as I};
        let mut v = Vec::new();
        let mut opt = |n: Option<NodeId>, e| v.extend(n.map(|n| (n, e)));
        match &self.kind {
            NodeKind::Menu(m) => {
                for &(_, n) in &m.choices {
                    opt(Some(n), I);
                }
                opt(m.on_no_input, A);
                opt(m.on_no_match, I);
            }
            NodeKind::Play(p) => opt(p.next, A),
            NodeKind::Collect(c) => {
                opt(c.next, if c.min_digits > 0 { I } else { A });
                opt(c.on_failure, A);
            }
            NodeKind::Branch(b) => {
                for r in &b.rules {
                    opt(Some(r.next), A);
                }
                opt(Some(b.otherwise), A);
            }
            NodeKind::Goto(n) => opt(Some(*n), A),
            NodeKind::Set(s) => opt(Some(s.next), A),
            NodeKind::Voicemail(vm) => opt(vm.next, A),
            NodeKind::Queue(q) => {
                opt(q.on_callback, I);
                opt(q.on_overflow, A);
                opt(q.after_agent, A);
            }
            NodeKind::Transfer(t) => opt(t.on_fail, A),
            // Reached whether or not the caller answers.
            NodeKind::Survey(s) => opt(s.next, A),
            NodeKind::Hangup(_) => {}
        }
        v
    }
}

/// Prompts before a node's main work, and whether a key interrupts them.
#[derive(Clone, Debug)]
pub struct Announce {
    /// The prompts (may be empty).
    pub prompts: Prompts,
    /// A key stops the prompts (and counts as input where the node takes input).
    pub barge_in: bool,
}

/// Re-prompting after a failed attempt.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Retry {
    /// Attempts after the first.
    pub retries: u8,
    /// Played when the caller keyed nothing in time.
    pub no_input: Prompts,
    /// Played after an invalid entry.
    pub invalid: Prompts,
}

/// A menu.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Menu {
    /// The menu's prompts.
    pub announce: Announce,
    /// Key → next node.
    pub choices: Vec<(char, NodeId)>,
    /// Wait for a key after the prompts.
    pub timeout: Micros,
    /// Retries and their prompts.
    pub retry: Retry,
    /// After the last attempt timed out (`None`: hang up).
    pub on_no_input: Option<NodeId>,
    /// After the last attempt was an invalid key (`None`: hang up).
    pub on_no_match: Option<NodeId>,
}

/// Prompts, then on.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Play {
    /// The prompts.
    pub announce: Announce,
    /// Next node (`None`: hang up).
    pub next: Option<NodeId>,
}

/// Digit collection.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Collect {
    /// The prompts.
    pub announce: Announce,
    /// Where the digits go.
    pub var: VarId,
    /// Fewest digits accepted.
    pub min_digits: u8,
    /// Most digits; entry ends when reached.
    pub max_digits: u8,
    /// A key that ends entry (not stored).
    pub terminator: Option<char>,
    /// Wait for the first digit.
    pub timeout: Micros,
    /// Wait between digits; entry ends when it runs out.
    pub inter_digit_timeout: Micros,
    /// Retries and their prompts.
    pub retry: Retry,
    /// After a valid entry (`None`: hang up).
    pub next: Option<NodeId>,
    /// After the last attempt failed (`None`: hang up).
    pub on_failure: Option<NodeId>,
}

/// Conditional routing.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Branch {
    /// Tried in order.
    pub rules: Vec<Rule>,
    /// When no rule holds.
    pub otherwise: NodeId,
}

/// Conditions that must all hold, and where they lead.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Rule {
    /// All must hold (none: always).
    pub conditions: Vec<Condition>,
    /// Where to go.
    pub next: NodeId,
}

/// A test on the call.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Condition {
    /// The dialled number is one of these.
    Dnis(Vec<Arc<str>>),
    /// The dialled number starts with one of these.
    DnisPrefix(Vec<Arc<str>>),
    /// The caller's number is one of these.
    Ani(Vec<Arc<str>>),
    /// The caller's number starts with one of these.
    AniPrefix(Vec<Arc<str>>),
    /// The variable is set to one of these.
    Var(VarId, Vec<Arc<str>>),
    /// Local time in `[from, to)` minutes since midnight (`to < from` wraps past midnight).
    Time {
        /// Start, minutes since midnight.
        from: u16,
        /// End (exclusive).
        to: u16,
    },
    /// Local weekday in the set (bit 0 = Monday … bit 6 = Sunday).
    Weekdays(u8),
    /// Today (local) is in holiday calendar `n` of [`Flow::holidays`].
    Holiday(usize),
}

/// What a `set` node stores.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Value {
    /// A fixed string.
    Literal(Arc<str>),
    /// The caller's number.
    Ani,
    /// The dialled number.
    Dnis,
    /// Another variable's value (empty when unset).
    Var(VarId),
}

/// Sets a variable.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SetVar {
    /// Which.
    pub var: VarId,
    /// To what.
    pub value: Value,
    /// Next node.
    pub next: NodeId,
}

/// Voicemail.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Voicemail {
    /// The greeting.
    pub announce: Announce,
    /// The mailbox.
    pub mailbox: Arc<str>,
    /// Longest recording.
    pub max_duration: Micros,
    /// A beep before recording.
    pub beep: bool,
    /// A key that ends the recording.
    pub finish_key: Option<char>,
    /// After the recording (`None`: hang up).
    pub next: Option<NodeId>,
}

/// Queue entry.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Queue {
    /// Played before the call joins the queue.
    pub announce: Announce,
    /// The ACD queue's name.
    pub queue: Arc<str>,
    /// A key that leaves the queue with a callback request.
    pub callback_key: Option<char>,
    /// Played while waiting, every `repeat_every` (barge-in by the callback key).
    pub repeat: Prompts,
    /// Interval of `repeat` (`None`: never).
    pub repeat_every: Option<Micros>,
    /// Longest wait before the call overflows.
    pub max_wait: Micros,
    /// After a callback request (required with a callback key).
    pub on_callback: Option<NodeId>,
    /// After overflow, by `max_wait` or by the ACD (`None`: hang up).
    pub on_overflow: Option<NodeId>,
    /// After the agent hangs up (`None`: the call ends).
    pub after_agent: Option<NodeId>,
}

/// Transfer.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Transfer {
    /// Played before the transfer.
    pub announce: Announce,
    /// The number or address to transfer to.
    pub target: Arc<str>,
    /// Longest ring before giving up.
    pub ring_timeout: Micros,
    /// After the transfer fails (`None`: hang up).
    pub on_fail: Option<NodeId>,
}

/// A keypad rating.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Survey {
    /// The question.
    pub announce: Announce,
    /// The survey's name, reported with the score.
    pub survey: Arc<str>,
    /// Lowest and highest score keys (digits 1–9).
    pub range: (u8, u8),
    /// Wait for a key.
    pub timeout: Micros,
    /// Retries and their prompts.
    pub retry: Retry,
    /// Played after a valid score.
    pub thanks: Prompts,
    /// After the survey, answered or not (`None`: hang up).
    pub next: Option<NodeId>,
}

/// The end.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Hangup {
    /// Played before the call is released.
    pub prompts: Prompts,
}
