//! Simulation time: seconds as an `f64` that can never be NaN and is totally ordered.
//!
//! Analytic crossing times are real numbers, so time stays a float; wrapping it in
//! [`ordered_float::NotNan`] makes a bad root solve fail loudly where it happens (construction)
//! instead of poisoning the event queue later.

use ordered_float::NotNan;
use std::fmt;

/// A point in simulated time, in seconds. Never NaN; ordered totally.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time(NotNan<f64>);

impl Time {
    /// The start of every simulation, t = 0 s.
    pub const ZERO: Time = Time(unsafe_not_nan(0.0));
    /// A time later than every event: "never". Used for "no crossing before the horizon".
    pub const NEVER: Time = Time(unsafe_not_nan(f64::INFINITY));

    /// Wraps seconds; `None` when `seconds` is NaN.
    pub fn new(seconds: f64) -> Option<Time> {
        NotNan::new(seconds).ok().map(Time)
    }

    /// Wraps seconds that the caller knows are not NaN.
    ///
    /// # Panics
    /// When `seconds` is NaN: that is a bug in the caller (an internal invariant), never a
    /// consequence of user input, which is validated before it reaches the engine.
    pub fn from_secs(seconds: f64) -> Time {
        Time(NotNan::new(seconds).expect("simulation time must not be NaN"))
    }

    /// The time in seconds.
    pub fn secs(self) -> f64 {
        self.0.into_inner()
    }

    /// Whether this is [`Time::NEVER`] (or any infinite time).
    pub fn is_never(self) -> bool {
        self.secs().is_infinite()
    }
}

/// `NotNan::new` is not `const`; 0 and +inf are not NaN, so this is sound for the constants above.
const fn unsafe_not_nan(x: f64) -> NotNan<f64> {
    // SAFETY: only called with 0.0 and +inf, neither of which is NaN.
    unsafe { NotNan::new_unchecked(x) }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} s", self.secs())
    }
}

impl fmt::Display for Time {
    /// Shortest representation that reads back to the same `f64`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.secs())
    }
}

impl serde::Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.secs())
    }
}

impl<'de> serde::Deserialize<'de> for Time {
    /// Seconds as an `f64`; NaN is refused.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        let secs = f64::deserialize(d)?;
        Time::new(secs).ok_or_else(|| serde::de::Error::custom("a time that is not NaN"))
    }
}

impl From<Time> for f64 {
    fn from(t: Time) -> f64 {
        t.secs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_is_rejected_and_order_is_total() {
        assert!(Time::new(f64::NAN).is_none());
        let a = Time::from_secs(0.1);
        let b = Time::from_secs(0.2);
        assert!(a < b && b < Time::NEVER && Time::ZERO < a);
        assert!(Time::NEVER.is_never());
        assert_eq!(format!("{}", Time::from_secs(0.1)), "0.1");
    }
}
