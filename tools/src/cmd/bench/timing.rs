//! `tandem bench`'s shard timing table: for each relay that reports it (the engine and
//! `tandem serve`) and each level, how long the shards' ticks took and how long packets
//! dwelt in them, p50/p99/p99.9/max (bucket bounds), from the last round's run.

use tandem_load::compare::Comparison;
use tandem_load::table::aligned_table;

use super::summary::Summary;

/// Prints the table (nothing if no relay reported timing) and adds the figures of each
/// relay's highest level within the loss limit to the summary.
pub(super) fn print_timing(c: &Comparison, summary: &mut Summary) {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for name in &c.relays {
        for calls in c.levels() {
            let Some(r) = c
                .runs_of(name, calls)
                .map(|r| &r.result)
                .filter(|r| r.tick_duration.is_some() || r.dwell.is_some())
                .last()
            else {
                continue;
            };
            let cell = |q: Option<tandem_load::Quantiles>| q.map_or("-".into(), |q| q.text());
            rows.push(vec![
                name.clone(),
                calls.to_string(),
                cell(r.tick_duration),
                r.tick_duration.map_or(0, |q| q.count).to_string(),
                cell(r.dwell),
                r.dwell.map_or(0, |q| q.count).to_string(),
            ]);
        }
        let Some(best) = c.highest_clean(name) else {
            continue;
        };
        if let Some(r) = c
            .runs_of(name, best.calls)
            .map(|r| &r.result)
            .filter(|r| r.tick_duration.is_some())
            .last()
        {
            for (what, q) in [
                ("tick duration", r.tick_duration),
                ("packet dwell", r.dwell),
            ] {
                if let Some(q) = q {
                    summary.row(
                        format!("{name}: {what} p50/p99/p99.9/max at {} calls", best.calls),
                        q.text(),
                    );
                }
            }
        }
    }
    if rows.is_empty() {
        return;
    }
    let headers = [
        "relay",
        "calls",
        "tick p50/p99/p99.9/max",
        "ticks",
        "dwell p50/p99/p99.9/max",
        "packets",
    ];
    println!(
        "\n## shard timing: tick duration and packet dwell (arrival to send), bucket bounds\n\n```\n{}```",
        aligned_table(&headers, &rows, 1)
    );
}
