//! The HTML page of one scenario run: KPI cards, the loss and service tables, and the
//! charts of the time series and the wait distribution.

use super::chart::{Band, Chart, Mark, Rule, Series, XAxis};
use super::page::Page;
use super::{colours as c, time_axis};
use crate::report::{IntervalRow, Report, clock};
use crate::scenario::Scenario;
use crate::staffing::Targets;
use crate::staffing::requirement::{QueueModel, agent_requirement};

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

/// The shared pieces of the time-series charts of a report.
pub(super) struct Frame {
    pub x: XAxis,
    pub slots: Vec<(f64, f64)>,
    pub drain: Option<Band>,
    pub per: String,
}

impl Frame {
    pub fn of(r: &Report) -> Frame {
        let iv = r.interval_s;
        let hi = (r.intervals.len() as f64 * iv).max(r.duration_s);
        let slots = r
            .intervals
            .iter()
            .map(|i| (i.start_s, i.start_s + iv))
            .collect();
        Frame {
            x: time_axis(0.0, hi),
            slots,
            drain: (hi > r.duration_s).then(|| Band {
                name: "after arrivals stop (draining)".into(),
                colour: c::GREY,
                spans: vec![(r.duration_s, hi, 0.4)],
            }),
            per: crate::report::span(iv),
        }
    }

    pub fn chart(&self, title: &str, y_title: &str) -> Chart {
        Chart {
            title: title.into(),
            x: self.x.clone(),
            y_title: y_title.into(),
            y_top: None,
            slots: self.slots.clone(),
            series: Vec::new(),
            hlines: Vec::new(),
            vlines: Vec::new(),
            bands: self.drain.iter().cloned().collect(),
        }
    }
}

fn series(name: &str, colour: c::Colour, mark: Mark, values: Vec<Option<f64>>) -> Series {
    Series::new(name, colour, mark, values)
}

fn each(r: &Report, f: impl Fn(&IntervalRow) -> Option<f64>) -> Vec<Option<f64>> {
    r.intervals.iter().map(f).collect()
}

/// All-busy spans of a resource: each interval with some all-busy time, shaded by the
/// share of the interval it was all busy.
fn all_busy(r: &Report, name: &str, f: impl Fn(&IntervalRow) -> f64) -> Band {
    Band {
        name: name.into(),
        colour: c::RED,
        spans: r
            .intervals
            .iter()
            .filter(|i| f(i) > 0.0)
            .map(|i| (i.start_s, i.start_s + r.interval_s, f(i) / r.interval_s))
            .collect(),
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
    p.cards(&[
        (
            "offered".into(),
            format!("{:.0}", k.offered),
            format!("{:.0} redials", k.redials),
        ),
        (
            "1 trunk loss".into(),
            format!("{:.0}", k.trunk_lost),
            share(k.trunk_lost),
        ),
        (
            "2 IVR loss".into(),
            format!("{:.0}", k.ivr_lost),
            share(k.ivr_lost),
        ),
        (
            "3 queue loss".into(),
            format!("{:.0}", k.queue_abandoned),
            share(k.queue_abandoned),
        ),
        (
            "4 ring loss".into(),
            format!("{:.0}", k.ring_lost),
            share(k.ring_lost),
        ),
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

    p.h2("Over time");
    charts(&mut p, r, sc);
    p.finish()
}

fn charts(p: &mut Page, r: &Report, sc: &Scenario) {
    let f = Frame::of(r);
    let per = format!("calls per {} interval", f.per);

    let mut ch = f.chart("Calls offered and answered", &per);
    ch.series = vec![
        series(
            "first attempts",
            c::BLUE,
            Mark::Stack,
            each(r, |i| Some(i.counts.offered - i.counts.redials)),
        ),
        series(
            "redials",
            c::SKY,
            Mark::Stack,
            each(r, |i| Some(i.counts.redials)),
        ),
        series(
            "answered by agents",
            c::GREEN,
            Mark::Line,
            each(r, |i| Some(i.counts.answered)),
        ),
    ];
    p.chart(&ch, "Offered calls per interval, first attempts and redials stacked; the line is the calls agents answered.");

    let mut ch = f.chart("Calls lost, by stage", &per);
    ch.series = vec![
        series(
            "1 trunk (all lines busy)",
            c::VERMILION,
            Mark::Stack,
            each(r, |i| Some(i.counts.trunk_lost)),
        ),
        series(
            "2 IVR (no port)",
            c::PURPLE,
            Mark::Stack,
            each(r, |i| Some(i.counts.ivr_lost)),
        ),
        series(
            "3 queue (abandoned)",
            c::ORANGE,
            Mark::Stack,
            each(r, |i| Some(i.counts.queue_abandoned)),
        ),
        series(
            "4 ring (hung up ringing)",
            c::BLUE,
            Mark::Stack,
            each(r, |i| Some(i.counts.ring_lost)),
        ),
        series(
            "of which redial attempts",
            c::BLACK,
            Mark::Line,
            each(r, |i| Some(i.counts.redials_lost)),
        ),
    ];
    p.chart(&ch, "The four loss stages stacked per interval; the line counts the lost calls that were already redials.");

    let mut ch = f.chart(
        &format!("Service level (answered within {:.0} s)", r.sl_threshold_s),
        "% of calls answered or abandoned",
    );
    ch.y_top = Some(100.0);
    ch.series = vec![series(
        "service level",
        c::GREEN,
        Mark::Line,
        each(r, |i| i.service_level.map(|v| v * 100.0)),
    )];
    ch.hlines = vec![Rule {
        name: format!("target {:.0}%", r.sl_target * 100.0),
        at: r.sl_target * 100.0,
        colour: c::BLACK,
    }];
    p.chart(&ch, "Answered within T ÷ (answered + abandoned) per interval. Intervals where no call was answered or abandoned are gaps.");

    let mut ch = f.chart("Calls waiting in queue", "calls (mean over the interval)");
    ch.series = vec![series(
        "calls waiting",
        c::ORANGE,
        Mark::Line,
        each(r, |i| Some(i.queue_len)),
    )];
    p.chart(
        &ch,
        &format!(
            "Time-averaged queue length per interval; the peak was {:.0} calls.",
            r.queue_peak
        ),
    );

    let mut ch = f.chart("Trunk channels in use", "channels (mean over the interval)");
    ch.series = vec![series(
        "channels in use",
        c::BLUE,
        Mark::Line,
        each(r, |i| Some(i.trunks_busy)),
    )];
    if let Some(cap) = r.trunk_channels {
        ch.hlines.push(Rule {
            name: format!("capacity {cap} channels"),
            at: f64::from(cap),
            colour: c::BLACK,
        });
        ch.bands
            .push(all_busy(r, "all lines busy (darker: longer)", |i| {
                i.all_trunks_busy_s
            }));
    }
    p.chart(&ch, "Seized trunk channels per interval; shading marks intervals in which every channel was seized, darker for a larger share of the interval.");

    if let Some(ports) = r.ivr_ports {
        let mut ch = f.chart("IVR ports in use", "ports (mean over the interval)");
        ch.series = vec![series(
            "ports in use",
            c::PURPLE,
            Mark::Line,
            each(r, |i| Some(i.ivr_busy)),
        )];
        ch.hlines.push(Rule {
            name: format!("capacity {ports} ports"),
            at: f64::from(ports),
            colour: c::BLACK,
        });
        ch.bands
            .push(all_busy(r, "all ports busy (darker: longer)", |i| {
                i.all_ivr_busy_s
            }));
        p.chart(
            &ch,
            "Busy IVR ports per interval; shading marks intervals in which every port was busy.",
        );
    }

    let mut ch = f.chart("Agents", "agents (mean over the interval)");
    ch.series = vec![
        series(
            "logged in",
            c::BLUE,
            Mark::Step,
            each(r, |i| Some(i.agents_staffed)),
        ),
        series(
            "talking or in wrap-up",
            c::GREEN,
            Mark::Step,
            each(r, |i| i.occupancy.map(|o| o * i.agents_staffed)),
        ),
    ];
    let targets = Targets {
        service_level: r.sl_target,
        sl_threshold_s: r.sl_threshold_s,
        max_loss: 0.02,
    };
    let mut caption = "Agents logged in and busy per interval.".to_string();
    if let Ok(need) = agent_requirement(sc, &targets, QueueModel::ErlangC) {
        let mut req: Vec<Option<f64>> = vec![None; r.intervals.len()];
        for (j, n) in need.iter().enumerate() {
            if let Some(slot) = req.get_mut(j) {
                *slot = Some(f64::from(n.agents));
            }
        }
        ch.series
            .push(series("required (Erlang C)", c::VERMILION, Mark::Step, req));
        caption.push_str(&format!(
            " Required: the fewest agents Erlang C gives {:.0}% within {:.0} s at each interval's mean arrival rate (tandem staff plans shifts for it).",
            r.sl_target * 100.0,
            r.sl_threshold_s
        ));
    }
    p.chart(&ch, &caption);

    let mut ch = f.chart(
        "Agent occupancy",
        "% of logged-in time talking or in wrap-up",
    );
    ch.y_top = Some(100.0);
    ch.series = vec![series(
        "occupancy",
        c::BLUE,
        Mark::Line,
        each(r, |i| i.occupancy.map(|v| v * 100.0)),
    )];
    p.chart(
        &ch,
        "(Talk + after-call work) ÷ logged-in time per interval; gaps where nobody was logged in.",
    );

    wait_chart(p, r);
}

fn wait_chart(p: &mut Page, r: &Report) {
    let bins = &r.wait_distribution;
    let Some(last) = bins.last() else { return };
    let total: f64 = bins.iter().map(|b| b.calls).sum();
    let width = bins[0].to_s.unwrap_or(1.0) - bins[0].from_s;
    let hi = last.from_s + width;
    let (step, ticks) = super::axis::value_ticks(hi);
    let ticks = ticks
        .into_iter()
        .filter(|t| *t <= hi + 1e-9)
        .map(|t| (t, super::axis::value_label(t, step)))
        .collect();
    let within = r.counts.answered_within_sl / r.counts.answered.max(1e-9);
    let ch = Chart {
        title: "Wait of answered calls".into(),
        x: XAxis {
            title: "wait from reaching the ACD to the answer (s)".into(),
            lo: 0.0,
            hi,
            ticks,
        },
        y_title: "% of answered calls".into(),
        y_top: None,
        slots: bins.iter().map(|b| (b.from_s, b.from_s + width)).collect(),
        series: vec![series(
            &format!(
                "answered, per {} s of wait",
                super::axis::value_label(width, width)
            ),
            c::BLUE,
            Mark::Stack,
            bins.iter()
                .map(|b| Some(100.0 * b.calls / total.max(1e-9)))
                .collect(),
        )],
        hlines: Vec::new(),
        vlines: vec![Rule {
            name: format!("T = {:.0} s", r.sl_threshold_s),
            at: r.sl_threshold_s,
            colour: c::BLACK,
        }],
        bands: Vec::new(),
    };
    p.chart(
        &ch,
        &format!(
            "Distribution of the wait of answered calls (ringing included), all replications pooled; {:.1}% were answered within T; the last bar holds every wait of {:.0} s or more.",
            100.0 * within,
            last.from_s
        ),
    );
}
