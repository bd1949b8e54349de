//! The scenario block, `protocol: Cache(...)`, and its validation: every
//! value that makes no sense is an error naming its field.

use super::{Cache, CacheBug, Mix, Mode};
use crate::harness::{node_exists, probability, BlockError, HumanDuration, Place, ScenarioFacts};
use crate::node::time::{LocalTime, SimDuration};
use crate::node::NodeId;
use crate::protocols::hashing::placement::{key_hash, key_name, Placement, Scheme};
use crate::protocols::hashing::{DistributionBlock, Hashing, KeyDistribution};
use crate::sim::Fault;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// `protocol: Cache(mode: Abd, replicas: 3, keys: 10, clients: [0, 1, 2], ...)`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheBlock {
    /// `Abd`, `Quorum(r, w)`, `One` or `LastWriterWins`.
    pub mode: Mode,
    /// Owners per key.
    #[serde(default = "replicas_default")]
    pub replicas: usize,
    /// Virtual nodes per node on the ring.
    #[serde(default = "vnodes_default")]
    pub vnodes: u32,
    /// Keys in the workload.
    #[serde(default = "keys_default")]
    pub keys: u64,
    /// How clients pick keys.
    #[serde(default)]
    pub distribution: DistributionBlock,
    /// The node of each client process.
    pub clients: Vec<u32>,
    /// The fractions of reads, writes and cas.
    #[serde(default)]
    pub mix: MixBlock,
    /// Operations per second per client.
    #[serde(default = "rate_default")]
    pub rate: f64,
    /// How long a client waits for an answer.
    #[serde(default = "timeout_default")]
    pub timeout: HumanDuration,
    /// When clients stop starting operations, on their clocks.
    #[serde(default)]
    pub stop: Option<HumanDuration>,
    /// The anti-entropy interval; none without.
    #[serde(default)]
    pub anti_entropy: Option<HumanDuration>,
    /// Whether reads repair stale replicas (`Quorum` and `LastWriterWins`;
    /// true unless said).
    #[serde(default)]
    pub read_repair: Option<bool>,
    /// How long a client avoids a coordinator that timed out.
    #[serde(default = "suspect_for_default")]
    pub suspect_for: HumanDuration,
    /// A planted bug, to show a check catching it (none unless said).
    #[serde(default)]
    pub bug: Option<CacheBug>,
}

/// `mix: (read: 0.5, write: 0.3, cas: 0.2)`: fractions adding up to 1.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixBlock {
    /// The fraction of reads.
    #[serde(default)]
    pub read: f64,
    /// The fraction of writes.
    #[serde(default)]
    pub write: f64,
    /// The fraction of compare-and-sets (0 for `Abd`).
    #[serde(default)]
    pub cas: f64,
}

impl Default for MixBlock {
    fn default() -> Self {
        MixBlock {
            read: 0.5,
            write: 0.5,
            cas: 0.0,
        }
    }
}

fn replicas_default() -> usize {
    3
}
fn vnodes_default() -> u32 {
    100
}
fn keys_default() -> u64 {
    10
}
fn rate_default() -> f64 {
    10.0
}
fn timeout_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(200))
}
fn suspect_for_default() -> HumanDuration {
    HumanDuration(Duration::from_secs(2))
}

/// The longest latency the random nemesis gives a degraded link: with the
/// network's own bound, how long a message can take, which a restarted
/// coordinator waits out.
const NEMESIS_DEGRADED_LATENCY_MAX: SimDuration = SimDuration::from_millis(500);

/// The most keys a scenario may have: each key's replicas are listed in
/// memory.
const KEYS_MAX: u64 = 100_000;

pub(super) fn configure(
    block: CacheBlock,
    scenario: &ScenarioFacts<'_>,
) -> Result<Cache, BlockError> {
    let nodes = scenario.node_count;
    let replicas = replicas(&block, nodes)?;
    let mode = mode(block.mode, replicas)?;
    if !(1..=10_000).contains(&block.vnodes) {
        return Err(BlockError::new(
            Place::field("vnodes"),
            format!("{} virtual nodes: expected 1 to 10000", block.vnodes),
        ));
    }
    if !(1..=KEYS_MAX).contains(&block.keys) {
        return Err(BlockError::new(
            Place::field("keys"),
            format!("{} keys: expected 1 to {KEYS_MAX}", block.keys),
        ));
    }
    let clients = clients(&block.clients, nodes)?;
    let mix = mix(&block.mix, mode)?;
    if !(block.rate > 0.0 && block.rate <= 100_000.0) {
        return Err(BlockError::new(
            Place::field("rate"),
            format!(
                "{} operations per second per client: expected more than 0, at most 100000",
                block.rate
            ),
        ));
    }
    let timeout = block.timeout.positive(Place::field("timeout"))?;
    let (distribution, zipf_cdf) = distribution(&block)?;
    let (replicas_of, peers_of) = placement(nodes, block.vnodes, block.keys, replicas);
    Ok(Cache {
        mode,
        replicas,
        vnodes: block.vnodes,
        keys: block.keys,
        distribution,
        zipf_cdf: Arc::new(zipf_cdf),
        clients,
        mix,
        rate: block.rate,
        timeout,
        coordinator_timeout: SimDuration::from_nanos(timeout.as_nanos() / 4 * 3),
        stop: stop(block.stop, scenario)?,
        anti_entropy: block
            .anti_entropy
            .map(|every| every.positive(Place::field("anti_entropy")))
            .transpose()?,
        read_repair: read_repair(block.read_repair, mode)?,
        suspect_for: block.suspect_for.positive(Place::field("suspect_for"))?,
        bug: block.bug,
        quiet: longest_delay(scenario),
        replicas_of: Arc::new(replicas_of),
        peers_of: Arc::new(peers_of),
    })
}

fn replicas(block: &CacheBlock, nodes: u32) -> Result<usize, BlockError> {
    if block.replicas == 0 || block.replicas > nodes as usize {
        return Err(BlockError::new(
            Place::field("replicas"),
            format!(
                "{} replicas per key: expected 1 to {nodes}, the number of nodes",
                block.replicas
            ),
        ));
    }
    Ok(block.replicas)
}

fn mode(mode: Mode, replicas: usize) -> Result<Mode, BlockError> {
    if let Mode::Quorum(r, w) = mode {
        for (name, size) in [("r", r), ("w", w)] {
            if size == 0 || size as usize > replicas {
                return Err(BlockError::new(
                    Place::field("mode"),
                    format!(
                        "Quorum({r}, {w}): {name} = {size}, but a quorum is 1 to {replicas}, the replicas of a key"
                    ),
                ));
            }
        }
    }
    Ok(mode)
}

fn clients(listed: &[u32], nodes: u32) -> Result<Vec<NodeId>, BlockError> {
    if listed.is_empty() || listed.len() > 1000 {
        return Err(BlockError::new(
            Place::field("clients"),
            format!(
                "{} client processes: expected 1 to 1000, each written as the node it runs on",
                listed.len()
            ),
        ));
    }
    listed
        .iter()
        .enumerate()
        .map(|(index, &node)| node_exists(Place::field("clients").index(index), node, nodes))
        .collect()
}

fn mix(block: &MixBlock, mode: Mode) -> Result<Mix, BlockError> {
    let read = probability(Place::field("mix").then("read"), block.read)?;
    let write = probability(Place::field("mix").then("write"), block.write)?;
    let cas = probability(Place::field("mix").then("cas"), block.cas)?;
    let total = read + write + cas;
    if (total - 1.0).abs() > 1e-9 {
        return Err(BlockError::new(
            Place::field("mix"),
            format!(
                "read {read} + write {write} + cas {cas} = {total}: the fractions must add up to 1"
            ),
        ));
    }
    if mode == Mode::Abd && cas > 0.0 {
        return Err(BlockError::new(
            Place::field("mix").then("cas"),
            "Abd cannot compare-and-set: a register built from quorums cannot implement it without consensus (Herlihy 1991); set cas to 0, or use another mode",
        ));
    }
    Ok(Mix { read, write, cas })
}

fn read_repair(read_repair: Option<bool>, mode: Mode) -> Result<bool, BlockError> {
    match (read_repair, mode) {
        (Some(_), Mode::Abd | Mode::One) => Err(BlockError::new(
            Place::field("read_repair"),
            format!(
                "{mode:?} has no read repair to turn on or off (Abd's write-back is part of every read; One reads a single replica): remove the field"
            ),
        )),
        (choice, _) => Ok(choice.unwrap_or(true)),
    }
}

fn distribution(block: &CacheBlock) -> Result<(KeyDistribution, Vec<f64>), BlockError> {
    Ok(match block.distribution {
        DistributionBlock::Uniform => (KeyDistribution::Uniform, Vec::new()),
        DistributionBlock::Zipf { s } => {
            if !(s > 0.0 && s <= 10.0) {
                return Err(BlockError::new(
                    Place::field("distribution"),
                    format!("Zipf exponent {s}: expected more than 0, at most 10"),
                ));
            }
            (
                KeyDistribution::Zipf { s },
                Hashing::zipf_cdf(block.keys, s),
            )
        }
    })
}

fn stop(
    stop: Option<HumanDuration>,
    scenario: &ScenarioFacts<'_>,
) -> Result<Option<LocalTime>, BlockError> {
    let Some(stop) = stop else {
        return Ok(None);
    };
    let at = stop.positive(Place::field("stop"))?;
    if at >= scenario.duration {
        return Err(BlockError::new(
            Place::field("stop"),
            format!(
                "clients stop at {at}, not before the run ends at {}",
                scenario.duration
            ),
        ));
    }
    Ok(Some(LocalTime::from_nanos(at.as_nanos())))
}

/// The longest a message can take: the network's bound, a degraded link's
/// latency (explicit, or the nemesis's largest).
fn longest_delay(scenario: &ScenarioFacts<'_>) -> SimDuration {
    let degraded = scenario
        .faults
        .iter()
        .filter_map(|scheduled| match &scheduled.fault {
            Fault::DegradeLink {
                latency: Some(latency),
                ..
            } => Some(latency.bound()),
            _ => None,
        })
        .max()
        .unwrap_or(SimDuration::ZERO);
    scenario
        .latency_max
        .max(degraded)
        .max(NEMESIS_DEGRADED_LATENCY_MAX)
}

/// Each key's replicas on a ring of every node, and each node's peers that
/// share a key with it.
fn placement(
    nodes: u32,
    vnodes: u32,
    keys: u64,
    replicas: usize,
) -> (Vec<Vec<NodeId>>, Vec<Vec<NodeId>>) {
    let members: Vec<NodeId> = (0..nodes).collect();
    let ring = Placement::new(Scheme::Ring { vnodes }, &members);
    let replicas_of: Vec<Vec<NodeId>> = (0..keys)
        .map(|key| ring.owners(key_hash(key_name(key).as_bytes()), replicas))
        .collect();
    let mut shares = vec![vec![false; nodes as usize]; nodes as usize];
    for owners in &replicas_of {
        for &a in owners {
            for &b in owners {
                shares[a as usize][b as usize] |= a != b;
            }
        }
    }
    let peers_of = shares
        .iter()
        .map(|row| (0..nodes).filter(|&n| row[n as usize]).collect())
        .collect();
    (replicas_of, peers_of)
}
