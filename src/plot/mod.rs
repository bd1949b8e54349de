//! Charts: the only module that knows plotters. It draws plain data handed to
//! it by the runner; it knows nothing of protocols, RON or the engine's loop.
//!
//! Text is drawn with DejaVu Sans embedded in the binary (plotters' `ab_glyph`
//! feature), so charts render identically on a machine with no fonts at all.

mod hashing;
mod timeline;

use crate::check::Violation;
use crate::node::NodeId;
use crate::sim::SimTime;

pub use hashing::{hashing_png, hashing_svg};
pub use timeline::{timeline_png, timeline_svg};

/// (scheme label, keys per node, coefficient of variation)
pub type SchemeLoad = (String, Vec<(NodeId, u64)>, f64);
/// (membership change, [(scheme label, fraction of keys moved)], ideal fraction)
pub type ChangeMoves = (String, Vec<(String, f64)>, f64);

/// Everything the consistent-hashing chart shows.
#[derive(Clone, Debug, Default)]
pub struct HashingChartData {
    pub title: String,
    pub subtitle: String,
    pub end: SimTime,
    /// (time, fraction of sampled keys whose owner the up views disagree on)
    pub disagreement: Vec<(SimTime, f64)>,
    pub partitions: Vec<PartitionSpan>,
    /// When the last fault ended.
    pub faults_end: SimTime,
    /// When requests were misrouted, and when never-served requests were sent.
    pub misrouted: Vec<SimTime>,
    pub failed: Vec<SimTime>,
    pub loads: Vec<SchemeLoad>,
    pub moves: Vec<ChangeMoves>,
    /// The ring's points (position, owner), if the scheme is a ring.
    pub ring: Vec<(u64, NodeId)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodeSpan {
    pub node: NodeId,
    pub start: SimTime,
    pub end: SimTime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PartitionSpan {
    pub start: SimTime,
    pub end: SimTime,
    pub groups: Vec<Vec<NodeId>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LinkSpan {
    pub from: NodeId,
    pub to: NodeId,
    pub start: SimTime,
    pub end: SimTime,
}

/// A span during which `node` held a view of `peer` (for the heartbeat
/// detector: suspected it), right or wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerSpan {
    pub node: NodeId,
    pub peer: NodeId,
    pub start: SimTime,
    pub end: Option<SimTime>,
    pub mistake: bool,
}

/// What a protocol mark stands for; the chart gives each kind a shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// A request arrived from outside (a client value).
    Input,
    /// A leader-like step begins (Paxos: prepare).
    Start,
    /// A vote or promise.
    Vote,
    /// A proposal (Paxos: accept request sent).
    Propose,
    /// An acceptance (Paxos: accepted).
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

/// A labelled, coloured interval on a node's mark row (a lock holding, a
/// server's grant), coloured by `group`.
#[derive(Clone, Debug, PartialEq)]
pub struct MarkSpan {
    pub node: NodeId,
    pub start: SimTime,
    pub end: SimTime,
    pub group: u32,
    pub label: String,
}

/// A protocol event on a node's lane. `group` picks the colour (Paxos: the
/// ballot's proposer, so dueling proposers show as interleaved colours) and
/// `label` is written next to marks that carry one.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub node: NodeId,
    pub time: SimTime,
    pub kind: MarkKind,
    pub group: u32,
    pub label: String,
}

/// Everything the timeline chart shows.
#[derive(Clone, Debug, Default)]
pub struct TimelineData {
    pub title: String,
    /// What the chart is ("timeline", "paxos"), for its heading.
    pub kind: String,
    /// One line under the title: the verdicts and the expectation.
    pub subtitle: String,
    pub node_count: u32,
    pub end: SimTime,
    pub crashed: Vec<NodeSpan>,
    pub paused: Vec<NodeSpan>,
    pub partitions: Vec<PartitionSpan>,
    pub cuts: Vec<LinkSpan>,
    pub degraded: Vec<LinkSpan>,
    /// (time, node, what changed), e.g. "+20000 ppm".
    pub clock_changes: Vec<(SimTime, NodeId, String)>,
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
