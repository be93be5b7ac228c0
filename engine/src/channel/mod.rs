//! One RTP endpoint: its receive and send state, RTCP, DTMF de-duplication and optional
//! jitter buffer. Channels do not know about each other; the shard connects them.

pub mod dtmf;
pub mod latch;
pub mod rtcp;
pub mod rx;
pub mod tx;

use std::net::SocketAddr;

use tandem_codecs::rtp::RtpHeader;

use tandem_codecs::dtmf::{DtmfConfig, DtmfDetector};

use crate::command::MediaFilter;
use crate::ids::ChannelId;
use crate::jitter::JitterBuffer;
use crate::player::Player;
use crate::spec::{ChannelSpec, RtcpMode};
use crate::stats::ChannelStats;
use crate::transmit::TransmitQueue;

use self::dtmf::DtmfTracker;
use self::rtcp::RtcpState;
use self::rx::Rx;
use self::tx::{Stamp, Tx};

/// A channel's complete state.
#[derive(Debug)]
pub struct Channel {
    /// Its id.
    pub id: ChannelId,
    /// Local RTP port.
    pub port: u16,
    /// What it was created as.
    pub spec: ChannelSpec,
    /// Receive side.
    pub rx: Rx,
    /// Send side.
    pub tx: Tx,
    /// RTCP.
    pub rtcp: RtcpState,
    /// DTMF de-duplication.
    pub dtmf: DtmfTracker,
    /// Jitter buffer when the spec asks for one.
    pub jitter: Option<JitterBuffer>,
    /// Slot of the bridged peer on the same shard.
    pub peer: Option<u32>,
    /// Slot of the room the channel is in.
    pub room: Option<u32>,
    /// What is playing into the channel (its output while it plays).
    pub player: Option<Player>,
    /// In-band DTMF detector, when the spec asks for one.
    pub inband: Option<DtmfDetector>,
    /// Digits collected since the last `DigitsCollected`, and when the last came.
    pub collected: (String, u64),
    /// What is held back from this channel's party.
    pub filter: MediaFilter,
    /// Slots of the taps recording this channel.
    pub taps: Vec<u32>,
    /// Whether `jitter` was added for the room (and goes when the channel leaves it).
    pub room_jitter: bool,
    /// Counters.
    pub stats: ChannelStats,
    /// When the channel was created (media timeout counts from here until media arrives).
    pub created_us: u64,
    /// Whether the current silence was already reported as a media timeout.
    pub timeout_reported: bool,
}

impl Channel {
    /// A new channel. `ssrc`, `seq0` and `ts0` are the random start of its output stream.
    pub fn new(
        id: ChannelId,
        port: u16,
        spec: ChannelSpec,
        now_us: u64,
        (ssrc, seq0, ts0): (u32, u16, u32),
        first_report_us: u64,
    ) -> Channel {
        let rx = Rx::new(
            spec.remote,
            spec.strict_source,
            spec.latching,
            spec.codec.payload_type,
            spec.telephone_event_pt,
            spec.samples_per_packet(),
        );
        let jitter = spec.jitter.map(JitterBuffer::new);
        Channel {
            id,
            port,
            rx,
            tx: Tx::new(ssrc, seq0, ts0),
            rtcp: RtcpState::new(first_report_us),
            dtmf: DtmfTracker::default(),
            jitter,
            peer: None,
            room: None,
            room_jitter: false,
            taps: Vec::new(),
            filter: MediaFilter::default(),
            player: None,
            inband: spec.dtmf.inband.then(|| {
                DtmfDetector::new(DtmfConfig {
                    min_duration_ms: spec.dtmf.min_duration_ms,
                    ..DtmfConfig::default()
                })
            }),
            collected: (String::new(), 0),
            stats: ChannelStats::default(),
            created_us: now_us,
            timeout_reported: false,
            spec,
        }
    }

    /// Where our RTCP goes: wherever the peer's RTCP comes from, else the RTP remote on
    /// the companion port (or the RTP port itself with rtcp-mux).
    pub fn rtcp_destination(&self) -> Option<SocketAddr> {
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

    /// The local port RTCP is sent from and received on.
    pub fn rtcp_port(&self) -> Option<u16> {
        match self.spec.rtcp {
            RtcpMode::Off => None,
            RtcpMode::Mux => Some(self.port),
            RtcpMode::Companion => Some(self.port.wrapping_add(1)),
        }
    }

    /// Milliseconds of silence at `now_us` if it has reached the media timeout.
    pub fn media_timed_out(&self, now_us: u64) -> Option<u64> {
        if self.spec.media_timeout_ms == 0 || self.timeout_reported {
            return None;
        }
        let since = self.rx.last_rx_us().max(self.created_us);
        let silent_ms = now_us.saturating_sub(since) / 1000;
        (silent_ms >= u64::from(self.spec.media_timeout_ms)).then_some(silent_ms)
    }

    /// Counters with the jitter buffer's figures folded in.
    pub fn snapshot_stats(&self) -> ChannelStats {
        let mut s = self.stats;
        s.jitter_us = u64::from(self.rx.jitter_units()) * 125;
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

    /// Queues one RTP packet from this channel to `dest` and counts it.
    pub fn send_rtp(
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
        self.tx.packets += 1;
        self.tx.octets += len as u64;
        self.stats.packets_sent += 1;
        self.stats.bytes_sent += len as u64;
    }
}
