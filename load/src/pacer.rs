//! The send schedule: `n` streams, each sending once per period, with their phases spread
//! evenly across the period so the offered load is smooth (stream `i` is due at
//! `start + round * period + i * period / n`).
//!
//! The schedule is implicit — the phases are sorted by construction — so the next send is found
//! in O(1) with no heap or timer wheel.

/// Walks the schedule in due-time order.
#[derive(Clone, Debug)]
pub struct Pacer {
    streams: u64,
    period_ns: u64,
    start_ns: u64,
    rounds: u64,
    round: u64,
    index: u64,
}

impl Pacer {
    /// A schedule of `rounds` rounds of `streams` sends each, starting at `start_ns`.
    pub fn new(streams: usize, period_ns: u64, start_ns: u64, rounds: u64) -> Pacer {
        Pacer {
            streams: streams as u64,
            period_ns,
            start_ns,
            rounds: if streams == 0 { 0 } else { rounds },
            round: 0,
            index: 0,
        }
    }

    /// The next send as `(stream, due time in ns)`, or `None` when the schedule is done.
    #[inline]
    pub fn peek(&self) -> Option<(usize, u64)> {
        if self.round >= self.rounds {
            return None;
        }
        let phase = self.index * self.period_ns / self.streams;
        Some((
            self.index as usize,
            self.start_ns + self.round * self.period_ns + phase,
        ))
    }

    /// Moves past the send [`peek`](Self::peek) returned.
    #[inline]
    pub fn advance(&mut self) {
        self.index += 1;
        if self.index == self.streams {
            self.index = 0;
            self.round += 1;
        }
    }

    /// Time the last send of the schedule is due, plus one period (when the schedule is over).
    pub fn end_ns(&self) -> u64 {
        self.start_ns + self.rounds * self.period_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_sends_evenly_and_in_order() {
        let mut p = Pacer::new(4, 20_000_000, 1_000, 2);
        let mut got = Vec::new();
        while let Some(s) = p.peek() {
            got.push(s);
            p.advance();
        }
        assert_eq!(
            got,
            vec![
                (0, 1_000),
                (1, 5_001_000),
                (2, 10_001_000),
                (3, 15_001_000),
                (0, 20_001_000),
                (1, 25_001_000),
                (2, 30_001_000),
                (3, 35_001_000),
            ]
        );
        assert_eq!(p.end_ns(), 40_001_000);
    }

    #[test]
    fn empty_schedules() {
        assert_eq!(Pacer::new(0, 20, 0, 10).peek(), None);
        assert_eq!(Pacer::new(3, 20, 0, 0).peek(), None);
    }
}
