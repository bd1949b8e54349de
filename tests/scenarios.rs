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
        "scenarios/cache-abd-nemesis.ron",
        "672f5a1cc48d4f05aed879e5af2790f6",
    ),
    (
        "scenarios/cache-abd-partition.ron",
        "80d2d55ccd44ffa1e3df2597263a18f6",
    ),
    (
        "scenarios/cache-anti-entropy.ron",
        "818daec92e584e57147cc1c620b69c5e",
    ),
    (
        "scenarios/cache-bug-forgetful-replica.ron",
        "4feb94e3b9f98121325ebaa1cd57c794",
    ),
    (
        "scenarios/cache-lww-drift.ron",
        "c691340cb28ef00f997b33aeacac21ee",
    ),
    (
        "scenarios/cache-one-partition.ron",
        "7647e03ad6ad29643a62445aaa450438",
    ),
    (
        "scenarios/cache-quorum-concurrent.ron",
        "b702dae8d654dd8a7ccf9139f2f4c124",
    ),
    (
        "scenarios/hashing-balance-1-vnodes.ron",
        "cd0475444e0ec6e992383ece1a199275",
    ),
    (
        "scenarios/hashing-balance-10-vnodes.ron",
        "93fed8e55bdea2f521e937c3d5fbb662",
    ),
    (
        "scenarios/hashing-balance-100-vnodes.ron",
        "9698e69d1d1fae249b0bf92185d0afb3",
    ),
    (
        "scenarios/hashing-balance-1000-vnodes.ron",
        "7dcdbdd0ff0c8574847c365c39c86ab2",
    ),
    (
        "scenarios/hashing-join-leave-modulo.ron",
        "34a107e18766e6724fe46a993ac723a1",
    ),
    (
        "scenarios/hashing-join-leave-ring.ron",
        "a7e7d82094e15c199b831b8feadb0c9f",
    ),
    (
        "scenarios/hashing-partition.ron",
        "bad530cb9804084ce00a739f6d8c46bc",
    ),
    (
        "scenarios/heartbeat-bridge.ron",
        "cb5aec7b7b19f196bfd8c698a18563f9",
    ),
    (
        "scenarios/heartbeat-bug-never-suspect.ron",
        "5f8fc4bbd3510a27ca046773c5b2e73b",
    ),
    (
        "scenarios/heartbeat-bug-never-trust.ron",
        "98b0c0103fcb309cb15dcfbb288266af",
    ),
    (
        "scenarios/heartbeat-bug-no-sequence.ron",
        "52c258cbe4d9a0b62e677f16aab000d1",
    ),
    (
        "scenarios/heartbeat-clock-drift.ron",
        "99b7899bafec951bcf444891a4c04c36",
    ),
    (
        "scenarios/heartbeat-crash-restart.ron",
        "188f67eb7db0957cc08552ee32a97f69",
    ),
    (
        "scenarios/heartbeat-nemesis.ron",
        "7e8dfb172a7acc537086c439f416af91",
    ),
    (
        "scenarios/heartbeat-pareto-crash.ron",
        "c90f697cbf8e458677b3caa781ec2137",
    ),
    (
        "scenarios/heartbeat-partition.ron",
        "8b0965a1e42873cf4608e4f4196e8c8d",
    ),
    (
        "scenarios/heartbeat-pause.ron",
        "d7f2ed074199cfa315b213072b09a27a",
    ),
    (
        "scenarios/heartbeat-slow-network.ron",
        "86440fe57d8dfb3e62c8e907c363dfc8",
    ),
    (
        "scenarios/heartbeat-symmetric-partition.ron",
        "e7faf663a6835e8e6c613a139c920565",
    ),
    (
        "scenarios/lock-bug-stale-regrant.ron",
        "d7789d0ff274c6308cf7294df6a9b7de",
    ),
    (
        "scenarios/lock-happy-path.ron",
        "91c573a85b268a73dc9b0b2950bb132e",
    ),
    (
        "scenarios/lock-holder-crash-lease.ron",
        "3b1e54f08b30a0ec55d40b5bc8a85929",
    ),
    (
        "scenarios/lock-holder-crash-no-expiry.ron",
        "83be0b328c254ae4e5444660992043a2",
    ),
    (
        "scenarios/lock-lost-release-regrant.ron",
        "7f6f5c377175942d49e2002cf6e246dc",
    ),
    (
        "scenarios/lock-nemesis.ron",
        "1244ff61f3f727841de6005dc2189330",
    ),
    (
        "scenarios/lock-partitioned-client.ron",
        "e6c4f20d3140ac2c596e0fb6fa64c623",
    ),
    (
        "scenarios/lock-pause-fencing.ron",
        "9d21df864401c56ca1bf5de97bccd1c9",
    ),
    (
        "scenarios/lock-pause-lease.ron",
        "1dcde825c7b073d7ecadee99dba7bdee",
    ),
    (
        "scenarios/lock-slow-clock-lease.ron",
        "e133230ecc98a0cf5ef98be712cb4f13",
    ),
    (
        "scenarios/paxos-acceptor-restart.ron",
        "1b958f48e8e3f33ee9d77afe1b6dc764",
    ),
    (
        "scenarios/paxos-bug-forgetful-acceptor.ron",
        "f2fe2b77a238d30e00bdf8a984cc0d73",
    ),
    (
        "scenarios/paxos-bug-ignore-accepted-value.ron",
        "b82976439ce373660a3ef485e5b9b1f0",
    ),
    (
        "scenarios/paxos-bug-minority-quorum.ron",
        "7b3c2a9bad3dd258e96d3c60453b6f32",
    ),
    (
        "scenarios/paxos-bug-reuse-ballot.ron",
        "7a4083c73f64fdf5abe5e9e8bcbe46bf",
    ),
    (
        "scenarios/paxos-bug-two-values-chosen.ron",
        "8306ad977a7ec69b671d78f21a207819",
    ),
    (
        "scenarios/paxos-dueling-proposers.ron",
        "3d448ecc21378bba2f8dc4f2abde43c9",
    ),
    (
        "scenarios/paxos-happy-path.ron",
        "1e1ff501cd7064482ab4ab71d39956a5",
    ),
    (
        "scenarios/paxos-majority-loss.ron",
        "a4a96994f59ea593f30b2171e78d9915",
    ),
    (
        "scenarios/paxos-minority-partition.ron",
        "0808dd886faec0b4c5c936bf477c1a66",
    ),
    (
        "scenarios/paxos-nemesis-7-nodes.ron",
        "07ff93a23cdda144bf0b3cb3fb765e66",
    ),
    (
        "scenarios/paxos-nemesis-proposer-restart.ron",
        "144daea4b18e4f271bf13b43a88d2af7",
    ),
    (
        "scenarios/paxos-nemesis.ron",
        "f2d26e2c0d83b83f347a8076a3b7cde3",
    ),
    (
        "scenarios/paxos-proposer-crash.ron",
        "1b27d84f42e6e59f3e324052048872a2",
    ),
    (
        "scenarios/queue-bug-auto-ack.ron",
        "718bce0f951072c255b48ac8ce4ef398",
    ),
    (
        "scenarios/queue-bug-broker-forgets.ron",
        "c64304a6c44556abf544f218025d9818",
    ),
    (
        "scenarios/queue-bug-no-dedupe.ron",
        "e264eda63e543f9162c0668f63f48123",
    ),
    (
        "scenarios/queue-job-reassign-suspicion.ron",
        "80736ffacbb457148d7fa8f840445783",
    ),
    (
        "scenarios/queue-job-reassign-timeout.ron",
        "4fdb8ba81678e6c1a6fc4c8e0e4a81d1",
    ),
    (
        "scenarios/queue-nemesis.ron",
        "9c6072e7a0837f0e0bbfbf493946b1a6",
    ),
    (
        "scenarios/queue-parallel-key-order.ron",
        "e5f82b63f40d181d4b5ba534f49d53f9",
    ),
    (
        "scenarios/queue-pause-idempotent.ron",
        "7e200c3553290e220ba809451e03a49a",
    ),
    (
        "scenarios/queue-pause-no-idempotence.ron",
        "151507744bbde1e3bf4fdbbcacd80636",
    ),
    (
        "scenarios/queue-worker-crash.ron",
        "57d14c845086d89771de5fc4e2c0d01a",
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
    // What it says it wrote is what it wrote.
    let said = String::from_utf8(output.stdout.clone()).unwrap();
    let wrote = said.lines().find(|l| l.starts_with("wrote ")).unwrap();
    assert!(
        wrote.ends_with("(report.html, scenario.ron, summary.json, 2 chart files)"),
        "{wrote}"
    );
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

/// Each queue bug scenario, with its one mistake corrected, passes every
/// check on the same schedule: the violation is the mistake's, not the
/// schedule's.
#[test]
fn each_queue_mistake_corrected_passes_on_the_same_schedule() {
    let fixes = [
        (
            "scenarios/queue-bug-auto-ack.ron",
            "mode: AutoAck",
            "mode: AtLeastOnce",
        ),
        (
            "scenarios/queue-bug-broker-forgets.ron",
            "mode: BrokerForgets",
            "mode: AtLeastOnce",
        ),
        (
            "scenarios/queue-pause-no-idempotence.ron",
            "idempotent: false",
            "idempotent: true",
        ),
        (
            "scenarios/queue-bug-no-dedupe.ron",
            "dedupe: false",
            "dedupe: true",
        ),
        (
            "scenarios/queue-parallel-key-order.ron",
            "key_order: Any",
            "key_order: Partitioned",
        ),
    ];
    for (file, bug, fix) in fixes {
        let bugged = run_in_memory(&load(file), None);
        assert!(
            bugged.reports.iter().any(|r| r.verdict == Verdict::Fail),
            "{file} fails as written"
        );
        let fixed = run_edited(file, bug, fix);
        for report in &fixed.reports {
            assert_eq!(
                report.verdict,
                Verdict::Pass,
                "{file} with {fix}: {report:?}"
            );
        }
    }
}

/// False suspicions double the work: reassigning on the detector's
/// suspicion executes the partitioned workers' tasks twice; waiting for
/// the lease does not.
#[test]
fn false_suspicions_double_the_work_and_timeouts_do_not() {
    let metric = |result: &faultline::run::RunResult, name: &str| result.summary.metrics[name];
    let suspicion = run_in_memory(&load("scenarios/queue-job-reassign-suspicion.ron"), None);
    assert!(metric(&suspicion, "false_suspicions") > 0.0);
    assert!(metric(&suspicion, "double_work_suspicion") > 0.0);
    assert_eq!(
        metric(&suspicion, "effects_duplicated"),
        0.0,
        "the sink is idempotent"
    );
    let timeout = run_in_memory(&load("scenarios/queue-job-reassign-timeout.ron"), None);
    assert_eq!(metric(&timeout, "double_work"), 0.0);
    assert!(metric(&timeout, "job_time_max_s") < metric(&suspicion, "job_time_max_s"));
}

/// ABD is safe only if acknowledged copies survive a crash: the planted
/// bug's replica forgets them and a later quorum misses the latest write,
/// while ABD with durable copies passes the same schedule.
#[test]
fn linearizable_catches_a_replica_that_forgets_what_it_acknowledged() {
    let file = "scenarios/cache-bug-forgetful-replica.ron";
    let result = run_in_memory(&load(file), None);
    let linearizable = report_of(&result, "Linearizable");
    assert_eq!(linearizable.verdict, Verdict::Fail);
    assert!(
        linearizable.violations[0]
            .message
            .contains("no order explains"),
        "{}",
        linearizable.violations[0].message
    );
    assert!(run_edited(file, ", bug: ForgetfulReplica", "")
        .reports
        .iter()
        .all(|r| r.verdict == Verdict::Pass));
}

/// An engine bug found by the evidence sweep: a node restarting at a fault
/// reported a lease deadline, whose true time is read from the rest of the
/// schedule, while the schedule was taken out to apply that fault (a panic,
/// exit 3, in seed 40829 of lock-nemesis). The engine now applies a copy.
#[test]
fn a_restart_that_reports_a_deadline_reads_the_whole_schedule() {
    let result = run_in_memory(&load("scenarios/lock-nemesis.ron"), Some(40829));
    assert!(
        result.summary.outcome_as_expected,
        "{}",
        result.summary.outcome
    );
}

/// The liveness failures the scenario's header states: the nemesis keeps the
/// lock from everyone for the whole bound, while safety holds.
#[test]
fn lock_nemesis_fails_progress_only_in_its_stated_seeds() {
    let scenario = load("scenarios/lock-nemesis.ron");
    for seed in [3488, 46759, 65830, 86458] {
        let result = run_in_memory(&scenario, Some(seed));
        for report in &result.reports {
            let expected = if report.name == "Progress" {
                Verdict::Fail
            } else {
                Verdict::Pass
            };
            assert_eq!(report.verdict, expected, "seed {seed}: {}", report.detail);
        }
    }
}
