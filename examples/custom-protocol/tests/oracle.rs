//! A deliberately naive reference oracle for `OneLeaderPerTerm`, written
//! from the property's definition and the trace format alone
//! (docs/trace-format.md, and the election's payloads in
//! docs/custom-protocol.md), sharing no code with the crate's judge; and a
//! differential test that runs the nemesis scenario under both variants and
//! requires the oracle and the check to agree on every seed.
//!
//! The definition: node n *becomes leader in term t* at an `observe` line
//! whose `node` is n and whose observation is `{"what": "became_leader",
//! "term": t}`. `OneLeaderPerTerm` fails iff two different nodes become
//! leader in one term. Each `became_leader` line for which an earlier line
//! names another node in the same term is one violation, at that line's `t`.

mod common;

use common::{parse, run_in_memory, trace_lines, with_variant};
use faultline::check::{CheckReport, Verdict};
use serde_json::Value;

const SCENARIO: &str = "scenarios/election-nemesis.ron";
const SEEDS: u64 = 200;

/// The oracle's reading of one trace.
#[derive(Debug, Default)]
struct OracleVerdict {
    /// `t` of each violation, in trace order.
    violations: Vec<u64>,
    /// `became_leader` lines seen.
    leaders: usize,
}

/// Every (line, term, node) of a `became_leader` observation, by brute
/// force over the whole trace.
fn became_leader(lines: &[Value]) -> Vec<(usize, u64, u64)> {
    let mut found = Vec::new();
    for (position, line) in lines.iter().enumerate() {
        let observation = &line["observation"];
        if line["kind"] == "observe" && observation["what"] == "became_leader" {
            let term = observation["term"].as_u64().expect("a term");
            let node = line["node"].as_u64().expect("a node");
            found.push((position, term, node));
        }
    }
    found
}

fn oracle(lines: &[Value]) -> OracleVerdict {
    let leaders = became_leader(lines);
    let mut verdict = OracleVerdict {
        leaders: leaders.len(),
        ..OracleVerdict::default()
    };
    for &(position, term, node) in &leaders {
        let earlier_other = leaders
            .iter()
            .any(|&(before, t, n)| before < position && t == term && n != node);
        if earlier_other {
            verdict
                .violations
                .push(lines[position]["t"].as_u64().unwrap());
        }
    }
    verdict
}

fn check_report(reports: &[CheckReport]) -> &CheckReport {
    reports
        .iter()
        .find(|r| r.name == "OneLeaderPerTerm")
        .expect("the scenario lists OneLeaderPerTerm")
}

/// Runs every seed of the scenario with `variant`; asserts agreement and
/// returns (seeds with a violation, violations, leaders elected).
fn compare(variant: &str) -> (u64, usize, usize) {
    let text = with_variant(SCENARIO, "Correct", variant);
    let scenario = parse(&text, SCENARIO).unwrap_or_else(|e| panic!("{e}"));
    let (mut failing_seeds, mut violations, mut leaders) = (0, 0, 0);
    for seed in 0..SEEDS {
        let result = run_in_memory(&scenario, Some(seed), true);
        let expected = oracle(&trace_lines(&result));
        let report = check_report(&result.reports);
        let times: Vec<u64> = report
            .violations
            .iter()
            .map(|v| v.time.as_nanos())
            .collect();
        assert_eq!(
            times, expected.violations,
            "{variant}, seed {seed}: the check and the oracle disagree ({})",
            report.detail
        );
        let oracle_fails = !expected.violations.is_empty();
        assert_eq!(
            report.verdict == Verdict::Fail,
            oracle_fails,
            "{variant}, seed {seed}"
        );
        failing_seeds += u64::from(oracle_fails);
        violations += expected.violations.len();
        leaders += expected.leaders;
    }
    (failing_seeds, violations, leaders)
}

#[test]
fn the_oracle_and_the_check_agree_on_every_seed_of_both_variants() {
    let (failing, violations, leaders) = compare("Correct");
    assert_eq!((failing, violations), (0, 0), "the correct variant is safe");
    assert!(
        leaders > 5 * SEEDS as usize,
        "{leaders} elections in {SEEDS} seeds"
    );
    println!("Correct: {leaders} elections won in {SEEDS} seeds, none unsafe");
    let (failing, violations, leaders) = compare("VoteTwice");
    // 10 of seeds 0..200 when this was written: not vacuous.
    assert!(
        failing >= 5,
        "only {failing} seeds of {SEEDS} showed the bug"
    );
    assert!(violations as u64 >= failing && leaders > 5 * SEEDS as usize);
    println!(
        "VoteTwice: {failing} of {SEEDS} seeds, {violations} violations, {leaders} elections won"
    );
}

#[test]
fn the_oracle_flags_two_leaders_of_one_term_and_nothing_else() {
    let line = |t: u64, node: u64, what: &str, term: u64| {
        serde_json::json!({"t": t, "kind": "observe", "node": node, "local": t,
            "observation": {"what": what, "term": term}})
    };
    let lines = vec![
        line(1, 0, "became_leader", 1),
        line(2, 0, "became_follower", 2),
        line(3, 1, "became_leader", 2),
        line(4, 2, "became_candidate", 2),
        line(5, 2, "became_leader", 2),
        line(6, 0, "became_leader", 3),
    ];
    let verdict = oracle(&lines);
    assert_eq!(verdict.violations, vec![5]);
    assert_eq!(verdict.leaders, 4);
}
