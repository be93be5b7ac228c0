//! The report's IVR flow section: per node traffic (entries, exits by branch, abandons,
//! time spent), survey scores, the flow's outcomes, each replication's figures and the IVR
//! port requirement, set beside the rule of thumb "IVR ports + agent seats = trunk lines".

use std::fmt::Write as _;

use serde::Serialize;

use super::{IntervalRow, Report};
use crate::erlang::erlang_b_servers;
use crate::scenario::Scenario;

/// Replications whose own figures the report lists (the aggregate covers all).
pub const MAX_REPLICATION_ROWS: usize = 100;
/// The IVR loss the port requirement is sized for.
pub const PORT_LOSS_TARGET: f64 = 0.01;

/// One exit of a node.
#[derive(Clone, Debug, Serialize)]
pub struct ExitRow {
    /// The next node, or how the call ended (`end: …`).
    pub to: String,
    /// Calls (mean per replication).
    pub calls: f64,
}

/// One node's traffic (means per replication).
#[derive(Clone, Debug, Serialize)]
pub struct NodeRow {
    /// The node's name.
    pub node: String,
    /// Its kind (menu, play, queue, …).
    pub kind: &'static str,
    /// Calls that entered it.
    pub entries: f64,
    /// Where they went.
    pub exits: Vec<ExitRow>,
    /// Callers who hung up in it.
    pub abandons: f64,
    /// Seconds spent in it, in all (not counting conversations with agents).
    pub time_s: f64,
    /// Seconds per entry.
    pub mean_time_s: f64,
}

/// One survey's scores (means per replication).
#[derive(Clone, Debug, Serialize)]
pub struct SurveyRow {
    /// The survey node.
    pub node: String,
    /// Callers who reached it.
    pub offered: f64,
    /// Callers who keyed a score.
    pub answered: f64,
    /// Answered ÷ offered.
    pub participation: f64,
    /// Callers per score, from the lowest score up: `[score, calls]`.
    pub scores: Vec<(u8, f64)>,
    /// The mean score of all replications' answers.
    pub mean: Option<f64>,
    /// Confidence half-width of the mean score across replications.
    pub mean_ci: Option<f64>,
}

/// One replication's flow figures.
#[derive(Clone, Debug, Serialize)]
pub struct FlowReplication {
    /// Replication number (from 0).
    pub replication: u32,
    /// Callers who started the flow.
    pub callers: f64,
    /// Finished in self-service.
    pub self_service: f64,
    /// Put in an ACD queue.
    pub to_acd: f64,
    /// Callback requests.
    pub callback_requests: f64,
    /// Messages left.
    pub voicemails: f64,
    /// Hung up in the flow.
    pub hung_up: f64,
    /// Mean IVR port holding time per caller, seconds.
    pub mean_port_s: f64,
    /// Per node, in flow order: `[entries, exits, abandons, seconds]`.
    pub nodes: Vec<[f64; 4]>,
    /// Per survey, in flow order: `[participation, mean score]` (mean 0 when no answers).
    pub surveys: Vec<[f64; 2]>,
}

/// The IVR ports the measured traffic needs, and the rule of thumb.
#[derive(Clone, Debug, Serialize)]
pub struct PortRequirement {
    /// The busiest interval's start, seconds.
    pub busiest_interval_s: f64,
    /// The IVR traffic offered in it, Erlangs: busy ports, plus what the callers who found
    /// no port would have held at the mean holding time.
    pub offered_erlangs: f64,
    /// The fewest ports for at most 1% IVR loss at that traffic (Erlang B).
    pub ports_for_1pct: Option<u32>,
    /// Ports configured.
    pub configured: u32,
    /// Agent seats (most agents on duty at once, all groups).
    pub seats: u32,
    /// Trunk channels (none: unlimited).
    pub trunks: Option<u32>,
    /// The rule of thumb: trunks − seats (none with unlimited trunks).
    pub rule_of_thumb: Option<i64>,
}

/// The flow section of a report.
#[derive(Clone, Debug, Serialize)]
pub struct FlowReport {
    /// The flow's name.
    pub flow: String,
    /// Callers who started the flow (mean per replication).
    pub callers: f64,
    /// Finished in self-service.
    pub self_service: f64,
    /// Put in an ACD queue.
    pub to_acd: f64,
    /// Callback requests keyed in a queue (counted; the ACD takes callback entries only by
    /// its own offer rule, so these are not dialled).
    pub callback_requests: f64,
    /// Messages left.
    pub voicemails: f64,
    /// Transferred away.
    pub transferred: f64,
    /// Hung up in the flow (queue included).
    pub hung_up: f64,
    /// Mean IVR port holding time per caller, seconds.
    pub mean_port_s: f64,
    /// Per node.
    pub nodes: Vec<NodeRow>,
    /// Per survey node.
    pub surveys: Vec<SurveyRow>,
    /// The port requirement.
    pub ports: PortRequirement,
    /// The first replications' own figures.
    pub replications: Vec<FlowReplication>,
}

/// The ports the busiest interval's IVR traffic needs for at most 1% loss (Erlang B), and
/// the rule of thumb trunks − seats.
pub fn port_requirement(
    sc: &Scenario,
    intervals: &[IntervalRow],
    holding_s: f64,
) -> PortRequirement {
    let offered = |r: &IntervalRow| r.ivr_busy + r.counts.ivr_lost * holding_s / sc.interval_s;
    let busiest = intervals
        .iter()
        .max_by(|a, b| offered(a).total_cmp(&offered(b)));
    let a = busiest.map_or(0.0, offered);
    let seats: u32 = std::iter::once(sc.agents.most_on_duty())
        .chain(
            sc.groups
                .iter()
                .map(|g| crate::scenario::most_on_duty(g.count, &g.shifts)),
        )
        .sum();
    let trunks = sc.trunks.capacity();
    PortRequirement {
        busiest_interval_s: busiest.map_or(0.0, |r| r.start_s),
        offered_erlangs: a,
        ports_for_1pct: erlang_b_servers(a, PORT_LOSS_TARGET).ok(),
        configured: sc.ivr.as_ref().map_or(0, |i| i.ports),
        seats,
        trunks,
        rule_of_thumb: trunks.map(|t| i64::from(t) - i64::from(seats)),
    }
}

impl FlowReport {
    /// The flow's outcomes in a sentence.
    pub fn outcomes_text(&self) -> String {
        format!(
            "{:.0} callers: self-service {:.0}, to agents' queues {:.0}, callback requests {:.0}, \
             messages {:.0}, transferred {:.0}, hung up {:.0}; IVR port held {:.1} s per caller",
            self.callers,
            self.self_service,
            self.to_acd,
            self.callback_requests,
            self.voicemails,
            self.transferred,
            self.hung_up,
            self.mean_port_s
        )
    }
}

impl NodeRow {
    /// The exits as `next calls, …`.
    pub fn exits_text(&self) -> String {
        let exits: Vec<String> = self
            .exits
            .iter()
            .map(|e| format!("{} {:.0}", e.to, e.calls))
            .collect();
        exits.join(", ")
    }
}

impl SurveyRow {
    /// Calls per score as `score: calls, …`.
    pub fn scores_text(&self) -> String {
        let d: Vec<String> = self
            .scores
            .iter()
            .map(|(d, c)| format!("{d}: {c:.0}"))
            .collect();
        d.join(", ")
    }

    /// The mean score with its half-width.
    pub fn mean_text(&self) -> String {
        match (self.mean, self.mean_ci) {
            (Some(m), Some(h)) => format!("{m:.2} ± {h:.2}"),
            (Some(m), None) => format!("{m:.2} ± n/a"),
            _ => "n/a".into(),
        }
    }
}

impl Report {
    /// The flow section as text.
    pub(super) fn flow_text(&self, s: &mut String) {
        let Some(f) = &self.ivr_flow else { return };
        let _ = writeln!(
            s,
            "\nIVR flow {} (means per replication)\n  {}",
            f.flow,
            f.outcomes_text()
        );
        let _ = writeln!(
            s,
            "  {:<22} {:<9} {:>9} {:>9} {:>8}  exits",
            "node", "kind", "entries", "abandons", "s/entry"
        );
        for r in f.nodes.iter().filter(|r| r.entries > 0.0) {
            let _ = writeln!(
                s,
                "  {:<22} {:<9} {:>9.0} {:>9.0} {:>8.1}  {}",
                r.node,
                r.kind,
                r.entries,
                r.abandons,
                r.mean_time_s,
                r.exits_text()
            );
        }
        for v in &f.surveys {
            let _ = writeln!(
                s,
                "  survey {}: {:.0} reached, {:.0} scored ({:.1}%), mean {}; {}",
                v.node,
                v.offered,
                v.answered,
                v.participation * 100.0,
                v.mean_text(),
                v.scores_text()
            );
        }
        let p = &f.ports;
        let need = p
            .ports_for_1pct
            .map_or_else(|| "n/a".to_string(), |x| x.to_string());
        let _ = write!(
            s,
            "  IVR ports: {} configured; the busiest interval ({}) offers {:.1} Erl, which needs \
             {need} ports for ≤1% IVR loss",
            p.configured,
            super::clock(p.busiest_interval_s),
            p.offered_erlangs
        );
        match p.rule_of_thumb {
            Some(r) => {
                let _ = writeln!(
                    s,
                    "; rule of thumb trunks − seats = {} − {} = {r}",
                    p.trunks.unwrap_or(0),
                    p.seats
                );
            }
            None => {
                let _ = writeln!(s, "; no rule of thumb with unlimited trunks");
            }
        }
        if f.replications.len() > 1 {
            let _ = writeln!(
                s,
                "  per replication: callers / self-service / to queues / hung up / port s / survey mean"
            );
            for r in f.replications.iter().take(20) {
                let survey = r
                    .surveys
                    .first()
                    .map_or_else(|| "-".to_string(), |v| format!("{:.2}", v[1]));
                let _ = writeln!(
                    s,
                    "    #{:<3} {:>7.0} {:>7.0} {:>7.0} {:>7.0} {:>7.1} {survey:>6}",
                    r.replication, r.callers, r.self_service, r.to_acd, r.hung_up, r.mean_port_s
                );
            }
        }
    }
}
