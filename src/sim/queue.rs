//! The event queue: a binary min-heap of (time, insertion sequence) keys over a
//! slab of payloads. Two events at the same instant always pop in the order they
//! were pushed, so the order of a run never depends on heap internals.
//!
//! Payloads live in the slab and only 16-byte keys move during sift operations;
//! freed slots are reused, so memory follows the number of *pending* events,
//! never the number of events a run has processed.
//!
//! A key packs the time (64 bits), the insertion sequence (40 bits) and the
//! slab slot (24 bits) into one `u128`, so ordering keys is ordering integers:
//! by time, then by sequence (unique, so the slot never decides anything).

use super::time::SimTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const SLOT_BITS: u32 = 24;
const SEQUENCE_BITS: u32 = 40;
/// The most events that can be pending at once (slots are 24 bits).
pub const PENDING_LIMIT: usize = 1 << SLOT_BITS;
/// The most events a queue can ever take (sequences are 40 bits).
const SEQUENCE_LIMIT: u64 = 1 << SEQUENCE_BITS;

fn key(time: SimTime, sequence: u64, slot: u32) -> u128 {
    (u128::from(time.as_nanos()) << 64) | u128::from(sequence << SLOT_BITS | u64::from(slot))
}

fn key_time(key: u128) -> SimTime {
    SimTime::from_nanos((key >> 64) as u64)
}

fn key_slot(key: u128) -> usize {
    (key as u64 & ((1 << SLOT_BITS) - 1)) as usize
}

pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<u128>>,
    slots: Vec<Option<E>>,
    slots_free: Vec<u32>,
    sequence_next: u64,
    pending_max: usize,
    pending_high_water: usize,
    overflowed: bool,
}

impl<E> EventQueue<E> {
    /// A queue that holds at most `pending_max` events at once; pushing more is
    /// an engine invariant violation (a runaway protocol or a bug), not a slowdown.
    pub fn new(pending_max: usize) -> Self {
        assert!(
            pending_max <= PENDING_LIMIT,
            "pending_max {pending_max} exceeds the queue's limit of {PENDING_LIMIT}"
        );
        EventQueue {
            heap: BinaryHeap::with_capacity(256),
            slots: Vec::with_capacity(256),
            slots_free: Vec::with_capacity(256),
            sequence_next: 0,
            pending_max,
            pending_high_water: 0,
            overflowed: false,
        }
    }

    /// Adds an event, unless `pending_max` events are pending already: then
    /// the event is dropped and the queue marked as overflowed, which the
    /// run loop checks after every event (a run that needs more pending
    /// events than the scenario allows stops with an error, not a crash).
    pub fn push(&mut self, time: SimTime, event: E) {
        if self.heap.len() >= self.pending_max {
            self.overflowed = true;
            return;
        }
        let slot = match self.slots_free.pop() {
            Some(slot) => {
                debug_assert!(self.slots[slot as usize].is_none());
                self.slots[slot as usize] = Some(event);
                slot
            }
            None => {
                self.slots.push(Some(event));
                // Below PENDING_LIMIT: the slab never holds more than pending_max.
                (self.slots.len() - 1) as u32
            }
        };
        let sequence = self.sequence_next;
        assert!(
            sequence < SEQUENCE_LIMIT,
            "event queue took {SEQUENCE_LIMIT} events"
        );
        self.sequence_next += 1;
        self.heap.push(Reverse(key(time, sequence, slot)));
        self.pending_high_water = self.pending_high_water.max(self.heap.len());
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse(key)| key_time(*key))
    }

    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let Reverse(key) = self.heap.pop()?;
        let slot = key_slot(key);
        let event = self.slots[slot].take().expect("queued slot is occupied");
        self.slots_free.push(slot as u32);
        Some((key_time(key), event))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Whether a push found `pending_max` events pending (and was dropped).
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// The most events that were ever pending at once.
    pub fn pending_high_water(&self) -> usize {
        self.pending_high_water
    }

    /// Every pending event, in no particular order (for end-of-run accounting).
    pub fn pending(&self) -> impl Iterator<Item = &E> {
        self.slots.iter().filter_map(Option::as_ref)
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
                let (time, popped) = queue.pop().unwrap();
                assert_eq!((time.as_nanos(), popped), expected);
                now = time.as_nanos();
            }
        }
    }

    #[test]
    fn slots_are_reused() {
        let mut queue = EventQueue::new(100);
        for round in 0..1000u64 {
            queue.push(SimTime::from_nanos(round), round);
            queue.push(SimTime::from_nanos(round), round);
            queue.pop();
            queue.pop();
        }
        assert!(queue.slots.len() <= 2);
        assert_eq!(queue.pending_high_water(), 2);
    }

    #[test]
    fn a_push_beyond_the_bound_is_dropped_and_marks_the_overflow() {
        let mut queue = EventQueue::new(2);
        for i in 0..3 {
            queue.push(SimTime::from_nanos(i), i);
        }
        assert!(queue.overflowed());
        assert_eq!(queue.len(), 2);
        let order: Vec<u64> = std::iter::from_fn(|| queue.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec![0, 1]);
    }
}
