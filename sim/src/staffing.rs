//! Staffing search: the fewest agents, IVR ports and trunks that meet a service-level target
//! and a total-loss ceiling.
//!
//! Each resource is found by bisection on the simulator with common random numbers (the same
//! seeds for every candidate), which keeps the comparison between neighbouring sizes free of
//! sampling noise. The order follows the flow of a call, back to front:
//! 1. agents, with trunks and IVR ports unlimited, until SL and the queue + ring losses meet
//!    their targets;
//! 2. IVR ports, with trunks unlimited, until IVR losses stay within a tenth of the budget;
//! 3. trunk channels (whole E1 spans when the scenario counts in E1), until every target
//!    holds;
//! 4. a final check of the combination, adding agents if the smaller trunk group changed the
//!    picture.

use crate::scenario::{Scenario, Trunks};
use crate::{Report, SimError, simulate};

/// What the search must meet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Targets {
    /// Service level to reach (0..1).
    pub service_level: f64,
    /// SL threshold T in seconds.
    pub sl_threshold_s: f64,
    /// Largest share of offered calls lost at all four stages together.
    pub max_loss: f64,
}

/// The result of a search.
#[derive(Clone, Debug)]
pub struct Staffing {
    /// Agents needed.
    pub agents: u32,
    /// IVR ports needed (None: the scenario has no IVR).
    pub ivr_ports: Option<u32>,
    /// Trunk channels needed.
    pub trunk_channels: u32,
    /// Whole E1 spans (channels rounded up to 30).
    pub e1: u32,
    /// The report of the final configuration.
    pub report: Report,
    /// Simulations run.
    pub evaluations: u32,
}

struct Search {
    threads: usize,
    evaluations: u32,
}

impl Search {
    fn eval(&mut self, sc: &Scenario) -> Result<Report, SimError> {
        self.evaluations += 1;
        simulate(sc, self.threads, &|_| {})
    }

    /// Smallest `x` in `lo..=hi` with `ok(x)`, assuming `ok` is monotone; `None` if even
    /// `hi` fails.
    fn bisect(
        &mut self,
        mut lo: u32,
        mut hi: u32,
        mut ok: impl FnMut(&mut Self, u32) -> Result<bool, SimError>,
    ) -> Result<Option<u32>, SimError> {
        if !ok(self, hi)? {
            return Ok(None);
        }
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if ok(self, mid)? {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Ok(Some(hi))
    }
}

fn meets(r: &Report, t: &Targets) -> bool {
    r.rates.service_level >= t.service_level && r.rates.total_loss_share <= t.max_loss
}

/// Finds the smallest configuration of `base` meeting `t`. `max_agents` bounds the search.
pub fn search(
    base: &Scenario,
    t: Targets,
    max_agents: u32,
    threads: usize,
) -> Result<Staffing, SimError> {
    let mut s = Search {
        threads,
        evaluations: 0,
    };
    let mut sc = base.clone();
    sc.sl_threshold_s = t.sl_threshold_s;
    sc.agents.shifts.clear();
    let unlimited = |sc: &mut Scenario| sc.trunks = Trunks::default();

    // 1. Agents, with unlimited trunks and IVR.
    let mut agent_sc = sc.clone();
    unlimited(&mut agent_sc);
    if let Some(ivr) = agent_sc.ivr.as_mut() {
        ivr.ports = 1_000_000;
    }
    let agents = s
        .bisect(1, max_agents, |s, n| {
            let mut x = agent_sc.clone();
            x.agents.count = n;
            let r = s.eval(&x)?;
            Ok(r.rates.service_level >= t.service_level
                && r.rates.queue_loss_share + r.rates.ring_loss_share <= t.max_loss * 0.8)
        })?
        .ok_or_else(|| {
            SimError::Invalid(format!(
                "even {max_agents} agents do not meet the targets; raise --max-agents"
            ))
        })?;
    sc.agents.count = agents;

    // 2. IVR ports, with unlimited trunks.
    let ivr_ports = match sc.ivr.clone() {
        None => None,
        Some(_) => {
            let mut ivr_sc = sc.clone();
            unlimited(&mut ivr_sc);
            let peak_guess = 20 * agents.max(1);
            let p = s
                .bisect(1, peak_guess, |s, p| {
                    let mut x = ivr_sc.clone();
                    if let Some(i) = x.ivr.as_mut() {
                        i.ports = p;
                    }
                    Ok(s.eval(&x)?.rates.ivr_loss_share <= t.max_loss * 0.1)
                })?
                .ok_or_else(|| SimError::Invalid("no IVR port count meets the targets".into()))?;
            if let Some(i) = sc.ivr.as_mut() {
                i.ports = p;
            }
            Some(p)
        }
    };

    // 3. Trunks, in E1 spans when the scenario counts that way.
    let by_e1 = base.trunks.e1.is_some();
    let unit = if by_e1 { 30 } else { 1 };
    let hi_units = (20 * agents).div_ceil(unit).max(1);
    let set_trunks = |sc: &mut Scenario, units: u32| {
        sc.trunks = if by_e1 {
            Trunks {
                channels: None,
                e1: Some(units),
            }
        } else {
            Trunks {
                channels: Some(units),
                e1: None,
            }
        };
    };
    let units = s
        .bisect(1, hi_units, |s, u| {
            let mut x = sc.clone();
            set_trunks(&mut x, u);
            Ok(meets(&s.eval(&x)?, &t))
        })?
        .ok_or_else(|| {
            SimError::Invalid("no trunk count meets the targets with this staffing".into())
        })?;
    set_trunks(&mut sc, units);

    // 4. Final check; trunks can shift load, so add agents until the whole meets the targets.
    let mut report = s.eval(&sc)?;
    while !meets(&report, &t) && sc.agents.count < max_agents {
        sc.agents.count += (sc.agents.count / 50).max(1);
        report = s.eval(&sc)?;
    }
    let channels = units * unit;
    Ok(Staffing {
        agents: sc.agents.count,
        ivr_ports,
        trunk_channels: channels,
        e1: channels.div_ceil(30),
        report,
        evaluations: s.evaluations,
    })
}
