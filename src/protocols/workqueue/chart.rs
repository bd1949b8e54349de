//! The `queue` chart, a figure of two panels on one time axis, zoomed in on
//! where the queue was busy, over the partitions:
//!
//! 1. the queue's depth (entries in the broker's log) over time, then one
//!    row per node: what each worker held and when (blue: a first
//!    delivery, orange: a redelivery, red: a delivery whose effect was
//!    applied twice or that was acknowledged and lost), orange ticks where
//!    a worker's lease was given back, crashes and pauses under the bars;
//!    the sink's effects (green, red when applied twice), the producers'
//!    publishes and the broker's losses and hold after a restart; the end
//!    of the last fault marked;
//! 2. a compact lifecycle strip per message: waiting in the queue (grey),
//!    out with a worker (blue), applied and waiting for the
//!    acknowledgement (green), lost (red), with redeliveries and duplicate
//!    effects ticked.
//!
//! The timeline gets lane names and the broker's suspicions of workers.

use super::check::{Hold, MessageLife, QueueJudge};
use super::{MessageId, Role, WorkQueue};
use crate::harness::RunSetup;
use crate::node::NodeId;
use crate::plot::{
    Chart, Figure, FigureRow, LegendColor, LegendEntry, Level, Panel, PeerSpan, SeriesColor, Strip,
    StripBar, StripsPanel, TimelineData,
};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeStatus;
use std::collections::{BTreeMap, BTreeSet};

/// Lifecycle rows drawn at most; the rest are sampled.
const MESSAGE_ROWS_MAX: usize = 60;

/// Lane names, and the broker's suspicions of workers as peer spans.
pub fn decorate_timeline(protocol: &WorkQueue, judge: &QueueJudge, timeline: &mut TimelineData) {
    timeline.lane_names = (0..timeline.node_count)
        .map(|n| lane_name(protocol, n))
        .collect();
    timeline.peer_spans = judge
        .suspicions()
        .iter()
        .map(|s| PeerSpan {
            node: protocol.broker,
            peer: s.worker,
            start: s.start,
            end: s.end,
            mistake: s.false_suspicion,
        })
        .collect();
    if !timeline.peer_spans.is_empty() {
        timeline.peer_verb = "suspects".to_string();
        timeline.legend = vec![
            LegendEntry::new(LegendColor::Explained, "broker suspects a crashed worker"),
            LegendEntry::new(LegendColor::Unsafe, "false suspicion: the worker was up"),
        ];
    }
}

fn lane_name(protocol: &WorkQueue, node: NodeId) -> String {
    match protocol.role(node) {
        Role::Broker => format!("broker {node}"),
        Role::Sink => format!("sink {node}"),
        Role::Producer(_) => format!("producer {node}"),
        Role::Worker => format!("worker {node}"),
        Role::Idle => format!("node {node}"),
    }
}

/// The `queue` chart.
pub fn queue_chart(
    protocol: &WorkQueue,
    judge: &QueueJudge,
    timeline: &TimelineData,
    setup: &RunSetup<'_>,
) -> (String, Chart) {
    let end = view_end(judge, timeline.end, setup.faults_end);
    let nodes = nodes_panel(protocol, judge, timeline, setup, end);
    let messages = messages_panel(judge, timeline, end);
    let height = |panel: &StripsPanel| {
        let rows: u32 = panel
            .rows
            .iter()
            .map(|row| row.level.as_ref().map_or(1, |level| level.rows))
            .sum();
        (rows, 110)
    };
    let (node_rows, node_extra) = height(&nodes);
    let (message_rows, message_extra) = height(&messages);
    let figure = Figure {
        title: format!("Work queue — {}", timeline.title),
        subtitle: timeline.subtitle.clone(),
        rows: vec![
            FigureRow {
                height: 24 * node_rows + node_extra,
                panels: vec![(0, Panel::Strips(nodes))],
            },
            FigureRow {
                height: 11 * message_rows + message_extra,
                panels: vec![(0, Panel::Strips(messages))],
            },
        ],
    };
    ("queue".to_string(), Chart::Figure(figure))
}

/// A little after the queue was last busy (and the last fault over), never
/// past the end of the run.
fn view_end(judge: &QueueJudge, end: SimTime, faults_end: SimTime) -> SimTime {
    let last_depth = judge.depth.last().map_or(SimTime::ZERO, |&(time, _)| time);
    let last_hold = judge
        .holds()
        .iter()
        .map(|hold| hold.end.unwrap_or(end))
        .max()
        .unwrap_or(SimTime::ZERO);
    let last_effect = judge
        .messages()
        .iter()
        .flat_map(|life| life.effects.last().map(|step| step.time))
        .max()
        .unwrap_or(SimTime::ZERO);
    let busy = last_depth.max(last_hold).max(last_effect).max(faults_end);
    let margin =
        SimDuration::from_nanos(busy.as_nanos() / 10).saturating_add(SimDuration::from_millis(20));
    busy.after(margin).min(end)
}

fn partition_bands(timeline: &TimelineData) -> Vec<(SimTime, SimTime, String)> {
    timeline
        .partitions
        .iter()
        .map(|p| {
            let groups: Vec<String> = p
                .groups
                .iter()
                .map(|g| {
                    let members: Vec<String> = g.iter().map(ToString::to_string).collect();
                    format!("{{{}}}", members.join(","))
                })
                .collect();
            (p.start, p.end, format!("partition {}", groups.join(" | ")))
        })
        .collect()
}

/// The queue's depth as a level row.
fn depth_row(judge: &QueueJudge) -> Strip {
    let steps: Vec<(SimTime, f64)> = judge
        .depth
        .iter()
        .map(|&(time, depth)| (time, depth as f64))
        .collect();
    let deepest = steps.iter().map(|&(_, depth)| depth).fold(1.0, f64::max);
    Strip {
        label: format!("queue depth (0–{deepest})"),
        level: Some(Level {
            steps,
            max: deepest,
            rows: 4,
        }),
        ..Strip::default()
    }
}

/// One row per job: from its publish until its last task's effect (green),
/// or red to the end of the run if it never got done.
fn job_rows(judge: &QueueJudge, end: SimTime) -> Vec<Strip> {
    (0..judge.job_count())
        .filter_map(|job| {
            let (published, done) = judge.job_times(job)?;
            let (stop, color, what) = match done {
                Some(done) => (
                    done,
                    SeriesColor::Good,
                    format!("done in {:.2}s", done.since(published).as_secs_f64()),
                ),
                None => (end, SeriesColor::Bad, "not done".to_string()),
            };
            Some(Strip {
                label: format!("job {job} ({} tasks)", judge.job_tasks(job)),
                flagged: done.is_none(),
                bars: vec![StripBar {
                    start: published,
                    end: stop,
                    color,
                    label: what,
                }],
                ..Strip::default()
            })
        })
        .collect()
}

/// When `node` was down, from the timeline's status spans.
fn down_spans(timeline: &TimelineData, node: NodeId) -> Vec<(SimTime, SimTime, NodeStatus)> {
    let crashed = timeline
        .crashed
        .iter()
        .filter(|span| span.node == node)
        .map(|span| (span.start, span.end, NodeStatus::Crashed));
    let paused = timeline
        .paused
        .iter()
        .filter(|span| span.node == node)
        .map(|span| (span.start, span.end, NodeStatus::Paused));
    crashed.chain(paused).collect()
}

fn nodes_panel(
    protocol: &WorkQueue,
    judge: &QueueJudge,
    timeline: &TimelineData,
    setup: &RunSetup<'_>,
    end: SimTime,
) -> StripsPanel {
    let troubled = troubled_deliveries(judge, timeline.end);
    let nodes = (0..timeline.node_count)
        .filter(|&node| protocol.role(node) != Role::Idle)
        .map(|node| {
            let mut strip = Strip {
                label: lane_name(protocol, node),
                down: down_spans(timeline, node),
                ..Strip::default()
            };
            match protocol.role(node) {
                Role::Broker => broker_row(&mut strip, judge, timeline.end),
                Role::Sink => sink_row(&mut strip, judge),
                Role::Producer(_) => producer_row(&mut strip, judge, node),
                Role::Worker => worker_row(&mut strip, judge, node, timeline.end, &troubled),
                Role::Idle => {}
            }
            strip
        });
    let rows = std::iter::once(depth_row(judge))
        .chain(job_rows(judge, timeline.end))
        .chain(nodes)
        .collect();
    StripsPanel {
        caption: "Queue depth, and who held what".to_string(),
        end,
        bands: partition_bands(timeline),
        rows,
        legend: vec![
            (SeriesColor::Plain, "held: first delivery".to_string()),
            (SeriesColor::Warning, "held: redelivery (tick: lease given back)".to_string()),
            (SeriesColor::Good, "effect applied".to_string()),
            (SeriesColor::Bad, "applied twice or out of key order, or lost".to_string()),
            (SeriesColor::Muted, "publish; broker's hold after a restart".to_string()),
        ],
        note: "Queue depth: entries in the broker's log not yet acknowledged. Black and orange lines under a row: the node was crashed or paused. Bars are labelled with the message id (producer.seq).".to_string(),
        marker: (setup.faults_end > SimTime::ZERO)
            .then(|| (setup.faults_end, "last fault over".to_string())),
    }
}

/// Deliveries whose effect was applied twice or that lost their message.
fn troubled_deliveries(judge: &QueueJudge, end: SimTime) -> BTreeSet<u64> {
    let lost: BTreeSet<MessageId> = judge.lost(end).into_iter().map(|(id, _)| id).collect();
    let mut troubled = BTreeSet::new();
    troubled.extend(judge.out_of_order.iter().map(|(_, step)| step.delivery));
    for life in judge.messages() {
        troubled.extend(life.effects.iter().skip(1).map(|step| step.delivery));
        if lost.contains(&life.id) {
            troubled.extend(life.consumed.map(|step| step.delivery));
        }
    }
    troubled
}

fn broker_row(strip: &mut Strip, judge: &QueueJudge, end: SimTime) {
    strip.bars = judge
        .recoveries
        .iter()
        .map(|&(start, until)| StripBar {
            start,
            end: until,
            color: SeriesColor::Muted,
            label: "hold".to_string(),
        })
        .collect();
    let lost = judge.lost(end);
    strip.flagged = !lost.is_empty();
    strip.ticks = lost
        .into_iter()
        .map(|(_, time)| (time, SeriesColor::Bad))
        .collect();
}

fn sink_row(strip: &mut Strip, judge: &QueueJudge) {
    for life in judge.messages() {
        for (index, step) in life.effects.iter().enumerate() {
            let color = if index == 0 {
                SeriesColor::Good
            } else {
                SeriesColor::Bad
            };
            strip.ticks.push((step.time, color));
        }
        strip.flagged |= life.effects.len() > 1;
    }
    for (_, step) in &judge.out_of_order {
        strip.ticks.push((step.time, SeriesColor::Bad));
        strip.flagged = true;
    }
    // Duplicates and reorderings last, so they are drawn on top.
    strip
        .ticks
        .sort_by_key(|&(time, color)| (color == SeriesColor::Bad, time));
}

fn producer_row(strip: &mut Strip, judge: &QueueJudge, node: NodeId) {
    strip.ticks = judge
        .messages()
        .iter()
        .filter(|life| life.id.producer == node)
        .filter_map(|life| life.published)
        .map(|time| (time, SeriesColor::Muted))
        .collect();
}

fn worker_row(
    strip: &mut Strip,
    judge: &QueueJudge,
    worker: NodeId,
    end: SimTime,
    troubled: &BTreeSet<u64>,
) {
    let holds = judge.holds().iter().filter(|hold| hold.worker == worker);
    strip.bars = holds
        .map(|hold| hold_bar(judge, hold, end, troubled))
        .collect();
    strip.flagged = strip.bars.iter().any(|bar| bar.color == SeriesColor::Bad);
    strip.ticks = judge
        .returns
        .iter()
        .filter(|given_back| given_back.worker == worker)
        .map(|given_back| (given_back.time, SeriesColor::Warning))
        .collect();
}

fn hold_bar(judge: &QueueJudge, hold: &Hold, end: SimTime, troubled: &BTreeSet<u64>) -> StripBar {
    let redelivered = judge
        .delivery(hold.delivery)
        .is_some_and(|delivery| delivery.again);
    let color = if troubled.contains(&hold.delivery) {
        SeriesColor::Bad
    } else if redelivered {
        SeriesColor::Warning
    } else {
        SeriesColor::Plain
    };
    StripBar {
        start: hold.start,
        end: hold.end.unwrap_or(end),
        color,
        label: hold.id.to_string(),
    }
}

fn messages_panel(judge: &QueueJudge, timeline: &TimelineData, view_end: SimTime) -> StripsPanel {
    let end = timeline.end;
    let lost: BTreeMap<MessageId, SimTime> = judge.lost(end).into_iter().collect();
    let shown = chosen_messages(judge, &lost);
    let total = judge.messages().len();
    let rows = shown
        .iter()
        .map(|life| lifecycle(judge, life, lost.get(&life.id).copied(), end))
        .collect();
    let note = if shown.len() < total {
        format!("Showing {} of {total} messages: every lost, doubly applied or redelivered one first, then an even sample of the rest, in log order.", shown.len())
    } else {
        format!("All {total} messages, in log order.")
    };
    StripsPanel {
        caption: "Each message: published → delivered → effect → acknowledged".to_string(),
        end: view_end,
        bands: partition_bands(timeline),
        rows,
        legend: vec![
            (SeriesColor::Muted, "in the queue".to_string()),
            (SeriesColor::Plain, "out with a worker".to_string()),
            (SeriesColor::Good, "applied, until acknowledged".to_string()),
            (SeriesColor::Warning, "redelivered".to_string()),
            (
                SeriesColor::Bad,
                "lost, applied twice or out of key order".to_string(),
            ),
        ],
        note,
        marker: None,
    }
}

/// Whether a message's life is worth a row before the others.
fn interesting(
    judge: &QueueJudge,
    life: &MessageLife,
    lost: &BTreeMap<MessageId, SimTime>,
) -> bool {
    lost.contains_key(&life.id)
        || life.effects.len() > 1
        || judge.out_of_order.iter().any(|(id, _)| *id == life.id)
        || judge.redeliveries_of(life.id).next().is_some()
}

/// Every interesting message (up to the cap), then an even sample of the
/// rest, in log order.
fn chosen_messages<'a>(
    judge: &'a QueueJudge,
    lost: &BTreeMap<MessageId, SimTime>,
) -> Vec<&'a MessageLife> {
    let mut lives: Vec<&MessageLife> = judge.messages().iter().collect();
    lives.sort_by_key(|life| (life.position.is_none(), life.position, life.published));
    if lives.len() <= MESSAGE_ROWS_MAX {
        return lives;
    }
    let (mut shown, rest): (Vec<&MessageLife>, Vec<&MessageLife>) = lives
        .into_iter()
        .partition(|life| interesting(judge, life, lost));
    shown.truncate(MESSAGE_ROWS_MAX);
    let room = MESSAGE_ROWS_MAX - shown.len();
    if room > 0 {
        let step = rest.len() as f64 / room as f64;
        shown.extend((0..room).map(|i| rest[((i as f64 * step) as usize).min(rest.len() - 1)]));
    }
    shown.sort_by_key(|life| (life.position.is_none(), life.position, life.published));
    shown.dedup_by_key(|life| life.id);
    shown
}

fn lifecycle(judge: &QueueJudge, life: &MessageLife, lost: Option<SimTime>, end: SimTime) -> Strip {
    let start = life.published.or(life.publish_acked).unwrap_or(end);
    let delivered = life.first_delivered.unwrap_or(end);
    let applied = life.effects.first().map(|step| step.time);
    let consumed = life.consumed.map(|step| step.time);
    let bar = |start: SimTime, stop: SimTime, color| StripBar {
        start,
        end: stop.max(start),
        color,
        label: String::new(),
    };
    let mut bars = Vec::new();
    if let Some(lost) = lost {
        // Waiting and out with a worker until the loss, then red.
        bars.push(bar(start, delivered.min(lost), SeriesColor::Muted));
        bars.push(bar(delivered.min(lost), lost, SeriesColor::Plain));
        bars.push(bar(lost, end, SeriesColor::Bad));
    } else if let Some(applied) = applied {
        bars.push(bar(start, delivered, SeriesColor::Muted));
        bars.push(bar(delivered, applied, SeriesColor::Plain));
        bars.push(bar(applied, consumed.unwrap_or(end), SeriesColor::Good));
    } else {
        bars.push(bar(start, delivered, SeriesColor::Muted));
        bars.push(bar(delivered, end, SeriesColor::Plain));
    }
    let mut ticks: Vec<(SimTime, SeriesColor)> = judge
        .redeliveries_of(life.id)
        .map(|time| (time, SeriesColor::Warning))
        .collect();
    ticks.extend(
        life.effects
            .iter()
            .skip(1)
            .map(|step| (step.time, SeriesColor::Bad)),
    );
    let reordered: Vec<SimTime> = judge
        .out_of_order
        .iter()
        .filter(|(id, _)| *id == life.id)
        .map(|(_, step)| step.time)
        .collect();
    ticks.extend(reordered.iter().map(|&time| (time, SeriesColor::Bad)));
    let what = match (life.key, life.job) {
        (Some(key), _) => format!("k{key}"),
        (None, Some(job)) => format!("job {job}"),
        (None, None) => String::new(),
    };
    Strip {
        label: format!("{} {what}", life.id),
        flagged: lost.is_some() || life.effects.len() > 1 || !reordered.is_empty(),
        bars,
        ticks,
        ..Strip::default()
    }
}
