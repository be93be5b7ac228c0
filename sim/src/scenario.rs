//! Scenario files (TOML): the schema, the loader with line-numbered errors, and the
//! built-in scenarios. `docs/scenarios.md` documents every key.

// Checks are written `!(x > 0.0)` on purpose: a NaN fails them too.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

mod agents;
pub mod bounds;
mod check;
pub mod ivr_flow;
pub mod limits;
mod load;
pub mod queueing;
pub mod routing;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::arrivals::ArrivalSpec;
use crate::dist::Dist;
pub use agents::{Agents, Shift, ShiftChange, most_on_duty};
pub use bounds::Problem;
pub use limits::Limits;
pub use queueing::{Announcement, Tells};
pub use routing::{CallType, Group, Overflow, Routing};

/// A complete scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name.
    pub name: String,
    /// What it models, and its assumptions.
    #[serde(default)]
    pub description: String,
    /// Calls arrive during `[0, duration_s)`; the run then continues until every call ends.
    pub duration_s: f64,
    /// Width of the report's time-series intervals.
    #[serde(default = "default_interval")]
    pub interval_s: f64,
    /// Service-level threshold T: SL = answered within T ÷ (answered + abandoned).
    #[serde(default = "default_sl")]
    pub sl_threshold_s: f64,
    /// Service-level target: the fraction of calls to answer within T (the reports draw
    /// it as a line; staffing plans aim at it).
    #[serde(default = "default_sl_target")]
    pub sl_target: f64,
    /// Base seed.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Independent replications (for confidence intervals).
    #[serde(default = "default_reps")]
    pub replications: u32,
    /// Confidence level of the reports' intervals: 0.90, 0.95 or 0.99.
    #[serde(default = "default_ci_level")]
    pub ci_level: f64,
    /// The arrival process.
    pub arrivals: ArrivalSpec,
    /// Blocked and abandoned callers who call again.
    #[serde(default)]
    pub redial: Option<Redial>,
    /// Trunk capacity (unlimited when absent).
    #[serde(default)]
    pub trunks: Trunks,
    /// IVR front end (none when absent: calls go straight to the queue).
    #[serde(default)]
    pub ivr: Option<Ivr>,
    /// Queue behaviour.
    pub queue: QueueSpec,
    /// Agents.
    pub agents: Agents,
    /// Callback offer ("smart dissuasion").
    #[serde(default)]
    pub callback: Option<Callback>,
    /// Caller population and lists.
    #[serde(default)]
    pub callers: Callers,
    /// Drive mode: record every conversation as a stereo WAV (caller left, agent right).
    #[serde(default)]
    pub record: bool,
    /// Drive mode: the fraction of conversations a supervisor listens to.
    #[serde(default)]
    pub supervisor_fraction: f64,
    /// Statistics of `[0, warmup_s)` are discarded (the run still starts empty).
    #[serde(default)]
    pub warmup_s: f64,
    /// Batch means: one long run (one replication) cut into this many batches over
    /// `[warmup_s, duration_s)`, whose spread gives the confidence intervals.
    #[serde(default)]
    pub batches: Option<u32>,
    /// Day-to-day variability: a factor drawn once per replication that multiplies every
    /// arrival rate (a doubly stochastic arrival process). None: the rates as given.
    #[serde(default)]
    pub busyness: Option<Dist>,
    /// Agent groups besides `[agents]`.
    #[serde(default)]
    pub groups: Vec<Group>,
    /// Call types (none: every call is of one type, `calls`).
    #[serde(default)]
    pub call_types: Vec<CallType>,
    /// Limits on the work and memory a run may take.
    #[serde(default)]
    pub limits: Limits,
}

fn default_interval() -> f64 {
    60.0
}
fn default_sl() -> f64 {
    20.0
}
fn default_sl_target() -> f64 {
    0.8
}
fn default_ci_level() -> f64 {
    0.95
}
fn default_seed() -> u64 {
    1
}
fn default_reps() -> u32 {
    1
}

/// Redials of blocked (trunk, IVR) and abandoned callers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redial {
    /// Probability that a lost caller calls again.
    pub probability: f64,
    /// Probability after a busy tone or silence (trunk or IVR loss), if not `probability`.
    #[serde(default)]
    pub after_busy: Option<f64>,
    /// Probability after abandoning (queue, ring, balk), if not `probability`.
    #[serde(default)]
    pub after_abandon: Option<f64>,
    /// Delay before the new attempt.
    pub delay: Dist,
    /// Most attempts per caller, including the first.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
}

fn default_attempts() -> u32 {
    3
}

/// Trunk capacity: `channels`, or `e1` spans of 30 voice channels. Neither: unlimited.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trunks {
    /// Voice channels.
    #[serde(default)]
    pub channels: Option<u32>,
    /// E1 PRI spans (30 voice channels each).
    #[serde(default)]
    pub e1: Option<u32>,
}

impl Trunks {
    /// Channels, or `None` for unlimited.
    pub fn capacity(&self) -> Option<u32> {
        match (self.channels, self.e1) {
            (Some(c), _) => Some(c),
            (None, Some(e)) => Some(e * 30),
            (None, None) => None,
        }
    }
}

/// The IVR front end: a holding-time distribution (`time`, `self_service`), or a call flow
/// (`flow`) that simulated callers walk with the real interpreter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ivr {
    /// IVR ports.
    pub ports: u32,
    /// Time a caller spends in the IVR (without a flow).
    #[serde(default)]
    pub time: Option<Dist>,
    /// Fraction of callers who finish in self-service and hang up (without a flow).
    #[serde(default)]
    pub self_service: f64,
    /// A caller who gets no IVR port hears nothing and hangs up after this long.
    #[serde(default = "default_no_answer")]
    pub no_answer_hangup_s: f64,
    /// The call flow: a shipped flow's name, or a flow file relative to the scenario.
    #[serde(default, rename = "flow")]
    pub flow_spec: Option<String>,
    /// Flow: the length of each prompt, by name.
    #[serde(default)]
    pub prompts: BTreeMap<String, Dist>,
    /// Flow: the length of any prompt not in `prompts`.
    #[serde(default)]
    pub prompt_s: Option<Dist>,
    /// Flow: callers' time from the end of a menu's prompts to their key, where a node
    /// gives none (default 2 s).
    #[serde(default)]
    pub think: Option<Dist>,
    /// Flow: how callers behave, by node name.
    #[serde(default)]
    pub nodes: BTreeMap<String, ivr_flow::NodeBehaviour>,
    /// Flow: the dialled numbers callers spread over (none: an empty DNIS).
    #[serde(default)]
    pub dnis: Vec<ivr_flow::Dialled>,
    /// Flow: the local wall-clock time at the start of the run, `YYYY-MM-DD HH:MM` in the
    /// flow's time zone (default 2025-01-06 12:00, a Monday noon).
    #[serde(default)]
    pub starts_at: Option<String>,
    /// Flow: the flow itself, loaded with the scenario.
    #[serde(skip)]
    pub loaded: ivr_flow::LoadedFlow,
}

fn default_no_answer() -> f64 {
    8.0
}

/// Queue behaviour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    /// How long a caller waits (in queue and while the agent's phone rings) before hanging up.
    pub patience: Dist,
    /// Send calls waiting this long to voicemail (none when absent).
    #[serde(default)]
    pub voicemail_after_s: Option<f64>,
    /// Overflow to further agent groups (without `[[call_types]]`; each call type has its
    /// own rules otherwise).
    #[serde(default)]
    pub overflow: Vec<Overflow>,
    /// The delay announcement: balking, and patience after it.
    #[serde(default)]
    pub announcement: Option<Announcement>,
}

/// Callback offer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Callback {
    /// Offer when no agent is idle and the expected wait is at least this long.
    #[serde(default)]
    pub offer_when_expected_wait_s: f64,
    /// Callback list size.
    #[serde(default = "default_cb_max")]
    pub max_entries: usize,
    /// Entries expire unserved after this long.
    #[serde(default = "default_cb_expire")]
    pub expire_after_s: f64,
    /// Dial attempts per entry.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Probability the customer answers a callback.
    #[serde(default = "default_answer")]
    pub answer_probability: f64,
    /// Time an attempt takes to ring out or connect.
    #[serde(default = "default_dial")]
    pub dial_time: Dist,
    /// Callbacks start no earlier than this.
    #[serde(default)]
    pub start_at_s: f64,
    /// Probability that a caller offered a callback accepts it (the others stay in queue).
    #[serde(default = "one")]
    pub acceptance: f64,
    /// Answer probability of the first, second, … attempt (the last repeats); empty:
    /// `answer_probability` for every attempt.
    #[serde(default)]
    pub attempt_answer_probabilities: Vec<f64>,
    /// An agent who finds every trunk channel seized tries again after this long (the
    /// customer's attempts are not used up).
    #[serde(default = "default_trunk_retry")]
    pub trunk_retry_s: f64,
    /// Of the attempts the customer does not answer, the share that find the line busy.
    #[serde(default)]
    pub busy_share: f64,
    /// Of the attempts the customer does not answer, the share that find the number not
    /// assigned (a special information tone). The rest ring out.
    #[serde(default)]
    pub unassigned_share: f64,
}

fn one() -> f64 {
    1.0
}
fn default_trunk_retry() -> f64 {
    10.0
}

impl Callback {
    /// Answer probability of attempt `n` (1-based).
    pub fn answer_probability_of(&self, n: u32) -> f64 {
        let p = &self.attempt_answer_probabilities;
        match p.len() {
            0 => self.answer_probability,
            len => p[(n.max(1) as usize - 1).min(len - 1)],
        }
    }
}

fn default_cb_max() -> usize {
    5000
}
fn default_cb_expire() -> f64 {
    4.0 * 3600.0
}
fn default_answer() -> f64 {
    0.8
}
fn default_dial() -> Dist {
    Dist::Deterministic { value: 20.0 }
}

/// Caller population and lists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Callers {
    /// Distinct caller numbers (repeat callers matter for sticky agents and callbacks).
    #[serde(default = "default_population")]
    pub population: u64,
    /// Fraction of the population that is VIP (skips the IVR, jumps the queue).
    #[serde(default)]
    pub vip_fraction: f64,
    /// Fraction that is blacklisted (hears busy).
    #[serde(default)]
    pub blacklist_fraction: f64,
    /// Sticky agent wait.
    #[serde(default)]
    pub sticky_wait_s: Option<f64>,
}

fn default_population() -> u64 {
    100_000_000
}

impl Default for Callers {
    fn default() -> Self {
        Callers {
            population: default_population(),
            vip_fraction: 0.0,
            blacklist_fraction: 0.0,
            sticky_wait_s: None,
        }
    }
}

impl Scenario {
    /// The groups, call types and overflow rules, resolved to indices.
    pub fn routing(&self) -> Result<Routing, SimError> {
        self.routing_checked()
            .map_err(|Problem(k, m)| SimError::Invalid(format!("`{k}`: {m}")))
    }

    fn routing_checked(&self) -> Result<Routing, Problem> {
        Routing::resolve(
            &self.agents.serves,
            &self.groups,
            &self.call_types,
            &self.queue.overflow,
        )
    }
}

/// Built-in scenarios: (name, TOML).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("tv-burst", include_str!("../scenarios/tv-burst.toml")),
    (
        "tv-burst-rebuilt",
        include_str!("../scenarios/tv-burst-rebuilt.toml"),
    ),
    (
        "tv-burst-callback",
        include_str!("../scenarios/tv-burst-callback.toml"),
    ),
    (
        "tv-burst-9e1-400",
        include_str!("../scenarios/tv-burst-9e1-400.toml"),
    ),
    (
        "tv-burst-6e1-700",
        include_str!("../scenarios/tv-burst-6e1-700.toml"),
    ),
    (
        "tv-shopping-flow",
        include_str!("../scenarios/tv-shopping-flow.toml"),
    ),
    ("mm-n-m", include_str!("../scenarios/mm-n-m.toml")),
    ("day-700", include_str!("../scenarios/day-700.toml")),
];

/// Built-in sets of scenarios to compare side by side (`tandem sim --compare NAME`): (name,
/// what it asks, the scenarios, the first being the baseline).
pub const BUILT_IN_SETS: &[(&str, &str, &[&str])] = &[(
    "tv-burst-compare",
    "the TV-ad burst on 6 or 9 E1 with 400 or 700 agents, and with callbacks (smart dissuasion)",
    &[
        "tv-burst",
        "tv-burst-9e1-400",
        "tv-burst-6e1-700",
        "tv-burst-rebuilt",
        "tv-burst-callback",
    ],
)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_loads() {
        for (name, _) in BUILT_IN {
            let s = Scenario::built_in(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&s.name, name);
        }
        for (set, _, members) in BUILT_IN_SETS {
            assert!(
                BUILT_IN.iter().all(|(n, _)| n != set),
                "{set} is also a scenario"
            );
            for m in *members {
                Scenario::built_in(m).unwrap_or_else(|e| panic!("{set}: {m}: {e}"));
            }
        }
    }

    #[test]
    fn the_burst_comparison_differs_only_in_trunks_and_agents() {
        let base = Scenario::built_in("tv-burst").unwrap();
        for (name, e1, agents) in [
            ("tv-burst-9e1-400", 9, 400),
            ("tv-burst-6e1-700", 6, 700),
            ("tv-burst-rebuilt", 9, 700),
        ] {
            let s = Scenario::built_in(name).unwrap();
            assert_eq!(s.trunks.e1, Some(e1), "{name}");
            assert_eq!(s.agents.count, agents, "{name}");
            assert_eq!(s.arrivals, base.arrivals, "{name}");
            assert_eq!(s.queue, base.queue, "{name}");
            assert_eq!(s.redial, base.redial, "{name}");
            assert_eq!((s.seed, s.replications), (base.seed, base.replications));
        }
    }

    #[test]
    fn overlapping_windows_add_up() {
        let text = "name = \"x\"\nduration_s = 60\n[arrivals]\nkind = \"poisson\"\nper_min = 10\n\
                    [queue]\npatience = { kind = \"exponential\", mean = 30 }\n[agents]\ncount = 5\n\
                    talk = { kind = \"exponential\", mean = 60 }\nshifts = [\
                    { start_s = 0, end_s = 30, count = 20 }, { start_s = 10, end_s = 40, count = 30 },\
                    { start_s = 35, end_s = 50, count = 40 }]\n";
        let s = Scenario::from_toml(text, "s.toml", None).unwrap();
        // 20 + 30 in [10, 30); 30 + 40 in [35, 40).
        assert_eq!(s.agents.most_on_duty(), 70);
    }

    #[test]
    fn e1_spans_are_30_channels() {
        assert_eq!(
            Trunks {
                channels: None,
                e1: Some(9)
            }
            .capacity(),
            Some(270)
        );
        assert_eq!(Trunks::default().capacity(), None);
    }
}
