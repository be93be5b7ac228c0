//! The HTML page of one scenario run: KPI cards, the loss and service tables, and the
//! charts ([`super::report_charts`]).

use super::page::Page;
use crate::report::{Report, clock};
use crate::scenario::Scenario;

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// `v` in percent with its half-width, or "± n/a".
fn pct_ci(r: &Report, v: f64, key: &str) -> String {
    match r.half_width(key) {
        Some(h) => format!("{:.2}% ± {:.2}", v * 100.0, h * 100.0),
        None => format!("{:.2}% ± n/a", v * 100.0),
    }
}

/// Renders `report` of `sc` as one HTML page.
pub fn render(report: &Report, sc: &Scenario) -> String {
    let r = report;
    let k = &r.counts;
    let rt = &r.rates;
    let mut p = Page::new(&format!("Scenario {}", r.scenario), &sc.description);
    p.note(&format!(
        "{} replication(s), seed {}; counts are means per replication; ± are {:.0}% confidence \
         half-widths across replications (n/a: one replication gives none). Arrivals stop at \
         {}; the run goes on until the last call ends ({} simulated).",
        r.replications,
        r.seed,
        r.ci_level * 100.0,
        clock(r.duration_s),
        clock(r.simulated_s)
    ));
    let share = |n: f64| format!("{} of offered", pct(n / k.offered.max(1.0)));
    let loss = |name: &str, n: f64| (name.to_string(), format!("{n:.0}"), share(n));
    p.cards(&[
        (
            "offered".into(),
            format!("{:.0}", k.offered),
            format!("{:.0} redials", k.redials),
        ),
        loss("1 trunk loss", k.trunk_lost),
        loss("2 IVR loss", k.ivr_lost),
        loss("3 queue loss", k.queue_abandoned),
        loss("4 ring loss", k.ring_lost),
        (
            "all four losses".into(),
            format!(
                "{:.0}",
                k.trunk_lost + k.ivr_lost + k.queue_abandoned + k.ring_lost
            ),
            pct(rt.total_loss_share) + " of offered",
        ),
        (
            "human answer rate".into(),
            pct(rt.human_answer_rate),
            format!("{:.0} answered by agents", k.answered),
        ),
        (
            format!("service level ({:.0} s)", r.sl_threshold_s),
            pct(rt.service_level),
            format!("target {}", pct(r.sl_target)),
        ),
        (
            "ASA".into(),
            format!("{:.1} s", rt.asa_s),
            "mean wait of answered".into(),
        ),
        (
            "peak queue".into(),
            format!("{:.0}", r.queue_peak),
            "calls waiting".into(),
        ),
    ]);

    p.h2("Where calls went");
    let row = |name: &str, n: f64, v: String| vec![name.to_string(), format!("{n:.0}"), v];
    let mut rows = vec![
        row("offered", k.offered, "100%".into()),
        row(
            "  of which redials",
            k.redials,
            pct(k.redials / k.offered.max(1.0)),
        ),
        row(
            "1. trunk loss (all lines busy)",
            k.trunk_lost,
            pct_ci(r, rt.trunk_loss_share, "trunk_loss_share"),
        ),
        row(
            "2. IVR loss (no IVR port)",
            k.ivr_lost,
            pct_ci(r, rt.ivr_loss_share, "ivr_loss_share"),
        ),
        row(
            "3. queue loss (abandoned)",
            k.queue_abandoned,
            pct_ci(r, rt.queue_loss_share, "queue_loss_share"),
        ),
        row(
            "4. ring loss (hung up ringing)",
            k.ring_lost,
            pct_ci(r, rt.ring_loss_share, "ring_loss_share"),
        ),
        row(
            "all four losses",
            k.trunk_lost + k.ivr_lost + k.queue_abandoned + k.ring_lost,
            pct_ci(r, rt.total_loss_share, "total_loss_share"),
        ),
        row(
            "  of which redial attempts",
            k.redials_lost,
            pct(k.redials_lost / k.offered.max(1.0)),
        ),
        row(
            "answered by agents",
            k.answered,
            pct(k.answered / k.offered.max(1.0)),
        ),
        row(
            "IVR self-service",
            k.ivr_completed,
            pct(k.ivr_completed / k.offered.max(1.0)),
        ),
    ];
    if k.callback_offered > 0.0 {
        rows.push(row(
            "callback offered",
            k.callback_offered,
            pct(k.callback_offered / k.offered.max(1.0)),
        ));
        rows.push(row(
            "callback served",
            k.callback_served,
            pct(k.callback_served / k.offered.max(1.0)),
        ));
        rows.push(row(
            "callback expired",
            k.callback_expired,
            pct(k.callback_expired / k.offered.max(1.0)),
        ));
    }
    if k.voicemail > 0.0 {
        rows.push(row(
            "to voicemail",
            k.voicemail,
            pct(k.voicemail / k.offered.max(1.0)),
        ));
    }
    p.table(&["stage", "calls", "share of offered"], &rows);

    p.h2("Service and capacity");
    let hw_s = r
        .half_width("asa_s")
        .map_or_else(|| "n/a".to_string(), |h| format!("{h:.1}"));
    let w = &r.wait_percentiles_s;
    let trunks = r.trunk_channels.map_or_else(
        || format!("unlimited; peak {:.0} in use", r.trunk_peak),
        |ch| {
            format!(
                "{ch} channels: {}, peak {:.0}, all lines busy {:.0} s",
                pct(rt.trunk_occupancy),
                r.trunk_peak,
                r.all_trunks_busy_s
            )
        },
    );
    let mut kv = vec![
        vec![
            format!("service level ({:.0} s)", r.sl_threshold_s),
            pct_ci(r, rt.service_level, "service_level"),
        ],
        vec!["ASA".into(), format!("{:.1} s ± {hw_s}", rt.asa_s)],
        vec!["waited for an agent".into(), pct_ci(r, rt.p_wait, "p_wait")],
        vec![
            "abandon rate (of ACD calls)".into(),
            pct_ci(r, rt.abandon_rate, "abandon_rate"),
        ],
        vec![
            "human answer rate".into(),
            pct_ci(r, rt.human_answer_rate, "human_answer_rate"),
        ],
        vec![
            "wait of answered p50 / p90 / p99".into(),
            format!("{:.1} / {:.1} / {:.1} s", w.p50, w.p90, w.p99),
        ],
        vec![
            "agent occupancy".into(),
            pct_ci(r, rt.occupancy, "occupancy"),
        ],
        vec!["trunks".into(), trunks],
        vec!["peak queue".into(), format!("{:.0} calls", r.queue_peak)],
    ];
    if let Some(ports) = r.ivr_ports {
        kv.push(vec![
            "IVR".into(),
            format!(
                "{ports} ports: {}, peak {:.0}, all ports busy {:.0} s",
                pct(rt.ivr_occupancy),
                r.ivr_peak,
                r.all_ivr_busy_s
            ),
        ]);
    }
    p.table(&["KPI", "value"], &kv);

    super::flow_section::section(&mut p, r);

    p.h2("Over time");
    super::report_charts::charts(&mut p, r, sc);
    p.finish()
}
