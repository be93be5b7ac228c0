//! `tandem erlang`: the analytic calculators.

use anyhow::{Result, bail};
use tandem_sim::erlang::{erlang_a, erlang_b, erlang_c};

/// Arguments of `tandem erlang`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    model: Model,
}

#[derive(clap::Subcommand)]
enum Model {
    /// Erlang B: blocking of a loss system (trunks), M/M/c/c.
    B {
        /// Offered calls per minute.
        #[arg(long)]
        rate_per_min: f64,
        /// Mean holding time, seconds.
        #[arg(long)]
        holding: f64,
        /// Channels (or give --e1).
        #[arg(long, required_unless_present = "e1")]
        channels: Option<u32>,
        /// E1 spans of 30 channels.
        #[arg(long)]
        e1: Option<u32>,
    },
    /// Erlang C: waiting in M/M/n (no abandonment).
    C {
        /// Offered calls per minute.
        #[arg(long)]
        rate_per_min: f64,
        /// Mean handle time, seconds.
        #[arg(long)]
        aht: f64,
        /// Agents.
        #[arg(long)]
        agents: u32,
        /// SL threshold, seconds.
        #[arg(long, default_value_t = 20.0)]
        sl_threshold: f64,
    },
    /// Erlang A: M/M/n+M with exponential patience.
    A {
        /// Offered calls per minute.
        #[arg(long)]
        rate_per_min: f64,
        /// Mean handle time, seconds.
        #[arg(long)]
        aht: f64,
        /// Mean patience, seconds.
        #[arg(long)]
        patience: f64,
        /// Agents.
        #[arg(long)]
        agents: u32,
        /// SL threshold, seconds.
        #[arg(long, default_value_t = 20.0)]
        sl_threshold: f64,
    },
}

fn positive(name: &str, v: f64) -> Result<()> {
    if !(v.is_finite() && v > 0.0) {
        bail!("--{name} must be a positive number, got {v}");
    }
    Ok(())
}

/// Runs `tandem erlang`.
pub fn run(args: Args) -> Result<()> {
    match args.model {
        Model::B {
            rate_per_min,
            holding,
            channels,
            e1,
        } => {
            positive("rate-per-min", rate_per_min)?;
            positive("holding", holding)?;
            let n = match (channels, e1) {
                (Some(c), None) => c,
                (None, Some(e)) => e * 30,
                _ => bail!("give exactly one of --channels and --e1"),
            };
            let a = rate_per_min / 60.0 * holding;
            let b = erlang_b(a, n);
            println!("offered load       {a:.2} Erlang on {n} channels");
            println!("P(block)           {:.4} ({:.2}%)", b, b * 100.0);
            println!(
                "carried load       {:.2} Erlang (occupancy {:.1}%)",
                a * (1.0 - b),
                a * (1.0 - b) / f64::from(n) * 100.0
            );
        }
        Model::C {
            rate_per_min,
            aht,
            agents,
            sl_threshold,
        } => {
            positive("rate-per-min", rate_per_min)?;
            positive("aht", aht)?;
            let lambda = rate_per_min / 60.0;
            match erlang_c(lambda, aht, agents, sl_threshold) {
                None => bail!(
                    "offered load {:.1} Erlang is not below {agents} agents: the queue grows without bound",
                    lambda * aht
                ),
                Some(c) => {
                    println!(
                        "offered load       {:.2} Erlang on {agents} agents",
                        lambda * aht
                    );
                    println!("P(wait)            {:.4}", c.p_wait);
                    println!("ASA                {:.2} s", c.asa_s);
                    println!(
                        "service level      {:.2}% within {sl_threshold} s",
                        c.service_level * 100.0
                    );
                    println!("occupancy          {:.1}%", c.occupancy * 100.0);
                }
            }
        }
        Model::A {
            rate_per_min,
            aht,
            patience,
            agents,
            sl_threshold,
        } => {
            positive("rate-per-min", rate_per_min)?;
            positive("aht", aht)?;
            positive("patience", patience)?;
            if agents == 0 {
                bail!("--agents must be at least 1");
            }
            let a = erlang_a(rate_per_min / 60.0, aht, patience, agents, sl_threshold);
            println!(
                "offered load       {:.2} Erlang on {agents} agents",
                rate_per_min / 60.0 * aht
            );
            println!("P(wait)            {:.4}", a.p_wait);
            println!("P(abandon)         {:.4}", a.p_abandon);
            println!("ASA (answered)     {:.2} s", a.asa_s);
            println!(
                "service level      {:.2}% within {sl_threshold} s",
                a.service_level * 100.0
            );
            println!("occupancy          {:.1}%", a.occupancy * 100.0);
        }
    }
    Ok(())
}
