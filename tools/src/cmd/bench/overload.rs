//! `tandem bench --overload`: `tandem serve` (with admission control on) climbs the levels
//! until one loses more than 0.1%, then carries twice the highest level that did not; the
//! packets it still delivers must keep their p99 added latency within the limit
//! (`overload-p99-ms`, 100 ms), because an overloaded relay sheds stale packets and refuses
//! new calls instead of queueing. Offers for new calls are made throughout that run
//! ([`OfferProbe`]), and the datagrams shed are read from the daemon's metrics.

use std::time::Duration;

use anyhow::{Context, Result};
use tandem_load::compare::{Contender, Progress, compare};
use tandem_load::overload::{OfferProbe, OverloadResult};
use tandem_load::{NgRelay, Relay, Targets, Verdict, json_line, run_level};

use super::args::Args;
use super::relays::{daemon_cpu, load_run, serve_spec_with};
use super::summary::Summary;
use crate::cmd::lab_progress::LabProgress;

/// How often the probe offers a new call during the overloaded run.
const OFFER_EVERY: Duration = Duration::from_millis(100);

/// The overload section.
pub(super) fn overload(
    args: &Args,
    targets: &Targets,
    summary: &mut Summary,
    verdict: &mut Verdict,
) -> Result<()> {
    // Twice the highest level is run: twice the files.
    let (mode, duration) = load_run(args, 16)?;
    let limit = [
        "--max-shard-busy".to_string(),
        args.overload_max_busy.to_string(),
    ];
    let spec = serve_spec_with(args, daemon_cpu(args), &limit)?;
    let target = targets.get("overload-p99-ms");
    let progress = LabProgress::steps(args.quiet, "overload", args.calls.len() + 1);
    let climb_spec = spec.clone();
    let mut contenders = vec![Contender {
        name: "serve".into(),
        start: Box::new(move |calls| {
            NgRelay::start(&climb_spec, calls).map(|r| Box::new(r) as Box<dyn Relay>)
        }),
    }];
    let c = compare(
        &mut contenders,
        &args.calls,
        1,
        duration,
        &mode,
        &mut |p| match p {
            Progress::Starting { calls, .. } => {
                progress.start(format!("{calls} calls, serve"), duration)
            }
            Progress::Done(run) => {
                let r = &run.result;
                progress.stdout_line(&json_line(r));
                progress.note(&format!(
                    "  serve at {} calls: loss {:.3}%, p99 {:.0} µs",
                    r.calls,
                    r.report.loss_ratio * 100.0,
                    r.report.latency_p99_us
                ));
                progress.done();
            }
            Progress::Failed(f) => {
                progress.note(&format!(
                    "  serve at {}: not measured: {}",
                    f.calls, f.error
                ));
                progress.done();
            }
            _ => {}
        },
    );
    let Some(best) = c.highest_clean("serve") else {
        progress.finish();
        verdict.missed(target, "serve", "no level within 0.1% loss");
        return Ok(());
    };
    let calls = best.calls * 2;
    progress.start(
        format!("{calls} calls (2 × {}), serve", best.calls),
        duration,
    );
    let relay = NgRelay::start(&spec, calls).context("starting tandem serve")?;
    let metrics = relay
        .daemon()
        .metrics_addr()
        .context("tandem serve has no metrics address")?;
    let probe = OfferProbe::start(relay.daemon().ng_addr(), metrics, calls, OFFER_EVERY)?;
    let run = run_level(Box::new(relay), duration, &mode);
    let offers = probe.finish();
    progress.finish();
    let run = run.context("the overloaded run")?;
    let o = OverloadResult::new(best.calls, run, offers, target.limit);
    println!(
        "\n## overload: tandem serve at twice its highest clean level, max-shard-busy {}%\n\n```\n{}```",
        args.overload_max_busy,
        o.text()
    );
    println!(
        "{}",
        serde_json::to_string(&o).context("overload result as JSON")?
    );
    let subject = format!("serve at {calls} calls (2 × {})", best.calls);
    summary.row(
        format!("overload: {subject}: p99 added latency of delivered packets"),
        format!("{:.1} ms", o.p99_ms()),
    );
    summary.row(
        "overload: datagrams shed as stale, loss",
        format!(
            "{}, {:.2}%",
            o.stale_dropped,
            o.overload.report.loss_ratio * 100.0
        ),
    );
    summary.row(
        "overload: offers for new calls during the run (refused/made)",
        format!("{}/{}", o.offers.refused, o.offers.made),
    );
    verdict.measured(target, subject, o.p99_ms());
    Ok(())
}
