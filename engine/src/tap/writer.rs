//! Recording taps: the writer side, which owns the files.
//!
//! [`TapWriter`] drains every tap's ring into its WAV file. The header is rewritten after
//! each second of audio (and flushed), so if the process is killed the file on disk is a
//! valid WAV missing at most the last second. A file is always new (an existing file of the
//! same name is an error, never overwritten). A file that cannot be created or written
//! stops that tap with `Event::TapFailed`; dropping the ring tells the shard, and the call
//! goes on. When the shard drops its end (the tap was stopped), the rest is written, the
//! file finalised, and `Event::TapFinished` reports path, duration and drops.
//!
//! The engine runs a writer on its own thread ([`TapWriter::spawn`]); the in-memory driver pumps one
//! synchronously so its runs stay deterministic.

use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use rtrb::Consumer;
use tandem_codecs::wav::{WavFormat, WavWriter};

use super::fork::{self, ForkDestination, UdpFork};
use super::{TapCounters, TapHandoff, TapSink};
use crate::event::Event;
use crate::ids::TapId;

struct Active {
    tap: TapId,
    path: PathBuf,
    channels: u16,
    file: WavWriter<BufWriter<File>>,
    ring: Consumer<i16>,
    counters: Arc<TapCounters>,
    samples: u64,
}

/// Writes the files of any number of recordings: hand it each [`TapHandoff`] a shard
/// produces, and call [`pump`](TapWriter::pump) regularly (once per tick keeps the rings from
/// filling).
#[derive(Default)]
pub struct TapWriter {
    taps: Vec<Active>,
    /// Live forks sent over UDP.
    forks: Vec<UdpFork>,
}

impl TapWriter {
    /// A writer with no taps.
    pub fn new() -> TapWriter {
        TapWriter::default()
    }

    /// Taps being written.
    pub fn len(&self) -> usize {
        self.taps.len() + self.forks.len()
    }

    /// Whether no tap is being written.
    pub fn is_empty(&self) -> bool {
        self.taps.is_empty() && self.forks.is_empty()
    }

    /// Starts writing a tap's file.
    pub fn add(&mut self, h: TapHandoff, events: &mut Vec<Event>) {
        let spec = match h.sink {
            TapSink::File(spec) => spec,
            TapSink::Fork(f) => {
                match f.destination {
                    ForkDestination::Udp(dest) => {
                        let opened = UdpFork::open(
                            h.tap, dest, f.encoding, f.vad, h.channels, h.samples, h.ring,
                            h.counters,
                        );
                        match opened {
                            Ok(fork) => self.forks.push(fork),
                            Err(e) => events.push(Event::TapFailed {
                                tap: h.tap,
                                reason: format!("fork to {dest}: {e}"),
                            }),
                        }
                    }
                    ForkDestination::Consumer(inbox) => {
                        inbox.put(fork::stream(
                            h.tap, h.channels, h.samples, h.ring, h.counters,
                        ));
                    }
                }
                return;
            }
        };
        let format = WavFormat {
            encoding: spec.encoding,
            channels: h.channels,
            sample_rate: 8000,
        };
        // Never over an existing file: a recording is evidence, and a second one under the
        // same name must fail loudly rather than destroy the first.
        let opened = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&spec.path)
            .map_err(|e| format!("{}: {e}", spec.path.display()))
            .and_then(|f| {
                WavWriter::new(BufWriter::with_capacity(64 * 1024, f), format)
                    .map_err(|e| e.to_string())
            });
        match opened {
            Ok(mut file) => {
                file.set_update_interval(Some(u64::from(format.block_align()) * 8000));
                self.taps.push(Active {
                    tap: h.tap,
                    path: spec.path,
                    channels: h.channels,
                    file,
                    ring: h.ring,
                    counters: h.counters,
                    samples: 0,
                });
            }
            Err(reason) => events.push(Event::TapFailed { tap: h.tap, reason }),
        }
    }

    /// Writes whatever the shards produced; finishes stopped taps. Returns the samples
    /// written.
    pub fn pump(&mut self, events: &mut Vec<Event>) -> u64 {
        self.forks.retain_mut(|f| !f.pump(events));
        let mut written = 0;
        let mut i = 0;
        while i < self.taps.len() {
            let t = &mut self.taps[i];
            // Read the abandoned flag first: once it is set, everything pushed before is
            // already in the ring, so draining after it leaves nothing behind.
            let finished = t.ring.is_abandoned();
            let ch = usize::from(t.channels);
            let avail = t.ring.slots() / ch * ch;
            let mut result = Ok(());
            if avail > 0 {
                if let Ok(chunk) = t.ring.read_chunk(avail) {
                    let (a, b) = chunk.as_slices();
                    result = t
                        .file
                        .write_samples(a)
                        .and_then(|()| t.file.write_samples(b));
                    chunk.commit_all();
                    t.samples += avail as u64;
                    written += avail as u64;
                }
            }
            if let Err(e) = result {
                let t = self.taps.swap_remove(i);
                events.push(Event::TapFailed {
                    tap: t.tap,
                    reason: format!("{}: {e}", t.path.display()),
                });
                continue;
            }
            if finished {
                let t = self.taps.swap_remove(i);
                let frames = t.samples / ch as u64;
                let dropped = t.counters.dropped.load(Ordering::Relaxed);
                match t.file.finalize() {
                    Ok(_) => events.push(Event::TapFinished {
                        tap: t.tap,
                        path: t.path,
                        duration_ms: frames / 8,
                        dropped_frames: dropped,
                    }),
                    Err(e) => events.push(Event::TapFailed {
                        tap: t.tap,
                        reason: format!("{}: {e}", t.path.display()),
                    }),
                }
                continue;
            }
            i += 1;
        }
        written
    }
}

impl TapWriter {
    /// Runs a writer on its own thread: taps arrive on `handoffs`, events leave on `events`.
    /// The thread ends when `handoffs` is closed and every tap has finished.
    pub fn spawn(
        handoffs: Receiver<TapHandoff>,
        events: Sender<Event>,
    ) -> std::io::Result<JoinHandle<()>> {
        thread::Builder::new()
            .name("tandem-tap-writer".into())
            .spawn(move || {
                let mut w = TapWriter::new();
                let mut out = Vec::new();
                let mut open = true;
                while open || !w.is_empty() {
                    match handoffs.recv_timeout(Duration::from_millis(20)) {
                        Ok(h) => w.add(h, &mut out),
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => {
                            open = false;
                            thread::sleep(Duration::from_millis(5));
                        }
                    }
                    w.pump(&mut out);
                    for e in out.drain(..) {
                        // The application may have stopped listening; the files are what matter.
                        let _ = events.try_send(e);
                    }
                }
            })
    }
}
