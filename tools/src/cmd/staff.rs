//! `tandem staff`: agents required per interval, trunks and IVR ports for the peak, a shift
//! plan that covers the requirement, and a check of the plan by simulation.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use tandem_sim::report::{clock, span};
use tandem_sim::staffing::{PlanOptions, QueueModel, ShiftRules, StaffPlan, Targets, plan};

use crate::ui::progress;
use crate::ui::verdict::{Bound, Verdict, percent, percent2};

/// The queueing formula, as the command line names it.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Model {
    /// Erlang C: no abandonment (the planners' standard; conservative).
    C,
    /// Erlang A: abandonment after an exponential patience with the scenario's mean.
    A,
}

/// Arguments of `tandem staff`.
#[derive(clap::Args)]
pub struct Args {
    /// Scenario: a TOML file or a built-in name (default: tv-burst).
    #[arg(long)]
    scenario: Option<String>,
    /// Service-level target as FRACTION/SECONDS, e.g. 0.8/20 (default: the scenario's
    /// `sl_target` and `sl_threshold_s`).
    #[arg(long)]
    target_sl: Option<String>,
    /// Largest share of offered calls lost at all four stages together.
    #[arg(long, default_value_t = 0.02)]
    max_loss: f64,
    /// Queueing formula for the requirement per interval.
    #[arg(long, value_enum, default_value = "c")]
    model: Model,
    /// Allowed shift lengths in hours, comma-separated (shifts reaching the end of the
    /// scenario are cut there).
    #[arg(long, default_value = "8,4", value_delimiter = ',')]
    shift_hours: Vec<f64>,
    /// Shifts may start every this many minutes (default: the scenario's interval).
    #[arg(long)]
    shift_step_min: Option<f64>,
    /// Simulation rounds checking (and raising) the plan.
    #[arg(long, default_value_t = 5)]
    rounds: u32,
    /// Only the formulas: no simulation check.
    #[arg(long)]
    no_simulate: bool,
    /// Override the scenario's replications per simulation round.
    #[arg(long)]
    replications: Option<u32>,
    /// Print one JSON object on stdout instead of the tables.
    #[arg(long)]
    json: bool,
    /// Also write a self-contained HTML page of the plan here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Report the verdict but exit 0 even if the simulated plan misses a target.
    #[arg(long)]
    no_verdict: bool,
}

fn parse_sl(s: &str) -> Result<(f64, f64)> {
    let (f, t) = s
        .split_once('/')
        .context("--target-sl must look like 0.8/20")?;
    let f: f64 = f.trim().parse().context("--target-sl: bad fraction")?;
    let t: f64 = t.trim().parse().context("--target-sl: bad seconds")?;
    if !(f > 0.0 && f <= 1.0 && t >= 0.0 && t.is_finite()) {
        bail!("--target-sl: fraction must be in (0, 1] and seconds ≥ 0");
    }
    Ok((f, t))
}

/// The plan's verdict: the simulated run against the targets.
fn verdict(p: &StaffPlan) -> Option<Verdict> {
    let round = p.rounds.last()?;
    let mut v = Verdict::default();
    let t = &p.targets;
    v.check(
        "service level",
        round.service_level,
        Bound::AtLeast(t.service_level),
        percent,
    );
    v.check(
        "all four losses",
        round.total_loss_share,
        Bound::AtMost(t.max_loss),
        percent2,
    );
    v.check(
        "intervals short of SL or abandonment",
        f64::from(round.short_intervals),
        Bound::AtMost(0.0),
        |x| format!("{x:.0}"),
    );
    Some(v)
}

/// Runs `tandem staff`.
pub fn run(args: Args) -> Result<()> {
    if !(0.0..=1.0).contains(&args.max_loss) {
        bail!("--max-loss must be in [0, 1]");
    }
    let mut sc = super::sim::load(args.scenario.as_deref())?;
    let (sl, t) = match &args.target_sl {
        Some(s) => parse_sl(s)?,
        None => (sc.sl_target, sc.sl_threshold_s),
    };
    if let Some(r) = args.replications {
        if r == 0 {
            bail!("--replications must be at least 1");
        }
        sc.replications = r;
    }
    if args
        .shift_hours
        .iter()
        .any(|h| !(*h > 0.0 && h.is_finite()))
    {
        bail!("--shift-hours: every length must be > 0");
    }
    let step_s = match args.shift_step_min {
        Some(m) if m > 0.0 && m.is_finite() => m * 60.0,
        Some(_) => bail!("--shift-step-min must be > 0"),
        None => sc.interval_s,
    };
    if !args.no_simulate && args.rounds == 0 {
        bail!("--rounds must be at least 1 (or use --no-simulate)");
    }
    let opts = PlanOptions {
        targets: Targets {
            service_level: sl,
            sl_threshold_s: t,
            max_loss: args.max_loss,
        },
        model: match args.model {
            Model::C => QueueModel::ErlangC,
            Model::A => QueueModel::ErlangA,
        },
        rules: ShiftRules {
            lengths_s: args.shift_hours.iter().map(|h| h * 3600.0).collect(),
            start_step_s: step_s,
        },
        simulate: !args.no_simulate,
        rounds: args.rounds,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let most = if args.no_simulate {
        0
    } else {
        u64::from(args.rounds) * u64::from(sc.replications)
    };
    let bar = progress::bar(
        most,
        "replications",
        format!("planning {}", sc.name),
        args.quiet || args.json || args.no_simulate,
    );
    let result = plan(&sc, &opts, &|done, _| bar.set_position(done));
    bar.finish_and_clear();
    let p = result?;
    let verdict = verdict(&p);
    if let Some(path) = &args.html {
        std::fs::write(path, tandem_sim::html::render_plan(&p))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        let mut v = serde_json::to_value(&p)?;
        if let (Some(o), Some(ver)) = (v.as_object_mut(), &verdict) {
            o.insert("verdict".into(), ver.to_json());
        }
        println!("{}", serde_json::to_string(&v)?);
    } else {
        print!("{}", text(&p, &opts));
        if let Some(v) = &verdict {
            print!("\n{}", v.to_text());
        }
        if let Some(path) = &args.html {
            println!("HTML report: {}", path.display());
        }
    }
    match verdict {
        Some(v) => v.exit(args.no_verdict),
        None => Ok(()),
    }
}

fn text(p: &StaffPlan, opts: &PlanOptions) -> String {
    use std::fmt::Write as _;
    let t = &p.targets;
    let mut s = String::new();
    let model = match p.model {
        QueueModel::ErlangA => "Erlang A",
        _ => "Erlang C",
    };
    let _ = writeln!(
        s,
        "Staffing plan for {}: SL ≥ {:.0}% within {} s in every interval, all four losses ≤ {:.1}%",
        p.scenario,
        t.service_level * 100.0,
        t.sl_threshold_s,
        t.max_loss * 100.0
    );
    let _ = writeln!(
        s,
        "Requirement by {model} per {} interval at each interval's mean first-attempt rate",
        span(p.interval_s)
    );
    let _ = writeln!(
        s,
        "\n  {:>8} {:>9} {:>6} {:>7} | {:>7} {:>6} | {:>8} {:>7} {:>9}",
        "start",
        "calls/min",
        "AHT s",
        "load E",
        "formula",
        "its SL",
        "required",
        "on duty",
        "simulated"
    );
    for i in &p.intervals {
        let _ = writeln!(
            s,
            "  {:>8} {:>9.1} {:>6.0} {:>7.1} | {:>7} {:>5.1}% | {:>8} {:>7} {:>9}",
            clock(i.need.start_s),
            i.need.offered_per_min,
            i.need.aht_s,
            i.need.load_erlang,
            i.need.agents,
            i.need.service_level * 100.0,
            i.required,
            i.planned,
            i.simulated_service_level
                .map_or_else(|| "n/a".into(), |v| format!("{:.1}%", v * 100.0))
        );
    }
    let pk = &p.peak;
    let _ = writeln!(
        s,
        "\nBusiest interval {} ({:.0} calls/min), trunk holding {:.1} s:",
        clock(pk.start_s),
        pk.offered_per_min,
        pk.trunk_holding_s
    );
    let _ = writeln!(
        s,
        "  trunks (Erlang B)  {} channels ({} E1), blocking {:.3}%",
        pk.trunk_channels,
        pk.e1,
        pk.trunk_blocking * 100.0
    );
    if let Some(ports) = pk.ivr_ports {
        let _ = writeln!(
            s,
            "  IVR (Erlang B)     {ports} ports, blocking {:.3}%",
            pk.ivr_blocking * 100.0
        );
    }
    let lengths: Vec<String> = opts.rules.lengths_s.iter().map(|l| span(*l)).collect();
    let _ = writeln!(
        s,
        "\nShift plan ({} shifts, starting every {}; cut at the end of arrivals {}):",
        lengths.join(" or "),
        span(opts.rules.start_step_s),
        clock(p.duration_s)
    );
    let _ = writeln!(
        s,
        "  {:>8} {:>8} {:>7} {:>7}",
        "start", "end", "length", "agents"
    );
    for sh in &p.shifts {
        let _ = writeln!(
            s,
            "  {:>8} {:>8} {:>7} {:>7}",
            clock(sh.start_s),
            clock(sh.end_s),
            span(sh.end_s - sh.start_s),
            sh.count
        );
    }
    let _ = writeln!(
        s,
        "  {} agents on {} shifts; {:.0} agent-hours paid for {:.0} required ({:.0}% used)",
        p.shifts.iter().map(|x| x.count).sum::<u32>(),
        p.shifts.len(),
        p.planned_agent_hours,
        p.required_agent_hours,
        100.0 * p.required_agent_hours / p.planned_agent_hours.max(1e-9)
    );
    if !p.rounds.is_empty() {
        let _ = writeln!(
            s,
            "\nSimulation check (the scenario with the plan's agents, trunks and IVR ports):"
        );
        let _ = writeln!(
            s,
            "  {:>5} {:>11} {:>9} {:>9} {:>6} {:>7} {:>10} {:>15}",
            "round",
            "peak agents",
            "trunks",
            "IVR ports",
            "SL",
            "loss",
            "trunk loss",
            "intervals short"
        );
        for (k, r) in p.rounds.iter().enumerate() {
            let _ = writeln!(
                s,
                "  {:>5} {:>11} {:>9} {:>9} {:>5.1}% {:>6.2}% {:>9.2}% {:>15}",
                k + 1,
                r.peak_agents,
                r.trunk_channels
                    .map_or_else(|| "unlimited".into(), |c| c.to_string()),
                r.ivr_ports.map_or_else(|| "-".into(), |c| c.to_string()),
                r.service_level * 100.0,
                r.total_loss_share * 100.0,
                r.trunk_loss_share * 100.0,
                r.short_intervals
            );
        }
    }
    s
}
