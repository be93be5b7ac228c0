//! Wrap-aware arithmetic on RTP sequence numbers and timestamps, and extension of 16-bit
//! sequence numbers to 64 bits across wraparound (RFC 3550 Appendix A.1).

/// Signed distance `a - b` between two sequence numbers, taking the shorter way round the
/// 16-bit circle: `seq_diff(2, 65535) == 3`.
#[inline]
pub fn seq_diff(a: u16, b: u16) -> i16 {
    a.wrapping_sub(b) as i16
}

/// Whether `a` is newer than `b` (strictly ahead by less than half the circle).
#[inline]
pub fn seq_newer(a: u16, b: u16) -> bool {
    seq_diff(a, b) > 0
}

/// Signed distance `a - b` between two RTP timestamps, the shorter way round.
#[inline]
pub fn ts_diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// Largest forward jump accepted as in-sequence (RFC 3550 A.1 `MAX_DROPOUT`).
pub const MAX_DROPOUT: u16 = 3000;
/// Largest backward jump accepted as a late packet (RFC 3550 A.1 `MAX_MISORDER`).
pub const MAX_MISORDER: u16 = 100;
/// Sequential packets needed before a source is valid (RFC 3550 A.1 `MIN_SEQUENTIAL`).
pub const MIN_SEQUENTIAL: u8 = 2;

/// What [`SeqExtender::update`] concluded about a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqUpdate {
    /// Accepted; carries the 64-bit extended sequence number.
    Accepted(u64),
    /// Still in probation (too few sequential packets since the source appeared).
    Probation,
    /// A large jump: dropped unless the next packet continues from it (source restart).
    Jump,
    /// A duplicate or a packet too old to place.
    Late(u64),
}

/// Extends 16-bit sequence numbers to 64 bits and tracks the RFC 3550 A.1 source state.
#[derive(Clone, Debug)]
pub struct SeqExtender {
    max_seq: u16,
    cycles: u64,
    base_seq: u16,
    bad_seq: u32,
    probation: u8,
    received: u64,
    started: bool,
}

impl Default for SeqExtender {
    fn default() -> Self {
        Self::new()
    }
}

impl SeqExtender {
    /// A tracker that has seen no packet.
    pub fn new() -> Self {
        SeqExtender {
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: u32::MAX,
            probation: MIN_SEQUENTIAL,
            received: 0,
            started: false,
        }
    }

    /// A tracker that accepts the first packet at once (no probation), for sources already
    /// validated by signalling.
    pub fn without_probation() -> Self {
        SeqExtender {
            probation: 0,
            ..Self::new()
        }
    }

    fn init(&mut self, seq: u16) {
        self.base_seq = seq;
        self.max_seq = seq;
        self.bad_seq = u32::MAX;
        self.cycles = 0;
        self.received = 0;
    }

    /// Feeds one received sequence number.
    pub fn update(&mut self, seq: u16) -> SeqUpdate {
        if !self.started {
            self.started = true;
            self.init(seq);
            self.max_seq = seq.wrapping_sub(1);
            if self.probation == 0 {
                self.max_seq = seq;
                self.received = 1;
                return SeqUpdate::Accepted(self.extended(seq));
            }
        }
        let udelta = seq.wrapping_sub(self.max_seq);
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init(seq);
                    self.received = 1;
                    return SeqUpdate::Accepted(self.extended(seq));
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return SeqUpdate::Probation;
        }
        if udelta == 0 {
            // A duplicate still counts as received (RFC 3550 A.3 lets loss go negative).
            self.received += 1;
            return SeqUpdate::Late(self.extended(seq));
        }
        if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles += 1 << 16;
            }
            self.max_seq = seq;
        } else if u32::from(udelta) <= (1 << 16) - u32::from(MAX_MISORDER) {
            // A very large jump: accept it only if the next packet follows it (the source
            // restarted), as RFC 3550 A.1 does.
            if u32::from(seq) == self.bad_seq {
                self.init(seq);
            } else {
                self.bad_seq = u32::from(seq.wrapping_add(1));
                return SeqUpdate::Jump;
            }
        } else {
            // Reordered: counted as received, but the highest sequence does not move.
            self.received += 1;
            return SeqUpdate::Late(self.extended(seq));
        }
        self.received += 1;
        SeqUpdate::Accepted(self.extended(seq))
    }

    /// The extended value of `seq` relative to the current cycle count (a packet from just
    /// before a wrap maps into the previous cycle).
    pub fn extended(&self, seq: u16) -> u64 {
        let ext_max = self.cycles | u64::from(self.max_seq);
        let d = i64::from(seq_diff(seq, self.max_seq));
        (ext_max as i64 + d).max(0) as u64
    }

    /// The highest extended sequence number accepted.
    pub fn extended_max(&self) -> u64 {
        self.cycles | u64::from(self.max_seq)
    }

    /// The first sequence number of the current source run.
    pub fn base(&self) -> u16 {
        self.base_seq
    }

    /// Packets accepted since the source (re)started.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Packets expected since the source (re)started (RFC 3550 A.3).
    pub fn expected(&self) -> u64 {
        if self.received == 0 {
            return 0;
        }
        self.extended_max() - u64::from(self.base_seq) + 1
    }

    /// Cumulative packets lost (negative when duplicates outnumber losses).
    pub fn lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    /// Takes over what another receiver of this source saw while it held the stream (the
    /// kernel fast path): the highest extended sequence number `ext_max` (ignored if not
    /// beyond the current one) and `received` more packets accepted.
    pub fn advance_to(&mut self, ext_max: u64, received: u64) {
        if !self.started || self.probation > 0 {
            return;
        }
        if ext_max > self.extended_max() {
            self.cycles = ext_max & !0xffff;
            self.max_seq = ext_max as u16;
            self.bad_seq = u32::MAX;
        }
        self.received += received;
    }
}

/// Extends 32-bit RTP timestamps to 64 bits across wraparound.
#[derive(Clone, Copy, Debug, Default)]
pub struct TimestampExtender {
    last: Option<u64>,
}

impl TimestampExtender {
    /// A tracker that has seen no timestamp.
    pub fn new() -> Self {
        Self::default()
    }

    /// Extends `ts` relative to the last extended value (moves forward only on newer input).
    pub fn extend(&mut self, ts: u32) -> u64 {
        match self.last {
            None => {
                let v = u64::from(ts) + (1 << 32); // headroom for slightly older packets
                self.last = Some(v);
                v
            }
            Some(last) => {
                let d = i64::from(ts_diff(ts, last as u32));
                let v = (last as i64 + d) as u64;
                if d > 0 {
                    self.last = Some(v);
                }
                v
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_wrap() {
        assert_eq!(seq_diff(2, 65535), 3);
        assert_eq!(seq_diff(65535, 2), -3);
        assert!(seq_newer(0, 65535));
        assert!(!seq_newer(65535, 0));
        assert_eq!(ts_diff(10, u32::MAX - 9), 20);
    }

    #[test]
    fn probation_then_accept_then_wrap() {
        let mut s = SeqExtender::new();
        assert_eq!(s.update(65533), SeqUpdate::Probation);
        // Second sequential packet ends probation (MIN_SEQUENTIAL = 2).
        assert_eq!(s.update(65534), SeqUpdate::Accepted(65534));
        assert_eq!(s.update(65535), SeqUpdate::Accepted(65535));
        assert_eq!(s.update(0), SeqUpdate::Accepted(65536));
        assert_eq!(s.update(2), SeqUpdate::Accepted(65538));
        // Late packet from before the wrap keeps its old cycle.
        assert_eq!(s.update(65535), SeqUpdate::Late(65535));
        assert_eq!(s.update(1), SeqUpdate::Late(65537));
        assert_eq!(s.expected(), 65538 - 65534 + 1);
    }

    #[test]
    fn large_jump_needs_confirmation() {
        let mut s = SeqExtender::without_probation();
        assert_eq!(s.update(100), SeqUpdate::Accepted(100));
        assert_eq!(s.update(20000), SeqUpdate::Jump);
        assert_eq!(s.update(20001), SeqUpdate::Accepted(20001));
        assert_eq!(s.base(), 20001);
    }

    #[test]
    fn dropout_and_misorder_boundaries() {
        // RFC 3550 A.1: udelta < MAX_DROPOUT is in order; udelta <= 65536 - MAX_MISORDER is a
        // jump; anything closer behind the maximum is a reordered packet.
        let mut s = SeqExtender::without_probation();
        assert_eq!(s.update(1000), SeqUpdate::Accepted(1000));
        assert_eq!(s.update(1000 + 2999), SeqUpdate::Accepted(3999));
        assert_eq!(s.update(3999 + 3000), SeqUpdate::Jump);
        // 99 behind the max: reordered (udelta = 65437).
        assert_eq!(s.update(3999 - 99), SeqUpdate::Late(3900));
        // 100 behind the max: udelta = 65436 = 65536 - MAX_MISORDER, treated as a jump.
        assert_eq!(s.update(3999 - 100), SeqUpdate::Jump);
        // Its successor is only 99 behind the max, so it lands in the reorder branch before
        // any bad_seq check, exactly as in A.1.
        assert_eq!(s.update(3900), SeqUpdate::Late(3900));
        // A jump followed by its successor restarts the source there.
        assert_eq!(s.update(20000), SeqUpdate::Jump);
        assert_eq!(s.update(20001), SeqUpdate::Accepted(20001));
        assert_eq!(s.base(), 20001);
        assert_eq!(s.received(), 1);
    }

    #[test]
    fn probation_restarts_on_a_gap() {
        let mut s = SeqExtender::new();
        assert_eq!(s.update(10), SeqUpdate::Probation);
        assert_eq!(s.update(12), SeqUpdate::Probation); // not sequential: probation restarts
        assert_eq!(s.update(13), SeqUpdate::Accepted(13));
        assert_eq!(s.base(), 13);
    }

    #[test]
    fn loss_accounting() {
        let mut s = SeqExtender::without_probation();
        for q in [10u16, 11, 13, 14, 17] {
            s.update(q);
        }
        assert_eq!(s.expected(), 8);
        assert_eq!(s.received(), 5);
        assert_eq!(s.lost(), 3);
    }

    #[test]
    fn timestamps_extend_across_wrap() {
        let mut t = TimestampExtender::new();
        let a = t.extend(u32::MAX - 159);
        let b = t.extend(0);
        assert_eq!(b - a, 160);
        let c = t.extend(u32::MAX - 319); // older
        assert_eq!(a - c, 160);
    }
}
