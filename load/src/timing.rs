//! How long a relay's shards took over a level: the duration of their ticks and the dwell
//! time of packets in them (arrival at the host to the shard's send), read before and
//! after the load from the engine's histograms (in process) or `tandem serve`'s
//! `/metrics`, and summarised as bucket-bound quantiles ([`Quantiles`]).

use serde::{Deserialize, Serialize};
use tandem_engine::{Engine, TICK_BUCKETS, TICK_BUCKETS_US, TickHistogram};

/// Names of the histograms in `tandem serve`'s metrics.
const TICK_METRIC: &str = "tandem_shard_tick_duration_seconds";
const DWELL_METRIC: &str = "tandem_shard_dwell_seconds";

/// A relay's tick-duration and dwell histograms, summed over its shards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShardTiming {
    /// How long each tick took.
    pub tick_duration: TickHistogram,
    /// How long each packet dwelt in its shard.
    pub dwell: TickHistogram,
}

impl ShardTiming {
    /// An engine's histograms now.
    pub fn from_engine(engine: &Engine) -> ShardTiming {
        engine
            .thread_stats()
            .iter()
            .fold(ShardTiming::default(), |acc, s| ShardTiming {
                tick_duration: acc.tick_duration.plus(&s.tick_duration),
                dwell: acc.dwell.plus(&s.dwell),
            })
    }

    /// The histograms in a `tandem serve` metrics page; `None` if it has none (another
    /// daemon, or an older one).
    pub fn from_metrics(text: &str) -> Option<ShardTiming> {
        Some(ShardTiming {
            tick_duration: histogram(text, TICK_METRIC)?,
            dwell: histogram(text, DWELL_METRIC)?,
        })
    }

    /// What was recorded since `before`.
    pub fn since(&self, before: &ShardTiming) -> ShardTiming {
        ShardTiming {
            tick_duration: self.tick_duration.since(&before.tick_duration),
            dwell: self.dwell.since(&before.dwell),
        }
    }
}

/// A Prometheus histogram of seconds on the tick buckets, summed over shards, as a
/// [`TickHistogram`] (its sum is not needed and left at zero).
fn histogram(text: &str, name: &str) -> Option<TickHistogram> {
    let buckets = tandem_serve::metrics::read::histogram_buckets(text, name)?;
    if buckets.is_empty() {
        return None;
    }
    let mut counts = [0u64; TICK_BUCKETS];
    let mut below = 0.0;
    for (le, cumulative) in buckets {
        let i = if le.is_infinite() {
            TICK_BUCKETS - 1
        } else {
            let us = (le * 1e6).round() as u64;
            TICK_BUCKETS_US.iter().position(|&b| b == us)?
        };
        counts[i] = (cumulative - below).max(0.0) as u64;
        below = cumulative;
    }
    Some(TickHistogram::from_counts(counts, 0))
}

/// Quantiles of a duration histogram, each the upper bound of the bucket it falls in, µs
/// (`u64::MAX`: beyond the last bound, 500 ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quantiles {
    /// Durations recorded.
    pub count: u64,
    /// Median.
    pub p50_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// 99.9th percentile.
    pub p999_us: u64,
    /// Largest.
    pub max_us: u64,
}

impl Quantiles {
    /// The quantiles of `h`, `None` if it is empty.
    pub fn of(h: &TickHistogram) -> Option<Quantiles> {
        Some(Quantiles {
            count: h.count(),
            p50_us: h.quantile_bound_us(0.5)?,
            p99_us: h.quantile_bound_us(0.99)?,
            p999_us: h.quantile_bound_us(0.999)?,
            max_us: h.quantile_bound_us(1.0)?,
        })
    }

    /// `≤p50/≤p99/≤p99.9/≤max µs`.
    pub fn text(&self) -> String {
        let b = |us: u64| {
            if us == u64::MAX {
                format!(">{}", TICK_BUCKETS_US[TICK_BUCKETS_US.len() - 1])
            } else {
                format!("≤{us}")
            }
        };
        format!(
            "{}/{}/{}/{} µs",
            b(self.p50_us),
            b(self.p99_us),
            b(self.p999_us),
            b(self.max_us)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metrics_page_reads_as_the_engine_histogram_summed_over_shards() {
        let mut text = String::new();
        for shard in 0..2 {
            for (name, counts) in [(TICK_METRIC, [3u64, 1]), (DWELL_METRIC, [10, 0])] {
                // 3 ticks ≤ 25 µs, 1 more ≤ 1 ms, none beyond.
                let mut cumulative = 0;
                for (i, b) in TICK_BUCKETS_US.iter().enumerate() {
                    cumulative += match i {
                        0 => counts[0],
                        5 => counts[1],
                        _ => 0,
                    };
                    text.push_str(&format!(
                        "{name}_bucket{{shard=\"{shard}\",le=\"{}\"}} {cumulative}\n",
                        *b as f64 / 1e6
                    ));
                }
                text.push_str(&format!(
                    "{name}_bucket{{shard=\"{shard}\",le=\"+Inf\"}} {cumulative}\n"
                ));
            }
        }
        let t = ShardTiming::from_metrics(&text).unwrap();
        assert_eq!(t.tick_duration.count(), 8);
        assert_eq!(t.tick_duration.counts[0], 6);
        assert_eq!(t.tick_duration.counts[5], 2);
        assert_eq!(t.dwell.count(), 20);
        let q = Quantiles::of(&t.tick_duration).unwrap();
        assert_eq!((q.p50_us, q.p99_us, q.max_us), (25, 1_000, 1_000));
        assert_eq!(q.text(), "≤25/≤1000/≤1000/≤1000 µs");
        let later = ShardTiming::from_metrics(&text.replace("} 4\n", "} 5\n")).unwrap();
        // One more tick in the 1 ms bucket on each shard: cumulative counts, not per bucket.
        let more = later.since(&t).tick_duration;
        assert_eq!((more.count(), more.counts[5]), (2, 2));
        assert!(ShardTiming::from_metrics("other_metric 1\n").is_none());
    }
}
