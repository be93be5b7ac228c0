//! `tandem sim --drive`: the scenario's calls as media through the engine.

use anyhow::{Context, Result, bail};
use tandem_sim::Scenario;

use super::Args;
use crate::ui::progress;

/// `tandem sim --drive`: the scenario's calls as media through the engine.
pub(super) fn run(args: &Args, mut sc: Scenario) -> Result<()> {
    use tandem_codecs::wav::Encoding;
    use tandem_engine::{Micros, NetworkConditions};
    use tandem_sim::drive::{DriveConfig, TransportKind, drive};

    let transport: TransportKind = args.transport.parse().map_err(anyhow::Error::msg)?;
    if args.record || args.record_dir.is_some() {
        sc.record = true;
    }
    if let Some(f) = args.supervisor_fraction {
        if !(0.0..=1.0).contains(&f) {
            bail!("--supervisor-fraction must be in [0, 1]");
        }
        sc.supervisor_fraction = f;
    }
    let ms = |name: &str, v: f64| -> Result<u64> {
        if !(v.is_finite() && v >= 0.0) {
            bail!("{name} must be ≥ 0");
        }
        Ok((v * 1000.0).round() as u64)
    };
    if !(0.0..100.0).contains(&args.net_loss_pct) {
        bail!("--net-loss-pct must be in [0, 100)");
    }
    if transport == TransportKind::Udp
        && (args.net_delay_ms != 1.0 || args.net_jitter_ms != 0.0 || args.net_loss_pct != 0.0)
    {
        bail!("--net-* options shape the memory transport's simulated network only");
    }
    let cfg = DriveConfig {
        transport,
        shards: args.shards.max(1),
        network: NetworkConditions {
            delay: Micros::from_us(ms("--net-delay-ms", args.net_delay_ms)?),
            jitter: Micros::from_us(ms("--net-jitter-ms", args.net_jitter_ms)?),
            loss: args.net_loss_pct / 100.0,
        },
        time_scale: args.time_scale,
        dtmf: args.dtmf.parse().map_err(anyhow::Error::msg)?,
        record_dir: args.record_dir.clone(),
        record_encoding: match args.record_encoding.as_str() {
            "pcm16" => Encoding::Pcm16,
            "ulaw" => Encoding::Ulaw,
            other => bail!("--record-encoding: {other:?} is not pcm16 or ulaw"),
        },
        ..DriveConfig::default()
    };
    // The drive loop reports no progress of its own, so this is a spinner with the time
    // spent rather than a bar.
    let spinner = progress::spinner(
        format!(
            "driving {} ({:.0} s of arrivals) through the engine ({} transport{})",
            sc.name,
            sc.duration_s,
            args.transport,
            if cfg.time_scale != 1.0 {
                format!(", time compressed ×{}", cfg.time_scale)
            } else {
                String::new()
            }
        ),
        args.quiet || args.json,
    );
    let d = drive(&sc, &cfg);
    spinner.finish_and_clear();
    let d = d?;
    if let Some(path) = &args.calls_csv {
        std::fs::write(path, d.drive.calls_csv())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.html {
        std::fs::write(path, tandem_sim::html::render(&d.report, &sc))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        let mut v = serde_json::to_value(&d.report)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("drive".into(), serde_json::to_value(&d.drive)?);
        }
        println!("{}", serde_json::to_string(&v)?);
    } else {
        print!("{}", d.report.to_text());
        print!("{}", d.drive.to_text());
        if let Some(path) = &args.calls_csv {
            println!("  per-call media: {}", path.display());
        }
    }
    if d.drive.counters.errors > 0 {
        bail!(
            "drive mode met {} error(s); first: {}",
            d.drive.counters.errors,
            d.drive
                .counters
                .first_errors
                .first()
                .map_or("", String::as_str)
        );
    }
    Ok(())
}
