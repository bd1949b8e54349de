//! Virtual time. Everything in a run is measured in integer nanoseconds so that
//! arithmetic is exact and identical on every machine; no floating point and no
//! wall clock ever decides when something happens.

use serde::Serialize;
use std::fmt;

/// A point in true simulated time, in nanoseconds since the run started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SimTime(u64);

/// A point on one node's local clock, in nanoseconds. Local clocks drift and
/// jump, so a `LocalTime` is never compared with a `SimTime`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct LocalTime(u64);

/// A span of time in nanoseconds, on whichever clock it is used with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SimDuration(u64);

/// Nanoseconds in a millisecond.
pub const NANOS_PER_MILLI: u64 = 1_000_000;
/// Nanoseconds in a second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A span of `nanos` nanoseconds.
    pub const fn from_nanos(nanos: u64) -> Self {
        SimDuration(nanos)
    }
    /// A span of `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        SimDuration(millis * NANOS_PER_MILLI)
    }
    /// A span of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        SimDuration(secs * NANOS_PER_SEC)
    }
    /// The span in nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// The span in seconds, as a float (for display and charts only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    /// Converts from a `std::time::Duration`, saturating at `u64::MAX` nanoseconds
    /// (about 584 years, far beyond any run length the scenario validator allows).
    pub fn from_std(duration: std::time::Duration) -> Self {
        SimDuration(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX))
    }
    /// The same span as a `std::time::Duration`.
    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0)
    }
    /// The sum, saturating at the longest span.
    pub fn saturating_add(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(other.0))
    }
    /// The span `factor` times over, saturating.
    pub fn times(self, factor: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(factor))
    }
}

impl SimTime {
    /// The start of the run.
    pub const ZERO: SimTime = SimTime(0);

    /// The instant `nanos` nanoseconds after the start.
    pub const fn from_nanos(nanos: u64) -> Self {
        SimTime(nanos)
    }
    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Seconds since the start, as a float (for display and charts only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    /// Time plus a span. Saturates: a run is bounded far below `u64::MAX` ns.
    pub fn after(self, span: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(span.0))
    }
    /// The span from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
    /// Time minus a span, clamped at zero.
    pub fn before(self, span: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(span.0))
    }
}

impl LocalTime {
    /// A clock reading of `nanos` nanoseconds.
    pub const fn from_nanos(nanos: u64) -> Self {
        LocalTime(nanos)
    }
    /// The reading in nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// The reading a span later, saturating.
    pub fn after(self, span: SimDuration) -> LocalTime {
        LocalTime(self.0.saturating_add(span.0))
    }
    /// The span from `earlier` to this reading, zero if `earlier` is later.
    pub fn since(self, earlier: LocalTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

fn write_nanos(f: &mut fmt::Formatter<'_>, nanos: u64) -> fmt::Result {
    let secs = nanos / NANOS_PER_SEC;
    let millis = (nanos % NANOS_PER_SEC) / NANOS_PER_MILLI;
    let rest = nanos % NANOS_PER_MILLI;
    if rest == 0 {
        write!(f, "{secs}.{millis:03}s")
    } else {
        write!(f, "{secs}.{millis:03}{rest:06}s")
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_nanos(f, self.0)
    }
}
impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_nanos(f, self.0)
    }
}
impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < NANOS_PER_SEC && self.0 % NANOS_PER_MILLI == 0 {
            write!(f, "{}ms", self.0 / NANOS_PER_MILLI)
        } else {
            write_nanos(f, self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_exact_and_readable() {
        assert_eq!(SimTime::from_nanos(5_500_000_000).to_string(), "5.500s");
        assert_eq!(
            SimTime::from_nanos(1_000_000_001).to_string(),
            "1.000000001s"
        );
        assert_eq!(SimDuration::from_millis(250).to_string(), "250ms");
        assert_eq!(SimDuration::from_millis(1500).to_string(), "1.500s");
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(
            SimTime::from_nanos(5).since(SimTime::from_nanos(9)),
            SimDuration::ZERO
        );
        assert_eq!(
            SimTime::from_nanos(u64::MAX)
                .after(SimDuration::from_nanos(1))
                .as_nanos(),
            u64::MAX
        );
    }
}
