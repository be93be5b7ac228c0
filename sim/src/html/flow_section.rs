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
        "Means per replication. {:.0} callers started the flow: {:.0} finished in self-service, \
         {:.0} were put in an agents' queue, {:.0} asked for a callback, {:.0} left a message, \
         {:.0} were transferred and {:.0} hung up in it. An IVR port was held {:.1} s per \
         caller. Every node's entries equal its exits plus its abandons.",
        f.callers,
        f.self_service,
        f.to_acd,
        f.callback_requests,
        f.voicemails,
        f.transferred,
        f.hung_up,
        f.mean_port_s
    ));
    let rows: Vec<Vec<String>> = f
        .nodes
        .iter()
        .filter(|n| n.entries > 0.0)
        .map(|n| {
            let exits: Vec<String> = n
                .exits
                .iter()
                .map(|e| format!("{} {:.0}", e.to, e.calls))
                .collect();
            vec![
                n.node.clone(),
                n.kind.to_string(),
                format!("{:.0}", n.entries),
                exits.join(", "),
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
                let dist: Vec<String> = s
                    .scores
                    .iter()
                    .map(|(d, c)| format!("{d}: {c:.0}"))
                    .collect();
                vec![
                    s.node.clone(),
                    format!("{:.0}", s.offered),
                    format!("{:.0} ({:.1}%)", s.answered, s.participation * 100.0),
                    dist.join(", "),
                    match (s.mean, s.mean_ci) {
                        (Some(m), Some(h)) => format!("{m:.2} ± {h:.2}"),
                        (Some(m), None) => format!("{m:.2} ± n/a"),
                        _ => "n/a".into(),
                    },
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
