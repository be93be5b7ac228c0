//! The callback list: bounded, de-duplicated by number, with expiry and retries.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::config::CallbackConfig;
use crate::types::{CallbackId, QueueId, Time};

#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub id: CallbackId,
    pub number: u64,
    pub queue: QueueId,
    pub created: Time,
    pub attempts: u32,
}

/// Pending callbacks in the order they will be dialled.
#[derive(Debug, Default)]
pub(crate) struct CallbackList {
    pending: VecDeque<Entry>,
    numbers: HashSet<u64>,
    dialling: HashMap<CallbackId, Entry>,
    next_id: u64,
}

/// Why an offer was not added.
pub(crate) enum AddOutcome {
    Added,
    AlreadyListed,
    Full,
}

impl CallbackList {
    pub fn len(&self) -> usize {
        self.pending.len() + self.dialling.len()
    }

    pub fn add(
        &mut self,
        cfg: &CallbackConfig,
        number: u64,
        queue: QueueId,
        now: Time,
    ) -> AddOutcome {
        if self.numbers.contains(&number) {
            return AddOutcome::AlreadyListed;
        }
        if self.len() >= cfg.max_entries {
            return AddOutcome::Full;
        }
        self.next_id += 1;
        self.numbers.insert(number);
        self.pending.push_back(Entry {
            id: CallbackId(self.next_id),
            number,
            queue,
            created: now,
            attempts: 0,
        });
        AddOutcome::Added
    }

    /// Removes and returns expired entries from the front, then the first entry a member of
    /// `queues` can serve.
    pub fn next_for(
        &mut self,
        cfg: &CallbackConfig,
        now: Time,
        can_serve: impl Fn(QueueId) -> bool,
        expired: &mut Vec<Entry>,
    ) -> Option<Entry> {
        let mut i = 0;
        while i < self.pending.len() {
            let e = self.pending[i];
            if now - e.created >= cfg.expire_after_s {
                self.pending.remove(i);
                self.numbers.remove(&e.number);
                expired.push(e);
                continue;
            }
            if can_serve(e.queue) {
                self.pending.remove(i);
                self.dialling.insert(e.id, e);
                return Some(e);
            }
            i += 1;
        }
        None
    }

    /// Drops every expired entry.
    pub fn expire(&mut self, cfg: &CallbackConfig, now: Time, expired: &mut Vec<Entry>) {
        let numbers = &mut self.numbers;
        self.pending.retain(|e| {
            let keep = now - e.created < cfg.expire_after_s;
            if !keep {
                numbers.remove(&e.number);
                expired.push(*e);
            }
            keep
        });
    }

    /// The outcome of a dial. Returns the entry if it is finished: served (answered) or out
    /// of attempts; an unanswered entry with attempts left goes to the back of the list.
    pub fn finish_dial(
        &mut self,
        cfg: &CallbackConfig,
        id: CallbackId,
        answered: bool,
    ) -> Option<(Entry, bool)> {
        let mut e = self.dialling.remove(&id)?;
        e.attempts += 1;
        if answered || e.attempts >= cfg.max_attempts {
            self.numbers.remove(&e.number);
            Some((e, answered))
        } else {
            self.pending.push_back(e);
            None
        }
    }

    pub fn is_dialling(&self, id: CallbackId) -> bool {
        self.dialling.contains_key(&id)
    }
}
