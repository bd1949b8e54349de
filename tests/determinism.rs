//! The product's promise: the same scenario and seed give the same run, byte
//! for byte, whatever else is switched on.

mod common;

use common::{load, repo_path, run_in_memory};
use faultline::run::{self, RunOptions};
use faultline::scenario;

fn run_to(
    folder: &std::path::Path,
    file: &str,
    seed: Option<u64>,
    charts: bool,
) -> (Vec<u8>, String) {
    let scenario = load(file);
    let options = RunOptions {
        seed,
        out: folder.to_path_buf(),
        trace: true,
        charts,
        report: true,
        write: true,
        keep_trace: false,
    };
    let result = run::run(&scenario, &options).expect("run writes its folder");
    let written = result.folder.expect("a folder was written");
    let trace = std::fs::read(written.join("trace.jsonl")).expect("trace written");
    (trace, result.summary.trace_hash)
}

#[test]
fn same_scenario_and_seed_give_byte_identical_traces() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (trace_a, hash_a) = run_to(a.path(), "scenarios/heartbeat-partition.ron", None, true);
    let (trace_b, hash_b) = run_to(b.path(), "scenarios/heartbeat-partition.ron", None, false);
    assert!(!trace_a.is_empty());
    assert!(
        trace_a == trace_b,
        "traces differ between two runs of the same seed"
    );
    assert_eq!(hash_a, hash_b);
}

#[test]
fn the_trace_hash_is_the_same_whether_the_trace_is_written_or_not() {
    let folder = tempfile::tempdir().unwrap();
    let (_, written_hash) = run_to(
        folder.path(),
        "scenarios/heartbeat-crash-restart.ron",
        None,
        false,
    );
    let in_memory = run_in_memory(&load("scenarios/heartbeat-crash-restart.ron"), None);
    assert_eq!(written_hash, in_memory.summary.trace_hash);
}

#[test]
fn different_seeds_give_different_runs() {
    let scenario = load("scenarios/heartbeat-partition.ron");
    let hashes: Vec<String> = (0..4)
        .map(|seed| run_in_memory(&scenario, Some(seed)).summary.trace_hash)
        .collect();
    for (i, a) in hashes.iter().enumerate() {
        for b in &hashes[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn charts_do_not_change_the_run() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (with_charts, _) = run_to(a.path(), "scenarios/heartbeat-bridge.ron", Some(99), true);
    let (without_charts, _) = run_to(b.path(), "scenarios/heartbeat-bridge.ron", Some(99), false);
    assert!(with_charts == without_charts);
}

#[test]
fn a_nemesis_run_written_back_as_explicit_faults_replays_exactly() {
    let folder = tempfile::tempdir().unwrap();
    let scenario = load("scenarios/heartbeat-nemesis.ron");
    let options = RunOptions {
        seed: Some(1234),
        out: folder.path().to_path_buf(),
        trace: false,
        charts: false,
        report: false,
        write: true,
        keep_trace: false,
    };
    let original = run::run(&scenario, &options).unwrap();
    assert!(
        original.summary.faults.len() > 4,
        "the nemesis generated faults"
    );
    let written = original.folder.unwrap().join("scenario.ron");
    let explicit = scenario::load(&written, &faultline::protocols::registry())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(explicit.nemesis.is_none());
    assert_eq!(explicit.seed, 1234);
    assert_eq!(explicit.faults, original.summary.faults);
    let replayed = run_in_memory(&explicit, None);
    assert_eq!(replayed.summary.trace_hash, original.summary.trace_hash);
}

#[test]
fn memory_stays_flat_as_runs_get_longer() {
    // Pending events are the engine's only state that could grow with the
    // run; the trace streams to disk. A run four times longer must not need
    // more pending events.
    let text =
        std::fs::read_to_string(repo_path("scenarios/heartbeat-symmetric-partition.ron")).unwrap();
    let short = scenario::parse(
        &text.replace("duration: \"15s\"", "duration: \"12s\""),
        "short",
        &faultline::protocols::registry(),
    )
    .unwrap();
    let long = scenario::parse(
        &text.replace("duration: \"15s\"", "duration: \"48s\""),
        "long",
        &faultline::protocols::registry(),
    )
    .unwrap();
    let short_run = run_in_memory(&short, None);
    let long_run = run_in_memory(&long, None);
    assert!(long_run.summary.events > 3 * short_run.summary.events);
    assert!(
        long_run.summary.pending_events_max <= short_run.summary.pending_events_max + 5,
        "pending events grew with run length: {} vs {}",
        long_run.summary.pending_events_max,
        short_run.summary.pending_events_max
    );
}

#[test]
fn the_cli_self_check_confirms_a_run_is_deterministic() {
    let out = tempfile::tempdir().unwrap();
    let output = common::cli()
        .args([
            "run",
            "scenarios/paxos-nemesis.ron",
            "--seed",
            "77",
            "--check-determinism",
            "--no-charts",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("a second run gave the same trace hash")
    );
}

/// The trace writer writes the common events by hand and the rest through
/// serde; either way every line must be exactly what serde's derived
/// `Serialize` gives for the event, with the time in front. One event of
/// every kind, with Paxos payloads (tagged enums, nested structs, strings
/// that need escaping).
#[test]
fn every_kind_of_trace_line_is_exactly_the_serde_form_of_its_event() {
    use faultline::protocols::paxos::{
        Ballot, Paxos, PaxosMessage, PaxosObservation, PaxosTimer, Value,
    };
    use faultline::sim::network::DropReason;
    use faultline::sim::WorldView;
    use faultline::sim::{Latency, Observer, SimDuration, SimTime, TraceEvent, TraceWriter};

    let ballot = Ballot {
        round: 3,
        proposer: 4,
    };
    let value = Value::from("say \"hi\"\n\u{1}é");
    let prepare = PaxosMessage::Prepare { ballot };
    let promise = PaxosMessage::Promise {
        ballot,
        accepted: Some((ballot, value.clone())),
    };
    let timer = PaxosTimer::ClientValue(2);
    let observation = PaxosObservation::Learn {
        ballot,
        value: value.clone(),
    };
    let groups = vec![vec![0, 1], vec![2, 3, 4]];
    let durable = faultline::protocols::paxos::PaxosDurable {
        promised: Some(ballot),
        accepted: Some((ballot, value.clone())),
        round: 3,
        value: Some(value.clone()),
        learned: None,
    };
    let latency = Latency::Uniform {
        min: SimDuration::from_millis(1),
        max: SimDuration::from_millis(7),
    };
    let events: Vec<TraceEvent<'_, Paxos>> = vec![
        TraceEvent::Start { node: 0 },
        TraceEvent::Restart { node: 1 },
        TraceEvent::Crash { node: 2 },
        TraceEvent::Pause {
            node: 3,
            duration: SimDuration::from_millis(250),
        },
        TraceEvent::Resume { node: 3 },
        TraceEvent::Send {
            node: 0,
            to: 4,
            id: u64::MAX,
            message: &prepare,
        },
        TraceEvent::Duplicate {
            node: 0,
            to: 4,
            id: 7,
        },
        TraceEvent::Enqueue {
            node: 3,
            from: 0,
            id: 8,
        },
        TraceEvent::Deliver {
            node: 0,
            from: 4,
            id: 9,
            message: &promise,
        },
        TraceEvent::Drop {
            node: 1,
            from: 0,
            id: 10,
            reason: DropReason::CrashedDestination,
        },
        TraceEvent::Drop {
            node: 1,
            from: 0,
            id: 11,
            reason: DropReason::InboxOverflow,
        },
        TraceEvent::Timer {
            node: 2,
            timer: &timer,
        },
        TraceEvent::Observe {
            node: 2,
            local: faultline::sim::LocalTime::from_nanos(123),
            cause: None,
            deadline: None,
            observation: &observation,
        },
        TraceEvent::Observe {
            node: 2,
            local: faultline::sim::LocalTime::from_nanos(124),
            cause: Some(9),
            deadline: Some(SimTime::from_nanos(5_000)),
            observation: &observation,
        },
        TraceEvent::Persist {
            node: 2,
            durable: &durable,
        },
        TraceEvent::Join { node: 4 },
        TraceEvent::Leave { node: 4 },
        TraceEvent::Partition { groups: &groups },
        TraceEvent::Heal,
        TraceEvent::CutLink { from: 1, to: 2 },
        TraceEvent::RestoreLink { from: 1, to: 2 },
        TraceEvent::ClockDrift { node: 1, ppm: -250 },
        TraceEvent::ClockJump {
            node: 1,
            by: SimDuration::from_millis(40),
            backward: true,
        },
        TraceEvent::DegradeLink {
            from: 3,
            to: 0,
            duration: SimDuration::from_secs(1),
            drop: Some(0.35),
            latency: Some(&latency),
        },
        TraceEvent::DegradeEnd { from: 3, to: 0 },
        TraceEvent::End,
    ];
    let (network, statuses) = common::quiet_world(5);
    let world = WorldView {
        network: &network,
        statuses: &statuses,
    };
    for (step, event) in events.iter().enumerate() {
        let time = SimTime::from_nanos(1_000_000_007 * step as u64);
        let mut writer = TraceWriter::new(Some(Vec::new()));
        writer.observe(time, event, &world);
        let (written, _) = writer.finish().unwrap();
        let written = String::from_utf8(written.unwrap()).unwrap();
        let serde = serde_json::to_string(event).unwrap();
        let expected = format!("{{\"t\":{},{}\n", time.as_nanos(), &serde[1..]);
        assert_eq!(written, expected, "{event:?}");
        // The hash, taken over events in batches, is XXH3 over the event's
        // time and canonical encoding.
        let mut hashing = TraceWriter::<Vec<u8>>::new(None);
        hashing.observe(time, event, &world);
        let mut encoded = time.as_nanos().to_le_bytes().to_vec();
        faultline::sim::encode::encode(&mut encoded, event);
        let expected = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&encoded));
        assert_eq!(hashing.hash_hex(), expected, "{event:?}");
    }
}

#[test]
fn the_same_scenario_and_seed_give_byte_identical_report_pages() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let file = "scenarios/paxos-bug-minority-quorum.ron";
    run_to(a.path(), file, None, true);
    run_to(b.path(), file, None, true);
    let page = |folder: &std::path::Path| {
        std::fs::read(folder.join("paxos-bug-minority-quorum/seed-1/report.html")).unwrap()
    };
    // The summaries may differ (they hold wall-clock time); the pages may not.
    assert!(
        page(a.path()) == page(b.path()),
        "report.html differs between two runs"
    );
    let page = String::from_utf8(page(a.path())).unwrap();
    assert!(
        !page.contains(&a.path().display().to_string()),
        "no absolute path"
    );
}
