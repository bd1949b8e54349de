//! Histories of a simulated linearizable register, for the linearizability
//! checker's speed test and benchmark: each process issues one operation at
//! a time with a random duration, so up to `processes` operations overlap;
//! each operation takes effect at a random instant inside its interval, and
//! its result is what the register gives there. Some operations time out
//! (`info`), having taken effect or not. Shared by tests/linearizable.rs and
//! benches/linearizable.rs.
#![allow(dead_code)]

use faultline::linearizable::{Completion, History, Operation, RegisterCall, Value};
use std::collections::BTreeMap;

/// The size and mix of a generated history.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub operations: usize,
    pub keys: u64,
    pub processes: u64,
    /// Operations that time out, per thousand.
    pub info_per_mille: u64,
}

/// A small, deterministic generator (splitmix64), so that the histories do
/// not depend on any crate's random streams.
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (bound > 0; the bias is negligible here).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// An operation before it takes effect: when, by whom, on what.
struct Planned {
    process: u64,
    key: u64,
    kind: u64,
    time_invoke: u64,
    time_effect: u64,
    time_complete: u64,
    info: bool,
    takes_effect: bool,
}

/// A linearizable history of `shape`, from `seed`.
pub fn linearizable(shape: Shape, seed: u64) -> History<RegisterCall, u64> {
    let mut rng = SplitMix::new(seed);
    let plans = plan(shape, &mut rng);
    let mut order: Vec<usize> = (0..plans.len()).collect();
    order.sort_by_key(|&i| (plans[i].time_effect, i));
    let mut operations: Vec<Option<Operation<RegisterCall, u64>>> = vec![None; plans.len()];
    let mut register: BTreeMap<u64, Value> = BTreeMap::new();
    let mut written = 0i64;
    for i in order {
        let current = register.get(&plans[i].key).copied().flatten();
        let (call, effect, failed) = perform(&plans[i], current, &mut written, &mut rng);
        if plans[i].takes_effect && !failed {
            if let Some(value) = effect {
                register.insert(plans[i].key, value);
            }
        }
        operations[i] = Some(record(&plans[i], call, failed));
    }
    History::from(
        operations
            .into_iter()
            .map(Option::unwrap)
            .collect::<Vec<_>>(),
    )
}

/// Each process's operations back to back, with random gaps and durations.
fn plan(shape: Shape, rng: &mut SplitMix) -> Vec<Planned> {
    let mut clocks = vec![0u64; shape.processes as usize];
    let mut plans = Vec::with_capacity(shape.operations);
    for n in 0..shape.operations {
        let process = (n as u64) % shape.processes;
        let time_invoke = clocks[process as usize] + 1 + rng.below(50);
        let time_effect = time_invoke + rng.below(100);
        let time_complete = time_effect + rng.below(100);
        clocks[process as usize] = time_complete;
        let info = rng.below(1000) < shape.info_per_mille;
        plans.push(Planned {
            process,
            key: rng.below(shape.keys),
            kind: rng.below(10),
            time_invoke,
            time_effect,
            time_complete,
            info,
            takes_effect: !info || rng.below(2) == 0,
        });
    }
    plans
}

/// The call a planned operation makes on a register holding `current`: its
/// recorded form, the value it sets (if it sets one), and whether it is a
/// cas that found another value (and so failed).
fn perform(
    plan: &Planned,
    current: Value,
    written: &mut i64,
    rng: &mut SplitMix,
) -> (RegisterCall, Option<Value>, bool) {
    match plan.kind {
        0..=4 => (RegisterCall::read(current), None, false),
        5..=7 => {
            *written += 1;
            (
                RegisterCall::write(Some(*written)),
                Some(Some(*written)),
                false,
            )
        }
        _ => {
            *written += 1;
            // Most cas calls expect the current value, as after a read.
            let expected = if rng.below(4) == 0 {
                Some(*written - 1 - rng.below(3) as i64)
            } else {
                current
            };
            let failed = expected != current;
            (
                RegisterCall::cas(expected, Some(*written)),
                Some(Some(*written)),
                failed,
            )
        }
    }
}

fn record(plan: &Planned, call: RegisterCall, failed: bool) -> Operation<RegisterCall, u64> {
    let completion = if plan.info {
        Completion::Info
    } else if failed {
        Completion::Fail
    } else {
        Completion::Ok
    };
    Operation {
        process: plan.process,
        key: plan.key,
        call,
        time_invoke: plan.time_invoke,
        time_complete: plan.time_complete,
        completion,
    }
}

/// `history` with one stale read: a late `ok` read that returns a value
/// overwritten (by an `ok` write or cas that completed) before the read was
/// invoked. Every written value is unique, so no order explains it. `None`
/// if the history has no such read.
pub fn with_stale_read(history: &History<RegisterCall, u64>) -> Option<History<RegisterCall, u64>> {
    let ops = &history.operations;
    let late = ops.len() - ops.len() / 10;
    for read in (ops.len() / 2..late).rev() {
        if let Some(stale) = stale_value_for(ops, read) {
            let mut broken = history.clone();
            broken.operations[read].call = RegisterCall::read(stale);
            return Some(broken);
        }
    }
    None
}

/// A value of `read`'s key that was set by one completed `ok` operation and
/// overwritten by another that completed, both before `read` was invoked.
fn stale_value_for(ops: &[Operation<RegisterCall, u64>], read: usize) -> Option<Value> {
    let target = &ops[read];
    if target.completion != Completion::Ok || !matches!(target.call, RegisterCall::Read { .. }) {
        return None;
    }
    let sets = |op: &&Operation<RegisterCall, u64>| -> Option<(u64, u64, Value)> {
        let value = match op.call {
            RegisterCall::Write { value } | RegisterCall::Cas { new: value, .. } => value,
            RegisterCall::Read { .. } => return None,
        };
        let done = op.completion == Completion::Ok && op.time_complete < target.time_invoke;
        (op.key == target.key && done).then_some((op.time_invoke, op.time_complete, value))
    };
    let writes: Vec<(u64, u64, Value)> = ops.iter().filter_map(|op| sets(&op)).collect();
    // An older write that completed before a newer one was invoked.
    writes.iter().find_map(|&(_, older_complete, value)| {
        writes
            .iter()
            .any(|&(newer_invoke, _, _)| older_complete < newer_invoke)
            .then_some(value)
    })
}
