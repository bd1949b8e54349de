//! What a user gets, against what the engine alone and a bare event loop
//! get, measured side by side in one process so that every figure is also a
//! ratio that survives this machine's drift.
//!
//! For each heartbeat scenario (50 nodes for 60 s; with
//! `FAULTLINE_BENCH_1000=1`, also 1,000 nodes for 3 s):
//!
//! - **engine**: `Simulation::run` with an observer that does nothing;
//! - **engine + hash**: the same, hashing the trace (`TraceWriter` without a
//!   sink), no checks;
//! - **user path**: `run::run` as `faultline run --no-trace --no-charts
//!   --no-report` does it: checks judging every event, trace hashed, nothing
//!   written;
//! - **bare loop**: a `BinaryHeap` of (time, sequence) keys written here,
//!   holding the run's mean pending count and popping as many events as the
//!   run took from its queue, with one trivial state update per event.
//!
//! Then a sweep of 10,000 seeds of `scenarios/paxos-nemesis.ron` with two
//! jobs (what `faultline sweep --jobs 2` does), against the bare loop doing
//! all those runs' queue events on one thread at their mean pending count.
//!
//! First, the user path's peak memory on the 50-node run and on one four
//! times as long.
//!
//! The settings run in rounds, each round in a rotated order; each ratio is
//! the median of the rounds' ratios, and each time the median of its rounds.
//! `FAULTLINE_BENCH_ROUNDS=N` changes the number of rounds (default 7).
//!
//! Run: `cargo bench --bench user_path`.

mod common;

use common::{peak_rss_mib, reset_peak_rss, Nothing};
use faultline::harness::Harness;
use faultline::protocols::heartbeat::Heartbeat;
use faultline::protocols::paxos::Paxos;
use faultline::run::RunOptions;
use faultline::scenario::{self, Scenario};
use faultline::sim::{RunReport, Simulation, TraceWriter};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

fn load(file: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    scenario::load(&path, &faultline::protocols::registry()).unwrap_or_else(|e| panic!("{e}"))
}

fn rounds() -> usize {
    std::env::var("FAULTLINE_BENCH_ROUNDS")
        .ok()
        .map(|n| n.parse().expect("FAULTLINE_BENCH_ROUNDS takes a number"))
        .unwrap_or(7)
}

fn machine<H: Harness>(scenario: &Scenario) -> H {
    scenario
        .configured::<H>()
        .expect("the scenario runs this protocol")
        .machine()
        .clone()
}

/// The engine alone: the protocol, the network and the queue, nothing
/// watching.
fn engine<H: Harness>(scenario: &Scenario, machine: &H, seed: u64) -> RunReport {
    let config = faultline::run::simulation_config(scenario, seed);
    Simulation::new(machine.clone(), config).run(&mut Nothing)
}

/// The engine with the trace hashed and no checks.
fn engine_hashed<H: Harness>(scenario: &Scenario, machine: &H) -> RunReport {
    let config = faultline::run::simulation_config(scenario, scenario.seed);
    let mut trace = TraceWriter::<std::io::Sink>::new(None);
    let report = Simulation::new(machine.clone(), config).run(&mut trace);
    black_box(trace.finish().expect("nothing to write"));
    report
}

/// `faultline run --no-trace --no-charts --no-report`, minus printing.
fn user_path(scenario: &Scenario) -> u64 {
    let options = RunOptions {
        trace: false,
        charts: false,
        report: false,
        write: false,
        ..RunOptions::default()
    };
    let result = faultline::run::run(scenario, &options).expect("the run completes");
    assert!(result.summary.outcome_as_expected, "{:?}", result.summary);
    result.summary.events
}

/// A bare event loop: `pending` keys in a binary heap; each step pops the
/// earliest, bumps one node's counter and pushes a key 1-25 ms later (the
/// heartbeat's latency), `steps` times. Returns the seconds taken.
fn bare_loop(steps: u64, pending: usize, nodes: usize) -> f64 {
    let mut random = 0x9E37_79B9_7F4A_7C15u64;
    let mut delay = move || {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        1_000_000 + random % 24_000_000
    };
    let mut heap = BinaryHeap::with_capacity(pending + 1);
    for seq in 0..pending as u64 {
        heap.push(Reverse((delay(), seq)));
    }
    let mut counts = vec![0u64; nodes.max(1)];
    let started = Instant::now();
    for seq in pending as u64..pending as u64 + steps {
        let Reverse((time, key)) = heap.pop().expect("the heap never empties");
        let node = (key % counts.len() as u64) as usize;
        counts[node] += 1;
        heap.push(Reverse((time + delay(), seq)));
    }
    let seconds = started.elapsed().as_secs_f64();
    black_box(counts);
    seconds
}

fn timed<T>(work: impl FnOnce() -> T) -> (f64, T) {
    let started = Instant::now();
    let value = work();
    (started.elapsed().as_secs_f64(), value)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Times each setting once per round, the order rotated between rounds;
/// returns each setting's times.
fn interleaved(rounds: usize, settings: &mut [&mut dyn FnMut() -> f64]) -> Vec<Vec<f64>> {
    let mut times = vec![Vec::with_capacity(rounds); settings.len()];
    for round in 0..rounds {
        for offset in 0..settings.len() {
            let index = (round + offset) % settings.len();
            times[index].push(settings[index]());
        }
    }
    times
}

/// The median over rounds of `times[a][r] / times[b][r]`.
fn ratio(times: &[Vec<f64>], a: usize, b: usize) -> (f64, f64, f64) {
    let mut ratios: Vec<f64> = times[a].iter().zip(&times[b]).map(|(x, y)| x / y).collect();
    let mid = median(&mut ratios);
    (mid, ratios[0], ratios[ratios.len() - 1])
}

fn heartbeat(file: &str, rounds: usize) {
    let scenario = load(file);
    let machine: Heartbeat = machine(&scenario);
    let report = engine(&scenario, &machine, scenario.seed);
    let (events, steps) = (report.events, report.queue_events);
    let pending = report.pending_mean.round() as usize;
    let nodes = scenario.node_count as usize;
    println!(
        "{file}: {events} events, {steps} from the queue, {pending} pending on average (high water {})",
        report.pending_high_water
    );
    let mut run_engine = || timed(|| black_box(engine(&scenario, &machine, scenario.seed))).0;
    let mut run_hashed = || timed(|| black_box(engine_hashed(&scenario, &machine))).0;
    let mut run_user = || {
        let (seconds, user_events) = timed(|| user_path(&scenario));
        assert_eq!(user_events, events, "the user path runs the same events");
        seconds
    };
    let mut run_bare = || bare_loop(steps, pending, nodes);
    let mut times = interleaved(
        rounds,
        &mut [
            &mut run_engine,
            &mut run_hashed,
            &mut run_user,
            &mut run_bare,
        ],
    );
    let names = ["engine", "engine + hash", "user path", "bare loop"];
    for (name, seconds) in names.iter().zip(times.iter_mut()) {
        let seconds = median(&mut seconds.clone());
        println!(
            "  {name:>13}: {seconds:.3} s, {:.2} M events/s, {:.2} M queue events/s",
            events as f64 / seconds / 1e6,
            steps as f64 / seconds / 1e6
        );
    }
    for (label, a, b) in [
        ("user path / engine", 2, 0),
        ("engine + hash / engine", 1, 0),
        ("engine / bare loop", 0, 3),
        ("user path / bare loop", 2, 3),
    ] {
        let (mid, low, high) = ratio(&times, a, b);
        println!(
            "  {label}: {mid:.2}x (rounds {low:.2}x to {high:.2}x; lower is faster for the first)"
        );
    }
}

fn sweep(rounds: usize) {
    let file = "scenarios/paxos-nemesis.ron";
    let scenario = load(file);
    let machine: Paxos = machine(&scenario);
    let seeds = 10_000u64;
    // The runs' queue events and mean pending count, from the engine alone.
    let (mut steps, mut pending_sum) = (0u64, 0.0);
    for seed in 0..seeds {
        let report = engine(&scenario, &machine, seed);
        steps += report.queue_events;
        pending_sum += report.pending_mean * report.queue_events as f64;
    }
    let pending = (pending_sum / steps as f64).round() as usize;
    println!("{file}, seeds 0..{seeds}: {steps} queue events, {pending} pending on average");
    let options = faultline::sweep::SweepOptions {
        seed_start: 0,
        seed_end: seeds,
        jobs: Some(2),
        shard: None,
        stop_on_first: false,
        progress: false,
    };
    let mut run_sweep = || {
        let (seconds, report) =
            timed(|| faultline::sweep::sweep(&scenario, &options).expect("the sweep runs"));
        assert_eq!(report.as_expected, seeds);
        seconds
    };
    let mut run_bare = || bare_loop(steps, pending, scenario.node_count as usize);
    let times = interleaved(rounds, &mut [&mut run_sweep, &mut run_bare]);
    let sweep_seconds = median(&mut times[0].clone());
    let bare_seconds = median(&mut times[1].clone());
    let (mid, low, high) = ratio(&times, 0, 1);
    println!(
        "  sweep --jobs 2: {sweep_seconds:.3} s ({:.0} runs/s); bare loop, one thread: {bare_seconds:.3} s; sweep / bare loop {mid:.2}x (rounds {low:.2}x to {high:.2}x)",
        seeds as f64 / sweep_seconds
    );
}

/// The user path's peak memory for the 50-node run at its length and four
/// times as long: what a run holds is bounded by its pending events, not
/// its length.
fn memory() {
    let mut scenario = load("benches/heartbeat-50-nodes.ron");
    for factor in [1, 4] {
        if factor > 1 {
            scenario.duration = faultline::sim::SimDuration::from_secs(60 * factor);
        }
        reset_peak_rss();
        let events = user_path(&scenario);
        println!(
            "memory: user path, {} s simulated ({events} events): peak RSS {:.1} MiB",
            60 * factor,
            peak_rss_mib().unwrap_or(f64::NAN)
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a name filter is not supported.
    // First, while the process's peak is still its own.
    memory();
    let rounds = rounds();
    heartbeat("benches/heartbeat-50-nodes.ron", rounds);
    if std::env::var_os("FAULTLINE_BENCH_1000").is_some() {
        heartbeat("benches/heartbeat-1000-nodes.ron", rounds.min(3));
    }
    sweep(rounds);
}
