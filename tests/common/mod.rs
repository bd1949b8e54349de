//! Shared test helpers: scenario runners and a small protocol that exercises
//! every engine feature (bursts of messages, same-instant timers, durable state).
#![allow(dead_code)]

use faultline::node::{Context, NodeId, Protocol};
use faultline::run::{self, RunOptions, RunResult};
use faultline::scenario::{self, Scenario};
use faultline::sim::SimDuration;
use serde::Serialize;
use std::path::{Path, PathBuf};

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

pub fn load(relative: &str) -> Scenario {
    scenario::load(&repo_path(relative)).unwrap_or_else(|e| panic!("{e}"))
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
