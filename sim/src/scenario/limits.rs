//! Limits on a run's work and memory (`[limits]`), which [`crate::budget`] holds a run's
//! estimated cost against.

use serde::{Deserialize, Serialize};

use super::bounds::{Problem, within};

/// Default limit on the events of a whole run (all replications).
pub const DEFAULT_MAX_EVENTS: f64 = 5e9;
/// Default limit on a run's peak memory, MiB.
pub const DEFAULT_MAX_MEMORY_MIB: f64 = 2048.0;

/// Limits on a run's work and memory.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Most events the whole run (every replication) may be estimated to process.
    #[serde(default = "default_events")]
    pub max_events: f64,
    /// Most memory the run may be estimated to hold at its peak, MiB.
    #[serde(default = "default_memory")]
    pub max_memory_mib: f64,
}

fn default_events() -> f64 {
    DEFAULT_MAX_EVENTS
}
fn default_memory() -> f64 {
    DEFAULT_MAX_MEMORY_MIB
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_events: DEFAULT_MAX_EVENTS,
            max_memory_mib: DEFAULT_MAX_MEMORY_MIB,
        }
    }
}

impl Limits {
    pub(crate) fn check(&self) -> Result<(), Problem> {
        within("limits.max_events", self.max_events, 1.0, 1e13, "")?;
        within(
            "limits.max_memory_mib",
            self.max_memory_mib,
            1.0,
            1e7,
            " MiB",
        )
    }
}
