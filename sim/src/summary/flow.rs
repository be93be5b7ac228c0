//! Folding replications' IVR flow figures into the report's flow section: per node and per
//! survey sums, the running mean score of each survey, and the first replications' own rows.

use std::sync::Arc;

use tandem_ivr::Flow;

use super::Running;
use crate::flow_metrics::{Exit, FlowMetrics};
use crate::report::flow::{
    ExitRow, FlowReplication, FlowReport, MAX_REPLICATION_ROWS, NodeRow, SurveyRow,
    port_requirement,
};
use crate::report::{IntervalRow, div};
use crate::scenario::Scenario;

/// Replications' flow figures folded so far.
pub(crate) struct FlowSummary {
    flow: Arc<Flow>,
    sum: FlowMetrics,
    survey_means: Vec<Running>,
    rows: Vec<FlowReplication>,
}

impl FlowSummary {
    pub(crate) fn new(sc: &Scenario) -> Option<FlowSummary> {
        let flow = Arc::clone(sc.ivr.as_ref()?.flow()?);
        Some(FlowSummary {
            sum: FlowMetrics::new(&flow),
            survey_means: Vec::new(),
            rows: Vec::new(),
            flow,
        })
    }

    pub(crate) fn add(&mut self, rep: u32, m: &FlowMetrics) {
        self.sum.add(m);
        if self.survey_means.len() < m.surveys.len() {
            self.survey_means
                .resize(m.surveys.len(), Running::default());
        }
        for (r, s) in self.survey_means.iter_mut().zip(&m.surveys) {
            if let Some(x) = s.mean() {
                r.add(x);
            }
        }
        if self.rows.len() < MAX_REPLICATION_ROWS {
            self.rows.push(FlowReplication {
                replication: rep,
                callers: m.callers,
                self_service: m.self_service,
                to_acd: m.to_acd,
                callback_requests: m.callback_requests,
                voicemails: m.voicemails,
                hung_up: m.hung_up,
                mean_port_s: div(m.port_s, m.callers),
                nodes: m
                    .nodes
                    .iter()
                    .map(|n| [n.entries, n.exits_total(), n.abandons, n.time_s])
                    .collect(),
                surveys: m
                    .surveys
                    .iter()
                    .map(|s| {
                        let offered = m.nodes[s.node as usize].entries;
                        [div(s.answered(), offered), s.mean().unwrap_or(0.0)]
                    })
                    .collect(),
            });
        }
    }

    pub(crate) fn into_report(
        self,
        sc: &Scenario,
        n: f64,
        intervals: &[IntervalRow],
        level: f64,
    ) -> FlowReport {
        let s = &self.sum;
        let nodes = self
            .flow
            .nodes()
            .iter()
            .zip(&s.nodes)
            .map(|(node, t)| NodeRow {
                node: node.name.to_string(),
                kind: node.kind.name(),
                entries: t.entries / n,
                exits: t
                    .exits
                    .iter()
                    .map(|(e, c)| ExitRow {
                        to: match e {
                            Exit::Node(j) => self.flow.nodes()[*j as usize].name.to_string(),
                            Exit::End(end) => end.label().to_string(),
                        },
                        calls: c / n,
                    })
                    .collect(),
                abandons: t.abandons / n,
                time_s: t.time_s / n,
                mean_time_s: div(t.time_s, t.entries),
            })
            .collect();
        let surveys = s
            .surveys
            .iter()
            .zip(
                self.survey_means
                    .iter()
                    .chain(std::iter::repeat(&Running::default())),
            )
            .map(|(t, r)| {
                let offered = s.nodes[t.node as usize].entries;
                let (lo, hi) = match &self.flow.nodes()[t.node as usize].kind {
                    tandem_ivr::NodeKind::Survey(v) => v.range,
                    _ => (0, 9),
                };
                SurveyRow {
                    node: self.flow.nodes()[t.node as usize].name.to_string(),
                    offered: offered / n,
                    answered: t.answered() / n,
                    participation: div(t.answered(), offered),
                    scores: (lo..=hi)
                        .map(|d| (d, t.scores[usize::from(d.min(9))] / n))
                        .collect(),
                    mean: t.mean(),
                    mean_ci: r.half_width(level),
                }
            })
            .collect();
        let mean_port_s = div(s.port_s, s.callers);
        FlowReport {
            flow: self.flow.name().to_string(),
            callers: s.callers / n,
            self_service: s.self_service / n,
            to_acd: s.to_acd / n,
            callback_requests: s.callback_requests / n,
            voicemails: s.voicemails / n,
            transferred: s.transferred / n,
            hung_up: s.hung_up / n,
            mean_port_s,
            nodes,
            surveys,
            ports: port_requirement(sc, intervals, mean_port_s),
            replications: self.rows,
        }
    }
}
