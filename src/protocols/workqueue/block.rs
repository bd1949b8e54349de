//! `protocol: Queue(...)` as written, and its validation into a `WorkQueue`.

use super::{JobSpec, KeyOrdering, Mode, PlanItem, Reassign, Role, WorkQueue};
use crate::harness::{node_exists, BlockError, HumanDuration, Place, ScenarioFacts};
use crate::node::NodeId;
use crate::sim::time::{LocalTime, SimDuration};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// The most messages a scenario may plan, all producers together.
const PLANNED_MAX: u64 = 100_000;

/// `protocol: Queue(broker: 0, sink: 1, producers: [2], workers: [3, 4], ...)`;
/// every field has a default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueBlock {
    /// The broker's node (default 0).
    #[serde(default)]
    pub broker: u32,
    /// The sink's node (default 1).
    #[serde(default = "sink_default")]
    pub sink: u32,
    /// The producers' nodes (default `[2]`).
    #[serde(default = "producers_default")]
    pub producers: Vec<u32>,
    /// The workers' nodes (default: every node without another role).
    #[serde(default)]
    pub workers: Option<Vec<u32>>,
    /// The correct protocol or a planted bug.
    #[serde(default)]
    pub mode: Mode,
    /// The sink applies each message id at most once (default true).
    #[serde(default = "yes")]
    pub idempotent: bool,
    /// The broker appends each (producer, seq) at most once (default true).
    #[serde(default = "yes")]
    pub dedupe: bool,
    /// `Partitioned` (default) or `Any`.
    #[serde(default)]
    pub key_order: KeyOrdering,
    /// `OnTimeout` (default) or `OnSuspicion`.
    #[serde(default)]
    pub reassign: Reassign,
    /// The visibility timeout: a lease's length on the broker's clock.
    #[serde(default = "visibility_default")]
    pub visibility: HumanDuration,
    /// How long a worker works on a message.
    #[serde(default = "work_default")]
    pub work: HumanDuration,
    /// How long producers and workers wait before sending again.
    #[serde(default = "retry_default")]
    pub retry: HumanDuration,
    /// Workers' heartbeats to the broker (`OnSuspicion` only).
    #[serde(default = "heartbeat_interval_default")]
    pub heartbeat_interval: HumanDuration,
    /// Silence after which the broker suspects a worker.
    #[serde(default = "heartbeat_timeout_default")]
    pub heartbeat_timeout: HumanDuration,
    /// Keyed messages every producer publishes at a steady rate.
    #[serde(default)]
    pub rate: Option<RateBlock>,
    /// Keyed messages listed one by one.
    #[serde(default)]
    pub schedule: Vec<ScheduledPublish>,
    /// Jobs: tasks published at once.
    #[serde(default)]
    pub jobs: Vec<JobBlock>,
}

/// `(every: "100ms", count: 20, keys: 4, start: "0ms")`: `count` messages per
/// producer, one every `every` from `start`, their keys taking turns over
/// `0..keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateBlock {
    /// The time between two messages.
    pub every: HumanDuration,
    /// Messages per producer.
    pub count: u32,
    /// Keys taken in turn: `0..keys` (default 4).
    #[serde(default = "keys_default")]
    pub keys: u64,
    /// When the first is published (default 0).
    #[serde(default)]
    pub start: Option<HumanDuration>,
}

/// `(producer: 2, at: "100ms", key: 1)`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledPublish {
    /// The producer's node.
    pub producer: u32,
    /// On the producer's clock.
    pub at: HumanDuration,
    /// The message's key.
    pub key: u64,
}

/// `(at: "1s", tasks: 20)`, published by the first producer unless
/// `producer` says otherwise.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobBlock {
    /// The producer's node (default: the first producer).
    #[serde(default)]
    pub producer: Option<u32>,
    /// When it is published, on the producer's clock.
    pub at: HumanDuration,
    /// How many tasks the job has.
    pub tasks: u32,
}

fn sink_default() -> u32 {
    1
}
fn producers_default() -> Vec<u32> {
    vec![2]
}
fn yes() -> bool {
    true
}
fn visibility_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(500))
}
fn work_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(50))
}
fn retry_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(100))
}
fn heartbeat_interval_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(50))
}
fn heartbeat_timeout_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(250))
}
fn keys_default() -> u64 {
    4
}

/// Validates the block.
pub fn configure(block: QueueBlock, scenario: &ScenarioFacts<'_>) -> Result<WorkQueue, BlockError> {
    let roles = roles(&block, scenario.node_count)?;
    let workers: Vec<NodeId> = (0..scenario.node_count)
        .filter(|&n| roles[n as usize] == Role::Worker)
        .collect();
    if workers.is_empty() {
        return Err(BlockError::new(
            Place::field("workers"),
            "no workers: list at least one node that is not the broker, the sink or a producer",
        ));
    }
    let jobs = jobs(&block, scenario)?;
    let plans = plans(&block, &jobs, scenario)?;
    let heartbeat_interval = block
        .heartbeat_interval
        .positive(Place::field("heartbeat_interval"))?;
    let heartbeat_timeout = block
        .heartbeat_timeout
        .positive(Place::field("heartbeat_timeout"))?;
    if block.reassign == Reassign::OnSuspicion && heartbeat_timeout <= heartbeat_interval {
        return Err(BlockError::new(
            Place::field("heartbeat_timeout"),
            format!("{heartbeat_timeout} is not longer than the heartbeat interval {heartbeat_interval}: every worker would be suspected between two heartbeats"),
        ));
    }
    Ok(WorkQueue {
        broker: block.broker,
        sink: block.sink,
        producers: block.producers.clone(),
        workers,
        mode: block.mode,
        idempotent: block.idempotent,
        dedupe: block.dedupe,
        key_order: block.key_order,
        reassign: block.reassign,
        visibility: block.visibility.positive(Place::field("visibility"))?,
        work: block.work.span(),
        retry: block.retry.positive(Place::field("retry"))?,
        heartbeat_interval,
        heartbeat_timeout,
        roles: Arc::new(roles),
        plans: Arc::new(plans),
        jobs: Arc::new(jobs),
    })
}

/// Each node's role; a node may have only one.
fn roles(block: &QueueBlock, node_count: u32) -> Result<Vec<Role>, BlockError> {
    let mut roles = vec![Role::Idle; node_count as usize];
    let mut assign = |place: Place, node: u32, role: Role| -> Result<(), BlockError> {
        let node = node_exists(place.clone(), node, node_count)?;
        let taken = roles[node as usize];
        if taken != Role::Idle {
            return Err(BlockError::new(
                place,
                format!(
                    "node {node} is already {}: a node has one role",
                    role_name(taken)
                ),
            ));
        }
        roles[node as usize] = role;
        Ok(())
    };
    assign(Place::field("broker"), block.broker, Role::Broker)?;
    assign(Place::field("sink"), block.sink, Role::Sink)?;
    if block.producers.is_empty() {
        return Err(BlockError::new(
            Place::field("producers"),
            "no producers: list at least one node",
        ));
    }
    for (index, &node) in block.producers.iter().enumerate() {
        assign(
            Place::field("producers").index(index),
            node,
            Role::Producer(index),
        )?;
    }
    match &block.workers {
        Some(workers) => {
            for (index, &node) in workers.iter().enumerate() {
                assign(Place::field("workers").index(index), node, Role::Worker)?;
            }
        }
        None => {
            for role in roles.iter_mut().filter(|role| **role == Role::Idle) {
                *role = Role::Worker;
            }
        }
    }
    Ok(roles)
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Broker => "the broker",
        Role::Sink => "the sink",
        Role::Producer(_) => "a producer",
        Role::Worker => "a worker",
        Role::Idle => "idle",
    }
}

fn jobs(block: &QueueBlock, scenario: &ScenarioFacts<'_>) -> Result<Vec<JobSpec>, BlockError> {
    let mut jobs = Vec::new();
    for (index, job) in block.jobs.iter().enumerate() {
        let place = Place::field("jobs").index(index);
        if !(1..=10_000).contains(&job.tasks) {
            return Err(BlockError::new(
                place.then("tasks"),
                format!("{} tasks: a job has 1 to 10000", job.tasks),
            ));
        }
        let producer = job.producer.unwrap_or(block.producers[0]);
        if !block.producers.contains(&producer) {
            return Err(BlockError::new(
                place.then("producer"),
                format!(
                    "node {producer} is not one of the producers {:?}",
                    block.producers
                ),
            ));
        }
        before_end(place.then("at"), job.at, scenario)?;
        jobs.push(JobSpec {
            producer,
            at: job.at.span(),
            tasks: job.tasks,
        });
    }
    Ok(jobs)
}

fn before_end(
    place: Place,
    at: HumanDuration,
    scenario: &ScenarioFacts<'_>,
) -> Result<(), BlockError> {
    if at.span() >= scenario.duration {
        return Err(BlockError::new(
            place,
            format!(
                "{} is not before the end of the run ({})",
                at.span(),
                scenario.duration
            ),
        ));
    }
    Ok(())
}

/// Each producer's plan: its messages and its jobs' tasks, in time order.
fn plans(
    block: &QueueBlock,
    jobs: &[JobSpec],
    scenario: &ScenarioFacts<'_>,
) -> Result<Vec<Vec<PlanItem>>, BlockError> {
    let mut plans = vec![Vec::new(); block.producers.len()];
    let index_of = |node: u32| block.producers.iter().position(|&p| p == node);
    if let Some(rate_block) = &block.rate {
        let items = rate(rate_block, scenario)?;
        for plan in &mut plans {
            plan.clone_from(&items);
        }
    }
    for (index, publish) in block.schedule.iter().enumerate() {
        let place = Place::field("schedule").index(index);
        let Some(producer) = index_of(publish.producer) else {
            return Err(BlockError::new(
                place.then("producer"),
                format!(
                    "node {} is not one of the producers {:?}",
                    publish.producer, block.producers
                ),
            ));
        };
        before_end(place.then("at"), publish.at, scenario)?;
        plans[producer].push(planned(publish.at.span(), Some(publish.key), None, None));
    }
    for (number, job) in jobs.iter().enumerate() {
        let producer = index_of(job.producer).expect("job producers are validated");
        for task in 0..job.tasks {
            plans[producer].push(planned(job.at, None, Some(number as u32), Some(task)));
        }
    }
    let total: u64 = plans.iter().map(|plan| plan.len() as u64).sum();
    if total > PLANNED_MAX {
        return Err(BlockError::new(
            Place::root(),
            format!("{total} messages planned (rate, schedule and jobs): at most {PLANNED_MAX}"),
        ));
    }
    for plan in &mut plans {
        // Stable: same-time items keep their order (a job's tasks in turn).
        plan.sort_by_key(|item| item.at);
    }
    Ok(plans)
}

fn planned(at: SimDuration, key: Option<u64>, job: Option<u32>, task: Option<u32>) -> PlanItem {
    PlanItem {
        at: LocalTime::from_nanos(at.as_nanos()),
        key,
        job,
        task,
    }
}

fn rate(block: &RateBlock, scenario: &ScenarioFacts<'_>) -> Result<Vec<PlanItem>, BlockError> {
    let place = Place::field("rate");
    let every = block.every.positive(place.clone().then("every"))?;
    let (count, keys) = (block.count, block.keys);
    if !(1..=1_000_000).contains(&keys) {
        return Err(BlockError::new(
            place.then("keys"),
            format!("{keys} keys: expected 1 to 1000000"),
        ));
    }
    if u64::from(count) > PLANNED_MAX {
        return Err(BlockError::new(
            place.then("count"),
            format!("{count} messages: at most {PLANNED_MAX}"),
        ));
    }
    let start = block.start.map_or(SimDuration::ZERO, HumanDuration::span);
    let last = SimDuration::from_nanos(
        start.as_nanos().saturating_add(
            every
                .as_nanos()
                .saturating_mul(u64::from(count.saturating_sub(1))),
        ),
    );
    if count > 0 && last >= scenario.duration {
        return Err(BlockError::new(
            place.then("count"),
            format!("{count} messages every {every} from {start} go on until {last}, past the end of the run ({})", scenario.duration),
        ));
    }
    Ok((0..u64::from(count))
        .map(|i| {
            let at = SimDuration::from_nanos(start.as_nanos() + every.as_nanos() * i);
            planned(at, Some(i % keys), None, None)
        })
        .collect())
}
