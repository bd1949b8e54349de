//! The checks, judged from what the nodes report (`ElectionObservation`),
//! what they persist (their current term) and the engine's ground truth
//! (which nodes are up, which links work).
//!
//! - `OneLeaderPerTerm` (safety): Raft's Election Safety property, "at most
//!   one leader can be elected in a given term" (Figure 3). Violated at the
//!   moment a second node reports becoming leader in a term.
//! - `LeaderHasQuorum` (safety): a node becomes leader in term t only once
//!   a strict majority of all nodes (itself included) have reported voting
//!   for it in term t. This is why a minority cannot elect.
//! - `ElectsWithin(d)` (liveness), scoped as faultline's own liveness checks
//!   are: judged only if, just after the last fault is over (`faults_end`),
//!   a strict majority of the nodes are up and all reach one another both
//!   ways. Then, within `d` of `faults_end`, there must be a moment at which
//!   some up node is leader in a term no up node has gone past (a leader the
//!   cluster will follow, not a stale one). Otherwise the check says why it
//!   does not judge.
//! - `SplitVote` (coverage): a term, since ended, in which the vote split:
//!   two or more candidates each won another node's vote, and none won a
//!   majority. (Two candidates cut off in a minority, voting only for
//!   themselves, are not a split vote: no vote was there to split.)
//! - `LeaderChanged` (coverage): a node became leader after another node had
//!   been leader.

use crate::protocol::{Election, ElectionObservation};
use faultline::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What `checks: [...]` may list.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum ElectionCheck {
    /// Safety: at most one leader per term.
    OneLeaderPerTerm,
    /// Safety: every leader had a majority's votes in its term.
    LeaderHasQuorum,
    /// Liveness: a leader within the bound once the faults are over.
    ElectsWithin(HumanDuration),
    /// Coverage: a term in which the vote split and nobody won.
    SplitVote,
    /// Coverage: leadership moved to another node.
    LeaderChanged,
}

impl Check for ElectionCheck {
    fn name(&self) -> &'static str {
        match self {
            ElectionCheck::OneLeaderPerTerm => "OneLeaderPerTerm",
            ElectionCheck::LeaderHasQuorum => "LeaderHasQuorum",
            ElectionCheck::ElectsWithin(_) => "ElectsWithin",
            ElectionCheck::SplitVote => "SplitVote",
            ElectionCheck::LeaderChanged => "LeaderChanged",
        }
    }
}

/// One election won: who, which term, when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Win {
    /// The new leader.
    pub node: NodeId,
    /// The term it leads.
    pub term: u64,
    /// When it became leader.
    pub time: SimTime,
}

/// The first moment, once the faults were over, at which the cluster had a
/// leader it follows: an up node leading a term no up node has gone past.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elected {
    /// The leader.
    pub node: NodeId,
    /// The term it leads.
    pub term: u64,
    /// That moment (the leader may have won earlier).
    pub time: SimTime,
}

/// Watches a run of the election and judges it.
pub struct ElectionJudge {
    checks: Vec<ElectionCheck>,
    node_count: u32,
    faults_end: SimTime,
    /// Per node: its current term, as last persisted.
    terms: Vec<u64>,
    /// Per node: the term it leads, while it is leader.
    leading: Vec<Option<u64>>,
    /// Per term: the nodes that stood as candidates in it.
    candidates: BTreeMap<u64, BTreeSet<NodeId>>,
    /// Per (term, candidate): the nodes that voted for it.
    votes: BTreeMap<(u64, NodeId), BTreeSet<NodeId>>,
    /// Every election won, in order.
    wins: Vec<Win>,
    one_leader_violations: Vec<Violation>,
    quorum_violations: Vec<Violation>,
    /// Set just after the last fault: `Err` says why liveness is not judged.
    liveness: Option<Result<(), String>>,
    /// The first moment at or after `faults_end` with a leader the cluster
    /// follows.
    elected: Option<Elected>,
}

impl ElectionJudge {
    /// A judge of `checks` for one run.
    pub fn new(checks: &[ElectionCheck], setup: &RunSetup<'_>) -> Self {
        let nodes = setup.node_count as usize;
        ElectionJudge {
            checks: checks.to_vec(),
            node_count: setup.node_count,
            faults_end: setup.faults_end,
            terms: vec![0; nodes],
            leading: vec![None; nodes],
            candidates: BTreeMap::new(),
            votes: BTreeMap::new(),
            wins: Vec::new(),
            one_leader_violations: Vec::new(),
            quorum_violations: Vec::new(),
            liveness: None,
            elected: None,
        }
    }

    /// Every election won, in the order they were.
    pub fn wins(&self) -> &[Win] {
        &self.wins
    }

    /// The first leader the cluster followed once the faults were over.
    pub fn elected(&self) -> Option<Elected> {
        self.elected
    }

    fn majority(&self) -> usize {
        self.node_count as usize / 2 + 1
    }

    fn on_observation(&mut self, now: SimTime, node: NodeId, observation: ElectionObservation) {
        match observation {
            ElectionObservation::BecameCandidate { term } => {
                self.candidates.entry(term).or_default().insert(node);
                self.leading[node as usize] = None;
            }
            ElectionObservation::BecameLeader { term } => self.on_win(Win {
                node,
                term,
                time: now,
            }),
            ElectionObservation::BecameFollower { .. } => self.leading[node as usize] = None,
            ElectionObservation::Voted { term, candidate } => {
                self.votes
                    .entry((term, candidate))
                    .or_default()
                    .insert(node);
            }
        }
    }

    fn on_win(&mut self, win: Win) {
        self.judge_one_leader(win);
        self.judge_quorum(win);
        self.leading[win.node as usize] = Some(win.term);
        self.wins.push(win);
    }

    /// A violation if another node already won this term.
    fn judge_one_leader(&mut self, win: Win) {
        let Some(other) = self
            .wins
            .iter()
            .find(|other| other.term == win.term && other.node != win.node)
        else {
            return;
        };
        self.one_leader_violations.push(Violation {
            time: win.time,
            nodes: vec![other.node, win.node],
            message: format!(
                "node {} became leader in term {} at {}, but node {} had become leader in term {} at {}",
                win.node, win.term, win.time, other.node, other.term, other.time
            ),
        });
    }

    /// A violation if fewer than a majority voted for the winner this term.
    fn judge_quorum(&mut self, win: Win) {
        let voters = self.voters(win.term, win.node);
        if voters.len() >= self.majority() {
            return;
        }
        self.quorum_violations.push(Violation {
            time: win.time,
            nodes: vec![win.node],
            message: format!(
                "node {} became leader in term {} at {} with the votes of {voters:?} only, {} of {} nodes; a majority is {}",
                win.node,
                win.term,
                win.time,
                voters.len(),
                self.node_count,
                self.majority()
            ),
        });
    }

    fn voters(&self, term: u64, candidate: NodeId) -> Vec<NodeId> {
        self.votes
            .get(&(term, candidate))
            .map(|voters| voters.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Whether some up node leads a term that no up node has gone past.
    fn followed_leader(&self, world: &WorldView<'_>) -> Option<(NodeId, u64)> {
        let up = |node: NodeId| world.status(node) != NodeStatus::Crashed;
        let term_max = (0..self.node_count)
            .filter(|&node| up(node))
            .map(|node| self.terms[node as usize])
            .max()?;
        (0..self.node_count)
            .filter(|&node| up(node))
            .find_map(|node| match self.leading[node as usize] {
                Some(term) if term >= term_max => Some((node, term)),
                _ => None,
            })
    }

    /// A strict majority of nodes that are up and all reach one another
    /// both ways, if there is one: some node's two-way neighbours, when they
    /// reach one another too. (This finds the majority side of a partition;
    /// a majority that only a search over subsets would find is missed, and
    /// the check then says it does not judge.)
    fn connected_majority(&self, world: &WorldView<'_>) -> Option<Vec<NodeId>> {
        let up: Vec<NodeId> = (0..self.node_count)
            .filter(|&node| world.status(node) == NodeStatus::Up)
            .collect();
        let both_ways = |a: NodeId, b: NodeId| world.link_up(a, b) && world.link_up(b, a);
        up.iter().find_map(|&node| {
            let side: Vec<NodeId> = up
                .iter()
                .copied()
                .filter(|&other| other == node || both_ways(node, other))
                .collect();
            let clique = side
                .iter()
                .all(|&a| side.iter().all(|&b| a == b || both_ways(a, b)));
            (clique && side.len() >= self.majority()).then_some(side)
        })
    }

    fn open_liveness_window(&mut self, world: &WorldView<'_>) {
        self.liveness = Some(match self.connected_majority(world) {
            Some(_) => Ok(()),
            None => Err(format!(
                "not judged: just after the last fault ({}), no majority of {} of the {} nodes was up and reaching one another both ways",
                self.faults_end,
                self.majority(),
                self.node_count
            )),
        });
    }

    fn safety_report(&self, name: &'static str, violations: &[Violation]) -> CheckReport {
        let terms = self
            .wins
            .iter()
            .map(|win| win.term)
            .collect::<BTreeSet<_>>();
        let detail = format!(
            "{} election(s) won in {} term(s), highest term {}",
            self.wins.len(),
            terms.len(),
            self.terms.iter().max().unwrap_or(&0)
        );
        report(name, PropertyKind::Safety, detail, violations.to_vec())
    }

    fn liveness_report(&self, within: SimDuration, end: SimTime) -> CheckReport {
        let kind = PropertyKind::Liveness;
        match self.liveness_outcome(within, end) {
            Ok(detail) => report("ElectsWithin", kind, detail, Vec::new()),
            Err(violation) => report("ElectsWithin", kind, String::new(), vec![violation]),
        }
    }

    /// A detail when the check passes or does not judge; the violation when
    /// it fails.
    fn liveness_outcome(&self, within: SimDuration, end: SimTime) -> Result<String, Violation> {
        let faults_end = self.faults_end;
        let deadline = faults_end.after(within);
        match (&self.liveness, self.elected) {
            (Some(Err(reason)), _) => Ok(reason.clone()),
            (_, Some(elected)) if elected.time <= deadline => Ok(format!(
                "node {} led term {} at {}, {} after the faults were over at {faults_end} (bound {within})",
                elected.node,
                elected.term,
                elected.time,
                elected.time.since(faults_end),
            )),
            (None, _) => Ok(format!(
                "not judged: nothing happened after the faults were over at {faults_end}"
            )),
            _ if deadline > end => Ok(format!(
                "not judged: the run ends before the deadline {deadline}"
            )),
            (Some(Ok(())), elected) => Err(self.no_leader_by(deadline, within, elected)),
        }
    }

    fn no_leader_by(
        &self,
        deadline: SimTime,
        within: SimDuration,
        elected: Option<Elected>,
    ) -> Violation {
        let late = elected.map_or("nor since".to_string(), |elected| {
            format!(
                "the first came at {} (node {}, term {})",
                elected.time, elected.node, elected.term
            )
        });
        Violation {
            time: deadline,
            nodes: (0..self.node_count).collect(),
            message: format!(
                "no leader the cluster followed within {within} after the faults were over at {} with a majority up and connected; {late}",
                self.faults_end
            ),
        }
    }

    /// Terms, since ended, in which the vote split.
    fn split_terms(&self) -> Vec<u64> {
        let term_max = self.terms.iter().copied().max().unwrap_or(0);
        self.candidates
            .iter()
            .filter(|(&term, candidates)| term < term_max && self.vote_split(term, candidates))
            .map(|(&term, _)| term)
            .collect()
    }

    /// Whether two or more of `term`'s candidates each won another node's
    /// vote, and none won the term.
    fn vote_split(&self, term: u64, candidates: &BTreeSet<NodeId>) -> bool {
        let supported = candidates
            .iter()
            .filter(|&&candidate| {
                let voters = self.voters(term, candidate);
                voters.iter().any(|&voter| voter != candidate)
            })
            .count();
        supported >= 2 && !self.wins.iter().any(|win| win.term == term)
    }

    /// Wins by a node other than the previous leader.
    fn leader_changes(&self) -> Vec<(Win, Win)> {
        self.wins
            .windows(2)
            .filter(|pair| pair[0].node != pair[1].node)
            .map(|pair| (pair[0], pair[1]))
            .collect()
    }
}

impl Judge for ElectionJudge {
    fn reports(&mut self, end: SimTime) -> Vec<CheckReport> {
        self.checks
            .iter()
            .filter_map(|check| match check {
                ElectionCheck::OneLeaderPerTerm => {
                    Some(self.safety_report("OneLeaderPerTerm", &self.one_leader_violations))
                }
                ElectionCheck::LeaderHasQuorum => {
                    Some(self.safety_report("LeaderHasQuorum", &self.quorum_violations))
                }
                ElectionCheck::ElectsWithin(within) => {
                    Some(self.liveness_report(within.span(), end))
                }
                // Judged by `coverage`.
                ElectionCheck::SplitVote | ElectionCheck::LeaderChanged => None,
            })
            .collect()
    }

    fn coverage(&self) -> Vec<Coverage> {
        let split = self.split_terms();
        let changes = self.leader_changes();
        let first_changes: Vec<String> = changes
            .iter()
            .take(5)
            .map(|(from, to)| {
                format!(
                    "node {} (term {}) to node {} (term {}) at {}",
                    from.node, from.term, to.node, to.term, to.time
                )
            })
            .collect();
        vec![
            Coverage {
                name: "SplitVote",
                happened: !split.is_empty(),
                detail: format!("terms in which the vote split and nobody won: {split:?}"),
            },
            Coverage {
                name: "LeaderChanged",
                happened: !changes.is_empty(),
                detail: format!(
                    "leadership moved {} time(s): {}",
                    changes.len(),
                    first_changes.join(", ")
                ),
            },
        ]
    }

    fn metrics(&self, _end: SimTime) -> BTreeMap<String, f64> {
        let mut metrics = BTreeMap::new();
        if let Some(elected) = self.elected {
            let election_time = elected.time.since(self.faults_end);
            metrics.insert("election_time_s".to_string(), election_time.as_secs_f64());
        }
        if let Some(first) = self.wins.first() {
            metrics.insert("first_leader_s".to_string(), first.time.as_secs_f64());
        }
        metrics.insert("elections_won".to_string(), self.wins.len() as f64);
        let term_max = self.terms.iter().copied().max().unwrap_or(0);
        metrics.insert("term_max".to_string(), term_max as f64);
        metrics
    }
}

impl Observer<Election> for ElectionJudge {
    fn observe(&mut self, now: SimTime, event: &TraceEvent<'_, Election>, world: &WorldView<'_>) {
        match *event {
            TraceEvent::Observe {
                node, observation, ..
            } => self.on_observation(now, node, *observation),
            TraceEvent::Persist { node, durable } => {
                self.terms[node as usize] = durable.current_term;
            }
            TraceEvent::Crash { node } | TraceEvent::Leave { node } => {
                self.leading[node as usize] = None;
            }
            _ => {}
        }
        // The world seen at an event at `faults_end` may predate the last
        // fault, which happens at that instant too: look just after it.
        if self.liveness.is_none() && now > self.faults_end {
            self.open_liveness_window(world);
        }
        if self.elected.is_none() && now >= self.faults_end {
            self.elected = self.followed_leader(world).map(|(node, term)| Elected {
                node,
                term,
                time: now,
            });
        }
    }
}
