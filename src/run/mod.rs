//! One run, start to finish: expand the nemesis into faults, run the protocol
//! with the trace writer, its judge and the chart recorders watching, judge
//! the outcome against `expect`, and write the output folder. Every file is
//! written under a temporary name and renamed into place, so an interrupted
//! run never leaves a half-written file posing as a result.

mod output;
mod protocol;
mod record;

pub use output::write_atomic;
pub use protocol::{Configured, ListedCheck, Runnable, SimulateInput, Simulated};
pub use record::TimelineRecorder;

use crate::check::{CheckReport, Coverage, Expectation, Verdict, Violation};
use crate::harness::RunSetup;
use crate::plot::Chart;
use crate::scenario::Scenario;
use crate::sim::nemesis;
use crate::sim::{Fault, MessageStats, ScheduledFault, SimTime, SimulationConfig, TraceWriter};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

/// How to run and what to write.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Where run folders go (`output/` by default).
    pub out: PathBuf,
    /// Write `trace.jsonl` (the trace is hashed either way).
    pub trace: bool,
    /// Draw the charts.
    pub charts: bool,
    /// Write `report.html`, the run on one page (with `--no-trace` the trace
    /// is written to a temporary file for it, then removed).
    pub report: bool,
    /// Write nothing at all (sweeps, tests).
    pub write: bool,
    /// Keep the trace's bytes in the result when it is not written to a
    /// file (for outside checkers and tests).
    pub keep_trace: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            seed: None,
            out: PathBuf::from("output"),
            trace: true,
            charts: true,
            report: true,
            write: true,
            keep_trace: false,
        }
    }
}

/// A check's verdict as `summary.json` records it.
#[derive(Clone, Debug, Serialize)]
pub struct CheckSummary {
    /// The property.
    pub name: String,
    /// `safety`, `liveness` or `coverage`.
    pub kind: String,
    /// Pass or fail.
    pub verdict: Verdict,
    /// What the check saw.
    pub detail: String,
    /// The first ten violations, with their times (the report's diagram
    /// opens on the first).
    pub violations: Vec<Violation>,
}

/// A coverage property as `summary.json` records it.
#[derive(Clone, Debug, Serialize)]
pub struct CoverageSummary {
    /// The property.
    pub name: String,
    /// Whether the run did it.
    pub happened: bool,
    /// When, or how often.
    pub detail: String,
}

/// What `summary.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The scenario's name.
    pub scenario: String,
    /// What it shows.
    pub description: String,
    /// The protocol's name.
    pub protocol: String,
    /// This run's seed.
    pub seed: u64,
    /// Nodes.
    pub nodes: u32,
    /// Simulated time.
    pub sim_duration_ns: u64,
    /// One per line of `trace.jsonl` (written or not).
    pub events: u64,
    /// Scheduled events popped from the queue.
    pub queue_events: u64,
    /// Message accounting.
    pub messages: MessageStats,
    /// The listed checks' verdicts, in order.
    pub checks: Vec<CheckSummary>,
    /// Every coverage property of the protocol.
    pub coverage: Vec<CoverageSummary>,
    /// The declared outcome.
    pub expected: String,
    /// The outcome.
    pub outcome: String,
    /// Whether they match.
    pub outcome_as_expected: bool,
    /// XXH3-128 of the trace's events in their binary encoding (`sim::encode`).
    pub trace_hash: String,
    /// The trace's length.
    pub trace_bytes: u64,
    /// The most events pending at once.
    pub pending_events_max: usize,
    /// Why the run stopped before its end, if it did.
    pub stopped_early: Option<String>,
    /// Wall-clock time (the only figure that differs between two runs).
    pub wall_ms: f64,
    /// Events per wall-clock second.
    pub events_per_sec: f64,
    /// Every fault of the run.
    pub faults: Vec<ScheduledFault>,
    /// The protocol's figures, e.g. `lock_availability` (fraction of the run).
    pub metrics: BTreeMap<String, f64>,
}

/// Everything a run produced, in memory.
pub struct RunResult {
    /// What `summary.json` holds.
    pub summary: Summary,
    /// The listed checks' reports, in order.
    pub reports: Vec<CheckReport>,
    /// Every coverage property.
    pub coverage: Vec<Coverage>,
    /// (file stem, chart): `timeline` first, then the protocol's. Empty
    /// without `RunOptions::charts`.
    pub charts: Vec<(String, Chart)>,
    /// The folder written, if any.
    pub folder: Option<PathBuf>,
    /// The trace's bytes, with `RunOptions::keep_trace`.
    pub trace: Option<Vec<u8>>,
    /// The protocol's own files for the folder, (name, bytes); only made
    /// when the folder is written.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Why a run could not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// An output file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The run needed more than a limit allows: a user's problem, not an
    /// engine bug.
    #[error("{0}")]
    Limit(String),
}

/// Where trace lines go: a file being written, or memory.
pub enum TraceSink {
    /// A file, under its temporary name.
    File(BufWriter<File>),
    /// Memory.
    Memory(Vec<u8>),
}

impl Write for TraceSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self {
            TraceSink::File(file) => file.write(bytes),
            TraceSink::Memory(memory) => memory.write(bytes),
        }
    }
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            TraceSink::File(file) => file.write_all(bytes),
            TraceSink::Memory(memory) => {
                memory.extend_from_slice(bytes);
                Ok(())
            }
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            TraceSink::File(file) => file.flush(),
            TraceSink::Memory(_) => Ok(()),
        }
    }
}

/// The faults a run with this seed applies: the explicit ones plus the nemesis's.
pub fn faults_for_seed(scenario: &Scenario, seed: u64) -> Vec<ScheduledFault> {
    match &scenario.nemesis {
        Some(config) => nemesis::generate(config, scenario.node_count, seed, &scenario.faults),
        None => scenario.faults.clone(),
    }
}

/// The engine's configuration for one run of `scenario` with `seed`.
pub fn simulation_config(scenario: &Scenario, seed: u64) -> SimulationConfig {
    SimulationConfig {
        seed,
        node_count: scenario.node_count,
        duration: scenario.duration,
        network: scenario.network.clone(),
        faults: faults_for_seed(scenario, seed),
        events_max: scenario.limits.events_max,
        pending_max: scenario.limits.pending_max,
        inbox_max: scenario.limits.inbox_max,
    }
}

/// When the last fault is over: pauses and degraded links last a while.
pub fn faults_end(faults: &[ScheduledFault]) -> SimTime {
    faults
        .iter()
        .map(|scheduled| match scheduled.fault {
            Fault::Pause { duration, .. } | Fault::DegradeLink { duration, .. } => {
                scheduled.at.after(duration)
            }
            _ => scheduled.at,
        })
        .max()
        .unwrap_or(SimTime::ZERO)
}

/// Runs a scenario once and writes its output folder (unless told not to).
pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunResult, RunError> {
    let seed = options.seed.unwrap_or(scenario.seed);
    let config = simulation_config(scenario, seed);
    let faults = config.faults.clone();
    let folder = crate::scenario::run_folder(&options.out, &scenario.name, seed);
    let mut trace = TraceWriter::new(output::trace_sink(&folder, options)?);
    let absent = crate::sim::fault::joiners(scenario.node_count, &faults);
    let setup = RunSetup {
        node_count: scenario.node_count,
        seed,
        duration: scenario.duration,
        faults: &faults,
        faults_end: faults_end(&faults),
        latency_max: scenario.network.latency.bound(),
        absent: &absent,
    };
    let started = Instant::now();
    let simulated = scenario.protocol.simulate(SimulateInput {
        config,
        setup,
        trace: &mut trace,
        charts: options.charts,
        title: format!("{} (seed {seed})", scenario.name),
        expect: &scenario.expect,
        files: options.write,
    });
    let wall = started.elapsed();
    if let Some(overflow) = &simulated.report.overflow {
        output::discard_trace(&folder, options);
        return Err(RunError::Limit(output::overflow_message(
            scenario, seed, overflow,
        )));
    }
    let trace_bytes = trace.bytes();
    let (trace_sink, trace_hash) = trace
        .finish()
        .map_err(|source| output::write_error(&folder.join("trace.jsonl"), source))?;
    let kept_trace = match trace_sink {
        Some(TraceSink::Memory(bytes)) => Some(bytes),
        _ => None,
    };
    let summary = summarize(
        scenario,
        seed,
        &simulated,
        trace_hash,
        trace_bytes,
        wall,
        faults,
    );
    let mut result = RunResult {
        summary,
        reports: simulated.reports,
        coverage: simulated.coverage,
        charts: simulated.charts,
        folder: None,
        trace: kept_trace,
        files: simulated.files,
    };
    if options.write {
        output::write_folder(scenario, seed, &result, options, &folder)?;
        result.folder = Some(folder);
    }
    Ok(result)
}

/// What `run --check-determinism` found: the first run's hash, and the
/// second's if it differed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Determinism {
    /// The first run's trace hash.
    pub hash: String,
    /// The second run's, when it is not the same (a faultline bug).
    pub differing: Option<String>,
}

/// Runs the seed a second time in memory and compares trace hashes with
/// `first` (madsim's `check_determinism`). Sweeps and tests can call it.
pub fn check_determinism(
    scenario: &Scenario,
    options: &RunOptions,
    first: &RunResult,
) -> Result<Determinism, RunError> {
    let again = RunOptions {
        write: false,
        charts: false,
        keep_trace: false,
        ..options.clone()
    };
    let second = run(scenario, &again)?;
    let hash = first.summary.trace_hash.clone();
    let differing = (second.summary.trace_hash != hash).then_some(second.summary.trace_hash);
    Ok(Determinism { hash, differing })
}

/// True when exactly the checks named in `expect` fail.
pub fn matches_expectation(expect: &Expectation, reports: &[CheckReport]) -> bool {
    reports
        .iter()
        .all(|r| (r.verdict == Verdict::Fail) == expect.expects_failure_of(r.name))
}

/// The outcome in the words of `expect`: `Pass` or `Violates([...])`.
pub fn outcome_of(reports: &[CheckReport]) -> Expectation {
    let failed: Vec<&'static str> = reports
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .map(|r| r.name)
        .collect();
    if failed.is_empty() {
        Expectation::Pass
    } else {
        Expectation::Violates(failed)
    }
}

fn summarize(
    scenario: &Scenario,
    seed: u64,
    simulated: &Simulated,
    trace_hash: String,
    trace_bytes: u64,
    wall: std::time::Duration,
    faults: Vec<ScheduledFault>,
) -> Summary {
    let report = &simulated.report;
    let reports = &simulated.reports;
    let wall_secs = wall.as_secs_f64();
    Summary {
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        protocol: scenario.protocol.name().to_string(),
        seed,
        nodes: scenario.node_count,
        sim_duration_ns: report.end.as_nanos(),
        events: report.events,
        queue_events: report.queue_events,
        messages: report.messages.clone(),
        checks: reports
            .iter()
            .map(|r| CheckSummary {
                name: r.name.to_string(),
                kind: r.kind.to_string(),
                verdict: r.verdict,
                detail: r.detail.clone(),
                violations: r.violations.iter().take(10).cloned().collect(),
            })
            .collect(),
        coverage: simulated
            .coverage
            .iter()
            .map(|c| CoverageSummary {
                name: c.name.to_string(),
                happened: c.happened,
                detail: c.detail.clone(),
            })
            .collect(),
        expected: scenario.expect.to_string(),
        outcome: outcome_of(reports).to_string(),
        outcome_as_expected: matches_expectation(&scenario.expect, reports),
        trace_hash,
        trace_bytes,
        pending_events_max: report.pending_high_water,
        stopped_early: report.stopped_early.clone(),
        wall_ms: wall_secs * 1000.0,
        events_per_sec: if wall_secs > 0.0 {
            report.events as f64 / wall_secs
        } else {
            0.0
        },
        faults,
        metrics: simulated.metrics.clone(),
    }
}

/// Formats the end-of-run summary for a terminal.
pub fn describe(result: &RunResult) -> String {
    let s = &result.summary;
    let m = &s.messages;
    let mut text = format!(
        "{} (seed {}): {} nodes, {} simulated, {} events ({} from the queue) in {:.0} ms ({:.2} M events/s)\n",
        s.scenario,
        s.seed,
        s.nodes,
        SimTime::from_nanos(s.sim_duration_ns),
        s.events,
        s.queue_events,
        s.wall_ms,
        s.events_per_sec / 1e6
    );
    text.push_str(&format!(
        "messages: {} sent, {} duplicated, {} delivered, {} dropped ({} link down, {} random loss, {} crashed destination, {} inbox overflow), {} in flight\n",
        m.sent, m.duplicated, m.delivered, m.dropped, m.dropped_link_down, m.dropped_random_loss, m.dropped_crashed_destination, m.dropped_inbox_overflow, m.in_flight
    ));
    if let Some(reason) = &s.stopped_early {
        text.push_str(&format!("stopped early: {reason}\n"));
    }
    for check in &result.reports {
        text.push_str(&describe_check(check));
    }
    if !s.coverage.is_empty() {
        let seen: Vec<String> = s
            .coverage
            .iter()
            .map(|c| format!("{} {}", c.name, if c.happened { "yes" } else { "no" }))
            .collect();
        text.push_str(&format!("coverage: {}\n", seen.join(", ")));
    }
    text.push_str(&format!(
        "outcome {} — expected {}: {}\n",
        s.outcome,
        s.expected,
        if s.outcome_as_expected {
            "as expected"
        } else {
            "NOT AS EXPECTED"
        }
    ));
    text.push_str(&format!("trace hash {}\n", s.trace_hash));
    if let Some(folder) = &result.folder {
        text.push_str(&format!(
            "wrote {}/ ({})\n",
            folder.display(),
            folder_contents(folder)
        ));
    }
    text
}

/// What a run folder holds, as the run just left it: its files by name, the
/// charts counted (`--no-trace`, `--no-report` and `--no-charts` leave
/// theirs out).
fn folder_contents(folder: &std::path::Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let is_chart = |name: &String| name.ends_with(".png") || name.ends_with(".svg");
    let charts = names.iter().filter(|name| is_chart(name)).count();
    names.retain(|name| !is_chart(name));
    if charts > 0 {
        names.push(format!("{charts} chart files"));
    }
    names.join(", ")
}

/// One check's line: verdict, kind, name and the start of its detail.
fn describe_check(check: &CheckReport) -> String {
    let verdict = match check.verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "FAIL",
    };
    let detail: String = check.detail.chars().take(400).collect();
    let ellipsis = if check.detail.chars().count() > 400 {
        " …"
    } else {
        ""
    };
    format!(
        "  {verdict:4}  {} ({}): {detail}{ellipsis}\n",
        check.name, check.kind
    )
}
