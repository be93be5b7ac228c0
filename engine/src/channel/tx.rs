//! The send side of a channel: one outgoing RTP stream whose SSRC, sequence number and
//! timestamp stay continuous whatever feeds it (a bridged peer in pass-through, a jitter
//! buffer's playout, later a room or a player).
//!
//! Each feed is identified by a [`FeedKey`]. While the key stays the same, a pass-through
//! feed keeps a fixed offset between its sequence/timestamp and ours, so its losses and
//! reordering show through unchanged. When the key changes (a transfer, a new SSRC, a
//! timestamp jump), a new offset is chosen so our sequence continues at +1 and our timestamp
//! advances by the wall-clock time since our last packet, and the marker bit flags the start.

use crate::time::Micros;

/// Identifies what currently feeds a channel's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FeedKey {
    /// The source channel (its raw id), or a reserved value for the tick-driven playout.
    pub source: u64,
    /// The source's stream epoch (see `rx::Accepted::epoch`).
    pub epoch: u32,
}

#[derive(Clone, Copy, Debug)]
struct Mapping {
    key: FeedKey,
    seq_off: u16,
    ts_off: u32,
}

/// Send state of a channel.
#[derive(Debug)]
pub(crate) struct Tx {
    /// Our SSRC.
    pub ssrc: u32,
    /// Highest sequence number sent.
    last_seq: u16,
    /// Timestamp of the packet with `last_seq`.
    last_ts: u32,
    /// When that packet was sent.
    last_send: Micros,
    sent_any: bool,
    mapping: Option<Mapping>,
    /// The last telephone-event start timestamp seen from the tick-driven feed, and where
    /// it was placed on our timeline.
    event_map: Option<(u32, u32)>,
    /// The codec's RTP clock, Hz (how far the timestamp moves per second).
    pub clock_rate: u32,
    /// RTP packets and payload octets sent (for SR).
    pub packets: u64,
    /// Payload octets sent.
    pub octets: u64,
}

/// Sequence number, timestamp and marker for one outgoing packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// Sequence number.
    pub seq: u16,
    /// Timestamp.
    pub ts: u32,
    /// Marker bit.
    pub marker: bool,
}

impl Tx {
    /// A fresh stream with the given SSRC and random initial sequence and timestamp (RFC
    /// 3550 §5.1 wants both unpredictable).
    pub fn new(ssrc: u32, initial_seq: u16, initial_ts: u32, clock_rate: u32) -> Tx {
        Tx {
            clock_rate,
            ssrc,
            last_seq: initial_seq.wrapping_sub(1),
            last_ts: initial_ts,
            last_send: Micros::ZERO,
            sent_any: false,
            mapping: None,
            event_map: None,
            packets: 0,
            octets: 0,
        }
    }

    /// Where our timeline continues at `now` after a change of feed: the next sequence
    /// number, and the last timestamp advanced by the elapsed wall-clock time (at least one
    /// sample, so two packets never share a timestamp by accident).
    fn continuation(&self, now: Micros) -> (u16, u32) {
        let seq = self.last_seq.wrapping_add(1);
        if !self.sent_any {
            return (seq, self.last_ts);
        }
        let elapsed =
            now.saturating_sub(self.last_send).as_us() * u64::from(self.clock_rate) / 1_000_000;
        let ts = self
            .last_ts
            .wrapping_add(elapsed.clamp(1, u32::MAX as u64 / 2) as u32);
        (seq, ts)
    }

    /// Stamps a packet forwarded from `key` with its source sequence and timestamp.
    pub fn forward(&mut self, now: Micros, key: FeedKey, seq: u16, ts: u32, marker: bool) -> Stamp {
        let mut marker = marker;
        let map = match self.mapping {
            Some(m) if m.key == key => m,
            _ => {
                let (out_seq, out_ts) = self.continuation(now);
                let m = Mapping {
                    key,
                    seq_off: out_seq.wrapping_sub(seq),
                    ts_off: out_ts.wrapping_sub(ts),
                };
                self.mapping = Some(m);
                self.event_map = None;
                marker = true;
                m
            }
        };
        let stamp = Stamp {
            seq: seq.wrapping_add(map.seq_off),
            ts: ts.wrapping_add(map.ts_off),
            marker,
        };
        self.record(now, stamp);
        stamp
    }

    /// Stamps a packet the channel framed itself (repacketised audio, a generated tone or
    /// event) from feed `key`, whose first sample has source timestamp `ts`: the timestamp
    /// goes through the feed's fixed offset like a forwarded packet's, the sequence number
    /// is simply the next one.
    pub fn repacked(&mut self, now: Micros, key: FeedKey, ts: u32, marker: bool) -> Stamp {
        let mut marker = marker;
        let map = match self.mapping {
            Some(m) if m.key == key => m,
            _ => {
                let out_ts = self.continuation(now).1;
                let m = Mapping {
                    key,
                    seq_off: 0,
                    ts_off: out_ts.wrapping_sub(ts),
                };
                self.mapping = Some(m);
                self.event_map = None;
                marker = true;
                m
            }
        };
        let stamp = Stamp {
            seq: self.last_seq.wrapping_add(1),
            ts: ts.wrapping_add(map.ts_off),
            marker,
        };
        self.record(now, stamp);
        stamp
    }

    /// Stamps a packet inserted into a forwarded feed (an event's retransmission): the
    /// next sequence number, and the feed's later packets shift by one so none collides.
    pub fn inserted(&mut self, ts: u32) -> Stamp {
        self.last_seq = self.last_seq.wrapping_add(1);
        if let Some(m) = self.mapping.as_mut() {
            m.seq_off = m.seq_off.wrapping_add(1);
        }
        Stamp {
            seq: self.last_seq,
            ts,
            marker: false,
        }
    }

    /// Stamps the next frame of a tick-driven feed (`samples` long).
    pub fn next_frame(&mut self, now: Micros, key: FeedKey, samples: u32) -> Stamp {
        let continuing = matches!(self.mapping, Some(m) if m.key == key);
        let stamp = if continuing {
            Stamp {
                seq: self.last_seq.wrapping_add(1),
                ts: self.last_ts.wrapping_add(samples),
                marker: false,
            }
        } else {
            let (seq, ts) = self.continuation(now);
            self.mapping = Some(Mapping {
                key,
                seq_off: 0,
                ts_off: 0,
            });
            self.event_map = None;
            Stamp {
                seq,
                ts,
                marker: true,
            }
        };
        self.record(now, stamp);
        stamp
    }

    /// Stamps a telephone-event packet for a tick-driven feed: every packet of one event
    /// (same source timestamp) gets the timestamp our timeline had when the event began.
    pub fn next_event(&mut self, now: Micros, src_event_ts: u32, marker: bool) -> Stamp {
        let ts = match self.event_map {
            Some((src, out)) if src == src_event_ts => out,
            _ => {
                let out = self.continuation(now).1;
                self.event_map = Some((src_event_ts, out));
                out
            }
        };
        let stamp = Stamp {
            seq: self.last_seq.wrapping_add(1),
            ts,
            marker,
        };
        // Events do not move the audio timeline: only the sequence number advances.
        self.last_seq = stamp.seq;
        stamp
    }

    /// Stamps one tick of a generated telephone-event (`digit` identifies the event): the
    /// timeline advances like an audio frame, and every packet of the event carries the
    /// timestamp of its first, with the marker on the first.
    pub fn event_frame(&mut self, now: Micros, key: FeedKey, samples: u32, digit: u32) -> Stamp {
        let frame = self.next_frame(now, key, samples);
        match self.event_map {
            Some((d, ts)) if d == digit => Stamp {
                ts,
                marker: false,
                ..frame
            },
            _ => {
                self.event_map = Some((digit, frame.ts));
                Stamp {
                    marker: true,
                    ..frame
                }
            }
        }
    }

    /// Stamps a retransmission of the last event packet: next sequence number, same
    /// timestamp.
    pub fn event_repeat(&mut self) -> Stamp {
        self.last_seq = self.last_seq.wrapping_add(1);
        Stamp {
            seq: self.last_seq,
            ts: self.event_map.map_or(self.last_ts, |(_, ts)| ts),
            marker: false,
        }
    }

    fn record(&mut self, now: Micros, stamp: Stamp) {
        let newer = !self.sent_any || (stamp.seq.wrapping_sub(self.last_seq) as i16) > 0;
        if newer {
            self.last_seq = stamp.seq;
            self.last_ts = stamp.ts;
            self.last_send = now;
        }
        self.sent_any = true;
    }

    /// The RTP timestamp our timeline has at `now` (for the SR's NTP/RTP pair).
    pub fn timestamp_at(&self, now: Micros) -> u32 {
        let elapsed =
            now.saturating_sub(self.last_send).as_us() * u64::from(self.clock_rate) / 1_000_000;
        self.last_ts.wrapping_add(elapsed as u32)
    }

    /// Whether anything was sent yet.
    pub fn sent_any(&self) -> bool {
        self.sent_any
    }

    /// The fixed `(seq_off, ts_off)` of feed `key`, if it is the current feed.
    pub(crate) fn feed_offsets(&self, key: FeedKey) -> Option<(u16, u32)> {
        self.mapping
            .filter(|m| m.key == key)
            .map(|m| (m.seq_off, m.ts_off))
    }

    /// The highest sequence number sent, its timestamp and when, if anything was sent.
    pub(crate) fn last_sent(&self) -> Option<(u16, u32, Micros)> {
        self.sent_any
            .then_some((self.last_seq, self.last_ts, self.last_send))
    }

    /// Takes over packets another sender (the kernel fast path) sent on this stream with
    /// the current feed's offsets: the highest sent becomes `(seq, ts)` at `at` if it is
    /// newer than ours.
    pub(crate) fn sent_elsewhere(
        &mut self,
        seq: u16,
        ts: u32,
        at: Micros,
        packets: u64,
        octets: u64,
    ) {
        self.record(
            at,
            Stamp {
                seq,
                ts,
                marker: false,
            },
        );
        self.packets += packets;
        self.octets += octets;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Micros {
        Micros::from_us(n)
    }

    const A: FeedKey = FeedKey {
        source: 1,
        epoch: 0,
    };
    const B: FeedKey = FeedKey {
        source: 2,
        epoch: 0,
    };

    #[test]
    fn a_steady_feed_keeps_its_offsets_so_gaps_show_through() {
        let mut tx = Tx::new(7, 1000, 50_000, 8000);
        let s0 = tx.forward(us(0), A, 10, 800, false);
        assert_eq!((s0.seq, s0.ts, s0.marker), (1000, 50_000, true));
        let s1 = tx.forward(us(20_000), A, 11, 960, false);
        assert_eq!((s1.seq, s1.ts, s1.marker), (1001, 50_160, false));
        // Packet 12 lost: 13 keeps its place.
        let s3 = tx.forward(us(60_000), A, 13, 1280, false);
        assert_eq!((s3.seq, s3.ts), (1003, 50_480));
    }

    #[test]
    fn a_new_feed_continues_the_sequence_and_the_clock() {
        let mut tx = Tx::new(7, 65_535, u32::MAX - 100, 8000);
        tx.forward(us(0), A, 500, 9_000, false);
        tx.forward(us(20_000), A, 501, 9_160, false);
        // Transfer: B starts 100 ms after A's last packet, from unrelated numbers.
        let s = tx.forward(us(120_000), B, 40_000, 123_456, false);
        assert_eq!(s.seq, 1); // 65535, 0, then 1: no gap across the wrap
        assert_eq!(s.ts, (u32::MAX - 100).wrapping_add(160 + 800));
        assert!(s.marker);
    }

    #[test]
    fn tick_frames_advance_by_their_length_and_events_hold_their_start() {
        let mut tx = Tx::new(7, 0, 0, 8000);
        let k = FeedKey {
            source: 0,
            epoch: 0,
        };
        let f0 = tx.next_frame(us(0), k, 160);
        let f1 = tx.next_frame(us(20_000), k, 160);
        assert_eq!((f0.seq, f0.ts, f1.seq, f1.ts), (0, 0, 1, 160));
        let e0 = tx.next_event(us(30_000), 777, true);
        let e1 = tx.next_event(us(40_000), 777, false);
        assert_eq!((e0.seq, e1.seq), (2, 3));
        assert_eq!(e0.ts, e1.ts);
        let f2 = tx.next_frame(us(40_000), k, 160);
        assert_eq!((f2.seq, f2.ts), (4, 320));
    }
}
