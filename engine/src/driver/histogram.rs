//! Histograms of a shard thread: how long each tick took and how late it started, and how
//! long each datagram dwelt in the shard.
//!
//! Tick histograms are fixed buckets of atomic counters, allocated with the thread and
//! recorded into once per tick, read by the handle as a [`TickHistogram`] snapshot. Dwell
//! times are recorded per datagram into the thread's own (unshared) HDR histogram, merged
//! into a shared one every 100 ms or so ([`SharedHdr`]), so the media path touches no
//! shared memory per packet.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hdrhistogram::Histogram;

use crate::time::Micros;

/// Upper bounds of the buckets, in µs (a last, unbounded bucket follows): fine below a
/// millisecond, where a healthy tick is, and up to half a second, where a stalled one is.
pub const TICK_BUCKETS_US: [u64; 14] = [
    25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 20_000, 50_000, 100_000, 250_000, 500_000,
];
/// Buckets of a [`TickHistogram`]: one per bound, and the unbounded last one.
pub const TICK_BUCKETS: usize = TICK_BUCKETS_US.len() + 1;
const N: usize = TICK_BUCKETS;

/// A snapshot of a histogram of durations: counts per bucket of [`TICK_BUCKETS_US`] (the
/// last one unbounded), their sum and their number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TickHistogram {
    /// Durations in each bucket (not cumulative): `counts[i]` are those in
    /// `(TICK_BUCKETS_US[i - 1], TICK_BUCKETS_US[i]]`, the last beyond the last bound.
    pub counts: [u64; N],
    /// Sum of the durations, µs.
    pub sum_us: u64,
}

impl TickHistogram {
    /// Durations recorded.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The upper bound (µs) of the bucket holding quantile `q` (0 to 1): no more than
    /// `q` of the durations exceed it. `None` when empty, `Some(u64::MAX)` when it falls
    /// in the unbounded bucket.
    pub fn quantile_bound_us(&self, q: f64) -> Option<u64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let want = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                return Some(TICK_BUCKETS_US.get(i).copied().unwrap_or(u64::MAX));
            }
        }
        Some(u64::MAX)
    }
}

impl TickHistogram {
    /// A histogram of these bucket counts (see [`counts`](Self::counts)) and sum.
    pub fn from_counts(counts: [u64; N], sum_us: u64) -> TickHistogram {
        TickHistogram { counts, sum_us }
    }

    /// This histogram and `other` together (two shards, say).
    pub fn plus(&self, other: &TickHistogram) -> TickHistogram {
        TickHistogram {
            counts: std::array::from_fn(|i| self.counts[i].saturating_add(other.counts[i])),
            sum_us: self.sum_us.saturating_add(other.sum_us),
        }
    }

    /// What was recorded since `before`, an earlier snapshot of the same histogram.
    pub fn since(&self, before: &TickHistogram) -> TickHistogram {
        TickHistogram {
            counts: std::array::from_fn(|i| self.counts[i].saturating_sub(before.counts[i])),
            sum_us: self.sum_us.saturating_sub(before.sum_us),
        }
    }

    /// The bucket counts of an HDR histogram of µs.
    pub fn from_hdr(h: &Histogram<u64>) -> TickHistogram {
        let mut counts = [0u64; N];
        let mut sum = 0u64;
        for v in h.iter_recorded() {
            let us = v.value_iterated_to();
            let n = v.count_at_value();
            counts[TICK_BUCKETS_US.partition_point(|&b| b < us)] += n;
            sum = sum.saturating_add(us.saturating_mul(n));
        }
        TickHistogram {
            counts,
            sum_us: sum,
        }
    }
}

/// An HDR histogram of µs, 1 µs to 60 s at 2 significant digits: the resolution of the
/// dwell times of a shard thread.
pub fn dwell_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 2).expect("valid bounds")
}

/// An HDR histogram a shard thread merges its own into now and then, read by the handle.
#[derive(Debug)]
pub(crate) struct SharedHdr(Mutex<Histogram<u64>>);

impl Default for SharedHdr {
    fn default() -> Self {
        SharedHdr(Mutex::new(dwell_histogram()))
    }
}

impl SharedHdr {
    /// Adds `local`'s counts (values beyond the range are clamped to it).
    pub fn merge(&self, local: &Histogram<u64>) {
        let mut h = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for v in local.iter_recorded() {
            h.saturating_record_n(v.value_iterated_to(), v.count_at_value());
        }
    }

    /// A copy.
    pub fn snapshot(&self) -> Histogram<u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The shared, atomic form a shard thread records into.
#[derive(Debug, Default)]
pub(crate) struct AtomicHistogram {
    counts: [AtomicU64; N],
    sum_us: AtomicU64,
}

impl AtomicHistogram {
    /// Records one duration.
    pub fn record(&self, d: Micros) {
        let us = d.as_us();
        let i = TICK_BUCKETS_US.partition_point(|&b| b < us);
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// A snapshot (each counter read once; a tick recorded meanwhile may be half in it).
    pub fn snapshot(&self) -> TickHistogram {
        TickHistogram {
            counts: std::array::from_fn(|i| self.counts[i].load(Ordering::Relaxed)),
            sum_us: self.sum_us.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_land_in_the_bucket_whose_bound_is_the_first_not_below_them() {
        let h = AtomicHistogram::default();
        for us in [0, 25, 26, 1_000, 1_001, 500_000, 500_001, 9_000_000] {
            h.record(Micros::from_us(us));
        }
        let s = h.snapshot();
        let at = |bound: u64| s.counts[TICK_BUCKETS_US.iter().position(|&b| b == bound).unwrap()];
        assert_eq!(
            (at(25), at(50), at(1_000), at(2_500), at(500_000)),
            (2, 1, 1, 1, 1)
        );
        assert_eq!(s.counts[N - 1], 2, "beyond the last bound");
        assert_eq!(s.count(), 8);
        assert_eq!(
            s.sum_us,
            25 + 26 + 1_000 + 1_001 + 500_000 + 500_001 + 9_000_000
        );
    }

    #[test]
    fn quantiles_are_bucket_bounds() {
        let h = AtomicHistogram::default();
        assert_eq!(h.snapshot().quantile_bound_us(0.5), None);
        for _ in 0..998 {
            h.record(Micros::from_us(40));
        }
        h.record(Micros::from_ms(15));
        h.record(Micros::from_secs(2));
        let s = h.snapshot();
        assert_eq!(s.quantile_bound_us(0.5), Some(50));
        assert_eq!(s.quantile_bound_us(0.998), Some(50));
        assert_eq!(s.quantile_bound_us(0.999), Some(20_000));
        assert_eq!(s.quantile_bound_us(1.0), Some(u64::MAX));
    }
}
