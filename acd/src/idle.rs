//! Idle agents, per queue, in the shapes the distribution policies need.
//!
//! An agent with skills for several queues has one *membership* per skill. While the agent is
//! idle each membership sits in its queue's structures:
//!
//! - always, in a FIFO per skill level (highest level first), ordered by idle-since: the
//!   longest-idle agent is the oldest front among the levels and the skills-based choice is
//!   the front of the highest non-empty level, both O(levels);
//! - for round-robin, in an ordered set of agent ids (next id at or after the pointer);
//! - for fewest-calls, in an ordered set keyed by (calls handled, idle-since);
//! - for random, in a dense vector that supports O(1) swap-removal.
//!
//! The FIFOs are doubly-linked lists threaded through the memberships, so joining (at the
//! back) and leaving (from anywhere) are O(1) per skill and the front is always live. Only
//! the extra structure of the configured policy is kept.

use std::collections::BTreeSet;

use crate::config::Policy;

const NIL: u32 = u32::MAX;

impl Policy {
    /// Whether the policy needs a structure beyond the per-level FIFOs.
    fn needs_index(self) -> bool {
        matches!(
            self,
            Policy::RoundRobin | Policy::FewestCalls | Policy::Random
        )
    }
}

#[derive(Clone, Copy, Debug)]
struct Member {
    agent: u32,
    queue: u32,
    /// Index of the skill level in the queue's `levels`.
    level: u32,
    prev: u32,
    next: u32,
    /// Idle-since key while idle (larger is more recent).
    key: u64,
    /// Calls handled when the agent became idle (the fewest-calls key).
    calls: u64,
    /// Index in the queue's `any` vector (random policy).
    pos: u32,
}

#[derive(Clone, Debug)]
struct Level {
    skill: u8,
    /// Oldest and newest idle memberships at this level (NIL when empty).
    head: u32,
    tail: u32,
}

#[derive(Clone, Debug, Default)]
struct QueueIdle {
    /// Skill levels of this queue's agents, highest first; fixed after construction.
    levels: Vec<Level>,
    len: u32,
    by_id: BTreeSet<u32>,
    by_calls: BTreeSet<(u64, u64, u32)>,
    /// Agents (as membership indices) for the random policy.
    any: Vec<u32>,
}

/// The idle agents of every queue.
#[derive(Clone, Debug)]
pub(crate) struct IdlePools {
    policy: Policy,
    queues: Vec<QueueIdle>,
    members: Vec<Member>,
    /// Each agent's memberships: `members[spans[a].0..spans[a].1]`.
    spans: Vec<(u32, u32)>,
    count: usize,
}

impl IdlePools {
    /// Pools for `queues` queues and agents with the given skills `(queue, level)`.
    pub fn new(policy: Policy, queues: usize, skills: &[Vec<(u32, u8)>]) -> IdlePools {
        let mut qs = vec![QueueIdle::default(); queues];
        for agent in skills {
            for &(q, skill) in agent {
                let levels = &mut qs[q as usize].levels;
                if !levels.iter().any(|l| l.skill == skill) {
                    levels.push(Level {
                        skill,
                        head: NIL,
                        tail: NIL,
                    });
                }
            }
        }
        for q in &mut qs {
            q.levels.sort_by_key(|l| std::cmp::Reverse(l.skill));
        }
        let mut members = Vec::new();
        let mut spans = Vec::with_capacity(skills.len());
        for (a, agent) in skills.iter().enumerate() {
            let start = members.len() as u32;
            for &(q, skill) in agent {
                let level = qs[q as usize]
                    .levels
                    .iter()
                    .position(|l| l.skill == skill)
                    .unwrap_or(0) as u32;
                members.push(Member {
                    agent: a as u32,
                    queue: q,
                    level,
                    prev: NIL,
                    next: NIL,
                    key: 0,
                    calls: 0,
                    pos: 0,
                });
            }
            spans.push((start, members.len() as u32));
        }
        IdlePools {
            policy,
            queues: qs,
            members,
            spans,
            count: 0,
        }
    }

    /// Idle agents in all queues.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Idle agents who serve queue `q`.
    pub fn len(&self, q: usize) -> usize {
        self.queues[q].len as usize
    }

    /// Agent `a` became idle with idle-since `key` (keys increase from 1) and `calls` handled.
    pub fn enter(&mut self, a: u32, key: u64, calls: u64) {
        self.count += 1;
        let (start, end) = self.spans[a as usize];
        // Most agents have one skill: no loop.
        if end == start + 1 {
            self.link(start, a, key, calls);
        } else {
            for m in start..end {
                self.link(m, a, key, calls);
            }
        }
    }

    /// Puts membership `m` of agent `a` at the back of its level's FIFO.
    #[inline(always)]
    fn link(&mut self, m: u32, a: u32, key: u64, calls: u64) {
        let member = &mut self.members[m as usize];
        member.calls = calls;
        member.key = key;
        member.next = NIL;
        let q = member.queue as usize;
        let queue = &mut self.queues[q];
        queue.len += 1;
        let level = &mut queue.levels[member.level as usize];
        let old_tail = level.tail;
        member.prev = old_tail;
        level.tail = m;
        if old_tail == NIL {
            level.head = m;
        } else {
            self.members[old_tail as usize].next = m;
        }
        if self.policy.needs_index() {
            self.index(m, q, a, key, calls);
        }
    }

    /// Agent `a`, idle, stopped being idle.
    pub fn leave(&mut self, a: u32) {
        self.count -= 1;
        let (start, end) = self.spans[a as usize];
        if end == start + 1 {
            self.unlink(start, a);
        } else {
            for m in start..end {
                self.unlink(m, a);
            }
        }
    }

    /// Takes membership `m` of agent `a` out of its level's FIFO.
    #[inline(always)]
    fn unlink(&mut self, m: u32, a: u32) {
        let Member {
            queue,
            level,
            prev,
            next,
            ..
        } = self.members[m as usize];
        let queue = &mut self.queues[queue as usize];
        queue.len -= 1;
        let level = &mut queue.levels[level as usize];
        if prev == NIL {
            level.head = next;
        } else {
            self.members[prev as usize].next = next;
        }
        if next == NIL {
            level.tail = prev;
        } else {
            self.members[next as usize].prev = prev;
        }
        if self.policy.needs_index() {
            self.unindex(self.members[m as usize], a);
        }
    }

    /// Adds membership `m` of agent `a` to the policy's extra structure.
    #[cold]
    #[inline(never)]
    fn index(&mut self, m: u32, q: usize, a: u32, key: u64, calls: u64) {
        let queue = &mut self.queues[q];
        match self.policy {
            Policy::RoundRobin => {
                queue.by_id.insert(a);
            }
            Policy::FewestCalls => {
                queue.by_calls.insert((calls, key, a));
            }
            Policy::Random => {
                self.members[m as usize].pos = queue.any.len() as u32;
                queue.any.push(m);
            }
            Policy::LongestIdle | Policy::SkillsBased => {}
        }
    }

    /// Removes a membership of agent `a` from the policy's extra structure.
    #[cold]
    #[inline(never)]
    fn unindex(&mut self, member: Member, a: u32) {
        let queue = &mut self.queues[member.queue as usize];
        match self.policy {
            Policy::RoundRobin => {
                queue.by_id.remove(&a);
            }
            Policy::FewestCalls => {
                queue.by_calls.remove(&(member.calls, member.key, a));
            }
            Policy::Random => {
                queue.any.swap_remove(member.pos as usize);
                if let Some(&moved) = queue.any.get(member.pos as usize) {
                    self.members[moved as usize].pos = member.pos;
                }
            }
            Policy::LongestIdle | Policy::SkillsBased => {}
        }
    }

    /// The longest-idle agent serving queue `q`.
    pub fn longest_idle(&self, q: usize) -> Option<u32> {
        let mut best: Option<(u64, u32)> = None;
        for l in &self.queues[q].levels {
            if l.head != NIL {
                let m = &self.members[l.head as usize];
                if best.is_none_or(|b| m.key < b.0) {
                    best = Some((m.key, m.agent));
                }
            }
        }
        best.map(|(_, a)| a)
    }

    /// The idle agent serving queue `q` with the highest skill level, longest idle first.
    pub fn best_skilled(&self, q: usize) -> Option<u32> {
        self.queues[q]
            .levels
            .iter()
            .find(|l| l.head != NIL)
            .map(|l| self.members[l.head as usize].agent)
    }

    /// The first idle agent serving `q` whose id is at or after `from`, wrapping around
    /// (round-robin policy only).
    pub fn next_by_id(&self, q: usize, from: u32) -> Option<u32> {
        let set = &self.queues[q].by_id;
        set.range(from..).next().or_else(|| set.first()).copied()
    }

    /// The idle agent serving `q` with the fewest calls, longest idle first (fewest-calls
    /// policy only).
    pub fn fewest_calls(&self, q: usize) -> Option<u32> {
        self.queues[q].by_calls.first().map(|&(_, _, a)| a)
    }

    /// The `r`-th idle agent serving `q` modulo their number (random policy only).
    pub fn nth_any(&self, q: usize, r: u64) -> Option<u32> {
        let any = &self.queues[q].any;
        if any.is_empty() {
            return None;
        }
        let m = any[(r % any.len() as u64) as usize];
        Some(self.members[m as usize].agent)
    }

    /// Every idle agent (of any queue), longest idle first.
    pub fn all_longest_first(&self) -> Vec<u32> {
        let mut v: Vec<(u64, u32)> = Vec::with_capacity(self.count);
        for (a, &(start, end)) in self.spans.iter().enumerate() {
            if start < end && self.is_linked(start) {
                v.push((self.members[start as usize].key, a as u32));
            }
        }
        v.sort_unstable();
        v.into_iter().map(|(_, a)| a).collect()
    }

    /// Whether membership `m` is in its level's list (its agent is idle).
    fn is_linked(&self, m: u32) -> bool {
        let member = &self.members[m as usize];
        member.prev != NIL
            || self.queues[member.queue as usize].levels[member.level as usize].head == m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_follow_each_policy() {
        // Agents 0..4 on queue 0 with levels 1, 3, 3, 2; agent 1 also on queue 1.
        let skills = vec![
            vec![(0, 1)],
            vec![(0, 3), (1, 1)],
            vec![(0, 3)],
            vec![(0, 2)],
        ];
        let mut p = IdlePools::new(Policy::LongestIdle, 2, &skills);
        p.enter(2, 1, 0);
        p.enter(0, 2, 0);
        p.enter(1, 3, 0);
        p.enter(3, 4, 0);
        assert_eq!(p.count(), 4);
        assert_eq!(p.longest_idle(0), Some(2));
        assert_eq!(p.best_skilled(0), Some(2));
        assert_eq!(p.longest_idle(1), Some(1));
        p.leave(2);
        assert_eq!(p.longest_idle(0), Some(0));
        assert_eq!(p.best_skilled(0), Some(1));
        p.leave(1);
        assert_eq!(p.longest_idle(1), None);
        assert_eq!(p.len(1), 0);
        assert_eq!(p.best_skilled(0), Some(3));
        assert_eq!(p.all_longest_first(), vec![0, 3]);
        // Back again: at the back of the order.
        p.enter(2, 5, 0);
        p.leave(0);
        assert_eq!(p.longest_idle(0), Some(3));
        assert_eq!(p.all_longest_first(), vec![3, 2]);

        let mut r = IdlePools::new(Policy::RoundRobin, 2, &skills);
        for a in [3, 1, 0] {
            r.enter(a, u64::from(a) + 1, 0);
        }
        assert_eq!(r.next_by_id(0, 2), Some(3));
        assert_eq!(r.next_by_id(0, 4), Some(0));

        let mut f = IdlePools::new(Policy::FewestCalls, 2, &skills);
        f.enter(0, 1, 5);
        f.enter(1, 2, 2);
        f.enter(2, 3, 2);
        assert_eq!(f.fewest_calls(0), Some(1));
        f.leave(1);
        assert_eq!(f.fewest_calls(0), Some(2));

        let mut x = IdlePools::new(Policy::Random, 2, &skills);
        for a in 0..4 {
            x.enter(a, u64::from(a) + 1, 0);
        }
        x.leave(0);
        let mut seen: Vec<u32> = (0..3).filter_map(|r| x.nth_any(0, r)).collect();
        seen.sort();
        assert_eq!(seen, vec![1, 2, 3]);
    }
}
