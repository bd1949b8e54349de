//! Single-decree Paxos ("Paxos Made Simple", Lamport 2001).
//!
//! Nodes play three roles. *Proposers* (a configured set) try to get a value
//! chosen; *acceptors* (a configured set, all nodes by default) vote; every
//! node is a *learner*.
//!
//! A proposer picks a ballot `(round, proposer)`, larger than any it has used
//! or seen, and runs two phases against a quorum (a strict majority) of
//! acceptors:
//!
//! 1. *Prepare/promise.* It sends `Prepare(b)`. An acceptor that has promised
//!    nothing higher promises `b` and reports the highest-ballot proposal it
//!    has accepted, if any; otherwise it answers `Nack` with its promise.
//! 2. *Accept/accepted.* With promises from a quorum, the proposer proposes the
//!    value of the highest-ballot proposal reported, or its own client value if
//!    none was. It sends `Accept(b, v)`; an acceptor that has not promised a
//!    higher ballot accepts and tells every learner with `Accepted(b, v)`.
//!
//! A value is chosen once a quorum of acceptors has accepted the same ballot;
//! a learner learns it when it has seen `Accepted` for one ballot from a
//! quorum. Agreement holds because any two quorums intersect: a later
//! proposer's phase 1 always hears of a value that may have been chosen.
//!
//! Safety rests on durable state: acceptors persist their promise and their
//! accepted proposal *before* replying, and proposers persist their round
//! counter so a ballot is never reused after a crash. Liveness needs a quorum
//! and a proposer up and connected; dueling proposers are broken up by a
//! random backoff drawn from the node's own stream before each retry.
//!
//! The known-bug variants each remove one of these pillars; the checks must
//! catch every one of them.

mod chart;
mod check;

pub use chart::PaxosMarks;
pub use check::{ballot_name, PaxosCheck, PaxosJudge};

use crate::check::{Property, PropertyKind};
use crate::harness::{
    node_exists, BlockError, Harness, HumanDuration, Place, RunSetup, ScenarioFacts,
};
use crate::node::{Context, NodeId, Protocol};
use crate::plot::{Chart, TimelineData};
use crate::sim::time::{LocalTime, SimDuration};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A proposer's round counter.
pub type Round = u64;
/// Values are shared, not copied: a message, a promise and a persisted
/// proposal can all hold the same one without allocating.
pub type Value = std::sync::Arc<str>;

/// Ballots are ordered by round, then by proposer, so two proposers never
/// share one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Ballot {
    /// The round.
    pub round: Round,
    /// The proposer that owns it.
    pub proposer: NodeId,
}

/// A proposal: a value under a ballot.
pub type Proposal = (Ballot, Value);

/// A client hands `value` to proposer `node` at local time `at`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientValue {
    /// The proposer.
    pub node: NodeId,
    /// When, on the proposer's clock.
    pub at: SimDuration,
    /// The value.
    pub value: Value,
}

/// Which Paxos, correct or with a planted bug.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaxosVariant {
    /// Lamport's single-decree Paxos.
    #[default]
    Correct,
    /// Bug: acceptor state is not durable; a restarted acceptor forgets its
    /// promise and what it accepted.
    ForgetfulAcceptor,
    /// Bug: a proposer always proposes its own value, ignoring accepted ones.
    IgnoreAcceptedValue,
    /// Bug: quorums of floor(n/2) acceptors, which need not intersect.
    MinorityQuorum,
    /// Bug: a restarted proposer counts its rounds from zero again.
    ReuseBallot,
}

/// Single-decree Paxos: proposers, acceptors (who also learn) and client values.
#[derive(Clone, Debug, PartialEq)]
pub struct Paxos {
    /// Nodes that propose.
    pub proposers: Vec<NodeId>,
    /// Nodes that accept; every node learns.
    pub acceptors: Vec<NodeId>,
    /// Values handed to proposers, and when.
    pub values: Vec<ClientValue>,
    /// How long a proposer waits for a phase to complete before retrying.
    pub round_timeout: SimDuration,
    /// Random pause before each retry, uniform in [min, max].
    pub backoff_min: SimDuration,
    /// The longest pause before a retry.
    pub backoff_max: SimDuration,
    /// Which variant.
    pub variant: PaxosVariant,
}

/// What Paxos nodes send each other.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum PaxosMessage {
    /// Phase 1a: proposer asks acceptors to promise `ballot`.
    Prepare {
        /// The ballot.
        ballot: Ballot,
    },
    /// Phase 1b: acceptor promises `ballot`, with what it has accepted.
    Promise {
        /// The ballot.
        ballot: Ballot,
        /// The highest-ballot proposal the acceptor has accepted, if any.
        accepted: Option<Proposal>,
    },
    /// Acceptor refuses `ballot`: it has promised a higher one.
    Nack {
        /// The ballot.
        ballot: Ballot,
        /// The higher ballot the acceptor has promised.
        promised: Ballot,
    },
    /// Phase 2a: proposer asks acceptors to accept `value` under `ballot`.
    Accept {
        /// The ballot.
        ballot: Ballot,
        /// The value.
        value: Value,
    },
    /// Phase 2b: acceptor accepted `value` under `ballot` (sent to every learner).
    Accepted {
        /// The ballot.
        ballot: Ballot,
        /// The value.
        value: Value,
    },
}

/// Paxos timers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum PaxosTimer {
    /// Client value number `i` of the scenario arrives.
    ClientValue(usize),
    /// The current round took too long.
    RoundTimeout,
    /// The backoff is over: start a new round.
    Retry,
}

/// What survives a crash.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PaxosDurable {
    /// Acceptor: the highest ballot promised.
    pub promised: Option<Ballot>,
    /// Acceptor: the highest-ballot proposal accepted, if any.
    pub accepted: Option<Proposal>,
    /// Proposer: the last round used (so a restart never reuses a ballot).
    pub round: Round,
    /// Proposer: the client value it was handed, if any.
    pub value: Option<Value>,
    /// Learner: the decision learned, if any.
    pub learned: Option<Proposal>,
}

/// Facts for checks and charts.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum PaxosObservation {
    /// A proposer received a client value.
    ClientValue {
        /// The value.
        value: Value,
    },
    /// A proposer started phase 1.
    Prepare {
        /// The ballot.
        ballot: Ballot,
    },
    /// An acceptor promised a ballot.
    Promise {
        /// The ballot.
        ballot: Ballot,
    },
    /// A proposer started phase 2 with this value.
    Propose {
        /// The ballot.
        ballot: Ballot,
        /// The value.
        value: Value,
    },
    /// An acceptor accepted a proposal.
    Accept {
        /// The ballot.
        ballot: Ballot,
        /// The value.
        value: Value,
    },
    /// A learner learned the decision.
    Learn {
        /// The ballot.
        ballot: Ballot,
        /// The value.
        value: Value,
    },
}

#[derive(Debug)]
enum Phase {
    Idle,
    /// Collecting promises (in `PaxosState::promises`).
    Preparing {
        ballot: Ballot,
    },
    Accepting {
        ballot: Ballot,
    },
}

/// A Paxos node's volatile state (proposer, acceptor and learner at once).
#[derive(Debug)]
pub struct PaxosState {
    durable: PaxosDurable,
    /// The highest round seen in any ballot, so the next one is higher.
    round_seen: Round,
    phase: Phase,
    /// Promises for the ballot being prepared, one entry per acceptor heard
    /// from (a duplicate replaces its entry). Cleared by each new round; kept
    /// here rather than in `Phase` so its allocation is reused.
    promises: Vec<(NodeId, Option<Proposal>)>,
    /// Learner: every (ballot, acceptor) pair reported by `Accepted`, each
    /// once. A flat list: a run sees few ballots, and scanning it is cheaper
    /// than a map of lists.
    votes: Vec<(Ballot, NodeId)>,
}

impl PaxosState {
    /// What this node has learned, if anything.
    pub fn learned(&self) -> Option<&Proposal> {
        self.durable.learned.as_ref()
    }
}

impl Paxos {
    /// A copy whose client values are freshly allocated. Values are shared
    /// `Arc`s, cloned into every message: runs on different threads that
    /// shared them would contend on one reference count.
    /// The copy never touches the shared reference counts, not even to clone
    /// and drop: that alone, once per value and run, measurably slowed sweeps.
    pub fn unshared(&self) -> Paxos {
        Paxos {
            proposers: self.proposers.clone(),
            acceptors: self.acceptors.clone(),
            values: self
                .values
                .iter()
                .map(|client| ClientValue {
                    node: client.node,
                    at: client.at,
                    value: Value::from(&*client.value),
                })
                .collect(),
            round_timeout: self.round_timeout,
            backoff_min: self.backoff_min,
            backoff_max: self.backoff_max,
            variant: self.variant,
        }
    }

    /// Acceptors needed for a quorum: a strict majority (or, in the
    /// `MinorityQuorum` bug, half rounded down).
    pub fn quorum(&self) -> usize {
        let count = self.acceptors.len();
        match self.variant {
            PaxosVariant::MinorityQuorum => (count / 2).max(1),
            _ => count / 2 + 1,
        }
    }

    fn is_proposer(&self, node: NodeId) -> bool {
        self.proposers.contains(&node)
    }

    fn is_acceptor(&self, node: NodeId) -> bool {
        self.acceptors.contains(&node)
    }

    fn begin(&self, ctx: &mut Context<'_, Self>, durable: PaxosDurable) -> PaxosState {
        let now = ctx.now();
        let me = ctx.id();
        // Client values not yet due arrive on timers; the latest one already
        // due (before a restart) was persisted as `durable.value`.
        for (index, client) in self.values.iter().enumerate() {
            let due = LocalTime::from_nanos(client.at.as_nanos());
            if client.node == me && due >= now && self.is_proposer(me) {
                ctx.set_timer(PaxosTimer::ClientValue(index), due.since(now));
            }
        }
        let state = PaxosState {
            round_seen: durable.round,
            durable,
            phase: Phase::Idle,
            promises: Vec::new(),
            votes: Vec::new(),
        };
        if state.durable.value.is_some() && state.durable.learned.is_none() {
            self.schedule_retry(ctx);
        }
        state
    }

    fn schedule_retry(&self, ctx: &mut Context<'_, Self>) {
        let span = ctx
            .rng()
            .between(self.backoff_min.as_nanos(), self.backoff_max.as_nanos());
        ctx.cancel_timer(PaxosTimer::RoundTimeout);
        ctx.set_timer(PaxosTimer::Retry, SimDuration::from_nanos(span));
    }

    fn start_round(&self, state: &mut PaxosState, ctx: &mut Context<'_, Self>) {
        if state.durable.learned.is_some() || state.durable.value.is_none() {
            return;
        }
        let round = state.durable.round.max(state.round_seen) + 1;
        state.durable.round = round;
        state.round_seen = round;
        // The round is durable before the ballot leaves the node.
        ctx.persist(state.durable.clone());
        let ballot = Ballot {
            round,
            proposer: ctx.id(),
        };
        state.phase = Phase::Preparing { ballot };
        state.promises.clear();
        ctx.observe(PaxosObservation::Prepare { ballot });
        for &acceptor in &self.acceptors {
            ctx.send(acceptor, PaxosMessage::Prepare { ballot });
        }
        ctx.set_timer(PaxosTimer::RoundTimeout, self.round_timeout);
    }

    fn on_promise(
        &self,
        state: &mut PaxosState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        accepted: Option<Proposal>,
    ) {
        let Phase::Preparing { ballot: current } = state.phase else {
            return;
        };
        if current != ballot || !self.is_acceptor(from) {
            return;
        }
        let promises = &mut state.promises;
        match promises.iter_mut().find(|(node, _)| *node == from) {
            Some(entry) => entry.1 = accepted,
            None => promises.push((from, accepted)),
        }
        if promises.len() < self.quorum() {
            return;
        }
        // Ties between equal ballots (possible only in the buggy variants)
        // go to the highest acceptor id, whatever order promises came in.
        let highest = promises
            .iter()
            .filter_map(|(node, accepted)| accepted.as_ref().map(|proposal| (node, proposal)))
            .max_by_key(|(node, (ballot, _))| (*ballot, **node))
            .map(|(_, (_, value))| value.clone());
        let own = state
            .durable
            .value
            .clone()
            .expect("a proposer in a round has a value");
        let value = match self.variant {
            PaxosVariant::IgnoreAcceptedValue => own,
            _ => highest.unwrap_or(own),
        };
        state.phase = Phase::Accepting { ballot };
        ctx.observe(PaxosObservation::Propose {
            ballot,
            value: value.clone(),
        });
        for &acceptor in &self.acceptors {
            ctx.send(
                acceptor,
                PaxosMessage::Accept {
                    ballot,
                    value: value.clone(),
                },
            );
        }
        ctx.set_timer(PaxosTimer::RoundTimeout, self.round_timeout);
    }

    fn current_ballot(state: &PaxosState) -> Option<Ballot> {
        match state.phase {
            Phase::Idle => None,
            Phase::Preparing { ballot } | Phase::Accepting { ballot } => Some(ballot),
        }
    }

    fn on_learned_vote(
        &self,
        state: &mut PaxosState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        value: Value,
    ) {
        if !self.is_acceptor(from) {
            return;
        }
        // Votes matter only until the learner has learned.
        if state.durable.learned.is_some() {
            return;
        }
        if !state.votes.contains(&(ballot, from)) {
            state.votes.push((ballot, from));
        }
        let voters = state.votes.iter().filter(|(b, _)| *b == ballot).count();
        if voters >= self.quorum() {
            state.durable.learned = Some((ballot, value.clone()));
            ctx.persist(state.durable.clone());
            ctx.observe(PaxosObservation::Learn { ballot, value });
            // A decided proposer stops trying.
            state.phase = Phase::Idle;
            ctx.cancel_timer(PaxosTimer::RoundTimeout);
            ctx.cancel_timer(PaxosTimer::Retry);
        }
    }
}

impl Protocol for Paxos {
    type Message = PaxosMessage;
    type Timer = PaxosTimer;
    type Durable = PaxosDurable;
    type Observation = PaxosObservation;
    type State = PaxosState;

    fn on_start(&self, ctx: &mut Context<'_, Self>) -> PaxosState {
        self.begin(ctx, PaxosDurable::default())
    }

    fn on_restart(&self, ctx: &mut Context<'_, Self>, durable: &PaxosDurable) -> PaxosState {
        let mut durable = durable.clone();
        match self.variant {
            PaxosVariant::ForgetfulAcceptor => {
                durable.promised = None;
                durable.accepted = None;
            }
            PaxosVariant::ReuseBallot => durable.round = 0,
            _ => {}
        }
        self.begin(ctx, durable)
    }

    fn on_message(
        &self,
        state: &mut PaxosState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        message: PaxosMessage,
    ) {
        let me = ctx.id();
        match message {
            PaxosMessage::Prepare { ballot } if self.is_acceptor(me) => {
                state.round_seen = state.round_seen.max(ballot.round);
                match state.durable.promised {
                    Some(promised) if promised > ballot => {
                        ctx.send(from, PaxosMessage::Nack { ballot, promised })
                    }
                    _ => {
                        if state.durable.promised != Some(ballot) {
                            state.durable.promised = Some(ballot);
                            ctx.persist(state.durable.clone());
                            ctx.observe(PaxosObservation::Promise { ballot });
                        }
                        ctx.send(
                            from,
                            PaxosMessage::Promise {
                                ballot,
                                accepted: state.durable.accepted.clone(),
                            },
                        );
                    }
                }
            }
            PaxosMessage::Accept { ballot, value } if self.is_acceptor(me) => {
                state.round_seen = state.round_seen.max(ballot.round);
                match state.durable.promised {
                    Some(promised) if promised > ballot => {
                        ctx.send(from, PaxosMessage::Nack { ballot, promised })
                    }
                    _ => {
                        let proposal = (ballot, value.clone());
                        if state.durable.accepted.as_ref() != Some(&proposal) {
                            state.durable.promised = Some(ballot);
                            state.durable.accepted = Some(proposal);
                            ctx.persist(state.durable.clone());
                            ctx.observe(PaxosObservation::Accept {
                                ballot,
                                value: value.clone(),
                            });
                        }
                        ctx.broadcast(PaxosMessage::Accepted {
                            ballot,
                            value: value.clone(),
                        });
                        // The acceptor is a learner too; count its own vote.
                        self.on_learned_vote(state, ctx, me, ballot, value);
                    }
                }
            }
            PaxosMessage::Promise { ballot, accepted } => {
                self.on_promise(state, ctx, from, ballot, accepted)
            }
            PaxosMessage::Nack { ballot, promised } => {
                state.round_seen = state.round_seen.max(promised.round);
                if Self::current_ballot(state) == Some(ballot) && state.durable.learned.is_none() {
                    state.phase = Phase::Idle;
                    self.schedule_retry(ctx);
                }
            }
            PaxosMessage::Accepted { ballot, value } => {
                self.on_learned_vote(state, ctx, from, ballot, value)
            }
            PaxosMessage::Prepare { .. } | PaxosMessage::Accept { .. } => {}
        }
    }

    fn on_timer(&self, state: &mut PaxosState, ctx: &mut Context<'_, Self>, timer: PaxosTimer) {
        match timer {
            PaxosTimer::ClientValue(index) => {
                let value = self.values[index].value.clone();
                ctx.observe(PaxosObservation::ClientValue {
                    value: value.clone(),
                });
                state.durable.value = Some(value);
                ctx.persist(state.durable.clone());
                if matches!(state.phase, Phase::Idle) {
                    self.start_round(state, ctx);
                }
            }
            PaxosTimer::RoundTimeout => {
                if state.durable.learned.is_none() {
                    state.phase = Phase::Idle;
                    self.schedule_retry(ctx);
                }
            }
            PaxosTimer::Retry => {
                if matches!(state.phase, Phase::Idle) {
                    self.start_round(state, ctx);
                }
            }
        }
    }
}

/// `protocol: Paxos(proposers: [...], values: [...], ...)`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaxosBlock {
    /// The nodes that propose.
    pub proposers: Vec<u32>,
    /// The nodes that vote (default: every node).
    #[serde(default)]
    pub acceptors: Option<Vec<u32>>,
    /// What clients hand to proposers, and when.
    pub values: Vec<ClientValueBlock>,
    /// How long a round may take before a retry.
    #[serde(default = "round_timeout_default")]
    pub round_timeout: HumanDuration,
    /// The shortest random pause before a retry.
    #[serde(default = "backoff_min_default")]
    pub backoff_min: HumanDuration,
    /// The longest.
    #[serde(default = "backoff_max_default")]
    pub backoff_max: HumanDuration,
    /// The correct protocol or a planted bug.
    #[serde(default)]
    pub variant: PaxosVariant,
}

/// `(node: 0, at: "10ms", value: "A")`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientValueBlock {
    /// The proposer.
    pub node: u32,
    /// When, on the proposer's clock.
    pub at: HumanDuration,
    /// The value.
    pub value: String,
}

fn round_timeout_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(200))
}
fn backoff_min_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(10))
}
fn backoff_max_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(150))
}

/// Distinct existing nodes, at least one.
fn node_list(
    field: &'static str,
    list: &[u32],
    node_count: u32,
) -> Result<Vec<NodeId>, BlockError> {
    if list.is_empty() {
        return Err(BlockError::new(
            Place::field(field),
            "needs at least one node",
        ));
    }
    let mut seen = Vec::new();
    for (index, &node) in list.iter().enumerate() {
        let place = Place::field(field).index(index);
        node_exists(place.clone(), node, node_count)?;
        if seen.contains(&node) {
            return Err(BlockError::new(
                place,
                format!("node {node} is listed twice"),
            ));
        }
        seen.push(node);
    }
    Ok(seen)
}

fn client_values(
    values: &[ClientValueBlock],
    proposers: &[NodeId],
    scenario: &ScenarioFacts<'_>,
) -> Result<Vec<ClientValue>, BlockError> {
    if values.is_empty() {
        return Err(BlockError::new(
            Place::field("values"),
            "no client values: give each proposer something to propose",
        ));
    }
    let mut client_values = Vec::new();
    for (index, value) in values.iter().enumerate() {
        let place = |field| Place::field("values").index(index).then(field);
        node_exists(place("node"), value.node, scenario.node_count)?;
        if !proposers.contains(&value.node) {
            return Err(BlockError::new(
                place("node"),
                format!("node {} is not a proposer", value.node),
            ));
        }
        let arrives = value.at.span();
        if arrives >= scenario.duration {
            return Err(BlockError::new(
                place("at"),
                "the value arrives after the end of the run",
            ));
        }
        client_values.push(ClientValue {
            node: value.node,
            at: arrives,
            value: value.value.as_str().into(),
        });
    }
    Ok(client_values)
}

impl Harness for Paxos {
    const NAME: &'static str = "Paxos";
    const PROPERTIES: &'static [Property] = &[
        Property {
            name: "Agreement",
            kind: PropertyKind::Safety,
            summary: "at most one value is chosen (accepted by a majority under one ballot), and no two learns differ",
            example: "",
        },
        Property {
            name: "Validity",
            kind: PropertyKind::Safety,
            summary: "every chosen or learned value was proposed by a client",
            example: "",
        },
        Property {
            name: "Integrity",
            kind: PropertyKind::Safety,
            summary: "a node learns at most once, and only a value that was chosen",
            example: "",
        },
        Property {
            name: "OneValuePerBallot",
            kind: PropertyKind::Safety,
            summary: "no two acceptors accept different values under one ballot",
            example: "",
        },
        Property {
            name: "DecidesWithin",
            kind: PropertyKind::Liveness,
            summary: "once faults stop with a proposer and a majority connected, a value is chosen within the bound",
            example: "DecidesWithin(\"2s\")",
        },
        Property {
            name: "DuelingProposers",
            kind: PropertyKind::Coverage,
            summary: "two proposers ran rounds before a value was chosen",
            example: "",
        },
        Property {
            name: "ValueAdopted",
            kind: PropertyKind::Coverage,
            summary: "a proposer proposed a value other than its own client's (phase 1 reported an accepted one)",
            example: "",
        },
    ];
    type Block = PaxosBlock;
    type Check = PaxosCheck;
    type Judge = PaxosJudge;
    type Recorder = PaxosMarks;

    fn configure(block: PaxosBlock, scenario: &ScenarioFacts<'_>) -> Result<Self, BlockError> {
        let proposers = node_list("proposers", &block.proposers, scenario.node_count)?;
        let acceptors = match &block.acceptors {
            Some(list) => node_list("acceptors", list, scenario.node_count)?,
            None => (0..scenario.node_count).collect(),
        };
        let values = client_values(&block.values, &proposers, scenario)?;
        if block.backoff_min.0 > block.backoff_max.0 {
            return Err(BlockError::new(
                Place::field("backoff_min"),
                "backoff_min is greater than backoff_max",
            ));
        }
        Ok(Paxos {
            proposers,
            acceptors,
            values,
            round_timeout: block
                .round_timeout
                .positive(Place::field("round_timeout"))?,
            backoff_min: block.backoff_min.span(),
            backoff_max: block.backoff_max.span(),
            variant: block.variant,
        })
    }

    fn check_valid(check: &PaxosCheck, _scenario: &ScenarioFacts<'_>) -> Result<(), BlockError> {
        if let PaxosCheck::DecidesWithin(within) = check {
            within.positive(Place::root())?;
        }
        Ok(())
    }

    fn judge(&self, checks: &[PaxosCheck], setup: &RunSetup<'_>) -> PaxosJudge {
        PaxosJudge::new(self, checks, setup)
    }

    fn recorder(&self, _setup: &RunSetup<'_>) -> PaxosMarks {
        PaxosMarks::default()
    }

    fn charts(
        &self,
        judge: &PaxosJudge,
        recorder: PaxosMarks,
        timeline: &mut TimelineData,
        setup: &RunSetup<'_>,
    ) -> Vec<(String, Chart)> {
        vec![chart::paxos_chart(self, judge, recorder, timeline, setup)]
    }

    fn for_run(&self) -> Self {
        self.unshared()
    }
}
