//! Consistent hashing's judge on hand-built runs, each written from the
//! check's definition in docs/protocols.md: Balance's figures and bound, the
//! fraction of keys each membership change moves, the disagreement between the
//! up nodes' views over time and when they converge, and the request counts.
//! The expected figures are counted here by brute force under `hash mod n`
//! (the Modulo scheme: a key's owner is the sorted members' entry at its hash
//! modulo their number). Milliseconds throughout; ten keys.

mod feed;

use faultline::check::{CheckReport, Verdict};
use faultline::harness::{HumanDuration, Judge};
use faultline::node::NodeId;
use faultline::protocols::hashing::placement::{key_hash, key_name, Scheme};
use faultline::protocols::hashing::{
    Hashing, HashingCheck, HashingJudge, HashingObservation, KeyDistribution, Membership,
};
use faultline::sim::{Fault, ScheduledFault, SimDuration, TraceEvent};
use feed::{ms, setup, violations, Feed};
use std::sync::Arc;
use std::time::Duration;

const KEYS: u64 = 10;

fn hashing(scheme: Scheme) -> Hashing {
    Hashing {
        scheme,
        replicas: 1,
        keys: KEYS,
        distribution: KeyDistribution::Uniform,
        interval: SimDuration::from_millis(100),
        timeout: SimDuration::from_millis(300),
        request_interval: SimDuration::from_millis(50),
        members_initial: vec![0, 1, 2],
        zipf_cdf: Arc::new(Vec::new()),
    }
}

fn checks(max_over_mean: f64, max_fraction: f64) -> Vec<HashingCheck> {
    vec![
        HashingCheck::Balance { max_over_mean },
        HashingCheck::Movement { max_fraction },
        HashingCheck::Converges(HumanDuration(Duration::from_millis(500))),
        HashingCheck::ViewsDisagreed,
    ]
}

/// A judge of a Modulo run whose faults end at `faults_end`, with these
/// scheduled membership changes.
fn judge_of(
    scheme: Scheme,
    checks: &[HashingCheck],
    faults: &[ScheduledFault],
    faults_end: u64,
) -> Feed<HashingJudge> {
    let setup = setup(4, 10_000, faults, faults_end, 10, &[false; 4]);
    Feed::new(HashingJudge::new(&hashing(scheme), checks, &setup), 4)
}

fn judge(faults_end: u64) -> Feed<HashingJudge> {
    judge_of(Scheme::Modulo, &checks(2.0, 0.5), &[], faults_end)
}

/// The owner of key `i` under `hash mod n` over `members`.
fn owner(members: &[NodeId], i: u64) -> NodeId {
    let mut members = members.to_vec();
    members.sort_unstable();
    members[(key_hash(key_name(i).as_bytes()) % members.len() as u64) as usize]
}

/// Keys whose owner differs between the two memberships.
fn moved(before: &[NodeId], after: &[NodeId]) -> usize {
    (0..KEYS)
        .filter(|&i| owner(before, i) != owner(after, i))
        .count()
}

fn view(f: &mut Feed<HashingJudge>, t: u64, node: NodeId, members: &[NodeId]) {
    let observation = HashingObservation::View {
        members: members.to_vec(),
    };
    f.observe::<Hashing>(t, node, &observation);
}

fn routed(f: &mut Feed<HashingJudge>, t: u64, node: NodeId, id: u64) {
    let observation = HashingObservation::Routed { id, key: 0, to: 1 };
    f.observe::<Hashing>(t, node, &observation);
}

fn served(f: &mut Feed<HashingJudge>, t: u64, from: NodeId, id: u64, owner: bool) {
    let observation = HashingObservation::Served {
        from,
        id,
        key: 0,
        owner,
    };
    f.observe::<Hashing>(t, 1, &observation);
}

fn converges(f: &mut Feed<HashingJudge>, end: u64) -> CheckReport {
    f.report(end, "Converges")
}

#[test]
fn balance_reports_the_busiest_node_over_the_mean() {
    let loads: Vec<usize> = (0..3)
        .map(|node| (0..KEYS).filter(|&i| owner(&[0, 1, 2], i) == node).count())
        .collect();
    let mean = KEYS as f64 / 3.0;
    let max = *loads.iter().max().unwrap();
    let busiest = loads.iter().position(|&l| l == max).unwrap() as NodeId;
    let max_over_mean = max as f64 / mean;
    let variance = loads
        .iter()
        .map(|&l| (l as f64 - mean).powi(2))
        .sum::<f64>()
        / 3.0;
    let cv = variance.sqrt() / mean;
    let detail = format!(
        "10 keys on 3 nodes: max/mean {max_over_mean:.3}, coefficient of variation {cv:.4}"
    );
    assert!(max_over_mean > 1.0, "an uneven split: {loads:?}");

    // At the bound: passes.
    let mut f = judge_of(Scheme::Modulo, &checks(max_over_mean, 1.0), &[], 0);
    let report = f.report(1000, "Balance");
    assert_eq!(
        (report.verdict, report.detail.as_str()),
        (Verdict::Pass, detail.as_str())
    );

    // Just under it: the busiest node is named.
    let limit = max_over_mean - 0.01;
    let mut f = judge_of(Scheme::Modulo, &checks(limit, 1.0), &[], 0);
    let report = f.report(1000, "Balance");
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(report.violations.len(), 1);
    assert_eq!(report.violations[0].nodes, [busiest]);
    assert_eq!(
        report.violations[0].message,
        format!("max/mean {max_over_mean:.3} exceeds {limit}")
    );
}

#[test]
fn balance_on_a_ring_gives_the_theory() {
    let mut f = judge_of(Scheme::Ring { vnodes: 4 }, &checks(10.0, 1.0), &[], 0);
    let report = f.report(1000, "Balance");
    assert!(
        report.detail.ends_with(", theory 1/sqrt(4) = 0.5000"),
        "{}",
        report.detail
    );
}

fn join_and_leave() -> Vec<ScheduledFault> {
    vec![
        ScheduledFault {
            at: ms(1000),
            fault: Fault::Join { node: 3 },
        },
        ScheduledFault {
            at: ms(2000),
            fault: Fault::Leave { node: 1 },
        },
        ScheduledFault {
            at: ms(2500),
            fault: Fault::Crash { node: 2 },
        },
    ]
}

#[test]
fn movement_gives_the_fraction_each_change_moves_and_fails_above_the_bound() {
    let joined = moved(&[0, 1, 2], &[0, 1, 2, 3]);
    let left = moved(&[0, 1, 2, 3], &[0, 2, 3]);
    let percent = |keys: usize| 100.0 * keys as f64 / KEYS as f64;
    let detail = format!(
        "Join(3) at 1.000s: {:.1}% of keys moved; Leave(1) at 2.000s: {:.1}% of keys moved",
        percent(joined),
        percent(left)
    );
    // A bound at the larger fraction passes; one under the smaller fails both.
    let faults = join_and_leave();
    let high = joined.max(left) as f64 / KEYS as f64;
    let mut f = judge_of(Scheme::Modulo, &checks(10.0, high), &faults, 2500);
    let report = f.report(3000, "Movement");
    assert_eq!(
        (report.verdict, report.detail.as_str()),
        (Verdict::Pass, detail.as_str())
    );

    let limit = joined.min(left) as f64 / KEYS as f64 - 0.05;
    let mut f = judge_of(Scheme::Modulo, &checks(10.0, limit), &faults, 2500);
    let report = f.report(3000, "Movement");
    let found = violations(&report);
    let message = |change: &str, keys: usize| {
        format!(
            "{change} moved {:.1}% of keys, more than {:.1}%",
            percent(keys),
            100.0 * limit
        )
    };
    assert_eq!(
        found,
        [
            (1000, vec![3], message("Join(3)", joined)),
            (2000, vec![1], message("Leave(1)", left)),
        ]
    );
}

#[test]
fn memberships_follow_the_scheduled_changes() {
    let faults = join_and_leave();
    let f = judge_of(Scheme::Modulo, &checks(10.0, 1.0), &faults, 2500);
    let memberships: Vec<(u64, Vec<NodeId>)> = f
        .judge
        .memberships()
        .into_iter()
        .map(|(t, m)| (t.as_nanos() / 1_000_000, m))
        .collect();
    assert_eq!(
        memberships,
        [
            (0, vec![0, 1, 2]),
            (1000, vec![0, 1, 2, 3]),
            (2000, vec![0, 2, 3])
        ]
    );
    let movements: Vec<(u64, Membership)> = f
        .judge
        .movements()
        .into_iter()
        .map(|(t, change, _)| (t.as_nanos() / 1_000_000, change))
        .collect();
    assert_eq!(
        movements,
        [(1000, Membership::Join(3)), (2000, Membership::Leave(1))]
    );
}

#[test]
fn no_membership_change_moves_nothing() {
    let mut f = judge(0);
    let report = f.report(1000, "Movement");
    assert_eq!(report.detail, "no membership change scheduled");
}

/// The fraction of keys on which a node with view `a` and one with view `b`
/// disagree.
fn disagreeing(a: &[NodeId], b: &[NodeId]) -> f64 {
    moved(a, b) as f64 / KEYS as f64
}

#[test]
fn disagreement_is_the_share_of_keys_the_up_views_give_different_owners() {
    let mut f = judge(0);
    view(&mut f, 100, 0, &[0, 1, 2]);
    assert_eq!(
        f.judge.series,
        [(ms(100), 0.0)],
        "one view agrees with itself"
    );
    view(&mut f, 110, 1, &[0, 1, 2]);
    view(&mut f, 120, 2, &[0, 1]);
    let split = disagreeing(&[0, 1, 2], &[0, 1]);
    assert!(split > 0.0);
    view(&mut f, 130, 1, &[0, 1]);
    f.at::<Hashing>(140, TraceEvent::Crash { node: 0 });
    let series: Vec<(u64, f64)> = f
        .judge
        .series
        .iter()
        .map(|&(t, v)| (t.as_nanos() / 1_000_000, v))
        .collect();
    assert_eq!(series, [(100, 0.0), (120, split), (140, 0.0)]);
    // One view left, then none: nothing to disagree, the series stays at 0.
    f.at::<Hashing>(150, TraceEvent::Crash { node: 1 });
    f.at::<Hashing>(160, TraceEvent::Crash { node: 2 });
    assert_eq!(f.judge.series.len(), 3);
    assert_eq!(f.judge.series.last(), Some(&(ms(140), 0.0)));
    assert_eq!(f.judge.disagreement_peak(), split);
    let coverage = f.judge.coverage();
    assert_eq!(
        (coverage[0].happened, coverage[0].detail.clone()),
        (
            true,
            format!("peak disagreement {:.1}% of sampled keys", 100.0 * split)
        )
    );
    assert_eq!(f.judge.metrics(ms(1000))["disagreement_peak"], split);
}

#[test]
fn views_that_never_disagree_are_no_coverage() {
    let mut f = judge(0);
    view(&mut f, 100, 0, &[0, 1, 2]);
    view(&mut f, 110, 1, &[0, 1, 2]);
    assert!(!f.judge.coverage()[0].happened);
    let report = converges(&mut f, 1000);
    assert_eq!(report.verdict, Verdict::Pass);
    assert!(
        report.detail.starts_with(
            "views agree again 0ms after the last fault at 0.000s (peak disagreement 0.0% of keys)"
        ),
        "{}",
        report.detail
    );
}

/// Faults end at 1500; views disagree from 1200 until `agree_at`, if ever.
fn split_until(agree_at: Option<u64>) -> Feed<HashingJudge> {
    let mut f = judge(1500);
    view(&mut f, 100, 0, &[0, 1, 2]);
    view(&mut f, 110, 1, &[0, 1, 2]);
    view(&mut f, 1200, 1, &[0, 1]);
    if let Some(t) = agree_at {
        view(&mut f, t, 1, &[0, 1, 2]);
    }
    f
}

#[test]
fn views_agreeing_by_the_bound_converge() {
    for (at, after) in [(1400, "0ms"), (1700, "200ms"), (2000, "500ms")] {
        let mut f = split_until(Some(at));
        let report = converges(&mut f, 5000);
        assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
        let peak = 100.0 * disagreeing(&[0, 1, 2], &[0, 1]);
        assert!(
            report.detail.starts_with(&format!("views agree again {after} after the last fault at 1.500s (peak disagreement {peak:.1}% of keys); ")),
            "{}",
            report.detail
        );
    }
}

#[test]
fn views_still_apart_after_the_bound_fail_at_the_deadline() {
    for agree_at in [Some(2001), None] {
        let mut f = split_until(agree_at);
        let report = converges(&mut f, 5000);
        assert_eq!(report.verdict, Verdict::Fail, "{}", report.detail);
        assert_eq!(report.violations.len(), 1);
        assert_eq!(report.violations[0].time, ms(2000));
        assert!(report.violations[0].nodes.is_empty());
        assert_eq!(
            report.violations[0].message,
            "membership views still disagree 500ms after the last fault at 1.500s"
        );
    }
    let mut f = split_until(None);
    assert_eq!(converges(&mut f, 2000).verdict, Verdict::Fail);
    let mut f = split_until(None);
    let report = converges(&mut f, 1999);
    assert_eq!(report.verdict, Verdict::Pass);
    assert!(
        report
            .detail
            .starts_with("not judged: the run ends before 2.000s; "),
        "{}",
        report.detail
    );
}

#[test]
fn requests_are_counted_routed_misrouted_and_never_served() {
    let mut f = judge(0);
    routed(&mut f, 100, 0, 1);
    routed(&mut f, 110, 0, 2);
    routed(&mut f, 120, 2, 1);
    served(&mut f, 130, 0, 1, true);
    served(&mut f, 140, 2, 1, false);
    assert_eq!(f.judge.failed_at(), [ms(110)]);
    assert_eq!(f.judge.misrouted_at, [ms(140)]);
    let coverage = f.judge.coverage();
    assert_eq!(
        (coverage[1].happened, coverage[1].detail.as_str()),
        (true, "1 request(s) misrouted")
    );
    assert_eq!(f.judge.metrics(ms(1000))["misrouted"], 1.0);
    let report = converges(&mut f, 1000);
    assert!(
        report.detail.ends_with("; 3 requests routed, 1 misrouted (the receiver's view did not make it an owner), 1 never served (lost, or owner unreachable)"),
        "{}",
        report.detail
    );
    let f = judge(0);
    assert!(!f.judge.coverage()[1].happened);
}

#[test]
fn every_listed_check_is_reported_in_order_and_coverage_is_left_to_coverage() {
    let mut f = judge(0);
    let names: Vec<&str> = f.reports(1000).iter().map(|r| r.name).collect();
    assert_eq!(names, ["Balance", "Movement", "Converges"]);
}
