//! What the detector listens for, and the limits it accepts.

use super::{Kind, MAX_FREQUENCIES, MAX_SIGNATURES, cadence};
use crate::tone::{self, TonePlan};

/// A tone plan and what it means.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProgressPlan {
    /// [`Kind::Dial`], [`Kind::Ringback`], [`Kind::Busy`] or [`Kind::Congestion`].
    pub kind: Kind,
    /// The plan (frequencies and cadence).
    pub plan: &'static TonePlan,
}

const fn pp(kind: Kind, plan: &'static TonePlan) -> ProgressPlan {
    ProgressPlan { kind, plan }
}

/// China's plans.
pub const CN_PLANS: &[ProgressPlan] = &[
    pp(Kind::Dial, &tone::CN_DIAL),
    pp(Kind::Ringback, &tone::CN_RINGBACK),
    pp(Kind::Busy, &tone::CN_BUSY),
    pp(Kind::Congestion, &tone::CN_CONGESTION),
];
/// ITU-T E.180's recommended plans.
pub const ITU_PLANS: &[ProgressPlan] = &[
    pp(Kind::Dial, &tone::ITU_DIAL),
    pp(Kind::Ringback, &tone::ITU_RINGBACK),
    pp(Kind::Busy, &tone::ITU_BUSY),
    pp(Kind::Congestion, &tone::ITU_CONGESTION),
];
/// North America's precise tone plan.
pub const US_PLANS: &[ProgressPlan] = &[
    pp(Kind::Dial, &tone::US_DIAL),
    pp(Kind::Ringback, &tone::US_RINGBACK),
    pp(Kind::Busy, &tone::US_BUSY),
    pp(Kind::Congestion, &tone::US_REORDER),
];

/// Detector settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgressConfig {
    /// Tone plans to listen for (default: China, ITU and North America together).
    pub plans: Vec<ProgressPlan>,
    /// Relative tolerance of burst and gap lengths (0.15 = ±15%, plus 20 ms).
    pub cadence_tolerance: f64,
    /// Weakest level of each tone frequency, in dBm0.
    pub min_tone_dbm0: f64,
    /// Shortest continuous tone reported as dial tone, in milliseconds.
    pub dial_min_ms: u32,
    /// Listen for SITs.
    pub sit: bool,
    /// Weakest level of voice-like audio, in dBm0 (per 10 ms).
    pub voice_dbm0: f64,
    /// Voice-like audio needed to decide "answered", in milliseconds.
    pub voice_min_ms: u32,
    /// Longest pause within that voice, in milliseconds.
    pub voice_gap_ms: u32,
    /// Length of a reported silence, in milliseconds.
    pub silence_ms: u32,
    /// Time after which "no answer" is reported if nothing decisive was heard (`None`: never).
    pub no_answer_ms: Option<u32>,
}

impl Default for ProgressConfig {
    fn default() -> Self {
        ProgressConfig {
            plans: [CN_PLANS, ITU_PLANS, US_PLANS].concat(),
            cadence_tolerance: 0.15,
            min_tone_dbm0: -40.0,
            dial_min_ms: 2000,
            sit: true,
            voice_dbm0: -40.0,
            voice_min_ms: 500,
            voice_gap_ms: 300,
            silence_ms: 5000,
            no_answer_ms: Some(30_000),
        }
    }
}

impl ProgressConfig {
    /// The default settings listening only for `plans`.
    pub fn with_plans(plans: &[ProgressPlan]) -> ProgressConfig {
        ProgressConfig {
            plans: plans.to_vec(),
            ..ProgressConfig::default()
        }
    }
}

/// A configuration the detector cannot honour.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProgressError {
    /// A setting is out of range.
    #[error("progress detector: `{field}` must be in {range}, got {value}")]
    OutOfRange {
        /// The setting.
        field: &'static str,
        /// The accepted range.
        range: &'static str,
        /// The value given.
        value: f64,
    },
    /// A tone plan cannot be detected as given.
    #[error("progress detector: plan `{plan}`: {reason}")]
    Plan {
        /// The plan's name.
        plan: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// Two plans cannot be told apart.
    #[error("progress detector: plans `{0}` and `{1}` cannot be told apart")]
    Ambiguous(&'static str, &'static str),
    /// Too many frequencies or frequency sets.
    #[error(
        "progress detector: at most {MAX_FREQUENCIES} frequencies in {MAX_SIGNATURES} sets are supported"
    )]
    TooManyFrequencies,
}

/// Checks every setting and plan against what the detector can honour.
pub(crate) fn validate(cfg: &ProgressConfig) -> Result<(), ProgressError> {
    let range = |field, lo: f64, hi: f64, v: f64, text| {
        if v.is_finite() && (lo..=hi).contains(&v) {
            Ok(())
        } else {
            Err(ProgressError::OutOfRange {
                field,
                range: text,
                value: v,
            })
        }
    };
    range(
        "cadence_tolerance",
        0.0,
        0.5,
        cfg.cadence_tolerance,
        "[0, 0.5]",
    )?;
    range(
        "min_tone_dbm0",
        -60.0,
        0.0,
        cfg.min_tone_dbm0,
        "[-60, 0] dBm0",
    )?;
    range(
        "dial_min_ms",
        500.0,
        60_000.0,
        f64::from(cfg.dial_min_ms),
        "[500, 60000] ms",
    )?;
    range("voice_dbm0", -70.0, 0.0, cfg.voice_dbm0, "[-70, 0] dBm0")?;
    range(
        "voice_min_ms",
        50.0,
        10_000.0,
        f64::from(cfg.voice_min_ms),
        "[50, 10000] ms",
    )?;
    range(
        "voice_gap_ms",
        0.0,
        2000.0,
        f64::from(cfg.voice_gap_ms),
        "[0, 2000] ms",
    )?;
    range(
        "silence_ms",
        500.0,
        600_000.0,
        f64::from(cfg.silence_ms),
        "[500, 600000] ms",
    )?;
    if let Some(n) = cfg.no_answer_ms {
        range(
            "no_answer_ms",
            1000.0,
            3_600_000.0,
            f64::from(n),
            "[1000, 3600000] ms",
        )?;
    }
    for p in &cfg.plans {
        let bad = |reason| {
            Err(ProgressError::Plan {
                plan: p.plan.name,
                reason,
            })
        };
        if !p.kind.is_tone() {
            return bad("its kind must be dial, ringback, busy or congestion");
        }
        if p.plan.freqs.is_empty() || p.plan.freqs.len() > 2 {
            return bad("it must have one or two frequencies");
        }
        if p.plan.freqs.iter().any(|f| !(100.0..=3000.0).contains(f)) {
            return bad("frequencies must be within 100–3000 Hz");
        }
        if p.plan.freqs.len() == 2 && (p.plan.freqs[0] - p.plan.freqs[1]).abs() < 40.0 {
            return bad("its two frequencies must be at least 40 Hz apart");
        }
        if p.plan.cadence.len() > cadence::MAX_STEPS {
            return bad("its cadence has more than 4 steps");
        }
        if p.plan
            .cadence
            .iter()
            .any(|&(on, off)| !(100..=10_000).contains(&on) || !(100..=10_000).contains(&off))
        {
            return bad("cadence steps must be within 100–10000 ms");
        }
        if p.plan.cadence.is_empty() != (p.kind == Kind::Dial) {
            return bad("dial tone, and only dial tone, is continuous");
        }
    }
    Ok(())
}
