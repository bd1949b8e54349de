//! Scenario files: the only module that knows RON. `load` reads a file,
//! parses it and validates it into a `Scenario` made of engine types, or
//! returns an error that names the file, the line and column (where it can),
//! the field, and what was expected.
//!
//! Parsing has two passes. The first reads everything a scenario has whatever
//! its protocol, and keeps the protocol block, the checks and `expect` as raw
//! RON text with their places in the file. The second looks the protocol up
//! by name in a `Registry` and reads those parts into the protocol's own
//! types, mapping error positions back into the file.

pub(crate) mod file;
mod locate;
mod messages;
mod registry;

use crate::check::Expectation;
use crate::harness::Step;
use crate::node::NodeId;
use crate::run::Runnable;
use crate::sim::fault::{validate_schedule, Fault, ScheduledFault};
use crate::sim::nemesis::{NemesisConfig, NemesisKind};
use crate::sim::network::{Latency, NetworkConfig};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::world::{EVENTS_MAX_DEFAULT, INBOX_MAX_DEFAULT, PENDING_MAX_DEFAULT};
use file::*;
use locate::locate;
pub use registry::Registry;
use ron::value::RawValue;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The most nodes a scenario may have.
pub const NODES_MAX: u32 = 1_000;
/// The longest simulated run.
pub const DURATION_MAX: Duration = Duration::from_secs(24 * 3600);
/// The most faults a scenario may list.
pub const FAULTS_MAX: usize = 100_000;
/// Upper bound for `limits.events_max`.
pub const EVENTS_MAX_LIMIT: u64 = 10_000_000_000;
/// Upper bound for `limits.pending_max` (the queue's own limit).
pub const PENDING_MAX_LIMIT: usize = crate::sim::queue::PENDING_LIMIT;

/// A validated scenario, in engine terms.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Names the output folder.
    pub name: String,
    /// What the scenario shows.
    pub description: String,
    /// The seed a plain `run` uses.
    pub seed: u64,
    /// Simulated time.
    pub duration: SimDuration,
    /// Nodes are `0..node_count`.
    pub node_count: u32,
    /// Latency, loss, duplication, order.
    pub network: NetworkConfig,
    /// The protocol, configured, with its listed checks.
    pub protocol: Arc<dyn Runnable>,
    /// Explicit faults in time order (equal times keep file order).
    pub faults: Vec<ScheduledFault>,
    /// The random nemesis, if any.
    pub nemesis: Option<NemesisConfig>,
    /// The declared outcome.
    pub expect: Expectation,
    /// Resource limits.
    pub limits: Limits,
    /// The file as parsed, for writing the scenario back out.
    pub file: ScenarioFile,
}

/// Resource limits of a run (`limits:` in the file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The run stops early after this many events from the queue.
    pub events_max: u64,
    /// The most messages and timers a paused node queues.
    pub inbox_max: usize,
    /// The most events pending at once; a run that needs more stops with an error.
    pub pending_max: usize,
}

/// Why a scenario file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file cannot be read.
    #[error("{path}: cannot read the file: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not a scenario: bad RON, wrong type, unknown or missing field.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based.
        line: usize,
        /// 1-based.
        column: usize,
        /// What was expected.
        message: String,
    },
    /// Well-formed, but the values do not make sense.
    #[error("{}", display_invalid(path, *location, field, message))]
    Invalid {
        /// The file.
        path: String,
        /// Line and column, where found.
        location: Option<(usize, usize)>,
        /// The field, as `faults[3].fault.node`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

fn display_invalid(
    path: &str,
    location: Option<(usize, usize)>,
    field: &str,
    message: &str,
) -> String {
    match location {
        Some((line, column)) => format!("{path}:{line}:{column}: {field}: {message}"),
        None => format!("{path}: {field}: {message}"),
    }
}

/// Reads and validates a scenario file, with the protocols of `registry`.
pub fn load(path: &Path, registry: &Registry) -> Result<Scenario, ScenarioError> {
    let label = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: label.clone(),
        source,
    })?;
    parse(&source, &label, registry)
}

fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
}

/// Parses and validates scenario text; `label` names it in errors.
pub fn parse(source: &str, label: &str, registry: &Registry) -> Result<Scenario, ScenarioError> {
    let parsed: ScenarioSource<'_> = ron_options()
        .from_str(source)
        .map_err(|error| ron_error(source, label, &error, 0, &[]))?;
    Validator {
        source,
        label,
        registry,
    }
    .scenario(parsed)
}

/// A RON error as a scenario error; `offset` is where the text that was
/// parsed starts in `source` (for a raw part read in the second pass).
fn ron_error(
    source: &str,
    label: &str,
    error: &ron::error::SpannedError,
    offset: usize,
    properties: &[crate::check::Property],
) -> ScenarioError {
    // The end of an unfinished file is where it ends; anything else is where
    // the offending value starts.
    let at = match error.code {
        ron::Error::Eof => error.span.end,
        _ => error.span.start,
    };
    let (line, column) = messages::absolute(source, offset, at);
    ScenarioError::Parse {
        path: label.to_string(),
        line,
        column,
        message: messages::describe(&error.code, source, line, column, properties),
    }
}

/// A raw part of the file (the protocol block, the checks, `expect`) and
/// where it starts.
struct Part<'a> {
    text: &'a str,
    offset: usize,
}

impl<'a> Part<'a> {
    fn of(source: &'a str, raw: &'a RawValue) -> Part<'a> {
        let text = raw.get_ron();
        let offset = (text.as_ptr() as usize)
            .checked_sub(source.as_ptr() as usize)
            .filter(|&offset| offset + text.len() <= source.len())
            .expect("raw values borrow from the source");
        Part { text, offset }
    }
}

/// Writes a scenario as a RON file body.
pub fn to_ron(file: &ScenarioFile) -> String {
    // Struct names off, so nested values read `( ... )` as people write them;
    // the top-level name is put back by hand.
    let config = ron::ser::PrettyConfig::new()
        .depth_limit(4)
        .struct_names(false);
    format!(
        "Scenario{}",
        ron::ser::to_string_pretty(file, config).expect("scenario files serialize")
    )
}

/// Raw RON text we wrote ourselves, for the parts of a written-back file.
fn raw(text: String) -> Box<RawValue> {
    RawValue::from_boxed_ron(text.into_boxed_str()).expect("we write valid RON")
}

impl Scenario {
    /// The configured protocol and its checks, if the scenario runs `H`.
    pub fn configured<H: crate::harness::Harness>(&self) -> Option<&crate::run::Configured<H>> {
        self.protocol.as_any().downcast_ref()
    }

    /// The scenario as a plain file with `seed` and this explicit fault list in
    /// place of the nemesis: running it reproduces the run exactly.
    pub fn explicit_file(&self, seed: u64, faults: &[ScheduledFault]) -> ScenarioFile {
        let mut file = self.file.clone();
        file.seed = seed;
        file.nemesis = None;
        file.faults = faults.iter().map(fault_entry).collect();
        file
    }

    /// A plain scenario for `seed` with these faults, duration and loss, and
    /// `expect: Violates(expect)`: what the shrinker writes.
    pub fn shrunk_file(
        &self,
        seed: u64,
        faults: &[ScheduledFault],
        duration: SimDuration,
        drop: f64,
        duplicate: f64,
        expect: &[&str],
    ) -> ScenarioFile {
        let mut file = self.explicit_file(seed, faults);
        file.duration = human(duration);
        file.network.drop = drop;
        file.network.duplicate = duplicate;
        file.expect = raw(format!("Violates([{}])", expect.join(", ")));
        file
    }
}

fn human(span: SimDuration) -> HumanDuration {
    HumanDuration(span.to_std())
}

fn fault_entry(scheduled: &ScheduledFault) -> FaultEntry {
    let fault = match &scheduled.fault {
        Fault::Partition { groups } => {
            let mut bridges: Vec<u32> = Vec::new();
            let all: Vec<u32> = groups.iter().flatten().copied().collect();
            for &node in &all {
                if all.iter().filter(|&&n| n == node).count() > 1 && !bridges.contains(&node) {
                    bridges.push(node);
                }
            }
            bridges.sort_unstable();
            FaultFile::Partition {
                groups: groups.clone(),
                bridges,
            }
        }
        Fault::Heal => FaultFile::Heal,
        Fault::CutLink { from, to } => FaultFile::CutLink {
            from: *from,
            to: *to,
        },
        Fault::RestoreLink { from, to } => FaultFile::RestoreLink {
            from: *from,
            to: *to,
        },
        Fault::Crash { node } => FaultFile::Crash { node: *node },
        Fault::Restart { node } => FaultFile::Restart { node: *node },
        Fault::Join { node } => FaultFile::Join { node: *node },
        Fault::Leave { node } => FaultFile::Leave { node: *node },
        Fault::Pause { node, duration } => FaultFile::Pause {
            node: *node,
            duration: human(*duration),
        },
        Fault::ClockDrift { node, ppm } => FaultFile::ClockDrift {
            node: *node,
            ppm: *ppm,
        },
        Fault::ClockJump { node, by, backward } => FaultFile::ClockJump {
            node: *node,
            by: human(*by),
            backward: *backward,
        },
        Fault::DegradeLink {
            from,
            to,
            duration,
            drop,
            latency,
        } => FaultFile::DegradeLink {
            from: *from,
            to: *to,
            duration: human(*duration),
            drop: *drop,
            latency: latency.as_ref().map(latency_file),
        },
    };
    FaultEntry {
        at: HumanDuration(Duration::from_nanos(scheduled.at.as_nanos())),
        fault,
    }
}

fn latency_file(latency: &Latency) -> LatencyFile {
    match *latency {
        Latency::Constant(latency) => LatencyFile::Constant(human(latency)),
        Latency::Uniform { min, max } => LatencyFile::Uniform {
            min: human(min),
            max: human(max),
        },
        Latency::LogNormal { median, sigma, max } => LatencyFile::LogNormal {
            median: human(median),
            sigma,
            max: human(max),
        },
        Latency::Pareto { min, alpha, max } => LatencyFile::Pareto {
            min: human(min),
            alpha,
            max: human(max),
        },
    }
}

/// Turns raw file values into engine values, failing with a located error.
struct Validator<'a> {
    source: &'a str,
    label: &'a str,
    registry: &'a Registry,
}

type Checked<T> = Result<T, ScenarioError>;

/// A path's printed form: `faults[3].fault.node`.
fn path_text(path: &[Step]) -> String {
    path.iter()
        .enumerate()
        .map(|(i, step)| match step {
            Step::Field(name) if i == 0 => name.to_string(),
            Step::Field(name) => format!(".{name}"),
            Step::Index(index) => format!("[{index}]"),
        })
        .collect()
}

impl Validator<'_> {
    fn fail<T>(&self, path: &[Step], message: impl Into<String>) -> Checked<T> {
        let field = path_text(path);
        Err(ScenarioError::Invalid {
            path: self.label.to_string(),
            location: locate(self.source, path),
            field: if field.is_empty() {
                "scenario".into()
            } else {
                field
            },
            message: message.into(),
        })
    }

    fn positive(&self, path: &[Step], value: HumanDuration) -> Checked<SimDuration> {
        if value.0.is_zero() {
            return self.fail(path, "must be longer than zero");
        }
        Ok(SimDuration::from_std(value.0))
    }

    fn probability(&self, path: &[Step], value: f64) -> Checked<f64> {
        if !(0.0..=1.0).contains(&value) {
            return self.fail(
                path,
                format!("{value} is not a probability: expected a number from 0.0 to 1.0"),
            );
        }
        Ok(value)
    }

    fn node(&self, path: &[Step], node: u32, node_count: u32) -> Checked<NodeId> {
        if node >= node_count {
            return self.fail(
                path,
                format!(
                    "node {node} does not exist: the scenario has nodes 0..={}",
                    node_count - 1
                ),
            );
        }
        Ok(node)
    }

    /// Reads a raw part into `T`, with errors placed in the whole file;
    /// `properties` give examples of checks written without their arguments.
    fn part<T: DeserializeOwned>(
        &self,
        part: &Part<'_>,
        properties: &[crate::check::Property],
    ) -> Checked<T> {
        ron_options()
            .from_str(part.text)
            .map_err(|error| ron_error(self.source, self.label, &error, part.offset, properties))
    }

    fn scenario(&self, parsed: ScenarioSource<'_>) -> Checked<Scenario> {
        self.name(&parsed.name)?;
        let node_count = self.nodes(parsed.nodes)?;
        let duration = self.positive(&[Step::Field("duration")], parsed.duration)?;
        if parsed.duration.0 > DURATION_MAX {
            return self.fail(
                &[Step::Field("duration")],
                "longer than the 24h a run may last",
            );
        }
        let network = self.network(&parsed.network)?;
        let faults = self.faults(&parsed.faults, node_count, duration)?;
        let nemesis = match &parsed.nemesis {
            None => None,
            Some(nemesis) => Some(self.nemesis(nemesis, node_count, duration)?),
        };
        let limits = self.limits(parsed.limits.as_ref())?;
        let facts = crate::harness::ScenarioFacts {
            node_count,
            duration,
            faults: &faults,
            latency_max: network.latency.bound(),
            pending_max: limits.pending_max,
        };
        let protocol = self.protocol(&parsed, &facts)?;
        let expect = self.expect(Part::of(self.source, parsed.expect), protocol.as_ref())?;
        let file = ScenarioFile {
            name: parsed.name.clone(),
            description: parsed.description.clone(),
            seed: parsed.seed,
            duration: parsed.duration,
            nodes: parsed.nodes,
            network: parsed.network.clone(),
            protocol: parsed.protocol.to_owned(),
            faults: parsed.faults.clone(),
            nemesis: parsed.nemesis.clone(),
            checks: parsed
                .checks
                .map_or_else(|| raw("[]".to_string()), |checks| checks.to_owned()),
            expect: parsed.expect.to_owned(),
            limits: parsed.limits.clone(),
        };
        Ok(Scenario {
            name: parsed.name,
            description: parsed.description,
            seed: parsed.seed,
            duration,
            node_count,
            network,
            protocol,
            faults,
            nemesis,
            expect,
            limits,
            file,
        })
    }

    fn name(&self, name: &str) -> Checked<()> {
        let valid = !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !valid {
            return self.fail(&[Step::Field("name")], "a name is needed and may use only letters, digits, '-', '_' and '.' (it names the output folder)");
        }
        Ok(())
    }

    fn nodes(&self, nodes: u32) -> Checked<u32> {
        if nodes == 0 || nodes > NODES_MAX {
            return self.fail(
                &[Step::Field("nodes")],
                format!("{nodes} nodes is out of range: expected 1 to {NODES_MAX}"),
            );
        }
        Ok(nodes)
    }

    /// Looks the protocol up by the name its block starts with, and has it
    /// read and validate its block and checks.
    fn protocol(
        &self,
        parsed: &ScenarioSource<'_>,
        facts: &crate::harness::ScenarioFacts<'_>,
    ) -> Checked<Arc<dyn Runnable>> {
        let block = Part::of(self.source, parsed.protocol);
        let name: String = block
            .text
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let Some(entry) = self.registry.get(&name) else {
            let known: Vec<String> = self.registry.names().map(|n| format!("`{n}`")).collect();
            return self.fail(
                &[Step::Field("protocol")],
                format!(
                    "unknown protocol `{name}`: expected one of {}",
                    known.join(", ")
                ),
            );
        };
        let checks = parsed.checks.map(|checks| Part::of(self.source, checks));
        entry.configure(self, &block, checks.as_ref(), facts)
    }

    fn expect(&self, part: Part<'_>, protocol: &dyn Runnable) -> Checked<Expectation> {
        let names = match self.part::<ExpectFile>(&part, protocol.properties())? {
            ExpectFile::Pass => return Ok(Expectation::Pass),
            ExpectFile::Violates(names) => names,
        };
        let listed = protocol.checks();
        let mut expected: Vec<&'static str> = Vec::new();
        for (index, NameToken(name)) in names.iter().enumerate() {
            let path = [Step::Field("expect"), Step::Index(index)];
            let Some(check) = listed.iter().find(|check| check.name == name) else {
                let known = protocol.properties().iter().any(|p| p.name == name);
                return self.fail(
                    &path,
                    if known {
                        format!("{name} is expected to fail but is not in `checks`")
                    } else {
                        format!(
                            "{name} is not a check of {}: it has {}",
                            protocol.name(),
                            property_names(protocol)
                        )
                    },
                );
            };
            if !expected.contains(&check.name) {
                expected.push(check.name);
            }
        }
        if expected.is_empty() {
            return self.fail(
                &[Step::Field("expect")],
                "Violates([]) names no check: write `expect: Pass`",
            );
        }
        let order = |name: &&str| protocol.properties().iter().position(|p| p.name == *name);
        expected.sort_by_key(order);
        Ok(Expectation::Violates(expected))
    }

    fn limits(&self, limits: Option<&LimitsFile>) -> Checked<Limits> {
        let limits = limits.cloned().unwrap_or_default();
        let at = |field: &'static str| [Step::Field("limits"), Step::Field(field)];
        let events_max = limits.events_max.unwrap_or(EVENTS_MAX_DEFAULT);
        if events_max == 0 || events_max > EVENTS_MAX_LIMIT {
            return self.fail(
                &at("events_max"),
                format!("expected 1 to {EVENTS_MAX_LIMIT}"),
            );
        }
        let inbox_max = limits.inbox_max.unwrap_or(INBOX_MAX_DEFAULT);
        if inbox_max == 0 || inbox_max > 10_000_000 {
            return self.fail(&at("inbox_max"), "expected 1 to 10000000");
        }
        let pending_max = limits.pending_max.unwrap_or(PENDING_MAX_DEFAULT);
        if pending_max == 0 || pending_max > PENDING_MAX_LIMIT {
            return self.fail(
                &at("pending_max"),
                format!("expected 1 to {PENDING_MAX_LIMIT}"),
            );
        }
        Ok(Limits {
            events_max,
            inbox_max,
            pending_max,
        })
    }

    fn network(&self, network: &NetworkFile) -> Checked<NetworkConfig> {
        use Step::*;
        Ok(NetworkConfig {
            latency: self.latency(&[Field("network"), Field("latency")], &network.latency)?,
            drop: self.probability(&[Field("network"), Field("drop")], network.drop)?,
            duplicate: self
                .probability(&[Field("network"), Field("duplicate")], network.duplicate)?,
            fifo: network.fifo,
        })
    }

    fn latency(&self, path: &[Step], latency: &LatencyFile) -> Checked<Latency> {
        let span = |value: HumanDuration| SimDuration::from_std(value.0);
        let at = |field: &'static str| [path, &[Step::Field(field)]].concat();
        let hour = Duration::from_secs(3600);
        let latency = match latency {
            LatencyFile::Constant(value) => Latency::Constant(span(*value)),
            LatencyFile::Uniform { min, max } => {
                if min.0 > max.0 {
                    return self.fail(&at("min"), "min is greater than max");
                }
                Latency::Uniform {
                    min: span(*min),
                    max: span(*max),
                }
            }
            LatencyFile::LogNormal { median, sigma, max } => {
                if !(*sigma > 0.0 && *sigma <= 10.0) {
                    return self.fail(
                        &at("sigma"),
                        format!("sigma {sigma} out of range: expected more than 0 and at most 10"),
                    );
                }
                if median.0.is_zero() || median.0 > max.0 {
                    return self.fail(&at("median"), "median must be above zero and not above max");
                }
                Latency::LogNormal {
                    median: span(*median),
                    sigma: *sigma,
                    max: span(*max),
                }
            }
            LatencyFile::Pareto { min, alpha, max } => {
                if !(*alpha > 0.0 && *alpha <= 100.0) {
                    return self.fail(
                        &at("alpha"),
                        format!("alpha {alpha} out of range: expected more than 0 and at most 100"),
                    );
                }
                if min.0.is_zero() || min.0 > max.0 {
                    return self.fail(&at("min"), "min must be above zero and not above max");
                }
                Latency::Pareto {
                    min: span(*min),
                    alpha: *alpha,
                    max: span(*max),
                }
            }
        };
        if latency.bound().to_std() > hour {
            return self.fail(path, "latency may not exceed 1h");
        }
        Ok(latency)
    }

    fn faults(
        &self,
        entries: &[FaultEntry],
        nodes: u32,
        duration: SimDuration,
    ) -> Checked<Vec<ScheduledFault>> {
        use Step::*;
        if entries.len() > FAULTS_MAX {
            return self.fail(
                &[Field("faults")],
                format!("{} faults; at most {FAULTS_MAX}", entries.len()),
            );
        }
        let mut numbered = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let at = SimTime::from_nanos(SimDuration::from_std(entry.at.0).as_nanos());
            if at >= SimTime::ZERO.after(duration) {
                return self.fail(
                    &[Field("faults"), Index(index), Field("at")],
                    format!(
                        "fault at {at} is not before the end of the run ({})",
                        SimTime::ZERO.after(duration)
                    ),
                );
            }
            let fault = self.fault(
                &[Field("faults"), Index(index), Field("fault")],
                &entry.fault,
                nodes,
            )?;
            numbered.push((index, ScheduledFault { at, fault }));
        }
        // Faults may be written in any order; the run applies them in time order.
        numbered.sort_by_key(|(_, scheduled)| scheduled.at);
        let faults: Vec<ScheduledFault> = numbered
            .iter()
            .map(|(_, scheduled)| scheduled.clone())
            .collect();
        if let Err(error) = validate_schedule(nodes, duration, &faults) {
            let original = numbered[error.index].0;
            return self.fail(&[Field("faults"), Index(original)], error.message);
        }
        Ok(faults)
    }

    fn fault(&self, path: &[Step], fault: &FaultFile, nodes: u32) -> Checked<Fault> {
        let at = |field: &'static str| [path, &[Step::Field(field)]].concat();
        let link = |from: u32, to: u32| -> Checked<(NodeId, NodeId)> {
            let from = self.node(&at("from"), from, nodes)?;
            let to = self.node(&at("to"), to, nodes)?;
            if from == to {
                return self.fail(&at("to"), "a link joins two different nodes");
            }
            Ok((from, to))
        };
        Ok(match fault {
            FaultFile::Join { node } => Fault::Join {
                node: self.node(&at("node"), *node, nodes)?,
            },
            FaultFile::Leave { node } => Fault::Leave {
                node: self.node(&at("node"), *node, nodes)?,
            },
            FaultFile::Partition { groups, bridges } => {
                self.partition(path, groups, bridges, nodes)?
            }
            FaultFile::Isolate { node } => {
                let node = self.node(&at("node"), *node, nodes)?;
                if nodes < 2 {
                    return self.fail(path, "isolating a node needs at least two nodes");
                }
                Fault::Partition {
                    groups: vec![vec![node], (0..nodes).filter(|&n| n != node).collect()],
                }
            }
            FaultFile::Heal => Fault::Heal,
            FaultFile::CutLink { from, to } => {
                let (from, to) = link(*from, *to)?;
                Fault::CutLink { from, to }
            }
            FaultFile::RestoreLink { from, to } => {
                let (from, to) = link(*from, *to)?;
                Fault::RestoreLink { from, to }
            }
            FaultFile::Crash { node } => Fault::Crash {
                node: self.node(&at("node"), *node, nodes)?,
            },
            FaultFile::Restart { node } => Fault::Restart {
                node: self.node(&at("node"), *node, nodes)?,
            },
            FaultFile::Pause { node, duration } => Fault::Pause {
                node: self.node(&at("node"), *node, nodes)?,
                duration: self.positive(&at("for"), *duration)?,
            },
            FaultFile::ClockDrift { node, ppm } => {
                let limit = crate::sim::clock::DRIFT_PPM_MAX;
                if ppm.abs() > limit {
                    return self.fail(
                        &at("ppm"),
                        format!("{ppm} ppm is out of range: expected -{limit} to {limit}"),
                    );
                }
                Fault::ClockDrift {
                    node: self.node(&at("node"), *node, nodes)?,
                    ppm: *ppm,
                }
            }
            FaultFile::ClockJump { node, by, backward } => Fault::ClockJump {
                node: self.node(&at("node"), *node, nodes)?,
                by: self.positive(&at("by"), *by)?,
                backward: *backward,
            },
            FaultFile::DegradeLink {
                from,
                to,
                duration,
                drop,
                latency,
            } => {
                let (from, to) = link(*from, *to)?;
                if drop.is_none() && latency.is_none() {
                    return self.fail(
                        path,
                        "DegradeLink changes nothing: give `drop`, `latency` or both",
                    );
                }
                Fault::DegradeLink {
                    from,
                    to,
                    duration: self.positive(&at("for"), *duration)?,
                    drop: drop.map(|p| self.probability(&at("drop"), p)).transpose()?,
                    latency: latency
                        .as_ref()
                        .map(|l| self.latency(&at("latency"), l))
                        .transpose()?,
                }
            }
        })
    }

    fn partition(
        &self,
        path: &[Step],
        groups: &[Vec<u32>],
        bridges: &[u32],
        nodes: u32,
    ) -> Checked<Fault> {
        let groups_path = [path, &[Step::Field("groups")]].concat();
        if groups.len() < 2 {
            return self.fail(
                &groups_path,
                "a partition needs at least two groups (use Heal to reconnect everyone)",
            );
        }
        let mut seen_in: Vec<Vec<usize>> = vec![Vec::new(); nodes as usize];
        for (group_index, group) in groups.iter().enumerate() {
            let group_path = [groups_path.as_slice(), &[Step::Index(group_index)]].concat();
            if group.is_empty() {
                return self.fail(&group_path, "an empty group");
            }
            for (member_index, &node) in group.iter().enumerate() {
                let member_path = [group_path.as_slice(), &[Step::Index(member_index)]].concat();
                self.node(&member_path, node, nodes)?;
                if seen_in[node as usize].contains(&group_index) {
                    return self.fail(
                        &member_path,
                        format!("node {node} is listed twice in the same group"),
                    );
                }
                if !seen_in[node as usize].is_empty() && !bridges.contains(&node) {
                    return self.fail(
                        &member_path,
                        format!(
                            "node {node} is in groups {} and {group_index}: a node may be in two groups only if declared a bridge (bridges: [{node}])",
                            seen_in[node as usize][0]
                        ),
                    );
                }
                seen_in[node as usize].push(group_index);
            }
        }
        if let Some(missing) = (0..nodes).find(|&n| seen_in[n as usize].is_empty()) {
            return self.fail(&groups_path, format!("node {missing} is in no group: list every node (a node alone is a group like [{missing}])"));
        }
        for (index, &bridge) in bridges.iter().enumerate() {
            let bridge_path = [path, &[Step::Field("bridges"), Step::Index(index)]].concat();
            self.node(&bridge_path, bridge, nodes)?;
            if seen_in[bridge as usize].len() < 2 {
                return self.fail(
                    &bridge_path,
                    format!("bridge {bridge} is not in two groups"),
                );
            }
        }
        Ok(Fault::Partition {
            groups: groups.to_vec(),
        })
    }

    fn nemesis(
        &self,
        nemesis: &NemesisFile,
        nodes: u32,
        duration: SimDuration,
    ) -> Checked<NemesisConfig> {
        use Step::*;
        let NemesisFile::Random {
            kinds,
            interval_min,
            interval_max,
            duration_min,
            duration_max,
            nodes_down_max,
            from,
            until,
            drift_ppm_max,
        } = nemesis;
        let at = |field: &'static str| [Field("nemesis"), Field(field)];
        if kinds.is_empty() {
            return self.fail(&at("kinds"), "no kinds of fault to draw from");
        }
        let interval_min = self.positive(&at("interval_min"), *interval_min)?;
        let interval_max = self.positive(&at("interval_max"), *interval_max)?;
        if interval_min > interval_max {
            return self.fail(
                &at("interval_min"),
                "interval_min is greater than interval_max",
            );
        }
        let duration_min = self.positive(&at("duration_min"), *duration_min)?;
        let duration_max = self.positive(&at("duration_max"), *duration_max)?;
        if duration_min > duration_max {
            return self.fail(
                &at("duration_min"),
                "duration_min is greater than duration_max",
            );
        }
        if *nodes_down_max > nodes {
            return self.fail(
                &at("nodes_down_max"),
                format!("{nodes_down_max} is more than the {nodes} nodes"),
            );
        }
        let (from, until) = self.nemesis_window(*from, *until, duration)?;
        if !(1..=crate::sim::clock::DRIFT_PPM_MAX).contains(drift_ppm_max) {
            return self.fail(
                &at("drift_ppm_max"),
                format!("expected 1 to {}", crate::sim::clock::DRIFT_PPM_MAX),
            );
        }
        let mut kinds = self.nemesis_kinds(kinds, nodes, *nodes_down_max)?;
        kinds.sort_unstable();
        Ok(NemesisConfig {
            kinds,
            interval_min,
            interval_max,
            duration_min,
            duration_max,
            nodes_down_max: *nodes_down_max,
            from,
            until,
            drift_ppm_max: *drift_ppm_max,
        })
    }

    /// The kinds to draw from: each listed once, each able to happen.
    fn nemesis_kinds(
        &self,
        kinds: &[NemesisKindFile],
        nodes: u32,
        nodes_down_max: u32,
    ) -> Checked<Vec<NemesisKind>> {
        use Step::*;
        let nodes_down_max = &nodes_down_max;
        let mut chosen: Vec<NemesisKind> = Vec::new();
        for (index, kind) in kinds.iter().enumerate() {
            let path = [Field("nemesis"), Field("kinds"), Index(index)];
            let (kind, nodes_needed) = match kind {
                NemesisKindFile::Partition => (NemesisKind::Partition, 2),
                NemesisKindFile::Isolate => (NemesisKind::Isolate, 2),
                NemesisKindFile::Bridge => (NemesisKind::Bridge, 3),
                NemesisKindFile::OneWay => (NemesisKind::OneWay, 2),
                NemesisKindFile::Crash => (NemesisKind::Crash, 1),
                NemesisKindFile::Pause => (NemesisKind::Pause, 1),
                NemesisKindFile::ClockDrift => (NemesisKind::ClockDrift, 1),
                NemesisKindFile::DegradeLink => (NemesisKind::DegradeLink, 2),
            };
            if chosen.contains(&kind) {
                return self.fail(
                    &path,
                    format!("{kind:?} is listed twice (kinds are drawn with equal chances; list each once)"),
                );
            }
            if nodes < nodes_needed {
                return self.fail(
                    &path,
                    format!(
                        "{kind:?} needs at least {nodes_needed} nodes; the scenario has {nodes}"
                    ),
                );
            }
            let downs = matches!(kind, NemesisKind::Crash | NemesisKind::Pause);
            if downs && *nodes_down_max == 0 {
                return self.fail(
                    &path,
                    format!("{kind:?} can never happen: nodes_down_max is 0 (raise it, or remove {kind:?})"),
                );
            }
            chosen.push(kind);
        }
        Ok(chosen)
    }

    /// When the nemesis acts: from `from` (default the start) until `until`
    /// (default three quarters of the run, so liveness can be judged after).
    fn nemesis_window(
        &self,
        from: Option<HumanDuration>,
        until: Option<HumanDuration>,
        duration: SimDuration,
    ) -> Checked<(SimTime, SimTime)> {
        let at = |field: &'static str| [Step::Field("nemesis"), Step::Field(field)];
        let end = SimTime::ZERO.after(duration);
        let from = from.map_or(SimTime::ZERO, |value| {
            SimTime::ZERO.after(SimDuration::from_std(value.0))
        });
        let until = until.map_or(SimTime::from_nanos(duration.as_nanos() / 4 * 3), |value| {
            SimTime::ZERO.after(SimDuration::from_std(value.0))
        });
        // The nemesis ends what it started (heals, restarts) at `until`, and
        // every fault must come before the end of the run.
        if until >= end {
            return self.fail(
                &at("until"),
                format!("{until} is not before the end of the run ({end}): the nemesis heals and restarts at `until`"),
            );
        }
        if from >= until {
            return self.fail(&at("from"), "from must come before until");
        }
        Ok((from, until))
    }
}

/// "`A`, `B` and `C`": a protocol's property names, for messages.
fn property_names(protocol: &dyn Runnable) -> String {
    let names: Vec<String> = protocol
        .properties()
        .iter()
        .map(|p| format!("`{}`", p.name))
        .collect();
    names.join(", ")
}

/// The output folder for a run: `<out>/<scenario name>/seed-<seed>`.
pub fn run_folder(out: &Path, name: &str, seed: u64) -> PathBuf {
    out.join(name).join(format!("seed-{seed}"))
}
