//! Two more kinds of figure panel, for histories of operations:
//!
//! - `Stacked`: events per time bucket, the kinds stacked in one bar (ok,
//!   failed, timed out), over shaded bands (partitions), with marked moments
//!   above the bars (a stale read);
//! - `Intervals`: labelled bars on rows, each from a start to an end (an
//!   operation from its invocation to its completion, one row per process),
//!   some open-ended, one highlighted, with lines of notes under them.
//!
//! Like the other panels they are plain data and know no protocol.

use super::SeriesColor;
use crate::node::time::{SimDuration, SimTime};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const BAND: RGBColor = RGBColor(253, 205, 155);
const MARK: RGBColor = RGBColor(120, 60, 170);
const HIGHLIGHT: RGBColor = RGBColor(214, 39, 40);
const GREY_TEXT: RGBColor = RGBColor(60, 60, 60);

/// Events per bucket of simulated time, each bucket one bar with the series
/// stacked in order, over labelled bands, with marks above the bars.
#[derive(Clone, Debug, Default)]
pub struct StackedPanel {
    /// Above the panel.
    pub caption: String,
    /// Along the count axis.
    pub value_label: String,
    /// The end of the time axis.
    pub end: SimTime,
    /// The width of a bucket.
    pub bucket: SimDuration,
    /// Shaded periods with a label (partitions).
    pub bands: Vec<(SimTime, SimTime, String)>,
    /// (colour, legend label, times of the events), stacked bottom up.
    pub series: Vec<(SeriesColor, String, Vec<SimTime>)>,
    /// Moments marked with a triangle over the bars: (time, label,
    /// highlighted). Labels are written only for highlighted marks.
    pub marks: Vec<(SimTime, String, bool)>,
    /// The legend entry for the marks ("" for none).
    pub marks_legend: String,
}

/// One bar of an intervals panel.
#[derive(Clone, Debug, PartialEq)]
pub struct IntervalBar {
    /// The row, counted from the top.
    pub row: usize,
    /// Where the bar begins.
    pub start: SimTime,
    /// None: open-ended, drawn to the window's end with a question mark.
    pub end: Option<SimTime>,
    /// Written on the bar.
    pub label: String,
    /// Its fill.
    pub color: SeriesColor,
    /// Drawn red and bold-outlined, whatever its colour.
    pub highlight: bool,
}

/// Labelled bars on rows over a window of simulated time, with notes under.
#[derive(Clone, Debug, Default)]
pub struct IntervalsPanel {
    /// Above the panel.
    pub caption: String,
    /// Row labels, top to bottom.
    pub rows: Vec<String>,
    /// The window shown: its start.
    pub start: SimTime,
    /// The window shown: its end.
    pub end: SimTime,
    /// The bars, in any order.
    pub bars: Vec<IntervalBar>,
    /// Lines of text under the bars.
    pub notes: Vec<String>,
}

type Result<DB> = std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn fill(color: SeriesColor) -> RGBColor {
    match color {
        SeriesColor::Bad => RGBColor(214, 39, 40),
        SeriesColor::Muted => RGBColor(175, 175, 175),
        SeriesColor::Warning => RGBColor(255, 127, 14),
        SeriesColor::Plain => RGBColor(31, 119, 180),
        SeriesColor::Good => RGBColor(44, 160, 44),
    }
}

/// Per series, the count in each bucket.
fn bucket_counts(panel: &StackedPanel, buckets: usize, bucket: f64) -> Vec<Vec<u32>> {
    panel
        .series
        .iter()
        .map(|(_, _, times)| {
            let mut counts = vec![0u32; buckets];
            for time in times {
                let index = ((time.as_secs_f64() / bucket) as usize).min(buckets - 1);
                counts[index] += 1;
            }
            counts
        })
        .collect()
}

pub(super) fn draw_stacked<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &StackedPanel,
) -> Result<DB> {
    let end = panel.end.as_secs_f64().max(1e-9);
    let bucket = panel.bucket.as_secs_f64().max(1e-9);
    let buckets = ((end / bucket).ceil() as usize).clamp(1, 100_000);
    let counts = bucket_counts(panel, buckets, bucket);
    let totals: Vec<u32> = (0..buckets)
        .map(|i| counts.iter().map(|c| c[i]).sum())
        .collect();
    let top = f64::from(totals.iter().copied().max().unwrap_or(0).max(1));
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.caption, ("sans-serif", 15))
        .margin_left(12)
        .margin_right(12)
        .margin_top(4)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end, 0.0..top * 1.45)?;
    chart
        .configure_mesh()
        .y_labels(4)
        .x_desc("simulated time (s)")
        .y_desc(&panel.value_label)
        .x_label_formatter(&|x| format!("{x:.1}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(("sans-serif", 11))
        .axis_desc_style(("sans-serif", 12))
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    for (start, stop, label) in &panel.bands {
        let (start, stop) = (start.as_secs_f64(), stop.as_secs_f64());
        chart.draw_series(std::iter::once(Rectangle::new(
            [(start, 0.0), (stop, top * 1.45)],
            BAND.mix(0.45).filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            label.clone(),
            (start + end * 0.003, top * 1.43),
            ("sans-serif", 11)
                .into_font()
                .color(&RGBColor(90, 60, 20))
                .pos(Pos::new(HPos::Left, VPos::Top)),
        )))?;
    }
    for index in 0..buckets {
        let x = index as f64 * bucket;
        let mut base = 0.0;
        for ((color, _, _), counts) in panel.series.iter().zip(&counts) {
            let count = f64::from(counts[index]);
            if count > 0.0 {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x + bucket * 0.06, base), (x + bucket * 0.94, base + count)],
                    fill(*color).filled(),
                )))?;
            }
            base += count;
        }
    }
    draw_stacked_marks(&mut chart, panel, top)?;
    draw_stacked_legend(area, panel)
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn draw_stacked_marks<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    panel: &StackedPanel,
    top: f64,
) -> Result<DB> {
    for (time, label, highlight) in &panel.marks {
        let color = if *highlight { HIGHLIGHT } else { MARK };
        let x = time.as_secs_f64();
        chart.draw_series(std::iter::once(TriangleMarker::new(
            (x, top * 1.12),
            if *highlight { 7 } else { 5 },
            color.filled(),
        )))?;
        if *highlight && !label.is_empty() {
            chart.draw_series(std::iter::once(Text::new(
                label.clone(),
                (x, top * 1.2),
                ("sans-serif", 11)
                    .into_font()
                    .color(&HIGHLIGHT)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
        }
    }
    Ok(())
}

/// The series' colours and labels, right-aligned under the caption, over
/// the bars' headroom.
fn draw_stacked_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &StackedPanel,
) -> Result<DB> {
    let (width, _) = area.dim_in_pixel();
    let mut entries: Vec<(RGBColor, &str)> = panel
        .series
        .iter()
        .map(|(color, label, _)| (fill(*color), label.as_str()))
        .collect();
    if !panel.marks_legend.is_empty() {
        entries.push((MARK, panel.marks_legend.as_str()));
    }
    let mut x = width as i32 - 14;
    for (color, label) in entries.iter().rev() {
        let text_width = 6 * label.chars().count() as i32;
        x -= text_width;
        area.draw(&Text::new(
            label.to_string(),
            (x, 40),
            ("sans-serif", 11)
                .into_font()
                .color(&GREY_TEXT)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        area.draw(&Rectangle::new([(x - 14, 35), (x - 4, 45)], color.filled()))?;
        x -= 24;
    }
    Ok(())
}

pub(super) fn draw_intervals<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &IntervalsPanel,
) -> Result<DB> {
    let (_, height) = area.dim_in_pixel();
    let notes_height = (16 * panel.notes.len() as u32 + 10).min(height / 2);
    let (bars_area, notes_area) = area.split_vertically(height - notes_height);
    let start = panel.start.as_secs_f64();
    let end = panel.end.as_secs_f64().max(start + 1e-9);
    let rows = panel.rows.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&bars_area)
        .caption(&panel.caption, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(34)
        .y_label_area_size(110)
        .build_cartesian_2d(start..end, 0.0..rows)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc("simulated time (s)")
        .x_label_formatter(&|x| format!("{x:.3}"))
        .label_style(("sans-serif", 11))
        .axis_desc_style(("sans-serif", 12))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    let row_y = |row: usize| rows - row as f64 - 0.5;
    for (row, label) in panel.rows.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(start, row_y(row)));
        let (base_x, base_y) = bars_area.get_base_pixel();
        bars_area.draw(&Text::new(
            label.clone(),
            (x - base_x - 8, y - base_y),
            ("sans-serif", 12)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }
    for bar in &panel.bars {
        draw_interval(&mut chart, bar, row_y(bar.row), end)?;
    }
    for (index, note) in panel.notes.iter().enumerate() {
        notes_area.draw(&Text::new(
            note.clone(),
            (24, 4 + 16 * index as i32),
            ("sans-serif", 12)
                .into_font()
                .color(if index == 0 { &BLACK } else { &GREY_TEXT })
                .pos(Pos::new(HPos::Left, VPos::Top)),
        ))?;
    }
    Ok(())
}

fn draw_interval<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    bar: &IntervalBar,
    y: f64,
    window_end: f64,
) -> Result<DB> {
    let start = bar.start.as_secs_f64();
    let stop = bar.end.map_or(window_end, |end| end.as_secs_f64());
    let color = if bar.highlight {
        HIGHLIGHT
    } else {
        fill(bar.color)
    };
    // Open-ended bars are paler: nobody knows when, or whether, they ended.
    let shade = if bar.end.is_some() { 0.85 } else { 0.35 };
    chart.draw_series(std::iter::once(Rectangle::new(
        [(start, y - 0.3), (stop, y + 0.3)],
        color.mix(shade).filled(),
    )))?;
    let outline = if bar.highlight { 3 } else { 1 };
    chart.draw_series(std::iter::once(Rectangle::new(
        [(start, y - 0.3), (stop, y + 0.3)],
        color.stroke_width(outline),
    )))?;
    let label = if bar.end.is_some() {
        bar.label.clone()
    } else {
        format!("{} ?", bar.label)
    };
    chart.draw_series(std::iter::once(Text::new(
        label,
        (start, y + 0.32),
        ("sans-serif", 12)
            .into_font()
            .color(if bar.highlight { &HIGHLIGHT } else { &BLACK })
            .pos(Pos::new(HPos::Left, VPos::Bottom)),
    )))?;
    Ok(())
}
