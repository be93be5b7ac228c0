//! What callers hear while they wait, and how they react: the delay announcement, balking
//! and the patience that follows it.

use serde::{Deserialize, Serialize};

use super::bounds::{MAX_LIST, MAX_SPAN_S, Problem, probability, within};
use crate::dist::Dist;

/// What the announcement tells the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tells {
    /// The caller's position in the queue (1 = next).
    Position,
    /// The expected wait in seconds: position × the ACD's running handle time ÷ agents
    /// logged in for the queue.
    ExpectedWait,
}

/// The delay announcement: played when a caller has waited `after_s` in the queue (0: as
/// the call joins it). Callers may balk (hang up at once) on what it tells, and those who
/// stay draw their patience afresh.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Announcement {
    /// When it plays, after joining the queue.
    #[serde(default)]
    pub after_s: f64,
    /// What it tells.
    #[serde(default = "default_tells")]
    pub tells: Tells,
    /// Balking: `[at_least, probability]` steps; a caller told at least `at_least` hangs up
    /// with the `probability` of the highest step that applies.
    #[serde(default)]
    pub balk: Vec<[f64; 2]>,
    /// Patience from the announcement on (none: the caller's patience runs on unchanged).
    #[serde(default)]
    pub patience: Option<Dist>,
}

fn default_tells() -> Tells {
    Tells::Position
}

impl Announcement {
    /// The balking probability of a caller told `told`.
    pub fn balk_probability(&self, told: f64) -> f64 {
        self.balk
            .iter()
            .filter(|s| told >= s[0])
            .map(|s| s[1])
            .next_back()
            .unwrap_or(0.0)
    }

    pub(crate) fn check(&self) -> Result<(), Problem> {
        within(
            "queue.announcement.after_s",
            self.after_s,
            0.0,
            MAX_SPAN_S,
            " s",
        )?;
        if self.balk.len() > MAX_LIST {
            return Err(Problem(
                "queue.announcement.balk".into(),
                format!("at most {MAX_LIST} steps"),
            ));
        }
        for (i, s) in self.balk.iter().enumerate() {
            within(
                &format!("queue.announcement.balk[{i}]"),
                s[0],
                0.0,
                MAX_SPAN_S,
                "",
            )?;
            probability(&format!("queue.announcement.balk[{i}]"), s[1])?;
            if i > 0 && !(s[0] > self.balk[i - 1][0]) {
                return Err(Problem(
                    "queue.announcement.balk".into(),
                    "steps must have increasing thresholds".into(),
                ));
            }
        }
        if let Some(d) = &self.patience {
            d.validate("queue.announcement.patience")
                .map_err(|e| Problem("queue.announcement.patience".into(), e.to_string()))?;
        }
        Ok(())
    }
}
