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

pub mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rtrb::{Consumer, Producer, RingBuffer};
use tandem_codecs::g711::Law;
use tandem_codecs::wav::Encoding;

use crate::event::Event;
use crate::ids::ChannelId;
use crate::jitter::{JitterBuffer, JitterConfig};

/// Seconds of audio a tap's ring holds before frames are dropped.
const RING_SECONDS: usize = 2;

/// A recording tap. Like channel ids, it carries its shard in the top 16 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TapId(pub u64);

impl TapId {
    /// Builds an id from its shard and a serial number.
    pub fn new(shard: u16, serial: u64) -> TapId {
        TapId(ChannelId::new(shard, serial).0)
    }

    /// The shard that owns the tap.
    pub fn shard(self) -> usize {
        (self.0 >> 48) as usize
    }
}

/// How tracks become file channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TapMode {
    /// All tracks mixed to mono.
    Mixed,
    /// Two channels: the first track (the caller) left, the second (the agent) right.
    Stereo,
    /// One file channel per track.
    Multitrack,
}

/// What to record where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapSpec {
    /// Output file (created; an existing file is never overwritten: the tap fails).
    pub path: PathBuf,
    /// Channel layout.
    pub mode: TapMode,
    /// Sample encoding of the WAV file.
    pub encoding: Encoding,
}

/// The statistics a writer and the shard share for one tap.
#[derive(Debug, Default)]
pub struct TapCounters {
    /// Frames dropped because the ring was full.
    pub dropped: AtomicU64,
}

/// What the shard hands to a writer when a tap starts.
pub struct TapHandoff {
    /// Tap id.
    pub tap: TapId,
    /// What to write.
    pub spec: TapSpec,
    /// File channels.
    pub channels: u16,
    /// Interleaved samples from the shard.
    pub ring: Consumer<i16>,
    /// Shared counters.
    pub counters: Arc<TapCounters>,
}

struct Track {
    slot: u32,
    jb: JitterBuffer,
    frame: Vec<i16>,
}

/// A tap's shard-side state.
pub struct Tap {
    /// Its id.
    pub id: TapId,
    mode: TapMode,
    tracks: Vec<Track>,
    ring: Producer<i16>,
    counters: Arc<TapCounters>,
    paused: bool,
    overflowing: bool,
    out: Vec<i16>,
}

impl Tap {
    /// A tap over the channels in `slots` (one track each), and the writer's half.
    pub fn new(id: TapId, spec: TapSpec, slots: &[u32], samples: usize) -> (Tap, TapHandoff) {
        let channels = match spec.mode {
            TapMode::Mixed => 1,
            TapMode::Stereo => 2,
            TapMode::Multitrack => slots.len().max(1) as u16,
        };
        let (producer, consumer) = RingBuffer::new(RING_SECONDS * 8000 * usize::from(channels));
        let counters = Arc::new(TapCounters::default());
        let tracks = slots
            .iter()
            .map(|&slot| Track {
                slot,
                jb: JitterBuffer::new(JitterConfig::fixed(60)),
                frame: vec![0; samples],
            })
            .collect();
        let tap = Tap {
            id,
            mode: spec.mode,
            tracks,
            ring: producer,
            counters: counters.clone(),
            paused: false,
            overflowing: false,
            out: vec![0; samples * usize::from(channels)],
        };
        let handoff = TapHandoff {
            tap: id,
            spec,
            channels,
            ring: consumer,
            counters,
        };
        (tap, handoff)
    }

    /// Slots of the channels this tap listens to.
    pub fn slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.tracks.iter().map(|t| t.slot)
    }

    /// Feeds a packet received on `slot` to its track(s).
    pub fn receive(&mut self, slot: u32, now_us: u64, seq: u16, ts: u32, law: Law, payload: &[u8]) {
        for t in self.tracks.iter_mut().filter(|t| t.slot == slot) {
            t.jb.insert(now_us, seq, ts, law, payload);
        }
    }

    /// Stops feeding the track of a channel that is gone (its slot may be reused); the
    /// track records silence from now on.
    pub fn forget_slot(&mut self, slot: u32) {
        for t in self.tracks.iter_mut().filter(|t| t.slot == slot) {
            t.slot = u32::MAX;
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
    pub fn tick(&mut self, now_us: u64, events: &mut std::collections::VecDeque<Event>) {
        for t in &mut self.tracks {
            t.jb.pop(now_us, &mut t.frame);
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
