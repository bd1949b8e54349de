//! Paxos's judge on hand-built observation sequences, each written from the
//! check's definition in docs/protocols.md (Lamport, "Paxos Made Simple"):
//! what "chosen" takes (a strict majority of the acceptors under one ballot),
//! the verdicts at the boundaries of every rule, the nodes and times a
//! violation names, the liveness window of DecidesWithin and its figures, and
//! coverage. Milliseconds throughout; five acceptors (nodes 0 to 4, so a
//! majority is 3), proposers 0 and 1; clients hand "A" to node 0 at 10 ms and
//! "B" to node 1 at 20 ms.

mod feed;

use faultline::check::{CheckReport, Verdict};
use faultline::harness::{HumanDuration, Judge};
use faultline::node::NodeId;
use faultline::protocols::paxos::{
    Ballot, ClientValue, Paxos, PaxosCheck, PaxosJudge, PaxosObservation as O, PaxosVariant,
};
use faultline::sim::{SimDuration, TraceEvent};
use feed::{ms, setup, Feed};
use std::time::Duration;

fn paxos() -> Paxos {
    let value = |node, at, value: &str| ClientValue {
        node,
        at: SimDuration::from_millis(at),
        value: value.into(),
    };
    Paxos {
        proposers: vec![0, 1],
        acceptors: vec![0, 1, 2, 3, 4],
        values: vec![value(0, 10, "A"), value(1, 20, "B")],
        round_timeout: SimDuration::from_millis(100),
        backoff_min: SimDuration::from_millis(5),
        backoff_max: SimDuration::from_millis(10),
        variant: PaxosVariant::Correct,
    }
}

fn checks() -> Vec<PaxosCheck> {
    vec![
        PaxosCheck::Agreement,
        PaxosCheck::Validity,
        PaxosCheck::Integrity,
        PaxosCheck::OneValuePerBallot,
        PaxosCheck::DecidesWithin(HumanDuration(Duration::from_millis(500))),
        PaxosCheck::DuelingProposers,
    ]
}

/// A judge whose faults end at `faults_end` (milliseconds).
fn judge_faults_until(faults_end: u64) -> Feed<PaxosJudge> {
    let setup = setup(5, 10_000, &[], faults_end, 10, &[false; 5]);
    Feed::new(PaxosJudge::new(&paxos(), &checks(), &setup), 5)
}

fn judge() -> Feed<PaxosJudge> {
    judge_faults_until(0)
}

fn b(round: u64, proposer: NodeId) -> Ballot {
    Ballot { round, proposer }
}

fn client_value(f: &mut Feed<PaxosJudge>, t: u64, node: NodeId, value: &str) {
    f.observe::<Paxos>(
        t,
        node,
        &O::ClientValue {
            value: value.into(),
        },
    );
}

fn prepare(f: &mut Feed<PaxosJudge>, t: u64, node: NodeId, ballot: Ballot) {
    f.observe::<Paxos>(t, node, &O::Prepare { ballot });
}

/// Acceptor `acceptor` promises ballot 1.0.
fn promise(f: &mut Feed<PaxosJudge>, t: u64, acceptor: NodeId) {
    f.observe::<Paxos>(t, acceptor, &O::Promise { ballot: b(1, 0) });
}

fn propose(f: &mut Feed<PaxosJudge>, t: u64, node: NodeId, ballot: Ballot, value: &str) {
    let value = value.into();
    f.observe::<Paxos>(t, node, &O::Propose { ballot, value });
}

fn accept(f: &mut Feed<PaxosJudge>, t: u64, acceptor: NodeId, ballot: Ballot, value: &str) {
    let value = value.into();
    f.observe::<Paxos>(t, acceptor, &O::Accept { ballot, value });
}

fn accepts(f: &mut Feed<PaxosJudge>, t: u64, acceptors: &[NodeId], ballot: Ballot, value: &str) {
    for &acceptor in acceptors {
        accept(f, t, acceptor, ballot, value);
    }
}

fn learn(f: &mut Feed<PaxosJudge>, t: u64, node: NodeId, ballot: Ballot, value: &str) {
    let value = value.into();
    f.observe::<Paxos>(t, node, &O::Learn { ballot, value });
}

fn report(f: &mut Feed<PaxosJudge>, end: u64, name: &str) -> CheckReport {
    f.report(end, name)
}

fn chosen(f: &Feed<PaxosJudge>) -> Option<(u64, Ballot, String)> {
    f.judge
        .chosen()
        .map(|(time, ballot, value)| (time.as_nanos() / 1_000_000, *ballot, value.to_string()))
}

#[test]
fn a_value_is_chosen_by_the_third_of_five_distinct_acceptors() {
    let mut f = judge();
    client_value(&mut f, 10, 0, "A");
    accept(&mut f, 30, 0, b(1, 0), "A");
    accept(&mut f, 31, 0, b(1, 0), "A");
    accept(&mut f, 32, 1, b(1, 0), "A");
    assert_eq!(chosen(&f), None, "two distinct acceptors are no majority");
    accept(&mut f, 33, 3, b(1, 0), "A");
    assert_eq!(chosen(&f), Some((33, b(1, 0), "A".to_string())));
    accept(&mut f, 34, 4, b(1, 0), "A");
    assert_eq!(chosen(&f), Some((33, b(1, 0), "A".to_string())));
    let agreement = report(&mut f, 1000, "Agreement");
    assert_eq!(agreement.verdict, Verdict::Pass);
    assert_eq!(
        agreement.detail,
        "1 proposal(s) chosen; first: \"A\" under ballot 1.0 at 0.033s; no node learned a value"
    );
}

#[test]
fn votes_for_different_values_under_one_ballot_do_not_add_up() {
    let mut f = judge();
    accepts(&mut f, 30, &[0, 1], b(1, 0), "A");
    accepts(&mut f, 31, &[2, 3], b(1, 0), "B");
    assert_eq!(chosen(&f), None);
    let agreement = report(&mut f, 1000, "Agreement");
    assert_eq!(agreement.detail, "no value chosen; no node learned a value");
}

#[test]
fn a_learn_before_a_majority_accepted_fails_integrity_and_names_the_count() {
    let mut f = judge();
    accepts(&mut f, 30, &[0, 1], b(1, 0), "A");
    learn(&mut f, 40, 3, b(1, 0), "A");
    let integrity = report(&mut f, 1000, "Integrity");
    assert_eq!(integrity.verdict, Verdict::Fail);
    assert_eq!(integrity.violations.len(), 1);
    let violation = &integrity.violations[0];
    assert_eq!((violation.time, violation.nodes.clone()), (ms(40), vec![3]));
    assert_eq!(
        violation.message,
        "node 3 learned \"A\" (ballot 1.0) at 0.040s, which was not chosen: 2 of 5 acceptors had accepted it, a majority is 3"
    );
    assert_eq!(
        integrity.detail.split(';').next(),
        Some("1 node(s) learned")
    );
}

#[test]
fn a_learn_once_a_majority_accepted_passes_integrity() {
    let mut f = judge();
    client_value(&mut f, 10, 0, "A");
    accepts(&mut f, 30, &[0, 1, 2], b(1, 0), "A");
    learn(&mut f, 40, 3, b(1, 0), "A");
    learn(&mut f, 41, 4, b(1, 0), "A");
    for name in ["Agreement", "Validity", "Integrity"] {
        let checked = report(&mut f, 1000, name);
        assert_eq!(checked.verdict, Verdict::Pass, "{name}: {}", checked.detail);
    }
    assert_eq!(
        report(&mut f, 1000, "Integrity").detail,
        "2 node(s) learned"
    );
    assert_eq!(
        report(&mut f, 1000, "Agreement").detail,
        "1 proposal(s) chosen; first: \"A\" under ballot 1.0 at 0.030s; 2 learn(s); first: node 3 learned \"A\" (ballot 1.0) at 0.040s"
    );
}

#[test]
fn a_node_that_learns_twice_fails_integrity_naming_both_learns() {
    let mut f = judge();
    accepts(&mut f, 30, &[0, 1, 2], b(1, 0), "A");
    learn(&mut f, 40, 3, b(1, 0), "A");
    learn(&mut f, 50, 3, b(1, 0), "A");
    let integrity = report(&mut f, 1000, "Integrity");
    assert_eq!(integrity.verdict, Verdict::Fail);
    assert_eq!(integrity.violations.len(), 1);
    assert_eq!(integrity.violations[0].time, ms(50));
    assert_eq!(integrity.violations[0].nodes, [3]);
    assert_eq!(
        integrity.violations[0].message,
        "node 3 learned twice: \"A\" (ballot 1.0) at 0.040s, then \"A\" (ballot 1.0) at 0.050s"
    );
    let agreement = report(&mut f, 1000, "Agreement");
    assert_eq!(agreement.verdict, Verdict::Pass, "the same value twice");
}

#[test]
fn learns_of_different_values_fail_agreement_naming_both_nodes() {
    let mut f = judge();
    accepts(&mut f, 30, &[0, 1, 2], b(1, 0), "A");
    learn(&mut f, 40, 3, b(1, 0), "A");
    learn(&mut f, 45, 2, b(1, 0), "A");
    learn(&mut f, 50, 4, b(2, 1), "B");
    let agreement = report(&mut f, 1000, "Agreement");
    assert_eq!(agreement.verdict, Verdict::Fail);
    assert_eq!(agreement.violations.len(), 1);
    let violation = &agreement.violations[0];
    assert_eq!(
        (violation.time, violation.nodes.clone()),
        (ms(50), vec![3, 4])
    );
    assert_eq!(
        violation.message,
        "node 4 learned \"B\" (ballot 2.1) at 0.050s but node 3 had learned \"A\" (ballot 1.0) at 0.040s"
    );
}

#[test]
fn two_values_chosen_fail_agreement_and_the_same_value_twice_does_not() {
    let mut f = judge();
    accepts(&mut f, 30, &[0, 1, 2], b(1, 0), "A");
    accepts(&mut f, 40, &[2, 3, 4], b(2, 1), "A");
    let agreement = report(&mut f, 1000, "Agreement");
    assert_eq!(agreement.verdict, Verdict::Pass, "{}", agreement.detail);
    assert!(agreement
        .detail
        .starts_with("2 proposal(s) chosen; first: \"A\" under ballot 1.0 at 0.030s"));

    accepts(&mut f, 50, &[0, 1, 2], b(3, 1), "B");
    assert_eq!(
        chosen(&f),
        Some((30, b(1, 0), "A".to_string())),
        "the first stays"
    );
    let agreement = report(&mut f, 1000, "Agreement");
    assert_eq!(agreement.verdict, Verdict::Fail);
    assert_eq!(agreement.violations.len(), 1);
    let violation = &agreement.violations[0];
    assert_eq!(
        (violation.time, violation.nodes.clone()),
        (ms(50), vec![0, 1, 2, 3, 4])
    );
    assert_eq!(
        violation.message,
        "two values chosen: \"B\" under ballot 3.1 at 0.050s, after \"A\" under ballot 1.0 at 0.030s (each accepted by a majority of 5 acceptors)"
    );
}

#[test]
fn a_value_no_client_proposed_fails_validity_when_chosen_and_when_learned() {
    let mut f = judge();
    accepts(&mut f, 30, &[0, 1, 2], b(1, 0), "Z");
    learn(&mut f, 40, 3, b(1, 0), "Z");
    let validity = report(&mut f, 1000, "Validity");
    assert_eq!(validity.verdict, Verdict::Fail);
    let found: Vec<(u64, Vec<NodeId>, &str)> = validity
        .violations
        .iter()
        .map(|v| {
            (
                v.time.as_nanos() / 1_000_000,
                v.nodes.clone(),
                v.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                30,
                vec![0, 1, 2, 3, 4],
                "\"Z\" was chosen under ballot 1.0 at 0.030s, but no client proposed it"
            ),
            (
                40,
                vec![3],
                "node 3 learned \"Z\" (ballot 1.0) at 0.040s, which no client proposed"
            ),
        ]
    );
    assert!(validity
        .detail
        .starts_with("client values: [\"A\", \"B\"]; VIOLATION at 0.030s"));
}

#[test]
fn a_client_value_scheduled_for_another_proposer_is_still_valid() {
    let mut f = judge();
    accepts(&mut f, 30, &[0, 1, 2], b(1, 0), "B");
    learn(&mut f, 40, 3, b(1, 0), "B");
    let validity = report(&mut f, 1000, "Validity");
    assert_eq!(validity.verdict, Verdict::Pass, "{}", validity.detail);
}

#[test]
fn two_values_under_one_ballot_fail_one_value_per_ballot_naming_the_acceptors() {
    let mut f = judge();
    accepts(&mut f, 30, &[0, 1], b(1, 0), "A");
    accept(&mut f, 35, 4, b(2, 1), "B");
    let one = report(&mut f, 1000, "OneValuePerBallot");
    assert_eq!(
        one.verdict,
        Verdict::Pass,
        "other ballots may carry other values"
    );
    assert_eq!(one.detail, "2 ballot(s) accepted, 2 proposal(s)");

    accept(&mut f, 40, 2, b(1, 0), "B");
    let one = report(&mut f, 1000, "OneValuePerBallot");
    assert_eq!(one.verdict, Verdict::Fail);
    assert_eq!(one.violations.len(), 1);
    let violation = &one.violations[0];
    assert_eq!(
        (violation.time, violation.nodes.clone()),
        (ms(40), vec![2, 0, 1])
    );
    assert_eq!(
        violation.message,
        "acceptor 2 accepted \"B\" under ballot 1.0 at 0.040s, but acceptor(s) [0, 1] accepted \"A\" under the same ballot"
    );
    assert!(one
        .detail
        .starts_with("2 ballot(s) accepted, 3 proposal(s); VIOLATION"));
}

#[test]
fn dueling_proposers_is_two_proposers_preparing_before_a_choice() {
    let dueling = |f: &Feed<PaxosJudge>| {
        let coverage = f.judge.coverage();
        let c = coverage
            .iter()
            .find(|c| c.name == "DuelingProposers")
            .unwrap();
        (c.happened, c.detail.clone())
    };
    let mut f = judge();
    prepare(&mut f, 30, 0, b(1, 0));
    prepare(&mut f, 40, 0, b(2, 0));
    assert_eq!(
        dueling(&f),
        (
            false,
            "proposers [0] started rounds before a value was chosen".to_string()
        )
    );
    accepts(&mut f, 50, &[0, 1, 2], b(2, 0), "A");
    prepare(&mut f, 60, 1, b(3, 1));
    assert!(!dueling(&f).0, "a round after the choice is no duel");
    assert_eq!(f.judge.metrics(ms(1000))["rounds"], 3.0);

    let mut f = judge();
    prepare(&mut f, 30, 0, b(1, 0));
    prepare(&mut f, 31, 1, b(1, 1));
    assert_eq!(
        dueling(&f),
        (
            true,
            "proposers [0, 1] started rounds before a value was chosen".to_string()
        )
    );
}

#[test]
fn value_adopted_counts_proposals_of_another_clients_value() {
    let adopted = |f: &Feed<PaxosJudge>| {
        let coverage = f.judge.coverage();
        let c = coverage.iter().find(|c| c.name == "ValueAdopted").unwrap();
        (c.happened, c.detail.clone())
    };
    let mut f = judge();
    client_value(&mut f, 10, 0, "A");
    propose(&mut f, 30, 0, b(1, 0), "A");
    propose(&mut f, 31, 1, b(1, 1), "A");
    assert_eq!(
        adopted(&f),
        (false, "0 proposal(s) of another client's value".to_string()),
        "its own value, or a proposer without one"
    );
    client_value(&mut f, 35, 1, "B");
    propose(&mut f, 40, 1, b(2, 1), "A");
    assert_eq!(
        adopted(&f),
        (true, "1 proposal(s) of another client's value".to_string())
    );
}

#[test]
fn decision_time_counts_from_the_first_client_value() {
    let mut f = judge();
    client_value(&mut f, 10, 0, "A");
    accepts(&mut f, 35, &[0, 1, 2], b(1, 0), "A");
    let metrics = f.judge.metrics(ms(1000));
    assert_eq!(metrics["decision_time_s"], 0.025);
    assert_eq!(judge().judge.metrics(ms(1000)).get("decision_time_s"), None);
}

// DecidesWithin(500ms).

fn decides(f: &mut Feed<PaxosJudge>, end: u64) -> CheckReport {
    report(f, end, "DecidesWithin")
}

#[test]
fn decides_within_counts_from_the_first_client_value_after_the_faults() {
    let mut f = judge();
    client_value(&mut f, 10, 0, "A");
    accepts(&mut f, 32, &[0, 1, 2], b(1, 0), "A");
    let decided = decides(&mut f, 1000);
    assert_eq!(decided.verdict, Verdict::Pass);
    assert_eq!(
        decided.detail,
        "\"A\" chosen under ballot 1.0 at 0.032s, 22ms after the liveness window opened at 0.010s (faults over at 0.000s, a client value in; bound 500ms)"
    );
}

#[test]
fn a_choice_exactly_at_the_bound_is_in_time() {
    let mut f = judge();
    client_value(&mut f, 10, 0, "A");
    accepts(&mut f, 510, &[0, 1, 2], b(1, 0), "A");
    let decided = decides(&mut f, 1000);
    assert_eq!(decided.verdict, Verdict::Pass, "{}", decided.detail);
    assert!(
        decided.detail.contains(", 500ms after the liveness window"),
        "{}",
        decided.detail
    );
}

#[test]
fn no_choice_by_the_bound_fails_at_the_deadline_naming_the_proposers() {
    for late in [Some(511), None] {
        let mut f = judge();
        client_value(&mut f, 10, 0, "A");
        if let Some(t) = late {
            accepts(&mut f, t, &[0, 1, 2], b(1, 0), "A");
        }
        let decided = decides(&mut f, 1000);
        assert_eq!(decided.verdict, Verdict::Fail, "{}", decided.detail);
        assert_eq!(decided.violations.len(), 1);
        let violation = &decided.violations[0];
        assert_eq!(
            (violation.time, violation.nodes.clone()),
            (ms(510), vec![0, 1])
        );
        let chosen = match late {
            Some(_) => "\"A\" chosen under ballot 1.0 at 0.511s",
            None => "no value chosen",
        };
        assert_eq!(
            violation.message,
            format!("no value chosen within 500ms after the liveness window opened at 0.010s (faults over at 0.000s, a proposer with a client value and a majority connected; {chosen})")
        );
    }
}

#[test]
fn a_deadline_at_the_end_of_the_run_is_judged_and_one_past_it_is_not() {
    let mut f = judge();
    client_value(&mut f, 10, 0, "A");
    assert_eq!(decides(&mut f, 510).verdict, Verdict::Fail);
    let decided = decides(&mut f, 509);
    assert_eq!(decided.verdict, Verdict::Pass);
    assert_eq!(
        decided.detail,
        "not judged: the run ends before 0.510s; no value chosen"
    );
}

#[test]
fn a_choice_before_the_window_opens_is_reported_as_such() {
    // Faults last until 300; "A" is chosen at 100, during them.
    let mut f = judge_faults_until(300);
    client_value(&mut f, 10, 0, "A");
    accepts(&mut f, 100, &[0, 1, 2], b(1, 0), "A");
    prepare(&mut f, 400, 1, b(1, 1));
    let decided = decides(&mut f, 1000);
    assert_eq!(decided.verdict, Verdict::Pass);
    assert_eq!(
        decided.detail,
        "\"A\" chosen under ballot 1.0 at 0.100s, before the liveness window opened at 0.300s (faults over at 0.300s)"
    );
}

#[test]
fn a_choice_at_the_instant_the_window_opens_is_inside_it() {
    let mut f = judge();
    client_value(&mut f, 10, 0, "A");
    accepts(&mut f, 10, &[0, 1, 2], b(1, 0), "A");
    let decided = decides(&mut f, 1000);
    assert!(
        decided
            .detail
            .contains(", 0ms after the liveness window opened at 0.010s"),
        "{}",
        decided.detail
    );
}

#[test]
fn the_window_opens_when_a_connected_proposer_first_holds_a_value() {
    // Node 1 gets "B" at 20 and node 0 "A" at 30 (late): the window opens at
    // 20, not at the first scheduled value (10), nor at node 0's.
    let mut f = judge();
    client_value(&mut f, 20, 1, "B");
    client_value(&mut f, 30, 0, "A");
    let decided = decides(&mut f, 1000);
    assert_eq!(decided.violations[0].time, ms(520), "{}", decided.detail);

    // Faults until 300, values during them: the window opens at 300.
    let mut f = judge_faults_until(300);
    client_value(&mut f, 10, 0, "A");
    prepare(&mut f, 301, 0, b(1, 0));
    let decided = decides(&mut f, 1000);
    assert_eq!(decided.violations[0].time, ms(800), "{}", decided.detail);
}

#[test]
fn nothing_after_the_faults_is_not_judged() {
    let mut f = judge_faults_until(300);
    client_value(&mut f, 10, 0, "A");
    prepare(&mut f, 300, 0, b(1, 0));
    let decided = decides(&mut f, 1000);
    assert_eq!(decided.verdict, Verdict::Pass);
    assert_eq!(
        decided.detail,
        "not judged: nothing happened after faults stopped at 0.300s; no value chosen"
    );
    accepts(&mut f, 300, &[0, 1, 2], b(1, 0), "A");
    assert_eq!(
        decides(&mut f, 1000).detail,
        "\"A\" chosen under ballot 1.0 at 0.300s; faults stopped at 0.300s"
    );
}

/// Faults until 200: node 0 gets "A" at 10, then `faults` happen; acceptor
/// 3 promises at 250 (an event after the faults), and nothing is chosen.
fn after_faults(faults: impl Fn(&mut Feed<PaxosJudge>)) -> CheckReport {
    let mut f = judge_faults_until(200);
    client_value(&mut f, 10, 0, "A");
    faults(&mut f);
    promise(&mut f, 250, 3);
    decides(&mut f, 1000)
}

const NOT_JUDGED: &str = "not judged: after faults stopped at 0.200s, no proposer holding a client value was up and connected to a majority of 3 acceptors; no value chosen";

fn partition(f: &mut Feed<PaxosJudge>, t: u64, groups: &[Vec<NodeId>]) {
    f.at::<Paxos>(t, TraceEvent::Partition { groups });
}

#[test]
fn a_proposer_connected_to_a_majority_is_judged() {
    let report = after_faults(|f| partition(f, 100, &[vec![0, 1, 2], vec![3, 4]]));
    assert_eq!(report.verdict, Verdict::Fail, "{}", report.detail);
    assert_eq!(report.violations[0].time, ms(700));
}

#[test]
fn a_proposer_cut_off_from_a_majority_is_not_judged() {
    let report = after_faults(|f| partition(f, 100, &[vec![0, 1], vec![2, 3, 4]]));
    assert_eq!(
        (report.verdict, report.detail.as_str()),
        (Verdict::Pass, NOT_JUDGED)
    );
}

#[test]
fn a_link_cut_one_way_does_not_connect() {
    for (from, to) in [(0, 2), (2, 0)] {
        let report = after_faults(|f| {
            partition(f, 100, &[vec![0, 1, 2], vec![3, 4]]);
            f.at::<Paxos>(150, TraceEvent::CutLink { from, to });
        });
        assert_eq!(
            (report.verdict, report.detail.as_str()),
            (Verdict::Pass, NOT_JUDGED)
        );
    }
}

#[test]
fn a_crashed_acceptor_does_not_count_towards_the_majority() {
    let report = after_faults(|f| {
        partition(f, 100, &[vec![0, 1, 2], vec![3, 4]]);
        f.at::<Paxos>(150, TraceEvent::Crash { node: 2 });
    });
    assert_eq!(
        (report.verdict, report.detail.as_str()),
        (Verdict::Pass, NOT_JUDGED)
    );
}

#[test]
fn a_crashed_proposer_or_one_without_a_value_is_not_ready() {
    // Node 0 holds "A" but is down; node 1 is up but holds nothing.
    let report = after_faults(|f| f.at::<Paxos>(100, TraceEvent::Crash { node: 0 }));
    assert_eq!(
        (report.verdict, report.detail.as_str()),
        (Verdict::Pass, NOT_JUDGED)
    );
}

#[test]
fn a_value_arriving_after_the_faults_opens_the_window() {
    let mut f = judge_faults_until(200);
    client_value(&mut f, 10, 0, "A");
    f.at::<Paxos>(100, TraceEvent::Crash { node: 0 });
    promise(&mut f, 250, 3);
    client_value(&mut f, 300, 1, "B");
    let decided = decides(&mut f, 1000);
    assert_eq!(decided.verdict, Verdict::Fail, "{}", decided.detail);
    assert_eq!(decided.violations[0].time, ms(800));
}

#[test]
fn the_window_waits_for_every_fault_ending_at_the_same_instant() {
    // Node 0, partitioned away, crashes; at 200, the end of the faults, it
    // restarts and then the partition heals. Only once both have happened is
    // it connected to a majority.
    let mut f = judge_faults_until(200);
    client_value(&mut f, 10, 0, "A");
    partition(&mut f, 100, &[vec![0], vec![1, 2, 3, 4]]);
    f.at::<Paxos>(150, TraceEvent::Crash { node: 0 });
    f.at::<Paxos>(200, TraceEvent::Restart { node: 0 });
    f.at::<Paxos>(200, TraceEvent::Heal);
    promise(&mut f, 250, 3);
    let decided = decides(&mut f, 1000);
    assert_eq!(decided.verdict, Verdict::Fail, "{}", decided.detail);
    assert_eq!(decided.violations[0].time, ms(700));
}

#[test]
fn every_listed_check_is_reported_in_order_and_coverage_is_left_to_coverage() {
    let mut f = judge();
    let names: Vec<&str> = f.reports(1000).iter().map(|r| r.name).collect();
    assert_eq!(
        names,
        [
            "Agreement",
            "Validity",
            "Integrity",
            "OneValuePerBallot",
            "DecidesWithin"
        ]
    );
}
