//! RTCP for one channel: sender/receiver reports out, the peer's reports in.

use std::net::SocketAddr;

use tandem_codecs::rtcp::{self, Compound, ReportBlock, RtcpPacket, SenderInfo};

use super::rx::Rx;
use super::tx::Tx;
use crate::stats::ChannelStats;
use crate::time::Micros;

/// RFC 3550 §6.2's minimum report interval for a two-party session.
pub(crate) const REPORT_INTERVAL: Micros = Micros::from_secs(5);

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET_S: u64 = 2_208_988_800;

/// 64-bit NTP time for a Unix time.
pub(crate) fn ntp_from_unix(unix: Micros) -> u64 {
    let unix_us = unix.as_us();
    let secs = unix_us / 1_000_000 + NTP_UNIX_OFFSET_S;
    let frac = ((unix_us % 1_000_000) << 32) / 1_000_000;
    (secs << 32) | frac
}

/// RTCP state of a channel.
#[derive(Debug)]
pub(crate) struct RtcpState {
    /// When the next report is due.
    pub next_report: Micros,
    /// Middle 32 bits of the NTP time in the peer's last SR, and when it arrived.
    last_sr: Option<(u32, Micros)>,
    /// RFC 3550 A.3 interval counters.
    expected_prior: u64,
    received_prior: u64,
    /// Where the peer's RTCP comes from (preferred destination for ours).
    pub source: Option<SocketAddr>,
}

impl RtcpState {
    /// State whose first report is due at `first_report`.
    pub fn new(first_report: Micros) -> RtcpState {
        RtcpState {
            next_report: first_report,
            last_sr: None,
            expected_prior: 0,
            received_prior: 0,
            source: None,
        }
    }

    /// Parses a received compound packet and folds the peer's view of our stream into
    /// `stats`. Returns false (counted as an RTCP error) when the packet is invalid.
    pub fn receive(
        &mut self,
        now: Micros,
        now_ntp: u64,
        from: SocketAddr,
        data: &[u8],
        our_ssrc: u32,
        stats: &mut ChannelStats,
    ) -> bool {
        let Ok(compound) = Compound::parse(data) else {
            stats.rtcp_errors += 1;
            return false;
        };
        stats.rtcp_received += 1;
        stats.rtcp_bytes_received += data.len() as u64;
        self.source = Some(from);
        for p in compound.packets() {
            let blocks = match &p {
                RtcpPacket::SenderReport(sr) => {
                    self.last_sr = Some((rtcp::ntp_middle(sr.info.ntp), now));
                    Some(sr.blocks())
                }
                RtcpPacket::ReceiverReport(rr) => Some(rr.blocks()),
                _ => None,
            };
            for b in blocks.into_iter().flatten() {
                if b.ssrc != our_ssrc {
                    continue;
                }
                stats.remote_fraction_lost = f64::from(b.fraction_lost) / 256.0;
                stats.remote_cumulative_lost = b.cumulative_lost;
                stats.remote_jitter_us = u64::from(b.jitter) * 125;
                if let Some(rtt) = b.round_trip(rtcp::ntp_middle(now_ntp)) {
                    // 1/65536 s units; values over a minute are clock trouble, not RTT.
                    if rtt < 60 << 16 {
                        stats.round_trip_us = Some(u64::from(rtt) * 1_000_000 / 65_536);
                    }
                }
            }
        }
        true
    }

    /// Writes our compound report (SR if we have sent media, else RR; then SDES CNAME).
    pub fn write_report(&mut self, now: Micros, now_ntp: u64, tx: &Tx, rx: &Rx, out: &mut Vec<u8>) {
        let mut block = None;
        if let Some(ssrc) = rx.ssrc() {
            let seq = rx.seq();
            let expected = seq.expected();
            let received = seq.received();
            let expected_interval = expected.saturating_sub(self.expected_prior);
            let received_interval = received.saturating_sub(self.received_prior);
            self.expected_prior = expected;
            self.received_prior = received;
            let lost_interval = expected_interval as i64 - received_interval as i64;
            let (lsr, dlsr) = match self.last_sr {
                Some((mid, at)) => {
                    let delay = now.saturating_sub(at).as_us() * 65_536 / 1_000_000;
                    (mid, delay.min(u32::MAX as u64) as u32)
                }
                None => (0, 0),
            };
            block = Some(ReportBlock {
                ssrc,
                fraction_lost: rtcp::fraction_lost(expected_interval, lost_interval),
                cumulative_lost: seq.lost().clamp(-(1 << 23), (1 << 23) - 1) as i32,
                highest_seq: seq.extended_max() as u32,
                jitter: rx.jitter_units(),
                last_sr: lsr,
                delay_since_last_sr: dlsr,
            });
        }
        let blocks = block.as_slice();
        // Writing into a Vec cannot fail, and at most one block is well under the limits.
        if tx.sent_any() {
            let info = SenderInfo {
                ntp: now_ntp,
                rtp_timestamp: tx.timestamp_at(now),
                packet_count: tx.packets as u32,
                octet_count: tx.octets as u32,
            };
            let _ = rtcp::write_sr(out, tx.ssrc, &info, blocks);
        } else {
            let _ = rtcp::write_rr(out, tx.ssrc, blocks);
        }
        let mut cname = [0u8; 15];
        cname[..7].copy_from_slice(b"tandem-");
        for (i, nib) in (0..8).rev().enumerate() {
            cname[7 + i] = b"0123456789abcdef"[((tx.ssrc >> (nib * 4)) & 0xF) as usize];
        }
        let items: [(u8, &[u8]); 1] = [(1, &cname)];
        let _ = rtcp::write_sdes(out, &[(tx.ssrc, &items)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_conversion_matches_rfc_5905_epoch() {
        // 1970-01-01 is NTP second 2,208,988,800; half a second is 2^31 of fraction.
        assert_eq!(
            ntp_from_unix(Micros::from_us(500_000)),
            (2_208_988_800u64 << 32) | (1 << 31)
        );
    }
}
