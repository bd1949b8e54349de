//! How long the linearizability check takes on the largest histories the
//! cache produces: 5 clients on 5 nodes, 100 keys, 10,000 operations and
//! more, in `Abd` (linearizable: the search must find an order for every
//! key) and `Quorum(1, 1)` (not: it must refute some keys). The run writes
//! its `history.jsonl`; the test reads it back into a register history and
//! times `faultline::linearizable::check_register` on it, with the budget
//! the cache's check uses. The issue's figure: 10,000 operations on 100 keys
//! from 5 clients checked in under a second.

mod common;

use faultline::linearizable::{
    check_register, Budget, Completion, History, Operation, RegisterCall,
};
use faultline::run::{self, RunOptions};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The cache check's budget (src/protocols/cache/check.rs).
const BUDGET: Budget = Budget {
    steps_max: 2_000_000,
    memo_bytes_max: 256 << 20,
};

/// A run of about `operations` operations (5 clients, about 270 a second).
fn history_jsonl(mode: &str, operations: u64) -> String {
    let seconds = operations / 250 + 1;
    let text = format!(
        r#"Scenario(
    name: "cache-speed",
    seed: 7,
    duration: "{seconds}s",
    nodes: 5,
    network: (latency: Uniform(min: "1ms", max: "5ms"), drop: 0.01),
    protocol: Cache(mode: {mode}, replicas: 3, keys: 100, clients: [0, 1, 2, 3, 4], rate: 200, timeout: "50ms"),
    checks: [],
    expect: Pass,
)"#
    );
    let scenario = common::parse(&text, "cache-speed").unwrap_or_else(|e| panic!("{e}"));
    let out = tempfile::tempdir().expect("a temporary folder");
    let options = RunOptions {
        out: out.path().to_path_buf(),
        trace: false,
        charts: false,
        report: false,
        ..RunOptions::default()
    };
    let result = run::run(&scenario, &options).expect("the run folder is written");
    std::fs::read_to_string(result.folder.unwrap().join("history.jsonl")).unwrap()
}

/// history.jsonl as the checker's register history (an invocation pairs
/// with its process's next line).
fn register_history(jsonl: &str) -> History<RegisterCall, u64> {
    let mut operations: Vec<Operation<RegisterCall, u64>> = Vec::new();
    let mut open: BTreeMap<u64, usize> = BTreeMap::new();
    for line in jsonl.lines() {
        let line: Json = serde_json::from_str(line).unwrap();
        let process = line["process"].as_u64().unwrap();
        let time = line["time"].as_u64().unwrap();
        let value = &line["value"];
        if line["type"] == "invoke" {
            let call = match line["f"].as_str().unwrap() {
                "read" => RegisterCall::read(None),
                "write" => RegisterCall::write(value.as_i64()),
                _ => RegisterCall::cas(value[0].as_i64(), value[1].as_i64()),
            };
            open.insert(process, operations.len());
            operations.push(Operation {
                process,
                key: line["key"].as_u64().unwrap(),
                call,
                time_invoke: time,
                time_complete: time,
                completion: Completion::Info,
            });
            continue;
        }
        let op = &mut operations[open.remove(&process).unwrap()];
        op.time_complete = time;
        op.completion = match line["type"].as_str().unwrap() {
            "ok" => Completion::Ok,
            "fail" => Completion::Fail,
            _ => Completion::Info,
        };
        if line["type"] == "ok" && line["f"] == "read" {
            op.call = RegisterCall::read(value.as_i64());
        }
    }
    History::from(operations)
}

/// (operations, the fastest of three checks, linearizable).
fn check_time(mode: &str, operations: u64) -> (usize, Duration, bool) {
    let history = register_history(&history_jsonl(mode, operations));
    let mut best = Duration::MAX;
    let mut linearizable = false;
    for _ in 0..3 {
        let started = Instant::now();
        let report = check_register(&history, &BUDGET).expect("a well-formed history");
        best = best.min(started.elapsed());
        linearizable = report.violations().next().is_none();
    }
    (history.operations.len(), best, linearizable)
}

#[test]
fn a_10000_operation_cache_history_is_checked_in_under_a_second() {
    let (operations, took, linearizable) = check_time("Abd", 10_000);
    println!("Abd: {operations} operations checked in {took:?}");
    assert!(operations >= 9_000, "{operations} operations");
    assert!(linearizable, "ABD's history is linearizable");
    assert!(took < Duration::from_secs(1), "{took:?}");
}

/// `cargo test --release --test cache_speed -- --ignored --nocapture`
#[test]
#[ignore]
fn how_the_check_grows_with_history_length() {
    for mode in ["Abd", "Quorum(1, 1)"] {
        for operations in [2_500, 5_000, 10_000, 20_000, 40_000] {
            let (count, took, linearizable) = check_time(mode, operations);
            println!("{mode:>13}: {count:>6} operations, linearizable {linearizable}: {took:?}");
        }
    }
}
