//! How loaded a shard is, and whether it may take new work.
//!
//! A [`LoadMeter`] measures two things over windows of about a second: the fraction of time
//! the shard's thread spent working rather than waiting for input (its *busy* fraction),
//! and the datagrams it received per second. Each window's figures are smoothed into a
//! [`ShardLoad`]. The meter is sans-I/O like the shard: the driver tells it when it waited,
//! how many datagrams it has received so far and how much CPU time its thread has used, on
//! its own clock.
//!
//! Work is counted two ways and the larger is taken: the wall time spent outside the wait
//! (which includes time the thread was ready to run but another ran), and the thread's CPU
//! time (which includes the kernel's socket work that io_uring does inside the wait).
//!
//! [`AdmissionLimits`] say how loaded a shard may be before new channels are refused with
//! an [`Overload`] naming the limit; work already admitted (commands, teardown, statistics)
//! is never refused for load.

use crate::error::Overload;
use crate::time::Micros;

/// The span of one measurement window.
pub const LOAD_WINDOW: Micros = Micros::from_secs(1);

/// Weight of the newest window in the smoothed reading: a load that stops is forgotten
/// by half each second, so one busy second does not close the door for long, and one idle
/// second does not open it wide.
const SMOOTHING: f64 = 0.5;

/// A shard's measured load, smoothed over the last few seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ShardLoad {
    /// Fraction of the time the shard's thread worked rather than waited, 0 to 1.
    pub busy: f64,
    /// Datagrams received per second (those dropped as stale included: they cost work too).
    pub packet_rate: f64,
}

impl ShardLoad {
    /// A reading of `busy` (0 to 1) and `packet_rate` (per second).
    pub fn new(busy: f64, packet_rate: f64) -> ShardLoad {
        ShardLoad { busy, packet_rate }
    }
}

/// Measures a shard thread's busy fraction and packet rate (see the module docs).
#[derive(Clone, Debug)]
pub struct LoadMeter {
    window_start: Micros,
    waited: Micros,
    packets_at_start: u64,
    cpu_at_start: Micros,
    load: Option<ShardLoad>,
}

impl LoadMeter {
    /// A meter whose first window starts at `now`, when `packets` datagrams had been
    /// received and the thread had used `cpu` of CPU time.
    pub fn new(now: Micros, packets: u64, cpu: Micros) -> LoadMeter {
        LoadMeter {
            window_start: now,
            waited: Micros::ZERO,
            packets_at_start: packets,
            cpu_at_start: cpu,
            load: None,
        }
    }

    /// Whether the window has lasted [`LOAD_WINDOW`] by `now` (time to read the CPU time
    /// and [`roll`](Self::roll)).
    pub fn due(&self, now: Micros) -> bool {
        now.saturating_sub(self.window_start) >= LOAD_WINDOW
    }

    /// The thread waited for input from `from` to `to`.
    pub fn waited(&mut self, from: Micros, to: Micros) {
        self.waited += to.saturating_sub(from);
    }

    /// Closes the window if it has lasted [`LOAD_WINDOW`] by `now` (when `packets`
    /// datagrams have been received in all and the thread has used `cpu` of CPU time),
    /// folding it into the smoothed reading, which is returned; `None` while the window
    /// is still open.
    pub fn roll(&mut self, now: Micros, packets: u64, cpu: Micros) -> Option<ShardLoad> {
        let span = now.saturating_sub(self.window_start);
        if span < LOAD_WINDOW {
            return None;
        }
        let secs = span.as_us() as f64 / 1e6;
        let waited = self.waited.as_us().min(span.as_us()) as f64 / 1e6;
        let used = cpu.saturating_sub(self.cpu_at_start).as_us() as f64 / 1e6;
        let sample = ShardLoad {
            busy: (1.0 - waited / secs).max(used / secs).min(1.0),
            packet_rate: packets.saturating_sub(self.packets_at_start) as f64 / secs,
        };
        let load = match self.load {
            None => sample,
            Some(old) => ShardLoad {
                busy: old.busy + (sample.busy - old.busy) * SMOOTHING,
                packet_rate: old.packet_rate + (sample.packet_rate - old.packet_rate) * SMOOTHING,
            },
        };
        self.load = Some(load);
        self.window_start = now;
        self.waited = Micros::ZERO;
        self.packets_at_start = packets;
        self.cpu_at_start = cpu;
        Some(load)
    }

    /// The smoothed reading (zero before the first window closes).
    pub fn load(&self) -> ShardLoad {
        self.load.unwrap_or_default()
    }
}

/// How loaded a shard may be before it refuses new channels. No limit by default.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct AdmissionLimits {
    /// Highest busy fraction (0 to 1) at which a shard still takes new channels.
    pub max_busy: Option<f64>,
    /// Highest packet rate (datagrams received per second) at which a shard still takes
    /// new channels.
    pub max_packet_rate: Option<f64>,
}

impl AdmissionLimits {
    /// No limits: every channel is admitted.
    pub fn none() -> AdmissionLimits {
        AdmissionLimits::default()
    }

    /// Refuse new channels on a shard busier than `fraction` (0 to 1) of the time.
    pub fn max_busy(mut self, fraction: f64) -> AdmissionLimits {
        self.max_busy = Some(fraction);
        self
    }

    /// Refuse new channels on a shard receiving more than `per_second` datagrams a second.
    pub fn max_packet_rate(mut self, per_second: f64) -> AdmissionLimits {
        self.max_packet_rate = Some(per_second);
        self
    }

    /// Whether shard `shard` at `load` may take a new channel.
    pub fn check(&self, shard: usize, load: ShardLoad) -> Result<(), Overload> {
        if let Some(limit) = self.max_busy.filter(|&l| load.busy > l) {
            return Err(Overload::Busy {
                shard,
                busy: load.busy,
                limit,
            });
        }
        if let Some(limit) = self.max_packet_rate.filter(|&l| load.packet_rate > l) {
            return Err(Overload::PacketRate {
                shard,
                rate: load.packet_rate,
                limit,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Micros {
        Micros::from_ms(n)
    }

    /// A second of turns: each works `work` ms then waits `wait` ms.
    fn second(m: &mut LoadMeter, start: Micros, work: u64, wait: u64) -> Micros {
        let mut t = start;
        while t < start + ms(1_000) {
            t += ms(work);
            m.waited(t, t + ms(wait));
            t += ms(wait);
        }
        t
    }

    #[test]
    fn busy_is_the_share_of_a_window_not_spent_waiting() {
        let mut m = LoadMeter::new(ms(0), 0, ms(7));
        // 5 ms of work per 20 ms turn: 25 % busy; 500 datagrams in the second.
        let t = second(&mut m, ms(0), 5, 15);
        assert!(!m.due(t - ms(1)));
        assert_eq!(
            m.roll(t - ms(1), 500, ms(7)),
            None,
            "the window is still open"
        );
        assert!(m.due(t));
        let l = m.roll(t, 500, ms(7 + 250)).expect("a second has passed");
        assert!((l.busy - 0.25).abs() < 1e-9, "{l:?}");
        assert!((l.packet_rate - 500.0).abs() < 1e-9, "{l:?}");
        assert_eq!(m.load(), l);
    }

    #[test]
    fn cpu_spent_inside_the_wait_counts_as_work() {
        // io_uring does the socket work inside the wait: the thread waited 90% of the
        // second by the wall clock but used 600 ms of CPU.
        let mut m = LoadMeter::new(ms(0), 0, ms(0));
        let t = second(&mut m, ms(0), 2, 18);
        let l = m.roll(t, 0, ms(600)).unwrap();
        assert!((l.busy - 0.6).abs() < 1e-9, "{l:?}");
        // A thread ready to run but not run (another took the core) counts as busy by the
        // wall clock though its CPU time is small.
        let t2 = second(&mut m, t, 15, 5);
        let l = m.roll(t2, 0, ms(650)).unwrap();
        assert!((l.busy - (0.6 + (0.75 - 0.6) * 0.5)).abs() < 1e-9, "{l:?}");
    }

    #[test]
    fn a_load_is_smoothed_in_and_forgotten_by_half_each_window() {
        let mut m = LoadMeter::new(ms(0), 0, ms(0));
        let mut t = second(&mut m, ms(0), 0, 20);
        assert_eq!(m.roll(t, 0, ms(0)).unwrap().busy, 0.0);
        // Fully busy (no wait at all) for a window: half of it shows.
        t += ms(1_000);
        let l = m.roll(t, 1_000, ms(1_000)).unwrap();
        assert!((l.busy - 0.5).abs() < 1e-9, "{l:?}");
        assert!((l.packet_rate - 500.0).abs() < 1e-9, "{l:?}");
        t += ms(1_000);
        assert!((m.roll(t, 2_000, ms(2_000)).unwrap().busy - 0.75).abs() < 1e-9);
        // Idle again: forgotten by half each window.
        let mut busy = Vec::new();
        for _ in 0..3 {
            t = second(&mut m, t, 0, 20);
            busy.push(m.roll(t, 2_000, ms(2_000)).unwrap().busy);
        }
        let want = [0.375, 0.1875, 0.093_75];
        for (b, w) in busy.iter().zip(want) {
            assert!((b - w).abs() < 1e-9, "{busy:?}");
        }
    }

    #[test]
    fn a_wait_longer_than_the_window_reads_idle_not_negative() {
        let mut m = LoadMeter::new(ms(0), 7, ms(3));
        m.waited(ms(0), ms(5_000));
        let l = m.roll(ms(1_000), 7, ms(3)).unwrap();
        assert_eq!(l, ShardLoad::new(0.0, 0.0));
    }

    #[test]
    fn limits_name_what_is_over() {
        let limits = AdmissionLimits::none()
            .max_busy(0.8)
            .max_packet_rate(10_000.0);
        assert_eq!(limits.check(0, ShardLoad::new(0.8, 10_000.0)), Ok(()));
        let e = limits.check(1, ShardLoad::new(0.9, 0.0)).unwrap_err();
        assert_eq!(e.shard(), 1);
        assert_eq!(e.to_string(), "shard 1 is busy 90% of the time (limit 80%)");
        let e = limits.check(2, ShardLoad::new(0.1, 12_500.0)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "shard 2 receives 12500 packets/s (limit 10000)"
        );
        assert_eq!(
            AdmissionLimits::none().check(0, ShardLoad::new(1.0, 1e9)),
            Ok(())
        );
    }
}
