//! The charts of one scenario run: the time series of its intervals and the wait
//! distribution.

use super::chart::{Chart, Mark, Rule, Series, XAxis};
use super::colours as c;
use super::frame::Frame;
use super::page::Page;
use crate::metrics::Counts;
use crate::report::{IntervalRow, Report};
use crate::scenario::Scenario;
use crate::staffing::Targets;
use crate::staffing::requirement::{QueueModel, agent_requirement};

fn series(name: &str, colour: c::Colour, mark: Mark, values: Vec<Option<f64>>) -> Series {
    Series::new(name, colour, mark, values)
}

fn each(r: &Report, f: impl Fn(&IntervalRow) -> Option<f64>) -> Vec<Option<f64>> {
    r.intervals.iter().map(f).collect()
}

/// A series of one count per interval.
fn count(r: &Report, name: &str, colour: c::Colour, mark: Mark, f: fn(&Counts) -> f64) -> Series {
    series(name, colour, mark, each(r, |i| Some(f(&i.counts))))
}

/// All-busy spans of a resource: each interval with some all-busy time, shaded by the
/// share of the interval it was all busy.
fn all_busy(r: &Report, name: &str, f: impl Fn(&IntervalRow) -> f64) -> super::chart::Band {
    super::chart::Band {
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

pub(super) fn charts(p: &mut Page, r: &Report, sc: &Scenario) {
    let f = Frame::of(r);
    let per = format!("calls per {} interval", f.per);

    let mut ch = f.chart("Calls offered and answered", &per);
    ch.series = vec![
        count(r, "first attempts", c::BLUE, Mark::Stack, |k| {
            k.offered - k.redials
        }),
        count(r, "redials", c::SKY, Mark::Stack, |k| k.redials),
        count(r, "answered by agents", c::GREEN, Mark::Line, |k| {
            k.answered
        }),
    ];
    p.chart(&ch, "Offered calls per interval, first attempts and redials stacked; the line is the calls agents answered.");

    let mut ch = f.chart("Calls lost, by stage", &per);
    ch.series = vec![
        count(
            r,
            "1 trunk (all lines busy)",
            c::VERMILION,
            Mark::Stack,
            |k| k.trunk_lost,
        ),
        count(r, "2 IVR (no port)", c::PURPLE, Mark::Stack, |k| k.ivr_lost),
        count(r, "3 queue (abandoned)", c::ORANGE, Mark::Stack, |k| {
            k.queue_abandoned
        }),
        count(r, "4 ring (hung up ringing)", c::BLUE, Mark::Stack, |k| {
            k.ring_lost
        }),
        count(r, "of which redial attempts", c::BLACK, Mark::Line, |k| {
            k.redials_lost
        }),
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
