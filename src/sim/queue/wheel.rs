//! The event queue for many pending events: a radix heap with 64-way
//! digits, which is a hierarchical timing wheel whose hand is the time of the
//! last pop. Time never goes backwards (every push is at or after the last
//! pop), so an event can be filed by the highest base-64 digit in which its
//! time differs from the hand's: level 0 buckets hold one nanosecond each,
//! level 1 buckets 64 ns, level 4 buckets 16.8 ms, level 10 the top four bits
//! of a `u64`. As the hand reaches a bucket its events move to lower levels,
//! never up, so an event moves at most eleven times whatever the number
//! pending, and in practice a few times; a binary heap pays log2(pending)
//! comparisons per push and per pop instead, on memory that no longer fits in
//! cache at 100,000 pending events.
//!
//! Payloads live in the buckets with their times, so popping never chases a
//! pointer into a slab (with 100,000 events pending, that one cache miss per
//! pop made a slab-backed wheel 1.5x slower than this one). Only non-empty
//! buckets own a buffer: a bucket is an index into a short list of buffers,
//! and an emptied bucket's buffer goes to the next bucket that fills. A
//! buffer holds its first event in place and only further ones in a `Vec`,
//! so the many buckets that only ever hold one event allocate nothing.
//! Memory follows the number of *pending* events: a buffer keeps its `Vec`'s
//! capacity when emptied only while it is small (see `BUFFER_KEPT_BYTES`),
//! so a long run needs no more than a short one.

use std::collections::VecDeque;

/// Bits of the time per level: 64 buckets, so one `u64` marks the occupied ones.
const DIGIT_BITS: u32 = 6;
const DIGITS: usize = 1 << DIGIT_BITS;
/// Levels enough for every bit of a `u64` time (11 × 6 ≥ 64).
const LEVELS: usize = (u64::BITS as usize).div_ceil(DIGIT_BITS as usize);
const BUCKETS: usize = LEVELS * DIGITS;
/// An emptied buffer keeps its capacity up to this size, so buckets that fill
/// and empty constantly do not allocate each time, while the few large
/// buffers of the upper levels are freed as soon as they are emptied.
const BUFFER_KEPT_BYTES: usize = 4096;
/// The buffer index of a bucket that holds no events.
const BUFFER_NONE: u16 = u16::MAX;
const _: () = assert!(
    BUCKETS + 1 < BUFFER_NONE as usize,
    "buffer indices fit in u16"
);

/// One pending event and when it is due, in nanoseconds.
struct Entry<E> {
    time: u64,
    event: E,
}

/// The events of one bucket, in order: `first`, then `rest`.
/// `first` is `None` only while the buffer is free.
struct Buffer<E> {
    first: Option<Entry<E>>,
    rest: Vec<Entry<E>>,
    time_min: u64,
}

impl<E> Buffer<E> {
    fn entries(&self) -> impl Iterator<Item = &Entry<E>> {
        self.first.iter().chain(&self.rest)
    }
}

/// A pending event's place relative to the hand: due now, or a bucket.
enum Place {
    Due,
    Bucket { level: usize, digit: usize },
}

/// The wheel. Each push must be younger than every pending event at the same
/// time: `EventQueue` pushes in insertion order, and moves its heap's events
/// over in (time, insertion) order. It keeps no count of its events;
/// `EventQueue` does.
pub(super) struct Wheel<E> {
    /// The events at `time_base`, in insertion order.
    due: VecDeque<Entry<E>>,
    /// Bucket `level * DIGITS + digit` holds the events whose time first
    /// differs from `time_base` in digit `level` (counting from the least
    /// significant), with `digit` there, and those at the same time in
    /// insertion order. A lower level is
    /// always earlier than a higher one, and within a level a lower digit is
    /// earlier, so the first non-empty bucket holds the earliest event. Each
    /// entry is the index of the bucket's buffer, `BUFFER_NONE` while empty.
    buckets: [u16; BUCKETS],
    /// The buffers of the non-empty buckets, and free ones listed in
    /// `buffers_free`: never more than buckets were ever non-empty at once.
    buffers: Vec<Buffer<E>>,
    buffers_free: Vec<u16>,
    /// Per level, bit `digit` is set while that bucket holds events.
    digits_occupied: [u64; LEVELS],
    /// Bit `level` is set while any bucket of that level holds events.
    levels_occupied: u16,
    /// The hand: no event is pending before it, and none may be pushed
    /// before it (the caller's last pop, or where the wheel started).
    time_base: u64,
}

impl<E> Wheel<E> {
    /// An empty wheel whose hand is at `time_base`.
    pub(super) fn new(time_base: u64) -> Self {
        Wheel {
            due: VecDeque::new(),
            buckets: [BUFFER_NONE; BUCKETS],
            buffers: Vec::new(),
            buffers_free: Vec::new(),
            digits_occupied: [0; LEVELS],
            levels_occupied: 0,
            time_base,
        }
    }

    /// Queues `event` at `time`, which is not before the hand.
    pub(super) fn push(&mut self, time: u64, event: E) {
        debug_assert!(time >= self.time_base, "pushed before the hand");
        self.file(Entry { time, event });
    }

    /// The time of the earliest event, if any.
    pub(super) fn peek_time(&self) -> Option<u64> {
        if !self.due.is_empty() {
            return Some(self.time_base);
        }
        let buffer = self.buckets[self.first_bucket()?];
        Some(self.buffers[usize::from(buffer)].time_min)
    }

    /// The earliest event, and the first pushed of those at its time.
    pub(super) fn pop(&mut self) -> Option<(u64, E)> {
        let entry = match self.due.pop_front() {
            Some(entry) => entry,
            None => self.advance()?,
        };
        Some((entry.time, entry.event))
    }

    /// Every event, in no particular order.
    pub(super) fn pending(&self) -> impl Iterator<Item = &E> {
        let buffered = self.buffers.iter().flat_map(Buffer::entries);
        self.due.iter().chain(buffered).map(|entry| &entry.event)
    }

    /// Where an event at `time` belongs relative to the hand.
    fn place(&self, time: u64) -> Place {
        let differ = time ^ self.time_base;
        if differ == 0 {
            return Place::Due;
        }
        let level = ((u64::BITS - 1 - differ.leading_zeros()) / DIGIT_BITS) as usize;
        let digit = (time >> (level as u32 * DIGIT_BITS)) as usize & (DIGITS - 1);
        Place::Bucket { level, digit }
    }

    /// Files an entry at its place. Filing appends, so a bucket keeps events
    /// at the same time in insertion order as long as each entry it receives
    /// is younger than those it holds at that time (see `spread` for why that
    /// holds). Inlined into both callers: it is the wheel's inner loop.
    #[inline(always)]
    fn file(&mut self, entry: Entry<E>) {
        let (level, digit) = match self.place(entry.time) {
            Place::Due => return self.due.push_back(entry),
            Place::Bucket { level, digit } => (level, digit),
        };
        let index = level * DIGITS + digit;
        if self.buckets[index] != BUFFER_NONE {
            let buffer = &mut self.buffers[usize::from(self.buckets[index])];
            buffer.time_min = buffer.time_min.min(entry.time);
            return buffer.rest.push(entry);
        }
        self.digits_occupied[level] |= 1 << digit;
        self.levels_occupied |= 1 << level;
        self.buckets[index] = self.buffer_free();
        let buffer = &mut self.buffers[usize::from(self.buckets[index])];
        buffer.time_min = entry.time;
        buffer.first = Some(entry);
    }

    /// The index of a free buffer, for a bucket that starts filling.
    fn buffer_free(&mut self) -> u16 {
        self.buffers_free.pop().unwrap_or_else(|| {
            self.buffers.push(Buffer {
                first: None,
                rest: Vec::new(),
                time_min: 0,
            });
            // At most one buffer per bucket plus the one being spread, and
            // BUCKETS + 1 < BUFFER_NONE.
            (self.buffers.len() - 1) as u16
        })
    }

    /// The index of the first non-empty bucket (the one with the earliest event).
    fn first_bucket(&self) -> Option<usize> {
        if self.levels_occupied == 0 {
            return None;
        }
        let level = self.levels_occupied.trailing_zeros() as usize;
        let digit = self.digits_occupied[level].trailing_zeros() as usize;
        Some(level * DIGITS + digit)
    }

    /// With nothing due, moves the hand to the earliest pending time and
    /// takes the first bucket's events; returns the first of them.
    fn advance(&mut self) -> Option<Entry<E>> {
        let index = self.first_bucket()?;
        let (level, digit) = (index / DIGITS, index % DIGITS);
        self.digits_occupied[level] &= !(1 << digit);
        if self.digits_occupied[level] == 0 {
            self.levels_occupied &= !(1 << level);
        }
        let buffer = std::mem::replace(&mut self.buckets[index], BUFFER_NONE);
        let taken = &mut self.buffers[usize::from(buffer)];
        self.time_base = taken.time_min;
        let first = taken
            .first
            .take()
            .expect("a non-empty bucket has a first event");
        let first = if taken.rest.is_empty() {
            // The usual case with few events pending: nothing to spread.
            first
        } else {
            self.spread(usize::from(buffer), first);
            self.due.pop_front().expect("the earliest event is due")
        };
        // Only now: spreading must not file into the buffer it empties.
        self.buffers_free.push(buffer);
        Some(first)
    }

    /// Files the events of the bucket just taken, `first` and the rest of
    /// its buffer, into `due` and the levels below the bucket's.
    ///
    /// They all share their digits from the bucket's level up with the new
    /// hand, so each lands lower; everything lower is empty (the bucket was
    /// the first non-empty one), so each receiving bucket gets its events in
    /// the order this bucket had them, and afterwards only pushes, which are
    /// younger than everything pending at their time. Events at the same time
    /// thus stay in insertion order in every bucket, and pop from `due` so.
    fn spread(&mut self, buffer: usize, first: Entry<E>) {
        let mut rest = std::mem::take(&mut self.buffers[buffer].rest);
        self.file(first);
        for entry in rest.drain(..) {
            self.file(entry);
        }
        if rest.capacity() * size_of::<Entry<E>>() <= BUFFER_KEPT_BYTES {
            self.buffers[buffer].rest = rest;
        }
    }

    /// The entries the queue has room for without allocating.
    #[cfg(test)]
    fn capacity(&self) -> usize {
        let buffered = self.buffers.iter().map(|buffer| 1 + buffer.rest.capacity());
        self.due.capacity() + buffered.sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_follows_pending_events_not_events_processed() {
        let mut wheel = Wheel::new(0);
        // Two pending at a time, spread so that rounds use many buckets.
        for round in 0..100_000u64 {
            let time = round * 1_000_003;
            wheel.push(time, round);
            wheel.push(time + round % 5_000, round);
            wheel.pop();
            wheel.pop();
        }
        assert_eq!(wheel.pop(), None);
        // At most a small buffer per bucket, not one entry per event.
        assert!(
            wheel.capacity() <= 4 * (BUCKETS + 1),
            "{}",
            wheel.capacity()
        );
    }

    #[test]
    fn far_future_and_the_end_of_time_pop_in_order() {
        let mut wheel = Wheel::new(0);
        let day = 86_400_000_000_000;
        for (label, time) in [u64::MAX, day, 3, u64::MAX, day, 0].into_iter().enumerate() {
            wheel.push(time, label);
        }
        let order: Vec<usize> = std::iter::from_fn(|| wheel.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec![5, 2, 1, 4, 0, 3]);
        assert_eq!(wheel.peek_time(), None);
    }
}
