//! A simulated network's two halves, for the in-memory engine and for anything that wants
//! the same network elsewhere (drive mode wraps either of its transports in them):
//! [`Impairment`] decides each datagram's fate (lost, or when it arrives) from a seeded
//! generator, and a [`DelayLine`] holds datagrams until they arrive, in arrival order.
//!
//! ```
//! use tandem_engine::Micros;
//! use tandem_engine::netsim::{DelayLine, Impairment, NetworkConditions};
//!
//! let lossless = NetworkConditions {
//!     delay: Micros::from_ms(5),
//!     ..NetworkConditions::default()
//! };
//! let mut net = Impairment::new(lossless, 1);
//! let mut line = DelayLine::default();
//! for (sent, what) in [(0, "a"), (1_000, "b")] {
//!     let now = Micros::from_us(sent);
//!     if let Some(at) = net.arrival(now) {
//!         line.push(at, what);
//!     }
//! }
//! assert_eq!(line.pop_due(Micros::from_ms(5)), Some((Micros::from_ms(5), "a")));
//! assert_eq!(line.pop_due(Micros::from_ms(5)), None, "b arrives at 6 ms");
//! assert_eq!(net.lost(), 0);
//! ```

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::time::Micros;

/// Impairments of a simulated link, applied independently to every datagram.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetworkConditions {
    /// Fixed one-way delay.
    pub delay: Micros,
    /// Extra delay drawn uniformly from `0..=jitter`.
    pub jitter: Micros,
    /// Probability a datagram is lost.
    pub loss: f64,
}

impl NetworkConditions {
    /// No delay, no jitter, no loss.
    pub const IDEAL: NetworkConditions = NetworkConditions {
        delay: Micros::ZERO,
        jitter: Micros::ZERO,
        loss: 0.0,
    };

    /// Whether these conditions change nothing.
    pub fn is_ideal(&self) -> bool {
        *self == NetworkConditions::IDEAL
    }
}

impl Default for NetworkConditions {
    /// 1 ms of delay, no jitter, no loss.
    fn default() -> Self {
        NetworkConditions {
            delay: Micros::from_ms(1),
            jitter: Micros::ZERO,
            loss: 0.0,
        }
    }
}

/// Each datagram's fate under [`NetworkConditions`]: the same seed and the same sequence
/// of calls give the same fates.
#[derive(Clone, Debug)]
pub struct Impairment {
    conditions: NetworkConditions,
    rng: SmallRng,
    lost: u64,
}

impl Impairment {
    /// Fates under `conditions`, drawn from a generator seeded by `seed`.
    pub fn new(conditions: NetworkConditions, seed: u64) -> Impairment {
        Impairment {
            conditions,
            rng: SmallRng::seed_from_u64(seed.rotate_left(17) ^ 0x6E65_7477_6F72_6B21),
            lost: 0,
        }
    }

    /// The conditions.
    pub fn conditions(&self) -> NetworkConditions {
        self.conditions
    }

    /// Changes the conditions for datagrams sent from now on.
    pub fn set_conditions(&mut self, conditions: NetworkConditions) {
        self.conditions = conditions;
    }

    /// When a datagram sent at `now` arrives, or `None` when it is lost. Nothing is drawn
    /// for an impairment the conditions do not have.
    pub fn arrival(&mut self, now: Micros) -> Option<Micros> {
        let c = self.conditions;
        if c.loss > 0.0 && self.rng.random::<f64>() < c.loss {
            self.lost += 1;
            return None;
        }
        let jitter = if c.jitter > Micros::ZERO {
            self.rng.random_range(0..=c.jitter.as_us())
        } else {
            0
        };
        Some(now + c.delay + Micros::from_us(jitter))
    }

    /// Datagrams lost so far.
    pub fn lost(&self) -> u64 {
        self.lost
    }
}

/// Items held until their arrival time, released in arrival order (items arriving at the
/// same time in the order they were pushed).
#[derive(Debug)]
pub struct DelayLine<T> {
    heap: BinaryHeap<Reverse<Held<T>>>,
    pushed: u64,
}

impl<T> Default for DelayLine<T> {
    fn default() -> Self {
        DelayLine {
            heap: BinaryHeap::new(),
            pushed: 0,
        }
    }
}

#[derive(Debug)]
struct Held<T> {
    at: Micros,
    serial: u64,
    item: T,
}

impl<T> PartialEq for Held<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.serial) == (other.at, other.serial)
    }
}

impl<T> Eq for Held<T> {}

impl<T> PartialOrd for Held<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Held<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.serial).cmp(&(other.at, other.serial))
    }
}

impl<T> DelayLine<T> {
    /// Holds `item` until `at`.
    pub fn push(&mut self, at: Micros, item: T) {
        self.pushed += 1;
        self.heap.push(Reverse(Held {
            at,
            serial: self.pushed,
            item,
        }));
    }

    /// When the next item arrives.
    pub fn next_at(&self) -> Option<Micros> {
        self.heap.peek().map(|h| h.0.at)
    }

    /// The next item, whenever it arrives.
    pub fn pop(&mut self) -> Option<(Micros, T)> {
        self.heap.pop().map(|Reverse(h)| (h.at, h.item))
    }

    /// The next item if it has arrived by `now`.
    pub fn pop_due(&mut self, now: Micros) -> Option<(Micros, T)> {
        if self.next_at()? > now {
            return None;
        }
        self.pop()
    }

    /// Items held.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Drops every item.
    pub fn clear(&mut self) {
        self.heap.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_and_jitter_follow_the_conditions() {
        let c = NetworkConditions {
            delay: Micros::from_ms(10),
            jitter: Micros::from_ms(4),
            loss: 0.25,
        };
        let mut net = Impairment::new(c, 7);
        let mut arrived = 0;
        for _ in 0..10_000 {
            if let Some(at) = net.arrival(Micros::ZERO) {
                assert!((Micros::from_ms(10)..=Micros::from_ms(14)).contains(&at));
                arrived += 1;
            }
        }
        assert_eq!(arrived + net.lost(), 10_000);
        // 2,500 expected; 4 standard deviations (43) either side.
        assert!((2_330..=2_670).contains(&net.lost()), "{}", net.lost());
        let mut ideal = Impairment::new(NetworkConditions::IDEAL, 7);
        assert_eq!(ideal.arrival(Micros::from_us(5)), Some(Micros::from_us(5)));
    }

    #[test]
    fn a_delay_line_releases_in_arrival_then_push_order() {
        let mut line = DelayLine::default();
        line.push(Micros::from_us(30), 'c');
        line.push(Micros::from_us(10), 'a');
        line.push(Micros::from_us(30), 'd');
        line.push(Micros::from_us(20), 'b');
        let mut got = vec![];
        while let Some((_, x)) = line.pop_due(Micros::from_us(30)) {
            got.push(x);
        }
        assert_eq!(got, ['a', 'b', 'c', 'd']);
        assert!(line.is_empty());
    }
}
