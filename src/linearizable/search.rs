//! The Wing–Gong search with Lowe's memoisation, over one key's operations.
//!
//! The `ok` operations' invocations ("calls") and completions ("returns")
//! are laid out in one doubly linked list in time order, calls before
//! returns at equal times. The `info` operations' calls are in a second
//! list, in invocation order: an `info` operation may take effect at any time
//! after its invocation or not at all, so it has no return (Knossos moves it
//! to the end of time; here it simply never blocks). A configuration is the
//! set of operations linearized so far and the state they lead to. From the
//! current one, the search scans:
//!
//! - the first list from the front, trying each call until the first return:
//!   if the model accepts the operation in the current state and the
//!   configuration it leads to is new, the search pushes the operation on a
//!   stack, *lifts* its call and return out of the list and starts again
//!   from the front;
//! - at that return (an operation that completed and is not linearized, so
//!   nothing invoked after it may go first), the `info` calls invoked no
//!   later than it, in the same way;
//! - when those are exhausted too, it is at a dead end: it pops the last
//!   operation, puts its entries back (*unlifts* it: the dancing-links trick,
//!   since entries come back in the reverse order they left) and goes on
//!   with the candidate after it.
//!
//! The history is linearizable when every `ok` operation has been lifted,
//! and not linearizable when a dead end leaves nothing to pop. Explored
//! configurations are remembered, so each is explored once (Lowe 2017;
//! Porcupine's cache of (bitset, state) pairs).
//!
//! Two refinements keep `info` operations from multiplying the work, since
//! each one is optional and stays a candidate forever:
//!
//! - `ok` candidates are tried before `info` ones, so an `info` operation is
//!   only linearized where no `ok` one can go on.
//! - Dominance: an operation `x` is not linearized right after an `info`
//!   operation `i` if `x` reaches the same state without `i`. The
//!   configuration without `i` linearizes the same `ok` operations into the
//!   same state with fewer optional ones, so whatever can follow the first
//!   can follow it; and `x` is a candidate right before `i` too, so that
//!   configuration is explored (or dominated in turn, by one with fewer
//!   `info` operations still).
//!
//! A configuration's set of linearized operations is stored compactly: with
//! operations numbered in invocation order, it is "every operation below the
//! frontier except these holes". The holes are the pending operations (at
//! most one per process, plus the `info` operations left out so far), so an
//! entry stays small however long the history is.

use super::model::Model;
use super::report::BudgetExhausted;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// Every list's first node, before its entries.
const HEAD: u32 = 0;

/// How a search ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every `ok` operation was linearized, in this order (the `info`
    /// operations that took effect are among them).
    Linearizable(Vec<u32>),
    /// Every order was tried; the deepest dead end linearized this many `ok`
    /// operations.
    NotLinearizable { depth_max: usize },
    /// The budget ran out first.
    Unknown(BudgetExhausted),
    /// The search reached a dead end with the requested depth and stopped
    /// there so that it can be described; the operation is the one whose
    /// return was reached.
    Stuck { blocking: u32 },
}

/// One key's operations as the search sees them, numbered in invocation
/// order.
pub(crate) struct Operations<'a, C> {
    /// What each operation called.
    pub calls: Vec<&'a C>,
    /// Whether each completed `ok` (otherwise `info`).
    pub ok: Vec<bool>,
    /// Each one's invocation and completion times.
    pub times: Vec<(u64, u64)>,
}

/// A doubly linked list over nodes `0..=len + 1` held in arrays: node 0 is
/// the head, the last node the tail.
struct Links {
    next: Vec<u32>,
    prev: Vec<u32>,
}

impl Links {
    fn new(entries: usize) -> Self {
        let nodes = entries as u32 + 2;
        Self {
            next: (1..=nodes).collect(),
            prev: (0..nodes).map(|n| n.saturating_sub(1)).collect(),
        }
    }

    fn first(&self) -> u32 {
        self.next[HEAD as usize]
    }

    fn next(&self, node: u32) -> u32 {
        self.next[node as usize]
    }

    fn tail(&self) -> u32 {
        self.next.len() as u32 - 1
    }

    fn unlink(&mut self, node: u32) {
        let (before, after) = (self.prev[node as usize], self.next[node as usize]);
        self.next[before as usize] = after;
        self.prev[after as usize] = before;
    }

    /// Undoes [`Links::unlink`]; valid when nodes come back in the reverse
    /// order they left.
    fn relink(&mut self, node: u32) {
        let (before, after) = (self.prev[node as usize], self.next[node as usize]);
        self.next[before as usize] = node;
        self.prev[after as usize] = node;
    }
}

/// The two lists: `ok` calls and returns in time order, and `info` calls in
/// invocation order.
struct Layout {
    entries: Links,
    /// For each node of `entries`: its operation, whether it is a call, and
    /// its time (unused for the head and tail).
    entry_operation: Vec<u32>,
    entry_is_call: Vec<bool>,
    entry_time: Vec<u64>,
    infos: Links,
    /// For each node of `infos`: its operation.
    info_operation: Vec<u32>,
    /// For each operation: its call's node (in `entries` if `ok`, in
    /// `infos` if not) and its return's node (`ok` only).
    node_call: Vec<u32>,
    node_return: Vec<u32>,
}

impl Layout {
    /// Ties keep calls before returns, and then operation order, so that
    /// touching intervals count as concurrent and the layout is
    /// deterministic.
    fn new<C>(operations: &Operations<'_, C>) -> Self {
        let count = operations.ok.len();
        let mut entries: Vec<(u64, bool, u32)> = Vec::with_capacity(2 * count);
        let mut infos: Vec<u32> = Vec::new();
        for (index, (&(time_invoke, time_complete), &ok)) in
            operations.times.iter().zip(&operations.ok).enumerate()
        {
            let index = index as u32;
            if ok {
                entries.push((time_invoke, false, index));
                entries.push((time_complete, true, index));
            } else {
                infos.push(index);
            }
        }
        entries.sort_unstable();
        let mut layout = Self {
            entries: Links::new(entries.len()),
            entry_operation: vec![0; entries.len() + 2],
            entry_is_call: vec![false; entries.len() + 2],
            entry_time: vec![0; entries.len() + 2],
            infos: Links::new(infos.len()),
            info_operation: vec![0; infos.len() + 2],
            node_call: vec![0; count],
            node_return: vec![0; count],
        };
        for (position, &(time, is_return, index)) in entries.iter().enumerate() {
            layout.place_entry(position as u32 + 1, time, is_return, index);
        }
        for (position, &index) in infos.iter().enumerate() {
            layout.info_operation[position + 1] = index;
            layout.node_call[index as usize] = position as u32 + 1;
        }
        layout
    }

    fn place_entry(&mut self, node: u32, time: u64, is_return: bool, operation: u32) {
        self.entry_operation[node as usize] = operation;
        self.entry_is_call[node as usize] = !is_return;
        self.entry_time[node as usize] = time;
        if is_return {
            self.node_return[operation as usize] = node;
        } else {
            self.node_call[operation as usize] = node;
        }
    }

    fn lift(&mut self, operation: u32, ok: bool) {
        if ok {
            self.entries.unlink(self.node_call[operation as usize]);
            self.entries.unlink(self.node_return[operation as usize]);
        } else {
            self.infos.unlink(self.node_call[operation as usize]);
        }
    }

    /// Undoes [`Layout::lift`]; operations are unlifted in the reverse order
    /// they were lifted.
    fn unlift(&mut self, operation: u32, ok: bool) {
        if ok {
            self.entries.relink(self.node_return[operation as usize]);
            self.entries.relink(self.node_call[operation as usize]);
        } else {
            self.infos.relink(self.node_call[operation as usize]);
        }
    }
}

/// Where the scan is: at a node of the `ok` list, or at a node of the `info`
/// list with the first return (whose time bounds the `info` candidates).
#[derive(Clone, Copy)]
enum Cursor {
    Entry(u32),
    Info { node: u32, first_return: u32 },
}

/// A configuration already explored: the linearized operations (every one
/// below `frontier` except `holes`) and the state they lead to.
#[derive(PartialEq, Eq)]
struct MemoEntry<S> {
    hash: u64,
    frontier: u32,
    holes: Box<[u32]>,
    state: S,
}

impl<S: Hash> MemoEntry<S> {
    fn new(frontier: u32, holes: Box<[u32]>, state: S) -> Self {
        // SipHash with fixed keys: only lookups use it, so its values never
        // reach the output either way.
        let mut hasher = std::hash::DefaultHasher::new();
        frontier.hash(&mut hasher);
        holes.hash(&mut hasher);
        state.hash(&mut hasher);
        Self {
            hash: hasher.finish(),
            frontier,
            holes,
            state,
        }
    }

    fn bytes(&self) -> usize {
        // The table's own overhead is about one control byte and an eighth
        // of a slot per entry; 16 bytes covers it.
        std::mem::size_of::<Self>() + 4 * self.holes.len() + 16
    }
}

impl<S> Hash for MemoEntry<S> {
    fn hash<H: Hasher>(&self, hasher: &mut H) {
        hasher.write_u64(self.hash);
    }
}

/// Hands the precomputed hash of a [`MemoEntry`] to the table as it is.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// One linearized operation on the stack, with what to restore on
/// backtrack and where to go on from.
struct Frame<S> {
    operation: u32,
    state_before: S,
    frontier_before: u32,
    cursor: Cursor,
}

/// The limits of one search.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub steps_max: u64,
    pub memo_bytes_max: usize,
}

/// A search over one key's operations, with its position kept between
/// calls so that a stopped search can be described.
pub(crate) struct Search<'m, 'a, M: Model> {
    model: &'m M,
    operations: &'a Operations<'a, M::Call>,
    limits: Limits,
    layout: Layout,
    stack: Vec<Frame<M::State>>,
    state: M::State,
    frontier: u32,
    ok_remaining: usize,
    memo: HashSet<MemoEntry<M::State>, BuildHasherDefault<PassThrough>>,
    memo_bytes: usize,
    steps: u64,
    holes_scratch: Vec<u32>,
}

impl<'m, 'a, M: Model> Search<'m, 'a, M> {
    pub fn new(model: &'m M, operations: &'a Operations<'a, M::Call>, limits: Limits) -> Self {
        Self {
            model,
            operations,
            limits,
            layout: Layout::new(operations),
            stack: Vec::new(),
            state: model.init(),
            frontier: 0,
            ok_remaining: operations.ok.iter().filter(|&&ok| ok).count(),
            // Most searches remember about one configuration per operation.
            memo: HashSet::with_capacity_and_hasher(
                operations.ok.len().min(1 << 16),
                Default::default(),
            ),
            memo_bytes: 0,
            steps: 0,
            holes_scratch: Vec::new(),
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Configurations remembered so far.
    pub fn memo_entries(&self) -> usize {
        self.memo.len()
    }

    /// Searches until an answer, or until the budget runs out. With
    /// `stop_at_depth`, it also stops at the first dead end where that many
    /// `ok` operations are linearized.
    pub fn run(&mut self, stop_at_depth: Option<usize>) -> Outcome {
        let ok_total = self.ok_remaining;
        let mut depth_max = 0;
        let mut cursor = Cursor::Entry(self.layout.entries.first());
        loop {
            if self.ok_remaining == 0 {
                return Outcome::Linearizable(self.stack.iter().map(|f| f.operation).collect());
            }
            if self.steps >= self.limits.steps_max {
                return Outcome::Unknown(BudgetExhausted::Steps);
            }
            self.steps += 1;
            if let Some(next) = self.advance(cursor) {
                cursor = next;
                if self.memo_bytes > self.limits.memo_bytes_max {
                    return Outcome::Unknown(BudgetExhausted::Memo);
                }
                continue;
            }
            // A dead end: neither an `ok` nor an `info` candidate can go on.
            let Cursor::Info { first_return, .. } = cursor else {
                unreachable!("dead ends are met in the info list");
            };
            let depth = ok_total - self.ok_remaining;
            if stop_at_depth == Some(depth) {
                let blocking = self.layout.entry_operation[first_return as usize];
                return Outcome::Stuck { blocking };
            }
            depth_max = depth_max.max(depth);
            match self.backtrack() {
                Some(resume) => cursor = resume,
                None => return Outcome::NotLinearizable { depth_max },
            }
        }
    }

    /// Looks at the candidate under `cursor`; returns where to look next, or
    /// `None` at a dead end.
    fn advance(&mut self, cursor: Cursor) -> Option<Cursor> {
        let layout = &self.layout;
        match cursor {
            Cursor::Entry(node) if layout.entry_is_call[node as usize] => {
                let operation = layout.entry_operation[node as usize];
                let next = Cursor::Entry(layout.entries.next(node));
                Some(self.try_linearize(operation, cursor).unwrap_or(next))
            }
            // A return: an operation that completed is still not linearized
            // (the tail is never reached while `ok` operations remain: their
            // returns come before it). Now the `info` candidates.
            Cursor::Entry(node) => Some(Cursor::Info {
                node: layout.infos.first(),
                first_return: node,
            }),
            Cursor::Info { node, first_return } => {
                if node == layout.infos.tail() {
                    return None;
                }
                let operation = layout.info_operation[node as usize];
                let time_limit = layout.entry_time[first_return as usize];
                if self.operations.times[operation as usize].0 > time_limit {
                    return None;
                }
                let next = Cursor::Info {
                    node: layout.infos.next(node),
                    first_return,
                };
                Some(self.try_linearize(operation, cursor).unwrap_or(next))
            }
        }
    }

    /// Linearizes `operation`, found at `cursor`, if the model accepts it,
    /// no configuration dominates the one it leads to, and that one is new;
    /// returns where to look next if it did.
    fn try_linearize(&mut self, operation: u32, cursor: Cursor) -> Option<Cursor> {
        let state_next = self.step(&self.state, operation)?;
        if self.dominated(operation, &state_next) {
            return None;
        }
        let frontier_next = self.frontier.max(operation + 1);
        let holes = self.holes_with(operation, frontier_next);
        let entry = MemoEntry::new(frontier_next, holes, state_next.clone());
        let bytes = entry.bytes();
        if !self.memo.insert(entry) {
            return None;
        }
        self.memo_bytes += bytes;
        let state_before = std::mem::replace(&mut self.state, state_next);
        self.stack.push(Frame {
            operation,
            state_before,
            frontier_before: self.frontier,
            cursor,
        });
        self.frontier = frontier_next;
        let ok = self.operations.ok[operation as usize];
        self.layout.lift(operation, ok);
        self.ok_remaining -= usize::from(ok);
        Some(Cursor::Entry(self.layout.entries.first()))
    }

    /// Whether linearizing `operation` into `state_next` right after the
    /// `info` operation on top of the stack is pointless, because it gives
    /// the same state without it.
    fn dominated(&self, operation: u32, state_next: &M::State) -> bool {
        let Some(top) = self.stack.last() else {
            return false;
        };
        if self.operations.ok[top.operation as usize] {
            return false;
        }
        self.step(&top.state_before, operation).as_ref() == Some(state_next)
    }

    /// The state after `operation` takes effect in `state`, if it can.
    pub fn step(&self, state: &M::State, operation: u32) -> Option<M::State> {
        let call = self.operations.calls[operation as usize];
        if self.operations.ok[operation as usize] {
            self.model.step(state, call)
        } else {
            self.model.step_info(state, call)
        }
    }

    /// The holes the linearized set will have once `operation` joins it and
    /// the frontier moves to `frontier`: every other operation still in a
    /// list and numbered below the frontier (the `ok` ones, then the `info`
    /// ones: a canonical order). Calls sit in each list in invocation order,
    /// so each walk stops at the first call at or past the frontier; the
    /// returns it passes belong to holes, so the walks are short.
    fn holes_with(&mut self, operation: u32, frontier: u32) -> Box<[u32]> {
        self.holes_scratch.clear();
        let layout = &self.layout;
        let mut node = layout.entries.first();
        while node != layout.entries.tail() {
            if layout.entry_is_call[node as usize] {
                let other = layout.entry_operation[node as usize];
                if other >= frontier {
                    break;
                }
                if other != operation {
                    self.holes_scratch.push(other);
                }
            }
            node = layout.entries.next(node);
        }
        let mut node = layout.infos.first();
        while node != layout.infos.tail() {
            let other = layout.info_operation[node as usize];
            if other >= frontier {
                break;
            }
            if other != operation {
                self.holes_scratch.push(other);
            }
            node = layout.infos.next(node);
        }
        self.holes_scratch.as_slice().into()
    }

    /// Undoes the last linearization; returns where to go on from (the
    /// candidate after it), or `None` if nothing is linearized.
    fn backtrack(&mut self) -> Option<Cursor> {
        let frame = self.stack.pop()?;
        let ok = self.operations.ok[frame.operation as usize];
        self.layout.unlift(frame.operation, ok);
        self.ok_remaining += usize::from(ok);
        self.state = frame.state_before;
        self.frontier = frame.frontier_before;
        Some(match frame.cursor {
            Cursor::Entry(node) => Cursor::Entry(self.layout.entries.next(node)),
            Cursor::Info { node, first_return } => Cursor::Info {
                node: self.layout.infos.next(node),
                first_return,
            },
        })
    }

    /// The linearized operations in order, each with the state after it.
    pub fn prefix(&self) -> Vec<(u32, M::State)> {
        let states_after = self
            .stack
            .iter()
            .skip(1)
            .map(|frame| &frame.state_before)
            .chain(std::iter::once(&self.state));
        self.stack
            .iter()
            .zip(states_after)
            .map(|(frame, state)| (frame.operation, state.clone()))
            .collect()
    }

    /// The current state.
    pub fn state(&self) -> &M::State {
        &self.state
    }

    /// The pending operations invoked before `blocking` completed: the ones
    /// that could have come next (`ok` ones in list order, then `info` ones).
    pub fn candidates(&self, blocking: u32) -> Vec<u32> {
        let layout = &self.layout;
        let node_stop = layout.node_return[blocking as usize];
        let mut candidates = Vec::new();
        let mut node = layout.entries.first();
        while node != node_stop && node != layout.entries.tail() {
            if layout.entry_is_call[node as usize] {
                candidates.push(layout.entry_operation[node as usize]);
            }
            node = layout.entries.next(node);
        }
        let time_limit = layout.entry_time[node_stop as usize];
        let mut node = layout.infos.first();
        while node != layout.infos.tail() {
            let operation = layout.info_operation[node as usize];
            if self.operations.times[operation as usize].0 > time_limit {
                break;
            }
            candidates.push(operation);
            node = layout.infos.next(node);
        }
        candidates
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linearizable::register::{Register, RegisterCall};

    /// Operations from (call, time_invoke, time_complete, ok), which must be
    /// in invocation order.
    fn operations(ops: &[(RegisterCall, u64, u64, bool)]) -> Operations<'static, RegisterCall> {
        let ops: &'static [(RegisterCall, u64, u64, bool)] = Box::leak(ops.to_vec().into());
        Operations {
            calls: ops.iter().map(|(call, ..)| call).collect(),
            ok: ops.iter().map(|&(_, _, _, ok)| ok).collect(),
            times: ops.iter().map(|&(_, i, c, _)| (i, c)).collect(),
        }
    }

    /// The `ok` list as (operation, is a call), then the `info` list.
    fn walk(layout: &Layout) -> (Vec<(u32, bool)>, Vec<u32>) {
        let mut entries = Vec::new();
        let mut node = layout.entries.first();
        while node != layout.entries.tail() {
            let n = node as usize;
            entries.push((layout.entry_operation[n], layout.entry_is_call[n]));
            node = layout.entries.next(node);
        }
        let mut infos = Vec::new();
        let mut node = layout.infos.first();
        while node != layout.infos.tail() {
            infos.push(layout.info_operation[node as usize]);
            node = layout.infos.next(node);
        }
        (entries, infos)
    }

    const LIMITS: Limits = Limits {
        steps_max: 1_000,
        memo_bytes_max: 1 << 20,
    };

    const fn w(value: i64) -> RegisterCall {
        RegisterCall::Write { value: Some(value) }
    }

    const fn r(value: Option<i64>) -> RegisterCall {
        RegisterCall::Read { value }
    }

    #[test]
    fn calls_go_before_returns_at_equal_times_and_infos_have_their_own_list() {
        // Operation 1 is an info write; operation 2 is invoked as 0 returns.
        let ops = operations(&[
            (w(1), 0, 10, true),
            (w(2), 5, 6, false),
            (r(Some(1)), 10, 20, true),
        ]);
        let layout = Layout::new(&ops);
        assert_eq!(
            walk(&layout),
            (vec![(0, true), (2, true), (0, false), (2, false)], vec![1])
        );
    }

    #[test]
    fn lift_then_unlift_in_reverse_order_restores_the_lists() {
        let ops = operations(&[
            (w(1), 0, 10, true),
            (r(Some(1)), 1, 20, true),
            (w(2), 2, 30, false),
        ]);
        let mut layout = Layout::new(&ops);
        let before = walk(&layout);
        layout.lift(1, true);
        layout.lift(2, false);
        layout.lift(0, true);
        assert_eq!(walk(&layout), (vec![], vec![]));
        layout.unlift(0, true);
        layout.unlift(2, false);
        layout.unlift(1, true);
        assert_eq!(walk(&layout), before);
    }

    #[test]
    fn holes_name_the_pending_operations_below_the_frontier() {
        // Three overlapping writes, an info write, and a late read.
        let ops = operations(&[
            (w(1), 0, 50, true),
            (w(2), 1, 50, true),
            (w(4), 2, 3, false),
            (w(3), 3, 50, true),
            (r(Some(3)), 60, 70, true),
        ]);
        let mut search = Search::new(&Register, &ops, LIMITS);
        assert_eq!(&*search.holes_with(3, 4), &[0, 1, 2]);
        assert_eq!(&*search.holes_with(1, 2), &[0]);
        assert_eq!(&*search.holes_with(0, 1), &[] as &[u32]);
        let Outcome::Linearizable(order) = search.run(None) else {
            panic!("the writes can go in the order 1, 2, 3");
        };
        assert_eq!(order.last(), Some(&4));
        assert!(!order.contains(&2), "the info write is never needed");
    }

    #[test]
    fn a_stale_read_is_a_dead_end_at_depth_one() {
        let ops = operations(&[(w(1), 0, 10, true), (r(None), 20, 30, true)]);
        let mut search = Search::new(&Register, &ops, LIMITS);
        assert_eq!(search.run(None), Outcome::NotLinearizable { depth_max: 1 });
        let mut again = Search::new(&Register, &ops, LIMITS);
        assert_eq!(again.run(Some(1)), Outcome::Stuck { blocking: 1 });
        assert_eq!(again.prefix(), vec![(0, Some(1))]);
        assert_eq!(again.candidates(1), vec![1]);
    }

    #[test]
    fn info_writes_overwritten_unseen_are_not_combined() {
        // Twelve info writes, all pending, then a read that no write explains.
        // Without dominance, each subset of them would be a configuration.
        let mut ops: Vec<_> = (0..12)
            .map(|v| (w(v + 10), v as u64, v as u64, false))
            .collect();
        ops.push((r(Some(99)), 100, 110, true));
        let ops = operations(&ops);
        let mut search = Search::new(&Register, &ops, LIMITS);
        assert_eq!(search.run(None), Outcome::NotLinearizable { depth_max: 0 });
        assert!(
            search.memo_entries() <= 12,
            "{} configurations",
            search.memo_entries()
        );
    }
}
