//! The consistent-hashing chart, four panels:
//!
//! 1. ownership disagreement over time: the share of sampled keys whose
//!    primary owner is not the same in every up node's membership view, with
//!    partitions as shaded bands and the end of the last fault marked;
//! 2. keys per node, relative to the mean, for the ring at 1, 10, 100 and 1000
//!    virtual nodes, modulo and rendezvous, side by side;
//! 3. the share of keys that moved at each join or leave, per scheme, against
//!    the ideal 1/n;
//! 4. the ring: each virtual node a tick at its position, coloured by node.

use super::{register_font, HashingChartData};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const WIDTH: u32 = 1400;
const HEIGHT: u32 = 1000;
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

pub fn hashing_svg(data: &HashingChartData) -> String {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, data).expect("drawing to an in-memory SVG cannot fail");
        root.present()
            .expect("presenting an in-memory SVG cannot fail");
    }
    svg
}

pub fn hashing_png(data: &HashingChartData) -> Vec<u8> {
    register_font();
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, data).expect("drawing to an in-memory bitmap cannot fail");
        root.present()
            .expect("presenting an in-memory bitmap cannot fail");
    }
    super::encode_png(&pixels, WIDTH, HEIGHT)
}

type Result<DB> = std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, data: &HashingChartData) -> Result<DB> {
    root.fill(&WHITE)?;
    let (header, body) = root.split_vertically(62);
    super::timeline::draw_header(
        &header,
        &format!("Consistent hashing — {}", data.title),
        &data.subtitle,
    )?;
    let (top, bottom) = body.split_vertically(360);
    let (disagreement, requests) = top.split_vertically(250);
    draw_disagreement(&disagreement, data)?;
    draw_requests(&requests, data)?;
    let (loads, rest) = bottom.split_horizontally(620);
    draw_loads(&loads, data)?;
    let (moves, ring) = rest.split_horizontally(430);
    draw_moves(&moves, data)?;
    draw_ring(&ring, data)?;
    Ok(())
}

fn draw_disagreement<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &HashingChartData,
) -> Result<DB> {
    let end = data.end.as_secs_f64().max(1e-9);
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Ownership disagreement between membership views",
            ("sans-serif", 17),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end, 0.0..100.0)?;
    chart
        .configure_mesh()
        .x_desc("simulated time (s)")
        .y_desc("% of keys")
        .x_label_formatter(&|x| format!("{x:.1}"))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for partition in &data.partitions {
        let (start, stop) = (partition.start.as_secs_f64(), partition.end.as_secs_f64());
        chart.draw_series(std::iter::once(Rectangle::new(
            [(start, 0.0), (stop, 100.0)],
            BAND.mix(0.6).filled(),
        )))?;
        let groups: Vec<String> = partition
            .groups
            .iter()
            .map(|g| {
                format!(
                    "{{{}}}",
                    g.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                )
            })
            .collect();
        chart.draw_series(std::iter::once(Text::new(
            format!("partition {}", groups.join(" | ")),
            (start + end * 0.004, 96.0),
            ("sans-serif", 12)
                .into_font()
                .color(&RGBColor(90, 60, 20))
                .pos(Pos::new(HPos::Left, VPos::Top)),
        )))?;
    }
    // A step line: disagreement holds until the next change.
    let mut points = Vec::new();
    let mut last = 0.0;
    for &(time, value) in &data.disagreement {
        points.push((time.as_secs_f64(), last));
        points.push((time.as_secs_f64(), value * 100.0));
        last = value * 100.0;
    }
    points.push((end, last));
    chart.draw_series(LineSeries::new(
        points,
        RGBColor(200, 30, 30).stroke_width(2),
    ))?;
    let healed = data.faults_end.as_secs_f64();
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(healed, 0.0), (healed, 100.0)],
        RGBColor(0, 140, 60).stroke_width(2),
    )))?;
    chart.draw_series(std::iter::once(Text::new(
        "last fault over".to_string(),
        (healed + end * 0.004, 80.0),
        ("sans-serif", 12)
            .into_font()
            .color(&RGBColor(0, 140, 60))
            .pos(Pos::new(HPos::Left, VPos::Center)),
    )))?;
    Ok(())
}

/// Misrouted and failed requests per 100 ms of simulated time.
fn draw_requests<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &HashingChartData,
) -> Result<DB> {
    let end = data.end.as_secs_f64().max(1e-9);
    let bucket = 0.1;
    let buckets = ((end / bucket).ceil() as usize).max(1);
    let count = |times: &[crate::sim::SimTime]| {
        let mut counts = vec![0u32; buckets];
        for time in times {
            let index = ((time.as_secs_f64() / bucket) as usize).min(buckets - 1);
            counts[index] += 1;
        }
        counts
    };
    let (failed, misrouted) = (count(&data.failed), count(&data.misrouted));
    let top = failed
        .iter()
        .chain(&misrouted)
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
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
        .y_desc("per 100ms")
        .label_style(("sans-serif", 11))
        .axis_desc_style(("sans-serif", 11))
        .draw()?;
    for (i, (&f, &m)) in failed.iter().zip(&misrouted).enumerate() {
        let x = i as f64 * bucket;
        if f > 0 {
            let bar = Rectangle::new(
                [(x, 0.0), (x + bucket * 0.45, f64::from(f))],
                RGBColor(214, 39, 40).filled(),
            );
            chart.draw_series(std::iter::once(bar))?;
        }
        if m > 0 {
            let bar = Rectangle::new(
                [(x + bucket * 0.5, 0.0), (x + bucket * 0.95, f64::from(m))],
                RGBColor(255, 127, 14).filled(),
            );
            chart.draw_series(std::iter::once(bar))?;
        }
    }
    chart.draw_series(std::iter::once(Text::new(
        format!(
            "requests: red, never served ({} in all); orange, misrouted: the receiver is no owner in its own view ({})",
            data.failed.len(),
            data.misrouted.len()
        ),
        (end * 0.01, top * 1.28),
        ("sans-serif", 12).into_font().color(&RGBColor(60, 60, 60)).pos(Pos::new(HPos::Left, VPos::Top)),
    )))?;
    Ok(())
}

fn draw_loads<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &HashingChartData,
) -> Result<DB> {
    let title = "Keys per node ÷ mean (1.0 is perfect balance)";
    let (caption, grid) = area.split_vertically(30);
    caption.draw(&Text::new(
        title,
        (310, 8),
        ("sans-serif", 17)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let cells = grid.split_evenly((2, 3));
    for (cell, (label, loads, cv)) in cells.iter().zip(&data.loads) {
        let mean = loads.iter().map(|(_, l)| *l as f64).sum::<f64>() / loads.len().max(1) as f64;
        let mut chart = ChartBuilder::on(cell)
            .caption(format!("{label} (cv {cv:.3})"), ("sans-serif", 13))
            .margin(6)
            .x_label_area_size(18)
            .y_label_area_size(34)
            .build_cartesian_2d(0.0..loads.len() as f64, 0.0..3.0)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(4)
            .label_style(("sans-serif", 11))
            .draw()?;
        for (i, (node, load)) in loads.iter().enumerate() {
            let ratio = if mean > 0.0 {
                (*load as f64 / mean).min(3.0)
            } else {
                0.0
            };
            let color = NODE_COLORS[*node as usize % NODE_COLORS.len()];
            chart.draw_series(std::iter::once(Rectangle::new(
                [(i as f64 + 0.1, 0.0), (i as f64 + 0.9, ratio)],
                color.filled(),
            )))?;
        }
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 1.0), (loads.len() as f64, 1.0)],
            BLACK.stroke_width(1),
        )))?;
    }
    Ok(())
}

fn short(scheme: &str) -> &str {
    match scheme {
        "modulo" => "mod",
        "rendezvous" => "rdv",
        _ => "ring",
    }
}

fn draw_moves<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &HashingChartData,
) -> Result<DB> {
    let per_change = data
        .moves
        .first()
        .map_or(1, |(_, schemes, _)| schemes.len().max(1));
    let slots = (data.moves.len() * (per_change + 1)).max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Keys moved per join/leave (line: ideal 1/n; red: modulo)",
            ("sans-serif", 15),
        )
        .margin(12)
        .x_label_area_size(20)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..slots as f64, 0.0..100.0)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("% of keys")
        .label_style(("sans-serif", 12))
        .draw()?;
    if data.moves.is_empty() {
        chart.draw_series(std::iter::once(Text::new(
            "no join or leave in this scenario".to_string(),
            (slots as f64 / 2.0, 50.0),
            ("sans-serif", 13)
                .into_font()
                .color(&RGBColor(90, 90, 90))
                .pos(Pos::new(HPos::Center, VPos::Center)),
        )))?;
    }
    for (group, (change, schemes, ideal)) in data.moves.iter().enumerate() {
        let first = (group * (per_change + 1)) as f64;
        chart.draw_series(std::iter::once(Text::new(
            change.clone(),
            (first + per_change as f64 / 2.0, 97.0),
            ("sans-serif", 11)
                .into_font()
                .color(&RGBColor(60, 60, 60))
                .pos(Pos::new(HPos::Center, VPos::Top)),
        )))?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![
                (first, ideal * 100.0),
                (first + per_change as f64, ideal * 100.0),
            ],
            BLACK.stroke_width(2),
        )))?;
        for (i, (scheme, fraction)) in schemes.iter().enumerate() {
            let x = first + i as f64;
            let color = if scheme == "modulo" {
                RGBColor(214, 39, 40)
            } else {
                RGBColor(31, 119, 180)
            };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x + 0.15, 0.0), (x + 0.85, fraction * 100.0)],
                color.filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("{} {:.0}%", short(scheme), fraction * 100.0),
                (x + 0.5, fraction * 100.0 + 2.0),
                ("sans-serif", 11)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
        }
    }
    Ok(())
}

fn draw_ring<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &HashingChartData,
) -> Result<DB> {
    let (width, height) = area.dim_in_pixel();
    let center = (width as i32 / 2, height as i32 / 2 + 10);
    let radius = (width.min(height) as i32 / 2 - 40).max(20);
    area.draw(&Text::new(
        "The ring",
        (center.0, 6),
        ("sans-serif", 17)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    if data.ring.is_empty() {
        area.draw(&Text::new(
            "(no ring: this scheme has none)",
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
    // Owned arcs: a key belongs to the first point clockwise from it, so the
    // arc that ends at a point is that point's node's.
    let at_angle = |angle: f64, r: i32| {
        (
            center.0 + (libm::sin(angle) * r as f64) as i32,
            center.1 - (libm::cos(angle) * r as f64) as i32,
        )
    };
    let angle_of = |point: u64| point as f64 / u64::MAX as f64 * std::f64::consts::TAU;
    for (index, &(point, node)) in data.ring.iter().enumerate() {
        let previous = if index == 0 {
            data.ring[data.ring.len() - 1].0
        } else {
            data.ring[index - 1].0
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
    area.draw(&Text::new(
        "outer ticks: virtual nodes; inner band: the arcs each node owns",
        (center.0, height as i32 - 14),
        ("sans-serif", 11)
            .into_font()
            .color(&RGBColor(80, 80, 80))
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    for &(point, node) in &data.ring {
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
