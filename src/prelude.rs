//! Everything a protocol of your own needs, in one import:
//! `use faultline::prelude::*;`. See docs/custom-protocol.md.

pub use crate::check::{report, CheckReport, Coverage, Property, PropertyKind, Verdict, Violation};
pub use crate::harness::{
    node_exists, probability, BlockError, Check, Harness, HumanDuration, Judge, Place, RunSetup,
    ScenarioFacts,
};
pub use crate::node::time::{LocalTime, SimDuration, SimTime};
// `Command` and the random streams are what a protocol's unit tests need to
// build a `Context` and read back what a handler asked for.
pub use crate::node::rng::{Purpose, RngStream};
pub use crate::node::{Command, Context, NodeId, Protocol};
pub use crate::plot::{
    Chart, LegendColor, LegendEntry, Mark, MarkKind, MarkSpan, PeerSpan, TimelineData,
};
pub use crate::scenario::Registry;
pub use crate::sim::{NodeStatus, Observer, TraceEvent, WorldView};
