//! Live media fork: a tap whose frames are streamed instead of written to a file.
//!
//! A fork taps a channel (the channel, then its bridged peer: one track per direction of
//! the call) or a room (one track per participant) exactly like a recording, through the
//! same wait-free ring, so the media path is the same with or without it: when whoever
//! reads the ring falls behind, the shard drops frames (counted) and never waits.
//!
//! The ring is read by one of:
//! - the tap writer, which sends each track as its own RTP stream (its own SSRC, sequence
//!   numbers and timestamps, 8 kHz, one packet per engine tick) to a UDP destination, in
//!   G.711 (PCMU payload type 0, PCMA 8) or 16-bit linear PCM (L16, big-endian, payload
//!   type 96); sockets are non-blocking, a datagram the kernel refuses is counted, and
//!   per-track VAD reports speech starts and stops as `Event::ForkVoice`; when the fork
//!   stops, `Event::ForkFinished` gives packets, drops and each track's speech and
//!   silence time;
//! - an in-process consumer, a [`ForkStream`] the application takes from the
//!   [`ForkInbox`] it gave in the [`ForkSpec`].
//!
//! G.711 is carried bit for bit: the tap decodes what each party sent and the fork
//! encodes it again with the same law, which gives back every A-law byte and every μ-law
//! byte except μ-law's negative zero (0x7F), which comes back as positive zero (0xFF).

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use rtrb::Consumer;
use tandem_codecs::g711::Law;
use tandem_codecs::rtp::RtpHeader;
use tandem_codecs::vad::{Vad, VadConfig, VadEvent};

use super::TapCounters;
use crate::event::Event;
use crate::ids::TapId;

/// RTP payload type of forked L16 audio.
pub const L16_PAYLOAD_TYPE: u8 = 96;

/// How forked audio is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForkEncoding {
    /// G.711 μ-law, RTP payload type 0.
    Pcmu,
    /// G.711 A-law, RTP payload type 8.
    Pcma,
    /// 16-bit linear PCM, big-endian (RFC 3551 L16), payload type 96.
    L16,
}

/// Where forked audio goes.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ForkDestination {
    /// RTP over UDP to this address, one stream (SSRC) per track.
    Udp(SocketAddr),
    /// An in-process consumer: the stream is put in this inbox when the fork starts.
    Consumer(Arc<ForkInbox>),
}

/// What a fork streams where.
#[derive(Clone, Debug)]
pub struct ForkSpec {
    /// The destination.
    pub destination: ForkDestination,
    /// Encoding of UDP streams (an in-process consumer reads linear samples).
    pub encoding: ForkEncoding,
    /// VAD thresholds for the per-track speech and silence figures.
    pub vad: VadConfig,
}

impl ForkSpec {
    /// RTP to `dest` in `encoding`, with the default VAD.
    pub fn udp(dest: SocketAddr, encoding: ForkEncoding) -> ForkSpec {
        ForkSpec {
            destination: ForkDestination::Udp(dest),
            encoding,
            vad: VadConfig::default(),
        }
    }
}

/// Where an in-process consumer picks up its [`ForkStream`].
#[derive(Debug, Default)]
pub struct ForkInbox {
    stream: Mutex<Option<ForkStream>>,
}

impl ForkInbox {
    /// An empty inbox.
    pub fn new() -> Arc<ForkInbox> {
        Arc::new(ForkInbox::default())
    }

    /// The stream, once the fork has started (taken once).
    pub fn take(&self) -> Option<ForkStream> {
        self.stream.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    pub(crate) fn put(&self, s: ForkStream) {
        *self.stream.lock().unwrap_or_else(|e| e.into_inner()) = Some(s);
    }
}

/// A fork's frames for an in-process consumer. Dropping it stops the fork.
pub struct ForkStream {
    tap: TapId,
    tracks: u16,
    samples: usize,
    ring: Consumer<i16>,
    counters: Arc<TapCounters>,
}

impl std::fmt::Debug for ForkStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForkStream")
            .field("tap", &self.tap)
            .field("tracks", &self.tracks)
            .finish_non_exhaustive()
    }
}

impl ForkStream {
    /// The fork.
    pub fn tap(&self) -> TapId {
        self.tap
    }

    /// Tracks (interleaved in each frame).
    pub fn tracks(&self) -> u16 {
        self.tracks
    }

    /// Samples per track in one frame.
    pub fn frame_samples(&self) -> usize {
        self.samples
    }

    /// Copies the next frame (`frame_samples() * tracks()` interleaved samples) into
    /// `out`; `false` when none is waiting or `out` is too short.
    pub fn read_frame(&mut self, out: &mut [i16]) -> bool {
        let n = self.samples * usize::from(self.tracks);
        if out.len() < n || self.ring.slots() < n {
            return false;
        }
        match self.ring.read_chunk(n) {
            Ok(chunk) => {
                let (a, b) = chunk.as_slices();
                out[..a.len()].copy_from_slice(a);
                out[a.len()..n].copy_from_slice(b);
                chunk.commit_all();
                true
            }
            Err(_) => false,
        }
    }

    /// Frames the shard dropped because this consumer fell behind.
    pub fn dropped_frames(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }

    /// Whether the fork has stopped (the frames still waiting can be read).
    pub fn is_finished(&self) -> bool {
        self.ring.is_abandoned()
    }
}

/// One track's outgoing RTP stream.
struct TrackOut {
    ssrc: u32,
    seq: u16,
    ts: u32,
    vad: Vad,
}

/// A UDP fork being sent by the tap writer.
pub(crate) struct UdpFork {
    tap: TapId,
    socket: UdpSocket,
    dest: SocketAddr,
    encoding: ForkEncoding,
    samples: usize,
    ring: Consumer<i16>,
    counters: Arc<TapCounters>,
    tracks: Vec<TrackOut>,
    frame: Vec<i16>,
    track: Vec<i16>,
    packet: Vec<u8>,
    payload: Vec<u8>,
    sent: u64,
    send_errors: u64,
}

impl UdpFork {
    /// A fork of `tracks` tracks of `samples` samples per frame to `dest`.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        tap: TapId,
        dest: SocketAddr,
        encoding: ForkEncoding,
        vad: VadConfig,
        tracks: u16,
        samples: usize,
        ring: Consumer<i16>,
        counters: Arc<TapCounters>,
    ) -> std::io::Result<UdpFork> {
        let bind: SocketAddr = if dest.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(bind)?;
        socket.set_nonblocking(true)?;
        // A fixed, distinct SSRC per track derived from the tap id, so a receiver can tell
        // the directions apart and a restart of the same fork is recognisable.
        let base = (tap.0 ^ (tap.0 >> 32)) as u32 & !0xF;
        let tracks = (0..tracks)
            .map(|i| TrackOut {
                ssrc: base | u32::from(i),
                seq: 0,
                ts: 0,
                vad: Vad::new(vad),
            })
            .collect::<Vec<_>>();
        let n = tracks.len();
        Ok(UdpFork {
            tap,
            socket,
            dest,
            encoding,
            samples,
            ring,
            counters,
            tracks,
            frame: vec![0; samples * n],
            track: vec![0; samples],
            packet: Vec::with_capacity(12 + samples * 2),
            payload: Vec::with_capacity(samples * 2),
            sent: 0,
            send_errors: 0,
        })
    }

    /// Sends every whole frame waiting; returns whether the fork has finished (its
    /// `ForkFinished` is then in `events`).
    pub fn pump(&mut self, events: &mut Vec<Event>) -> bool {
        let finished = self.ring.is_abandoned();
        let ch = self.tracks.len().max(1);
        let n = self.samples * ch;
        while self.ring.slots() >= n {
            let Ok(chunk) = self.ring.read_chunk(n) else {
                break;
            };
            let (a, b) = chunk.as_slices();
            self.frame[..a.len()].copy_from_slice(a);
            self.frame[a.len()..n].copy_from_slice(b);
            chunk.commit_all();
            for i in 0..self.tracks.len() {
                self.send_track(i, events);
            }
        }
        if finished {
            let ms = |frames: u64| frames * self.samples as u64 / 8;
            let (speech, silence) = self
                .tracks
                .iter()
                .map(|t| {
                    let (all, speech) = t.vad.counts();
                    (ms(speech), ms(all - speech))
                })
                .unzip();
            events.push(Event::ForkFinished {
                tap: self.tap,
                packets_sent: self.sent,
                send_errors: self.send_errors,
                dropped_frames: self.counters.dropped.load(Ordering::Relaxed),
                speech_ms: speech,
                silence_ms: silence,
            });
        }
        finished
    }

    fn send_track(&mut self, i: usize, events: &mut Vec<Event>) {
        let ch = self.tracks.len();
        for (k, s) in self.track.iter_mut().enumerate() {
            *s = self.frame[k * ch + i];
        }
        let t = &mut self.tracks[i];
        if let Some(e) = t.vad.push_frame(&self.track) {
            let (speaking, frame) = match e {
                VadEvent::SpeechStart(f) => (true, f),
                VadEvent::SpeechStop(f) => (false, f),
            };
            events.push(Event::ForkVoice {
                tap: self.tap,
                track: i as u16,
                speaking,
                at_ms: frame * self.samples as u64 / 8,
            });
        }
        self.payload.clear();
        let (pt, law) = match self.encoding {
            ForkEncoding::Pcmu => (0, Some(Law::Ulaw)),
            ForkEncoding::Pcma => (8, Some(Law::Alaw)),
            ForkEncoding::L16 => (L16_PAYLOAD_TYPE, None),
        };
        match law {
            Some(law) => self
                .payload
                .extend(self.track.iter().map(|&s| law.encode(s))),
            None => {
                for s in &self.track {
                    self.payload.extend_from_slice(&s.to_be_bytes());
                }
            }
        }
        self.packet.clear();
        let header = RtpHeader {
            payload_type: pt,
            sequence: t.seq,
            timestamp: t.ts,
            ssrc: t.ssrc,
            ..RtpHeader::default()
        };
        if header.write(&mut self.packet, &self.payload).is_err() {
            self.send_errors += 1;
            return;
        }
        t.seq = t.seq.wrapping_add(1);
        t.ts = t.ts.wrapping_add(self.samples as u32);
        match self.socket.send_to(&self.packet, self.dest) {
            Ok(_) => self.sent += 1,
            // Never wait: a full socket buffer or an unreachable destination loses the
            // packet, counted.
            Err(_) => self.send_errors += 1,
        }
    }
}

/// Builds the in-process consumer's stream.
pub(crate) fn stream(
    tap: TapId,
    tracks: u16,
    samples: usize,
    ring: Consumer<i16>,
    counters: Arc<TapCounters>,
) -> ForkStream {
    ForkStream {
        tap,
        tracks,
        samples,
        ring,
        counters,
    }
}
