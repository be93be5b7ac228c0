//! Call progress on drive mode's callback legs: what the far end of an outbound attempt
//! sounds like, and whether the call-progress detector on the dialling agent's leg heard it.
//!
//! When the model places a callback attempt it says what the far end does
//! ([`FarEnd`]: the customer answers, the phone rings out, the line is busy, the number is
//! not assigned). The conductor plays the matching signal into the agent's channel —
//! ringback (China's 450 Hz, 1 s on 4 s off) until the answer or the attempt's end, busy
//! (450 Hz, 0.35 s on 0.35 s off), or the vacant-code special information tone (ITU-T
//! E.180 segments at −13 dBm0, then 1 s of silence, repeated) — and the agent's phone runs
//! the codecs' [`ProgressDetector`] on the audio it receives. At the attempt's end the
//! detections are judged against the model's state: ringback heard for an attempt that rang (answered or
//! not), busy or vacant-code SIT as the first decisive detection for the others. Ringback
//! needs one full cadence and 1.5 s of repetition (about 5 s) to be recognised: attempts
//! shorter than that ring unrecognised.

use std::fmt::Write as _;
use std::sync::Arc;

use serde::Serialize;
#[cfg(doc)]
use tandem_codecs::progress::ProgressDetector;
use tandem_codecs::progress::{Kind, ProgressEvent};
use tandem_codecs::sit::{SitClass, render_sit};
use tandem_codecs::tone::CN_BUSY;
use tandem_engine::{PlayItem, PlaySpec, Prompt};

use crate::lifecycle::FarEnd;

/// Detections a phone keeps per attempt.
pub(super) const MAX_HEARD: usize = 32;
/// The SIT's level, dBm0.
const SIT_DBM0: f64 = -13.0;
/// Silence after each SIT, ms.
const SIT_PAUSE_MS: u32 = 1000;
/// Misses described in the report.
const MAX_MISSES: usize = 5;

/// One far-end state: attempts that found it, and what the detector made of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FarEndCount {
    /// Attempts the model gave this state (and the conductor played).
    pub attempts: u64,
    /// Attempts where the detector heard what was played.
    pub detected: u64,
    /// Attempts where it did not (heard nothing decisive, or something else).
    pub missed: u64,
}

/// Call progress on the callback legs.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CallProgressReport {
    /// Attempts the customer answered (ringback before the answer).
    pub answered: FarEndCount,
    /// Attempts that rang out.
    pub no_answer: FarEndCount,
    /// Attempts that found the line busy.
    pub busy: FarEndCount,
    /// Attempts to numbers not assigned (vacant-code SIT).
    pub unassigned: FarEndCount,
    /// The first few misses, described.
    pub first_misses: Vec<String>,
}

impl CallProgressReport {
    fn row(&mut self, far: FarEnd) -> &mut FarEndCount {
        match far {
            FarEnd::Answers => &mut self.answered,
            FarEnd::Busy => &mut self.busy,
            FarEnd::Unassigned => &mut self.unassigned,
            _ => &mut self.no_answer,
        }
    }

    /// Judges one attempt that found `far`, from what its detector reported.
    pub(super) fn judge(&mut self, serial: u32, far: FarEnd, heard: &[ProgressEvent]) {
        let decisive = heard.iter().find(|e| e.kind.is_decisive()).map(|e| e.kind);
        let ok = match far {
            FarEnd::Busy => decisive == Some(Kind::Busy),
            FarEnd::Unassigned => decisive == Some(Kind::Sit(SitClass::VacantCode)),
            _ => heard.iter().any(|e| e.kind == Kind::Ringback),
        };
        let row = self.row(far);
        row.attempts += 1;
        if ok {
            row.detected += 1;
        } else {
            row.missed += 1;
            if self.first_misses.len() < MAX_MISSES {
                let kinds: Vec<String> = heard.iter().map(|e| format!("{:?}", e.kind)).collect();
                self.first_misses.push(format!(
                    "call {serial}: {far:?}, heard [{}]",
                    kinds.join(", ")
                ));
            }
        }
    }

    /// Whether any attempt was judged.
    pub fn is_empty(&self) -> bool {
        [
            &self.answered,
            &self.no_answer,
            &self.busy,
            &self.unassigned,
        ]
        .iter()
        .all(|r| r.attempts == 0)
    }

    /// The section as text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let row = |r: &FarEndCount| format!("{}/{}", r.detected, r.attempts);
        let _ = writeln!(
            s,
            "  call progress on callback legs (detected/attempts): ringback before answer {}, \
             ringing out {}, busy {}, unassigned (SIT) {}",
            row(&self.answered),
            row(&self.no_answer),
            row(&self.busy),
            row(&self.unassigned),
        );
        for m in &self.first_misses {
            let _ = writeln!(s, "    missed: {m}");
        }
        s
    }
}

/// What the far end plays when it is `far` (`None`: the ringback already playing goes on).
pub(super) fn far_end_media(far: FarEnd) -> Option<PlaySpec> {
    match far {
        FarEnd::Busy => Some(PlaySpec {
            looped: true,
            ..PlaySpec::once(vec![PlayItem::Tone {
                plan: CN_BUSY,
                duration_ms: 0,
            }])
        }),
        FarEnd::Unassigned => {
            let mut pcm = Vec::new();
            let segments = SitClass::VacantCode.segments()?;
            render_sit(&segments, SIT_DBM0, &mut pcm);
            let sit = Arc::new(Prompt::from_pcm("sit-vacant-code", pcm));
            Some(PlaySpec {
                looped: true,
                ..PlaySpec::once(vec![
                    PlayItem::Prompt(sit),
                    PlayItem::Silence { ms: SIT_PAUSE_MS },
                ])
            })
        }
        _ => None,
    }
}
