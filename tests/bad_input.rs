//! Every kind of bad input gets its own clear error naming the place, exit
//! code 2 from the CLI, no panic and no output files.

mod common;

use common::cli;
use faultline::scenario::{self, ScenarioError};

const GOOD: &str = r#"Scenario(
    name: "good",
    seed: 1,
    duration: "5s",
    nodes: 3,
    network: (latency: Constant("5ms")),
    protocol: Heartbeat(interval: "100ms", timeout: "500ms"),
    faults: [
        (at: "1s", fault: Crash(node: 2)),
        (at: "2s", fault: Restart(node: 2)),
    ],
    checks: [Completeness(within: "1s"), Accuracy],
    expect: Pass,
)"#;

/// Parses `GOOD` with one substitution and returns the error's text.
fn error_with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "the base scenario contains {from:?}");
    let source = GOOD.replacen(from, to, 1);
    match scenario::parse(&source, "bad.ron", &faultline::protocols::registry()) {
        Ok(_) => panic!("accepted a bad scenario: {from:?} -> {to:?}"),
        Err(error) => error.to_string(),
    }
}

fn assert_error(from: &str, to: &str, place: &str, words: &[&str]) {
    let message = error_with(from, to);
    assert!(
        message.starts_with(place),
        "error {message:?} should start with {place:?}"
    );
    for word in words {
        assert!(
            message.contains(word),
            "error {message:?} should mention {word:?}"
        );
    }
}

#[test]
fn the_base_scenario_is_valid() {
    scenario::parse(GOOD, "good.ron", &faultline::protocols::registry()).unwrap();
}

#[test]
fn text_that_is_not_ron() {
    let error = scenario::parse(
        "this is { not RON",
        "bad.ron",
        &faultline::protocols::registry(),
    )
    .unwrap_err();
    assert!(
        matches!(error, ScenarioError::Parse { line: 1, .. }),
        "{error}"
    );
    assert!(error.to_string().starts_with("bad.ron:1:"), "{error}");
}

#[test]
fn a_truncated_file() {
    let truncated = &GOOD[..GOOD.find("checks").unwrap()];
    let error = scenario::parse(truncated, "bad.ron", &faultline::protocols::registry())
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("bad.ron:12:"), "{error}");
    assert!(error.contains("ends early"), "{error}");
}

#[test]
fn a_value_of_the_wrong_type() {
    assert_error(
        "nodes: 3",
        "nodes: \"three\"",
        "bad.ron:5:12",
        &["Expected"],
    );
}

#[test]
fn an_unknown_field_is_a_typo_not_a_silent_default() {
    assert_error(
        "seed: 1,",
        "seed: 1, sead: 2,",
        "bad.ron:3:",
        &["sead", "seed"],
    );
    assert_error("Crash(node: 2)", "Crash(nod: 2)", "bad.ron:9:", &["nod"]);
}

#[test]
fn a_missing_field() {
    assert_error("    seed: 1,\n", "", "bad.ron:", &["seed"]);
}

#[test]
fn a_node_index_out_of_range() {
    assert_error(
        "Crash(node: 2)",
        "Crash(node: 7)",
        "bad.ron:9:39:",
        &["faults[0].fault.node", "node 7 does not exist", "0..=2"],
    );
}

#[test]
fn a_node_in_two_partition_groups_unless_a_bridge() {
    let partition = "(at: \"3s\", fault: Partition(groups: [[0, 1], [1, 2]])),\n        (at: \"2s\", fault: Restart(node: 2)),";
    assert_error(
        "(at: \"2s\", fault: Restart(node: 2)),",
        partition,
        "bad.ron:10:",
        &["node 1 is in groups 0 and 1", "bridge"],
    );
    let bridged = GOOD.replacen("(at: \"2s\", fault: Restart(node: 2)),", "(at: \"2s\", fault: Restart(node: 2)),\n(at: \"3s\", fault: Partition(groups: [[0, 1], [1, 2]], bridges: [1])),", 1);
    scenario::parse(&bridged, "ok.ron", &faultline::protocols::registry()).unwrap();
}

#[test]
fn a_partition_that_leaves_a_node_out() {
    let partition = "(at: \"2s\", fault: Restart(node: 2)),\n        (at: \"3s\", fault: Partition(groups: [[0], [1]])),";
    assert_error(
        "(at: \"2s\", fault: Restart(node: 2)),",
        partition,
        "bad.ron:11:",
        &["node 2 is in no group"],
    );
}

#[test]
fn probabilities_outside_zero_to_one() {
    assert_error(
        "Constant(\"5ms\"))",
        "Constant(\"5ms\"), drop: 1.5)",
        "bad.ron:6:",
        &["network.drop", "1.5 is not a probability"],
    );
    assert_error(
        "Constant(\"5ms\"))",
        "Constant(\"5ms\"), duplicate: -0.1)",
        "bad.ron:6:",
        &["network.duplicate"],
    );
}

#[test]
fn zero_and_negative_durations() {
    assert_error(
        "duration: \"5s\"",
        "duration: \"0s\"",
        "bad.ron:4:15:",
        &["duration", "longer than zero"],
    );
    assert_error(
        "timeout: \"500ms\"",
        "timeout: \"-500ms\"",
        "bad.ron:7:",
        &["negative"],
    );
    assert_error(
        "timeout: \"500ms\"",
        "timeout: \"soon\"",
        "bad.ron:7:",
        &["invalid duration", "250ms"],
    );
}

#[test]
fn a_fault_after_the_end_of_the_run() {
    assert_error(
        "(at: \"2s\", fault: Restart",
        "(at: \"9s\", fault: Restart",
        "bad.ron:10:",
        &["faults[1].at", "not before the end"],
    );
}

#[test]
fn restarting_a_node_that_is_not_down() {
    assert_error(
        "Restart(node: 2)",
        "Restart(node: 1)",
        "bad.ron:10:",
        &["faults[1]", "node 1 is not down"],
    );
}

#[test]
fn absurd_sizes() {
    assert_error(
        "nodes: 3",
        "nodes: 1000000",
        "bad.ron:5:12:",
        &["1000000 nodes is out of range"],
    );
    assert_error(
        "duration: \"5s\"",
        "duration: \"400days\"",
        "bad.ron:4:",
        &["24h"],
    );
}

#[test]
fn an_expected_failure_of_a_check_that_does_not_run() {
    let source = GOOD
        .replacen(
            "checks: [Completeness(within: \"1s\"), Accuracy]",
            "checks: [Accuracy]",
            1,
        )
        .replacen("expect: Pass", "expect: Violates([Completeness])", 1);
    let error = scenario::parse(&source, "bad.ron", &faultline::protocols::registry())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("Completeness is expected to fail but is not in `checks`"),
        "{error}"
    );
}

#[test]
fn the_cli_exits_2_and_writes_nothing_for_a_bad_scenario() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("bad.ron");
    std::fs::write(&file, GOOD.replacen("Crash(node: 2)", "Crash(node: 9)", 1)).unwrap();
    let out = folder.path().join("out");
    let output = cli()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.ron:9:39: faults[0].fault.node: node 9 does not exist"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.exists(), "nothing is written for bad input");
}

#[test]
fn the_cli_exits_2_for_a_missing_file_and_for_bad_arguments() {
    let output = cli().args(["run", "no/such/file.ron"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no/such/file.ron: cannot read the file")
    );
    let output = cli()
        .args([
            "run",
            "scenarios/heartbeat-pause.ron",
            "--seed",
            "minus-one",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = cli().args(["fly"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn check_validates_every_file_and_reports_each_bad_one() {
    let folder = tempfile::tempdir().unwrap();
    let bad = folder.path().join("bad.ron");
    std::fs::write(&bad, "Scenario(").unwrap();
    let good = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/heartbeat-pause.ron");
    let output = cli().arg("check").arg(good).arg(&bad).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stdout).contains("ok: "));
    assert!(String::from_utf8_lossy(&output.stderr).contains("bad.ron:1:"));
    let output = cli().arg("check").arg(good).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
}

/// Errors name what a user writes, never our internal type names.
#[test]
fn errors_name_what_the_user_writes_not_internal_types() {
    for (from, to) in [
        ("Crash(node: 2)", "Crsh(node: 2)"),
        ("Constant(\"5ms\")", "Constnt(\"5ms\")"),
        ("Accuracy]", "Acuracy]"),
        ("expect: Pass", "expect: Violates([Acuracy])"),
        ("expect: Pass", "expect: Fail"),
        (
            "timeout: \"500ms\")",
            "timeout: \"500ms\", variant: Sometimes)",
        ),
    ] {
        let message = error_with(from, to);
        assert!(
            !message.contains("File`") && !message.contains("Entry`"),
            "{message}"
        );
    }
    assert_error(
        "Crash(node: 2)",
        "Crsh(node: 2)",
        "bad.ron:9:27",
        &["`Crsh` in `fault`", "expected one of `Partition`"],
    );
}

/// A check that takes an argument, written without one, is told how to write it.
#[test]
fn a_check_without_its_argument_gets_an_example() {
    assert_error(
        "Completeness(within: \"1s\")",
        "Completeness",
        "bad.ron:12:26",
        &["`Completeness` takes arguments: write it as `Completeness(within: \"1s\")`"],
    );
    let lock = GOOD
        .replace(
            "protocol: Heartbeat(interval: \"100ms\", timeout: \"500ms\")",
            "protocol: Lock()",
        )
        .replace("Completeness(within: \"1s\"), Accuracy", "Progress");
    let error = scenario::parse(&lock, "bad.ron", &faultline::protocols::registry())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`Progress` takes arguments: write it as `Progress(\"2s\")`"),
        "{error}"
    );
}

const NEMESIS: &str = r#"nemesis: Random(
        kinds: [Crash, Partition],
        interval_min: "100ms",
        interval_max: "1s",
        duration_min: "100ms",
        duration_max: "1s",
    ),
    checks"#;

#[test]
fn a_nemesis_kind_listed_twice_is_rejected() {
    let text = GOOD.replacen("checks", NEMESIS, 1).replacen(
        "kinds: [Crash, Partition]",
        "kinds: [Crash, Partition, Crash]",
        1,
    );
    let error = scenario::parse(&text, "bad.ron", &faultline::protocols::registry())
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("bad.ron:") && error.contains("nemesis.kinds[2]: Crash is listed twice"),
        "{error}"
    );
}

#[test]
fn a_nemesis_kind_that_can_never_happen_is_rejected() {
    let text = GOOD.replacen("checks", NEMESIS, 1).replacen(
        "kinds: [Crash, Partition]",
        "kinds: [Crash], nodes_down_max: 0",
        1,
    );
    let error = scenario::parse(&text, "bad.ron", &faultline::protocols::registry())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("nemesis.kinds[0]: Crash can never happen: nodes_down_max is 0"),
        "{error}"
    );
    let lonely = GOOD
        .replacen("checks", NEMESIS, 1)
        .replace("nodes: 3", "nodes: 1")
        .replace(
            "faults: [\n        (at: \"1s\", fault: Crash(node: 2)),\n        (at: \"2s\", fault: Restart(node: 2)),\n    ],",
            "",
        )
        .replace("Completeness(within: \"1s\"), Accuracy", "");
    let error = scenario::parse(&lonely, "bad.ron", &faultline::protocols::registry())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("nemesis.kinds[1]: Partition needs at least 2 nodes"),
        "{error}"
    );
}

/// Found by an oracle's exploration: a nemesis running until the very end
/// passed validation, then broke an engine invariant (its heals and restarts
/// at `until` fell on the end of the run).
#[test]
fn a_nemesis_until_the_end_of_the_run_is_rejected() {
    let text = GOOD.replacen("checks", NEMESIS, 1).replacen(
        "duration_max: \"1s\",",
        "duration_max: \"1s\",\n        until: \"5s\",",
        1,
    );
    let error = scenario::parse(&text, "bad.ron", &faultline::protocols::registry())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("nemesis.until: 5.000s is not before the end of the run"),
        "{error}"
    );
}

/// Issue "Open the house", resource limits: a heartbeat every nanosecond can
/// never fit the pending-event limit, and the file alone proves it.
#[test]
fn a_scenario_that_cannot_fit_its_limits_is_rejected_by_check() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("flood.ron");
    let text = std::fs::read_to_string(common::repo_path(
        "scenarios/heartbeat-bug-never-suspect.ron",
    ))
    .unwrap()
    .replace("interval: \"100ms\"", "interval: \"1ns\"");
    std::fs::write(&file, text).unwrap();
    for command in ["check", "run"] {
        let output = cli().arg(command).arg(&file).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("protocol.interval: heartbeats every")
                && stderr.contains("limits.pending_max"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// A run that fills its pending-event limit stops with a user error that
/// names the limit, the time and what filled the queue, and leaves no files.
#[test]
fn a_run_over_its_pending_limit_is_a_user_error_with_no_files_left() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("tiny.ron");
    let text = std::fs::read_to_string(common::repo_path("scenarios/paxos-happy-path.ron"))
        .unwrap()
        .replace("    checks:", "    limits: (pending_max: 8),\n    checks:");
    std::fs::write(&file, text).unwrap();
    let out = folder.path().join("out");
    let output = cli()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for words in [
        "8 events were pending, the limit (limits.pending_max)",
        "stopped at 0.0",
        "`limits: (pending_max: 80)`",
    ] {
        assert!(stderr.contains(words), "{stderr}");
    }
    assert!(
        !stderr.contains("panicked") && !stderr.contains("internal error"),
        "{stderr}"
    );
    let left: Vec<_> = walk(&out);
    assert!(left.is_empty(), "files left behind: {left:?}");
}

/// Every file under `folder` (none if it does not exist).
fn walk(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

const QUEUE_GOOD: &str = r#"Scenario(
    name: "queue",
    seed: 1,
    duration: "5s",
    nodes: 5,
    network: (latency: Constant("5ms")),
    protocol: Queue(
        broker: 0,
        sink: 1,
        producers: [2],
        workers: [3, 4],
        visibility: "500ms",
        jobs: [(at: "1s", tasks: 4)],
    ),
    checks: [NoLoss, Drains("2s")],
    expect: Pass,
)"#;

fn queue_error(from: &str, to: &str) -> String {
    assert!(QUEUE_GOOD.contains(from), "the base contains {from:?}");
    let source = QUEUE_GOOD.replacen(from, to, 1);
    match scenario::parse(&source, "bad.ron", &faultline::protocols::registry()) {
        Ok(_) => panic!("accepted a bad queue scenario: {from:?} -> {to:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn queue_block_errors_name_their_place() {
    scenario::parse(QUEUE_GOOD, "good.ron", &faultline::protocols::registry()).unwrap();
    let cases = [
        (
            "workers: [3, 4]",
            "workers: [0, 4]",
            "bad.ron:11:",
            &["protocol.workers[0]", "node 0 is already the broker"][..],
        ),
        (
            "sink: 1",
            "sink: 0",
            "bad.ron:9:",
            &["protocol.sink", "already the broker"],
        ),
        (
            "tasks: 4",
            "tasks: 0",
            "bad.ron:13:",
            &["protocol.jobs[0].tasks", "0 tasks"],
        ),
        (
            "visibility: \"500ms\"",
            "visibility: \"0ms\"",
            "bad.ron:12:",
            &["protocol.visibility", "longer than zero"],
        ),
        (
            "at: \"1s\"",
            "at: \"6s\"",
            "bad.ron:13:",
            &["protocol.jobs[0].at", "end of the run"],
        ),
        (
            "producers: [2]",
            "producers: []",
            "bad.ron:10:",
            &["protocol.producers", "no producers"],
        ),
        (
            "workers: [3, 4]",
            "workers: [7]",
            "bad.ron:11:",
            &["protocol.workers[0]", "node 7 does not exist"],
        ),
        (
            "Drains(\"2s\")",
            "Drains(\"0s\")",
            "bad.ron:15:",
            &["checks[1]", "longer than zero"],
        ),
    ];
    for (from, to, place, words) in cases {
        let message = queue_error(from, to);
        assert!(
            message.starts_with(place),
            "{message:?} should start with {place:?}"
        );
        for word in words {
            assert!(
                message.contains(word),
                "{message:?} should mention {word:?}"
            );
        }
    }
}

/// A cache scenario with one substitution: the error's text.
fn cache_error_with(from: &str, to: &str) -> String {
    let good = r#"Scenario(
    name: "cache",
    seed: 1,
    duration: "5s",
    nodes: 3,
    network: (latency: Constant("5ms")),
    protocol: Cache(mode: Quorum(2, 2), replicas: 3, keys: 4, clients: [0, 1, 2], mix: (read: 0.5, write: 0.3, cas: 0.2)),
    checks: [Linearizable, Available(min: 0.9)],
    expect: Pass,
)"#;
    let registry = faultline::protocols::registry();
    scenario::parse(good, "cache.ron", &registry).expect("the base cache scenario is valid");
    assert!(good.contains(from), "the base scenario contains {from:?}");
    match scenario::parse(&good.replacen(from, to, 1), "bad.ron", &registry) {
        Ok(_) => panic!("accepted a bad cache scenario: {from:?} -> {to:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn bad_cache_blocks_name_their_field() {
    let cases: [(&str, &str, &str, &[&str]); 8] = [
        (
            "Quorum(2, 2)",
            "Quorum(4, 2)",
            "bad.ron:7:",
            &["mode", "r = 4", "1 to 3"],
        ),
        (
            "Quorum(2, 2)",
            "Quorum(2, 0)",
            "bad.ron:7:",
            &["mode", "w = 0"],
        ),
        (
            "replicas: 3",
            "replicas: 4",
            "bad.ron:7:",
            &["replicas", "1 to 3"],
        ),
        (
            "clients: [0, 1, 2]",
            "clients: [0, 1, 7]",
            "bad.ron:7:",
            &["clients[2]", "node 7 does not exist"],
        ),
        (
            "cas: 0.2",
            "cas: 1.2",
            "bad.ron:7:",
            &["mix.cas", "not a probability"],
        ),
        (
            "cas: 0.2",
            "cas: 0.3",
            "bad.ron:7:",
            &["mix", "add up to 1"],
        ),
        (
            "mode: Quorum(2, 2)",
            "mode: Abd",
            "bad.ron:7:",
            &["mix.cas", "consensus"],
        ),
        (
            "min: 0.9",
            "min: 1.5",
            "bad.ron:8:",
            &["min", "not a probability"],
        ),
    ];
    for (from, to, place, words) in cases {
        let message = cache_error_with(from, to);
        assert!(
            message.starts_with(place),
            "{from} -> {to}: {message:?} should start with {place:?}"
        );
        for word in words {
            assert!(
                message.contains(word),
                "{from} -> {to}: {message:?} should mention {word:?}"
            );
        }
    }
}
