//! The callback list: bounded, de-duplicated by number, with expiry and retries.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasherDefault;

use crate::config::CallbackConfig;
use crate::lists::NumberHasher;
use crate::time::Seconds;
use crate::types::{AgentId, CallbackId, QueueId};

type Build = BuildHasherDefault<NumberHasher>;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub id: CallbackId,
    pub number: u64,
    pub queue: QueueId,
    pub created: Seconds,
    pub attempts: u32,
}

impl Entry {
    /// When the entry reaches its age limit. An entry is expired from this instant on; the
    /// expiry timer is armed for it, so the two agree to the last bit.
    pub fn expires(&self, cfg: &CallbackConfig) -> Seconds {
        self.created + Seconds(cfg.expire_after_s)
    }
}

/// Pending callbacks in the order they will be dialled, and those being dialled.
///
/// The list is bounded by configuration and callbacks are rare next to inbound calls, so
/// pending entries sit in a plain deque that is scanned for expiry; numbers and dials in
/// progress are hashed for the de-duplication and result look-ups.
#[derive(Debug, Default)]
pub(crate) struct CallbackList {
    pending: VecDeque<Entry>,
    numbers: HashSet<u64, Build>,
    dialling: HashMap<u64, (Entry, AgentId), Build>,
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
        now: Seconds,
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
        now: Seconds,
        agent: AgentId,
        can_serve: impl Fn(QueueId) -> bool,
        expired: &mut Vec<Entry>,
    ) -> Option<Entry> {
        let mut i = 0;
        while i < self.pending.len() {
            let e = self.pending[i];
            if now >= e.expires(cfg) {
                self.pending.remove(i);
                self.numbers.remove(&e.number);
                expired.push(e);
                continue;
            }
            if can_serve(e.queue) {
                self.pending.remove(i);
                self.dialling.insert(e.id.0, (e, agent));
                return Some(e);
            }
            i += 1;
        }
        None
    }

    /// Drops every expired entry.
    pub fn expire(&mut self, cfg: &CallbackConfig, now: Seconds, expired: &mut Vec<Entry>) {
        let numbers = &mut self.numbers;
        self.pending.retain(|e| {
            let keep = now < e.expires(cfg);
            if !keep {
                numbers.remove(&e.number);
                expired.push(*e);
            }
            keep
        });
    }

    /// The outcome of a dial: the dialling agent, and the entry if it is finished — served
    /// (answered) or out of attempts; an unanswered entry with attempts left goes to the back
    /// of the list. `None` if `id` is not being dialled.
    pub fn finish_dial(
        &mut self,
        cfg: &CallbackConfig,
        id: CallbackId,
        answered: bool,
    ) -> Option<(AgentId, Option<Entry>)> {
        let (mut e, agent) = self.dialling.remove(&id.0)?;
        e.attempts += 1;
        if answered || e.attempts >= cfg.max_attempts {
            self.numbers.remove(&e.number);
            Some((agent, Some(e)))
        } else {
            self.pending.push_back(e);
            Some((agent, None))
        }
    }

    /// Entries waiting to be dialled (not being dialled).
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// When the oldest pending entry expires.
    pub fn next_expiry(&self, cfg: &CallbackConfig) -> Option<Seconds> {
        self.pending
            .iter()
            .map(|e| e.expires(cfg))
            .min_by(|a, b| a.0.total_cmp(&b.0))
    }
}
