//! Scenario files (TOML): the schema, the loader with line-numbered errors, and the
//! built-in scenarios. `docs/scenarios.md` documents every key.

// Checks are written `!(x > 0.0)` on purpose: a NaN fails them too.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use std::path::Path;

use serde::{Deserialize, Serialize};
use tandem_acd::Policy;

use crate::SimError;
use crate::arrivals::ArrivalSpec;
use crate::dist::Dist;

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

/// The IVR front end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ivr {
    /// IVR ports.
    pub ports: u32,
    /// Time a caller spends in the IVR.
    pub time: Dist,
    /// Fraction of callers who finish in self-service and hang up.
    #[serde(default)]
    pub self_service: f64,
    /// A caller who gets no IVR port hears nothing and hangs up after this long.
    #[serde(default = "default_no_answer")]
    pub no_answer_hangup_s: f64,
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
}

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
}

impl Agents {
    /// The most agents on duty at once: `count` outside the windows, and the sum of the
    /// overlapping windows inside them (the sum only rises where a window starts).
    pub fn most_on_duty(&self) -> u32 {
        self.shifts
            .iter()
            .map(|at| {
                self.shifts
                    .iter()
                    .filter(|s| s.start_s <= at.start_s && at.start_s < s.end_s)
                    .map(|s| s.count)
                    .fold(0u32, u32::saturating_add)
            })
            .chain([self.count])
            .max()
            .unwrap_or(0)
    }
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

/// An invalid value: the dotted key and what is wrong.
struct Problem(String, String);

impl Scenario {
    /// Parses a scenario from TOML. `origin` names the file in errors; relative paths inside
    /// it (a profile CSV) are resolved against `base_dir`.
    pub fn from_toml(
        text: &str,
        origin: &str,
        base_dir: Option<&Path>,
    ) -> Result<Scenario, SimError> {
        let mut s: Scenario = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|sp| line_of_offset(text, sp.start));
            SimError::Parse {
                origin: origin.to_string(),
                line,
                message: e.message().to_string(),
            }
        })?;
        s.arrivals.resolve(base_dir).map_err(|e| SimError::Parse {
            origin: origin.to_string(),
            line: find_key_line(text, "arrivals", "kind"),
            message: e.to_string(),
        })?;
        if let Err(Problem(key, message)) = s.check() {
            let (table, leaf) = key.rsplit_once('.').unwrap_or(("", &key));
            return Err(SimError::Parse {
                origin: origin.to_string(),
                line: find_key_line(text, table, leaf),
                message: format!("key `{key}`: {message}"),
            });
        }
        Ok(s)
    }

    /// Reads a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, SimError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SimError::Io(format!("{}: {e}", path.display())))?;
        Self::from_toml(&text, &path.display().to_string(), path.parent())
    }

    /// Checks a scenario changed after loading (command-line overrides), naming the key.
    pub fn validate(&self) -> Result<(), SimError> {
        self.check()
            .map_err(|Problem(key, message)| SimError::Invalid(format!("`{key}`: {message}")))
    }

    /// A built-in scenario by name.
    pub fn built_in(name: &str) -> Result<Scenario, SimError> {
        let (_, text) = BUILT_IN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            SimError::Invalid(format!(
                "no built-in scenario `{name}` (see `tandem sim --list`)"
            ))
        })?;
        Self::from_toml(text, &format!("built-in:{name}"), None)
    }

    fn check(&self) -> Result<(), Problem> {
        let p = |k: &str, m: String| Err(Problem(k.into(), m));
        let dist = |k: &str, d: &Dist| d.validate(k).map_err(|e| Problem(k.into(), e.to_string()));
        if !(self.duration_s.is_finite() && self.duration_s > 0.0) {
            return p(
                "duration_s",
                format!("must be > 0, got {}", self.duration_s),
            );
        }
        if !(self.interval_s > 0.0) {
            return p("interval_s", "must be > 0".into());
        }
        if self.duration_s / self.interval_s > 100_000.0 {
            return p(
                "interval_s",
                "more than 100,000 intervals; use a wider interval".into(),
            );
        }
        if !(self.sl_threshold_s >= 0.0) {
            return p("sl_threshold_s", "must be ≥ 0".into());
        }
        if !(self.sl_target > 0.0 && self.sl_target <= 1.0) {
            return p("sl_target", "must be in (0, 1]".into());
        }
        if crate::report::CI_LEVELS
            .iter()
            .all(|l| (l - self.ci_level).abs() > 1e-9)
        {
            return p(
                "ci_level",
                format!("must be 0.90, 0.95 or 0.99, got {}", self.ci_level),
            );
        }
        if self.replications == 0 || self.replications > 10_000 {
            return p("replications", "must be 1..=10000".into());
        }
        if let Some(r) = &self.redial {
            if !(0.0..=1.0).contains(&r.probability) {
                return p("redial.probability", "must be in [0, 1]".into());
            }
            dist("redial.delay", &r.delay)?;
            if r.max_attempts == 0 {
                return p("redial.max_attempts", "must be ≥ 1".into());
            }
        }
        if self.trunks.channels.is_some() && self.trunks.e1.is_some() {
            return p(
                "trunks.e1",
                "give either `channels` or `e1`, not both".into(),
            );
        }
        if self.trunks.capacity() == Some(0) {
            return p(
                "trunks.channels",
                "must be > 0 (omit [trunks] for unlimited)".into(),
            );
        }
        if let Some(ivr) = &self.ivr {
            if ivr.ports == 0 {
                return p("ivr.ports", "must be > 0 (omit [ivr] for no IVR)".into());
            }
            dist("ivr.time", &ivr.time)?;
            if !(0.0..=1.0).contains(&ivr.self_service) {
                return p("ivr.self_service", "must be in [0, 1]".into());
            }
            if !(ivr.no_answer_hangup_s >= 0.0) {
                return p("ivr.no_answer_hangup_s", "must be ≥ 0".into());
            }
        }
        dist("queue.patience", &self.queue.patience)?;
        if self.queue.voicemail_after_s.is_some_and(|v| !(v > 0.0)) {
            return p("queue.voicemail_after_s", "must be > 0".into());
        }
        if self.agents.count == 0 && self.agents.shifts.is_empty() {
            return p("agents.count", "must be > 0".into());
        }
        if self.agents.count > 100_000 {
            return p("agents.count", "at most 100,000".into());
        }
        dist("agents.talk", &self.agents.talk)?;
        dist("agents.acw", &self.agents.acw)?;
        dist("agents.ring", &self.agents.ring)?;
        if self.agents.ring_timeout_s.is_some_and(|v| !(v > 0.0)) {
            return p("agents.ring_timeout_s", "must be > 0".into());
        }
        for s in &self.agents.shifts {
            if !(s.end_s > s.start_s) || s.count > 100_000 {
                return p(
                    "agents.shifts",
                    "each shift needs end_s > start_s and count ≤ 100,000".into(),
                );
            }
        }
        if self.agents.shifts.len() > 10_000 || self.agents.most_on_duty() > 100_000 {
            return p(
                "agents.shifts",
                "at most 10,000 windows and 100,000 agents on duty at once".into(),
            );
        }
        if let Some(cb) = &self.callback {
            if cb.max_entries == 0 {
                return p("callback.max_entries", "must be > 0".into());
            }
            if cb.max_attempts == 0 {
                return p("callback.max_attempts", "must be ≥ 1".into());
            }
            if !(0.0..=1.0).contains(&cb.answer_probability) {
                return p("callback.answer_probability", "must be in [0, 1]".into());
            }
            dist("callback.dial_time", &cb.dial_time)?;
        }
        if !(0.0..=1.0).contains(&self.supervisor_fraction) {
            return p("supervisor_fraction", "must be in [0, 1]".into());
        }
        let c = &self.callers;
        if c.population == 0 {
            return p("callers.population", "must be > 0".into());
        }
        if !(0.0..=1.0).contains(&c.vip_fraction)
            || !(0.0..=1.0).contains(&c.blacklist_fraction)
            || c.vip_fraction + c.blacklist_fraction > 1.0
        {
            return p(
                "callers.vip_fraction",
                "fractions must be in [0, 1] and sum to at most 1".into(),
            );
        }
        Ok(())
    }
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `leaf = …` appears inside `[table]` (or at top level for an empty table),
/// also matching inline `table.leaf = …` and `leaf` inside `[[table]]` arrays.
fn find_key_line(text: &str, table: &str, leaf: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(h) = line.strip_prefix('[') {
            current = h
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim()
                .to_string();
            continue;
        }
        let Some((k, _)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim();
        let full = if current.is_empty() {
            k.to_string()
        } else {
            format!("{current}.{k}")
        };
        let want = if table.is_empty() {
            leaf.to_string()
        } else {
            format!("{table}.{leaf}")
        };
        if full == want || (current == table && k == leaf) {
            return Some(i + 1);
        }
    }
    None
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
    fn errors_name_the_key_and_line() {
        let text = "name = \"x\"\nduration_s = 60\n[arrivals]\nkind = \"poisson\"\nper_min = 10\n[queue]\npatience = { kind = \"exponential\", mean = 30 }\n[agents]\ncount = 0\ntalk = { kind = \"exponential\", mean = 60 }\n";
        let e = Scenario::from_toml(text, "s.toml", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.toml:9") && e.contains("agents.count"), "{e}");

        let bad_key = text.replace("count = 0", "count = 5\ncolour = 3");
        let e = Scenario::from_toml(&bad_key, "s.toml", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.toml:10") && e.contains("colour"), "{e}");

        let bad_type = text.replace("count = 0", "count = \"many\"");
        let e = Scenario::from_toml(&bad_type, "s.toml", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.toml:9"), "{e}");
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
