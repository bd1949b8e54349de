//! Checks for the work queue, from the protocol's observations and the
//! broker's persisted log. The definitions, which docs/protocols.md repeats:
//!
//! - A publish is **acknowledged** at the broker's first `publish_acked` for
//!   its id. A message's **effect** is applied at the sink's `effect` lines
//!   with `applied: true`.
//! - `NoLoss`: every acknowledged publish has an applied effect by the end
//!   of the run. (Give the run the time it needs once faults stop: a message
//!   still in the queue at the end counts as lost.)
//! - `ExactlyOnceEffect`: no message id has two applied effects.
//! - `KeyOrder`: for each key, effects are applied in the broker's log
//!   order: when the sink applies message x of key k, no message of key k
//!   that the broker appended after x has been applied before. The log order
//!   is the order of the messages' first `appended` lines.
//! - `Drains(within)`: every log entry leaves the log (an acknowledgement
//!   consumes it, or a broker restart drops it) by `within` after it was
//!   appended or after the last fault ended, whichever is later; and every
//!   job has all its tasks' effects applied by `within` after it was
//!   published or after the last fault, whichever is later. Deadlines past
//!   the end of the run are not judged.
//!
//! Which entries a broker restart drops: those in its log (appended, not yet
//! consumed) that its last `persist` before the crash did not hold.
//!
//! Double work is measured, not judged: an *execution* is a worker's
//! `processed` line; every execution of a message after its first is double
//! work, attributed to why its delivery happened (a lease timeout, a
//! suspicion, another redelivery, or a publish appended twice).

use super::{Item, MessageId, QueueDurable, QueueObservation, Reason, Role, WorkQueue};
use crate::check::{report, CheckReport, Coverage, PropertyKind, Violation};
use crate::harness::{BlockError, Check, HumanDuration, Judge, Place, RunSetup};
use crate::node::NodeId;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{NodeStatus, Observer, TraceEvent, WorldView};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// What `checks: [...]` may list for the work queue.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum QueueCheck {
    /// Every acknowledged publish applied by the end.
    NoLoss,
    /// No message applied twice.
    ExactlyOnceEffect,
    /// Per key, effects in log order.
    KeyOrder,
    /// The queue empties and jobs finish within the bound.
    Drains(HumanDuration),
    /// Coverage: a message was handed out again.
    Redelivered,
    /// Coverage: a worker crashed holding a message.
    WorkerCrashedHolding,
}

impl Check for QueueCheck {
    fn name(&self) -> &'static str {
        match self {
            QueueCheck::NoLoss => "NoLoss",
            QueueCheck::ExactlyOnceEffect => "ExactlyOnceEffect",
            QueueCheck::KeyOrder => "KeyOrder",
            QueueCheck::Drains(_) => "Drains",
            QueueCheck::Redelivered => "Redelivered",
            QueueCheck::WorkerCrashedHolding => "WorkerCrashedHolding",
        }
    }
}

pub fn valid(check: &QueueCheck) -> Result<(), BlockError> {
    if let QueueCheck::Drains(within) = check {
        within.positive(Place::root())?;
    }
    Ok(())
}

/// An applied effect or an execution: when, by which worker, under which
/// delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Action {
    pub time: SimTime,
    pub worker: NodeId,
    pub delivery: u64,
}

/// Everything the judge learned about one message id.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageLife {
    pub id: MessageId,
    pub key: Option<u64>,
    pub job: Option<u32>,
    /// The producer's first publish.
    pub published: Option<SimTime>,
    /// The broker's first acknowledgement of the publish.
    pub publish_acked: Option<SimTime>,
    /// Its place in the broker's log order (first append).
    pub position: Option<u64>,
    /// Its log entries (more than one if appended twice), by index.
    pub entries: Vec<usize>,
    pub first_delivered: Option<SimTime>,
    pub executions: Vec<Action>,
    /// Effects applied (an idempotent sink's refusals are not here).
    pub effects: Vec<Action>,
    /// The first time the sink saw it, applied or not.
    pub first_effect: Option<SimTime>,
    /// The first acknowledgement that consumed one of its entries.
    pub consumed: Option<Action>,
}

impl MessageLife {
    fn new(item: &Item) -> Self {
        MessageLife {
            id: item.id(),
            key: item.key,
            job: item.job,
            published: None,
            publish_acked: None,
            position: None,
            entries: Vec::new(),
            first_delivered: None,
            executions: Vec::new(),
            effects: Vec::new(),
            first_effect: None,
            consumed: None,
        }
    }

    /// A short name: `m2.5 (key 1)`, `m2.7 (job 0 task 3)`.
    pub fn name(&self) -> String {
        match (self.key, self.job) {
            (Some(key), _) => format!("message {} (key {key})", self.id),
            (None, Some(job)) => format!("message {} (job {job})", self.id),
            (None, None) => format!("message {}", self.id),
        }
    }
}

/// A log entry, from its append until it leaves the log.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryLife {
    pub id: MessageId,
    pub offset: u64,
    pub appended: SimTime,
    pub left: Option<SimTime>,
    /// Dropped by a broker restart rather than consumed.
    pub forgotten: bool,
}

/// One delivery as the broker made it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeliveryLife {
    pub id: MessageId,
    pub worker: NodeId,
    pub time: SimTime,
    pub reason: Reason,
    /// The message's first log entry or a second one (appended twice).
    pub first_entry: bool,
    /// The message had been delivered before: a redelivery. (A broker
    /// restart hands out every entry in its log with reason `recovery`,
    /// delivered before the crash or not.)
    pub again: bool,
}

/// A worker holding a delivery, from `received` until it finished, crashed
/// or the run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Hold {
    pub worker: NodeId,
    pub id: MessageId,
    pub delivery: u64,
    pub start: SimTime,
    pub end: Option<SimTime>,
    pub crashed: bool,
}

/// A lease that ended without an acknowledgement: the broker took the
/// message back from `worker`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GivenBack {
    pub time: SimTime,
    pub worker: NodeId,
    pub id: MessageId,
    pub reason: Reason,
}

/// The broker suspecting a worker, for the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct SuspicionSpan {
    pub worker: NodeId,
    pub start: SimTime,
    pub end: Option<SimTime>,
    /// The worker was not crashed when the suspicion began.
    pub false_suspicion: bool,
}

/// A delivery id as `incarnation.n`: the broker's n-th delivery since its
/// latest start.
pub fn delivery_name(delivery: u64) -> String {
    format!("{}.{}", delivery >> 32, delivery & 0xffff_ffff)
}

/// Why double work happened, in the order the metrics list them.
const DOUBLE_WORK_CAUSES: [&str; 4] = ["timeout", "suspicion", "redelivery", "duplicate_publish"];

/// The work queue's judge: follows every message's life from the observations and persists, and judges the checks at the end.
pub struct QueueJudge {
    broker: NodeId,
    sink: NodeId,
    roles: Vec<Role>,
    /// (job, tasks).
    job_tasks: Vec<u32>,
    faults_end: SimTime,
    checks: Vec<QueueCheck>,
    messages: Vec<MessageLife>,
    index: BTreeMap<MessageId, usize>,
    entries: Vec<EntryLife>,
    /// The broker's log as it holds it now: offset -> entry.
    live: BTreeMap<u64, usize>,
    /// The offsets in the broker's log as last persisted: what a restart
    /// brings back.
    written: BTreeSet<u64>,
    deliveries: BTreeMap<u64, DeliveryLife>,
    holds: Vec<Hold>,
    /// Per worker: its open hold.
    holding: BTreeMap<NodeId, usize>,
    suspicions: Vec<SuspicionSpan>,
    /// (time, depth) whenever the log's length changed.
    pub depth: Vec<(SimTime, u64)>,
    /// Each lease that ended without an acknowledgement.
    pub returns: Vec<GivenBack>,
    /// (restart, end of the hold) of each broker restart.
    pub recoveries: Vec<(SimTime, SimTime)>,
    appended_count: u64,
    redeliveries: u64,
    /// (time, worker) of each crash while holding.
    crashes_holding: Vec<(SimTime, NodeId)>,
    exactly_once: Vec<Violation>,
    key_order: Vec<Violation>,
    /// Each effect applied out of its key's order: which message, and the
    /// effect (for the chart).
    pub out_of_order: Vec<(MessageId, Action)>,
    /// Per key: the latest-appended message applied so far.
    key_latest: BTreeMap<u64, usize>,
}

impl QueueJudge {
    /// A judge for `checks`.
    pub fn new(protocol: &WorkQueue, checks: &[QueueCheck], setup: &RunSetup<'_>) -> Self {
        QueueJudge {
            broker: protocol.broker,
            sink: protocol.sink,
            roles: protocol.roles.to_vec(),
            job_tasks: protocol.jobs.iter().map(|job| job.tasks).collect(),
            faults_end: setup.faults_end,
            checks: checks.to_vec(),
            messages: Vec::new(),
            index: BTreeMap::new(),
            entries: Vec::new(),
            live: BTreeMap::new(),
            written: BTreeSet::new(),
            deliveries: BTreeMap::new(),
            holds: Vec::new(),
            holding: BTreeMap::new(),
            suspicions: Vec::new(),
            depth: Vec::new(),
            returns: Vec::new(),
            recoveries: Vec::new(),
            appended_count: 0,
            redeliveries: 0,
            crashes_holding: Vec::new(),
            exactly_once: Vec::new(),
            key_order: Vec::new(),
            out_of_order: Vec::new(),
            key_latest: BTreeMap::new(),
        }
    }

    /// Every message seen, in order of first sight.
    pub fn messages(&self) -> &[MessageLife] {
        &self.messages
    }
    /// Every log entry, in append order.
    pub fn entries(&self) -> &[EntryLife] {
        &self.entries
    }
    /// Every worker's holds, in order of start.
    pub fn holds(&self) -> &[Hold] {
        &self.holds
    }
    /// The broker's suspicions of workers.
    pub fn suspicions(&self) -> &[SuspicionSpan] {
        &self.suspicions
    }
    /// The broker's delivery `delivery`, if it made it.
    pub fn delivery(&self, delivery: u64) -> Option<&DeliveryLife> {
        self.deliveries.get(&delivery)
    }
    /// When the broker handed message `id` out again (after a timeout, a
    /// suspicion or its own restart).
    pub fn redeliveries_of(&self, id: MessageId) -> impl Iterator<Item = SimTime> + '_ {
        self.deliveries
            .values()
            .filter(move |delivery| delivery.id == id && delivery.again)
            .map(|delivery| delivery.time)
    }
    /// How many jobs the scenario has.
    pub fn job_count(&self) -> usize {
        self.job_tasks.len()
    }
    /// How many tasks job `job` has.
    pub fn job_tasks(&self, job: usize) -> u32 {
        self.job_tasks[job]
    }
    /// When the broker took message `id` back from a worker.
    pub fn returns_of(&self, id: MessageId) -> impl Iterator<Item = SimTime> + '_ {
        self.returns
            .iter()
            .filter(move |given_back| given_back.id == id)
            .map(|given_back| given_back.time)
    }

    fn life(&mut self, item: &Item) -> usize {
        if let Some(&at) = self.index.get(&item.id()) {
            return at;
        }
        self.index.insert(item.id(), self.messages.len());
        self.messages.push(MessageLife::new(item));
        self.messages.len() - 1
    }

    fn life_of(&mut self, producer: NodeId, seq: u64) -> usize {
        let item = Item {
            producer,
            seq,
            key: None,
            job: None,
            task: None,
        };
        self.life(&item)
    }

    fn record_depth(&mut self, now: SimTime) {
        let depth = self.live.len() as u64;
        match self.depth.last_mut() {
            Some((time, value)) if *time == now => *value = depth,
            _ => self.depth.push((now, depth)),
        }
    }
}

// Observing the run.
impl QueueJudge {
    fn on_observation(
        &mut self,
        now: SimTime,
        node: NodeId,
        observation: &QueueObservation,
        deadline: Option<SimTime>,
        world: &WorldView<'_>,
    ) {
        match *observation {
            QueueObservation::Publish {
                seq,
                key,
                job,
                task,
            } => {
                let item = Item {
                    producer: node,
                    seq,
                    key,
                    job,
                    task,
                };
                let at = self.life(&item);
                self.messages[at].published.get_or_insert(now);
            }
            QueueObservation::Appended { item, offset } => self.on_appended(now, item, offset),
            QueueObservation::PublishAcked { producer, seq, .. } => {
                let at = self.life_of(producer, seq);
                self.messages[at].publish_acked.get_or_insert(now);
            }
            QueueObservation::Delivered {
                producer,
                seq,
                offset,
                worker,
                delivery,
                reason,
                ..
            } => self.on_delivered(now, (producer, seq), offset, worker, delivery, reason),
            QueueObservation::Returned {
                producer,
                seq,
                worker,
                reason,
                ..
            } => self.returns.push(GivenBack {
                time: now,
                worker,
                id: MessageId { producer, seq },
                reason,
            }),
            QueueObservation::Consumed {
                producer,
                seq,
                offset,
                worker,
                delivery,
            } => self.on_consumed(now, (producer, seq), offset, worker, delivery),
            QueueObservation::Suspect { peer } => self.suspicions.push(SuspicionSpan {
                worker: peer,
                start: now,
                end: None,
                false_suspicion: world.status(peer) != NodeStatus::Crashed,
            }),
            QueueObservation::Trust { peer } => self.end_suspicion(peer, now),
            QueueObservation::Received {
                producer,
                seq,
                delivery,
            } => self.on_received(now, node, MessageId { producer, seq }, delivery),
            QueueObservation::Processed {
                producer,
                seq,
                delivery,
            } => {
                let at = self.life_of(producer, seq);
                self.messages[at].executions.push(Action {
                    time: now,
                    worker: node,
                    delivery,
                });
            }
            QueueObservation::Finished { .. } => self.end_hold(node, now, false),
            QueueObservation::Effect {
                item,
                worker,
                delivery,
                applied,
            } => self.on_effect(now, item, worker, delivery, applied),
            QueueObservation::Recovered { entries, .. } if entries > 0 => {
                self.recoveries.push((now, deadline.unwrap_or(now)))
            }
            QueueObservation::Recovered { .. } => {}
            QueueObservation::Acked { .. } => {}
        }
    }

    fn on_appended(&mut self, now: SimTime, item: Item, offset: u64) {
        let at = self.life(&item);
        let entry = self.entries.len();
        self.entries.push(EntryLife {
            id: item.id(),
            offset,
            appended: now,
            left: None,
            forgotten: false,
        });
        let life = &mut self.messages[at];
        life.entries.push(entry);
        if life.position.is_none() {
            life.position = Some(self.appended_count);
            self.appended_count += 1;
        }
        self.live.insert(offset, entry);
        self.record_depth(now);
    }

    fn on_delivered(
        &mut self,
        now: SimTime,
        (producer, seq): (NodeId, u64),
        offset: u64,
        worker: NodeId,
        delivery: u64,
        reason: Reason,
    ) {
        let at = self.life_of(producer, seq);
        let life = &mut self.messages[at];
        let again = life.first_delivered.is_some();
        life.first_delivered.get_or_insert(now);
        let first_entry = self
            .live
            .get(&offset)
            .is_none_or(|&entry| life.entries.first() == Some(&entry));
        if again {
            self.redeliveries += 1;
        }
        self.deliveries.insert(
            delivery,
            DeliveryLife {
                id: life.id,
                worker,
                time: now,
                reason,
                first_entry,
                again,
            },
        );
    }

    fn on_consumed(
        &mut self,
        now: SimTime,
        (producer, seq): (NodeId, u64),
        offset: u64,
        worker: NodeId,
        delivery: u64,
    ) {
        let at = self.life_of(producer, seq);
        self.messages[at].consumed.get_or_insert(Action {
            time: now,
            worker,
            delivery,
        });
        if let Some(entry) = self.live.remove(&offset) {
            self.entries[entry].left = Some(now);
        }
        self.record_depth(now);
    }

    fn on_received(&mut self, now: SimTime, worker: NodeId, id: MessageId, delivery: u64) {
        self.end_hold(worker, now, false);
        self.holding.insert(worker, self.holds.len());
        self.holds.push(Hold {
            worker,
            id,
            delivery,
            start: now,
            end: None,
            crashed: false,
        });
    }

    fn end_hold(&mut self, worker: NodeId, now: SimTime, crashed: bool) {
        if let Some(hold) = self.holding.remove(&worker) {
            self.holds[hold].end = Some(now);
            self.holds[hold].crashed = crashed;
            if crashed {
                self.crashes_holding.push((now, worker));
            }
        }
    }

    fn end_suspicion(&mut self, worker: NodeId, now: SimTime) {
        if let Some(span) = self
            .suspicions
            .iter_mut()
            .rev()
            .find(|span| span.worker == worker && span.end.is_none())
        {
            span.end = Some(now);
        }
    }

    fn on_effect(
        &mut self,
        now: SimTime,
        item: Item,
        worker: NodeId,
        delivery: u64,
        applied: bool,
    ) {
        let at = self.life(&item);
        self.messages[at].first_effect.get_or_insert(now);
        if !applied {
            return;
        }
        let step = Action {
            time: now,
            worker,
            delivery,
        };
        if let Some(&earlier) = self.messages[at].effects.first() {
            let violation = self.applied_twice(at, earlier, step);
            self.exactly_once.push(violation);
        }
        self.messages[at].effects.push(step);
        if let Some(key) = item.key {
            self.check_key_order(at, key, step);
        }
    }

    fn applied_twice(&self, at: usize, earlier: Action, later: Action) -> Violation {
        let life = &self.messages[at];
        Violation {
            time: later.time,
            nodes: vec![later.worker, earlier.worker],
            message: format!(
                "{} applied twice: at {} from worker {} ({}) and again at {} from worker {} ({})",
                life.name(),
                earlier.time,
                earlier.worker,
                self.why_delivered(earlier.delivery),
                later.time,
                later.worker,
                self.why_delivered(later.delivery)
            ),
        }
    }

    /// Why the broker made delivery `delivery`, in words.
    fn why_delivered(&self, delivery: u64) -> String {
        let Some(life) = self.deliveries.get(&delivery) else {
            return format!(
                "delivery {}, never made by the broker",
                delivery_name(delivery)
            );
        };
        let why = match life.reason {
            Reason::First if !life.first_entry => {
                "the first delivery of a second log entry: the publish was appended twice"
            }
            Reason::First => "its first delivery",
            Reason::Timeout => "redelivered when the lease ran out",
            Reason::Suspicion => "reassigned when the broker suspected the worker holding it",
            Reason::Recovery => "redelivered after a broker restart",
        };
        format!(
            "delivery {} at {}, {why}",
            delivery_name(delivery),
            life.time
        )
    }

    /// Effects of one key must follow the log order: none applied after a
    /// message appended later has been.
    fn check_key_order(&mut self, at: usize, key: u64, applied: Action) {
        let now = applied.time;
        let Some(position) = self.messages[at].position else {
            return;
        };
        let latest = self.key_latest.get(&key).copied();
        match latest {
            Some(newer) if self.messages[newer].position > Some(position) => {
                let (mine, theirs) = (&self.messages[at], &self.messages[newer]);
                let theirs_applied = theirs.effects.first().map_or(now, |step| step.time);
                self.out_of_order.push((mine.id, applied));
                self.key_order.push(Violation {
                    time: now,
                    nodes: vec![self.sink, applied.worker],
                    message: format!(
                        "key {key}: message {} (log position {position}) applied at {now} after message {} (log position {}, appended later) was applied at {theirs_applied}",
                        mine.id,
                        theirs.id,
                        theirs.position.unwrap_or_default()
                    ),
                });
            }
            _ => {
                self.key_latest.insert(key, at);
            }
        }
    }

    fn on_persist(&mut self, node: NodeId, durable: &QueueDurable) {
        if let (true, QueueDurable::Broker(log)) = (node == self.broker, durable) {
            self.written = log.entries.iter().map(|entry| entry.offset).collect();
        }
    }

    /// The broker's log after a crash is what it last persisted.
    fn on_broker_crash(&mut self, now: SimTime) {
        let written = &self.written;
        let entries = &mut self.entries;
        self.live.retain(|offset, &mut entry| {
            let kept = written.contains(offset);
            if !kept {
                entries[entry].left = Some(now);
                entries[entry].forgotten = true;
            }
            kept
        });
        self.record_depth(now);
    }

    fn on_crash(&mut self, node: NodeId, now: SimTime) {
        if node == self.broker {
            self.on_broker_crash(now);
        }
        if self.roles.get(node as usize) == Some(&Role::Worker) {
            self.end_hold(node, now, true);
        }
    }
}

impl Observer<WorkQueue> for QueueJudge {
    fn observe(&mut self, now: SimTime, event: &TraceEvent<'_, WorkQueue>, world: &WorldView<'_>) {
        match *event {
            TraceEvent::Observe {
                node,
                observation,
                deadline,
                ..
            } => self.on_observation(now, node, observation, deadline, world),
            TraceEvent::Persist { node, durable } => self.on_persist(node, durable),
            TraceEvent::Crash { node } | TraceEvent::Leave { node } => self.on_crash(node, now),
            _ => {}
        }
    }
}

// Judging at the end.
impl QueueJudge {
    /// Each lost message and when it was lost (see `NoLoss`).
    pub fn lost(&self, end: SimTime) -> Vec<(MessageId, SimTime)> {
        self.losses(end)
            .into_iter()
            .zip(self.messages.iter().filter(|life| Self::is_lost(life)))
            .map(|(violation, life)| (life.id, violation.time))
            .collect()
    }

    fn is_lost(life: &MessageLife) -> bool {
        life.publish_acked.is_some() && life.effects.is_empty()
    }

    /// Messages acknowledged to their producer with no applied effect.
    fn losses(&self, end: SimTime) -> Vec<Violation> {
        self.messages
            .iter()
            .filter(|life| Self::is_lost(life))
            .map(|life| self.loss(life, end))
            .collect()
    }

    fn loss(&self, life: &MessageLife, end: SimTime) -> Violation {
        let acked = life.publish_acked.unwrap_or_default();
        let head = format!(
            "{} acknowledged to producer {} at {acked} was never applied at the sink",
            life.name(),
            life.id.producer
        );
        let forgotten = life
            .entries
            .iter()
            .map(|&entry| &self.entries[entry])
            .find(|entry| entry.forgotten);
        let (time, nodes, why) = if let Some(step) = life.consumed {
            let crash = self
                .crashes_holding
                .iter()
                .find(|(time, worker)| *worker == step.worker && *time >= step.time);
            let crash = crash.map_or(String::new(), |(time, _)| {
                format!(
                    ", and worker {} crashed at {time} still holding it",
                    step.worker
                )
            });
            (
                step.time,
                vec![step.worker, self.broker],
                format!(
                    "the broker removed it from its log at {} on an acknowledgement worker {} sent before any effect ({}){crash}",
                    step.time,
                    step.worker,
                    self.why_delivered(step.delivery)
                ),
            )
        } else if let Some(entry) = forgotten {
            let left = entry.left.unwrap_or(end);
            (
                left,
                vec![self.broker],
                format!("the broker crashed at {left} before writing it to its log (appended at {}), and restarted without it", entry.appended),
            )
        } else if life.entries.is_empty() {
            (
                end,
                vec![self.broker],
                "the broker never appended it".to_string(),
            )
        } else {
            let deliveries = self.deliveries.values().filter(|d| d.id == life.id).count();
            (
                end,
                vec![self.broker],
                format!("still in the queue at the end of the run ({end}), delivered {deliveries} time(s): allow more time after the last fault ({})", self.faults_end),
            )
        };
        Violation {
            time,
            nodes,
            message: format!("{head}: {why}"),
        }
    }

    /// Per-entry and per-job deadlines, and how many lay past the end.
    fn drain_violations(&self, within: SimDuration, end: SimTime) -> (Vec<Violation>, u64) {
        let mut violations = Vec::new();
        let mut unjudged = 0;
        for entry in &self.entries {
            let deadline = entry.appended.max(self.faults_end).after(within);
            if deadline > end {
                unjudged += u64::from(entry.left.is_none_or(|left| left > end));
                continue;
            }
            if entry.left.is_none_or(|left| left > deadline) {
                violations.push(Violation {
                    time: deadline,
                    nodes: vec![self.broker],
                    message: format!(
                        "message {} (appended at {}) was still in the queue at {deadline}, {within} after {}",
                        entry.id,
                        entry.appended,
                        if entry.appended >= self.faults_end { "it was appended" } else { "the last fault" }
                    ),
                });
            }
        }
        for job in 0..self.job_tasks.len() {
            let Some((published, done)) = self.job_times(job) else {
                continue;
            };
            let deadline = published.max(self.faults_end).after(within);
            if deadline > end {
                unjudged += u64::from(done.is_none());
                continue;
            }
            if done.is_none_or(|done| done > deadline) {
                let applied = self.tasks_applied(job, deadline);
                violations.push(Violation {
                    time: deadline,
                    nodes: vec![self.broker],
                    message: format!(
                        "job {job} (published at {published}) was not done at {deadline}: {applied} of its {} tasks applied",
                        self.job_tasks[job]
                    ),
                });
            }
        }
        (violations, unjudged)
    }

    /// A job's publish time and, once every task has an applied effect, when
    /// the last one was applied.
    pub fn job_times(&self, job: usize) -> Option<(SimTime, Option<SimTime>)> {
        let tasks: Vec<&MessageLife> = self
            .messages
            .iter()
            .filter(|life| life.job == Some(job as u32))
            .collect();
        let published = tasks.iter().filter_map(|life| life.published).min()?;
        let applied: Vec<SimTime> = tasks
            .iter()
            .filter_map(|life| life.effects.first().map(|step| step.time))
            .collect();
        let done = (applied.len() == self.job_tasks[job] as usize)
            .then(|| applied.iter().copied().max())
            .flatten();
        Some((published, done))
    }

    fn tasks_applied(&self, job: usize, by: SimTime) -> usize {
        self.messages
            .iter()
            .filter(|life| life.job == Some(job as u32))
            .filter(|life| life.effects.first().is_some_and(|step| step.time <= by))
            .count()
    }

    /// Executions of a message beyond one, by cause (see
    /// `DOUBLE_WORK_CAUSES`): of a message's executions, the one whose
    /// delivery came first is the work; each other one is double work,
    /// caused by why its delivery happened.
    pub fn double_work(&self) -> [u64; 4] {
        let mut causes = [0u64; 4];
        for life in self
            .messages
            .iter()
            .filter(|life| life.executions.len() > 1)
        {
            let mut deliveries: Vec<Option<&DeliveryLife>> = life
                .executions
                .iter()
                .map(|step| self.deliveries.get(&step.delivery))
                .collect();
            deliveries.sort_by_key(|delivery| delivery.map(|d| d.time));
            for delivery in deliveries.into_iter().skip(1) {
                let cause = match delivery {
                    Some(d) if d.reason == Reason::Timeout => 0,
                    Some(d) if d.reason == Reason::Suspicion => 1,
                    Some(d) if d.reason == Reason::First && !d.first_entry => 3,
                    _ => 2,
                };
                causes[cause] += 1;
            }
        }
        causes
    }

    fn double_work_text(&self) -> String {
        let causes = self.double_work();
        let total: u64 = causes.iter().sum();
        let executions: usize = self.messages.iter().map(|life| life.executions.len()).sum();
        let mut text = format!("{executions} executions, {total} of them double work");
        if total > 0 {
            let parts: Vec<String> = DOUBLE_WORK_CAUSES
                .iter()
                .zip(causes)
                .filter(|(_, count)| *count > 0)
                .map(|(cause, count)| format!("{count} {}", cause.replace('_', " ")))
                .collect();
            let _ = write!(text, " ({})", parts.join(", "));
        }
        text
    }

    fn check_report(&self, check: &QueueCheck, end: SimTime) -> Option<CheckReport> {
        let acknowledged = self
            .messages
            .iter()
            .filter(|l| l.publish_acked.is_some())
            .count();
        let applied: usize = self.messages.iter().map(|l| l.effects.len()).sum();
        Some(match check {
            QueueCheck::NoLoss => report(
                "NoLoss",
                PropertyKind::Safety,
                format!(
                    "{acknowledged} publishes acknowledged, {} with an effect",
                    self.messages
                        .iter()
                        .filter(|l| l.publish_acked.is_some() && !l.effects.is_empty())
                        .count()
                ),
                self.losses(end),
            ),
            QueueCheck::ExactlyOnceEffect => report(
                "ExactlyOnceEffect",
                PropertyKind::Safety,
                format!(
                    "{applied} effects applied for {} messages; {}",
                    self.messages
                        .iter()
                        .filter(|l| !l.effects.is_empty())
                        .count(),
                    self.double_work_text()
                ),
                self.exactly_once.clone(),
            ),
            QueueCheck::KeyOrder => report(
                "KeyOrder",
                PropertyKind::Safety,
                format!("{} keys applied", self.key_latest.len()),
                self.key_order.clone(),
            ),
            QueueCheck::Drains(within) => {
                let (violations, unjudged) = self.drain_violations(within.span(), end);
                let mut detail = format!(
                    "{} log entries, {} jobs; last fault over at {}",
                    self.entries.len(),
                    self.job_tasks.len(),
                    self.faults_end
                );
                if unjudged > 0 {
                    let _ = write!(
                        detail,
                        "; {unjudged} deadline(s) past the end of the run, not judged"
                    );
                }
                report("Drains", PropertyKind::Liveness, detail, violations)
            }
            QueueCheck::Redelivered | QueueCheck::WorkerCrashedHolding => return None,
        })
    }
}

impl Judge for QueueJudge {
    fn reports(&mut self, end: SimTime) -> Vec<CheckReport> {
        self.checks
            .iter()
            .filter_map(|check| self.check_report(check, end))
            .collect()
    }

    fn coverage(&self) -> Vec<Coverage> {
        vec![
            Coverage {
                name: "Redelivered",
                happened: self.redeliveries > 0,
                detail: format!("{} redelivery(ies)", self.redeliveries),
            },
            Coverage {
                name: "WorkerCrashedHolding",
                happened: !self.crashes_holding.is_empty(),
                detail: match self.crashes_holding.first() {
                    Some((time, worker)) => format!(
                        "{} crash(es) of a worker holding a message, first worker {worker} at {time}",
                        self.crashes_holding.len()
                    ),
                    None => "no worker crashed holding a message".to_string(),
                },
            },
        ]
    }

    fn metrics(&self, end: SimTime) -> BTreeMap<String, f64> {
        let causes = self.double_work();
        let mut metrics = BTreeMap::from([
            (
                "messages".to_string(),
                self.messages
                    .iter()
                    .filter(|l| l.publish_acked.is_some())
                    .count() as f64,
            ),
            ("redeliveries".to_string(), self.redeliveries as f64),
            ("double_work".to_string(), causes.iter().sum::<u64>() as f64),
            (
                "effects_duplicated".to_string(),
                self.exactly_once.len() as f64,
            ),
            ("messages_lost".to_string(), self.losses(end).len() as f64),
            (
                "false_suspicions".to_string(),
                self.suspicions.iter().filter(|s| s.false_suspicion).count() as f64,
            ),
        ]);
        for (cause, count) in DOUBLE_WORK_CAUSES.iter().zip(causes) {
            metrics.insert(format!("double_work_{cause}"), count as f64);
        }
        let job_times: Vec<f64> = (0..self.job_tasks.len())
            .filter_map(|job| self.job_times(job))
            .filter_map(|(published, done)| done.map(|done| done.since(published).as_secs_f64()))
            .collect();
        if !job_times.is_empty() {
            metrics.insert(
                "job_time_max_s".to_string(),
                job_times.iter().copied().fold(0.0, f64::max),
            );
        }
        metrics
    }
}
