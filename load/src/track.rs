//! The receive tracker: per-stream accounting of unique packets, duplicates and reordering,
//! the one every count of the load generators goes through.
//!
//! [`SeqTracker`] takes sequence numbers already unwrapped to 32 bits (a probe's, through
//! [`unwrap_seq`](crate::probe::unwrap_seq)); [`RtpStream`] first extends a relay's 16-bit
//! RTP sequence numbers. Loss is counted one of two ways, and each report says which:
//!
//! - [`SeqTracker::lost_of`]: against what the sender counted as sent. The generators know
//!   every probe they sent, so a probe's stream loses exactly what never arrived, including
//!   the packets after the last one received.
//! - [`SeqTracker::lost_in_range`]: against the range of sequence numbers seen, lowest to
//!   highest (RFC 3550 §A.3). For a stream the relay sends (a room's mix), whose packets
//!   the generator cannot count; what was lost before the first or after the last packet
//!   received is not seen.

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

/// Receive state of one stream. Allocation-free, 48 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeqTracker {
    highest: u32,
    lowest: u32,
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
                self.lowest = seq;
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
        self.lowest = self.lowest.min(seq);
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

    /// Packets of the `sent` the sender counted that never arrived.
    #[inline]
    pub fn lost_of(&self, sent: u64) -> u64 {
        sent.saturating_sub(self.received)
    }

    /// Packets missing between the lowest and the highest sequence number received (0
    /// before any arrived; duplicates beyond the window can hide losses, as in RFC 3550).
    pub fn lost_in_range(&self) -> u64 {
        if self.received == 0 {
            return 0;
        }
        u64::from(self.highest - self.lowest + 1).saturating_sub(self.received)
    }
}

/// A stream of 16-bit RTP sequence numbers (what a relay numbers its own packets with),
/// extended to 32 bits and tracked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtpStream {
    tracker: SeqTracker,
    /// The extended sequence number of the previous arrival.
    last: u32,
}

impl RtpStream {
    /// Extended sequence numbers start high, so a packet from before the first one seen
    /// still extends to a smaller number.
    const START: u32 = 1 << 30;

    /// Records the arrival of RTP sequence number `seq16`: extended to the value nearest
    /// the previous arrival's (a jump of up to ±32,767), then tracked.
    #[inline]
    pub fn record(&mut self, seq16: u16) -> Arrival {
        let t = &self.tracker;
        let ext = if t.received == 0 && t.duplicates == 0 {
            Self::START + u32::from(seq16)
        } else {
            let d = seq16.wrapping_sub(self.last as u16) as i16;
            self.last.wrapping_add_signed(i32::from(d))
        };
        self.last = ext;
        self.tracker.record(ext)
    }

    /// The counts so far.
    pub fn tracker(&self) -> &SeqTracker {
        &self.tracker
    }

    /// Packets missing from the range received ([`SeqTracker::lost_in_range`]).
    pub fn lost(&self) -> u64 {
        self.tracker.lost_in_range()
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
        assert_eq!((t.lost_of(1000), t.lost_in_range()), (0, 0));
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
        // 0..=8 seen as a range: 1, 2, 3, 4 and 7 missing. The sender sent 0..=9.
        assert_eq!((t.lost_in_range(), t.lost_of(10)), (5, 6));
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

    #[test]
    fn nothing_received_loses_what_was_sent_but_no_range() {
        let t = SeqTracker::default();
        assert_eq!((t.lost_of(7), t.lost_in_range()), (7, 0));
    }

    #[test]
    fn rtp_stream_counts_gaps_across_a_wrap() {
        let mut m = RtpStream::default();
        for s in [65_534u16, 65_535, 1, 0, 2, 2] {
            m.record(s);
        }
        let t = *m.tracker();
        assert_eq!(t.received, 5);
        assert_eq!((m.lost(), t.reordered, t.duplicates), (0, 1, 1));
        m.record(5);
        assert_eq!(m.lost(), 2);
    }

    #[test]
    fn rtp_stream_extends_below_its_first_packet() {
        let mut m = RtpStream::default();
        assert_eq!(m.record(10), Arrival::InOrder);
        assert_eq!(m.record(8), Arrival::Reordered);
        assert_eq!(m.record(11), Arrival::InOrder);
        // 8..=11: 9 is missing.
        assert_eq!((m.tracker().received, m.lost()), (3, 1));
    }
}
