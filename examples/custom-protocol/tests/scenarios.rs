//! Every scenario gives its declared outcome, and each shows what its
//! description says; bad blocks are refused with the field and its place.

mod common;

use common::{load, parse, run_in_memory, scenario_files, trace_lines, with_variant};
use faultline::check::Verdict;
use faultline::sweep::{self, SweepOptions};
use serde_json::Value;

#[test]
fn every_scenario_gives_its_declared_outcome() {
    let files = scenario_files();
    assert!(files.len() >= 6, "scenarios: {files:?}");
    for file in files {
        let scenario =
            faultline::scenario::load(&file, &common::registry()).unwrap_or_else(|e| panic!("{e}"));
        let result = run_in_memory(&scenario, None, false);
        let summary = &result.summary;
        assert!(
            summary.outcome_as_expected,
            "{}: expected {}, got {}",
            file.display(),
            summary.expected,
            summary.outcome
        );
    }
}

/// (time in ns, node, observation) of every `observe` line.
fn observations(lines: &[Value]) -> Vec<(u64, u64, &Value)> {
    lines
        .iter()
        .filter(|line| line["kind"] == "observe")
        .map(|line| {
            let t = line["t"].as_u64().unwrap();
            (t, line["node"].as_u64().unwrap(), &line["observation"])
        })
        .collect()
}

#[test]
fn while_partitioned_the_majority_elects_and_the_minority_cannot() {
    let result = run_in_memory(&load("scenarios/election-partition.ron"), None, true);
    let lines = trace_lines(&result);
    let heal_ns = 3_000_000_000;
    let leaders: Vec<u64> = observations(&lines)
        .into_iter()
        .filter(|(t, _, o)| *t < heal_ns && o["what"] == "became_leader")
        .map(|(_, node, _)| node)
        .collect();
    assert!(!leaders.is_empty(), "the majority elected nobody");
    assert!(
        leaders.iter().all(|node| [2, 3, 4].contains(node)),
        "{leaders:?}"
    );
    let minority_candidacies = observations(&lines)
        .into_iter()
        .filter(|(t, node, o)| *t < heal_ns && *node < 2 && o["what"] == "became_candidate")
        .count();
    assert!(minority_candidacies > 2, "the minority kept standing");
}

#[test]
fn a_paused_leader_steps_down_when_it_resumes_into_a_newer_term() {
    let result = run_in_memory(&load("scenarios/election-leader-pause.ron"), None, true);
    let lines = trace_lines(&result);
    let steps_down = observations(&lines)
        .into_iter()
        .find(|(t, node, o)| *t >= 2_000_000_000 && *node == 1 && o["what"] == "became_follower");
    let (_, _, observation) = steps_down.expect("node 1 steps down after its pause");
    assert!(observation["term"].as_u64().unwrap() >= 2);
}

#[test]
fn the_planted_bug_scenario_passes_with_the_correct_variant() {
    let file = "scenarios/election-bug-vote-twice.ron";
    let text = with_variant(file, "VoteTwice", "Correct");
    let scenario = parse(&text, file).unwrap_or_else(|e| panic!("{e}"));
    let result = run_in_memory(&scenario, None, false);
    assert!(result.reports.iter().all(|r| r.verdict == Verdict::Pass));
}

fn sweep_seeds(scenario: &faultline::scenario::Scenario, seeds: u64) -> sweep::SweepReport {
    let options = SweepOptions {
        seed_start: 0,
        seed_end: seeds,
        jobs: Some(2),
        shard: None,
        stop_on_first: false,
        progress: false,
    };
    sweep::sweep(scenario, &options).expect("the sweep runs")
}

#[test]
fn the_planted_bug_shows_in_most_seeds_and_never_without_it() {
    let file = "scenarios/election-bug-vote-twice.ron";
    let buggy = sweep_seeds(&load(file), 200);
    assert!(
        buggy.as_expected >= 180,
        "only {} of 200",
        buggy.as_expected
    );
    let text = with_variant(file, "VoteTwice", "Correct");
    let correct = parse(&text, file).unwrap_or_else(|e| panic!("{e}"));
    let report = sweep_seeds(&correct, 200);
    assert_eq!(report.failures_per_check.get("OneLeaderPerTerm"), None);
}

#[test]
fn the_nemesis_scenario_passes_every_seed_from_0_to_500() {
    let report = sweep_seeds(&load("scenarios/election-nemesis.ron"), 500);
    assert_eq!(report.unexpected_seeds, Vec::<u64>::new());
    assert_eq!(report.as_expected, 500);
}

/// The error for the happy path with its protocol block replaced.
fn block_error(block: &str) -> String {
    let file = "scenarios/election-happy-path.ron";
    let text = std::fs::read_to_string(common::crate_path(file)).unwrap();
    let start = text.find("protocol: Election(").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    let text = format!(
        "{}protocol: Election({block}),{}",
        &text[..start],
        &text[end..]
    );
    match parse(&text, "bad.ron") {
        Ok(_) => panic!("`{block}` was accepted"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn bad_blocks_are_refused_naming_the_field_and_its_place() {
    let cases = [
        (
            r#"election_timeout_min: "300ms", election_timeout_max: "150ms""#,
            "bad.ron:9:46: protocol.election_timeout_min: election_timeout_min (300ms) is longer than election_timeout_max (150ms)",
        ),
        (
            r#"election_timeout_max: "0s""#,
            "bad.ron:9:46: protocol.election_timeout_max: must be longer than zero",
        ),
        (
            r#"heartbeat: "0ms""#,
            "bad.ron:9:35: protocol.heartbeat: must be longer than zero",
        ),
        (
            r#"heartbeat: "150ms""#,
            "bad.ron:9:35: protocol.heartbeat: heartbeat (150ms) must be shorter than election_timeout_min (150ms)",
        ),
        (
            r#"heartbeat: "soon""#,
            "bad.ron:9:36: invalid duration \"soon\"",
        ),
        (
            r#"hearbeat: "50ms""#,
            "bad.ron:9:24: unknown field `hearbeat` in `protocol`: expected one of `election_timeout_min`, `election_timeout_max`, `heartbeat` or `variant`",
        ),
        (
            "variant: VoteThrice",
            "bad.ron:9:33: unknown value `VoteThrice` in `variant`: expected one of `Correct` or `VoteTwice`",
        ),
    ];
    for (block, expected) in cases {
        let error = block_error(block);
        assert!(error.contains(expected), "`{block}`: {error}");
    }
}

#[test]
fn an_empty_block_takes_the_papers_defaults() {
    let file = "scenarios/election-happy-path.ron";
    let text = std::fs::read_to_string(common::crate_path(file)).unwrap();
    let start = text.find("protocol: Election(").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    let text = format!("{}protocol: Election(),{}", &text[..start], &text[end..]);
    let scenario = parse(&text, file).unwrap_or_else(|e| panic!("{e}"));
    let configured = scenario
        .configured::<faultline_election::Election>()
        .expect("an election");
    let election = configured.machine();
    assert_eq!(election.election_timeout_min.to_string(), "150ms");
    assert_eq!(election.election_timeout_max.to_string(), "300ms");
    assert_eq!(election.heartbeat.to_string(), "50ms");
}
