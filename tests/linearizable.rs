//! The linearizability checker (`faultline::linearizable`), from outside:
//!
//! - generated small histories, checked against a deliberately naive brute
//!   force that shares no code with the checker;
//! - textbook histories, linearizable and not;
//! - the budget: running out gives `Unknown`, never a wrong verdict;
//! - speed: 10,000 operations on 100 keys from 5 clients well under a second.

#[path = "common/register_history.rs"]
mod register_history;

use faultline::linearizable::{
    check, check_register, Budget, BudgetExhausted, Completion, History, HistoryError, Model,
    Operation, RegisterCall, RegisterReport, Value, Verdict,
};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use register_history::Shape;
use std::cell::Cell;
use std::time::{Duration, Instant};

type Op = Operation<RegisterCall, u64>;

/// The definition, checked by trying every order: no memo, no pruning, no
/// partitioning by key, no code from the checker.
mod brute_force {
    use super::Op;
    use faultline::linearizable::{Completion, RegisterCall};
    use std::collections::BTreeMap;

    /// Whether some order of the `ok` operations and some of the `info` ones
    /// respects real time and the register.
    pub fn linearizable(ops: &[Op]) -> bool {
        let with = |c: Completion| -> Vec<usize> {
            (0..ops.len()).filter(|&i| ops[i].completion == c).collect()
        };
        let (required, optional) = (with(Completion::Ok), with(Completion::Info));
        (0..1u32 << optional.len()).any(|mask| {
            let mut chosen = required.clone();
            let included = (0..optional.len()).filter(|b| mask & (1 << b) != 0);
            chosen.extend(included.map(|b| optional[b]));
            chosen.sort_unstable();
            some_permutation_is_valid(ops, chosen)
        })
    }

    fn some_permutation_is_valid(ops: &[Op], mut order: Vec<usize>) -> bool {
        loop {
            if valid_order(ops, &order) {
                return true;
            }
            if !next_permutation(&mut order) {
                return false;
            }
        }
    }

    /// Whether `order` is a linearization of exactly its operations: real
    /// time respected, every result the register's.
    pub fn valid_order(ops: &[Op], order: &[usize]) -> bool {
        respects_real_time(ops, order) && register_allows(ops, order)
    }

    /// No operation is placed after one that was invoked after it completed.
    fn respects_real_time(ops: &[Op], order: &[usize]) -> bool {
        (0..order.len()).all(|i| {
            (i + 1..order.len()).all(|j| {
                let (earlier, later) = (&ops[order[i]], &ops[order[j]]);
                let later_done = later.completion == Completion::Ok;
                !(later_done && later.time_complete < earlier.time_invoke)
            })
        })
    }

    fn register_allows(ops: &[Op], order: &[usize]) -> bool {
        let mut values: BTreeMap<u64, Option<i64>> = BTreeMap::new();
        for &i in order {
            let op = &ops[i];
            let current = values.get(&op.key).copied().flatten();
            let ok = match op.completion {
                Completion::Ok => true,
                Completion::Info => false,
                Completion::Fail => return false,
            };
            match op.call {
                RegisterCall::Read { value } if ok && value != current => return false,
                RegisterCall::Read { .. } => {}
                RegisterCall::Write { value } => {
                    values.insert(op.key, value);
                }
                RegisterCall::Cas { expected, new } if expected == current => {
                    values.insert(op.key, new);
                }
                RegisterCall::Cas { .. } if ok => return false,
                RegisterCall::Cas { .. } => {}
            }
        }
        true
    }

    /// The next permutation in lexicographic order; false after the last.
    fn next_permutation(v: &mut [usize]) -> bool {
        let Some(i) = (1..v.len()).rev().find(|&i| v[i - 1] < v[i]) else {
            return false;
        };
        let j = (i..v.len()).rev().find(|&j| v[j] > v[i - 1]).unwrap();
        v.swap(i - 1, j);
        v[i..].reverse();
        true
    }
}

// ---------------------------------------------------------------------------
// Generated histories.

/// One generated operation: who, on what, when, and how it turns out.
#[derive(Clone, Debug)]
struct OpSpec {
    process: u64,
    key: u64,
    /// 0-3 read, 4-6 write, 7-9 cas.
    kind: u8,
    /// Values, 0 meaning nil.
    a: i64,
    b: i64,
    gap: u64,
    duration: u64,
    /// Where in its interval it takes effect, in percent.
    effect_percent: u64,
    /// 0-6 ok, 7 fail, 8 info that took effect, 9 info that did not.
    outcome: u8,
}

/// A generated history: a run of a real register, then perhaps one change
/// to a recorded result (which usually, not always, breaks it).
#[derive(Clone, Debug)]
struct Case {
    processes: u64,
    specs: Vec<OpSpec>,
    mutation: Option<(usize, i64)>,
}

fn op_spec(processes: u64, keys: u64) -> impl Strategy<Value = OpSpec> {
    (
        (0..processes, 0..keys, 0u8..10, 0i64..4, 0i64..4),
        (0u64..4, 0u64..10, 0u64..=100, 0u8..10),
    )
        .prop_map(
            |((process, key, kind, a, b), (gap, duration, effect_percent, outcome))| OpSpec {
                process,
                key,
                kind,
                a,
                b,
                gap,
                duration,
                effect_percent,
                outcome,
            },
        )
}

fn case() -> impl Strategy<Value = Case> {
    (2u64..=4, 1u64..=2, 1usize..=8).prop_flat_map(|(processes, keys, n)| {
        let mutation = proptest::option::weighted(0.8, (0..n, 1i64..4));
        (prop::collection::vec(op_spec(processes, keys), n), mutation).prop_map(
            move |(specs, mutation)| Case {
                processes,
                specs,
                mutation,
            },
        )
    })
}

fn value(code: i64) -> Value {
    (code != 0).then_some(code)
}

/// `value` moved round the four values by `by`.
fn rotate(v: Value, by: i64) -> Value {
    value((v.unwrap_or(0) + by) % 4)
}

impl Case {
    fn history(&self) -> History<RegisterCall, u64> {
        let mut ops = self.timed();
        self.run_register(&mut ops);
        if let Some((index, by)) = self.mutation {
            mutate(&mut ops[index], by);
        }
        History::from(ops)
    }

    /// Each process's operations back to back; results filled in later.
    fn timed(&self) -> Vec<Op> {
        let mut clocks = vec![0u64; self.processes as usize];
        let mut ops = Vec::new();
        for spec in &self.specs {
            let time_invoke = clocks[spec.process as usize] + spec.gap;
            let time_complete = time_invoke + spec.duration;
            clocks[spec.process as usize] = time_complete;
            let call = match spec.kind {
                0..=3 => RegisterCall::read(None),
                4..=6 => RegisterCall::write(value(spec.a)),
                _ => RegisterCall::cas(value(spec.a), value(spec.b)),
            };
            let completion = match spec.outcome {
                0..=6 => Completion::Ok,
                7 => Completion::Fail,
                _ => Completion::Info,
            };
            ops.push(Operation {
                process: spec.process,
                key: spec.key,
                call,
                time_invoke,
                time_complete,
                completion,
            });
        }
        ops
    }

    /// Applies the operations to a register in the order of their effect
    /// instants, recording reads' values and cas failures.
    fn run_register(&self, ops: &mut [Op]) {
        let effect = |i: usize| {
            let spec = &self.specs[i];
            ops[i].time_invoke * 100 + spec.duration * spec.effect_percent
        };
        let mut order: Vec<usize> = (0..ops.len()).collect();
        order.sort_by_key(|&i| (effect(i), i));
        let mut values = std::collections::BTreeMap::<u64, Value>::new();
        for i in order {
            let takes_effect = matches!(self.specs[i].outcome, 0..=6 | 8);
            let current = values.get(&ops[i].key).copied().flatten();
            match ops[i].call {
                RegisterCall::Read { .. } => ops[i].call = RegisterCall::read(current),
                RegisterCall::Write { value } if takes_effect => {
                    values.insert(ops[i].key, value);
                }
                RegisterCall::Cas { expected, new } if takes_effect && expected == current => {
                    values.insert(ops[i].key, new);
                }
                RegisterCall::Cas { .. } if ops[i].completion == Completion::Ok => {
                    ops[i].completion = Completion::Fail;
                }
                _ => {}
            }
        }
    }
}

/// Changes one recorded result: a read's value, a write's value, or whether
/// a cas succeeded.
fn mutate(op: &mut Op, by: i64) {
    op.call = match op.call {
        RegisterCall::Read { value } => RegisterCall::read(rotate(value, by)),
        RegisterCall::Write { value } => RegisterCall::write(rotate(value, by)),
        RegisterCall::Cas { expected, new } => {
            op.completion = match op.completion {
                Completion::Ok => Completion::Fail,
                Completion::Fail => Completion::Ok,
                Completion::Info => Completion::Info,
            };
            RegisterCall::cas(expected, new)
        }
    };
}

/// What a report must satisfy besides its verdict: a linearizable key comes
/// with a valid order of all its `ok` operations; a violation names an `ok`
/// operation and a prefix that is itself a valid order.
fn check_report_consistency(ops: &[Op], report: &RegisterReport<u64>) -> Result<(), TestCaseError> {
    for key in &report.keys {
        if key.verdict == Verdict::Linearizable {
            let order = &key.linearization;
            prop_assert!(brute_force::valid_order(ops, order), "bad order {order:?}");
            let oks = (0..ops.len())
                .filter(|&i| ops[i].key == key.key && ops[i].completion == Completion::Ok)
                .count();
            let placed = order
                .iter()
                .filter(|&&i| ops[i].completion == Completion::Ok);
            prop_assert_eq!(placed.count(), oks);
        }
        if let Some(violation) = &key.violation {
            prop_assert_eq!(violation.blocking.operation.completion, Completion::Ok);
            let prefix: Vec<usize> = violation.prefix.iter().map(|s| s.operation.index).collect();
            prop_assert!(
                brute_force::valid_order(ops, &prefix),
                "bad prefix {prefix:?}"
            );
            let cited = format!("#{} ", violation.blocking.index);
            prop_assert!(violation.explanation.contains(&cited), "{}", violation);
        }
    }
    Ok(())
}

#[test]
fn wgl_agrees_with_brute_force_on_generated_histories() {
    let cases = 10_000;
    let config = ProptestConfig {
        cases,
        ..ProptestConfig::default()
    };
    let (linearizable, not) = (Cell::new(0u32), Cell::new(0u32));
    let result = TestRunner::new(config).run(&case(), |case| {
        let history = case.history();
        let expected = brute_force::linearizable(&history.operations);
        let report = check_register(&history, &Budget::default()).unwrap();
        let verdict_expected = match expected {
            true => Verdict::Linearizable,
            false => Verdict::NotLinearizable,
        };
        prop_assert_eq!(report.verdict, verdict_expected, "{}", report);
        check_report_consistency(&history.operations, &report)?;
        // The order the operations are listed in does not matter.
        let mut reversed = history.clone();
        reversed.operations.reverse();
        prop_assert_eq!(
            check_register(&reversed, &Budget::default())
                .unwrap()
                .verdict,
            report.verdict
        );
        let counter = if expected { &linearizable } else { &not };
        counter.set(counter.get() + 1);
        Ok(())
    });
    result.unwrap();
    let (yes, no) = (linearizable.get(), not.get());
    println!("{cases} generated histories: {yes} linearizable, {no} not");
    assert!(
        yes * 5 >= cases && no * 5 >= cases,
        "{yes} linearizable, {no} not: too lopsided"
    );
}

#[test]
fn a_budget_too_small_gives_unknown_or_the_true_verdict_on_generated_histories() {
    let config = ProptestConfig {
        cases: 2000,
        ..ProptestConfig::default()
    };
    let budgets = (0u64..40, 0usize..600);
    TestRunner::new(config)
        .run(&(case(), budgets), |(case, (steps_max, memo_bytes_max))| {
            let history = case.history();
            let expected = match brute_force::linearizable(&history.operations) {
                true => Verdict::Linearizable,
                false => Verdict::NotLinearizable,
            };
            let budget = Budget {
                steps_max,
                memo_bytes_max,
            };
            let verdict = check_register(&history, &budget).unwrap().verdict;
            prop_assert!(
                verdict == expected || verdict == Verdict::Unknown,
                "{verdict:?}"
            );
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------
// Textbook histories. Times are in nanoseconds; one key unless said.

fn op(process: u64, call: RegisterCall, time_invoke: u64, time_complete: u64) -> Op {
    Operation {
        process,
        key: 0,
        call,
        time_invoke,
        time_complete,
        completion: Completion::Ok,
    }
}

fn info(process: u64, call: RegisterCall, time_invoke: u64) -> Op {
    Operation {
        completion: Completion::Info,
        ..op(process, call, time_invoke, time_invoke)
    }
}

fn fail(process: u64, call: RegisterCall, time_invoke: u64, time_complete: u64) -> Op {
    Operation {
        completion: Completion::Fail,
        ..op(process, call, time_invoke, time_complete)
    }
}

fn on(key: u64, operation: Op) -> Op {
    Operation { key, ..operation }
}

fn verdict(ops: Vec<Op>) -> Verdict {
    let history = History::from(ops);
    let report = check_register(&history, &Budget::default()).unwrap();
    // Every textbook case is small enough for the brute force to confirm.
    let expected = match brute_force::linearizable(&history.operations) {
        true => Verdict::Linearizable,
        false => Verdict::NotLinearizable,
    };
    assert_eq!(report.verdict, expected, "{report}");
    report.verdict
}

fn report(ops: Vec<Op>) -> RegisterReport<u64> {
    check_register(&History::from(ops), &Budget::default()).unwrap()
}

const fn read(v: Option<i64>) -> RegisterCall {
    RegisterCall::Read { value: v }
}

const fn write(v: i64) -> RegisterCall {
    RegisterCall::Write { value: Some(v) }
}

const fn cas(expected: Option<i64>, new: i64) -> RegisterCall {
    RegisterCall::Cas {
        expected,
        new: Some(new),
    }
}

#[test]
fn an_empty_history_and_a_lone_read_of_nil_are_linearizable() {
    assert_eq!(verdict(vec![]), Verdict::Linearizable);
    assert_eq!(
        verdict(vec![op(0, read(None), 0, 1)]),
        Verdict::Linearizable
    );
    // Nothing was written, so a read cannot see 3.
    assert_eq!(
        verdict(vec![op(0, read(Some(3)), 0, 1)]),
        Verdict::NotLinearizable
    );
}

#[test]
fn a_stale_read_after_a_completed_write_is_not_linearizable() {
    let report = report(vec![op(0, write(1), 0, 10), op(1, read(None), 20, 30)]);
    assert_eq!(report.verdict, Verdict::NotLinearizable);
    let violation = report.violations().next().unwrap();
    assert_eq!(violation.key, 0);
    assert_eq!(
        violation.blocking.index, 1,
        "the read is what no order explains"
    );
    assert_eq!(violation.prefix.len(), 1);
    assert_eq!(violation.prefix[0].operation.index, 0);
    assert_eq!(violation.state, Some(1));
    assert_eq!(violation.candidates.len(), 1);
    assert!(!violation.candidates[0].possible);
    let text = report.to_string();
    assert!(
        text.contains("#1 process 1 read -> nil [20 ns, 30 ns] ok"),
        "{text}"
    );
    assert!(text.contains("From state 1"), "{text}");
}

#[test]
fn a_read_concurrent_with_a_write_may_see_either_value() {
    let old = vec![op(0, write(1), 0, 30), op(1, read(None), 10, 20)];
    let new = vec![op(0, write(1), 0, 30), op(1, read(Some(1)), 10, 20)];
    assert_eq!(verdict(old), Verdict::Linearizable);
    assert_eq!(verdict(new), Verdict::Linearizable);
}

#[test]
fn touching_intervals_are_concurrent() {
    // The read is invoked at the instant the write completes.
    let history = vec![op(0, write(1), 0, 10), op(1, read(None), 10, 20)];
    assert_eq!(verdict(history), Verdict::Linearizable);
}

#[test]
fn a_read_of_the_new_value_then_a_later_read_of_the_old_is_not_linearizable() {
    let history = vec![
        op(0, write(0), 0, 10),
        op(0, write(1), 20, 100),
        op(1, read(Some(1)), 30, 40),
        op(2, read(Some(0)), 50, 60),
    ];
    let report = report(history.clone());
    assert_eq!(verdict(history), Verdict::NotLinearizable);
    let violation = report.violations().next().unwrap();
    assert_eq!(
        violation.blocking.index, 3,
        "the second read sees the old value"
    );
    let order: Vec<usize> = violation.prefix.iter().map(|s| s.operation.index).collect();
    assert_eq!(order, vec![0, 1, 2]);
}

#[test]
fn a_timed_out_write_may_be_seen_later() {
    let report = report(vec![info(0, write(1), 0), op(1, read(Some(1)), 20, 30)]);
    assert_eq!(report.verdict, Verdict::Linearizable);
    assert_eq!(report.keys[0].linearization, vec![0, 1]);
    assert_eq!(report.keys[0].operations_info, 1);
}

#[test]
fn a_timed_out_write_may_never_be_seen() {
    let report = report(vec![
        info(0, write(1), 0),
        op(1, read(None), 20, 30),
        op(1, read(None), 40, 50),
    ]);
    assert_eq!(report.verdict, Verdict::Linearizable);
    assert_eq!(report.keys[0].linearization, vec![1, 2]);
}

#[test]
fn a_timed_out_write_may_take_effect_long_after_a_later_write() {
    let history = vec![
        info(0, write(1), 0),
        op(1, write(2), 20, 30),
        op(1, read(Some(2)), 40, 50),
        op(2, read(Some(1)), 60, 70),
    ];
    assert_eq!(verdict(history), Verdict::Linearizable);
}

#[test]
fn a_timed_out_write_seen_then_unseen_is_not_linearizable() {
    let history = vec![
        info(0, write(1), 0),
        op(1, read(Some(1)), 20, 30),
        op(2, read(None), 40, 50),
    ];
    assert_eq!(verdict(history), Verdict::NotLinearizable);
}

#[test]
fn a_never_completed_invocation_counts_as_info() {
    let mut history = History::new();
    history.invoke(0, 0u64, write(1), 0).unwrap();
    history.invoke(1, 0u64, read(None), 20).unwrap();
    history.complete(1, 30, Completion::Ok).unwrap().call = read(Some(1));
    assert_eq!(history.open().collect::<Vec<_>>(), vec![0]);
    let report = check_register(&history, &Budget::default()).unwrap();
    assert_eq!(report.verdict, Verdict::Linearizable);
}

#[test]
fn a_successful_cas_must_find_its_expected_value() {
    let good = vec![
        op(0, write(1), 0, 10),
        op(1, cas(Some(1), 2), 20, 30),
        op(2, read(Some(2)), 40, 50),
    ];
    let bad = vec![op(0, write(1), 0, 10), op(1, cas(Some(3), 2), 20, 30)];
    let from_nil = vec![op(0, cas(None, 5), 0, 10), op(1, read(Some(5)), 20, 30)];
    assert_eq!(verdict(good), Verdict::Linearizable);
    assert_eq!(verdict(bad), Verdict::NotLinearizable);
    assert_eq!(verdict(from_nil), Verdict::Linearizable);
}

#[test]
fn a_failed_cas_did_not_happen() {
    let ignored = vec![
        op(0, write(1), 0, 10),
        fail(1, cas(Some(1), 2), 20, 30),
        op(2, read(Some(1)), 40, 50),
    ];
    let seen = vec![
        op(0, write(1), 0, 10),
        fail(1, cas(Some(1), 2), 20, 30),
        op(2, read(Some(2)), 40, 50),
    ];
    assert_eq!(verdict(ignored), Verdict::Linearizable);
    assert_eq!(verdict(seen), Verdict::NotLinearizable);
    assert_eq!(
        report(vec![fail(0, cas(None, 1), 0, 1)]).keys[0].operations_fail,
        1
    );
}

#[test]
fn a_timed_out_cas_may_or_may_not_have_succeeded() {
    let succeeded = vec![
        op(0, write(1), 0, 10),
        info(1, cas(Some(1), 2), 20),
        op(2, read(Some(2)), 40, 50),
    ];
    let did_not = vec![
        op(0, write(1), 0, 10),
        info(1, cas(Some(1), 2), 20),
        op(2, read(Some(1)), 40, 50),
    ];
    // A cas expecting 3 can never have set 2 after the write of 1.
    let could_not = vec![
        op(0, write(1), 0, 10),
        info(1, cas(Some(3), 2), 20),
        op(2, read(Some(2)), 40, 50),
    ];
    assert_eq!(verdict(succeeded), Verdict::Linearizable);
    assert_eq!(verdict(did_not), Verdict::Linearizable);
    assert_eq!(verdict(could_not), Verdict::NotLinearizable);
}

#[test]
fn timed_out_operations_can_chain() {
    // Neither the write nor the cas completed, but the read saw both.
    let history = vec![
        info(0, write(1), 0),
        info(1, cas(Some(1), 2), 5),
        op(2, read(Some(2)), 20, 30),
    ];
    assert_eq!(verdict(history), Verdict::Linearizable);
}

#[test]
fn keys_are_checked_independently_and_reported_in_order() {
    let report = report(vec![
        on(7, op(0, write(1), 0, 10)),
        on(3, op(0, write(1), 20, 30)),
        on(7, op(1, read(Some(1)), 20, 30)),
        on(3, op(1, read(None), 40, 50)),
    ]);
    assert_eq!(report.verdict, Verdict::NotLinearizable);
    let keys: Vec<u64> = report.keys.iter().map(|k| k.key).collect();
    assert_eq!(keys, vec![3, 7]);
    assert_eq!(report.key(&7).unwrap().verdict, Verdict::Linearizable);
    assert_eq!(report.key(&3).unwrap().verdict, Verdict::NotLinearizable);
    assert_eq!(report.violations().count(), 1);
    assert!(report.to_string().contains("key 3: not linearizable"));
}

#[test]
fn malformed_histories_and_recordings_are_errors() {
    let backwards = History::from(vec![op(0, write(1), 10, 5)]);
    assert!(matches!(
        check_register(&backwards, &Budget::default()),
        Err(HistoryError::CompletionBeforeInvocation { index: 0, .. })
    ));
    let mut history: History<RegisterCall, u64> = History::new();
    history.invoke(0, 1, write(1), 0).unwrap();
    assert!(matches!(
        history.invoke(0, 1, write(2), 5),
        Err(HistoryError::ProcessBusy { process: 0, .. })
    ));
    assert!(matches!(
        history.complete(1, 5, Completion::Ok),
        Err(HistoryError::NothingOpen { process: 1, .. })
    ));
}

#[test]
fn histories_read_and_write_as_jepsen_shaped_json() {
    let history = History::from(vec![
        op(0, read(None), 0, 10),
        on(2, info(1, cas(Some(1), 2), 3)),
    ]);
    let json = serde_json::to_string(&history).unwrap();
    assert!(json.contains(r#""f":"read","value":null"#), "{json}");
    assert!(json.contains(r#""f":"cas","expected":1,"new":2"#), "{json}");
    assert!(json.contains(r#""completion":"info""#), "{json}");
    let back: History<RegisterCall, u64> = serde_json::from_str(&json).unwrap();
    assert_eq!(back.operations, history.operations);
}

#[test]
fn checking_is_deterministic() {
    let history = register_history::linearizable(shape(2_000, 3, 20), 11);
    let broken = register_history::with_stale_read(&history).unwrap();
    for h in [history, broken] {
        let once = check_register(&h, &Budget::default()).unwrap();
        let twice = check_register(&h, &Budget::default()).unwrap();
        assert_eq!(once, twice);
    }
}

/// A counter with add and read, to show that any model plugs in.
struct Counter;

#[derive(Clone, Debug)]
enum CounterCall {
    Add(i64),
    Read(i64),
}

impl Model for Counter {
    type Call = CounterCall;
    type State = i64;

    fn init(&self) -> i64 {
        0
    }

    fn step(&self, state: &i64, call: &CounterCall) -> Option<i64> {
        match *call {
            CounterCall::Add(n) => Some(state + n),
            CounterCall::Read(v) => (v == *state).then_some(v),
        }
    }

    fn step_info(&self, state: &i64, call: &CounterCall) -> Option<i64> {
        match *call {
            CounterCall::Add(n) => Some(state + n),
            CounterCall::Read(_) => None,
        }
    }
}

#[test]
fn other_models_plug_in() {
    let counter_op = |process, call, time_invoke, time_complete| Operation {
        process,
        key: "hits",
        call,
        time_invoke,
        time_complete,
        completion: Completion::Ok,
    };
    // Two concurrent adds; a read between sees one of them, a read after sees both.
    let good = History::from(vec![
        counter_op(0, CounterCall::Add(1), 0, 50),
        counter_op(1, CounterCall::Add(10), 0, 50),
        counter_op(2, CounterCall::Read(10), 10, 20),
        counter_op(2, CounterCall::Read(11), 60, 70),
    ]);
    let mut bad = good.clone();
    bad.operations[3].call = CounterCall::Read(10);
    let budget = Budget::default();
    assert_eq!(
        check(&Counter, &good, &budget).unwrap().verdict,
        Verdict::Linearizable
    );
    let report = check(&Counter, &bad, &budget).unwrap();
    assert_eq!(report.verdict, Verdict::NotLinearizable);
    assert!(report.to_string().contains("Read(10)"), "{report}");
}

// ---------------------------------------------------------------------------
// The budget and speed.

fn shape(operations: usize, keys: u64, info_per_mille: u64) -> Shape {
    Shape {
        operations,
        keys,
        processes: 5,
        info_per_mille,
    }
}

#[test]
fn a_tiny_budget_gives_unknown_never_a_wrong_verdict() {
    let history = register_history::linearizable(shape(5_000, 1, 20), 3);
    let full = check_register(&history, &Budget::default()).unwrap();
    assert_eq!(full.verdict, Verdict::Linearizable);
    let steps_needed = full.steps();
    for steps_max in [0, 1, 10, 100, steps_needed / 2, steps_needed - 1] {
        let budget = Budget {
            steps_max,
            ..Budget::default()
        };
        let report = check_register(&history, &budget).unwrap();
        assert_eq!(report.verdict, Verdict::Unknown, "steps_max {steps_max}");
        assert_eq!(report.keys[0].exhausted, Some(BudgetExhausted::Steps));
    }
    let budget = Budget {
        memo_bytes_max: 1_000,
        ..Budget::default()
    };
    let report = check_register(&history, &budget).unwrap();
    assert_eq!(report.verdict, Verdict::Unknown);
    assert_eq!(report.keys[0].exhausted, Some(BudgetExhausted::Memo));
    assert!(report.to_string().contains("memo budget ran out"));

    let broken = register_history::with_stale_read(&history).unwrap();
    assert_eq!(
        check_register(&broken, &Budget::default()).unwrap().verdict,
        Verdict::NotLinearizable
    );
    let tiny = Budget {
        steps_max: 100,
        ..Budget::default()
    };
    assert_eq!(
        check_register(&broken, &tiny).unwrap().verdict,
        Verdict::Unknown
    );
}

#[test]
fn ten_thousand_operations_on_a_hundred_keys_check_in_well_under_a_second() {
    let history = register_history::linearizable(shape(10_000, 100, 20), 1);
    let broken = register_history::with_stale_read(&history).unwrap();
    for (h, expected) in [
        (history, Verdict::Linearizable),
        (broken, Verdict::NotLinearizable),
    ] {
        let started = Instant::now();
        let report = check_register(&h, &Budget::default()).unwrap();
        let took = started.elapsed();
        assert_eq!(report.verdict, expected);
        println!(
            "{:?} in {took:?} ({} steps)",
            report.verdict,
            report.steps()
        );
        // Only optimised builds are held to the time.
        if !cfg!(debug_assertions) {
            assert!(took < Duration::from_secs(1), "took {took:?}");
        }
    }
}
