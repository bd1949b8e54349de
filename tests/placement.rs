//! Placement schemes: lookups agree with a brute-force reference, the ring
//! moves only what it must, and balance and movement match the theory.

mod common;

use faultline::node::NodeId;
use faultline::protocols::hashing::placement::{
    balance, key_hash, key_name, moved_fraction, Placement, Scheme,
};
use proptest::prelude::*;

fn hashes(count: u64) -> Vec<u64> {
    (0..count)
        .map(|i| key_hash(key_name(i).as_bytes()))
        .collect()
}

/// The ring by definition: the first virtual node at or after the key,
/// wrapping around, found by scanning every point.
fn reference_primary(members: &[NodeId], vnodes: u32, hash: u64) -> NodeId {
    let mut points: Vec<(u64, NodeId)> = members
        .iter()
        .flat_map(|&n| {
            (0..vnodes).map(move |v| (key_hash(format!("node-{n}-vnode-{v}").as_bytes()), n))
        })
        .collect();
    points.sort_unstable();
    points
        .iter()
        .find(|(p, _)| *p >= hash)
        .or(points.first())
        .unwrap()
        .1
}

fn members() -> impl Strategy<Value = Vec<NodeId>> {
    prop::collection::btree_set(0..500u32, 2..20).prop_map(|s| s.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn ring_lookups_agree_with_the_brute_force_reference(members in members(), vnodes in 1..50u32, keys in prop::collection::vec(any::<u64>(), 1..50)) {
        let ring = Placement::new(Scheme::Ring { vnodes }, &members);
        for hash in keys {
            prop_assert_eq!(ring.primary(hash), Some(reference_primary(&members, vnodes, hash)));
        }
    }

    #[test]
    fn adding_a_node_moves_keys_only_to_it(members in members(), vnodes in 1..60u32, newcomer in 500..600u32) {
        let before = Placement::new(Scheme::Ring { vnodes }, &members);
        let mut grown = members.clone();
        grown.push(newcomer);
        let after = Placement::new(Scheme::Ring { vnodes }, &grown);
        for hash in hashes(2000) {
            let (old, new) = (before.primary(hash), after.primary(hash));
            prop_assert!(old == new || new == Some(newcomer), "a key moved from {:?} to {:?}", old, new);
        }
    }

    #[test]
    fn removing_a_node_moves_only_its_keys(members in members(), vnodes in 1..60u32, pick in any::<prop::sample::Index>()) {
        let leaving = members[pick.index(members.len())];
        let before = Placement::new(Scheme::Ring { vnodes }, &members);
        let rest: Vec<NodeId> = members.iter().copied().filter(|&n| n != leaving).collect();
        let after = Placement::new(Scheme::Ring { vnodes }, &rest);
        for hash in hashes(2000) {
            let (old, new) = (before.primary(hash), after.primary(hash));
            prop_assert!(old == new || old == Some(leaving), "a key of {:?} moved", old);
        }
    }

    #[test]
    fn owners_are_distinct_and_start_with_the_primary(members in members(), r in 1..5usize, hash in any::<u64>()) {
        for scheme in [Scheme::Ring { vnodes: 20 }, Scheme::Modulo, Scheme::Rendezvous] {
            let placement = Placement::new(scheme, &members);
            let owners = placement.owners(hash, r);
            prop_assert_eq!(owners.len(), r.min(members.len()));
            prop_assert_eq!(owners.first().copied(), placement.primary(hash));
            let mut unique = owners.clone();
            unique.sort_unstable();
            unique.dedup();
            prop_assert_eq!(unique.len(), owners.len());
        }
    }

    #[test]
    fn rendezvous_moves_keys_only_to_a_newcomer(members in members(), newcomer in 500..600u32) {
        let before = Placement::new(Scheme::Rendezvous, &members);
        let mut grown = members.clone();
        grown.push(newcomer);
        let after = Placement::new(Scheme::Rendezvous, &grown);
        for hash in hashes(1000) {
            let (old, new) = (before.primary(hash), after.primary(hash));
            prop_assert!(old == new || new == Some(newcomer));
        }
    }
}

#[test]
fn ring_balance_follows_one_over_the_square_root_of_vnodes() {
    // 10 nodes, 200,000 keys: sampling noise in the CV is about 0.7%, well
    // under the spread being measured. Theory: CV close to 1/sqrt(v).
    let members: Vec<NodeId> = (0..10).collect();
    let keys = hashes(200_000);
    for (vnodes, low, high) in [(100u32, 0.06, 0.14), (1000, 0.015, 0.05)] {
        let stats = balance(&Placement::new(Scheme::Ring { vnodes }, &members), &keys);
        let theory = 1.0 / (vnodes as f64).sqrt();
        assert!(
            stats.cv > low && stats.cv < high,
            "{vnodes} vnodes: cv {:.4}, theory {theory:.4}",
            stats.cv
        );
    }
    let one = balance(&Placement::new(Scheme::Ring { vnodes: 1 }, &members), &keys);
    assert!(
        one.max_over_mean > 1.5,
        "a single point per node is badly balanced: {}",
        one.max_over_mean
    );
    let thousand = balance(
        &Placement::new(Scheme::Ring { vnodes: 1000 }, &members),
        &keys,
    );
    assert!(thousand.max_over_mean < 1.1, "{}", thousand.max_over_mean);
}

#[test]
fn consistent_schemes_move_about_one_nth_and_modulo_moves_most() {
    let keys = hashes(100_000);
    let ten: Vec<NodeId> = (0..10).collect();
    let eleven: Vec<NodeId> = (0..11).collect();
    let moved = |scheme| {
        moved_fraction(
            &Placement::new(scheme, &ten),
            &Placement::new(scheme, &eleven),
            &keys,
        )
    };
    let ring = moved(Scheme::Ring { vnodes: 200 });
    let rendezvous = moved(Scheme::Rendezvous);
    let modulo = moved(Scheme::Modulo);
    // A join of the 11th node should move 1/11 = 9.1% of keys.
    assert!((0.06..0.13).contains(&ring), "ring moved {ring}");
    assert!(
        (0.08..0.10).contains(&rendezvous),
        "rendezvous moved {rendezvous}"
    );
    assert!(modulo > 0.85, "modulo moved {modulo}");
}

mod scenarios {
    use faultline::check::Verdict;
    use faultline::run::{self, RunOptions};
    use faultline::scenario;

    fn run_text(text: &str) -> faultline::run::RunResult {
        let scenario = scenario::parse(text, "test", &faultline::protocols::registry())
            .unwrap_or_else(|e| panic!("{e}"));
        run::run(
            &scenario,
            &RunOptions {
                write: false,
                ..RunOptions::default()
            },
        )
        .unwrap()
    }

    fn read(file: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
            .unwrap()
    }

    #[test]
    fn converges_fails_when_the_bound_is_shorter_than_a_heartbeat() {
        // Views can only agree again once a heartbeat crosses the healed
        // partition: a 10ms bound against a 100ms interval must fail.
        let text = read("scenarios/hashing-partition.ron")
            .replace("Converges(\"1s\")", "Converges(\"10ms\")");
        let result = run_text(&text);
        let converges = result
            .reports
            .iter()
            .find(|r| r.name == "Converges")
            .unwrap();
        assert_eq!(converges.verdict, Verdict::Fail, "{}", converges.detail);
    }

    #[test]
    fn a_partition_makes_the_views_disagree_and_the_heal_ends_it() {
        let result = run_text(&read("scenarios/hashing-partition.ron"));
        let converges = result
            .reports
            .iter()
            .find(|r| r.name == "Converges")
            .unwrap();
        assert!(
            converges.detail.contains("peak disagreement 100.0%"),
            "{}",
            converges.detail
        );
    }

    #[test]
    fn join_and_leave_survive_being_written_back_as_a_plain_scenario() {
        let scenario = scenario::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("scenarios/hashing-join-leave-ring.ron"),
            &faultline::protocols::registry(),
        )
        .unwrap();
        let faults = run::faults_for_seed(&scenario, scenario.seed);
        let text = scenario::to_ron(&scenario.explicit_file(scenario.seed, &faults));
        assert!(text.contains("Join(") && text.contains("Leave("), "{text}");
        let original = run_text(&read("scenarios/hashing-join-leave-ring.ron"));
        let reloaded = run_text(&text);
        assert_eq!(original.summary.trace_hash, reloaded.summary.trace_hash);
        assert_eq!(original.summary.outcome, reloaded.summary.outcome);
    }
}

/// A node that joins later is in no view before it joins (the views once
/// included it for about a timeout, as if it had crashed at time zero), and
/// the trace shows its arrival and departure as `join` and `leave`.
#[test]
fn no_view_includes_a_node_before_it_joins() {
    let scenario = common::load("scenarios/hashing-join-leave-ring.ron");
    let run = common::traced_run(&scenario, scenario.seed);
    let join_at = 3_000_000_000u64;
    let mut views_before = 0;
    let mut kinds = Vec::new();
    for line in &run.lines {
        let t = line["t"].as_u64().unwrap();
        let kind = line["kind"].as_str().unwrap();
        if kind == "join" || kind == "leave" {
            kinds.push((kind.to_string(), line["node"].as_u64().unwrap(), t));
        }
        if kind == "start" {
            assert_ne!(line["node"], 10, "node 10 starts only when it joins");
        }
        let observation = &line["observation"];
        if observation["what"] == "view" && t < join_at {
            views_before += 1;
            let members = observation["members"].as_array().unwrap();
            assert!(
                !members.iter().any(|m| m == 10),
                "a view at {t} includes node 10 before it joins: {line}"
            );
        }
    }
    assert!(views_before >= 10, "every node reports its view at start");
    assert_eq!(
        kinds,
        vec![
            ("join".to_string(), 10, join_at),
            ("leave".to_string(), 3, 6_000_000_000)
        ]
    );
}
