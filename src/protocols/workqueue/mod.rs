//! A work queue with at-least-once delivery, task fan-out and failure
//! recovery (`protocol: Queue(...)`; the folder is `workqueue` because the
//! engine has an event queue of its own).
//!
//! Roles, each on its own node:
//!
//! - **Producers** publish keyed messages on a plan (a rate or a schedule) and
//!   jobs (N tasks at once). Every message has an id, (producer, seq); a
//!   producer keeps unacknowledged publishes in a durable outbox and resends
//!   them until the broker acknowledges, so a publish may arrive twice. A
//!   broker with `dedupe` remembers the sequence numbers it has accepted and
//!   acknowledges a repeat without appending it again (Kafka's idempotent
//!   producer).
//! - The **broker** keeps a durable log. It appends a publish, persists, and
//!   only then acknowledges it. Workers poll; the broker hands each an entry
//!   under a *visibility timeout*, a lease on the broker's own clock (SQS's
//!   ReceiveMessage): an entry not acknowledged by then is visible again and
//!   redelivered. An acknowledged entry leaves the log. With
//!   `key_order: Partitioned` a key's partition (key mod the number of
//!   workers) has at most one entry out at a time, delivered in log order
//!   (Kafka's partitions, SQS FIFO's message groups); with `Any` every entry
//!   goes to whichever worker asks. With `reassign: OnSuspicion` the broker
//!   also runs the heartbeat `Detector` over the workers and hands a
//!   suspected worker's entries out again at once, without waiting for the
//!   timeout: faster when the worker really crashed, double work when the
//!   suspicion was false (a pause, a partition). A restarted broker hands
//!   nothing out for one visibility timeout, so leases given before its
//!   crash run out first.
//! - A **worker** takes one entry at a time, works on it for `work`, applies
//!   its effect at the sink, and only then acknowledges it to the broker. It
//!   does not look at its lease again after working: a worker paused past its
//!   visibility timeout finishes anyway, and the entry has been redelivered
//!   meanwhile, so the work is done twice.
//! - The **sink** applies effects. An `idempotent` sink remembers the ids it
//!   has applied (durably) and applies each at most once; at-least-once
//!   delivery plus idempotence gives an effectively-once effect (Kleppmann,
//!   "Designing Data-Intensive Applications", ch. 11).
//!
//! Planted bugs (`mode`): `AutoAck` acknowledges on receipt, before working,
//! so a worker crash loses the message; `BrokerForgets` acknowledges a
//! publish before persisting it (the log is written lazily, at the next
//! write or every `FLUSH_EVERY`), so a broker crash loses it. `idempotent:
//! false` and `key_order: Any` are the other two classic mistakes.
//!
//! Sources: Amazon SQS's visibility timeout and at-least-once delivery;
//! Kleppmann, DDIA ch. 11 (acknowledgements and redelivery, idempotence,
//! ordering per partition); Chandra and Toueg (1996) for the detector.

mod block;
mod broker;
mod chart;
mod check;
mod producer;
mod seqs;
mod sink;
mod worker;

pub use block::{JobBlock, QueueBlock, RateBlock, ScheduledPublish};
pub use broker::{BrokerLog, BrokerState, Entry};
pub use check::{QueueCheck, QueueJudge};
pub use producer::{Outbox, ProducerState};
pub use sink::{SinkState, SinkStore};
pub use worker::WorkerState;

use super::heartbeat::Incarnation;
use crate::check::{Property, PropertyKind};
use crate::harness::{BlockError, Harness, RunSetup, ScenarioFacts};
use crate::node::{Context, NodeId, Protocol};
use crate::plot::{Chart, TimelineData};
use crate::sim::time::{LocalTime, SimDuration};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A producer's message number; with the producer, a message's id.
pub type Seq = u64;

/// What a node does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The broker.
    Broker,
    /// The sink.
    Sink,
    /// The producer's index in `producers` (its plan).
    Producer(usize),
    /// A worker.
    Worker,
    /// Listed in no role: it runs nothing.
    Idle,
}

/// The correct protocol or a planted bug.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Acknowledge after the effect; persist before acknowledging a publish.
    #[default]
    AtLeastOnce,
    /// Bug: a worker acknowledges on receipt, before working.
    AutoAck,
    /// Bug: the broker acknowledges a publish before persisting it.
    BrokerForgets,
}

/// How entries are handed to workers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyOrdering {
    /// A key's partition has one entry out at a time, in log order.
    #[default]
    Partitioned,
    /// Any entry to any worker.
    Any,
}

/// When the broker hands a worker's entries to another.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reassign {
    /// When the visibility timeout runs out.
    #[default]
    OnTimeout,
    /// Also as soon as the heartbeat detector suspects the worker.
    OnSuspicion,
}

/// A message's id: its producer and that producer's number for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId {
    /// The producer's node: with `seq`, the message's id.
    pub producer: NodeId,
    /// The producer's number for the message.
    pub seq: Seq,
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.producer, self.seq)
    }
}

/// A message as published: its id, its key (none for a job's task) and, for
/// a task, its job and number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Item {
    /// The producer's node: with `seq`, the message's id.
    pub producer: NodeId,
    /// The producer's number for the message.
    pub seq: Seq,
    /// The message's key (none for a job's task).
    pub key: Option<u64>,
    /// The job a task belongs to (none for a keyed message).
    pub job: Option<u32>,
    /// The task's number within its job.
    pub task: Option<u32>,
}

impl Item {
    /// The message's id.
    pub fn id(&self) -> MessageId {
        MessageId {
            producer: self.producer,
            seq: self.seq,
        }
    }
}

/// One thing a producer's plan publishes, at a time on its clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanItem {
    /// When it is due, on the producer's clock.
    pub at: LocalTime,
    /// The message's key (none for a job's task).
    pub key: Option<u64>,
    /// The job a task belongs to (none for a keyed message).
    pub job: Option<u32>,
    /// The task's number within its job.
    pub task: Option<u32>,
}

/// A job: `tasks` tasks published at once by `producer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobSpec {
    /// The producer's node.
    pub producer: NodeId,
    /// When it is published, on the producer's clock.
    pub at: SimDuration,
    /// How many tasks the job has.
    pub tasks: u32,
}

/// Why the broker handed an entry out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Its first delivery.
    First,
    /// The last lease ran out.
    Timeout,
    /// The detector suspected the last holder.
    Suspicion,
    /// The broker restarted with it in its log.
    Recovery,
}

/// The work queue, configured.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkQueue {
    /// The broker's node.
    pub broker: NodeId,
    /// The sink's node.
    pub sink: NodeId,
    /// The producers' nodes, by producer index.
    pub producers: Vec<NodeId>,
    /// The workers' nodes, in node order.
    pub workers: Vec<NodeId>,
    /// The correct protocol or a planted bug.
    pub mode: Mode,
    /// The sink applies each message id at most once.
    pub idempotent: bool,
    /// The broker appends a (producer, seq) at most once.
    pub dedupe: bool,
    /// How keys order deliveries.
    pub key_order: KeyOrdering,
    /// When the broker hands a worker's entries to another.
    pub reassign: Reassign,
    /// A lease's length on the broker's clock.
    pub visibility: SimDuration,
    /// How long a worker works on an entry.
    pub work: SimDuration,
    /// How long a producer or worker waits before sending again.
    pub retry: SimDuration,
    /// Workers' heartbeats to the broker (`OnSuspicion`).
    pub heartbeat_interval: SimDuration,
    /// Silence after which the broker suspects a worker.
    pub heartbeat_timeout: SimDuration,
    /// Per node.
    pub roles: Arc<Vec<Role>>,
    /// Per producer (by index), in time order.
    pub plans: Arc<Vec<Vec<PlanItem>>>,
    /// By job number.
    pub jobs: Arc<Vec<JobSpec>>,
}

impl WorkQueue {
    /// What `node` does.
    pub fn role(&self, node: NodeId) -> Role {
        self.roles[node as usize]
    }

    /// The partition an entry belongs to, if its key orders it.
    fn partition(&self, key: Option<u64>) -> Option<usize> {
        match self.key_order {
            KeyOrdering::Partitioned => key.map(|key| (key % self.workers.len() as u64) as usize),
            KeyOrdering::Any => None,
        }
    }
}

/// What the work queue's nodes send each other.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum QueueMessage {
    /// Producer to broker (resent until acknowledged).
    Publish {
        /// The message.
        #[serde(flatten)]
        item: Item,
    },
    /// Broker to producer: the publish is in the log.
    PublishAck {
        /// The producer's number for the message.
        seq: Seq,
    },
    /// Worker to broker: it is idle.
    Poll,
    /// Broker to worker: an entry under lease `delivery`.
    Deliver {
        /// The message.
        #[serde(flatten)]
        item: Item,
        /// The entry's place in the broker's log.
        offset: u64,
        /// The lease's id: the broker's incarnation in the high 32 bits, its count of deliveries in the low.
        delivery: u64,
    },
    /// Worker to sink: apply the message's effect.
    Apply {
        /// The message.
        #[serde(flatten)]
        item: Item,
        /// The lease's id: the broker's incarnation in the high 32 bits, its count of deliveries in the low.
        delivery: u64,
    },
    /// Sink to worker: applied (or already applied before).
    Applied {
        /// The producer's node: with `seq`, the message's id.
        producer: NodeId,
        /// The producer's number for the message.
        seq: Seq,
        /// The lease's id: the broker's incarnation in the high 32 bits, its count of deliveries in the low.
        delivery: u64,
    },
    /// Worker to broker: done with the entry.
    Ack {
        /// The producer's node: with `seq`, the message's id.
        producer: NodeId,
        /// The producer's number for the message.
        seq: Seq,
        /// The entry's place in the broker's log.
        offset: u64,
        /// The lease's id: the broker's incarnation in the high 32 bits, its count of deliveries in the low.
        delivery: u64,
    },
    /// Broker to worker: the acknowledgement arrived.
    AckOk {
        /// The lease's id: the broker's incarnation in the high 32 bits, its count of deliveries in the low.
        delivery: u64,
    },
    /// Worker to broker, for the detector.
    Beat {
        /// How many times the worker has started (persisted).
        incarnation: u64,
        /// The worker's heartbeat count in this incarnation.
        beat: u64,
    },
}

/// The work queue's timers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum QueueTimer {
    /// Producer: publish what the plan has due.
    Publish,
    /// Producer: send unacknowledged publishes again.
    Resend,
    /// Worker: the work on the held entry is done.
    Work,
    /// Worker: poll again, or send the apply or the ack again.
    Retry,
    /// Worker: send a heartbeat.
    Beat,
    /// Broker: the lease `delivery` on entry `offset` may have run out.
    Visibility {
        /// The entry's place in the broker's log.
        offset: u64,
        /// The lease's id: the broker's incarnation in the high 32 bits, its count of deliveries in the low.
        delivery: u64,
    },
    /// Broker: the detector's tick.
    Tick,
    /// Broker (`BrokerForgets`): write the log.
    Flush,
    /// Broker: the hold after a restart is over.
    Recovered,
}

/// What the work queue's nodes report to the trace and the judge.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum QueueObservation {
    /// Producer: a new message published (its first send).
    Publish {
        /// The producer's number for the message.
        seq: Seq,
        /// The message's key (none for a job's task).
        key: Option<u64>,
        /// The job a task belongs to (none for a keyed message).
        job: Option<u32>,
        /// The task's number within its job.
        task: Option<u32>,
    },
    /// Broker: a publish appended to the log at `offset`.
    Appended {
        /// The message.
        #[serde(flatten)]
        item: Item,
        /// The entry's place in the broker's log.
        offset: u64,
    },
    /// Broker: a publish acknowledged to its producer (`duplicate`: already
    /// accepted, not appended again).
    PublishAcked {
        /// The producer's node: with `seq`, the message's id.
        producer: NodeId,
        /// The producer's number for the message.
        seq: Seq,
        /// Already accepted: acknowledged without appending again.
        duplicate: bool,
    },
    /// Broker: an entry handed to a worker, leased until `expires` on the
    /// broker's clock.
    Delivered {
        /// The producer's node: with `seq`, the message's id.
        producer: NodeId,
        /// The producer's number for the message.
        seq: Seq,
        /// The entry's place in the broker's log.
        offset: u64,
        /// The worker it went to.
        worker: NodeId,
        /// The lease's id: the broker's incarnation in the high 32 bits, its count of deliveries in the low.
        delivery: u64,
        /// Why the broker handed the entry out (or took it back).
        reason: Reason,
        /// The lease's end on the broker's clock.
        expires: LocalTime,
    },
    /// Broker: a lease ended without an acknowledgement; the entry is
    /// visible again.
    Returned {
        /// The producer's node: with `seq`, the message's id.
        producer: NodeId,
        /// The producer's number for the message.
        seq: Seq,
        /// The entry's place in the broker's log.
        offset: u64,
        /// The worker that held it.
        worker: NodeId,
        /// The lease's id: the broker's incarnation in the high 32 bits, its count of deliveries in the low.
        delivery: u64,
        /// Why the broker handed the entry out (or took it back).
        reason: Reason,
    },
    /// Broker: an acknowledgement removed the entry from the log.
    Consumed {
        /// The producer's node: with `seq`, the message's id.
        producer: NodeId,
        /// The producer's number for the message.
        seq: Seq,
        /// The entry's place in the broker's log.
        offset: u64,
        /// The worker that acknowledged it.
        worker: NodeId,
        /// The lease's id: the broker's incarnation in the high 32 bits, its count of deliveries in the low.
        delivery: u64,
    },
    /// Broker: restarted with `entries` in its log, held until `until` on
    /// its clock.
    Recovered {
        /// Entries in the log at the restart.
        entries: u64,
        /// The hold's end on the broker's clock.
        until: LocalTime,
    },
    /// Broker: the detector suspects worker `peer`.
    Suspect {
        /// The worker.
        peer: NodeId,
    },
    /// Broker: the detector trusts worker `peer` again.
    Trust {
        /// The worker.
        peer: NodeId,
    },
    /// Worker: took a delivery.
    Received {
        /// The producer's node: with `seq`, the message's id.
        producer: NodeId,
        /// The producer's number for the message.
        seq: Seq,
        /// The lease's id: the broker's incarnation in the high 32 bits, its count of deliveries in the low.
        delivery: u64,
    },
    /// Worker: finished working on it (an execution).
    Processed {
        /// The producer's node: with `seq`, the message's id.
        producer: NodeId,
        /// The producer's number for the message.
        seq: Seq,
        /// The lease's id: the broker's incarnation in the high 32 bits, its count of deliveries in the low.
        delivery: u64,
    },
    /// Worker: sent the acknowledgement.
    Acked {
        /// The producer's node: with `seq`, the message's id.
        producer: NodeId,
        /// The producer's number for the message.
        seq: Seq,
        /// The lease's id: the broker's incarnation in the high 32 bits, its count of deliveries in the low.
        delivery: u64,
    },
    /// Worker: no longer holds it (`done`, or `abandoned` once its lease is
    /// over on the worker's clock).
    Finished {
        /// The producer's node: with `seq`, the message's id.
        producer: NodeId,
        /// The producer's number for the message.
        seq: Seq,
        /// The lease's id: the broker's incarnation in the high 32 bits, its count of deliveries in the low.
        delivery: u64,
        /// How the hold ended.
        outcome: Outcome,
    },
    /// Sink: an apply arrived; `applied` is false when an idempotent sink
    /// had applied this id already.
    Effect {
        /// The message.
        #[serde(flatten)]
        item: Item,
        /// The worker that sent the apply.
        worker: NodeId,
        /// The lease's id: the broker's incarnation in the high 32 bits, its count of deliveries in the low.
        delivery: u64,
        /// False when an idempotent sink had applied this id already and refused it.
        applied: bool,
    },
}

/// How a worker's hold on a delivery ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It finished: applied and acknowledged.
    Done,
    /// Its lease was over on the worker's clock before the sink or the broker answered.
    Abandoned,
}

/// What survives a crash, by role.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueDurable {
    /// Nothing saved yet.
    #[default]
    Nothing,
    /// The broker's log.
    Broker(BrokerLog),
    /// The sink's store.
    Sink(SinkStore),
    /// A producer's outbox.
    Producer(Outbox),
    /// A worker's incarnation.
    Worker(Incarnation),
}

/// A node's state, by role.
#[derive(Debug)]
pub enum QueueState {
    /// The broker's.
    Broker(BrokerState),
    /// The sink's.
    Sink(SinkState),
    /// A producer's.
    Producer(ProducerState),
    /// A worker's.
    Worker(WorkerState),
    /// A node without a role.
    Idle,
}

impl WorkQueue {
    fn begin(&self, ctx: &mut Context<'_, Self>, durable: &QueueDurable) -> QueueState {
        match self.role(ctx.id()) {
            Role::Broker => QueueState::Broker(self.broker_start(ctx, durable)),
            Role::Sink => QueueState::Sink(self.sink_start(durable)),
            Role::Producer(index) => QueueState::Producer(self.producer_start(ctx, index, durable)),
            Role::Worker => QueueState::Worker(self.worker_start(ctx, durable)),
            Role::Idle => QueueState::Idle,
        }
    }
}

impl Protocol for WorkQueue {
    type Message = QueueMessage;
    type Timer = QueueTimer;
    type Durable = QueueDurable;
    type Observation = QueueObservation;
    type State = QueueState;

    fn on_start(&self, ctx: &mut Context<'_, Self>) -> QueueState {
        self.begin(ctx, &QueueDurable::Nothing)
    }

    fn on_restart(&self, ctx: &mut Context<'_, Self>, durable: &QueueDurable) -> QueueState {
        self.begin(ctx, durable)
    }

    fn on_message(
        &self,
        state: &mut QueueState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        message: QueueMessage,
    ) {
        match state {
            QueueState::Broker(broker) => self.broker_message(broker, ctx, from, message),
            QueueState::Sink(sink) => self.sink_message(sink, ctx, from, message),
            QueueState::Producer(producer) => self.producer_message(producer, ctx, from, message),
            QueueState::Worker(worker) => self.worker_message(worker, ctx, from, message),
            QueueState::Idle => {}
        }
    }

    fn on_timer(&self, state: &mut QueueState, ctx: &mut Context<'_, Self>, timer: QueueTimer) {
        match state {
            QueueState::Broker(broker) => self.broker_timer(broker, ctx, timer),
            QueueState::Producer(producer) => self.producer_timer(producer, ctx, timer),
            QueueState::Worker(worker) => self.worker_timer(worker, ctx, timer),
            QueueState::Sink(_) | QueueState::Idle => {}
        }
    }

    /// A lease names its end on the broker's clock, and so does the hold
    /// after a restart: the trace gives both in true time.
    fn observation_deadline(&self, observation: &QueueObservation) -> Option<LocalTime> {
        match *observation {
            QueueObservation::Delivered { expires, .. } => Some(expires),
            QueueObservation::Recovered { until, .. } => Some(until),
            _ => None,
        }
    }
}

impl Harness for WorkQueue {
    const NAME: &'static str = "Queue";
    const PROPERTIES: &'static [Property] = &[
        Property {
            name: "NoLoss",
            kind: PropertyKind::Safety,
            summary: "every publish the broker acknowledged has its effect applied at the sink by the end of the run",
            example: "",
        },
        Property {
            name: "ExactlyOnceEffect",
            kind: PropertyKind::Safety,
            summary: "the sink applies each message id at most once",
            example: "",
        },
        Property {
            name: "KeyOrder",
            kind: PropertyKind::Safety,
            summary: "per key, the sink applies effects in the order the broker appended the messages",
            example: "",
        },
        Property {
            name: "Drains",
            kind: PropertyKind::Liveness,
            summary: "every message leaves the queue, and every job is done, within the bound of its publish or of the last fault, whichever is later",
            example: "Drains(\"5s\")",
        },
        Property {
            name: "Redelivered",
            kind: PropertyKind::Coverage,
            summary: "the broker handed a message out again",
            example: "",
        },
        Property {
            name: "WorkerCrashedHolding",
            kind: PropertyKind::Coverage,
            summary: "a worker crashed while it held a message",
            example: "",
        },
    ];
    type Block = QueueBlock;
    type Check = QueueCheck;
    type Judge = QueueJudge;
    type Recorder = ();

    fn configure(block: QueueBlock, scenario: &ScenarioFacts<'_>) -> Result<Self, BlockError> {
        block::configure(block, scenario)
    }

    fn check_valid(check: &QueueCheck, _scenario: &ScenarioFacts<'_>) -> Result<(), BlockError> {
        check::valid(check)
    }

    fn judge(&self, checks: &[QueueCheck], setup: &RunSetup<'_>) -> QueueJudge {
        QueueJudge::new(self, checks, setup)
    }

    fn recorder(&self, _setup: &RunSetup<'_>) {}

    fn charts(
        &self,
        judge: &QueueJudge,
        _recorder: (),
        timeline: &mut TimelineData,
        setup: &RunSetup<'_>,
    ) -> Vec<(String, Chart)> {
        chart::decorate_timeline(self, judge, timeline);
        vec![chart::queue_chart(self, judge, timeline, setup)]
    }
}
