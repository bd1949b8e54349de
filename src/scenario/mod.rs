//! Scenario files: the only module that knows RON. `load` reads a file, parses
//! it into the raw `file` types and validates it into a `Scenario` made of
//! engine types, or returns an error that names the file, the line and column
//! (where it can), the field, and what was expected.

pub mod file;
mod locate;

use crate::check::hashing::Membership;
use crate::check::{CheckName, CheckSpec, Expectation};
use crate::node::NodeId;
use crate::protocols::hashing::{Hashing, KeyDistribution};
use crate::protocols::heartbeat::{Heartbeat, HeartbeatVariant};
use crate::protocols::lock::{Lock, LockVariant};
use crate::protocols::paxos::{ClientValue, Paxos, PaxosVariant};
use crate::protocols::placement::Scheme;
use crate::sim::fault::{validate_schedule, Fault, ScheduledFault};
use crate::sim::nemesis::{NemesisConfig, NemesisKind};
use crate::sim::network::{Latency, NetworkConfig};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::world::{EVENTS_MAX_DEFAULT, INBOX_MAX_DEFAULT};
use file::*;
use locate::{locate, Step};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The most nodes a scenario may have.
pub const NODES_MAX: u32 = 1_000;
/// The longest simulated run.
pub const DURATION_MAX: Duration = Duration::from_secs(24 * 3600);
/// The most faults a scenario may list.
pub const FAULTS_MAX: usize = 100_000;
/// Upper bound for `limits.events_max`.
pub const EVENTS_MAX_LIMIT: u64 = 10_000_000_000;

/// Which protocol runs on the nodes, with its configuration.
#[derive(Clone, Debug, PartialEq)]
pub enum ProtocolSpec {
    Heartbeat(Heartbeat),
    Paxos(Paxos),
    Lock(Lock),
    /// With the initial members and the scheduled joins and leaves.
    Hashing(Hashing, Vec<NodeId>, Vec<(SimTime, Membership)>),
}

/// A validated scenario, in engine terms.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub duration: SimDuration,
    pub node_count: u32,
    pub network: NetworkConfig,
    pub protocol: ProtocolSpec,
    /// Explicit faults in time order (equal times keep file order).
    pub faults: Vec<ScheduledFault>,
    pub nemesis: Option<NemesisConfig>,
    pub checks: Vec<CheckSpec>,
    pub expect: Expectation,
    pub events_max: u64,
    pub inbox_max: usize,
    /// The file as parsed, for writing the scenario back out.
    pub file: ScenarioFile,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{path}: cannot read the file: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The text is not a scenario: bad RON, wrong type, unknown or missing field.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// Well-formed, but the values do not make sense.
    #[error("{}", display_invalid(path, *location, field, message))]
    Invalid {
        path: String,
        location: Option<(usize, usize)>,
        field: String,
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

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let label = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: label.clone(),
        source,
    })?;
    parse(&source, &label)
}

/// Parses and validates scenario text; `label` names it in errors.
pub fn parse(source: &str, label: &str) -> Result<Scenario, ScenarioError> {
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let file: ScenarioFile = options
        .from_str(source)
        .map_err(|error| ScenarioError::Parse {
            path: label.to_string(),
            line: error.position.line,
            column: error.position.col,
            message: describe_ron_error(&error.code, source, error.position),
        })?;
    Validator { source, label }.scenario(file)
}

/// RON's message in a user's words: the names of our internal file types
/// become what the user writes, and a value written without the arguments it
/// takes gets an example.
fn describe_ron_error(code: &ron::Error, source: &str, position: ron::error::Position) -> String {
    if let ron::Error::Eof = code {
        return "the file ends early (unclosed bracket or missing value?)".to_string();
    }
    let message = code.to_string().replace("`in", "` in");
    if message.starts_with("Expected opening `(`") {
        if let Some(hint) = word_before(source, position).and_then(argument_example) {
            return hint;
        }
    }
    user_type_names(&message)
}

/// The identifier that ends just before `position` (1-based line and column).
fn word_before(source: &str, position: ron::error::Position) -> Option<&str> {
    let line = source.lines().nth(position.line.checked_sub(1)?)?;
    let end = line
        .char_indices()
        .nth(position.col.saturating_sub(1))
        .map_or(line.len(), |(at, _)| at);
    let before = line[..end].trim_end();
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |at| at + 1);
    Some(&before[start..]).filter(|word| !word.is_empty())
}

/// How to write a value that takes arguments, for the error when they are missing.
fn argument_example(word: &str) -> Option<String> {
    let example = match word {
        "Completeness" => "takes a bound: `Completeness(within: \"1s\")`",
        "DecidesWithin" | "Progress" | "Converges" => "takes a duration",
        "Balance" => "takes a bound: `Balance(max_over_mean: 1.3)`",
        "Movement" => "takes a bound: `Movement(max_fraction: 0.15)`",
        "Crash" | "Restart" | "Join" | "Leave" | "Isolate" => "takes a node",
        "Pause" => "takes a node and a duration: `Pause(node: 1, for: \"500ms\")`",
        "Partition" => "takes groups: `Partition(groups: [[0, 1], [2, 3, 4]])`",
        "CutLink" | "RestoreLink" => "takes a link: `CutLink(from: 0, to: 1)`",
        "Violates" => "takes the checks expected to fail: `Violates([Accuracy])`",
        _ => return None,
    };
    Some(match example {
        "takes a duration" => format!("`{word}` takes a duration, for example `{word}(\"2s\")`"),
        "takes a node" => format!("`{word}` takes a node, for example `{word}(node: 1)`"),
        other => format!("`{word}` {other}"),
    })
}

/// Replaces the names of the raw file types in serde's messages with what
/// the user writes.
fn user_type_names(message: &str) -> String {
    const NAMES: &[(&str, &str)] = &[
        ("enum `PaxosVariantFile`", "`variant` of Paxos"),
        ("enum `LockVariantFile`", "`variant` of Lock"),
        ("enum `HeartbeatVariantFile`", "`variant` of Heartbeat"),
        ("enum `ProtocolFile`", "`protocol`"),
        ("enum `FaultFile`", "a fault"),
        ("enum `LatencyFile`", "`latency`"),
        ("enum `CheckFile`", "`checks`"),
        ("enum `CheckNameFile`", "`expect`"),
        ("enum `ExpectFile`", "`expect`"),
        ("enum `NemesisFile`", "`nemesis`"),
        ("enum `NemesisKindFile`", "the nemesis `kinds`"),
        ("enum `SchemeFile`", "`scheme`"),
        ("enum `DistributionFile`", "`distribution`"),
        ("`NetworkFile`", "`network`"),
        ("`ClientValueFile`", "a client value"),
        ("`FaultEntry`", "a fault entry"),
        ("`LimitsFile`", "`limits`"),
    ];
    let mut message = message.to_string();
    for (internal, user) in NAMES {
        message = message.replace(internal, user);
    }
    message
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

impl Scenario {
    /// The scenario as a plain file with `seed` and this explicit fault list in
    /// place of the nemesis: running it reproduces the run exactly.
    pub fn explicit_file(&self, seed: u64, faults: &[ScheduledFault]) -> ScenarioFile {
        let mut file = self.file.clone();
        file.seed = seed;
        file.nemesis = None;
        file.faults = faults.iter().map(fault_entry).collect();
        file
    }
}

impl Scenario {
    /// A plain scenario for `seed` with these faults, duration and loss, and
    /// `expect: Violates(expect)`: what the shrinker writes.
    pub fn shrunk_file(
        &self,
        seed: u64,
        faults: &[ScheduledFault],
        duration: SimDuration,
        drop: f64,
        duplicate: f64,
        expect: &[CheckName],
    ) -> ScenarioFile {
        let mut file = self.explicit_file(seed, faults);
        file.duration = human(duration);
        file.network.drop = drop;
        file.network.duplicate = duplicate;
        file.expect =
            ExpectFile::Violates(expect.iter().map(|name| check_name_file(*name)).collect());
        file
    }
}

fn check_name_file(name: CheckName) -> CheckNameFile {
    match name {
        CheckName::Completeness => CheckNameFile::Completeness,
        CheckName::Accuracy => CheckNameFile::Accuracy,
        CheckName::Agreement => CheckNameFile::Agreement,
        CheckName::Validity => CheckNameFile::Validity,
        CheckName::Integrity => CheckNameFile::Integrity,
        CheckName::OneValuePerBallot => CheckNameFile::OneValuePerBallot,
        CheckName::DecidesWithin => CheckNameFile::DecidesWithin,
        CheckName::MutualExclusion => CheckNameFile::MutualExclusion,
        CheckName::NoStaleWrite => CheckNameFile::NoStaleWrite,
        CheckName::Progress => CheckNameFile::Progress,
        CheckName::Balance => CheckNameFile::Balance,
        CheckName::Movement => CheckNameFile::Movement,
        CheckName::Converges => CheckNameFile::Converges,
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
}

type Checked<T> = Result<T, ScenarioError>;

impl Validator<'_> {
    fn fail<T>(&self, path: &[Step], message: impl Into<String>) -> Checked<T> {
        let field = path
            .iter()
            .enumerate()
            .map(|(i, step)| match step {
                Step::Field(name) if i == 0 => name.to_string(),
                Step::Field(name) => format!(".{name}"),
                Step::Index(index) => format!("[{index}]"),
            })
            .collect::<String>();
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

    fn scenario(&self, file: ScenarioFile) -> Checked<Scenario> {
        use Step::*;
        let valid_name = !file.name.is_empty()
            && !file.name.starts_with('.')
            && file
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !valid_name {
            return self.fail(&[Field("name")], "a name is needed and may use only letters, digits, '-', '_' and '.' (it names the output folder)");
        }
        if file.nodes == 0 || file.nodes > NODES_MAX {
            return self.fail(
                &[Field("nodes")],
                format!(
                    "{} nodes is out of range: expected 1 to {NODES_MAX}",
                    file.nodes
                ),
            );
        }
        let duration = self.positive(&[Field("duration")], file.duration)?;
        if file.duration.0 > DURATION_MAX {
            return self.fail(&[Field("duration")], "longer than the 24h a run may last");
        }
        let network = self.network(&file.network)?;
        let protocol = match &file.protocol {
            ProtocolFile::Heartbeat {
                interval,
                timeout,
                variant,
            } => ProtocolSpec::Heartbeat(Heartbeat {
                interval: self.positive(&[Field("protocol"), Field("interval")], *interval)?,
                timeout: self.positive(&[Field("protocol"), Field("timeout")], *timeout)?,
                variant: match variant {
                    HeartbeatVariantFile::Correct => HeartbeatVariant::Correct,
                    HeartbeatVariantFile::NeverSuspect => HeartbeatVariant::NeverSuspect,
                    HeartbeatVariantFile::NeverTrust => HeartbeatVariant::NeverTrust,
                    HeartbeatVariantFile::NoSequence => HeartbeatVariant::NoSequence,
                },
            }),
            ProtocolFile::Paxos { .. } => {
                ProtocolSpec::Paxos(self.paxos(&file.protocol, file.nodes, duration)?)
            }
            ProtocolFile::Hashing {
                scheme,
                replicas,
                keys,
                distribution,
                interval,
                timeout,
                request_interval,
            } => {
                let at = |field: &'static str| [Field("protocol"), Field(field)];
                let scheme = match scheme {
                    SchemeFile::Ring { vnodes } => {
                        if !(1..=10_000).contains(vnodes) {
                            return self.fail(
                                &at("scheme"),
                                format!("{vnodes} virtual nodes: expected 1 to 10000"),
                            );
                        }
                        Scheme::Ring { vnodes: *vnodes }
                    }
                    SchemeFile::Modulo => Scheme::Modulo,
                    SchemeFile::Rendezvous => Scheme::Rendezvous,
                };
                if !(1..=1_000_000).contains(keys) {
                    return self.fail(&at("keys"), format!("{keys} keys: expected 1 to 1000000"));
                }
                if *replicas == 0 || *replicas > file.nodes as usize {
                    return self.fail(
                        &at("replicas"),
                        format!("{replicas} replicas: expected 1 to {}", file.nodes),
                    );
                }
                let (distribution, zipf_cdf) = match distribution {
                    DistributionFile::Uniform => (KeyDistribution::Uniform, Vec::new()),
                    DistributionFile::Zipf { s } => {
                        if !(*s > 0.0 && *s <= 10.0) {
                            return self.fail(
                                &at("distribution"),
                                format!("Zipf exponent {s}: expected more than 0, at most 10"),
                            );
                        }
                        (
                            KeyDistribution::Zipf { s: *s },
                            Hashing::zipf_cdf(*keys, *s),
                        )
                    }
                };
                ProtocolSpec::Hashing(
                    Hashing {
                        scheme,
                        replicas: *replicas,
                        keys: *keys,
                        distribution,
                        interval: self.positive(&at("interval"), *interval)?,
                        timeout: self.positive(&at("timeout"), *timeout)?,
                        request_interval: self
                            .positive(&at("request_interval"), *request_interval)?,
                        members_initial: Vec::new(),
                        zipf_cdf: std::sync::Arc::new(zipf_cdf),
                    },
                    Vec::new(),
                    Vec::new(),
                )
            }
            ProtocolFile::Lock {
                variant,
                lease,
                hold,
                think,
                writes,
                work,
                retry,
            } => {
                let at = |field: &'static str| [Field("protocol"), Field(field)];
                if file.nodes < 3 {
                    return self.fail(
                        &[Field("nodes")],
                        "the lock service needs at least 3 nodes: server 0, resource 1, clients 2 and up",
                    );
                }
                if !(1..=100).contains(writes) {
                    return self.fail(
                        &at("writes"),
                        format!("{writes} writes per hold: expected 1 to 100"),
                    );
                }
                ProtocolSpec::Lock(Lock {
                    variant: match variant {
                        LockVariantFile::NoExpiry => LockVariant::NoExpiry,
                        LockVariantFile::Lease => LockVariant::Lease,
                        LockVariantFile::LeaseFencing => LockVariant::LeaseFencing,
                        LockVariantFile::LeaseStaleRegrant => LockVariant::LeaseStaleRegrant,
                    },
                    lease: self.positive(&at("lease"), *lease)?,
                    hold: self.positive(&at("hold"), *hold)?,
                    think: self.positive(&at("think"), *think)?,
                    writes: *writes,
                    work: SimDuration::from_std(work.0),
                    retry: self.positive(&at("retry"), *retry)?,
                })
            }
        };
        let faults = self.faults(&file, duration)?;
        let protocol = self.membership(&file, protocol)?;
        let nemesis = match &file.nemesis {
            None => None,
            Some(nemesis) => Some(self.nemesis(nemesis, file.nodes, duration)?),
        };
        let checks = self.checks(&file.checks, &protocol)?;
        let expect = match &file.expect {
            ExpectFile::Pass => Expectation::Pass,
            ExpectFile::Violates(names) => {
                let mut expected = Vec::new();
                for (index, name) in names.iter().enumerate() {
                    let name = check_name(*name);
                    if !checks.iter().any(|check| check.name() == name) {
                        return self.fail(
                            &[Field("expect"), Index(index)],
                            format!("{name} is expected to fail but is not in `checks`"),
                        );
                    }
                    if !expected.contains(&name) {
                        expected.push(name);
                    }
                }
                if expected.is_empty() {
                    return self.fail(
                        &[Field("expect")],
                        "Violates([]) names no check: write `expect: Pass`",
                    );
                }
                expected.sort_unstable();
                Expectation::Violates(expected)
            }
        };
        let limits = file.limits.clone().unwrap_or_default();
        let events_max = limits.events_max.unwrap_or(EVENTS_MAX_DEFAULT);
        if events_max == 0 || events_max > EVENTS_MAX_LIMIT {
            return self.fail(
                &[Field("limits"), Field("events_max")],
                format!("expected 1 to {EVENTS_MAX_LIMIT}"),
            );
        }
        let inbox_max = limits.inbox_max.unwrap_or(INBOX_MAX_DEFAULT);
        if inbox_max == 0 || inbox_max > 10_000_000 {
            return self.fail(
                &[Field("limits"), Field("inbox_max")],
                "expected 1 to 10000000",
            );
        }
        Ok(Scenario {
            name: file.name.clone(),
            description: file.description.clone(),
            seed: file.seed,
            duration,
            node_count: file.nodes,
            network,
            protocol,
            faults,
            nemesis,
            checks,
            expect,
            events_max,
            inbox_max,
            file,
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

    fn faults(&self, file: &ScenarioFile, duration: SimDuration) -> Checked<Vec<ScheduledFault>> {
        use Step::*;
        if file.faults.len() > FAULTS_MAX {
            return self.fail(
                &[Field("faults")],
                format!("{} faults; at most {FAULTS_MAX}", file.faults.len()),
            );
        }
        let mut numbered = Vec::with_capacity(file.faults.len());
        for (index, entry) in file.faults.iter().enumerate() {
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
                file.nodes,
            )?;
            numbered.push((index, ScheduledFault { at, fault }));
        }
        // Faults may be written in any order; the run applies them in time order.
        numbered.sort_by_key(|(_, scheduled)| scheduled.at);
        let faults: Vec<ScheduledFault> = numbered
            .iter()
            .map(|(_, scheduled)| scheduled.clone())
            .collect();
        if let Err(error) = validate_schedule(file.nodes, duration, &faults) {
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
        let end = SimTime::ZERO.after(duration);
        let from = from.map_or(SimTime::ZERO, |value| {
            SimTime::ZERO.after(SimDuration::from_std(value.0))
        });
        // By default the last quarter of the run is quiet, so liveness can be judged.
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
        if !(1..=crate::sim::clock::DRIFT_PPM_MAX).contains(drift_ppm_max) {
            return self.fail(
                &at("drift_ppm_max"),
                format!("expected 1 to {}", crate::sim::clock::DRIFT_PPM_MAX),
            );
        }
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
        let mut kinds = chosen;
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

    /// Collects joins and leaves for the hashing protocol; elsewhere they are errors.
    fn membership(&self, file: &ScenarioFile, protocol: ProtocolSpec) -> Checked<ProtocolSpec> {
        let mut changes = Vec::new();
        for (index, entry) in file.faults.iter().enumerate() {
            let change = match entry.fault {
                FaultFile::Join { node } => Membership::Join(node),
                FaultFile::Leave { node } => Membership::Leave(node),
                _ => continue,
            };
            if !matches!(protocol, ProtocolSpec::Hashing(..)) {
                return self.fail(
                    &[Step::Field("faults"), Step::Index(index), Step::Field("fault")],
                    "Join and Leave change membership, which only the Hashing protocol has: use Crash and Restart",
                );
            }
            changes.push((
                SimTime::ZERO.after(SimDuration::from_std(entry.at.0)),
                change,
            ));
        }
        changes.sort_by_key(|(at, _)| *at);
        Ok(match protocol {
            ProtocolSpec::Hashing(hashing, _, _) => {
                let joiners: Vec<NodeId> = changes
                    .iter()
                    .filter_map(|(_, c)| {
                        if let Membership::Join(n) = c {
                            Some(*n)
                        } else {
                            None
                        }
                    })
                    .collect();
                let initial: Vec<NodeId> =
                    (0..file.nodes).filter(|n| !joiners.contains(n)).collect();
                let hashing = Hashing {
                    members_initial: initial.clone(),
                    ..hashing
                };
                ProtocolSpec::Hashing(hashing, initial, changes)
            }
            other => other,
        })
    }

    fn paxos(&self, protocol: &ProtocolFile, nodes: u32, duration: SimDuration) -> Checked<Paxos> {
        let ProtocolFile::Paxos {
            proposers,
            acceptors,
            values,
            round_timeout,
            backoff_min,
            backoff_max,
            variant,
        } = protocol
        else {
            unreachable!("called for Paxos only")
        };
        let at = |field: &'static str| [Step::Field("protocol"), Step::Field(field)];
        let node_list = |field: &'static str, list: &[u32]| -> Checked<Vec<NodeId>> {
            if list.is_empty() {
                return self.fail(&at(field), "needs at least one node");
            }
            let mut seen = Vec::new();
            for (index, &node) in list.iter().enumerate() {
                let path = [
                    Step::Field("protocol"),
                    Step::Field(field),
                    Step::Index(index),
                ];
                self.node(&path, node, nodes)?;
                if seen.contains(&node) {
                    return self.fail(&path, format!("node {node} is listed twice"));
                }
                seen.push(node);
            }
            Ok(seen)
        };
        let proposers = node_list("proposers", proposers)?;
        let acceptors = match acceptors {
            Some(list) => node_list("acceptors", list)?,
            None => (0..nodes).collect(),
        };
        if values.is_empty() {
            return self.fail(
                &at("values"),
                "no client values: give each proposer something to propose",
            );
        }
        let mut client_values = Vec::new();
        for (index, value) in values.iter().enumerate() {
            let path = |field: &'static str| {
                [
                    Step::Field("protocol"),
                    Step::Field("values"),
                    Step::Index(index),
                    Step::Field(field),
                ]
            };
            self.node(&path("node"), value.node, nodes)?;
            if !proposers.contains(&value.node) {
                return self.fail(
                    &path("node"),
                    format!("node {} is not a proposer", value.node),
                );
            }
            let arrives = SimDuration::from_std(value.at.0);
            if arrives >= duration {
                return self.fail(&path("at"), "the value arrives after the end of the run");
            }
            client_values.push(ClientValue {
                node: value.node,
                at: arrives,
                value: value.value.as_str().into(),
            });
        }
        let backoff_min = SimDuration::from_std(backoff_min.0);
        let backoff_max = SimDuration::from_std(backoff_max.0);
        if backoff_min > backoff_max {
            return self.fail(
                &at("backoff_min"),
                "backoff_min is greater than backoff_max",
            );
        }
        Ok(Paxos {
            proposers,
            acceptors,
            values: client_values,
            round_timeout: self.positive(&at("round_timeout"), *round_timeout)?,
            backoff_min,
            backoff_max,
            variant: match variant {
                PaxosVariantFile::Correct => PaxosVariant::Correct,
                PaxosVariantFile::ForgetfulAcceptor => PaxosVariant::ForgetfulAcceptor,
                PaxosVariantFile::IgnoreAcceptedValue => PaxosVariant::IgnoreAcceptedValue,
                PaxosVariantFile::MinorityQuorum => PaxosVariant::MinorityQuorum,
                PaxosVariantFile::ReuseBallot => PaxosVariant::ReuseBallot,
            },
        })
    }

    fn checks(&self, checks: &[CheckFile], protocol: &ProtocolSpec) -> Checked<Vec<CheckSpec>> {
        let mut specs: Vec<CheckSpec> = Vec::new();
        for (index, check) in checks.iter().enumerate() {
            let path = [Step::Field("checks"), Step::Index(index)];
            let spec = match check {
                CheckFile::Completeness { within } => CheckSpec::Completeness {
                    within: self.positive(
                        &[
                            Step::Field("checks"),
                            Step::Index(index),
                            Step::Field("within"),
                        ],
                        *within,
                    )?,
                },
                CheckFile::Accuracy => CheckSpec::Accuracy,
                CheckFile::Agreement => CheckSpec::Agreement,
                CheckFile::Validity => CheckSpec::Validity,
                CheckFile::Integrity => CheckSpec::Integrity,
                CheckFile::OneValuePerBallot => CheckSpec::OneValuePerBallot,
                CheckFile::MutualExclusion => CheckSpec::MutualExclusion,
                CheckFile::NoStaleWrite => CheckSpec::NoStaleWrite,
                CheckFile::Progress(within) => CheckSpec::Progress {
                    within: self.positive(&[Step::Field("checks"), Step::Index(index)], *within)?,
                },
                CheckFile::Balance { max_over_mean } => {
                    if max_over_mean.is_nan() || *max_over_mean < 1.0 {
                        return self.fail(&path, format!("max_over_mean {max_over_mean} is below 1, which no placement can reach"));
                    }
                    CheckSpec::Balance {
                        max_over_mean: *max_over_mean,
                    }
                }
                CheckFile::Movement { max_fraction } => CheckSpec::Movement {
                    max_fraction: self.probability(&path, *max_fraction)?,
                },
                CheckFile::Converges(within) => CheckSpec::Converges {
                    within: self.positive(&[Step::Field("checks"), Step::Index(index)], *within)?,
                },
                CheckFile::DecidesWithin(within) => CheckSpec::DecidesWithin {
                    within: self.positive(&[Step::Field("checks"), Step::Index(index)], *within)?,
                },
            };
            let fits = matches!(
                (&spec, protocol),
                (
                    CheckSpec::Completeness { .. } | CheckSpec::Accuracy,
                    ProtocolSpec::Heartbeat(_)
                ) | (
                    CheckSpec::Agreement
                        | CheckSpec::Validity
                        | CheckSpec::Integrity
                        | CheckSpec::OneValuePerBallot
                        | CheckSpec::DecidesWithin { .. },
                    ProtocolSpec::Paxos(_)
                ) | (
                    CheckSpec::MutualExclusion
                        | CheckSpec::NoStaleWrite
                        | CheckSpec::Progress { .. },
                    ProtocolSpec::Lock(_)
                ) | (
                    CheckSpec::Balance { .. }
                        | CheckSpec::Movement { .. }
                        | CheckSpec::Converges { .. },
                    ProtocolSpec::Hashing(..)
                )
            );
            if !fits {
                return self.fail(
                    &path,
                    format!("{} does not apply to this protocol", spec.name()),
                );
            }
            if specs.iter().any(|other| other.name() == spec.name()) {
                return self.fail(&path, format!("{} is listed twice", spec.name()));
            }
            specs.push(spec);
        }
        Ok(specs)
    }
}

fn check_name(name: CheckNameFile) -> CheckName {
    match name {
        CheckNameFile::Completeness => CheckName::Completeness,
        CheckNameFile::Accuracy => CheckName::Accuracy,
        CheckNameFile::Agreement => CheckName::Agreement,
        CheckNameFile::Validity => CheckName::Validity,
        CheckNameFile::Integrity => CheckName::Integrity,
        CheckNameFile::OneValuePerBallot => CheckName::OneValuePerBallot,
        CheckNameFile::MutualExclusion => CheckName::MutualExclusion,
        CheckNameFile::NoStaleWrite => CheckName::NoStaleWrite,
        CheckNameFile::Progress => CheckName::Progress,
        CheckNameFile::Balance => CheckName::Balance,
        CheckNameFile::Movement => CheckName::Movement,
        CheckNameFile::Converges => CheckName::Converges,
        CheckNameFile::DecidesWithin => CheckName::DecidesWithin,
    }
}

/// The output folder for a run: `<out>/<scenario name>/seed-<seed>`.
pub fn run_folder(out: &Path, name: &str, seed: u64) -> PathBuf {
    out.join(name).join(format!("seed-{seed}"))
}
