//! What the tests share: the registry with the election in it, scenario
//! loading and in-memory runs, and the binary.
#![allow(dead_code)]

use faultline::run::{self, RunOptions, RunResult};
use faultline::scenario::{self, Registry, Scenario, ScenarioError};
use faultline_election::Election;
use std::path::{Path, PathBuf};

/// A path in this crate.
pub fn crate_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The built-in protocols and the election, as `src/main.rs` registers them.
pub fn registry() -> Registry {
    faultline::protocols::registry().with::<Election>()
}

/// A scenario of this crate, by its path in the crate.
pub fn load(relative: &str) -> Scenario {
    scenario::load(&crate_path(relative), &registry()).unwrap_or_else(|e| panic!("{e}"))
}

/// Scenario text; `label` names it in errors.
pub fn parse(text: &str, label: &str) -> Result<Scenario, ScenarioError> {
    scenario::parse(text, label, &registry())
}

/// A scenario file's text with its protocol variant replaced.
pub fn with_variant(relative: &str, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(crate_path(relative)).unwrap();
    let (from, to) = (format!("variant: {from}"), format!("variant: {to}"));
    assert!(text.contains(&from), "{relative} has no `{from}`");
    text.replace(&from, &to)
}

/// Every scenario file of this crate, sorted.
pub fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(crate_path("scenarios"))
        .expect("scenarios/ exists")
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    files
}

/// One run that writes nothing; with `keep_trace`, the trace's bytes are in
/// the result.
pub fn run_in_memory(scenario: &Scenario, seed: Option<u64>, keep_trace: bool) -> RunResult {
    let options = RunOptions {
        seed,
        write: false,
        charts: false,
        keep_trace,
        ..RunOptions::default()
    };
    run::run(scenario, &options).expect("in-memory runs cannot fail to write")
}

/// The trace's lines as JSON values.
pub fn trace_lines(result: &RunResult) -> Vec<serde_json::Value> {
    let bytes = result.trace.as_ref().expect("run with keep_trace");
    std::str::from_utf8(bytes)
        .expect("the trace is UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

/// The `faultline-election` binary, started in this crate's folder.
pub fn cli() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_faultline-election"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}
