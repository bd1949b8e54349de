//! The cache's judge on hand-built observation sequences, each written from
//! the check's definition (docs/protocols.md, the check's header): the
//! figures `Available` reports per partition side and over the run, the
//! bounds of a partition's window, bridge nodes, operations a crash ends,
//! `Converges`' deadline, which replicas it judges and what it names, and
//! the blocks a check rejects. `tests/judge_cache.rs` judges whole runs from
//! their trace; this file pins what a user reads on sequences small enough to
//! count by hand. Milliseconds throughout; three nodes, each a replica of
//! every key and the home of one client process (process = node).

mod feed;

use faultline::check::{CheckReport, Verdict};
use faultline::harness::{HumanDuration, Judge};
use faultline::node::NodeId;
use faultline::protocols::cache::{
    Cache, CacheCheck, CacheJudge, CacheObservation, Mix, Mode, Outcome, Version, F,
};
use faultline::protocols::hashing::KeyDistribution;
use faultline::sim::{SimDuration, TraceEvent};
use feed::{setup, Feed};
use std::sync::Arc;
use std::time::Duration;

const KEYS: u64 = 2;

fn cache() -> Cache {
    Cache {
        mode: Mode::Abd,
        replicas: 3,
        vnodes: 1,
        keys: KEYS,
        distribution: KeyDistribution::Uniform,
        zipf_cdf: Arc::new(Vec::new()),
        clients: vec![0, 1, 2],
        mix: Mix {
            read: 0.5,
            write: 0.5,
            cas: 0.0,
        },
        rate: 10.0,
        timeout: SimDuration::from_millis(100),
        coordinator_timeout: SimDuration::from_millis(80),
        stop: None,
        anti_entropy: None,
        read_repair: false,
        suspect_for: SimDuration::from_millis(100),
        bug: None,
        quiet: SimDuration::ZERO,
        replicas_of: Arc::new(vec![vec![0, 1, 2]; KEYS as usize]),
        peers_of: Arc::new(vec![vec![1, 2], vec![0, 2], vec![0, 1]]),
    }
}

/// A judge of `checks` on three nodes whose last fault ended at
/// `faults_end` ms.
fn judge(checks: &[CacheCheck], faults_end: u64) -> Feed<CacheJudge> {
    let absent = [false; 3];
    let setup = setup(3, 10_000, &[], faults_end, 10, &absent);
    Feed::new(CacheJudge::new(&cache(), checks, &setup), 3)
}

fn available(min: f64) -> CacheCheck {
    CacheCheck::Available { min }
}

fn converges(millis: u64) -> CacheCheck {
    CacheCheck::Converges(HumanDuration(Duration::from_millis(millis)))
}

/// Client process `node` invokes operation `op` (a write of `op` to key 0).
fn invoke(f: &mut Feed<CacheJudge>, t: u64, node: NodeId, op: u64) {
    let observation = CacheObservation::Invoke {
        process: node as u64,
        client: node as usize,
        op,
        f: F::Write,
        key: 0,
        value: Some(op as i64),
        expected: None,
        coordinator: node,
    };
    f.observe::<Cache>(t, node, &observation);
}

fn complete(f: &mut Feed<CacheJudge>, t: u64, node: NodeId, op: u64, outcome: Outcome) {
    let version = (outcome == Outcome::Ok).then_some(Version { counter: op, op });
    let observation = CacheObservation::Complete {
        process: node as u64,
        client: node as usize,
        op,
        outcome,
        f: F::Write,
        key: 0,
        value: Some(op as i64),
        version,
    };
    f.observe::<Cache>(t, node, &observation);
}

/// An operation from invocation to completion.
fn op(f: &mut Feed<CacheJudge>, from: u64, to: u64, node: NodeId, op: u64, outcome: Outcome) {
    invoke(f, from, node, op);
    complete(f, to, node, op, outcome);
}

/// Node `node`'s copy of `key` now has version (`counter`, `op`).
fn stored(f: &mut Feed<CacheJudge>, t: u64, node: NodeId, key: u64, counter: u64, op: u64) {
    let observation = CacheObservation::Stored {
        key,
        version: Version { counter, op },
        value: Some(op as i64),
    };
    f.observe::<Cache>(t, node, &observation);
}

fn partition(f: &mut Feed<CacheJudge>, t: u64, groups: &[Vec<NodeId>]) {
    f.at::<Cache>(t, TraceEvent::Partition { groups });
}

fn heal(f: &mut Feed<CacheJudge>, t: u64) {
    f.at::<Cache>(t, TraceEvent::Heal);
}

/// Seven completed operations and one open, around a partition from 100 ms
/// to 500 ms of {0,1} from {2}: before it, one ok and one failed; during it,
/// two ok on side {0,1} (one invoked at the partition's very start), one
/// timed out and one failed on side {2}; one ok invoked at the heal, which
/// is after it; one still open at the end (not counted).
fn seven_operations(f: &mut Feed<CacheJudge>) {
    op(f, 10, 20, 0, 1, Outcome::Ok);
    op(f, 30, 40, 1, 2, Outcome::Fail);
    partition(f, 100, &[vec![0, 1], vec![2]]);
    op(f, 100, 110, 0, 3, Outcome::Ok);
    invoke(f, 150, 2, 4);
    op(f, 200, 250, 2, 5, Outcome::Fail);
    complete(f, 300, 2, 4, Outcome::Info);
    op(f, 400, 450, 1, 6, Outcome::Ok);
    heal(f, 500);
    op(f, 500, 510, 2, 7, Outcome::Ok);
    invoke(f, 600, 0, 8);
}

const SEVEN_FIGURES: &str = "overall 57.1% ok (4 of 7: 2 failed, 1 timed out); \
    partition 0.100s–0.500s side {0,1}: 100.0% (2 of 2); \
    partition 0.100s–0.500s side {2}: 0.0% (0 of 2)";

#[test]
fn available_counts_each_side_of_a_partition_and_the_run() {
    let mut f = judge(&[available(0.5)], 0);
    seven_operations(&mut f);
    let report = f.report(1_000, "Available");
    // The detail: the figures, then each violation.
    assert!(
        report.detail.starts_with(SEVEN_FIGURES),
        "{}",
        report.detail
    );
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(report.violations.len(), 1, "{:?}", report.violations);
    let violation = &report.violations[0];
    assert_eq!(violation.time, feed::ms(100));
    assert_eq!(violation.nodes, vec![2]);
    assert_eq!(
        violation.message,
        "during the partition from 0.100s to 0.500s, clients on side {2} completed 0 of 2 \
         operations ok (0.0%, below 50.0%): 1 failed, 1 timed out"
    );
    let metrics = f.judge.metrics(feed::ms(1_000));
    assert_eq!(metrics["availability"], 4.0 / 7.0);
    assert_eq!(metrics["operations"], 8.0);
}

#[test]
fn available_fails_the_run_below_its_minimum_and_passes_at_it() {
    // 4 of 7 is 57.1%: below 0.6, so the run fails as well as side {2}.
    let mut f = judge(&[available(0.6)], 0);
    seven_operations(&mut f);
    let report = f.report(1_000, "Available");
    let messages: Vec<&str> = report
        .violations
        .iter()
        .map(|v| v.message.as_str())
        .collect();
    assert_eq!(report.violations.len(), 2, "{messages:?}");
    let overall = &report.violations[1];
    assert_eq!(overall.time, feed::ms(1_000));
    assert!(overall.nodes.is_empty());
    assert_eq!(
        overall.message,
        "over the run 4 of 7 operations completed ok (57.1%, below 60.0%)"
    );
    // Side {2} had no ok operation: a minimum of 0 passes it, and every side
    // at exactly its fraction passes (57.1% is 4/7, not below it).
    let mut f = judge(&[available(0.0)], 0);
    seven_operations(&mut f);
    assert_eq!(f.report(1_000, "Available").verdict, Verdict::Pass);
    let mut f = judge(&[available(4.0 / 7.0)], 0);
    op(&mut f, 10, 20, 0, 1, Outcome::Ok);
    op(&mut f, 30, 40, 1, 2, Outcome::Fail);
    op(&mut f, 50, 60, 1, 3, Outcome::Fail);
    op(&mut f, 70, 80, 2, 4, Outcome::Info);
    for n in 5..8 {
        op(&mut f, 100 * n, 100 * n + 10, 0, n, Outcome::Ok);
    }
    let report = f.report(1_000, "Available");
    assert_eq!(report.verdict, Verdict::Pass, "{report:?}");
    assert_eq!(
        report.detail,
        "overall 57.1% ok (4 of 7: 2 failed, 1 timed out)"
    );
}

#[test]
fn a_run_without_operations_is_available_and_each_outcome_counts_once() {
    let mut f = judge(&[available(1.0)], 0);
    let report = f.report(1_000, "Available");
    assert_eq!(report.verdict, Verdict::Pass);
    assert_eq!(
        report.detail,
        "overall 100.0% ok (0 of 0: 0 failed, 0 timed out)"
    );
    // One of each outcome: a third each.
    let mut f = judge(&[available(0.3)], 0);
    op(&mut f, 10, 20, 0, 1, Outcome::Ok);
    op(&mut f, 30, 40, 1, 2, Outcome::Fail);
    op(&mut f, 50, 60, 2, 3, Outcome::Info);
    let report = f.report(1_000, "Available");
    assert_eq!(
        report.detail,
        "overall 33.3% ok (1 of 3: 1 failed, 1 timed out)"
    );
    assert_eq!(report.verdict, Verdict::Pass);
}

#[test]
fn a_bridge_node_counts_on_each_of_its_sides_and_a_crash_ends_its_operations() {
    // {0,1} and {1,2}: node 1 bridges them. An operation of node 1 counts on
    // both sides; node 2's open operation ends, as timed out, when it
    // crashes; the partition lasts to the end of the run.
    let mut f = judge(&[available(0.5)], 0);
    partition(&mut f, 100, &[vec![0, 1], vec![1, 2]]);
    op(&mut f, 110, 120, 1, 1, Outcome::Ok);
    op(&mut f, 130, 140, 0, 2, Outcome::Ok);
    invoke(&mut f, 150, 2, 3);
    f.at::<Cache>(160, TraceEvent::Crash { node: 2 });
    let report = f.report(1_000, "Available");
    assert_eq!(
        report.detail,
        "overall 66.7% ok (2 of 3: 0 failed, 1 timed out); \
         partition 0.100s–1.000s side {0,1}: 100.0% (2 of 2); \
         partition 0.100s–1.000s side {1,2}: 50.0% (1 of 2)"
    );
    assert_eq!(report.verdict, Verdict::Pass, "{report:?}");
}

/// Key 0: version (1, 1) on every replica at 100 ms; a later write (2, 2)
/// reaches nodes 0 and 1 at 300 ms and node 2 at `third` ms, if ever.
fn copies(f: &mut Feed<CacheJudge>, third: Option<u64>) {
    op(f, 50, 100, 0, 1, Outcome::Ok);
    for node in 0..3 {
        stored(f, 100, node, 0, 1, 1);
    }
    op(f, 250, 300, 1, 2, Outcome::Ok);
    stored(f, 300, 0, 0, 2, 2);
    stored(f, 300, 1, 0, 2, 2);
    if let Some(third) = third {
        stored(f, third, 2, 0, 2, 2);
    }
}

#[test]
fn converges_judges_the_replicas_at_the_bound_after_the_last_fault_and_operation() {
    // The last operation ends at 300 ms, the last fault at 200 ms: the bound
    // of 400 ms runs to 700 ms. Node 2 catching up at 700 ms is in time.
    let mut f = judge(&[converges(400)], 200);
    copies(&mut f, Some(700));
    let report = f.report(2_000, "Converges");
    assert_eq!(report.verdict, Verdict::Pass, "{report:?}");
    assert_eq!(
        report.detail,
        "every key's up replicas agree from 0.700s, 400ms after 0.300s \
         (the last fault ended at 0.200s, the last operation at 0.300s)"
    );
    // At 701 ms it is late: the violation names the bound's instant, every
    // up replica of the key and what each holds.
    let mut f = judge(&[converges(400)], 200);
    copies(&mut f, Some(701));
    let report = f.report(2_000, "Converges");
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(report.violations.len(), 1);
    let violation = &report.violations[0];
    assert_eq!(violation.time, feed::ms(700));
    assert_eq!(violation.nodes, vec![0, 1, 2]);
    assert_eq!(
        violation.message,
        "key 0: at 0.700s, 400ms after 0.300s (the last fault ended at 0.200s, the last \
         operation at 0.300s), its up replicas still disagree: node 0 holds version (2, 2), \
         node 1 holds version (2, 2), node 2 holds version (1, 1)"
    );
}

#[test]
fn converges_counts_from_the_last_fault_when_it_ends_after_the_operations() {
    // The last fault ends at 600 ms, after the last operation (300 ms): the
    // bound runs from 600 ms, to 800 ms; node 2 at 750 ms agrees in time, and
    // the replicas agree from then, 150 ms after 600 ms.
    let mut f = judge(&[converges(200)], 600);
    copies(&mut f, Some(750));
    let report = f.report(2_000, "Converges");
    assert_eq!(report.verdict, Verdict::Pass, "{report:?}");
    assert_eq!(
        report.detail,
        "every key's up replicas agree from 0.750s, 150ms after 0.600s \
         (the last fault ended at 0.600s, the last operation at 0.300s)"
    );
}

#[test]
fn converges_leaves_out_a_replica_that_is_down_at_the_bound() {
    // Node 2 never gets version 2, but it crashed at 400 ms and is still
    // down at the bound (700 ms): the up replicas agree. Restarted at 650 ms
    // it is up again and stale at the bound.
    let mut f = judge(&[converges(400)], 200);
    copies(&mut f, None);
    f.at::<Cache>(400, TraceEvent::Crash { node: 2 });
    let report = f.report(6_000, "Converges");
    assert_eq!(report.verdict, Verdict::Pass, "{report:?}");
    assert!(report
        .detail
        .starts_with("every key's up replicas agree from 0.300s"));

    let mut f = judge(&[converges(400)], 200);
    copies(&mut f, None);
    f.at::<Cache>(400, TraceEvent::Crash { node: 2 });
    f.at::<Cache>(650, TraceEvent::Restart { node: 2 });
    let report = f.report(6_000, "Converges");
    assert_eq!(report.verdict, Verdict::Fail, "{report:?}");
    assert_eq!(report.violations[0].nodes, vec![0, 1, 2]);
}

#[test]
fn converges_says_when_the_run_ends_before_its_bound() {
    // The bound would end at 700 ms; a run ending at 699 ms cannot judge
    // it, and says so; at 700 ms it can.
    let mut f = judge(&[converges(400)], 200);
    copies(&mut f, Some(650));
    let report = f.report(699, "Converges");
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(report.violations[0].time, feed::ms(699));
    assert_eq!(
        report.violations[0].message,
        "cannot be judged within the run: the last fault ended at 0.200s, the last operation \
         at 0.300s, and the run ends at 0.699s, before 400ms later (give the clients a `stop`, \
         or the run more time)"
    );
    let mut f = judge(&[converges(400)], 200);
    copies(&mut f, Some(650));
    assert_eq!(f.report(700, "Converges").verdict, Verdict::Pass);
}

#[test]
fn an_operation_open_at_the_end_holds_converges_to_the_end() {
    // An operation that never completes ends with the run: the bound counts
    // from the end, which no run can outlast.
    let mut f = judge(&[converges(100)], 0);
    copies(&mut f, Some(300));
    invoke(&mut f, 900, 0, 9);
    let report = f.report(2_000, "Converges");
    assert_eq!(report.verdict, Verdict::Fail);
    assert!(
        report.violations[0]
            .message
            .contains("the last operation at 2.000s"),
        "{report:?}"
    );
}

/// The scenario's `checks` line replaced: the error's text.
fn check_error(checks: &str) -> String {
    let text = format!(
        r#"Scenario(
    name: "cache",
    seed: 1,
    duration: "5s",
    nodes: 3,
    network: (latency: Constant("5ms")),
    protocol: Cache(mode: Abd, replicas: 3, keys: 4, clients: [0, 1, 2], mix: (read: 0.5, write: 0.5)),
    checks: [{checks}],
    expect: Pass,
)"#
    );
    let registry = faultline::protocols::registry();
    match faultline::scenario::parse(&text, "bad.ron", &registry) {
        Ok(_) => panic!("accepted checks {checks:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_minimum_outside_0_to_1_and_an_empty_bound_are_rejected() {
    for (checks, words) in [
        (
            "Available(min: 1.5)",
            &["bad.ron:8:", "min", "not a probability"][..],
        ),
        (
            "Available(min: -0.1)",
            &["bad.ron:8:", "min", "not a probability"],
        ),
        (
            "Linearizable, Converges(\"0s\")",
            &["bad.ron:8:28:", "checks[1]", "longer than zero"],
        ),
    ] {
        let message = check_error(checks);
        for word in words {
            assert!(
                message.contains(word),
                "{checks}: {message:?} lacks {word:?}"
            );
        }
    }
}

#[test]
fn a_replica_down_from_the_bound_itself_is_left_out_and_one_back_at_it_is_judged() {
    // Down from 700 ms, the bound's instant: not judged.
    let mut f = judge(&[converges(400)], 200);
    copies(&mut f, None);
    f.at::<Cache>(700, TraceEvent::Crash { node: 2 });
    assert_eq!(f.report(2_000, "Converges").verdict, Verdict::Pass);
    // Down before it and back at 700 ms: up, stale, judged.
    let mut f = judge(&[converges(400)], 200);
    copies(&mut f, None);
    f.at::<Cache>(400, TraceEvent::Crash { node: 2 });
    f.at::<Cache>(700, TraceEvent::Restart { node: 2 });
    let report = f.report(2_000, "Converges");
    assert_eq!(report.verdict, Verdict::Fail, "{report:?}");
    assert!(report.violations[0]
        .message
        .ends_with("node 2 holds version (1, 1)"));
    // Back at 699 ms, having caught up at 699 ms: agreed.
    let mut f = judge(&[converges(400)], 200);
    copies(&mut f, None);
    f.at::<Cache>(400, TraceEvent::Crash { node: 2 });
    f.at::<Cache>(699, TraceEvent::Restart { node: 2 });
    stored(&mut f, 699, 2, 0, 2, 2);
    assert_eq!(f.report(2_000, "Converges").verdict, Verdict::Pass);
}

/// Client process `node` reads key 0 over [from, to] and gets `value`.
fn read(f: &mut Feed<CacheJudge>, from: u64, to: u64, node: NodeId, op: u64, value: Option<i64>) {
    let invoked = CacheObservation::Invoke {
        process: node as u64,
        client: node as usize,
        op,
        f: F::Read,
        key: 0,
        value: None,
        expected: None,
        coordinator: node,
    };
    f.observe::<Cache>(from, node, &invoked);
    let completed = CacheObservation::Complete {
        process: node as u64,
        client: node as usize,
        op,
        outcome: Outcome::Ok,
        f: F::Read,
        key: 0,
        value,
        version: None,
    };
    f.observe::<Cache>(to, node, &completed);
}

fn file_names(f: &Feed<CacheJudge>) -> Vec<String> {
    f.judge.files().into_iter().map(|(name, _)| name).collect()
}

#[test]
fn a_history_that_is_not_linearizable_gets_the_checkers_account_in_a_file() {
    // Write 1 completes at 20 ms; a read begun at 30 ms returns nothing.
    let mut f = judge(&[CacheCheck::Linearizable], 0);
    op(&mut f, 10, 20, 0, 1, Outcome::Ok);
    read(&mut f, 30, 40, 1, 2, None);
    let report = f.report(1_000, "Linearizable");
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(report.violations[0].nodes, vec![1]);
    assert_eq!(file_names(&f), ["history.jsonl", "linearizability.txt"]);
    // The read returned the value write 1 had overwritten before it began: a
    // stale read; nothing overlapped.
    assert_eq!(f.judge.metrics(feed::ms(1_000))["stale_reads"], 1.0);
    let coverage = f.judge.coverage();
    assert_eq!(coverage[1].name, "StaleRead");
    assert!(coverage[1].happened);
    assert_eq!(coverage[1].detail, "1 stale read(s)");
    assert!(!coverage[0].happened);
    // The same read returning 1 is linearizable: the history only.
    let mut f = judge(&[CacheCheck::Linearizable], 0);
    op(&mut f, 10, 20, 0, 1, Outcome::Ok);
    read(&mut f, 30, 40, 1, 2, Some(1));
    let report = f.report(1_000, "Linearizable");
    assert_eq!(report.verdict, Verdict::Pass);
    // Every key judged: the count of operations and keys, and the search's
    // steps, nothing "not judged".
    assert!(
        report.detail.starts_with("2 operations on 1 keys, ")
            && report.detail.ends_with(" search steps"),
        "{}",
        report.detail
    );
    assert_eq!(file_names(&f), ["history.jsonl"]);
}

fn invoke_read(f: &mut Feed<CacheJudge>, t: u64, node: NodeId, op: u64) {
    let invoked = CacheObservation::Invoke {
        process: node as u64,
        client: node as usize,
        op,
        f: F::Read,
        key: 0,
        value: None,
        expected: None,
        coordinator: node,
    };
    f.observe::<Cache>(t, node, &invoked);
}

fn complete_read(f: &mut Feed<CacheJudge>, t: u64, node: NodeId, op: u64, value: Option<i64>) {
    let completed = CacheObservation::Complete {
        process: node as u64,
        client: node as usize,
        op,
        outcome: Outcome::Ok,
        f: F::Read,
        key: 0,
        value,
        version: None,
    };
    f.observe::<Cache>(t, node, &completed);
}

/// The messages of a Linearizable report's violations.
fn linearizable_messages(f: &mut Feed<CacheJudge>) -> Vec<String> {
    let report = f.report(1_000, "Linearizable");
    assert_eq!(report.verdict, Verdict::Fail, "{report:?}");
    report.violations.into_iter().map(|v| v.message).collect()
}

#[test]
fn a_linearizability_violation_names_the_operation_no_order_explains() {
    // A read of nothing after write 1 completed: write 1 can come first,
    // leaving 1, and then the read cannot.
    let mut f = judge(&[CacheCheck::Linearizable], 0);
    op(&mut f, 10, 20, 0, 1, Outcome::Ok);
    read(&mut f, 30, 40, 1, 2, None);
    assert_eq!(
        linearizable_messages(&mut f),
        [
            "key 0: no order explains process 1 read nil [0.030000s, 0.040000s] ok: 1 \
          operation(s) can be ordered before it, leaving 1 (the last: process 0 write 1 \
          [0.010000s, 0.020000s] ok); no other operation is pending then"
        ]
    );
    // A read of a value never written, first thing: nothing comes before it.
    let mut f = judge(&[CacheCheck::Linearizable], 0);
    read(&mut f, 30, 40, 1, 2, Some(5));
    assert_eq!(
        linearizable_messages(&mut f),
        [
            "key 0: no order explains process 1 read 5 [0.030000s, 0.040000s] ok: no operation \
          can be ordered before it, and the key holds nil; no other operation is pending then"
        ]
    );
    // Two reads of values never written, overlapping, after write 1: the one
    // that completes first is named, the other listed as pending.
    let mut f = judge(&[CacheCheck::Linearizable], 0);
    op(&mut f, 10, 20, 0, 1, Outcome::Ok);
    invoke_read(&mut f, 30, 1, 2);
    invoke_read(&mut f, 35, 2, 3);
    complete_read(&mut f, 40, 1, 2, Some(5));
    complete_read(&mut f, 45, 2, 3, Some(7));
    assert_eq!(
        linearizable_messages(&mut f),
        [
            "key 0: no order explains process 1 read 5 [0.030000s, 0.040000s] ok: 1 \
          operation(s) can be ordered before it, leaving 1 (the last: process 0 write 1 \
          [0.010000s, 0.020000s] ok); the operations pending then: process 2 read 7 \
          [0.035000s, 0.045000s] ok (impossible there)"
        ]
    );
}

/// Write `op` completes ok with version (`counter`, `op`).
fn complete_with_version(f: &mut Feed<CacheJudge>, t: u64, node: NodeId, op: u64, counter: u64) {
    let observation = CacheObservation::Complete {
        process: node as u64,
        client: node as usize,
        op,
        outcome: Outcome::Ok,
        f: F::Write,
        key: 0,
        value: Some(op as i64),
        version: Some(Version { counter, op }),
    };
    f.observe::<Cache>(t, node, &observation);
}

fn write_with_version(
    f: &mut Feed<CacheJudge>,
    span: (u64, u64),
    node: NodeId,
    op: u64,
    counter: u64,
) {
    invoke(f, span.0, node, op);
    complete_with_version(f, span.1, node, op, counter);
}

#[test]
fn a_later_write_with_a_lower_version_is_lost_and_named_with_both_coordinators() {
    // Write 1 completes at 20 ms with version (5, 1); write 2, begun at 30 ms,
    // gets (3, 2): the replicas keep write 1.
    let mut f = judge(&[CacheCheck::NoLostWrites], 0);
    write_with_version(&mut f, (10, 20), 0, 1, 5);
    write_with_version(&mut f, (30, 40), 1, 2, 3);
    let report = f.report(1_000, "NoLostWrites");
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(report.violations.len(), 1);
    let violation = &report.violations[0];
    assert_eq!(violation.time, feed::ms(40));
    assert_eq!(violation.nodes, vec![0, 1]);
    assert_eq!(
        violation.message,
        "key 0: process 1 write 2 [0.030000s, 0.040000s] ok (coordinator 1) got version \
         (3, 2) although process 0 write 1 [0.010000s, 0.020000s] ok (coordinator 0) had \
         completed before it began with the higher version (5, 1): the replicas keep the \
         older write and discard the acknowledged later one"
    );
    assert!(report
        .detail
        .starts_with("2 acknowledged writes; VIOLATION"));
    // Overlapping writes may take either order: write 2 (3, 2) below write 1
    // (5, 1) is no loss when write 1 had not completed when write 2 began.
    // A write begun after both, with a version above both, is what should
    // happen.
    let mut f = judge(&[CacheCheck::NoLostWrites], 0);
    invoke(&mut f, 10, 0, 1);
    invoke(&mut f, 30, 1, 2);
    complete_with_version(&mut f, 35, 0, 1, 5);
    complete_with_version(&mut f, 40, 1, 2, 3);
    write_with_version(&mut f, (50, 60), 2, 3, 6);
    let report = f.report(1_000, "NoLostWrites");
    assert_eq!(report.verdict, Verdict::Pass, "{report:?}");
    assert_eq!(report.detail, "3 acknowledged writes");
    // Writes 1 and 2 overlapped: one operation (the later-invoked) overlapped
    // an earlier one.
    let coverage = f.judge.coverage();
    assert_eq!(coverage[0].name, "ConcurrentOperations");
    assert!(coverage[0].happened);
    assert_eq!(
        coverage[0].detail,
        "1 operation(s) overlapped another on their key, with a write"
    );
    assert_eq!(f.judge.metrics(feed::ms(1_000))["stale_reads"], 0.0);
}

#[test]
fn a_side_without_operations_is_not_listed() {
    let mut f = judge(&[available(0.5)], 0);
    partition(&mut f, 100, &[vec![0], vec![1, 2]]);
    op(&mut f, 110, 120, 0, 1, Outcome::Ok);
    heal(&mut f, 200);
    let report = f.report(1_000, "Available");
    assert_eq!(
        report.detail,
        "overall 100.0% ok (1 of 1: 0 failed, 0 timed out); \
         partition 0.100s–0.200s side {0}: 100.0% (1 of 1)"
    );
}

/// `count` partitions of {0,1} from {2}, one after another, each with a
/// failed operation on side {2}.
fn partitions_each_failing_side_2(count: u64) -> CheckReport {
    let mut f = judge(&[available(0.5)], 0);
    for i in 0..count {
        let t = 100 + i * 100;
        partition(&mut f, t, &[vec![0, 1], vec![2]]);
        op(&mut f, t + 10, t + 20, 0, 2 * i, Outcome::Ok);
        op(&mut f, t + 30, t + 40, 2, 2 * i + 1, Outcome::Fail);
        heal(&mut f, t + 50);
    }
    f.report(10_000, "Available")
}

#[test]
fn the_detail_lists_twelve_sides_at_most_and_every_violation_still_counts() {
    // Six partitions, twelve sides: each listed.
    let report = partitions_each_failing_side_2(6);
    assert_eq!(report.detail.matches("% (1 of 1)").count(), 6);
    assert_eq!(report.detail.matches("% (0 of 1)").count(), 6);
    assert_eq!(report.violations.len(), 6);
    // Seven, fourteen sides: none listed, each violation reported.
    let report = partitions_each_failing_side_2(7);
    assert!(
        report
            .detail
            .starts_with("overall 50.0% ok (7 of 14: 7 failed, 0 timed out); VIOLATION"),
        "{}",
        report.detail
    );
    assert!(!report.detail.contains("% (1 of 1)"), "{}", report.detail);
    assert_eq!(report.violations.len(), 7);
    assert!(report
        .violations
        .iter()
        .all(|v| v.nodes == vec![2] && v.message.contains("completed 0 of 1")));
}

/// `n` timed-out writes of 1 and `n` of 2, all open together, then 2n + 1
/// reads one after another, alternating 1 and 2: they need n + 1 writes of 1,
/// so the history is not linearizable, but refuting it means trying which
/// writes each read used.
fn alternating_reads(n: u64) -> Feed<CacheJudge> {
    let mut f = judge(&[CacheCheck::Linearizable], 0);
    for i in 0..2 * n {
        let invoked = CacheObservation::Invoke {
            process: 10 + i,
            client: 0,
            op: 100 + i,
            f: F::Write,
            key: 0,
            value: Some((i % 2 + 1) as i64),
            expected: None,
            coordinator: 0,
        };
        f.observe::<Cache>(10 + i, 0, &invoked);
    }
    for r in 0..2 * n + 1 {
        let value = Some((r % 2 + 1) as i64);
        read(&mut f, 100 + 10 * r, 105 + 10 * r, 1, 1000 + r, value);
    }
    f
}

#[test]
fn a_key_the_search_cannot_finish_is_reported_unjudged() {
    // Eight of each: refuted within the budget.
    let mut f = alternating_reads(8);
    assert_eq!(f.report(10_000, "Linearizable").verdict, Verdict::Fail);
    // Ten of each: the budget (2,000,000 steps) runs out. The key is named
    // as not judged; no violation is claimed.
    let mut f = alternating_reads(10);
    let report = f.report(10_000, "Linearizable");
    assert_eq!(
        report.detail,
        "41 operations on 1 keys, 2000000 search steps; not judged: the search budget ran \
         out on key(s) 0"
    );
    assert!(report.violations.is_empty());
}
