//! Shared test helpers: scenario runners and a small protocol that exercises
//! every engine feature (bursts of messages, same-instant timers, durable state).
#![allow(dead_code)]

use faultline::node::NodeId as Node;
use faultline::node::{Context, NodeId, Protocol};
use faultline::run::{self, RunOptions, RunResult};
use faultline::scenario::{self, Scenario};
use faultline::sim::SimDuration;
use faultline::sim::{Fault, Latency, NetworkConfig, ScheduledFault, SimTime};
use proptest::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

pub fn load(relative: &str) -> Scenario {
    scenario::load(&repo_path(relative), &registry()).unwrap_or_else(|e| panic!("{e}"))
}

/// The built-in protocols.
pub fn registry() -> scenario::Registry {
    faultline::protocols::registry()
}

/// Parses scenario text with the built-in protocols.
pub fn parse(text: &str, label: &str) -> Result<Scenario, scenario::ScenarioError> {
    scenario::parse(text, label, &registry())
}

/// The `faultline` binary, started in the repository (so paths like
/// `scenarios/...` resolve).
pub fn cli() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

/// Runs without writing anything; the trace is still hashed.
pub fn run_in_memory(scenario: &Scenario, seed: Option<u64>) -> RunResult {
    let options = RunOptions {
        seed,
        write: false,
        ..RunOptions::default()
    };
    run::run(scenario, &options).expect("in-memory runs cannot fail to write")
}

/// The report of check `name` in a run's result (the check must be in the scenario).
pub fn report_of<'a>(result: &'a RunResult, name: &str) -> &'a faultline::check::CheckReport {
    result
        .reports
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("the run has no {name} report"))
}

/// The scenario file with its protocol variant replaced (or, for Paxos, set).
pub fn with_variant(file: &str, variant: &str) -> Scenario {
    let text = std::fs::read_to_string(repo_path(file)).unwrap();
    // The protocol block's `variant:` (not a mention in a comment), ended
    // by a comma or by the block's closing parenthesis.
    let block = text
        .find("protocol: ")
        .expect("a scenario names its protocol");
    let text = match text[block..].find("variant: ").map(|at| block + at) {
        Some(start) => {
            let end = start + text[start..].find([',', ')']).unwrap();
            format!("{}variant: {variant}{}", &text[..start], &text[end..])
        }
        None => {
            let open = block + text[block..].find('(').expect("a protocol block") + 1;
            format!("{}variant: {variant}, {}", &text[..open], &text[open..])
        }
    };
    parse(&text, file).unwrap_or_else(|e| panic!("{e}"))
}

/// A fully connected network and all-up statuses, for feeding a judge
/// observations by hand: build `WorldView { network: &net, statuses: &up }`.
pub fn quiet_world(
    nodes: u32,
) -> (
    faultline::sim::network::Network,
    Vec<faultline::sim::NodeStatus>,
) {
    use faultline::sim::rng::{Purpose, RngStream};
    let config = NetworkConfig {
        latency: Latency::Constant(faultline::sim::SimDuration::ZERO),
        drop: 0.0,
        duplicate: 0.0,
        fifo: false,
    };
    let network =
        faultline::sim::network::Network::new(config, nodes, RngStream::new(0, Purpose::Network));
    (
        network,
        vec![faultline::sim::NodeStatus::Up; nodes as usize],
    )
}

/// Every scenario file shipped in `scenarios/`, sorted.
pub fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_path("scenarios"))
        .expect("scenarios/ exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    files
}

/// A protocol for engine tests: on every tick a node sends a burst of numbered
/// notes to peers drawn from its own stream, arms three zero-delay timers that
/// must fire in the order they were set, and persists its tick count.
#[derive(Clone, Debug)]
pub struct Chatter {
    pub period: SimDuration,
    pub burst: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct Note {
    pub seq: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ChatterTimer {
    Tick,
    Zero(u32),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Heard {
    Got { from: NodeId, seq: u64 },
    Fired(u32),
}

#[derive(Debug)]
pub struct ChatterState {
    seq_next: u64,
    ticks: u64,
}

impl Chatter {
    fn begin(&self, ctx: &mut Context<'_, Self>, ticks: u64) -> ChatterState {
        let phase = SimDuration::from_nanos(ctx.rng().below(self.period.as_nanos()));
        ctx.set_timer(ChatterTimer::Tick, phase);
        // Sequence numbers continue across restarts so they stay unique.
        ChatterState {
            seq_next: ticks * 1_000_000,
            ticks,
        }
    }
}

impl Protocol for Chatter {
    type Message = Note;
    type Timer = ChatterTimer;
    type Durable = u64;
    type Observation = Heard;
    type State = ChatterState;

    fn on_start(&self, ctx: &mut Context<'_, Self>) -> ChatterState {
        self.begin(ctx, 0)
    }

    fn on_restart(&self, ctx: &mut Context<'_, Self>, durable: &u64) -> ChatterState {
        self.begin(ctx, *durable + 1)
    }

    fn on_message(
        &self,
        _state: &mut ChatterState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        message: Note,
    ) {
        ctx.observe(Heard::Got {
            from,
            seq: message.seq,
        });
    }

    fn on_timer(&self, state: &mut ChatterState, ctx: &mut Context<'_, Self>, timer: ChatterTimer) {
        match timer {
            ChatterTimer::Tick => {
                let count = ctx.node_count();
                for _ in 0..self.burst {
                    let offset = 1 + ctx.rng().below(u64::from(count - 1)) as u32;
                    let to = (ctx.id() + offset) % ctx.node_count();
                    ctx.send(
                        to,
                        Note {
                            seq: state.seq_next,
                        },
                    );
                    state.seq_next += 1;
                }
                for k in 0..3 {
                    ctx.set_timer(ChatterTimer::Zero(k), SimDuration::ZERO);
                }
                state.ticks += 1;
                ctx.persist(state.ticks);
                ctx.set_timer(ChatterTimer::Tick, self.period);
            }
            ChatterTimer::Zero(k) => ctx.observe(Heard::Fired(k)),
        }
    }
}

// Fault schedules for property tests.

#[derive(Clone, Debug)]
pub enum RawFault {
    Partition(u64),
    Heal,
    Cut(u32, u32),
    Restore(u32, u32),
    Crash(u32),
    Restart(u32),
    Pause(u32, u64),
    Drift(u32, i64),
    Jump(u32, u64, bool),
    Degrade(u32, u32, u64, f64),
}

pub fn raw_fault(network_only: bool) -> BoxedStrategy<RawFault> {
    let network = prop_oneof![
        any::<u64>().prop_map(RawFault::Partition),
        Just(RawFault::Heal),
        (0..8u32, 0..8u32).prop_map(|(a, b)| RawFault::Cut(a, b)),
        (0..8u32, 0..8u32).prop_map(|(a, b)| RawFault::Restore(a, b)),
        (0..8u32).prop_map(RawFault::Crash),
        (0..8u32).prop_map(RawFault::Restart),
    ];
    if network_only {
        return network.boxed();
    }
    prop_oneof![
        4 => network,
        1 => (0..8u32, 1..1500u64).prop_map(|(n, ms)| RawFault::Pause(n, ms)),
        1 => (0..8u32, -300_000..300_000i64).prop_map(|(n, ppm)| RawFault::Drift(n, ppm)),
        1 => (0..8u32, 1..800u64, any::<bool>()).prop_map(|(n, ms, back)| RawFault::Jump(n, ms, back)),
        1 => (0..8u32, 0..8u32, 1..1500u64, 0.0..1.0f64).prop_map(|(a, b, ms, p)| RawFault::Degrade(a, b, ms, p)),
    ]
    .boxed()
}

/// Turns raw draws into a valid schedule by skipping what cannot happen
/// (restarting an up node, pausing a crashed one, and so on).
pub fn sanitize(nodes: u32, mut raw: Vec<(u64, RawFault)>) -> Vec<ScheduledFault> {
    raw.sort_by_key(|(at, _)| *at);
    let mut crashed = vec![false; nodes as usize];
    let mut paused_until = vec![0u64; nodes as usize];
    let mut faults = Vec::new();
    for (at_ms, fault) in raw {
        let at = SimTime::from_nanos(at_ms * 1_000_000);
        let node = |n: u32| n % nodes;
        let fault = match fault {
            RawFault::Partition(mask) => {
                let (left, right): (Vec<Node>, Vec<Node>) =
                    (0..nodes).partition(|n| mask >> n & 1 == 1);
                if left.is_empty() || right.is_empty() {
                    continue;
                }
                Fault::Partition {
                    groups: vec![left, right],
                }
            }
            RawFault::Heal => Fault::Heal,
            RawFault::Cut(a, b) | RawFault::Restore(a, b) if node(a) == node(b) => continue,
            RawFault::Cut(a, b) => Fault::CutLink {
                from: node(a),
                to: node(b),
            },
            RawFault::Restore(a, b) => Fault::RestoreLink {
                from: node(a),
                to: node(b),
            },
            RawFault::Crash(n) => {
                if crashed[node(n) as usize] {
                    continue;
                }
                crashed[node(n) as usize] = true;
                Fault::Crash { node: node(n) }
            }
            RawFault::Restart(n) => {
                if !crashed[node(n) as usize] {
                    continue;
                }
                crashed[node(n) as usize] = false;
                Fault::Restart { node: node(n) }
            }
            RawFault::Pause(n, ms) => {
                let n = node(n);
                if crashed[n as usize] || paused_until[n as usize] > at_ms {
                    continue;
                }
                paused_until[n as usize] = at_ms + ms;
                Fault::Pause {
                    node: n,
                    duration: SimDuration::from_millis(ms),
                }
            }
            RawFault::Drift(n, ppm) => Fault::ClockDrift { node: node(n), ppm },
            RawFault::Jump(n, ms, backward) => Fault::ClockJump {
                node: node(n),
                by: SimDuration::from_millis(ms),
                backward,
            },
            RawFault::Degrade(a, b, ms, p) => {
                if node(a) == node(b) {
                    continue;
                }
                Fault::DegradeLink {
                    from: node(a),
                    to: node(b),
                    duration: SimDuration::from_millis(ms),
                    drop: Some(p),
                    latency: Some(Latency::Constant(SimDuration::from_millis(ms / 4))),
                }
            }
        };
        faults.push(ScheduledFault { at, fault });
    }
    faults
}

pub fn latency() -> impl Strategy<Value = Latency> {
    let ms = SimDuration::from_millis;
    prop_oneof![
        (0..40u64).prop_map(move |d| Latency::Constant(ms(d))),
        (0..20u64, 0..60u64).prop_map(move |(a, b)| Latency::Uniform {
            min: ms(a),
            max: ms(a + b)
        }),
        (1..30u64, 0.1..2.0f64).prop_map(move |(m, s)| Latency::LogNormal {
            median: ms(m),
            sigma: s,
            max: ms(3000)
        }),
        (1..20u64, 0.5..3.0f64).prop_map(move |(m, a)| Latency::Pareto {
            min: ms(m),
            alpha: a,
            max: ms(3000)
        }),
    ]
}

pub fn network() -> impl Strategy<Value = NetworkConfig> {
    (latency(), 0.0..0.4f64, 0.0..0.3f64, any::<bool>()).prop_map(
        |(latency, drop, duplicate, fifo)| NetworkConfig {
            latency,
            drop,
            duplicate,
            fifo,
        },
    )
}

/// One run as an outside checker sees it: the trace's lines, parsed, and
/// each check's verdict (`true` = pass), by check name. The only place the
/// oracle tests touch faultline's run API.
pub struct TracedRun {
    pub lines: Vec<serde_json::Value>,
    pub passed: std::collections::BTreeMap<String, bool>,
}

/// Runs `scenario` with `seed`, keeping the trace in memory.
pub fn traced_run(scenario: &Scenario, seed: u64) -> TracedRun {
    let options = RunOptions {
        seed: Some(seed),
        write: false,
        charts: false,
        keep_trace: true,
        ..RunOptions::default()
    };
    let result = run::run(scenario, &options).expect("in-memory runs write nothing");
    let bytes = result.trace.expect("the trace was kept");
    let lines = std::str::from_utf8(&bytes)
        .expect("traces are UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("every trace line is JSON"))
        .collect();
    let passed = result
        .reports
        .iter()
        .map(|r| {
            (
                r.name.to_string(),
                r.verdict == faultline::check::Verdict::Pass,
            )
        })
        .collect();
    TracedRun { lines, passed }
}

/// What a judge built by hand in a test needs: a run's setup with no faults
/// (`faults` given where a test needs them), everyone present.
pub struct HandSetup {
    pub nodes: u32,
    pub faults: Vec<ScheduledFault>,
    pub absent: Vec<bool>,
}

impl HandSetup {
    pub fn new(nodes: u32, faults: Vec<ScheduledFault>) -> Self {
        HandSetup {
            nodes,
            faults,
            absent: vec![false; nodes as usize],
        }
    }

    pub fn setup(&self) -> faultline::harness::RunSetup<'_> {
        faultline::harness::RunSetup {
            node_count: self.nodes,
            seed: 0,
            duration: SimDuration::from_secs(60),
            faults: &self.faults,
            faults_end: run::faults_end(&self.faults),
            latency_max: SimDuration::from_millis(40),
            absent: &self.absent,
        }
    }
}
