//! Checks for single-decree Paxos, from the protocol's observations.
//!
//! Lamport's safety requirements ("Paxos Made Simple", 2001): only a value
//! that has been proposed may be chosen; only a single value is chosen; a
//! process never learns that a value has been chosen unless it actually has
//! been. A value is *chosen* when a majority of the acceptors have accepted
//! it under one ballot; that is judged from the acceptors' own accepts, not
//! from what learners happen to learn.
//!
//! - `Agreement`: at most one value is ever chosen, and no two learns, on any
//!   nodes at any time (across crashes and restarts), carry different values.
//! - `Validity`: every chosen and every learned value was handed to a proposer
//!   by a client.
//! - `Integrity`: a node learns at most once (its decision is durable, so a
//!   restart must not make it learn again, let alone something else), and
//!   only a proposal that had been chosen when it learned it.
//! - `OneValuePerBallot`: no two acceptors accept different values under the
//!   same ballot (the invariant of that name in Lamport's Voting
//!   specification, on which agreement rests). It catches a reused ballot
//!   even when no learner happens to diverge.
//! - `DecidesWithin(d)`, liveness scoped honestly: once the last fault has
//!   ended, if a strict majority of acceptors and a proposer are up and
//!   connected both ways, a value must be *chosen* (accepted by a strict
//!   majority under one ballot) within `d` of that moment, or of the first
//!   client value if that comes later. The proposer must hold a client value
//!   (one that was crashed when its value was due has nothing to propose).
//!   When the condition does not hold the check says so and does not judge.
//!
//! "Chosen" always uses a true majority of the acceptors, whatever quorum the
//! protocol variant uses, because that is what Paxos promises.

use super::{Ballot, Paxos, PaxosObservation, Value};
use crate::check::{report, CheckReport, Coverage, PropertyKind, Violation};
use crate::harness::{Check, HumanDuration, Judge, RunSetup};
use crate::node::NodeId;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{NodeStatus, Observer, TraceEvent, WorldView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What `checks: [...]` may list for Paxos.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum PaxosCheck {
    /// At most one value chosen; learners agree.
    Agreement,
    /// Chosen and learned values were proposed.
    Validity,
    /// A node learns at most once, and only what was chosen.
    Integrity,
    /// One value per ballot among acceptors.
    OneValuePerBallot,
    /// A value is chosen within the bound once faults stop.
    DecidesWithin(HumanDuration),
    /// Coverage: two proposers ran rounds before a choice.
    DuelingProposers,
    /// Coverage: a proposer proposed another client's value.
    ValueAdopted,
}

impl Check for PaxosCheck {
    fn name(&self) -> &'static str {
        match self {
            PaxosCheck::Agreement => "Agreement",
            PaxosCheck::Validity => "Validity",
            PaxosCheck::Integrity => "Integrity",
            PaxosCheck::OneValuePerBallot => "OneValuePerBallot",
            PaxosCheck::DecidesWithin(_) => "DecidesWithin",
            PaxosCheck::DuelingProposers => "DuelingProposers",
            PaxosCheck::ValueAdopted => "ValueAdopted",
        }
    }
}

#[derive(Clone, Debug)]
struct Learned {
    node: NodeId,
    time: SimTime,
    ballot: Ballot,
    value: Value,
}

/// Judges a Paxos run: agreement, validity, integrity, termination, and coverage.
pub struct PaxosJudge {
    acceptors: Vec<NodeId>,
    proposers: Vec<NodeId>,
    client_values: Vec<Value>,
    value_first_at: SimTime,
    within: Option<SimDuration>,
    faults_end: SimTime,
    learns: Vec<Learned>,
    agreement: Vec<Violation>,
    validity: Vec<Violation>,
    integrity: Vec<Violation>,
    one_value: Vec<Violation>,
    /// Acceptors that accepted each proposal. Keyed by value too: under the
    /// ReuseBallot bug one ballot can carry two values, and votes for
    /// different values must not add up to a choice.
    accepted_by: BTreeMap<(Ballot, Value), Vec<NodeId>>,
    /// Proposers that have received a client value (it is durable).
    with_value: Vec<NodeId>,
    /// The first proposal chosen.
    chosen: Option<(SimTime, Ballot, Value)>,
    /// Every proposal chosen, in the order it was.
    chosen_all: Vec<(SimTime, Ballot, Value)>,
    /// Set once the run is past `faults_end`: the start of the liveness
    /// window, or why it is not judged.
    liveness: Option<Result<SimTime, String>>,
    /// Proposers that started a round before anything was chosen.
    preparers_early: Vec<NodeId>,
    /// Rounds started.
    rounds: u64,
    /// Per proposer: its latest client value.
    own_value: BTreeMap<NodeId, Value>,
    /// Proposals of a value other than the proposer's own.
    adopted: u64,
    checks: Vec<PaxosCheck>,
}

impl PaxosJudge {
    /// A judge of `checks` for one run.
    pub fn new(protocol: &Paxos, checks: &[PaxosCheck], setup: &RunSetup<'_>) -> Self {
        let within = checks.iter().find_map(|check| match check {
            PaxosCheck::DecidesWithin(within) => Some(within.span()),
            _ => None,
        });
        let faults_end = setup.faults_end;
        PaxosJudge {
            acceptors: protocol.acceptors.clone(),
            proposers: protocol.proposers.clone(),
            client_values: protocol.values.iter().map(|v| v.value.clone()).collect(),
            value_first_at: protocol
                .values
                .iter()
                .map(|v| SimTime::ZERO.after(v.at))
                .min()
                .unwrap_or(SimTime::ZERO),
            within,
            faults_end,
            learns: Vec::new(),
            agreement: Vec::new(),
            validity: Vec::new(),
            integrity: Vec::new(),
            one_value: Vec::new(),
            accepted_by: BTreeMap::new(),
            with_value: Vec::new(),
            chosen: None,
            chosen_all: Vec::new(),
            liveness: None,
            preparers_early: Vec::new(),
            rounds: 0,
            own_value: BTreeMap::new(),
            adopted: 0,
            checks: checks.to_vec(),
        }
    }

    fn majority(&self) -> usize {
        self.acceptors.len() / 2 + 1
    }

    /// When (and whether) a value was chosen: (time, ballot, value).
    pub fn chosen(&self) -> Option<&(SimTime, Ballot, Value)> {
        self.chosen.as_ref()
    }

    fn on_learn(&mut self, learned: Learned) {
        if !self.client_values.contains(&learned.value) {
            self.validity.push(Violation {
                time: learned.time,
                nodes: vec![learned.node],
                message: format!(
                    "node {} learned {:?} (ballot {}) at {}, which no client proposed",
                    learned.node,
                    learned.value,
                    ballot_name(learned.ballot),
                    learned.time
                ),
            });
        }
        let voters = self
            .accepted_by
            .get(&(learned.ballot, learned.value.clone()))
            .map_or(0, Vec::len);
        if voters < self.majority() {
            self.integrity.push(Violation {
                time: learned.time,
                nodes: vec![learned.node],
                message: format!(
                    "node {} learned {:?} (ballot {}) at {}, which was not chosen: {voters} of {} acceptors had accepted it, a majority is {}",
                    learned.node,
                    learned.value,
                    ballot_name(learned.ballot),
                    learned.time,
                    self.acceptors.len(),
                    self.majority()
                ),
            });
        }
        if let Some(earlier) = self.learns.iter().find(|l| l.node == learned.node) {
            self.integrity.push(Violation {
                time: learned.time,
                nodes: vec![learned.node],
                message: format!(
                    "node {} learned twice: {:?} (ballot {}) at {}, then {:?} (ballot {}) at {}",
                    learned.node,
                    earlier.value,
                    ballot_name(earlier.ballot),
                    earlier.time,
                    learned.value,
                    ballot_name(learned.ballot),
                    learned.time
                ),
            });
        }
        if let Some(other) = self.learns.iter().find(|l| l.value != learned.value) {
            self.agreement.push(Violation {
                time: learned.time,
                nodes: vec![other.node, learned.node],
                message: format!(
                    "node {} learned {:?} (ballot {}) at {} but node {} had learned {:?} (ballot {}) at {}",
                    learned.node,
                    learned.value,
                    ballot_name(learned.ballot),
                    learned.time,
                    other.node,
                    other.value,
                    ballot_name(other.ballot),
                    other.time
                ),
            });
        }
        self.learns.push(learned);
    }

    /// A proposal reached a majority of acceptors: it is chosen.
    fn on_chosen(&mut self, now: SimTime, ballot: Ballot, value: Value) {
        if !self.client_values.contains(&value) {
            self.validity.push(Violation {
                time: now,
                nodes: self.acceptors.clone(),
                message: format!(
                    "{value:?} was chosen under ballot {} at {now}, but no client proposed it",
                    ballot_name(ballot)
                ),
            });
        }
        if let Some((at, other_ballot, other)) =
            self.chosen_all.iter().find(|(_, _, other)| *other != value)
        {
            self.agreement.push(Violation {
                time: now,
                nodes: self.acceptors.clone(),
                message: format!(
                    "two values chosen: {value:?} under ballot {} at {now}, after {other:?} under ballot {} at {at} (each accepted by a majority of {} acceptors)",
                    ballot_name(ballot),
                    ballot_name(*other_ballot),
                    self.acceptors.len()
                ),
            });
        }
        self.chosen.get_or_insert((now, ballot, value.clone()));
        self.chosen_all.push((now, ballot, value));
    }

    fn judge_liveness_start(&mut self, world: &WorldView<'_>) {
        let majority = self.majority();
        let connected = |p: NodeId, a: NodeId| world.link_up(p, a) && world.link_up(a, p);
        let ready = self.proposers.iter().copied().find(|&p| {
            self.with_value.contains(&p)
                && world.status(p) == NodeStatus::Up
                && self
                    .acceptors
                    .iter()
                    .filter(|&&a| world.status(a) == NodeStatus::Up && connected(p, a))
                    .count()
                    >= majority
        });
        self.liveness = Some(match ready {
            Some(_) => Ok(self.faults_end.max(self.value_first_at)),
            None => Err(format!(
                "not judged: when faults stopped at {}, no proposer holding a client value was up and connected to a majority of {majority} acceptors",
                self.faults_end
            )),
        });
    }

    fn check_report(&mut self, check: &PaxosCheck, end: SimTime) -> Option<CheckReport> {
        let safety = PropertyKind::Safety;
        Some(match check {
            PaxosCheck::Agreement => {
                let chosen = match self.chosen_all.first() {
                    None => "no value chosen".to_string(),
                    Some((time, ballot, value)) => format!(
                        "{} proposal(s) chosen; first: {value:?} under ballot {} at {time}",
                        self.chosen_all.len(),
                        ballot_name(*ballot)
                    ),
                };
                let learned = match self.learns.first() {
                    None => "no node learned a value".to_string(),
                    Some(first) => format!(
                        "{} learn(s); first: node {} learned {:?} (ballot {}) at {}",
                        self.learns.len(),
                        first.node,
                        first.value,
                        ballot_name(first.ballot),
                        first.time
                    ),
                };
                let detail = format!("{chosen}; {learned}");
                report("Agreement", safety, detail, self.agreement.clone())
            }
            PaxosCheck::Validity => report(
                "Validity",
                safety,
                format!("client values: {:?}", self.client_values),
                self.validity.clone(),
            ),
            PaxosCheck::Integrity => {
                let nodes: std::collections::BTreeSet<NodeId> =
                    self.learns.iter().map(|l| l.node).collect();
                report(
                    "Integrity",
                    safety,
                    format!("{} node(s) learned", nodes.len()),
                    self.integrity.clone(),
                )
            }
            PaxosCheck::OneValuePerBallot => {
                let ballots: std::collections::BTreeSet<Ballot> =
                    self.accepted_by.keys().map(|(ballot, _)| *ballot).collect();
                report(
                    "OneValuePerBallot",
                    safety,
                    format!(
                        "{} ballot(s) accepted, {} proposal(s)",
                        ballots.len(),
                        self.accepted_by.len()
                    ),
                    self.one_value.clone(),
                )
            }
            PaxosCheck::DecidesWithin(_) => self.liveness_report(end),
            PaxosCheck::DuelingProposers | PaxosCheck::ValueAdopted => return None,
        })
    }

    fn liveness_report(&mut self, end: SimTime) -> CheckReport {
        let within = self.within.unwrap_or_default();
        let chosen = match &self.chosen {
            Some((time, ballot, value)) => format!(
                "{value:?} chosen under ballot {} at {time}",
                ballot_name(*ballot)
            ),
            None => "no value chosen".to_string(),
        };
        let mut violations = Vec::new();
        let detail = match &self.liveness {
            None if self.chosen.is_some() => {
                format!("{chosen}; faults stopped at {}", self.faults_end)
            }
            None => format!(
                "not judged: nothing happened after faults stopped at {}; {chosen}",
                self.faults_end
            ),
            Some(Err(reason)) => format!("{reason}; {chosen}"),
            Some(Ok(start)) => {
                let deadline = start.after(within);
                match &self.chosen {
                    Some((time, ..)) if *time < *start => {
                        format!("{chosen}, before the liveness window opened at {start} (faults over at {})", self.faults_end)
                    }
                    Some((time, ..)) if *time <= deadline => {
                        format!(
                            "{chosen}, {} after the liveness window opened at {start} (faults over at {}, a client value in; bound {within})",
                            time.since(*start),
                            self.faults_end
                        )
                    }
                    _ if deadline > end => {
                        format!("not judged: the run ends before {deadline}; {chosen}")
                    }
                    _ => {
                        violations.push(Violation {
                            time: deadline,
                            nodes: self.proposers.clone(),
                            message: format!(
                                "no value chosen within {within} after faults stopped at {start} with a proposer and a majority connected ({chosen})"
                            ),
                        });
                        String::new()
                    }
                }
            }
        };
        report("DecidesWithin", PropertyKind::Liveness, detail, violations)
    }
}

impl Judge for PaxosJudge {
    fn reports(&mut self, end: SimTime) -> Vec<CheckReport> {
        let checks = self.checks.clone();
        checks
            .iter()
            .filter_map(|check| self.check_report(check, end))
            .collect()
    }

    fn coverage(&self) -> Vec<Coverage> {
        vec![
            Coverage {
                name: "DuelingProposers",
                happened: self.preparers_early.len() > 1,
                detail: format!(
                    "proposers {:?} started rounds before a value was chosen",
                    self.preparers_early
                ),
            },
            Coverage {
                name: "ValueAdopted",
                happened: self.adopted > 0,
                detail: format!("{} proposal(s) of another client's value", self.adopted),
            },
        ]
    }

    fn metrics(&self, _end: SimTime) -> BTreeMap<String, f64> {
        let mut metrics = BTreeMap::new();
        metrics.insert("rounds".to_string(), self.rounds as f64);
        if let Some((time, ..)) = &self.chosen {
            metrics.insert(
                "decision_time_s".to_string(),
                time.since(self.value_first_at.min(*time)).as_secs_f64(),
            );
        }
        metrics
    }
}

/// A ballot as the charts and messages write it: `round.proposer`.
pub fn ballot_name(ballot: Ballot) -> String {
    format!("{}.{}", ballot.round, ballot.proposer)
}

impl Observer<Paxos> for PaxosJudge {
    fn observe(&mut self, now: SimTime, event: &TraceEvent<'_, Paxos>, world: &WorldView<'_>) {
        if self.liveness.is_none() && now >= self.faults_end {
            self.judge_liveness_start(world);
        }
        let TraceEvent::Observe {
            node, observation, ..
        } = event
        else {
            return;
        };
        match observation {
            PaxosObservation::ClientValue { value } => {
                if !self.with_value.contains(node) {
                    self.with_value.push(*node);
                }
                self.own_value.insert(*node, value.clone());
            }
            PaxosObservation::Prepare { .. } => {
                self.rounds += 1;
                if self.chosen.is_none() && !self.preparers_early.contains(node) {
                    self.preparers_early.push(*node);
                }
            }
            PaxosObservation::Propose { value, .. }
                if self.own_value.get(node).is_some_and(|own| own != value) =>
            {
                self.adopted += 1;
            }
            PaxosObservation::Learn { ballot, value } => self.on_learn(Learned {
                node: *node,
                time: now,
                ballot: *ballot,
                value: value.clone(),
            }),
            PaxosObservation::Accept { ballot, value } => {
                let majority = self.majority();
                if let Some(((_, other), voters)) = self
                    .accepted_by
                    .iter()
                    .find(|((b, v), _)| b == ballot && v != value)
                {
                    self.one_value.push(Violation {
                        time: now,
                        nodes: std::iter::once(*node).chain(voters.iter().copied()).collect(),
                        message: format!(
                            "acceptor {node} accepted {value:?} under ballot {} at {now}, but acceptor(s) {voters:?} accepted {other:?} under the same ballot",
                            ballot_name(*ballot)
                        ),
                    });
                }
                let voters = self
                    .accepted_by
                    .entry((*ballot, value.clone()))
                    .or_default();
                if !voters.contains(node) {
                    voters.push(*node);
                }
                if voters.len() == majority {
                    self.on_chosen(now, *ballot, value.clone());
                }
            }
            _ => {}
        }
    }
}
