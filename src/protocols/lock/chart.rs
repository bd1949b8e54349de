//! The lock chart: each client's holdings and the server's grants as bars
//! coloured by token, and the resource's writes by outcome (accepted,
//! rejected by fencing, accepted although unsafe).

use super::check::LockJudge;
use super::{RESOURCE, SERVER};
use crate::harness::RunSetup;
use crate::plot::{Chart, LegendColor, LegendEntry, Mark, MarkKind, MarkSpan, TimelineData};

/// The `lock` chart: the timeline with the lock's bars and marks.
pub fn lock_chart(
    judge: &LockJudge,
    timeline: &TimelineData,
    setup: &RunSetup<'_>,
) -> (String, Chart) {
    let end = timeline.end;
    let mut spans: Vec<MarkSpan> = judge
        .holdings()
        .map(|h| MarkSpan {
            node: h.client,
            start: h.start,
            end: h.end.unwrap_or(end),
            group: h.token as u32,
            label: format!("t{}", h.token),
        })
        .collect();
    spans.extend(judge.grants().iter().map(|g| MarkSpan {
        node: SERVER,
        start: g.start,
        end: g.end.unwrap_or(end),
        group: g.token as u32,
        label: format!(
            "t{}→{}{}",
            g.token,
            g.client,
            if g.expired { " (expired)" } else { "" }
        ),
    }));
    let marks: Vec<Mark> = judge
        .writes()
        .iter()
        .map(|w| Mark {
            node: RESOURCE,
            time: w.time,
            kind: match (w.accepted, w.unsafe_write) {
                (false, _) => MarkKind::Refusal,
                (true, false) => MarkKind::Success,
                (true, true) => MarkKind::Unsafe,
            },
            group: w.token as u32,
            label: String::new(),
        })
        .collect();
    let mut chart = timeline.clone();
    let busy_until = marks.iter().map(|m| m.time).max().unwrap_or(end);
    chart.zoom_to(busy_until.max(setup.faults_end));
    chart.marks = marks;
    chart.spans = spans;
    chart.heading = "Lock service".to_string();
    chart.lane_names = (0..setup.node_count)
        .map(|node| match node {
            SERVER => "server 0".to_string(),
            RESOURCE => "resource 1".to_string(),
            _ => format!("client {node}"),
        })
        .collect();
    chart.legend = vec![
        LegendEntry::new(
            LegendColor::Group(0),
            "bars: holding / granted, colour = token",
        ),
        LegendEntry::new(LegendColor::Success, "● write accepted"),
        LegendEntry::new(LegendColor::Refusal, "■ write rejected (stale token)"),
        LegendEntry::new(LegendColor::Unsafe, "● write accepted although unsafe"),
    ];
    ("lock".to_string(), Chart::Timeline(Box::new(chart)))
}
