//! Charts: the only module that knows plotters. It draws plain data handed to
//! it by the runner; it knows nothing of protocols, RON or the engine's loop.
//!
//! Text is drawn with DejaVu Sans embedded in the binary (plotters' `ab_glyph`
//! feature), so charts render identically on a machine with no fonts at all.

mod figure;
mod intervals;
mod strips;
mod timeline;

use crate::check::Violation;
use crate::node::NodeId;
use crate::sim::SimTime;

pub use figure::{
    figure_png, figure_svg, BarGridPanel, BarGroup, CountsPanel, Figure, FigureRow, GroupsPanel,
    Panel, RingPanel, StepsPanel,
};
pub use intervals::{IntervalBar, IntervalsPanel, StackedPanel};
pub use strips::{Level, Strip, StripBar, StripsPanel};
pub use timeline::{timeline_png, timeline_svg};

/// A chart: the timeline (with a protocol's marks), or a figure of panels.
#[derive(Clone, Debug)]
pub enum Chart {
    /// Lanes per node across simulated time.
    Timeline(Box<TimelineData>),
    /// Panels in rows.
    Figure(Figure),
}

impl Chart {
    /// The chart as SVG text.
    pub fn svg(&self) -> String {
        match self {
            Chart::Timeline(data) => timeline_svg(data),
            Chart::Figure(figure) => figure_svg(figure),
        }
    }

    /// The chart as PNG bytes.
    pub fn png(&self) -> Vec<u8> {
        match self {
            Chart::Timeline(data) => timeline_png(data),
            Chart::Figure(figure) => figure_png(figure),
        }
    }

    /// Sets the header's two lines.
    pub fn set_header(&mut self, title: String, subtitle: String) {
        match self {
            Chart::Timeline(data) => {
                data.title = title;
                data.subtitle = subtitle;
            }
            Chart::Figure(figure) => {
                figure.title = title;
                figure.subtitle = subtitle;
            }
        }
    }
}

/// The colour of a bar series, by meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeriesColor {
    /// Something went wrong (red).
    Bad,
    /// Something to look at (orange).
    Warning,
    /// Neutral (blue).
    Plain,
    /// As it should be (green).
    Good,
    /// In the background, waiting (grey).
    Muted,
}

/// A colour in a legend, by meaning; the timeline picks the shade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegendColor {
    /// The colour of mark group `n` (a ballot's proposer, a token).
    Group(u32),
    /// Success, chosen, accepted (green).
    Success,
    /// Refused, rejected (orange).
    Refusal,
    /// Unsafe, a mistake, a violation (red).
    Unsafe,
    /// A peer span that was expected (grey).
    Explained,
    /// Black.
    Plain,
}

/// One entry a protocol adds to the timeline's legend.
#[derive(Clone, Debug, PartialEq)]
pub struct LegendEntry {
    /// The swatch.
    pub color: LegendColor,
    /// The words, with a shape character first where marks have one.
    pub label: String,
}

impl LegendEntry {
    /// An entry.
    pub fn new(color: LegendColor, label: impl Into<String>) -> Self {
        LegendEntry {
            color,
            label: label.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
/// A span of time a node spent in some state (crashed, paused).
pub struct NodeSpan {
    /// The node.
    pub node: NodeId,
    /// When it began.
    pub start: SimTime,
    /// When it ended (the run's end if it never did).
    pub end: SimTime,
}

#[derive(Clone, Debug, PartialEq)]
/// A span of time the network was partitioned.
pub struct PartitionSpan {
    /// When it began.
    pub start: SimTime,
    /// When it healed.
    pub end: SimTime,
    /// The sides.
    pub groups: Vec<Vec<NodeId>>,
}

#[derive(Clone, Debug, PartialEq)]
/// A span of time one direction of one link was cut or degraded.
pub struct LinkSpan {
    /// The sending end.
    pub from: NodeId,
    /// The receiving end.
    pub to: NodeId,
    /// When it began.
    pub start: SimTime,
    /// When it ended.
    pub end: SimTime,
}

/// A span during which `node` held a view of `peer` (a failure detector's
/// suspicion), right or wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerSpan {
    /// The node holding the view.
    pub node: NodeId,
    /// The node it is about.
    pub peer: NodeId,
    /// When it began.
    pub start: SimTime,
    /// When it ended, if it did.
    pub end: Option<SimTime>,
    /// Whether the view was wrong (drawn red) or explained by the faults (grey).
    pub mistake: bool,
}

/// What a protocol mark stands for; the chart gives each kind a shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// A request arrived from outside (a client value).
    Input,
    /// A leader-like step begins (a round starts).
    Start,
    /// A vote or promise.
    Vote,
    /// A proposal is sent.
    Propose,
    /// A proposal is accepted.
    Accept,
    /// A decision learned.
    Decide,
    /// An operation accepted.
    Success,
    /// An operation refused (e.g. a stale write rejected by fencing).
    Refusal,
    /// An operation accepted although it should not have been.
    Unsafe,
}

/// A labelled, coloured interval on a node's mark row (a holding, a
/// server's grant), coloured by `group`.
#[derive(Clone, Debug, PartialEq)]
pub struct MarkSpan {
    /// The node whose row it is on.
    pub node: NodeId,
    /// When it began.
    pub start: SimTime,
    /// When it ended.
    pub end: SimTime,
    /// The colour group.
    pub group: u32,
    /// The words written on it.
    pub label: String,
}

/// A protocol event on a node's lane. `group` picks the colour (say, the
/// ballot's proposer, so dueling proposers show as interleaved colours) and
/// `label` is written next to marks that carry one.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// The node whose row it is on.
    pub node: NodeId,
    /// When.
    pub time: SimTime,
    /// What it stands for (its shape).
    pub kind: MarkKind,
    /// The colour group.
    pub group: u32,
    /// Words written next to it, if any.
    pub label: String,
}

/// Everything the timeline chart shows.
#[derive(Clone, Debug, Default)]
pub struct TimelineData {
    /// After the heading: the scenario and seed.
    pub title: String,
    /// What the chart is ("Timeline", or the protocol's name), first in the header.
    pub heading: String,
    /// One line under the title: the verdicts and the expectation.
    pub subtitle: String,
    /// How many lanes.
    pub node_count: u32,
    /// When the run ended.
    pub end: SimTime,
    /// Crash spans, drawn over the lanes.
    pub crashed: Vec<NodeSpan>,
    /// Pause spans, drawn over the lanes.
    pub paused: Vec<NodeSpan>,
    /// Partitions, drawn as bands.
    pub partitions: Vec<PartitionSpan>,
    /// Cut links.
    pub cuts: Vec<LinkSpan>,
    /// Degraded links.
    pub degraded: Vec<LinkSpan>,
    /// (time, node, what changed), e.g. "+20000 ppm".
    pub clock_changes: Vec<(SimTime, NodeId, String)>,
    /// Views nodes held of each other (suspicions).
    pub peer_spans: Vec<PeerSpan>,
    /// (check name, violation).
    pub violations: Vec<(String, Violation)>,
    /// Protocol marks, drawn on a row under each lane.
    pub marks: Vec<Mark>,
    /// Moments drawn as vertical lines across all lanes, e.g. "value chosen".
    pub moments: Vec<(SimTime, String)>,
    /// Draw only up to this time (zooms in on where things happen).
    pub view_end: Option<SimTime>,
    /// Coloured intervals on the mark rows.
    pub spans: Vec<MarkSpan>,
    /// Lane names instead of "node N", if given (one per node).
    pub lane_names: Vec<String>,
    /// What a peer span means, as a verb: the rows read "`verb` `peer`?".
    pub peer_verb: String,
    /// The protocol's legend entries, after the timeline's own.
    pub legend: Vec<LegendEntry>,
}

impl TimelineData {
    /// Draws only up to a little after `busy_until` (a tenth more, and 20ms),
    /// never past the end: zooms in on where a protocol acted.
    pub fn zoom_to(&mut self, busy_until: SimTime) {
        let margin = crate::sim::SimDuration::from_nanos(busy_until.as_nanos() / 10)
            .saturating_add(crate::sim::SimDuration::from_millis(20));
        self.view_end = Some(busy_until.after(margin).min(self.end));
    }
}

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font once; every chart calls this before drawing.
fn register_font() {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans font failed to load"));
        plotters::style::register_font("sans-serif", plotters::style::FontStyle::Bold, FONT)
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans font failed to load"));
    });
}

/// Encodes an RGB buffer as PNG bytes.
fn encode_png(pixels: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .expect("PNG header for an in-memory buffer");
        writer
            .write_image_data(pixels)
            .expect("PNG data for an in-memory buffer");
    }
    bytes
}
