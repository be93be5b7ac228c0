//! Special information tones (SIT): the three rising tone segments a network plays before an
//! announcement such as "the number you have dialled is not in service", their classes, and
//! a generator.
//!
//! ITU-T E.180 defines the SIT as three segments at 950 ± 50, 1400 ± 50 and 1800 ± 50 Hz, in
//! that order, each 330 ± 70 ms, with gaps of at most 30 ms. North American networks
//! (Bell System / Telcordia practice) encode why the call failed in the first two segments:
//! each is at a low or a high frequency and short (274 ms) or long (380 ms); the third is
//! always 1776.7 Hz for 380 ms, a reference for the decoder. Frequencies are held to ±0.2%,
//! durations to ±5%, gaps to 4 ms. The published codes:
//!
//! | class | code | segment 1 | segment 2 | segment 3 |
//! |---|---|---|---|---|
//! | [`Intercept`](SitClass::Intercept) | IC | 913.8 Hz, 274 ms | 1370.6 Hz, 274 ms | 1776.7 Hz, 380 ms |
//! | [`VacantCode`](SitClass::VacantCode) | VC | 985.2 Hz, 380 ms | 1370.6 Hz, 274 ms | 1776.7 Hz, 380 ms |
//! | [`NoCircuit`](SitClass::NoCircuit) | NC | 985.2 Hz, 380 ms | 1428.5 Hz, 380 ms | 1776.7 Hz, 380 ms |
//! | [`NoCircuitInterLata`](SitClass::NoCircuitInterLata) | NC' | 913.8 Hz, 380 ms | 1370.6 Hz, 380 ms | 1776.7 Hz, 380 ms |
//! | [`Reorder`](SitClass::Reorder) | RO | 913.8 Hz, 274 ms | 1428.5 Hz, 380 ms | 1776.7 Hz, 380 ms |
//! | [`ReorderInterLata`](SitClass::ReorderInterLata) | RO' | 985.2 Hz, 274 ms | 1370.6 Hz, 380 ms | 1776.7 Hz, 380 ms |
//! | [`IneffectiveOther`](SitClass::IneffectiveOther) | IO | 913.8 Hz, 380 ms | 1428.5 Hz, 274 ms | 1776.7 Hz, 380 ms |
//! | [`Reserved`](SitClass::Reserved) | — | 985.2 Hz, 274 ms | 1428.5 Hz, 274 ms | 1776.7 Hz, 380 ms |
//!
//! A SIT within E.180's limits that carries none of these codes (for example the European
//! 950/1400/1800 Hz, 330 ms form) is [`Unclassified`](SitClass::Unclassified).

use std::f64::consts::TAU;

use crate::progress::bank::{C, offset_hz};
use crate::tone::amplitude_for_dbm0;

/// Low and high frequency of segment 1 (Hz).
pub const SEGMENT1_HZ: [f64; 2] = [913.8, 985.2];
/// Low and high frequency of segment 2 (Hz).
pub const SEGMENT2_HZ: [f64; 2] = [1370.6, 1428.5];
/// Frequency of segment 3 (Hz).
pub const SEGMENT3_HZ: f64 = 1776.7;
/// Short segment (ms).
pub const SHORT_MS: u32 = 274;
/// Long segment (ms).
pub const LONG_MS: u32 = 380;
/// E.180's nominal segment frequencies (Hz); each segment may be ±50 Hz off.
pub const ITU_HZ: [f64; 3] = [950.0, 1400.0, 1800.0];
/// E.180's nominal segment duration (ms), ±70 ms.
pub const ITU_MS: u32 = 330;

/// Why a network says the call failed, from the SIT's segment frequencies and durations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SitClass {
    /// IC: vacant or changed number, operator intercept.
    Intercept,
    /// VC: unassigned (vacant) code or prefix.
    VacantCode,
    /// NC: no circuit available in the local network (trunk blockage, emergency).
    NoCircuit,
    /// NC': no circuit in a long-distance carrier's network.
    NoCircuitInterLata,
    /// RO: reorder, the local network failed to set the call up.
    Reorder,
    /// RO': reorder in a long-distance carrier's network.
    ReorderInterLata,
    /// IO: ineffective for another reason.
    IneffectiveOther,
    /// The code set aside for future use.
    Reserved,
    /// A SIT within E.180's limits that carries no code.
    Unclassified,
}

impl SitClass {
    /// The coded classes, in table order.
    pub const CODED: [SitClass; 8] = [
        SitClass::Intercept,
        SitClass::VacantCode,
        SitClass::NoCircuit,
        SitClass::NoCircuitInterLata,
        SitClass::Reorder,
        SitClass::ReorderInterLata,
        SitClass::IneffectiveOther,
        SitClass::Reserved,
    ];

    /// The short code (`IC`, `VC`, …; `SIT` for unclassified).
    pub fn code(self) -> &'static str {
        match self {
            SitClass::Intercept => "IC",
            SitClass::VacantCode => "VC",
            SitClass::NoCircuit => "NC",
            SitClass::NoCircuitInterLata => "NC'",
            SitClass::Reorder => "RO",
            SitClass::ReorderInterLata => "RO'",
            SitClass::IneffectiveOther => "IO",
            SitClass::Reserved => "reserved",
            SitClass::Unclassified => "SIT",
        }
    }

    /// The three segments of a coded class; `None` for [`Unclassified`](SitClass::Unclassified).
    pub fn segments(self) -> Option<[SitSegment; 3]> {
        // (high frequency?, long?) for segments 1 and 2.
        let ((h1, l1), (h2, l2)) = match self {
            SitClass::Intercept => ((false, false), (false, false)),
            SitClass::VacantCode => ((true, true), (false, false)),
            SitClass::NoCircuit => ((true, true), (true, true)),
            SitClass::NoCircuitInterLata => ((false, true), (false, true)),
            SitClass::Reorder => ((false, false), (true, true)),
            SitClass::ReorderInterLata => ((true, false), (false, true)),
            SitClass::IneffectiveOther => ((false, true), (true, false)),
            SitClass::Reserved => ((true, false), (true, false)),
            SitClass::Unclassified => return None,
        };
        let len = |long: bool| if long { LONG_MS } else { SHORT_MS };
        Some([
            SitSegment {
                freq_hz: SEGMENT1_HZ[usize::from(h1)],
                ms: len(l1),
            },
            SitSegment {
                freq_hz: SEGMENT2_HZ[usize::from(h2)],
                ms: len(l2),
            },
            SitSegment {
                freq_hz: SEGMENT3_HZ,
                ms: LONG_MS,
            },
        ])
    }
}

/// One SIT segment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SitSegment {
    /// Frequency in Hz.
    pub freq_hz: f64,
    /// Duration in milliseconds.
    pub ms: u32,
}

/// Appends `segments` back to back at 8 kHz, each at `dbm0`, phase-continuous.
pub fn render_sit(segments: &[SitSegment], dbm0: f64, out: &mut Vec<i16>) {
    let a = amplitude_for_dbm0(dbm0);
    let mut phase = 0.0f64;
    for s in segments {
        let step = TAU * s.freq_hz / 8000.0;
        for _ in 0..s.ms as usize * 8 {
            out.push((a * phase.sin()).round().clamp(-32768.0, 32767.0) as i16);
            phase = (phase + step) % TAU;
        }
    }
}

/// Largest distance (Hz) from a coded frequency that still reads as that frequency: the
/// ±0.2% the codes allow plus the estimate's error, well short of the 58 Hz between the
/// closest pair.
const CODE_TOLERANCE_HZ: f64 = 12.0;
/// Durations accepted for a segment (ms): E.180's 330 ± 70 ms, widened by the measurement's
/// resolution.
const SEGMENT_MS: (f64, f64) = (230.0, 430.0);
/// Longest gap between segments (ms): E.180 allows 30 ms; edges are found to about ±5 ms.
const MAX_GAP_MS: f64 = 45.0;
/// Short and long segments are told apart at the midpoint of 274 and 380 ms.
const SHORT_LONG_MS: f64 = 327.0;

/// Class of a SIT from its measured segments (frequency Hz, duration ms), or `None` if they
/// are not a SIT at all.
pub(crate) fn classify(segs: &[(f64, f64); 3]) -> Option<SitClass> {
    for (i, &(f, d)) in segs.iter().enumerate() {
        if (f - ITU_HZ[i]).abs() > 50.0 || !(SEGMENT_MS.0..=SEGMENT_MS.1).contains(&d) {
            return None;
        }
    }
    let near = |f: f64, nominal: f64| (f - nominal).abs() <= CODE_TOLERANCE_HZ;
    let pick = |f: f64, pair: [f64; 2]| {
        if near(f, pair[0]) {
            Some(false)
        } else if near(f, pair[1]) {
            Some(true)
        } else {
            None
        }
    };
    let coded = (|| {
        let h1 = pick(segs[0].0, SEGMENT1_HZ)?;
        let h2 = pick(segs[1].0, SEGMENT2_HZ)?;
        if !near(segs[2].0, SEGMENT3_HZ) || segs[2].1 < SHORT_LONG_MS {
            return None;
        }
        let (l1, l2) = (segs[0].1 >= SHORT_LONG_MS, segs[1].1 >= SHORT_LONG_MS);
        SitClass::CODED.into_iter().find(|c| {
            c.segments().is_some_and(|s| {
                (s[0].freq_hz == SEGMENT1_HZ[usize::from(h1)])
                    && (s[1].freq_hz == SEGMENT2_HZ[usize::from(h2)])
                    && (s[0].ms == LONG_MS) == l1
                    && (s[1].ms == LONG_MS) == l2
            })
        })
    })();
    Some(coded.unwrap_or(SitClass::Unclassified))
}

#[derive(Clone, Copy, Debug, Default)]
struct Run {
    band: usize,
    onset: u64,
    end: u64,
    advance: C,
}

/// Follows runs of SIT-band windows and reports a SIT when three of them rise in order.
#[derive(Clone, Debug, Default)]
pub(crate) struct SitTracker {
    run: Option<Run>,
    segs: [(u64, u64, f64); 3],
    n: usize,
}

/// A detected SIT: class, onset of segment 1 (sample).
pub(crate) type Detected = (SitClass, u64);

impl SitTracker {
    /// Window `start..end` was on in `band` (0–2) with phase advance `advance` (None: no band).
    pub fn window(&mut self, band: Option<(usize, C)>, start: u64, end: u64) -> Option<Detected> {
        let mut found = None;
        match (&mut self.run, band) {
            (Some(r), Some((b, z))) if r.band == b => {
                r.end = end;
                r.advance = r.advance.add(z);
            }
            (run, band) => {
                if let Some(r) = run.take() {
                    found = self.segment(r);
                }
                if let Some((b, z)) = band {
                    self.run = Some(Run {
                        band: b,
                        onset: start,
                        end,
                        advance: z,
                    });
                }
            }
        }
        found
    }

    fn segment(&mut self, r: Run) -> Option<Detected> {
        let freq = ITU_HZ[r.band] + offset_hz(r.advance.arg());
        let follows = r.band == self.n
            && (self.n == 0 || ms(r.onset.saturating_sub(self.segs[self.n - 1].1)) <= MAX_GAP_MS);
        if follows {
            self.segs[self.n] = (r.onset, r.end, freq);
            self.n += 1;
        } else if r.band == 0 {
            self.segs[0] = (r.onset, r.end, freq);
            self.n = 1;
        } else {
            self.n = 0;
        }
        if self.n < 3 {
            return None;
        }
        self.n = 0;
        let m = self.segs.map(|(on, end, f)| (f, ms(end - on)));
        classify(&m).map(|c| (c, self.segs[0].0))
    }
}

fn ms(samples: u64) -> f64 {
    samples as f64 / 8.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_coded_class_classifies_as_itself() {
        for c in SitClass::CODED {
            let s = c.segments().unwrap();
            let m = s.map(|g| (g.freq_hz, f64::from(g.ms)));
            assert_eq!(classify(&m), Some(c), "{c:?}");
        }
        let itu = [(950.0, 330.0), (1400.0, 330.0), (1800.0, 330.0)];
        assert_eq!(classify(&itu), Some(SitClass::Unclassified));
        let off = [(950.0, 330.0), (1460.0, 330.0), (1800.0, 330.0)];
        assert_eq!(classify(&off), None);
        let long = [(950.0, 330.0), (1400.0, 600.0), (1800.0, 330.0)];
        assert_eq!(classify(&long), None);
    }

    #[test]
    fn codes_are_distinct() {
        let mut seen: Vec<[SitSegment; 3]> = Vec::new();
        for c in SitClass::CODED {
            let s = c.segments().unwrap();
            assert!(!seen.contains(&s), "{c:?}");
            seen.push(s);
        }
    }
}
