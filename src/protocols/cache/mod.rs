//! A replicated key-value cache on the consistent-hash ring, in four modes,
//! and the history of its clients' operations, checked for linearizability.
//!
//! **Placement.** Every key has `replicas` owners: the first distinct nodes
//! clockwise from the key's hash on a ring of every node with `vnodes`
//! virtual nodes each (`hashing::placement`, the preference list of Dynamo).
//! Every node is a replica of its keys and a coordinator for any client.
//!
//! **Clients.** `clients: [0, 0, 3]` starts three client processes, two on
//! node 0 and one on node 3. Each issues one operation at a time, drawn from
//! its node's random stream: read, write or compare-and-set (`mix`), on a key
//! drawn uniformly or by Zipf, after an exponential think time of mean
//! `1/rate`. Written values are the operation's id, unique in the run, so a
//! read names the write it saw. A client sends the operation to a
//! *coordinator*: any replica of the key in its membership view, which is the
//! replicas it has not timed out on in the last `suspect_for` (Dynamo's local
//! failure detection, DeCandia et al. 2007, section 4.8.3). An operation ends
//! `ok`, `fail` (known not to have taken effect) or, after the client's
//! `timeout` with no answer, `info` (it may or may not have). As in Jepsen, a
//! process whose operation ends `info` is retired and the client goes on as a
//! new process (process ids grow by the number of clients), and so does one
//! whose node restarts.
//!
//! **Coordinators** contact the replicas and give up after three quarters of
//! the client's timeout: with nothing written yet the answer is `fail`, after
//! a store has gone out it is `info`. Versions are (counter, id of the
//! writing operation), ordered lexicographically, so no two writes share one.
//!
//! - `Abd`: the multi-writer form of Attiya, Bar-Noy and Dolev's register
//!   ("Sharing memory robustly in message-passing systems", JACM 1995; the
//!   multi-writer version as in Lynch and Shvartsman 1997). Majority quorums.
//!   A write asks a quorum for its versions and stores (highest counter + 1)
//!   on a quorum. A read asks a quorum and, unless the whole quorum already
//!   holds the highest version, writes it back to a quorum before answering:
//!   linearizable. Compare-and-set needs consensus (Herlihy 1991), so `Abd`
//!   refuses a `cas` mix.
//! - `Quorum(r, w)`: Dynamo's sloppy-free quorums. Reads take the highest of
//!   `r` answers and answer at once (read repair then updates the stale
//!   answerers); a write (or a successful cas) first reads `r` versions, as a
//!   Dynamo put carries the context of a get, and stores on `w`. With
//!   `r + w > n` a write's version is above every write finished before it,
//!   but without a write-back a read can see a write in flight that a later
//!   read misses: not linearizable under concurrency.
//! - `One`: the coordinator, itself a replica, reads and writes its own copy
//!   and answers at once; writes go on to the other replicas in the
//!   background. Available on any side of a partition that holds a replica,
//!   with stale reads, and writes made on two sides are resolved by version.
//! - `LastWriterWins`: as Cassandra's timestamps. A write's version is the
//!   coordinator's local clock, stored on a majority with no read first;
//!   reads take the highest of a majority and repair. A coordinator whose
//!   clock runs behind gives a later write a lower version: the replicas keep
//!   the earlier write and an acknowledged write is lost.
//!
//! **Anti-entropy** (`anti_entropy: "500ms"`, any mode): every interval each
//! node sends the next of its peers in turn (from a random first one, so
//! every pair of replicas meets within `peers` intervals, as a scheduled
//! repair does, rather than by chance as in gossip) the versions of the keys they share, and the two
//! send each other what the other lacks (Dynamo uses Merkle trees to send
//! less; what ends up stored is the same). Replicas only ever move to a
//! higher version, so this is safe in every mode.
//!
//! **Durable state**, per node: its store (key to version and value), saved
//! before a replica acknowledges or a coordinator answers, and per client
//! process its generation and a block of reserved operation ids. A
//! coordinator's operations in progress and its memory of the requests it
//! has answered are volatile: after a restart it serves no client request for
//! the longest a message can take, so a copy of a request it answered before
//! the crash cannot run a second time.
//!
//! Linearizability is Herlihy and Wing's ("Linearizability: a correctness
//! condition for concurrent objects", TOPLAS 1990), checked per key by
//! `crate::linearizable`.

mod block;
mod chart;
mod check;
mod client;
mod coordinator;
mod history;
mod replica;

pub use block::{CacheBlock, MixBlock};
pub use check::{CacheCheck, CacheJudge};
pub use history::{OpRecord, Outcome};

use super::hashing::KeyDistribution;
use crate::check::{Property, PropertyKind};
use crate::harness::{BlockError, Harness, RunSetup, ScenarioFacts};
use crate::linearizable::Value;
use crate::node::time::{LocalTime, SimDuration};
use crate::node::{Context, NodeId, Protocol};
use crate::plot::{Chart, TimelineData};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// How replicas are read and written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Quorum reads with a write-back, quorum writes: linearizable.
    Abd,
    /// Dynamo-style: reads of `r`, writes of `w`, no write-back.
    Quorum(u32, u32),
    /// One replica, the coordinator's own copy.
    One,
    /// Versions from the coordinator's clock, majority quorums.
    LastWriterWins,
}

/// Planted bugs: each breaks one pillar of a correct mode, for a check to
/// catch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CacheBug {
    /// A restarted replica has forgotten its store: it acknowledged writes
    /// (and write-backs) it no longer holds, so a quorum that meets it may
    /// no longer intersect the quorum that holds the latest write. ABD's
    /// safety rests on acknowledged copies being durable.
    ForgetfulReplica,
}

/// The fractions of reads, writes and compare-and-sets (they add up to 1).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Mix {
    /// The fraction of reads.
    pub read: f64,
    /// The fraction of writes.
    pub write: f64,
    /// The fraction of compare-and-sets.
    pub cas: f64,
}

/// The cache as a scenario configures it.
#[derive(Clone, Debug, PartialEq)]
pub struct Cache {
    /// How replicas are read and written.
    pub mode: Mode,
    /// Owners per key.
    pub replicas: usize,
    /// Virtual nodes per node on the ring.
    pub vnodes: u32,
    /// Keys `0..keys` in the workload.
    pub keys: u64,
    /// How clients pick keys.
    pub distribution: KeyDistribution,
    /// Cumulative Zipf weights over key indices (empty when uniform).
    pub zipf_cdf: Arc<Vec<f64>>,
    /// Client process `i` runs on node `clients[i]`.
    pub clients: Vec<NodeId>,
    /// The fractions of reads, writes and cas.
    pub mix: Mix,
    /// Operations per second per client (the mean of the think time's inverse).
    pub rate: f64,
    /// How long a client waits for an answer.
    pub timeout: SimDuration,
    /// How long a coordinator works on an operation.
    pub coordinator_timeout: SimDuration,
    /// Clients start no operation once their clock reads this.
    pub stop: Option<LocalTime>,
    /// The anti-entropy interval, if any.
    pub anti_entropy: Option<SimDuration>,
    /// Whether reads repair stale answerers (`Quorum`, `LastWriterWins`).
    pub read_repair: bool,
    /// How long a client avoids a coordinator that timed out.
    pub suspect_for: SimDuration,
    /// A planted bug, if any.
    pub bug: Option<CacheBug>,
    /// How long a restarted coordinator serves no client request.
    pub quiet: SimDuration,
    /// Each key's replicas, in preference order.
    pub replicas_of: Arc<Vec<Vec<NodeId>>>,
    /// Each node's peers that share at least one key with it.
    pub peers_of: Arc<Vec<Vec<NodeId>>>,
}

/// A version: compared by counter, then by the id of the operation that
/// wrote it. The default, (0, 0), is the version of a key never written.
/// Written `[counter, op]` in the trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// The mode's counter: one more than the highest seen, or a clock.
    pub counter: u64,
    /// The operation that wrote it: unique, so it breaks ties.
    pub op: u64,
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (self.counter, self.op).serialize(serializer)
    }
}

/// A replica's copy of a key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Record {
    /// Its version.
    pub version: Version,
    /// Its value (nil for a key never written).
    pub value: Value,
}

/// What a client asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "f", rename_all = "lowercase")]
pub enum Call {
    /// Read the key.
    Read,
    /// Write `value`.
    Write {
        /// The value written (the operation's id).
        value: i64,
    },
    /// Write `new` if the key holds `expected`.
    Cas {
        /// The value the key must hold.
        expected: Value,
        /// The value written (the operation's id).
        new: i64,
    },
}

/// Which operation, in Jepsen's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum F {
    /// A read.
    Read,
    /// A write.
    Write,
    /// A compare-and-set.
    Cas,
}

impl Call {
    /// Which operation it is.
    pub fn f(&self) -> F {
        match self {
            Call::Read => F::Read,
            Call::Write { .. } => F::Write,
            Call::Cas { .. } => F::Cas,
        }
    }

    /// The value the call would leave, if it writes.
    pub fn written(&self) -> Value {
        match *self {
            Call::Read => None,
            Call::Write { value } => Some(value),
            Call::Cas { new, .. } => Some(new),
        }
    }
}

/// The cache's messages. Every field `op` is the id of the client
/// operation the message works for.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
#[allow(missing_docs)] // The fields are described with their variants.
pub enum CacheMessage {
    /// Client to coordinator: operation `op`, `call` on `key`.
    Request { op: u64, key: u64, call: Call },
    /// Coordinator to client: how `op` ended; `value` is what a read
    /// returned (or, for a failed cas, the value found), `version` what an
    /// ok write stored.
    Reply {
        op: u64,
        outcome: Outcome,
        value: Value,
        version: Option<Version>,
    },
    /// Coordinator to replica: your copy of `key`, for operation `op`.
    Query { op: u64, key: u64 },
    /// Replica to coordinator: its copy of the key queried.
    Current {
        op: u64,
        version: Version,
        value: Value,
    },
    /// Coordinator to replica: keep this copy if its version is higher than
    /// yours; acknowledge if `ack`.
    Store {
        op: u64,
        key: u64,
        version: Version,
        value: Value,
        ack: bool,
    },
    /// Replica to coordinator: stored (or already held something newer).
    Stored { op: u64 },
    /// Anti-entropy: the sender's versions of the keys both replicate.
    Digest { versions: Vec<(u64, Version)> },
    /// Anti-entropy: copies newer than the other side's, and the keys the
    /// sender wants the other side's copies of.
    Sync {
        records: Vec<(u64, Record)>,
        want: Vec<u64>,
    },
}

/// The cache's timers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[allow(missing_docs)] // The fields are described with their variants.
pub enum CacheTimer {
    /// Client `client` starts its next operation.
    Next { client: usize },
    /// Client `client` gives up on operation `op`.
    Timeout { client: usize, op: u64 },
    /// The coordinator gives up on operation `op`.
    Deadline { op: u64 },
    /// Time for an anti-entropy exchange.
    AntiEntropy,
}

/// What the cache tells the judge and the trace (docs/trace-format.md).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
#[allow(missing_docs)] // The fields are described with their variants.
pub enum CacheObservation {
    /// Client `client` (its index in `clients`), as Jepsen's process
    /// `process`, invoked operation `op`, `f` on `key`, sent to
    /// `coordinator` (the `send` of its request follows). `value` is what a
    /// write or cas writes, `expected` what a cas expects.
    Invoke {
        process: u64,
        client: usize,
        op: u64,
        f: F,
        key: u64,
        value: Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        expected: Option<Value>,
        coordinator: NodeId,
    },
    /// The operation completed: `type` is ok, fail or info (the client's
    /// timeout, or the coordinator's). `value`: a read's result, or what a
    /// write or cas writes. `version`: what an ok write or cas stored.
    Complete {
        process: u64,
        client: usize,
        op: u64,
        #[serde(rename = "type")]
        outcome: Outcome,
        f: F,
        key: u64,
        value: Value,
        version: Option<Version>,
    },
    /// A replica's copy of `key` changed (its `persist` follows).
    Stored {
        key: u64,
        version: Version,
        value: Value,
    },
}

/// A client process's durable part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClientDurable {
    /// How many times the process was retired (timed out, restarted).
    pub generation: u64,
    /// Operation sequence numbers below this may have been used.
    pub ops_reserved: u64,
}

/// What a node keeps across a crash.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CacheDurable {
    /// The replica's copies, by key (keys it never stored are absent);
    /// written as a list of `[key, version, value]`, in key order.
    #[serde(serialize_with = "store_entries")]
    pub store: BTreeMap<u64, Record>,
    /// Its client processes', in the order `clients` lists them.
    pub clients: Vec<ClientDurable>,
}

/// The store as a list of `[key, version, value]`: short trace lines.
fn store_entries<S: serde::Serializer>(
    store: &BTreeMap<u64, Record>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(
        store
            .iter()
            .map(|(key, record)| (key, record.version, record.value)),
    )
}

/// Operation ids a client reserves at a time (one persist per block).
const OPS_PER_RESERVATION: u64 = 64;

/// A client's operation in progress.
#[derive(Clone, Copy, Debug)]
struct Current {
    op: u64,
    key: u64,
    call: Call,
    coordinator: NodeId,
    process: u64,
}

#[derive(Debug)]
struct ClientState {
    /// Its index in `clients`.
    index: usize,
    seq_next: u64,
    current: Option<Current>,
    /// The last value this client saw per key (a cas expects it).
    known: BTreeMap<u64, Value>,
    /// Coordinators it avoids, until when on its clock.
    suspected: BTreeMap<NodeId, LocalTime>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Query,
    Store,
}

/// A coordinator's operation in progress.
#[derive(Debug)]
struct Pending {
    client: NodeId,
    key: u64,
    call: Call,
    phase: Phase,
    /// The replicas that answered a query, with their copies.
    answers: Vec<(NodeId, Record)>,
    /// The replicas that acknowledged the store.
    acks: Vec<NodeId>,
    /// What is being stored.
    storing: Record,
}

/// A node's state: its replica's durable store, its client processes, and
/// the operations it coordinates.
#[derive(Debug)]
pub struct CacheState {
    durable: CacheDurable,
    clients: Vec<ClientState>,
    pending: BTreeMap<u64, Pending>,
    /// Requests this coordinator has taken on since it started.
    answered: BTreeSet<u64>,
    /// Client requests before this (local) time are ignored.
    serving_from: LocalTime,
    /// The position in `peers_of` of the next anti-entropy peer.
    exchange_next: usize,
}

impl Cache {
    /// Quorum sizes (reads, writes).
    pub fn quorums(&self) -> (usize, usize) {
        let majority = self.replicas / 2 + 1;
        match self.mode {
            Mode::Abd | Mode::LastWriterWins => (majority, majority),
            Mode::Quorum(r, w) => (r as usize, w as usize),
            Mode::One => (1, 1),
        }
    }

    /// The client processes on `node`, as indices into `clients`.
    fn hosted(&self, node: NodeId) -> impl Iterator<Item = usize> + '_ {
        (0..self.clients.len()).filter(move |&i| self.clients[i] == node)
    }

    fn fresh(
        &self,
        ctx: &mut Context<'_, Self>,
        mut durable: CacheDurable,
        restarted: bool,
    ) -> CacheState {
        if restarted && self.bug == Some(CacheBug::ForgetfulReplica) {
            durable.store.clear();
        }
        let hosted: Vec<usize> = self.hosted(ctx.id()).collect();
        durable
            .clients
            .resize(hosted.len(), ClientDurable::default());
        if restarted && !hosted.is_empty() {
            // The processes that were running are gone: new ones take over.
            for client in &mut durable.clients {
                client.generation += 1;
            }
            ctx.persist(durable.clone());
        }
        let clients = hosted
            .iter()
            .zip(&durable.clients)
            .map(|(&index, saved)| ClientState {
                index,
                seq_next: saved.ops_reserved,
                current: None,
                known: BTreeMap::new(),
                suspected: BTreeMap::new(),
            })
            .collect();
        let mut state = CacheState {
            durable,
            clients,
            pending: BTreeMap::new(),
            answered: BTreeSet::new(),
            serving_from: if restarted {
                ctx.now().after(self.quiet)
            } else {
                ctx.now()
            },
            exchange_next: 0,
        };
        for local in 0..state.clients.len() {
            self.schedule_next(&mut state, ctx, local);
        }
        if let Some(interval) = self.anti_entropy {
            let phase = ctx.rng().below(interval.as_nanos().max(1));
            ctx.set_timer(CacheTimer::AntiEntropy, SimDuration::from_nanos(phase));
            let peers = self.peers_of[ctx.id() as usize].len();
            state.exchange_next = ctx.rng().index(peers.max(1));
        }
        state
    }
}

impl Protocol for Cache {
    type Message = CacheMessage;
    type Timer = CacheTimer;
    type Durable = CacheDurable;
    type Observation = CacheObservation;
    type State = CacheState;

    fn on_start(&self, ctx: &mut Context<'_, Self>) -> CacheState {
        self.fresh(ctx, CacheDurable::default(), false)
    }

    fn on_restart(&self, ctx: &mut Context<'_, Self>, durable: &CacheDurable) -> CacheState {
        self.fresh(ctx, durable.clone(), true)
    }

    fn on_message(
        &self,
        state: &mut CacheState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        message: CacheMessage,
    ) {
        match message {
            CacheMessage::Request { op, key, call } => {
                self.on_request(state, ctx, from, op, key, call)
            }
            CacheMessage::Reply {
                op,
                outcome,
                value,
                version,
            } => self.on_reply(state, ctx, from, op, outcome, value, version),
            CacheMessage::Query { op, key } => {
                let Record { version, value } =
                    state.durable.store.get(&key).copied().unwrap_or_default();
                ctx.send(from, CacheMessage::Current { op, version, value });
            }
            CacheMessage::Current { op, version, value } => {
                self.on_current(state, ctx, from, op, Record { version, value })
            }
            CacheMessage::Store {
                op,
                key,
                version,
                value,
                ack,
            } => {
                self.keep(state, ctx, key, Record { version, value });
                if ack {
                    ctx.send(from, CacheMessage::Stored { op });
                }
            }
            CacheMessage::Stored { op } => self.on_stored(state, ctx, from, op),
            CacheMessage::Digest { versions } => self.on_digest(state, ctx, from, &versions),
            CacheMessage::Sync { records, want } => self.on_sync(state, ctx, from, &records, &want),
        }
    }

    fn on_timer(&self, state: &mut CacheState, ctx: &mut Context<'_, Self>, timer: CacheTimer) {
        match timer {
            CacheTimer::Next { client } => self.invoke(state, ctx, client),
            CacheTimer::Timeout { client, op } => self.time_out(state, ctx, client, op),
            CacheTimer::Deadline { op } => self.give_up(state, ctx, op),
            CacheTimer::AntiEntropy => self.start_exchange(state, ctx),
        }
    }
}

impl Harness for Cache {
    const NAME: &'static str = "Cache";
    const PROPERTIES: &'static [Property] = &[
        Property {
            name: "Linearizable",
            kind: PropertyKind::Safety,
            summary: "every key's history of client operations has a legal order that respects real time (Herlihy and Wing); a search budget run out leaves a key unjudged, never wrongly judged",
            example: "",
        },
        Property {
            name: "NoLostWrites",
            kind: PropertyKind::Safety,
            summary: "an acknowledged write never has a lower version than an acknowledged write that finished before it began, so no older write silently replaces it",
            example: "",
        },
        Property {
            name: "Available",
            kind: PropertyKind::Liveness,
            summary: "at least this fraction of operations complete ok, on each side of each partition while it lasts and over the run",
            example: "Available(min: 0.9)",
        },
        Property {
            name: "Converges",
            kind: PropertyKind::Liveness,
            summary: "once the last fault is over and the last operation done, the up replicas of every key hold the same version within the bound",
            example: "Converges(\"1s\")",
        },
        Property {
            name: "ConcurrentOperations",
            kind: PropertyKind::Coverage,
            summary: "two operations on one key, one of them a write or cas, overlapped in time",
            example: "",
        },
        Property {
            name: "StaleRead",
            kind: PropertyKind::Coverage,
            summary: "a read returned a value overwritten by a write acknowledged before the read began",
            example: "",
        },
    ];
    type Block = CacheBlock;
    type Check = CacheCheck;
    type Judge = CacheJudge;
    type Recorder = ();

    fn configure(block: CacheBlock, scenario: &ScenarioFacts<'_>) -> Result<Self, BlockError> {
        block::configure(block, scenario)
    }

    fn check_valid(check: &CacheCheck, _scenario: &ScenarioFacts<'_>) -> Result<(), BlockError> {
        check::check_valid(check)
    }

    fn judge(&self, checks: &[CacheCheck], setup: &RunSetup<'_>) -> CacheJudge {
        CacheJudge::new(self, checks, setup)
    }

    fn recorder(&self, _setup: &RunSetup<'_>) {}

    fn charts(
        &self,
        judge: &CacheJudge,
        _recorder: (),
        timeline: &mut TimelineData,
        setup: &RunSetup<'_>,
    ) -> Vec<(String, Chart)> {
        chart::charts(self, judge, timeline, setup)
    }

    fn files(&self, judge: &CacheJudge) -> Vec<(String, Vec<u8>)> {
        judge.files()
    }
}
