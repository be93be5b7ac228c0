//! The HTML page of a comparison: every KPI side by side with the paired differences, the
//! loss stages of each scenario, and time series with one line per scenario.

use super::chart::{Chart, Mark, Rule, Series, XAxis};
use super::frame::Frame;
use super::page::Page;
use super::{colours as c, compare_text as fmt};
use crate::compare::Comparison;
use crate::report::IntervalRow;

/// Renders `cmp` as one HTML page.
pub fn render_comparison(cmp: &Comparison) -> String {
    let title = format!("Comparison: {}", cmp.scenarios.join(" · "));
    let mut p = Page::new(&title, "");
    p.note(&format!(
        "{} replication(s) per scenario, seed {}, common random numbers: {}. Differences are \
         scenario − {} (the baseline), the mean of the paired differences with its {:.0}% \
         Student t half-width; bold: the interval excludes 0.",
        cmp.replications,
        cmp.seed,
        cmp.common_random_numbers,
        cmp.scenarios[0],
        cmp.ci_level * 100.0
    ));
    let mut head = vec!["KPI".to_string()];
    for (i, name) in cmp.scenarios.iter().enumerate() {
        head.push(name.clone());
        if i > 0 {
            head.push(format!("{name} − {}", cmp.scenarios[0]));
        }
    }
    let rows: Vec<Vec<String>> = cmp
        .kpis
        .iter()
        .map(|k| {
            let mut row = vec![k.label.to_string()];
            for (i, v) in k.values.iter().enumerate() {
                row.push(fmt::value(k.unit, v));
                if let Some(Some(d)) = k.differences.get(i).filter(|_| i > 0) {
                    let cell = fmt::difference(k.unit, d);
                    row.push(if d.significant == Some(true) {
                        format!("*{cell}")
                    } else {
                        cell
                    });
                }
            }
            row
        })
        .collect();
    let head_refs: Vec<&str> = head.iter().map(String::as_str).collect();
    p.h2("Every KPI side by side");
    p.table(&head_refs, &rows);

    p.h2("Where calls were lost");
    losses_chart(&mut p, cmp);
    p.h2("Over time");
    time_charts(&mut p, cmp);
    p.finish()
}

fn losses_chart(p: &mut Page, cmp: &Comparison) {
    let n = cmp.reports.len();
    let stage = |name: &str, colour, f: fn(&crate::report::Rates) -> f64| {
        Series::new(
            name,
            colour,
            Mark::Stack,
            cmp.reports
                .iter()
                .map(|r| Some(100.0 * f(&r.rates)))
                .collect(),
        )
    };
    let ch = Chart {
        title: "Losses by stage".into(),
        x: XAxis {
            title: "scenario".into(),
            lo: 0.0,
            hi: n as f64,
            ticks: cmp
                .scenarios
                .iter()
                .enumerate()
                .map(|(i, s)| (i as f64 + 0.5, s.clone()))
                .collect(),
        },
        y_title: "% of offered calls".into(),
        y_top: None,
        slots: (0..n).map(|i| (i as f64 + 0.1, i as f64 + 0.9)).collect(),
        series: vec![
            stage("1 trunk", c::VERMILION, |r| r.trunk_loss_share),
            stage("2 IVR", c::PURPLE, |r| r.ivr_loss_share),
            stage("3 queue", c::ORANGE, |r| r.queue_loss_share),
            stage("4 ring", c::BLUE, |r| r.ring_loss_share),
        ],
        hlines: Vec::new(),
        vlines: Vec::new(),
        bands: Vec::new(),
    };
    p.chart(
        &ch,
        "The four loss stages of each scenario as shares of its offered calls (means per replication).",
    );
}

fn time_charts(p: &mut Page, cmp: &Comparison) {
    let base = &cmp.reports[0];
    if cmp
        .reports
        .iter()
        .any(|r| (r.interval_s - base.interval_s).abs() > 1e-9)
    {
        p.note("The scenarios use different interval widths, so their time series are not drawn on shared axes; each scenario's own report (tandem sim --html) has them.");
        return;
    }
    // The longest run sets the axis.
    let longest = cmp
        .reports
        .iter()
        .max_by_key(|r| r.intervals.len())
        .unwrap_or(base);
    let f = Frame::of(longest);
    // Earlier scenarios are drawn wider, so scenarios with equal values (the same losses
    // with more agents, say) show as nested lines instead of hiding one another.
    let n = cmp.reports.len() as u32;
    let lines = |f: &dyn Fn(&IntervalRow) -> Option<f64>| -> Vec<Series> {
        cmp.reports
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Series::new(
                    &r.scenario,
                    c::CYCLE[i % c::CYCLE.len()],
                    Mark::Line,
                    (0..longest.intervals.len())
                        .map(|j| r.intervals.get(j).and_then(f))
                        .collect(),
                )
                .width(2 + 2 * (n - 1 - i as u32).min(4))
            })
            .collect()
    };
    let per = format!("calls per {} interval", f.per);

    let mut ch = f.chart(
        &format!(
            "Service level (answered within {:.0} s)",
            base.sl_threshold_s
        ),
        "% of calls answered or abandoned",
    );
    ch.y_top = Some(100.0);
    ch.series = lines(&|i| i.service_level.map(|v| v * 100.0));
    ch.hlines = vec![Rule {
        name: format!("target {:.0}%", base.sl_target * 100.0),
        at: base.sl_target * 100.0,
        colour: c::BLACK,
    }];
    p.chart(
        &ch,
        "Per interval; gaps where a scenario answered and lost no call.",
    );

    let mut ch = f.chart("Calls lost at any stage", &per);
    ch.series = lines(&|i| {
        let k = &i.counts;
        Some(k.trunk_lost + k.ivr_lost + k.queue_abandoned + k.ring_lost)
    });
    p.chart(
        &ch,
        "Trunk, IVR, queue and ring losses together, per interval.",
    );

    let mut ch = f.chart("Calls answered by agents", &per);
    ch.series = lines(&|i| Some(i.counts.answered));
    p.chart(
        &ch,
        "Answered calls per interval (callbacks served are counted separately).",
    );

    let mut ch = f.chart("Trunk channels in use", "channels (mean over the interval)");
    ch.series = lines(&|i| Some(i.trunks_busy));
    p.chart(
        &ch,
        "Seized trunk channels per interval; each scenario's capacity is in the table above.",
    );

    let mut ch = f.chart("Calls waiting in queue", "calls (mean over the interval)");
    ch.series = lines(&|i| Some(i.queue_len));
    p.chart(&ch, "Time-averaged queue length per interval.");
}
