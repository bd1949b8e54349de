//! The event queue against an oracle: a `BinaryHeap` of (time, insertion
//! sequence), which pops in exactly the order every trace depends on. Pushes
//! follow the run loop's rule (never before the last pop), with delays drawn
//! to hit the queue's edges: exact ties, pushes at the current instant, every
//! level of the wheel, 24-hour jumps and the end of time. Cases run with few
//! events pending (the queue's heap), with many (its wheel), and across the
//! move from one to the other.

use faultline::sim::queue::EventQueue;
use faultline::sim::SimTime;
use proptest::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const MS: u64 = 1_000_000;
const DAY: u64 = 86_400_000 * MS;
/// More events than the queue keeps in its heap: pushing this many at the
/// start puts it on its wheel for the rest of the case.
const WHEEL_PENDING: usize = 200;

#[derive(Clone, Debug)]
enum Op {
    /// Push this many events, each `delay` after the last pop's time.
    Push { delays: Vec<u64> },
    /// Pop this many events (or until empty).
    Pop { count: usize },
}

/// Delays as the engine makes them, and the edges of the queue's structure.
fn delay() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => Just(0),
        3 => 0..4u64,
        2 => 0..200u64,
        4 => MS..25 * MS,
        2 => Just(100 * MS),
        1 => 1_000 * MS..5_000 * MS,
        1 => Just(DAY),
        1 => 0..=DAY,
        1 => Just(u64::MAX),
        1 => any::<u64>(),
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        3 => prop::collection::vec(delay(), 1..20).prop_map(|delays| Op::Push { delays }),
        2 => (1..25usize).prop_map(|count| Op::Pop { count }),
    ];
    prop::collection::vec(op, 1..200)
}

/// The queue under test and the oracle, fed the same operations.
struct Pair {
    queue: EventQueue<u64>,
    oracle: BinaryHeap<Reverse<(u64, u64)>>,
    /// The time of the last pop: no push may be earlier.
    now: u64,
    sequence_next: u64,
    pending_max: usize,
}

impl Pair {
    fn new() -> Self {
        Pair {
            queue: EventQueue::new(1 << 20),
            oracle: BinaryHeap::new(),
            now: 0,
            sequence_next: 0,
            pending_max: 0,
        }
    }

    fn push(&mut self, delay: u64) {
        let time = self.now.saturating_add(delay);
        let sequence = self.sequence_next;
        self.sequence_next += 1;
        // The payload is the insertion sequence, so a tie popped out of
        // order shows as a different payload.
        self.queue.push(SimTime::from_nanos(time), sequence);
        self.oracle.push(Reverse((time, sequence)));
        self.pending_max = self.pending_max.max(self.oracle.len());
    }

    /// Pops one from each and checks they agree; false once both are empty.
    fn pop(&mut self) -> Result<bool, TestCaseError> {
        let expected = self.oracle.peek().map(|Reverse((time, _))| *time);
        prop_assert_eq!(self.queue.peek_time().map(SimTime::as_nanos), expected);
        let popped = self.queue.pop().map(|(time, s)| (time.as_nanos(), s));
        let expected = self.oracle.pop().map(|Reverse(key)| key);
        prop_assert_eq!(popped, expected);
        prop_assert_eq!(self.queue.len(), self.oracle.len());
        if let Some((time, _)) = popped {
            self.now = time;
        }
        Ok(popped.is_some())
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Push { delays } => delays.iter().for_each(|&delay| self.push(delay)),
            Op::Pop { count } => {
                for _ in 0..*count {
                    if !self.pop()? {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks the pending events as a set, then empties both in lockstep.
    fn drain(&mut self) -> Result<(), TestCaseError> {
        let mut pending: Vec<u64> = self.queue.pending().copied().collect();
        let mut expected: Vec<u64> = self.oracle.iter().map(|Reverse((_, s))| *s).collect();
        pending.sort_unstable();
        expected.sort_unstable();
        prop_assert_eq!(pending, expected);
        while self.pop()? {}
        prop_assert!(self.queue.is_empty());
        prop_assert_eq!(self.queue.pending_high_water(), self.pending_max);
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn pops_in_time_then_insertion_order(ops in ops(), wheel_first in any::<bool>()) {
        let mut pair = Pair::new();
        if wheel_first {
            // Ties at the end of time, popped last of all.
            (0..WHEEL_PENDING).for_each(|_| pair.push(u64::MAX));
        }
        for op in &ops {
            pair.apply(op)?;
        }
        pair.drain()?;
    }

    /// Long runs in which time jumps by whole days: a few events a day, at
    /// the same instants and a few milliseconds apart; half as many popped a
    /// day, so the backlog grows past the heap into the wheel.
    #[test]
    fn day_long_jumps_keep_the_order(
        days in prop::collection::vec(
            (1..4u64, prop::collection::vec(prop_oneof![Just(0), 0..3 * MS], 1..12)),
            1..120,
        )
    ) {
        let mut pair = Pair::new();
        for (jump, offsets) in &days {
            for &offset in offsets {
                pair.push(jump * DAY + offset);
            }
            for _ in 0..offsets.len().div_ceil(2) {
                pair.pop()?;
            }
        }
        pair.drain()?;
    }

    /// Steady state near the engine's own: pop one, push one or two at the
    /// popped time plus a delivery latency, a timer period or nothing.
    #[test]
    fn steady_pop_and_push_keeps_the_order(
        seed_events in prop::collection::vec(0..30 * MS, 1..300),
        delays in prop::collection::vec(
            prop_oneof![Just(0), MS..25 * MS, Just(100 * MS), 1_000 * MS..3_000 * MS],
            1..3_000,
        )
    ) {
        let mut pair = Pair::new();
        seed_events.iter().for_each(|&delay| pair.push(delay));
        for (step, &delay) in delays.iter().enumerate() {
            pair.pop()?;
            pair.push(delay);
            if step % 3 == 0 {
                pair.push(delay);
            }
        }
        pair.drain()?;
    }
}
