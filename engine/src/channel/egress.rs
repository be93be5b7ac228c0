//! A channel's egress: its one output stream and who may write into it.
//!
//! Three writers feed a channel's output: its bridged peer (pass-through packets, or the
//! peer's jitter-buffer playout on the tick), its room's mix, and its own player. The rule
//! is [`Channel::output`]: the player, while one plays, owns the output and the others wait;
//! nothing is written before the channel knows where to send. Every packet then goes
//! through [`Output`], which stamps it on the channel's continuous stream
//! ([`super::tx`]) and queues it.

use std::collections::VecDeque;
use std::net::SocketAddr;

use tandem_codecs::g711::{self, Law};
use tandem_codecs::rtp::RtpHeader;
use tandem_codecs::telephone_event::TelephoneEvent;

use super::repack::MAX_FRAME;
use super::rx::Accepted;
use super::tx::{FeedKey, Stamp};
use super::{Channel, PLAYER_FEED_BIT};
use crate::event::Event;
use crate::player::Produced;
use crate::spec::{Codec, PlayTarget};
use crate::time::Micros;
use crate::transmit::TransmitQueue;

/// Who wants to write into a channel's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Writer {
    /// The bridged peer.
    Peer,
    /// The room's mix.
    Room,
    /// The channel's own player.
    Player,
}

/// Permission to write one packet into a channel's output, to its remote.
pub(crate) struct Output<'a> {
    pub(super) ch: &'a mut Channel,
    pub(super) dest: SocketAddr,
}

impl Channel {
    /// The channel's output for `writer`, or `None` when it may not write now: the channel
    /// has no remote yet, or a player owns the output (a prompt for this party takes
    /// precedence over its peer and its room; their audio waits).
    #[inline]
    pub fn output(&mut self, writer: Writer) -> Option<Output<'_>> {
        let dest = self.rx.remote?;
        if writer != Writer::Player && self.player.is_some() {
            return None;
        }
        Some(Output { ch: self, dest })
    }

    /// One tick of the channel's player: an audio frame or a telephone-event packet (the
    /// end packet three times, RFC 4733 §2.5.1.4, all with one stamp), or its end.
    pub(super) fn play_frame(
        &mut self,
        now: Micros,
        pcm: &mut [i16],
        transmits: &mut TransmitQueue,
        events: &mut VecDeque<Event>,
    ) {
        let Some(player) = self.player.as_mut() else {
            return;
        };
        let produced = player.next(pcm);
        let key = FeedKey {
            source: self.id.0 | PLAYER_FEED_BIT,
            epoch: 0,
        };
        let samples = pcm.len() as u32;
        match produced {
            Produced::Done => {
                let p = self.player.take().expect("playing");
                events.push_back(Event::PlayFinished {
                    target: PlayTarget::Channel(self.id),
                    interrupted: false,
                    position_ms: p.position_ms(),
                });
            }
            Produced::Audio => {
                if let Some(out) = self.output(Writer::Player) {
                    out.frame(now, key, pcm, transmits);
                }
            }
            Produced::Event {
                code,
                duration,
                end,
                digit_index,
            } => {
                let Some(out) = self.output(Writer::Player) else {
                    return;
                };
                let Some(pt) = out.ch.spec.telephone_event_pt else {
                    return;
                };
                let ev = TelephoneEvent {
                    event: code,
                    end,
                    volume: 10,
                    duration,
                };
                let bytes = ev.to_bytes().unwrap_or([0; 4]);
                let dest = out.dest;
                for copy in 0..if end { 3 } else { 1 } {
                    let stamp = if copy == 0 {
                        self.tx.event_frame(now, key, samples, digit_index)
                    } else {
                        self.tx.event_repeat()
                    };
                    self.send_rtp(transmits, dest, pt, stamp, |buf| {
                        buf.extend_from_slice(&bytes)
                    });
                }
            }
        }
    }

    /// Queues one RTP packet from this channel to `dest` and counts it.
    pub(super) fn send_rtp(
        &mut self,
        transmits: &mut TransmitQueue,
        dest: SocketAddr,
        payload_type: u8,
        stamp: Stamp,
        payload: impl FnOnce(&mut Vec<u8>),
    ) {
        let header = RtpHeader {
            marker: stamp.marker,
            payload_type,
            sequence: stamp.seq,
            timestamp: stamp.ts,
            ssrc: self.tx.ssrc,
            ..RtpHeader::default()
        };
        let mut len = 0;
        transmits.push_with(self.port, dest, |buf| {
            // A 12-byte header with no CSRCs or extension cannot fail to write.
            let _ = header.write(buf, &[]);
            let start = buf.len();
            payload(buf);
            len = buf.len() - start;
        });
        if self.crypto.is_some() && !self.protect_last(transmits, false) {
            return;
        }
        self.tx.packets += 1;
        self.tx.octets += len as u64;
        self.stats.packets_sent += 1;
        self.stats.bytes_sent += len as u64;
    }
}

impl Output<'_> {
    /// The channel's codec (what its output is encoded in).
    pub fn codec(&self) -> Codec {
        self.ch.spec.codec
    }

    /// Pass-through: re-stamps a packet from feed `key` onto the output stream,
    /// transcoding when the source's law differs. A pass-through codec's payload is copied
    /// as it is, and only into a pass-through channel (a packet between a pass-through and a
    /// G.711 channel has no conversion and is dropped).
    /// `src` is the source's law and whether its codec is a pass-through one.
    pub fn forward_audio(
        self,
        now: Micros,
        key: FeedKey,
        acc: &Accepted,
        (src_law, src_opaque): (Law, bool),
        payload: &[u8],
        transmits: &mut TransmitQueue,
    ) {
        let dst_opaque = self.ch.spec.codec.passthrough.is_some();
        if src_opaque | dst_opaque {
            if src_opaque & dst_opaque {
                self.opaque(now, key, acc, payload, transmits);
            }
            return;
        }
        if self.ch.shaping.is_some() {
            return self.shaped_audio(now, key, acc, src_law, payload, transmits);
        }
        let ch = self.ch;
        let stamp = ch.tx.forward(now, key, acc.seq, acc.ts, acc.marker);
        let codec = ch.spec.codec;
        ch.send_rtp(transmits, self.dest, codec.payload_type, stamp, |buf| {
            if src_law == codec.law {
                buf.extend_from_slice(payload);
            } else {
                let start = buf.len();
                buf.resize(start + payload.len(), 0);
                g711::transcode_frame(src_law, codec.law, payload, &mut buf[start..]);
            }
        });
    }

    /// A pass-through codec's packet: re-stamped, the payload untouched.
    #[cold]
    #[inline(never)]
    fn opaque(
        self,
        now: Micros,
        key: FeedKey,
        acc: &Accepted,
        payload: &[u8],
        transmits: &mut TransmitQueue,
    ) {
        let ch = self.ch;
        let stamp = ch.tx.forward(now, key, acc.seq, acc.ts, acc.marker);
        let pt = ch.spec.codec.payload_type;
        ch.send_rtp(transmits, self.dest, pt, stamp, |buf| {
            buf.extend_from_slice(payload)
        });
    }

    /// Passes an RFC 4733 packet on with this channel's event payload type (durations are
    /// in timestamp units, identical at 8 kHz on both sides, so the payload is untouched).
    /// A source that plays out through a jitter buffer has its events placed on the
    /// tick-driven timeline; otherwise they are re-stamped like its audio. Returns false
    /// (nothing sent) when this channel negotiated no telephone-event.
    pub fn forward_event(
        self,
        now: Micros,
        key: FeedKey,
        acc: &Accepted,
        buffered: bool,
        payload: &[u8],
        transmits: &mut TransmitQueue,
    ) -> bool {
        if self.ch.shaping.is_some() && !buffered {
            return self.shaped_event(now, key, acc, payload, transmits);
        }
        let ch = self.ch;
        let Some(pt) = ch.spec.telephone_event_pt else {
            return false;
        };
        let stamp = if buffered {
            ch.tx.next_event(now, acc.ts, acc.marker)
        } else {
            ch.tx.forward(now, key, acc.seq, acc.ts, acc.marker)
        };
        ch.send_rtp(transmits, self.dest, pt, stamp, |buf| {
            buf.extend_from_slice(payload)
        });
        true
    }

    /// The next frame of a tick-driven feed (playout, the player), from PCM encoded in the
    /// channel's law.
    pub fn frame(self, now: Micros, key: FeedKey, pcm: &[i16], transmits: &mut TransmitQueue) {
        if self.ch.shaping.is_some() && pcm.len() <= MAX_FRAME {
            let mut coded = [0u8; MAX_FRAME];
            let n = g711::encode_frame(self.ch.spec.codec.law, pcm, &mut coded);
            if let Some((out, payload)) = self.shaped_frame(now, key, &coded[..n], transmits) {
                out.encoded_frame(now, key, n as u32, payload, transmits);
            }
            return;
        }
        let ch = self.ch;
        let stamp = ch.tx.next_frame(now, key, pcm.len() as u32);
        let codec = ch.spec.codec;
        ch.send_rtp(transmits, self.dest, codec.payload_type, stamp, |buf| {
            let start = buf.len();
            buf.resize(start + pcm.len(), 0);
            g711::encode_frame(codec.law, pcm, &mut buf[start..]);
        });
    }

    /// The next frame of a tick-driven feed, already encoded in the channel's law
    /// (`samples` long).
    pub fn encoded_frame(
        self,
        now: Micros,
        key: FeedKey,
        samples: u32,
        payload: &[u8],
        transmits: &mut TransmitQueue,
    ) {
        let Some((out, payload)) = self.shaped_frame(now, key, payload, transmits) else {
            return;
        };
        let ch = out.ch;
        let stamp = ch.tx.next_frame(now, key, samples);
        let pt = ch.spec.codec.payload_type;
        ch.send_rtp(transmits, out.dest, pt, stamp, |buf| {
            buf.extend_from_slice(payload)
        });
    }
}
