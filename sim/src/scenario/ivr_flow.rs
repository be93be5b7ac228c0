//! An IVR run by a call flow: the scenario keys that name the flow (`ivr.flow`) and say how
//! simulated callers walk it — prompt lengths, think times, and per node the keys callers
//! press, how often they key nothing, key wrong or hang up, how long their messages are, how
//! often they ask for a callback while queued, and whether transfers are answered.
//!
//! The flow itself is loaded and validated by `tandem-ivr` (errors name its file, line and
//! node); this module checks the scenario's side against it: every node named exists and has
//! the kind the keys apply to, every key named is one the node takes, every prompt the flow
//! plays has a length, and the flow's queues are the scenario's call types.

// Checks are written `!(x > 0.0)` on purpose: a NaN fails them too.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tandem_ivr::{Date, Flow, NodeKind, parse_clock};

use super::Scenario;
use super::bounds::{Problem, probability};
use crate::dist::Dist;

/// Most nodes a scenario may describe callers' behaviour for (the flow's own limit).
pub const MAX_FLOW_NODES: usize = tandem_ivr::MAX_NODES;
/// Most dialled numbers callers are spread over.
pub const MAX_DIALLED: usize = 1000;
/// The wall clock at the start of a run when the scenario gives none: Monday 6 January 2025,
/// 12:00 in the flow's time zone.
pub const DEFAULT_STARTS_AT: &str = "2025-01-06 12:00";

/// A loaded flow, kept with the scenario (not part of its TOML).
#[derive(Clone, Debug, Default)]
pub struct LoadedFlow(pub Option<Arc<Flow>>);

impl PartialEq for LoadedFlow {
    fn eq(&self, o: &LoadedFlow) -> bool {
        match (&self.0, &o.0) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                Arc::ptr_eq(a, b) || (a.name() == b.name() && a.origin() == b.origin())
            }
            _ => false,
        }
    }
}

/// A dialled number (DNIS) and its share of the calls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dialled {
    /// The number.
    pub number: String,
    /// Relative share of the calls.
    pub share: f64,
}

/// How callers behave at one node of the flow. Which keys apply depends on the node's kind
/// (`docs/scenarios.md` lists them); a key given for a kind it does not apply to is refused.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeBehaviour {
    /// Menu: relative weights of the keys callers press (default: every choice alike).
    /// Survey: relative weights of the scores (default: every score alike).
    #[serde(default)]
    pub choices: BTreeMap<String, f64>,
    /// Menu, collect, survey: probability that a caller keys nothing in an attempt.
    #[serde(default)]
    pub no_input: f64,
    /// Menu, collect, survey: probability that a caller keys an invalid entry in an attempt.
    #[serde(default)]
    pub no_match: f64,
    /// Menu, collect, survey: probability that a caller hangs up instead of keying (after
    /// the think time); play: that a caller hangs up while the prompts play.
    #[serde(default)]
    pub hangup: f64,
    /// Menu, collect, survey: time from the end of the prompts to the first key (default:
    /// `ivr.think`).
    #[serde(default)]
    pub think: Option<Dist>,
    /// Collect: digits callers enter (default: the node's fewest accepted, at least 1).
    #[serde(default)]
    pub digits: Option<u8>,
    /// Collect: time between digits (default 0.5 s).
    #[serde(default)]
    pub digit_gap: Option<Dist>,
    /// Voicemail: length of the caller's message (default 30 s).
    #[serde(default)]
    pub message: Option<Dist>,
    /// Queue: probability that a waiting caller presses the callback key when the repeat
    /// announcement offers it (each time it plays).
    #[serde(default)]
    pub callback: f64,
    /// Transfer: probability that the target answers (default 1).
    #[serde(default)]
    pub answer: Option<f64>,
    /// Transfer: time the target rings before answering or failing (default 10 s).
    #[serde(default)]
    pub ring: Option<Dist>,
}

/// What a flow-run IVR adds to `[ivr]` (the keys are documented with `[ivr]`).
impl super::Ivr {
    /// The loaded flow, if the IVR runs one.
    pub fn flow(&self) -> Option<&Arc<Flow>> {
        self.loaded.0.as_ref()
    }

    /// Unix time at the start of the run (`starts_at` in the flow's time zone).
    pub fn start_unix(&self) -> i64 {
        let offset = self.flow().map_or(0, |f| i64::from(f.utc_offset_secs()));
        let text = self.starts_at.as_deref().unwrap_or(DEFAULT_STARTS_AT);
        parse_local(text).map_or(0, |t| t - offset)
    }
}

/// `YYYY-MM-DD HH:MM` as seconds since the epoch of that wall clock.
fn parse_local(s: &str) -> Option<i64> {
    let (date, clock) = s.split_once(' ')?;
    let d = Date::parse(date)?;
    let m = parse_clock(clock.trim())?;
    (m < 24 * 60).then(|| d.days_since_epoch() * 86_400 + i64::from(m) * 60)
}

/// Loads the flow `ivr.flow` names: a shipped flow by name, or a file (a name ending in
/// `.toml` or holding a `/`) relative to `base_dir`.
pub(super) fn load(sc: &mut Scenario, base_dir: Option<&Path>) -> Result<(), (String, String)> {
    let Some(ivr) = &mut sc.ivr else {
        return Ok(());
    };
    let Some(spec) = ivr.flow_spec.clone() else {
        return Ok(());
    };
    let err = |m: String| ("ivr.flow".to_string(), m);
    let flow = if spec.ends_with(".toml") || spec.contains('/') {
        let path = match base_dir {
            Some(d) => d.join(&spec),
            None => spec.clone().into(),
        };
        Flow::load(&path).map_err(|e| err(e.to_string()))?
    } else {
        match Flow::shipped(&spec) {
            Some(f) => f.map_err(|e| err(e.to_string()))?,
            None => {
                let names: Vec<&str> = tandem_ivr::SHIPPED_FLOWS.iter().map(|(n, _)| *n).collect();
                return Err(err(format!(
                    "no shipped flow `{spec}` (shipped: {}; a file name ends in .toml)",
                    names.join(", ")
                )));
            }
        }
    };
    ivr.loaded = LoadedFlow(Some(Arc::new(flow)));
    Ok(())
}

fn problem(key: &str, m: impl Into<String>) -> Result<(), Problem> {
    Err(Problem(key.into(), m.into()))
}

/// Every prompt name the flow can play.
pub(crate) fn prompts_of(flow: &Flow) -> BTreeSet<Arc<str>> {
    let mut out = BTreeSet::new();
    let mut add = |p: &[Arc<str>]| out.extend(p.iter().cloned());
    for n in flow.nodes() {
        match &n.kind {
            NodeKind::Menu(m) => {
                add(&m.announce.prompts);
                add(&m.retry.no_input);
                add(&m.retry.invalid);
            }
            NodeKind::Play(p) => add(&p.announce.prompts),
            NodeKind::Collect(c) => {
                add(&c.announce.prompts);
                add(&c.retry.no_input);
                add(&c.retry.invalid);
            }
            NodeKind::Survey(s) => {
                add(&s.announce.prompts);
                add(&s.retry.no_input);
                add(&s.retry.invalid);
                add(&s.thanks);
            }
            NodeKind::Voicemail(v) => add(&v.announce.prompts),
            NodeKind::Queue(q) => {
                add(&q.announce.prompts);
                add(&q.repeat);
            }
            NodeKind::Transfer(t) => add(&t.announce.prompts),
            NodeKind::Hangup(h) => add(&h.prompts),
            _ => {}
        }
    }
    out
}

/// The keys of a menu, or the score keys of a survey.
pub(crate) fn keys_of(kind: &NodeKind) -> Vec<char> {
    match kind {
        NodeKind::Menu(m) => m.choices.iter().map(|(k, _)| *k).collect(),
        NodeKind::Survey(s) => (s.range.0..=s.range.1)
            .map(|d| char::from(b'0' + d))
            .collect(),
        _ => Vec::new(),
    }
}

/// A DTMF key a node does not take (for simulated invalid entries), if there is one.
pub(crate) fn invalid_key(kind: &NodeKind) -> Option<char> {
    let taken = keys_of(kind);
    "0123456789*#ABCD".chars().find(|k| !taken.contains(k))
}

/// Checks `[ivr]`'s flow keys against the flow and the rest of the scenario.
pub(super) fn check(sc: &Scenario) -> Result<(), Problem> {
    let Some(ivr) = &sc.ivr else { return Ok(()) };
    let Some(spec) = &ivr.flow_spec else {
        if ivr.time.is_none() {
            return problem(
                "ivr.time",
                "give the time callers spend in the IVR, or a `flow`",
            );
        }
        for (key, set) in [
            ("ivr.nodes", !ivr.nodes.is_empty()),
            ("ivr.prompts", !ivr.prompts.is_empty()),
            ("ivr.prompt_s", ivr.prompt_s.is_some()),
            ("ivr.think", ivr.think.is_some()),
            ("ivr.dnis", !ivr.dnis.is_empty()),
            ("ivr.starts_at", ivr.starts_at.is_some()),
        ] {
            if set {
                return problem(key, "applies to an IVR that runs a `flow`");
            }
        }
        return Ok(());
    };
    if ivr.time.is_some() {
        return problem(
            "ivr.time",
            "an IVR that runs a flow takes its time from the flow: drop `time` or `flow`",
        );
    }
    if ivr.self_service > 0.0 {
        return problem(
            "ivr.self_service",
            "an IVR that runs a flow finds self-service from the flow: drop `self_service`",
        );
    }
    let Some(flow) = ivr.flow() else {
        return problem("ivr.flow", format!("flow `{spec}` is not loaded"));
    };
    if let Some(cb) = &sc.callback {
        // The list is filled by the flow's callback key: the ACD's own offer does not apply.
        if cb.offer_when_expected_wait_s != 0.0 || cb.acceptance != 1.0 {
            return problem(
                "callback",
                "with an IVR flow, callers ask for a callback with its queue node's callback \
                 key, so the ACD's own offer (`offer_when_expected_wait_s`, `acceptance`) does \
                 not apply: drop them",
            );
        }
    }
    if let Some(s) = &ivr.starts_at
        && parse_local(s).is_none()
    {
        return problem(
            "ivr.starts_at",
            format!("`{s}` is not a local time `YYYY-MM-DD HH:MM`"),
        );
    }
    if ivr.dnis.len() > MAX_DIALLED {
        return problem("ivr.dnis", format!("at most {MAX_DIALLED} numbers"));
    }
    for (i, d) in ivr.dnis.iter().enumerate() {
        if d.number.is_empty()
            || d.number.len() > tandem_ivr::MAX_NUMBER
            || !d.number.bytes().all(|b| b.is_ascii_graphic())
        {
            return problem(
                &format!("ivr.dnis[{i}].number"),
                "1 to 32 printable ASCII characters",
            );
        }
        super::bounds::within(&format!("ivr.dnis[{i}].share"), d.share, 0.0, 1e9, "")?;
    }
    if !ivr.dnis.is_empty() && !(ivr.dnis.iter().map(|d| d.share).sum::<f64>() > 0.0) {
        return problem("ivr.dnis", "the shares must not all be 0");
    }
    // Prompts: every one the flow plays has a length; every one named is played.
    let played = prompts_of(flow);
    for name in ivr.prompts.keys() {
        if !played.contains(name.as_str()) {
            return problem(
                "ivr.prompts",
                format!("flow `{}` plays no prompt `{name}`", flow.name()),
            );
        }
    }
    if ivr.prompt_s.is_none()
        && let Some(p) = played.iter().find(|p| !ivr.prompts.contains_key(&***p))
    {
        return problem(
            "ivr.prompts",
            format!("no length for prompt `{p}` (give it in `prompts` or a default `prompt_s`)"),
        );
    }
    // The flow's queues are the call types.
    if !sc.call_types.is_empty() {
        for n in flow.nodes() {
            if let NodeKind::Queue(q) = &n.kind
                && !sc.call_types.iter().any(|t| *t.name == *q.queue)
            {
                return problem(
                    "call_types",
                    format!(
                        "flow node `{}` queues for `{}`, which is no call type's name",
                        n.name, q.queue
                    ),
                );
            }
        }
    }
    if ivr.nodes.len() > MAX_FLOW_NODES {
        return problem("ivr.nodes", format!("at most {MAX_FLOW_NODES} nodes"));
    }
    for (name, b) in &ivr.nodes {
        check_node(flow, name, b)?;
    }
    Ok(())
}

/// Checks one node's behaviour against the node.
fn check_node(flow: &Flow, name: &str, b: &NodeBehaviour) -> Result<(), Problem> {
    let key = |k: &str| format!("ivr.nodes.{name}.{k}");
    let Some(id) = flow.find(name) else {
        return problem(
            &format!("ivr.nodes.{name}"),
            format!("flow `{}` has no node `{name}`", flow.name()),
        );
    };
    let kind = &flow.node(id).kind;
    let input = matches!(
        kind,
        NodeKind::Menu(_) | NodeKind::Collect(_) | NodeKind::Survey(_)
    );
    let applies: &[(&str, bool)] = &[
        ("choices", !b.choices.is_empty()),
        ("no_input", b.no_input != 0.0),
        ("no_match", b.no_match != 0.0),
        ("think", b.think.is_some()),
        ("digits", b.digits.is_some()),
        ("digit_gap", b.digit_gap.is_some()),
        ("message", b.message.is_some()),
        ("callback", b.callback != 0.0),
        ("answer", b.answer.is_some()),
        ("ring", b.ring.is_some()),
        ("hangup", b.hangup != 0.0),
    ];
    for (k, set) in applies {
        let ok = match *k {
            "choices" => matches!(kind, NodeKind::Menu(_) | NodeKind::Survey(_)),
            "no_input" | "no_match" | "think" => input,
            "hangup" => input || matches!(kind, NodeKind::Play(_)),
            "digits" | "digit_gap" => matches!(kind, NodeKind::Collect(_)),
            "message" => matches!(kind, NodeKind::Voicemail(_)),
            "callback" => matches!(kind, NodeKind::Queue(_)),
            _ => matches!(kind, NodeKind::Transfer(_)),
        };
        if *set && !ok {
            return problem(
                &key(k),
                format!("does not apply to node `{name}`, a {} node", kind.name()),
            );
        }
    }
    for (k, p) in [
        ("no_input", b.no_input),
        ("no_match", b.no_match),
        ("hangup", b.hangup),
        ("callback", b.callback),
    ] {
        probability(&key(k), p)?;
    }
    if let Some(a) = b.answer {
        probability(&key("answer"), a)?;
    }
    if !(b.no_input + b.no_match + b.hangup <= 1.0) {
        return problem(
            &key("no_input"),
            "no_input + no_match + hangup must be at most 1",
        );
    }
    let keys = keys_of(kind);
    for (k, w) in &b.choices {
        let mut cs = k.chars();
        let c = cs.next().map(|c| c.to_ascii_uppercase());
        if cs.next().is_some() || !c.is_some_and(|c| keys.contains(&c)) {
            let what = if matches!(kind, NodeKind::Survey(_)) {
                "score"
            } else {
                "choice"
            };
            return problem(
                &key("choices"),
                format!("node `{name}` has no {what} `{k}` (it takes {keys:?})"),
            );
        }
        super::bounds::within(&key("choices"), *w, 0.0, 1e9, "")?;
    }
    if !b.choices.is_empty() && !(b.choices.values().sum::<f64>() > 0.0) {
        return problem(&key("choices"), "the weights must not all be 0");
    }
    if b.no_match > 0.0 {
        let possible = match kind {
            NodeKind::Collect(c) => c.min_digits > 1,
            k => invalid_key(k).is_some(),
        };
        if !possible {
            return problem(
                &key("no_match"),
                format!("node `{name}` takes every entry a caller can key"),
            );
        }
    }
    if let NodeKind::Collect(c) = kind
        && let Some(d) = b.digits
        && (d < c.min_digits.max(1) || d > c.max_digits)
    {
        return problem(
            &key("digits"),
            format!(
                "node `{name}` takes {} to {} digits",
                c.min_digits.max(1),
                c.max_digits
            ),
        );
    }
    if let NodeKind::Queue(q) = kind
        && b.callback > 0.0
        && (q.callback_key.is_none() || q.repeat_every.is_none())
    {
        return problem(
            &key("callback"),
            format!("queue node `{name}` offers no callback (no callback key or repeat)"),
        );
    }
    Ok(())
}
