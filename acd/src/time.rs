//! The ACD's clock type.

use std::ops::{Add, Sub};

use serde::{Deserialize, Serialize};

/// Seconds: an instant, counted from an epoch the driver chooses, or a span between two.
///
/// Every input takes the current instant as `Seconds`, and every timer the ACD asks for
/// ([`Action::ArmTimer`](crate::Action::ArmTimer)) comes due at one. The ACD only adds,
/// subtracts and compares them, which is exact for the integer and binary-fraction instants
/// drivers use; it never reads a clock. `f64` seconds is also the simulator's native clock,
/// so a simulated run passes its event times straight through.
///
/// The wrapper is free (`#[repr(transparent)]`, every operation inlined): it keeps the unit
/// in the type, so the ACD's seconds are not confused with the media engine's microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
#[repr(transparent)]
pub struct Seconds(pub f64);

impl Seconds {
    /// The epoch.
    pub const ZERO: Seconds = Seconds(0.0);

    /// The value in seconds.
    #[inline]
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl Add for Seconds {
    type Output = Seconds;
    #[inline]
    fn add(self, rhs: Seconds) -> Seconds {
        Seconds(self.0 + rhs.0)
    }
}

impl Sub for Seconds {
    type Output = Seconds;
    #[inline]
    fn sub(self, rhs: Seconds) -> Seconds {
        Seconds(self.0 - rhs.0)
    }
}

impl From<f64> for Seconds {
    #[inline]
    fn from(s: f64) -> Seconds {
        Seconds(s)
    }
}

impl From<Seconds> for f64 {
    #[inline]
    fn from(s: Seconds) -> f64 {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_order_are_those_of_f64_seconds() {
        let t = Seconds(10.5);
        assert_eq!(t + Seconds(2.0), Seconds(12.5));
        assert_eq!(t - Seconds(0.5), Seconds(10.0));
        assert!(Seconds(1.0) < Seconds(1.5));
        assert_eq!(f64::from(Seconds::from(3.25)), 3.25);
        assert_eq!(Seconds::ZERO.get(), 0.0);
        assert_eq!(std::mem::size_of::<Seconds>(), std::mem::size_of::<f64>());
    }

    #[test]
    fn serializes_as_a_bare_number() {
        assert_eq!(serde_json::to_string(&Seconds(1.5)).unwrap(), "1.5");
    }
}
