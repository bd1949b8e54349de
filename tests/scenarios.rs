//! Data-driven: every scenario in `scenarios/` runs and gives exactly its
//! declared `expect`, and its trace hash is pinned. A hash change means the
//! behaviour of the engine, a protocol or a dependency changed: if that was
//! on purpose, update the table (the failure prints the new values).

mod common;

use common::{load, report_of, run_in_memory, scenario_files};
use faultline::check::Verdict;

/// (scenario file, trace hash with its own seed).
const GOLDEN: &[(&str, &str)] = &[
    (
        "scenarios/hashing-balance-1-vnodes.ron",
        "55f9916d05f845ded367286985264ba1",
    ),
    (
        "scenarios/hashing-balance-10-vnodes.ron",
        "28824e86d5fb5ad07e81692c6bbc568c",
    ),
    (
        "scenarios/hashing-balance-100-vnodes.ron",
        "9e677fe99746eb03cdae3fde479563c7",
    ),
    (
        "scenarios/hashing-balance-1000-vnodes.ron",
        "ff994d7e0e6cacc9d5ae569990221a01",
    ),
    (
        "scenarios/hashing-join-leave-modulo.ron",
        "4253076f3df17dc0ed64135d64da5118",
    ),
    (
        "scenarios/hashing-join-leave-ring.ron",
        "8e459b06190219cbf518e9b91e636d12",
    ),
    (
        "scenarios/hashing-partition.ron",
        "c5c73bf6759d1f0b31a3c1c50966bff6",
    ),
    (
        "scenarios/heartbeat-bridge.ron",
        "e2725048b2e5d2d1636693fa086cf7a8",
    ),
    (
        "scenarios/heartbeat-bug-never-suspect.ron",
        "1d54eb4c0df5a3d22e9bb63d006abbca",
    ),
    (
        "scenarios/heartbeat-bug-never-trust.ron",
        "3e83e27c7764a48d5a1ff3729cafcddf",
    ),
    (
        "scenarios/heartbeat-bug-no-sequence.ron",
        "25eb43e16dfcd5f4083b769d41813f54",
    ),
    (
        "scenarios/heartbeat-clock-drift.ron",
        "ee4df841e072c89c8a6ea7a50e124c4d",
    ),
    (
        "scenarios/heartbeat-crash-restart.ron",
        "7f2fb5967a9bbd290fe774b866fda2e5",
    ),
    (
        "scenarios/heartbeat-nemesis.ron",
        "7d28ca703c18bd7284699009f0087cfe",
    ),
    (
        "scenarios/heartbeat-pareto-crash.ron",
        "ae60f98dbfd0fe29ac66140ce98a538d",
    ),
    (
        "scenarios/heartbeat-partition.ron",
        "9c35b176a42ef51d440b5ef8823dcb49",
    ),
    (
        "scenarios/heartbeat-pause.ron",
        "149c7c0ab1a9a5f5551e46a1f9e6a0b7",
    ),
    (
        "scenarios/heartbeat-slow-network.ron",
        "9f712090f400c18a3d38b3452f26263a",
    ),
    (
        "scenarios/heartbeat-symmetric-partition.ron",
        "b78f492192afccf42491ba1e971d4b98",
    ),
    (
        "scenarios/lock-bug-stale-regrant.ron",
        "efc3c5ecbaab359f9c96cb1b80747105",
    ),
    (
        "scenarios/lock-happy-path.ron",
        "072e60c534365795597b6ccc55ae599f",
    ),
    (
        "scenarios/lock-holder-crash-lease.ron",
        "8cbf61e6703d43cc2dcd1b48359034f0",
    ),
    (
        "scenarios/lock-holder-crash-no-expiry.ron",
        "b5edb8bdd81d4222b046b9706fa90cbe",
    ),
    (
        "scenarios/lock-lost-release-regrant.ron",
        "b8c5cbebd5bae729a001da133b67b1a9",
    ),
    (
        "scenarios/lock-nemesis.ron",
        "f56d85e32bad656f46fd09f600d78a8b",
    ),
    (
        "scenarios/lock-partitioned-client.ron",
        "a1704a5f6b3fed06507d7e11ce10313a",
    ),
    (
        "scenarios/lock-pause-fencing.ron",
        "bcd109700eb0bb697e5b69d6622cc30c",
    ),
    (
        "scenarios/lock-pause-lease.ron",
        "71aa6742170eda784a47c3d0a9d0e26b",
    ),
    (
        "scenarios/lock-slow-clock-lease.ron",
        "356df4ec030890c8c4cbe095e1752973",
    ),
    (
        "scenarios/paxos-acceptor-restart.ron",
        "0427b7eeb1239bb45441075157da0655",
    ),
    (
        "scenarios/paxos-bug-forgetful-acceptor.ron",
        "fce19f715d4f27c34fe5793b7ac93863",
    ),
    (
        "scenarios/paxos-bug-ignore-accepted-value.ron",
        "16e94b589556351704b61527071847ad",
    ),
    (
        "scenarios/paxos-bug-minority-quorum.ron",
        "3efa2475c8a1a2fd0caef91ddc95b048",
    ),
    (
        "scenarios/paxos-bug-reuse-ballot.ron",
        "e2fb615b4cfb9c2db6446355f100f6f7",
    ),
    (
        "scenarios/paxos-bug-two-values-chosen.ron",
        "1e4ea5b53c51eb771dd57ccec0ede647",
    ),
    (
        "scenarios/paxos-dueling-proposers.ron",
        "a456abc6716a5316395ff904daeb2a7a",
    ),
    (
        "scenarios/paxos-happy-path.ron",
        "07d64f5b0c6f0d873df2286318ec5320",
    ),
    (
        "scenarios/paxos-majority-loss.ron",
        "f3f0f4e7e40cb7aff38111c97fec1c88",
    ),
    (
        "scenarios/paxos-minority-partition.ron",
        "aec463381e21aed88d78b5d0f1690ea8",
    ),
    (
        "scenarios/paxos-nemesis-7-nodes.ron",
        "02935cfe1cbcb53fe95626ec8e93a31d",
    ),
    (
        "scenarios/paxos-nemesis-proposer-restart.ron",
        "0659bd59ba6fbf9fa800d45929b9c93c",
    ),
    (
        "scenarios/paxos-nemesis.ron",
        "3f50c76e44a53e58e56395017679770c",
    ),
    (
        "scenarios/paxos-proposer-crash.ron",
        "83901666453111e50f6eb9a9f8bc05ca",
    ),
];

#[test]
fn every_scenario_gives_its_declared_outcome() {
    let files = scenario_files();
    assert!(files.len() >= 3);
    let mut wrong = Vec::new();
    for file in &files {
        let scenario = faultline::scenario::load(file, &faultline::protocols::registry())
            .unwrap_or_else(|e| panic!("{e}"));
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
    let edited = faultline::scenario::parse(
        &text.replace(from, to),
        file,
        &faultline::protocols::registry(),
    )
    .unwrap();
    run_in_memory(&edited, None)
}

#[test]
fn a_timeout_shorter_than_the_worst_latency_shows_false_suspicions() {
    let result = run_in_memory(&load("scenarios/heartbeat-slow-network.ron"), None);
    let accuracy = report_of(&result, "Accuracy");
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
    let completeness = report_of(&result, "Completeness");
    assert_eq!(completeness.verdict, Verdict::Fail);
    let named: Vec<&[u32]> = completeness
        .violations
        .iter()
        .map(|v| v.nodes.as_slice())
        .collect();
    assert_eq!(
        named,
        vec![[1, 0], [1, 2]],
        "names the crashed node and each node that missed it"
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
    let accuracy = report_of(&result, "Accuracy");
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
    let accuracy = report_of(&result, "Accuracy");
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

// Regressions from the issue "Verdicts you can trust": each scenario failed
// (or, for a bug variant, went unnoticed) before its fix.

/// Defect 3: a detector without sequence numbers re-trusts a crashed node on
/// a stale heartbeat after the deadline; Completeness looks past the deadline.
#[test]
fn a_stale_heartbeat_after_the_deadline_is_caught_and_the_correct_detector_ignores_it() {
    let result = run_in_memory(&load("scenarios/heartbeat-bug-no-sequence.ron"), None);
    let completeness = report_of(&result, "Completeness");
    assert_eq!(completeness.verdict, Verdict::Fail);
    assert!(
        completeness.violations[0]
            .message
            .contains("was trusted again by node 0"),
        "{}",
        completeness.detail
    );
    // The violation comes after the deadline (crash at 1.1s, bound 1s).
    assert!(completeness.violations[0].time.as_nanos() > 2_100_000_000);
    let correct = run_edited(
        "scenarios/heartbeat-bug-no-sequence.ron",
        ", variant: NoSequence",
        "",
    );
    assert_eq!(
        correct.reports[0].verdict,
        Verdict::Pass,
        "{}",
        correct.reports[0].detail
    );
}

/// Defects 1 and 2: one lost release. The fixed Lease renews the lease on the
/// re-grant; the planted bug does not, and the client's second holding of the
/// same token overlaps the next holder's.
#[test]
fn a_re_grant_without_renewal_is_two_holders_and_the_renewing_lease_is_safe() {
    let fixed = run_in_memory(&load("scenarios/lock-lost-release-regrant.ron"), None);
    assert!(
        fixed.summary.outcome_as_expected,
        "{}",
        fixed.summary.outcome
    );
    assert!(
        fixed.reports.iter().all(|r| r.verdict == Verdict::Pass),
        "{:?}",
        fixed.reports
    );
    let bug = run_in_memory(&load("scenarios/lock-bug-stale-regrant.ron"), None);
    let exclusion = report_of(&bug, "MutualExclusion");
    assert_eq!(exclusion.verdict, Verdict::Fail);
    assert!(
        exclusion.violations[0]
            .message
            .contains("client 2 (token 1, holding since 1.01"),
        "judged on the second holding of token 1: {}",
        exclusion.violations[0].message
    );
}

/// Defect 4: two values chosen, every learner learning the same one.
#[test]
fn two_values_chosen_fail_agreement_even_when_the_learners_agree() {
    let result = run_in_memory(&load("scenarios/paxos-bug-two-values-chosen.ron"), None);
    let agreement = report_of(&result, "Agreement");
    assert_eq!(agreement.verdict, Verdict::Fail);
    assert_eq!(agreement.violations.len(), 1, "{}", agreement.detail);
    assert!(agreement.violations[0]
        .message
        .starts_with("two values chosen: \"B\" under ballot 2.3"));
    assert!(
        !agreement.detail.contains("had learned"),
        "{}",
        agreement.detail
    );
}
