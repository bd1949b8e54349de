//! Shrinking: from a failing seed to a small scenario that fails the same check.
//!
//! The random nemesis is first expanded into its explicit fault list, so the
//! search works on plain data. Then, greedily and deterministically, it tries
//! smaller candidates and keeps each one that still fails the target check:
//!
//! 1. remove faults, a group at a time (a crash with its restart, a partition
//!    with its heal, a cut with its restore), then one at a time;
//! 2. shorten fault windows (pauses, degraded links, crash-to-restart,
//!    partition-to-heal) by half;
//! 3. move faults earlier by half;
//! 4. cut the run short, down to just past the first violation;
//! 5. lower loss and duplication, to zero if possible, else by half.
//!
//! The passes repeat until none makes progress or the run budget is spent.
//! Candidates whose schedule is invalid are skipped without running. The
//! number of nodes is left alone: fault lists name nodes, and protocols give
//! nodes roles (the lock server, Paxos acceptors), so removing one is rarely
//! meaningful.

use crate::check::Verdict;
use crate::run::{self, RunOptions, RunResult};
use crate::scenario::{self, Registry, Scenario};
use crate::sim::fault::validate_schedule;
use crate::sim::{Fault, ScheduledFault, SimDuration, SimTime};
use std::path::{Path, PathBuf};

/// The most runs a shrink may use.
pub const RUNS_MAX_DEFAULT: usize = 400;

#[derive(Clone, Debug, PartialEq)]
struct Candidate {
    faults: Vec<ScheduledFault>,
    duration: SimDuration,
    drop: f64,
    duplicate: f64,
}

/// What a shrink found.
pub struct ShrinkResult {
    /// The check the minimal scenario still fails.
    pub target: &'static str,
    /// The checks the minimal scenario fails (the target among them).
    pub failing: Vec<&'static str>,
    /// Faults before (nemesis expanded) and after.
    pub faults_before: usize,
    /// Faults in the minimal scenario.
    pub faults_after: usize,
    /// Simulated time before.
    pub duration_before: SimDuration,
    /// Simulated time after.
    pub duration_after: SimDuration,
    /// Runs the search used.
    pub runs: usize,
    /// What each kept step did, in words.
    pub steps: Vec<String>,
    /// The minimal scenario file written.
    pub path: PathBuf,
}

/// Why a shrink could not write a minimal scenario.
#[derive(Debug, thiserror::Error)]
pub enum ShrinkError {
    /// The seed fails no check.
    #[error("seed {seed} of {scenario} fails no check: nothing to shrink")]
    NothingFails {
        /// The scenario's name.
        scenario: String,
        /// The seed.
        seed: u64,
    },
    /// The original run could not complete, or a file not be written.
    #[error("{0}")]
    Run(#[from] run::RunError),
    /// The written file did not fail as the search said.
    #[error("the minimal scenario did not reproduce the failure when run from its file ({0}); nothing was written")]
    NotReproduced(String),
    /// The written file could not be read back.
    #[error("{0}")]
    Scenario(#[from] scenario::ScenarioError),
}

struct Search<'a> {
    scenario: &'a Scenario,
    registry: &'a Registry,
    seed: u64,
    target: &'static str,
    runs: usize,
    runs_max: usize,
    best: Candidate,
    steps: Vec<String>,
}

impl Search<'_> {
    /// The candidate as the file that would be written, parsed back: what is
    /// tested is exactly what gets written. `None` if that file is invalid
    /// (a fault after the end, a client value after the end, ...).
    fn build(&self, candidate: &Candidate) -> Option<Scenario> {
        if validate_schedule(
            self.scenario.node_count,
            candidate.duration,
            &candidate.faults,
        )
        .is_err()
        {
            return None;
        }
        let file = self.scenario.shrunk_file(
            self.seed,
            &candidate.faults,
            candidate.duration,
            candidate.drop,
            candidate.duplicate,
            &[self.target],
        );
        scenario::parse(&scenario::to_ron(&file), "candidate", self.registry).ok()
    }

    /// A run in memory; `None` when it could not complete (a limit).
    fn run(&mut self, scenario: &Scenario) -> Option<RunResult> {
        self.runs += 1;
        let options = RunOptions {
            seed: Some(self.seed),
            write: false,
            charts: false,
            ..RunOptions::default()
        };
        run::run(scenario, &options).ok()
    }

    /// Whether the candidate is valid and still fails the target check.
    fn fails(&mut self, candidate: &Candidate) -> bool {
        if self.runs >= self.runs_max {
            return false;
        }
        let Some(scenario) = self.build(candidate) else {
            return false;
        };
        self.run(&scenario).is_some_and(|result| {
            result
                .reports
                .iter()
                .any(|r| r.name == self.target && r.verdict == Verdict::Fail)
        })
    }

    /// Keeps `candidate` as the best if it still fails, noting the step.
    fn try_step(&mut self, candidate: Candidate, step: impl FnOnce() -> String) -> bool {
        if self.fails(&candidate) {
            self.steps.push(step());
            self.best = candidate;
            true
        } else {
            false
        }
    }

    /// 1. Removes groups of faults, then single faults.
    fn remove_faults(&mut self) {
        for singles in [false, true] {
            let mut index = 0;
            loop {
                let groups: Vec<Vec<usize>> = if singles {
                    (0..self.best.faults.len()).map(|i| vec![i]).collect()
                } else {
                    fault_groups(&self.best.faults)
                };
                let Some(group) = groups.get(index) else {
                    break;
                };
                let removed: Vec<String> = group
                    .iter()
                    .map(|&i| describe_fault(&self.best.faults[i]))
                    .collect();
                let candidate = Candidate {
                    faults: without(&self.best.faults, group),
                    ..self.best.clone()
                };
                if !self.try_step(candidate, || format!("removed {}", removed.join(" and "))) {
                    index += 1;
                }
            }
        }
    }

    /// 2. Halves pauses and degraded links.
    fn shorten_faults(&mut self) {
        for index in 0..self.best.faults.len() {
            let mut shorter = self.best.faults.clone();
            let changed = match &mut shorter[index].fault {
                Fault::Pause { duration, .. } | Fault::DegradeLink { duration, .. }
                    if duration.as_nanos() > 1_000_000 =>
                {
                    *duration = half(*duration);
                    true
                }
                _ => false,
            };
            if changed {
                let described = describe_fault(&shorter[index]);
                let candidate = Candidate {
                    faults: shorter,
                    ..self.best.clone()
                };
                self.try_step(candidate, || format!("shortened {described}"));
            }
        }
    }

    /// 2. Halves the window between a fault and its end.
    fn shorten_windows(&mut self) {
        for group in fault_groups(&self.best.faults) {
            let [start, end] = group[..] else { continue };
            let span = self.best.faults[end].at.since(self.best.faults[start].at);
            if span.as_nanos() <= 1_000_000 {
                continue;
            }
            let mut shorter = self.best.faults.clone();
            shorter[end].at = shorter[start].at.after(half(span));
            let described = describe_fault(&self.best.faults[start]);
            let candidate = Candidate {
                faults: sorted(shorter),
                ..self.best.clone()
            };
            self.try_step(candidate, || {
                format!("shortened the window of {described} to {}", half(span))
            });
        }
    }

    /// 3. Moves each group of faults earlier by half its time.
    fn move_earlier(&mut self) {
        for group in fault_groups(&self.best.faults) {
            let first = self.best.faults[group[0]].at;
            if first.as_nanos() < 2_000_000 {
                continue;
            }
            let shift = SimDuration::from_millis(first.as_nanos() / 2_000_000);
            let mut earlier = self.best.faults.clone();
            for &i in &group {
                earlier[i].at = earlier[i].at.before(shift);
            }
            let described = describe_fault(&self.best.faults[group[0]]);
            let candidate = Candidate {
                faults: sorted(earlier),
                ..self.best.clone()
            };
            self.try_step(candidate, || {
                format!("moved {described} earlier by {shift}")
            });
        }
    }

    /// 4. A shorter run: just past the first violation, or half.
    fn shorten_run(&mut self) {
        let violation = self
            .build(&self.best.clone())
            .and_then(|scenario| self.run(&scenario))
            .and_then(|result| {
                result
                    .reports
                    .iter()
                    .find(|r| r.name == self.target)
                    .and_then(|r| r.violations.iter().map(|v| v.time).min())
            });
        for proposal in [
            violation.map(|t| t.after(SimDuration::from_millis(1))),
            Some(SimTime::ZERO.after(half(self.best.duration))),
        ]
        .into_iter()
        .flatten()
        {
            let duration = SimDuration::from_millis(proposal.as_nanos().div_ceil(1_000_000));
            if duration < self.best.duration && duration.as_nanos() > 0 {
                let candidate = Candidate {
                    duration,
                    ..self.best.clone()
                };
                self.try_step(candidate, || format!("cut the run to {duration}"));
            }
        }
    }

    /// 5. Less loss and duplication: to zero if possible, else by half.
    fn lower_loss(&mut self) {
        for field in ["drop", "duplicate"] {
            let current = if field == "drop" {
                self.best.drop
            } else {
                self.best.duplicate
            };
            if current <= 0.0 {
                continue;
            }
            for value in [0.0, (current / 2.0 * 1000.0).round() / 1000.0] {
                let mut candidate = self.best.clone();
                if field == "drop" {
                    candidate.drop = value;
                } else {
                    candidate.duplicate = value;
                }
                let step = || format!("lowered {field} from {current} to {value}");
                if value < current && self.try_step(candidate, step) {
                    break;
                }
            }
        }
    }
}

/// Index groups of faults that belong together: a start and its end.
fn fault_groups(faults: &[ScheduledFault]) -> Vec<Vec<usize>> {
    let mut used = vec![false; faults.len()];
    let mut groups = Vec::new();
    for i in 0..faults.len() {
        if used[i] {
            continue;
        }
        used[i] = true;
        let ends = |f: &Fault| match (&faults[i].fault, f) {
            (Fault::Crash { node }, Fault::Restart { node: other }) => node == other,
            (Fault::Partition { .. }, Fault::Heal) => true,
            (Fault::CutLink { from, to }, Fault::RestoreLink { from: f2, to: t2 }) => {
                from == f2 && to == t2
            }
            (
                Fault::ClockDrift { node, .. },
                Fault::ClockDrift {
                    node: other,
                    ppm: 0,
                },
            ) => node == other,
            _ => false,
        };
        let mut group = vec![i];
        if let Some(j) = (i + 1..faults.len()).find(|&j| !used[j] && ends(&faults[j].fault)) {
            used[j] = true;
            group.push(j);
        }
        groups.push(group);
    }
    groups
}

fn without(faults: &[ScheduledFault], remove: &[usize]) -> Vec<ScheduledFault> {
    faults
        .iter()
        .enumerate()
        .filter(|(i, _)| !remove.contains(i))
        .map(|(_, f)| f.clone())
        .collect()
}

fn sorted(mut faults: Vec<ScheduledFault>) -> Vec<ScheduledFault> {
    faults.sort_by_key(|f| f.at);
    faults
}

fn half(span: SimDuration) -> SimDuration {
    SimDuration::from_millis((span.as_nanos() / 2_000_000).max(1))
}

/// Shrinks failing `seed` of `scenario` and writes `minimal.ron` in its run
/// folder under `out`, after running that file and seeing it fail.
pub fn shrink(
    scenario: &Scenario,
    registry: &Registry,
    seed: u64,
    out: &Path,
    runs_max: usize,
) -> Result<ShrinkResult, ShrinkError> {
    let options = RunOptions {
        seed: Some(seed),
        write: false,
        charts: false,
        ..RunOptions::default()
    };
    let original = run::run(scenario, &options)?;
    let target = original
        .reports
        .iter()
        .find(|r| r.verdict == Verdict::Fail)
        .map(|r| r.name)
        .ok_or_else(|| ShrinkError::NothingFails {
            scenario: scenario.name.clone(),
            seed,
        })?;
    let best = Candidate {
        faults: run::faults_for_seed(scenario, seed),
        duration: scenario.duration,
        drop: scenario.network.drop,
        duplicate: scenario.network.duplicate,
    };
    let faults_before = best.faults.len();
    let mut search = Search {
        scenario,
        registry,
        seed,
        target,
        runs: 1,
        runs_max,
        best,
        steps: Vec::new(),
    };
    loop {
        let before = search.best.clone();
        search.remove_faults();
        search.shorten_faults();
        search.shorten_windows();
        search.move_earlier();
        search.shorten_run();
        search.lower_loss();
        if search.best == before || search.runs >= search.runs_max {
            break;
        }
    }
    let (path, failing) = write_minimal(&mut search, out)?;
    Ok(ShrinkResult {
        target,
        failing,
        faults_before,
        faults_after: search.best.faults.len(),
        duration_before: scenario.duration,
        duration_after: search.best.duration,
        runs: search.runs,
        steps: search.steps,
        path,
    })
}

/// Writes the best candidate as `minimal.ron`, then proves the file
/// reproduces the failure before naming it minimal.
fn write_minimal(
    search: &mut Search<'_>,
    out: &Path,
) -> Result<(PathBuf, Vec<&'static str>), ShrinkError> {
    let scenario = search.scenario;
    let best = search.best.clone();
    let best_scenario = search.build(&best).expect("the best candidate is valid");
    let failing: Vec<&'static str> = search
        .run(&best_scenario)
        .map(|result| {
            result
                .reports
                .iter()
                .filter(|r| r.verdict == Verdict::Fail)
                .map(|r| r.name)
                .collect()
        })
        .unwrap_or_else(|| vec![search.target]);
    let folder = scenario::run_folder(out, &scenario.name, search.seed);
    std::fs::create_dir_all(&folder).map_err(|source| run::RunError::Write {
        path: folder.display().to_string(),
        source,
    })?;
    let file = scenario.shrunk_file(
        search.seed,
        &best.faults,
        best.duration,
        best.drop,
        best.duplicate,
        &failing,
    );
    let mut header = format!(
        "// Shrunk by faultline from `{}` seed {}: fails {} with {} faults.\n// {} runs; steps:\n",
        scenario.name,
        search.seed,
        search.target,
        best.faults.len(),
        search.runs
    );
    for step in &search.steps {
        header.push_str(&format!("//   {step}\n"));
    }
    let text = format!("{header}{}\n", scenario::to_ron(&file));
    let path = folder.join("minimal.ron");
    let draft = folder.join("minimal.ron.tmp");
    std::fs::write(&draft, &text).map_err(|source| run::RunError::Write {
        path: draft.display().to_string(),
        source,
    })?;
    match verify(&draft, search.registry, search.target) {
        Ok(()) => std::fs::rename(&draft, &path).map_err(|source| run::RunError::Write {
            path: path.display().to_string(),
            source,
        })?,
        Err(reason) => {
            let _ = std::fs::remove_file(&draft);
            return Err(ShrinkError::NotReproduced(reason));
        }
    }
    Ok((path, failing))
}

/// Runs the written file as a user would and checks it fails `target` as
/// its `expect` says.
fn verify(draft: &Path, registry: &Registry, target: &str) -> Result<(), String> {
    let scenario = scenario::load(draft, registry).map_err(|e| e.to_string())?;
    let options = RunOptions {
        write: false,
        ..RunOptions::default()
    };
    let result = run::run(&scenario, &options).map_err(|e| e.to_string())?;
    let fails = result
        .reports
        .iter()
        .any(|r| r.name == target && r.verdict == Verdict::Fail);
    if result.summary.outcome_as_expected && fails {
        Ok(())
    } else {
        Err(format!("its outcome was {}", result.summary.outcome))
    }
}

fn describe_fault(scheduled: &ScheduledFault) -> String {
    let fault = serde_json::to_string(&scheduled.fault).unwrap_or_default();
    format!("{fault} at {}", scheduled.at)
}

/// The shrink's outcome in words: what is left, and how many runs it took.
pub fn describe(result: &ShrinkResult) -> String {
    let mut text = format!(
        "shrunk to {} of {} faults and {} (from {}) in {} runs; it still fails {}\n",
        result.faults_after,
        result.faults_before,
        result.duration_after,
        result.duration_before,
        result.runs,
        result.target
    );
    for step in &result.steps {
        text.push_str(&format!("  {step}\n"));
    }
    text.push_str(&format!(
        "wrote {} (verified: running it fails {})\n",
        result.path.display(),
        result.target
    ));
    text
}
