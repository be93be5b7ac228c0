//! What the kernel fast path needs of a channel, and taking back what the kernel did for
//! it (see `crate::offload`).

use super::Channel;
use super::rx::RxPosition;
use super::tx::FeedKey;
use crate::ids::ChannelId;
use crate::offload::{Feature, LegFacts, Progress};
use crate::spec::MediaFilter;

impl Channel {
    /// The facts the offload decision reads; `peer` is the bridged peer's id.
    pub(crate) fn leg_facts(&self, peer: Option<ChannelId>) -> LegFacts {
        let common = if !self.taps.is_empty() {
            Some(Feature::Tap)
        } else if self.room.is_some() {
            Some(Feature::Room)
        } else if self.crypto.is_some() {
            Some(Feature::Srtp)
        } else if self.filter != MediaFilter::default() {
            Some(Feature::Filter)
        } else {
            None
        };
        let ingress_needs = common
            .or(self.jitter.is_some().then_some(Feature::JitterBuffer))
            .or(self.inband.is_some().then_some(Feature::InbandDtmf));
        let egress_needs = common
            .or(self.shaping.is_some().then_some(Feature::Shaping))
            .or(self.player.is_some().then_some(Feature::Player));
        LegFacts {
            id: self.id,
            port: self.port,
            peer,
            codec: self.spec.codec,
            telephone_event_pt: self.spec.telephone_event_pt,
            samples_per_packet: self.spec.samples_per_packet(),
            rx: self.rx.offload_source(),
            remote: self.rx.remote,
            ssrc: self.tx.ssrc,
            last_sent: self.tx.last_sent(),
            ingress_needs,
            egress_needs,
        }
    }

    /// This channel's output offsets for `source`'s feed of stream epoch `epoch`, if that
    /// feed is what the output carries now.
    pub(crate) fn feed_offsets_from(&self, source: ChannelId, epoch: u32) -> Option<(u16, u32)> {
        self.tx.feed_offsets(FeedKey {
            source: source.0,
            epoch,
        })
    }

    /// Where its incoming stream stands (see [`RxPosition`]).
    pub(crate) fn rx_position(&self) -> Option<RxPosition> {
        self.rx.offload_source()
    }

    /// Marks its incoming stream as forwarded by the kernel (its source live, so no other
    /// may take over) or not.
    pub(crate) fn set_kernel_held(&mut self, held: bool) {
        self.rx.set_held_elsewhere(held);
    }

    /// Whether its source has been silent at `now` for longer than another source needs
    /// to take over (the latching idle time).
    pub(crate) fn source_idle(&self, now: crate::time::Micros) -> bool {
        let idle = crate::time::Micros::from_ms(u64::from(self.spec.latching.idle_ms));
        now.saturating_sub(self.rx.last_rx()) >= idle
    }

    /// How often the kernel's counters must be read for this channel's media timeout to
    /// see packets the kernel forwards: a third of the timeout, at most `max`.
    pub(crate) fn kernel_read_interval(&self, max: crate::time::Micros) -> crate::time::Micros {
        match self.spec.media_timeout_ms {
            0 => max,
            ms => max.min(crate::time::Micros::from_ms(u64::from(ms) / 3)),
        }
    }

    /// Adds packets from other sources the kernel dropped under a strict source check.
    pub(crate) fn dropped_in_kernel(&mut self, wrong_source: u64) {
        self.stats.wrong_source += wrong_source;
    }

    /// Takes in what the kernel received for this channel (`base` is the incoming stream
    /// as handed to the kernel).
    pub(crate) fn received_in_kernel(&mut self, base: RxPosition, p: &Progress) {
        self.stats.packets_received += p.packets;
        self.stats.bytes_received += p.octets;
        if let Some((extended_max, last_in_order, jitter_q4)) = p.source {
            let at = RxPosition {
                extended_max,
                last_in_order,
                jitter_q4,
                ..base
            };
            self.rx
                .received_elsewhere(at, p.packets, p.last_rx, &mut self.stats);
        }
    }

    /// Takes in what the kernel sent on this channel's output.
    pub(crate) fn sent_in_kernel(&mut self, p: &Progress) {
        self.stats.packets_sent += p.packets;
        self.stats.bytes_sent += p.octets;
        if let Some((seq, ts, at)) = p.sent {
            self.tx.sent_elsewhere(seq, ts, at, p.packets, p.octets);
        }
    }
}
