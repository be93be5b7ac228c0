//! A run's figures per call type, per agent group and per callback attempt, for scenarios
//! that have several of them. Counts here are kept from the end of the warm-up on (the
//! model checks [`RunMetrics::counting`](crate::metrics::RunMetrics::counting)); time
//! integrals are per piece of the timeline like every [`Level`].

use std::sync::Arc;

use serde::Serialize;

use crate::grid::Grid;
use crate::level::Level;

/// Counts of one call type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct TypeCounts {
    /// Calls offered (first attempts and redials).
    pub offered: f64,
    /// Calls that reached the ACD.
    pub reached_acd: f64,
    /// Calls answered by an agent.
    pub answered: f64,
    /// Of those, answered within the SL threshold.
    pub answered_within_sl: f64,
    /// Calls abandoned after reaching the ACD (queue, ring, balk).
    pub abandoned: f64,
    /// Of those, abandoned within the SL threshold.
    pub abandoned_within_sl: f64,
    /// Total wait of answered calls, seconds.
    pub wait_sum: f64,
}

impl TypeCounts {
    /// Adds another run's counts.
    pub fn add(&mut self, o: &TypeCounts) {
        self.offered += o.offered;
        self.reached_acd += o.reached_acd;
        self.answered += o.answered;
        self.answered_within_sl += o.answered_within_sl;
        self.abandoned += o.abandoned;
        self.abandoned_within_sl += o.abandoned_within_sl;
        self.wait_sum += o.wait_sum;
    }
}

/// One agent group's levels and counts.
#[derive(Clone, Debug)]
pub struct GroupLevels {
    /// Agents of the group talking or in after-call work (with its second moment, for the
    /// variance of the traffic the group carries).
    pub busy: Level<true>,
    /// Agents of the group logged in.
    pub staffed: Level,
    /// Calls the group's agents answered.
    pub answered: f64,
}

/// Attempts and answers of callback dials by attempt number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct AttemptCounts {
    /// Attempts placed.
    pub attempts: f64,
    /// Of those, answered by the customer.
    pub answered: f64,
}

/// Per type, per group and per attempt figures of one run.
#[derive(Clone, Debug, Default)]
pub struct Breakdown {
    /// Per call type (empty when the scenario declares none).
    pub types: Vec<TypeCounts>,
    /// Per agent group (empty when the scenario declares none).
    pub groups: Vec<GroupLevels>,
    /// Per overflow rule, in the scenario's order: calls it moved.
    pub overflows: Vec<f64>,
    /// Callback dials by attempt number (index 0: first attempts).
    pub callback_attempts: Vec<AttemptCounts>,
}

impl Breakdown {
    /// Empty figures for `types` call types, `groups` agent groups and `overflows` rules.
    pub fn new(grid: &Arc<Grid>, types: usize, groups: usize, overflows: usize) -> Breakdown {
        Breakdown {
            types: vec![TypeCounts::default(); types],
            groups: (0..groups)
                .map(|_| GroupLevels {
                    busy: Level::new(grid, f64::INFINITY),
                    staffed: Level::new(grid, f64::INFINITY),
                    answered: 0.0,
                })
                .collect(),
            overflows: vec![0.0; overflows],
            callback_attempts: Vec::new(),
        }
    }

    /// Integrates the group levels up to `t`.
    pub fn advance(&mut self, t: f64) {
        for g in &mut self.groups {
            g.busy.advance(t);
            g.staffed.advance(t);
        }
    }

    /// The counts of attempt number `n` (1-based).
    pub fn attempt(&mut self, n: u32) -> &mut AttemptCounts {
        let i = n.max(1) as usize - 1;
        if self.callback_attempts.len() <= i {
            self.callback_attempts
                .resize(i + 1, AttemptCounts::default());
        }
        &mut self.callback_attempts[i]
    }
}
