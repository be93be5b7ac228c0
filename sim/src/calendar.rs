//! The kernel's queue of future events: a calendar (a wheel of time slots) in front of a
//! binary heap.
//!
//! A call-centre model keeps a few hundred to a few thousand events pending (one end of talk
//! per busy agent, patience timers, wrap-ups) and takes them out one at a time in time
//! order. A binary heap pays about ten levels of sifting per event for that. The calendar
//! files an event by arithmetic instead: slot `⌊t / w⌋ mod n` of a wheel of `n` slots of
//! width `w` seconds, so a push is a multiply and a `Vec` push, and a pop looks at the first
//! occupied slot from the current one and takes the earliest of its few entries. Events
//! beyond the wheel's horizon (`n · w` ahead) wait in a binary heap and move onto the wheel
//! as it turns; so do all events when the wheel is empty, and the wheel then jumps to the
//! first of them rather than turning through empty slots.
//!
//! The slot width adapts to the model: every [`WINDOW`] pops it looks at how many entries a
//! pop scanned and how many empty slots it passed, halves the width when slots are crowded,
//! doubles it when they are sparse, and refiles everything (a cost of one push per pending
//! event, every few thousand pops at most). Widths are powers of two, so the slot of a time
//! is exact.
//!
//! Entries are ordered by a 128-bit key, unique per event, that the kernel builds from the
//! time's bits and an insertion sequence number. Keys must never be pushed below the time of
//! the last pop: the kernel only queues events later than its clock, and its clock is never
//! before the last event taken.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Slots on the wheel.
const SLOTS: usize = 1024;
/// Pops between two looks at the slot width.
const WINDOW: u32 = 2048;
/// Narrowest and widest slot, as powers of two of a second (about 1 µs to 12 days).
const MIN_WIDTH_LOG2: i32 = -20;
const MAX_WIDTH_LOG2: i32 = 20;

/// An entry: its ordering key and what it carries.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry<T> {
    /// Unique key; the time (seconds) is [`key_time`] of it.
    pub key: u128,
    /// The payload.
    pub value: T,
}

impl<T> Entry<T> {
    fn time(&self) -> f64 {
        key_time(self.key)
    }
}

/// The time (seconds) a key carries in its upper 64 bits.
#[inline]
pub(crate) fn key_time(key: u128) -> f64 {
    f64::from_bits((key >> 64) as u64)
}

/// A far entry, ordered by key alone (earliest first out of the max-heap).
#[derive(Clone, Copy, Debug)]
struct Far<T>(Entry<T>);

impl<T> PartialEq for Far<T> {
    fn eq(&self, o: &Self) -> bool {
        self.0.key == o.0.key
    }
}
impl<T> Eq for Far<T> {}
impl<T> PartialOrd for Far<T> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Far<T> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        Reverse(self.0.key).cmp(&Reverse(o.0.key))
    }
}

/// The earliest entry, once found: its key, slot number and place in the slot.
#[derive(Clone, Copy, Debug)]
struct Min {
    key: u128,
    bucket: u64,
    index: u32,
}

/// A monotone priority queue of entries (see the module documentation).
#[derive(Debug)]
pub(crate) struct Calendar<T> {
    slots: Vec<Vec<Entry<T>>>,
    /// Slots per second (`1 / w`, a power of two).
    per_second: f64,
    width_log2: i32,
    /// Slot number (`⌊t / w⌋`) of the current slot; every wheel entry lies in
    /// `cur .. cur + SLOTS`, every heap entry at or beyond `cur + SLOTS`.
    cur: u64,
    on_wheel: usize,
    far: BinaryHeap<Far<T>>,
    min: Option<Min>,
    /// Since the last look at the width: pops, entries scanned, empty slots passed.
    pops: u32,
    scanned: u32,
    skipped: u32,
}

impl<T: Copy> Default for Calendar<T> {
    fn default() -> Calendar<T> {
        let width_log2 = 0;
        Calendar {
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            per_second: 2f64.powi(-width_log2),
            width_log2,
            cur: 0,
            on_wheel: 0,
            far: BinaryHeap::new(),
            min: None,
            pops: 0,
            scanned: 0,
            skipped: 0,
        }
    }
}

impl<T: Copy> Calendar<T> {
    /// Entries queued.
    pub fn len(&self) -> usize {
        self.on_wheel + self.far.len()
    }

    #[inline]
    fn bucket(&self, time: f64) -> u64 {
        // Times are non-negative and far below 2^63 slots: the signed conversion is one
        // instruction, the unsigned one several.
        (time * self.per_second) as i64 as u64
    }

    /// Queues an entry. Its time must not be before the last entry popped.
    #[inline]
    pub fn push(&mut self, e: Entry<T>) {
        let b = self.bucket(e.time());
        debug_assert!(b >= self.cur, "calendar entries must not go back in time");
        if b >= self.cur + SLOTS as u64 {
            self.far.push(Far(e));
            return;
        }
        let slot = &mut self.slots[(b as usize) & (SLOTS - 1)];
        slot.push(e);
        self.on_wheel += 1;
        // A known minimum stays known: it is either still the minimum or this entry is.
        if let Some(m) = self.min
            && e.key < m.key
        {
            self.min = Some(Min {
                key: e.key,
                bucket: b,
                index: (slot.len() - 1) as u32,
            });
        }
    }

    /// The earliest entry's key, if any.
    #[inline]
    pub fn peek(&mut self) -> Option<u128> {
        self.find_min().map(|m| m.key)
    }

    /// The earliest entry, remembered since the last pop or found now.
    #[inline]
    fn find_min(&mut self) -> Option<Min> {
        if self.min.is_some() {
            return self.min;
        }
        self.search_min()
    }

    /// Finds (and remembers) the earliest entry. The wheel does not turn here: a push may
    /// still come for any slot from the current one on.
    #[inline(never)]
    fn search_min(&mut self) -> Option<Min> {
        if self.on_wheel == 0 {
            // Empty wheel: the heap's earliest entry comes first (it moves onto the wheel
            // when it is popped).
            let first = self.far.peek()?;
            return Some(Min {
                key: first.0.key,
                bucket: u64::MAX,
                index: 0,
            });
        }
        let mut b = self.cur;
        loop {
            let slot = &self.slots[(b as usize) & (SLOTS - 1)];
            if let Some(first) = slot.first() {
                let mut best = (first.key, 0);
                for (i, e) in slot.iter().enumerate().skip(1) {
                    if e.key < best.0 {
                        best = (e.key, i);
                    }
                }
                self.scanned += slot.len() as u32;
                self.skipped += (b - self.cur) as u32;
                let m = Min {
                    key: best.0,
                    bucket: b,
                    index: best.1 as u32,
                };
                self.min = Some(m);
                return Some(m);
            }
            b += 1;
        }
    }

    /// Takes the earliest entry out.
    pub fn pop(&mut self) -> Option<Entry<T>> {
        let m = self.find_min()?;
        self.min = None;
        let e = if m.bucket == u64::MAX {
            // From the heap, the wheel being empty: the wheel jumps to its slot.
            let Far(e) = self.far.pop()?;
            self.cur = self.bucket(e.time());
            e
        } else {
            self.cur = m.bucket;
            self.on_wheel -= 1;
            self.slots[(m.bucket as usize) & (SLOTS - 1)].swap_remove(m.index as usize)
        };
        self.pull_from_far();
        self.pops += 1;
        if self.pops == WINDOW {
            self.adapt();
        }
        Some(e)
    }

    /// Moves heap entries that the wheel now reaches onto it.
    #[inline]
    fn pull_from_far(&mut self) {
        let horizon = self.cur + SLOTS as u64;
        while let Some(top) = self.far.peek() {
            let b = self.bucket(top.0.time());
            if b >= horizon {
                break;
            }
            let Some(Far(e)) = self.far.pop() else { break };
            self.slots[(b as usize) & (SLOTS - 1)].push(e);
            self.on_wheel += 1;
        }
    }

    /// Halves or doubles the slot width by what the last window of pops saw.
    #[cold]
    fn adapt(&mut self) {
        let pops = f64::from(self.pops);
        let scanned = f64::from(self.scanned) / pops;
        let skipped = f64::from(self.skipped) / pops;
        self.pops = 0;
        self.scanned = 0;
        self.skipped = 0;
        let log2 = if scanned > 4.0 {
            self.width_log2 - 1
        } else if skipped > 8.0 && scanned < 2.0 {
            self.width_log2 + 1
        } else {
            return;
        };
        self.set_width(log2.clamp(MIN_WIDTH_LOG2, MAX_WIDTH_LOG2));
    }

    /// Refiles every entry for slots of `2^log2` seconds.
    fn set_width(&mut self, log2: i32) {
        if log2 == self.width_log2 {
            return;
        }
        // The current slot's start is the earliest time anything can still be pushed at.
        let start = self.cur as f64 / self.per_second;
        let mut all: Vec<Entry<T>> = Vec::with_capacity(self.on_wheel);
        for slot in &mut self.slots {
            all.append(slot);
        }
        self.width_log2 = log2;
        self.per_second = 2f64.powi(-log2);
        self.cur = self.bucket(start);
        self.on_wheel = 0;
        self.min = None;
        for e in all {
            self.push(e);
        }
        self.pull_from_far();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(t: f64, seq: u64) -> u128 {
        (u128::from(t.to_bits()) << 64) | u128::from(seq)
    }

    #[test]
    fn width_adapts_to_crowded_and_sparse_slots() {
        // 10,000 events 1 ms apart start in 1 s slots: crowded, so the width halves.
        let mut c: Calendar<u32> = Calendar::default();
        for i in 0..10_000u32 {
            let t = 1.0 + f64::from(i) * 0.001;
            c.push(Entry {
                key: key(t, u64::from(i)),
                value: i,
            });
        }
        for i in 0..10_000u32 {
            assert_eq!(c.pop().map(|e| e.value), Some(i));
        }
        assert!(c.width_log2 < 0, "width 2^{}", c.width_log2);
        // Fifty events pending, 2 s apart, in narrow slots: most slots are empty, so it
        // widens again.
        let narrow = c.width_log2;
        let mut seq = 20_000u64;
        let mut t = 100.0;
        for _ in 0..50 {
            t += 2.0;
            seq += 1;
            c.push(Entry {
                key: key(t, seq),
                value: 0,
            });
        }
        for _ in 0..6_000 {
            let popped = c.pop().expect("pending");
            t = popped.time() + 100.0;
            seq += 1;
            c.push(Entry {
                key: key(t, seq),
                value: 0,
            });
        }
        assert!(c.width_log2 > narrow, "width 2^{}", c.width_log2);
        while c.pop().is_some() {}
        assert_eq!(c.len(), 0);
    }
}
