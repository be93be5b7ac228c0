//! A channel's ingress: one received datagram, from the socket to what is left to forward.
//!
//! In order: RTCP (on the companion port, or recognised on a muxed port) is checked against
//! the remote's host and folded into the counters; RTP is accepted or rejected by the
//! receive side (latching, payload types, SSRC, sequence); the events a packet causes go
//! out (first packet, media back after a timeout, a new source, a new SSRC); DTMF is
//! detected (RFC 4733 de-duplicated per digit, or in-band); the channel's recordings get the
//! audio as received; then the party's filter decides what travels on, and the channel's
//! jitter buffer takes it, or it is handed back for pass-through to the peer.

use std::collections::VecDeque;
use std::net::SocketAddr;

use tandem_codecs::g711::{self, Law};
use tandem_codecs::rtp::looks_like_rtcp;

use super::Channel;
use super::held::Held;
use super::rtcp::ntp_from_unix;
use super::rx::{Accepted, MediaKind, Rejected};
use crate::event::Event;
use crate::ids::TapId;
use crate::ports::OwnSockets;
use crate::slab::Slab;
use crate::spec::RtcpMode;
use crate::tap::Tap;
use crate::time::Micros;

/// What ingress needs from the shard.
pub(crate) struct Ingress<'a> {
    /// The time.
    pub now: Micros,
    /// Unix time at the shard's zero (for RTCP's NTP times).
    pub unix_epoch: Micros,
    /// The engine's own sockets: nothing from them is accepted.
    pub own: Option<&'a OwnSockets>,
    /// Where events go.
    pub events: &'a mut VecDeque<Event>,
    /// The shard's recordings.
    pub taps: &'a mut Slab<TapId, Tap>,
}

/// What a received packet leaves to forward to the channel's bridged peer (pass-through).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Forward {
    /// Nothing: consumed (RTCP, a buffered frame, a digit), held back, or rejected.
    Nothing,
    /// Audio in `law` (or, `opaque`, in a pass-through codec); `silence` replaces it with
    /// silence of the same length (G.711 only: a pass-through channel cannot be silenced).
    Audio {
        /// The packet as accepted.
        acc: Accepted,
        /// Its companding law.
        law: Law,
        /// Whether it is a pass-through codec (see `Codec::passthrough`).
        opaque: bool,
        /// Forward silence instead (the party's media is silenced).
        silence: bool,
    },
    /// An RFC 4733 event packet; `buffered` says the source plays out through a jitter
    /// buffer (its audio is re-timed on the tick, so the event is too).
    Event {
        /// The packet as accepted.
        acc: Accepted,
        /// Whether the source channel has a jitter buffer.
        buffered: bool,
    },
}

impl Channel {
    /// Handles one datagram that arrived on the channel's RTP port (or, with
    /// `rtcp_port`, on its companion RTCP port) from `from`.
    pub fn receive(
        &mut self,
        cx: &mut Ingress<'_>,
        rtcp_port: bool,
        from: SocketAddr,
        data: &[u8],
    ) -> Forward {
        let now = cx.now;
        let mux = self.spec.rtcp == RtcpMode::Mux;
        if rtcp_port || (mux && looks_like_rtcp(data)) {
            if !self.rx.rtcp_source_ok(from, cx.own) {
                self.stats.rtcp_errors += 1;
                return Forward::Nothing;
            }
            let ssrc = self.tx.ssrc;
            let ntp = ntp_from_unix(cx.unix_epoch + now);
            self.rtcp
                .receive(now, ntp, from, data, ssrc, &mut self.stats);
            return Forward::Nothing;
        }
        let acc = match self.rx.accept(now, from, data, cx.own, &mut self.stats) {
            Ok(acc) => acc,
            Err(Rejected::Ssrc) => {
                self.hold(from, data);
                return Forward::Nothing;
            }
            Err(_) => return Forward::Nothing,
        };
        self.report_arrival(cx.events, &acc, from);
        let payload = &data[acc.payload_start..acc.payload_start + acc.payload_len];
        match acc.kind {
            MediaKind::TelephoneEvent => {
                let min = self.spec.dtmf.min_duration_ms;
                if self.spec.dtmf.rfc4733 {
                    for d in self.dtmf.packet(acc.ts, payload).into_iter().flatten() {
                        if d.duration_ms >= min {
                            self.on_digit(cx.events, d.digit, d.duration_ms, now);
                        }
                    }
                }
                if self.peer.is_some() && !self.filter.block_dtmf {
                    return Forward::Event {
                        acc,
                        buffered: self.jitter.is_some(),
                    };
                }
                Forward::Nothing
            }
            MediaKind::Audio => self.receive_audio(cx, acc, payload),
        }
    }

    /// Keeps the first packet of an SSRC that has not taken over (see [`super::held`]).
    #[cold]
    #[inline(never)]
    fn hold(&mut self, from: SocketAddr, data: &[u8]) {
        if let Ok(p) = tandem_codecs::rtp::RtpPacket::parse(data) {
            self.held.hold(from, p.ssrc(), data);
        }
    }

    /// Whether a datagram must be prepared before [`receive`](Self::receive): unprotected
    /// (SRTP), or checked against the packet kept by [`hold`](Self::hold).
    #[inline]
    pub fn unprotects_or_holds(&self) -> bool {
        self.crypto.is_some() | self.held.is_full()
    }

    /// The packet kept by [`hold`](Self::hold) when `data`, an RTP datagram just received
    /// from `from` (and not yet given to [`receive`](Self::receive)), confirms its SSRC:
    /// the caller receives it first, then `data`, and gives the buffer back with
    /// [`restore_held`](Self::restore_held).
    #[inline]
    pub fn release_held(&mut self, rtcp_port: bool, from: SocketAddr, data: &[u8]) -> Option<Held> {
        if rtcp_port || (self.spec.rtcp == RtcpMode::Mux && looks_like_rtcp(data)) {
            return None;
        }
        self.held.release(from, data)
    }

    /// Takes back the buffer of a released packet.
    pub fn restore_held(&mut self, held: Held) {
        self.held.restore(held);
    }

    /// The events an accepted packet causes: media back, first packet or a new source, a
    /// new SSRC (which also restarts the jitter buffer's timeline).
    fn report_arrival(&mut self, events: &mut VecDeque<Event>, acc: &Accepted, from: SocketAddr) {
        let id = self.id;
        if self.timeout_reported {
            self.timeout_reported = false;
            events.push_back(Event::MediaResumed { channel: id });
        }
        if acc.first | acc.remote_changed {
            if acc.first {
                events.push_back(Event::FirstPacket { channel: id, from });
            } else {
                tracing::info!(channel = %id, %from, "remote changed to a new source");
                events.push_back(Event::RemoteChanged { channel: id, from });
            }
        }
        if let Some(old) = acc.ssrc_changed_from {
            if let Some(jb) = self.jitter.as_mut() {
                jb.reset();
            }
            let new = self.rx.ssrc().unwrap_or_default();
            events.push_back(Event::SsrcChanged {
                channel: id,
                old,
                new,
            });
        }
    }

    fn receive_audio(&mut self, cx: &mut Ingress<'_>, acc: Accepted, payload: &[u8]) -> Forward {
        let now = cx.now;
        let law = self.spec.codec.law;
        let mut acc = acc;
        if self.inband.is_some() {
            self.detect_inband(cx.events, law, payload, now);
            if let Some(det) = self.inband.as_ref() {
                let end_ts = acc.ts.wrapping_add(payload.len() as u32);
                let tone = self.tone_in.after_packet(det, end_ts);
                // Blocked DTMF is not made into events (the audio itself passes as it is).
                acc.inband = tone.filter(|_| !self.filter.block_dtmf);
            }
        }
        for &slot in &self.taps {
            if let Some(t) = cx.taps.get_mut(slot) {
                t.receive(self.id, now, acc.seq, acc.ts, law, payload);
            }
        }
        let filter = self.filter;
        if filter.block_audio {
            return Forward::Nothing;
        }
        if filter.silence_audio {
            // Silence in the sender's law, so the stream, its timing and any transcoding
            // carry on unchanged.
            if let Some(jb) = self.jitter.as_mut() {
                let quiet = silence(law, payload.len());
                jb.insert(now, acc.seq, acc.ts, law, &quiet.0[..quiet.1]);
                return Forward::Nothing;
            }
        } else if let Some(jb) = self.jitter.as_mut() {
            jb.insert(now, acc.seq, acc.ts, law, payload);
            return Forward::Nothing;
        }
        if self.peer.is_some() {
            return Forward::Audio {
                acc,
                law,
                opaque: self.spec.codec.is_passthrough(),
                silence: filter.silence_audio,
            };
        }
        Forward::Nothing
    }

    /// Goertzel detection over the decoded packet; at most four digits per packet.
    fn detect_inband(
        &mut self,
        events: &mut VecDeque<Event>,
        law: Law,
        payload: &[u8],
        now: Micros,
    ) {
        let Some(det) = self.inband.as_mut() else {
            return;
        };
        let mut found = [None; 4];
        let mut k = 0;
        let mut pcm = [0i16; 240];
        for chunk in payload.chunks(pcm.len()) {
            g711::decode_frame(law, chunk, &mut pcm);
            det.process(&pcm[..chunk.len()], |d| {
                if k < found.len() {
                    found[k] = Some(d.key);
                    k += 1;
                }
            });
        }
        for key in found.into_iter().flatten() {
            self.on_digit(events, key, 0, now);
        }
    }
}

/// Longest silence substituted for one packet (60 ms at 8 kHz).
const MAX_SILENCE: usize = 480;

/// `len` samples of silence in `law` (at most [`MAX_SILENCE`]), and how many.
pub(crate) fn silence(law: Law, len: usize) -> ([u8; MAX_SILENCE], usize) {
    ([law.encode(0); MAX_SILENCE], len.min(MAX_SILENCE))
}
