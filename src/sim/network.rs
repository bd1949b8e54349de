//! The simulated network: latency, loss, duplication, FIFO links and
//! connectivity.
//!
//! Connectivity is a directed graph (petgraph's `MatrixGraph`, O(1) edge test):
//! an edge `a -> b` means a message sent by `a` can currently reach `b`. It is
//! derived from two layers that faults change independently: the partition
//! (groups of nodes that can talk among themselves, possibly with bridge nodes
//! in several groups) and a set of one-way link cuts. `Heal` clears both.
//!
//! **A message is lost if its link is down at delivery time.** The check is made
//! when the message would arrive, not when it is sent: a partition that starts
//! while a message is on the wire swallows it, and a heal does not resurrect
//! messages already dropped. Loss and duplication are drawn at send time. A node
//! can always reach itself.

use super::rng::RngStream;
use super::time::{SimDuration, SimTime};
use crate::node::NodeId;
use petgraph::matrix_graph::{DiMatrix, NodeIndex};
use serde::Serialize;

/// Per-message latency, drawn independently for every message (and every
/// duplicate), which is what reorders messages on non-FIFO links.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Latency {
    /// The same delay for every message.
    Constant(SimDuration),
    /// Uniform between `min` and `max`.
    Uniform {
        /// The shortest delay.
        min: SimDuration,
        /// The longest delay.
        max: SimDuration,
    },
    /// Log-normal with the given median and shape `sigma`, capped at `max`.
    LogNormal {
        /// The median delay.
        median: SimDuration,
        /// The spread of the delay's logarithm.
        sigma: f64,
        /// The longest delay (the tail is cut there).
        max: SimDuration,
    },
    /// Pareto with scale `min` and shape `alpha` (heavier tail as alpha falls), capped at `max`.
    Pareto {
        /// The shortest delay, and the scale of the tail.
        min: SimDuration,
        /// The tail index: smaller is heavier.
        alpha: f64,
        /// The longest delay (the tail is cut there).
        max: SimDuration,
    },
}

impl Latency {
    /// Draws one latency. Always consumes the same number of draws for a given
    /// variant, so changing parameters never shifts the rest of the stream.
    #[inline(always)]
    pub fn sample(&self, rng: &mut RngStream) -> SimDuration {
        match *self {
            Latency::Constant(latency) => latency,
            Latency::Uniform { min, max } => {
                SimDuration::from_nanos(rng.between(min.as_nanos(), max.as_nanos()))
            }
            Latency::LogNormal { median, sigma, max } => {
                let factor = libm::exp(sigma * rng.standard_normal());
                cap(median.as_nanos() as f64 * factor, max)
            }
            Latency::Pareto { min, alpha, max } => {
                // Inverse CDF: x = min / U^(1/alpha), with U in (0, 1].
                let uniform = 1.0 - rng.unit();
                cap(min.as_nanos() as f64 / libm::pow(uniform, 1.0 / alpha), max)
            }
        }
    }

    /// The largest latency this model can produce.
    pub fn bound(&self) -> SimDuration {
        match *self {
            Latency::Constant(latency) => latency,
            Latency::Uniform { max, .. }
            | Latency::LogNormal { max, .. }
            | Latency::Pareto { max, .. } => max,
        }
    }
}

fn cap(nanos: f64, max: SimDuration) -> SimDuration {
    if nanos.is_finite() && nanos < max.as_nanos() as f64 {
        SimDuration::from_nanos(nanos.max(0.0) as u64)
    } else {
        max
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
/// How every link behaves unless a fault overrides it.
pub struct NetworkConfig {
    /// How long a message takes.
    pub latency: Latency,
    /// Probability that a message is lost, in [0, 1].
    pub drop: f64,
    /// Probability that a message is delivered twice, in [0, 1].
    pub duplicate: f64,
    /// When true, messages on one directed link arrive in the order they were sent.
    pub fifo: bool,
}

/// A temporary change to one directed link's loss and latency.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinkOverride {
    /// The sending end.
    pub from: NodeId,
    /// The receiving end.
    pub to: NodeId,
    /// The drop probability while the override lasts, if changed.
    pub drop: Option<f64>,
    /// The latency while the override lasts, if changed.
    pub latency: Option<Latency>,
}

/// Why a message never arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The link was down when the message would have arrived.
    LinkDown,
    /// Lost by the link's drop probability.
    RandomLoss,
    /// The destination was crashed (or not yet joined) on arrival.
    CrashedDestination,
    /// The destination was paused and its inbox was full.
    InboxOverflow,
}

/// Message accounting. At the end of every run
/// `sent + duplicated == delivered + dropped (all reasons) + in_flight`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MessageStats {
    /// Messages sent by nodes.
    pub sent: u64,
    /// Extra copies the network made.
    pub duplicated: u64,
    /// Messages handed to their destination's handler.
    pub delivered: u64,
    /// Messages lost, for all reasons.
    pub dropped: u64,
    /// Lost because the link was down.
    pub dropped_link_down: u64,
    /// Lost at random.
    pub dropped_random_loss: u64,
    /// Lost because the destination was crashed.
    pub dropped_crashed_destination: u64,
    /// Lost because a paused destination's inbox was full.
    pub dropped_inbox_overflow: u64,
    /// Still on the wire when the run ended.
    pub in_flight: u64,
}

impl MessageStats {
    /// Counts one drop under its reason.
    pub fn record_drop(&mut self, reason: DropReason) {
        self.dropped += 1;
        match reason {
            DropReason::LinkDown => self.dropped_link_down += 1,
            DropReason::RandomLoss => self.dropped_random_loss += 1,
            DropReason::CrashedDestination => self.dropped_crashed_destination += 1,
            DropReason::InboxOverflow => self.dropped_inbox_overflow += 1,
        }
    }

    /// Whether the books balance: every message is delivered, dropped or in flight.
    pub fn balances(&self) -> bool {
        let by_reason = self.dropped_link_down
            + self.dropped_random_loss
            + self.dropped_crashed_destination
            + self.dropped_inbox_overflow;
        by_reason == self.dropped
            && self.sent + self.duplicated == self.delivered + self.dropped + self.in_flight
    }
}

/// What the network decided for one sent message: arrival times of the
/// original and of a duplicate, or loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmission {
    /// Whether the message is lost.
    pub lost: bool,
    /// When the original arrives.
    pub arrival: SimTime,
    /// When the duplicate arrives, if there is one.
    pub duplicate_arrival: Option<SimTime>,
}

/// Connectivity and message delivery, driven by the engine and its faults.
pub struct Network {
    config: NetworkConfig,
    node_count: u32,
    /// Current connectivity: edge a -> b present means a can reach b.
    links: DiMatrix<(), ()>,
    /// Per directed link (`from * node_count + to`): whether the partition
    /// puts both ends in a common group. All true when there is no partition.
    grouped: Vec<bool>,
    /// Per directed link: whether a one-way cut is in force.
    cut: Vec<bool>,
    /// Per directed link: whether it is up, i.e. whether `links` has the edge.
    /// A flat copy, because every delivery asks and the graph's edge test
    /// costs more than an index.
    up: Vec<bool>,
    /// Active overrides with their ids; the latest matching one wins.
    overrides: Vec<(u64, LinkOverride)>,
    /// Per directed link, the latest arrival scheduled (for FIFO links).
    arrival_last: Vec<SimTime>,
    rng: RngStream,
}

impl Network {
    /// A network of `node_count` nodes, fully connected, drawing from `rng`.
    pub fn new(config: NetworkConfig, node_count: u32, rng: RngStream) -> Self {
        let link_count = (node_count as usize) * (node_count as usize);
        let mut links = DiMatrix::with_capacity(node_count as usize);
        for _ in 0..node_count {
            links.add_node(());
        }
        let mut network = Network {
            config,
            node_count,
            links,
            grouped: vec![true; link_count],
            cut: vec![false; link_count],
            up: vec![false; link_count],
            overrides: Vec::new(),
            arrival_last: vec![SimTime::ZERO; link_count],
            rng,
        };
        network.rebuild_links();
        network
    }

    /// How links behave by default.
    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    /// Whether a message from `from` would reach `to` now.
    pub fn link_up(&self, from: NodeId, to: NodeId) -> bool {
        from == to || self.up[self.link_index(from, to)]
    }

    /// The connectivity graph itself, for checks that ask about paths.
    pub fn graph(&self) -> &DiMatrix<(), ()> {
        &self.links
    }

    /// Splits the nodes into groups that reach only each other (a node in several groups bridges them).
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) {
        self.grouped.fill(false);
        for group in groups {
            for &from in group {
                for &to in group {
                    let index = self.link_index(from, to);
                    self.grouped[index] = true;
                }
            }
        }
        self.rebuild_links();
    }

    /// Heals every partition and cut.
    pub fn heal(&mut self) {
        self.grouped.fill(true);
        self.cut.fill(false);
        self.rebuild_links();
    }

    /// Cuts the link from `from` to `to` (one direction).
    pub fn cut(&mut self, from: NodeId, to: NodeId) {
        let index = self.link_index(from, to);
        self.cut[index] = true;
        self.rebuild_link(from, to);
    }

    /// Restores the link from `from` to `to`.
    pub fn restore(&mut self, from: NodeId, to: NodeId) {
        let index = self.link_index(from, to);
        self.cut[index] = false;
        self.rebuild_link(from, to);
    }

    /// Degrades one link until the override with this id is removed.
    pub fn add_override(&mut self, id: u64, link_override: LinkOverride) {
        self.overrides.push((id, link_override));
    }

    /// Ends the override with this id.
    pub fn remove_override(&mut self, id: u64) {
        self.overrides.retain(|(override_id, _)| *override_id != id);
    }

    fn link_index(&self, from: NodeId, to: NodeId) -> usize {
        from as usize * self.node_count as usize + to as usize
    }

    /// Brings the link `from -> to` in line with the two layers, touching the
    /// graph only if the edge changes.
    fn rebuild_link(&mut self, from: NodeId, to: NodeId) {
        let index = self.link_index(from, to);
        let up = from != to && self.grouped[index] && !self.cut[index];
        if up != self.up[index] {
            self.set_link(from, to, up);
        }
    }

    fn rebuild_links(&mut self) {
        let mut index = 0;
        for from in 0..self.node_count {
            for to in 0..self.node_count {
                let up = from != to && self.grouped[index] && !self.cut[index];
                if up != self.up[index] {
                    self.set_link(from, to, up);
                }
                index += 1;
            }
        }
    }

    fn set_link(&mut self, from: NodeId, to: NodeId, up: bool) {
        let index = self.link_index(from, to);
        self.up[index] = up;
        let (a, b) = (NodeIndex::new(from as usize), NodeIndex::new(to as usize));
        if up {
            self.links.add_edge(a, b, ());
        } else {
            self.links.remove_edge(a, b);
        }
    }

    /// Decides the fate of one message sent at `now`. Always draws the same
    /// number of random values (loss, duplication, two latencies).
    pub fn transmit(&mut self, from: NodeId, to: NodeId, now: SimTime) -> Transmission {
        let link_override = self
            .overrides
            .iter()
            .rev()
            .find(|(_, o)| o.from == from && o.to == to)
            .map(|(_, o)| o);
        let drop = link_override
            .and_then(|o| o.drop)
            .unwrap_or(self.config.drop);
        let latency = link_override
            .and_then(|o| o.latency.as_ref())
            .unwrap_or(&self.config.latency);
        let lost = self.rng.chance(drop);
        let duplicated = self.rng.chance(self.config.duplicate);
        let first = latency.sample(&mut self.rng);
        let second = latency.sample(&mut self.rng);
        let mut arrival = now.after(first);
        let mut duplicate_arrival = duplicated.then(|| now.after(second));
        if self.config.fifo && !lost {
            // Equal arrival times keep send order because the queue breaks ties
            // by insertion sequence.
            let slot = self.link_index(from, to);
            arrival = arrival.max(self.arrival_last[slot]);
            self.arrival_last[slot] = arrival;
            if let Some(copy) = duplicate_arrival.as_mut() {
                *copy = (*copy).max(arrival);
                self.arrival_last[slot] = *copy;
            }
        }
        Transmission {
            lost,
            arrival,
            duplicate_arrival: if lost { None } else { duplicate_arrival },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Purpose;

    fn network(nodes: u32, fifo: bool) -> Network {
        let config = NetworkConfig {
            latency: Latency::Uniform {
                min: SimDuration::from_millis(1),
                max: SimDuration::from_millis(50),
            },
            drop: 0.0,
            duplicate: 0.0,
            fifo,
        };
        Network::new(config, nodes, RngStream::new(1, Purpose::Network))
    }

    /// The flat copy and the graph agree on every link.
    fn assert_mirrors_graph(net: &Network) {
        for from in 0..net.node_count {
            for to in 0..net.node_count {
                let edge = net
                    .graph()
                    .has_edge(NodeIndex::new(from as usize), NodeIndex::new(to as usize));
                assert_eq!(net.link_up(from, to), from == to || edge, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn the_link_table_mirrors_the_graph_through_every_change() {
        let mut net = network(5, false);
        assert_mirrors_graph(&net);
        net.partition(&[vec![0, 1, 2], vec![2, 3, 4]]);
        assert_mirrors_graph(&net);
        net.cut(3, 4);
        net.cut(0, 3);
        assert_mirrors_graph(&net);
        net.partition(&[vec![0], vec![1, 2, 3, 4]]);
        assert_mirrors_graph(&net);
        net.restore(3, 4);
        assert_mirrors_graph(&net);
        net.heal();
        assert_mirrors_graph(&net);
    }

    #[test]
    fn partition_cuts_across_groups_only() {
        let mut net = network(5, false);
        net.partition(&[vec![0, 1], vec![2, 3, 4]]);
        assert!(net.link_up(0, 1) && net.link_up(1, 0) && net.link_up(2, 4));
        assert!(!net.link_up(0, 2) && !net.link_up(4, 1));
        net.heal();
        assert!(net.link_up(0, 2));
    }

    #[test]
    fn a_bridge_reaches_both_sides_which_do_not_reach_each_other() {
        let mut net = network(5, false);
        net.partition(&[vec![0, 1, 2], vec![2, 3, 4]]);
        assert!(net.link_up(2, 0) && net.link_up(2, 4) && net.link_up(0, 2) && net.link_up(4, 2));
        assert!(!net.link_up(0, 4) && !net.link_up(3, 1));
    }

    #[test]
    fn a_cut_is_one_way_and_survives_repartitioning_until_heal() {
        let mut net = network(3, false);
        net.cut(0, 2);
        assert!(!net.link_up(0, 2) && net.link_up(2, 0));
        net.partition(&[vec![0, 1, 2]]);
        assert!(!net.link_up(0, 2));
        net.restore(0, 2);
        assert!(net.link_up(0, 2));
        net.cut(0, 2);
        net.heal();
        assert!(net.link_up(0, 2));
    }

    #[test]
    fn fifo_links_never_reorder() {
        let mut net = network(2, true);
        let mut last = SimTime::ZERO;
        for step in 0..1000 {
            let sent = SimTime::from_nanos(step * 100_000);
            let arrival = net.transmit(0, 1, sent).arrival;
            assert!(arrival >= last);
            last = arrival;
        }
    }

    #[test]
    fn random_latency_reorders_without_fifo() {
        let mut net = network(2, false);
        let arrivals: Vec<SimTime> = (0..1000)
            .map(|step| {
                net.transmit(0, 1, SimTime::from_nanos(step * 100_000))
                    .arrival
            })
            .collect();
        assert!(arrivals.windows(2).any(|pair| pair[1] < pair[0]));
    }

    #[test]
    fn heavy_tails_respect_their_cap_and_exceed_the_median() {
        let mut rng = RngStream::new(9, Purpose::Network);
        let max = SimDuration::from_millis(500);
        for latency in [
            Latency::LogNormal {
                median: SimDuration::from_millis(10),
                sigma: 1.5,
                max,
            },
            Latency::Pareto {
                min: SimDuration::from_millis(5),
                alpha: 1.1,
                max,
            },
        ] {
            let samples: Vec<SimDuration> = (0..10_000).map(|_| latency.sample(&mut rng)).collect();
            assert!(samples.iter().all(|s| *s <= max));
            assert!(
                samples.iter().any(|s| *s >= SimDuration::from_millis(200)),
                "{latency:?} has no tail"
            );
        }
    }

    #[test]
    fn overrides_apply_to_one_direction_and_end() {
        let mut net = network(2, false);
        net.add_override(
            7,
            LinkOverride {
                from: 0,
                to: 1,
                drop: Some(1.0),
                latency: Some(Latency::Constant(SimDuration::from_secs(1))),
            },
        );
        assert!(net.transmit(0, 1, SimTime::ZERO).lost);
        assert!(!net.transmit(1, 0, SimTime::ZERO).lost);
        net.remove_override(7);
        assert!(!net.transmit(0, 1, SimTime::ZERO).lost);
    }
}
