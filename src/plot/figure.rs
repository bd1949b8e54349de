//! Figures: charts made of generic panels, laid out in rows, for what a
//! protocol wants to show beside the timeline. Each panel is plain data; this module draws it and knows no protocol.
//!
//! - `Steps`: a value over simulated time as a step line, with shaded bands
//!   (partitions) and a marked moment;
//! - `Counts`: events per time bucket, one bar series each;
//! - `BarGrid`: small bar charts side by side, each with a reference line;
//! - `Groups`: groups of labelled bars, each group with a reference line;
//! - `Ring`: points on a circle, coloured by owner, with the arcs they own;
//! - `Stacked` and `Intervals`: see `intervals`.
//! - `Strips`: rows of labelled bars over time (see `strips`).

use super::{register_font, SeriesColor};
use crate::node::time::{SimDuration, SimTime};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const WIDTH: u32 = 1400;
const HEADER_HEIGHT: u32 = 62;
const NODE_COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
const BAND: RGBColor = RGBColor(253, 205, 155);
const HIGHLIGHT: RGBColor = RGBColor(214, 39, 40);
const PLAIN: RGBColor = RGBColor(31, 119, 180);
const MARKER: RGBColor = RGBColor(0, 140, 60);

/// A chart of panels in rows.
#[derive(Clone, Debug, Default)]
pub struct Figure {
    /// The first line of the header.
    pub title: String,
    /// The second line: verdicts and expectation.
    pub subtitle: String,
    /// Rows from top to bottom.
    pub rows: Vec<FigureRow>,
}

/// One row of panels, left to right.
#[derive(Clone, Debug)]
pub struct FigureRow {
    /// In pixels.
    pub height: u32,
    /// (width in pixels, panel); the last panel takes what is left.
    pub panels: Vec<(u32, Panel)>,
}

/// A panel of a figure.
#[derive(Clone, Debug)]
pub enum Panel {
    /// A value over time.
    Steps(StepsPanel),
    /// Events per time bucket.
    Counts(CountsPanel),
    /// Small bar charts side by side.
    BarGrid(BarGridPanel),
    /// Groups of labelled bars.
    Groups(GroupsPanel),
    /// Points on a circle.
    Ring(RingPanel),
    /// Events per time bucket, stacked by kind, over bands.
    Stacked(super::StackedPanel),
    /// Labelled bars from a start to an end, on rows.
    Intervals(super::IntervalsPanel),
    /// Rows of bars over time.
    Strips(super::StripsPanel),
}

/// A value over simulated time, drawn as steps: each value holds until the next.
#[derive(Clone, Debug, Default)]
pub struct StepsPanel {
    /// Above the panel.
    pub caption: String,
    /// Along the value axis.
    pub value_label: String,
    /// The top of the value axis.
    pub value_max: f64,
    /// The end of the time axis.
    pub end: SimTime,
    /// Shaded periods with a label (partitions).
    pub bands: Vec<(SimTime, SimTime, String)>,
    /// (time, new value), in time order; the value is 0 before the first.
    pub steps: Vec<(SimTime, f64)>,
    /// A moment marked with a vertical line and its label.
    pub marker: Option<(SimTime, String)>,
}

/// Events counted per time bucket, one bar series per kind.
#[derive(Clone, Debug, Default)]
pub struct CountsPanel {
    /// Along the count axis.
    pub value_label: String,
    /// The end of the time axis.
    pub end: SimTime,
    /// The width of a bucket.
    pub bucket: SimDuration,
    /// (colour, times of the events).
    pub series: Vec<(SeriesColor, Vec<SimTime>)>,
    /// A line of text over the bars.
    pub note: String,
}

/// Small bar charts side by side, each bar coloured by its owner.
#[derive(Clone, Debug, Default)]
pub struct BarGridPanel {
    /// Above the grid.
    pub caption: String,
    /// How many charts per row.
    pub columns: usize,
    /// The top of every chart's value axis.
    pub value_max: f64,
    /// A horizontal reference line in every chart.
    pub reference: Option<f64>,
    /// (caption, bars as (value, owner)).
    pub charts: Vec<(String, Vec<(f64, u32)>)>,
}

/// Groups of labelled bars, each group with a reference line.
#[derive(Clone, Debug, Default)]
pub struct GroupsPanel {
    /// Above the panel.
    pub caption: String,
    /// Along the value axis.
    pub value_label: String,
    /// The top of the value axis.
    pub value_max: f64,
    /// Shown when there are no groups.
    pub empty_note: String,
    /// The groups, left to right.
    pub groups: Vec<BarGroup>,
}

/// A group of bars.
#[derive(Clone, Debug, Default)]
pub struct BarGroup {
    /// Over the group.
    pub label: String,
    /// (label, value, highlighted).
    pub bars: Vec<(String, f64, bool)>,
    /// A horizontal line across the group.
    pub reference: Option<f64>,
}

/// Points on a circle (positions as fractions of a 64-bit ring), each owned
/// by a node: ticks at the points, and the arc ending at each point in its
/// owner's colour.
#[derive(Clone, Debug, Default)]
pub struct RingPanel {
    /// Above the circle.
    pub caption: String,
    /// (position, owner), sorted by position.
    pub points: Vec<(u64, u32)>,
    /// Under the circle.
    pub note: String,
    /// Shown when there are no points.
    pub empty_note: String,
}

/// Renders the figure as SVG text.
pub fn figure_svg(figure: &Figure) -> String {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height(figure))).into_drawing_area();
        draw(&root, figure).expect("drawing to an in-memory SVG cannot fail");
        root.present()
            .expect("presenting an in-memory SVG cannot fail");
    }
    svg
}

/// Renders the figure as PNG bytes.
pub fn figure_png(figure: &Figure) -> Vec<u8> {
    register_font();
    let (width, height) = (WIDTH, height(figure));
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        draw(&root, figure).expect("drawing to an in-memory bitmap cannot fail");
        root.present()
            .expect("presenting an in-memory bitmap cannot fail");
    }
    super::encode_png(&pixels, width, height)
}

fn height(figure: &Figure) -> u32 {
    HEADER_HEIGHT + figure.rows.iter().map(|row| row.height).sum::<u32>() + 16
}

pub(super) fn series_color(color: SeriesColor) -> RGBColor {
    match color {
        SeriesColor::Bad => RGBColor(214, 39, 40),
        SeriesColor::Muted => RGBColor(175, 175, 175),
        SeriesColor::Warning => RGBColor(255, 127, 14),
        SeriesColor::Plain => PLAIN,
        SeriesColor::Good => MARKER,
    }
}

pub(super) type Result<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, figure: &Figure) -> Result<DB> {
    root.fill(&WHITE)?;
    let (header, mut body) = root.split_vertically(HEADER_HEIGHT);
    super::timeline::draw_header(&header, &figure.title, &figure.subtitle)?;
    for row in &figure.rows {
        let (area, rest) = body.split_vertically(row.height);
        body = rest;
        let mut area = area;
        for (index, (width, panel)) in row.panels.iter().enumerate() {
            let last = index + 1 == row.panels.len();
            let here = if last {
                area.clone()
            } else {
                let (here, rest) = area.split_horizontally(*width);
                area = rest;
                here
            };
            draw_panel(&here, panel)?;
        }
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel) -> Result<DB> {
    match panel {
        Panel::Steps(panel) => draw_steps(area, panel),
        Panel::Counts(panel) => draw_counts(area, panel),
        Panel::BarGrid(panel) => draw_bar_grid(area, panel),
        Panel::Groups(panel) => draw_groups(area, panel),
        Panel::Ring(panel) => draw_ring(area, panel),
        Panel::Stacked(panel) => super::intervals::draw_stacked(area, panel),
        Panel::Intervals(panel) => super::intervals::draw_intervals(area, panel),
        Panel::Strips(panel) => super::strips::draw_strips(area, panel),
    }
}

fn draw_steps<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &StepsPanel) -> Result<DB> {
    let end = panel.end.as_secs_f64().max(1e-9);
    let top = panel.value_max.max(1e-9);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.caption, ("sans-serif", 17))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("simulated time (s)")
        .y_desc(&panel.value_label)
        .x_label_formatter(&|x| format!("{x:.1}"))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for (start, stop, label) in &panel.bands {
        let (start, stop) = (start.as_secs_f64(), stop.as_secs_f64());
        chart.draw_series(std::iter::once(Rectangle::new(
            [(start, 0.0), (stop, top)],
            BAND.mix(0.6).filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            label.clone(),
            (start + end * 0.004, top * 0.96),
            ("sans-serif", 12)
                .into_font()
                .color(&RGBColor(90, 60, 20))
                .pos(Pos::new(HPos::Left, VPos::Top)),
        )))?;
    }
    // A step line: each value holds until the next.
    let mut points = Vec::new();
    let mut last = 0.0;
    for &(time, value) in &panel.steps {
        points.push((time.as_secs_f64(), last));
        points.push((time.as_secs_f64(), value));
        last = value;
    }
    points.push((end, last));
    chart.draw_series(LineSeries::new(
        points,
        RGBColor(200, 30, 30).stroke_width(2),
    ))?;
    if let Some((time, label)) = &panel.marker {
        let x = time.as_secs_f64();
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x, 0.0), (x, top)],
            MARKER.stroke_width(2),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            label.clone(),
            (x + end * 0.004, top * 0.8),
            ("sans-serif", 12)
                .into_font()
                .color(&MARKER)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        )))?;
    }
    Ok(())
}

/// Events per bucket of simulated time, the series' bars side by side.
fn draw_counts<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &CountsPanel,
) -> Result<DB> {
    let end = panel.end.as_secs_f64().max(1e-9);
    let bucket = panel.bucket.as_secs_f64().max(1e-9);
    let buckets = ((end / bucket).ceil() as usize).clamp(1, 100_000);
    let counts: Vec<Vec<u32>> = panel
        .series
        .iter()
        .map(|(_, times)| {
            let mut counts = vec![0u32; buckets];
            for time in times {
                let index = ((time.as_secs_f64() / bucket) as usize).min(buckets - 1);
                counts[index] += 1;
            }
            counts
        })
        .collect();
    let top = counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .margin_left(12)
        .margin_right(12)
        .x_label_area_size(16)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end, 0.0..top * 1.3)?;
    chart
        .configure_mesh()
        .x_labels(0)
        .y_labels(3)
        .y_desc(&panel.value_label)
        .label_style(("sans-serif", 11))
        .axis_desc_style(("sans-serif", 11))
        .draw()?;
    let width = bucket * 0.95 / counts.len().max(1) as f64;
    for (series, ((color, _), counts)) in panel.series.iter().zip(&counts).enumerate() {
        for (index, &count) in counts.iter().enumerate().filter(|(_, &c)| c > 0) {
            let x = index as f64 * bucket + series as f64 * width;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x, 0.0), (x + width * 0.95, f64::from(count))],
                series_color(*color).filled(),
            )))?;
        }
    }
    chart.draw_series(std::iter::once(Text::new(
        panel.note.clone(),
        (end * 0.01, top * 1.28),
        ("sans-serif", 12)
            .into_font()
            .color(&RGBColor(60, 60, 60))
            .pos(Pos::new(HPos::Left, VPos::Top)),
    )))?;
    Ok(())
}

fn draw_bar_grid<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &BarGridPanel,
) -> Result<DB> {
    let (caption, grid) = area.split_vertically(30);
    let (width, _) = caption.dim_in_pixel();
    caption.draw(&Text::new(
        panel.caption.clone(),
        (width as i32 / 2, 8),
        ("sans-serif", 17)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let columns = panel.columns.max(1);
    let rows = panel.charts.len().div_ceil(columns).max(1);
    let cells = grid.split_evenly((rows, columns));
    for (cell, (title, bars)) in cells.iter().zip(&panel.charts) {
        let mut chart = ChartBuilder::on(cell)
            .caption(title, ("sans-serif", 13))
            .margin(6)
            .x_label_area_size(18)
            .y_label_area_size(34)
            .build_cartesian_2d(0.0..bars.len().max(1) as f64, 0.0..panel.value_max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(4)
            .label_style(("sans-serif", 11))
            .draw()?;
        for (i, (value, owner)) in bars.iter().enumerate() {
            let color = NODE_COLORS[*owner as usize % NODE_COLORS.len()];
            chart.draw_series(std::iter::once(Rectangle::new(
                [
                    (i as f64 + 0.1, 0.0),
                    (i as f64 + 0.9, value.min(panel.value_max)),
                ],
                color.filled(),
            )))?;
        }
        if let Some(reference) = panel.reference {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(0.0, reference), (bars.len() as f64, reference)],
                BLACK.stroke_width(1),
            )))?;
        }
    }
    Ok(())
}

fn draw_groups<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &GroupsPanel,
) -> Result<DB> {
    let per_group = panel
        .groups
        .iter()
        .map(|group| group.bars.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let slots = (panel.groups.len() * (per_group + 1)).max(1);
    let top = panel.value_max.max(1e-9);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.caption, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(20)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..slots as f64, 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(&panel.value_label)
        .label_style(("sans-serif", 12))
        .draw()?;
    if panel.groups.is_empty() {
        chart.draw_series(std::iter::once(Text::new(
            panel.empty_note.clone(),
            (slots as f64 / 2.0, top / 2.0),
            ("sans-serif", 13)
                .into_font()
                .color(&RGBColor(90, 90, 90))
                .pos(Pos::new(HPos::Center, VPos::Center)),
        )))?;
    }
    for (index, group) in panel.groups.iter().enumerate() {
        let first = (index * (per_group + 1)) as f64;
        draw_group(&mut chart, group, first, per_group, top)?;
    }
    Ok(())
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn draw_group<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    group: &BarGroup,
    first: f64,
    per_group: usize,
    top: f64,
) -> Result<DB> {
    chart.draw_series(std::iter::once(Text::new(
        group.label.clone(),
        (first + per_group as f64 / 2.0, top * 0.97),
        ("sans-serif", 11)
            .into_font()
            .color(&RGBColor(60, 60, 60))
            .pos(Pos::new(HPos::Center, VPos::Top)),
    )))?;
    if let Some(reference) = group.reference {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(first, reference), (first + per_group as f64, reference)],
            BLACK.stroke_width(2),
        )))?;
    }
    for (i, (label, value, highlight)) in group.bars.iter().enumerate() {
        let x = first + i as f64;
        let color = if *highlight { HIGHLIGHT } else { PLAIN };
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x + 0.15, 0.0), (x + 0.85, *value)],
            color.filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            label.clone(),
            (x + 0.5, value + top * 0.02),
            ("sans-serif", 11)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Bottom)),
        )))?;
    }
    Ok(())
}

fn draw_ring<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &RingPanel) -> Result<DB> {
    let (width, height) = area.dim_in_pixel();
    let center = (width as i32 / 2, height as i32 / 2 + 10);
    let radius = (width.min(height) as i32 / 2 - 40).max(20);
    area.draw(&Text::new(
        panel.caption.clone(),
        (center.0, 6),
        ("sans-serif", 17)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    if panel.points.is_empty() {
        area.draw(&Text::new(
            panel.empty_note.clone(),
            center,
            ("sans-serif", 13)
                .into_font()
                .color(&RGBColor(90, 90, 90))
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
        return Ok(());
    }
    area.draw(&Circle::new(
        center,
        radius,
        RGBColor(200, 200, 200).stroke_width(1),
    ))?;
    draw_ring_arcs(area, panel, center, radius)?;
    area.draw(&Text::new(
        panel.note.clone(),
        (center.0, height as i32 - 14),
        ("sans-serif", 11)
            .into_font()
            .color(&RGBColor(80, 80, 80))
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    for &(point, node) in &panel.points {
        let angle = point as f64 / u64::MAX as f64 * std::f64::consts::TAU;
        let (sin, cos) = (libm::sin(angle), libm::cos(angle));
        let inner = (
            center.0 + (sin * (radius - 12) as f64) as i32,
            center.1 - (cos * (radius - 12) as f64) as i32,
        );
        let outer = (
            center.0 + (sin * (radius + 12) as f64) as i32,
            center.1 - (cos * (radius + 12) as f64) as i32,
        );
        let color = NODE_COLORS[node as usize % NODE_COLORS.len()];
        area.draw(&PathElement::new(vec![inner, outer], color.stroke_width(1)))?;
    }
    Ok(())
}

/// The owned arcs: the arc that ends at a point belongs to that point's owner.
fn draw_ring_arcs<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &RingPanel,
    center: (i32, i32),
    radius: i32,
) -> Result<DB> {
    let at_angle = |angle: f64, r: i32| {
        (
            center.0 + (libm::sin(angle) * r as f64) as i32,
            center.1 - (libm::cos(angle) * r as f64) as i32,
        )
    };
    let angle_of = |point: u64| point as f64 / u64::MAX as f64 * std::f64::consts::TAU;
    let points = &panel.points;
    for (index, &(point, node)) in points.iter().enumerate() {
        let previous = if index == 0 {
            points[points.len() - 1].0
        } else {
            points[index - 1].0
        };
        let (start, end) = (angle_of(previous), angle_of(point));
        let end = if end <= start {
            end + std::f64::consts::TAU
        } else {
            end
        };
        let steps = (((end - start) / 0.02).ceil() as usize).clamp(1, 400);
        let arc: Vec<(i32, i32)> = (0..=steps)
            .map(|k| at_angle(start + (end - start) * k as f64 / steps as f64, radius - 22))
            .collect();
        let color = NODE_COLORS[node as usize % NODE_COLORS.len()];
        area.draw(&PathElement::new(arc, color.stroke_width(8)))?;
    }
    Ok(())
}
