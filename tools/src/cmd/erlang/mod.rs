//! `tandem erlang`: the analytic calculators (Erlang B, C and A), for one size, as a table
//! over a range of sizes, or inverted: the fewest channels or agents meeting a target.

mod report;

use anyhow::{Context, Result, bail};
use tandem_sim::erlang::{
    ErlangTarget, erlang_a_agents, erlang_b_servers, erlang_c_agents, try_erlang_a, try_erlang_b,
    try_erlang_c,
};

use report::{Out, Row};

/// Largest table `--agents N..M` / `--channels N..M` prints.
const MAX_ROWS: u64 = 10_000;

/// Arguments of `tandem erlang`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    model: Model,
}

#[derive(clap::Subcommand)]
enum Model {
    /// Erlang B: blocking of a loss system (trunks), M/M/c/c. Give --channels N (figures),
    /// --channels N..M (a table), --e1 N, or --target-blocking P (channels needed).
    B(BArgs),
    /// Erlang C: waiting in M/M/n (no abandonment). Give --agents N, --agents N..M (a table)
    /// or a target (--target-sl, --max-asa) for the agents needed.
    C(CArgs),
    /// Erlang A: M/M/n+M, Erlang C with exponentially distributed patience. Give --agents N,
    /// --agents N..M (a table) or targets (--target-sl, --max-abandon, --max-asa).
    A(AArgs),
}

/// One size or an inclusive range.
#[derive(Clone, Copy, Debug)]
enum Sizes {
    One(u32),
    Range(u32, u32),
}

fn parse_sizes(s: &str) -> Result<Sizes, String> {
    let num = |x: &str| {
        x.trim()
            .parse::<u32>()
            .map_err(|e| format!("`{x}` is not a whole number up to {}: {e}", u32::MAX))
    };
    match s.split_once("..") {
        None => num(s).map(Sizes::One),
        Some((a, b)) => {
            let (a, b) = (num(a)?, num(b.trim_start_matches('='))?);
            if a > b {
                return Err(format!("the range {a}..{b} is empty"));
            }
            Ok(Sizes::Range(a, b))
        }
    }
}

/// `FRACTION/SECONDS`, the fraction as 0.8 or 80%.
fn parse_target_sl(s: &str) -> Result<(f64, f64), String> {
    let (f, t) = s
        .split_once('/')
        .ok_or("the service-level target looks like 0.8/20 (80% within 20 s)")?;
    let f = match f.trim().strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
        None => f.trim().parse::<f64>(),
    }
    .map_err(|e| format!("bad fraction `{f}`: {e}"))?;
    let t: f64 = t
        .trim()
        .trim_end_matches('s')
        .parse()
        .map_err(|e| format!("bad seconds `{t}`: {e}"))?;
    Ok((f, t))
}

#[derive(clap::Args)]
struct BArgs {
    /// Offered calls per minute.
    #[arg(long, allow_negative_numbers = true)]
    rate_per_min: f64,
    /// Mean holding time, seconds.
    #[arg(long, allow_negative_numbers = true)]
    holding: f64,
    /// Channels: N, or N..M (inclusive) for a table.
    #[arg(long, value_parser = parse_sizes)]
    channels: Option<Sizes>,
    /// E1 spans of 30 channels.
    #[arg(long, conflicts_with = "channels")]
    e1: Option<u32>,
    /// Find the fewest channels whose blocking is at most this fraction (e.g. 0.01).
    #[arg(long, allow_negative_numbers = true, conflicts_with_all = ["channels", "e1"])]
    target_blocking: Option<f64>,
    /// Table step, with --channels N..M.
    #[arg(long)]
    step: Option<u32>,
    /// Print one JSON object (inputs and every figure) instead of text.
    #[arg(long)]
    json: bool,
}

/// What Erlang C and A share: the load, the size or the targets, and the output.
#[derive(clap::Args)]
struct Common {
    /// Offered calls per minute.
    #[arg(long, allow_negative_numbers = true)]
    rate_per_min: f64,
    /// Mean handle time, seconds.
    #[arg(long, allow_negative_numbers = true)]
    aht: f64,
    /// Agents: N, or N..M (inclusive) for a table.
    #[arg(long, value_parser = parse_sizes)]
    agents: Option<Sizes>,
    /// Table step, with --agents N..M.
    #[arg(long)]
    step: Option<u32>,
    /// Service-level threshold T, seconds [default: 20, or T of --target-sl].
    #[arg(long, allow_negative_numbers = true, conflicts_with = "target_sl")]
    sl_threshold: Option<f64>,
    /// Find the fewest agents answering this share within T: FRACTION/SECONDS, e.g. 0.8/20
    /// or 80%/20.
    #[arg(long, value_parser = parse_target_sl)]
    target_sl: Option<(f64, f64)>,
    /// Find the fewest agents whose ASA (mean wait of answered calls) is at most this, s.
    #[arg(long, allow_negative_numbers = true)]
    max_asa: Option<f64>,
    /// Print one JSON object (inputs and every figure) instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct CArgs {
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
struct AArgs {
    #[command(flatten)]
    common: Common,
    /// Mean patience (exponentially distributed), seconds.
    #[arg(long, allow_negative_numbers = true)]
    patience: f64,
    /// Find the fewest agents with at most this share of callers abandoning (e.g. 0.05).
    #[arg(long, allow_negative_numbers = true)]
    max_abandon: Option<f64>,
}

fn positive(name: &str, v: f64) -> Result<()> {
    if !(v.is_finite() && v > 0.0) {
        bail!("--{name} must be a positive, finite number, got {v}");
    }
    Ok(())
}

/// What to compute: one size, a table, or the inverse.
enum Mode {
    One(u32),
    Table { from: u32, to: u32, step: u32 },
    Inverse,
}

fn mode(sizes: Option<Sizes>, step: Option<u32>, has_target: bool, flag: &str) -> Result<Mode> {
    let mode = match (sizes, has_target) {
        (Some(_), true) => {
            bail!("give --{flag} (figures or a table) or a target (the {flag} needed), not both")
        }
        (None, false) => {
            bail!("give --{flag} N, --{flag} N..M (a table), or a target for the {flag} needed")
        }
        (None, true) => Mode::Inverse,
        (Some(Sizes::One(n)), _) => Mode::One(n),
        (Some(Sizes::Range(from, to)), _) => {
            let step = step.unwrap_or(1);
            if step == 0 {
                bail!("--step must be at least 1");
            }
            let rows = u64::from(to - from) / u64::from(step) + 1;
            if rows > MAX_ROWS {
                bail!("the table would have {rows} rows, more than {MAX_ROWS}: raise --step");
            }
            return Ok(Mode::Table { from, to, step });
        }
    };
    if step.is_some() {
        bail!("--step needs a range: --{flag} N..M");
    }
    Ok(mode)
}

fn sizes(from: u32, to: u32, step: u32) -> impl Iterator<Item = u32> {
    (u64::from(from)..=u64::from(to))
        .step_by(step as usize)
        .map(|n| n as u32)
}

/// Runs `tandem erlang`.
pub fn run(args: Args) -> Result<()> {
    match args.model {
        Model::B(b) => run_b(b),
        Model::C(c) => run_c(c),
        Model::A(a) => run_a(a),
    }
}

fn run_b(args: BArgs) -> Result<()> {
    positive("rate-per-min", args.rate_per_min)?;
    positive("holding", args.holding)?;
    let a = args.rate_per_min / 60.0 * args.holding;
    positive("rate-per-min × --holding (the offered load)", a)?;
    let mut out = Out::new("erlang_b", args.json);
    out.input("rate_per_min", args.rate_per_min);
    out.input("holding_s", args.holding);
    let row = |n: u32| -> Result<Row> { Ok(Row::b(n, a, args.rate_per_min, try_erlang_b(a, n)?)) };
    let sizes_given = match (args.channels, args.e1) {
        (None, Some(e)) => Some(Sizes::One(
            e.checked_mul(30)
                .context("--e1 is too large: the channels do not fit in 32 bits")?,
        )),
        (c, _) => c,
    };
    let mode = mode(
        sizes_given,
        args.step,
        args.target_blocking.is_some(),
        "channels",
    )?;
    answer(out, "channels", mode, row, |out| {
        let max = args.target_blocking.unwrap_or(f64::NAN);
        out.target("max_blocking", max);
        Ok(erlang_b_servers(a, max)?)
    })
}

/// Prints the figures for one size, a table, or the inverse found by `search` (with the
/// figures at one fewer, to show it is the least).
fn answer(
    mut out: Out,
    key: &str,
    mode: Mode,
    row: impl Fn(u32) -> Result<Row>,
    search: impl FnOnce(&mut Out) -> Result<u32>,
) -> Result<()> {
    match mode {
        Mode::One(n) => out.one(key, n, row(n)?),
        Mode::Table { from, to, step } => {
            out.table(key, from, to, step, sizes(from, to, step).map(&row))?
        }
        Mode::Inverse => {
            let n = search(&mut out)?;
            let fewer = if n > 1 { Some(row(n - 1)?) } else { None };
            out.inverse(key, n, row(n)?, fewer);
        }
    }
    out.finish()
}

impl Common {
    /// Checks the load and opens the output with the inputs: `(λ per s, T, output)`.
    fn start(&self, model: &str, patience: Option<f64>) -> Result<(f64, f64, Out)> {
        positive("rate-per-min", self.rate_per_min)?;
        positive("aht", self.aht)?;
        if let Some(p) = patience {
            positive("patience", p)?;
        }
        let t = match (self.target_sl, self.sl_threshold) {
            (Some((_, t)), _) | (None, Some(t)) => t,
            (None, None) => 20.0,
        };
        if !(t.is_finite() && t >= 0.0) {
            bail!("the service-level threshold must be a finite number of seconds ≥ 0, got {t}");
        }
        let mut out = Out::new(model, self.json);
        out.input("rate_per_min", self.rate_per_min);
        out.input("aht_s", self.aht);
        if let Some(p) = patience {
            out.input("patience_s", p);
        }
        out.input("sl_threshold_s", t);
        Ok((self.rate_per_min / 60.0, t, out))
    }

    /// One size, a table, or the inverse of `target`.
    fn mode(&self, target: &ErlangTarget) -> Result<Mode> {
        mode(
            self.agents,
            self.step,
            *target != ErlangTarget::default(),
            "agents",
        )
    }
}

fn run_c(args: CArgs) -> Result<()> {
    let c = &args.common;
    let (lambda, t, out) = c.start("erlang_c", None)?;
    let a = lambda * c.aht;
    let row = |n: u32| -> Result<Row> {
        match try_erlang_c(lambda, c.aht, n, t) {
            Ok(r) => Ok(Row::c(n, t, Some(r))),
            Err(tandem_sim::erlang::ErlangError::Unstable { .. }) => Ok(Row::c(n, t, None)),
            Err(e) => Err(e.into()),
        }
    };
    let target = ErlangTarget {
        service_level: c.target_sl,
        max_asa_s: c.max_asa,
        ..ErlangTarget::default()
    };
    let mode = c.mode(&target)?;
    if let Mode::One(n) = mode
        && f64::from(n) <= a
    {
        bail!(
            "offered load {a} Erlang is not below {n} agents: without abandonment the queue \
             grows without bound (try `tandem erlang a` with a patience)"
        );
    }
    answer(out, "agents", mode, row, |out| {
        out.targets(&target);
        Ok(erlang_c_agents(lambda, c.aht, &target)?)
    })
}

fn run_a(args: AArgs) -> Result<()> {
    let c = &args.common;
    let (lambda, t, out) = c.start("erlang_a", Some(args.patience))?;
    let row = |n: u32| -> Result<Row> {
        if n == 0 {
            bail!("at least one agent is needed");
        }
        Ok(Row::a(
            n,
            t,
            try_erlang_a(lambda, c.aht, args.patience, n, t)?,
        ))
    };
    let target = ErlangTarget {
        service_level: c.target_sl,
        max_abandon: args.max_abandon,
        max_asa_s: c.max_asa,
    };
    let mode = c.mode(&target)?;
    answer(out, "agents", mode, row, |out| {
        out.targets(&target);
        Ok(erlang_a_agents(lambda, c.aht, args.patience, &target)?)
    })
}
