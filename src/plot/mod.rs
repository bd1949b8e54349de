//! Charts: the only module that knows plotters. It draws plain data handed to
//! it by the runner; it knows nothing of protocols, RON or the engine's loop.
//!
//! Text is drawn with DejaVu Sans embedded in the binary (plotters' `ab_glyph`
//! feature), so charts render identically on a machine with no fonts at all.

mod timeline;

use crate::check::Violation;
use crate::node::NodeId;
use crate::sim::SimTime;

pub use timeline::{timeline_png, timeline_svg};

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

/// Everything the timeline chart shows.
#[derive(Clone, Debug, Default)]
pub struct TimelineData {
    pub title: String,
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
