//! Players: prompts, prompt sequences, music on hold, tone plans and generated DTMF, played
//! into a channel or a room one tick at a time.
//!
//! Prompts are decoded once into shared PCM ([`Prompt`]); every player of a prompt holds an
//! `Arc` to the same samples. Audio items are played back to back sample by sample, so a
//! sequence such as "you are number" + "12" + "in the queue" has no gaps. RFC 4733 digits
//! are produced as telephone-event packets (five 20 ms updates, the end packet three times,
//! 60 ms apart from the next digit) when the channel negotiated telephone-event.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tandem_codecs::tone::{ToneGenerator, TonePlan, dtmf_sequence};
use tandem_codecs::wav::{Wav, WavError};

/// Samples per 20 ms at 8 kHz.
const FRAME: u32 = 160;
/// Telephone-event packets per digit (100 ms).
const EVENT_FRAMES: u32 = 5;
/// Silent frames after each RFC 4733 digit.
const EVENT_GAP_FRAMES: u32 = 3;
/// Level of generated in-band DTMF per frequency, dBm0.
const INBAND_DTMF_DBM0: f64 = -8.0;

/// Why a prompt could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PromptError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a WAV file the decoder takes.
    #[error("{}: {source}", path.display())]
    Wav {
        /// The file.
        path: PathBuf,
        /// Why.
        source: WavError,
    },
    /// The file is not at 8 kHz.
    #[error("{}: {rate} Hz; prompts must be 8 kHz (convert with `tandem convert`)", path.display())]
    SampleRate {
        /// The file.
        path: PathBuf,
        /// Its sample rate.
        rate: u32,
    },
}

/// A decoded prompt: 8 kHz mono PCM shared by every player.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// A name for events and logs.
    pub name: String,
    /// The samples.
    pub pcm: Arc<[i16]>,
}

impl Prompt {
    /// A prompt from samples.
    pub fn from_pcm(name: impl Into<String>, pcm: Vec<i16>) -> Prompt {
        Prompt {
            name: name.into(),
            pcm: pcm.into(),
        }
    }

    /// Decodes an 8 kHz WAV file (mono, or the first channel of a multichannel file).
    pub fn load(path: &Path) -> Result<Prompt, PromptError> {
        let bytes = std::fs::read(path).map_err(|source| PromptError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let wav = Wav::parse(&bytes).map_err(|source| PromptError::Wav {
            path: path.to_path_buf(),
            source,
        })?;
        if wav.format.sample_rate != 8000 {
            return Err(PromptError::SampleRate {
                path: path.to_path_buf(),
                rate: wav.format.sample_rate,
            });
        }
        Ok(Prompt::from_pcm(path.display().to_string(), wav.channel(0)))
    }

    /// Duration in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.pcm.len() as u64 / 8
    }
}

/// Decoded prompts by path, so each file is read and decoded once and every player shares
/// its samples. Safe to use from any thread (it is on the control path, not the media path).
#[derive(Debug, Default)]
pub struct PromptCache {
    prompts: std::sync::Mutex<std::collections::HashMap<std::path::PathBuf, Arc<Prompt>>>,
}

impl PromptCache {
    /// An empty cache.
    pub fn new() -> PromptCache {
        PromptCache::default()
    }

    /// The prompt at `path`, decoded on first use.
    pub fn get(&self, path: &Path) -> Result<Arc<Prompt>, PromptError> {
        let mut map = self.prompts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = map.get(path) {
            return Ok(p.clone());
        }
        let p = Arc::new(Prompt::load(path)?);
        map.insert(path.to_path_buf(), p.clone());
        Ok(p)
    }

    /// Prompts cached.
    pub fn len(&self) -> usize {
        self.prompts.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One thing to play.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PlayItem {
    /// A prompt.
    Prompt(Arc<Prompt>),
    /// A tone plan for a duration (0: until stopped).
    Tone {
        /// The plan (ringback, busy, …).
        plan: TonePlan,
        /// Milliseconds, or 0 for as long as the player runs.
        duration_ms: u32,
    },
    /// Silence.
    Silence {
        /// Milliseconds.
        ms: u32,
    },
    /// DTMF digits: RFC 4733 events if the channel negotiated telephone-event and
    /// `inband` is false, tones in the audio otherwise.
    Digits {
        /// `0-9*#A-D`; other characters are skipped.
        digits: String,
        /// Force in-band tones.
        inband: bool,
    },
}

/// What to play and how.
#[derive(Clone, Debug, PartialEq)]
pub struct PlaySpec {
    /// Items, in order.
    pub items: Vec<PlayItem>,
    /// Start again after the last item (music on hold).
    pub looped: bool,
    /// A received DTMF digit stops the player.
    pub barge_in: bool,
}

impl PlaySpec {
    /// Plays `items` once.
    pub fn once(items: Vec<PlayItem>) -> PlaySpec {
        PlaySpec {
            items,
            looped: false,
            barge_in: false,
        }
    }
}

#[derive(Debug)]
enum Item {
    Pcm(Arc<[i16]>),
    Tone(TonePlan, u64),
    Silence(u64),
    Events(Vec<u8>),
}

impl Item {
    fn len(&self) -> u64 {
        match self {
            Item::Pcm(p) => p.len() as u64,
            Item::Tone(_, n) | Item::Silence(n) => *n,
            Item::Events(codes) => {
                codes.len() as u64 * u64::from(FRAME * (EVENT_FRAMES + EVENT_GAP_FRAMES))
            }
        }
    }
}

/// One frame of player output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Produced {
    /// Audio was written into the frame.
    Audio,
    /// A telephone-event packet for this tick.
    Event {
        /// Event code (0-15).
        code: u8,
        /// Duration so far, in samples.
        duration: u16,
        /// Whether this is the end packet (sent three times).
        end: bool,
        /// A number identifying the digit, for its timestamp.
        digit_index: u32,
    },
    /// The player has finished.
    Done,
}

/// A running player.
#[derive(Debug)]
pub(crate) struct Player {
    items: Vec<Item>,
    looped: bool,
    /// Whether DTMF stops it.
    pub barge_in: bool,
    idx: usize,
    pos: u64,
    tone: Option<ToneGenerator>,
    played: u64,
    digits_sent: u32,
}

impl Player {
    /// A player for `spec`. `rfc4733` says whether the target can take telephone-events.
    pub fn new(spec: PlaySpec, rfc4733: bool) -> Player {
        let items = spec
            .items
            .into_iter()
            .map(|it| match it {
                PlayItem::Prompt(p) => Item::Pcm(p.pcm.clone()),
                PlayItem::Tone { plan, duration_ms } => {
                    let n = if duration_ms == 0 {
                        u64::MAX
                    } else {
                        u64::from(duration_ms) * 8
                    };
                    Item::Tone(plan, n)
                }
                PlayItem::Silence { ms } => Item::Silence(u64::from(ms) * 8),
                PlayItem::Digits { digits, inband } if rfc4733 && !inband => Item::Events(
                    digits
                        .chars()
                        .filter_map(tandem_codecs::telephone_event::char_to_event)
                        .collect(),
                ),
                PlayItem::Digits { digits, .. } => {
                    Item::Pcm(dtmf_sequence(&digits, 100, 60, INBAND_DTMF_DBM0).into())
                }
            })
            .collect();
        Player {
            items,
            looped: spec.looped,
            barge_in: spec.barge_in,
            idx: 0,
            pos: 0,
            tone: None,
            played: 0,
            digits_sent: 0,
        }
    }

    /// Milliseconds played so far.
    pub fn position_ms(&self) -> u64 {
        self.played / 8
    }

    fn advance_item(&mut self) -> bool {
        self.idx += 1;
        self.pos = 0;
        self.tone = None;
        if self.idx >= self.items.len() {
            if !self.looped || self.items.iter().all(|i| i.len() == 0) {
                return false;
            }
            self.idx = 0;
        }
        true
    }

    /// The next tick: fills `out` with audio, or names an event packet, or finishes.
    pub fn next(&mut self, out: &mut [i16]) -> Produced {
        let mut filled = 0;
        while filled < out.len() {
            let Some(item) = self.items.get(self.idx) else {
                break;
            };
            let left = item.len().saturating_sub(self.pos);
            if left == 0 {
                if !self.advance_item() {
                    break;
                }
                continue;
            }
            if let Item::Events(codes) = item {
                if filled > 0 {
                    break; // finish this audio frame first
                }
                let per_digit = u64::from(EVENT_FRAMES + EVENT_GAP_FRAMES);
                let frame_no = self.pos / u64::from(FRAME);
                let (digit, k) = (
                    (frame_no / per_digit) as usize,
                    (frame_no % per_digit) as u32,
                );
                self.pos += u64::from(FRAME);
                self.played += u64::from(FRAME);
                if k < EVENT_FRAMES {
                    if k == 0 {
                        self.digits_sent += 1;
                    }
                    return Produced::Event {
                        code: codes[digit],
                        duration: ((k + 1) * FRAME) as u16,
                        end: k + 1 == EVENT_FRAMES,
                        digit_index: self.digits_sent,
                    };
                }
                out.fill(0);
                return Produced::Audio;
            }
            let n = (out.len() - filled).min(left.min(usize::MAX as u64) as usize);
            let dst = &mut out[filled..filled + n];
            match item {
                Item::Pcm(p) => dst.copy_from_slice(&p[self.pos as usize..self.pos as usize + n]),
                Item::Silence(_) => dst.fill(0),
                Item::Tone(plan, _) => {
                    let plan = plan.clone();
                    self.tone
                        .get_or_insert_with(|| ToneGenerator::new(&plan, 8000))
                        .fill(dst);
                }
                Item::Events(_) => unreachable!("handled above"),
            }
            self.pos += n as u64;
            filled += n;
        }
        if filled == 0 {
            return Produced::Done;
        }
        out[filled..].fill(0);
        self.played += filled as u64;
        Produced::Audio
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_codecs::tone::US_RINGBACK;

    fn prompt(name: &str, n: usize, v: i16) -> PlayItem {
        PlayItem::Prompt(Arc::new(Prompt::from_pcm(name, vec![v; n])))
    }

    #[test]
    fn a_sequence_plays_back_to_back_then_ends() {
        let spec = PlaySpec::once(vec![
            prompt("a", 200, 1),
            prompt("b", 100, 2),
            PlayItem::Silence { ms: 5 },
        ]);
        let mut p = Player::new(spec, false);
        let mut out = [9i16; 160];
        assert_eq!(p.next(&mut out), Produced::Audio);
        assert!(out.iter().all(|&s| s == 1));
        assert_eq!(p.next(&mut out), Produced::Audio);
        assert!(out[..40].iter().all(|&s| s == 1) && out[40..140].iter().all(|&s| s == 2));
        assert!(out[140..].iter().all(|&s| s == 0));
        // The last 20 samples of the 5 ms silence make a third, padded frame.
        assert_eq!(p.next(&mut out), Produced::Audio);
        assert_eq!(p.next(&mut out), Produced::Done);
        assert_eq!(p.position_ms(), 42);
    }

    #[test]
    fn the_cache_decodes_a_file_once_and_shares_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.wav");
        let mut w = tandem_codecs::wav::WavWriter::new(
            std::fs::File::create(&path).unwrap(),
            tandem_codecs::wav::WavFormat::telephony(tandem_codecs::wav::Encoding::Pcm16),
        )
        .unwrap();
        w.write_samples(&[1, 2, 3, 4]).unwrap();
        w.finalize().unwrap();
        let cache = PromptCache::new();
        let a = cache.get(&path).unwrap();
        let b = cache.get(&path).unwrap();
        assert!(Arc::ptr_eq(&a.pcm, &b.pcm));
        assert_eq!(&a.pcm[..], &[1, 2, 3, 4]);
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&dir.path().join("missing.wav")).is_err());
    }

    #[test]
    fn music_on_hold_loops_and_tones_run_until_stopped() {
        let mut p = Player::new(
            PlaySpec {
                items: vec![prompt("moh", 100, 3)],
                looped: true,
                barge_in: false,
            },
            false,
        );
        let mut out = [0i16; 160];
        for _ in 0..10 {
            assert_eq!(p.next(&mut out), Produced::Audio);
            assert!(out.iter().all(|&s| s == 3));
        }
        let mut t = Player::new(
            PlaySpec::once(vec![PlayItem::Tone {
                plan: US_RINGBACK,
                duration_ms: 0,
            }]),
            false,
        );
        for _ in 0..100 {
            assert_eq!(t.next(&mut out), Produced::Audio);
        }
    }

    #[test]
    fn rfc4733_digits_are_five_updates_with_an_end_then_a_gap() {
        let spec = PlaySpec::once(vec![PlayItem::Digits {
            digits: "1#".into(),
            inband: false,
        }]);
        let mut p = Player::new(spec, true);
        let mut out = [0i16; 160];
        let mut got = vec![];
        loop {
            match p.next(&mut out) {
                Produced::Done => break,
                x => got.push(x),
            }
        }
        assert_eq!(got.len(), 16);
        assert_eq!(
            got[0],
            Produced::Event {
                code: 1,
                duration: 160,
                end: false,
                digit_index: 1
            }
        );
        assert_eq!(
            got[4],
            Produced::Event {
                code: 1,
                duration: 800,
                end: true,
                digit_index: 1
            }
        );
        assert_eq!(got[5], Produced::Audio);
        assert_eq!(
            got[8],
            Produced::Event {
                code: 11,
                duration: 160,
                end: false,
                digit_index: 2
            }
        );
        // Without telephone-event the same digits are tones in the audio.
        let mut q = Player::new(
            PlaySpec::once(vec![PlayItem::Digits {
                digits: "1#".into(),
                inband: false,
            }]),
            false,
        );
        assert_eq!(q.next(&mut out), Produced::Audio);
        assert!(out.iter().any(|&s| s.abs() > 1000));
    }
}
