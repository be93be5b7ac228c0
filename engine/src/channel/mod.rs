//! One RTP endpoint and everything it decides alone.
//!
//! A channel owns its two directions:
//! - **ingress** ([`ingress`]): parsing, source latching, SSRC tracking, RTCP in, DTMF
//!   detection and digit collection, the party's filters, feeding its recordings, and the
//!   choice between its jitter buffer and pass-through. What is left to forward comes back
//!   to the shard as a [`Forward`].
//! - **egress** ([`egress`]): its one continuous output stream, and the one rule of who may
//!   write into it ([`Writer`]): its own player while one plays, otherwise whatever it is
//!   connected to.
//!
//! Channels do not know each other: the shard holds them in one slab and connects a
//! channel's [`Forward`] to its peer's output.

pub(crate) mod crypto;
pub(crate) mod dtmf;
pub(crate) mod dtmf_bridge;
pub(crate) mod egress;
pub(crate) mod held;
pub(crate) mod ingress;
pub(crate) mod latch;
pub(crate) mod offload;
pub(crate) mod repack;
pub(crate) mod rtcp;
pub(crate) mod rx;
pub(crate) mod shape;
pub(crate) mod tx;

use std::collections::VecDeque;
use std::net::SocketAddr;

use rand::Rng;
use rand::rngs::SmallRng;
use tandem_codecs::dtmf::{DtmfConfig, DtmfDetector};

use crate::event::Event;
use crate::ids::ChannelId;
use crate::jitter::{JitterBuffer, JitterConfig, PopOutcome};
use crate::player::Player;
use crate::spec::{ChannelSpec, Codec, MediaFilter, PlayTarget, RtcpMode};
use crate::stats::ChannelStats;
use crate::time::Micros;
use crate::transmit::TransmitQueue;

use self::crypto::Crypto;
use self::dtmf::DtmfTracker;
use self::dtmf_bridge::ToneTracker;
pub(crate) use self::egress::Writer;
use self::held::HeldSlot;
pub(crate) use self::ingress::{Forward, Ingress};
use self::rtcp::{REPORT_INTERVAL, RtcpState};
use self::rx::Rx;
use self::shape::Shaping;
use self::tx::Tx;

/// A channel's complete state.
#[derive(Debug)]
pub(crate) struct Channel {
    id: ChannelId,
    /// Local RTP port.
    port: u16,
    /// What it was created as (codec and event type follow renegotiation).
    spec: ChannelSpec,
    rx: Rx,
    tx: Tx,
    rtcp: RtcpState,
    /// RFC 4733 de-duplication.
    dtmf: DtmfTracker,
    /// Jitter buffer when the spec asks for one, or while the channel is in a room.
    jitter: Option<JitterBuffer>,
    /// Whether `jitter` was added for the room (and goes when the channel leaves it).
    room_jitter: bool,
    /// Slot of the bridged peer on the same shard.
    peer: Option<u32>,
    /// Slot of the room the channel is in.
    room: Option<u32>,
    /// What is playing into the channel (its output while it plays).
    player: Option<Player>,
    /// In-band DTMF detector, when the spec asks for one.
    inband: Option<DtmfDetector>,
    /// The digit the detector holds, followed across packets for conversion to events.
    tone_in: ToneTracker,
    /// Repacketisation and DTMF conversion of the output, when the spec asks for them.
    shaping: Option<Box<Shaping>>,
    /// Digits collected since the last `DigitsCollected`, and when the last came.
    collected: (String, Micros),
    /// What is held back from this channel's party.
    filter: MediaFilter,
    /// Slots of the recordings of this channel.
    taps: Vec<u32>,
    stats: ChannelStats,
    /// When the channel was created (media timeout counts from here until media arrives).
    created: Micros,
    /// Whether the current silence was already reported as a media timeout.
    timeout_reported: bool,
    /// SRTP contexts, when the spec keys the channel.
    crypto: Option<Box<Crypto>>,
    /// The first packet of an SSRC that has not yet taken over, until the next says.
    held: HeldSlot,
}

impl Channel {
    /// A new channel. `ssrc`, `seq0` and `ts0` are the random start of its output stream.
    pub fn new(
        id: ChannelId,
        port: u16,
        spec: ChannelSpec,
        now: Micros,
        (ssrc, seq0, ts0): (u32, u16, u32),
        first_report: Micros,
    ) -> Channel {
        let mut rx = Rx::new(
            spec.remote,
            spec.strict_source,
            spec.latching,
            spec.codec.payload_type,
            spec.telephone_event_pt,
            spec.samples_per_packet(),
        );
        rx.set_clock(spec.codec.clock_rate(), spec.samples_per_packet());
        let jitter = spec.jitter.map(JitterBuffer::new);
        Channel {
            id,
            port,
            rx,
            tx: Tx::new(ssrc, seq0, ts0, spec.codec.clock_rate()),
            rtcp: RtcpState::new(first_report),
            dtmf: DtmfTracker::default(),
            jitter,
            room_jitter: false,
            peer: None,
            room: None,
            taps: Vec::new(),
            filter: MediaFilter::default(),
            player: None,
            inband: spec.dtmf.inband.then(|| {
                DtmfDetector::new(DtmfConfig {
                    min_duration_ms: spec.dtmf.min_duration_ms,
                    ..DtmfConfig::default()
                })
            }),
            tone_in: ToneTracker::default(),
            shaping: Shaping::for_spec(&spec),
            collected: (String::new(), Micros::ZERO),
            stats: ChannelStats::default(),
            created: now,
            timeout_reported: false,
            crypto: spec.srtp.as_deref().map(|k| Box::new(Crypto::new(k))),
            held: HeldSlot::default(),
            spec,
        }
    }

    /// Its id.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// Its local RTP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its latched or signalled remote address.
    pub fn remote(&self) -> Option<SocketAddr> {
        self.rx.remote
    }

    /// Whether it negotiated RFC 4733 telephone-events.
    pub fn has_telephone_events(&self) -> bool {
        self.spec.telephone_event_pt.is_some()
    }

    /// The local port RTCP is sent from and received on.
    pub fn rtcp_port(&self) -> Option<u16> {
        match self.spec.rtcp {
            RtcpMode::Off => None,
            RtcpMode::Mux => Some(self.port),
            RtcpMode::Companion => Some(self.port.wrapping_add(1)),
        }
    }

    /// Where our RTCP goes: wherever the peer's RTCP comes from, else the RTP remote on
    /// the companion port (or the RTP port itself with rtcp-mux).
    fn rtcp_destination(&self) -> Option<SocketAddr> {
        match self.spec.rtcp {
            RtcpMode::Off => None,
            RtcpMode::Mux => self.rtcp.source.or(self.rx.remote),
            RtcpMode::Companion => self.rtcp.source.or_else(|| {
                self.rx.remote.map(|mut r| {
                    r.set_port(r.port().wrapping_add(1));
                    r
                })
            }),
        }
    }

    /// Takes a new signalled remote (see [`Rx::set_remote`]).
    pub fn set_remote(&mut self, remote: SocketAddr) {
        self.rx.set_remote(remote);
    }

    /// Renegotiation: a new codec and telephone-event type; the output stream continues.
    pub fn set_codec(&mut self, codec: Codec, telephone_event_pt: Option<u8>) {
        self.spec.codec = codec;
        self.spec.telephone_event_pt = telephone_event_pt;
        self.rx
            .set_payload_types(codec.payload_type, telephone_event_pt);
        self.rx
            .set_clock(codec.clock_rate(), self.spec.samples_per_packet());
        self.tx.clock_rate = codec.clock_rate();
    }

    /// Its codec.
    pub fn codec(&self) -> Codec {
        self.spec.codec
    }

    /// What the channel does now that needs decoded samples (so a pass-through codec
    /// cannot be set), by name.
    pub fn uses_samples(&self) -> Option<&'static str> {
        if let Some(f) = self.spec.needs_samples() {
            return Some(f);
        }
        if self.room.is_some() || self.jitter.is_some() {
            Some("a room")
        } else if !self.taps.is_empty() {
            Some("recording")
        } else if self.player.is_some() {
            Some("a player")
        } else if self.filter.silence_audio {
            Some("silencing")
        } else {
            None
        }
    }

    /// What is held back from this channel's party from now on.
    pub fn set_filter(&mut self, filter: MediaFilter) {
        self.filter = filter;
    }

    /// The slot of its bridged peer.
    pub fn peer(&self) -> Option<u32> {
        self.peer
    }

    /// Bridges it to the channel in `slot` (or to nothing).
    pub fn set_peer(&mut self, slot: Option<u32>) {
        self.peer = slot;
    }

    /// The slot of its room.
    pub fn room(&self) -> Option<u32> {
        self.room
    }

    /// Puts it in the room in `slot`. A room mixes decoded frames, so a channel without a
    /// jitter buffer gets one while it is there.
    pub fn enter_room(&mut self, slot: u32) {
        if self.jitter.is_none() {
            self.jitter = Some(JitterBuffer::new(JitterConfig::default()));
            self.room_jitter = true;
        }
        self.room = Some(slot);
    }

    /// Takes it out of its room; returns the room's slot if it was in one.
    pub fn leave_room(&mut self) -> Option<u32> {
        let slot = self.room.take()?;
        if self.room_jitter {
            self.jitter = None;
            self.room_jitter = false;
        }
        Some(slot)
    }

    /// Records it in the recording in `slot`.
    pub fn add_tap(&mut self, slot: u32) {
        self.taps.push(slot);
    }

    /// Stops feeding the recording in `slot`.
    pub fn remove_tap(&mut self, slot: u32) {
        self.taps.retain(|&t| t != slot);
    }

    /// Forgets every recording (the channel goes); returns their slots.
    pub fn take_taps(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.taps)
    }

    /// Starts a player, which owns the output while it plays; returns the one it replaces.
    pub fn play(&mut self, player: Player) -> Option<Player> {
        self.player.replace(player)
    }

    /// Stops the player, returning it.
    pub fn stop_player(&mut self) -> Option<Player> {
        self.player.take()
    }

    /// One frame of received audio for the room mix: `None` without a jitter buffer or
    /// before the first packet.
    pub fn pop_received(&mut self, now: Micros, out: &mut [i16]) -> Option<PopOutcome> {
        match self.jitter.as_mut() {
            Some(jb) if self.rx.ssrc().is_some() => Some(jb.pop(now, out)),
            _ => None,
        }
    }

    /// The periodic work of a tick that concerns this channel alone: the media timeout,
    /// its RTCP report when due (`rng` spreads the next one), the inter-digit timeout, and
    /// the player's frame. Returns whether an RTCP report was queued.
    pub fn tick(
        &mut self,
        now: Micros,
        ntp: u64,
        rng: &mut SmallRng,
        pcm: &mut [i16],
        transmits: &mut TransmitQueue,
        events: &mut VecDeque<Event>,
    ) -> bool {
        if let Some(silent_ms) = self.media_timed_out(now) {
            self.timeout_reported = true;
            events.push_back(Event::MediaTimeout {
                channel: self.id,
                silent_ms,
            });
        }
        let mut reported = false;
        if now >= self.rtcp.next_report {
            let spread =
                rng.random_range(REPORT_INTERVAL.as_us() / 2..REPORT_INTERVAL.as_us() * 3 / 2);
            self.rtcp.next_report = now + Micros::from_us(spread);
            if let (Some(dest), Some(port)) = (self.rtcp_destination(), self.rtcp_port()) {
                let (rtcp, tx, rx) = (&mut self.rtcp, &self.tx, &self.rx);
                transmits.push_with(port, dest, |buf| rtcp.write_report(now, ntp, tx, rx, buf));
                if self.crypto.is_none() || self.protect_last(transmits, true) {
                    self.stats.rtcp_sent += 1;
                    reported = true;
                }
            }
        }
        let timeout = Micros::from_ms(u64::from(self.spec.dtmf.inter_digit_timeout_ms));
        if timeout > Micros::ZERO
            && !self.collected.0.is_empty()
            && now.saturating_sub(self.collected.1) >= timeout
        {
            let digits = std::mem::take(&mut self.collected.0);
            events.push_back(Event::DigitsCollected {
                channel: self.id,
                digits,
            });
        }
        if self.player.is_some() {
            self.play_frame(now, pcm, transmits, events);
        }
        reported
    }

    /// Milliseconds of silence at `now` if it has reached the media timeout.
    fn media_timed_out(&self, now: Micros) -> Option<u64> {
        if self.spec.media_timeout_ms == 0 || self.timeout_reported {
            return None;
        }
        let since = self.rx.last_rx().max(self.created);
        let silent_ms = now.saturating_sub(since).as_ms();
        (silent_ms >= u64::from(self.spec.media_timeout_ms)).then_some(silent_ms)
    }

    /// A DTMF digit: report it, collect it, and let it barge into a prompt.
    fn on_digit(
        &mut self,
        events: &mut VecDeque<Event>,
        digit: char,
        duration_ms: u32,
        now: Micros,
    ) {
        self.stats.dtmf_received += 1;
        events.push_back(Event::Dtmf {
            channel: self.id,
            digit,
            duration_ms,
            at: now,
        });
        if self.spec.dtmf.inter_digit_timeout_ms > 0 {
            self.collected.0.push(digit);
            self.collected.1 = now;
        }
        if self.player.as_ref().is_some_and(|p| p.barge_in) {
            let p = self.player.take().expect("checked");
            events.push_back(Event::PlayFinished {
                target: PlayTarget::Channel(self.id),
                interrupted: true,
                position_ms: p.position_ms(),
            });
        }
    }

    /// Counters with the jitter buffer's figures folded in.
    pub fn snapshot_stats(&self) -> ChannelStats {
        let mut s = self.stats;
        s.jitter_us =
            u64::from(self.rx.jitter_units()) * 1_000_000 / u64::from(self.spec.codec.clock_rate());
        if let Some(jb) = &self.jitter {
            let j = jb.stats();
            s.duplicates = j.duplicates;
            s.late = j.late;
            s.concealed_frames = j.concealed_frames;
            s.jitter_dropped_frames = j.dropped_frames;
            s.jitter_stretched_frames = j.stretched_frames;
            s.jitter_target_ms = j.target_depth_ms;
        }
        s
    }
}

/// Marks a feed key as a channel's own player.
const PLAYER_FEED_BIT: u64 = 1 << 46;
