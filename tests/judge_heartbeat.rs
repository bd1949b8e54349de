//! The heartbeat detector's judge on hand-built sequences of faults and
//! suspicions, each written from the check's definition in docs/protocols.md
//! (Chandra and Toueg's strong completeness with a bound; accuracy with a
//! look-back window): verdicts at the boundaries of every rule, the nodes and
//! times a violation names, the detection times and other figures a user
//! reads, and the intervals the chart draws. Milliseconds throughout; three
//! nodes; heartbeats every 100 ms, a 300 ms timeout and a 10 ms latency bound,
//! so the look-back window is 410 ms; Completeness within 500 ms.

mod feed;

use faultline::check::{CheckReport, Verdict};
use faultline::harness::{HumanDuration, Judge};
use faultline::node::NodeId;
use faultline::protocols::heartbeat::{
    Heartbeat, HeartbeatCheck, HeartbeatJudge, HeartbeatVariant, Suspicion, SuspicionInterval,
};
use faultline::sim::{SimDuration, TraceEvent};
use feed::{ms, setup, violations, Feed};
use std::time::Duration;

type F = Feed<HeartbeatJudge>;

fn checks() -> Vec<HeartbeatCheck> {
    vec![
        HeartbeatCheck::Completeness {
            within: HumanDuration(Duration::from_millis(500)),
        },
        HeartbeatCheck::Accuracy,
        HeartbeatCheck::CrashDetected,
    ]
}

fn judge_with_absent(absent: &[bool]) -> F {
    let protocol = Heartbeat {
        interval: SimDuration::from_millis(100),
        timeout: SimDuration::from_millis(300),
        variant: HeartbeatVariant::Correct,
    };
    let nodes = absent.len() as u32;
    let setup = setup(nodes, 10_000, &[], 0, 10, absent);
    let mut f = Feed::new(HeartbeatJudge::new(&protocol, &checks(), &setup), nodes);
    for (node, &absent) in absent.iter().enumerate() {
        if absent {
            f.absent(node as NodeId);
        }
    }
    f
}

fn judge() -> F {
    judge_with_absent(&[false; 3])
}

fn suspect(f: &mut F, t: u64, observer: NodeId, peer: NodeId) {
    f.observe::<Heartbeat>(t, observer, &Suspicion::Suspect { peer });
}

fn trust(f: &mut F, t: u64, observer: NodeId, peer: NodeId) {
    f.observe::<Heartbeat>(t, observer, &Suspicion::Trust { peer });
}

fn crash(f: &mut F, t: u64, node: NodeId) {
    f.at::<Heartbeat>(t, TraceEvent::Crash { node });
}

fn restart(f: &mut F, t: u64, node: NodeId) {
    f.at::<Heartbeat>(t, TraceEvent::Restart { node });
}

fn pause(f: &mut F, t: u64, node: NodeId, until: u64) {
    let duration = SimDuration::from_millis(until - t);
    f.at::<Heartbeat>(t, TraceEvent::Pause { node, duration });
}

fn resume(f: &mut F, t: u64, node: NodeId) {
    f.at::<Heartbeat>(t, TraceEvent::Resume { node });
}

fn cut(f: &mut F, t: u64, from: NodeId, to: NodeId) {
    f.at::<Heartbeat>(t, TraceEvent::CutLink { from, to });
}

fn restore(f: &mut F, t: u64, from: NodeId, to: NodeId) {
    f.at::<Heartbeat>(t, TraceEvent::RestoreLink { from, to });
}

fn completeness(f: &mut F, end: u64) -> CheckReport {
    f.report(end, "Completeness")
}

fn accuracy(f: &mut F, end: u64) -> CheckReport {
    f.report(end, "Accuracy")
}

/// Each suspicion interval as (observer, suspect, start, end, mistake, cause).
fn intervals(f: &F) -> Vec<(NodeId, NodeId, u64, Option<u64>, bool, String)> {
    let millis = |t: faultline::sim::SimTime| t.as_nanos() / 1_000_000;
    f.judge
        .intervals()
        .iter()
        .map(|i: &SuspicionInterval| {
            (
                i.observer,
                i.suspect,
                millis(i.start),
                i.end.map(millis),
                i.mistake,
                i.cause.clone(),
            )
        })
        .collect()
}

// Completeness.

#[test]
fn a_crash_suspected_by_everyone_in_time_passes_with_its_detection_times() {
    let mut f = judge();
    crash(&mut f, 1000, 1);
    suspect(&mut f, 1400, 0, 1);
    suspect(&mut f, 1450, 2, 1);
    let report = completeness(&mut f, 3000);
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
    assert_eq!(
        report.detail,
        "1 crash(es) judged against the 500ms bound (0 too short to judge, 0 too close to the end); slowest first detection 450ms; first detection times: 1 by 0 in 400ms, 1 by 2 in 450ms"
    );
    let metrics = f.judge.metrics(ms(3000));
    assert_eq!(metrics["detection_time_max_s"], 0.45);
    assert!(
        (metrics["detection_time_mean_s"] - 0.425).abs() < 1e-12,
        "{metrics:?}"
    );
    assert_eq!(metrics["false_suspicions"], 0.0);
    let coverage = f.judge.coverage();
    assert_eq!(
        (coverage[0].happened, coverage[0].detail.as_str()),
        (true, "2 first detection(s) of crashes")
    );
    let report = accuracy(&mut f, 3000);
    assert_eq!(report.verdict, Verdict::Pass);
    assert_eq!(
        report.detail,
        "0 false suspicion(s); 2 suspicion(s) explained by crashes, partitions or cut links (expected, not mistakes)"
    );
}

#[test]
fn no_crash_no_detection() {
    let mut f = judge();
    let report = completeness(&mut f, 3000);
    assert_eq!(
        report.detail,
        "0 crash(es) judged against the 500ms bound (0 too short to judge, 0 too close to the end)"
    );
    let coverage = f.judge.coverage();
    assert!(!coverage[0].happened);
    assert!(!f
        .judge
        .metrics(ms(3000))
        .contains_key("detection_time_max_s"));
}

#[test]
fn a_crash_not_suspected_by_the_deadline_fails_naming_the_observer() {
    let mut f = judge();
    crash(&mut f, 1000, 1);
    suspect(&mut f, 1400, 0, 1);
    suspect(&mut f, 1501, 2, 1);
    let report = completeness(&mut f, 3000);
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(
        violations(&report),
        [(
            1500,
            vec![1, 2],
            "node 1 crashed at 1.000s and was not suspected by node 2 at 1.500s, 500ms later"
                .to_string()
        )]
    );
    // Late, but timed all the same.
    assert!(
        report.detail.contains("1 by 2 in 501ms"),
        "{}",
        report.detail
    );
}

#[test]
fn a_suspicion_at_the_deadline_itself_is_in_time() {
    let mut f = judge();
    crash(&mut f, 1000, 1);
    suspect(&mut f, 1500, 0, 1);
    suspect(&mut f, 1500, 2, 1);
    suspect(&mut f, 1600, 2, 0);
    let report = completeness(&mut f, 3000);
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
}

#[test]
fn a_deadline_at_the_end_of_the_run_is_judged_and_one_past_it_is_not() {
    let mut f = judge();
    crash(&mut f, 1000, 1);
    let report = completeness(&mut f, 1500);
    assert_eq!(report.verdict, Verdict::Fail, "{}", report.detail);
    assert_eq!(report.violations.len(), 2, "by nodes 0 and 2");
    assert!(report.detail.starts_with(
        "1 crash(es) judged against the 500ms bound (0 too short to judge, 0 too close to the end)"
    ));

    let mut f = judge();
    crash(&mut f, 1000, 1);
    let report = completeness(&mut f, 1499);
    assert_eq!(report.verdict, Verdict::Pass);
    assert!(
        report.detail.starts_with("0 crash(es) judged against the 500ms bound (0 too short to judge, 1 too close to the end)"),
        "{}",
        report.detail
    );
}

#[test]
fn a_crash_no_longer_than_the_bound_is_not_judged() {
    for restart_at in [1300, 1500] {
        let mut f = judge();
        crash(&mut f, 1000, 1);
        restart(&mut f, restart_at, 1);
        let report = completeness(&mut f, 3000);
        assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
        assert!(report.detail.starts_with("0 crash(es) judged against the 500ms bound (1 too short to judge, 0 too close to the end)"), "{}", report.detail);
    }
    let mut f = judge();
    crash(&mut f, 1000, 1);
    restart(&mut f, 1501, 1);
    let report = completeness(&mut f, 3000);
    assert_eq!(report.verdict, Verdict::Fail, "{}", report.detail);
    assert_eq!(report.violations.len(), 2);
    assert!(
        report.detail.starts_with("1 crash(es) judged"),
        "{}",
        report.detail
    );
}

#[test]
fn trusting_a_crashed_node_again_fails_once_per_crash() {
    let mut f = judge();
    crash(&mut f, 1000, 1);
    suspect(&mut f, 1400, 0, 1);
    suspect(&mut f, 1400, 2, 1);
    trust(&mut f, 1600, 0, 1);
    suspect(&mut f, 1650, 0, 1);
    trust(&mut f, 1700, 0, 1);
    let report = completeness(&mut f, 3000);
    assert_eq!(
        violations(&report),
        [(
            1600,
            vec![1, 0],
            "node 1 crashed at 1.000s and was trusted again by node 0 at 1.600s while still crashed".to_string()
        )]
    );
    let coverage = f.judge.coverage();
    assert_eq!(
        (coverage[1].happened, coverage[1].detail.as_str()),
        (true, "2 suspicion(s) taken back")
    );
}

#[test]
fn trusting_before_the_deadline_is_judged_at_the_deadline() {
    let mut f = judge();
    crash(&mut f, 1000, 1);
    suspect(&mut f, 1100, 0, 1);
    suspect(&mut f, 1100, 2, 1);
    trust(&mut f, 1500, 0, 1);
    suspect(&mut f, 1600, 0, 1);
    let report = completeness(&mut f, 3000);
    assert_eq!(
        violations(&report),
        [(
            1500,
            vec![1, 0],
            "node 1 crashed at 1.000s and was not suspected by node 0 at 1.500s, 500ms later"
                .to_string()
        )]
    );
    // Trusting a node that is up is no completeness matter.
    let mut f = judge();
    suspect(&mut f, 1100, 0, 1);
    trust(&mut f, 1200, 0, 1);
    assert_eq!(completeness(&mut f, 3000).verdict, Verdict::Pass);
}

#[test]
fn each_crash_of_a_node_is_its_own_obligation() {
    let mut f = judge();
    crash(&mut f, 1000, 1);
    suspect(&mut f, 1100, 0, 1);
    suspect(&mut f, 1100, 2, 1);
    restart(&mut f, 1600, 1);
    trust(&mut f, 1700, 0, 1);
    trust(&mut f, 1700, 2, 1);
    crash(&mut f, 2000, 1);
    suspect(&mut f, 2300, 2, 1);
    let report = completeness(&mut f, 4000);
    assert_eq!(
        violations(&report),
        [(
            2500,
            vec![1, 0],
            "node 1 crashed at 2.000s and was not suspected by node 0 at 2.500s, 500ms later"
                .to_string()
        )]
    );
    assert!(
        report
            .detail
            .contains("first detection times: 1 by 0 in 100ms, 1 by 2 in 100ms, 1 by 2 in 300ms"),
        "{}",
        report.detail
    );
}

#[test]
fn every_observer_misses_every_crash_on_its_own() {
    // Four nodes: 2 and 3 crash at the same instant, and neither 0 nor 1
    // suspects anyone. Four obligations, four violations.
    let mut f = judge_with_absent(&[false; 4]);
    crash(&mut f, 1000, 2);
    crash(&mut f, 1000, 3);
    let report = completeness(&mut f, 3000);
    let pairs: Vec<(u64, Vec<NodeId>)> = violations(&report)
        .into_iter()
        .map(|(t, nodes, _)| (t, nodes))
        .collect();
    assert_eq!(
        pairs,
        [
            (1500, vec![2, 0]),
            (1500, vec![3, 0]),
            (1500, vec![2, 1]),
            (1500, vec![3, 1]),
        ]
    );
}

#[test]
fn a_paused_observer_counts_from_when_it_resumes() {
    let mut f = judge();
    pause(&mut f, 900, 2, 1200);
    crash(&mut f, 1000, 1);
    resume(&mut f, 1200, 2);
    suspect(&mut f, 1400, 0, 1);
    suspect(&mut f, 1650, 2, 1);
    let report = completeness(&mut f, 3000);
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
    assert!(
        report.detail.contains("1 by 2 in 450ms"),
        "{}",
        report.detail
    );

    let mut f = judge();
    pause(&mut f, 900, 2, 1200);
    crash(&mut f, 1000, 1);
    resume(&mut f, 1200, 2);
    suspect(&mut f, 1400, 0, 1);
    let report = completeness(&mut f, 3000);
    assert_eq!(
        violations(&report),
        [(
            1700,
            vec![1, 2],
            "node 1 crashed at 1.000s and was not suspected by node 2 at 1.700s, 500ms later"
                .to_string()
        )]
    );
}

#[test]
fn an_observer_down_at_its_deadline_owes_nothing_until_it_is_back() {
    let mut f = judge();
    crash(&mut f, 1000, 1);
    suspect(&mut f, 1400, 0, 1);
    crash(&mut f, 1450, 2);
    let report = completeness(&mut f, 1850);
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
    restart(&mut f, 1900, 2);
    let report = completeness(&mut f, 2400);
    assert_eq!(
        violations(&report),
        [(
            2400,
            vec![1, 2],
            "node 1 crashed at 1.000s and was not suspected by node 2 at 2.400s, 500ms later"
                .to_string()
        )]
    );
}

#[test]
fn a_node_that_has_not_joined_is_crashed_from_the_start() {
    let mut f = judge_with_absent(&[false, false, true]);
    suspect(&mut f, 400, 0, 2);
    let report = completeness(&mut f, 2000);
    assert_eq!(
        violations(&report),
        [(
            500,
            vec![2, 1],
            "node 2 crashed at 0.000s and was not suspected by node 1 at 0.500s, 500ms later"
                .to_string()
        )]
    );
    // It joins: no longer owed.
    let mut f = judge_with_absent(&[false, false, true]);
    suspect(&mut f, 400, 0, 2);
    suspect(&mut f, 400, 1, 2);
    f.at::<Heartbeat>(450, TraceEvent::Join { node: 2 });
    trust(&mut f, 600, 0, 2);
    let report = completeness(&mut f, 2000);
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
}

#[test]
fn a_node_that_leaves_stays_crashed() {
    let mut f = judge();
    f.at::<Heartbeat>(1000, TraceEvent::Leave { node: 1 });
    suspect(&mut f, 1400, 0, 1);
    let report = completeness(&mut f, 3000);
    assert_eq!(report.violations.len(), 1, "{}", report.detail);
    assert_eq!(report.violations[0].nodes, [1, 2]);
}

#[test]
fn a_crash_already_suspected_is_detected_at_once() {
    let mut f = judge();
    suspect(&mut f, 900, 0, 1);
    crash(&mut f, 1000, 1);
    suspect(&mut f, 1200, 2, 1);
    let report = completeness(&mut f, 3000);
    assert!(
        report
            .detail
            .contains("first detection times: 1 by 0 in 0ms, 1 by 2 in 200ms"),
        "{}",
        report.detail
    );
    // An observer paused through the crash, still suspecting, detects it
    // when it resumes.
    let mut f = judge();
    suspect(&mut f, 400, 0, 1);
    pause(&mut f, 500, 0, 1200);
    crash(&mut f, 1000, 1);
    suspect(&mut f, 1100, 2, 1);
    resume(&mut f, 1200, 0);
    let report = completeness(&mut f, 3000);
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
    assert!(
        report
            .detail
            .ends_with("first detection times: 1 by 2 in 100ms, 1 by 0 in 0ms"),
        "{}",
        report.detail
    );
}

#[test]
fn a_crash_wipes_the_crashed_nodes_suspicions() {
    let mut f = judge();
    suspect(&mut f, 500, 0, 2);
    suspect(&mut f, 600, 1, 2);
    crash(&mut f, 1000, 0);
    let found = intervals(&f);
    assert_eq!(found[0].3, Some(1000), "{found:?}");
    assert_eq!(found[1].3, None, "{found:?}");
}

/// `crashes` crashes of node 1, each detected by nodes 0 and 2 in 100 ms.
fn detected_crashes(crashes: u64) -> CheckReport {
    let mut f = judge();
    for i in 0..crashes {
        let t = 1000 + i * 1000;
        crash(&mut f, t, 1);
        suspect(&mut f, t + 100, 0, 1);
        suspect(&mut f, t + 100, 2, 1);
        restart(&mut f, t + 600, 1);
        trust(&mut f, t + 700, 0, 1);
        trust(&mut f, t + 700, 2, 1);
    }
    completeness(&mut f, 30_000)
}

#[test]
fn only_the_first_forty_detections_are_listed() {
    let report = detected_crashes(21);
    assert_eq!(
        report.detail.matches(" in 100ms").count(),
        40,
        "{}",
        report.detail
    );
    assert!(
        report.detail.ends_with("1 by 2 in 100ms and 2 more"),
        "{}",
        report.detail
    );
    assert!(
        report.detail.starts_with("21 crash(es) judged"),
        "{}",
        report.detail
    );
    // Exactly forty: all listed, nothing "more".
    let report = detected_crashes(20);
    assert_eq!(report.detail.matches(" in 100ms").count(), 40);
    assert!(
        report.detail.ends_with("1 by 2 in 100ms"),
        "{}",
        report.detail
    );
}

// Accuracy.

#[test]
fn a_suspicion_nothing_explains_is_a_mistake_naming_both_nodes() {
    let mut f = judge();
    suspect(&mut f, 1000, 0, 1);
    trust(&mut f, 1200, 0, 1);
    suspect(&mut f, 1300, 2, 1);
    let report = accuracy(&mut f, 3000);
    assert_eq!(report.verdict, Verdict::Fail);
    let cause = "no fault explains it: heartbeats were lost or slower than the timeout";
    assert_eq!(
        violations(&report),
        [
            (
                1000,
                vec![0, 1],
                format!("node 0 falsely suspected node 1 ({cause})")
            ),
            (
                1300,
                vec![2, 1],
                format!("node 2 falsely suspected node 1 ({cause})")
            ),
        ]
    );
    assert_eq!(
        report.detail,
        format!("2 false suspicion(s); 0 suspicion(s) explained by crashes, partitions or cut links (expected, not mistakes); node 0 suspected node 1 at 1.000s for 200ms ({cause}); node 2 suspected node 1 at 1.300s until the end ({cause})")
    );
    assert_eq!(f.judge.metrics(ms(3000))["false_suspicions"], 2.0);
}

/// `count` false suspicions of node 1 by node 0, each lasting 5 ms.
fn mistakes(count: u64) -> CheckReport {
    let mut f = judge();
    for i in 0..count {
        suspect(&mut f, 1000 + i * 10, 0, 1);
        trust(&mut f, 1005 + i * 10, 0, 1);
    }
    accuracy(&mut f, 3000)
}

#[test]
fn only_the_first_twenty_mistakes_are_described() {
    let report = mistakes(21);
    assert_eq!(report.violations.len(), 21);
    assert_eq!(report.detail.matches("for 5ms").count(), 20);
    assert!(report.detail.ends_with("; and 1 more"), "{}", report.detail);
    // Exactly twenty: all described, nothing "more".
    let report = mistakes(20);
    assert_eq!(report.violations.len(), 20);
    assert_eq!(report.detail.matches("for 5ms").count(), 20);
    assert!(!report.detail.contains("more"), "{}", report.detail);
}

#[test]
fn a_suspicion_within_the_window_after_a_crash_is_explained() {
    for (at, mistake) in [(1300, false), (1510, false), (1511, true)] {
        let mut f = judge();
        crash(&mut f, 1000, 1);
        restart(&mut f, 1100, 1);
        suspect(&mut f, at, 0, 1);
        let found = intervals(&f);
        assert_eq!(found[0].4, mistake, "suspected at {at}: {found:?}");
        if !mistake {
            assert_eq!(found[0].5, "node 1 crashed");
        }
    }
}

#[test]
fn a_suspicion_while_the_link_from_the_suspect_is_down_is_explained() {
    let mut f = judge();
    cut(&mut f, 1000, 1, 0);
    suspect(&mut f, 1300, 0, 1);
    suspect(&mut f, 1300, 1, 0);
    let found = intervals(&f);
    assert_eq!(
        (found[0].4, found[0].5.as_str()),
        (false, "link 1->0 was down")
    );
    assert!(found[1].4, "the link 0->1 is up: {found:?}");
    for (at, mistake) in [(1510, false), (1511, true)] {
        let mut f = judge();
        cut(&mut f, 1000, 1, 0);
        restore(&mut f, 1100, 1, 0);
        suspect(&mut f, at, 0, 1);
        assert_eq!(intervals(&f)[0].4, mistake, "suspected at {at}");
    }
}

#[test]
fn a_partition_explains_suspicions_across_it() {
    let mut f = judge();
    f.at::<Heartbeat>(
        1000,
        TraceEvent::Partition {
            groups: &[vec![0], vec![1, 2]],
        },
    );
    suspect(&mut f, 1300, 0, 1);
    suspect(&mut f, 1300, 2, 1);
    let found = intervals(&f);
    assert_eq!(
        (found[0].4, found[0].5.as_str()),
        (false, "link 1->0 was down")
    );
    assert!(found[1].4, "{found:?}");
}

#[test]
fn a_suspicion_held_past_the_window_after_the_suspect_is_back_lingers() {
    let partitioned = |f: &mut F| {
        f.at::<Heartbeat>(
            1000,
            TraceEvent::Partition {
                groups: &[vec![0], vec![1, 2]],
            },
        );
        suspect(f, 1300, 0, 1);
        f.at::<Heartbeat>(2000, TraceEvent::Heal);
    };
    // Taken back exactly one window after the heal: in time.
    let mut f = judge();
    partitioned(&mut f);
    trust(&mut f, 2410, 0, 1);
    let report = accuracy(&mut f, 5000);
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
    assert!(report
        .detail
        .starts_with("0 false suspicion(s); 1 suspicion(s) explained"));

    let mut f = judge();
    partitioned(&mut f);
    trust(&mut f, 2411, 0, 1);
    let report = accuracy(&mut f, 5000);
    assert_eq!(
        violations(&report),
        [(1300, vec![0, 1], "node 0 falsely suspected node 1 (still suspected 411ms after node 1 became reachable again)".to_string())]
    );
    assert!(
        report
            .detail
            .starts_with("1 false suspicion(s); 0 suspicion(s) explained"),
        "{}",
        report.detail
    );

    // Still held at the end of the run.
    let mut f = judge();
    partitioned(&mut f);
    let report = accuracy(&mut f, 3000);
    assert_eq!(
        violations(&report)[0].2,
        "node 0 falsely suspected node 1 (still suspected 1.000s after node 1 became reachable again)"
    );
    let mut f = judge();
    partitioned(&mut f);
    assert_eq!(accuracy(&mut f, 2410).verdict, Verdict::Pass);
}

#[test]
fn a_suspicion_of_a_restarted_node_lingers_from_its_restart() {
    let mut f = judge();
    crash(&mut f, 1000, 1);
    suspect(&mut f, 1300, 0, 1);
    restart(&mut f, 2000, 1);
    trust(&mut f, 2500, 0, 1);
    let report = accuracy(&mut f, 5000);
    assert_eq!(
        violations(&report)[0].2,
        "node 0 falsely suspected node 1 (still suspected 500ms after node 1 became reachable again)"
    );
    // Not while it is still down, however long.
    let mut f = judge();
    crash(&mut f, 1000, 1);
    suspect(&mut f, 1300, 0, 1);
    assert_eq!(accuracy(&mut f, 5000).verdict, Verdict::Pass);
    // Nor while the link is still cut.
    let mut f = judge();
    cut(&mut f, 1000, 1, 0);
    suspect(&mut f, 1300, 0, 1);
    assert_eq!(accuracy(&mut f, 5000).verdict, Verdict::Pass);
}

#[test]
fn a_mistake_names_its_likeliest_cause() {
    let cause = |setup: &dyn Fn(&mut F), at: u64, observer: NodeId| {
        let mut f = judge();
        setup(&mut f);
        suspect(&mut f, at, observer, 1);
        let found = intervals(&f);
        let last = found.last().unwrap();
        assert!(last.4, "a mistake: {found:?}");
        last.5.clone()
    };
    let paused = |f: &mut F| pause(f, 1000, 1, 1500);
    assert_eq!(cause(&paused, 1300, 0), "node 1 was paused");
    let paused_and_back = |f: &mut F| {
        pause(f, 1000, 1, 1500);
        resume(f, 1500, 1);
    };
    assert_eq!(cause(&paused_and_back, 1910, 0), "node 1 was paused");
    assert_eq!(
        cause(&paused_and_back, 1911, 0),
        "no fault explains it: heartbeats were lost or slower than the timeout"
    );
    let observer_paused = |f: &mut F| {
        pause(f, 1000, 0, 1500);
        resume(f, 1500, 0);
    };
    assert_eq!(
        cause(&observer_paused, 1500, 0),
        "node 0 resumed from a pause and ran its stale timers first"
    );
    assert_eq!(
        cause(&observer_paused, 1500, 2),
        "no fault explains it: heartbeats were lost or slower than the timeout"
    );
    let observer_drifts = |f: &mut F| {
        f.at::<Heartbeat>(
            1000,
            TraceEvent::ClockDrift {
                node: 0,
                ppm: 50_000,
            },
        )
    };
    assert_eq!(
        cause(&observer_drifts, 1300, 0),
        "clock drift (node 0: 50000 ppm, node 1: 0 ppm)"
    );
    let suspect_drifts = |f: &mut F| {
        f.at::<Heartbeat>(
            1000,
            TraceEvent::ClockDrift {
                node: 1,
                ppm: -30_000,
            },
        )
    };
    assert_eq!(
        cause(&suspect_drifts, 1300, 0),
        "clock drift (node 0: 0 ppm, node 1: -30000 ppm)"
    );
    // A crash explains more than a pause.
    let mut f = judge();
    pause(&mut f, 1000, 1, 1500);
    crash(&mut f, 1100, 1);
    suspect(&mut f, 1300, 0, 1);
    assert_eq!(intervals(&f)[0].5, "node 1 crashed");
}

#[test]
fn the_chart_gets_every_suspicion_interval() {
    let mut f = judge();
    crash(&mut f, 1000, 1);
    suspect(&mut f, 1300, 0, 1);
    suspect(&mut f, 1350, 2, 0);
    trust(&mut f, 1800, 0, 1);
    assert_eq!(
        intervals(&f),
        [
            (0, 1, 1300, Some(1800), false, "node 1 crashed".to_string()),
            (
                2,
                0,
                1350,
                None,
                true,
                "no fault explains it: heartbeats were lost or slower than the timeout".to_string()
            ),
        ]
    );
}

#[test]
fn every_listed_check_is_reported_in_order_and_coverage_is_left_to_coverage() {
    let mut f = judge();
    let names: Vec<&str> = f.reports(1000).iter().map(|r| r.name).collect();
    assert_eq!(names, ["Completeness", "Accuracy"]);
}
