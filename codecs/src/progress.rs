//! Call-progress detection: what an outbound call hears before (or instead of) an answer.
//!
//! [`ProgressDetector`] listens to 8 kHz linear PCM in chunks of any size and reports
//! [`ProgressEvent`]s with the sample where the evidence began and the sample where it was
//! decided: dial tone, ringback, busy and congestion by their cadence for the tone plans of
//! [`tone`](crate::tone) (China, ITU-T E.180, North America), special information tones
//! ([`sit`](crate::sit)) with their class, and a simple answering decision — voice, silence,
//! no answer. It allocates nothing after construction.
//!
//! # How it listens
//! Samples are cut into 10 ms sub-blocks. A Goertzel filter per frequency of interest turns
//! each sub-block into one complex DFT coefficient, all referred to the stream's first sample,
//! so consecutive sub-blocks add up coherently. Every 10 ms the last five sub-blocks form a
//! 50 ms window, which is classified:
//! - **Tone plans.** A plan's frequency set (one or two frequencies) is *on* in a window when
//!   its coherent power (50 ms resolves frequencies 20 Hz apart, so 425 and 450 Hz, or 440 + 480
//!   and 350 + 440 Hz, are told apart) carries at least 70% of the window's energy, each
//!   frequency is above [`ProgressConfig::min_tone_dbm0`] and carries at least a fifth of the
//!   pair's power. A tone covering a fraction *c* of a window with silence in the rest gives a
//!   purity of about *c*, so a window is on once the tone covers 70% of it: a burst's edges lie
//!   10 ms inside the first and last *on* windows, to ±5 ms.
//! - **SIT.** Three band filters at E.180's 950, 1400 and 1800 Hz. The phase advance between
//!   sub-blocks gives the tone's offset from the band centre (±50 Hz, to a fraction of a Hz
//!   for a steady tone); a window is on in a band when the phase advances steadily (coherence
//!   ≥ 0.9), the band holds at least 70% of the energy once corrected for that offset, and
//!   every sub-block carries the tone (so the segment covers 90% of the window whatever
//!   surrounds it: segments meet without a gap). Runs of such windows are the segments, from
//!   the first window's start to the last one's end.
//!
//! # Decisions
//! - **Cadence.** Runs of *on* windows are bursts. A plan with a cadence is reported once its
//!   on/off steps have repeated for 1.5 s and at least one full cadence (busy 0.5/0.5 s: two
//!   cycles; ringback 1/4 s: one cycle), each burst and gap within
//!   ±([`cadence_tolerance`](ProgressConfig::cadence_tolerance) × nominal + 20 ms). A plan
//!   without a cadence (dial tone) is reported once a burst has lasted
//!   [`dial_min_ms`](ProgressConfig::dial_min_ms) and longer than any cadenced burst of the same
//!   frequencies. The event's start is the onset of the first matching burst.
//! - **SIT.** Three segments in rising bands, each 230–430 ms, with gaps of at most 45 ms,
//!   classified by [`sit`](crate::sit)'s table; reported when the third segment ends, with the
//!   onset of the first as its start.
//! - **Voice.** A sub-block is voice-like when its level is at least
//!   [`voice_dbm0`](ProgressConfig::voice_dbm0) and no tone or SIT window lies within one
//!   sub-block of it. [`Kind::Voice`] ("answered") is reported once voice-like sub-blocks add
//!   up to [`voice_min_ms`](ProgressConfig::voice_min_ms) with no gap longer than
//!   [`voice_gap_ms`](ProgressConfig::voice_gap_ms); its start is the first of them. Sub-blocks
//!   are judged 60 ms late, once every window around them has been classified.
//! - **Silence** is reported for each stretch of [`silence_ms`](ProgressConfig::silence_ms)
//!   without voice or tone; **no answer** once, after
//!   [`no_answer_ms`](ProgressConfig::no_answer_ms), if nothing decisive was heard.
//!
//! The first decisive event (busy, congestion, SIT, voice, no answer) is the call's
//! [`outcome`](ProgressDetector::outcome); the detector keeps listening and reporting after it.

mod cadence;
mod config;

pub(crate) mod bank;

use bank::{Bank, C, MAX_BINS, SUB, WIN};
use cadence::{Cadence, Limits};
use config::validate;
pub use config::{CN_PLANS, ITU_PLANS, ProgressConfig, ProgressError, ProgressPlan, US_PLANS};

use crate::sit::{ITU_HZ, SitClass, SitTracker};
use crate::tone::FULL_SCALE_DBM0;

/// Most distinct frequency sets (tone signatures) in one configuration.
pub const MAX_SIGNATURES: usize = 8;
/// Most distinct tone-plan frequencies in one configuration.
pub const MAX_FREQUENCIES: usize = MAX_BINS - ITU_HZ.len();

/// Share of a window's energy the tone must carry.
const PURITY: f64 = 0.7;
/// Weakest sub-block power relative to the strongest for a SIT segment to fill the window.
const BALANCE: f64 = 0.3;
/// Offset (samples) from a tone window's edge to the burst's edge it reveals.
const TONE_EDGE: u64 = 80;
/// Smallest share of a two-frequency tone's power in either frequency.
const TWIST_SHARE: f64 = 0.2;
/// Smallest phase coherence of a SIT window.
const COHERENCE: f64 = 0.9;

/// What the detector heard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// Dial tone (continuous).
    Dial,
    /// Ringback: the far end is being alerted.
    Ringback,
    /// Busy.
    Busy,
    /// Congestion (reorder, fast busy).
    Congestion,
    /// A special information tone of this class.
    Sit(SitClass),
    /// Voice-like audio without tones: answered.
    Voice,
    /// A stretch of silence.
    Silence,
    /// Nothing decisive within the no-answer time.
    NoAnswer,
}

impl Kind {
    /// Whether this decides the call (busy, congestion, SIT, voice, no answer).
    pub fn is_decisive(self) -> bool {
        matches!(
            self,
            Kind::Busy | Kind::Congestion | Kind::Sit(_) | Kind::Voice | Kind::NoAnswer
        )
    }

    fn is_tone(self) -> bool {
        matches!(
            self,
            Kind::Dial | Kind::Ringback | Kind::Busy | Kind::Congestion
        )
    }
}

/// One detection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProgressEvent {
    /// What was heard.
    pub kind: Kind,
    /// The tone plan that matched (tones only).
    pub plan: Option<&'static str>,
    /// Sample (from the start of the stream) where the evidence began.
    pub start_sample: u64,
    /// Sample at which the detector decided.
    pub at_sample: u64,
}

impl ProgressEvent {
    /// [`start_sample`](Self::start_sample) in milliseconds.
    pub fn start_ms(&self) -> f64 {
        self.start_sample as f64 / 8.0
    }

    /// [`at_sample`](Self::at_sample) in milliseconds.
    pub fn at_ms(&self) -> f64 {
        self.at_sample as f64 / 8.0
    }
}

/// One frequency set and its plans.
#[derive(Clone, Debug)]
struct Signature {
    bins: [usize; 2],
    nbins: usize,
    plans: Vec<ProgressPlan>,
    limits: Limits,
}

/// The streaming call-progress detector. See the module documentation.
#[derive(Clone, Debug)]
pub struct ProgressDetector {
    cfg: ProgressConfig,
    bank: Bank,
    sigs: Vec<Signature>,
    cadences: [Cadence; MAX_SIGNATURES],
    sit_bins: [usize; 3],
    sit: SitTracker,
    /// Sub-blocks completed.
    subs: u64,
    /// Bit `i`: the window ending `i` sub-blocks ago had a tone or SIT.
    labels: u8,
    /// Energy of the last 8 sub-blocks, by index modulo 8.
    energies: [f64; 8],
    voice_start: u64,
    voice_count: u64,
    voice_last: Option<u64>,
    voice_done: bool,
    silence_start: Option<u64>,
    silence_done: bool,
    no_answer_done: bool,
    outcome: Option<ProgressEvent>,
}

impl ProgressDetector {
    /// A detector with `cfg`, or why it cannot honour it.
    pub fn new(cfg: ProgressConfig) -> Result<ProgressDetector, ProgressError> {
        validate(&cfg)?;
        let mut freqs: Vec<f64> = Vec::new();
        let mut sigs: Vec<Signature> = Vec::new();
        for p in &cfg.plans {
            let mut bins = [0; 2];
            for (b, &f) in bins.iter_mut().zip(p.plan.freqs) {
                *b = freqs.iter().position(|&g| g == f).unwrap_or_else(|| {
                    freqs.push(f);
                    freqs.len() - 1
                });
            }
            let nbins = p.plan.freqs.len();
            match sigs
                .iter_mut()
                .find(|s| s.nbins == nbins && same_set(&s.bins[..nbins], &bins[..nbins]))
            {
                Some(s) => s.plans.push(*p),
                None => sigs.push(Signature {
                    bins,
                    nbins,
                    plans: vec![*p],
                    limits: Limits::default(),
                }),
            }
        }
        if freqs.len() > MAX_FREQUENCIES || sigs.len() > MAX_SIGNATURES {
            return Err(ProgressError::TooManyFrequencies);
        }
        for s in &mut sigs {
            s.limits = cadence::limits(&s.plans, cfg.cadence_tolerance, cfg.dial_min_ms);
        }
        check_distinct(&sigs, &freqs, cfg.cadence_tolerance)?;
        let sit_bins = [0, 1, 2].map(|i| freqs.len() + i);
        freqs.extend(ITU_HZ);
        Ok(ProgressDetector {
            bank: Bank::new(&freqs),
            sigs,
            cadences: Default::default(),
            sit_bins,
            sit: SitTracker::default(),
            subs: 0,
            labels: 0,
            energies: [0.0; 8],
            voice_start: 0,
            voice_count: 0,
            voice_last: None,
            voice_done: false,
            silence_start: None,
            silence_done: false,
            no_answer_done: false,
            outcome: None,
            cfg,
        })
    }

    /// A detector with the default settings.
    pub fn with_defaults() -> ProgressDetector {
        Self::new(ProgressConfig::default()).expect("the default configuration is valid")
    }

    /// Feeds samples; calls `on_event` for each detection, in order.
    pub fn process(&mut self, samples: &[i16], mut on_event: impl FnMut(ProgressEvent)) {
        for &s in samples {
            if self.bank.push(s) {
                self.sub_block(&mut on_event);
            }
        }
    }

    /// Feeds samples and returns the detections.
    pub fn detect(&mut self, samples: &[i16]) -> Vec<ProgressEvent> {
        let mut v = Vec::new();
        self.process(samples, |e| v.push(e));
        v
    }

    /// The first decisive event so far (busy, congestion, SIT, voice, no answer).
    pub fn outcome(&self) -> Option<ProgressEvent> {
        self.outcome
    }

    /// Samples consumed in whole 10 ms sub-blocks.
    pub fn samples_seen(&self) -> u64 {
        self.subs * SUB as u64
    }

    /// The settings.
    pub fn config(&self) -> &ProgressConfig {
        &self.cfg
    }

    fn sub_block(&mut self, on_event: &mut impl FnMut(ProgressEvent)) {
        let idx = self.subs;
        self.subs += 1;
        self.energies[(idx % 8) as usize] = self.bank.energy(0);
        let now = self.subs * SUB as u64;
        let mut emit = |e: ProgressEvent, outcome: &mut Option<ProgressEvent>| {
            if outcome.is_none() && e.kind.is_decisive() {
                *outcome = Some(e);
            }
            on_event(e);
        };
        let mut labeled = false;
        if self.subs >= WIN as u64 {
            let start = now - (SUB * WIN) as u64;
            let tone = self.classify_tone();
            let sit = self.classify_sit();
            // A window is one thing: the purer reading wins.
            let (tone, sit) = match (tone, sit) {
                (Some((t, pt)), Some((s, ps, z))) => {
                    if pt >= ps {
                        (Some((t, pt)), None)
                    } else {
                        (None, Some((s, ps, z)))
                    }
                }
                other => other,
            };
            labeled = tone.is_some() || sit.is_some();
            let mut events = [None; MAX_SIGNATURES + 1];
            let mut n = 0;
            for (i, sig) in self.sigs.iter().enumerate() {
                let c = &mut self.cadences[i];
                if tone.is_some_and(|(t, _)| t == i) {
                    // A tone window is on once the tone covers 70% of it: the burst began
                    // about 10 ms after the first such window's start and ended about 10 ms
                    // before the last one's end.
                    c.on(
                        start + TONE_EDGE,
                        now - TONE_EDGE,
                        now,
                        &sig.plans,
                        &sig.limits,
                        &mut |e| {
                            events[n] = Some(e);
                            n += 1;
                        },
                    );
                } else {
                    c.off(now, &sig.limits);
                }
            }
            if let Some((class, onset)) = self.sit.window(sit.map(|(b, _, z)| (b, z)), start, now) {
                events[n] = Some(ProgressEvent {
                    kind: Kind::Sit(class),
                    plan: None,
                    start_sample: onset,
                    at_sample: now,
                });
                n += 1;
            }
            for e in events.into_iter().take(n).flatten() {
                emit(e, &mut self.outcome);
            }
        }
        self.labels = (self.labels << 1) | u8::from(labeled);
        // Judge the sub-block whose every surrounding window is now classified.
        if idx >= 5 {
            let j = idx - 5;
            let covered = self.labels & 0x7F != 0;
            let level = level_dbm0(self.energies[(j % 8) as usize], SUB);
            if let Some(e) = self.audio(j, covered, level, now) {
                emit(e, &mut self.outcome);
            }
        }
        if let Some(limit) = self.cfg.no_answer_ms
            && !self.no_answer_done
            && now >= u64::from(limit) * 8
        {
            self.no_answer_done = true;
            if self.outcome.is_none() {
                emit(
                    ProgressEvent {
                        kind: Kind::NoAnswer,
                        plan: None,
                        start_sample: 0,
                        at_sample: now,
                    },
                    &mut self.outcome,
                );
            }
        }
    }

    /// The voice and silence decisions for sub-block `j`.
    fn audio(&mut self, j: u64, covered: bool, level: f64, now: u64) -> Option<ProgressEvent> {
        let sub_ms = (SUB / 8) as u64;
        if covered {
            self.silence_start = None;
            self.silence_done = false;
            return None;
        }
        if level >= self.cfg.voice_dbm0 {
            self.silence_start = None;
            self.silence_done = false;
            let gap = u64::from(self.cfg.voice_gap_ms) / sub_ms;
            if self.voice_last.is_none_or(|l| j - l > gap + 1) {
                self.voice_start = j;
                self.voice_count = 0;
            }
            self.voice_last = Some(j);
            self.voice_count += 1;
            if !self.voice_done && self.voice_count * sub_ms >= u64::from(self.cfg.voice_min_ms) {
                self.voice_done = true;
                return Some(ProgressEvent {
                    kind: Kind::Voice,
                    plan: None,
                    start_sample: self.voice_start * SUB as u64,
                    at_sample: now,
                });
            }
            return None;
        }
        let start = *self.silence_start.get_or_insert(j);
        if !self.silence_done && (j + 1 - start) * sub_ms >= u64::from(self.cfg.silence_ms) {
            self.silence_done = true;
            return Some(ProgressEvent {
                kind: Kind::Silence,
                plan: None,
                start_sample: start * SUB as u64,
                at_sample: now,
            });
        }
        None
    }

    /// The frequency set on in the current window, with its purity.
    fn classify_tone(&self) -> Option<(usize, f64)> {
        let e = self.bank.window_energy();
        if e <= 0.0 {
            return None;
        }
        let mut best: Option<(usize, f64)> = None;
        'sig: for (i, s) in self.sigs.iter().enumerate() {
            let mut powers = [0.0; 2];
            for (k, &b) in s.bins[..s.nbins].iter().enumerate() {
                let p = self.bank.coherent_power(b);
                if level_dbm0(p, SUB * WIN) < self.cfg.min_tone_dbm0 {
                    continue 'sig;
                }
                powers[k] = p;
            }
            let total: f64 = powers.iter().sum();
            if s.nbins == 2 && powers.iter().any(|&p| p < TWIST_SHARE * total) {
                continue;
            }
            let purity = total / e;
            if purity >= PURITY && best.is_none_or(|(_, b)| purity > b) {
                best = Some((i, purity));
            }
        }
        best
    }

    /// The SIT band on in the current window: band, purity and phase advance.
    fn classify_sit(&self) -> Option<(usize, f64, C)> {
        if !self.cfg.sit {
            return None;
        }
        let e = self.bank.window_energy();
        if e <= 0.0 {
            return None;
        }
        let mut best: Option<(usize, f64, C)> = None;
        for (band, &b) in self.sit_bins.iter().enumerate() {
            let (z, mag) = self.bank.phase_advance(b);
            if mag <= 0.0 || z.abs() < COHERENCE * mag {
                continue;
            }
            let p = self.bank.band_power(b, bank::offset_hz(z.arg()));
            let (lo, hi) = self.bank.sub_power_range(b);
            let purity = p / e;
            if purity >= PURITY
                && lo >= BALANCE * hi
                && level_dbm0(p, SUB * WIN) >= self.cfg.min_tone_dbm0
                && best.is_none_or(|(_, q, _)| purity > q)
            {
                best = Some((band, purity, z));
            }
        }
        best
    }
}

/// Level in dBm0 of a sine whose energy over `n` samples is `energy`.
fn level_dbm0(energy: f64, n: usize) -> f64 {
    let mean_square = energy / n as f64;
    let full_scale = 32767.0f64 * 32767.0 / 2.0;
    10.0 * (mean_square / full_scale).max(1e-30).log10() + FULL_SCALE_DBM0
}

fn same_set(a: &[usize], b: &[usize]) -> bool {
    a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
}

/// Rejects plan sets the detector could not tell apart.
fn check_distinct(sigs: &[Signature], freqs: &[f64], tol: f64) -> Result<(), ProgressError> {
    for (i, a) in sigs.iter().enumerate() {
        for b in &sigs[i + 1..] {
            if a.nbins == 1 && b.nbins == 1 && (freqs[a.bins[0]] - freqs[b.bins[0]]).abs() < 20.0 {
                return Err(ProgressError::Ambiguous(
                    a.plans[0].plan.name,
                    b.plans[0].plan.name,
                ));
            }
        }
        for (k, p) in a.plans.iter().enumerate() {
            for q in &a.plans[k + 1..] {
                let overlap = |x: u32, y: u32| {
                    (f64::from(x) - f64::from(y)).abs()
                        <= tol * f64::from(x.max(y)) + 2.0 * cadence::SLACK_MS
                };
                let (pc, qc) = (p.plan.cadence, q.plan.cadence);
                let same = pc.len() == qc.len()
                    && (0..pc.len().max(1)).any(|r| {
                        pc.iter().enumerate().all(|(i, &(on, off))| {
                            let (qon, qoff) = qc[(i + r) % qc.len()];
                            overlap(on, qon) && overlap(off, qoff)
                        })
                    });
                if same {
                    return Err(ProgressError::Ambiguous(p.plan.name, q.plan.name));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::{self, TonePlan};

    fn pp(kind: Kind, plan: &'static TonePlan) -> ProgressPlan {
        ProgressPlan { kind, plan }
    }

    #[test]
    fn default_config_is_valid() {
        let d = ProgressDetector::with_defaults();
        assert_eq!(d.sigs.len(), 5);
    }

    #[test]
    fn rejects_what_it_cannot_honour() {
        let c = ProgressConfig {
            cadence_tolerance: 0.9,
            ..ProgressConfig::default()
        };
        assert!(matches!(
            ProgressDetector::new(c),
            Err(ProgressError::OutOfRange { .. })
        ));
        // Busy and congestion with the same cadence and frequency.
        static SAME: TonePlan = TonePlan {
            name: "same",
            freqs: &[450.0],
            level_dbm0: -10.0,
            cadence: &[(350, 350)],
        };
        let c = ProgressConfig::with_plans(&[
            pp(Kind::Busy, &tone::CN_BUSY),
            pp(Kind::Congestion, &SAME),
        ]);
        assert_eq!(
            ProgressDetector::new(c).unwrap_err(),
            ProgressError::Ambiguous("cn-busy", "same")
        );
        let c = ProgressConfig::with_plans(&[pp(Kind::Voice, &tone::CN_BUSY)]);
        assert!(matches!(
            ProgressDetector::new(c),
            Err(ProgressError::Plan { .. })
        ));
        let c = ProgressConfig::with_plans(&[pp(Kind::Busy, &tone::CN_DIAL)]);
        assert!(matches!(
            ProgressDetector::new(c),
            Err(ProgressError::Plan { .. })
        ));
    }
}
