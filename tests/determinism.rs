//! The product's promise: the same scenario and seed give the same run, byte
//! for byte, whatever else is switched on.

mod common;

use common::{load, repo_path, run_in_memory};
use faultline::run::{self, RunOptions};
use faultline::scenario;

fn run_to(
    folder: &std::path::Path,
    file: &str,
    seed: Option<u64>,
    charts: bool,
) -> (Vec<u8>, String) {
    let scenario = load(file);
    let options = RunOptions {
        seed,
        out: folder.to_path_buf(),
        trace: true,
        charts,
        write: true,
    };
    let result = run::run(&scenario, &options).expect("run writes its folder");
    let written = result.folder.expect("a folder was written");
    let trace = std::fs::read(written.join("trace.jsonl")).expect("trace written");
    (trace, result.summary.trace_hash)
}

#[test]
fn same_scenario_and_seed_give_byte_identical_traces() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (trace_a, hash_a) = run_to(a.path(), "scenarios/heartbeat-partition.ron", None, true);
    let (trace_b, hash_b) = run_to(b.path(), "scenarios/heartbeat-partition.ron", None, false);
    assert!(!trace_a.is_empty());
    assert!(
        trace_a == trace_b,
        "traces differ between two runs of the same seed"
    );
    assert_eq!(hash_a, hash_b);
}

#[test]
fn the_trace_hash_is_the_hash_of_the_written_bytes_and_needs_no_file() {
    let folder = tempfile::tempdir().unwrap();
    let (_, written_hash) = run_to(
        folder.path(),
        "scenarios/heartbeat-crash-restart.ron",
        None,
        false,
    );
    let in_memory = run_in_memory(&load("scenarios/heartbeat-crash-restart.ron"), None);
    assert_eq!(written_hash, in_memory.summary.trace_hash);
}

#[test]
fn different_seeds_give_different_runs() {
    let scenario = load("scenarios/heartbeat-partition.ron");
    let hashes: Vec<String> = (0..4)
        .map(|seed| run_in_memory(&scenario, Some(seed)).summary.trace_hash)
        .collect();
    for (i, a) in hashes.iter().enumerate() {
        for b in &hashes[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn charts_do_not_change_the_run() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (with_charts, _) = run_to(a.path(), "scenarios/heartbeat-bridge.ron", Some(99), true);
    let (without_charts, _) = run_to(b.path(), "scenarios/heartbeat-bridge.ron", Some(99), false);
    assert!(with_charts == without_charts);
}

#[test]
fn a_nemesis_run_written_back_as_explicit_faults_replays_exactly() {
    let folder = tempfile::tempdir().unwrap();
    let scenario = load("scenarios/heartbeat-nemesis.ron");
    let options = RunOptions {
        seed: Some(1234),
        out: folder.path().to_path_buf(),
        trace: false,
        charts: false,
        write: true,
    };
    let original = run::run(&scenario, &options).unwrap();
    assert!(
        original.summary.faults.len() > 4,
        "the nemesis generated faults"
    );
    let written = original.folder.unwrap().join("scenario.ron");
    let explicit = scenario::load(&written).unwrap_or_else(|e| panic!("{e}"));
    assert!(explicit.nemesis.is_none());
    assert_eq!(explicit.seed, 1234);
    assert_eq!(explicit.faults, original.summary.faults);
    let replayed = run_in_memory(&explicit, None);
    assert_eq!(replayed.summary.trace_hash, original.summary.trace_hash);
}

#[test]
fn memory_stays_flat_as_runs_get_longer() {
    // Pending events are the engine's only state that could grow with the
    // run; the trace streams to disk. A run four times longer must not need
    // more pending events.
    let text =
        std::fs::read_to_string(repo_path("scenarios/heartbeat-symmetric-partition.ron")).unwrap();
    let short = scenario::parse(
        &text.replace("duration: \"15s\"", "duration: \"12s\""),
        "short",
    )
    .unwrap();
    let long = scenario::parse(
        &text.replace("duration: \"15s\"", "duration: \"48s\""),
        "long",
    )
    .unwrap();
    let short_run = run_in_memory(&short, None);
    let long_run = run_in_memory(&long, None);
    assert!(long_run.summary.events > 3 * short_run.summary.events);
    assert!(
        long_run.summary.pending_events_max <= short_run.summary.pending_events_max + 5,
        "pending events grew with run length: {} vs {}",
        long_run.summary.pending_events_max,
        short_run.summary.pending_events_max
    );
}

#[test]
fn the_cli_self_check_confirms_a_run_is_deterministic() {
    let out = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "run",
            "scenarios/paxos-nemesis.ron",
            "--seed",
            "77",
            "--check-determinism",
            "--no-charts",
            "--out",
        ])
        .arg(out.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("a second run gave the same trace hash")
    );
}
