//! Runs the benchmark scenario once with the trace off (or on, with `trace`),
//! for profilers: `cargo run --profile bench --example profile_engine [trace]`;
//! with `paxos`, 20,000 complete Paxos runs with a random nemesis instead.

use faultline::harness::{Judge, RunSetup};
use faultline::node::Protocol;
use faultline::protocols::paxos::{Paxos, PaxosJudge};
use faultline::scenario;
use faultline::sim::{Observer, SimTime, Simulation, TraceEvent, TraceWriter, WorldView};
use std::path::Path;

struct Nothing;
impl<P: Protocol> Observer<P> for Nothing {
    fn observe(&mut self, _: SimTime, _: &TraceEvent<'_, P>, _: &WorldView<'_>) {}
}

/// 20,000 complete Paxos runs of `benches/paxos-5-nodes-nemesis.ron` (or
/// `file=PATH`), one seed each; `runs=N` changes the count, `checks` adds the
/// Paxos checks, `stats` prints the queue's sizes.
fn paxos() {
    let path = std::env::args()
        .find_map(|a| a.strip_prefix("file=").map(std::path::PathBuf::from))
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/paxos-5-nodes-nemesis.ron")
        });
    let scenario =
        scenario::load(&path, &faultline::protocols::registry()).unwrap_or_else(|e| panic!("{e}"));
    let configured = scenario
        .configured::<Paxos>()
        .expect("the Paxos benchmark scenario runs Paxos");
    let protocol = configured.machine().clone();
    let specs = configured.check_specs().to_vec();
    let started = std::time::Instant::now();
    // `runs=N` overrides the count (smaller counts suit callgrind).
    let runs = std::env::args()
        .find_map(|a| {
            a.strip_prefix("runs=")
                .map(|n| n.parse().expect("runs=N takes a number"))
        })
        .unwrap_or(20_000u64);
    // `checks` runs the scenario's Paxos checks as the observer.
    let checks = std::env::args().any(|a| a == "checks");
    let mut messages = 0;
    let (mut pending_max, mut pending_sum, mut queue_events) = (0, 0, 0);
    for seed in 0..runs {
        let config = faultline::run::simulation_config(&scenario, seed);
        let report = if checks {
            let absent = vec![false; scenario.node_count as usize];
            let setup = RunSetup {
                node_count: scenario.node_count,
                seed,
                duration: scenario.duration,
                faults: &config.faults,
                faults_end: faultline::run::faults_end(&config.faults),
                latency_max: scenario.network.latency.bound(),
                absent: &absent,
            };
            let mut judge = PaxosJudge::new(&protocol, &specs, &setup);
            let report = Simulation::new(protocol.clone(), config.clone()).run(&mut judge);
            judge.reports(report.end);
            report
        } else {
            Simulation::new(protocol.clone(), config).run(&mut Nothing)
        };
        messages += report.messages.sent;
        pending_max = pending_max.max(report.pending_high_water);
        pending_sum += report.pending_high_water;
        queue_events += report.queue_events;
    }
    if std::env::args().any(|a| a == "stats") {
        println!(
            "pending high water: mean {:.1}, max {pending_max}; queue events per run {:.1}",
            pending_sum as f64 / runs as f64,
            queue_events as f64 / runs as f64
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{runs} paxos runs, {} messages each, {:.0} runs/s",
        messages / runs,
        runs as f64 / seconds
    );
}

fn main() {
    if std::env::args().any(|a| a == "paxos") {
        return paxos();
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/heartbeat-50-nodes.ron");
    let scenario =
        scenario::load(&path, &faultline::protocols::registry()).unwrap_or_else(|e| panic!("{e}"));
    let protocol = scenario
        .configured::<faultline::protocols::heartbeat::Heartbeat>()
        .expect("the benchmark scenario runs the heartbeat protocol")
        .machine()
        .clone();
    let config = faultline::run::simulation_config(&scenario, scenario.seed);
    let started = std::time::Instant::now();
    let report = if std::env::args().any(|a| a == "trace") {
        let mut trace = TraceWriter::new(Some(std::io::sink()));
        let report = Simulation::new(protocol, config).run(&mut trace);
        println!("trace hash {}", trace.hash_hex());
        report
    } else {
        Simulation::new(protocol, config).run(&mut Nothing)
    };
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} events ({} from the queue) in {:.3}s: {:.2} M events/s",
        report.events,
        report.queue_events,
        seconds,
        report.events as f64 / seconds / 1e6
    );
}
