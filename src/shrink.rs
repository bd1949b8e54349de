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

use crate::check::{CheckName, Verdict};
use crate::run::{self, RunOptions, RunResult};
use crate::scenario::{self, Scenario};
use crate::sim::fault::validate_schedule;
use crate::sim::{Fault, ScheduledFault, SimDuration, SimTime};
use std::path::{Path, PathBuf};

/// The most runs a shrink may use.
pub const RUNS_MAX_DEFAULT: usize = 400;

#[derive(Clone, Debug)]
struct Candidate {
    faults: Vec<ScheduledFault>,
    duration: SimDuration,
    drop: f64,
    duplicate: f64,
}

pub struct ShrinkResult {
    pub target: CheckName,
    /// The checks the minimal scenario fails (the target among them).
    pub failing: Vec<CheckName>,
    pub faults_before: usize,
    pub faults_after: usize,
    pub duration_before: SimDuration,
    pub duration_after: SimDuration,
    pub runs: usize,
    pub steps: Vec<String>,
    pub path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ShrinkError {
    #[error("seed {seed} of {scenario} fails no check: nothing to shrink")]
    NothingFails { scenario: String, seed: u64 },
    #[error("{0}")]
    Run(#[from] run::RunError),
    #[error("the minimal scenario did not reproduce the failure when run from its file ({0}); nothing was written")]
    NotReproduced(String),
    #[error("{0}")]
    Scenario(#[from] scenario::ScenarioError),
}

struct Search<'a> {
    scenario: &'a Scenario,
    seed: u64,
    target: CheckName,
    runs: usize,
    runs_max: usize,
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
        scenario::parse(&scenario::to_ron(&file), "candidate").ok()
    }

    fn run(&mut self, scenario: &Scenario) -> RunResult {
        self.runs += 1;
        let options = RunOptions {
            seed: Some(self.seed),
            write: false,
            charts: false,
            ..RunOptions::default()
        };
        run::run(scenario, &options).expect("in-memory runs write nothing")
    }

    /// Whether the candidate is valid and still fails the target check.
    fn fails(&mut self, candidate: &Candidate) -> bool {
        if self.runs >= self.runs_max {
            return false;
        }
        let Some(scenario) = self.build(candidate) else {
            return false;
        };
        let result = self.run(&scenario);
        result
            .reports
            .iter()
            .any(|r| r.name == self.target && r.verdict == Verdict::Fail)
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

pub fn shrink(
    scenario: &Scenario,
    seed: u64,
    out: &Path,
    runs_max: usize,
) -> Result<ShrinkResult, ShrinkError> {
    let original = run::run(
        scenario,
        &RunOptions {
            seed: Some(seed),
            write: false,
            charts: false,
            ..RunOptions::default()
        },
    )?;
    let target = original
        .reports
        .iter()
        .find(|r| r.verdict == Verdict::Fail)
        .map(|r| r.name)
        .ok_or_else(|| ShrinkError::NothingFails {
            scenario: scenario.name.clone(),
            seed,
        })?;
    let mut search = Search {
        scenario,
        seed,
        target,
        runs: 1,
        runs_max,
    };
    let mut best = Candidate {
        faults: run::faults_for_seed(scenario, seed),
        duration: scenario.duration,
        drop: scenario.network.drop,
        duplicate: scenario.network.duplicate,
    };
    let faults_before = best.faults.len();
    let mut steps = Vec::new();
    loop {
        let before = (
            best.faults.len(),
            best.duration,
            best.drop,
            best.duplicate,
            best.faults.clone(),
        );
        // 1. Remove groups, then single faults.
        for singles in [false, true] {
            let mut index = 0;
            loop {
                let groups: Vec<Vec<usize>> = if singles {
                    (0..best.faults.len()).map(|i| vec![i]).collect()
                } else {
                    fault_groups(&best.faults)
                };
                let Some(group) = groups.get(index) else {
                    break;
                };
                let candidate = Candidate {
                    faults: without(&best.faults, group),
                    ..best.clone()
                };
                if search.fails(&candidate) {
                    let removed: Vec<String> = group
                        .iter()
                        .map(|&i| describe_fault(&best.faults[i]))
                        .collect();
                    steps.push(format!("removed {}", removed.join(" and ")));
                    best = candidate;
                } else {
                    index += 1;
                }
            }
        }
        // 2. Shorten windows, 3. move faults earlier.
        for index in 0..best.faults.len() {
            let mut shorter = best.faults.clone();
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
                let candidate = Candidate {
                    faults: shorter,
                    ..best.clone()
                };
                if search.fails(&candidate) {
                    steps.push(format!(
                        "shortened {}",
                        describe_fault(&candidate.faults[index])
                    ));
                    best = candidate;
                }
            }
        }
        for group in fault_groups(&best.faults) {
            if let [start, end] = group[..] {
                let span = best.faults[end].at.since(best.faults[start].at);
                if span.as_nanos() > 1_000_000 {
                    let mut shorter = best.faults.clone();
                    shorter[end].at = shorter[start].at.after(half(span));
                    let candidate = Candidate {
                        faults: sorted(shorter),
                        ..best.clone()
                    };
                    if search.fails(&candidate) {
                        steps.push(format!(
                            "shortened the window of {} to {}",
                            describe_fault(&best.faults[start]),
                            half(span)
                        ));
                        best = candidate;
                    }
                }
            }
        }
        for group in fault_groups(&best.faults) {
            let first = best.faults[group[0]].at;
            if first.as_nanos() >= 2_000_000 {
                let shift = SimDuration::from_millis(first.as_nanos() / 2_000_000);
                let mut earlier = best.faults.clone();
                for &i in &group {
                    earlier[i].at = earlier[i].at.before(shift);
                }
                let candidate = Candidate {
                    faults: sorted(earlier),
                    ..best.clone()
                };
                if search.fails(&candidate) {
                    steps.push(format!(
                        "moved {} earlier by {shift}",
                        describe_fault(&best.faults[group[0]])
                    ));
                    best = candidate;
                }
            }
        }
        // 4. A shorter run: just past the first violation, or half.
        let best_scenario = search.build(&best).expect("the best candidate is valid");
        let result = search.run(&best_scenario);
        let violation = result
            .reports
            .iter()
            .find(|r| r.name == target)
            .and_then(|r| r.violations.iter().map(|v| v.time).min());
        for proposal in [
            violation.map(|t| t.after(SimDuration::from_millis(1))),
            Some(SimTime::ZERO.after(half(best.duration))),
        ]
        .into_iter()
        .flatten()
        {
            let duration = SimDuration::from_millis(proposal.as_nanos().div_ceil(1_000_000));
            if duration < best.duration && duration.as_nanos() > 0 {
                let candidate = Candidate {
                    duration,
                    ..best.clone()
                };
                if search.fails(&candidate) {
                    steps.push(format!("cut the run to {duration}"));
                    best = candidate;
                }
            }
        }
        // 5. Less loss and duplication.
        for field in ["drop", "duplicate"] {
            let current = if field == "drop" {
                best.drop
            } else {
                best.duplicate
            };
            if current > 0.0 {
                for value in [0.0, (current / 2.0 * 1000.0).round() / 1000.0] {
                    let mut candidate = best.clone();
                    if field == "drop" {
                        candidate.drop = value;
                    } else {
                        candidate.duplicate = value;
                    }
                    if value < current && search.fails(&candidate) {
                        steps.push(format!("lowered {field} from {current} to {value}"));
                        best = candidate;
                        break;
                    }
                }
            }
        }
        let after = (
            best.faults.len(),
            best.duration,
            best.drop,
            best.duplicate,
            best.faults.clone(),
        );
        if after == before || search.runs >= search.runs_max {
            break;
        }
    }
    // Write, then prove the file reproduces the failure before naming it minimal.
    let best_scenario = search.build(&best).expect("the best candidate is valid");
    let final_run = search.run(&best_scenario);
    let failing: Vec<CheckName> = final_run
        .reports
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .map(|r| r.name)
        .collect();
    let folder = scenario::run_folder(out, &scenario.name, seed);
    std::fs::create_dir_all(&folder).map_err(|source| run::RunError::Write {
        path: folder.display().to_string(),
        source,
    })?;
    let path = folder.join("minimal.ron");
    let file = scenario.shrunk_file(
        seed,
        &best.faults,
        best.duration,
        best.drop,
        best.duplicate,
        &failing,
    );
    let mut header = format!(
        "// Shrunk by faultline from `{}` seed {seed}: fails {target} with {} of {faults_before} faults.\n// {} runs; steps:\n",
        scenario.name,
        best.faults.len(),
        search.runs
    );
    for step in &steps {
        header.push_str(&format!("//   {step}\n"));
    }
    let text = format!("{header}{}\n", scenario::to_ron(&file));
    let draft = folder.join("minimal.ron.tmp");
    std::fs::write(&draft, &text).map_err(|source| run::RunError::Write {
        path: draft.display().to_string(),
        source,
    })?;
    let verified = scenario::load(&draft).map(|s| {
        run::run(
            &s,
            &RunOptions {
                write: false,
                ..RunOptions::default()
            },
        )
    });
    match verified {
        Ok(Ok(result))
            if result.summary.outcome_as_expected
                && result
                    .reports
                    .iter()
                    .any(|r| r.name == target && r.verdict == Verdict::Fail) =>
        {
            std::fs::rename(&draft, &path).map_err(|source| run::RunError::Write {
                path: path.display().to_string(),
                source,
            })?;
        }
        other => {
            let _ = std::fs::remove_file(&draft);
            let reason = match other {
                Ok(Ok(result)) => format!("its outcome was {}", result.summary.outcome),
                Ok(Err(error)) => error.to_string(),
                Err(error) => error.to_string(),
            };
            return Err(ShrinkError::NotReproduced(reason));
        }
    }
    Ok(ShrinkResult {
        target,
        failing,
        faults_before,
        faults_after: best.faults.len(),
        duration_before: scenario.duration,
        duration_after: best.duration,
        runs: search.runs,
        steps,
        path,
    })
}

fn describe_fault(scheduled: &ScheduledFault) -> String {
    let fault = serde_json::to_string(&scheduled.fault).unwrap_or_default();
    format!("{fault} at {}", scheduled.at)
}

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
