//! What one replication measured of an IVR flow: per node, the callers who entered it, where
//! they went next (a node, or an end of the call), who hung up in it and the time spent in
//! it; per survey node, the scores keyed; and the flow's outcomes per caller.
//!
//! A caller's figures are kept, or left out, as a whole: those who arrived after the
//! warm-up are counted from their first node to their last, so every node's entries equal
//! its exits plus its abandons in every replication.

use serde::Serialize;
use tandem_ivr::{Flow, NodeKind};

/// How a call left a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Exit {
    /// On to this node (by index in the flow).
    Node(u32),
    /// The call ended in the node.
    End(FlowEnd),
}

/// How a flow's call ended in a node, other than by the caller hanging up (an abandon).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlowEnd {
    /// The flow ran to its end (a hangup node, or a node with no next one).
    Completed,
    /// The caller keyed nothing through every retry and the node has no exit for that.
    NoInput,
    /// The caller keyed only invalid entries and the node has no exit for that.
    NoMatch,
    /// Transferred: the target answered.
    Transferred,
    /// The transfer failed and the node has no exit for that.
    TransferFailed,
    /// The queue overflowed and the node has no exit for that.
    QueueOverflow,
    /// The agent hung up and the queue node runs nothing after.
    AgentHungUp,
    /// The agent hung up but no IVR port was free for what the flow runs after.
    NoPortAfterAgent,
    /// Rejected by the ACD (a blacklisted caller).
    Rejected,
}

impl FlowEnd {
    /// A short label for reports.
    pub fn label(self) -> &'static str {
        match self {
            FlowEnd::Completed => "end: completed",
            FlowEnd::NoInput => "end: no input",
            FlowEnd::NoMatch => "end: no match",
            FlowEnd::Transferred => "end: transferred",
            FlowEnd::TransferFailed => "end: transfer failed",
            FlowEnd::QueueOverflow => "end: queue overflow",
            FlowEnd::AgentHungUp => "end: after the agent",
            FlowEnd::NoPortAfterAgent => "end: no IVR port after the agent",
            FlowEnd::Rejected => "end: rejected",
        }
    }
}

/// One node's figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeTally {
    /// Calls that entered the node (each visit counts).
    pub entries: f64,
    /// Where they went, by exit (few per node: kept as a short list).
    pub exits: Vec<(Exit, f64)>,
    /// Callers who hung up in the node (in its prompts, its menu, its queue or ringing).
    pub abandons: f64,
    /// Seconds spent in the node (not counting a conversation with an agent).
    pub time_s: f64,
}

impl NodeTally {
    /// Counts one exit.
    pub fn exit(&mut self, e: Exit) {
        match self.exits.iter_mut().find(|(x, _)| *x == e) {
            Some((_, n)) => *n += 1.0,
            None => self.exits.push((e, 1.0)),
        }
    }

    /// All exits.
    pub fn exits_total(&self) -> f64 {
        self.exits.iter().map(|(_, n)| n).sum()
    }

    fn add(&mut self, o: &NodeTally) {
        self.entries += o.entries;
        self.abandons += o.abandons;
        self.time_s += o.time_s;
        for &(e, n) in &o.exits {
            match self.exits.iter_mut().find(|(x, _)| *x == e) {
                Some((_, m)) => *m += n,
                None => self.exits.push((e, n)),
            }
        }
    }
}

/// One survey node's scores.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SurveyTally {
    /// The node (index in the flow).
    pub node: u32,
    /// Callers who keyed score `s`, at index `s` (0–9).
    pub scores: [f64; 10],
    /// Callers who finished the survey without a valid score.
    pub unanswered: f64,
}

impl SurveyTally {
    /// Callers who gave a score.
    pub fn answered(&self) -> f64 {
        self.scores.iter().sum()
    }

    /// The mean score, if anyone gave one.
    pub fn mean(&self) -> Option<f64> {
        let n = self.answered();
        (n > 0.0).then(|| {
            self.scores
                .iter()
                .enumerate()
                .map(|(s, c)| s as f64 * c)
                .sum::<f64>()
                / n
        })
    }
}

/// A replication's figures of the flow.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlowMetrics {
    /// Per node, by index in the flow.
    pub nodes: Vec<NodeTally>,
    /// Per survey node.
    pub surveys: Vec<SurveyTally>,
    /// Callers who started the flow (took an IVR port).
    pub callers: f64,
    /// Callers who ended in the flow without reaching the ACD, leaving a message, asking
    /// for a callback or being transferred (self-service).
    pub self_service: f64,
    /// Callers the flow put in an ACD queue (each caller once).
    pub to_acd: f64,
    /// Callback requests keyed in a queue.
    pub callback_requests: f64,
    /// Messages recorded.
    pub voicemails: f64,
    /// Calls transferred away.
    pub transferred: f64,
    /// Callers who hung up in the flow (in any node, the queue included).
    pub hung_up: f64,
    /// Seconds callers held IVR ports.
    pub port_s: f64,
}

impl FlowMetrics {
    /// Empty figures for `flow`.
    pub fn new(flow: &Flow) -> FlowMetrics {
        FlowMetrics {
            nodes: vec![NodeTally::default(); flow.nodes().len()],
            surveys: flow
                .nodes()
                .iter()
                .enumerate()
                .filter(|(_, n)| matches!(n.kind, NodeKind::Survey(_)))
                .map(|(i, _)| SurveyTally {
                    node: i as u32,
                    ..SurveyTally::default()
                })
                .collect(),
            ..FlowMetrics::default()
        }
    }

    /// The survey tally of node `node`, if it is a survey node.
    pub fn survey_mut(&mut self, node: u32) -> Option<&mut SurveyTally> {
        self.surveys.iter_mut().find(|s| s.node == node)
    }

    /// Adds another replication's figures.
    pub fn add(&mut self, o: &FlowMetrics) {
        if self.nodes.len() < o.nodes.len() {
            self.nodes.resize(o.nodes.len(), NodeTally::default());
        }
        for (a, b) in self.nodes.iter_mut().zip(&o.nodes) {
            a.add(b);
        }
        for s in &o.surveys {
            if self.survey_mut(s.node).is_none() {
                self.surveys.push(SurveyTally {
                    node: s.node,
                    ..SurveyTally::default()
                });
            }
            if let Some(t) = self.survey_mut(s.node) {
                for (x, y) in t.scores.iter_mut().zip(&s.scores) {
                    *x += y;
                }
                t.unanswered += s.unanswered;
            }
        }
        self.callers += o.callers;
        self.self_service += o.self_service;
        self.to_acd += o.to_acd;
        self.callback_requests += o.callback_requests;
        self.voicemails += o.voicemails;
        self.transferred += o.transferred;
        self.hung_up += o.hung_up;
        self.port_s += o.port_s;
    }

    /// Nodes whose entries differ from their exits plus abandons (none in a finished run).
    pub fn unbalanced(&self) -> Vec<usize> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| (n.entries - n.exits_total() - n.abandons).abs() > 1e-9)
            .map(|(i, _)| i)
            .collect()
    }
}
