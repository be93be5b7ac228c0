//! A self-contained HTML report: summary table and inline SVG charts, no scripts or
//! external files.

use std::fmt::Write as _;

use crate::report::{Report, clock};
use crate::scenario::Scenario;

/// Renders `report` as one HTML file.
pub fn render(report: &Report, sc: &Scenario) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Tandem report: {}</title>\
         <style>body{{font-family:sans-serif;margin:2em;max-width:1000px}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}th{{background:#eee}}\
         td:first-child,th:first-child{{text-align:left}}svg{{background:#fafafa;border:1px solid #ddd}}\
         .legend span{{margin-right:1em}}</style></head><body>",
        esc(&report.scenario)
    );
    let _ = write!(
        h,
        "<h1>Scenario {}</h1><p>{}</p>",
        esc(&report.scenario),
        esc(&sc.description)
    );
    let _ = write!(
        h,
        "<p>{} replication(s), seed {}; counts are means per replication; ± are 95% confidence half-widths.</p>",
        report.replications, report.seed
    );
    let c = &report.counts;
    let r = &report.rates;
    let ci = |k: &str| report.ci95.get(k).copied().unwrap_or(0.0) * 100.0;
    h.push_str("<h2>Where calls went</h2><table><tr><th>stage</th><th>calls</th><th>share of offered</th></tr>");
    let rows = [
        ("offered", c.offered, 1.0, NO_CI),
        (
            "1. trunk loss",
            c.trunk_lost,
            r.trunk_loss_share,
            ci("trunk_loss_share"),
        ),
        (
            "2. IVR loss",
            c.ivr_lost,
            r.ivr_loss_share,
            ci("ivr_loss_share"),
        ),
        (
            "3. queue loss",
            c.queue_abandoned,
            r.queue_loss_share,
            ci("queue_loss_share"),
        ),
        (
            "4. ring loss",
            c.ring_lost,
            r.ring_loss_share,
            ci("ring_loss_share"),
        ),
        (
            "answered",
            c.answered,
            c.answered / c.offered.max(1.0),
            NO_CI,
        ),
        (
            "IVR self-service",
            c.ivr_completed,
            c.ivr_completed / c.offered.max(1.0),
            NO_CI,
        ),
        (
            "callback offered",
            c.callback_offered,
            c.callback_offered / c.offered.max(1.0),
            NO_CI,
        ),
        (
            "callback served",
            c.callback_served,
            c.callback_served / c.offered.max(1.0),
            NO_CI,
        ),
        (
            "callback expired",
            c.callback_expired,
            c.callback_expired / c.offered.max(1.0),
            NO_CI,
        ),
    ];
    for (name, n, share, hw) in rows {
        // Half-widths exist for the loss shares, and only across several replications.
        let pm = if hw >= 0.0 && report.replications > 1 {
            format!(" ± {hw:.2}")
        } else {
            String::new()
        };
        let _ = write!(
            h,
            "<tr><td>{name}</td><td>{n:.0}</td><td>{:.2}%{pm}</td></tr>",
            share * 100.0
        );
    }
    h.push_str("</table><h2>Service</h2><table>");
    let kpis = [
        (
            format!("service level ({:.0} s)", report.sl_threshold_s),
            format!(
                "{:.1}% ± {:.1}",
                r.service_level * 100.0,
                ci("service_level")
            ),
        ),
        ("ASA".into(), format!("{:.1} s", r.asa_s)),
        (
            "probability of waiting".into(),
            format!("{:.1}%", r.p_wait * 100.0),
        ),
        (
            "abandon rate".into(),
            format!("{:.1}% ± {:.1}", r.abandon_rate * 100.0, ci("abandon_rate")),
        ),
        (
            "wait p50 / p90 / p99".into(),
            format!(
                "{:.1} / {:.1} / {:.1} s",
                report.wait_percentiles_s.p50,
                report.wait_percentiles_s.p90,
                report.wait_percentiles_s.p99
            ),
        ),
        (
            "agent occupancy".into(),
            format!("{:.1}%", r.occupancy * 100.0),
        ),
        (
            "trunk occupancy".into(),
            format!(
                "{:.1}%, all lines busy {:.0} s",
                r.trunk_occupancy * 100.0,
                report.all_trunks_busy_s
            ),
        ),
        (
            "IVR occupancy".into(),
            format!(
                "{:.1}%, all ports busy {:.0} s",
                r.ivr_occupancy * 100.0,
                report.all_ivr_busy_s
            ),
        ),
    ];
    for (k, v) in kpis {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(&k), esc(&v));
    }
    h.push_str("</table>");
    let xs: Vec<f64> = report.intervals.iter().map(|i| i.start_s).collect();
    let series = |f: &dyn Fn(&crate::report::IntervalRow) -> f64| {
        report.intervals.iter().map(f).collect::<Vec<f64>>()
    };
    chart(
        &mut h,
        "Arrivals per interval",
        &xs,
        &[
            ("offered", "#1f77b4", series(&|i| i.counts.offered)),
            ("answered", "#2ca02c", series(&|i| i.counts.answered)),
        ],
    );
    chart(
        &mut h,
        "Losses by stage per interval",
        &xs,
        &[
            ("trunk", "#d62728", series(&|i| i.counts.trunk_lost)),
            ("IVR", "#9467bd", series(&|i| i.counts.ivr_lost)),
            ("queue", "#ff7f0e", series(&|i| i.counts.queue_abandoned)),
            ("ring", "#8c564b", series(&|i| i.counts.ring_lost)),
        ],
    );
    chart(
        &mut h,
        "Mean queue length",
        &xs,
        &[("queue", "#ff7f0e", series(&|i| i.queue_len))],
    );
    chart(
        &mut h,
        "Service level (%)",
        &xs,
        &[("SL", "#2ca02c", series(&|i| i.service_level * 100.0))],
    );
    chart(
        &mut h,
        "Agent occupancy (%)",
        &xs,
        &[("occupancy", "#1f77b4", series(&|i| i.occupancy * 100.0))],
    );
    h.push_str("</body></html>\n");
    h
}

/// Marks a row without a confidence interval.
const NO_CI: f64 = -1.0;

fn chart(h: &mut String, title: &str, xs: &[f64], series: &[(&str, &str, Vec<f64>)]) {
    let (w, ht, pad) = (900.0, 220.0, 40.0);
    let xmax = xs.last().copied().unwrap_or(0.0).max(1.0);
    let ymax = series
        .iter()
        .flat_map(|s| s.2.iter().copied())
        .fold(0.0, f64::max)
        .max(1e-9);
    let _ = write!(h, "<h2>{}</h2><div class=\"legend\">", esc(title));
    for (name, colour, _) in series {
        let _ = write!(h, "<span style=\"color:{colour}\">■ {}</span>", esc(name));
    }
    let _ = write!(
        h,
        "</div><svg width=\"{w}\" height=\"{ht}\" viewBox=\"0 0 {w} {ht}\">"
    );
    let _ = write!(
        h,
        "<text x=\"2\" y=\"12\" font-size=\"10\">{ymax:.1}</text><text x=\"2\" y=\"{}\" font-size=\"10\">0</text>",
        ht - pad + 4.0
    );
    let _ = write!(
        h,
        "<text x=\"{pad}\" y=\"{}\" font-size=\"10\">0:00:00</text><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
        ht - 8.0,
        w - 5.0,
        ht - 8.0,
        clock(xmax)
    );
    let sx = |x: f64| pad + x / xmax * (w - pad - 10.0);
    let sy = |y: f64| ht - pad - y / ymax * (ht - pad - 10.0);
    for (_, colour, ys) in series {
        let pts: Vec<String> = xs
            .iter()
            .zip(ys)
            .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
            .collect();
        let _ = write!(
            h,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>",
            pts.join(" ")
        );
    }
    h.push_str("</svg>");
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
