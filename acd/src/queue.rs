//! Calls waiting in the ACD's queues.
//!
//! Each queue keeps one FIFO per priority level, highest priority first. The FIFOs are
//! doubly-linked lists threaded through one slab indexed by call slot, so joining at the
//! tail, leaving from anywhere (an abandon) and taking the head are all O(1) and allocate
//! nothing once the slab has grown to the peak number of live calls.
//!
//! Within a level calls are ordered by an age key (`order`). A fresh arrival has the largest
//! key and joins at the tail in O(1); a call moved in by overflow keeps its key (its age) and
//! is placed by a walk from the head — overflowed calls are old, so the walk is short; a call
//! back from ring-no-answer has the smallest key and joins at the head.

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Link {
    prev: u32,
    next: u32,
    order: i64,
    priority: u8,
}

const UNLINKED: Link = Link {
    prev: NIL,
    next: NIL,
    order: 0,
    priority: 0,
};

#[derive(Clone, Copy, Debug)]
struct Level {
    priority: u8,
    head: u32,
    tail: u32,
    len: u32,
}

#[derive(Clone, Debug, Default)]
struct CallQueue {
    /// Priority levels seen so far, highest first. Levels stay once created (there are few).
    levels: Vec<Level>,
    len: u32,
}

/// The waiting calls of every queue.
#[derive(Clone, Debug, Default)]
pub(crate) struct Waiting {
    queues: Vec<CallQueue>,
    links: Vec<Link>,
    total: usize,
}

impl Waiting {
    /// Empty queues `0..queues`.
    pub fn new(queues: usize) -> Waiting {
        Waiting {
            queues: vec![CallQueue::default(); queues],
            links: Vec::new(),
            total: 0,
        }
    }

    /// Calls waiting in queue `q`.
    pub fn len(&self, q: usize) -> usize {
        self.queues[q].len as usize
    }

    /// Calls waiting in all queues.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Puts call `slot` in queue `q` at `priority`, ordered by `order` (smaller is older).
    /// Returns its position: calls ahead of it plus one.
    pub fn insert(&mut self, q: usize, slot: u32, priority: u8, order: i64) -> u32 {
        if self.links.len() <= slot as usize {
            self.links.resize(slot as usize + 1, UNLINKED);
        }
        let queue = &mut self.queues[q];
        let li = match queue.levels.iter().position(|l| l.priority <= priority) {
            Some(i) if queue.levels[i].priority == priority => i,
            Some(i) => {
                queue.levels.insert(i, Level::new(priority));
                i
            }
            None => {
                queue.levels.push(Level::new(priority));
                queue.levels.len() - 1
            }
        };
        let ahead: u32 = queue.levels[..li].iter().map(|l| l.len).sum();
        queue.len += 1;
        self.total += 1;
        let level = &mut queue.levels[li];
        let links = &mut self.links;
        links[slot as usize] = Link {
            prev: NIL,
            next: NIL,
            order,
            priority,
        };
        let index;
        if level.len == 0 {
            level.head = slot;
            level.tail = slot;
            index = 0;
        } else if order >= links[level.tail as usize].order {
            links[level.tail as usize].next = slot;
            links[slot as usize].prev = level.tail;
            level.tail = slot;
            index = level.len;
        } else {
            // Walk from the head to the first younger call and go in front of it.
            let mut at = level.head;
            let mut i = 0;
            while links[at as usize].order <= order {
                at = links[at as usize].next;
                i += 1;
            }
            let prev = links[at as usize].prev;
            links[slot as usize].prev = prev;
            links[slot as usize].next = at;
            links[at as usize].prev = slot;
            if prev == NIL {
                level.head = slot;
            } else {
                links[prev as usize].next = slot;
            }
            index = i;
        }
        level.len += 1;
        ahead + index + 1
    }

    /// Takes call `slot` out of queue `q`. The caller guarantees it is there.
    pub fn remove(&mut self, q: usize, slot: u32) {
        let Link {
            prev,
            next,
            priority,
            ..
        } = self.links[slot as usize];
        let queue = &mut self.queues[q];
        let Some(level) = queue.levels.iter_mut().find(|l| l.priority == priority) else {
            return;
        };
        if prev == NIL {
            level.head = next;
        } else {
            self.links[prev as usize].next = next;
        }
        if next == NIL {
            level.tail = prev;
        } else {
            self.links[next as usize].prev = prev;
        }
        level.len -= 1;
        queue.len -= 1;
        self.total -= 1;
        self.links[slot as usize] = UNLINKED;
    }

    /// The call at the head of queue `q`: highest priority, oldest.
    pub fn front(&self, q: usize) -> Option<u32> {
        self.queues[q]
            .levels
            .iter()
            .find(|l| l.len > 0)
            .map(|l| l.head)
    }

    /// The calls of queue `q`, head first.
    pub fn iter(&self, q: usize) -> impl Iterator<Item = u32> + '_ {
        self.queues[q].levels.iter().flat_map(move |l| {
            let mut at = if l.len > 0 { l.head } else { NIL };
            std::iter::from_fn(move || {
                if at == NIL {
                    return None;
                }
                let this = at;
                at = self.links[at as usize].next;
                Some(this)
            })
        })
    }
}

impl Level {
    fn new(priority: u8) -> Level {
        Level {
            priority,
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents(w: &Waiting, q: usize) -> Vec<u32> {
        w.iter(q).collect()
    }

    #[test]
    fn fifo_priority_and_age_ordering() {
        let mut w = Waiting::new(2);
        assert_eq!(w.insert(0, 0, 0, 10), 1);
        assert_eq!(w.insert(0, 1, 0, 11), 2);
        assert_eq!(w.insert(0, 2, 0, 12), 3);
        // A VIP goes ahead of every normal call.
        assert_eq!(w.insert(0, 3, 255, 13), 1);
        // An overflowed call with an old age key goes between 10 and 11.
        assert_eq!(w.insert(0, 4, 0, 10), 3);
        // Back from ring-no-answer: smallest key, head of its level.
        assert_eq!(w.insert(0, 5, 0, -1), 2);
        assert_eq!(contents(&w, 0), vec![3, 5, 0, 4, 1, 2]);
        assert_eq!(w.len(0), 6);
        assert_eq!(w.front(1), None);
        w.remove(0, 0);
        w.remove(0, 2);
        w.remove(0, 3);
        assert_eq!(contents(&w, 0), vec![5, 4, 1]);
        assert_eq!(w.front(0), Some(5));
        w.remove(0, 5);
        w.remove(0, 4);
        w.remove(0, 1);
        assert_eq!(w.len(0), 0);
        assert_eq!(w.front(0), None);
        // Slots are reusable after removal.
        assert_eq!(w.insert(0, 1, 0, 20), 1);
        assert_eq!(contents(&w, 0), vec![1]);
    }
}
