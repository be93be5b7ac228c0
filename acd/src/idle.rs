//! Idle agents in the order they became idle.
//!
//! Agents leave the idle state far more often from the front (the longest-idle agent takes
//! the call) than from anywhere else, so the list is a deque with lazy deletion: leaving only
//! lowers a count, and an entry is stale once its agent is no longer idle under the same key.
//! Stale entries are dropped from the front as they are met, and the whole list is compacted
//! when they outnumber live ones. Taking the longest-idle agent is O(1) amortised, against
//! O(log n) for an ordered set, and the walk order is the same.

use std::collections::VecDeque;

#[derive(Debug, Default)]
pub(crate) struct IdleList {
    entries: VecDeque<(u64, u32)>,
    live: usize,
}

impl IdleList {
    /// Live entries.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Agent `a` became idle under `key` (keys increase).
    pub fn push(&mut self, key: u64, a: u32) {
        self.entries.push_back((key, a));
        self.live += 1;
    }

    /// An idle agent left the idle state (its entry becomes stale).
    pub fn left(&mut self) {
        self.live -= 1;
    }

    /// Drops stale entries at the front; compacts the list when stale entries dominate.
    /// `is_live(agent, key)` tells a live entry.
    pub fn drop_stale_front(&mut self, is_live: impl Fn(u32, u64) -> bool) {
        while let Some(&(key, a)) = self.entries.front() {
            if is_live(a, key) {
                break;
            }
            self.entries.pop_front();
        }
        if self.entries.len() > 2 * self.live + 64 {
            self.entries.retain(|&(key, a)| is_live(a, key));
        }
    }

    /// The front entry's agent (live after [`drop_stale_front`](Self::drop_stale_front)).
    pub fn front(&self) -> Option<u32> {
        self.entries.front().map(|&(_, a)| a)
    }

    /// Live agents, longest idle first.
    pub fn live<'a>(
        &'a self,
        is_live: impl Fn(u32, u64) -> bool + 'a,
    ) -> impl Iterator<Item = u32> + 'a {
        self.entries
            .iter()
            .filter(move |&&(key, a)| is_live(a, key))
            .map(|&(_, a)| a)
    }

    /// Live agents given each agent's current idle key (0: not idle).
    pub fn iter<'a>(&'a self, keys: &'a [u64]) -> impl Iterator<Item = u32> + 'a {
        self.live(move |a, key| keys[a as usize] == key)
    }
}
