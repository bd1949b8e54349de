//! The `Strips` panel: rows of labelled bars over simulated time (a Gantt
//! chart), each row with its own down spans (crashed, paused) and ticks,
//! over shaded bands (partitions). What a node held and when, or each
//! item's life from start to end, one row each. A row may instead carry a
//! level (a value over time as a step line, a queue's length), so that it
//! shares the rows' time axis.

use super::figure::{series_color, Result};
use super::SeriesColor;
use crate::node::time::SimTime;
use crate::sim::NodeStatus;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const BAND: RGBColor = RGBColor(253, 205, 155);
const CRASHED: RGBColor = RGBColor(20, 20, 20);
const PAUSED: RGBColor = RGBColor(240, 140, 0);
const LABEL_WIDTH: u32 = 130;
/// The height of a line of the legend, in pixels.
const LEGEND_LINE: i32 = 20;

/// Rows of bars over time.
#[derive(Clone, Debug, Default)]
pub struct StripsPanel {
    /// Above the panel.
    pub caption: String,
    /// The end of the time axis.
    pub end: SimTime,
    /// Shaded periods across every row, with a label (partitions).
    pub bands: Vec<(SimTime, SimTime, String)>,
    /// Top to bottom.
    pub rows: Vec<Strip>,
    /// (colour, meaning), drawn beside the caption.
    pub legend: Vec<(SeriesColor, String)>,
    /// A line under the rows.
    pub note: String,
    /// A moment marked with a vertical line and its label.
    pub marker: Option<(SimTime, String)>,
}

/// One row.
#[derive(Clone, Debug, Default)]
pub struct Strip {
    /// Left of the row.
    pub label: String,
    /// Something went wrong in this row: its label is drawn in red.
    pub flagged: bool,
    /// When the row's node was down: a black (crashed) or orange (paused)
    /// line along the bottom of the row.
    pub down: Vec<(SimTime, SimTime, NodeStatus)>,
    /// Bars, drawn in order (later ones on top).
    pub bars: Vec<StripBar>,
    /// Moments marked across the row.
    pub ticks: Vec<(SimTime, SeriesColor)>,
    /// A value over time drawn in the row, which is then `rows` rows tall.
    pub level: Option<Level>,
}

/// A value over time, as steps: each value holds until the next.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Level {
    /// (time, new value), in time order; 0 before the first.
    pub steps: Vec<(SimTime, f64)>,
    /// The value at the top of the row.
    pub max: f64,
    /// How many rows tall.
    pub rows: u32,
}

impl Strip {
    fn height(&self) -> f64 {
        self.level
            .as_ref()
            .map_or(1.0, |level| f64::from(level.rows.max(1)))
    }
}

/// A bar in a row, with a label written inside it when it fits.
#[derive(Clone, Debug, PartialEq)]
pub struct StripBar {
    /// Where the bar starts.
    pub start: SimTime,
    /// Where the bar ends.
    pub end: SimTime,
    /// Its colour.
    pub color: SeriesColor,
    /// Text drawn in the bar (empty: none).
    pub label: String,
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

pub(super) fn draw_strips<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &StripsPanel,
) -> Result<DB> {
    let lines = legend_layout(panel, area.dim_in_pixel().0 as i32)
        .last()
        .map_or(0, |&(_, line)| line);
    let (head, body) = area.split_vertically(34 + LEGEND_LINE * lines);
    draw_caption(&head, panel)?;
    let (body, foot) = body.split_vertically(body.dim_in_pixel().1.saturating_sub(16));
    let end = panel.end.as_secs_f64().max(1e-9);
    let rows = panel.rows.iter().map(Strip::height).sum::<f64>().max(1.0);
    let mut chart = ChartBuilder::on(&body)
        .margin_left(8)
        .margin_right(12)
        .x_label_area_size(30)
        .y_label_area_size(LABEL_WIDTH)
        .build_cartesian_2d(0.0..end, 0.0..rows)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("simulated time (s)")
        .x_label_formatter(&|x| format!("{x:.1}"))
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 12))
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    draw_bands(&mut chart, panel, rows, end)?;
    // Row 0 at the top.
    let mut top = rows;
    for strip in &panel.rows {
        let bottom = top - strip.height();
        match &strip.level {
            Some(level) => draw_level(&mut chart, level, bottom, end)?,
            None => draw_row(&mut chart, strip, bottom, end)?,
        }
        draw_row_label(area, &chart, strip, (bottom + top) / 2.0)?;
        top = bottom;
    }
    if let Some((time, label)) = &panel.marker {
        draw_marker(&mut chart, time.as_secs_f64(), label, rows, end)?;
    }
    foot.draw(&Text::new(
        panel.note.clone(),
        (LABEL_WIDTH as i32 + 8, 2),
        ("sans-serif", 12)
            .into_font()
            .color(&RGBColor(80, 80, 80))
            .pos(Pos::new(HPos::Left, VPos::Top)),
    ))?;
    Ok(())
}

/// Text widths in pixels, estimated (DejaVu Sans averages about 0.55 em).
fn text_width(text: &str, size: f64) -> i32 {
    (text.chars().count() as f64 * size * 0.56) as i32
}

/// Where each legend entry goes: after the caption, wrapping onto further
/// lines when the width runs out. Returns (x, line) per entry.
fn legend_layout(panel: &StripsPanel, width: i32) -> Vec<(i32, i32)> {
    let start = 24 + text_width(&panel.caption, 17.0);
    let (mut x, mut line) = (start, 0);
    panel
        .legend
        .iter()
        .map(|(_, label)| {
            let entry = 30 + text_width(label, 13.0);
            if x + entry > width - 10 && x > start {
                x = start;
                line += 1;
            }
            let at = (x, line);
            x += entry;
            at
        })
        .collect()
}

/// The caption, then the legend beside it.
fn draw_caption<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &StripsPanel,
) -> Result<DB> {
    area.draw(&Text::new(
        panel.caption.clone(),
        (14, 8),
        ("sans-serif", 17)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Top)),
    ))?;
    let width = area.dim_in_pixel().0 as i32;
    for ((color, label), (x, line)) in panel.legend.iter().zip(legend_layout(panel, width)) {
        let y = 18 + LEGEND_LINE * line;
        area.draw(&Rectangle::new(
            [(x, y - 6), (x + 14, y + 6)],
            series_color(*color).filled(),
        ))?;
        area.draw(&Text::new(
            label.clone(),
            (x + 19, y),
            ("sans-serif", 13)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

fn draw_bands<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    panel: &StripsPanel,
    rows: f64,
    end: f64,
) -> Result<DB> {
    for (start, stop, label) in &panel.bands {
        let (start, stop) = (start.as_secs_f64().min(end), stop.as_secs_f64().min(end));
        chart.draw_series(std::iter::once(Rectangle::new(
            [(start, 0.0), (stop, rows)],
            BAND.mix(0.45).filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            label.clone(),
            (start + end * 0.003, rows),
            ("sans-serif", 11)
                .into_font()
                .color(&RGBColor(90, 60, 20))
                .pos(Pos::new(HPos::Left, VPos::Top)),
        )))?;
    }
    Ok(())
}

/// One row: a hairline, its down spans, its bars (labelled where they fit)
/// and its ticks.
fn draw_row<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    strip: &Strip,
    bottom: f64,
    end: f64,
) -> Result<DB> {
    // Whatever lies past the end of the axis is cut off there.
    let secs = |time: SimTime| time.as_secs_f64().min(end);
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, bottom + 0.5), (end, bottom + 0.5)],
        RGBColor(225, 225, 225).stroke_width(1),
    )))?;
    for &(start, stop, status) in &strip.down {
        let color = if status == NodeStatus::Paused {
            PAUSED
        } else {
            CRASHED
        };
        chart.draw_series(std::iter::once(Rectangle::new(
            [(secs(start), bottom + 0.02), (secs(stop), bottom + 0.16)],
            color.filled(),
        )))?;
    }
    let pixels_per_second = {
        let (left, _) = chart.backend_coord(&(0.0, 0.0));
        let (right, _) = chart.backend_coord(&(end, 0.0));
        f64::from(right - left) / end
    };
    for bar in &strip.bars {
        let stop = secs(bar.end).max(secs(bar.start) + end * 0.0015);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(secs(bar.start), bottom + 0.2), (stop, bottom + 0.85)],
            series_color(bar.color).mix(0.8).filled(),
        )))?;
        let width = (stop - secs(bar.start)) * pixels_per_second;
        if !bar.label.is_empty() && width > 7.0 * bar.label.chars().count() as f64 {
            chart.draw_series(std::iter::once(Text::new(
                bar.label.clone(),
                (secs(bar.start) + 2.0 / pixels_per_second, bottom + 0.52),
                ("sans-serif", 11)
                    .into_font()
                    .color(&WHITE)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            )))?;
        }
    }
    for &(time, color) in strip
        .ticks
        .iter()
        .filter(|(time, _)| time.as_secs_f64() <= end)
    {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(secs(time), bottom + 0.05), (secs(time), bottom + 0.95)],
            series_color(color).stroke_width(2),
        )))?;
    }
    Ok(())
}

/// A level row: the area under a step line, its top value written at the
/// left.
fn draw_level<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    level: &Level,
    bottom: f64,
    end: f64,
) -> Result<DB> {
    let height = f64::from(level.rows.max(1)) - 0.2;
    let max = level.max.max(1e-9);
    let y = |value: f64| bottom + height * (value / max).clamp(0.0, 1.0);
    let mut points = vec![(0.0, y(0.0))];
    let mut last = 0.0;
    for &(time, value) in level
        .steps
        .iter()
        .filter(|(time, _)| time.as_secs_f64() <= end)
    {
        points.push((time.as_secs_f64(), y(last)));
        points.push((time.as_secs_f64(), y(value)));
        last = value;
    }
    points.push((end, y(last)));
    let mut area = points.clone();
    area.push((end, bottom));
    area.push((0.0, bottom));
    chart.draw_series(std::iter::once(Polygon::new(
        area,
        series_color(SeriesColor::Plain).mix(0.18).filled(),
    )))?;
    chart.draw_series(std::iter::once(PathElement::new(
        points,
        series_color(SeriesColor::Plain).stroke_width(2),
    )))?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, y(max)), (end, y(max))],
        RGBColor(210, 210, 210).stroke_width(1),
    )))?;
    chart.draw_series(std::iter::once(Text::new(
        format!("{}", level.max),
        (end * 0.002, y(max)),
        ("sans-serif", 11)
            .into_font()
            .color(&RGBColor(90, 90, 90))
            .pos(Pos::new(HPos::Left, VPos::Top)),
    )))?;
    Ok(())
}

fn draw_marker<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    x: f64,
    label: &str,
    rows: f64,
    end: f64,
) -> Result<DB> {
    let color = series_color(SeriesColor::Good);
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(x, 0.0), (x, rows)],
        color.stroke_width(2),
    )))?;
    chart.draw_series(std::iter::once(Text::new(
        label.to_string(),
        (x + end * 0.003, rows - 0.05),
        ("sans-serif", 12)
            .into_font()
            .color(&color)
            .pos(Pos::new(HPos::Left, VPos::Top)),
    )))?;
    Ok(())
}

/// The row's label, left of the plot. `backend_coord` gives absolute
/// pixels; the panel's area starts at its base pixel.
fn draw_row_label<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart<'_, DB>,
    strip: &Strip,
    middle: f64,
) -> Result<DB> {
    let (x, y) = chart.backend_coord(&(0.0, middle));
    let (base_x, base_y) = area.get_base_pixel();
    let color = if strip.flagged {
        series_color(SeriesColor::Bad)
    } else {
        BLACK
    };
    area.draw(&Text::new(
        strip.label.clone(),
        (x - base_x - 8, y - base_y),
        ("sans-serif", 12)
            .into_font()
            .color(&color)
            .pos(Pos::new(HPos::Right, VPos::Center)),
    ))?;
    Ok(())
}
