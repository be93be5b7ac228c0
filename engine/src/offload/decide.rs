//! The decision to hand one direction of a bridge to the kernel: a pure function of the two
//! channels' state, and the rule the kernel then applies.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use tandem_codecs::g711::Law;
use tandem_kfwd::{
    MAX_TRANSCODE_PAYLOAD, Output, OutputPosition, SourceCheck, SourcePosition, StreamRule,
    Transcode,
};

use crate::channel::rx::RxPosition;
use crate::ids::ChannelId;
use crate::spec::Codec;
use crate::time::Micros;

/// A feature that keeps a direction in userspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Feature {
    /// A recording or fork of either leg.
    Tap,
    /// Either leg is in a room (a conference, or a supervised call).
    Room,
    /// The receiving leg plays out through a jitter buffer.
    JitterBuffer,
    /// The receiving leg detects in-band DTMF.
    InbandDtmf,
    /// The sending leg repacketises or converts DTMF.
    Shaping,
    /// Something plays into the sending leg.
    Player,
    /// Either leg is SRTP.
    Srtp,
    /// Either leg's media is blocked or silenced.
    Filter,
}

/// Why a direction stays in userspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotOffloadable {
    /// The two channels are not bridged to each other.
    NotBridged,
    /// A feature needs the packets in userspace.
    Needs(Feature),
    /// No packet accepted yet from a confirmed remote (or a jump is being judged).
    NoSource,
    /// The sending leg has no remote to send to.
    NoDestination,
    /// An IPv6 remote, or media bound to no single IPv4 address.
    NotIpv4,
    /// Nothing of the current feed was forwarded yet: no offsets to continue with.
    NoFeed,
    /// A payload longer than the kernel transcodes.
    PayloadTooLong,
    /// A codec the kernel does not forward: an RTP clock other than 8 kHz (the kernel's
    /// jitter and jump checks assume it), or a pass-through codec bridged to G.711.
    Codec,
}

/// What the decision needs of one channel (gathered by the channel itself).
#[derive(Clone, Copy, Debug)]
pub(crate) struct LegFacts {
    /// The channel.
    pub id: ChannelId,
    /// Its local RTP port.
    pub port: u16,
    /// Its peer's channel, if bridged.
    pub peer: Option<ChannelId>,
    /// Its codec.
    pub codec: Codec,
    /// Its RFC 4733 payload type.
    pub telephone_event_pt: Option<u8>,
    /// Samples per packet it receives.
    pub samples_per_packet: u32,
    /// Where its incoming stream stands.
    pub rx: Option<RxPosition>,
    /// Where its output goes.
    pub remote: Option<SocketAddr>,
    /// Its output SSRC.
    pub ssrc: u32,
    /// Its output's highest sequence number sent, that timestamp and when.
    pub last_sent: Option<(u16, u32, Micros)>,
    /// A feature of its own ingress that needs userspace (tap, room, jitter, in-band
    /// DTMF, SRTP, filter).
    pub ingress_needs: Option<Feature>,
    /// A feature of its own output that needs userspace (tap, room, shaping, player,
    /// SRTP, filter).
    pub egress_needs: Option<Feature>,
}

/// A direction ready for the kernel: the rule, and when the output's last packet was sent
/// (the driver converts it to the kernel's clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The rule.
    pub rule: StreamRule,
    /// When the output's last packet was sent (shard clock), if any was.
    pub sent_at: Option<Micros>,
}

fn v4(a: SocketAddr) -> Result<SocketAddrV4, NotOffloadable> {
    match a {
        SocketAddr::V4(a) => Ok(a),
        SocketAddr::V6(_) => Err(NotOffloadable::NotIpv4),
    }
}

/// Decides whether the direction `from` → `to` (packets received by `from`, sent by `to`)
/// can go to the kernel, with media bound to `bind`; `feed` is `to`'s offsets for `from`'s
/// current feed, if that is what `to` is sending.
pub(crate) fn decide(
    from: &LegFacts,
    to: &LegFacts,
    feed: Option<(u16, u32)>,
    bind: Ipv4Addr,
) -> Result<Plan, NotOffloadable> {
    if from.peer != Some(to.id) || to.peer != Some(from.id) {
        return Err(NotOffloadable::NotBridged);
    }
    if let Some(f) = from.ingress_needs.or(to.egress_needs) {
        return Err(NotOffloadable::Needs(f));
    }
    let rx = from.rx.ok_or(NotOffloadable::NoSource)?;
    let source = v4(rx.confirmed)?;
    let dest = v4(to.remote.ok_or(NotOffloadable::NoDestination)?)?;
    if bind.is_unspecified() {
        return Err(NotOffloadable::NotIpv4);
    }
    let (seq_offset, ts_offset) = feed.ok_or(NotOffloadable::NoFeed)?;
    let transcode = match (from.codec.passthrough, to.codec.passthrough) {
        (None, None) => match (from.codec.law, to.codec.law) {
            (Law::Ulaw, Law::Alaw) => Transcode::UlawToAlaw,
            (Law::Alaw, Law::Ulaw) => Transcode::AlawToUlaw,
            _ => Transcode::None,
        },
        // Copied as it is, like userspace relays it (G.722's RTP clock is 8 kHz).
        (Some(8000), Some(8000)) => Transcode::None,
        _ => return Err(NotOffloadable::Codec),
    };
    let samples =
        u16::try_from(from.samples_per_packet).map_err(|_| NotOffloadable::PayloadTooLong)?;
    if transcode != Transcode::None && usize::from(samples) > MAX_TRANSCODE_PAYLOAD {
        return Err(NotOffloadable::PayloadTooLong);
    }
    let check = if rx.strict {
        SourceCheck::Strict(source)
    } else {
        SourceCheck::Latched(source)
    };
    let mut rule = StreamRule::new(
        SocketAddrV4::new(bind, from.port),
        check,
        from.codec.payload_type,
        Output {
            from: SocketAddrV4::new(bind, to.port),
            to: dest,
            ssrc: to.ssrc,
            payload_type: to.codec.payload_type,
            seq_offset,
            ts_offset,
            transcode,
        },
    );
    rule.source_ssrc = Some(rx.ssrc);
    rule.telephone_event_pt = from.telephone_event_pt;
    rule.samples_per_packet = samples;
    rule.source_position = Some(SourcePosition {
        max_seq: rx.extended_max as u16,
        cycles: (rx.extended_max >> 16) as u32,
        last_seq: rx.last_in_order.0,
        last_ts: rx.last_in_order.1,
    });
    rule.jitter_q4 = rx.jitter_q4;
    // `at_ns` is the driver's to fill: the shard has no kernel clock.
    rule.output_position = to
        .last_sent
        .map(|(seq, ts, _)| OutputPosition { seq, ts, at_ns: 0 });
    Ok(Plan {
        rule,
        sent_at: to.last_sent.map(|(_, _, at)| at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIND: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

    fn leg(id: u64, peer: u64, port: u16, codec: Codec) -> LegFacts {
        LegFacts {
            id: ChannelId(id),
            port,
            peer: Some(ChannelId(peer)),
            codec,
            telephone_event_pt: Some(101),
            samples_per_packet: 160,
            rx: Some(RxPosition {
                confirmed: SocketAddr::from(([198, 51, 100, id as u8], 4000)),
                strict: false,
                ssrc: 0x1000 + id as u32,
                epoch: 0,
                extended_max: (3 << 16) | 500,
                last_in_order: (500, 80_000),
                jitter_q4: 32,
            }),
            remote: Some(SocketAddr::from(([198, 51, 100, id as u8], 4000))),
            ssrc: 0x2000 + id as u32,
            last_sent: Some((900, 7_000, Micros::from_ms(40))),
            ingress_needs: None,
            egress_needs: None,
        }
    }

    #[test]
    fn a_plain_bridge_becomes_a_rule_with_the_senders_offsets_and_positions() {
        let (a, b) = (
            leg(1, 2, 30_000, Codec::PCMU),
            leg(2, 1, 30_002, Codec::PCMA),
        );
        let plan = decide(&a, &b, Some((400, 12_345)), BIND).unwrap();
        let r = plan.rule;
        assert_eq!(r.local, SocketAddrV4::new(BIND, 30_000));
        assert_eq!(
            r.source,
            SourceCheck::Latched("198.51.100.1:4000".parse().unwrap())
        );
        assert_eq!(r.source_ssrc, Some(0x1001));
        assert_eq!((r.payload_type, r.telephone_event_pt), (0, Some(101)));
        assert_eq!(r.output.from, SocketAddrV4::new(BIND, 30_002));
        assert_eq!(r.output.to, "198.51.100.2:4000".parse().unwrap());
        assert_eq!((r.output.ssrc, r.output.payload_type), (0x2002, 8));
        assert_eq!((r.output.seq_offset, r.output.ts_offset), (400, 12_345));
        assert_eq!(r.output.transcode, Transcode::UlawToAlaw);
        let src = r.source_position.unwrap();
        assert_eq!(
            (src.max_seq, src.cycles, src.last_seq, src.last_ts),
            (500, 3, 500, 80_000)
        );
        assert_eq!(src.extended_max(), (3 << 16) | 500);
        assert_eq!(r.output_position.map(|o| (o.seq, o.ts)), Some((900, 7_000)));
        assert_eq!(plan.sent_at, Some(Micros::from_ms(40)));
    }

    #[test]
    fn same_law_is_copied_and_a_strict_source_is_strict_in_the_kernel() {
        let (mut a, b) = (
            leg(1, 2, 30_000, Codec::PCMA),
            leg(2, 1, 30_002, Codec::PCMA),
        );
        a.rx.as_mut().unwrap().strict = true;
        let r = decide(&a, &b, Some((0, 0)), BIND).unwrap().rule;
        assert_eq!(r.output.transcode, Transcode::None);
        assert!(matches!(r.source, SourceCheck::Strict(_)));
    }

    #[test]
    fn each_userspace_need_keeps_the_direction_in_userspace() {
        let (a, b) = (
            leg(1, 2, 30_000, Codec::PCMU),
            leg(2, 1, 30_002, Codec::PCMU),
        );
        let feed = Some((0, 0));
        let refuse = |a: &LegFacts, b: &LegFacts, feed| decide(a, b, feed, BIND).unwrap_err();
        let mut x = a;
        x.ingress_needs = Some(Feature::Tap);
        assert_eq!(refuse(&x, &b, feed), NotOffloadable::Needs(Feature::Tap));
        let mut y = b;
        y.egress_needs = Some(Feature::Player);
        assert_eq!(refuse(&a, &y, feed), NotOffloadable::Needs(Feature::Player));
        // The other direction's needs are not this one's.
        let mut z = b;
        z.ingress_needs = Some(Feature::JitterBuffer);
        assert!(decide(&a, &z, feed, BIND).is_ok());
        let mut unbridged = b;
        unbridged.peer = None;
        assert_eq!(refuse(&a, &unbridged, feed), NotOffloadable::NotBridged);
        let mut quiet = a;
        quiet.rx = None;
        assert_eq!(refuse(&quiet, &b, feed), NotOffloadable::NoSource);
        let mut nowhere = b;
        nowhere.remote = None;
        assert_eq!(refuse(&a, &nowhere, feed), NotOffloadable::NoDestination);
        let mut v6 = b;
        v6.remote = Some("[2001:db8::1]:4000".parse().unwrap());
        assert_eq!(refuse(&a, &v6, feed), NotOffloadable::NotIpv4);
        assert_eq!(refuse(&a, &b, None), NotOffloadable::NoFeed);
        assert_eq!(
            decide(&a, &b, feed, Ipv4Addr::UNSPECIFIED).unwrap_err(),
            NotOffloadable::NotIpv4
        );
    }

    #[test]
    fn pass_through_codecs_go_to_the_kernel_only_on_an_8_khz_clock() {
        let g722 = Codec::passthrough(9, 8000);
        let opus = Codec::passthrough(111, 48_000);
        let (a, b) = (leg(1, 2, 30_000, g722), leg(2, 1, 30_002, g722));
        let r = decide(&a, &b, Some((0, 0)), BIND).unwrap().rule;
        assert_eq!(
            (r.output.transcode, r.output.payload_type),
            (Transcode::None, 9)
        );
        let (a, b) = (leg(1, 2, 30_000, opus), leg(2, 1, 30_002, opus));
        assert_eq!(
            decide(&a, &b, Some((0, 0)), BIND).unwrap_err(),
            NotOffloadable::Codec
        );
        let (a, b) = (leg(1, 2, 30_000, g722), leg(2, 1, 30_002, Codec::PCMU));
        assert_eq!(
            decide(&a, &b, Some((0, 0)), BIND).unwrap_err(),
            NotOffloadable::Codec
        );
    }

    #[test]
    fn transcoding_is_refused_beyond_the_kernels_payload_bound() {
        let (mut a, b) = (
            leg(1, 2, 30_000, Codec::PCMU),
            leg(2, 1, 30_002, Codec::PCMA),
        );
        a.samples_per_packet = 320; // 40 ms
        assert_eq!(
            decide(&a, &b, Some((0, 0)), BIND).unwrap_err(),
            NotOffloadable::PayloadTooLong
        );
        let same = leg(2, 1, 30_002, Codec::PCMU);
        assert!(
            decide(&a, &same, Some((0, 0)), BIND).is_ok(),
            "copying has no bound"
        );
    }
}
