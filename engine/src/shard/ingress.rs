//! The shard's media path: a received datagram goes to the channel its port belongs to
//! ([`Channel::receive`](crate::channel::Channel) does the rest); what it leaves to forward
//! goes to its bridged peer's output, re-stamped and, if the two legs use different laws,
//! transcoded.

use std::net::SocketAddr;

use super::Shard;
use crate::channel::ingress::silence;
use crate::channel::tx::FeedKey;
use crate::channel::{Forward, Ingress, Writer};
use crate::time::Micros;

impl Shard {
    /// Handles one datagram that arrived at the host at `received` (the kernel's receive
    /// time stamp, on the shard's clock): one that has waited longer than
    /// [`max_queue_delay`](super::ShardConfig::max_queue_delay) is dropped and counted, the
    /// rest go to [`handle_datagram`](Shard::handle_datagram). Returns whether it was
    /// handled (false: dropped as stale).
    #[inline]
    pub fn handle_received(
        &mut self,
        now: Micros,
        received: Micros,
        local_port: u16,
        from: SocketAddr,
        data: &[u8],
    ) -> bool {
        if let Some(limit) = self.cfg.max_queue_delay {
            if now.saturating_sub(received) > limit {
                self.stats.stale_dropped += 1;
                return false;
            }
        }
        self.handle_datagram(now, local_port, from, data);
        true
    }

    /// Handles one datagram received on `local_port` from `from`.
    pub fn handle_datagram(&mut self, now: Micros, local_port: u16, from: SocketAddr, data: &[u8]) {
        self.stats.datagrams_in += 1;
        let Some((slot, rtcp_port)) = self.ports.get(local_port) else {
            self.stats.unknown_port += 1;
            return;
        };
        let ch = self.channels.get_mut(slot).expect("mapped slot is live");
        if ch.unprotects_or_holds() {
            return self.prepare(now, slot, rtcp_port, from, data);
        }
        self.relay(now, slot, rtcp_port, from, data);
    }

    /// The datagram of a channel that speaks SRTP (unprotected into the scratch buffer
    /// first) or keeps the first packet of a new SSRC (which goes first when this one
    /// confirms it).
    #[cold]
    #[inline(never)]
    fn prepare(&mut self, now: Micros, slot: u32, rtcp_port: bool, from: SocketAddr, data: &[u8]) {
        let Some(ch) = self.channels.get_mut(slot) else {
            return;
        };
        let mut scratch = std::mem::take(&mut self.scratch);
        if let Some(data) = ch.unprotect(rtcp_port, data, &mut scratch) {
            if let Some(held) = ch.release_held(rtcp_port, from, data) {
                self.relay(now, slot, false, held.from(), held.bytes());
                if let Some(ch) = self.channels.get_mut(slot) {
                    ch.restore_held(held);
                }
            }
            self.relay(now, slot, rtcp_port, from, data);
        }
        self.scratch = scratch;
    }

    /// Gives one datagram (unprotected) to the channel in `slot` and forwards what it
    /// leaves to its peer.
    #[inline(always)]
    fn relay(&mut self, now: Micros, slot: u32, rtcp_port: bool, from: SocketAddr, data: &[u8]) {
        let Some(ch) = self.channels.get_mut(slot) else {
            return;
        };
        let mut cx = Ingress {
            now,
            unix_epoch: self.cfg.unix_epoch,
            own: self.cfg.own.as_ref(),
            events: &mut self.events,
            taps: &mut self.taps,
        };
        let forward = ch.receive(&mut cx, rtcp_port, from, data);
        let (src, peer) = (ch.id(), ch.peer());
        let sent = match forward {
            Forward::Nothing => return,
            Forward::Audio {
                acc,
                law,
                opaque,
                silence: quiet,
            } => {
                let Some(out) = peer
                    .and_then(|p| self.channels.get_mut(p))
                    .and_then(|c| c.output(Writer::Peer))
                else {
                    return;
                };
                let key = FeedKey {
                    source: src.0,
                    epoch: acc.epoch,
                };
                if quiet {
                    let (q, n) = silence(law, acc.payload_len);
                    out.forward_audio(now, key, &acc, (law, opaque), &q[..n], &mut self.transmits);
                } else {
                    let payload = &data[acc.payload_start..acc.payload_start + acc.payload_len];
                    out.forward_audio(now, key, &acc, (law, opaque), payload, &mut self.transmits);
                }
                true
            }
            Forward::Event { acc, buffered } => {
                let Some(out) = peer
                    .and_then(|p| self.channels.get_mut(p))
                    .and_then(|c| c.output(Writer::Peer))
                else {
                    return;
                };
                let key = FeedKey {
                    source: src.0,
                    epoch: acc.epoch,
                };
                let payload = &data[acc.payload_start..acc.payload_start + acc.payload_len];
                out.forward_event(now, key, &acc, buffered, payload, &mut self.transmits)
            }
        };
        if sent {
            self.stats.datagrams_out += 1;
        }
    }
}
