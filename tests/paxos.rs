//! Paxos: the correct protocol stays safe and live under generated and random
//! faults, and each known-bug variant is caught by the checks, on its own
//! scenario and within a measured number of random seeds.

mod common;

use common::{load, repo_path, report_of, run_in_memory, sanitize, with_variant};
use faultline::check::Verdict;
use faultline::protocols::paxos::PaxosJudge;
use faultline::protocols::paxos::{ClientValue, Paxos, PaxosCheck, PaxosVariant};
use faultline::scenario::{self, Scenario};
use faultline::sim::{
    Latency, NetworkConfig, Observers, SimDuration, Simulation, SimulationConfig,
};
use proptest::prelude::*;

const SAFETY: [&str; 4] = ["Agreement", "Validity", "Integrity", "OneValuePerBallot"];

fn unsafe_run(scenario: &Scenario, seed: u64) -> bool {
    run_in_memory(scenario, Some(seed))
        .reports
        .iter()
        .any(|r| SAFETY.contains(&r.name) && r.verdict == Verdict::Fail)
}

/// Runs seeds 0, 1, 2... and returns the first one the safety checks catch.
fn first_caught_seed(scenario: &Scenario, limit: u64) -> Option<u64> {
    (0..limit).find(|&seed| unsafe_run(scenario, seed))
}

/// Runs `file` with the bug `variant` planted until a seed breaks safety.
fn assert_caught_within(file: &str, variant: &str, limit: u64) {
    let seed = first_caught_seed(&with_variant(file, variant), limit);
    assert!(seed.is_some(), "{variant} survived {limit} seeds of {file}");
}

// The seed limits below come from measurement over seeds 0..2000 (2026-11-25):
// on paxos-nemesis.ron, ForgetfulAcceptor breaks safety in 46 seeds (first
// 109), IgnoreAcceptedValue in 951 (first 0), MinorityQuorum in 142 (first
// 16), ReuseBallot in none; on paxos-nemesis-proposer-restart.ron ReuseBallot
// breaks it in 5 (first 128). The correct variant: in none of either. Each
// limit leaves several times the measured gap, so a benign change in the
// random streams does not flip the test, while a check that stops catching
// its bug does.

#[test]
fn forgetful_acceptor_is_caught_within_1000_random_seeds() {
    assert_caught_within("scenarios/paxos-nemesis.ron", "ForgetfulAcceptor", 1000);
}

#[test]
fn ignore_accepted_value_is_caught_within_50_random_seeds() {
    assert_caught_within("scenarios/paxos-nemesis.ron", "IgnoreAcceptedValue", 50);
}

#[test]
fn minority_quorum_is_caught_within_300_random_seeds() {
    assert_caught_within("scenarios/paxos-nemesis.ron", "MinorityQuorum", 300);
}

#[test]
fn reuse_ballot_is_caught_within_3000_random_seeds() {
    let scenario = with_variant(
        "scenarios/paxos-nemesis-proposer-restart.ron",
        "ReuseBallot",
    );
    let seed = first_caught_seed(&scenario, 3000);
    assert!(
        seed.is_some(),
        "ReuseBallot survived 3000 seeds of the nemesis"
    );
    // And it is OneValuePerBallot that sees it (a learner may not diverge).
    let result = run_in_memory(&scenario, seed);
    let check = report_of(&result, "OneValuePerBallot");
    assert_eq!(check.verdict, Verdict::Fail, "{}", check.detail);
}

#[test]
fn the_correct_variant_passes_every_check_under_both_nemeses() {
    for file in [
        "scenarios/paxos-nemesis.ron",
        "scenarios/paxos-nemesis-proposer-restart.ron",
    ] {
        let scenario = load(file);
        for seed in 0..400 {
            let result = run_in_memory(&scenario, Some(seed));
            for report in &result.reports {
                assert_eq!(
                    report.verdict,
                    Verdict::Pass,
                    "{file} seed {seed}: {}: {}",
                    report.name,
                    report.detail
                );
            }
        }
    }
}

#[test]
fn each_bug_scenario_passes_with_the_correct_variant() {
    for file in [
        "scenarios/paxos-bug-forgetful-acceptor.ron",
        "scenarios/paxos-bug-ignore-accepted-value.ron",
        "scenarios/paxos-bug-minority-quorum.ron",
        "scenarios/paxos-bug-reuse-ballot.ron",
    ] {
        let buggy = run_in_memory(&load(file), None);
        let agreement = report_of(&buggy, "Agreement");
        assert_eq!(agreement.verdict, Verdict::Fail, "{file}");
        assert!(
            agreement.detail.contains("learned"),
            "{file}: the detail names who learned what: {}",
            agreement.detail
        );
        let fixed = run_in_memory(&with_variant(file, "Correct"), None);
        for report in &fixed.reports {
            assert_eq!(
                report.verdict,
                Verdict::Pass,
                "{file} with the correct variant: {}: {}",
                report.name,
                report.detail
            );
        }
    }
}

#[test]
fn a_majority_loss_delays_the_decision_until_the_heal() {
    let result = run_in_memory(&load("scenarios/paxos-majority-loss.ron"), None);
    let liveness = report_of(&result, "DecidesWithin");
    assert_eq!(liveness.verdict, Verdict::Pass);
    // Chosen only after the heal at 1.5s, under a ballot many rounds in.
    let chosen_at: f64 = liveness
        .detail
        .split(" at ")
        .nth(1)
        .unwrap()
        .split('s')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(chosen_at > 1.5 && chosen_at < 2.0, "{}", liveness.detail);
}

#[test]
fn decides_within_fails_when_no_value_is_chosen_in_time() {
    // With a round timeout far longer than the bound, the first round after
    // the heal starts too late: the check must fail. With a partition that
    // never heals, no majority is reachable and it must say it cannot judge.
    let text = std::fs::read_to_string(repo_path("scenarios/paxos-majority-loss.ron")).unwrap();
    let slow = text
        .replace("round_timeout: \"100ms\"", "round_timeout: \"5s\"")
        .replace("duration: \"3s\"", "duration: \"8s\"");
    let result = run_in_memory(
        &scenario::parse(&slow, "slow", &faultline::protocols::registry()).unwrap(),
        None,
    );
    let liveness = report_of(&result, "DecidesWithin");
    assert_eq!(liveness.verdict, Verdict::Fail, "{}", liveness.detail);
    assert!(
        liveness.detail.contains("no value chosen within 500ms"),
        "{}",
        liveness.detail
    );
    let permanent = text.replace("        (at: \"1500ms\", fault: Heal),\n", "");
    let result = run_in_memory(
        &scenario::parse(&permanent, "permanent", &faultline::protocols::registry()).unwrap(),
        None,
    );
    let liveness = report_of(&result, "DecidesWithin");
    assert_eq!(liveness.verdict, Verdict::Pass);
    assert!(
        liveness.detail.contains("not judged"),
        "{}",
        liveness.detail
    );
}

fn values_for(proposers: &[u32], times: &[u64]) -> Vec<ClientValue> {
    proposers
        .iter()
        .zip(times)
        .enumerate()
        .map(|(i, (&node, &ms))| ClientValue {
            node,
            at: SimDuration::from_millis(ms),
            value: ((b'A' + i as u8) as char).to_string().into(),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random fault schedules (partitions including one-way cuts, crashes and
    /// restarts, pauses, clock drift and jumps, degraded links) with loss and
    /// duplication, over 3, 5 and 7 nodes: the correct variant never breaks a
    /// safety check, and once the faults stop it decides within the bound.
    #[test]
    fn the_correct_variant_is_safe_and_live_under_generated_faults(
        nodes in prop::sample::select(vec![3u32, 5, 7]),
        proposer_count in 1..4usize,
        value_times in prop::collection::vec(0..600u64, 3),
        raw in prop::collection::vec((0..2500u64, common::raw_fault(false)), 0..24),
        drop in 0.0..0.2f64,
        duplicate in 0.0..0.2f64,
        seed in any::<u64>(),
    ) {
        let proposers: Vec<u32> = (0..proposer_count as u32).map(|i| (i * 2) % nodes).collect();
        let mut proposers_unique = proposers.clone();
        proposers_unique.dedup();
        let protocol = Paxos {
            proposers: proposers_unique.clone(),
            acceptors: (0..nodes).collect(),
            values: values_for(&proposers_unique, &value_times),
            round_timeout: SimDuration::from_millis(100),
            backoff_min: SimDuration::from_millis(5),
            backoff_max: SimDuration::from_millis(60),
            variant: PaxosVariant::Correct,
        };
        let mut faults = sanitize(nodes, raw);
        // Every partition and cut heals at 3s, so the end of the run is quiet.
        faults.push(faultline::sim::ScheduledFault { at: faultline::sim::SimTime::from_nanos(3_000_000_000), fault: faultline::sim::Fault::Heal });
        let network = NetworkConfig {
            latency: Latency::Uniform { min: SimDuration::from_millis(1), max: SimDuration::from_millis(30) },
            drop,
            duplicate,
            fifo: false,
        };
        let config = SimulationConfig {
            seed,
            node_count: nodes,
            duration: SimDuration::from_secs(8),
            network,
            faults: faults.clone(),
            events_max: 10_000_000,
            pending_max: 1_000_000,
            inbox_max: 10_000,
        };
        let hand = common::HandSetup::new(nodes, faults.clone());
        let checks = [
            PaxosCheck::Agreement,
            PaxosCheck::Validity,
            PaxosCheck::Integrity,
            PaxosCheck::OneValuePerBallot,
            PaxosCheck::DecidesWithin(faultline::harness::HumanDuration(std::time::Duration::from_secs(3))),
        ];
        let mut judge = PaxosJudge::new(&protocol, &checks, &hand.setup());
        let mut observers = Observers::new();
        observers.push(&mut judge);
        let report = Simulation::new(protocol, config).run(&mut observers);
        drop_observers(observers);
        for check in faultline::harness::Judge::reports(&mut judge, report.end) {
            prop_assert_eq!(check.verdict, Verdict::Pass, "{}: {}", check.name, check.detail);
        }
    }
}

fn drop_observers<P: faultline::node::Protocol>(_observers: Observers<'_, P>) {}

/// Feeds the judge a sequence of observations, as a buggy learner would make them.
fn judge_of(
    events: &[(u64, u32, faultline::protocols::paxos::PaxosObservation)],
) -> Vec<faultline::check::CheckReport> {
    use faultline::sim::{Observer, SimTime, TraceEvent, WorldView};
    let protocol = Paxos {
        proposers: vec![0],
        acceptors: vec![0, 1, 2],
        values: values_for(&[0], &[0]),
        round_timeout: SimDuration::from_millis(100),
        backoff_min: SimDuration::from_millis(5),
        backoff_max: SimDuration::from_millis(10),
        variant: PaxosVariant::Correct,
    };
    let (network, statuses) = common::quiet_world(3);
    let world = WorldView {
        network: &network,
        statuses: &statuses,
    };
    let hand = common::HandSetup::new(3, Vec::new());
    let checks = [
        PaxosCheck::Agreement,
        PaxosCheck::Validity,
        PaxosCheck::Integrity,
    ];
    let mut judge = PaxosJudge::new(&protocol, &checks, &hand.setup());
    for (ms, node, observation) in events {
        let at = SimTime::from_nanos(ms * 1_000_000);
        judge.observe(
            at,
            &TraceEvent::Observe {
                node: *node,
                local: faultline::sim::LocalTime::from_nanos(at.as_nanos()),
                cause: None,
                deadline: None,
                observation,
            },
            &world,
        );
    }
    faultline::harness::Judge::reports(&mut judge, SimTime::from_nanos(1_000_000_000))
}

#[test]
fn validity_catches_a_learner_that_invents_a_value() {
    use faultline::protocols::paxos::{Ballot, PaxosObservation as O};
    let ballot = Ballot {
        round: 1,
        proposer: 0,
    };
    // A majority accepted "Z" (it is chosen, so the learn is no Integrity
    // matter), but no client proposed it.
    let accept = |node| {
        (
            3,
            node,
            O::Accept {
                ballot,
                value: "Z".into(),
            },
        )
    };
    let reports = judge_of(&[
        (1, 0, O::ClientValue { value: "A".into() }),
        accept(0),
        accept(2),
        (
            5,
            1,
            O::Learn {
                ballot,
                value: "Z".into(),
            },
        ),
    ]);
    let validity = reports.iter().find(|r| r.name == "Validity").unwrap();
    assert_eq!(validity.verdict, Verdict::Fail);
    assert!(
        validity.detail.contains("\"Z\"") && validity.detail.contains("node 1"),
        "{}",
        validity.detail
    );
    assert!(reports
        .iter()
        .filter(|r| r.name != "Validity")
        .all(|r| r.verdict == Verdict::Pass));
}

#[test]
fn integrity_catches_a_learner_that_learns_twice() {
    use faultline::protocols::paxos::{Ballot, PaxosObservation as O};
    let ballot = Ballot {
        round: 1,
        proposer: 0,
    };
    let accept = |node| {
        (
            3,
            node,
            O::Accept {
                ballot,
                value: "A".into(),
            },
        )
    };
    let reports = judge_of(&[
        (1, 0, O::ClientValue { value: "A".into() }),
        accept(0),
        accept(1),
        (
            5,
            2,
            O::Learn {
                ballot,
                value: "A".into(),
            },
        ),
        (
            9,
            2,
            O::Learn {
                ballot,
                value: "A".into(),
            },
        ),
    ]);
    let integrity = reports.iter().find(|r| r.name == "Integrity").unwrap();
    assert_eq!(integrity.verdict, Verdict::Fail);
    assert!(
        integrity.detail.contains("node 2 learned twice"),
        "{}",
        integrity.detail
    );
    // Learning the same value twice is no disagreement.
    assert!(
        reports
            .iter()
            .find(|r| r.name == "Agreement")
            .unwrap()
            .verdict
            == Verdict::Pass
    );
}
