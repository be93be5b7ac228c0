//! Staffing like the planners' tools: the agents required in every interval (Erlang C or A
//! against the service-level target), trunks and IVR ports for the busiest interval (Erlang
//! B against the loss budget), a shift plan that covers the requirement, and a check of the
//! plan by simulation that raises the requirement where the simulated centre falls short.
//!
//! [`requirement`] holds the formulas and their assumptions, [`shifts`] the covering
//! heuristic, and [`plan()`] the whole procedure.

mod plan;
pub mod requirement;
pub mod shifts;

use serde::Serialize;

pub use plan::{PlanInterval, PlanOptions, Round, StaffPlan, plan};
pub use requirement::{IntervalNeed, PeakNeed, QueueModel};
pub use shifts::{PlannedShift, ShiftRules};

/// What a plan must meet.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Targets {
    /// Service level to reach (0..1), in every interval.
    pub service_level: f64,
    /// SL threshold T in seconds.
    pub sl_threshold_s: f64,
    /// Largest share of offered calls lost at all four stages together.
    pub max_loss: f64,
}
