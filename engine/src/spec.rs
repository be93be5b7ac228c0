//! What the application asks for: what a channel is (codec, packetisation, RTCP, jitter
//! buffering, DTMF, latching), what is held back from it, how a room mixes and who takes
//! part how, what a recording writes, and where a player plays.
//!
//! These are plain data: commands carry them, and the parts of the engine that act on them
//! read them.

use std::net::SocketAddr;
use std::path::PathBuf;

use tandem_codecs::g711::Law;
use tandem_codecs::vad::VadConfig;
use tandem_codecs::wav::Encoding;
use tandem_srtp::Keying;

use crate::ids::{ChannelId, RoomId};
use crate::jitter::JitterConfig;

/// The audio codec of a channel with its RTP payload type (the payload type is negotiated,
/// so PCMU need not be 0 on the wire, though it nearly always is).
///
/// A **pass-through** codec ([`Codec::passthrough`]: G.722, opus, G.729, anything the engine
/// does not decode) is relayed unchanged between two pass-through channels: each packet's
/// payload is copied, only the RTP header is re-stamped. Nothing that needs the samples
/// applies to such a channel (transcoding, a jitter buffer, repacketisation, in-band DTMF,
/// DTMF conversion, silencing, recording, rooms, players): the engine refuses those with
/// [`CommandError::PassThrough`](crate::CommandError::PassThrough). Which codec two bridged
/// pass-through channels carry is the signalling's business: they must agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Codec {
    /// Companding law of a G.711 codec (not used by a pass-through codec).
    pub law: Law,
    /// RTP payload type carrying it.
    pub payload_type: u8,
    /// `Some(RTP clock rate in Hz)` for a pass-through codec; `None` for G.711.
    pub passthrough: Option<u32>,
}

impl Codec {
    /// PCMU on its static payload type 0.
    pub const PCMU: Codec = Codec {
        law: Law::Ulaw,
        payload_type: 0,
        passthrough: None,
    };
    /// PCMA on its static payload type 8.
    pub const PCMA: Codec = Codec {
        law: Law::Alaw,
        payload_type: 8,
        passthrough: None,
    };

    /// G.711 in `law` on `payload_type`.
    pub const fn g711(law: Law, payload_type: u8) -> Codec {
        Codec {
            law,
            payload_type,
            passthrough: None,
        }
    }

    /// A codec relayed without decoding, on `payload_type` with an RTP clock of
    /// `clock_rate` Hz (8000 for G.722, as RFC 3551 fixes it; 48000 for opus).
    pub const fn passthrough(payload_type: u8, clock_rate: u32) -> Codec {
        Codec {
            law: Law::Ulaw,
            payload_type,
            passthrough: Some(clock_rate),
        }
    }

    /// Whether it is relayed without decoding.
    pub const fn is_passthrough(&self) -> bool {
        self.passthrough.is_some()
    }

    /// Its RTP clock rate, Hz (8000 for G.711).
    pub fn clock_rate(&self) -> u32 {
        self.passthrough.unwrap_or(8000).max(1)
    }
}

/// Where RTCP travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
    /// Re-frame forwarded audio to `ptime_ms` (10 to 60 ms, a multiple of 10), whatever
    /// packet length the peer sends: samples are buffered and a packet goes out when a full
    /// frame is ready, on a continuous sequence and timestamp. `false` forwards packets as
    /// they come (pass-through, no cost).
    pub repacketize: bool,
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
    /// SRTP (RFC 3711) keyed by SDES: `None` is plain RTP.
    pub srtp: Option<Box<SrtpKeys>>,
}

/// The SRTP keying of a channel: its party's packets (SRTP and SRTCP) are unprotected with
/// `inbound` (the key the party announced), and what the channel sends is protected with
/// `outbound` (the key the relay announced to the party).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrtpKeys {
    /// Unprotects what the party sends.
    pub inbound: Keying,
    /// Protects what the channel sends.
    pub outbound: Keying,
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
    /// Convert digits in what this channel sends: RFC 4733 events from its peer become
    /// in-band tones (ITU-T Q.23 frequencies) when this channel negotiated no
    /// telephone-event, and tones the peer's in-band detector finds become RFC 4733 events
    /// when it did. `false` forwards events as they come and never makes any.
    pub convert: bool,
}

impl Default for DtmfSettings {
    fn default() -> Self {
        DtmfSettings {
            rfc4733: true,
            inband: false,
            min_duration_ms: 40,
            inter_digit_timeout_ms: 0,
            convert: false,
        }
    }
}

impl Default for ChannelSpec {
    fn default() -> Self {
        ChannelSpec {
            codec: Codec::PCMU,
            telephone_event_pt: Some(101),
            ptime_ms: 20,
            repacketize: false,
            remote: None,
            strict_source: false,
            rtcp: RtcpMode::Companion,
            jitter: None,
            media_timeout_ms: 30_000,
            dtmf: DtmfSettings::default(),
            latching: Latching::default(),
            srtp: None,
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

    /// Samples per packet sent (timestamp units of the codec's clock).
    pub fn samples_per_packet(&self) -> u32 {
        self.ptime_ms * (self.codec.clock_rate() / 1000).max(1)
    }

    /// What of the spec needs decoded samples, which a pass-through codec does not give:
    /// the first such feature, by name.
    pub fn needs_samples(&self) -> Option<&'static str> {
        if self.jitter.is_some() {
            Some("a jitter buffer")
        } else if self.repacketize {
            Some("repacketisation")
        } else if self.dtmf.inband {
            Some("in-band DTMF detection")
        } else if self.dtmf.convert {
            Some("DTMF conversion")
        } else {
            None
        }
    }
}

/// What is held back from a party's media (rtpengine's block/silence commands).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MediaFilter {
    /// Audio is not forwarded.
    pub block_audio: bool,
    /// Audio is forwarded as silence (the stream stays up).
    pub silence_audio: bool,
    /// RFC 4733 events are not forwarded (still detected and reported).
    pub block_dtmf: bool,
}

/// Where a player plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlayTarget {
    /// Into a channel (its output is the player's while it plays).
    Channel(ChannelId),
    /// Into a room (every listener hears it).
    Room(RoomId),
}

impl PlayTarget {
    /// The shard of the target.
    pub fn shard(self) -> usize {
        match self {
            PlayTarget::Channel(c) => c.shard(),
            PlayTarget::Room(r) => r.shard(),
        }
    }
}

/// What a tap records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TapTarget {
    /// A channel (with its bridged peer).
    Channel(ChannelId),
    /// Every participant of a room.
    Room(RoomId),
}

impl TapTarget {
    /// The shard of the target.
    pub fn shard(self) -> usize {
        match self {
            TapTarget::Channel(c) => c.shard(),
            TapTarget::Room(r) => r.shard(),
        }
    }
}

/// What a supervisor does on a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SuperviseMode {
    /// Hears both parties, heard by no one.
    Listen,
    /// Heard only by the agent (coaching).
    Whisper,
    /// A three-way call: heard by both.
    Barge,
    /// Removes the agent's leg from the call (the supervisor stays with the caller).
    ForceDisconnect,
}

/// Options of a room.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoomOptions {
    /// Mix only the K loudest contributors (`None`: everyone).
    pub top_k: Option<usize>,
    /// Leave out participants the VAD judges silent, so background noise of many open
    /// microphones does not add up.
    pub vad_gate: bool,
    /// VAD thresholds for talk events and the gate.
    pub vad: VadConfig,
}

impl Default for RoomOptions {
    fn default() -> Self {
        RoomOptions {
            top_k: None,
            vad_gate: true,
            vad: VadConfig::default(),
        }
    }
}

/// How one participant takes part in a room.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParticipantOptions {
    /// Not heard by anyone (listen-only, or a supervisor in listen mode).
    pub mute: bool,
    /// Hears nothing.
    pub deaf: bool,
    /// Gain applied to this participant's voice, dB (±24).
    pub gain_db: f32,
    /// Heard only by this participant (supervisor whisper/coach).
    pub whisper_to: Option<ChannelId>,
}

impl Default for ParticipantOptions {
    fn default() -> Self {
        ParticipantOptions {
            mute: false,
            deaf: false,
            gain_db: 0.0,
            whisper_to: None,
        }
    }
}

impl ParticipantOptions {
    /// Hears everyone, heard by no one.
    pub fn listen_only() -> Self {
        ParticipantOptions {
            mute: true,
            ..Self::default()
        }
    }

    /// Hears everyone, heard only by `target`.
    pub fn whisper(target: ChannelId) -> Self {
        ParticipantOptions {
            whisper_to: Some(target),
            ..Self::default()
        }
    }
}

/// How a recording's tracks become file channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TapMode {
    /// All tracks mixed to mono.
    Mixed,
    /// Two channels: the first track (the caller) left, the second (the agent) right.
    Stereo,
    /// One file channel per track.
    Multitrack,
}

/// What a recording writes where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapSpec {
    /// Output file (created; an existing file is never overwritten: the tap fails).
    pub path: PathBuf,
    /// Channel layout.
    pub mode: TapMode,
    /// Sample encoding of the WAV file.
    pub encoding: Encoding,
}
