//! Everything a protocol of your own needs, in one import:
//! `use faultline::prelude::*;`. See docs/custom-protocol.md.

pub use crate::check::{report, CheckReport, Coverage, Property, PropertyKind, Verdict, Violation};
pub use crate::harness::{
    node_exists, probability, BlockError, Check, Harness, HumanDuration, Judge, Place, RunSetup,
    ScenarioFacts,
};
pub use crate::node::time::{LocalTime, SimDuration, SimTime};
pub use crate::node::{Context, NodeId, Protocol};
pub use crate::plot::{
    Chart, LegendColor, LegendEntry, Mark, MarkKind, MarkSpan, PeerSpan, TimelineData,
};
pub use crate::scenario::Registry;
pub use crate::sim::{NodeStatus, Observer, TraceEvent, WorldView};
