//! The discrete-event kernel: a time-ordered queue of small events.
//!
//! Events are `(time, sequence, payload)`; ties in time are broken by insertion order, so
//! the same inputs always give the same order. The payload is the model's own event type
//! (an enum of a few words, copied in and out). Future events wait in a calendar, a wheel
//! of time slots in front of a binary heap, which files and finds an event by arithmetic
//! rather than by sifting. Events due at the current
//! instant (zero ring delay, zero wrap-up) skip it through a FIFO and run before anything
//! else due at that instant: a decision's immediate consequences happen before unrelated
//! events that merely share its time stamp.

use std::collections::VecDeque;

use crate::calendar::{Calendar, Entry, key_time};

/// The event queue and the simulation clock, over events of type `E`.
#[derive(Debug)]
pub struct Kernel<E> {
    queue: Calendar<E>,
    immediate: VecDeque<E>,
    seq: u64,
    now: f64,
    processed: u64,
}

impl<E: Copy> Default for Kernel<E> {
    fn default() -> Self {
        Kernel {
            queue: Calendar::default(),
            immediate: VecDeque::new(),
            seq: 0,
            now: 0.0,
            processed: 0,
        }
    }
}

impl<E: Copy> Kernel<E> {
    /// An empty kernel at time 0.
    pub fn new() -> Kernel<E> {
        Kernel::default()
    }

    /// The current simulated time.
    pub fn now(&self) -> f64 {
        self.now
    }

    /// Events taken so far.
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// Pending events.
    pub fn pending(&self) -> usize {
        self.queue.len() + self.immediate.len()
    }

    /// Schedules `ev` at `t` (never earlier than now).
    #[inline]
    pub fn schedule(&mut self, t: f64, ev: E) {
        debug_assert!(!t.is_nan(), "event scheduled at NaN");
        if t <= self.now {
            self.immediate.push_back(ev);
            return;
        }
        self.seq += 1;
        // The key packs the time's bit pattern above the sequence number: `t > now ≥ 0`
        // here, and the IEEE-754 bits of non-negative floats order like the floats (-0.0
        // cannot occur), so one integer comparison orders by time, then insertion.
        let key = (u128::from(t.to_bits()) << 64) | u128::from(self.seq);
        self.queue.push(Entry { key, value: ev });
    }

    /// Time of the next event, if any (now, when an event is due at this instant).
    #[inline]
    pub fn peek_time(&mut self) -> Option<f64> {
        if !self.immediate.is_empty() {
            return Some(self.now);
        }
        self.queue.peek().map(key_time)
    }

    /// Moves the clock to `t` for an event the model keeps outside the queue (a stream it
    /// merges itself, such as arrivals). `t` must not be before now or after the next
    /// queued event.
    #[inline]
    pub fn advance_to(&mut self, t: f64) {
        debug_assert!(t >= self.now && self.peek_time().is_none_or(|p| t <= p));
        self.now = t;
        self.processed += 1;
    }

    /// Takes the next event and advances the clock to it.
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, E)> {
        if let Some(ev) = self.immediate.pop_front() {
            self.processed += 1;
            return Some((self.now, ev));
        }
        let e = self.queue.pop()?;
        self.now = key_time(e.key);
        self.processed += 1;
        Some((self.now, e.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_order_then_insertion_order() {
        let mut k = Kernel::new();
        k.schedule(5.0, 1u32);
        k.schedule(1.0, 2);
        k.schedule(5.0, 3);
        k.schedule(3.0, 4);
        let order: Vec<u32> = std::iter::from_fn(|| k.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec![2, 4, 1, 3]);
        assert_eq!(k.now(), 5.0);
        assert_eq!(k.processed(), 4);
    }

    proptest::proptest! {
        /// Against a reference: a list sorted by (time, immediate first, insertion order).
        #[test]
        fn pops_in_time_then_insertion_order(ops in proptest::collection::vec((0u8..4, 0u32..50), 1..400)) {
            let mut k = Kernel::new();
            let mut reference: Vec<(f64, u8, u64, u32)> = Vec::new();
            let mut seq = 0u64;
            for (op, dt) in ops {
                if op == 0 {
                    if let Some((t, e)) = k.pop() {
                        reference.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
                        let want = reference.remove(0);
                        proptest::prop_assert_eq!((t, e), (want.0, want.3));
                    } else {
                        proptest::prop_assert!(reference.is_empty());
                    }
                } else {
                    seq += 1;
                    let t = k.now() + f64::from(dt);
                    k.schedule(t, seq as u32);
                    reference.push((t, u8::from(dt != 0), seq, seq as u32));
                }
            }
        }
    }

    proptest::proptest! {
        /// Times spread over many binades (milliseconds to days ahead), with pops, peeks and
        /// clock moves between events (as the model's merged arrival stream does), against a
        /// reference sorted by (time, insertion order).
        #[test]
        fn order_over_wide_time_ranges(ops in proptest::collection::vec((0u8..5, 1u32..1_000_000, -10i32..6), 1..600)) {
            let mut k = Kernel::new();
            let mut reference: Vec<(f64, u64, u32)> = Vec::new();
            let mut seq = 0u64;
            for (op, mantissa, exp) in ops {
                reference.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                match op {
                    0 => {
                        let got = k.pop();
                        let want = (!reference.is_empty()).then(|| reference.remove(0)).map(|w| (w.0, w.2));
                        proptest::prop_assert_eq!(got, want);
                    }
                    1 => {
                        proptest::prop_assert_eq!(k.peek_time(), reference.first().map(|w| w.0));
                        // Move the clock part-way to the next event, as an arrival would.
                        if let Some(next) = reference.first().map(|w| w.0) {
                            let t = k.now() + (next - k.now()) * f64::from(mantissa % 100) / 100.0;
                            k.advance_to(t);
                        }
                    }
                    _ => {
                        seq += 1;
                        let dt = f64::from(mantissa) * 2f64.powi(exp * 3 - 20);
                        let t = k.now() + dt;
                        k.schedule(t, seq as u32);
                        reference.push((t, seq, seq as u32));
                    }
                }
                proptest::prop_assert_eq!(k.pending(), reference.len());
            }
        }
    }

    #[test]
    fn never_schedules_into_the_past() {
        let mut k = Kernel::new();
        k.schedule(10.0, 0u32);
        k.pop();
        k.schedule(3.0, 1);
        assert_eq!(k.pop().unwrap(), (10.0, 1));
    }
}
