//! The Lamport (space-time) diagram: one vertical line per node, time flowing
//! down, one arrow per message copy from its send to its delivery.
//!
//! Time is drawn the way Maelstrom's diagrams draw it: every distinct instant
//! at which something is drawn gets a row, so a burst of messages a
//! microsecond apart stays readable next to a second of silence. Rows are a
//! little further apart when more time passes between them, and the left
//! margin gives the true time. Each window is a separate SVG; the page's
//! script shows one at a time.

use super::html::{duration, escape_text, seconds, truncate};
use super::trace::{Arrow, Condition, Fate, Mark, MarkKind, Place, Span, TraceView};
use std::collections::BTreeSet;
use std::fmt::Write;

/// A violation to draw across the diagram at its time.
#[derive(Clone, Debug)]
pub struct Violation {
    pub time: u64,
    pub text: String,
}

/// Left margin: true times, then network-wide marks (partitions, cut links).
const GUTTER_WIDTH: f64 = 226.0;
const TIME_LABEL_X: f64 = 86.0;
const NETWORK_LABEL_X: f64 = 94.0;
const LANE_WIDTH_MIN: f64 = 44.0;
const LANE_WIDTH_MAX: f64 = 170.0;
/// Width the lanes share when there are few nodes.
const LANES_WIDTH: f64 = 980.0;
/// Room right of the last lane for labels.
const RIGHT_MARGIN: f64 = 170.0;
const HEADER_HEIGHT: f64 = 26.0;
const TOP_MARGIN: f64 = 14.0;
const BOTTOM_MARGIN: f64 = 34.0;
const ROW_GAP_MIN: f64 = 14.0;
const ROW_GAP_EXTRA_MAX: f64 = 18.0;
/// Time labels at least this far apart.
const TIME_LABEL_SPACING: f64 = 26.0;
const VIOLATION_CHARS_MAX: usize = 90;

/// Colours of message kinds, in order of first appearance. No red: red is
/// for drops, crashes and violations.
const KIND_COLOURS: [&str; 12] = [
    "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22",
    "#393b79", "#637939", "#8c6d31", "#7b4173",
];
const OTHER_COLOUR: &str = "#8a8f98";
const GROUP_COLOURS: [&str; 6] = [
    "#4e79a7", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7",
];
const RED: &str = "#d62728";

/// The colour of message kind `kind` (an index into the trace's kinds).
pub fn kind_colour(kind: usize, kinds: usize) -> &'static str {
    if kind >= kinds {
        OTHER_COLOUR
    } else {
        KIND_COLOURS[kind % KIND_COLOURS.len()]
    }
}

/// The horizontal layout: where each node's line is.
#[derive(Clone, Copy)]
struct Lanes {
    nodes: u32,
    width: f64,
}

impl Lanes {
    fn new(nodes: u32) -> Self {
        let nodes = nodes.max(1);
        let width = (LANES_WIDTH / f64::from(nodes)).clamp(LANE_WIDTH_MIN, LANE_WIDTH_MAX);
        Lanes { nodes, width }
    }
    fn x(&self, node: u32) -> f64 {
        GUTTER_WIDTH + self.width * (f64::from(node) + 0.5)
    }
    fn total_width(&self) -> f64 {
        GUTTER_WIDTH + self.width * f64::from(self.nodes) + RIGHT_MARGIN
    }
}

/// The vertical layout: one row per distinct instant.
struct Rows {
    times: Vec<u64>,
    ys: Vec<f64>,
    bottom: f64,
}

impl Rows {
    fn new(times: &BTreeSet<u64>) -> Self {
        let times: Vec<u64> = if times.is_empty() {
            vec![0]
        } else {
            times.iter().copied().collect()
        };
        let mut ys = Vec::with_capacity(times.len());
        let mut y = TOP_MARGIN;
        for (i, &time) in times.iter().enumerate() {
            if i > 0 {
                y += row_gap(time - times[i - 1]);
            }
            ys.push(y);
        }
        let bottom = y + BOTTOM_MARGIN;
        Rows { times, ys, bottom }
    }

    /// The y of a time: its row, or in between rows in proportion, or the
    /// top or bottom edge outside the window.
    fn y(&self, time: u64) -> f64 {
        let i = self.times.partition_point(|&t| t < time);
        if i < self.times.len() && self.times[i] == time {
            return self.ys[i];
        }
        if i == 0 {
            return 0.0;
        }
        if i == self.times.len() {
            return self.bottom;
        }
        let (t0, t1) = (self.times[i - 1], self.times[i]);
        let share = (time - t0) as f64 / (t1 - t0) as f64;
        self.ys[i - 1] + share * (self.ys[i] - self.ys[i - 1])
    }

    fn first(&self) -> u64 {
        self.times[0]
    }
    fn last(&self) -> u64 {
        *self.times.last().expect("rows are never empty")
    }
}

/// More room between rows when more time passes: 14 px, plus up to 18 px
/// growing with the logarithm of the gap above a microsecond.
fn row_gap(nanos: u64) -> f64 {
    let extra = if nanos > 1_000 {
        3.0 * (nanos as f64 / 1_000.0).log10()
    } else {
        0.0
    };
    ROW_GAP_MIN + extra.clamp(0.0, ROW_GAP_EXTRA_MAX)
}

/// The sticky header with the node names, shared by every window.
pub fn header(nodes: u32) -> String {
    let lanes = Lanes::new(nodes);
    let width = lanes.total_width();
    let mut svg = format!(
        "<svg class=\"lamport lamport-header\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{HEADER_HEIGHT:.0}\" viewBox=\"0 0 {width:.0} {HEADER_HEIGHT:.0}\">\
         <rect width=\"{width:.0}\" height=\"{HEADER_HEIGHT:.0}\" fill=\"#eef1f5\"/>\
         <text x=\"{TIME_LABEL_X:.0}\" y=\"17\" text-anchor=\"end\" font-weight=\"600\">time</text>\
         <text x=\"{NETWORK_LABEL_X:.0}\" y=\"17\" font-weight=\"600\">network</text>"
    );
    for node in 0..lanes.nodes {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"17\" text-anchor=\"middle\" font-weight=\"600\">node {node}</text>",
            lanes.x(node)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One window of the diagram, drawn.
pub struct WindowSvg {
    pub svg: String,
    /// Message copies drawn: one arrow each.
    pub arrows: usize,
    /// The first and last instants drawn.
    pub first: u64,
    pub last: u64,
}

/// Draws window `index` of the view.
pub fn window(view: &TraceView, index: usize, violations: &[Violation]) -> WindowSvg {
    let arrows: Vec<&Arrow> = view.arrows.iter().filter(|a| a.window == index).collect();
    let marks: Vec<&Mark> = view.marks.iter().filter(|m| m.window == index).collect();
    let rows = Rows::new(&row_times(&arrows, &marks, violations));
    let lanes = Lanes::new(view.nodes);
    let (width, height) = (lanes.total_width(), rows.bottom);
    let mut svg = format!(
        "<svg class=\"lamport\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\">\n"
    );
    svg.push_str(&spans(&view.spans, &rows, lanes));
    svg.push_str(&lane_lines(lanes, &rows));
    svg.push_str(&time_labels(&rows));
    for mark in &marks {
        svg.push_str(&mark_svg(mark, &rows, lanes));
    }
    let kinds = view.kinds.len();
    for arrow in &arrows {
        svg.push_str(&arrow_svg(arrow, &rows, lanes, kinds));
    }
    for violation in violations {
        svg.push_str(&violation_svg(violation, &rows, lanes));
    }
    svg.push_str("</svg>\n");
    WindowSvg {
        svg,
        arrows: arrows.len(),
        first: rows.first(),
        last: rows.last(),
    }
}

/// Every instant drawn in the window: sends, arrivals, fates, marks, and
/// the violations that fall between the first and the last of those.
fn row_times(arrows: &[&Arrow], marks: &[&Mark], violations: &[Violation]) -> BTreeSet<u64> {
    let mut times = BTreeSet::new();
    for arrow in arrows {
        times.insert(arrow.sent);
        times.extend(arrow.queued);
        match arrow.fate {
            Fate::Delivered { at } | Fate::Dropped { at, .. } => {
                times.insert(at);
            }
            Fate::InFlight => {}
        }
    }
    times.extend(marks.iter().map(|m| m.time));
    if let (Some(&first), Some(&last)) = (times.first(), times.last()) {
        times.extend(
            violations
                .iter()
                .map(|v| v.time)
                .filter(|t| (first..=last).contains(t)),
        );
    }
    times
}

fn lane_lines(lanes: Lanes, rows: &Rows) -> String {
    let mut svg = String::new();
    for node in 0..lanes.nodes {
        let x = lanes.x(node);
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"0\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#b7bec8\" stroke-width=\"1\"/>",
            rows.bottom
        );
    }
    svg
}

fn time_labels(rows: &Rows) -> String {
    let mut svg = String::new();
    let mut last_y = f64::NEG_INFINITY;
    for (&time, &y) in rows.times.iter().zip(&rows.ys) {
        if y - last_y < TIME_LABEL_SPACING {
            continue;
        }
        last_y = y;
        let _ = writeln!(
            svg,
            "<text x=\"{TIME_LABEL_X:.0}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#5a6472\">{}</text>",
            y + 3.0,
            seconds(time)
        );
    }
    svg
}

/// Shading for the conditions that overlap the window: partition groups
/// tint whole lanes, crashes and pauses a band on the line, cut and
/// degraded links a thin bar beside it.
fn spans(spans: &[Span], rows: &Rows, lanes: Lanes) -> String {
    let mut svg = String::new();
    let (first, last) = (rows.first(), rows.last());
    for span in spans {
        if span.end < first || span.start > last || span.node >= lanes.nodes {
            continue;
        }
        let y1 = if span.start < first {
            0.0
        } else {
            rows.y(span.start)
        };
        let y2 = if span.end > last {
            rows.bottom
        } else {
            rows.y(span.end)
        };
        svg.push_str(&span_svg(span, lanes, y1, y2.max(y1 + 2.0)));
    }
    svg
}

fn span_svg(span: &Span, lanes: Lanes, y1: f64, y2: f64) -> String {
    let x = lanes.x(span.node);
    let height = y2 - y1;
    let (left, width, fill, opacity, title) = match &span.condition {
        Condition::Group(group) => (
            x - lanes.width / 2.0 + 2.0,
            lanes.width - 4.0,
            GROUP_COLOURS[group % GROUP_COLOURS.len()],
            0.16,
            format!("partition {}: group {}", span.note, group + 1),
        ),
        Condition::Bridge => (
            x - lanes.width / 2.0 + 2.0,
            lanes.width - 4.0,
            "#8a8f98",
            0.16,
            format!("partition {}: a bridge between groups", span.note),
        ),
        Condition::Crashed => (x - 7.0, 14.0, RED, 0.28, "crashed".to_string()),
        Condition::Paused => (x - 7.0, 14.0, "#f2a900", 0.45, "paused".to_string()),
        Condition::LinkCut { to } => (
            x + 9.0 + 3.0 * f64::from(to % 6),
            2.0,
            RED,
            0.7,
            format!("link {}→{to} cut", span.node),
        ),
        Condition::LinkDegraded { to } => (
            x - 11.0 - 3.0 * f64::from(to % 6),
            2.0,
            "#f28e2b",
            0.7,
            format!("link {}→{to} degraded", span.node),
        ),
    };
    format!(
        "<rect x=\"{left:.1}\" y=\"{y1:.1}\" width=\"{width:.1}\" height=\"{height:.1}\" fill=\"{fill}\" fill-opacity=\"{opacity}\"><title>{}</title></rect>\n",
        escape_text(&title)
    )
}

fn mark_svg(mark: &Mark, rows: &Rows, lanes: Lanes) -> String {
    let y = rows.y(mark.time);
    let title = format!("{} at {}", mark.detail, seconds(mark.time));
    let (colour, weight) = match mark.kind {
        MarkKind::Observation => ("#23395d", "400"),
        MarkKind::Fault => (RED, "600"),
        MarkKind::Network | MarkKind::End => ("#6b3fa0", "600"),
    };
    match mark.place {
        Place::Node(node) if node < lanes.nodes => {
            let x = lanes.x(node);
            let dot = match mark.kind {
                MarkKind::Observation => format!(
                    "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.2\" fill=\"{colour}\"/>"
                ),
                _ => format!(
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" fill=\"{colour}\" transform=\"rotate(45 {x:.1} {y:.1})\"/>",
                    x - 4.0,
                    y - 4.0
                ),
            };
            format!(
                "<g class=\"mark\"><title>{}</title>{dot}<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{colour}\" font-weight=\"{weight}\">{}</text></g>\n",
                escape_text(&title),
                x + 6.0,
                y + 3.5,
                escape_text(&mark.label)
            )
        }
        _ => {
            let right = lanes.x(lanes.nodes - 1) + lanes.width / 2.0;
            format!(
                "<g class=\"mark\"><title>{}</title><line x1=\"{NETWORK_LABEL_X:.0}\" y1=\"{y:.1}\" x2=\"{right:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-opacity=\"0.35\" stroke-dasharray=\"3 3\"/><text x=\"{NETWORK_LABEL_X:.0}\" y=\"{:.1}\" fill=\"{colour}\" font-weight=\"{weight}\">{}</text></g>\n",
                escape_text(&title),
                y - 2.5,
                escape_text(&mark.label)
            )
        }
    }
}

fn violation_svg(violation: &Violation, rows: &Rows, lanes: Lanes) -> String {
    if violation.time < rows.first() || violation.time > rows.last() {
        return String::new();
    }
    let y = rows.y(violation.time);
    let right = lanes.x(lanes.nodes - 1) + lanes.width / 2.0;
    let text = truncate(&violation.text, VIOLATION_CHARS_MAX);
    format!(
        "<g class=\"violation\"><title>{} at {}</title><line x1=\"{NETWORK_LABEL_X:.0}\" y1=\"{y:.1}\" x2=\"{right:.1}\" y2=\"{y:.1}\" stroke=\"{RED}\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"{RED}\" font-weight=\"700\">✕ {}</text></g>\n",
        escape_text(&violation.text),
        seconds(violation.time),
        GUTTER_WIDTH + 4.0,
        y - 4.0,
        escape_text(&text)
    )
}

/// A straight or looping path from one point to another, with an open
/// arrowhead at the end.
struct Stroke {
    /// The path without its head.
    line: String,
    /// The point the head is at, and the direction it points.
    tip: (f64, f64),
    direction: (f64, f64),
}

fn straight(from: (f64, f64), to: (f64, f64)) -> Stroke {
    Stroke {
        line: format!("M{:.1} {:.1}L{:.1} {:.1}", from.0, from.1, to.0, to.1),
        tip: to,
        direction: (to.0 - from.0, to.1 - from.1),
    }
}

/// A message a node sends itself: a loop to the right of its line.
fn looping(x: f64, y1: f64, y2: f64) -> Stroke {
    let y2 = if y2 - y1 < 6.0 { y1 + 6.0 } else { y2 };
    let bulge = x + 34.0;
    Stroke {
        line: format!("M{x:.1} {y1:.1}C{bulge:.1} {y1:.1} {bulge:.1} {y2:.1} {x:.1} {y2:.1}"),
        tip: (x, y2),
        direction: (-1.0, 0.0),
    }
}

fn head(stroke: &Stroke) -> String {
    let (dx, dy) = stroke.direction;
    let length = (dx * dx + dy * dy).sqrt().max(1e-9);
    let (ux, uy) = (dx / length, dy / length);
    let (tx, ty) = stroke.tip;
    let (bx, by) = (tx - 7.0 * ux, ty - 7.0 * uy);
    format!(
        "M{:.1} {:.1}L{tx:.1} {ty:.1}L{:.1} {:.1}",
        bx - 3.5 * uy,
        by + 3.5 * ux,
        bx + 3.5 * uy,
        by - 3.5 * ux
    )
}

/// Where an arrow goes: to the destination at its arrival, part of the way
/// if it was dropped on the wire, to the bottom edge if still in flight.
fn arrow_end(arrow: &Arrow, rows: &Rows, lanes: Lanes) -> (f64, f64) {
    let (x1, x2) = (lanes.x(arrow.from), lanes.x(arrow.to));
    let arrival = arrow.queued.map(|t| rows.y(t));
    match (&arrow.fate, arrival) {
        (_, Some(y)) => (x2, y),
        (Fate::Delivered { at }, None) => (x2, rows.y(*at)),
        (Fate::Dropped { at, .. }, None) if *at > arrow.sent => {
            (x1 + 0.85 * (x2 - x1), rows.y(*at))
        }
        // Lost at send time: a short stub.
        (Fate::Dropped { at, .. }, None) => (x1 + 0.3 * (x2 - x1), rows.y(*at) + 6.0),
        (Fate::InFlight, None) => (x2, rows.bottom - 8.0),
    }
}

fn arrow_svg(arrow: &Arrow, rows: &Rows, lanes: Lanes, kinds: usize) -> String {
    let colour = kind_colour(arrow.kind, kinds);
    let start = (lanes.x(arrow.from), rows.y(arrow.sent));
    let end = arrow_end(arrow, rows, lanes);
    let stroke = if arrow.from == arrow.to {
        looping(start.0, start.1, end.1)
    } else {
        straight(start, end)
    };
    let mut class = String::from("arrow");
    if arrow.duplicate {
        class.push_str(" duplicate");
    }
    if arrow.fate == Fate::InFlight {
        class.push_str(" in-flight");
    }
    let mut svg = format!(
        "<g class=\"{class}\" data-id=\"{}\"><title>{}</title><path class=\"hit\" d=\"{}\"/><path d=\"{}{}\" stroke=\"{colour}\"/>",
        arrow.id,
        escape_text(&arrow_title(arrow)),
        stroke.line,
        stroke.line,
        head(&stroke)
    );
    svg.push_str(&inbox_wait(arrow, rows, lanes, colour));
    svg.push_str(&drop_cross(arrow, rows, lanes, end));
    svg.push_str(&arrow_label(arrow, &stroke, start, colour));
    svg.push_str("</g>\n");
    svg
}

/// A message that reached a paused node waits in its inbox: a dotted line
/// down the node's line from its arrival to its handling on resume.
fn inbox_wait(arrow: &Arrow, rows: &Rows, lanes: Lanes, colour: &str) -> String {
    let Some(queued) = arrow.queued else {
        return String::new();
    };
    let x = lanes.x(arrow.to);
    let y1 = rows.y(queued);
    let y2 = match arrow.fate {
        Fate::Delivered { at } | Fate::Dropped { at, .. } => rows.y(at),
        Fate::InFlight => rows.bottom - 8.0,
    };
    format!(
        "<circle cx=\"{x:.1}\" cy=\"{y1:.1}\" r=\"3\" fill=\"#fff\" stroke=\"{colour}\"/><path d=\"M{x:.1} {y1:.1}L{x:.1} {y2:.1}\" stroke=\"{colour}\" stroke-dasharray=\"1 3\"/><circle cx=\"{x:.1}\" cy=\"{y2:.1}\" r=\"2.5\" fill=\"{colour}\"/>"
    )
}

/// A dropped copy ends in a red cross with the reason beside it.
fn drop_cross(arrow: &Arrow, rows: &Rows, lanes: Lanes, end: (f64, f64)) -> String {
    let Fate::Dropped { at, reason } = &arrow.fate else {
        return String::new();
    };
    // A copy dropped from a paused node's inbox (it crashed) ends on its line.
    let (x, y) = match arrow.queued {
        Some(_) => (lanes.x(arrow.to), rows.y(*at)),
        None => end,
    };
    format!(
        "<path d=\"M{:.1} {:.1}L{:.1} {:.1}M{:.1} {:.1}L{:.1} {:.1}\" stroke=\"{RED}\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"{RED}\" font-size=\"9\">{}</text>",
        x - 4.0,
        y - 4.0,
        x + 4.0,
        y + 4.0,
        x - 4.0,
        y + 4.0,
        x + 4.0,
        y - 4.0,
        x + 6.0,
        y + 10.0,
        escape_text(&reason.replace('_', " "))
    )
}

/// The kind label, along the arrow at its middle (upright), or beside a loop.
fn arrow_label(arrow: &Arrow, stroke: &Stroke, start: (f64, f64), colour: &str) -> String {
    let mut label = arrow.label.clone();
    if arrow.duplicate {
        label.push_str(" (dup)");
    }
    let label = escape_text(&label);
    if arrow.from == arrow.to {
        let y = (start.1 + stroke.tip.1) / 2.0 + 3.0;
        return format!(
            "<text x=\"{:.1}\" y=\"{y:.1}\" fill=\"{colour}\" font-size=\"9\">{label}</text>",
            start.0 + 30.0
        );
    }
    let (mx, my) = (
        (start.0 + stroke.tip.0) / 2.0,
        (start.1 + stroke.tip.1) / 2.0,
    );
    let mut angle = stroke.direction.1.atan2(stroke.direction.0).to_degrees();
    if !(-90.0..=90.0).contains(&angle) {
        angle += 180.0;
    }
    format!(
        "<text x=\"{mx:.1}\" y=\"{:.1}\" fill=\"{colour}\" font-size=\"9\" text-anchor=\"middle\" transform=\"rotate({angle:.1} {mx:.1} {my:.1})\">{label}</text>",
        my - 3.0
    )
}

/// The tooltip: who sent what to whom, when, and what became of it.
fn arrow_title(arrow: &Arrow) -> String {
    let copy = if arrow.duplicate {
        " (the duplicate copy)"
    } else {
        ""
    };
    let mut title = format!(
        "message {}{copy}: node {} → node {}\n{}\nsent at {}",
        arrow.id,
        arrow.from,
        arrow.to,
        arrow.payload,
        seconds(arrow.sent)
    );
    if let Some(queued) = arrow.queued {
        let _ = write!(
            title,
            "\nreached paused node {} at {}, waited in its inbox",
            arrow.to,
            seconds(queued)
        );
    }
    let _ = match &arrow.fate {
        Fate::Delivered { at } => write!(
            title,
            "\ndelivered at {} (after {})",
            seconds(*at),
            duration(at - arrow.sent)
        ),
        Fate::Dropped { at, reason } => write!(
            title,
            "\ndropped at {}: {}",
            seconds(*at),
            reason.replace('_', " ")
        ),
        Fate::InFlight => write!(title, "\nstill in flight when the run ended"),
    };
    title
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_grow_with_the_gap_and_interpolate_between() {
        let rows = Rows::new(&BTreeSet::from([0, 1_000, 1_000_000_000]));
        assert_eq!(rows.ys[0], TOP_MARGIN);
        assert_eq!(rows.ys[1] - rows.ys[0], ROW_GAP_MIN);
        let widest = rows.ys[2] - rows.ys[1];
        assert!((widest - (ROW_GAP_MIN + ROW_GAP_EXTRA_MAX)).abs() < 1e-3);
        let middle = rows.y(500_000_500);
        assert!(rows.ys[1] < middle && middle < rows.ys[2]);
        assert_eq!(rows.y(2_000_000_000), rows.bottom);
    }
}
