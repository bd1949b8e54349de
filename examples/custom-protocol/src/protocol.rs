//! The state machine: Raft's election rules (§5.2, and the term rules of
//! §5.1), as handlers that answer with commands.

use faultline::prelude::*;
use serde::{Deserialize, Serialize};

/// Raft's leader election, configured from a scenario's
/// `protocol: Election(...)` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Election {
    /// The shortest election timeout a node draws.
    pub election_timeout_min: SimDuration,
    /// The longest election timeout a node draws.
    pub election_timeout_max: SimDuration,
    /// How often a leader sends heartbeats (and a candidate asks again).
    pub heartbeat: SimDuration,
    /// The correct protocol or a planted bug.
    pub variant: ElectionVariant,
}

/// The protocol as Raft specifies it, or with a planted bug that the checks
/// must catch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ElectionVariant {
    /// As in the paper.
    #[default]
    Correct,
    /// Bug: the vote is kept in memory only. `voted_for` is never persisted,
    /// so a node that crashes and restarts within a term may vote again in
    /// it, and two candidates can both win that term.
    VoteTwice,
}

/// The messages: Raft's two RPCs and their answers. The candidate or leader
/// is the sender, so no message names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum ElectionMessage {
    /// A candidate asks for a vote in `term`.
    RequestVote {
        /// The candidate's term.
        term: u64,
    },
    /// The answer to `RequestVote`.
    VoteReply {
        /// The voter's current term, for the candidate to catch up.
        term: u64,
        /// Whether the vote was granted.
        granted: bool,
    },
    /// A leader's heartbeat: AppendEntries with no entries.
    AppendEntries {
        /// The leader's term.
        term: u64,
    },
    /// The answer to `AppendEntries`.
    AppendEntriesReply {
        /// The follower's current term, for a stale leader to step down.
        term: u64,
        /// Whether the follower accepted the sender as its leader.
        success: bool,
    },
}

impl ElectionMessage {
    /// The term every Raft message carries.
    pub fn term(&self) -> u64 {
        match *self {
            ElectionMessage::RequestVote { term }
            | ElectionMessage::VoteReply { term, .. }
            | ElectionMessage::AppendEntries { term }
            | ElectionMessage::AppendEntriesReply { term, .. } => term,
        }
    }
}

/// The timers a node sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ElectionTimer {
    /// No leader was heard from for a whole election timeout: stand as a
    /// candidate.
    Election,
    /// A leader's next heartbeat is due.
    Heartbeat,
    /// A candidate asks again the peers that have not answered (Raft
    /// retries RPCs that go unanswered).
    VoteRetry,
}

/// Raft's persistent state for the election: saved before any message that
/// depends on it leaves, and what a restarted node starts from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PersistentState {
    /// The latest term the node has seen.
    pub current_term: u64,
    /// Whom it voted for in `current_term`, if anyone.
    pub voted_for: Option<NodeId>,
}

/// What a node reports, for the checks and the charts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum ElectionObservation {
    /// The node started an election in `term` (and voted for itself).
    BecameCandidate {
        /// The new term.
        term: u64,
    },
    /// The node won the election of `term`.
    BecameLeader {
        /// The term it leads.
        term: u64,
    },
    /// A candidate or leader saw `term`, higher than its own or (for a
    /// candidate) a leader's, and became a follower.
    BecameFollower {
        /// The term it follows in.
        term: u64,
    },
    /// The node granted its vote in `term` to `candidate` (after persisting
    /// it), itself included.
    Voted {
        /// The term of the vote.
        term: u64,
        /// Whom it voted for.
        candidate: NodeId,
    },
}

/// A node's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Role {
    /// Answers candidates and leaders; stands for election on a timeout.
    Follower,
    /// Asks for votes in its term.
    Candidate,
    /// Won its term; sends heartbeats.
    Leader,
}

/// A node's volatile state (lost on a crash), with its own copy of the
/// persistent state, which the engine does not let a handler read back.
#[derive(Debug)]
pub struct ElectionState {
    persistent: PersistentState,
    role: Role,
    /// As a candidate: per node, whether it granted its vote this term.
    granted: Vec<bool>,
    /// As a candidate: per node, whether it answered at all this term.
    answered: Vec<bool>,
}

impl ElectionState {
    /// The node's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The latest term the node has seen.
    pub fn current_term(&self) -> u64 {
        self.persistent.current_term
    }

    /// Whom the node voted for in its current term.
    pub fn voted_for(&self) -> Option<NodeId> {
        self.persistent.voted_for
    }
}

impl Election {
    /// A follower, starting from `persistent`, waiting for a leader.
    fn follower(&self, ctx: &mut Context<'_, Self>, persistent: PersistentState) -> ElectionState {
        self.arm_election_timer(ctx);
        let nodes = ctx.node_count() as usize;
        ElectionState {
            persistent,
            role: Role::Follower,
            granted: vec![false; nodes],
            answered: vec![false; nodes],
        }
    }

    /// A fresh election timeout, drawn from the node's own stream so that
    /// nodes rarely time out together (the paper's cure for split votes).
    fn arm_election_timer(&self, ctx: &mut Context<'_, Self>) {
        let nanos = ctx.rng().between(
            self.election_timeout_min.as_nanos(),
            self.election_timeout_max.as_nanos(),
        );
        ctx.set_timer(ElectionTimer::Election, SimDuration::from_nanos(nanos));
    }

    /// Saves the persistent state. The planted bug forgets the vote here,
    /// which is invisible until the node restarts.
    fn persist(&self, state: &ElectionState, ctx: &mut Context<'_, Self>) {
        let voted_for = match self.variant {
            ElectionVariant::Correct => state.persistent.voted_for,
            ElectionVariant::VoteTwice => None,
        };
        ctx.persist(PersistentState {
            current_term: state.persistent.current_term,
            voted_for,
        });
    }

    fn majority(ctx: &Context<'_, Self>) -> usize {
        ctx.node_count() as usize / 2 + 1
    }

    /// Election timeout: a new term, a vote for itself, and requests to all.
    fn start_election(&self, state: &mut ElectionState, ctx: &mut Context<'_, Self>) {
        let me = ctx.id();
        let term = state.persistent.current_term + 1;
        state.persistent = PersistentState {
            current_term: term,
            voted_for: Some(me),
        };
        state.role = Role::Candidate;
        state.granted.fill(false);
        state.answered.fill(false);
        state.granted[me as usize] = true;
        self.persist(state, ctx);
        ctx.observe(ElectionObservation::BecameCandidate { term });
        ctx.observe(ElectionObservation::Voted {
            term,
            candidate: me,
        });
        self.arm_election_timer(ctx);
        if Self::majority(ctx) == 1 {
            self.become_leader(state, ctx);
            return;
        }
        ctx.broadcast(ElectionMessage::RequestVote { term });
        ctx.set_timer(ElectionTimer::VoteRetry, self.heartbeat);
    }

    /// A majority voted for this node: it leads its term and says so at once.
    fn become_leader(&self, state: &mut ElectionState, ctx: &mut Context<'_, Self>) {
        let term = state.persistent.current_term;
        state.role = Role::Leader;
        ctx.observe(ElectionObservation::BecameLeader { term });
        ctx.cancel_timer(ElectionTimer::Election);
        ctx.cancel_timer(ElectionTimer::VoteRetry);
        self.send_heartbeats(state, ctx);
    }

    fn send_heartbeats(&self, state: &ElectionState, ctx: &mut Context<'_, Self>) {
        let term = state.persistent.current_term;
        ctx.broadcast(ElectionMessage::AppendEntries { term });
        ctx.set_timer(ElectionTimer::Heartbeat, self.heartbeat);
    }

    /// A candidate or leader gives up its role to follow `term`.
    fn become_follower(&self, state: &mut ElectionState, ctx: &mut Context<'_, Self>) {
        if state.role == Role::Follower {
            return;
        }
        if state.role == Role::Leader {
            // A leader has no election timer running; a follower needs one.
            ctx.cancel_timer(ElectionTimer::Heartbeat);
            self.arm_election_timer(ctx);
        }
        ctx.cancel_timer(ElectionTimer::VoteRetry);
        state.role = Role::Follower;
        let term = state.persistent.current_term;
        ctx.observe(ElectionObservation::BecameFollower { term });
    }

    /// Any message with a higher term makes this node adopt it, with no
    /// vote cast yet, as a follower (§5.1).
    fn adopt_term(&self, state: &mut ElectionState, ctx: &mut Context<'_, Self>, term: u64) {
        state.persistent = PersistentState {
            current_term: term,
            voted_for: None,
        };
        self.persist(state, ctx);
        self.become_follower(state, ctx);
    }

    /// Grants the vote if the request is of the current term and no other
    /// candidate has this term's vote. The vote is persisted before the
    /// reply leaves.
    fn on_request_vote(
        &self,
        state: &mut ElectionState,
        ctx: &mut Context<'_, Self>,
        candidate: NodeId,
        term: u64,
    ) {
        let current_term = state.persistent.current_term;
        let free = state
            .persistent
            .voted_for
            .is_none_or(|voted| voted == candidate);
        let granted = term == current_term && free;
        if granted {
            state.persistent.voted_for = Some(candidate);
            self.persist(state, ctx);
            ctx.observe(ElectionObservation::Voted { term, candidate });
            self.arm_election_timer(ctx);
        }
        let reply = ElectionMessage::VoteReply {
            term: current_term,
            granted,
        };
        ctx.send(candidate, reply);
    }

    /// Counts a vote of this term; a majority makes the candidate leader.
    /// Votes are a set, so a duplicated reply counts once.
    fn on_vote_reply(
        &self,
        state: &mut ElectionState,
        ctx: &mut Context<'_, Self>,
        voter: NodeId,
        term: u64,
        granted: bool,
    ) {
        if state.role != Role::Candidate || term != state.persistent.current_term {
            return;
        }
        state.answered[voter as usize] = true;
        state.granted[voter as usize] |= granted;
        let votes = state.granted.iter().filter(|&&granted| granted).count();
        if votes >= Self::majority(ctx) {
            self.become_leader(state, ctx);
        }
    }

    /// A heartbeat of the current term makes a candidate give up and resets
    /// a follower's election timer; a stale one is refused with the newer
    /// term, so its sender steps down.
    fn on_append_entries(
        &self,
        state: &mut ElectionState,
        ctx: &mut Context<'_, Self>,
        leader: NodeId,
        term: u64,
    ) {
        let current_term = state.persistent.current_term;
        // Two leaders of one term cannot happen unless election safety is
        // already broken; neither yields, so the checks see it.
        let success = term == current_term && state.role != Role::Leader;
        if success {
            self.become_follower(state, ctx);
            self.arm_election_timer(ctx);
        }
        let reply = ElectionMessage::AppendEntriesReply {
            term: current_term,
            success,
        };
        ctx.send(leader, reply);
    }

    /// Asks again every peer that has not answered this term's request.
    fn retry_votes(&self, state: &ElectionState, ctx: &mut Context<'_, Self>) {
        let term = state.persistent.current_term;
        let silent: Vec<NodeId> = ctx
            .peers()
            .filter(|&peer| !state.answered[peer as usize])
            .collect();
        for peer in silent {
            ctx.send(peer, ElectionMessage::RequestVote { term });
        }
        ctx.set_timer(ElectionTimer::VoteRetry, self.heartbeat);
    }
}

impl Protocol for Election {
    type Message = ElectionMessage;
    type Timer = ElectionTimer;
    type Durable = PersistentState;
    type Observation = ElectionObservation;
    type State = ElectionState;

    fn on_start(&self, ctx: &mut Context<'_, Self>) -> ElectionState {
        self.follower(ctx, PersistentState::default())
    }

    fn on_restart(&self, ctx: &mut Context<'_, Self>, durable: &PersistentState) -> ElectionState {
        self.follower(ctx, *durable)
    }

    fn on_message(
        &self,
        state: &mut ElectionState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        message: ElectionMessage,
    ) {
        if message.term() > state.persistent.current_term {
            self.adopt_term(state, ctx, message.term());
        }
        match message {
            ElectionMessage::RequestVote { term } => self.on_request_vote(state, ctx, from, term),
            ElectionMessage::VoteReply { term, granted } => {
                self.on_vote_reply(state, ctx, from, term, granted)
            }
            ElectionMessage::AppendEntries { term } => {
                self.on_append_entries(state, ctx, from, term)
            }
            // Its term, the only thing in it that matters here, is handled above.
            ElectionMessage::AppendEntriesReply { .. } => {}
        }
    }

    fn on_timer(
        &self,
        state: &mut ElectionState,
        ctx: &mut Context<'_, Self>,
        timer: ElectionTimer,
    ) {
        // Timers are cancelled on every change of role, so each one fires
        // only in the role that set it; the guards keep it so if that changes.
        match (timer, state.role) {
            (ElectionTimer::Election, Role::Follower | Role::Candidate) => {
                self.start_election(state, ctx)
            }
            (ElectionTimer::Heartbeat, Role::Leader) => self.send_heartbeats(state, ctx),
            (ElectionTimer::VoteRetry, Role::Candidate) => self.retry_votes(state, ctx),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One node driven by hand, keeping what its handlers ask for.
    struct Node {
        election: Election,
        id: NodeId,
        rng: RngStream,
        durable: PersistentState,
        commands: Vec<Command<Election>>,
        state: ElectionState,
    }

    const NODES: u32 = 3;

    fn election(variant: ElectionVariant) -> Election {
        Election {
            election_timeout_min: SimDuration::from_millis(150),
            election_timeout_max: SimDuration::from_millis(300),
            heartbeat: SimDuration::from_millis(50),
            variant,
        }
    }

    impl Node {
        fn start(id: NodeId, variant: ElectionVariant) -> Node {
            let election = election(variant);
            let mut rng = RngStream::new(7, Purpose::Node(id));
            let mut durable = PersistentState::default();
            let mut commands = Vec::new();
            let now = LocalTime::from_nanos(0);
            let mut ctx = Context::new(id, NODES, now, &mut rng, &mut durable, &mut commands);
            let state = election.on_start(&mut ctx);
            Node {
                election,
                id,
                rng,
                durable,
                commands: Vec::new(),
                state,
            }
        }

        /// Runs one handler with a fresh context, keeping only its commands.
        fn handle(
            &mut self,
            handler: impl FnOnce(&Election, &mut ElectionState, &mut Context<'_, Election>),
        ) {
            self.commands.clear();
            let now = LocalTime::from_nanos(0);
            let mut ctx = Context::new(
                self.id,
                NODES,
                now,
                &mut self.rng,
                &mut self.durable,
                &mut self.commands,
            );
            handler(&self.election, &mut self.state, &mut ctx);
        }

        fn receive(&mut self, from: NodeId, message: ElectionMessage) {
            self.handle(|election, state, ctx| election.on_message(state, ctx, from, message));
        }

        fn fire(&mut self, timer: ElectionTimer) {
            self.handle(|election, state, ctx| election.on_timer(state, ctx, timer));
        }

        fn restart(&mut self) {
            let durable = self.durable;
            self.handle(|election, state, ctx| *state = election.on_restart(ctx, &durable));
        }

        fn sent(&self) -> Vec<(NodeId, ElectionMessage)> {
            self.commands
                .iter()
                .filter_map(|command| match command {
                    Command::Send { to, message } => Some((*to, message.clone())),
                    _ => None,
                })
                .collect()
        }
    }

    #[test]
    fn a_node_votes_once_per_term_and_persists_the_vote_before_replying() {
        let mut node = Node::start(0, ElectionVariant::Correct);
        node.receive(1, ElectionMessage::RequestVote { term: 1 });
        let granted = ElectionMessage::VoteReply {
            term: 1,
            granted: true,
        };
        assert_eq!(node.sent(), vec![(1, granted)]);
        let persisted = node
            .commands
            .iter()
            .position(|c| matches!(c, Command::Persist));
        let replied = node
            .commands
            .iter()
            .position(|c| matches!(c, Command::Send { .. }));
        assert!(
            persisted < replied,
            "the vote is saved before the reply leaves"
        );
        assert_eq!(node.durable.voted_for, Some(1));
        node.receive(2, ElectionMessage::RequestVote { term: 1 });
        let refused = ElectionMessage::VoteReply {
            term: 1,
            granted: false,
        };
        assert_eq!(node.sent(), vec![(2, refused)]);
    }

    #[test]
    fn a_restarted_node_remembers_its_vote_unless_the_bug_forgets_it() {
        for (variant, second_vote) in [
            (ElectionVariant::Correct, false),
            (ElectionVariant::VoteTwice, true),
        ] {
            let mut node = Node::start(0, variant);
            node.receive(1, ElectionMessage::RequestVote { term: 1 });
            node.restart();
            assert_eq!(node.state.current_term(), 1);
            node.receive(2, ElectionMessage::RequestVote { term: 1 });
            let reply = ElectionMessage::VoteReply {
                term: 1,
                granted: second_vote,
            };
            assert_eq!(node.sent(), vec![(2, reply)], "{variant:?}");
        }
    }

    #[test]
    fn a_candidate_with_a_majority_leads_and_sends_heartbeats_at_once() {
        let mut node = Node::start(0, ElectionVariant::Correct);
        node.fire(ElectionTimer::Election);
        assert_eq!(node.state.role(), Role::Candidate);
        assert_eq!(node.state.current_term(), 1);
        let requests = vec![
            (1, ElectionMessage::RequestVote { term: 1 }),
            (2, ElectionMessage::RequestVote { term: 1 }),
        ];
        assert_eq!(node.sent(), requests);
        let vote = ElectionMessage::VoteReply {
            term: 1,
            granted: true,
        };
        node.receive(2, vote);
        assert_eq!(node.state.role(), Role::Leader);
        let heartbeats = vec![
            (1, ElectionMessage::AppendEntries { term: 1 }),
            (2, ElectionMessage::AppendEntries { term: 1 }),
        ];
        assert_eq!(node.sent(), heartbeats);
    }

    #[test]
    fn a_leader_steps_down_on_seeing_a_higher_term() {
        let mut node = Node::start(0, ElectionVariant::Correct);
        node.fire(ElectionTimer::Election);
        let vote = ElectionMessage::VoteReply {
            term: 1,
            granted: true,
        };
        node.receive(1, vote);
        assert_eq!(node.state.role(), Role::Leader);
        let stale = ElectionMessage::AppendEntries { term: 1 };
        let newer = ElectionMessage::AppendEntriesReply {
            term: 3,
            success: false,
        };
        node.receive(2, newer);
        assert_eq!(node.state.role(), Role::Follower);
        assert_eq!(node.state.current_term(), 3);
        assert_eq!(node.state.voted_for(), None);
        node.receive(1, stale);
        let refusal = ElectionMessage::AppendEntriesReply {
            term: 3,
            success: false,
        };
        assert_eq!(node.sent(), vec![(1, refusal)]);
    }

    #[test]
    fn a_candidate_asks_again_only_the_peers_that_have_not_answered() {
        let mut node = Node::start(0, ElectionVariant::Correct);
        node.fire(ElectionTimer::Election);
        let refusal = ElectionMessage::VoteReply {
            term: 1,
            granted: false,
        };
        node.receive(1, refusal);
        node.fire(ElectionTimer::VoteRetry);
        assert_eq!(
            node.sent(),
            vec![(2, ElectionMessage::RequestVote { term: 1 })]
        );
    }
}
