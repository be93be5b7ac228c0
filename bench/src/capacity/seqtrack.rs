//! Per-stream receive accounting: unique packets, duplicates and reordering, from the payload's
//! 32-bit sequence number (which never wraps in a run: 2^32 packets are 2.7 years at 50 pps).

/// How many sequence numbers behind the highest one duplicates are still recognised. Older
/// arrivals (more than 1.28 s late at 50 pps) are counted as unique and reordered.
pub const WINDOW: u32 = 64;

/// What one arrival was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// A sequence number above every one seen before.
    InOrder,
    /// A sequence number below the highest seen, not seen before.
    Reordered,
    /// A sequence number already seen.
    Duplicate,
}

/// Receive state of one stream. Allocation-free, 40 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeqTracker {
    highest: u32,
    /// Bit `i` set: `highest - i` was received.
    seen: u64,
    started: bool,
    /// Unique packets received.
    pub received: u64,
    /// Arrivals of a sequence number already received.
    pub duplicates: u64,
    /// Arrivals below the highest sequence number seen.
    pub reordered: u64,
}

impl SeqTracker {
    /// Records the arrival of `seq`.
    #[inline]
    pub fn record(&mut self, seq: u32) -> Arrival {
        if !self.started || seq > self.highest {
            let shift = if self.started {
                seq - self.highest
            } else {
                WINDOW
            };
            self.seen = if shift >= WINDOW {
                0
            } else {
                self.seen << shift
            } | 1;
            self.highest = seq;
            self.started = true;
            self.received += 1;
            return Arrival::InOrder;
        }
        let behind = self.highest - seq;
        if behind < WINDOW {
            let bit = 1u64 << behind;
            if self.seen & bit != 0 {
                self.duplicates += 1;
                return Arrival::Duplicate;
            }
            self.seen |= bit;
        }
        self.received += 1;
        self.reordered += 1;
        Arrival::Reordered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_stream() {
        let mut t = SeqTracker::default();
        for s in 0..1000 {
            assert_eq!(t.record(s), Arrival::InOrder);
        }
        assert_eq!((t.received, t.duplicates, t.reordered), (1000, 0, 0));
    }

    #[test]
    fn gaps_then_late_arrivals_and_duplicates() {
        let mut t = SeqTracker::default();
        assert_eq!(t.record(5), Arrival::InOrder);
        assert_eq!(t.record(8), Arrival::InOrder);
        assert_eq!(t.record(6), Arrival::Reordered);
        assert_eq!(t.record(6), Arrival::Duplicate);
        assert_eq!(t.record(8), Arrival::Duplicate);
        assert_eq!(t.record(5), Arrival::Duplicate);
        assert_eq!(t.record(0), Arrival::Reordered);
        assert_eq!((t.received, t.duplicates, t.reordered), (4, 3, 2));
    }

    #[test]
    fn first_packet_zero_and_big_jumps() {
        let mut t = SeqTracker::default();
        assert_eq!(t.record(0), Arrival::InOrder);
        assert_eq!(t.record(0), Arrival::Duplicate);
        assert_eq!(t.record(1000), Arrival::InOrder);
        // Far behind the window: cannot tell, counted as a unique late packet.
        assert_eq!(t.record(0), Arrival::Reordered);
        assert_eq!(t.record(1000 - 63), Arrival::Reordered);
        assert_eq!(t.record(1000 - 63), Arrival::Duplicate);
    }
}
