//! Seedable random streams: one independent stream per random source.
//!
//! Each source (arrivals, patience, talk time, …) draws from its own generator, seeded from
//! the run's seed, the replication number and the source's id. Changing one part of a
//! scenario (say, the agent count) then leaves every other source's draws unchanged: common
//! random numbers, which make scenario comparisons and staffing searches far less noisy.

use rand::SeedableRng;
use rand::rngs::SmallRng;

/// The random sources of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// Arrival times and thinning.
    Arrivals = 1,
    /// Caller patience.
    Patience = 2,
    /// IVR holding time and self-service outcome.
    Ivr = 3,
    /// Agent ring (answer delay).
    Ring = 4,
    /// Talk time.
    Talk = 5,
    /// After-call work.
    Acw = 6,
    /// Redial decisions and delays.
    Redial = 7,
    /// Callback dialling outcomes.
    Callback = 8,
    /// Caller numbers (VIP, sticky, blacklist, callback de-duplication).
    Callers = 9,
    /// The type of each call of the main arrival stream.
    CallTypes = 10,
    /// Balking on the delay announcement, and patience drawn after it.
    Balk = 11,
    /// Whether a caller accepts a callback offer.
    Acceptance = 12,
    /// The day's busyness factor.
    Busyness = 13,
    /// What an unanswered callback attempt finds: busy, unassigned or ringing out.
    FarEnd = 14,
    /// A call type's own arrival stream: this id plus the type's index.
    TypeArrivals = 64,
}

/// SplitMix64 step: mixes a seed into a well-spread 64-bit value.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator for `stream` in replication `rep` of a run seeded `seed`.
pub fn stream(seed: u64, rep: u32, stream: Stream) -> SmallRng {
    indexed(seed, rep, stream as u64)
}

/// The generator of call type `index`'s own arrival stream.
pub fn type_arrivals(seed: u64, rep: u32, index: usize) -> SmallRng {
    indexed(seed, rep, Stream::TypeArrivals as u64 + index as u64)
}

fn indexed(seed: u64, rep: u32, id: u64) -> SmallRng {
    let s = splitmix64(splitmix64(seed ^ splitmix64(u64::from(rep))) ^ id << 56);
    SmallRng::seed_from_u64(s)
}
