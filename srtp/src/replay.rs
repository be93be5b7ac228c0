//! Packet index estimation from the 16-bit sequence number and the rollover counter
//! (RFC 3711 §3.3.1 and Appendix A), and the sliding replay window (§3.3.2).

use crate::error::SrtpError;

/// How many packets behind the highest accepted one the replay window covers. RFC 3711
/// asks for at least 64.
pub const REPLAY_WINDOW: u64 = 128;

/// Largest SRTP packet index (48 bits: 32-bit ROC, 16-bit SEQ).
pub(crate) const MAX_RTP_INDEX: u64 = (1 << 48) - 1;

/// Largest SRTCP index (31 bits).
pub(crate) const MAX_RTCP_INDEX: u64 = (1 << 31) - 1;

/// The highest index accepted so far and which of the [`REPLAY_WINDOW`] indices below it
/// were seen. For SRTP, `highest` also carries the rollover counter (its top 32 bits) and
/// `s_l` (its low 16 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReplayWindow {
    highest: u64,
    // Bit k set: index `highest - k` was accepted.
    seen: u128,
}

impl ReplayWindow {
    /// A window whose only accepted index is `first`.
    pub(crate) fn new(first: u64) -> ReplayWindow {
        ReplayWindow {
            highest: first,
            seen: 1,
        }
    }

    /// The highest accepted index.
    pub(crate) fn highest(&self) -> u64 {
        self.highest
    }

    /// Whether `index` may be accepted: not seen before and not behind the window.
    pub(crate) fn check(&self, index: u64) -> Result<(), SrtpError> {
        if index > self.highest {
            return Ok(());
        }
        let behind = self.highest - index;
        if behind >= REPLAY_WINDOW {
            return Err(SrtpError::TooOld(index));
        }
        if self.seen >> behind & 1 == 1 {
            return Err(SrtpError::Replay(index));
        }
        Ok(())
    }

    /// Records `index` as accepted; call after [`check`](Self::check) passed and the packet
    /// authenticated.
    pub(crate) fn accept(&mut self, index: u64) {
        if index > self.highest {
            let ahead = index - self.highest;
            self.seen = if ahead >= REPLAY_WINDOW {
                0
            } else {
                self.seen << ahead
            };
            self.seen |= 1;
            self.highest = index;
        } else {
            self.seen |= 1 << (self.highest - index);
        }
    }
}

/// Estimates the 48-bit index of a packet with sequence number `seq`, given the highest index
/// accepted for its SSRC (`None` before the first: the index is then `seq`, with ROC 0).
///
/// This is RFC 3711 Appendix A: with ROC and `s_l` taken from the highest index, the guess
/// for the packet's ROC is ROC-1, ROC or ROC+1, whichever puts it closest to `s_l`. A guess
/// below 0 is a packet from before the stream began (`TooOld`); one above 2^32-1 means the
/// index space is used up.
pub(crate) fn estimate_rtp_index(highest: Option<u64>, seq: u16) -> Result<u64, SrtpError> {
    let Some(highest) = highest else {
        return Ok(u64::from(seq));
    };
    let roc = (highest >> 16) as i64;
    let s_l = (highest & 0xFFFF) as i64;
    let seq_i = i64::from(seq);
    let v = if s_l < 32_768 {
        if seq_i - s_l > 32_768 { roc - 1 } else { roc }
    } else if s_l - 32_768 > seq_i {
        roc + 1
    } else {
        roc
    };
    if v < 0 {
        return Err(SrtpError::TooOld(u64::from(seq)));
    }
    let index = ((v as u64) << 16) | u64::from(seq);
    if index > MAX_RTP_INDEX {
        return Err(SrtpError::IndexExhausted);
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_rejects_repeats_and_old_indices() {
        let mut w = ReplayWindow::new(1000);
        assert_eq!(w.check(1000), Err(SrtpError::Replay(1000)));
        assert_eq!(w.check(1001), Ok(()));
        assert_eq!(w.check(999), Ok(()));
        w.accept(999);
        assert_eq!(w.check(999), Err(SrtpError::Replay(999)));
        assert_eq!(w.check(1000 - 127), Ok(()));
        assert_eq!(w.check(1000 - 128), Err(SrtpError::TooOld(872)));
        w.accept(1100);
        assert_eq!(w.highest(), 1100);
        assert_eq!(w.check(1000), Err(SrtpError::Replay(1000)));
        assert_eq!(w.check(999), Err(SrtpError::Replay(999)));
        assert_eq!(w.check(1001), Ok(()));
        w.accept(5000);
        assert_eq!(w.check(1100), Err(SrtpError::TooOld(1100)));
        assert_eq!(w.check(4999), Ok(()));
        assert_eq!(w.check(5000), Err(SrtpError::Replay(5000)));
    }

    #[test]
    fn estimate_follows_appendix_a() {
        // First packet: ROC 0.
        assert_eq!(estimate_rtp_index(None, 65_535), Ok(65_535));
        // s_l high, SEQ low: the sender wrapped, ROC + 1.
        assert_eq!(estimate_rtp_index(Some(65_530), 3), Ok(65_536 + 3));
        // s_l low after a wrap, SEQ high: a late packet from before it, ROC - 1.
        assert_eq!(estimate_rtp_index(Some(65_536 + 3), 65_534), Ok(65_534));
        // Close to s_l either way: same ROC.
        assert_eq!(
            estimate_rtp_index(Some(5 << 16 | 100), 50),
            Ok(5 << 16 | 50)
        );
        assert_eq!(
            estimate_rtp_index(Some(5 << 16 | 100), 30_000),
            Ok(5 << 16 | 30_000)
        );
        // A late packet from before a stream that began near 0.
        assert_eq!(
            estimate_rtp_index(Some(10), 60_000),
            Err(SrtpError::TooOld(60_000))
        );
        // The last ROC cannot roll over.
        assert_eq!(
            estimate_rtp_index(Some(MAX_RTP_INDEX), 1),
            Err(SrtpError::IndexExhausted)
        );
    }
}
