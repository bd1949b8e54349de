//! The event queue. Events pop in (time, insertion) order: two events at the
//! same instant always pop in the order they were pushed, so the order of a
//! run never depends on the queue's internals.
//!
//! No one structure is fastest at every size, so a queue starts as a binary
//! heap (`heap.rs`) and moves to a timing wheel (`wheel.rs`) the first time
//! more than `HEAP_PENDING_MAX` events are pending. A heap pays log2(pending)
//! unpredictable comparisons per pop, which is nothing at the few dozen
//! pending events of a small cluster's run; the wheel costs a handful of moves per event however
//! many are pending, which wins from a few hundred on: on the 1,000-node
//! benchmark (100,000 pending) the whole engine runs 1.7 times as
//! fast, on the 50-node one (300 pending) 1.15 times. A queue never moves
//! back: a run that once had that many events pending usually will again, and
//! the wheel's memory follows pending events as the heap's does.

mod heap;
mod wheel;

use super::time::SimTime;
use heap::Heap;
use wheel::Wheel;

/// The most events that may be pending at once. The structures themselves
/// have no such limit; the bound is kept from the slab-based queue (24-bit
/// slot numbers) so that every `pending_max` accepted before is accepted now.
pub const PENDING_LIMIT: usize = 1 << 24;
/// The most events the heap holds; the push that would exceed it moves every
/// event to the wheel.
const HEAP_PENDING_MAX: usize = 128;
const _: () = assert!(HEAP_PENDING_MAX <= heap::SLOT_LIMIT);

enum Store<E> {
    Heap(Heap<E>),
    /// Boxed: its bucket table would make every small queue 1.6 KB larger.
    Wheel(Box<Wheel<E>>),
}

/// The engine's pending events, popped in (time, insertion sequence) order.
pub struct EventQueue<E> {
    store: Store<E>,
    /// The time of the last pop (zero before the first): no push may be
    /// earlier, which is what lets the wheel file events by their distance.
    time_last_pop: u64,
    len: usize,
    /// Below this many pending events a push needs no check beyond this one:
    /// the smaller of `pending_max` and, on the heap, `HEAP_PENDING_MAX`.
    len_unchecked_max: usize,
    pending_max: usize,
    pending_high_water: usize,
    /// Set when a push found `pending_max` events pending (and was dropped).
    overflowed: bool,
}

impl<E> EventQueue<E> {
    /// A queue that holds at most `pending_max` events at once. A push
    /// beyond that is dropped and marks the queue as overflowed, which the
    /// run loop checks after every event: a run that needs more pending
    /// events than its scenario allows stops with an error, not a crash.
    pub fn new(pending_max: usize) -> Self {
        assert!(
            pending_max <= PENDING_LIMIT,
            "pending_max {pending_max} exceeds the queue's limit of {PENDING_LIMIT}"
        );
        EventQueue {
            store: Store::Heap(Heap::with_capacity(HEAP_PENDING_MAX)),
            time_last_pop: 0,
            len: 0,
            len_unchecked_max: pending_max.min(HEAP_PENDING_MAX),
            pending_max,
            pending_high_water: 0,
            overflowed: false,
        }
    }

    /// Queues `event` at `time`, which must not be before the last pop's time
    /// (the run loop never schedules into the past).
    pub fn push(&mut self, time: SimTime, event: E) {
        if self.len == self.len_unchecked_max && !self.make_room() {
            return;
        }
        let time = time.as_nanos();
        assert!(
            time >= self.time_last_pop,
            "event pushed at {time}ns, before the last pop at {}ns",
            self.time_last_pop
        );
        match &mut self.store {
            Store::Heap(heap) => heap.push(time, event),
            Store::Wheel(wheel) => wheel.push(time, event),
        }
        self.len += 1;
        self.pending_high_water = self.pending_high_water.max(self.len);
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        let time = match &self.store {
            Store::Heap(heap) => heap.peek_time(),
            Store::Wheel(wheel) => wheel.peek_time(),
        };
        time.map(SimTime::from_nanos)
    }

    /// Always inlined, like the heap's pop: otherwise the payload is copied
    /// once more on its way out, 2% of a small run's instructions.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let (time, event) = match &mut self.store {
            Store::Heap(heap) => heap.pop(),
            Store::Wheel(wheel) => wheel.pop(),
        }?;
        self.time_last_pop = time;
        self.len -= 1;
        Some((SimTime::from_nanos(time), event))
    }

    /// How many events are pending.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most events that were ever pending at once.
    pub fn pending_high_water(&self) -> usize {
        self.pending_high_water
    }

    /// Every pending event, in no particular order (for end-of-run accounting).
    pub fn pending(&self) -> impl Iterator<Item = &E> {
        let (heap, wheel) = match &self.store {
            Store::Heap(heap) => (Some(heap.pending()), None),
            Store::Wheel(wheel) => (None, Some(wheel.pending())),
        };
        heap.into_iter()
            .flatten()
            .chain(wheel.into_iter().flatten())
    }

    /// Before a push that the fast path does not cover: enforces the bound
    /// (false: the push is dropped), and moves a full heap's events to the
    /// wheel.
    #[cold]
    fn make_room(&mut self) -> bool {
        if self.len >= self.pending_max {
            self.overflowed = true;
            return false;
        }
        if let Store::Heap(heap) = &mut self.store {
            self.store = Store::Wheel(Self::wheel_from(heap, self.time_last_pop));
        }
        self.len_unchecked_max = self.pending_max;
        true
    }

    /// Whether a push found `pending_max` events pending (and was dropped).
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// A wheel with the heap's events, its hand at the last pop. They go in
    /// (time, insertion) order, so events at the same time enter the wheel in
    /// insertion order, as the wheel requires.
    fn wheel_from(heap: &mut Heap<E>, time_last_pop: u64) -> Box<Wheel<E>> {
        let mut wheel = Box::new(Wheel::new(time_last_pop));
        while let Some((time, event)) = heap.pop() {
            wheel.push(time, event);
        }
        wheel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_instant_pops_in_insertion_order() {
        let mut queue = EventQueue::new(100);
        for label in 0..10 {
            queue.push(SimTime::from_nanos(5), label);
        }
        queue.push(SimTime::from_nanos(1), 99);
        let order: Vec<i32> = std::iter::from_fn(|| queue.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec![99, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }

    #[test]
    fn matches_a_sorted_reference_under_interleaved_pushes_and_pops() {
        let mut queue = EventQueue::new(10_000);
        let mut reference: Vec<(u64, u64)> = Vec::new();
        let mut state = 12345u64;
        let mut now = 0u64;
        let mut label = 0u64;
        for step in 0..20_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if step % 3 != 2 || reference.is_empty() {
                // Many ties (a coarse grid of times), sometimes far ahead.
                let spread = if step % 7 == 0 { 5_000 } else { 10 };
                let time = now + (state >> 33) % spread;
                queue.push(SimTime::from_nanos(time), label);
                reference.push((time, label));
                label += 1;
            } else {
                reference.sort_unstable();
                let expected = reference.remove(0);
                assert_eq!(queue.peek_time(), Some(SimTime::from_nanos(expected.0)));
                let (time, popped) = queue.pop().unwrap();
                assert_eq!((time.as_nanos(), popped), expected);
                now = time.as_nanos();
            }
        }
    }

    #[test]
    fn moving_to_the_wheel_keeps_ties_in_insertion_order() {
        let mut queue = EventQueue::new(1_000);
        // Interleave two instants so that each one's events are not
        // contiguous in push order, then push past the heap's size.
        for label in 0..=HEAP_PENDING_MAX as u64 {
            queue.push(SimTime::from_nanos(1_000 + label % 2), label);
        }
        assert!(matches!(queue.store, Store::Wheel(_)));
        let order: Vec<u64> = std::iter::from_fn(|| queue.pop().map(|(_, e)| e)).collect();
        let evens = (0..=HEAP_PENDING_MAX as u64).filter(|l| l % 2 == 0);
        let odds = (0..=HEAP_PENDING_MAX as u64).filter(|l| l % 2 == 1);
        assert_eq!(order, evens.chain(odds).collect::<Vec<_>>());
    }

    #[test]
    fn a_small_run_stays_on_the_heap() {
        let mut queue = EventQueue::new(1_000);
        for round in 0..10_000u64 {
            for _ in 0..HEAP_PENDING_MAX / 2 {
                queue.push(SimTime::from_nanos(round * 1_000), round);
            }
            while queue.pop().is_some() {}
        }
        assert!(matches!(queue.store, Store::Heap(_)));
        assert_eq!(queue.pending_high_water(), HEAP_PENDING_MAX / 2);
    }

    #[test]
    fn pending_lists_every_queued_event_before_and_after_the_move() {
        let mut queue = EventQueue::new(1_000);
        for count in [20u64, 300] {
            for label in 0..count {
                let time = count * 1_000_000_000 + label * label * 1_000;
                queue.push(SimTime::from_nanos(time), label);
            }
            queue.pop();
            let mut pending: Vec<u64> = queue.pending().copied().collect();
            pending.sort_unstable();
            assert_eq!(pending, (1..count).collect::<Vec<_>>());
            assert_eq!(queue.len(), count as usize - 1);
            while queue.pop().is_some() {}
        }
    }

    #[test]
    fn a_push_beyond_the_bound_is_dropped_and_marks_the_overflow() {
        let mut queue = EventQueue::new(2);
        for i in 0..3u64 {
            queue.push(SimTime::from_nanos(i), i);
        }
        assert!(queue.overflowed());
        assert_eq!(queue.len(), 2);
        let order: Vec<u64> = std::iter::from_fn(|| queue.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec![0, 1]);
    }

    #[test]
    #[should_panic(expected = "before the last pop")]
    fn pushing_into_the_past_is_an_invariant_violation() {
        let mut queue = EventQueue::new(10);
        queue.push(SimTime::from_nanos(10), 0);
        queue.pop();
        queue.push(SimTime::from_nanos(9), 1);
    }
}
