//! The random nemesis: turns a seed into an explicit fault list before the run
//! starts. Nothing random happens to faults during the run itself, so every run
//! can be written back out as a plain scenario with the same behaviour.
//!
//! The generator draws only from the nemesis stream. It keeps node faults off
//! nodes that explicit faults already touch at that time, keeps at most
//! `nodes_down_max` nodes crashed or paused at once, never overlaps two
//! network faults, and ends every fault by `until`, so the tail of the run is
//! quiet and liveness can be judged there.

use super::fault::{Fault, ScheduledFault};
use super::network::Latency;
use super::rng::{Purpose, RngStream};
use super::time::{SimDuration, SimTime, NANOS_PER_MILLI};
use crate::node::NodeId;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
/// A kind of fault the random nemesis may inject.
pub enum NemesisKind {
    /// A random split into two sides.
    Partition,
    /// One node cut off from all others.
    Isolate,
    /// Two sides that both reach one bridge node.
    Bridge,
    /// One direction of one link cut.
    OneWay,
    /// A crash followed by a restart.
    Crash,
    /// A node paused for a while.
    Pause,
    /// A clock running fast or slow for a while.
    ClockDrift,
    /// One link loses many messages and slows down for a while.
    DegradeLink,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
/// What the random nemesis may do, how often and when.
pub struct NemesisConfig {
    /// The kinds it draws from.
    pub kinds: Vec<NemesisKind>,
    /// Gap between the starts of consecutive faults.
    pub interval_min: SimDuration,
    /// The longest gap between fault starts.
    pub interval_max: SimDuration,
    /// How long each fault lasts.
    pub duration_min: SimDuration,
    /// The longest a fault lasts.
    pub duration_max: SimDuration,
    /// The most nodes crashed or paused at the same time.
    pub nodes_down_max: u32,
    /// Faults start no earlier than this...
    pub from: SimTime,
    /// ...and are all over by this.
    pub until: SimTime,
    /// Bound on |ppm| for `ClockDrift`.
    pub drift_ppm_max: i64,
}

/// Generates faults for `seed` and merges them with the explicit ones, in time
/// order (explicit faults first at equal times).
pub fn generate(
    config: &NemesisConfig,
    node_count: u32,
    seed: u64,
    explicit: &[ScheduledFault],
) -> Vec<ScheduledFault> {
    // At most two faults per attempt, one attempt per interval.
    let attempts_max = config.until.since(config.from.min(config.until)).as_nanos()
        / config.interval_min.as_nanos().max(NANOS_PER_MILLI)
        + 1;
    let mut generated: Vec<ScheduledFault> =
        Vec::with_capacity(explicit.len() + 2 * attempts_max.min(10_000) as usize);
    // Explicit faults first, so that the stable sort below keeps them before
    // generated ones at equal times.
    generated.extend_from_slice(explicit);
    let mut nemesis = Nemesis {
        config,
        node_count,
        rng: RngStream::new(seed, Purpose::Nemesis),
        busy: explicit_busy_windows(node_count, explicit),
        down_until: vec![SimTime::ZERO; node_count as usize],
        network_free_at: SimTime::ZERO,
        shuffled: Vec::with_capacity(node_count as usize),
        generated,
    };
    let mut at = config.from;
    // The number of draws is bounded by the window.
    loop {
        let interval = draw_span(&mut nemesis.rng, config.interval_min, config.interval_max);
        at = at.after(round_to_millis(interval));
        if at >= config.until || config.kinds.is_empty() {
            break;
        }
        nemesis.attempt(at);
    }
    // Stable: explicit faults keep their place before generated ones at equal times.
    let mut generated = nemesis.generated;
    generated.sort_by_key(|scheduled| scheduled.at);
    generated
}

/// The nemesis as it draws: what is down or busy until when.
struct Nemesis<'a> {
    config: &'a NemesisConfig,
    node_count: u32,
    rng: RngStream,
    /// Per node: the windows in which explicit faults keep it busy.
    busy: Vec<Vec<(SimTime, SimTime)>>,
    /// Per node: until when the nemesis has it crashed or paused.
    down_until: Vec<SimTime>,
    /// Until when a network fault of the nemesis lasts.
    network_free_at: SimTime,
    /// Scratch space for shuffling node ids, reused by every network fault.
    shuffled: Vec<NodeId>,
    generated: Vec<ScheduledFault>,
}

impl Nemesis<'_> {
    /// One attempt at time `at`: a kind and a duration, then a fault if one
    /// fits (no node down twice, at most `nodes_down_max` down, one network
    /// fault at a time).
    fn attempt(&mut self, at: SimTime) {
        let config = self.config;
        let kind = config.kinds[self.rng.index(config.kinds.len())];
        let duration = round_to_millis(draw_span(
            &mut self.rng,
            config.duration_min,
            config.duration_max,
        ));
        let end = at.after(duration).min(config.until);
        if end <= at {
            return;
        }
        match kind {
            NemesisKind::Crash | NemesisKind::Pause => self.down(kind, at, end),
            NemesisKind::ClockDrift => self.drift(at, end),
            network_kind => self.network(network_kind, at, end),
        }
    }

    fn push(&mut self, at: SimTime, fault: Fault) {
        self.generated.push(ScheduledFault { at, fault });
    }

    /// Whether `node` is neither down nor busy with an explicit fault in [at, end).
    fn node_is_free(&self, node: NodeId, at: SimTime, end: SimTime) -> bool {
        self.down_until[node as usize] <= at
            && !self.busy[node as usize]
                .iter()
                .any(|&(start, stop)| start < end && at < stop)
    }

    fn down(&mut self, kind: NemesisKind, at: SimTime, end: SimTime) {
        let down_now = self.down_until.iter().filter(|&&until| until > at).count() as u32;
        if down_now >= self.config.nodes_down_max {
            return;
        }
        let free: Vec<NodeId> = (0..self.node_count)
            .filter(|&n| self.node_is_free(n, at, end))
            .collect();
        if free.is_empty() {
            return;
        }
        let node = free[self.rng.index(free.len())];
        self.down_until[node as usize] = end;
        if kind == NemesisKind::Crash {
            self.push(at, Fault::Crash { node });
            self.push(end, Fault::Restart { node });
        } else {
            let duration = end.since(at);
            self.push(at, Fault::Pause { node, duration });
        }
    }

    fn drift(&mut self, at: SimTime, end: SimTime) {
        let node = self.rng.below(u64::from(self.node_count)) as NodeId;
        let magnitude = self.rng.between(1, self.config.drift_ppm_max.max(1) as u64) as i64;
        let ppm = if self.rng.chance(0.5) {
            -magnitude
        } else {
            magnitude
        };
        self.push(at, Fault::ClockDrift { node, ppm });
        self.push(end, Fault::ClockDrift { node, ppm: 0 });
    }

    fn network(&mut self, kind: NemesisKind, at: SimTime, end: SimTime) {
        if self.network_free_at > at || self.node_count < 2 {
            return;
        }
        let span = end.since(at);
        let Some(start_fault) = network_fault(
            kind,
            self.node_count,
            span,
            &mut self.rng,
            &mut self.shuffled,
        ) else {
            return;
        };
        self.network_free_at = end;
        let end_fault = match &start_fault {
            Fault::CutLink { from, to } => Some(Fault::RestoreLink {
                from: *from,
                to: *to,
            }),
            Fault::DegradeLink { .. } => None,
            _ => Some(Fault::Heal),
        };
        self.push(at, start_fault);
        if let Some(fault) = end_fault {
            self.push(end, fault);
        }
    }
}

fn network_fault(
    kind: NemesisKind,
    node_count: u32,
    span: SimDuration,
    rng: &mut RngStream,
    nodes: &mut Vec<NodeId>,
) -> Option<Fault> {
    nodes.clear();
    nodes.extend(0..node_count);
    rng.shuffle(nodes);
    match kind {
        NemesisKind::Partition => {
            let cut = 1 + rng.index(node_count as usize - 1);
            let (mut left, mut right) = (nodes[..cut].to_vec(), nodes[cut..].to_vec());
            left.sort_unstable();
            right.sort_unstable();
            Some(Fault::Partition {
                groups: vec![left, right],
            })
        }
        NemesisKind::Isolate => {
            let lonely = nodes[0];
            let others: Vec<NodeId> = (0..node_count).filter(|&n| n != lonely).collect();
            Some(Fault::Partition {
                groups: vec![vec![lonely], others],
            })
        }
        NemesisKind::Bridge => {
            if node_count < 3 {
                return None;
            }
            let bridge = nodes[0];
            let rest = &nodes[1..];
            let cut = 1 + rng.index(rest.len() - 1);
            let mut left: Vec<NodeId> = rest[..cut].iter().copied().chain([bridge]).collect();
            let mut right: Vec<NodeId> = rest[cut..].iter().copied().chain([bridge]).collect();
            left.sort_unstable();
            right.sort_unstable();
            Some(Fault::Partition {
                groups: vec![left, right],
            })
        }
        NemesisKind::OneWay => Some(Fault::CutLink {
            from: nodes[0],
            to: nodes[1],
        }),
        NemesisKind::DegradeLink => {
            let drop = (20 + rng.below(71)) as f64 / 100.0;
            let latency_ms = 50 + rng.below(451);
            Some(Fault::DegradeLink {
                from: nodes[0],
                to: nodes[1],
                duration: span,
                drop: Some(drop),
                latency: Some(Latency::Constant(SimDuration::from_millis(latency_ms))),
            })
        }
        NemesisKind::Crash | NemesisKind::Pause | NemesisKind::ClockDrift => None,
    }
}

fn draw_span(rng: &mut RngStream, min: SimDuration, max: SimDuration) -> SimDuration {
    SimDuration::from_nanos(rng.between(min.as_nanos(), max.as_nanos().max(min.as_nanos())))
}

/// Generated times are whole milliseconds so that written-out scenarios read well.
fn round_to_millis(span: SimDuration) -> SimDuration {
    SimDuration::from_nanos((span.as_nanos() / NANOS_PER_MILLI).max(1) * NANOS_PER_MILLI)
}

/// For each node, the windows in which explicit faults have it crashed or paused.
fn explicit_busy_windows(
    node_count: u32,
    explicit: &[ScheduledFault],
) -> Vec<Vec<(SimTime, SimTime)>> {
    let mut windows = vec![Vec::new(); node_count as usize];
    let mut crashed_since: Vec<Option<SimTime>> = vec![None; node_count as usize];
    for scheduled in explicit {
        match scheduled.fault {
            Fault::Crash { node } => crashed_since[node as usize] = Some(scheduled.at),
            Fault::Restart { node } => {
                if let Some(since) = crashed_since[node as usize].take() {
                    windows[node as usize].push((since, scheduled.at));
                }
            }
            Fault::Pause { node, duration } => {
                windows[node as usize].push((scheduled.at, scheduled.at.after(duration)))
            }
            _ => {}
        }
    }
    for (node, since) in crashed_since.into_iter().enumerate() {
        if let Some(since) = since {
            windows[node].push((since, SimTime::from_nanos(u64::MAX)));
        }
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::fault::validate_schedule;

    fn config() -> NemesisConfig {
        NemesisConfig {
            kinds: vec![
                NemesisKind::Partition,
                NemesisKind::Isolate,
                NemesisKind::Bridge,
                NemesisKind::OneWay,
                NemesisKind::Crash,
                NemesisKind::Pause,
                NemesisKind::ClockDrift,
                NemesisKind::DegradeLink,
            ],
            interval_min: SimDuration::from_millis(100),
            interval_max: SimDuration::from_millis(900),
            duration_min: SimDuration::from_millis(200),
            duration_max: SimDuration::from_secs(3),
            nodes_down_max: 2,
            from: SimTime::ZERO,
            until: SimTime::from_nanos(20 * 1_000_000_000),
            drift_ppm_max: 100_000,
        }
    }

    #[test]
    fn generated_schedules_are_valid_and_end_in_time() {
        let explicit = vec![
            ScheduledFault {
                at: SimTime::from_nanos(1_000_000_000),
                fault: Fault::Crash { node: 2 },
            },
            ScheduledFault {
                at: SimTime::from_nanos(5_000_000_000),
                fault: Fault::Restart { node: 2 },
            },
        ];
        for seed in 0..200 {
            let faults = generate(&config(), 5, seed, &explicit);
            validate_schedule(5, SimDuration::from_secs(30), &faults)
                .unwrap_or_else(|e| panic!("seed {seed}: fault {}: {}", e.index, e.message));
            assert!(faults.iter().all(|f| f.at <= config().until));
            assert!(
                faults.len() > explicit.len(),
                "seed {seed} generated nothing"
            );
        }
    }

    #[test]
    fn generation_is_a_function_of_the_seed() {
        assert_eq!(
            generate(&config(), 5, 11, &[]),
            generate(&config(), 5, 11, &[])
        );
        assert_ne!(
            generate(&config(), 5, 11, &[]),
            generate(&config(), 5, 12, &[])
        );
    }

    #[test]
    fn never_more_nodes_down_than_allowed() {
        for seed in 0..100 {
            let faults = generate(&config(), 7, seed, &[]);
            let mut windows = Vec::new();
            for (i, f) in faults.iter().enumerate() {
                match f.fault {
                    Fault::Crash { node } => {
                        let end = faults[i..]
                            .iter()
                            .find(|g| g.fault == Fault::Restart { node })
                            .map(|g| g.at)
                            .expect("restart follows");
                        windows.push((f.at, end));
                    }
                    Fault::Pause { duration, .. } => windows.push((f.at, f.at.after(duration))),
                    _ => {}
                }
            }
            for &(start, _) in &windows {
                let down = windows
                    .iter()
                    .filter(|&&(s, e)| s <= start && start < e)
                    .count();
                assert!(down <= 2, "seed {seed}: {down} nodes down at {start}");
            }
        }
    }
}
