//! What a stream handed to the kernel is: where it arrives, whom it is accepted from, and
//! the packet the relay would have sent for it.

use std::net::SocketAddrV4;

use crate::error::Error;
use crate::layout::{
    self, NO_EVENT_PT, RULE_CHECK_SSRC, RULE_LOCAL_PEER, RULE_REINJECT_LOCAL, RULE_STRICT_SOURCE,
    STATE_OUT, STATE_SRC,
};

/// Longest payload (bytes) the kernel transcodes: 30 ms of G.711. Longer packets of a
/// transcoding stream go to userspace.
pub const MAX_TRANSCODE_PAYLOAD: usize = 240;

/// Whom a stream's packets are accepted from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceCheck {
    /// Only this address; anything else is dropped in the kernel and counted.
    Strict(SocketAddrV4),
    /// The address the relay latched onto; anything else goes up to userspace (which may
    /// latch again under its own rules) and is counted.
    Latched(SocketAddrV4),
}

impl SourceCheck {
    /// The address accepted.
    pub fn addr(self) -> SocketAddrV4 {
        match self {
            SourceCheck::Strict(a) | SourceCheck::Latched(a) => a,
        }
    }
}

/// Payload conversion applied in the kernel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transcode {
    /// The payload is copied as it is.
    #[default]
    None,
    /// G.711 μ-law in, A-law out (`tandem_codecs::g711::ulaw_to_alaw` per byte).
    UlawToAlaw,
    /// G.711 A-law in, μ-law out (`tandem_codecs::g711::alaw_to_ulaw` per byte).
    AlawToUlaw,
}

impl Transcode {
    fn code(self) -> u8 {
        match self {
            Transcode::None => 0,
            Transcode::UlawToAlaw => 1,
            Transcode::AlawToUlaw => 2,
        }
    }
}

/// The packet the relay sends for each packet of the stream: from its own output address to
/// the peer, as the next packet of the output stream it was already producing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Output {
    /// The relay's address and port the peer receives from (the other leg's local port).
    pub from: SocketAddrV4,
    /// The peer.
    pub to: SocketAddrV4,
    /// The output stream's SSRC.
    pub ssrc: u32,
    /// The payload type written.
    pub payload_type: u8,
    /// Added (wrapping) to each incoming sequence number: the userspace sender's offset for
    /// this feed, so the output sequence continues without a gap.
    pub seq_offset: u16,
    /// Added (wrapping) to each incoming timestamp, likewise.
    pub ts_offset: u32,
    /// Payload conversion.
    pub transcode: Transcode,
}

/// Where the incoming stream stands (RFC 3550 A.1 state), handed over in either direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourcePosition {
    /// Highest sequence number received.
    pub max_seq: u16,
    /// Times the sequence number wrapped.
    pub cycles: u32,
    /// Sequence number of the last packet received in order (the timestamp-jump check
    /// compares with it).
    pub last_seq: u16,
    /// Timestamp of that packet.
    pub last_ts: u32,
}

impl SourcePosition {
    /// The extended highest sequence number (RFC 3550 §6.4.1).
    pub fn extended_max(&self) -> u64 {
        (u64::from(self.cycles) << 16) | u64::from(self.max_seq)
    }
}

/// Where the output stream stands: its highest sequence number sent, that packet's
/// timestamp and when it was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputPosition {
    /// Highest sequence number sent.
    pub seq: u16,
    /// Timestamp of that packet.
    pub ts: u32,
    /// When it was sent, on the kernel's monotonic clock (see [`crate::monotonic_ns`]).
    pub at_ns: u64,
}

/// When an incoming packet is a discontinuity that userspace must judge (new epoch, sender
/// restart): the thresholds the userspace receiver uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Discontinuity {
    /// A sequence number this far ahead of the highest (or further) is a jump (RFC 3550
    /// A.1 `MAX_DROPOUT`).
    pub max_dropout: u16,
    /// A sequence number more than this far behind the highest is a jump (RFC 3550 A.1
    /// `MAX_MISORDER`).
    pub max_misorder: u16,
    /// A timestamp further than this many samples from what the sequence number predicts.
    pub max_ts_jump: u32,
}

impl Default for Discontinuity {
    /// RFC 3550 A.1's values, and 2.5 s at 8 kHz for the timestamp.
    fn default() -> Self {
        Discontinuity {
            max_dropout: 3000,
            max_misorder: 100,
            max_ts_jump: 20_000,
        }
    }
}

/// Where the output goes, as the kernel's output route says when the stream is added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Route {
    /// The interface towards the peer.
    pub ifindex: u32,
    /// The peer is an address of this host.
    pub local: bool,
    /// Loopback accepts packets with a local source (`accept_local`), so a packet for a
    /// local peer arriving on another interface can be re-injected there.
    pub reinject_local: bool,
}

/// One direction of a pass-through bridge, handed to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamRule {
    /// The relay's address and port the stream arrives at. An unspecified address
    /// (`0.0.0.0`) matches the port on every address.
    pub local: SocketAddrV4,
    /// Whom packets are accepted from.
    pub source: SourceCheck,
    /// Only this SSRC is forwarded; another goes up to userspace. `None` accepts any (the
    /// output still continues with the same offsets, so prefer pinning it).
    pub source_ssrc: Option<u32>,
    /// The incoming audio payload type; other payload types go up to userspace.
    pub payload_type: u8,
    /// The incoming RFC 4733 payload type, counted separately when passed up.
    pub telephone_event_pt: Option<u8>,
    /// Samples per packet of the incoming stream (for the timestamp-jump check).
    pub samples_per_packet: u16,
    /// What each forwarded packet becomes.
    pub output: Output,
    /// Thresholds for passing a discontinuity up.
    pub discontinuity: Discontinuity,
    /// The incoming stream's position so far, if any packet was received in userspace.
    pub source_position: Option<SourcePosition>,
    /// The output stream's position so far, if userspace sent anything.
    pub output_position: Option<OutputPosition>,
    /// RFC 3550 jitter estimate so far, in timestamp units × 16.
    pub jitter_q4: u32,
}

impl StreamRule {
    /// A rule for `local` from `source` with 20 ms G.711 (`payload_type`, 160 samples per
    /// packet), no telephone events, RFC 3550 thresholds and no prior position.
    pub fn new(
        local: SocketAddrV4,
        source: SourceCheck,
        payload_type: u8,
        output: Output,
    ) -> StreamRule {
        StreamRule {
            local,
            source,
            source_ssrc: None,
            payload_type,
            telephone_event_pt: None,
            samples_per_packet: 160,
            output,
            discontinuity: Discontinuity::default(),
            source_position: None,
            output_position: None,
            jitter_q4: 0,
        }
    }

    /// Checks the rule and lays it out for the map, with its stats seed and the route to
    /// the peer.
    pub(crate) fn encode(
        &self,
        slot: u32,
        generation: u32,
        route: Route,
    ) -> Result<(layout::Key, layout::Rule, layout::Stats), Error> {
        for (pt, what) in [
            (self.payload_type, "payload_type"),
            (self.output.payload_type, "output.payload_type"),
        ] {
            if pt > 127 {
                return Err(Error::InvalidRule(what));
            }
        }
        if matches!(self.telephone_event_pt, Some(pt) if pt > 127 || pt == self.payload_type) {
            return Err(Error::InvalidRule("telephone_event_pt"));
        }
        if self.samples_per_packet == 0 {
            return Err(Error::InvalidRule("samples_per_packet"));
        }
        let d = self.discontinuity;
        if d.max_dropout == 0 || d.max_misorder == 0 {
            return Err(Error::InvalidRule("discontinuity"));
        }
        let src = self.source.addr();
        if src.ip().is_unspecified() || src.port() == 0 {
            return Err(Error::InvalidRule("source"));
        }
        let out = self.output;
        if out.from.ip().is_unspecified() || out.to.ip().is_unspecified() || out.to.port() == 0 {
            return Err(Error::InvalidRule("output"));
        }
        let mut flags = 0;
        if matches!(self.source, SourceCheck::Strict(_)) {
            flags |= RULE_STRICT_SOURCE;
        }
        if self.source_ssrc.is_some() {
            flags |= RULE_CHECK_SSRC;
        }
        if route.local {
            flags |= RULE_LOCAL_PEER;
        }
        if route.reinject_local {
            flags |= RULE_REINJECT_LOCAL;
        }
        let rule = layout::Rule {
            src_addr: layout::addr_be(*src.ip()),
            src_port: layout::port_be(src.port()),
            pt_in: self.payload_type,
            pt_out: out.payload_type,
            src_ssrc: self.source_ssrc.unwrap_or(0),
            out_ssrc: out.ssrc,
            out_saddr: layout::addr_be(*out.from.ip()),
            out_daddr: layout::addr_be(*out.to.ip()),
            out_sport: layout::port_be(out.from.port()),
            out_dport: layout::port_be(out.to.port()),
            ts_off: out.ts_offset,
            seq_off: out.seq_offset,
            transcode: out.transcode.code(),
            event_pt: self.telephone_event_pt.unwrap_or(NO_EVENT_PT),
            flags,
            slot,
            generation,
            samples_per_packet: self.samples_per_packet,
            max_dropout: d.max_dropout,
            max_misorder: d.max_misorder,
            pad: 0,
            max_ts_jump: d.max_ts_jump,
            egress_ifindex: route.ifindex,
        };
        let mut stats = layout::Stats {
            generation,
            jitter_q4: self.jitter_q4,
            ..layout::Stats::default()
        };
        if let Some(p) = self.source_position {
            stats.state |= STATE_SRC;
            stats.src_max_seq = p.max_seq;
            stats.src_cycles = p.cycles;
            stats.src_last_seq = p.last_seq;
            stats.src_last_ts = p.last_ts;
        }
        if let Some(p) = self.output_position {
            stats.state |= STATE_OUT;
            stats.out_last_seq = p.seq;
            stats.out_last_ts = p.ts;
            stats.out_last_ns = p.at_ns;
        }
        Ok((layout::key(self.local), rule, stats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn sample() -> StreamRule {
        let a = |d, p| SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, d), p);
        StreamRule::new(
            a(1, 20_000),
            SourceCheck::Strict(a(2, 5004)),
            0,
            Output {
                from: a(1, 20_002),
                to: a(3, 6000),
                ssrc: 0xdead_beef,
                payload_type: 8,
                seq_offset: 100,
                ts_offset: 16_000,
                transcode: Transcode::UlawToAlaw,
            },
        )
    }

    #[test]
    fn a_rule_is_laid_out_in_the_packets_byte_order() {
        let (key, rule, stats) = sample()
            .encode(
                7,
                3,
                Route {
                    ifindex: 9,
                    local: true,
                    reinject_local: false,
                },
            )
            .unwrap();
        assert_eq!(key.addr.to_ne_bytes(), [198, 18, 0, 1]);
        assert_eq!(key.port.to_ne_bytes(), 20_000u16.to_be_bytes());
        assert_eq!(rule.out_dport.to_ne_bytes(), 6000u16.to_be_bytes());
        assert_eq!(rule.flags, RULE_STRICT_SOURCE | RULE_LOCAL_PEER);
        assert_eq!(rule.egress_ifindex, 9);
        assert_eq!((rule.slot, rule.generation, stats.generation), (7, 3, 3));
        assert_eq!((rule.transcode, rule.event_pt), (1, NO_EVENT_PT));
        assert_eq!(stats.state, 0);
    }

    #[test]
    fn a_rule_that_would_send_nonsense_is_refused() {
        let mut r = sample();
        r.payload_type = 200;
        assert_eq!(
            r.encode(0, 0, Route::default()),
            Err(Error::InvalidRule("payload_type"))
        );
        let mut r = sample();
        r.telephone_event_pt = Some(0);
        assert_eq!(
            r.encode(0, 0, Route::default()),
            Err(Error::InvalidRule("telephone_event_pt"))
        );
        let mut r = sample();
        r.output.to = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 6000);
        assert_eq!(
            r.encode(0, 0, Route::default()),
            Err(Error::InvalidRule("output"))
        );
        let mut r = sample();
        r.samples_per_packet = 0;
        assert_eq!(
            r.encode(0, 0, Route::default()),
            Err(Error::InvalidRule("samples_per_packet"))
        );
    }

    #[test]
    fn handed_over_positions_seed_the_stats() {
        let mut r = sample();
        r.source_ssrc = Some(42);
        r.source_position = Some(SourcePosition {
            max_seq: 9,
            cycles: 2,
            last_seq: 9,
            last_ts: 1440,
        });
        r.output_position = Some(OutputPosition {
            seq: 109,
            ts: 17_440,
            at_ns: 5,
        });
        let (_, rule, stats) = r.encode(0, 1, Route::default()).unwrap();
        assert_eq!(rule.flags, RULE_STRICT_SOURCE | RULE_CHECK_SSRC);
        assert_eq!(stats.state, STATE_SRC | STATE_OUT);
        assert_eq!((stats.src_max_seq, stats.src_cycles), (9, 2));
        assert_eq!(
            (stats.out_last_seq, stats.out_last_ts, stats.out_last_ns),
            (109, 17_440, 5)
        );
    }
}
