//! The kernel's clocks in nanoseconds: `CLOCK_MONOTONIC` for time stamps that two processes
//! compare, and `CLOCK_REALTIME`, the clock of the kernel's receive time stamps, with a
//! converter between them.
//!
//! `CLOCK_MONOTONIC` is one clock for the whole machine, so a time stamp written by one
//! process can be compared with a reading taken in another (unlike [`std::time::Instant`],
//! whose value is opaque). Both are read through the vDSO, a few tens of nanoseconds each.

fn read(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a live, writable timespec that outlives the call, and the two clock
    // ids used here are ones every Linux kernel supports, so the call only writes `ts`.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    debug_assert_eq!(rc, 0, "clock_gettime({clock}) failed");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Nanoseconds of `CLOCK_MONOTONIC` (time since boot, not counting suspend).
#[inline]
pub fn monotonic_ns() -> u64 {
    read(libc::CLOCK_MONOTONIC)
}

/// Nanoseconds of `CLOCK_REALTIME` (the clock of the kernel's socket receive time stamps).
#[inline]
pub fn realtime_ns() -> u64 {
    read(libc::CLOCK_REALTIME)
}

/// Converts `CLOCK_REALTIME` readings to `CLOCK_MONOTONIC`.
///
/// The two clocks run at the same rate (NTP frequency and slew corrections apply to both)
/// and differ by an offset that changes only when the wall clock is stepped, so a converter
/// sampled now is exact until the next step; re-sample it every so often to bound the
/// damage of a step. Sampling error is half a clock read, tens of nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealtimeToMonotonic {
    /// `CLOCK_REALTIME - CLOCK_MONOTONIC`, ns.
    offset: i128,
}

impl RealtimeToMonotonic {
    /// Samples the current offset between the clocks.
    pub fn sample() -> RealtimeToMonotonic {
        // Bracket the realtime read with two monotonic reads and take the midpoint.
        let m0 = monotonic_ns();
        let r = realtime_ns();
        let m1 = monotonic_ns();
        RealtimeToMonotonic {
            offset: i128::from(r) - i128::from(m0 + (m1 - m0) / 2),
        }
    }

    /// The `CLOCK_MONOTONIC` time of a `CLOCK_REALTIME` reading (0 if it would be negative).
    #[inline]
    pub fn to_monotonic(&self, realtime_ns: u64) -> u64 {
        (i128::from(realtime_ns) - self.offset).max(0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn realtime_converts_to_monotonic() {
        let conv = RealtimeToMonotonic::sample();
        let m0 = monotonic_ns();
        let r = realtime_ns();
        let m1 = monotonic_ns();
        let m = conv.to_monotonic(r);
        // Within the bracket, give or take a few µs of sampling error.
        assert!(m + 5_000 >= m0 && m <= m1 + 5_000, "{m0} {m} {m1}");
        assert_eq!(conv.to_monotonic(0), 0);
    }

    #[test]
    fn advances_with_wall_time() {
        let a = monotonic_ns();
        std::thread::sleep(Duration::from_millis(5));
        let b = monotonic_ns();
        assert!(b - a >= 5_000_000, "{a} -> {b}");
    }

    #[test]
    fn never_goes_backwards() {
        let mut last = monotonic_ns();
        for _ in 0..10_000 {
            let now = monotonic_ns();
            assert!(now >= last);
            last = now;
        }
    }
}
