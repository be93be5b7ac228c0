//! Repacketisation: a channel's output re-framed to its own packetisation time.
//!
//! Whatever packet length the peer sends (10 to 60 ms, or anything else), the samples are
//! buffered in the channel's law and a packet of exactly one frame goes out as soon as the
//! frame is full. The buffer holds at most one frame, so nothing grows and nothing is
//! allocated per packet.
//!
//! The output timestamp of a frame is its first sample's source timestamp through the
//! feed's fixed offset ([`super::tx::Tx::repacked`]), so timing, losses and silences keep
//! their place; the sequence number is the channel's own and advances by one per packet.
//! A discontinuity (a lost packet, a talk spurt's marker, a new feed) sends the partial
//! frame as a short packet first, so no sample is held back behind a gap, and the next
//! frame starts at the discontinuity (with the marker when the source set one).

use tandem_codecs::g711::{self, Law};

use super::tx::FeedKey;

/// Longest frame (60 ms at 8 kHz).
pub(crate) const MAX_FRAME: usize = 480;

/// The re-framing buffer of one channel's output.
#[derive(Debug)]
pub(crate) struct Repacker {
    /// Samples per output packet.
    frame: usize,
    buf: [u8; MAX_FRAME],
    fill: usize,
    /// Source timestamp of the first buffered sample.
    start_ts: u32,
    /// Whether the buffered frame starts a talk spurt.
    marker: bool,
    /// The feed the buffer belongs to, and the source timestamp just past its last sample.
    feed: Option<(FeedKey, u32)>,
}

impl Repacker {
    /// A repacker to `ptime_ms` (clamped to 10..=60 ms).
    pub fn new(ptime_ms: u32) -> Repacker {
        let frame = (ptime_ms.clamp(10, 60) * 8) as usize;
        Repacker {
            frame,
            buf: [0; MAX_FRAME],
            fill: 0,
            start_ts: 0,
            marker: false,
            feed: None,
        }
    }

    /// Takes one packet of feed `key` in `from` (`src_ts` its source timestamp, `None` for
    /// a tick-driven feed that continues where it left off), stores it in `to`, and calls
    /// `emit(source timestamp, marker, payload)` for every full frame (and for a partial
    /// one a discontinuity cuts short).
    pub fn push(
        &mut self,
        key: FeedKey,
        src_ts: Option<u32>,
        marker: bool,
        (from, to): (Law, Law),
        payload: &[u8],
        mut emit: impl FnMut(u32, bool, &[u8]),
    ) {
        let expected = match self.feed {
            Some((k, next)) if k == key => Some(next),
            _ => None,
        };
        let ts = src_ts.or(expected).unwrap_or(0);
        if expected != Some(ts) || marker {
            self.flush(&mut emit);
            self.marker = marker;
        }
        let mut ts_at = ts;
        let mut rest = payload;
        while !rest.is_empty() {
            if self.fill == 0 {
                self.start_ts = ts_at;
            }
            let n = rest.len().min(self.frame - self.fill);
            let dst = &mut self.buf[self.fill..self.fill + n];
            if from == to {
                dst.copy_from_slice(&rest[..n]);
            } else {
                g711::transcode_frame(from, to, &rest[..n], dst);
            }
            self.fill += n;
            ts_at = ts_at.wrapping_add(n as u32);
            rest = &rest[n..];
            if self.fill == self.frame {
                self.flush(&mut emit);
            }
        }
        self.feed = Some((key, ts_at));
    }

    /// Sends what is buffered, if anything.
    fn flush(&mut self, emit: &mut impl FnMut(u32, bool, &[u8])) {
        if self.fill > 0 {
            emit(self.start_ts, self.marker, &self.buf[..self.fill]);
            self.fill = 0;
            self.marker = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: FeedKey = FeedKey {
        source: 1,
        epoch: 0,
    };

    fn run(r: &mut Repacker, packets: &[(u32, bool, Vec<u8>)]) -> Vec<(u32, bool, Vec<u8>)> {
        let mut out = Vec::new();
        for (ts, m, p) in packets {
            r.push(K, Some(*ts), *m, (Law::Alaw, Law::Alaw), p, |t, m, b| {
                out.push((t, m, b.to_vec()))
            });
        }
        out
    }

    fn stream(ptime: usize, count: usize, ts0: u32) -> Vec<(u32, bool, Vec<u8>)> {
        let n = ptime * 8;
        (0..count)
            .map(|i| {
                let p = (0..n).map(|j| ((i * n + j) % 251) as u8).collect();
                (ts0.wrapping_add((i * n) as u32), i == 0, p)
            })
            .collect()
    }

    #[test]
    fn every_ptime_pair_reframes_bit_exact_with_contiguous_timestamps() {
        for from in [10, 20, 30, 40, 60] {
            for to in [10, 20, 30, 40, 60] {
                let input = stream(from, 24, u32::MAX - 500);
                let mut r = Repacker::new(to as u32);
                let out = run(&mut r, &input);
                let sent: Vec<u8> = input.iter().flat_map(|p| p.2.clone()).collect();
                let got: Vec<u8> = out.iter().flat_map(|p| p.2.clone()).collect();
                let whole = sent.len() / (to * 8) * (to * 8);
                assert_eq!(got, sent[..whole], "{from} -> {to}");
                for (i, (ts, m, p)) in out.iter().enumerate() {
                    assert_eq!(p.len(), to * 8, "{from} -> {to}");
                    assert_eq!(*ts, (u32::MAX - 500).wrapping_add((i * to * 8) as u32));
                    assert_eq!(*m, i == 0);
                }
            }
        }
    }

    #[test]
    fn a_lost_packet_sends_the_partial_frame_and_keeps_the_timing() {
        let mut input = stream(20, 5, 1000);
        input.remove(2); // ts 1320..1480 lost
        let mut r = Repacker::new(30);
        let out = run(&mut r, &input);
        // 320 samples before the gap: one 240 frame, then the 80 left go out short.
        assert_eq!(
            out.iter().map(|o| (o.0, o.2.len())).collect::<Vec<_>>(),
            vec![(1000, 240), (1240, 80), (1480, 240)]
        );
    }

    proptest::proptest! {
        /// Any packet sizes, any ptime, any lost packets: every sample sent arrives once, in
        /// order, at its own timestamp; only the frame cut by a loss is short.
        #[test]
        fn samples_arrive_once_in_order_at_their_timestamps(
            ptime in 10u32..=60,
            sizes in proptest::collection::vec((1usize..=640, proptest::bool::weighted(0.1)), 1..40),
        ) {
            let mut r = Repacker::new(ptime);
            let mut ts = 7u32;
            let mut sent: Vec<(u32, u8)> = Vec::new();
            let mut got: Vec<(u32, u8)> = Vec::new();
            for (k, (n, lost)) in sizes.into_iter().enumerate() {
                let p: Vec<u8> = (0..n).map(|i| (i + k) as u8).collect();
                if !lost {
                    sent.extend(p.iter().enumerate().map(|(i, &b)| (ts + i as u32, b)));
                    r.push(K, Some(ts), false, (Law::Alaw, Law::Alaw), &p, |t, _, b| {
                        assert!(b.len() <= (ptime * 8) as usize);
                        got.extend(b.iter().enumerate().map(|(i, &x)| (t + i as u32, x)));
                    });
                }
                ts += n as u32;
            }
            proptest::prop_assert_eq!(&sent[..got.len()], &got[..]);
            proptest::prop_assert!(sent.len() - got.len() < (ptime * 8) as usize);
        }
    }

    #[test]
    fn transcoding_happens_on_the_way_in() {
        let mut r = Repacker::new(10);
        let pcmu: Vec<u8> = (0..160).map(|i| (i * 3 % 256) as u8).collect();
        let mut out = Vec::new();
        r.push(
            K,
            Some(0),
            false,
            (Law::Ulaw, Law::Alaw),
            &pcmu,
            |_, _, b| out.extend_from_slice(b),
        );
        let mut want = vec![0; 160];
        g711::transcode_frame(Law::Ulaw, Law::Alaw, &pcmu, &mut want);
        assert_eq!(out, want);
    }
}
