//! The event queue for few pending events: a binary min-heap of (time,
//! insertion sequence) keys over a slab of payloads. With a few dozen events
//! pending the heap is a few levels deep and stays in cache, and it beats the
//! wheel: replaying the queue operations of 2,000 five-node consensus runs (26 pending on
//! average) took 15 ms here and 19 ms on the wheel.
//!
//! Payloads live in the slab and only 16-byte keys move during sift
//! operations; freed slots are reused, so memory follows the number of
//! pending events. A key packs the time (64 bits), the insertion sequence (48
//! bits) and the slab slot (16 bits) into one `u128`, so ordering keys is
//! ordering integers: by time, then by sequence (unique, so the slot never
//! decides anything).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

const SLOT_BITS: u32 = 16;
/// The most events the heap may hold (slots are 16 bits).
pub(super) const SLOT_LIMIT: usize = 1 << SLOT_BITS;
/// The most events a heap can ever take (sequences are 48 bits: 100 days of
/// pushes at 30 million a second).
const SEQUENCE_LIMIT: u64 = 1 << (u128::BITS - u64::BITS - SLOT_BITS);

fn key(time: u64, sequence: u64, slot: u32) -> u128 {
    (u128::from(time) << 64) | u128::from(sequence << SLOT_BITS | u64::from(slot))
}

fn key_time(key: u128) -> u64 {
    (key >> 64) as u64
}

fn key_slot(key: u128) -> usize {
    (key as u64 & ((1 << SLOT_BITS) - 1)) as usize
}

/// The heap. It keeps no count of its events; `EventQueue` does, and moves
/// them to the wheel before the slots run out.
pub(super) struct Heap<E> {
    heap: BinaryHeap<Reverse<u128>>,
    slots: Vec<Option<E>>,
    slots_free: Vec<u32>,
    sequence_next: u64,
}

impl<E> Heap<E> {
    /// A heap with room for `capacity` events, so that it never grows.
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Heap {
            heap: BinaryHeap::with_capacity(capacity),
            slots: Vec::with_capacity(capacity),
            slots_free: Vec::with_capacity(capacity),
            sequence_next: 0,
        }
    }

    /// Always inlined, as the single heap's push was (see `EventQueue::pop`).
    #[inline(always)]
    pub(super) fn push(&mut self, time: u64, event: E) {
        let slot = match self.slots_free.pop() {
            Some(slot) => {
                debug_assert!(self.slots[slot as usize].is_none());
                self.slots[slot as usize] = Some(event);
                slot
            }
            None => {
                self.slots.push(Some(event));
                // Below SLOT_LIMIT: the caller keeps fewer events here.
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
    }

    /// The time of the earliest event, if any.
    pub(super) fn peek_time(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse(key)| key_time(*key))
    }

    /// The earliest event, and the first pushed of those at its time.
    /// Always inlined (see `EventQueue::pop`).
    #[inline(always)]
    pub(super) fn pop(&mut self) -> Option<(u64, E)> {
        let Reverse(key) = self.heap.pop()?;
        let slot = key_slot(key);
        let event = self.slots[slot].take().expect("queued slot is occupied");
        self.slots_free.push(slot as u32);
        Some((key_time(key), event))
    }

    /// Every event, in no particular order.
    pub(super) fn pending(&self) -> impl Iterator<Item = &E> {
        self.slots.iter().filter_map(Option::as_ref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused() {
        let mut heap = Heap::with_capacity(2);
        for round in 0..1000u64 {
            heap.push(round, round);
            heap.push(round, round);
            heap.pop();
            heap.pop();
        }
        assert!(heap.slots.len() <= 2);
    }
}
