//! Data-driven: every scenario in `scenarios/` runs and gives exactly its
//! declared `expect`, and its trace hash is pinned. A hash change means the
//! behaviour of the engine, a protocol or a dependency changed: if that was
//! on purpose, update the table (the failure prints the new values).

mod common;

use common::{load, report_of, run_in_memory, scenario_files};
use faultline::check::{CheckName, Verdict};

/// (scenario file, trace hash with its own seed).
const GOLDEN: &[(&str, &str)] = &[
    (
        "scenarios/hashing-balance-1-vnodes.ron",
        "1d2b4e4fc8156963c76784cd6c523ced",
    ),
    (
        "scenarios/hashing-balance-10-vnodes.ron",
        "bfc1374edd187d011b20a3db15c18a4b",
    ),
    (
        "scenarios/hashing-balance-100-vnodes.ron",
        "4f5dfb2af636636289e7aee2077e8955",
    ),
    (
        "scenarios/hashing-balance-1000-vnodes.ron",
        "750ec036ce7bc52d1e062d3f48cc973a",
    ),
    (
        "scenarios/hashing-join-leave-modulo.ron",
        "a89eb47f21cb32f3bf6cb21101ad6bd9",
    ),
    (
        "scenarios/hashing-join-leave-ring.ron",
        "292ea624a36adb853ad5578d1462d882",
    ),
    (
        "scenarios/hashing-partition.ron",
        "797a4d4414e3d7bd8ef2756d47ecb8f3",
    ),
    (
        "scenarios/heartbeat-bridge.ron",
        "ab519bbc22c3a96743a7b6d7748f5bf1",
    ),
    (
        "scenarios/heartbeat-bug-never-suspect.ron",
        "42d599bc9dcc0cf24ca111d71abd79b1",
    ),
    (
        "scenarios/heartbeat-bug-never-trust.ron",
        "89192eea3efc0f516bc714ec13af4f1a",
    ),
    (
        "scenarios/heartbeat-clock-drift.ron",
        "2560f255cfd30b8d8378aa6fc773a3b7",
    ),
    (
        "scenarios/heartbeat-crash-restart.ron",
        "52f37d9d3e230db59dd3ccb9a5bb73cb",
    ),
    (
        "scenarios/heartbeat-nemesis.ron",
        "05a780972adfd8c45d20bb82a6f5b181",
    ),
    (
        "scenarios/heartbeat-partition.ron",
        "f5e023849fbc2d542a2ba24d668a91b5",
    ),
    (
        "scenarios/heartbeat-pause.ron",
        "7f453a0a5c98da3822b34b78e4288537",
    ),
    (
        "scenarios/heartbeat-slow-network.ron",
        "3466c5570019bef9462d956634e35724",
    ),
    (
        "scenarios/heartbeat-symmetric-partition.ron",
        "d8680509a771afad75bdc9b07359ce4b",
    ),
    (
        "scenarios/lock-happy-path.ron",
        "4d8daf2f65977aa903238d3822d79176",
    ),
    (
        "scenarios/lock-holder-crash-lease.ron",
        "2726868930a0b5c8332c50c015cc7e03",
    ),
    (
        "scenarios/lock-holder-crash-no-expiry.ron",
        "d5ee0e7c2f1c176e82585899d8ea98f2",
    ),
    (
        "scenarios/lock-nemesis.ron",
        "e77d7d2bed1cfe9d0999b412c2ec7ddb",
    ),
    (
        "scenarios/lock-partitioned-client.ron",
        "8742de1aacb9c5ed0850fe11a7629c89",
    ),
    (
        "scenarios/lock-pause-fencing.ron",
        "5d84eba0114537c2bee7b738ab9b85d9",
    ),
    (
        "scenarios/lock-pause-lease.ron",
        "ffa40a6a22cb932cddaaf319c25a50e0",
    ),
    (
        "scenarios/lock-slow-clock-lease.ron",
        "c4c41abb3d5c2512f7af5c6a6ced38d4",
    ),
    (
        "scenarios/paxos-acceptor-restart.ron",
        "db53e3fdeb26ee90a245c435a453055f",
    ),
    (
        "scenarios/paxos-bug-forgetful-acceptor.ron",
        "44e6e55c9ad695db699bd40ee5e17247",
    ),
    (
        "scenarios/paxos-bug-ignore-accepted-value.ron",
        "31ef051899fb5e98a1a849bf2587914f",
    ),
    (
        "scenarios/paxos-bug-minority-quorum.ron",
        "6e1f048c049925ab72f5f4d7c37ad9fb",
    ),
    (
        "scenarios/paxos-bug-reuse-ballot.ron",
        "aef29709cba63659f99f8c0837bf6e28",
    ),
    (
        "scenarios/paxos-dueling-proposers.ron",
        "c091f838b29b0ee5c37ed03efe0b0d07",
    ),
    (
        "scenarios/paxos-happy-path.ron",
        "9bbcd5623f21b108e5fc565d51b0597e",
    ),
    (
        "scenarios/paxos-majority-loss.ron",
        "2b46bbdf10b8a1cc9f13053ca459d9c9",
    ),
    (
        "scenarios/paxos-minority-partition.ron",
        "d7e69280204295914e02d25994e09d72",
    ),
    (
        "scenarios/paxos-nemesis-proposer-restart.ron",
        "4d89ca21598d428ded067f9994122aee",
    ),
    (
        "scenarios/paxos-nemesis.ron",
        "3f0af499adf0be3169e728984936c2f3",
    ),
    (
        "scenarios/paxos-proposer-crash.ron",
        "e5f543aa03294a582bc59959a119cff7",
    ),
];

#[test]
fn every_scenario_gives_its_declared_outcome() {
    let files = scenario_files();
    assert!(files.len() >= 3);
    let mut wrong = Vec::new();
    for file in &files {
        let scenario = faultline::scenario::load(file).unwrap_or_else(|e| panic!("{e}"));
        let result = run_in_memory(&scenario, None);
        assert!(
            result.summary.messages.balances(),
            "{}: accounting",
            file.display()
        );
        assert!(
            result.summary.stopped_early.is_none(),
            "{}: stopped early",
            file.display()
        );
        if !result.summary.outcome_as_expected {
            wrong.push(format!(
                "{}: expected {} got {}",
                file.display(),
                result.summary.expected,
                result.summary.outcome
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn trace_hashes_are_pinned() {
    let mut actual = Vec::new();
    for file in scenario_files() {
        let name = format!("scenarios/{}", file.file_name().unwrap().to_string_lossy());
        let hash = run_in_memory(&load(&name), None).summary.trace_hash;
        actual.push((name, hash));
    }
    let table: String = actual
        .iter()
        .map(|(file, hash)| format!("    (\"{file}\", \"{hash}\"),\n"))
        .collect();
    let pinned: Vec<(String, String)> = GOLDEN
        .iter()
        .map(|(f, h)| (f.to_string(), h.to_string()))
        .collect();
    assert_eq!(
        pinned, actual,
        "trace hashes changed; if on purpose, the new table is:\n{table}"
    );
}

/// Runs a scenario file with one piece of its text replaced (which must be there).
fn run_edited(file: &str, from: &str, to: &str) -> faultline::run::RunResult {
    let text = std::fs::read_to_string(common::repo_path(file)).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    let edited = faultline::scenario::parse(&text.replace(from, to), file).unwrap();
    run_in_memory(&edited, None)
}

#[test]
fn a_timeout_shorter_than_the_worst_latency_shows_false_suspicions() {
    let result = run_in_memory(&load("scenarios/heartbeat-slow-network.ron"), None);
    let accuracy = report_of(&result, CheckName::Accuracy);
    assert_eq!(accuracy.verdict, Verdict::Fail);
    assert!(
        accuracy.detail.contains("no fault explains it"),
        "{}",
        accuracy.detail
    );
    // The same network with a timeout above the latency cap makes no mistake.
    let relaxed = run_edited(
        "scenarios/heartbeat-slow-network.ron",
        "timeout: \"250ms\"",
        "timeout: \"2500ms\"",
    );
    assert_eq!(
        relaxed.reports[0].verdict,
        Verdict::Pass,
        "{}",
        relaxed.reports[0].detail
    );
}

#[test]
fn completeness_catches_a_detector_that_never_suspects() {
    let result = run_in_memory(&load("scenarios/heartbeat-bug-never-suspect.ron"), None);
    let completeness = report_of(&result, CheckName::Completeness);
    assert_eq!(completeness.verdict, Verdict::Fail);
    assert_eq!(
        completeness.violations[0].nodes,
        vec![1, 0, 2],
        "names the crashed node and who missed it"
    );
    // The correct detector passes the same schedule.
    assert!(run_edited(
        "scenarios/heartbeat-bug-never-suspect.ron",
        ", variant: NeverSuspect",
        ""
    )
    .reports
    .iter()
    .all(|r| r.verdict == Verdict::Pass));
}

#[test]
fn accuracy_catches_a_detector_that_never_trusts_again() {
    let result = run_in_memory(&load("scenarios/heartbeat-bug-never-trust.ron"), None);
    let accuracy = report_of(&result, CheckName::Accuracy);
    assert_eq!(accuracy.verdict, Verdict::Fail);
    assert!(
        accuracy.detail.contains("became reachable again"),
        "{}",
        accuracy.detail
    );
    assert!(run_edited(
        "scenarios/heartbeat-bug-never-trust.ron",
        ", variant: NeverTrust",
        ""
    )
    .reports
    .iter()
    .all(|r| r.verdict == Verdict::Pass));
}

#[test]
fn a_pause_is_reported_as_the_cause_of_false_suspicions() {
    let result = run_in_memory(&load("scenarios/heartbeat-pause.ron"), None);
    let accuracy = report_of(&result, CheckName::Accuracy);
    assert!(
        accuracy.detail.contains("node 0 was paused"),
        "{}",
        accuracy.detail
    );
    assert!(accuracy
        .violations
        .iter()
        .all(|v| v.time.as_secs_f64() >= 5.0 && v.time.as_secs_f64() <= 7.5));
}

#[test]
fn the_cli_exits_1_when_the_outcome_differs_from_expect() {
    let folder = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::repo_path("scenarios/heartbeat-pause.ron")).unwrap();
    let file = folder.path().join("wrong-expectation.ron");
    std::fs::write(
        &file,
        text.replace("expect: Violates([Accuracy])", "expect: Pass"),
    )
    .unwrap();
    let output = common::cli()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(folder.path())
        .arg("--no-charts")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("NOT AS EXPECTED"), "{stdout}");
    let summary: serde_json::Value = serde_json::from_slice(
        &std::fs::read(folder.path().join("heartbeat-pause/seed-11/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["outcome_as_expected"], false);
    for key in [
        "scenario",
        "seed",
        "sim_duration_ns",
        "events",
        "messages",
        "checks",
        "expected",
        "trace_hash",
        "wall_ms",
        "events_per_sec",
        "faults",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    for key in ["sent", "delivered", "dropped", "duplicated", "in_flight"] {
        assert!(
            summary["messages"].get(key).is_some(),
            "summary.json messages lack {key}"
        );
    }
}

#[test]
fn a_run_writes_its_whole_folder_and_no_temporary_files() {
    let folder = tempfile::tempdir().unwrap();
    let output = common::cli()
        .args([
            "run",
            "scenarios/heartbeat-crash-restart.ron",
            "--seed",
            "5",
            "--out",
        ])
        .arg(folder.path())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run = folder.path().join("heartbeat-crash-restart/seed-5");
    let mut names: Vec<String> = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "report.html",
            "scenario.ron",
            "summary.json",
            "timeline.png",
            "timeline.svg",
            "trace.jsonl"
        ]
    );
    let png = std::fs::read(run.join("timeline.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = std::fs::read_to_string(run.join("timeline.svg")).unwrap();
    assert!(
        svg.contains("node 4") && svg.contains("crashed"),
        "the SVG has its text"
    );
    // A line of the trace is one JSON object with time and kind.
    let trace = std::fs::read_to_string(run.join("trace.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(trace.lines().next().unwrap()).unwrap();
    assert!(first.get("t").is_some() && first.get("kind").is_some());
    // Running again without a trace removes the old one rather than leaving it beside a new summary.
    let output = common::cli()
        .args([
            "run",
            "scenarios/heartbeat-crash-restart.ron",
            "--seed",
            "5",
            "--no-trace",
            "--out",
        ])
        .arg(folder.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(!run.join("trace.jsonl").exists());
    // The report still has its diagram, drawn from the trace's temporary
    // file, which is then removed.
    assert!(!run.join("trace.jsonl.tmp").exists());
    let report = std::fs::read_to_string(run.join("report.html")).unwrap();
    let sends = trace.matches("\"kind\":\"send\"").count();
    let duplicates = trace.matches("\"kind\":\"duplicate\"").count();
    let arrows: usize = report
        .split("data-arrows=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse::<usize>().unwrap())
        .sum();
    assert_eq!(arrows, (sends + duplicates).min(5_000));
    // And without a report, an old one goes too.
    let output = common::cli()
        .args([
            "run",
            "scenarios/heartbeat-crash-restart.ron",
            "--seed",
            "5",
            "--no-report",
            "--out",
        ])
        .arg(folder.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(!run.join("report.html").exists());
    assert!(run.join("trace.jsonl").exists());
}
