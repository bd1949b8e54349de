//! The timeline chart: one lane per node across simulated time.
//!
//! Each lane has a status row (grey while up, black while crashed, orange while
//! paused, purple/brown bars for cut/degraded outgoing links, triangles where
//! its clock changed) and, for small clusters, one thin row per peer showing
//! when this node held a view of that peer, such as a suspicion (grey:
//! explained, red: a mistake) above
//! a hairline of ground truth (black: the peer was crashed, orange: paused,
//! blue: the link from the peer was down). Behind the lane, partition periods
//! are bands coloured by group; a bridge node's band shows each of its groups.
//! Check violations are red crosses at the time they happened.

use super::{register_font, LegendColor, MarkKind, TimelineData};
use crate::node::NodeId;
use crate::sim::SimTime;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Peer rows are drawn only up to this many nodes; beyond it a lane shows
/// mistakes as red ticks, since n² rows stop being readable.
const PEER_ROWS_NODES_MAX: u32 = 10;
const WIDTH: u32 = 1400;
const PIXELS_PER_UNIT: f64 = 22.0;
const STATUS_HEIGHT: f64 = 1.0;
const PEER_HEIGHT: f64 = 0.55;
const LANE_GAP: f64 = 0.7;
const HEADER_HEIGHT: u32 = 62;
const MARK_HEIGHT: f64 = 1.4;
/// Colours for mark groups (a ballot's proposer, a token).
const GROUP_MARK_COLORS: [RGBColor; 7] = [
    RGBColor(31, 119, 180),
    RGBColor(230, 120, 0),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(210, 80, 170),
    RGBColor(23, 170, 190),
];
const CHOSEN: RGBColor = RGBColor(0, 150, 60);

const GROUP_COLORS: [RGBColor; 6] = [
    RGBColor(190, 215, 240),
    RGBColor(253, 205, 155),
    RGBColor(195, 232, 185),
    RGBColor(220, 205, 240),
    RGBColor(250, 225, 120),
    RGBColor(200, 235, 235),
];
const UP: RGBColor = RGBColor(150, 150, 150);
const CRASHED: RGBColor = RGBColor(20, 20, 20);
const PAUSED: RGBColor = RGBColor(240, 140, 0);
const CUT: RGBColor = RGBColor(110, 60, 160);
const DEGRADED: RGBColor = RGBColor(150, 100, 50);
const LINK_DOWN: RGBColor = RGBColor(40, 90, 200);
const EXPLAINED: RGBColor = RGBColor(120, 120, 120);
const MISTAKE: RGBColor = RGBColor(215, 25, 30);
const CLOCK: RGBColor = RGBColor(0, 140, 140);

struct Layout {
    peer_rows: bool,
    lane_height: f64,
    total: f64,
}

impl Layout {
    fn new(data: &TimelineData) -> Self {
        let peer_rows = data.node_count <= PEER_ROWS_NODES_MAX && !data.peer_spans.is_empty();
        let peers = if peer_rows {
            f64::from(data.node_count.saturating_sub(1))
        } else {
            0.0
        };
        let mark_rows = if data.marks.is_empty() && data.spans.is_empty() {
            0.0
        } else {
            MARK_HEIGHT
        };
        let lane_height = STATUS_HEIGHT + peers * PEER_HEIGHT + mark_rows;
        Layout {
            peer_rows,
            lane_height,
            total: f64::from(data.node_count) * (lane_height + LANE_GAP) + LANE_GAP,
        }
    }
    /// The y of the top of node's lane (y grows upward in the chart).
    fn lane_top(&self, node: NodeId) -> f64 {
        self.total - LANE_GAP - f64::from(node) * (self.lane_height + LANE_GAP)
    }
    fn status_row(&self, node: NodeId) -> (f64, f64) {
        let top = self.lane_top(node);
        (top - STATUS_HEIGHT, top)
    }
    /// The peer's row index within node's lane (peers in order, skipping node).
    fn peer_row(&self, node: NodeId, peer: NodeId) -> (f64, f64) {
        let index = if peer < node { peer } else { peer - 1 };
        let top = self.lane_top(node) - STATUS_HEIGHT - f64::from(index) * PEER_HEIGHT;
        (top - PEER_HEIGHT, top)
    }
    fn height_pixels(&self) -> u32 {
        (self.total * PIXELS_PER_UNIT) as u32 + 210
    }
}

fn secs(time: SimTime) -> f64 {
    time.as_secs_f64()
}

/// The timeline as SVG text.
pub fn timeline_svg(data: &TimelineData) -> String {
    register_font();
    let layout = Layout::new(data);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, layout.height_pixels())).into_drawing_area();
        draw(&root, data, &layout).expect("drawing to an in-memory SVG cannot fail");
        root.present()
            .expect("presenting an in-memory SVG cannot fail");
    }
    svg
}

/// Renders the PNG and returns its bytes.
pub fn timeline_png(data: &TimelineData) -> Vec<u8> {
    register_font();
    let layout = Layout::new(data);
    let (width, height) = (WIDTH, layout.height_pixels());
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        draw(&root, data, &layout).expect("drawing to an in-memory bitmap cannot fail");
        root.present()
            .expect("presenting an in-memory bitmap cannot fail");
    }
    super::encode_png(&pixels, width, height)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &TimelineData,
    layout: &Layout,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let end = secs(data.view_end.unwrap_or(data.end)).max(1e-9);
    // Short views read better in milliseconds.
    let milliseconds = end < 2.0;
    let legend_height = 70;
    let (header_area, rest) = root.split_vertically(HEADER_HEIGHT);
    let (chart_area, legend_area) =
        rest.split_vertically(layout.height_pixels() - HEADER_HEIGHT - legend_height);
    draw_header(
        &header_area,
        &format!(
            "{} — {}",
            if data.heading.is_empty() {
                "Timeline"
            } else {
                &data.heading
            },
            data.title
        ),
        &data.subtitle,
    )?;
    let mut chart = ChartBuilder::on(&chart_area)
        .margin(12)
        .margin_left(8)
        .x_label_area_size(40)
        .y_label_area_size(150)
        .build_cartesian_2d(0.0..end, 0.0..layout.total)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc(if milliseconds {
            "simulated time (ms)"
        } else {
            "simulated time (s)"
        })
        .x_label_formatter(&|x| {
            if milliseconds {
                format!("{:.0}", x * 1000.0)
            } else {
                format!("{x:.1}")
            }
        })
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;

    draw_partitions(&mut chart, data, layout, end)?;
    draw_status_rows(&mut chart, data, layout, end)?;
    // Peer rows: views of peers against ground truth.
    if layout.peer_rows {
        draw_peer_rows(&mut chart, data, layout, end)?;
    } else {
        for span in data.peer_spans.iter().filter(|s| s.mistake) {
            let (bottom, _) = layout.status_row(span.node);
            chart.draw_series(std::iter::once(Rectangle::new(
                [
                    (secs(span.start), bottom),
                    (secs(span.start) + end * 0.002, bottom + 0.3),
                ],
                MISTAKE.filled(),
            )))?;
        }
    }

    draw_marks(&mut chart, data, layout, end)?;
    draw_violations(&mut chart, data, layout)?;
    draw_lane_labels(root, &chart, data, layout)?;
    draw_legend(&legend_area, data, layout)?;
    Ok(())
}

/// Partition bands behind the lanes, coloured by group; a bridge node's band
/// shows each of its groups.
fn draw_partitions<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    data: &TimelineData,
    layout: &Layout,
    end: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for partition in &data.partitions {
        for node in 0..data.node_count {
            let groups: Vec<usize> = partition
                .groups
                .iter()
                .enumerate()
                .filter(|(_, g)| g.contains(&node))
                .map(|(i, _)| i)
                .collect();
            let (bottom, top) = (
                layout.lane_top(node) - layout.lane_height - LANE_GAP * 0.3,
                layout.lane_top(node) + LANE_GAP * 0.3,
            );
            let stripe = (top - bottom) / groups.len().max(1) as f64;
            for (k, group) in groups.iter().enumerate() {
                let color = GROUP_COLORS[group % GROUP_COLORS.len()];
                let y1 = top - stripe * k as f64;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [
                        (secs(partition.start), y1 - stripe),
                        (secs(partition.end), y1),
                    ],
                    color.filled(),
                )))?;
            }
            let label = if groups.len() > 1 {
                format!(
                    "bridge {}",
                    groups
                        .iter()
                        .map(|g| format!("G{}", g + 1))
                        .collect::<Vec<_>>()
                        .join("+")
                )
            } else {
                groups
                    .iter()
                    .map(|g| format!("G{}", g + 1))
                    .collect::<String>()
            };
            chart.draw_series(std::iter::once(Text::new(
                label,
                (secs(partition.start) + end * 0.003, top - 0.05),
                ("sans-serif", 12)
                    .into_font()
                    .color(&RGBColor(60, 60, 60))
                    .pos(Pos::new(HPos::Left, VPos::Top)),
            )))?;
        }
    }

    Ok(())
}

/// Each node's status row: up, crashed, paused, its cut and degraded
/// outgoing links, and its clock changes.
fn draw_status_rows<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    data: &TimelineData,
    layout: &Layout,
    end: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for node in 0..data.node_count {
        let (bottom, top) = layout.status_row(node);
        let middle = (bottom + top) / 2.0;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, middle - 0.12), (end, middle + 0.12)],
            UP.filled(),
        )))?;
    }
    for span in &data.crashed {
        let (bottom, top) = layout.status_row(span.node);
        chart.draw_series(std::iter::once(Rectangle::new(
            [
                (secs(span.start), bottom + 0.1),
                (secs(span.end), top - 0.1),
            ],
            CRASHED.filled(),
        )))?;
        draw_bar_label(
            chart,
            "crashed",
            secs(span.start),
            (bottom + top) / 2.0,
            &WHITE,
            end,
            secs(span.end) - secs(span.start),
        )?;
    }
    for span in &data.paused {
        let (bottom, top) = layout.status_row(span.node);
        chart.draw_series(std::iter::once(Rectangle::new(
            [
                (secs(span.start), bottom + 0.1),
                (secs(span.end), top - 0.1),
            ],
            PAUSED.filled(),
        )))?;
        draw_bar_label(
            chart,
            "paused",
            secs(span.start),
            (bottom + top) / 2.0,
            &BLACK,
            end,
            secs(span.end) - secs(span.start),
        )?;
    }
    for (links, color, word) in [
        (&data.cuts, CUT, "cut"),
        (&data.degraded, DEGRADED, "degraded"),
    ] {
        for link in links.iter() {
            let (_, top) = layout.status_row(link.from);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(secs(link.start), top - 0.22), (secs(link.end), top - 0.02)],
                color.filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("link {}→{} {word}", link.from, link.to),
                (secs(link.start), top + 0.02),
                ("sans-serif", 11)
                    .into_font()
                    .color(&color)
                    .pos(Pos::new(HPos::Left, VPos::Bottom)),
            )))?;
        }
    }
    for (time, node, _) in &data.clock_changes {
        let (bottom, _) = layout.status_row(*node);
        chart.draw_series(std::iter::once(TriangleMarker::new(
            (secs(*time), bottom + 0.15),
            6,
            CLOCK.filled(),
        )))?;
    }

    Ok(())
}

/// A red cross on each node a violation names, at its time.
fn draw_violations<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    data: &TimelineData,
    layout: &Layout,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for (_, violation) in &data.violations {
        for node in &violation.nodes {
            if *node < data.node_count {
                let (bottom, top) = layout.status_row(*node);
                chart.draw_series(std::iter::once(Cross::new(
                    (secs(violation.time), (bottom + top) / 2.0),
                    7,
                    MISTAKE.stroke_width(3),
                )))?;
            }
        }
    }

    Ok(())
}

/// Lane names (and clock notes, and peer-row labels), left of the plot.
/// `backend_coord` gives absolute pixels, so they are drawn on the root area.
fn draw_lane_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart<'_, DB>,
    data: &TimelineData,
    layout: &Layout,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for node in 0..data.node_count {
        let (bottom, top) = layout.status_row(node);
        let (x, y) = chart.backend_coord(&(0.0, (bottom + top) / 2.0));
        let name = data
            .lane_names
            .get(node as usize)
            .cloned()
            .unwrap_or_else(|| format!("node {node}"));
        root.draw(&Text::new(
            name,
            (x - 10, y),
            ("sans-serif", 16)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
        let drift: Vec<&str> = data
            .clock_changes
            .iter()
            .filter(|(_, n, _)| *n == node)
            .map(|(_, _, what)| what.as_str())
            .collect();
        if let Some(last) = drift.last() {
            let label = if drift.len() > 1 {
                format!("clock {last} (and {} more)", drift.len() - 1)
            } else {
                format!("clock {last}")
            };
            root.draw(&Text::new(
                label,
                (x - 10, y - 15),
                ("sans-serif", 11)
                    .into_font()
                    .color(&CLOCK)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
        if layout.peer_rows {
            for peer in (0..data.node_count).filter(|&p| p != node) {
                let (bottom, top) = layout.peer_row(node, peer);
                let (x, y) = chart.backend_coord(&(0.0, (bottom + top) / 2.0));
                root.draw(&Text::new(
                    format!("{} {peer}?", data.peer_verb),
                    (x - 10, y),
                    ("sans-serif", 10)
                        .into_font()
                        .color(&RGBColor(90, 90, 90))
                        .pos(Pos::new(HPos::Right, VPos::Center)),
                ))?;
            }
        }
    }

    Ok(())
}

/// The title, centred, with the verdict line under it.
pub(super) fn draw_header<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let middle = WIDTH as i32 / 2;
    area.draw(&Text::new(
        title.to_string(),
        (middle, 8),
        ("sans-serif", 22)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    area.draw(&Text::new(
        subtitle.to_string(),
        (middle, 38),
        ("sans-serif", 15)
            .into_font()
            .color(&RGBColor(60, 60, 60))
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    Ok(())
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Protocol marks on the row under each lane, and moments across all lanes.
fn draw_marks<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    data: &TimelineData,
    layout: &Layout,
    end: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    draw_moments(chart, data, layout, end)?;
    draw_spans(chart, data, layout, end)?;
    for mark in &data.marks {
        draw_mark(chart, mark, layout, end)?;
    }
    Ok(())
}

/// Moments (a value chosen) as vertical lines across every lane.
fn draw_moments<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    data: &TimelineData,
    layout: &Layout,
    end: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for (time, label) in &data.moments {
        let x = secs(*time);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x, 0.0), (x, layout.total)],
            CHOSEN.stroke_width(2),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            label.clone(),
            (x + end * 0.004, layout.total - 0.1),
            ("sans-serif", 13)
                .into_font()
                .color(&CHOSEN)
                .pos(Pos::new(HPos::Left, VPos::Top)),
        )))?;
    }
    Ok(())
}

/// Labelled, coloured bars on the mark rows (holdings, grants).
fn draw_spans<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    data: &TimelineData,
    layout: &Layout,
    end: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for span in &data.spans {
        let (bottom, _) = layout.status_row(span.node);
        let (low, high) = (bottom - MARK_HEIGHT + 0.3, bottom - 0.3);
        let color = GROUP_MARK_COLORS[span.group as usize % GROUP_MARK_COLORS.len()];
        let stop = secs(span.end).max(secs(span.start) + end * 0.002);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(secs(span.start), low), (stop, high)],
            color.mix(0.55).filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            span.label.clone(),
            (secs(span.start) + end * 0.002, high + 0.02),
            ("sans-serif", 11)
                .into_font()
                .color(&color)
                .pos(Pos::new(HPos::Left, VPos::Bottom)),
        )))?;
    }
    Ok(())
}

/// One protocol mark, its shape by kind and its colour by group.
fn draw_mark<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    mark: &super::Mark,
    layout: &Layout,
    end: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    if secs(mark.time) > end {
        return Ok(());
    }
    let (bottom, _) = layout.status_row(mark.node);
    let y = bottom - MARK_HEIGHT / 2.0;
    let at = (secs(mark.time), y);
    let color = GROUP_MARK_COLORS[mark.group as usize % GROUP_MARK_COLORS.len()];
    let label_style = ("sans-serif", 11)
        .into_font()
        .color(&color)
        .pos(Pos::new(HPos::Left, VPos::Bottom));
    match mark.kind {
        MarkKind::Input => {
            chart.draw_series(std::iter::once(Circle::new(at, 5, BLACK.stroke_width(2))))?;
        }
        MarkKind::Start => {
            chart.draw_series(std::iter::once(TriangleMarker::new(at, 6, color.filled())))?;
        }
        MarkKind::Vote => {
            chart.draw_series(std::iter::once(Circle::new(at, 3, color.filled())))?;
        }
        MarkKind::Propose => {
            let element = EmptyElement::at(at) + Rectangle::new([(-5, -5), (5, 5)], color.filled());
            chart.draw_series(std::iter::once(element))?;
        }
        MarkKind::Accept => {
            chart.draw_series(std::iter::once(Circle::new(at, 5, color.filled())))?;
            chart.draw_series(std::iter::once(Circle::new(at, 5, BLACK.stroke_width(1))))?;
        }
        MarkKind::Success => {
            chart.draw_series(std::iter::once(Circle::new(at, 5, CHOSEN.filled())))?;
        }
        MarkKind::Refusal => {
            let element =
                EmptyElement::at(at) + Rectangle::new([(-5, -5), (5, 5)], PAUSED.filled());
            chart.draw_series(std::iter::once(element))?;
        }
        MarkKind::Unsafe => {
            chart.draw_series(std::iter::once(Circle::new(at, 6, MISTAKE.filled())))?;
            chart.draw_series(std::iter::once(Cross::new(at, 4, WHITE.stroke_width(2))))?;
        }
        MarkKind::Decide => {
            let element = EmptyElement::at(at)
                + Polygon::new(vec![(0, -8), (8, 0), (0, 8), (-8, 0)], CHOSEN.filled())
                + PathElement::new(
                    vec![(0, -8), (8, 0), (0, 8), (-8, 0), (0, -8)],
                    BLACK.stroke_width(1),
                );
            chart.draw_series(std::iter::once(element))?;
        }
    }
    if !mark.label.is_empty()
        && matches!(
            mark.kind,
            MarkKind::Start | MarkKind::Propose | MarkKind::Decide
        )
    {
        let style = if mark.kind == MarkKind::Decide {
            ("sans-serif", 11)
                .into_font()
                .color(&CHOSEN)
                .pos(Pos::new(HPos::Left, VPos::Bottom))
        } else {
            label_style
        };
        chart.draw_series(std::iter::once(Text::new(
            mark.label.clone(),
            (at.0 + end * 0.002, y + 0.25),
            style,
        )))?;
    }
    Ok(())
}

fn draw_bar_label<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    text: &str,
    x: f64,
    y: f64,
    color: &RGBColor,
    end: f64,
    width: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    // Only label bars wide enough to hold the word.
    if width > end * 0.045 {
        chart.draw_series(std::iter::once(Text::new(
            text.to_string(),
            (x + end * 0.003, y),
            ("sans-serif", 12)
                .into_font()
                .color(color)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        )))?;
    }
    Ok(())
}

/// When the link `from -> to` was down, from partitions and cuts.
fn link_down_spans(data: &TimelineData, from: NodeId, to: NodeId) -> Vec<(f64, f64)> {
    let mut spans: Vec<(f64, f64)> = data
        .partitions
        .iter()
        .filter(|p| {
            !p.groups
                .iter()
                .any(|g| g.contains(&from) && g.contains(&to))
        })
        .map(|p| (secs(p.start), secs(p.end)))
        .collect();
    spans.extend(
        data.cuts
            .iter()
            .filter(|c| c.from == from && c.to == to)
            .map(|c| (secs(c.start), secs(c.end))),
    );
    spans
}

fn draw_peer_rows<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    data: &TimelineData,
    layout: &Layout,
    end: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for node in 0..data.node_count {
        for peer in (0..data.node_count).filter(|&p| p != node) {
            let (bottom, _) = layout.peer_row(node, peer);
            // Ground truth hairline at the bottom of the row.
            let truth_top = bottom + 0.12;
            for span in data.crashed.iter().filter(|s| s.node == peer) {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [
                        (secs(span.start), bottom + 0.02),
                        (secs(span.end), truth_top),
                    ],
                    CRASHED.filled(),
                )))?;
            }
            for span in data.paused.iter().filter(|s| s.node == peer) {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [
                        (secs(span.start), bottom + 0.02),
                        (secs(span.end), truth_top),
                    ],
                    PAUSED.filled(),
                )))?;
            }
            for (start, stop) in link_down_spans(data, peer, node) {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(start, bottom + 0.02), (stop, truth_top)],
                    LINK_DOWN.filled(),
                )))?;
            }
        }
    }
    for span in &data.peer_spans {
        let (bottom, top) = layout.peer_row(span.node, span.peer);
        let color = if span.mistake { MISTAKE } else { EXPLAINED };
        let stop = span
            .end
            .map_or(end, secs)
            .max(secs(span.start) + end * 0.0015);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(secs(span.start), bottom + 0.15), (stop, top - 0.06)],
            color.filled(),
        )))?;
    }
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &TimelineData,
    layout: &Layout,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let mut entries: Vec<(RGBColor, String)> = vec![
        (UP, "up".into()),
        (CRASHED, "crashed".into()),
        (PAUSED, "paused".into()),
    ];
    let groups = data
        .partitions
        .iter()
        .map(|p| p.groups.len())
        .max()
        .unwrap_or(0);
    for group in 0..groups {
        entries.push((
            GROUP_COLORS[group % GROUP_COLORS.len()],
            format!("partition group G{}", group + 1),
        ));
    }
    if !data.cuts.is_empty() {
        entries.push((CUT, "one-way link cut".into()));
    }
    if !data.degraded.is_empty() {
        entries.push((DEGRADED, "degraded link".into()));
    }
    if !data.clock_changes.is_empty() {
        entries.push((CLOCK, "▲ clock drift/jump".into()));
    }
    if layout.peer_rows {
        entries.push((LINK_DOWN, "truth: link from peer down".into()));
    }
    if !data.violations.is_empty() {
        entries.push((MISTAKE, "violation ✕".into()));
    }
    for entry in &data.legend {
        entries.push((legend_color(entry.color), entry.label.clone()));
    }
    let (mut x, mut y) = (20i32, 12i32);
    for (color, label) in entries {
        let width = 30 + 8 * label.chars().count() as i32;
        if x + width > WIDTH as i32 - 20 {
            x = 20;
            y += 24;
        }
        area.draw(&Rectangle::new([(x, y), (x + 18, y + 14)], color.filled()))?;
        area.draw(&Text::new(
            label,
            (x + 24, y + 7),
            ("sans-serif", 14)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += width;
    }
    Ok(())
}

fn legend_color(color: LegendColor) -> RGBColor {
    match color {
        LegendColor::Group(group) => GROUP_MARK_COLORS[group as usize % GROUP_MARK_COLORS.len()],
        LegendColor::Success => CHOSEN,
        LegendColor::Refusal => PAUSED,
        LegendColor::Unsafe => MISTAKE,
        LegendColor::Explained => EXPLAINED,
        LegendColor::Plain => BLACK,
    }
}
