//! Workloads measured three ways (the criterion benches, the instruction-count gate and
//! `tandem bench`), kept here so all three measure exactly the same work: an engine shard
//! under steady load, the mixing arithmetic on its own, a jitter buffer, recordings on one
//! shard ([`media`]), and the simulator's benchmark scenarios ([`scenarios`]).

pub mod media;
pub mod scenarios;

pub use media::{JitterRig, MediaRig, MixRig, RecordingReport, recording_load};

/// A 20 ms frame of a two-tone signal that spans several G.711 segments.
pub fn speech_frame() -> [i16; 160] {
    let mut f = [0i16; 160];
    for (i, s) in f.iter_mut().enumerate() {
        let t = i as f64 / 8000.0;
        *s = (9000.0 * (std::f64::consts::TAU * 210.0 * t).sin()
            + 3000.0 * (std::f64::consts::TAU * 1330.0 * t).sin()) as i16;
    }
    f
}
