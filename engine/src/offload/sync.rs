//! Reading the kernel's counters back into the shard: what a stream's counters mean on
//! the shard's clock, and what changed since the last read.

use tandem_kfwd::StreamCounters;

use crate::time::Micros;

/// The shard's clock and the kernel's monotonic clock read at one instant, to convert
/// between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelClock {
    /// The shard's time.
    pub now: Micros,
    /// `tandem_kfwd::monotonic_ns()` at the same instant.
    pub mono_ns: u64,
}

impl KernelClock {
    /// A kernel time on the shard's clock (never later than `now`).
    pub fn to_shard(&self, ns: u64) -> Micros {
        self.now
            .saturating_sub(Micros::from_us(self.mono_ns.saturating_sub(ns) / 1_000))
    }

    /// A shard time on the kernel's clock.
    pub fn to_kernel(&self, at: Micros) -> u64 {
        self.mono_ns
            .saturating_sub(self.now.saturating_sub(at).as_us().saturating_mul(1_000))
    }
}

/// What the kernel did for a stream since the counters were last read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    /// Packets forwarded.
    pub packets: u64,
    /// Payload octets forwarded.
    pub octets: u64,
    /// Packets from other sources dropped under a strict source check.
    pub wrong_source: u64,
    /// The incoming stream: highest extended sequence number, last in-order `(seq, ts)`,
    /// jitter × 16.
    pub source: Option<(u64, (u16, u32), u32)>,
    /// When the last packet was forwarded.
    pub last_rx: Option<Micros>,
    /// The output: highest sequence number sent, its timestamp and when.
    pub sent: Option<(u16, u32, Micros)>,
}

/// Counters already taken into the shard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Seen {
    packets: u64,
    octets: u64,
    wrong_source: u64,
    passed_media: u64,
}

/// Packets passed up that userspace handles as media: anything but RTCP and RFC 4733
/// events (which userspace forwards with the same offsets and no change of state).
fn passed_media(c: &StreamCounters) -> u64 {
    c.passed.total() - c.passed.rtcp - c.passed.telephone_event
}

impl Seen {
    /// Takes `c` in, returning what is new. `None` for a position means the kernel saw
    /// nothing of it yet.
    pub fn take(&mut self, c: &StreamCounters, clock: KernelClock) -> Progress {
        let p = Progress {
            packets: c.packets.saturating_sub(self.packets),
            octets: c.octets.saturating_sub(self.octets),
            wrong_source: c.dropped.wrong_source.saturating_sub(self.wrong_source),
            source: c
                .source
                .filter(|_| c.packets > self.packets)
                .map(|s| (s.extended_max(), (s.last_seq, s.last_ts), c.jitter_q4)),
            last_rx: c
                .last_forwarded_ns
                .filter(|_| c.packets > self.packets)
                .map(|ns| clock.to_shard(ns)),
            sent: c
                .output
                .filter(|_| c.packets > self.packets)
                .map(|o| (o.seq, o.ts, clock.to_shard(o.at_ns))),
        };
        self.packets = self.packets.max(c.packets);
        self.octets = self.octets.max(c.octets);
        self.wrong_source = self.wrong_source.max(c.dropped.wrong_source);
        p
    }

    /// Whether media reached userspace since the last call (a new SSRC, a jump, another
    /// source, another payload type: the stream's state is userspace's to judge, so it
    /// must come back).
    pub fn media_passed_up(&mut self, c: &StreamCounters) -> bool {
        let now = passed_media(c);
        let more = now > self.passed_media;
        self.passed_media = now;
        more
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_kfwd::{OutputPosition, SourcePosition};

    fn counters(packets: u64, seq: u16, at_ns: u64) -> StreamCounters {
        let mut c = StreamCounters::default();
        c.packets = packets;
        c.octets = packets * 160;
        c.last_forwarded_ns = Some(at_ns);
        c.source = Some(SourcePosition {
            max_seq: seq,
            cycles: 2,
            last_seq: seq,
            last_ts: u32::from(seq) * 160,
        });
        c.output = Some(OutputPosition {
            seq: seq.wrapping_add(7),
            ts: 99,
            at_ns,
        });
        c.jitter_q4 = 48;
        c
    }

    #[test]
    fn clocks_convert_both_ways_around_the_common_instant() {
        let clock = KernelClock {
            now: Micros::from_secs(10),
            mono_ns: 5_000_000_000,
        };
        assert_eq!(clock.to_shard(4_980_000_000), Micros::from_ms(9_980));
        assert_eq!(clock.to_kernel(Micros::from_ms(9_980)), 4_980_000_000);
        assert_eq!(
            clock.to_shard(6_000_000_000),
            clock.now,
            "never in the future"
        );
    }

    #[test]
    fn each_read_yields_only_what_is_new() {
        let clock = KernelClock {
            now: Micros::from_secs(10),
            mono_ns: 5_000_000_000,
        };
        let mut seen = Seen::default();
        let p = seen.take(&counters(50, 1000, 4_990_000_000), clock);
        assert_eq!((p.packets, p.octets), (50, 8000));
        assert_eq!(p.source, Some(((2 << 16) | 1000, (1000, 160_000), 48)));
        assert_eq!(p.sent, Some((1007, 99, Micros::from_ms(9_990))));
        assert_eq!(p.last_rx, Some(Micros::from_ms(9_990)));
        let p = seen.take(&counters(80, 1030, 4_995_000_000), clock);
        assert_eq!((p.packets, p.octets), (30, 4800));
        // Nothing new: no position either, so an older read never moves a stream back.
        let p = seen.take(&counters(80, 1030, 4_995_000_000), clock);
        assert_eq!(p, Progress::default());
    }

    #[test]
    fn rtcp_and_events_passed_up_are_not_a_reason_to_come_back() {
        let mut seen = Seen::default();
        let mut c = counters(1, 1, 1);
        c.passed.rtcp = 3;
        c.passed.telephone_event = 9;
        assert!(!seen.media_passed_up(&c));
        c.passed.ssrc = 1;
        assert!(seen.media_passed_up(&c));
        assert!(!seen.media_passed_up(&c), "counted once");
    }
}
