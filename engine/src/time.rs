//! Time in the engine: microseconds on the driver's clock.
//!
//! Every instant the engine is given (`now`) and every deadline it returns is a [`Micros`]
//! counted from the driver's start (a virtual clock in the in-memory engine). The engine
//! never reads a clock itself. Durations it computes internally are `Micros` too; settings
//! a person writes (a ptime, a media timeout) stay in milliseconds.
//!
//! `Micros` is a `u64` in a transparent wrapper, so it costs nothing at run time.

use std::fmt;
use std::ops::{Add, AddAssign, Div, Mul, Sub};
use std::time::Duration;

/// An instant or a duration in microseconds.
///
/// ```
/// use tandem_engine::Micros;
/// let tick = Micros::from_ms(20);
/// let now = Micros::ZERO + tick * 3;
/// assert_eq!(now.as_us(), 60_000);
/// assert_eq!(now / tick, 3);
/// assert_eq!(Micros::ZERO.saturating_sub(tick), Micros::ZERO);
/// ```
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Micros(u64);

impl Micros {
    /// Zero: the driver's start.
    pub const ZERO: Micros = Micros(0);
    /// The latest representable instant ("never").
    pub const MAX: Micros = Micros(u64::MAX);

    /// `us` microseconds.
    pub const fn from_us(us: u64) -> Micros {
        Micros(us)
    }

    /// `ms` milliseconds.
    pub const fn from_ms(ms: u64) -> Micros {
        Micros(ms * 1_000)
    }

    /// `s` seconds.
    pub const fn from_secs(s: u64) -> Micros {
        Micros(s * 1_000_000)
    }

    /// The count of microseconds.
    pub const fn as_us(self) -> u64 {
        self.0
    }

    /// Whole milliseconds (rounded down).
    pub const fn as_ms(self) -> u64 {
        self.0 / 1_000
    }

    /// `self - other`, or zero when `other` is later.
    pub const fn saturating_sub(self, other: Micros) -> Micros {
        Micros(self.0.saturating_sub(other.0))
    }

    /// `self + other`, or [`Micros::MAX`] on overflow.
    pub const fn saturating_add(self, other: Micros) -> Micros {
        Micros(self.0.saturating_add(other.0))
    }

    /// As a [`Duration`].
    pub const fn to_duration(self) -> Duration {
        Duration::from_micros(self.0)
    }
}

impl Add for Micros {
    type Output = Micros;
    #[inline]
    fn add(self, rhs: Micros) -> Micros {
        Micros(self.0 + rhs.0)
    }
}

impl AddAssign for Micros {
    #[inline]
    fn add_assign(&mut self, rhs: Micros) {
        self.0 += rhs.0;
    }
}

impl Sub for Micros {
    type Output = Micros;
    #[inline]
    fn sub(self, rhs: Micros) -> Micros {
        Micros(self.0 - rhs.0)
    }
}

impl Mul<u64> for Micros {
    type Output = Micros;
    #[inline]
    fn mul(self, rhs: u64) -> Micros {
        Micros(self.0 * rhs)
    }
}

/// How many whole `rhs` fit in `self`.
impl Div for Micros {
    type Output = u64;
    #[inline]
    fn div(self, rhs: Micros) -> u64 {
        self.0 / rhs.0
    }
}

impl From<Duration> for Micros {
    /// Saturates at [`Micros::MAX`].
    fn from(d: Duration) -> Micros {
        Micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }
}

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} µs", self.0)
    }
}
