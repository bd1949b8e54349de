//! Node clocks. Each node reads a local clock that runs at `1 + ppm/1e6` times
//! the rate of true time and can be stepped. Local time is piecewise linear in
//! true time: every drift change or jump starts a new piece at an anchor, so the
//! clock is continuous across drift changes and exact in integers.

use super::time::{LocalTime, SimDuration, SimTime};

const MILLION: i128 = 1_000_000;

/// The most a clock may drift, in parts per million (±50%). Beyond that, a
/// "clock" is no longer a useful model and the scenario validator rejects it.
pub const DRIFT_PPM_MAX: i64 = 500_000;

#[derive(Clone, Debug)]
/// A node's local clock: true time at a drift rate, with jumps.
pub struct NodeClock {
    anchor_true: SimTime,
    anchor_local: LocalTime,
    ppm: i64,
}

impl Default for NodeClock {
    fn default() -> Self {
        NodeClock {
            anchor_true: SimTime::ZERO,
            anchor_local: LocalTime::from_nanos(0),
            ppm: 0,
        }
    }
}

impl NodeClock {
    /// The current drift, in parts per million.
    pub fn ppm(&self) -> i64 {
        self.ppm
    }

    /// The local reading at true time `now` (which must not precede the anchor).
    pub fn local_at(&self, now: SimTime) -> LocalTime {
        debug_assert!(now >= self.anchor_true, "clock read before its anchor");
        let elapsed = now.since(self.anchor_true).as_nanos();
        let local_elapsed = if self.ppm == 0 {
            elapsed
        } else {
            // floor(elapsed * rate / 1e6) without 128-bit division: with
            // elapsed = q * 1e6 + r it is q * rate + floor(r * rate / 1e6).
            let rate = (MILLION as i64 + self.ppm) as u64;
            let million = MILLION as u64;
            let (q, r) = (elapsed / million, elapsed % million);
            q.saturating_mul(rate).saturating_add(r * rate / million)
        };
        LocalTime::from_nanos(self.anchor_local.as_nanos().saturating_add(local_elapsed))
    }

    /// How much true time must pass for the local clock to advance by `span`.
    /// Rounded up, so that a timer never fires before its local deadline.
    pub fn true_span_for(&self, span: SimDuration) -> SimDuration {
        if self.ppm == 0 {
            return span;
        }
        let rate = MILLION + i128::from(self.ppm);
        let nanos = (i128::from(span.as_nanos()) * MILLION + rate - 1) / rate;
        SimDuration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// Changes the drift rate from true time `now` on, keeping the reading continuous.
    pub fn set_drift(&mut self, now: SimTime, ppm: i64) {
        assert!(
            ppm.abs() <= DRIFT_PPM_MAX,
            "drift {ppm} ppm outside ±{DRIFT_PPM_MAX}"
        );
        self.anchor_local = self.local_at(now);
        self.anchor_true = now;
        self.ppm = ppm;
    }

    /// Steps the local reading forward or backward by `span` at true time `now`
    /// (as an NTP step would). A backward step stops at local time zero.
    pub fn jump(&mut self, now: SimTime, span: SimDuration, backward: bool) {
        let reading = self.local_at(now).as_nanos();
        let stepped = if backward {
            reading.saturating_sub(span.as_nanos())
        } else {
            reading.saturating_add(span.as_nanos())
        };
        self.anchor_local = LocalTime::from_nanos(stepped);
        self.anchor_true = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_clock_gains_and_a_slow_one_loses() {
        let mut fast = NodeClock::default();
        fast.set_drift(SimTime::ZERO, 20_000);
        assert_eq!(
            fast.local_at(SimTime::from_nanos(1_000_000_000)).as_nanos(),
            1_020_000_000
        );
        let mut slow = NodeClock::default();
        slow.set_drift(SimTime::ZERO, -100_000);
        assert_eq!(
            slow.local_at(SimTime::from_nanos(1_000_000_000)).as_nanos(),
            900_000_000
        );
    }

    #[test]
    fn drift_changes_keep_the_clock_continuous() {
        let mut clock = NodeClock::default();
        clock.set_drift(SimTime::ZERO, 100_000);
        let before = clock.local_at(SimTime::from_nanos(2_000_000_000));
        clock.set_drift(SimTime::from_nanos(2_000_000_000), -100_000);
        assert_eq!(clock.local_at(SimTime::from_nanos(2_000_000_000)), before);
        assert_eq!(
            clock
                .local_at(SimTime::from_nanos(3_000_000_000))
                .as_nanos(),
            2_200_000_000 + 900_000_000
        );
    }

    #[test]
    fn true_span_never_undershoots_the_local_span() {
        let mut clock = NodeClock::default();
        for ppm in [-499_999, -3, 0, 7, 123_457, 500_000] {
            clock.set_drift(SimTime::ZERO, ppm);
            for span in [1u64, 999, 1_000_000, 123_456_789] {
                let true_span = clock.true_span_for(SimDuration::from_nanos(span));
                let reached = clock.local_at(SimTime::ZERO.after(true_span)).as_nanos();
                assert!(reached >= span, "ppm {ppm} span {span}: reached {reached}");
            }
        }
    }

    #[test]
    fn jumps_step_the_reading() {
        let mut clock = NodeClock::default();
        clock.jump(
            SimTime::from_nanos(1_000),
            SimDuration::from_nanos(500),
            false,
        );
        assert_eq!(clock.local_at(SimTime::from_nanos(1_000)).as_nanos(), 1_500);
        clock.jump(
            SimTime::from_nanos(2_000),
            SimDuration::from_nanos(10_000),
            true,
        );
        assert_eq!(clock.local_at(SimTime::from_nanos(2_000)).as_nanos(), 0);
    }
}
