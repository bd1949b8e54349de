//! Seed sweeps: one run per seed, in parallel across cores (never within a
//! run), and a report of every seed's outcome and trace hash.
//!
//! Seeds are processed in chunks, in seed order; the runs of a chunk go to the
//! thread pool and come back in seed order. So the outcomes, and where
//! `--stop-on-first` stops (chunks are then of a fixed size), do not depend on
//! the number of jobs or on which run finishes first. Only wall-clock figures
//! differ between two sweeps.
//!
//! Sharding spreads a sweep over machines: shard `I/N` runs the seeds whose
//! index in the range is `I` modulo `N`, and `merge` puts shard reports back
//! together into the report the whole sweep would have written.

use crate::run::{self, RunOptions};
use crate::scenario::Scenario;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Seeds per chunk, at first and always with `--stop-on-first` (which checks
/// between chunks, so it stops soon after a failure, at the same seed
/// whatever the jobs).
const CHUNK: usize = 256;
/// Each chunk ends in a barrier: every thread waits for the chunk's slowest
/// run, and the pool sleeps while the report is updated. With short runs and
/// 256-seed chunks that cost about a tenth of a two-job sweep, so otherwise
/// chunks grow to take about this long, up to `CHUNK_MAX` seeds. Where the
/// chunks end never changes the outcomes, which come back in seed order.
const CHUNK_WALL: Duration = Duration::from_millis(500);
const CHUNK_MAX: usize = 8192;

#[derive(Clone, Debug)]
/// What a sweep runs and how.
pub struct SweepOptions {
    /// The first seed.
    pub seed_start: u64,
    /// One past the last seed.
    pub seed_end: u64,
    /// Threads; `None` means one per core.
    pub jobs: Option<usize>,
    /// `(index, count)`: run only seeds whose index is `index` modulo `count`.
    pub shard: Option<(u64, u64)>,
    /// Stop at the first seed whose outcome is not the expected one.
    pub stop_on_first: bool,
    /// Show progress on standard error.
    pub progress: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// One seed's run, as a sweep records it.
pub struct SeedOutcome {
    /// The seed.
    pub seed: u64,
    /// `Pass` or `Violates([...])`.
    pub outcome: String,
    /// Whether the outcome is the scenario's `expect`.
    pub as_expected: bool,
    /// The checks that failed.
    pub failed: Vec<String>,
    /// The run's trace hash (XXH3-128, 32 hex digits).
    pub trace_hash: String,
    /// Events the run produced.
    pub events: u64,
    /// The run's protocol figures (`summary.metrics`), for the sweep page's
    /// histograms.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
    /// The coverage properties that happened in this run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub covered: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
/// What a sweep found, as written to `sweep.json`.
pub struct SweepReport {
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file as given on the command line, for the commands
    /// that reproduce a seed.
    #[serde(default)]
    pub scenario_file: Option<String>,
    /// The scenario's `expect`, as written.
    pub expected: String,
    /// The first seed.
    pub seed_start: u64,
    /// One past the last seed.
    pub seed_end: u64,
    /// `(index, count)` if this is one shard of a sweep.
    pub shard: Option<(u64, u64)>,
    /// Seeds run.
    pub runs: u64,
    /// Seeds whose outcome was the expected one.
    pub as_expected: u64,
    /// The other seeds, in order.
    pub unexpected_seeds: Vec<u64>,
    /// Check name -> seeds in which it failed.
    pub failures_per_check: BTreeMap<String, u64>,
    /// Every coverage property of the protocol -> seeds in which it
    /// happened (0 says the sweep never exercised it).
    #[serde(default)]
    pub coverage: BTreeMap<String, u64>,
    /// Whether the sweep stopped at its first unexpected seed.
    pub stopped_early: bool,
    /// Events all runs produced.
    pub events: u64,
    /// Wall time, in milliseconds.
    pub wall_ms: f64,
    /// Events per second of wall time.
    pub events_per_sec: f64,
    /// Every seed's run, in seed order.
    pub outcomes: Vec<SeedOutcome>,
}

/// Why a sweep could not finish.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The thread pool could not start.
    #[error("cannot start {jobs} worker threads: {reason}")]
    Threads {
        /// The threads asked for.
        jobs: usize,
        /// Why they could not start.
        reason: String,
    },
    /// Shards that do not fit together.
    #[error("{0}")]
    Merge(String),
    /// A seed's run needed more than a limit allows.
    #[error("seed {seed}: {message}")]
    Limit {
        /// The seed.
        seed: u64,
        /// Which limit, and how to raise it.
        message: String,
    },
    /// A seed's run broke an engine invariant (a faultline bug).
    #[error("seed {seed}: an engine invariant broke")]
    Internal {
        /// The seed that reproduces it.
        seed: u64,
    },
}

/// The seeds a sweep (or one shard of it) runs, in order.
pub fn seeds_of(options: &SweepOptions) -> Vec<u64> {
    (options.seed_start..options.seed_end)
        .filter(|seed| match options.shard {
            Some((index, count)) => (seed - options.seed_start) % count == index,
            None => true,
        })
        .collect()
}

/// One seed's run. A panic (a broken engine invariant, already printed) is
/// caught here so that the sweep can name the seed.
fn run_seed(scenario: &Scenario, seed: u64) -> Result<SeedOutcome, SweepError> {
    let options = RunOptions {
        seed: Some(seed),
        write: false,
        charts: false,
        ..RunOptions::default()
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run::run(scenario, &options)
    }))
    .map_err(|_| SweepError::Internal { seed })?
    .map_err(|error| SweepError::Limit {
        seed,
        message: error.to_string(),
    })?;
    Ok(SeedOutcome {
        seed,
        outcome: result.summary.outcome.clone(),
        as_expected: result.summary.outcome_as_expected,
        failed: result
            .summary
            .checks
            .iter()
            .filter(|c| c.verdict == crate::check::Verdict::Fail)
            .map(|c| c.name.clone())
            .collect(),
        trace_hash: result.summary.trace_hash,
        events: result.summary.events,
        metrics: result.summary.metrics,
        covered: result
            .coverage
            .iter()
            .filter(|c| c.happened)
            .map(|c| c.name.to_string())
            .collect(),
    })
}

/// Shows progress: a bar on a terminal, a line every few seconds otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    last_line: Instant,
}

impl Progress {
    fn new(total: u64, enabled: bool) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} seeds  {per_sec}  eta {eta}  {msg}",
                )
                .expect("the template is valid"),
            );
            bar
        });
        Progress {
            bar,
            total,
            last_line: Instant::now(),
        }
    }

    fn update(&mut self, done: u64, unexpected: usize, enabled: bool) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(done);
                bar.set_message(format!("{unexpected} unexpected"));
            }
            None if enabled && self.last_line.elapsed() >= Duration::from_secs(5) => {
                eprintln!(
                    "sweep: {done}/{} seeds, {unexpected} unexpected",
                    self.total
                );
                self.last_line = Instant::now();
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Runs every seed of `options` (in parallel; the outcomes come back in seed order).
pub fn sweep(scenario: &Scenario, options: &SweepOptions) -> Result<SweepReport, SweepError> {
    let seeds = seeds_of(options);
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(jobs) = options.jobs {
        builder = builder.num_threads(jobs);
    }
    let pool = builder.build().map_err(|error| SweepError::Threads {
        jobs: options.jobs.unwrap_or(0),
        reason: error.to_string(),
    })?;
    let started = Instant::now();
    let mut progress = Progress::new(seeds.len() as u64, options.progress);
    let mut outcomes: Vec<SeedOutcome> = Vec::with_capacity(seeds.len());
    let mut stopped_early = false;
    let mut chunk_size = CHUNK;
    let mut next = 0;
    while next < seeds.len() {
        let chunk = &seeds[next..(next + chunk_size).min(seeds.len())];
        next += chunk.len();
        let chunk_started = Instant::now();
        let results: Result<Vec<SeedOutcome>, SweepError> = pool.install(|| {
            chunk
                .par_iter()
                .map(|&seed| run_seed(scenario, seed))
                .collect()
        });
        outcomes.extend(results?);
        if !options.stop_on_first {
            let per_seed = chunk_started.elapsed().as_secs_f64() / chunk.len() as f64;
            let wanted = CHUNK_WALL.as_secs_f64() / per_seed.max(1e-9);
            chunk_size = (wanted as usize).clamp(CHUNK, CHUNK_MAX);
        }
        let unexpected = outcomes.iter().filter(|o| !o.as_expected).count();
        progress.update(outcomes.len() as u64, unexpected, options.progress);
        if options.stop_on_first && unexpected > 0 {
            stopped_early = outcomes.len() < seeds.len();
            break;
        }
    }
    progress.finish();
    let coverage_names: Vec<String> = scenario
        .protocol
        .properties()
        .iter()
        .filter(|p| p.kind == crate::check::PropertyKind::Coverage)
        .map(|p| p.name.to_string())
        .collect();
    let mut report = summarize(
        scenario.name.clone(),
        scenario.expect.to_string(),
        options,
        outcomes,
        stopped_early,
        &coverage_names,
    );
    report.wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    report.events_per_sec = if report.wall_ms > 0.0 {
        report.events as f64 / (report.wall_ms / 1000.0)
    } else {
        0.0
    };
    Ok(report)
}

fn summarize(
    scenario: String,
    expected: String,
    options: &SweepOptions,
    outcomes: Vec<SeedOutcome>,
    stopped_early: bool,
    coverage_names: &[String],
) -> SweepReport {
    let mut failures_per_check = BTreeMap::new();
    let mut coverage: BTreeMap<String, u64> = coverage_names
        .iter()
        .map(|name| (name.clone(), 0))
        .collect();
    for outcome in &outcomes {
        for check in &outcome.failed {
            *failures_per_check.entry(check.clone()).or_insert(0) += 1;
        }
        for name in &outcome.covered {
            *coverage.entry(name.clone()).or_insert(0) += 1;
        }
    }
    SweepReport {
        scenario,
        scenario_file: None,
        expected,
        seed_start: options.seed_start,
        seed_end: options.seed_end,
        shard: options.shard,
        runs: outcomes.len() as u64,
        as_expected: outcomes.iter().filter(|o| o.as_expected).count() as u64,
        unexpected_seeds: outcomes
            .iter()
            .filter(|o| !o.as_expected)
            .map(|o| o.seed)
            .collect(),
        failures_per_check,
        coverage,
        stopped_early,
        events: outcomes.iter().map(|o| o.events).sum(),
        wall_ms: 0.0,
        events_per_sec: 0.0,
        outcomes,
    }
}

/// Combines shard reports of one sweep into the whole sweep's report.
pub fn merge(shards: Vec<SweepReport>) -> Result<SweepReport, SweepError> {
    let first = shards
        .first()
        .ok_or_else(|| SweepError::Merge("nothing to merge".into()))?;
    let (scenario, expected, start, end) = (
        first.scenario.clone(),
        first.expected.clone(),
        first.seed_start,
        first.seed_end,
    );
    for shard in &shards {
        if shard.scenario != scenario || shard.seed_start != start || shard.seed_end != end {
            return Err(SweepError::Merge(format!(
                "shard of {} seeds {}..{} does not belong with {} seeds {}..{}",
                shard.scenario, shard.seed_start, shard.seed_end, scenario, start, end
            )));
        }
    }
    let mut outcomes: Vec<SeedOutcome> = shards
        .iter()
        .flat_map(|s| s.outcomes.iter().cloned())
        .collect();
    outcomes.sort_by_key(|o| o.seed);
    if outcomes.windows(2).any(|pair| pair[0].seed == pair[1].seed) {
        return Err(SweepError::Merge("two shards ran the same seed".into()));
    }
    let options = SweepOptions {
        seed_start: start,
        seed_end: end,
        jobs: None,
        shard: None,
        stop_on_first: false,
        progress: false,
    };
    let stopped_early = shards.iter().any(|s| s.stopped_early);
    let scenario_file = shards.iter().find_map(|s| s.scenario_file.clone());
    let mut coverage_names: Vec<String> = shards
        .iter()
        .flat_map(|s| s.coverage.keys().cloned())
        .collect();
    coverage_names.sort();
    coverage_names.dedup();
    let mut report = summarize(
        scenario,
        expected,
        &options,
        outcomes,
        stopped_early,
        &coverage_names,
    );
    report.scenario_file = scenario_file;
    report.wall_ms = shards.iter().map(|s| s.wall_ms).fold(0.0, f64::max);
    report.events_per_sec = shards.iter().map(|s| s.events_per_sec).sum();
    Ok(report)
}

/// The sweep's table for a terminal.
pub fn describe(report: &SweepReport) -> String {
    let mut text = format!(
        "{}: {} runs (seeds {}..{}{}), {} as expected ({}), {} unexpected\n",
        report.scenario,
        report.runs,
        report.seed_start,
        report.seed_end,
        report
            .shard
            .map_or(String::new(), |(i, n)| format!(", shard {i}/{n}")),
        report.as_expected,
        report.expected,
        report.unexpected_seeds.len()
    );
    if report.failures_per_check.is_empty() {
        text.push_str("  no check failed in any seed\n");
    }
    for (check, count) in &report.failures_per_check {
        text.push_str(&format!("  {check:<20} failed in {count} seed(s)\n"));
    }
    text.push_str(&describe_coverage(report));
    if !report.unexpected_seeds.is_empty() {
        let shown: Vec<String> = report
            .unexpected_seeds
            .iter()
            .take(20)
            .map(u64::to_string)
            .collect();
        let more = report.unexpected_seeds.len().saturating_sub(20);
        text.push_str(&format!(
            "  unexpected seeds: {}{}\n",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    if report.stopped_early {
        text.push_str("  stopped at the first unexpected outcome (--stop-on-first)\n");
    }
    text.push_str(&format!(
        "  {} events in {:.0} ms: {:.2} M events/s overall\n",
        report.events,
        report.wall_ms,
        report.events_per_sec / 1e6
    ));
    text
}

/// Per coverage property, the share of seeds in which it happened; one that
/// never did is called out, since the sweep then tested nothing of it.
fn describe_coverage(report: &SweepReport) -> String {
    let mut text = String::new();
    for (name, seeds) in &report.coverage {
        let share = 100.0 * *seeds as f64 / report.runs.max(1) as f64;
        if *seeds == 0 {
            text.push_str(&format!(
                "  coverage {name:<18} never happened in {} seeds: this sweep did not exercise it\n",
                report.runs
            ));
        } else {
            text.push_str(&format!(
                "  coverage {name:<18} {share:.0}% of seeds ({seeds} of {})\n",
                report.runs
            ));
        }
    }
    text
}
