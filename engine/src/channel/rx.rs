//! The receive side of a channel: source latching (the rules are in [`super::latch`]),
//! SSRC tracking, sequence extension, interarrival jitter and timestamp-jump detection.

use std::net::SocketAddr;

use tandem_codecs::rtp::RtpPacket;
use tandem_codecs::seq::{SeqExtender, SeqUpdate, seq_diff, ts_diff};

use super::dtmf_bridge::InbandTone;
use super::latch::Candidates;
use crate::ports::OwnSockets;
use crate::spec::Latching;
use crate::stats::ChannelStats;
use crate::time::Micros;

/// An SSRC that has sent nothing for this long may be replaced by a new one at once; while
/// it is live, a newcomer must send two packets in a row first, so a flood of random SSRCs
/// never displaces the real stream.
const SSRC_IDLE: Micros = Micros::from_ms(60);

/// A timestamp that moves more than this long away from where the sequence number says it
/// should be is a discontinuity, re-based on output: 2.5 s, in milliseconds.
const TS_JUMP_MS: i64 = 2_500;

/// Why a datagram was not accepted as media. Each is counted in [`ChannelStats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// Not parseable RTP.
    Malformed,
    /// From the wrong address in strict mode.
    WrongSource,
    /// From a source that has not (yet) taken over from the current remote.
    UnlatchedSource,
    /// From one of the engine's own media sockets (a loop).
    OwnSource,
    /// A payload type that was not negotiated.
    UnknownPayloadType,
    /// From an SSRC that has not taken over the stream.
    Ssrc,
    /// A sequence number far from the stream's, not (yet) confirmed by the next packet.
    SequenceJump,
}

/// Where an accepted packet came from, relative to the remote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// The remote, heard before.
    Same,
    /// The remote, heard for the first time since it became the remote.
    Heard,
    /// A new source that has just taken over.
    Moved,
}

/// What an accepted packet carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MediaKind {
    /// Audio in the channel's codec.
    Audio,
    /// An RFC 4733 telephone-event.
    TelephoneEvent,
}

/// An accepted RTP packet, with what the forwarding stage needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Accepted {
    /// Audio or event.
    pub kind: MediaKind,
    /// Marker bit.
    pub marker: bool,
    /// Sequence number.
    pub seq: u16,
    /// Timestamp.
    pub ts: u32,
    /// Increases whenever the incoming stream is discontinuous (new SSRC, timestamp
    /// jump): output mappings made for an older epoch are re-made.
    pub epoch: u32,
    /// Whether this packet started a new SSRC (`Some(old)`).
    pub ssrc_changed_from: Option<u32>,
    /// Whether this was the first packet ever.
    pub first: bool,
    /// Whether this packet moved the remote to a new source (not the first latch).
    pub remote_changed: bool,
    /// Payload byte range within the datagram.
    pub payload_start: usize,
    /// Payload length.
    pub payload_len: usize,
    /// The DTMF digit the channel's in-band detector hears in this packet (set by ingress).
    pub inband: Option<InbandTone>,
}

/// Where a channel's incoming stream stands, for the kernel fast path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RxPosition {
    /// The latched (or signalled and confirmed) remote.
    pub confirmed: SocketAddr,
    /// Whether other sources are refused outright.
    pub strict: bool,
    /// The SSRC received.
    pub ssrc: u32,
    /// The stream epoch (see [`Accepted::epoch`]).
    pub epoch: u32,
    /// Highest extended sequence number.
    pub extended_max: u64,
    /// The last packet accepted in order: sequence number and timestamp.
    pub last_in_order: (u16, u32),
    /// RFC 3550 jitter, timestamp units × 16.
    pub jitter_q4: u32,
}

/// Receive state of a channel.
#[derive(Debug)]
pub(crate) struct Rx {
    /// Where media goes to and is expected from.
    pub remote: Option<SocketAddr>,
    /// The address signalling named, if any.
    signalled: Option<SocketAddr>,
    /// `remote`, once it has sent an accepted packet since it became the remote (latched);
    /// packets from it take the fast path.
    confirmed: Option<SocketAddr>,
    strict: bool,
    latching: Latching,
    candidates: Candidates,
    audio_pt: u8,
    event_pt: Option<u8>,
    ssrc: Option<u32>,
    candidate: Option<u32>,
    last_rx: Micros,
    seq: SeqExtender,
    /// Last (seq, ts) accepted in order, to predict the next timestamp.
    last_in_order: Option<(u16, u32)>,
    samples_per_packet: u32,
    /// The codec's RTP clock, Hz.
    clock_rate: u32,
    /// [`TS_JUMP_MS`] in timestamp units.
    ts_jump: i64,
    epoch: u32,
    after_jump: bool,
    /// RFC 3550 jitter in timestamp units, scaled by 16.
    jitter_q4: u64,
    last_transit: Option<i64>,
    /// The kernel fast path forwards this stream from the confirmed remote: it is live
    /// whatever `last_rx` says, so no other source may take over.
    held_elsewhere: bool,
}

impl Rx {
    /// Receive state for a channel expecting `audio_pt` (and `event_pt`).
    pub fn new(
        remote: Option<SocketAddr>,
        strict: bool,
        latching: Latching,
        audio_pt: u8,
        event_pt: Option<u8>,
        samples_per_packet: u32,
    ) -> Rx {
        Rx {
            remote,
            signalled: remote,
            confirmed: None,
            strict,
            latching,
            candidates: Candidates::default(),
            audio_pt,
            event_pt,
            ssrc: None,
            candidate: None,
            last_rx: Micros::ZERO,
            seq: SeqExtender::without_probation(),
            last_in_order: None,
            samples_per_packet,
            clock_rate: 8000,
            ts_jump: TS_JUMP_MS * 8,
            epoch: 0,
            after_jump: false,
            jitter_q4: 0,
            last_transit: None,
            held_elsewhere: false,
        }
    }

    /// The SSRC currently received.
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    /// Time of the last accepted packet.
    pub fn last_rx(&self) -> Micros {
        self.last_rx
    }

    /// The sequence-number state (for RTCP report blocks).
    pub fn seq(&self) -> &SeqExtender {
        &self.seq
    }

    /// Interarrival jitter in timestamp units (RFC 3550 §6.4.1).
    pub fn jitter_units(&self) -> u32 {
        (self.jitter_q4 >> 4) as u32
    }

    /// What the kernel fast path needs of the incoming stream: the confirmed remote,
    /// whether it is strict, the SSRC and epoch received, the highest extended sequence
    /// number, the last in-order `(seq, ts)` and the jitter × 16. `None` before an
    /// accepted packet from a confirmed remote, or between a jump and its confirmation.
    pub(crate) fn offload_source(&self) -> Option<RxPosition> {
        let (confirmed, ssrc, last_in_order) = (self.confirmed?, self.ssrc?, self.last_in_order?);
        if self.after_jump || self.remote != Some(confirmed) {
            return None;
        }
        Some(RxPosition {
            confirmed,
            strict: self.strict,
            ssrc,
            epoch: self.epoch,
            extended_max: self.seq.extended_max(),
            last_in_order,
            jitter_q4: self.jitter_q4.min(u64::from(u32::MAX)) as u32,
        })
    }

    /// Marks the stream as forwarded by the kernel fast path (live) or not.
    pub(crate) fn set_held_elsewhere(&mut self, held: bool) {
        self.held_elsewhere = held;
    }

    /// Takes over what another receiver (the kernel fast path) accepted of this stream:
    /// `received` packets of `bytes` payload up to extended sequence `extended_max`, the
    /// last in order `(seq, ts)`, the jitter × 16 and the time of the last one.
    pub(crate) fn received_elsewhere(
        &mut self,
        at: RxPosition,
        received: u64,
        last_rx: Option<Micros>,
        stats: &mut ChannelStats,
    ) {
        self.seq.advance_to(at.extended_max, received);
        self.last_in_order = Some(at.last_in_order);
        self.jitter_q4 = u64::from(at.jitter_q4);
        // The transit base of the jitter estimate is stale after a gap in what we saw.
        self.last_transit = None;
        if let Some(t) = last_rx {
            self.last_rx = self.last_rx.max(t);
        }
        stats.packets_lost = self.seq.lost();
    }

    /// Changes the payload types accepted.
    pub fn set_payload_types(&mut self, audio_pt: u8, event_pt: Option<u8>) {
        self.audio_pt = audio_pt;
        self.event_pt = event_pt;
    }

    /// The codec's RTP clock (Hz) and packet length in its units, for the timestamp checks
    /// and the jitter estimate.
    pub fn set_clock(&mut self, clock_rate: u32, samples_per_packet: u32) {
        self.clock_rate = clock_rate.max(1);
        self.ts_jump = TS_JUMP_MS * i64::from(self.clock_rate) / 1000;
        self.samples_per_packet = samples_per_packet;
    }

    /// Takes a new signalled remote (a re-INVITE). The same address again changes nothing,
    /// so a source learnt behind NAT survives session refreshes; a new one becomes the
    /// remote at once and learning starts over.
    pub fn set_remote(&mut self, remote: SocketAddr) {
        if self.signalled == Some(remote) {
            return;
        }
        self.signalled = Some(remote);
        self.remote = Some(remote);
        self.confirmed = None;
        self.candidates.clear();
    }

    /// Whether an RTCP packet from `from` is believed: it must come from the remote's host
    /// (any port: NATs map RTCP separately) and not from the engine itself.
    pub fn rtcp_source_ok(&self, from: SocketAddr, own: Option<&OwnSockets>) -> bool {
        self.remote.is_some_and(|r| r.ip() == from.ip()) && !own.is_some_and(|o| o.contains(from))
    }

    /// Decides whether a packet from a source other than the confirmed remote may pass
    /// (see [`super::latch`]).
    #[cold]
    #[inline(never)]
    fn check_source(
        &mut self,
        now: Micros,
        from: SocketAddr,
        ssrc: u32,
        seq: u16,
        own: Option<&OwnSockets>,
        stats: &mut ChannelStats,
    ) -> Result<Source, Rejected> {
        if self.remote == Some(from) {
            self.confirmed = Some(from);
            return Ok(Source::Heard);
        }
        if own.is_some_and(|o| o.contains(from)) {
            stats.own_source += 1;
            return Err(Rejected::OwnSource);
        }
        let first = self.remote.is_none();
        if !first && self.signalled != Some(from) {
            let latched = self.confirmed.is_some();
            if self.strict && latched {
                stats.wrong_source += 1;
                return Err(Rejected::WrongSource);
            }
            let idle = Micros::from_ms(u64::from(self.latching.idle_ms));
            let run = self.candidates.observe(now, from, ssrc, seq, idle);
            let live = latched && (self.held_elsewhere || now.saturating_sub(self.last_rx) < idle);
            if run < self.latching.packets || live {
                if self.strict {
                    stats.wrong_source += 1;
                    return Err(Rejected::WrongSource);
                }
                stats.unlatched_source += 1;
                return Err(Rejected::UnlatchedSource);
            }
        }
        self.remote = Some(from);
        self.confirmed = Some(from);
        self.candidates.clear();
        if first {
            return Ok(Source::Heard);
        }
        stats.source_changes += 1;
        Ok(Source::Moved)
    }

    /// Checks one datagram and updates the receive state. `own` are the engine's media
    /// sockets, from which nothing is accepted.
    pub fn accept(
        &mut self,
        now: Micros,
        from: SocketAddr,
        data: &[u8],
        own: Option<&OwnSockets>,
        stats: &mut ChannelStats,
    ) -> Result<Accepted, Rejected> {
        let Ok(pkt) = RtpPacket::parse(data) else {
            stats.malformed += 1;
            return Err(Rejected::Malformed);
        };
        let pt = pkt.payload_type();
        let kind = if pt == self.audio_pt {
            MediaKind::Audio
        } else if Some(pt) == self.event_pt {
            MediaKind::TelephoneEvent
        } else {
            stats.unknown_payload_type += 1;
            return Err(Rejected::UnknownPayloadType);
        };
        let source = if self.confirmed == Some(from) {
            Source::Same
        } else {
            self.check_source(now, from, pkt.ssrc(), pkt.sequence(), own, stats)?
        };
        let remote_changed = source == Source::Moved;

        let ssrc = pkt.ssrc();
        let mut ssrc_changed_from = None;
        match self.ssrc {
            None => {}
            Some(cur) if cur == ssrc => self.candidate = None,
            Some(cur) => {
                // A source heard for the first time brings its own stream: its SSRC needs
                // no confirmation.
                let idle = now.saturating_sub(self.last_rx) >= SSRC_IDLE;
                if idle || source != Source::Same || self.candidate == Some(ssrc) {
                    ssrc_changed_from = Some(cur);
                } else {
                    self.candidate = Some(ssrc);
                    stats.ssrc_rejected += 1;
                    return Err(Rejected::Ssrc);
                }
            }
        }
        let first = self.ssrc.is_none();
        if first || ssrc_changed_from.is_some() {
            if ssrc_changed_from.is_some() {
                stats.ssrc_changes += 1;
                self.epoch = self.epoch.wrapping_add(1);
            }
            self.ssrc = Some(ssrc);
            self.candidate = None;
            self.seq = SeqExtender::without_probation();
            self.last_in_order = None;
            self.last_transit = None;
            self.after_jump = false;
        }
        let seq = pkt.sequence();
        let ts = pkt.timestamp();
        match self.seq.update(seq) {
            SeqUpdate::Accepted(_) | SeqUpdate::Late(_) | SeqUpdate::Probation => {
                if self.after_jump {
                    // The packet after a jump continued from it: the sender restarted its
                    // sequence. Treat it as a new stream in all but SSRC.
                    self.after_jump = false;
                    self.epoch = self.epoch.wrapping_add(1);
                    self.last_in_order = None;
                }
            }
            SeqUpdate::Jump => {
                // RFC 3550 A.1: a lone packet far from the sequence is dropped unless the
                // next one follows it.
                self.after_jump = true;
                stats.sequence_jumps += 1;
                return Err(Rejected::SequenceJump);
            }
        }

        if kind == MediaKind::Audio {
            self.check_timestamp(seq, ts, stats);
            self.update_jitter(now, ts);
        }
        self.last_rx = now;
        stats.packets_received += 1;
        stats.bytes_received += pkt.payload().len() as u64;
        stats.packets_lost = self.seq.lost();
        let payload_start = pkt.header_len();
        Ok(Accepted {
            kind,
            marker: pkt.marker(),
            seq,
            ts,
            epoch: self.epoch,
            ssrc_changed_from,
            first,
            remote_changed,
            payload_start,
            payload_len: pkt.payload().len(),
            inband: None,
        })
    }

    /// Detects a timestamp that disagrees with the sequence number by more than
    /// [`TS_JUMP_MS`] (a 2^31 jump, a sender restart) and starts a new epoch for it.
    fn check_timestamp(&mut self, seq: u16, ts: u32, stats: &mut ChannelStats) {
        if let Some((last_seq, last_ts)) = self.last_in_order {
            let dseq = seq_diff(seq, last_seq) as i64;
            if dseq <= 0 {
                return;
            }
            let predicted = dseq * self.samples_per_packet as i64;
            let actual = ts_diff(ts, last_ts) as i64;
            if (actual - predicted).abs() > self.ts_jump {
                stats.timestamp_jumps += 1;
                self.epoch = self.epoch.wrapping_add(1);
                self.last_transit = None;
            }
        }
        self.last_in_order = Some((seq, ts));
    }

    /// RFC 3550 §6.4.1: J += (|D| - J) / 16, in timestamp units.
    fn update_jitter(&mut self, now: Micros, ts: u32) {
        let arrival = (now.as_us() * u64::from(self.clock_rate) / 1_000_000) as i64;
        let transit = arrival.wrapping_sub(ts as i64);
        if let Some(last) = self.last_transit {
            let d = transit.wrapping_sub(last).unsigned_abs();
            // Ignore absurd values (clock jumps) rather than poisoning the estimate.
            if d < u64::from(self.clock_rate) * 60 {
                let j = self.jitter_q4 as i64;
                self.jitter_q4 = (j + (d as i64 * 16 - j) / 16).max(0) as u64;
            }
        }
        self.last_transit = Some(transit);
    }
}
