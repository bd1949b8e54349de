//! The cache's charts, as figures of generic panels:
//!
//! - `cap`: one row per group of clients that were always on the same side
//!   of every partition: their operations per time bucket by invocation,
//!   stacked by outcome (ok, failed, timed out), over the partition bands
//!   labelled with their side, stale reads marked above the bars and the
//!   read no order explains marked red. Availability and consistency under
//!   partition, side by side.
//! - `history` (when a key is not linearizable): the operations on the first
//!   such key around the violation, drawn as Knossos draws them: one row per
//!   process, each operation a bar from invocation to completion labelled
//!   with its value, timed-out ones open-ended, the read no order explains in
//!   red; under it, the checker's account.
//!
//! On the timeline, stale reads are marked on their clients' lanes.

use super::check::CacheJudge;
use super::history::{self, OpRecord, Outcome};
use super::{Cache, F};
use crate::harness::RunSetup;
use crate::linearizable::{format_value, RegisterReport};
use crate::node::time::{SimDuration, SimTime};
use crate::node::NodeId;
use crate::plot::{
    Chart, Figure, FigureRow, IntervalBar, IntervalsPanel, LegendColor, LegendEntry, Mark,
    MarkKind, Panel, SeriesColor, StackedPanel, TimelineData,
};
use std::collections::{BTreeMap, BTreeSet};

/// The `cap` chart, the `history` chart when a key is not linearizable, and
/// the timeline's marks.
pub fn charts(
    protocol: &Cache,
    judge: &CacheJudge,
    timeline: &mut TimelineData,
    _setup: &RunSetup<'_>,
) -> Vec<(String, Chart)> {
    let report = judge
        .linearizability
        .clone()
        .unwrap_or_else(|| judge.check_linearizability());
    let offending = offending_read(&report);
    mark_timeline(protocol, judge, timeline, offending);
    let mut charts = vec![(
        "cap".to_string(),
        Chart::Figure(cap_chart(protocol, judge, timeline, offending)),
    )];
    if let Some(figure) = history_chart(judge, &report, timeline) {
        charts.push(("history".to_string(), Chart::Figure(figure)));
    }
    charts
}

/// The operation the first non-linearizable key's search got stuck on.
fn offending_read(report: &RegisterReport<u64>) -> Option<usize> {
    report
        .violations()
        .next()
        .map(|violation| violation.blocking.index)
}

fn mark_timeline(
    protocol: &Cache,
    judge: &CacheJudge,
    timeline: &mut TimelineData,
    offending: Option<usize>,
) {
    let stale = history::stale_reads(&judge.ops);
    let marked: BTreeSet<usize> = stale.iter().copied().chain(offending).collect();
    timeline.marks = marked
        .iter()
        .map(|&index| {
            let op = &judge.ops[index];
            Mark {
                node: op.node,
                time: op.until(timeline.end),
                kind: MarkKind::Unsafe,
                group: 0,
                label: if Some(index) == offending {
                    format!("key {}: not linearizable", op.key)
                } else {
                    String::new()
                },
            }
        })
        .collect();
    timeline.heading = "Cache".to_string();
    timeline.lane_names = (0..timeline.node_count)
        .map(|node| {
            let hosted: Vec<String> = (0..protocol.clients.len())
                .filter(|&i| protocol.clients[i] == node)
                .map(|i| i.to_string())
                .collect();
            match hosted.len() {
                0 => format!("node {node}"),
                1 => format!("node {node} · client {}", hosted[0]),
                _ => format!("node {node} · clients {}", hosted.join(",")),
            }
        })
        .collect();
    timeline.legend = vec![LegendEntry::new(
        LegendColor::Unsafe,
        "● stale read, or the read no order explains",
    )];
}

/// The client nodes, grouped by the side they were on in every partition.
fn sides(protocol: &Cache, timeline: &TimelineData) -> Vec<Vec<NodeId>> {
    let mut classes: BTreeMap<Vec<Option<usize>>, Vec<NodeId>> = BTreeMap::new();
    let nodes: BTreeSet<NodeId> = protocol.clients.iter().copied().collect();
    for node in nodes {
        let signature = timeline
            .partitions
            .iter()
            .map(|p| p.groups.iter().position(|g| g.contains(&node)))
            .collect();
        classes.entry(signature).or_default().push(node);
    }
    let mut sides: Vec<Vec<NodeId>> = classes.into_values().collect();
    sides.sort();
    sides
}

/// A bucket of about a hundredth of the run, rounded to a round number.
fn bucket(end: SimTime) -> SimDuration {
    let target = end.as_nanos() / 100;
    let millis = [10u64, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000]
        .into_iter()
        .find(|&ms| ms * 1_000_000 >= target)
        .unwrap_or(10_000);
    SimDuration::from_millis(millis)
}

fn group_text(group: &[NodeId]) -> String {
    let nodes: Vec<String> = group.iter().map(ToString::to_string).collect();
    format!("{{{}}}", nodes.join(","))
}

fn cap_chart(
    protocol: &Cache,
    judge: &CacheJudge,
    timeline: &TimelineData,
    offending: Option<usize>,
) -> Figure {
    let stale: BTreeSet<usize> = history::stale_reads(&judge.ops).into_iter().collect();
    let rows = sides(protocol, timeline)
        .iter()
        .map(|side| FigureRow {
            height: 190,
            panels: vec![(
                0,
                Panel::Stacked(side_panel(judge, timeline, side, &stale, offending)),
            )],
        })
        .collect();
    Figure {
        title: format!(
            "Cache, {:?}: availability and consistency per partition side — {}",
            protocol.mode, timeline.title
        ),
        subtitle: timeline.subtitle.clone(),
        rows,
    }
}

fn side_panel(
    judge: &CacheJudge,
    timeline: &TimelineData,
    side: &[NodeId],
    stale: &BTreeSet<usize>,
    offending: Option<usize>,
) -> StackedPanel {
    let mine: Vec<(usize, &OpRecord)> = judge
        .ops
        .iter()
        .enumerate()
        .filter(|(_, op)| side.contains(&op.node))
        .collect();
    let times = |outcome: Outcome| -> Vec<SimTime> {
        mine.iter()
            .filter(|(_, op)| op.outcome == Some(outcome))
            .map(|(_, op)| op.invoke)
            .collect()
    };
    let marks = mine
        .iter()
        .filter(|(index, _)| stale.contains(index) || Some(*index) == offending)
        .map(|&(index, op)| {
            let worst = Some(index) == offending;
            let label = if worst {
                format!("key {}: no order explains this read", op.key)
            } else {
                String::new()
            };
            (op.until(timeline.end), label, worst)
        })
        .collect();
    let bands = timeline
        .partitions
        .iter()
        .map(|p| {
            let group = side
                .first()
                .and_then(|node| p.groups.iter().find(|g| g.contains(node)));
            let label = match group {
                Some(group) => format!("their side {} of {}", group_text(group), p.groups.len()),
                None => "partition".to_string(),
            };
            (p.start, p.end, label)
        })
        .collect();
    let processes: BTreeSet<usize> = mine.iter().map(|(_, op)| op.client).collect();
    let processes: Vec<String> = processes.iter().map(ToString::to_string).collect();
    let nodes: Vec<String> = side.iter().map(ToString::to_string).collect();
    StackedPanel {
        caption: format!(
            "Clients {} on node(s) {}: operations per {} by invocation, by outcome",
            processes.join(", "),
            nodes.join(", "),
            bucket(timeline.end)
        ),
        value_label: "operations".to_string(),
        end: timeline.end,
        bucket: bucket(timeline.end),
        bands,
        series: vec![
            (SeriesColor::Good, "ok".to_string(), times(Outcome::Ok)),
            (
                SeriesColor::Warning,
                "failed".to_string(),
                times(Outcome::Fail),
            ),
            (
                SeriesColor::Bad,
                "timed out".to_string(),
                times(Outcome::Info),
            ),
        ],
        marks,
        marks_legend: "stale read (red: the read no order explains)".to_string(),
    }
}

/// A bar's label: `w 17`, `r 12`, `cas 3→17`, `r` for a read that returned
/// nothing, with a failure said.
fn bar_label(op: &OpRecord) -> String {
    let call = match op.f {
        F::Read if op.outcome == Some(Outcome::Ok) => format!("r {}", format_value(op.value)),
        F::Read => "r".to_string(),
        F::Write => format!("w {}", format_value(op.value)),
        F::Cas => format!(
            "cas {}→{}",
            format_value(op.expected),
            format_value(op.value)
        ),
    };
    match op.outcome {
        Some(Outcome::Fail) => format!("{call} (fail)"),
        _ => call,
    }
}

fn history_chart(
    judge: &CacheJudge,
    report: &RegisterReport<u64>,
    timeline: &TimelineData,
) -> Option<Figure> {
    let violation = report.violations().next()?;
    let blocking = &judge.ops[violation.blocking.index];
    // The window: the end of the partial order found, the pending
    // operations and the one no order explains.
    let involved: Vec<usize> = violation
        .prefix
        .iter()
        .rev()
        .take(3)
        .map(|step| step.operation.index)
        .chain(violation.candidates.iter().map(|c| c.operation.index))
        .chain([violation.blocking.index])
        .collect();
    let start = involved
        .iter()
        .map(|&i| judge.ops[i].invoke)
        .min()
        .unwrap_or(blocking.invoke);
    let finish = blocking.until(timeline.end);
    let margin = SimDuration::from_nanos(finish.since(start).as_nanos() / 12 + 1_000_000);
    let (start, end) = (start.before(margin), finish.after(margin));
    let shown: Vec<(usize, &OpRecord)> = judge
        .ops
        .iter()
        .enumerate()
        .filter(|(_, op)| op.key == blocking.key && op.invoke <= end && op.until(end) >= start)
        // A read that timed out returned nothing and constrains nothing.
        .filter(|(_, op)| !(op.f == F::Read && op.outcome != Some(Outcome::Ok)))
        .collect();
    let processes: BTreeSet<u64> = shown.iter().map(|(_, op)| op.process).collect();
    let rows: Vec<u64> = processes.into_iter().collect();
    let bars = shown
        .iter()
        .map(|&(index, op)| IntervalBar {
            row: rows.iter().position(|&p| p == op.process).unwrap_or(0),
            start: op.invoke,
            end: match op.outcome {
                Some(Outcome::Info) | None => None,
                _ => op.complete,
            },
            label: bar_label(op),
            color: match (op.outcome, op.f) {
                (Some(Outcome::Fail), _) => SeriesColor::Warning,
                (_, F::Read) => SeriesColor::Good,
                _ => SeriesColor::Plain,
            },
            highlight: index == violation.blocking.index,
        })
        .collect();
    let notes: Vec<String> = violation
        .explanation
        .lines()
        .take(16)
        .map(str::to_string)
        .collect();
    let height = 110 + 44 * rows.len() as u32 + 16 * notes.len() as u32;
    let panel = IntervalsPanel {
        caption: format!(
            "Key {}: every operation from {} to {}, one row per process (blue: writes, green: reads, orange: failed, pale and open: timed out; reads that did not complete ok are left out)",
            blocking.key,
            history::time_text(start),
            history::time_text(end)
        ),
        rows: rows.iter().map(|p| format!("process {p}")).collect(),
        start,
        end,
        bars,
        notes,
    };
    Some(Figure {
        title: format!(
            "Not linearizable: key {} — {}",
            blocking.key, timeline.title
        ),
        subtitle: format!(
            "red: {}, which no order that respects real time explains",
            blocking.describe()
        ),
        rows: vec![FigureRow {
            height,
            panels: vec![(0, Panel::Intervals(panel))],
        }],
    })
}
