//! The `[agents]` table: the agents' numbers, times and distribution policy, and the
//! staffing windows (shifts and breaks, which `[[groups]]` have too) that put agents on and
//! off duty.

use serde::{Deserialize, Serialize};
use tandem_acd::Policy;

use crate::dist::Dist;

/// Agents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agents {
    /// Agents on duty (outside any shift window).
    pub count: u32,
    /// Talk time.
    pub talk: Dist,
    /// After-call work.
    #[serde(default = "zero")]
    pub acw: Dist,
    /// Time from the phone starting to ring to the agent answering.
    #[serde(default = "zero")]
    pub ring: Dist,
    /// Distribution policy.
    #[serde(default = "default_policy")]
    pub policy: Policy,
    /// Ring-no-answer timeout.
    #[serde(default)]
    pub ring_timeout_s: Option<f64>,
    /// Staffing windows (shifts and breaks): `count` agents on duty in `[start_s, end_s)`.
    #[serde(default)]
    pub shifts: Vec<Shift>,
    /// What happens when a staffing window asks for fewer agents.
    #[serde(default)]
    pub shift_change: ShiftChange,
    /// Call types this group answers (empty: every type).
    #[serde(default)]
    pub serves: Vec<String>,
}

/// The rule by which agents leave when staffing drops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShiftChange {
    /// The agents chosen to leave (the last to log in) go at once when idle, or after
    /// their current call; the others keep taking calls meanwhile.
    #[default]
    Designated,
    /// No new call until the busy agents are below the new target: idle agents leave at
    /// once, and every agent who finishes a call leaves while more are on duty than asked.
    FirstFree,
}

impl Agents {
    /// The most agents on duty at once: `count` outside the windows, and the sum of the
    /// overlapping windows inside them.
    pub fn most_on_duty(&self) -> u32 {
        most_on_duty(self.count, &self.shifts)
    }
}

/// The most agents on duty at once with `count` outside the windows `shifts`, whose
/// overlaps add up (a sweep over the windows' edges; back-to-back windows do not overlap).
pub fn most_on_duty(count: u32, shifts: &[Shift]) -> u32 {
    let mut edges: Vec<(f64, i64)> = shifts
        .iter()
        .flat_map(|s| {
            [
                (s.start_s, i64::from(s.count)),
                (s.end_s, -i64::from(s.count)),
            ]
        })
        .collect();
    // Ends before starts at the same instant.
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut on = 0i64;
    let mut most = 0i64;
    for (_, d) in edges {
        on += d;
        most = most.max(on);
    }
    count.max(most.clamp(0, i64::from(u32::MAX)) as u32)
}

fn zero() -> Dist {
    Dist::Deterministic { value: 0.0 }
}
fn default_policy() -> Policy {
    Policy::LongestIdle
}

/// A staffing window.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    /// Start.
    pub start_s: f64,
    /// End.
    pub end_s: f64,
    /// Agents on duty.
    pub count: u32,
}
