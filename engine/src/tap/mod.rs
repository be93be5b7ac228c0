//! Recording taps: the shard side.
//!
//! A tap records the audio *received* on a set of channels (its tracks): for a channel in a
//! bridge, the channel itself and its peer, so both parties are captured; for a room, every
//! participant. Each track has its own small jitter buffer fed with the packets as they
//! arrive, so the tracks stay aligned whatever the network does and the media path is not
//! changed by recording. Every tick the tap builds one frame (mono mix, stereo, or one
//! channel per track) and pushes it into a wait-free single-producer ring; a writer
//! ([`writer`]) does the file I/O. A full ring drops the frame (counted, and reported once
//! per overflow episode); media is never delayed.

pub(crate) mod fork;
pub(crate) mod writer;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rtrb::{Consumer, Producer, RingBuffer};
use tandem_codecs::g711::Law;

use crate::event::Event;
use crate::ids::{ChannelId, TapId};
use crate::jitter::{JitterBuffer, JitterConfig};
use crate::spec::{TapMode, TapSpec};
use crate::time::Micros;
use fork::ForkSpec;

/// Seconds of audio a tap's ring holds before frames are dropped.
const RING_SECONDS: usize = 2;

/// The statistics a writer and the shard share for one tap.
#[derive(Debug, Default)]
pub(crate) struct TapCounters {
    /// Frames dropped because the ring was full.
    pub dropped: AtomicU64,
}

/// A recording the shard has started, to be handed to a [`TapWriter`](writer::TapWriter)
/// (which writes its file): the shard's frames arrive through a wait-free ring inside.
pub struct TapHandoff {
    pub(crate) tap: TapId,
    pub(crate) sink: TapSink,
    /// File channels (tracks of a fork).
    pub(crate) channels: u16,
    /// Samples per channel in one frame.
    pub(crate) samples: usize,
    /// Interleaved samples from the shard.
    pub(crate) ring: Consumer<i16>,
    pub(crate) counters: Arc<TapCounters>,
}

impl TapHandoff {
    /// The recording.
    pub fn tap(&self) -> TapId {
        self.tap
    }
}

impl std::fmt::Debug for TapHandoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TapHandoff")
            .field("tap", &self.tap)
            .field("sink", &self.sink)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

/// Where a tap's frames go.
#[derive(Clone, Debug)]
pub(crate) enum TapSink {
    /// A recording's file.
    File(TapSpec),
    /// A live fork.
    Fork(ForkSpec),
}

struct Track {
    /// The channel recorded (`None` once it is gone: the track records silence).
    channel: Option<ChannelId>,
    jb: JitterBuffer,
    frame: Vec<i16>,
}

/// A tap's shard-side state.
pub(crate) struct Tap {
    id: TapId,
    mode: TapMode,
    tracks: Vec<Track>,
    ring: Producer<i16>,
    counters: Arc<TapCounters>,
    paused: bool,
    overflowing: bool,
    out: Vec<i16>,
}

impl Tap {
    /// A tap over `channels` (one track each), and the writer's half.
    pub fn new(
        id: TapId,
        sink: TapSink,
        recorded: &[ChannelId],
        samples: usize,
    ) -> (Tap, TapHandoff) {
        // A fork streams every track on its own.
        let mode = match &sink {
            TapSink::File(spec) => spec.mode,
            TapSink::Fork(_) => TapMode::Multitrack,
        };
        let channels = match mode {
            TapMode::Mixed => 1,
            TapMode::Stereo => 2,
            TapMode::Multitrack => recorded.len().max(1) as u16,
        };
        let (producer, consumer) = RingBuffer::new(RING_SECONDS * 8000 * usize::from(channels));
        let counters = Arc::new(TapCounters::default());
        let tracks = recorded
            .iter()
            .map(|&channel| Track {
                channel: Some(channel),
                jb: JitterBuffer::new(JitterConfig::fixed(60)),
                frame: vec![0; samples],
            })
            .collect();
        let tap = Tap {
            id,
            mode,
            tracks,
            ring: producer,
            counters: counters.clone(),
            paused: false,
            overflowing: false,
            out: vec![0; samples * usize::from(channels)],
        };
        let handoff = TapHandoff {
            tap: id,
            sink,
            channels,
            samples,
            ring: consumer,
            counters,
        };
        (tap, handoff)
    }

    /// The channels this tap records (those still alive).
    pub fn channels(&self) -> impl Iterator<Item = ChannelId> + '_ {
        self.tracks.iter().filter_map(|t| t.channel)
    }

    /// Feeds a packet received on `channel` to its track(s).
    pub fn receive(
        &mut self,
        channel: ChannelId,
        now: Micros,
        seq: u16,
        ts: u32,
        law: Law,
        payload: &[u8],
    ) {
        for t in self
            .tracks
            .iter_mut()
            .filter(|t| t.channel == Some(channel))
        {
            t.jb.insert(now, seq, ts, law, payload);
        }
    }

    /// Stops feeding the track of a channel that is gone; the track records silence from
    /// now on.
    pub fn forget(&mut self, channel: ChannelId) {
        for t in self
            .tracks
            .iter_mut()
            .filter(|t| t.channel == Some(channel))
        {
            t.channel = None;
        }
    }

    /// Pauses (silence is recorded, so the tracks stay aligned with the call).
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// Whether the writer has gone (the file failed or the tap finished).
    pub fn writer_gone(&self) -> bool {
        self.ring.is_abandoned()
    }

    /// One tick: a frame from every track, laid out and pushed to the writer.
    pub fn tick(&mut self, now: Micros, events: &mut VecDeque<Event>) {
        for t in &mut self.tracks {
            t.jb.pop(now, &mut t.frame);
        }
        let n = self.tracks.first().map_or(0, |t| t.frame.len());
        if self.paused {
            self.out.fill(0);
        } else {
            match self.mode {
                TapMode::Mixed => {
                    for i in 0..n {
                        let s: i32 = self.tracks.iter().map(|t| i32::from(t.frame[i])).sum();
                        self.out[i] = s.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
                    }
                }
                TapMode::Stereo | TapMode::Multitrack => {
                    let ch = self.out.len() / n.max(1);
                    for (c, t) in self.tracks.iter().take(ch).enumerate() {
                        for i in 0..n {
                            self.out[i * ch + c] = t.frame[i];
                        }
                    }
                }
            }
        }
        if self.ring.push_entire_slice(&self.out).is_err() {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            if !self.overflowing {
                self.overflowing = true;
                events.push_back(Event::TapOverflow { tap: self.id });
            }
        } else {
            self.overflowing = false;
        }
    }
}
