//! What a protocol brings to faultline, in one trait.
//!
//! A [`Harness`] is a protocol's state machine (it is a [`Protocol`]) together
//! with everything that makes it testable from a scenario file:
//!
//! - its **block**: the serde type of `protocol: Name(...)` as written, and
//!   [`Harness::configure`], which validates it into the state machine with
//!   errors that name the field (the scenario module adds file, line and
//!   column);
//! - its **checks**: an enum of what `checks: [...]` may list, and
//!   [`Harness::PROPERTIES`], each a safety property (always), a liveness
//!   property (eventually) or a coverage property (sometimes), in the manner
//!   of stateright's `Property`;
//! - its **judge**: an observer of the run that produces the reports, the
//!   coverage and the metrics;
//! - its **charts**: marks on the timeline and charts of its own, as plain
//!   data drawn by `plot`.
//!
//! Built-in protocols implement it in `src/protocols/<name>/` and are listed
//! in `protocols::registry`; a user's protocol implements it in their crate
//! and joins the list with `Registry::with` (see docs/custom-protocol.md).

use crate::check::{CheckReport, Coverage, Property};
use crate::node::time::{SimDuration, SimTime};
use crate::node::{NodeId, Protocol};
use crate::plot::{Chart, TimelineData};
use crate::sim::{Observer, ScheduledFault};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::Duration;

/// A protocol faultline can run from a scenario file and judge.
pub trait Harness: Protocol + Clone + Debug + Send + Sync + 'static {
    /// The name written in `protocol: Name(...)`.
    const NAME: &'static str;
    /// Every property the protocol offers, by the name `checks: [...]` and
    /// `expect: Violates([...])` use. Coverage properties are reported on
    /// every run, listed or not.
    const PROPERTIES: &'static [Property];
    /// The scenario block as written (use `#[serde(deny_unknown_fields)]`).
    type Block: DeserializeOwned + Debug;
    /// A check as `checks: [...]` lists it, with its parameters.
    type Check: Check;
    /// Watches a run and judges it.
    type Judge: Judge + Observer<Self>;
    /// Records what the protocol's charts show; only built when charts are
    /// drawn (use `()` for none).
    type Recorder: Observer<Self>;

    /// Validates the block into the state machine.
    fn configure(block: Self::Block, scenario: &ScenarioFacts<'_>) -> Result<Self, BlockError>;

    /// Validates one listed check's parameters (the place is relative to the
    /// check).
    fn check_valid(_check: &Self::Check, _scenario: &ScenarioFacts<'_>) -> Result<(), BlockError> {
        Ok(())
    }

    /// The judge for one run, judging `checks` (coverage ones included: it
    /// may leave them to `Judge::coverage`).
    fn judge(&self, checks: &[Self::Check], setup: &RunSetup<'_>) -> Self::Judge;

    /// The chart recorder for one run.
    fn recorder(&self, setup: &RunSetup<'_>) -> Self::Recorder;

    /// Adds the protocol's own marks to the timeline and returns its other
    /// charts as (file stem, chart).
    fn charts(
        &self,
        _judge: &Self::Judge,
        _recorder: Self::Recorder,
        _timeline: &mut TimelineData,
        _setup: &RunSetup<'_>,
    ) -> Vec<(String, Chart)> {
        Vec::new()
    }

    /// Files of its own for the run folder, as (file name, bytes): a
    /// history of client operations, say. Only asked for when the folder is
    /// written; the runner writes each atomically beside `trace.jsonl`.
    fn files(&self, _judge: &Self::Judge) -> Vec<(String, Vec<u8>)> {
        Vec::new()
    }

    /// The copy one run uses. Runs of a sweep go to different threads; a
    /// protocol that shares reference-counted values may want copies that
    /// share nothing.
    fn for_run(&self) -> Self {
        self.clone()
    }
}

/// A check as listed in a scenario: it knows its property's name.
pub trait Check: DeserializeOwned + Clone + Debug + Send + Sync + 'static {
    /// The property this check judges, one of `Harness::PROPERTIES`.
    fn name(&self) -> &'static str;
}

/// What a judge produces at the end of a run.
pub trait Judge {
    /// One report per listed safety or liveness check, in the order listed.
    /// Listed coverage properties may be left out: `coverage` judges them.
    fn reports(&mut self, end: SimTime) -> Vec<CheckReport>;

    /// Whether each of the protocol's coverage properties happened.
    fn coverage(&self) -> Vec<Coverage> {
        Vec::new()
    }

    /// Figures a sweep can compare across seeds (detection time,
    /// availability), by name.
    fn metrics(&self, _end: SimTime) -> BTreeMap<String, f64> {
        BTreeMap::new()
    }
}

/// What the scenario file says besides the protocol block, for validating it.
#[derive(Clone, Copy, Debug)]
pub struct ScenarioFacts<'a> {
    /// Nodes are `0..node_count`.
    pub node_count: u32,
    /// The run's simulated length.
    pub duration: SimDuration,
    /// The explicit faults, in time order (the nemesis adds its own per seed).
    pub faults: &'a [ScheduledFault],
    /// The largest latency the network can produce.
    pub latency_max: SimDuration,
    /// The most events that may be pending at once (`limits.pending_max`).
    pub pending_max: usize,
}

impl ScenarioFacts<'_> {
    /// The nodes absent at the start (they join later).
    pub fn joiners(&self) -> Vec<NodeId> {
        crate::sim::fault::joiners(self.node_count, self.faults)
            .iter()
            .enumerate()
            .filter(|(_, &absent)| absent)
            .map(|(node, _)| node as NodeId)
            .collect()
    }
}

/// What a judge, a recorder and the charts know of one run before it starts.
#[derive(Clone, Copy, Debug)]
pub struct RunSetup<'a> {
    /// Nodes are `0..node_count`.
    pub node_count: u32,
    /// The run's seed.
    pub seed: u64,
    /// The run's simulated length.
    pub duration: SimDuration,
    /// Every fault of this run (explicit and the nemesis's), in time order.
    pub faults: &'a [ScheduledFault],
    /// When the last fault is over (pauses and degraded links last a while).
    pub faults_end: SimTime,
    /// The largest latency the network can produce.
    pub latency_max: SimDuration,
    /// Per node: absent at the start (it joins later).
    pub absent: &'a [bool],
}

/// One step of a place in a scenario file: a field or a list index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A named field.
    Field(&'static str),
    /// A list element.
    Index(usize),
}

/// Where in a protocol block (or a check) something is wrong, e.g.
/// `Place::field("values").index(2).then("node")`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Place(pub Vec<Step>);

impl Place {
    /// The block (or check) itself.
    pub fn root() -> Place {
        Place(Vec::new())
    }
    /// A field of the block.
    pub fn field(name: &'static str) -> Place {
        Place(vec![Step::Field(name)])
    }
    /// A field further in.
    pub fn then(mut self, name: &'static str) -> Place {
        self.0.push(Step::Field(name));
        self
    }
    /// A list element further in.
    pub fn index(mut self, index: usize) -> Place {
        self.0.push(Step::Index(index));
        self
    }
}

/// A value in a protocol block or check that makes no sense, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockError {
    /// Relative to the block (or to the check), unless `top_level`.
    pub place: Place,
    /// What is wrong, in the user's words.
    pub message: String,
    /// The place is in the scenario itself (`nodes`), not in the block.
    pub top_level: bool,
}

impl BlockError {
    /// An error at `place` in the block (or check).
    pub fn new(place: Place, message: impl Into<String>) -> Self {
        BlockError {
            place,
            message: message.into(),
            top_level: false,
        }
    }

    /// An error at `place` in the scenario, outside the block: the block
    /// does not fit, say, the number of nodes.
    pub fn top_level(place: Place, message: impl Into<String>) -> Self {
        BlockError {
            place,
            message: message.into(),
            top_level: true,
        }
    }
}

/// A duration written as a human string: "250ms", "1.5s", "2m".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// In simulated time.
    pub fn span(self) -> SimDuration {
        SimDuration::from_std(self.0)
    }

    /// In simulated time, which must be longer than zero.
    pub fn positive(self, place: Place) -> Result<SimDuration, BlockError> {
        if self.0.is_zero() {
            return Err(BlockError::new(place, "must be longer than zero"));
        }
        Ok(self.span())
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let trimmed = text.trim();
        if trimmed.starts_with('-') {
            return Err(serde::de::Error::custom(format!(
                "duration \"{text}\" is negative; durations are zero or more"
            )));
        }
        humantime::parse_duration(trimmed).map(HumanDuration).map_err(|error| {
            serde::de::Error::custom(format!(
                "invalid duration \"{text}\" ({error}): expected a number with a unit, such as \"250ms\", \"1.5s\" or \"2m\""
            ))
        })
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

/// Checks that `node` exists, for a block's node fields.
pub fn node_exists(place: Place, node: u32, node_count: u32) -> Result<NodeId, BlockError> {
    if node >= node_count {
        return Err(BlockError::new(
            place,
            format!(
                "node {node} does not exist: the scenario has nodes 0..={}",
                node_count - 1
            ),
        ));
    }
    Ok(node)
}

/// Checks that a probability is in 0..=1.
pub fn probability(place: Place, value: f64) -> Result<f64, BlockError> {
    if !(0.0..=1.0).contains(&value) {
        return Err(BlockError::new(
            place,
            format!("{value} is not a probability: expected a number from 0.0 to 1.0"),
        ));
    }
    Ok(value)
}
