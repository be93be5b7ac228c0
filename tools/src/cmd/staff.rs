//! `tandem staff`: find the fewest agents, IVR ports and trunks that meet the targets.

use anyhow::{Context, Result, bail};
use tandem_sim::staffing::{Targets, search};

/// Arguments of `tandem staff`.
#[derive(clap::Args)]
pub struct Args {
    /// Scenario: a TOML file or a built-in name (default: tv-burst).
    #[arg(long)]
    scenario: Option<String>,
    /// Service-level target as FRACTION/SECONDS, e.g. 0.8/20.
    #[arg(long, default_value = "0.8/20")]
    target_sl: String,
    /// Largest share of offered calls lost at all four stages together.
    #[arg(long, default_value_t = 0.02)]
    max_loss: f64,
    /// Upper bound of the agent search.
    #[arg(long, default_value_t = 5000)]
    max_agents: u32,
    /// Override the scenario's replications per evaluation.
    #[arg(long)]
    replications: Option<u32>,
}

fn parse_sl(s: &str) -> Result<(f64, f64)> {
    let (f, t) = s
        .split_once('/')
        .context("--target-sl must look like 0.8/20")?;
    let f: f64 = f.trim().parse().context("--target-sl: bad fraction")?;
    let t: f64 = t.trim().parse().context("--target-sl: bad seconds")?;
    if !(0.0..=1.0).contains(&f) || t.is_nan() || t < 0.0 {
        bail!("--target-sl: fraction must be in [0, 1] and seconds ≥ 0");
    }
    Ok((f, t))
}

/// Runs `tandem staff`.
pub fn run(args: Args) -> Result<()> {
    let (sl, t) = parse_sl(&args.target_sl)?;
    if !(0.0..=1.0).contains(&args.max_loss) {
        bail!("--max-loss must be in [0, 1]");
    }
    let mut sc = super::sim::load(args.scenario.as_deref())?;
    if let Some(r) = args.replications {
        sc.replications = r.max(1);
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let targets = Targets {
        service_level: sl,
        sl_threshold_s: t,
        max_loss: args.max_loss,
    };
    let st = search(&sc, targets, args.max_agents, threads)?;
    let r = &st.report;
    println!(
        "Scenario {}: targets SL ≥ {:.0}% within {t} s, total loss ≤ {:.1}%",
        sc.name,
        sl * 100.0,
        args.max_loss * 100.0
    );
    println!("  agents          {}", st.agents);
    if let Some(p) = st.ivr_ports {
        println!("  IVR ports       {p}");
    }
    println!("  trunk channels  {} ({} E1)", st.trunk_channels, st.e1);
    println!(
        "  achieved        SL {:.1}%, total loss {:.2}% (trunk {:.2}%, IVR {:.2}%, queue {:.2}%, ring {:.2}%), occupancy {:.1}%",
        r.rates.service_level * 100.0,
        r.rates.total_loss_share * 100.0,
        r.rates.trunk_loss_share * 100.0,
        r.rates.ivr_loss_share * 100.0,
        r.rates.queue_loss_share * 100.0,
        r.rates.ring_loss_share * 100.0,
        r.rates.occupancy * 100.0
    );
    println!(
        "  ({} simulations, {} replication(s) each)",
        st.evaluations, sc.replications
    );
    Ok(())
}
