//! From the file as written to a [`Flow`]: names resolved to ids, defaults filled in, every
//! value checked against its bound, and flows that could loop without caller input refused.
//! Node kinds are built in `kinds.rs` and `branch.rs`, single values checked in `values.rs`.

mod branch;
mod kinds;
mod values;

pub(crate) use values::is_key;
use values::valid_name;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::flow::*;
use crate::raw::{RawFlow, RawNode};
use crate::source::{FlowError, Source};
use crate::time::{Date, Micros, parse_utc_offset};

/// Most nodes in a flow.
pub const MAX_NODES: usize = 1000;
/// Most variables in a flow.
pub const MAX_VARIABLES: usize = 64;
/// Most prompts in one list.
pub const MAX_PROMPTS: usize = 32;
/// Most rules in a branch node.
pub const MAX_RULES: usize = 64;
/// Most numbers (or values) in one condition.
pub const MAX_LIST: usize = 1000;
/// Most holiday calendars, and dates in each.
pub const MAX_HOLIDAYS: (usize, usize) = (16, 1000);
/// Longest name or text value (prompt, queue, mailbox, target, survey), in bytes.
pub const MAX_TEXT: usize = 128;
/// Longest node or variable name, in bytes.
pub const MAX_NAME: usize = 64;
/// Most digits a collect node takes.
pub const MAX_DIGITS: u8 = 32;

/// Allowed keys per kind (besides `kind`).
const KEYS: &[(&str, &[&str])] = &[
    (
        "menu",
        &[
            "prompts",
            "barge_in",
            "choices",
            "timeout_ms",
            "retries",
            "no_input_prompts",
            "invalid_prompts",
            "on_no_input",
            "on_no_match",
        ],
    ),
    ("play", &["prompts", "barge_in", "next"]),
    (
        "collect",
        &[
            "prompts",
            "barge_in",
            "var",
            "min_digits",
            "max_digits",
            "terminator",
            "timeout_ms",
            "inter_digit_timeout_ms",
            "retries",
            "no_input_prompts",
            "invalid_prompts",
            "next",
            "on_failure",
        ],
    ),
    ("branch", &["rules", "else"]),
    ("goto", &["next"]),
    ("set", &["var", "value", "from", "next"]),
    (
        "voicemail",
        &[
            "prompts",
            "barge_in",
            "mailbox",
            "max_duration_ms",
            "beep",
            "finish_key",
            "next",
        ],
    ),
    (
        "queue",
        &[
            "prompts",
            "barge_in",
            "queue",
            "callback_key",
            "repeat_prompts",
            "repeat_every_ms",
            "max_wait_ms",
            "on_callback",
            "on_overflow",
            "after_agent",
        ],
    ),
    (
        "transfer",
        &[
            "prompts",
            "barge_in",
            "target",
            "ring_timeout_ms",
            "on_fail",
        ],
    ),
    (
        "survey",
        &[
            "prompts",
            "barge_in",
            "survey",
            "min",
            "max",
            "timeout_ms",
            "retries",
            "no_input_prompts",
            "invalid_prompts",
            "thanks_prompts",
            "next",
        ],
    ),
    ("hangup", &["prompts"]),
];

pub(crate) struct Compiler<'a> {
    src: &'a Source<'a>,
    ids: BTreeMap<String, NodeId>,
    vars: Vec<Arc<str>>,
    holidays: Vec<Holidays>,
}

/// The node being compiled, for errors.
struct Ctx<'a> {
    name: &'a str,
    start: usize,
}

type R<T> = Result<T, FlowError>;

impl<'a> Compiler<'a> {
    pub fn new(src: &'a Source<'a>) -> Compiler<'a> {
        Compiler {
            src,
            ids: BTreeMap::new(),
            vars: Vec::new(),
            holidays: Vec::new(),
        }
    }

    fn top(&self, key: &str, message: String) -> FlowError {
        self.src.error(self.src.top_key_line(key), None, message)
    }

    fn err(&self, c: &Ctx, key: Option<&str>, message: impl Into<String>) -> FlowError {
        let line = match key {
            Some(k) => self.src.key_line(c.start, k),
            None => self.src.line_of(c.start),
        };
        let message = match key {
            Some(k) => format!("key `{k}`: {}", message.into()),
            None => message.into(),
        };
        self.src
            .error(Some(line), Some(c.name.to_string()), message)
    }

    pub fn compile(mut self, raw: RawFlow) -> R<Flow> {
        if raw.name.is_empty() || raw.name.len() > MAX_TEXT {
            return Err(self.top("name", format!("must be 1–{MAX_TEXT} bytes")));
        }
        let utc_offset = match &raw.utc_offset {
            None => 0,
            Some(s) => parse_utc_offset(s).ok_or_else(|| {
                self.top(
                    "utc_offset",
                    format!("`{s}` is not an offset like \"+08:00\" within ±14:00"),
                )
            })?,
        };
        let max_steps = raw.max_steps.unwrap_or(256);
        if !(16..=10_000).contains(&max_steps) {
            return Err(self.top("max_steps", format!("must be 16–10000, got {max_steps}")));
        }
        let guard = raw.prompt_guard_ms.unwrap_or(300_000);
        if !(1000..=3_600_000).contains(&guard) {
            return Err(self.top(
                "prompt_guard_ms",
                format!("must be 1000–3600000, got {guard}"),
            ));
        }
        self.compile_holidays(&raw.holidays)?;
        if raw.nodes.len() > MAX_NODES {
            return Err(self.top("nodes", format!("more than {MAX_NODES} nodes")));
        }
        for (i, name) in raw.nodes.keys().enumerate() {
            self.ids.insert(name.clone(), NodeId(i as u32));
        }
        let mut nodes = Vec::with_capacity(raw.nodes.len());
        for (name, spanned) in &raw.nodes {
            let c = Ctx {
                name,
                start: spanned.span().start,
            };
            if !valid_name(name) {
                return Err(self.err(
                    &c,
                    None,
                    format!("node names are 1–{MAX_NAME} letters, digits, `_` or `-`"),
                ));
            }
            let kind = self.node(&c, spanned.get_ref())?;
            nodes.push(Node {
                name: Arc::from(name.as_str()),
                line: self.src.line_of(c.start),
                kind,
            });
        }
        let start = *self.ids.get(&raw.start).ok_or_else(|| {
            self.top(
                "start",
                format!("no node named `{}`", raw.start.escape_debug()),
            )
        })?;
        let flow = Flow {
            name: Arc::from(raw.name.as_str()),
            origin: Arc::from(self.src.origin),
            start,
            utc_offset,
            max_steps,
            prompt_guard: Micros::from_millis(guard),
            nodes,
            vars: self.vars,
            holidays: self.holidays,
        };
        crate::check::no_silent_loop(&flow, self.src)?;
        Ok(flow)
    }

    fn compile_holidays(&mut self, raw: &BTreeMap<String, Vec<String>>) -> R<()> {
        if raw.len() > MAX_HOLIDAYS.0 {
            return Err(self.top(
                "holidays",
                format!("more than {} calendars", MAX_HOLIDAYS.0),
            ));
        }
        for (name, dates) in raw {
            if !valid_name(name) || dates.len() > MAX_HOLIDAYS.1 {
                return Err(self.top(
                    name,
                    format!(
                        "holiday calendar `{}`: a name of letters, digits, `_` or `-` and at most {} dates",
                        name.escape_debug(),
                        MAX_HOLIDAYS.1
                    ),
                ));
            }
            let mut parsed = Vec::with_capacity(dates.len());
            for d in dates {
                parsed.push(Date::parse(d).ok_or_else(|| {
                    self.top(
                        name,
                        format!(
                            "holiday calendar `{name}`: `{}` is not a date YYYY-MM-DD",
                            d.escape_debug()
                        ),
                    )
                })?);
            }
            parsed.sort();
            parsed.dedup();
            self.holidays.push(Holidays {
                name: Arc::from(name.as_str()),
                dates: parsed,
            });
        }
        Ok(())
    }

    fn node(&mut self, c: &Ctx, n: &RawNode) -> R<NodeKind> {
        let allowed = KEYS
            .iter()
            .find(|(k, _)| *k == n.kind)
            .map(|(_, a)| *a)
            .ok_or_else(|| {
                let kinds: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
                self.err(
                    c,
                    Some("kind"),
                    format!(
                        "unknown kind `{}` (one of {})",
                        n.kind.escape_debug(),
                        kinds.join(", ")
                    ),
                )
            })?;
        if let Some(k) = n.present_keys().into_iter().find(|k| !allowed.contains(k)) {
            return Err(self.err(c, Some(k), format!("not used by a `{}` node", n.kind)));
        }
        let interactive = matches!(n.kind.as_str(), "menu" | "collect" | "survey");
        let announce = Announce {
            prompts: self.prompts(c, "prompts", &n.prompts)?,
            barge_in: n.barge_in.unwrap_or(interactive),
        };
        Ok(match n.kind.as_str() {
            "menu" => NodeKind::Menu(self.menu(c, n, announce)?),
            "play" => NodeKind::Play(Play {
                announce,
                next: self.target(c, "next", &n.next)?,
            }),
            "collect" => NodeKind::Collect(self.collect(c, n, announce)?),
            "branch" => NodeKind::Branch(self.branch(c, n)?),
            "goto" => NodeKind::Goto(self.required(c, "next", &n.next)?),
            "set" => NodeKind::Set(self.set(c, n)?),
            "voicemail" => NodeKind::Voicemail(Voicemail {
                announce,
                mailbox: self.text(c, "mailbox", &n.mailbox)?,
                max_duration: self.ms(
                    c,
                    "max_duration_ms",
                    n.max_duration_ms,
                    120_000,
                    (1000, 3_600_000),
                )?,
                beep: n.beep.unwrap_or(true),
                finish_key: self.key(c, "finish_key", &n.finish_key)?,
                next: self.target(c, "next", &n.next)?,
            }),
            "queue" => NodeKind::Queue(self.queue(c, n, announce)?),
            "transfer" => NodeKind::Transfer(Transfer {
                announce,
                target: self.text(c, "target", &n.target)?,
                ring_timeout: self.ms(
                    c,
                    "ring_timeout_ms",
                    n.ring_timeout_ms,
                    30_000,
                    (1000, 300_000),
                )?,
                on_fail: self.target(c, "on_fail", &n.on_fail)?,
            }),
            "survey" => NodeKind::Survey(self.survey(c, n, announce)?),
            _ => NodeKind::Hangup(Hangup {
                prompts: announce.prompts,
            }),
        })
    }
}
