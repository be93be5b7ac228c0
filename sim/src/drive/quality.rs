//! What a simulated phone checks in what it receives.
//!
//! [`StreamRx`] follows one marked stream (the far party's voice in a conversation): which
//! sequence numbers arrived (a bitmap, so loss patterns, reordering and duplicates are
//! exact), the RFC 3550 interarrival jitter from the send times in the markers, and the
//! one-way latency of every packet. Loss is counted RFC 3550-style between the first and
//! the highest sequence number received, so the packets still in flight when a call is
//! torn down are not losses. [`RtpRx`] follows the RTP stream the engine sends a phone
//! (prompts, music, ringback and the bridged voice, which the engine keeps as one stream)
//! by its sequence numbers.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::emodel::{self, Params, burst_ratio_from_counts};

/// Receive state of one marked stream.
#[derive(Clone, Debug, Default)]
pub struct StreamRx {
    first: Option<u32>,
    highest: u32,
    bits: Vec<u64>,
    received: u64,
    reordered: u64,
    duplicates: u64,
    before_first: u64,
    jitter_us: f64,
    last: Option<(u64, u64)>,
    latency_sum_us: u64,
    latency_max_us: u64,
}

/// What one stream measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct StreamSummary {
    /// Packets expected (first to highest sequence number received).
    pub expected: u64,
    /// Distinct packets received.
    pub received: u64,
    /// `expected − received`.
    pub lost: u64,
    /// Lost ÷ expected, percent.
    pub loss_pct: f64,
    /// Burst ratio of the loss pattern (1 = random).
    pub burst_r: f64,
    /// Packets that arrived after a later one.
    pub reordered: u64,
    /// Extra copies.
    pub duplicates: u64,
    /// RFC 3550 interarrival jitter at the end, ms.
    pub jitter_ms: f64,
    /// Mean one-way latency, ms.
    pub mean_latency_ms: f64,
    /// Largest one-way latency, ms.
    pub max_latency_ms: f64,
}

impl StreamRx {
    /// Takes a packet with sequence `seq` sent at `sent_us` and received at `at_us`;
    /// records its latency in `latencies` (µs).
    pub fn on_packet(
        &mut self,
        seq: u32,
        sent_us: u64,
        at_us: u64,
        latencies: &mut Histogram<u64>,
    ) {
        let latency = at_us.saturating_sub(sent_us);
        let first = *self.first.get_or_insert(seq);
        if seq < first {
            self.before_first += 1;
            return;
        }
        let idx = (seq - first) as usize;
        if idx / 64 >= self.bits.len() {
            self.bits.resize(idx / 64 + 1, 0);
        }
        let bit = 1u64 << (idx % 64);
        if self.bits[idx / 64] & bit != 0 {
            self.duplicates += 1;
            return;
        }
        self.bits[idx / 64] |= bit;
        self.received += 1;
        if self.received > 1 && seq < self.highest {
            self.reordered += 1;
        }
        self.highest = self.highest.max(seq);
        if let Some((last_at, last_sent)) = self.last {
            let d = (at_us as i64 - last_at as i64) - (sent_us as i64 - last_sent as i64);
            self.jitter_us += (d.unsigned_abs() as f64 - self.jitter_us) / 16.0;
        }
        self.last = Some((at_us, sent_us));
        self.latency_sum_us += latency;
        self.latency_max_us = self.latency_max_us.max(latency);
        let _ = latencies.record(latency.max(1));
    }

    /// Whether anything arrived.
    pub fn is_empty(&self) -> bool {
        self.received == 0
    }

    /// The figures so far.
    pub fn summary(&self) -> StreamSummary {
        let Some(first) = self.first else {
            return StreamSummary {
                burst_r: 1.0,
                ..StreamSummary::default()
            };
        };
        let expected = u64::from(self.highest - first) + 1;
        let lost = expected.saturating_sub(self.received);
        // Loss-pattern transitions over [first, highest].
        let (mut from_rx, mut rx_to_lost, mut from_lost, mut lost_to_rx) = (0, 0, 0, 0);
        let mut prev = true;
        for i in 1..expected as usize {
            let got = self.bits[i / 64] & (1 << (i % 64)) != 0;
            if prev {
                from_rx += 1;
                rx_to_lost += u64::from(!got);
            } else {
                from_lost += 1;
                lost_to_rx += u64::from(got);
            }
            prev = got;
        }
        StreamSummary {
            expected,
            received: self.received,
            lost,
            loss_pct: 100.0 * lost as f64 / expected as f64,
            burst_r: burst_ratio_from_counts(from_rx, rx_to_lost, from_lost, lost_to_rx),
            reordered: self.reordered,
            duplicates: self.duplicates,
            jitter_ms: self.jitter_us / 1000.0,
            mean_latency_ms: self.latency_sum_us as f64 / self.received.max(1) as f64 / 1000.0,
            max_latency_ms: self.latency_max_us as f64 / 1000.0,
        }
    }
}

/// How a phone's E-model inputs are derived from a stream's figures.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MouthToEar {
    /// Packetisation delay added to the measured latency, ms (one frame).
    pub packetisation_ms: f64,
    /// The receiving phone's jitter buffer is taken as this many times the measured jitter,
    /// at least `min_jitter_buffer_ms`.
    pub jitter_buffer_factor: f64,
    /// Smallest jitter buffer, ms.
    pub min_jitter_buffer_ms: f64,
    /// The phones conceal losses (G.711 Appendix I PLC: Bpl 25.1, else 4.3).
    pub plc: bool,
}

impl Default for MouthToEar {
    fn default() -> Self {
        MouthToEar {
            packetisation_ms: 20.0,
            jitter_buffer_factor: 2.0,
            min_jitter_buffer_ms: 20.0,
            plc: true,
        }
    }
}

impl MouthToEar {
    /// The mouth-to-ear delay of a stream: latency + packetisation + jitter buffer, ms.
    pub fn delay_ms(&self, s: &StreamSummary) -> f64 {
        s.mean_latency_ms
            + self.packetisation_ms
            + (self.jitter_buffer_factor * s.jitter_ms).max(self.min_jitter_buffer_ms)
    }

    /// The E-model rating of a stream.
    pub fn rate(&self, s: &StreamSummary) -> emodel::Rating {
        emodel::rate(&Params::g711(
            self.delay_ms(s),
            s.loss_pct,
            s.burst_r,
            self.plc,
        ))
    }
}

/// The RTP stream the engine sends one phone, by sequence number.
#[derive(Clone, Copy, Debug, Default)]
pub struct RtpRx {
    first: Option<u64>,
    highest: u64,
    received: u64,
}

impl RtpRx {
    /// Takes a packet with RTP sequence `seq`.
    pub fn on_packet(&mut self, seq: u16) {
        let ext = match self.first {
            None => {
                self.first = Some(u64::from(seq) + (1 << 16));
                self.highest = u64::from(seq) + (1 << 16);
                self.received = 1;
                return;
            }
            Some(_) => {
                // The extended value nearest the highest so far.
                let base = self.highest & !0xFFFF;
                let cands = [base.wrapping_sub(1 << 16), base, base + (1 << 16)];
                cands
                    .into_iter()
                    .map(|b| b | u64::from(seq))
                    .min_by_key(|v| v.abs_diff(self.highest))
                    .unwrap_or(self.highest)
            }
        };
        self.received += 1;
        self.highest = self.highest.max(ext);
    }

    /// Packets expected between the first and highest sequence numbers.
    pub fn expected(&self) -> u64 {
        self.first.map_or(0, |f| self.highest - f + 1)
    }

    /// Packets received.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Packets lost (never negative; duplicates can hide losses, as in RFC 3550).
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist() -> Histogram<u64> {
        Histogram::new_with_bounds(1, 60_000_000, 3).unwrap()
    }

    #[test]
    fn perfect_stream() {
        let mut h = hist();
        let mut s = StreamRx::default();
        for seq in 100..200 {
            let sent = u64::from(seq) * 20_000;
            s.on_packet(seq, sent, sent + 2_000, &mut h);
        }
        let r = s.summary();
        assert_eq!(
            (r.expected, r.received, r.lost, r.reordered),
            (100, 100, 0, 0)
        );
        assert_eq!((r.loss_pct, r.burst_r, r.jitter_ms), (0.0, 1.0, 0.0));
        assert!((r.mean_latency_ms - 2.0).abs() < 1e-9);
        assert_eq!(h.len(), 100);
        let e = MouthToEar::default().rate(&r);
        // 42 ms mouth to ear: only a little talker echo (Id ≈ 1.4).
        assert!(e.r > 91.5 && e.r < 93.2, "{e:?}");
    }

    #[test]
    fn loss_reordering_duplicates_and_jitter() {
        let mut h = hist();
        let mut s = StreamRx::default();
        // 0..100 with 10..15 lost (a burst), 50 and 51 swapped, 60 twice, alternating delay.
        let mut order: Vec<u32> = (0..100).filter(|q| !(10..15).contains(q)).collect();
        let i = order.iter().position(|&q| q == 50).unwrap();
        order.swap(i, i + 1);
        order.insert(order.iter().position(|&q| q == 61).unwrap(), 60);
        for &q in &order {
            let sent = u64::from(q) * 20_000;
            let delay = if q % 2 == 0 { 1_000 } else { 5_000 };
            s.on_packet(q, sent, sent + delay, &mut h);
        }
        let r = s.summary();
        assert_eq!((r.expected, r.received, r.lost), (100, 95, 5));
        assert_eq!((r.reordered, r.duplicates), (1, 1));
        assert!((r.loss_pct - 5.0).abs() < 1e-9);
        // One burst of 5 in 100: p = 1/95, q = 1/5, BurstR = 1/(p + q) ≈ 4.75.
        assert!((r.burst_r - 4.75).abs() < 0.05, "{}", r.burst_r);
        assert!(r.jitter_ms > 2.0 && r.jitter_ms < 4.5, "{}", r.jitter_ms);
        assert_eq!(r.max_latency_ms, 5.0);
    }

    #[test]
    fn rtp_sequence_wraps() {
        let mut r = RtpRx::default();
        for k in 0..200u32 {
            if k != 150 {
                r.on_packet((65_500 + k) as u16);
            }
        }
        assert_eq!((r.expected(), r.received(), r.lost()), (200, 199, 1));
    }
}
