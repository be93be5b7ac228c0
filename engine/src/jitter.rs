//! PLACEHOLDER so the crate compiles while the real jitter buffer is written: replace this
//! whole file.
#![allow(missing_docs)]
use tandem_codecs::g711::Law;

#[derive(Clone, Debug)]
pub enum JitterMode {
    Fixed { depth_ms: u32 },
    Adaptive { min_ms: u32, max_ms: u32 },
}
#[derive(Clone, Debug)]
pub struct JitterConfig {
    pub mode: JitterMode,
    pub clock_rate: u32,
    pub samples_per_tick: usize,
    pub tick_ms: u32,
}
impl Default for JitterConfig {
    fn default() -> Self {
        JitterConfig {
            mode: JitterMode::Adaptive {
                min_ms: 20,
                max_ms: 200,
            },
            clock_rate: 8000,
            samples_per_tick: 160,
            tick_ms: 20,
        }
    }
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    Accepted,
    Duplicate,
    Late,
    TooEarly,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PopOutcome {
    Played,
    Concealed,
    Silence,
}
#[derive(Clone, Copy, Debug, Default)]
pub struct JitterStats {
    pub accepted: u64,
    pub duplicates: u64,
    pub late: u64,
    pub too_early: u64,
    pub played_frames: u64,
    pub concealed_frames: u64,
    pub silence_frames: u64,
    pub jitter_us: u64,
    pub target_depth_ms: u32,
    pub depth_ms: u32,
}
#[derive(Debug)]
pub struct JitterBuffer {
    stats: JitterStats,
}
impl JitterBuffer {
    pub fn new(_c: JitterConfig) -> JitterBuffer {
        JitterBuffer {
            stats: JitterStats::default(),
        }
    }
    pub fn insert(
        &mut self,
        _now: u64,
        _seq: u16,
        _ts: u32,
        _law: Law,
        _p: &[u8],
    ) -> InsertOutcome {
        InsertOutcome::Accepted
    }
    pub fn pop(&mut self, _now: u64, out: &mut [i16]) -> PopOutcome {
        out.fill(0);
        PopOutcome::Silence
    }
    pub fn stats(&self) -> JitterStats {
        self.stats
    }
    pub fn reset(&mut self) {}
}
