//! Key placement: consistent hashing on a ring with virtual nodes, compared
//! with modulo hashing and rendezvous (highest random weight) hashing.
//!
//! Every hash is XXH3-64 with seed 0 (xxhash-rust), a fixed, documented
//! function that gives the same value on every platform and every run, unlike
//! Rust's randomised default hasher. A key's hash is XXH3 of its bytes; a
//! virtual node's position on the ring is XXH3 of `"node-<id>-vnode-<v>"`.
//!
//! - **Ring(vnodes)**: each node owns `vnodes` points on a 64-bit ring; a key
//!   belongs to the first point clockwise from its hash (binary search over
//!   the sorted points), and its `r` owners are the first `r` *distinct*
//!   nodes clockwise. Adding a node moves keys only to it; removing one moves
//!   only its own keys. With `v` points per node the relative standard
//!   deviation of load is about `1/sqrt(v)`.
//! - **Modulo**: the owner is `members[hash % n]` (replicas: the next ones in
//!   member order). Changing `n` moves most keys.
//! - **Rendezvous**: each node scores every key with `XXH3(key hash, node)`;
//!   the `r` highest scores own it. Minimal movement like the ring, O(n) per
//!   lookup.

use crate::node::NodeId;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// How keys map to members.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Scheme {
    /// Consistent hashing (Karger et al. 1997): each member at `vnodes` points on a ring, a key owned by the next points clockwise.
    Ring {
        /// Points per member on the ring.
        vnodes: u32,
    },
    /// `hash mod n`: most keys move when membership changes.
    Modulo,
    /// Rendezvous (highest random weight) hashing, Thaler and Ravishankar 1998.
    Rendezvous,
}

/// The stable 64-bit hash of a key.
pub fn key_hash(key: &[u8]) -> u64 {
    xxh3_64(key)
}

/// The name of key number `i` in generated workloads.
pub fn key_name(i: u64) -> String {
    format!("key-{i}")
}

fn vnode_point(node: NodeId, vnode: u32) -> u64 {
    xxh3_64(format!("node-{node}-vnode-{vnode}").as_bytes())
}

/// A placement table for one membership.
#[derive(Clone, Debug)]
pub struct Placement {
    scheme: Scheme,
    /// Sorted, deduplicated.
    members: Vec<NodeId>,
    /// Ring only: the points, sorted, and the node owning each. Two arrays
    /// rather than pairs, so the binary search touches half the memory.
    points: Vec<u64>,
    point_owners: Vec<NodeId>,
}

impl Placement {
    /// The placement of keys over `members` under `scheme`.
    pub fn new(scheme: Scheme, members: &[NodeId]) -> Self {
        let mut members = members.to_vec();
        members.sort_unstable();
        members.dedup();
        let ring = match scheme {
            Scheme::Ring { vnodes } => {
                let mut ring: Vec<(u64, NodeId)> = members
                    .iter()
                    .flat_map(|&node| (0..vnodes).map(move |v| (vnode_point(node, v), node)))
                    .collect();
                // Equal points (vanishingly rare) are ordered by node, so the
                // table is the same whatever order members came in.
                ring.sort_unstable();
                ring
            }
            _ => Vec::new(),
        };
        let (points, point_owners) = ring.into_iter().unzip();
        Placement {
            scheme,
            members,
            points,
            point_owners,
        }
    }

    /// The members, in order.
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    /// The node that owns a key first, if there are any members.
    pub fn primary(&self, hash: u64) -> Option<NodeId> {
        if self.members.is_empty() {
            return None;
        }
        Some(match self.scheme {
            Scheme::Ring { .. } => {
                let index = self.points.partition_point(|&point| point < hash);
                self.point_owners[index % self.points.len()]
            }
            Scheme::Modulo => self.members[(hash % self.members.len() as u64) as usize],
            Scheme::Rendezvous => *self
                .members
                .iter()
                .max_by_key(|&&node| (score(hash, node), node))
                .expect("members exist"),
        })
    }

    /// The first `r` distinct owners of a key (fewer if there are fewer members).
    pub fn owners(&self, hash: u64, r: usize) -> Vec<NodeId> {
        let r = r.min(self.members.len());
        if r == 0 {
            return Vec::new();
        }
        match self.scheme {
            Scheme::Ring { .. } => {
                let start = self.points.partition_point(|&point| point < hash);
                let mut owners = Vec::with_capacity(r);
                for step in 0..self.points.len() {
                    let node = self.point_owners[(start + step) % self.points.len()];
                    if !owners.contains(&node) {
                        owners.push(node);
                        if owners.len() == r {
                            break;
                        }
                    }
                }
                owners
            }
            Scheme::Modulo => {
                let first = (hash % self.members.len() as u64) as usize;
                (0..r)
                    .map(|i| self.members[(first + i) % self.members.len()])
                    .collect()
            }
            Scheme::Rendezvous => {
                let mut scored: Vec<(u64, NodeId)> =
                    self.members.iter().map(|&n| (score(hash, n), n)).collect();
                scored.sort_unstable_by(|a, b| b.cmp(a));
                scored.into_iter().take(r).map(|(_, n)| n).collect()
            }
        }
    }

    /// The ring's points and their owners, for drawing it.
    pub fn ring_points(&self) -> impl Iterator<Item = (u64, NodeId)> + '_ {
        self.points
            .iter()
            .copied()
            .zip(self.point_owners.iter().copied())
    }
}

fn score(hash: u64, node: NodeId) -> u64 {
    xxh3_64_with_seed(&hash.to_le_bytes(), u64::from(node) + 1)
}

/// How evenly keys spread over the members.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Balance {
    /// Keys per member, in member order.
    pub loads: Vec<(NodeId, u64)>,
    /// The busiest member's load over the mean load.
    pub max_over_mean: f64,
    /// Coefficient of variation: standard deviation over mean.
    pub cv: f64,
}

/// How evenly `hashes` spread over the members of `placement`.
pub fn balance(placement: &Placement, hashes: &[u64]) -> Balance {
    let members = placement.members();
    let mut counts = vec![0u64; members.len()];
    for &hash in hashes {
        if let Some(owner) = placement.primary(hash) {
            let index = members.binary_search(&owner).expect("owners are members");
            counts[index] += 1;
        }
    }
    let n = counts.len().max(1) as f64;
    let mean = counts.iter().sum::<u64>() as f64 / n;
    let max = counts.iter().copied().max().unwrap_or(0) as f64;
    let variance = counts
        .iter()
        .map(|&c| (c as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    Balance {
        loads: members.iter().copied().zip(counts).collect(),
        max_over_mean: if mean > 0.0 { max / mean } else { 0.0 },
        cv: if mean > 0.0 {
            libm::sqrt(variance) / mean
        } else {
            0.0
        },
    }
}

/// The fraction of keys whose primary owner differs between two tables.
pub fn moved_fraction(before: &Placement, after: &Placement, hashes: &[u64]) -> f64 {
    if hashes.is_empty() {
        return 0.0;
    }
    let moved = hashes
        .iter()
        .filter(|&&h| before.primary(h) != after.primary(h))
        .count();
    moved as f64 / hashes.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pinned: if this changes, every placement (and trace) changes.
    /// 0x9555E8555C62DCFD is the published XXH3-64 of "hello".
    #[test]
    fn the_hash_is_stable() {
        let actual: Vec<(&str, u64)> = PINNED
            .iter()
            .map(|(k, _)| (*k, key_hash(k.as_bytes())))
            .collect();
        assert_eq!(actual, PINNED.to_vec());
        assert_eq!(key_hash(b"hello"), 0x9555_E855_5C62_DCFD);
    }
    const PINNED: [(&str, u64); 3] = [
        ("key-0", 9340302149712544120),
        ("key-1", 3254397408892824057),
        ("hello", 10760762337991515389),
    ];
}
