//! Evidence for the verdicts, too long for CI: every nemesis scenario swept
//! over many seeds with its correct variant (no safety check may fail in any
//! seed; liveness failures, possible while a nemesis keeps faulting, are
//! counted) and with every planted bug (how often the checks catch it).
//!
//! Run: `cargo bench --bench evidence` (100,000 seeds per correct run and
//! 10,000 per bug, about 25 minutes on 2 cores), or with smaller counts:
//! `cargo bench --bench evidence -- 1000 100`. It prints a Markdown table;
//! docs/testing.md keeps the latest one.

use faultline::check::PropertyKind;
use faultline::scenario::{self, Scenario};
use faultline::sweep::{self, SweepOptions, SweepReport};
use std::path::Path;
use std::time::Instant;

/// (scenario file, correct variant, bug variants). Lock's `Lease` and
/// `NoExpiry` are the classic unsafe recipes: bugs here.
const PLAN: &[(&str, &str, &[&str])] = &[
    (
        "scenarios/heartbeat-nemesis.ron",
        "Correct",
        &["NeverSuspect", "NeverTrust", "NoSequence"],
    ),
    (
        "scenarios/heartbeat-pareto-crash.ron",
        "Correct",
        &["NeverSuspect", "NoSequence"],
    ),
    (
        "scenarios/lock-nemesis.ron",
        "LeaseFencing",
        &["NoExpiry", "Lease", "LeaseStaleRegrant"],
    ),
    (
        "scenarios/paxos-nemesis.ron",
        "Correct",
        &[
            "ForgetfulAcceptor",
            "IgnoreAcceptedValue",
            "MinorityQuorum",
            "ReuseBallot",
        ],
    ),
    (
        "scenarios/paxos-nemesis-proposer-restart.ron",
        "Correct",
        &[
            "ForgetfulAcceptor",
            "IgnoreAcceptedValue",
            "MinorityQuorum",
            "ReuseBallot",
        ],
    ),
    (
        "scenarios/paxos-nemesis-7-nodes.ron",
        "Correct",
        &[
            "ForgetfulAcceptor",
            "IgnoreAcceptedValue",
            "MinorityQuorum",
            "ReuseBallot",
        ],
    ),
];

/// The scenario with its protocol's `variant` set (replacing one written).
fn with_variant(file: &str, variant: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).expect("the scenario exists");
    let text = match text.find("variant: ") {
        Some(start) => {
            let end = start + text[start..].find([',', ')']).expect("a variant ends");
            format!("{}variant: {variant}{}", &text[..start], &text[end..])
        }
        None => {
            let open = text.find("protocol: ").expect("a protocol") + 10;
            let paren = open + text[open..].find('(').expect("a protocol block") + 1;
            format!("{}variant: {variant}, {}", &text[..paren], &text[paren..])
        }
    };
    scenario::parse(&text, file, &faultline::protocols::registry())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Whether the check named `check` in `file`'s protocol is a safety property.
fn is_safety(file: &str, check: &str) -> bool {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let scenario =
        scenario::load(&path, &faultline::protocols::registry()).unwrap_or_else(|e| panic!("{e}"));
    scenario
        .protocol
        .properties()
        .iter()
        .any(|p| p.name == check && p.kind == PropertyKind::Safety)
}

fn sweep_of(scenario: &Scenario, seeds: u64) -> SweepReport {
    let options = SweepOptions {
        seed_start: 0,
        seed_end: seeds,
        jobs: None,
        shard: None,
        stop_on_first: false,
        progress: false,
    };
    sweep::sweep(scenario, &options).expect("the sweep runs")
}

fn row(file: &str, variant: &str, report: &SweepReport, seconds: f64) -> String {
    let failing = report
        .outcomes
        .iter()
        .filter(|outcome| !outcome.failed.is_empty())
        .count();
    let checks: Vec<String> = report
        .failures_per_check
        .iter()
        .map(|(check, seeds)| format!("{check} {seeds}"))
        .collect();
    format!(
        "| {} | {variant} | {} | {failing} ({:.2}%) | {} | {seconds:.0} s |",
        file.trim_start_matches("scenarios/"),
        report.runs,
        100.0 * failing as f64 / report.runs as f64,
        if checks.is_empty() {
            "none".to_string()
        } else {
            checks.join(", ")
        }
    )
}

fn main() {
    // `cargo bench` passes `--bench`; counts are the plain numbers.
    let numbers: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let correct_seeds = numbers.first().copied().unwrap_or(100_000);
    let bug_seeds = numbers.get(1).copied().unwrap_or(10_000);
    println!("| scenario | variant | seeds | seeds failing a check | failures per check (seeds) | wall |");
    println!("|---|---|---|---|---|---|");
    let mut problems = Vec::new();
    for (file, correct, bugs) in PLAN {
        let started = Instant::now();
        let report = sweep_of(&with_variant(file, correct), correct_seeds);
        println!(
            "{}",
            row(file, correct, &report, started.elapsed().as_secs_f64())
        );
        // Safety may never fail under a correct variant. Liveness is promised
        // only once faults stop (partial synchrony), and a nemesis can keep
        // faulting for as long as a bound: those failures are counted in the
        // table, and the scenario states their rate.
        let safety_failures: Vec<&String> = report
            .failures_per_check
            .keys()
            .filter(|check| is_safety(file, check))
            .collect();
        if !safety_failures.is_empty() {
            problems.push(format!("{file} {correct}: {:?}", report.failures_per_check));
        }
        for bug in *bugs {
            let started = Instant::now();
            let report = sweep_of(&with_variant(file, bug), bug_seeds);
            println!(
                "{}",
                row(file, bug, &report, started.elapsed().as_secs_f64())
            );
        }
    }
    assert!(
        problems.is_empty(),
        "a correct variant failed a check: {problems:#?}"
    );
}
