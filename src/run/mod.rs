//! One run, start to finish: expand the nemesis into faults, run the engine
//! with the trace writer, the checks and the chart recorder as observers, judge
//! the outcome against `expect`, and write the output folder. Every file is
//! written under a temporary name and renamed into place, so an interrupted run
//! never leaves a half-written file posing as a result.

use crate::check::hashing::HashingJudge;
use crate::check::heartbeat::HeartbeatJudge;
use crate::check::lock::LockJudge;
use crate::check::paxos::{ballot_name, PaxosJudge};
use crate::check::{CheckReport, CheckSpec, Expectation, Verdict};
use crate::node::Protocol;
use crate::plot::{self, TimelineData};
use crate::plot::{Mark, MarkKind, MarkSpan};
use crate::scenario::{self, ProtocolSpec, Scenario};
use crate::sim::nemesis;
use crate::sim::world::PENDING_MAX_DEFAULT;
use crate::sim::{Fault, SimDuration};
use crate::sim::{
    MessageStats, Observers, RunReport, ScheduledFault, SimTime, Simulation, SimulationConfig,
    TraceWriter,
};
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

mod record;
pub use record::{PaxosMarks, TimelineRecorder};

/// How to run and what to write.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Where run folders go (`output/` by default).
    pub out: PathBuf,
    /// Write `trace.jsonl` (the trace is hashed either way).
    pub trace: bool,
    pub charts: bool,
    /// Write `report.html`, the run on one page (with `--no-trace` the trace
    /// is still written, to a temporary file, for its diagram).
    pub report: bool,
    /// Write nothing at all (sweeps, tests).
    pub write: bool,
    /// Keep the trace's bytes in the result (for outside checkers and tests).
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

#[derive(Clone, Debug, Serialize)]
pub struct CheckSummary {
    pub name: String,
    pub verdict: Verdict,
    pub detail: String,
    /// The first ten violations, with their times (the report's diagram
    /// opens on the first).
    pub violations: Vec<crate::check::Violation>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub description: String,
    pub seed: u64,
    pub nodes: u32,
    pub sim_duration_ns: u64,
    /// One per line of `trace.jsonl` (written or not).
    pub events: u64,
    /// Scheduled events popped from the queue.
    pub queue_events: u64,
    pub messages: MessageStats,
    pub checks: Vec<CheckSummary>,
    pub expected: String,
    pub outcome: String,
    pub outcome_as_expected: bool,
    pub trace_hash: String,
    pub trace_bytes: u64,
    pub pending_events_max: usize,
    pub stopped_early: Option<String>,
    pub wall_ms: f64,
    pub events_per_sec: f64,
    pub faults: Vec<ScheduledFault>,
    /// Protocol figures, e.g. `lock_availability` (fraction of the run).
    pub metrics: std::collections::BTreeMap<String, f64>,
}

/// Everything a run produced, in memory.
pub struct RunResult {
    pub summary: Summary,
    pub reports: Vec<CheckReport>,
    /// (file stem, chart data): `timeline`, and a protocol chart if the protocol
    /// has one. Without `RunOptions::charts` nothing was recorded for them.
    pub charts: Vec<(String, TimelineData)>,
    /// The consistent-hashing chart, for hashing runs.
    pub hashing_chart: Option<crate::plot::HashingChartData>,
    /// The folder written, if any.
    pub folder: Option<PathBuf>,
    /// The trace's bytes, with `RunOptions::keep_trace`.
    pub trace: Option<Vec<u8>>,
}

/// Where trace lines go: a file being written, or memory.
enum TraceSink {
    File(BufWriter<File>),
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

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
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
        events_max: scenario.events_max,
        pending_max: PENDING_MAX_DEFAULT,
        inbox_max: scenario.inbox_max,
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
    let folder = scenario::run_folder(&options.out, &scenario.name, seed);
    let trace_path = folder.join("trace.jsonl");
    let trace_sink = if options.write && (options.trace || options.report) {
        std::fs::create_dir_all(&folder).map_err(|source| write_error(&folder, source))?;
        let file = File::create(temporary(&trace_path))
            .map_err(|source| write_error(&trace_path, source))?;
        Some(TraceSink::File(BufWriter::with_capacity(1 << 20, file)))
    } else if options.keep_trace {
        Some(TraceSink::Memory(Vec::new()))
    } else {
        None
    };
    let mut trace = TraceWriter::new(trace_sink);
    let mut recorder = TimelineRecorder::new(scenario.node_count);
    let started = Instant::now();
    let mut metrics = std::collections::BTreeMap::new();
    let mut lock_spans = Vec::new();
    let mut hashing_chart: Option<crate::plot::HashingChartData> = None;
    let (report, mut reports, protocol_chart) = match &scenario.protocol {
        ProtocolSpec::Heartbeat(protocol) => {
            let within = scenario.checks.iter().find_map(|c| match c {
                CheckSpec::Completeness { within } => Some(*within),
                _ => None,
            });
            let mut judge = HeartbeatJudge::new(
                scenario.node_count,
                protocol,
                scenario.network.latency.bound(),
                within,
                &crate::sim::fault::joiners(scenario.node_count, &faults),
            );
            let report = simulate(
                protocol.clone(),
                config,
                &mut [&mut trace, &mut judge],
                &mut [&mut recorder],
                options.charts,
            );
            let reports = scenario
                .checks
                .iter()
                .filter_map(|check| match check {
                    CheckSpec::Completeness { .. } => Some(judge.completeness_report(report.end)),
                    CheckSpec::Accuracy => Some(judge.accuracy_report(report.end)),
                    // Validation only lets heartbeat checks reach a heartbeat run.
                    _ => None,
                })
                .collect::<Vec<_>>();
            recorder.set_suspicions(judge.intervals());
            (report, reports, None)
        }
        ProtocolSpec::Paxos(protocol) => {
            let within = scenario.checks.iter().find_map(|c| match c {
                CheckSpec::DecidesWithin { within } => Some(*within),
                _ => None,
            });
            // The run's own copy, for the judge too: see `Paxos::unshared`.
            let protocol = protocol.unshared();
            let mut judge = PaxosJudge::new(&protocol, within, faults_end(&faults));
            let mut marks = PaxosMarks::default();
            let report = simulate(
                protocol,
                config,
                &mut [&mut trace, &mut judge],
                &mut [&mut recorder, &mut marks],
                options.charts,
            );
            let names: Vec<_> = scenario.checks.iter().map(CheckSpec::name).collect();
            let reports = judge.reports(&names, report.end);
            let moments = judge
                .chosen()
                .map(|(time, ballot, value)| {
                    vec![(
                        *time,
                        format!("{value} chosen (ballot {})", ballot_name(*ballot)),
                    )]
                })
                .unwrap_or_default();
            (report, reports, Some(("paxos", marks.marks, moments)))
        }
        ProtocolSpec::Hashing(protocol, initial, changes) => {
            let within = scenario.checks.iter().find_map(|c| match c {
                CheckSpec::Converges { within } => Some(*within),
                _ => None,
            });
            let mut judge = HashingJudge::new(
                protocol,
                scenario.node_count,
                initial.clone(),
                changes.clone(),
                within,
                faults_end(&faults),
            );
            let report = simulate(
                protocol.clone(),
                config,
                &mut [&mut trace, &mut judge],
                &mut [&mut recorder],
                options.charts,
            );
            let wanted: Vec<(crate::check::CheckName, f64)> = scenario
                .checks
                .iter()
                .map(|c| match c {
                    CheckSpec::Balance { max_over_mean } => (c.name(), *max_over_mean),
                    CheckSpec::Movement { max_fraction } => (c.name(), *max_fraction),
                    _ => (c.name(), 0.0),
                })
                .collect();
            let reports = judge.reports(&wanted, report.end);
            hashing_chart = Some(hashing_chart_data(
                protocol,
                &judge,
                initial,
                faults_end(&faults),
                report.end,
            ));
            (report, reports, None)
        }
        ProtocolSpec::Lock(protocol) => {
            let within = scenario.checks.iter().find_map(|c| match c {
                CheckSpec::Progress { within } => Some(*within),
                _ => None,
            });
            let mut judge = LockJudge::new(protocol, scenario.node_count, within);
            let report = simulate(
                protocol.clone(),
                config,
                &mut [&mut trace, &mut judge],
                &mut [&mut recorder],
                options.charts,
            );
            let names: Vec<_> = scenario.checks.iter().map(CheckSpec::name).collect();
            let reports = judge.reports(&names, report.end);
            metrics.insert(
                "lock_availability".to_string(),
                judge.availability(report.end),
            );
            let (marks, spans) = lock_chart(&judge, report.end);
            lock_spans = spans;
            (report, reports, Some(("lock", marks, Vec::new())))
        }
    };
    let wall = started.elapsed();
    let trace_bytes = trace.bytes();
    let (trace_sink, trace_hash) = trace
        .finish()
        .map_err(|source| write_error(&trace_path, source))?;
    let kept_trace = match trace_sink {
        Some(TraceSink::Memory(bytes)) => Some(bytes),
        _ => None,
    };
    reports.sort_by_key(|r| scenario.checks.iter().position(|c| c.name() == r.name));
    let outcome_as_expected = matches_expectation(&scenario.expect, &reports);
    let mut summary = summarize(
        scenario,
        seed,
        &report,
        &reports,
        outcome_as_expected,
        trace_hash,
        trace_bytes,
        wall,
        faults.clone(),
    );
    summary.metrics = metrics;
    let mut timeline = recorder.finish(report.end);
    timeline.title = format!("{} (seed {seed})", scenario.name);
    timeline.subtitle = format!(
        "{} — expected {}: {}",
        reports
            .iter()
            .map(|r| format!(
                "{} {}",
                r.name,
                if r.verdict == Verdict::Pass {
                    "pass"
                } else {
                    "FAIL"
                }
            ))
            .collect::<Vec<_>>()
            .join(", "),
        scenario.expect,
        if outcome_as_expected {
            "as expected"
        } else {
            "NOT as expected"
        }
    );
    timeline.violations = reports
        .iter()
        .flat_map(|r| {
            r.violations
                .iter()
                .map(move |v| (r.name.to_string(), v.clone()))
        })
        .collect();
    let mut charts = vec![("timeline".to_string(), timeline.clone())];
    if let Some((name, marks, moments)) = protocol_chart {
        let mut chart = timeline;
        // Zoom in on where the protocol acted: up to a little after the last
        // mark or fault, but never past the end.
        let busy_until = marks
            .iter()
            .map(|m| m.time)
            .chain([faults_end(&faults)])
            .max()
            .unwrap_or(report.end);
        let margin = SimDuration::from_nanos(busy_until.as_nanos() / 10)
            .saturating_add(SimDuration::from_millis(20));
        chart.view_end = Some(busy_until.after(margin).min(report.end));
        chart.marks = marks;
        chart.spans = std::mem::take(&mut lock_spans);
        if let ProtocolSpec::Lock(_) = &scenario.protocol {
            chart.lane_names = (0..scenario.node_count)
                .map(|node| match node {
                    0 => "server 0".to_string(),
                    1 => "resource 1".to_string(),
                    _ => format!("client {node}"),
                })
                .collect();
        }
        chart.moments = moments;
        chart.kind = name.to_string();
        if let ProtocolSpec::Paxos(protocol) = &scenario.protocol {
            chart.subtitle = format!(
                "quorum {} of {} acceptors · {}",
                protocol.quorum(),
                protocol.acceptors.len(),
                chart.subtitle
            );
        }
        charts.push((name.to_string(), chart));
    }
    let hashing_chart = hashing_chart.map(|mut data| {
        data.title = format!("{} (seed {seed})", scenario.name);
        data.subtitle = charts[0].1.subtitle.clone();
        data.partitions = charts[0].1.partitions.clone();
        data
    });
    let mut result = RunResult {
        summary,
        reports,
        charts,
        hashing_chart,
        folder: None,
        trace: kept_trace,
    };
    if options.write {
        write_folder(scenario, seed, &faults, &result, options, &folder)?;
        result.folder = Some(folder);
    }
    Ok(result)
}

/// Runs with the trace writer and the checks watching, and the chart
/// recorders too when charts are wanted (sweeps and shrinking never draw, and
/// recording was a noticeable part of their time). Observers cannot change a
/// run, so leaving some out changes nothing but the cost.
fn simulate<P: Protocol>(
    protocol: P,
    config: SimulationConfig,
    observers: &mut [&mut dyn crate::sim::Observer<P>],
    chart_recorders: &mut [&mut dyn crate::sim::Observer<P>],
    charts: bool,
) -> RunReport {
    let mut all = Observers::new();
    for observer in observers.iter_mut() {
        all.push(&mut **observer);
    }
    if charts {
        for observer in chart_recorders.iter_mut() {
            all.push(&mut **observer);
        }
    }
    Simulation::new(protocol, config).run(&mut all)
}

/// True when exactly the checks named in `expect` fail.
pub fn matches_expectation(expect: &Expectation, reports: &[CheckReport]) -> bool {
    reports
        .iter()
        .all(|r| (r.verdict == Verdict::Fail) == expect.expects_failure_of(r.name))
}

/// The outcome in the words of `expect`: `Pass` or `Violates([...])`.
pub fn outcome_of(reports: &[CheckReport]) -> Expectation {
    let failed: Vec<_> = reports
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

#[allow(clippy::too_many_arguments)]
fn summarize(
    scenario: &Scenario,
    seed: u64,
    report: &RunReport,
    reports: &[CheckReport],
    outcome_as_expected: bool,
    trace_hash: String,
    trace_bytes: u64,
    wall: std::time::Duration,
    faults: Vec<ScheduledFault>,
) -> Summary {
    let wall_secs = wall.as_secs_f64();
    Summary {
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
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
                verdict: r.verdict,
                detail: r.detail.clone(),
                violations: r.violations.iter().take(10).cloned().collect(),
            })
            .collect(),
        expected: scenario.expect.to_string(),
        outcome: outcome_of(reports).to_string(),
        outcome_as_expected,
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
        metrics: std::collections::BTreeMap::new(),
    }
}

fn write_error(path: &Path, source: std::io::Error) -> RunError {
    RunError::Write {
        path: path.display().to_string(),
        source,
    }
}

fn temporary(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .expect("output files have names")
        .to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes bytes under a temporary name, then renames them into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    let temporary = temporary(path);
    let mut file = File::create(&temporary).map_err(|source| write_error(&temporary, source))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_data())
        .map_err(|source| write_error(&temporary, source))?;
    std::fs::rename(&temporary, path).map_err(|source| write_error(path, source))
}

/// Writes `<stem>.svg` and `<stem>.png` from `data`, or, without data,
/// removes ones an earlier run left there.
fn write_chart<T>(
    folder: &Path,
    stem: &str,
    data: Option<&T>,
    svg: impl Fn(&T) -> String,
    png: impl Fn(&T) -> Vec<u8>,
) -> Result<(), RunError> {
    for extension in ["svg", "png"] {
        let path = folder.join(format!("{stem}.{extension}"));
        match data {
            Some(data) => {
                let bytes = if extension == "svg" {
                    svg(data).into_bytes()
                } else {
                    png(data)
                };
                write_atomic(&path, &bytes)?;
            }
            None => remove_stale(&path)?,
        }
    }
    Ok(())
}

fn write_folder(
    scenario: &Scenario,
    seed: u64,
    faults: &[ScheduledFault],
    result: &RunResult,
    options: &RunOptions,
    folder: &Path,
) -> Result<(), RunError> {
    std::fs::create_dir_all(folder).map_err(|source| write_error(folder, source))?;
    let trace_path = folder.join("trace.jsonl");
    if options.trace {
        std::fs::rename(temporary(&trace_path), &trace_path)
            .map_err(|source| write_error(&trace_path, source))?;
    } else {
        remove_stale(&trace_path)?;
    }
    for stem in ["timeline", "paxos", "lock"] {
        let chart = result
            .charts
            .iter()
            .find(|(name, _)| name == stem)
            .map(|(_, data)| data);
        write_chart(
            folder,
            stem,
            chart.filter(|_| options.charts),
            plot::timeline_svg,
            plot::timeline_png,
        )?;
    }
    write_chart(
        folder,
        "hashing",
        result.hashing_chart.as_ref().filter(|_| options.charts),
        plot::hashing_svg,
        plot::hashing_png,
    )?;
    let explicit = scenario.explicit_file(seed, faults);
    let header = format!(
        "// Written by faultline: scenario `{}` with seed {seed}, every fault explicit.\n// Running this file reproduces the run exactly.\n",
        scenario.name
    );
    write_atomic(
        &folder.join("scenario.ron"),
        format!("{header}{}\n", scenario::to_ron(&explicit)).as_bytes(),
    )?;
    let mut summary = serde_json::to_vec_pretty(&result.summary).expect("summaries serialize");
    summary.push(b'\n');
    write_atomic(&folder.join("summary.json"), &summary)?;
    // The report is drawn from the files just written; with --no-trace,
    // from the trace's temporary file, which then goes.
    let report_path = folder.join("report.html");
    let trace = if options.trace {
        trace_path
    } else {
        temporary(&trace_path)
    };
    if options.report {
        let page = crate::report::run_page_from_folder(folder, &trace, &options.out)
            .map_err(|source| write_error(&report_path, source))?;
        write_atomic(&report_path, page.as_bytes())?;
    } else {
        remove_stale(&report_path)?;
    }
    if !options.trace {
        remove_stale(&trace)?;
    }
    Ok(())
}

/// Removes an output file left by an earlier run that this run does not rewrite,
/// so a folder never mixes two runs.
fn remove_stale(path: &Path) -> Result<(), RunError> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(write_error(path, error)),
        _ => Ok(()),
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
        text.push_str(&format!(
            "  {verdict:4}  {}: {detail}{ellipsis}\n",
            check.name
        ));
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
            "wrote {}/ (report.html, summary.json, scenario.ron, trace.jsonl, charts)\n",
            folder.display()
        ));
    }
    text
}

/// The lock chart's marks and bars: each client's holding intervals and the
/// server's grants (coloured by token), the resource's writes by outcome.
fn lock_chart(judge: &LockJudge, end: SimTime) -> (Vec<Mark>, Vec<MarkSpan>) {
    let mut spans: Vec<MarkSpan> = judge
        .holdings()
        .map(|h| MarkSpan {
            node: h.client,
            start: h.start,
            end: h.end.unwrap_or(end),
            group: h.token as u32,
            label: format!("t{}", h.token),
        })
        .collect();
    spans.extend(judge.grants().iter().map(|g| MarkSpan {
        node: crate::protocols::lock::SERVER,
        start: g.start,
        end: g.end.unwrap_or(end),
        group: g.token as u32,
        label: format!(
            "t{}→{}{}",
            g.token,
            g.client,
            if g.expired { " (expired)" } else { "" }
        ),
    }));
    let marks = judge
        .writes()
        .iter()
        .map(|w| Mark {
            node: crate::protocols::lock::RESOURCE,
            time: w.time,
            kind: match (w.accepted, w.unsafe_write) {
                (false, _) => MarkKind::Refusal,
                (true, false) => MarkKind::Success,
                (true, true) => MarkKind::Unsafe,
            },
            group: w.token as u32,
            label: String::new(),
        })
        .collect();
    (marks, spans)
}

/// What the hashing chart compares: the scenario's own scheme and, for
/// reference, the ring at several virtual-node counts, modulo and rendezvous.
fn hashing_chart_data(
    protocol: &crate::protocols::hashing::Hashing,
    judge: &HashingJudge,
    initial: &[crate::node::NodeId],
    faults_end: SimTime,
    end: SimTime,
) -> crate::plot::HashingChartData {
    use crate::protocols::placement::{
        balance, key_hash, key_name, moved_fraction, Placement, Scheme,
    };
    let keys: Vec<u64> = (0..protocol.keys)
        .map(|i| key_hash(key_name(i).as_bytes()))
        .collect();
    let label = |scheme: Scheme| match scheme {
        Scheme::Ring { vnodes } => format!("ring, {vnodes} vnodes"),
        Scheme::Modulo => "modulo".to_string(),
        Scheme::Rendezvous => "rendezvous".to_string(),
    };
    let schemes = [
        Scheme::Ring { vnodes: 1 },
        Scheme::Ring { vnodes: 10 },
        Scheme::Ring { vnodes: 100 },
        Scheme::Ring { vnodes: 1000 },
        Scheme::Modulo,
        Scheme::Rendezvous,
    ];
    let loads = schemes
        .iter()
        .map(|&scheme| {
            let stats = balance(&Placement::new(scheme, initial), &keys);
            (label(scheme), stats.loads, stats.cv)
        })
        .collect();
    let memberships = judge.memberships();
    let moves = judge
        .movements()
        .iter()
        .zip(memberships.windows(2))
        .map(|((at, change, _), pair)| {
            // The scenario's own scheme, then the two others for comparison.
            let mut compared = vec![protocol.scheme];
            for other in [
                Scheme::Ring { vnodes: 200 },
                Scheme::Modulo,
                Scheme::Rendezvous,
            ] {
                let same_kind =
                    std::mem::discriminant(&other) == std::mem::discriminant(&protocol.scheme);
                if !same_kind {
                    compared.push(other);
                }
            }
            let per_scheme = compared
                .iter()
                .map(|&scheme| {
                    let fraction = moved_fraction(
                        &Placement::new(scheme, &pair[0].1),
                        &Placement::new(scheme, &pair[1].1),
                        &keys,
                    );
                    (label(scheme), fraction)
                })
                .collect();
            let larger = pair[0].1.len().max(pair[1].1.len()).max(1);
            (
                format!("{change:?} at {at}"),
                per_scheme,
                1.0 / larger as f64,
            )
        })
        .collect();
    crate::plot::HashingChartData {
        end,
        disagreement: judge.series.clone(),
        misrouted: judge.misrouted_at.clone(),
        failed: judge.failed_at(),
        faults_end,
        loads,
        moves,
        ring: Placement::new(protocol.scheme, initial)
            .ring_points()
            .collect(),
        ..Default::default()
    }
}
