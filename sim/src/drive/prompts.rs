//! The IVR's and queue's audio, synthesised in code so drive mode needs no files: a
//! speech-like greeting and menu, position announcements ("you are number" + digits + "in
//! the queue"), music on hold, and ringback.
//!
//! "Speech" here is a run of syllables: each a harmonic tone (a fundamental between 110
//! and 220 Hz and four harmonics shaped like a vowel's formants) under a raised-cosine
//! envelope, with short pauses, from a fixed generator so every run plays the same audio.
//! Music on hold is a looping arpeggio of tone-plan notes; position announcements are
//! sequences of short prompts. The prompts are kept short because each play command is
//! small then (the engine formats every command for its failure report).

use std::sync::Arc;

use tandem_codecs::tone::{CN_RINGBACK, TonePlan};
use tandem_engine::{PlayItem, PlaySpec, Prompt};

/// Notes of the music on hold: (frequencies, milliseconds).
const MOH_NOTES: &[TonePlan] = &[
    note("moh-c", &[261.6, 329.6]),
    note("moh-e", &[329.6, 392.0]),
    note("moh-g", &[392.0, 523.3]),
    note("moh-a", &[220.0, 440.0]),
    note("moh-f", &[349.2, 440.0]),
    note("moh-d", &[293.7, 370.0]),
];
const MOH_NOTE_MS: u32 = 400;

const fn note(name: &'static str, freqs: &'static [f64]) -> TonePlan {
    TonePlan {
        name,
        freqs,
        level_dbm0: -18.0,
        cadence: &[],
    }
}

/// The prompts of a run, shared by every player (each is an `Arc`).
#[derive(Clone, Debug)]
pub struct PromptBank {
    /// The IVR greeting.
    pub greeting: Arc<Prompt>,
    /// The IVR menu that follows it.
    pub menu: Arc<Prompt>,
    /// "You are number".
    pub you_are: Arc<Prompt>,
    /// "In the queue".
    pub in_queue: Arc<Prompt>,
    /// The digits 0–9.
    pub digits: Vec<Arc<Prompt>>,
}

/// A tiny deterministic generator (xorshift64*), so the prompts are the same in every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `syllables` syllables of speech-like audio, about 0.2 s each with short gaps.
fn speech(syllables: usize, seed: u64) -> Vec<i16> {
    let mut g = Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut out = Vec::new();
    for _ in 0..syllables {
        let f0 = 110.0 + 110.0 * g.next();
        let len = (1200.0 + 800.0 * g.next()) as usize;
        // Vowel-like weights of harmonics 1..=5.
        let w = [
            1.0,
            0.5 + 0.5 * g.next(),
            0.3 + 0.6 * g.next(),
            0.2 + 0.3 * g.next(),
            0.1 + 0.2 * g.next(),
        ];
        for i in 0..len {
            let t = i as f64 / 8000.0;
            let env = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / len as f64).cos();
            let s: f64 = w
                .iter()
                .enumerate()
                .map(|(h, a)| a * (std::f64::consts::TAU * f0 * (h + 1) as f64 * t).sin())
                .sum();
            out.push((4000.0 * env * s) as i16);
        }
        let gap = (300.0 + 500.0 * g.next()) as usize;
        out.extend(std::iter::repeat_n(0, gap));
    }
    out
}

impl PromptBank {
    /// Synthesises the prompts.
    pub fn new() -> PromptBank {
        let p = |name: &str, syl: usize, seed: u64| {
            Arc::new(Prompt::from_pcm(
                format!("synthetic:{name}"),
                speech(syl, seed),
            ))
        };
        PromptBank {
            greeting: p("greeting", 8, 1),
            menu: p("menu", 10, 2),
            you_are: p("you-are-number", 4, 3),
            in_queue: p("in-the-queue", 4, 4),
            digits: (0..10)
                .map(|d| p(&format!("digit-{d}"), 1, 10 + d))
                .collect(),
        }
    }

    /// The IVR's greeting and menu, once.
    pub fn ivr(&self) -> PlaySpec {
        PlaySpec::once(vec![
            PlayItem::Prompt(self.greeting.clone()),
            PlayItem::Silence { ms: 300 },
            PlayItem::Prompt(self.menu.clone()),
        ])
    }

    /// The queue: the position announcement, then music on hold for `hold_ms`, repeated
    /// until stopped (the conductor replaces it when the position changes).
    pub fn queue(&self, position: u32, hold_ms: u32) -> PlaySpec {
        let mut items = vec![PlayItem::Prompt(self.you_are.clone())];
        for d in position.max(1).to_string().bytes() {
            items.push(PlayItem::Prompt(self.digits[usize::from(d - b'0')].clone()));
        }
        items.push(PlayItem::Prompt(self.in_queue.clone()));
        items.push(PlayItem::Silence { ms: 200 });
        let notes = (hold_ms / MOH_NOTE_MS).max(1) as usize;
        items.extend(
            MOH_NOTES
                .iter()
                .cycle()
                .take(notes)
                .map(|plan| PlayItem::Tone {
                    plan: plan.clone(),
                    duration_ms: MOH_NOTE_MS,
                }),
        );
        PlaySpec {
            items,
            looped: true,
            barge_in: false,
        }
    }

    /// Ringback (the Chinese plan: 450 Hz, 1 s on, 4 s off), until stopped.
    pub fn ringback(&self) -> PlaySpec {
        PlaySpec::once(vec![PlayItem::Tone {
            plan: CN_RINGBACK,
            duration_ms: 0,
        }])
    }
}

impl Default for PromptBank {
    fn default() -> Self {
        PromptBank::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_speech_length_and_deterministic() {
        let a = PromptBank::new();
        let b = PromptBank::new();
        assert_eq!(a.greeting, b.greeting);
        let secs = |p: &Prompt| p.duration_ms() as f64 / 1000.0;
        assert!(
            (1.5..4.0).contains(&secs(&a.greeting)),
            "{}",
            secs(&a.greeting)
        );
        assert!(secs(&a.digits[7]) < 0.5);
        assert!(a.greeting.pcm.iter().any(|&s| s.abs() > 3000));
    }

    #[test]
    fn queue_announces_each_digit() {
        let bank = PromptBank::new();
        let spec = bank.queue(42, 20_000);
        assert!(spec.looped);
        assert_eq!(spec.items[1], PlayItem::Prompt(bank.digits[4].clone()));
        assert_eq!(spec.items[2], PlayItem::Prompt(bank.digits[2].clone()));
        let tones = spec
            .items
            .iter()
            .filter(|i| matches!(i, PlayItem::Tone { .. }))
            .count();
        assert_eq!(tones, 50);
    }
}
