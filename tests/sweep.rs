//! Sweeps, shrinking and replay.

mod common;

use common::{load, repo_path, run_in_memory, with_variant};
use faultline::check::Verdict;
use faultline::replay::{replay, ReplayVerdict};
use faultline::run::{self, RunOptions};
use faultline::scenario;
use faultline::shrink::{shrink, RUNS_MAX_DEFAULT};
use faultline::sweep::{merge, sweep, SweepOptions};

fn options(start: u64, end: u64, jobs: usize) -> SweepOptions {
    SweepOptions {
        seed_start: start,
        seed_end: end,
        jobs: Some(jobs),
        shard: None,
        stop_on_first: false,
        progress: false,
    }
}

#[test]
fn sweep_outcomes_do_not_depend_on_the_number_of_jobs() {
    let scenario = load("scenarios/paxos-nemesis.ron");
    let one = sweep(&scenario, &options(0, 600, 1)).unwrap();
    let two = sweep(&scenario, &options(0, 600, 2)).unwrap();
    assert_eq!(one.outcomes, two.outcomes);
    assert_eq!(one.runs, 600);
    assert_eq!(
        one.outcomes.iter().map(|o| o.seed).collect::<Vec<_>>(),
        (0..600).collect::<Vec<_>>()
    );
}

#[test]
fn merged_shards_equal_the_whole_sweep() {
    let scenario = with_variant("scenarios/lock-nemesis.ron", "Lease");
    let whole = sweep(&scenario, &options(10, 110, 2)).unwrap();
    let shards: Vec<_> = (0..3)
        .map(|index| {
            sweep(
                &scenario,
                &SweepOptions {
                    shard: Some((index, 3)),
                    ..options(10, 110, 1)
                },
            )
            .unwrap()
        })
        .collect();
    assert!(shards.iter().all(|s| s.runs < whole.runs));
    let merged = merge(shards).unwrap();
    assert_eq!(merged.outcomes, whole.outcomes);
    assert_eq!(merged.unexpected_seeds, whole.unexpected_seeds);
    assert_eq!(merged.failures_per_check, whole.failures_per_check);
    assert!(
        !whole.unexpected_seeds.is_empty(),
        "the unfenced lease fails some seeds"
    );
}

#[test]
fn stop_on_first_stops_at_the_same_place_whatever_the_jobs() {
    let scenario = with_variant("scenarios/paxos-nemesis.ron", "MinorityQuorum");
    let stop = |jobs| {
        sweep(
            &scenario,
            &SweepOptions {
                stop_on_first: true,
                ..options(0, 3000, jobs)
            },
        )
        .unwrap()
    };
    let (one, two) = (stop(1), stop(2));
    assert!(one.stopped_early && one.runs < 3000);
    assert_eq!(one.outcomes, two.outcomes);
    assert_eq!(one.unexpected_seeds.first(), two.unexpected_seeds.first());
}

/// Finds a seed the variant fails, shrinks it, and checks the result: smaller,
/// still failing the same check, and runnable from its file.
fn shrinks_a_failure(file: &str, variant: &str, search_limit: u64) {
    let scenario = with_variant(file, variant);
    let seed = (0..search_limit)
        .find(|&seed| {
            run_in_memory(&scenario, Some(seed))
                .reports
                .iter()
                .any(|r| r.verdict == Verdict::Fail)
        })
        .unwrap_or_else(|| panic!("{variant} fails no seed below {search_limit}"));
    let out = tempfile::tempdir().unwrap();
    let result = shrink(
        &scenario,
        &common::registry(),
        seed,
        out.path(),
        RUNS_MAX_DEFAULT,
    )
    .unwrap_or_else(|e| panic!("{variant}: {e}"));
    assert!(
        result.runs <= RUNS_MAX_DEFAULT + 2,
        "{variant}: {} runs",
        result.runs
    );
    assert!(
        result.faults_after < result.faults_before
            || result.duration_after < result.duration_before,
        "{variant}: nothing was shrunk"
    );
    let minimal = scenario::load(&result.path, &faultline::protocols::registry())
        .unwrap_or_else(|e| panic!("{variant}: the minimal file does not load: {e}"));
    assert!(minimal.nemesis.is_none());
    let rerun = run_in_memory(&minimal, None);
    assert!(
        rerun.summary.outcome_as_expected,
        "{variant}: {}",
        rerun.summary.outcome
    );
    assert!(
        rerun
            .reports
            .iter()
            .any(|r| r.name == result.target && r.verdict == Verdict::Fail),
        "{variant}: the minimal scenario no longer fails {}",
        result.target
    );
}

#[test]
fn shrinking_paxos_bug_variants_keeps_the_failure() {
    shrinks_a_failure("scenarios/paxos-nemesis.ron", "IgnoreAcceptedValue", 50);
    shrinks_a_failure("scenarios/paxos-nemesis.ron", "MinorityQuorum", 300);
    shrinks_a_failure("scenarios/paxos-nemesis.ron", "ForgetfulAcceptor", 1000);
    shrinks_a_failure(
        "scenarios/paxos-nemesis-proposer-restart.ron",
        "ReuseBallot",
        3000,
    );
}

#[test]
fn shrinking_lock_bug_variants_keeps_the_failure() {
    shrinks_a_failure("scenarios/lock-nemesis.ron", "Lease", 20);
    shrinks_a_failure("scenarios/lock-nemesis.ron", "NoExpiry", 150);
}

#[test]
fn shrinking_a_passing_seed_is_refused() {
    let out = tempfile::tempdir().unwrap();
    let error = shrink(
        &load("scenarios/paxos-happy-path.ron"),
        &common::registry(),
        1,
        out.path(),
        50,
    )
    .err()
    .expect("nothing to shrink");
    assert!(error.to_string().contains("fails no check"), "{error}");
}

fn recorded_run(out: &std::path::Path) -> std::path::PathBuf {
    let options = RunOptions {
        out: out.to_path_buf(),
        charts: false,
        ..RunOptions::default()
    };
    run::run(&load("scenarios/heartbeat-pause.ron"), &options)
        .unwrap()
        .folder
        .unwrap()
}

#[test]
fn replay_of_an_unchanged_run_is_identical() {
    let out = tempfile::tempdir().unwrap();
    let folder = recorded_run(out.path());
    assert!(matches!(
        replay(&folder, &common::registry()).unwrap(),
        ReplayVerdict::Identical { .. }
    ));
}

#[test]
fn replay_names_the_first_event_where_the_traces_diverge() {
    let out = tempfile::tempdir().unwrap();
    let folder = recorded_run(out.path());
    // Pretend the recorded run came from different code: event 100 differs,
    // and so does its hash.
    let trace_path = folder.join("trace.jsonl");
    let trace = std::fs::read_to_string(&trace_path).unwrap();
    let altered: Vec<String> = trace
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i == 99 {
                line.replacen("\"t\":", "\"t\":1", 1)
            } else {
                line.to_string()
            }
        })
        .collect();
    std::fs::write(&trace_path, altered.join("\n") + "\n").unwrap();
    let summary_path = folder.join("summary.json");
    let summary = std::fs::read_to_string(&summary_path).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&summary).unwrap();
    json["trace_hash"] = serde_json::Value::String("0".repeat(32));
    std::fs::write(&summary_path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    match replay(&folder, &common::registry()).unwrap() {
        ReplayVerdict::Diverged {
            line,
            recorded,
            replayed,
            ..
        } => {
            assert_eq!(line, 100);
            assert_ne!(recorded, replayed);
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
}

#[test]
fn the_sweep_command_writes_its_report_and_exits_1_on_unexpected_outcomes() {
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("lease.ron");
    let text = std::fs::read_to_string(repo_path("scenarios/lock-nemesis.ron")).unwrap();
    std::fs::write(
        &file,
        text.replacen("variant: LeaseFencing", "variant: Lease", 1),
    )
    .unwrap();
    let output = common::cli()
        .args([
            "sweep",
            file.to_str().unwrap(),
            "--seeds",
            "0..40",
            "--jobs",
            "2",
            "--out",
            out.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("40 runs")
            && stdout.contains("NoStaleWrite")
            && stdout.contains("reproduce with"),
        "{stdout}"
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("lock-nemesis/sweep.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["outcomes"].as_array().unwrap().len(), 40);
    assert!(report["outcomes"][0]["trace_hash"].as_str().unwrap().len() == 32);
    // What the sweep page needs: each seed's metrics and the file to rerun.
    assert!(report["outcomes"][0]["metrics"]["lock_availability"].is_f64());
    assert_eq!(report["scenario_file"], file.to_str().unwrap());
    let page = std::fs::read_to_string(out.path().join("lock-nemesis/sweep.html")).unwrap();
    assert!(page.contains("lock_availability") && page.contains("faultline shrink"));
    for bad_arguments in [
        ["--seeds", "9..3"],
        ["--seeds", "0..1000000000000"],
        ["--jobs", "0"],
        ["--shard", "3/2"],
    ] {
        let bad = common::cli()
            .args(["sweep", file.to_str().unwrap()])
            .args(bad_arguments)
            .output()
            .unwrap();
        assert_eq!(bad.status.code(), Some(2), "{bad_arguments:?}");
        assert!(!String::from_utf8_lossy(&bad.stderr).contains("panicked"));
    }
}

/// `faultline sweep ... | head` must not panic when `head` closes the pipe:
/// the rest of the output is dropped, the sweep still writes its report.
#[test]
fn a_closed_standard_output_ends_the_output_quietly() {
    let folder = tempfile::tempdir().unwrap();
    let mut child = common::cli()
        .args([
            "sweep",
            "scenarios/paxos-happy-path.ron",
            "--seeds",
            "0..20",
            "--out",
        ])
        .arg(folder.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(folder
        .path()
        .join("paxos-happy-path")
        .join("sweep.json")
        .exists());
}

#[test]
fn merging_shards_on_the_command_line_writes_the_sweep_page_too() {
    let out = tempfile::tempdir().unwrap();
    let out_arg = out.path().to_str().unwrap();
    for shard in ["0/2", "1/2"] {
        let output = common::cli()
            .args(["sweep", "scenarios/paxos-nemesis.ron", "--seeds", "0..20"])
            .args(["--shard", shard, "--out", out_arg])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0));
    }
    let shard_page = out.path().join("paxos-nemesis/sweep-shard-0-of-2.html");
    assert!(shard_page.is_file(), "each shard gets its page");
    let merged = out.path().join("merged.json");
    let output = common::cli()
        .arg("merge")
        .args([
            out.path().join("paxos-nemesis/sweep-shard-0-of-2.json"),
            out.path().join("paxos-nemesis/sweep-shard-1-of-2.json"),
        ])
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let page = std::fs::read_to_string(out.path().join("merged.html")).unwrap();
    assert!(page.contains("20 runs: 20 as expected"), "{page}");
    assert!(page.contains("scenarios/paxos-nemesis.ron"));
}
