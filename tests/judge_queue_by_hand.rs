//! The work queue's judge on hand-built observation sequences, each written
//! from the definitions in docs/protocols.md (and the check's header): what
//! `NoLoss` says of each way a message is lost, `ExactlyOnceEffect`'s account
//! of why each delivery happened, `KeyOrder`'s pair of messages, `Drains`'
//! deadlines for entries and jobs and what it leaves unjudged, double work by
//! cause, coverage and the metrics a sweep aggregates. `tests/judge_queue.rs`
//! judges whole runs from their trace; this file pins what a user reads on
//! sequences small enough to count by hand. Milliseconds throughout; node 0
//! is the broker, 1 the sink, 2 the producer, 3 and 4 workers.

mod feed;

use faultline::check::{CheckReport, Verdict};
use faultline::harness::{HumanDuration, Judge};
use faultline::node::NodeId;
use faultline::protocols::workqueue::{
    BrokerLog, Entry, Item, JobSpec, KeyOrdering, Mode, QueueCheck, QueueDurable, QueueJudge,
    QueueObservation, Reason, Reassign, Role, WorkQueue,
};
use faultline::sim::{LocalTime, SimDuration, SimTime, TraceEvent};
use feed::{ms, setup, violations, Feed};
use std::sync::Arc;
use std::time::Duration;

const BROKER: NodeId = 0;
const SINK: NodeId = 1;
const PRODUCER: NodeId = 2;
const W3: NodeId = 3;
const W4: NodeId = 4;

type Q = Feed<QueueJudge>;

fn queue(job_tasks: &[u32]) -> WorkQueue {
    WorkQueue {
        broker: BROKER,
        sink: SINK,
        producers: vec![PRODUCER],
        workers: vec![W3, W4],
        mode: Mode::AtLeastOnce,
        idempotent: false,
        dedupe: true,
        key_order: KeyOrdering::Any,
        reassign: Reassign::OnTimeout,
        visibility: SimDuration::from_millis(100),
        work: SimDuration::from_millis(10),
        retry: SimDuration::from_millis(50),
        heartbeat_interval: SimDuration::from_millis(100),
        heartbeat_timeout: SimDuration::from_millis(300),
        roles: Arc::new(vec![
            Role::Broker,
            Role::Sink,
            Role::Producer(0),
            Role::Worker,
            Role::Worker,
        ]),
        plans: Arc::new(vec![Vec::new()]),
        jobs: Arc::new(
            job_tasks
                .iter()
                .map(|&tasks| JobSpec {
                    producer: PRODUCER,
                    at: SimDuration::ZERO,
                    tasks,
                })
                .collect(),
        ),
    }
}

fn all_checks() -> Vec<QueueCheck> {
    vec![
        QueueCheck::NoLoss,
        QueueCheck::ExactlyOnceEffect,
        QueueCheck::KeyOrder,
        QueueCheck::Drains(HumanDuration(Duration::from_millis(100))),
    ]
}

/// A judge of every check (Drains within 100 ms) whose last fault ended at
/// `faults_end` ms, with jobs of these task counts.
fn judge(faults_end: u64, job_tasks: &[u32]) -> Q {
    let absent = [false; 5];
    let setup = setup(5, 10_000, &[], faults_end, 10, &absent);
    Feed::new(QueueJudge::new(&queue(job_tasks), &all_checks(), &setup), 5)
}

/// Delivery `n` of the broker's incarnation `incarnation` (shown `i.n`).
fn delivery(incarnation: u64, n: u64) -> u64 {
    (incarnation << 32) | n
}

fn item(seq: u64, key: Option<u64>, job: Option<u32>) -> Item {
    Item {
        producer: PRODUCER,
        seq,
        key,
        job,
        task: job.map(|_| seq as u32),
    }
}

fn observe(f: &mut Q, t: u64, node: NodeId, observation: QueueObservation) {
    f.observe::<WorkQueue>(t, node, &observation);
}

/// The producer publishes, the broker appends at `offset` and acknowledges.
fn publish(f: &mut Q, t: u64, item: Item, offset: u64) {
    let publish = QueueObservation::Publish {
        seq: item.seq,
        key: item.key,
        job: item.job,
        task: item.task,
    };
    observe(f, t, PRODUCER, publish);
    observe(
        f,
        t + 1,
        BROKER,
        QueueObservation::Appended { item, offset },
    );
    let acked = QueueObservation::PublishAcked {
        producer: PRODUCER,
        seq: item.seq,
        duplicate: false,
    };
    observe(f, t + 2, BROKER, acked);
}

fn deliver(f: &mut Q, t: u64, item: Item, offset: u64, worker: NodeId, id: u64, reason: Reason) {
    let delivered = QueueObservation::Delivered {
        producer: PRODUCER,
        seq: item.seq,
        offset,
        worker,
        delivery: id,
        reason,
        expires: LocalTime::from_nanos(0),
    };
    observe(f, t, BROKER, delivered);
}

fn received(f: &mut Q, t: u64, item: Item, worker: NodeId, id: u64) {
    let received = QueueObservation::Received {
        producer: PRODUCER,
        seq: item.seq,
        delivery: id,
    };
    observe(f, t, worker, received);
}

fn processed(f: &mut Q, t: u64, item: Item, worker: NodeId, id: u64) {
    let processed = QueueObservation::Processed {
        producer: PRODUCER,
        seq: item.seq,
        delivery: id,
    };
    observe(f, t, worker, processed);
}

fn effect(f: &mut Q, t: u64, item: Item, worker: NodeId, id: u64, applied: bool) {
    let effect = QueueObservation::Effect {
        item,
        worker,
        delivery: id,
        applied,
    };
    observe(f, t, SINK, effect);
}

fn consumed(f: &mut Q, t: u64, item: Item, offset: u64, worker: NodeId, id: u64) {
    let consumed = QueueObservation::Consumed {
        producer: PRODUCER,
        seq: item.seq,
        offset,
        worker,
        delivery: id,
    };
    observe(f, t, BROKER, consumed);
}

/// Delivered at `t`, received, processed and applied, then consumed.
fn work(f: &mut Q, t: u64, item: Item, offset: u64, worker: NodeId, id: u64, reason: Reason) {
    deliver(f, t, item, offset, worker, id, reason);
    received(f, t + 1, item, worker, id);
    processed(f, t + 2, item, worker, id);
    effect(f, t + 3, item, worker, id, true);
    consumed(f, t + 4, item, offset, worker, id);
}

fn persist_log(f: &mut Q, t: u64, entries: &[(u64, Item)]) {
    let log = BrokerLog {
        entries: entries
            .iter()
            .map(|&(offset, item)| Entry { offset, item })
            .collect(),
        ..BrokerLog::default()
    };
    let durable = QueueDurable::Broker(log);
    f.at::<WorkQueue>(
        t,
        TraceEvent::Persist {
            node: BROKER,
            durable: &durable,
        },
    );
}

fn crash(f: &mut Q, t: u64, node: NodeId) {
    f.at::<WorkQueue>(t, TraceEvent::Crash { node });
}

fn millis(t: SimTime) -> u64 {
    t.as_nanos() / 1_000_000
}

// NoLoss.

/// Four messages lost four ways and one applied: m2.1 (key 5) acknowledged
/// by worker 3 before any effect, which then crashes holding it; m2.2 (job
/// 0) appended but not in the broker's last persist when it crashes; m2.3
/// acknowledged but never appended; m2.4 appended after the restart,
/// delivered once, still in the queue at the end; m2.5 applied.
fn four_losses(f: &mut Q) {
    let (m1, m2, m4, m5) = (
        item(1, Some(5), None),
        item(2, None, Some(0)),
        item(4, None, None),
        item(5, Some(5), None),
    );
    publish(f, 10, m1, 0);
    deliver(f, 20, m1, 0, W3, delivery(1, 1), Reason::First);
    received(f, 22, m1, W3, delivery(1, 1));
    consumed(f, 25, m1, 0, W3, delivery(1, 1));
    crash(f, 30, W3);
    persist_log(f, 35, &[]);
    publish(f, 40, m2, 1);
    crash(f, 50, BROKER);
    observe(
        f,
        60,
        PRODUCER,
        QueueObservation::Publish {
            seq: 3,
            key: None,
            job: None,
            task: None,
        },
    );
    let acked = QueueObservation::PublishAcked {
        producer: PRODUCER,
        seq: 3,
        duplicate: false,
    };
    observe(f, 61, BROKER, acked);
    publish(f, 70, m4, 2);
    deliver(f, 80, m4, 2, W4, delivery(2, 1), Reason::First);
    publish(f, 90, m5, 3);
    work(f, 100, m5, 3, W4, delivery(2, 2), Reason::First);
}

#[test]
fn no_loss_names_how_each_acknowledged_message_was_lost() {
    let mut f = judge(0, &[1]);
    four_losses(&mut f);
    let report = f.report(1_000, "NoLoss");
    assert_eq!(report.verdict, Verdict::Fail);
    let head = |name: &str, acked: &str| {
        format!("{name} acknowledged to producer 2 at {acked} was never applied at the sink")
    };
    assert_eq!(
        violations(&report),
        [
            (
                25,
                vec![W3, BROKER],
                format!(
                    "{}: the broker removed it from its log at 0.025s on an acknowledgement \
                     worker 3 sent before any effect (delivery 1.1 at 0.020s, its first \
                     delivery), and worker 3 crashed at 0.030s still holding it",
                    head("message 2.1 (key 5)", "0.012s")
                )
            ),
            (
                50,
                vec![BROKER],
                format!(
                    "{}: the broker crashed at 0.050s before writing it to its log (appended \
                     at 0.041s), and restarted without it",
                    head("message 2.2 (job 0)", "0.042s")
                )
            ),
            (
                1_000,
                vec![BROKER],
                format!(
                    "{}: the broker never appended it",
                    head("message 2.3", "0.061s")
                )
            ),
            (
                1_000,
                vec![BROKER],
                format!(
                    "{}: still in the queue at the end of the run (1.000s), delivered 1 \
                     time(s): allow more time after the last fault (0.000s)",
                    head("message 2.4", "0.072s")
                )
            ),
        ]
    );
    assert!(report
        .detail
        .starts_with("5 publishes acknowledged, 1 with an effect; VIOLATION"));
    let lost: Vec<(String, u64)> = f
        .judge
        .lost(ms(1_000))
        .into_iter()
        .map(|(id, t)| (id.to_string(), millis(t)))
        .collect();
    assert_eq!(
        lost,
        [
            ("2.1".to_string(), 25),
            ("2.2".to_string(), 50),
            ("2.3".to_string(), 1_000),
            ("2.4".to_string(), 1_000)
        ]
    );
    let metrics = f.judge.metrics(ms(1_000));
    assert_eq!(metrics["messages"], 5.0);
    assert_eq!(metrics["messages_lost"], 4.0);
    // What the queue chart draws: each message's life, each log entry's
    // (m2.2's forgotten by the broker's crash), each worker's holds.
    let messages: Vec<(String, Option<u64>, Option<u64>, usize)> = f
        .judge
        .messages()
        .iter()
        .map(|m| {
            (
                m.id.to_string(),
                m.publish_acked.map(millis),
                m.position,
                m.effects.len(),
            )
        })
        .collect();
    assert_eq!(
        messages,
        [
            ("2.1".to_string(), Some(12), Some(0), 0),
            ("2.2".to_string(), Some(42), Some(1), 0),
            ("2.3".to_string(), Some(61), None, 0),
            ("2.4".to_string(), Some(72), Some(2), 0),
            ("2.5".to_string(), Some(92), Some(3), 1),
        ]
    );
    let entries: Vec<(String, u64, u64, Option<u64>, bool)> = f
        .judge
        .entries()
        .iter()
        .map(|e| {
            (
                e.id.to_string(),
                e.offset,
                millis(e.appended),
                e.left.map(millis),
                e.forgotten,
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("2.1".to_string(), 0, 11, Some(25), false),
            ("2.2".to_string(), 1, 41, Some(50), true),
            ("2.4".to_string(), 2, 71, None, false),
            ("2.5".to_string(), 3, 91, Some(104), false),
        ]
    );
    let holds: Vec<(NodeId, String, u64, Option<u64>, bool)> = f
        .judge
        .holds()
        .iter()
        .map(|h| {
            (
                h.worker,
                h.id.to_string(),
                millis(h.start),
                h.end.map(millis),
                h.crashed,
            )
        })
        .collect();
    assert_eq!(
        holds,
        [
            (W3, "2.1".to_string(), 22, Some(30), true),
            (W4, "2.5".to_string(), 101, None, false),
        ]
    );
    // Worker 3 crashed holding m2.1: the coverage says so, first and when.
    let coverage = f.judge.coverage();
    assert_eq!(coverage[1].name, "WorkerCrashedHolding");
    assert!(coverage[1].happened);
    assert_eq!(
        coverage[1].detail,
        "1 crash(es) of a worker holding a message, first worker 3 at 0.030s"
    );
}

#[test]
fn an_acknowledgement_before_the_effect_without_a_crash_is_named_without_one() {
    // Worker 3 crashes holding m2.2, restarts, then acknowledges m2.1 before
    // any effect: the crash came before the acknowledgement, so the loss
    // names no crash.
    let mut f = judge(0, &[]);
    let (m1, m2) = (item(1, None, None), item(2, None, None));
    publish(&mut f, 10, m2, 0);
    deliver(&mut f, 20, m2, 0, W3, delivery(1, 1), Reason::First);
    received(&mut f, 21, m2, W3, delivery(1, 1));
    crash(&mut f, 22, W3);
    f.at::<WorkQueue>(23, TraceEvent::Restart { node: W3 });
    publish(&mut f, 30, m1, 1);
    deliver(&mut f, 40, m1, 1, W3, delivery(1, 2), Reason::First);
    consumed(&mut f, 45, m1, 1, W3, delivery(1, 2));
    let report = f.report(1_000, "NoLoss");
    let messages: Vec<String> = violations(&report).into_iter().map(|v| v.2).collect();
    assert!(
        messages.contains(
            &"message 2.1 acknowledged to producer 2 at 0.032s was never applied at the sink: \
              the broker removed it from its log at 0.045s on an acknowledgement worker 3 sent \
              before any effect (delivery 1.2 at 0.040s, its first delivery)"
                .to_string()
        ),
        "{messages:#?}"
    );
}

#[test]
fn a_message_applied_is_not_lost_and_nothing_lost_passes() {
    let mut f = judge(0, &[]);
    let m1 = item(1, None, None);
    publish(&mut f, 10, m1, 0);
    work(&mut f, 20, m1, 0, W3, delivery(1, 1), Reason::First);
    let report = f.report(1_000, "NoLoss");
    assert_eq!(report.verdict, Verdict::Pass);
    assert_eq!(report.detail, "1 publishes acknowledged, 1 with an effect");
    assert!(f.judge.lost(ms(1_000)).is_empty());
    assert_eq!(f.judge.metrics(ms(1_000))["messages_lost"], 0.0);
    let coverage = f.judge.coverage();
    assert!(!coverage[0].happened && !coverage[1].happened);
    assert_eq!(coverage[0].detail, "0 redelivery(ies)");
    assert_eq!(coverage[1].detail, "no worker crashed holding a message");
}

// ExactlyOnceEffect and double work.

/// m2.1 applied under its first delivery (1.1) and again under a timeout's
/// (1.2); m2.2 under 1.3 and a suspicion's (1.4); m2.3 under 1.5 and, after
/// a broker restart, under the recovery's 2.1; m2.4 appended twice, applied
/// under each entry's first delivery (1.6, then 2.2 of the second entry);
/// m2.5 applied under 1.7 and refused by an idempotent sink under 1.8; m2.6
/// applied under 1.9 and under a delivery the broker never made (7.7), with
/// no execution for it.
fn applied_twice(f: &mut Q) {
    let m: Vec<Item> = (1..=6).map(|seq| item(seq, None, None)).collect();
    publish(f, 10, m[0], 0);
    work(f, 20, m[0], 0, W3, delivery(1, 1), Reason::First);
    let returned = QueueObservation::Returned {
        producer: PRODUCER,
        seq: 1,
        offset: 0,
        worker: W3,
        delivery: delivery(1, 1),
        reason: Reason::Timeout,
    };
    observe(f, 29, BROKER, returned);
    work(f, 30, m[0], 0, W4, delivery(1, 2), Reason::Timeout);
    publish(f, 40, m[1], 1);
    work(f, 50, m[1], 1, W3, delivery(1, 3), Reason::First);
    work(f, 60, m[1], 1, W4, delivery(1, 4), Reason::Suspicion);
    publish(f, 70, m[2], 2);
    work(f, 80, m[2], 2, W3, delivery(1, 5), Reason::First);
    publish(f, 90, m[3], 3);
    work(f, 100, m[3], 3, W4, delivery(1, 6), Reason::First);
    publish(f, 110, m[4], 4);
    work(f, 120, m[4], 4, W3, delivery(1, 7), Reason::First);
    deliver(f, 130, m[4], 4, W4, delivery(1, 8), Reason::Timeout);
    effect(f, 133, m[4], W4, delivery(1, 8), false);
    publish(f, 140, m[5], 5);
    work(f, 150, m[5], 5, W3, delivery(1, 9), Reason::First);
    crash(f, 160, BROKER);
    f.at::<WorkQueue>(170, TraceEvent::Restart { node: BROKER });
    // The restarted broker holds back for 5 ms (true time 175 ms).
    let until = LocalTime::from_nanos(175_000_000);
    let recovered = QueueObservation::Recovered { entries: 1, until };
    f.observe_with::<WorkQueue>(171, BROKER, None, Some(ms(175)), &recovered);
    let nothing = QueueObservation::Recovered { entries: 0, until };
    f.observe_with::<WorkQueue>(172, BROKER, None, Some(ms(176)), &nothing);
    work(f, 180, m[2], 2, W4, delivery(2, 1), Reason::Recovery);
    observe(
        f,
        190,
        BROKER,
        QueueObservation::Appended {
            item: m[3],
            offset: 9,
        },
    );
    work(f, 200, m[3], 9, W3, delivery(2, 2), Reason::First);
    effect(f, 211, m[5], W4, delivery(7, 7), true);
}

#[test]
fn exactly_once_says_why_each_of_the_two_deliveries_happened() {
    let mut f = judge(0, &[]);
    applied_twice(&mut f);
    let report = f.report(1_000, "ExactlyOnceEffect");
    assert_eq!(report.verdict, Verdict::Fail);
    let twice = |name: &str, first: (&str, NodeId, &str), again: (&str, NodeId, &str)| {
        format!(
            "{name} applied twice: at {} from worker {} ({}) and again at {} from worker {} ({})",
            first.0, first.1, first.2, again.0, again.1, again.2
        )
    };
    let first = |d: &str, at: &str| format!("delivery {d} at {at}, its first delivery");
    assert_eq!(
        violations(&report),
        [
            (
                33,
                vec![W4, W3],
                twice(
                    "message 2.1",
                    ("0.023s", W3, &first("1.1", "0.020s")),
                    (
                        "0.033s",
                        W4,
                        "delivery 1.2 at 0.030s, redelivered when the lease ran out"
                    )
                )
            ),
            (
                63,
                vec![W4, W3],
                twice(
                    "message 2.2",
                    ("0.053s", W3, &first("1.3", "0.050s")),
                    (
                        "0.063s",
                        W4,
                        "delivery 1.4 at 0.060s, reassigned when the broker suspected the \
                         worker holding it"
                    )
                )
            ),
            (
                183,
                vec![W4, W3],
                twice(
                    "message 2.3",
                    ("0.083s", W3, &first("1.5", "0.080s")),
                    (
                        "0.183s",
                        W4,
                        "delivery 2.1 at 0.180s, redelivered after a broker restart"
                    )
                )
            ),
            (
                203,
                vec![W3, W4],
                twice(
                    "message 2.4",
                    ("0.103s", W4, &first("1.6", "0.100s")),
                    (
                        "0.203s",
                        W3,
                        "delivery 2.2 at 0.200s, the first delivery of a second log entry: \
                         the publish was appended twice"
                    )
                )
            ),
            (
                211,
                vec![W4, W3],
                twice(
                    "message 2.6",
                    ("0.153s", W3, &first("1.9", "0.150s")),
                    ("0.211s", W4, "delivery 7.7, never made by the broker")
                )
            ),
        ]
    );
    // 11 effects applied (the idempotent refusal is none) for 6 messages;
    // 10 executions (neither m2.5's second delivery nor the one never made
    // was processed), 4 of them a second: one each of timeout, suspicion,
    // the broker's recovery and a duplicate publish.
    assert!(
        report.detail.starts_with(
            "11 effects applied for 6 messages; 10 executions, 4 of them double work \
             (1 timeout, 1 suspicion, 1 redelivery, 1 duplicate publish); VIOLATION"
        ),
        "{}",
        report.detail
    );
    assert_eq!(f.judge.double_work(), [1, 1, 1, 1]);
    let metrics = f.judge.metrics(ms(1_000));
    assert_eq!(metrics["double_work"], 4.0);
    assert_eq!(metrics["double_work_timeout"], 1.0);
    assert_eq!(metrics["double_work_suspicion"], 1.0);
    assert_eq!(metrics["double_work_redelivery"], 1.0);
    assert_eq!(metrics["double_work_duplicate_publish"], 1.0);
    assert_eq!(metrics["effects_duplicated"], 5.0);
    // Redeliveries: 1.2, 1.4, 1.8 and 2.1 (and 2.2, a delivery of m2.4 after 1.6).
    assert_eq!(metrics["redeliveries"], 5.0);
    let coverage = f.judge.coverage();
    assert!(coverage[0].happened);
    assert_eq!(coverage[0].detail, "5 redelivery(ies)");
    // What the chart draws of it: the lease given back, the redelivery, the
    // broker's recovery (a restart that brought nothing back is none).
    let m1 = item(1, None, None).id();
    assert_eq!(f.judge.returns_of(m1).map(millis).collect::<Vec<_>>(), [29]);
    assert_eq!(
        f.judge.redeliveries_of(m1).map(millis).collect::<Vec<_>>(),
        [30]
    );
    let redelivery = f.judge.delivery(delivery(1, 2)).expect("delivery 1.2");
    assert_eq!(
        (redelivery.worker, redelivery.reason, redelivery.again),
        (W4, Reason::Timeout, true)
    );
    let appended_twice = f.judge.delivery(delivery(2, 2)).expect("delivery 2.2");
    assert!(!appended_twice.first_entry && appended_twice.again);
    assert!(f.judge.delivery(delivery(7, 7)).is_none());
    let recoveries: Vec<(u64, u64)> = f
        .judge
        .recoveries
        .iter()
        .map(|&(a, b)| (millis(a), millis(b)))
        .collect();
    assert_eq!(recoveries, [(171, 175)]);
}

#[test]
fn one_execution_each_is_no_double_work() {
    let mut f = judge(0, &[]);
    let m1 = item(1, None, None);
    publish(&mut f, 10, m1, 0);
    work(&mut f, 20, m1, 0, W3, delivery(1, 1), Reason::First);
    let once = f.report(1_000, "ExactlyOnceEffect");
    assert_eq!(once.verdict, Verdict::Pass);
    assert_eq!(
        once.detail,
        "1 effects applied for 1 messages; 1 executions, 0 of them double work"
    );
    assert_eq!(f.judge.double_work(), [0, 0, 0, 0]);
    // Executed again after its lease ran out: only the causes that happened
    // are named.
    work(&mut f, 200, m1, 0, W4, delivery(1, 2), Reason::Timeout);
    let twice = f.report(1_000, "ExactlyOnceEffect");
    assert!(
        twice.detail.starts_with(
            "2 effects applied for 1 messages; 2 executions, 1 of them double work \
             (1 timeout); VIOLATION"
        ),
        "{}",
        twice.detail
    );
}

// KeyOrder.

#[test]
fn key_order_names_the_message_applied_after_a_later_one() {
    // Key 7: m2.1 appended first, m2.2 second; the sink applies m2.2 at
    // 0.033s, then m2.1 at 0.053s. Key 8 in order. The chart gets m2.1's
    // effect.
    let mut f = judge(0, &[]);
    let (m1, m2, m3) = (
        item(1, Some(7), None),
        item(2, Some(7), None),
        item(3, Some(8), None),
    );
    publish(&mut f, 10, m1, 0);
    publish(&mut f, 15, m2, 1);
    work(&mut f, 30, m2, 1, W3, delivery(1, 1), Reason::First);
    work(&mut f, 50, m1, 0, W4, delivery(1, 2), Reason::First);
    publish(&mut f, 60, m3, 2);
    work(&mut f, 70, m3, 2, W4, delivery(1, 3), Reason::First);
    let report = f.report(1_000, "KeyOrder");
    assert_eq!(
        violations(&report),
        [(
            53,
            vec![SINK, W4],
            "key 7: message 2.1 (log position 0) applied at 0.053s after message 2.2 (log \
             position 1, appended later) was applied at 0.033s"
                .to_string()
        )]
    );
    assert!(report.detail.starts_with("2 keys applied; VIOLATION"));
    assert_eq!(f.judge.out_of_order.len(), 1);
    assert_eq!(f.judge.out_of_order[0].0.to_string(), "2.1");
    assert_eq!(millis(f.judge.out_of_order[0].1.time), 53);
    // A message of key 7 appended after both and applied last is in order.
    let m4 = item(4, Some(7), None);
    publish(&mut f, 80, m4, 3);
    work(&mut f, 90, m4, 3, W3, delivery(1, 4), Reason::First);
    let report = report_again(&mut f);
    assert_eq!(report.violations.len(), 1);
}

fn report_again(f: &mut Q) -> CheckReport {
    f.report(1_000, "KeyOrder")
}

#[test]
fn key_order_in_log_order_passes() {
    let mut f = judge(0, &[]);
    let (m1, m2) = (item(1, Some(7), None), item(2, Some(7), None));
    publish(&mut f, 10, m1, 0);
    publish(&mut f, 15, m2, 1);
    work(&mut f, 30, m1, 0, W3, delivery(1, 1), Reason::First);
    work(&mut f, 50, m2, 1, W4, delivery(1, 2), Reason::First);
    let report = f.report(1_000, "KeyOrder");
    assert_eq!(report.verdict, Verdict::Pass);
    assert_eq!(report.detail, "1 keys applied");
}

// Drains.

#[test]
fn drains_judges_each_entry_from_its_append_or_the_last_fault() {
    // The last fault ends at 200 ms, the bound is 100 ms. m2.1, appended at
    // 11 ms, must leave by 300 ms: it does at 300 ms. m2.2, appended at
    // 21 ms, leaves at 301 ms: late, counted from the last fault. m2.3,
    // appended at 251 ms, must leave by 351 ms and never does: late,
    // counted from its append. m2.4, appended at 951 ms, has its deadline
    // past the end (1000 ms): not judged.
    let mut f = judge(200, &[]);
    let m: Vec<Item> = (1..=4).map(|seq| item(seq, None, None)).collect();
    publish(&mut f, 10, m[0], 0);
    publish(&mut f, 20, m[1], 1);
    publish(&mut f, 250, m[2], 2);
    consumed(&mut f, 300, m[0], 0, W3, delivery(1, 1));
    consumed(&mut f, 301, m[1], 1, W3, delivery(1, 2));
    publish(&mut f, 950, m[3], 3);
    let report = f.report(1_000, "Drains");
    assert_eq!(
        violations(&report),
        [
            (
                300,
                vec![BROKER],
                "message 2.2 (appended at 0.021s) was still in the queue at 0.300s, 100ms \
                 after the last fault"
                    .to_string()
            ),
            (
                351,
                vec![BROKER],
                "message 2.3 (appended at 0.251s) was still in the queue at 0.351s, 100ms \
                 after it was appended"
                    .to_string()
            ),
        ]
    );
    assert!(
        report.detail.starts_with(
            "4 log entries, 0 jobs; last fault over at 0.200s; 1 deadline(s) past the end of \
             the run, not judged; VIOLATION"
        ),
        "{}",
        report.detail
    );
    // The queue's depth: up to three entries, then two, one, and two again.
    let depth: Vec<(u64, u64)> = f.judge.depth.iter().map(|&(t, d)| (millis(t), d)).collect();
    assert_eq!(
        depth,
        [(11, 1), (21, 2), (251, 3), (300, 2), (301, 1), (951, 2)]
    );
}

#[test]
fn an_entry_past_the_end_that_left_in_time_is_not_counted_unjudged() {
    // Deadline 1050 ms, past the end at 1000 ms; it left at 960 ms.
    let mut f = judge(0, &[]);
    let m1 = item(1, None, None);
    publish(&mut f, 950, m1, 0);
    consumed(&mut f, 960, m1, 0, W3, delivery(1, 1));
    let report = f.report(1_000, "Drains");
    assert_eq!(report.verdict, Verdict::Pass);
    assert_eq!(
        report.detail,
        "1 log entries, 0 jobs; last fault over at 0.000s"
    );
}

#[test]
fn drains_judges_each_job_from_its_first_publish() {
    // Job 0's two tasks are published at 10 and 20 ms: due by 110 ms. One
    // is applied at 33 ms, the other at 113 ms: late, 1 of 2 applied at the
    // deadline. Job 1's single task, published at 500 ms, is applied at
    // 523 ms: in time. Job 2's, published at 950 ms, is due past the end and
    // never done: not judged.
    let mut f = judge(0, &[2, 1, 1]);
    let t0 = item(1, None, Some(0));
    let t1 = item(2, None, Some(0));
    let t2 = item(3, None, Some(1));
    let t3 = item(4, None, Some(2));
    publish(&mut f, 10, t0, 0);
    publish(&mut f, 20, t1, 1);
    work(&mut f, 30, t0, 0, W3, delivery(1, 1), Reason::First);
    work(&mut f, 110, t1, 1, W4, delivery(1, 2), Reason::First);
    publish(&mut f, 500, t2, 2);
    work(&mut f, 520, t2, 2, W3, delivery(1, 3), Reason::First);
    publish(&mut f, 950, t3, 3);
    let report = f.report(1_000, "Drains");
    assert_eq!(
        violations(&report),
        [(
            110,
            vec![BROKER],
            "job 0 (published at 0.010s) was not done at 0.110s: 1 of its 2 tasks applied"
                .to_string()
        )]
    );
    // The entry deadlines: t1 appended at 21 ms, consumed at 114 ms, in
    // time (121 ms); t3's entry is past the end, as is job 2: 2 unjudged.
    assert!(
        report.detail.starts_with(
            "4 log entries, 3 jobs; last fault over at 0.000s; 2 deadline(s) past the end of \
             the run, not judged; VIOLATION"
        ),
        "{}",
        report.detail
    );
    let times: Vec<Option<(u64, Option<u64>)>> = (0..3)
        .map(|job| {
            f.judge
                .job_times(job)
                .map(|(published, done)| (millis(published), done.map(millis)))
        })
        .collect();
    assert_eq!(
        times,
        [
            Some((10, Some(113))),
            Some((500, Some(523))),
            Some((950, None))
        ]
    );
    assert_eq!(f.judge.job_count(), 3);
    assert_eq!(
        (0..3).map(|job| f.judge.job_tasks(job)).collect::<Vec<_>>(),
        [2, 1, 1]
    );
    // The slowest finished job took 103 ms.
    assert_eq!(f.judge.metrics(ms(1_000))["job_time_max_s"], 0.103);
}

#[test]
fn a_job_done_at_its_deadline_is_in_time() {
    let mut f = judge(0, &[1]);
    let t0 = item(1, None, Some(0));
    publish(&mut f, 10, t0, 0);
    // Applied at 110 ms exactly (delivered at 107 ms).
    work(&mut f, 107, t0, 0, W3, delivery(1, 1), Reason::First);
    let report = f.report(1_000, "Drains");
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
}

// Suspicions.

#[test]
fn a_suspicion_of_a_worker_that_is_up_is_false() {
    let mut f = judge(0, &[]);
    observe(&mut f, 100, BROKER, QueueObservation::Suspect { peer: W3 });
    crash(&mut f, 150, W4);
    observe(&mut f, 200, BROKER, QueueObservation::Suspect { peer: W4 });
    observe(&mut f, 300, BROKER, QueueObservation::Trust { peer: W3 });
    let spans: Vec<(NodeId, u64, Option<u64>, bool)> = f
        .judge
        .suspicions()
        .iter()
        .map(|s| {
            (
                s.worker,
                millis(s.start),
                s.end.map(millis),
                s.false_suspicion,
            )
        })
        .collect();
    assert_eq!(spans, [(W3, 100, Some(300), true), (W4, 200, None, false)]);
    assert_eq!(f.judge.metrics(ms(1_000))["false_suspicions"], 1.0);
}

#[test]
fn a_drain_bound_of_zero_is_rejected() {
    let text = r#"Scenario(
    name: "queue",
    seed: 1,
    duration: "5s",
    nodes: 5,
    network: (latency: Constant("5ms")),
    protocol: Queue(broker: 0, sink: 1, producers: [2], workers: [3, 4], rate: (every: "50ms", count: 3)),
    checks: [NoLoss, Drains("0s")],
    expect: Pass,
)"#;
    let registry = faultline::protocols::registry();
    let error = match faultline::scenario::parse(text, "bad.ron", &registry) {
        Ok(_) => panic!("accepted Drains(\"0s\")"),
        Err(error) => error.to_string(),
    };
    assert!(
        error.starts_with("bad.ron:8:") && error.contains("checks[1]"),
        "{error}"
    );
}

#[test]
fn deadlines_at_the_end_of_the_run_are_judged() {
    // Drains within 100 ms, the run ends at 1000 ms. m2.1, appended at
    // 900 ms, is due at 1000 ms and never leaves: judged, late. Job 0's task
    // (m2.2), published at 900 ms, is due at 1000 ms: judged, not done; its
    // entry, appended at 901 ms, is due past the end: not judged. m2.3,
    // appended at 950 ms, leaves at 1000 ms: due past the end, but it left:
    // not counted as unjudged.
    let mut f = judge(0, &[1]);
    let (m1, task, m3) = (
        item(1, None, None),
        item(2, None, Some(0)),
        item(3, None, None),
    );
    // m2.1's publish (899, 900, 901 ms) and the task's (900, 901, 902 ms)
    // interleave.
    let publish_of = |item: Item| QueueObservation::Publish {
        seq: item.seq,
        key: item.key,
        job: item.job,
        task: item.task,
    };
    let acked = |seq| QueueObservation::PublishAcked {
        producer: PRODUCER,
        seq,
        duplicate: false,
    };
    observe(&mut f, 899, PRODUCER, publish_of(m1));
    observe(
        &mut f,
        900,
        BROKER,
        QueueObservation::Appended {
            item: m1,
            offset: 0,
        },
    );
    observe(&mut f, 900, PRODUCER, publish_of(task));
    observe(&mut f, 901, BROKER, acked(1));
    observe(
        &mut f,
        901,
        BROKER,
        QueueObservation::Appended {
            item: task,
            offset: 1,
        },
    );
    observe(&mut f, 902, BROKER, acked(2));
    publish(&mut f, 949, m3, 2);
    consumed(&mut f, 1_000, m3, 2, W3, delivery(1, 1));
    let report = f.report(1_000, "Drains");
    assert_eq!(
        violations(&report),
        [
            (
                1_000,
                vec![BROKER],
                "message 2.1 (appended at 0.900s) was still in the queue at 1.000s, 100ms \
                 after it was appended"
                    .to_string()
            ),
            (
                1_000,
                vec![BROKER],
                "job 0 (published at 0.900s) was not done at 1.000s: 0 of its 1 tasks applied"
                    .to_string()
            ),
        ]
    );
    assert!(
        report.detail.starts_with(
            "3 log entries, 1 jobs; last fault over at 0.000s; 1 deadline(s) past the end of \
             the run, not judged; VIOLATION"
        ),
        "{}",
        report.detail
    );
}

#[test]
fn the_depth_changes_once_per_instant() {
    // Two appends in the same instant, then a crash of the broker that
    // forgets both (its last persist held none) in another: one point each.
    let mut f = judge(0, &[]);
    let (m1, m2) = (item(1, None, None), item(2, None, None));
    persist_log(&mut f, 5, &[]);
    observe(
        &mut f,
        10,
        BROKER,
        QueueObservation::Appended {
            item: m1,
            offset: 0,
        },
    );
    observe(
        &mut f,
        10,
        BROKER,
        QueueObservation::Appended {
            item: m2,
            offset: 1,
        },
    );
    crash(&mut f, 20, BROKER);
    let depth: Vec<(u64, u64)> = f.judge.depth.iter().map(|&(t, d)| (millis(t), d)).collect();
    assert_eq!(depth, [(10, 2), (20, 0)]);
    assert!(f.judge.entries().iter().all(|e| e.forgotten));
}

#[test]
fn a_late_job_counts_the_tasks_applied_by_its_deadline_including_at_it() {
    // Three tasks published at 10, 11 and 12 ms: due at 110 ms. Applied at
    // 33 ms, at 110 ms exactly and at 153 ms: 2 of 3 by the deadline. (The
    // third task's entry, appended at 20 ms, is late too.)
    let mut f = judge(0, &[3]);
    let tasks: Vec<Item> = (1..=3).map(|seq| item(seq, None, Some(0))).collect();
    let publish_of = |item: Item| QueueObservation::Publish {
        seq: item.seq,
        key: item.key,
        job: item.job,
        task: item.task,
    };
    for (i, &task) in tasks.iter().enumerate() {
        observe(&mut f, 10 + i as u64, PRODUCER, publish_of(task));
    }
    for (i, &task) in tasks.iter().enumerate() {
        let appended = QueueObservation::Appended {
            item: task,
            offset: i as u64,
        };
        observe(&mut f, 20, BROKER, appended);
    }
    work(&mut f, 30, tasks[0], 0, W3, delivery(1, 1), Reason::First);
    work(&mut f, 107, tasks[1], 1, W4, delivery(1, 2), Reason::First);
    work(&mut f, 150, tasks[2], 2, W3, delivery(1, 3), Reason::First);
    let report = f.report(1_000, "Drains");
    assert_eq!(
        violations(&report),
        [
            (
                120,
                vec![BROKER],
                "message 2.3 (appended at 0.020s) was still in the queue at 0.120s, 100ms \
                 after it was appended"
                    .to_string()
            ),
            (
                110,
                vec![BROKER],
                "job 0 (published at 0.010s) was not done at 0.110s: 2 of its 3 tasks applied"
                    .to_string()
            )
        ]
    );
}

#[test]
fn a_broker_restart_keeps_what_it_persisted_and_forgets_the_rest() {
    // m2.1 is in the broker's last persist; m2.2, appended after it, is not.
    // The broker crashes: m2.1 stays in its log, m2.2 is gone. Neither is
    // ever applied: m2.1 is still queued at the end, m2.2 was forgotten.
    let mut f = judge(0, &[]);
    let (m1, m2) = (item(1, None, None), item(2, None, None));
    publish(&mut f, 10, m1, 0);
    persist_log(&mut f, 15, &[(0, m1)]);
    publish(&mut f, 20, m2, 1);
    // A persist by another node is not the broker's log.
    let sink_store = QueueDurable::Nothing;
    f.at::<WorkQueue>(
        25,
        TraceEvent::Persist {
            node: SINK,
            durable: &sink_store,
        },
    );
    crash(&mut f, 30, BROKER);
    let entries: Vec<(String, Option<u64>, bool)> = f
        .judge
        .entries()
        .iter()
        .map(|e| (e.id.to_string(), e.left.map(millis), e.forgotten))
        .collect();
    assert_eq!(
        entries,
        [
            ("2.1".to_string(), None, false),
            ("2.2".to_string(), Some(30), true)
        ]
    );
    let depth: Vec<(u64, u64)> = f.judge.depth.iter().map(|&(t, d)| (millis(t), d)).collect();
    assert_eq!(depth, [(11, 1), (21, 2), (30, 1)]);
    let report = f.report(1_000, "NoLoss");
    let messages: Vec<String> = violations(&report).into_iter().map(|v| v.2).collect();
    assert_eq!(
        messages,
        [
            "message 2.1 acknowledged to producer 2 at 0.012s was never applied at the sink: \
             still in the queue at the end of the run (1.000s), delivered 0 time(s): allow \
             more time after the last fault (0.000s)",
            "message 2.2 acknowledged to producer 2 at 0.022s was never applied at the sink: \
             the broker crashed at 0.030s before writing it to its log (appended at 0.021s), \
             and restarted without it",
        ]
    );
}
