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

use super::heartbeat::{BeatStamp, Detector, Incarnation};
use super::placement::{key_hash, key_name, Placement, Scheme};
use crate::node::{Context, NodeId, Protocol};
use crate::sim::time::SimDuration;
use serde::Serialize;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum KeyDistribution {
    Uniform,
    /// Zipf with exponent `s` over the key indices.
    Zipf {
        s: f64,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Hashing {
    pub scheme: Scheme,
    pub replicas: usize,
    pub keys: u64,
    pub distribution: KeyDistribution,
    pub interval: SimDuration,
    pub timeout: SimDuration,
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

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum HashingMessage {
    /// A heartbeat, stamped as the heartbeat protocol's are.
    Beat {
        incarnation: u64,
        beat: u64,
    },
    Request {
        id: u64,
        key: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum HashingTimer {
    Beat,
    Request,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum HashingObservation {
    /// The node's membership view changed (also reported at start).
    View { members: Vec<NodeId> },
    /// A request for `key` was sent to `to` (the primary in the sender's view).
    Routed { id: u64, key: u64, to: NodeId },
    /// A request arrived; `owner` is whether the receiver's own view makes it
    /// one of the key's owners.
    Served {
        from: NodeId,
        id: u64,
        key: u64,
        owner: bool,
    },
}

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
