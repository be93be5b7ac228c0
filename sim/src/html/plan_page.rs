//! The HTML page of a staffing plan: the requirement and the plan per interval, the
//! simulated service level, the shifts, the trunks and ports for the peak, and the rounds.

use super::chart::{Chart, Mark, Rule, Series};
use super::colours as c;
use super::page::Page;
use super::time_axis;
use crate::report::{clock, span};
use crate::staffing::{QueueModel, StaffPlan};

fn model_name(m: QueueModel) -> &'static str {
    match m {
        QueueModel::ErlangA => "Erlang A",
        _ => "Erlang C",
    }
}

/// Renders `plan` as one HTML page.
pub fn render_plan(plan: &StaffPlan) -> String {
    let t = &plan.targets;
    let mut p = Page::new(
        &format!("Staffing plan: {}", plan.scenario),
        &format!(
            "Targets: {:.0}% of calls answered within {:.0} s in every interval, at most {:.1}% \
             of offered calls lost at all four stages. Requirement by {} per {} interval.",
            t.service_level * 100.0,
            t.sl_threshold_s,
            t.max_loss * 100.0,
            model_name(plan.model),
            span(plan.interval_s)
        ),
    );
    let peak_req = plan.intervals.iter().map(|i| i.required).max().unwrap_or(0);
    let shift_agents: u32 = plan.shifts.iter().map(|s| s.count).sum();
    let mut cards = vec![
        (
            "peak requirement".into(),
            format!("{peak_req} agents"),
            format!(
                "formula: {}",
                plan.intervals
                    .iter()
                    .map(|i| i.need.agents)
                    .max()
                    .unwrap_or(0)
            ),
        ),
        (
            "shift plan".into(),
            format!("{shift_agents} agents"),
            format!("{} shifts", plan.shifts.len()),
        ),
        (
            "agent-hours".into(),
            format!("{:.0} paid", plan.planned_agent_hours),
            format!(
                "{:.0} required ({:.0}% used)",
                plan.required_agent_hours,
                100.0 * plan.required_agent_hours / plan.planned_agent_hours.max(1e-9)
            ),
        ),
        (
            "trunks".into(),
            plan.trunk_channels
                .map_or_else(|| "unlimited".into(), |ch| format!("{ch} channels")),
            plan.trunk_channels
                .map_or_else(String::new, |ch| format!("{} E1", ch.div_ceil(30))),
        ),
    ];
    if let Some(ports) = plan.ivr_ports {
        cards.push(("IVR ports".into(), ports.to_string(), String::new()));
    }
    if let Some(r) = &plan.report {
        cards.push((
            "simulated".into(),
            format!("SL {:.1}%", r.rates.service_level * 100.0),
            format!("loss {:.2}%", r.rates.total_loss_share * 100.0),
        ));
    }
    if let Some(ok) = plan.meets_targets() {
        cards.push((
            "verdict".into(),
            if ok {
                "meets the targets".into()
            } else {
                "misses a target".into()
            },
            "in the last simulation".into(),
        ));
    }
    p.cards(&cards);

    let iv = plan.interval_s;
    let hi = plan.intervals.len() as f64 * iv;
    let slots: Vec<(f64, f64)> = plan
        .intervals
        .iter()
        .map(|i| (i.need.start_s, i.need.end_s))
        .collect();
    let chart = |title: &str, y: &str| Chart {
        title: title.into(),
        x: time_axis(0.0, hi),
        y_title: y.into(),
        y_top: None,
        slots: slots.clone(),
        series: Vec::new(),
        hlines: Vec::new(),
        vlines: Vec::new(),
        bands: Vec::new(),
    };
    p.h2("Per interval");
    let mut ch = chart("Agents required and planned", "agents");
    let each = |f: fn(&crate::staffing::PlanInterval) -> f64| -> Vec<Option<f64>> {
        plan.intervals.iter().map(|i| Some(f(i))).collect()
    };
    ch.series = vec![
        Series::new(
            &format!("required by {}", model_name(plan.model)),
            c::SKY,
            Mark::Step,
            each(|i| f64::from(i.need.agents)),
        )
        .width(7),
        Series::new(
            "required after the simulation check",
            c::VERMILION,
            Mark::Step,
            each(|i| f64::from(i.required)),
        )
        .width(4),
        Series::new(
            "on duty under the shift plan",
            c::BLUE,
            Mark::Step,
            each(|i| f64::from(i.planned)),
        ),
    ];
    p.chart(&ch, "The formula's requirement at each interval's mean arrival rate, the requirement raised where the simulated centre missed the target, and the agents the shifts put on duty.");
    if plan.report.is_some() {
        let mut ch = chart(
            &format!(
                "Simulated service level (answered within {:.0} s)",
                t.sl_threshold_s
            ),
            "% of calls answered or abandoned",
        );
        ch.y_top = Some(100.0);
        ch.series = vec![Series::new(
            "simulated with the plan",
            c::GREEN,
            Mark::Line,
            plan.intervals
                .iter()
                .map(|i| i.simulated_service_level.map(|v| v * 100.0))
                .collect(),
        )];
        ch.hlines = vec![Rule {
            name: format!("target {:.0}%", t.service_level * 100.0),
            at: t.service_level * 100.0,
            colour: c::BLACK,
        }];
        p.chart(&ch, "The scenario run with the plan's agents, trunks and IVR ports; gaps where no call was answered or abandoned.");
    }
    let rows: Vec<Vec<String>> = plan
        .intervals
        .iter()
        .map(|i| {
            vec![
                clock(i.need.start_s),
                format!("{:.1}", i.need.offered_per_min),
                format!("{:.0}", i.need.aht_s),
                format!("{:.1}", i.need.load_erlang),
                i.need.agents.to_string(),
                format!("{:.1}%", i.need.service_level * 100.0),
                i.required.to_string(),
                i.planned.to_string(),
                i.simulated_service_level
                    .map_or_else(|| "n/a".into(), |v| format!("{:.1}%", v * 100.0)),
            ]
        })
        .collect();
    p.table(
        &[
            "start",
            "calls/min",
            "AHT s",
            "load E",
            "formula agents",
            "formula SL",
            "required",
            "planned",
            "simulated SL",
        ],
        &rows,
    );

    p.h2("Shifts");
    let rows: Vec<Vec<String>> = plan
        .shifts
        .iter()
        .map(|s| {
            vec![
                clock(s.start_s),
                clock(s.end_s),
                span(s.end_s - s.start_s),
                s.count.to_string(),
            ]
        })
        .collect();
    p.table(&["start", "end", "length", "agents"], &rows);

    p.h2("Trunks and IVR ports for the busiest interval");
    let pk = &plan.peak;
    let mut rows = vec![
        vec![
            "busiest interval".into(),
            format!(
                "{} ({:.0} calls/min)",
                clock(pk.start_s),
                pk.offered_per_min
            ),
        ],
        vec![
            "trunk holding time".into(),
            format!("{:.1} s", pk.trunk_holding_s),
        ],
        vec![
            "trunk channels (Erlang B)".into(),
            format!(
                "{} ({} E1), blocking {:.3}%",
                pk.trunk_channels,
                pk.e1,
                pk.trunk_blocking * 100.0
            ),
        ],
    ];
    if let Some(ports) = pk.ivr_ports {
        rows.push(vec![
            "IVR ports (Erlang B)".into(),
            format!("{ports}, blocking {:.3}%", pk.ivr_blocking * 100.0),
        ]);
    }
    p.table(&["", "value"], &rows);

    if !plan.rounds.is_empty() {
        p.h2("Simulation rounds");
        let rows: Vec<Vec<String>> = plan
            .rounds
            .iter()
            .enumerate()
            .map(|(k, r)| {
                vec![
                    (k + 1).to_string(),
                    r.peak_agents.to_string(),
                    r.shift_agents.to_string(),
                    r.trunk_channels
                        .map_or_else(|| "unlimited".into(), |c| c.to_string()),
                    r.ivr_ports.map_or_else(|| "—".into(), |c| c.to_string()),
                    format!("{:.1}%", r.service_level * 100.0),
                    format!("{:.2}%", r.total_loss_share * 100.0),
                    r.short_intervals.to_string(),
                ]
            })
            .collect();
        p.table(
            &[
                "round",
                "peak agents",
                "shift agents",
                "trunks",
                "IVR ports",
                "SL",
                "total loss",
                "intervals short",
            ],
            &rows,
        );
    }
    p.finish()
}
