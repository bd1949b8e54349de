//! The election's judge on hand-built sequences, fed through
//! `faultline::testing::Feed`, each written from the checks' definitions
//! (the header of src/check.rs and docs/custom-protocol.md; Raft, Ongaro &
//! Ousterhout 2014, Figure 3's Election Safety): the verdict on each side of
//! every boundary, the nodes, times and words of each violation, and the
//! figures the details and metrics give. Milliseconds throughout.

use faultline::check::{CheckReport, Verdict};
use faultline::harness::{HumanDuration, Judge};
use faultline::node::NodeId;
use faultline::sim::TraceEvent;
use faultline::testing::{setup, violations, Feed};
use faultline_election::{
    Elected, Election, ElectionCheck, ElectionJudge, ElectionObservation, PersistentState, Win,
};
use std::time::Duration;

/// ElectsWithin's bound in these tests.
const WITHIN_MS: u64 = 500;
/// When the last fault is over, in the liveness tests.
const FAULTS_END: u64 = 1_000;

fn all_checks() -> Vec<ElectionCheck> {
    vec![
        ElectionCheck::OneLeaderPerTerm,
        ElectionCheck::LeaderHasQuorum,
        ElectionCheck::ElectsWithin(HumanDuration(Duration::from_millis(WITHIN_MS))),
        ElectionCheck::SplitVote,
        ElectionCheck::LeaderChanged,
    ]
}

/// A judge of every check on `nodes` nodes, the faults over at `faults_end`.
fn judge(nodes: u32, faults_end: u64) -> Feed<ElectionJudge> {
    let absent = vec![false; nodes as usize];
    let setup = setup(nodes, 10_000, &[], faults_end, 10, &absent);
    Feed::new(ElectionJudge::new(&all_checks(), &setup), nodes)
}

fn persist(f: &mut Feed<ElectionJudge>, t: u64, node: NodeId, term: u64) {
    let durable = PersistentState {
        current_term: term,
        voted_for: None,
    };
    f.at::<Election>(
        t,
        TraceEvent::Persist {
            node,
            durable: &durable,
        },
    );
}

fn candidate(f: &mut Feed<ElectionJudge>, t: u64, node: NodeId, term: u64) {
    persist(f, t, node, term);
    f.observe::<Election>(t, node, &ElectionObservation::BecameCandidate { term });
    vote(f, t, node, term, node);
}

fn vote(f: &mut Feed<ElectionJudge>, t: u64, voter: NodeId, term: u64, candidate: NodeId) {
    f.observe::<Election>(t, voter, &ElectionObservation::Voted { term, candidate });
}

fn leader(f: &mut Feed<ElectionJudge>, t: u64, node: NodeId, term: u64) {
    f.observe::<Election>(t, node, &ElectionObservation::BecameLeader { term });
}

fn follower(f: &mut Feed<ElectionJudge>, t: u64, node: NodeId, term: u64) {
    persist(f, t, node, term);
    f.observe::<Election>(t, node, &ElectionObservation::BecameFollower { term });
}

/// `node` stands in `term` at `t`, every voter in `voters` votes for it, and
/// it becomes leader at `t + 1`; every node persists `term` at `t`.
fn elect(
    f: &mut Feed<ElectionJudge>,
    nodes: u32,
    t: u64,
    node: NodeId,
    term: u64,
    voters: &[NodeId],
) {
    for other in 0..nodes {
        persist(f, t, other, term);
    }
    candidate(f, t, node, term);
    for &voter in voters {
        vote(f, t, voter, term, node);
    }
    leader(f, t + 1, node, term);
}

fn crash(f: &mut Feed<ElectionJudge>, t: u64, node: NodeId) {
    f.at::<Election>(t, TraceEvent::Crash { node });
}

fn cut_both_ways(f: &mut Feed<ElectionJudge>, t: u64, a: NodeId, b: NodeId) {
    f.at::<Election>(t, TraceEvent::CutLink { from: a, to: b });
    f.at::<Election>(t, TraceEvent::CutLink { from: b, to: a });
}

/// Something happens just after the faults are over (the judge looks at
/// the world then).
fn tick(f: &mut Feed<ElectionJudge>, t: u64) {
    f.at::<Election>(t, TraceEvent::Heal);
}

fn coverage(f: &Feed<ElectionJudge>, name: &str) -> (bool, String) {
    let coverage = f.judge.coverage();
    let found = coverage.iter().find(|c| c.name == name).expect(name);
    (found.happened, found.detail.clone())
}

fn passes(report: &CheckReport) -> bool {
    report.verdict == Verdict::Pass && report.violations.is_empty()
}

// ---- OneLeaderPerTerm -------------------------------------------------

#[test]
fn a_second_leader_in_a_term_is_a_violation_naming_both() {
    let mut f = judge(5, 0);
    elect(&mut f, 5, 100, 0, 1, &[1, 2]);
    candidate(&mut f, 200, 3, 1);
    vote(&mut f, 200, 4, 1, 3);
    leader(&mut f, 250, 3, 1);
    let report = f.report(1_000, "OneLeaderPerTerm");
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(
        violations(&report),
        vec![(
            250,
            vec![0, 3],
            "node 3 became leader in term 1 at 0.250s, but node 0 had become leader in term 1 at 0.101s"
                .to_string()
        )]
    );
    assert!(
        report
            .detail
            .starts_with("2 election(s) won in 1 term(s), highest term 1; VIOLATION"),
        "{}",
        report.detail
    );
}

#[test]
fn one_leader_in_each_term_passes() {
    let mut f = judge(5, 0);
    elect(&mut f, 5, 100, 0, 1, &[1, 2]);
    elect(&mut f, 5, 300, 1, 2, &[2, 3]);
    elect(&mut f, 5, 500, 1, 3, &[2, 3]);
    let report = f.report(1_000, "OneLeaderPerTerm");
    assert!(passes(&report), "{report:?}");
    assert_eq!(
        report.detail,
        "3 election(s) won in 3 term(s), highest term 3"
    );
}

#[test]
fn the_same_leader_reported_twice_in_its_term_is_one_leader() {
    let mut f = judge(3, 0);
    elect(&mut f, 3, 100, 2, 4, &[0]);
    leader(&mut f, 150, 2, 4);
    let report = f.report(1_000, "OneLeaderPerTerm");
    assert!(passes(&report), "{report:?}");
    assert_eq!(
        report.detail,
        "2 election(s) won in 1 term(s), highest term 4"
    );
}

#[test]
fn the_highest_term_is_the_highest_persisted_even_with_no_win() {
    let mut f = judge(3, 0);
    persist(&mut f, 10, 1, 7);
    let report = f.report(1_000, "OneLeaderPerTerm");
    assert_eq!(
        report.detail,
        "0 election(s) won in 0 term(s), highest term 7"
    );
}

// ---- LeaderHasQuorum --------------------------------------------------

#[test]
fn five_nodes_a_leader_with_two_votes_fails() {
    let mut f = judge(5, 0);
    elect(&mut f, 5, 100, 0, 1, &[1]);
    let report = f.report(1_000, "LeaderHasQuorum");
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(
        violations(&report),
        vec![(
            101,
            vec![0],
            "node 0 became leader in term 1 at 0.101s with the votes of [0, 1] only, 2 of 5 nodes; a majority is 3"
                .to_string()
        )]
    );
    assert!(
        report
            .detail
            .starts_with("1 election(s) won in 1 term(s), highest term 1; VIOLATION"),
        "{}",
        report.detail
    );
}

#[test]
fn five_nodes_a_leader_with_three_votes_passes() {
    let mut f = judge(5, 0);
    elect(&mut f, 5, 100, 0, 1, &[1, 2]);
    assert!(passes(&f.report(1_000, "LeaderHasQuorum")));
}

#[test]
fn four_nodes_need_three_votes() {
    let mut f = judge(4, 0);
    elect(&mut f, 4, 100, 3, 1, &[0]);
    let report = f.report(1_000, "LeaderHasQuorum");
    assert_eq!(
        violations(&report),
        vec![(
            101,
            vec![3],
            "node 3 became leader in term 1 at 0.101s with the votes of [0, 3] only, 2 of 4 nodes; a majority is 3"
                .to_string()
        )]
    );
    let mut f = judge(4, 0);
    elect(&mut f, 4, 100, 3, 1, &[0, 1]);
    assert!(passes(&f.report(1_000, "LeaderHasQuorum")));
}

#[test]
fn one_node_elects_itself_and_a_leader_with_no_vote_fails() {
    let mut f = judge(1, 0);
    elect(&mut f, 1, 100, 0, 1, &[]);
    assert!(passes(&f.report(1_000, "LeaderHasQuorum")));
    // Not even its own vote.
    let mut f = judge(3, 0);
    leader(&mut f, 100, 1, 1);
    let report = f.report(1_000, "LeaderHasQuorum");
    assert_eq!(
        violations(&report),
        vec![(
            100,
            vec![1],
            "node 1 became leader in term 1 at 0.100s with the votes of [] only, 0 of 3 nodes; a majority is 2"
                .to_string()
        )]
    );
}

#[test]
fn votes_count_only_in_the_term_for_the_candidate_and_before_the_win() {
    // Votes of an earlier term do not carry over.
    let mut f = judge(3, 0);
    elect(&mut f, 3, 100, 0, 1, &[1]);
    elect(&mut f, 3, 300, 0, 2, &[]);
    let report = f.report(1_000, "LeaderHasQuorum");
    assert_eq!(violations(&report).len(), 1);
    assert_eq!(violations(&report)[0].0, 301);
    // Votes for another candidate do not count.
    let mut f = judge(3, 0);
    candidate(&mut f, 100, 1, 1);
    vote(&mut f, 100, 2, 1, 1);
    candidate(&mut f, 100, 0, 1);
    leader(&mut f, 101, 0, 1);
    assert_eq!(violations(&f.report(1_000, "LeaderHasQuorum")).len(), 1);
    // A vote after the win comes too late; a voter counts once.
    let mut f = judge(3, 0);
    candidate(&mut f, 100, 0, 1);
    vote(&mut f, 100, 0, 1, 0);
    leader(&mut f, 101, 0, 1);
    vote(&mut f, 102, 1, 1, 0);
    assert_eq!(violations(&f.report(1_000, "LeaderHasQuorum")).len(), 1);
}

// ---- ElectsWithin -----------------------------------------------------

fn elects_within(f: &mut Feed<ElectionJudge>, end: u64) -> CheckReport {
    f.report(end, "ElectsWithin")
}

#[test]
fn a_leader_within_the_bound_passes_with_its_figures() {
    let mut f = judge(3, FAULTS_END);
    tick(&mut f, FAULTS_END + 1);
    elect(&mut f, 3, 1_199, 0, 1, &[1]);
    let report = elects_within(&mut f, 5_000);
    assert!(passes(&report), "{report:?}");
    assert_eq!(
        report.detail,
        "node 0 led term 1 at 1.200s, 200ms after the faults were over at 1.000s (bound 500ms)"
    );
    assert_eq!(
        f.judge.elected(),
        Some(Elected {
            node: 0,
            term: 1,
            time: faultline::testing::ms(1_200)
        })
    );
}

#[test]
fn a_leader_exactly_at_the_bound_passes_and_one_past_fails() {
    let mut f = judge(3, FAULTS_END);
    tick(&mut f, FAULTS_END + 1);
    elect(&mut f, 3, 1_499, 2, 1, &[1]);
    assert!(passes(&elects_within(&mut f, 5_000)));

    let mut f = judge(3, FAULTS_END);
    tick(&mut f, FAULTS_END + 1);
    elect(&mut f, 3, 1_500, 2, 1, &[1]);
    let report = elects_within(&mut f, 5_000);
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(
        violations(&report),
        vec![(
            1_500,
            vec![0, 1, 2],
            "no leader the cluster followed within 500ms after the faults were over at 1.000s with a majority up and connected; the first came at 1.501s (node 2, term 1)"
                .to_string()
        )]
    );
}

#[test]
fn no_leader_at_all_fails_saying_nor_since() {
    let mut f = judge(3, FAULTS_END);
    tick(&mut f, FAULTS_END + 1);
    candidate(&mut f, 1_100, 0, 1);
    let report = elects_within(&mut f, 5_000);
    assert_eq!(
        violations(&report),
        vec![(
            1_500,
            vec![0, 1, 2],
            "no leader the cluster followed within 500ms after the faults were over at 1.000s with a majority up and connected; nor since"
                .to_string()
        )]
    );
    assert_eq!(f.judge.elected(), None);
}

#[test]
fn the_deadline_is_judged_only_if_the_run_reaches_it() {
    for (end, judged) in [(1_499, false), (1_500, true), (1_501, true)] {
        let mut f = judge(3, FAULTS_END);
        tick(&mut f, FAULTS_END + 1);
        let report = elects_within(&mut f, end);
        if judged {
            assert_eq!(report.verdict, Verdict::Fail, "end {end}");
        } else {
            assert!(passes(&report), "end {end}");
            assert_eq!(
                report.detail,
                "not judged: the run ends before the deadline 1.500s"
            );
        }
    }
}

#[test]
fn a_leader_from_before_the_faults_ended_counts_from_the_first_moment_after() {
    let mut f = judge(3, FAULTS_END);
    elect(&mut f, 3, 100, 1, 1, &[0]);
    tick(&mut f, 1_300);
    let report = elects_within(&mut f, 5_000);
    assert_eq!(
        report.detail,
        "node 1 led term 1 at 1.300s, 300ms after the faults were over at 1.000s (bound 500ms)"
    );
}

#[test]
fn a_stale_leader_is_not_followed() {
    // Node 0 still thinks it leads term 1, but node 2 has moved to term 2.
    let mut f = judge(3, FAULTS_END);
    elect(&mut f, 3, 100, 0, 1, &[1]);
    persist(&mut f, 900, 2, 2);
    tick(&mut f, FAULTS_END + 1);
    let report = elects_within(&mut f, 5_000);
    assert_eq!(report.verdict, Verdict::Fail);
    assert!(report.violations[0].message.ends_with("nor since"));
    // Once node 0 steps down and node 2 wins term 2, the cluster has a leader.
    follower(&mut f, 1_200, 0, 2);
    elect(&mut f, 3, 1_300, 2, 2, &[0]);
    assert_eq!(
        f.judge.elected().map(|e| (e.node, e.term)),
        Some((2, 2)),
        "the new leader"
    );
}

#[test]
fn a_crashed_node_neither_leads_nor_sets_the_term() {
    // The leader crashes: it no longer leads, even after a restart.
    let mut f = judge(3, FAULTS_END);
    elect(&mut f, 3, 100, 0, 1, &[1]);
    crash(&mut f, 500, 0);
    f.at::<Election>(600, TraceEvent::Restart { node: 0 });
    tick(&mut f, FAULTS_END + 1);
    assert_eq!(elects_within(&mut f, 5_000).verdict, Verdict::Fail);
    // A crashed node in a higher term does not make the leader stale.
    let mut f = judge(3, FAULTS_END);
    elect(&mut f, 3, 100, 0, 1, &[1]);
    persist(&mut f, 500, 2, 9);
    crash(&mut f, 600, 2);
    tick(&mut f, FAULTS_END + 1);
    let report = elects_within(&mut f, 5_000);
    assert!(passes(&report), "{report:?}");
    assert!(report.detail.starts_with("node 0 led term 1 at 1.001s"));
}

#[test]
fn a_node_that_becomes_a_candidate_or_follower_no_longer_leads() {
    for step_down in [true, false] {
        let mut f = judge(3, FAULTS_END);
        elect(&mut f, 3, 100, 0, 1, &[1]);
        if step_down {
            follower(&mut f, 900, 0, 1);
        } else {
            f.observe::<Election>(900, 0, &ElectionObservation::BecameCandidate { term: 1 });
        }
        tick(&mut f, FAULTS_END + 1);
        assert_eq!(elects_within(&mut f, 5_000).verdict, Verdict::Fail);
    }
}

fn not_judged(f: &mut Feed<ElectionJudge>, majority: u32, nodes: u32) {
    let report = elects_within(f, 5_000);
    assert!(passes(&report), "{report:?}");
    assert_eq!(
        report.detail,
        format!(
            "not judged: just after the last fault (1.000s), no majority of {majority} of the {nodes} nodes was up and reaching one another both ways"
        )
    );
}

#[test]
fn a_partition_with_no_majority_side_is_not_judged() {
    let mut f = judge(3, FAULTS_END);
    let groups = vec![vec![0], vec![1], vec![2]];
    f.at::<Election>(FAULTS_END, TraceEvent::Partition { groups: &groups });
    persist(&mut f, FAULTS_END + 1, 0, 1);
    not_judged(&mut f, 2, 3);
}

#[test]
fn a_partition_with_a_majority_side_is_judged() {
    let mut f = judge(5, FAULTS_END);
    let groups = vec![vec![0, 1, 2], vec![3, 4]];
    f.at::<Election>(FAULTS_END, TraceEvent::Partition { groups: &groups });
    persist(&mut f, FAULTS_END + 1, 0, 1);
    assert_eq!(elects_within(&mut f, 5_000).verdict, Verdict::Fail);
}

#[test]
fn too_few_up_nodes_are_not_judged_and_a_bare_majority_is() {
    let mut f = judge(3, FAULTS_END);
    crash(&mut f, 200, 1);
    crash(&mut f, 300, 2);
    tick(&mut f, FAULTS_END + 1);
    not_judged(&mut f, 2, 3);

    let mut f = judge(3, FAULTS_END);
    crash(&mut f, 200, 1);
    tick(&mut f, FAULTS_END + 1);
    assert_eq!(elects_within(&mut f, 5_000).verdict, Verdict::Fail);
}

#[test]
fn a_paused_node_is_not_up_for_the_majority() {
    let mut f = judge(3, FAULTS_END);
    crash(&mut f, 200, 1);
    f.at::<Election>(
        300,
        TraceEvent::Pause {
            node: 2,
            duration: faultline::sim::SimDuration::from_millis(8_000),
        },
    );
    tick(&mut f, FAULTS_END + 1);
    not_judged(&mut f, 2, 3);
}

#[test]
fn links_cut_one_way_each_leave_no_majority() {
    // 0 cannot send to 1, 1 to 2, 2 to 0: no two nodes reach each other
    // both ways.
    let mut f = judge(3, FAULTS_END);
    for (from, to) in [(0, 1), (1, 2), (2, 0)] {
        f.at::<Election>(FAULTS_END, TraceEvent::CutLink { from, to });
    }
    tick_without_heal(&mut f, FAULTS_END + 1);
    not_judged(&mut f, 2, 3);
}

#[test]
fn a_star_whose_arms_cannot_reach_one_another_is_no_majority() {
    // Four nodes, a majority is 3: node 0 reaches everyone, but 1, 2 and 3
    // reach only node 0, so no three nodes all reach one another.
    let mut f = judge(4, FAULTS_END);
    for (a, b) in [(1, 2), (1, 3), (2, 3)] {
        cut_both_ways(&mut f, FAULTS_END, a, b);
    }
    tick_without_heal(&mut f, FAULTS_END + 1);
    not_judged(&mut f, 3, 4);
    // With 2 and 3 reconnected, {0, 2, 3} is a majority.
    let mut f = judge(4, FAULTS_END);
    for (a, b) in [(1, 2), (1, 3)] {
        cut_both_ways(&mut f, FAULTS_END, a, b);
    }
    tick_without_heal(&mut f, FAULTS_END + 1);
    assert_eq!(elects_within(&mut f, 5_000).verdict, Verdict::Fail);
}

/// An event after the faults that leaves the links as they are.
fn tick_without_heal(f: &mut Feed<ElectionJudge>, t: u64) {
    persist(f, t, 0, 0);
}

#[test]
fn the_world_is_read_just_after_the_last_fault_not_at_it() {
    // The partition at faults_end is seen; an event at faults_end itself
    // comes before it and does not decide.
    let mut f = judge(3, FAULTS_END);
    persist(&mut f, FAULTS_END, 0, 0);
    let groups = vec![vec![0], vec![1], vec![2]];
    f.at::<Election>(FAULTS_END, TraceEvent::Partition { groups: &groups });
    tick_without_heal(&mut f, FAULTS_END + 1);
    not_judged(&mut f, 2, 3);
}

#[test]
fn nothing_after_the_faults_is_not_judged() {
    let mut f = judge(3, FAULTS_END);
    persist(&mut f, 100, 0, 1);
    let report = elects_within(&mut f, 5_000);
    assert!(passes(&report));
    assert_eq!(
        report.detail,
        "not judged: nothing happened after the faults were over at 1.000s"
    );
}

// ---- SplitVote --------------------------------------------------------

#[test]
fn a_split_vote_in_an_ended_term_is_covered() {
    let mut f = judge(5, 0);
    candidate(&mut f, 100, 0, 1);
    candidate(&mut f, 100, 1, 1);
    vote(&mut f, 101, 2, 1, 0);
    vote(&mut f, 101, 3, 1, 1);
    // Still term 1: the term has not ended.
    assert_eq!(
        coverage(&f, "SplitVote"),
        (
            false,
            "terms in which the vote split and nobody won: []".to_string()
        )
    );
    persist(&mut f, 300, 4, 2);
    assert_eq!(
        coverage(&f, "SplitVote"),
        (
            true,
            "terms in which the vote split and nobody won: [1]".to_string()
        )
    );
}

#[test]
fn split_votes_are_listed_by_term() {
    let mut f = judge(5, 0);
    for term in [2, 5] {
        candidate(&mut f, 100 * term, 3, term);
        candidate(&mut f, 100 * term, 4, term);
        vote(&mut f, 100 * term, 0, term, 3);
        vote(&mut f, 100 * term, 1, term, 4);
    }
    elect(&mut f, 5, 700, 0, 6, &[1, 2]);
    assert_eq!(
        coverage(&f, "SplitVote").1,
        "terms in which the vote split and nobody won: [2, 5]"
    );
}

#[test]
fn no_split_without_votes_to_split_or_with_one_supported_candidate_or_a_winner() {
    // Two candidates voting only for themselves.
    let mut f = judge(5, 0);
    candidate(&mut f, 100, 0, 1);
    candidate(&mut f, 100, 1, 1);
    persist(&mut f, 300, 2, 2);
    assert!(!coverage(&f, "SplitVote").0);
    // Two candidates, only one with another's vote, and nobody wins.
    let mut f = judge(5, 0);
    candidate(&mut f, 100, 0, 1);
    candidate(&mut f, 100, 1, 1);
    vote(&mut f, 101, 2, 1, 0);
    persist(&mut f, 300, 2, 2);
    assert!(!coverage(&f, "SplitVote").0);
    // One candidate with votes, nobody wins.
    let mut f = judge(5, 0);
    candidate(&mut f, 100, 0, 1);
    vote(&mut f, 101, 2, 1, 0);
    persist(&mut f, 300, 2, 2);
    assert!(!coverage(&f, "SplitVote").0);
    // Both supported, but one wins the term after all.
    let mut f = judge(5, 0);
    candidate(&mut f, 100, 0, 1);
    candidate(&mut f, 100, 1, 1);
    vote(&mut f, 101, 2, 1, 0);
    vote(&mut f, 101, 3, 1, 1);
    vote(&mut f, 101, 4, 1, 0);
    leader(&mut f, 102, 0, 1);
    persist(&mut f, 300, 2, 2);
    assert!(!coverage(&f, "SplitVote").0);
    // An election won plainly in an ended term.
    let mut f = judge(3, 0);
    elect(&mut f, 3, 100, 0, 1, &[1]);
    persist(&mut f, 300, 2, 2);
    assert_eq!(
        coverage(&f, "SplitVote"),
        (
            false,
            "terms in which the vote split and nobody won: []".to_string()
        )
    );
}

// ---- LeaderChanged ----------------------------------------------------

#[test]
fn the_same_leader_again_is_no_change() {
    let mut f = judge(3, 0);
    elect(&mut f, 3, 100, 0, 1, &[1]);
    elect(&mut f, 3, 300, 0, 2, &[1]);
    assert_eq!(
        coverage(&f, "LeaderChanged"),
        (false, "leadership moved 0 time(s): ".to_string())
    );
}

#[test]
fn a_new_leader_is_a_change_and_the_first_five_are_listed() {
    let mut f = judge(3, 0);
    elect(&mut f, 3, 100, 0, 1, &[1]);
    elect(&mut f, 3, 200, 1, 2, &[0]);
    assert_eq!(
        coverage(&f, "LeaderChanged"),
        (
            true,
            "leadership moved 1 time(s): node 0 (term 1) to node 1 (term 2) at 0.201s".to_string()
        )
    );
    for term in 3..=7 {
        elect(
            &mut f,
            3,
            100 * term,
            ((term + 1) % 2) as NodeId,
            term,
            &[2],
        );
    }
    let (happened, detail) = coverage(&f, "LeaderChanged");
    assert!(happened);
    assert_eq!(
        detail,
        "leadership moved 6 time(s): node 0 (term 1) to node 1 (term 2) at 0.201s, \
         node 1 (term 2) to node 0 (term 3) at 0.301s, \
         node 0 (term 3) to node 1 (term 4) at 0.401s, \
         node 1 (term 4) to node 0 (term 5) at 0.501s, \
         node 0 (term 5) to node 1 (term 6) at 0.601s"
    );
}

// ---- What else a user reads --------------------------------------------

#[test]
fn the_wins_and_the_metrics() {
    let mut f = judge(3, FAULTS_END);
    elect(&mut f, 3, 249, 0, 1, &[1]);
    tick(&mut f, FAULTS_END + 1);
    elect(&mut f, 3, 1_249, 1, 3, &[2]);
    persist(&mut f, 1_400, 2, 4);
    assert_eq!(
        f.judge.wins(),
        &[
            Win {
                node: 0,
                term: 1,
                time: faultline::testing::ms(250)
            },
            Win {
                node: 1,
                term: 3,
                time: faultline::testing::ms(1_250)
            }
        ]
    );
    let metrics = f.judge.metrics(faultline::testing::ms(5_000));
    let expected = [
        ("election_time_s", 0.001),
        ("elections_won", 2.0),
        ("first_leader_s", 0.25),
        ("term_max", 4.0),
    ];
    assert_eq!(
        metrics.keys().map(String::as_str).collect::<Vec<_>>(),
        expected.iter().map(|(k, _)| *k).collect::<Vec<_>>()
    );
    for (key, value) in expected {
        assert!(
            (metrics[key] - value).abs() < 1e-9,
            "{key}: {}",
            metrics[key]
        );
    }
}

#[test]
fn with_no_win_the_metrics_say_so() {
    let mut f = judge(3, FAULTS_END);
    persist(&mut f, 100, 1, 2);
    let metrics = f.judge.metrics(faultline::testing::ms(5_000));
    assert_eq!(metrics.len(), 2, "{metrics:?}");
    assert_eq!(metrics["elections_won"], 0.0);
    assert_eq!(metrics["term_max"], 2.0);
}

#[test]
fn only_the_listed_checks_report_and_coverage_checks_report_as_coverage() {
    let absent = [false; 3];
    let setup = setup(3, 10_000, &[], 0, 10, &absent);
    let checks = [ElectionCheck::LeaderHasQuorum, ElectionCheck::SplitVote];
    let mut f = Feed::new(ElectionJudge::new(&checks, &setup), 3);
    let names: Vec<_> = f.reports(1_000).into_iter().map(|r| r.name).collect();
    assert_eq!(names, vec!["LeaderHasQuorum"]);
}
