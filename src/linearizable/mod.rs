//! A linearizability checker for histories of operations on independent keys,
//! in the manner of Knossos and Porcupine.
//!
//! A history is linearizable (Herlihy & Wing 1990) if its operations can be
//! put in one total order that respects real time (if `a` completed before
//! `b` was invoked, `a` comes first) and in which every operation's result
//! is the one the sequential specification gives. Linearizability is local:
//! a history is linearizable exactly when each key's sub-history is, so the
//! checker checks each key on its own (P-compositionality, Horn & Kroening
//! 2015, as Porcupine's partitions do).
//!
//! For each key, the search is Wing & Gong's (1993) with Lowe's (2017)
//! memoisation, as in Porcupine's `checker.go` and Knossos's `wgl.clj`: walk
//! the invocations and completions in time order, linearize a pending
//! operation when the specification allows it, backtrack when an operation
//! that has completed can no longer be placed, and never explore the same
//! (linearized operations, state) configuration twice. See "The search"
//! below.
//!
//! Operations complete as Jepsen's do:
//! - `ok`: it happened, with the recorded result; it must be placed.
//! - `fail`: it did not happen; it is left out.
//! - `info`: unknown (a time-out). It may have taken effect at any point
//!   after its invocation, or not at all, so it is placed only if that helps;
//!   like Knossos, the checker moves its completion to the end of time. An
//!   invocation with no completion counts as `info`.
//!
//! The search is exponential in the worst case (the problem is NP-complete,
//! Gibbons & Korach 1997), so it runs under a [`Budget`]: a key whose budget
//! runs out gets [`Verdict::Unknown`], never a guess.
//!
//! The specification is pluggable ([`Model`]); [`Register`] is a read, write
//! and compare-and-set register, with [`check_register`] as a shortcut.
//!
//! ```
//! use faultline::linearizable::{check_register, Budget, Completion, History, Operation, RegisterCall, Verdict};
//!
//! let op = |process, call, time_invoke, time_complete| Operation {
//!     process, key: "x", call, time_invoke, time_complete, completion: Completion::Ok,
//! };
//! // A write of 1 completes; a read invoked afterwards still sees nil.
//! let history = History::from(vec![
//!     op(0, RegisterCall::write(Some(1)), 0, 10),
//!     op(1, RegisterCall::read(None), 20, 30),
//! ]);
//! let report = check_register(&history, &Budget::default()).unwrap();
//! assert_eq!(report.verdict, Verdict::NotLinearizable);
//! println!("{report}");
//! ```
//!
//! # The search
//!
//! One key's `ok` invocations ("calls") and completions ("returns") form a
//! doubly linked list in time order (calls first at equal times, so touching
//! intervals are concurrent); its `info` calls form a second list, with no
//! returns. From the current configuration the search tries the `ok` calls
//! before the first return, then the `info` calls invoked no later than it.
//! If the model accepts an operation in the current state and the
//! configuration it leads to is new, the operation is pushed on a stack, its
//! entries are lifted out of the lists and the scan restarts from the front.
//! When no candidate is left, it is a dead end: the last operation is popped,
//! its entries are put back, and the scan goes on with the candidate after
//! it. All `ok` operations lifted means linearizable; a dead end with an
//! empty stack means not.
//!
//! Explored configurations are kept as "every operation below a frontier
//! except a few holes" (operations numbered by invocation), so memo entries
//! stay small in long histories. Two more prunings keep `info` operations
//! from multiplying the work, both sound: the model may drop `info` calls
//! that nothing could observe ([`Model::needed_infos`]), and an operation is
//! not placed right after an `info` one if it reaches the same state without
//! it (that configuration is dominated by the one without the `info`
//! operation, which is explored).
//!
//! A violation reports the deepest dead end the search met (the most `ok`
//! operations placed): found by running the same deterministic search again
//! and stopping there, so the first run keeps no copies.
#![warn(missing_docs)]

mod history;
mod model;
mod register;
mod report;
mod search;

pub use history::{Completion, History, HistoryError, Operation, Process};
pub use model::Model;
pub use register::{format_value, Register, RegisterCall, Value};
pub use report::{
    format_time, Budget, BudgetExhausted, Candidate, KeyReport, LinearizedStep, OperationRef,
    Report, Verdict, Violation,
};

use search::{Limits, Operations, Outcome, Search};
use std::collections::BTreeMap;
use std::fmt::Debug;

/// The report of a register check.
pub type RegisterReport<K> = Report<RegisterCall, Value, K>;

/// The most operations one key may have: list nodes are numbered in `u32`.
pub const OPERATIONS_PER_KEY_MAX: usize = 1 << 30;

/// Checks `history` against the register specification.
pub fn check_register<K: Ord + Clone + Debug>(
    history: &History<RegisterCall, K>,
    budget: &Budget,
) -> Result<RegisterReport<K>, HistoryError> {
    check(&Register, history, budget)
}

/// Checks whether `history` is linearizable with respect to `model`, key by
/// key in key order, each key within `budget`.
///
/// Fails only if the history is malformed (an operation completes before it
/// is invoked, or one key has more than [`OPERATIONS_PER_KEY_MAX`]
/// operations). The result depends only on the history, the model and the
/// budget.
pub fn check<M: Model, K: Ord + Clone + Debug>(
    model: &M,
    history: &History<M::Call, K>,
    budget: &Budget,
) -> Result<Report<M::Call, M::State, K>, HistoryError> {
    history.validate()?;
    let mut keys = Vec::new();
    for (key, indices) in partition(history) {
        if indices.len() > OPERATIONS_PER_KEY_MAX {
            return Err(HistoryError::TooManyOperations {
                operations: indices.len(),
                max: OPERATIONS_PER_KEY_MAX,
            });
        }
        keys.push(check_key(model, history, key, &indices, budget));
    }
    let verdict = Verdict::combine(keys.iter().map(|report| report.verdict));
    Ok(Report { verdict, keys })
}

/// Each key's operations, as indices into the history.
fn partition<C, K: Ord>(history: &History<C, K>) -> BTreeMap<&K, Vec<usize>> {
    let mut keys: BTreeMap<&K, Vec<usize>> = BTreeMap::new();
    for (index, operation) in history.operations.iter().enumerate() {
        keys.entry(&operation.key).or_default().push(index);
    }
    keys
}

/// Checks one key's operations (`indices`).
fn check_key<M: Model, K: Ord + Clone + Debug>(
    model: &M,
    history: &History<M::Call, K>,
    key: &K,
    indices: &[usize],
    budget: &Budget,
) -> KeyReport<M::Call, M::State, K> {
    let count = |completion| {
        let of = |&&index: &&usize| history.operations[index].completion == completion;
        indices.iter().filter(of).count()
    };
    let searched = searched_operations(model, history, indices);
    let operations = search_view(history, &searched);
    let limits = Limits {
        steps_max: budget.steps_max,
        memo_bytes_max: budget.memo_bytes_max,
    };
    let mut search = Search::new(model, &operations, limits);
    let outcome = search.run(None);
    let mut report = KeyReport {
        key: key.clone(),
        verdict: Verdict::Unknown,
        operations_ok: count(Completion::Ok),
        operations_info: count(Completion::Info),
        operations_fail: count(Completion::Fail),
        steps: search.steps(),
        memo_entries: search.memo_entries(),
        exhausted: None,
        linearization: Vec::new(),
        violation: None,
    };
    match outcome {
        Outcome::Linearizable(order) => {
            report.verdict = Verdict::Linearizable;
            report.linearization = order.iter().map(|&o| searched[o as usize]).collect();
        }
        Outcome::Unknown(exhausted) => report.exhausted = Some(exhausted),
        Outcome::NotLinearizable { depth_max } => {
            report.verdict = Verdict::NotLinearizable;
            let mut again = Search::new(model, &operations, limits);
            let Outcome::Stuck { blocking } = again.run(Some(depth_max)) else {
                panic!("a search repeated to its deepest dead end must stop there");
            };
            let reference = |o: u32| OperationRef {
                index: searched[o as usize],
                operation: history.operations[searched[o as usize]].clone(),
            };
            report.violation = Some(describe_dead_end(model, key, &again, blocking, reference));
        }
        Outcome::Stuck { .. } => unreachable!("a search without a stop depth never stops stuck"),
    }
    report
}

/// The searched operations as the search takes them.
fn search_view<'a, C, K>(history: &'a History<C, K>, searched: &[usize]) -> Operations<'a, C> {
    let operations: Vec<&Operation<C, K>> =
        searched.iter().map(|&i| &history.operations[i]).collect();
    Operations {
        calls: operations.iter().map(|op| &op.call).collect(),
        ok: operations
            .iter()
            .map(|op| op.completion == Completion::Ok)
            .collect(),
        times: operations
            .iter()
            .map(|op| (op.time_invoke, op.time_complete))
            .collect(),
    }
}

/// The operations the search sees, in invocation order (ties by index: the
/// numbering the search relies on): not the `fail` ones (they did not
/// happen), nor the `info` ones the model says cannot matter.
fn searched_operations<M: Model, K>(
    model: &M,
    history: &History<M::Call, K>,
    indices: &[usize],
) -> Vec<usize> {
    let with = |completion| -> Vec<usize> {
        let of = |&&index: &&usize| history.operations[index].completion == completion;
        indices.iter().filter(of).copied().collect()
    };
    let (oks, infos) = (with(Completion::Ok), with(Completion::Info));
    let calls = |among: &[usize]| -> Vec<&M::Call> {
        among.iter().map(|&i| &history.operations[i].call).collect()
    };
    let needed = model.needed_infos(&calls(&oks), &calls(&infos));
    assert_eq!(
        needed.len(),
        infos.len(),
        "needed_infos answers once per info call"
    );
    let kept = infos.iter().zip(needed).filter(|&(_, needed)| needed);
    let mut searched: Vec<usize> = oks.into_iter().chain(kept.map(|(&i, _)| i)).collect();
    searched.sort_by_key(|&index| (history.operations[index].time_invoke, index));
    searched
}

/// The violation a stopped search describes: its prefix, its state, the
/// blocking operation and the candidates that could have come next (every
/// `ok` one, and the `info` ones that could take effect).
fn describe_dead_end<M: Model, K: Clone + Debug>(
    model: &M,
    key: &K,
    search: &Search<'_, '_, M>,
    blocking: u32,
    reference: impl Fn(u32) -> OperationRef<M::Call, K>,
) -> Violation<M::Call, M::State, K> {
    let prefix = search
        .prefix()
        .into_iter()
        .map(|(operation, state_after)| LinearizedStep {
            operation: reference(operation),
            state_after,
        })
        .collect();
    let candidates = search
        .candidates(blocking)
        .into_iter()
        .map(|operation| Candidate {
            operation: reference(operation),
            possible: search.step(search.state(), operation).is_some(),
        })
        .filter(|c| c.possible || c.operation.operation.completion == Completion::Ok)
        .collect();
    let mut violation = Violation {
        key: key.clone(),
        prefix,
        state: search.state().clone(),
        blocking: reference(blocking),
        candidates,
        explanation: String::new(),
    };
    violation.explanation = report::explain(model, &violation);
    violation
}
