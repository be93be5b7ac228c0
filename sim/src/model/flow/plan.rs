//! The scenario's flow and callers' behaviour, resolved against the flow's nodes for a
//! replication: cumulative key weights, the probabilities of each attempt's outcomes, and
//! the distributions (with their defaults) of think times, digit gaps, messages and rings.

use std::collections::HashMap;
use std::sync::Arc;

use tandem_ivr::{Flow, NodeKind};

use crate::dist::Dist;
use crate::flow_metrics::FlowMetrics;
use crate::scenario::Scenario;
use crate::scenario::ivr_flow::{invalid_key, keys_of};

static THINK: Dist = Dist::Deterministic { value: 2.0 };
pub(in crate::model) static DIGIT_GAP: Dist = Dist::Deterministic { value: 0.5 };
static MESSAGE: Dist = Dist::Deterministic { value: 30.0 };
static RING: Dist = Dist::Deterministic { value: 10.0 };

/// How callers behave at one node, resolved against the flow.
pub(in crate::model) struct NodePlan<'s> {
    /// Keys and their cumulative probabilities (the last is 1).
    pub(in crate::model) keys: Vec<(char, f64)>,
    pub(in crate::model) hangup: f64,
    pub(in crate::model) no_input: f64,
    pub(in crate::model) no_match: f64,
    pub(in crate::model) think: &'s Dist,
    pub(in crate::model) invalid: Option<char>,
    pub(in crate::model) digits: u8,
    pub(in crate::model) digit_gap: &'s Dist,
    pub(in crate::model) message: &'s Dist,
    pub(in crate::model) callback: f64,
    pub(in crate::model) answer: f64,
    pub(in crate::model) ring: &'s Dist,
}

/// The flow and the callers' behaviour, for one replication.
pub(in crate::model) struct FlowPlan<'s> {
    pub(in crate::model) flow: Arc<Flow>,
    pub(in crate::model) nodes: Vec<NodePlan<'s>>,
    pub(in crate::model) prompts: HashMap<&'s str, &'s Dist>,
    pub(in crate::model) prompt_default: Option<&'s Dist>,
    /// Dialled numbers with cumulative shares.
    pub(in crate::model) dnis: Vec<(&'s str, f64)>,
    pub(in crate::model) start_unix: i64,
    /// The call type of each queue the flow names.
    pub(in crate::model) queue_types: HashMap<Arc<str>, u16>,
}

impl<'s> FlowPlan<'s> {
    /// The plan of `sc`'s flow, if its IVR runs one.
    pub(in crate::model) fn of(sc: &'s Scenario) -> Option<FlowPlan<'s>> {
        let ivr = sc.ivr.as_ref()?;
        let flow = Arc::clone(ivr.flow()?);
        let think = ivr.think.as_ref().unwrap_or(&THINK);
        let nodes = flow
            .nodes()
            .iter()
            .map(|n| {
                let b = ivr.nodes.get(&*n.name);
                let node_keys = keys_of(&n.kind);
                let weights: Vec<(char, f64)> = match b {
                    Some(b) if !b.choices.is_empty() => node_keys
                        .iter()
                        .map(|k| {
                            let w = b
                                .choices
                                .iter()
                                .find(|(s, _)| {
                                    s.chars().next().map(|c| c.to_ascii_uppercase()) == Some(*k)
                                })
                                .map_or(0.0, |(_, w)| *w);
                            (*k, w)
                        })
                        .collect(),
                    _ => node_keys.iter().map(|k| (*k, 1.0)).collect(),
                };
                let total: f64 = weights.iter().map(|(_, w)| w).sum();
                let mut acc = 0.0;
                let keys = weights
                    .into_iter()
                    .filter(|(_, w)| *w > 0.0)
                    .map(|(k, w)| {
                        acc += w / total;
                        (k, acc)
                    })
                    .collect();
                let digits = match &n.kind {
                    NodeKind::Collect(c) => b.and_then(|b| b.digits).unwrap_or(c.min_digits.max(1)),
                    _ => 0,
                };
                NodePlan {
                    keys,
                    hangup: b.map_or(0.0, |b| b.hangup),
                    no_input: b.map_or(0.0, |b| b.no_input),
                    no_match: b.map_or(0.0, |b| b.no_match),
                    think: b.and_then(|b| b.think.as_ref()).unwrap_or(think),
                    invalid: invalid_key(&n.kind),
                    digits,
                    digit_gap: b.and_then(|b| b.digit_gap.as_ref()).unwrap_or(&DIGIT_GAP),
                    message: b.and_then(|b| b.message.as_ref()).unwrap_or(&MESSAGE),
                    callback: b.map_or(0.0, |b| b.callback),
                    answer: b.and_then(|b| b.answer).unwrap_or(1.0),
                    ring: b.and_then(|b| b.ring.as_ref()).unwrap_or(&RING),
                }
            })
            .collect();
        let total: f64 = ivr.dnis.iter().map(|d| d.share).sum();
        let mut acc = 0.0;
        let dnis = ivr
            .dnis
            .iter()
            .map(|d| {
                acc += d.share / total;
                (d.number.as_str(), acc)
            })
            .collect();
        let mut queue_types = HashMap::new();
        for n in flow.nodes() {
            if let NodeKind::Queue(q) = &n.kind {
                let t = sc
                    .call_types
                    .iter()
                    .position(|t| *t.name == *q.queue)
                    .unwrap_or(0);
                queue_types.insert(Arc::clone(&q.queue), t as u16);
            }
        }
        Some(FlowPlan {
            nodes,
            prompts: ivr.prompts.iter().map(|(k, d)| (k.as_str(), d)).collect(),
            prompt_default: ivr.prompt_s.as_ref(),
            dnis,
            start_unix: ivr.start_unix(),
            queue_types,
            flow,
        })
    }

    /// Fresh figures for a replication.
    pub(in crate::model) fn metrics(&self) -> FlowMetrics {
        FlowMetrics::new(&self.flow)
    }
}
