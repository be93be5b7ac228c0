//! What a channel is asked to be: codec, packetisation, RTCP mode, jitter buffering.

use std::net::SocketAddr;

use tandem_codecs::g711::Law;

use crate::jitter::JitterConfig;

/// The audio codec of a channel with its RTP payload type (the payload type is negotiated,
/// so PCMU need not be 0 on the wire, though it nearly always is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Codec {
    /// Companding law.
    pub law: Law,
    /// RTP payload type carrying it.
    pub payload_type: u8,
}

impl Codec {
    /// PCMU on its static payload type 0.
    pub const PCMU: Codec = Codec {
        law: Law::Ulaw,
        payload_type: 0,
    };
    /// PCMA on its static payload type 8.
    pub const PCMA: Codec = Codec {
        law: Law::Alaw,
        payload_type: 8,
    };
}

/// Where RTCP travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtcpMode {
    /// No RTCP is sent; received RTCP is ignored.
    Off,
    /// On the companion port (RTP port + 1), as RFC 3550 §11 describes.
    Companion,
    /// On the RTP port itself (RFC 5761 rtcp-mux).
    Mux,
}

/// Everything needed to create a channel.
#[derive(Clone, Debug)]
pub struct ChannelSpec {
    /// Audio codec.
    pub codec: Codec,
    /// Payload type of RFC 4733 telephone-events, if negotiated.
    pub telephone_event_pt: Option<u8>,
    /// Packetisation time of what this channel sends, in milliseconds.
    pub ptime_ms: u32,
    /// Remote address from signalling. Packets from it are always accepted; another source
    /// takes over only as [`Latching`] allows (symmetric RTP behind NAT).
    pub remote: Option<SocketAddr>,
    /// Once a source is latched (learnt from packets), accept RTP only from it and from the
    /// signalled `remote`: no other source can ever take over.
    pub strict_source: bool,
    /// RTCP transport.
    pub rtcp: RtcpMode,
    /// `None` forwards packets as they arrive (pass-through, least latency); `Some` plays
    /// them out through a jitter buffer on the shard tick, concealing losses.
    pub jitter: Option<JitterConfig>,
    /// Report `MediaTimeout` after this long without RTP (0 disables).
    pub media_timeout_ms: u32,
    /// How DTMF is detected on what this channel receives.
    pub dtmf: DtmfSettings,
    /// When a new source may take over the stream (see [`Latching`]).
    pub latching: Latching,
}

/// How a channel learns where its remote party sends from (symmetric RTP), and when a new
/// source may take over: see `channel::latch` for the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latching {
    /// Consecutive packets a new source must send (one SSRC, in-order sequence numbers,
    /// each within `idle_ms` of the one before) before it takes over.
    pub packets: u8,
    /// The current source counts as live until it has been silent this long; a new source
    /// never takes over from a live one.
    pub idle_ms: u32,
}

impl Default for Latching {
    fn default() -> Self {
        Latching {
            packets: 4,
            idle_ms: 500,
        }
    }
}

/// DTMF detection on a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfSettings {
    /// Report RFC 4733 telephone-events.
    pub rfc4733: bool,
    /// Detect tones in the audio (Goertzel; costs a decode per packet).
    pub inband: bool,
    /// Shortest digit reported, ms.
    pub min_duration_ms: u32,
    /// After a digit, report the digits collected so far (`Event::DigitsCollected`) when no
    /// further digit comes for this long (0: no collection).
    pub inter_digit_timeout_ms: u32,
}

impl Default for DtmfSettings {
    fn default() -> Self {
        DtmfSettings {
            rfc4733: true,
            inband: false,
            min_duration_ms: 40,
            inter_digit_timeout_ms: 0,
        }
    }
}

impl Default for ChannelSpec {
    fn default() -> Self {
        ChannelSpec {
            codec: Codec::PCMU,
            telephone_event_pt: Some(101),
            ptime_ms: 20,
            remote: None,
            strict_source: false,
            rtcp: RtcpMode::Companion,
            jitter: None,
            media_timeout_ms: 30_000,
            dtmf: DtmfSettings::default(),
            latching: Latching::default(),
        }
    }
}

impl ChannelSpec {
    /// A spec with the given codec and the defaults for the rest.
    pub fn with_codec(codec: Codec) -> ChannelSpec {
        ChannelSpec {
            codec,
            ..ChannelSpec::default()
        }
    }

    /// Samples per packet sent.
    pub fn samples_per_packet(&self) -> u32 {
        self.ptime_ms * 8
    }
}
