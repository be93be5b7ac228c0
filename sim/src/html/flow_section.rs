//! The IVR flow section of a report page: the flow's outcomes, per node traffic, survey
//! scores, the port requirement and each replication's figures.

use super::page::Page;
use crate::report::Report;
use crate::report::clock;

/// Adds the flow section, if the report has one.
pub(super) fn section(p: &mut Page, r: &Report) {
    let Some(f) = &r.ivr_flow else { return };
    p.h2(&format!("IVR flow {}", f.flow));
    p.note(&format!(
        "Means per replication: {}. Every node's entries equal its exits plus its abandons.",
        f.outcomes_text()
    ));
    let rows: Vec<Vec<String>> = f
        .nodes
        .iter()
        .filter(|n| n.entries > 0.0)
        .map(|n| {
            vec![
                n.node.clone(),
                n.kind.to_string(),
                format!("{:.0}", n.entries),
                n.exits_text(),
                format!("{:.0}", n.abandons),
                format!("{:.1}", n.mean_time_s),
            ]
        })
        .collect();
    p.table(
        &[
            "node",
            "kind",
            "entries",
            "exits",
            "abandons",
            "s per entry",
        ],
        &rows,
    );
    if !f.surveys.is_empty() {
        let rows: Vec<Vec<String>> = f
            .surveys
            .iter()
            .map(|s| {
                vec![
                    s.node.clone(),
                    format!("{:.0}", s.offered),
                    format!("{:.0} ({:.1}%)", s.answered, s.participation * 100.0),
                    s.scores_text(),
                    s.mean_text(),
                ]
            })
            .collect();
        p.table(
            &["survey", "reached", "scored", "scores", "mean score"],
            &rows,
        );
    }
    let q = &f.ports;
    p.note(&format!(
        "IVR ports: {} configured. The busiest interval (from {}) offered {:.1} Erl of IVR \
         traffic, which needs {} ports for at most 1% IVR loss (Erlang B). The rule of thumb \
         IVR ports + seats = trunks gives {}. Queued callers hold ports, so when ports are short \
         the traffic measured is cut too: run again with the figure until it settles.",
        q.configured,
        clock(q.busiest_interval_s),
        q.offered_erlangs,
        q.ports_for_1pct
            .map_or_else(|| "n/a".to_string(), |n| n.to_string()),
        match (q.rule_of_thumb, q.trunks) {
            (Some(r), Some(t)) => format!("{t} − {} = {r}", q.seats),
            _ => "nothing with unlimited trunks".into(),
        }
    ));
    if f.replications.len() > 1 {
        let rows: Vec<Vec<String>> = f
            .replications
            .iter()
            .map(|x| {
                vec![
                    x.replication.to_string(),
                    format!("{:.0}", x.callers),
                    format!("{:.0}", x.self_service),
                    format!("{:.0}", x.to_acd),
                    format!("{:.0}", x.callback_requests),
                    format!("{:.0}", x.voicemails),
                    format!("{:.0}", x.hung_up),
                    format!("{:.1}", x.mean_port_s),
                    x.surveys
                        .first()
                        .map_or_else(|| "-".into(), |s| format!("{:.2}", s[1])),
                ]
            })
            .collect();
        p.table(
            &[
                "replication",
                "callers",
                "self-service",
                "to queues",
                "callbacks",
                "messages",
                "hung up",
                "port s",
                "survey mean",
            ],
            &rows,
        );
    }
}
