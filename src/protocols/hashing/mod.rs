//! Consistent hashing with membership from the failure detector.
//!
//! Every node runs the heartbeat detector (see `heartbeat::Detector`) and keeps
//! its own membership view: itself and every peer it does not suspect. From
//! that view it builds a placement table (ring, modulo or rendezvous; see
//! `placement`) and routes requests: every `request_interval` it picks a key
//! from the workload (uniform or Zipf), finds the key's primary owner in its
//! own view, and sends the request there. The receiver checks its own view: if
//! it is not among the key's `replicas` owners, the request was misrouted.
//!
//! During a partition each side suspects the other and rebuilds its table
//! without it, so the views, and the owners they assign, disagree; after the
//! heal heartbeats flow again and the views converge. A node that joins starts
//! heartbeating and enters the others' views; one that leaves stops and is
//! dropped once suspected. Nodes that join later are outside every view until
//! their first heartbeat arrives.

mod chart;
mod check;
pub mod placement;

pub use check::{HashingCheck, HashingJudge, Membership};

use super::heartbeat::{BeatStamp, Detector, Incarnation};
use crate::check::{Property, PropertyKind};
use crate::harness::{BlockError, Harness, HumanDuration, Place, RunSetup, ScenarioFacts};
use crate::node::{Context, NodeId, Protocol};
use crate::plot::{Chart, TimelineData};
use crate::sim::time::SimDuration;
use placement::{key_hash, key_name, Placement, Scheme};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// How requests pick keys.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum KeyDistribution {
    /// Every key equally likely.
    Uniform,
    /// Zipf with exponent `s` over the key indices.
    Zipf {
        /// The exponent (larger is more skewed).
        s: f64,
    },
}

/// Consistent hashing under membership change: nodes detect each other by heartbeats, keep a view of the members, and route requests for keys by their view.
#[derive(Clone, Debug, PartialEq)]
pub struct Hashing {
    /// How keys map to members.
    pub scheme: Scheme,
    /// Owners per key (the primary and its successors).
    pub replicas: usize,
    /// How many keys.
    pub keys: u64,
    /// How requests pick keys.
    pub distribution: KeyDistribution,
    /// Heartbeat interval.
    pub interval: SimDuration,
    /// Silence after which a member is dropped from the view.
    pub timeout: SimDuration,
    /// Time between a node's requests.
    pub request_interval: SimDuration,
    /// The nodes present at the start (the others join later).
    pub members_initial: Vec<NodeId>,
    /// Cumulative Zipf weights over key indices (empty when uniform).
    pub zipf_cdf: Arc<Vec<f64>>,
}

impl Hashing {
    /// The cumulative distribution for Zipf(s) over `keys` keys.
    pub fn zipf_cdf(keys: u64, s: f64) -> Vec<f64> {
        let mut total = 0.0;
        let weights: Vec<f64> = (1..=keys)
            .map(|rank| {
                total += 1.0 / libm::pow(rank as f64, s);
                total
            })
            .collect();
        weights.into_iter().map(|w| w / total).collect()
    }
}

/// What nodes send each other.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum HashingMessage {
    /// A heartbeat, stamped as the heartbeat protocol's are.
    Beat {
        /// The sender's incarnation (its restart count).
        incarnation: u64,
        /// The beat's number within the incarnation.
        beat: u64,
    },
    /// A request for `key`, routed by the sender's view.
    Request {
        /// The request's id.
        id: u64,
        /// The key.
        key: u64,
    },
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum HashingTimer {
    /// Time to send a heartbeat.
    Beat,
    /// Time to send a request.
    Request,
}

/// What nodes report for checks and charts.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum HashingObservation {
    /// The node's membership view changed (also reported at start).
    View {
        /// The members in the new view, in order.
        members: Vec<NodeId>,
    },
    /// A request for `key` was sent to `to` (the primary in the sender's view).
    Routed {
        /// The request's id.
        id: u64,
        /// The key.
        key: u64,
        /// The node it was sent to.
        to: NodeId,
    },
    /// A request arrived; `owner` is whether the receiver's own view makes it
    /// one of the key's owners.
    Served {
        /// The sender.
        from: NodeId,
        /// The request's id.
        id: u64,
        /// The key.
        key: u64,
        /// Whether the receiver's view makes it an owner of the key.
        owner: bool,
    },
}

/// A node's volatile state: its detector, its view and its counters.
#[derive(Debug)]
pub struct HashingState {
    detector: Detector,
    placement: Placement,
    request_next: u64,
    incarnation: u64,
    beat: u64,
}

impl Hashing {
    fn fresh(&self, ctx: &mut Context<'_, Self>, before: Incarnation) -> HashingState {
        let incarnation = before.incarnation + 1;
        ctx.persist(Incarnation { incarnation });
        let beat = SimDuration::from_nanos(ctx.rng().below(self.interval.as_nanos().max(1)));
        ctx.set_timer(HashingTimer::Beat, beat);
        let request =
            SimDuration::from_nanos(ctx.rng().below(self.request_interval.as_nanos().max(1)));
        ctx.set_timer(HashingTimer::Request, request);
        // Everyone present at the start, and this node itself (a joiner).
        let me = ctx.id();
        let absent: Vec<NodeId> = (0..ctx.node_count())
            .filter(|&n| n != me && !self.members_initial.contains(&n))
            .collect();
        let detector = Detector::with_suspects(ctx.node_count(), ctx.now(), &absent);
        let members: Vec<NodeId> = (0..ctx.node_count())
            .filter(|n| !absent.contains(n))
            .collect();
        ctx.observe(HashingObservation::View {
            members: members.clone(),
        });
        // With the sender, an id pairs a Routed with its Served; starting at a
        // random point keeps ids distinct across the node's restarts.
        let request_next = ctx.rng().next_u64() >> 16;
        HashingState {
            detector,
            placement: Placement::new(self.scheme, &members),
            request_next,
            incarnation,
            beat: 0,
        }
    }

    fn rebuild(&self, state: &mut HashingState, ctx: &mut Context<'_, Self>) {
        let me = ctx.id();
        let members: Vec<NodeId> = (0..ctx.node_count())
            .filter(|&n| n == me || !state.detector.suspects(n))
            .collect();
        state.placement = Placement::new(self.scheme, &members);
        ctx.observe(HashingObservation::View { members });
    }

    fn pick_key(&self, ctx: &mut Context<'_, Self>) -> u64 {
        match self.distribution {
            KeyDistribution::Uniform => ctx.rng().below(self.keys),
            KeyDistribution::Zipf { .. } => {
                let draw = ctx.rng().unit();
                let index = self.zipf_cdf.partition_point(|&w| w < draw);
                (index as u64).min(self.keys - 1)
            }
        }
    }
}

impl Protocol for Hashing {
    type Message = HashingMessage;
    type Timer = HashingTimer;
    type Durable = Incarnation;
    type Observation = HashingObservation;
    type State = HashingState;

    fn on_start(&self, ctx: &mut Context<'_, Self>) -> HashingState {
        self.fresh(ctx, Incarnation::default())
    }

    fn on_restart(&self, ctx: &mut Context<'_, Self>, durable: &Incarnation) -> HashingState {
        self.fresh(ctx, *durable)
    }

    fn on_message(
        &self,
        state: &mut HashingState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        message: HashingMessage,
    ) {
        match message {
            HashingMessage::Beat { incarnation, beat } => {
                let stamp = BeatStamp { incarnation, beat };
                if state.detector.heard(from, stamp, ctx.now(), true, true) {
                    self.rebuild(state, ctx);
                }
            }
            HashingMessage::Request { id, key } => self.serve(state, ctx, from, id, key),
        }
    }

    fn on_timer(&self, state: &mut HashingState, ctx: &mut Context<'_, Self>, timer: HashingTimer) {
        match timer {
            HashingTimer::Beat => {
                state.beat += 1;
                ctx.broadcast(HashingMessage::Beat {
                    incarnation: state.incarnation,
                    beat: state.beat,
                });
                if !state
                    .detector
                    .newly_suspected(ctx.id(), ctx.now(), self.timeout)
                    .is_empty()
                {
                    self.rebuild(state, ctx);
                }
                ctx.set_timer(HashingTimer::Beat, self.interval);
            }
            HashingTimer::Request => self.route(state, ctx),
        }
    }
}

impl Hashing {
    fn serve(
        &self,
        state: &mut HashingState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        id: u64,
        key: u64,
    ) {
        let hash = key_hash(key_name(key).as_bytes());
        let owner = state
            .placement
            .owners(hash, self.replicas)
            .contains(&ctx.id());
        ctx.observe(HashingObservation::Served {
            from,
            id,
            key,
            owner,
        });
    }

    /// Sends a request for a key drawn from the workload to its primary in
    /// this node's view (or serves it here, if that is this node).
    fn route(&self, state: &mut HashingState, ctx: &mut Context<'_, Self>) {
        let key = self.pick_key(ctx);
        let hash = key_hash(key_name(key).as_bytes());
        if let Some(primary) = state.placement.primary(hash) {
            let id = state.request_next;
            state.request_next += 1;
            ctx.observe(HashingObservation::Routed {
                id,
                key,
                to: primary,
            });
            if primary == ctx.id() {
                ctx.observe(HashingObservation::Served {
                    from: primary,
                    id,
                    key,
                    owner: true,
                });
            } else {
                ctx.send(primary, HashingMessage::Request { id, key });
            }
        }
        ctx.set_timer(HashingTimer::Request, self.request_interval);
    }
}

/// `protocol: Hashing(scheme: Ring(vnodes: 200), replicas: 2, keys: 20000)`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashingBlock {
    /// Ring, modulo or rendezvous.
    pub scheme: Scheme,
    /// Owners per key.
    #[serde(default = "replicas_default")]
    pub replicas: usize,
    /// Keys in the workload.
    #[serde(default = "keys_default")]
    pub keys: u64,
    /// How requests pick keys.
    #[serde(default)]
    pub distribution: DistributionBlock,
    /// Heartbeat interval.
    #[serde(default = "interval_default")]
    pub interval: HumanDuration,
    /// Heartbeat timeout.
    #[serde(default = "timeout_default")]
    pub timeout: HumanDuration,
    /// Time between a node's requests.
    #[serde(default = "request_interval_default")]
    pub request_interval: HumanDuration,
}

/// `Uniform` or `Zipf(s: 1.1)`.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum DistributionBlock {
    /// Every key alike.
    #[default]
    Uniform,
    /// Zipf with exponent `s`.
    Zipf {
        /// The exponent.
        s: f64,
    },
}

fn replicas_default() -> usize {
    1
}
fn keys_default() -> u64 {
    10_000
}
fn interval_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(100))
}
fn timeout_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(500))
}
fn request_interval_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(50))
}

fn scheme_valid(scheme: Scheme) -> Result<Scheme, BlockError> {
    if let Scheme::Ring { vnodes } = scheme {
        if !(1..=10_000).contains(&vnodes) {
            return Err(BlockError::new(
                Place::field("scheme"),
                format!("{vnodes} virtual nodes: expected 1 to 10000"),
            ));
        }
    }
    Ok(scheme)
}

fn distribution(block: &HashingBlock) -> Result<(KeyDistribution, Vec<f64>), BlockError> {
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

impl Harness for Hashing {
    const NAME: &'static str = "Hashing";
    const PROPERTIES: &'static [Property] = &[
        Property {
            name: "Balance",
            kind: PropertyKind::Safety,
            summary: "with every initial member, the busiest node holds at most this multiple of the mean",
            example: "Balance(max_over_mean: 1.3)",
        },
        Property {
            name: "Movement",
            kind: PropertyKind::Safety,
            summary: "a join or leave moves at most this fraction of keys",
            example: "Movement(max_fraction: 0.15)",
        },
        Property {
            name: "Converges",
            kind: PropertyKind::Liveness,
            summary: "the up nodes' views give every key the same owner again within the bound after the last fault",
            example: "Converges(\"2s\")",
        },
        Property {
            name: "ViewsDisagreed",
            kind: PropertyKind::Coverage,
            summary: "the up nodes' views gave some key different owners",
            example: "",
        },
        Property {
            name: "RequestMisrouted",
            kind: PropertyKind::Coverage,
            summary: "a request reached a node that is no owner of its key in its own view",
            example: "",
        },
    ];
    type Block = HashingBlock;
    type Check = HashingCheck;
    type Judge = HashingJudge;
    type Recorder = ();

    fn configure(block: HashingBlock, scenario: &ScenarioFacts<'_>) -> Result<Self, BlockError> {
        let scheme = scheme_valid(block.scheme)?;
        if !(1..=1_000_000).contains(&block.keys) {
            return Err(BlockError::new(
                Place::field("keys"),
                format!("{} keys: expected 1 to 1000000", block.keys),
            ));
        }
        if block.replicas == 0 || block.replicas > scenario.node_count as usize {
            return Err(BlockError::new(
                Place::field("replicas"),
                format!(
                    "{} replicas: expected 1 to {}",
                    block.replicas, scenario.node_count
                ),
            ));
        }
        let (distribution, zipf_cdf) = distribution(&block)?;
        let joiners = scenario.joiners();
        Ok(Hashing {
            scheme,
            replicas: block.replicas,
            keys: block.keys,
            distribution,
            interval: block.interval.positive(Place::field("interval"))?,
            timeout: block.timeout.positive(Place::field("timeout"))?,
            request_interval: block
                .request_interval
                .positive(Place::field("request_interval"))?,
            members_initial: (0..scenario.node_count)
                .filter(|n| !joiners.contains(n))
                .collect(),
            zipf_cdf: Arc::new(zipf_cdf),
        })
    }

    fn check_valid(check: &HashingCheck, _scenario: &ScenarioFacts<'_>) -> Result<(), BlockError> {
        match *check {
            HashingCheck::Balance { max_over_mean }
                if max_over_mean.is_nan() || max_over_mean < 1.0 =>
            {
                Err(BlockError::new(
                    Place::root(),
                    format!(
                        "max_over_mean {max_over_mean} is below 1, which no placement can reach"
                    ),
                ))
            }
            HashingCheck::Movement { max_fraction } => {
                crate::harness::probability(Place::root(), max_fraction).map(|_| ())
            }
            HashingCheck::Converges(within) => within.positive(Place::root()).map(|_| ()),
            _ => Ok(()),
        }
    }

    fn judge(&self, checks: &[HashingCheck], setup: &RunSetup<'_>) -> HashingJudge {
        HashingJudge::new(self, checks, setup)
    }

    fn recorder(&self, _setup: &RunSetup<'_>) {}

    fn charts(
        &self,
        judge: &HashingJudge,
        _recorder: (),
        timeline: &mut TimelineData,
        setup: &RunSetup<'_>,
    ) -> Vec<(String, Chart)> {
        vec![chart::hashing_chart(self, judge, timeline, setup)]
    }
}
