//! The planning procedure: requirement, cover, simulation check, refinement.
//!
//! 1. The agents each interval needs by the chosen Erlang formula, and trunks and IVR ports
//!    for the busiest interval ([`super::requirement`]).
//! 2. A shift plan covering that requirement ([`super::shifts`]).
//! 3. Unless only the formulas are wanted, the scenario runs with the plan: its agents
//!    follow the plan's on-duty count interval by interval (shifts that reach the end of
//!    arrivals stay three mean patiences longer, so the last callers are not abandoned by a
//!    shift change), and with the planned trunks and IVR ports where the scenario models
//!    them. Each interval whose simulated service level misses the target, or whose queue
//!    and ring abandonment exceeds four tenths of the loss budget, gets 5% more agents (at
//!    least one) than it had on duty; trunks get one more E1 span (or 5% more channels) while their
//!    loss exceeds half the budget, IVR ports 5% more while theirs exceeds a tenth; then
//!    the plan is redrawn and run again, up to the given number of rounds. Callbacks are
//!    not planned for: they are dialled by whichever planned agents are idle.

use serde::Serialize;

use super::Targets;
use super::requirement::{
    ABANDON_SHARE, IVR_SHARE, IntervalNeed, PeakNeed, QueueModel, TRUNK_SHARE, agent_requirement,
    peak_capacity,
};
use super::shifts::{PlannedShift, ShiftRules, cover, on_duty};
use crate::report::Report;
use crate::scenario::{Scenario, Shift, Trunks};
use crate::{SimError, run_replications};

/// How to plan.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// The targets.
    pub targets: Targets,
    /// The queueing formula.
    pub model: QueueModel,
    /// Shift shapes.
    pub rules: ShiftRules,
    /// Check the plan by simulation (false: the formulas only).
    pub simulate: bool,
    /// Simulation rounds in all, at least one when simulating.
    pub rounds: u32,
    /// Worker threads for replications.
    pub threads: usize,
}

/// One interval of the plan.
#[derive(Clone, Debug, Serialize)]
pub struct PlanInterval {
    /// What the formula says.
    #[serde(flatten)]
    pub need: IntervalNeed,
    /// Agents required after the simulation rounds (the formula's, raised where the
    /// simulation fell short).
    pub required: u32,
    /// Agents on duty under the shift plan.
    pub planned: u32,
    /// Simulated service level with the plan (`None`: not simulated, or no calls).
    pub simulated_service_level: Option<f64>,
}

/// One simulation round.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Round {
    /// Agents on duty in the busiest interval.
    pub peak_agents: u32,
    /// Shifts' agents in all.
    pub shift_agents: u32,
    /// Trunk channels simulated (`None`: unlimited).
    pub trunk_channels: Option<u32>,
    /// IVR ports simulated.
    pub ivr_ports: Option<u32>,
    /// Service level over the whole run.
    pub service_level: f64,
    /// All four losses ÷ offered.
    pub total_loss_share: f64,
    /// Trunk losses ÷ offered.
    pub trunk_loss_share: f64,
    /// IVR losses ÷ offered.
    pub ivr_loss_share: f64,
    /// Intervals (during arrivals) short of a target: the service level missed, or more
    /// abandonment than its share of the loss budget.
    pub short_intervals: u32,
}

/// A staffing plan.
#[derive(Clone, Debug, Serialize)]
pub struct StaffPlan {
    /// Scenario name.
    pub scenario: String,
    /// Targets.
    pub targets: Targets,
    /// Formula.
    pub model: QueueModel,
    /// Interval width, seconds.
    pub interval_s: f64,
    /// End of arrivals (the planning horizon), seconds.
    pub duration_s: f64,
    /// Per interval: formula, requirement, plan, simulation.
    pub intervals: Vec<PlanInterval>,
    /// Trunks and ports for the busiest interval, by the formulas.
    pub peak: PeakNeed,
    /// Trunk channels of the plan (after the simulation rounds; `None`: the scenario has
    /// unlimited trunks).
    pub trunk_channels: Option<u32>,
    /// IVR ports of the plan (`None`: the scenario has no IVR).
    pub ivr_ports: Option<u32>,
    /// The shifts.
    pub shifts: Vec<PlannedShift>,
    /// Σ required agents × interval, hours.
    pub required_agent_hours: f64,
    /// Σ shift agents × length, hours.
    pub planned_agent_hours: f64,
    /// The simulation rounds, in order.
    pub rounds: Vec<Round>,
    /// The last round's report.
    pub report: Option<Report>,
}

impl StaffPlan {
    /// Whether the last simulation met every target (`None` if not simulated).
    pub fn meets_targets(&self) -> Option<bool> {
        let r = self.rounds.last()?;
        Some(
            r.short_intervals == 0
                && r.service_level >= self.targets.service_level
                && r.total_loss_share <= self.targets.max_loss,
        )
    }
}

/// `sc` with agents following `duty` (one count per interval), as non-overlapping staffing
/// windows; the last window reaching the horizon extended by `drain_s`.
fn with_duty(sc: &Scenario, duty: &[u32], drain_s: f64) -> Scenario {
    let iv = sc.interval_s;
    let mut out = sc.clone();
    out.agents.count = 0;
    out.agents.shifts.clear();
    let mut j = 0;
    while j < duty.len() {
        let k = (j..duty.len())
            .find(|&k| duty[k] != duty[j])
            .unwrap_or(duty.len());
        if duty[j] > 0 {
            let end = if k == duty.len() {
                sc.duration_s + drain_s
            } else {
                k as f64 * iv
            };
            out.agents.shifts.push(Shift {
                start_s: j as f64 * iv,
                end_s: end,
                count: duty[j],
            });
        }
        j = k;
    }
    out
}

/// Plans staffing for `sc`. `progress` is called with (replications run, most that may
/// run).
pub fn plan(
    sc: &Scenario,
    opts: &PlanOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<StaffPlan, SimError> {
    if sc.ivr.as_ref().is_some_and(|i| i.flow().is_some()) {
        // The analytic first sizing needs the IVR's mean holding time, which a flow gives
        // only by simulation.
        return Err(SimError::Invalid(format!(
            "scenario {}: staffing plans take an IVR `time`, not a `flow` (run the flow \
             scenario with `tandem sim` to measure its IVR time, then plan with that)",
            sc.name
        )));
    }
    let t = opts.targets;
    let mut base = sc.clone();
    base.sl_threshold_s = t.sl_threshold_s;
    base.sl_target = t.service_level;
    let needs = agent_requirement(&base, &t, opts.model)?;
    if needs.iter().all(|n| n.agents == 0) {
        return Err(SimError::Invalid(format!(
            "scenario {} offers no calls to plan for",
            sc.name
        )));
    }
    let peak = peak_capacity(&base, &t, &needs);
    let mut required: Vec<u32> = needs.iter().map(|n| n.agents).collect();
    let mut trunks = base.trunks.capacity().map(|_| peak.trunk_channels);
    let mut ivr_ports = peak.ivr_ports;
    let e1 = base.trunks.e1.is_some();
    let drain_s = 3.0 * base.queue.patience.mean();
    let rounds = if opts.simulate { opts.rounds.max(1) } else { 0 };
    let total = u64::from(rounds) * u64::from(base.replications);
    let mut done_rounds = Vec::new();
    let mut report = None;
    let mut shifts = cover(&required, base.interval_s, &opts.rules)?;
    let mut sim_sl: Vec<Option<f64>> = vec![None; needs.len()];
    for round in 0..rounds {
        let duty = on_duty(&shifts, base.interval_s, needs.len());
        let mut run_sc = with_duty(&base, &duty, drain_s);
        run_sc.trunks = match trunks {
            Some(c) if e1 => Trunks {
                channels: None,
                e1: Some(c / 30),
            },
            Some(c) => Trunks {
                channels: Some(c),
                e1: None,
            },
            None => Trunks::default(),
        };
        if let (Some(i), Some(p)) = (run_sc.ivr.as_mut(), ivr_ports) {
            i.ports = p;
        }
        let before = u64::from(round) * u64::from(base.replications);
        let runs = run_replications(&run_sc, opts.threads, &|n| {
            progress(before + u64::from(n), total)
        })?;
        let r = Report::from_runs(&run_sc, &runs);
        // Short: the service level missed, or more callers abandoned (queue and ring) than
        // their share of the loss budget.
        let mut short = Vec::new();
        for (j, s) in sim_sl.iter_mut().enumerate() {
            let row = r.intervals.get(j);
            *s = row.and_then(|row| row.service_level);
            let abandoned = row.map_or(0.0, |row| {
                let c = &row.counts;
                (c.queue_abandoned + c.ring_lost) / c.offered.max(1.0)
            });
            if s.is_some_and(|v| v < t.service_level) || abandoned > t.max_loss * ABANDON_SHARE {
                short.push(j);
            }
        }
        done_rounds.push(Round {
            peak_agents: duty.iter().copied().max().unwrap_or(0),
            shift_agents: shifts.iter().map(|s| s.count).sum(),
            trunk_channels: trunks,
            ivr_ports: run_sc.ivr.as_ref().map(|i| i.ports),
            service_level: r.rates.service_level,
            total_loss_share: r.rates.total_loss_share,
            trunk_loss_share: r.rates.trunk_loss_share,
            ivr_loss_share: r.rates.ivr_loss_share,
            short_intervals: short.len() as u32,
        });
        let trunks_short = trunks.is_some() && r.rates.trunk_loss_share > t.max_loss * TRUNK_SHARE;
        let ivr_short = ivr_ports.is_some() && r.rates.ivr_loss_share > t.max_loss * IVR_SHARE;
        let over_budget = r.rates.total_loss_share > t.max_loss;
        report = Some(r);
        if short.is_empty() && !trunks_short && !ivr_short && !over_budget {
            break;
        }
        if round + 1 == rounds {
            break;
        }
        // Raised from what was on duty (the plan may already have had more than the
        // requirement there), so every round adds agents where the centre fell short.
        for j in short {
            let base = required[j].max(duty[j]);
            required[j] = base + (f64::from(base) * 0.05).ceil().max(1.0) as u32;
        }
        if trunks_short {
            trunks = trunks.map(|c| if e1 { c + 30 } else { c + (c / 20).max(1) });
        }
        if ivr_short {
            ivr_ports = ivr_ports.map(|p| p + (p / 20).max(1));
        }
        shifts = cover(&required, base.interval_s, &opts.rules)?;
    }
    let duty = on_duty(&shifts, base.interval_s, needs.len());
    let hours = |agents: f64, s: f64| agents * s / 3600.0;
    Ok(StaffPlan {
        scenario: sc.name.clone(),
        targets: t,
        model: opts.model,
        interval_s: base.interval_s,
        duration_s: base.duration_s,
        required_agent_hours: needs
            .iter()
            .zip(&required)
            .map(|(n, r)| hours(f64::from(*r), n.end_s - n.start_s))
            .sum(),
        planned_agent_hours: shifts
            .iter()
            .map(|s| hours(f64::from(s.count), s.end_s - s.start_s))
            .sum(),
        intervals: needs
            .into_iter()
            .enumerate()
            .map(|(j, need)| PlanInterval {
                need,
                required: required[j],
                planned: duty[j],
                simulated_service_level: sim_sl[j],
            })
            .collect(),
        peak,
        trunk_channels: trunks,
        ivr_ports: base.ivr.as_ref().and(ivr_ports),
        shifts,
        rounds: done_rounds,
        report,
    })
}
