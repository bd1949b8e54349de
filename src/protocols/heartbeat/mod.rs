//! Heartbeat failure detector.
//!
//! Every node sends a heartbeat to every peer once per `interval` and notes, on
//! its own local clock, when it last heard from each peer. On each tick it
//! suspects every peer it has not heard from for longer than `timeout`, and it
//! trusts a suspected peer again as soon as a *newer* heartbeat from it
//! arrives. This is an eventually perfect detector (◇P) in a partially
//! synchronous network (Chandra and Toueg, "Unreliable failure detectors for
//! reliable distributed systems", 1996): once latencies stay below
//! `timeout - interval`, it stops making mistakes, and a crashed peer, once
//! suspected, stays suspected.
//!
//! "Newer" matters. Links may reorder, so a heartbeat sent before a crash can
//! arrive after later ones; trusting it would re-trust a crashed peer. Each
//! heartbeat carries the sender's *incarnation* (a counter it persists and
//! increments at every start, so heartbeats restart after a restart) and a
//! sequence number within it; a heartbeat no newer than the newest one heard
//! from that peer is ignored.
//!
//! It cannot tell a crashed peer from a slow, paused or unreachable one, so it
//! will suspect a paused peer or one behind a partition: the checks decide
//! which suspicions were mistakes. Suspicions are only evaluated on ticks, so a
//! crash is detected within `timeout + interval` plus one message latency.
//!
//! Only the incarnation is persisted: a restarted node starts by trusting
//! everyone, with a fresh grace period of `timeout`.
//!
//! Known-bug variants exist so that tests can show the checks catching them:
//! `NeverSuspect` ignores silence (Completeness must fail), `NeverTrust` never
//! takes a suspicion back (Accuracy must fail once a partition heals), and
//! `NoSequence` trusts on any heartbeat, however old (Completeness must fail
//! when heavy-tailed latency reorders heartbeats around a crash).

mod check;

pub use check::{HeartbeatCheck, HeartbeatJudge, SuspicionInterval};

use crate::check::{Property, PropertyKind};
use crate::harness::{BlockError, Harness, HumanDuration, Place, RunSetup, ScenarioFacts};
use crate::node::{Context, NodeId, Protocol};
use crate::plot::{Chart, LegendColor, LegendEntry, PeerSpan, TimelineData};
use crate::sim::time::{LocalTime, SimDuration};
use serde::{Deserialize, Serialize};

/// A heartbeat failure detector: every node beats to every other at `interval` and suspects a peer silent for `timeout`.
#[derive(Clone, Debug, PartialEq)]
pub struct Heartbeat {
    /// Time between beats, on the sender's clock.
    pub interval: SimDuration,
    /// Silence after which a peer is suspected, on the observer's clock.
    pub timeout: SimDuration,
    /// Which variant.
    pub variant: HeartbeatVariant,
}

/// Which detector, correct or with a planted bug.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HeartbeatVariant {
    /// Suspects after `timeout` of silence, trusts again on a beat newer than any heard.
    #[default]
    Correct,
    /// Bug: never suspects anyone.
    NeverSuspect,
    /// Bug: a suspected peer stays suspected forever.
    NeverTrust,
    /// Bug: any heartbeat ends a suspicion, even one older than a heartbeat
    /// already heard (no sequence numbers).
    NoSequence,
}

/// Which heartbeat this is: the sender's incarnation (how many times it has
/// started), then its tick count within that incarnation. Ordered, so newer
/// is greater.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct BeatStamp {
    /// How many times the sender has started.
    pub incarnation: u64,
    /// The beat's number within the incarnation.
    pub beat: u64,
}

/// A heartbeat.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ping {
    /// How many times the sender has started.
    pub incarnation: u64,
    /// The sender's tick count since it last started.
    pub beat: u64,
}

impl Ping {
    /// Which heartbeat this is.
    pub fn stamp(&self) -> BeatStamp {
        BeatStamp {
            incarnation: self.incarnation,
            beat: self.beat,
        }
    }
}

/// What survives a crash: how many times the node has started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Incarnation {
    /// How many times the node has started.
    pub incarnation: u64,
}

/// The heartbeat timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Tick {
    /// Time to beat (and to look for silent peers).
    Tick,
}

/// What the detector reports: the start and end of a suspicion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum Suspicion {
    /// This node now suspects `peer`.
    Suspect {
        /// The peer.
        peer: NodeId,
    },
    /// This node trusts `peer` again.
    Trust {
        /// The peer.
        peer: NodeId,
    },
}

/// The failure detector's bookkeeping, shared by every protocol that needs
/// one (the heartbeat protocol itself, the hashing protocol's membership).
#[derive(Debug, Clone)]
pub struct Detector {
    /// Per node, what we know of it: one record, so a heartbeat touches one
    /// cache line of it (at 1,000 nodes the detectors of a run far exceed
    /// the cache, and each delivery lands on a different one).
    peers: Vec<PeerView>,
}

/// One detector's view of one peer.
#[derive(Debug, Clone, Copy)]
struct PeerView {
    /// When we last heard from it (or started), on our local clock.
    heard_last: LocalTime,
    /// The newest heartbeat heard from it.
    stamp_newest: BeatStamp,
    /// Whether we currently suspect it.
    suspected: bool,
}

impl Detector {
    /// Everyone trusted, as if just heard from at `now`.
    pub fn new(node_count: u32, now: LocalTime) -> Self {
        let trusted = PeerView {
            heard_last: now,
            stamp_newest: BeatStamp::default(),
            suspected: false,
        };
        Detector {
            peers: vec![trusted; node_count as usize],
        }
    }

    /// As `new`, but suspecting `absent` nodes from the start (nodes that
    /// have not joined yet).
    pub fn with_suspects(node_count: u32, now: LocalTime, absent: &[NodeId]) -> Self {
        let mut detector = Detector::new(node_count, now);
        for &node in absent {
            detector.peers[node as usize].suspected = true;
        }
        detector
    }

    /// Whether this detector suspects `peer`.
    pub fn suspects(&self, peer: NodeId) -> bool {
        self.peers[peer as usize].suspected
    }

    /// Notes heartbeat `stamp` from `peer`; returns true if that ends a
    /// suspicion (when `may_trust` allows it). A heartbeat no newer than one
    /// already heard is ignored, unless `ordered` is false (the `NoSequence`
    /// bug).
    pub fn heard(
        &mut self,
        peer: NodeId,
        stamp: BeatStamp,
        now: LocalTime,
        may_trust: bool,
        ordered: bool,
    ) -> bool {
        let view = &mut self.peers[peer as usize];
        if ordered && stamp <= view.stamp_newest {
            return false;
        }
        view.stamp_newest = stamp.max(view.stamp_newest);
        // Local clocks can step backwards; keep the latest reading.
        view.heard_last = view.heard_last.max(now);
        if view.suspected && may_trust {
            view.suspected = false;
            return true;
        }
        false
    }

    /// Suspects every peer silent for longer than `timeout`; returns them in
    /// node order.
    pub fn newly_suspected(
        &mut self,
        me: NodeId,
        now: LocalTime,
        timeout: SimDuration,
    ) -> Vec<NodeId> {
        let mut suspects = Vec::new();
        for (peer, view) in self.peers.iter_mut().enumerate() {
            let peer = peer as NodeId;
            if peer != me && !view.suspected && now.since(view.heard_last) > timeout {
                view.suspected = true;
                suspects.push(peer);
            }
        }
        suspects
    }
}

/// A node's volatile state: its detector and its beat counters.
#[derive(Debug)]
pub struct HeartbeatState {
    detector: Detector,
    incarnation: u64,
    beat: u64,
}

impl HeartbeatState {
    /// Whether this node suspects `peer`.
    pub fn suspects(&self, peer: NodeId) -> bool {
        self.detector.suspects(peer)
    }
}

impl Heartbeat {
    /// A new incarnation: counted and saved before the first heartbeat of it
    /// leaves, so heartbeats of two incarnations never share a stamp.
    fn fresh_state(&self, ctx: &mut Context<'_, Self>, before: Incarnation) -> HeartbeatState {
        let incarnation = before.incarnation + 1;
        ctx.persist(Incarnation { incarnation });
        // The first tick comes at a random phase within one interval, drawn from
        // the node's own stream, so nodes do not all beat at the same instant.
        let phase = SimDuration::from_nanos(ctx.rng().below(self.interval.as_nanos().max(1)));
        ctx.set_timer(Tick::Tick, phase);
        HeartbeatState {
            detector: Detector::new(ctx.node_count(), ctx.now()),
            incarnation,
            beat: 0,
        }
    }
}

impl Protocol for Heartbeat {
    type Message = Ping;
    type Timer = Tick;
    type Durable = Incarnation;
    type Observation = Suspicion;
    type State = HeartbeatState;

    fn on_start(&self, ctx: &mut Context<'_, Self>) -> HeartbeatState {
        self.fresh_state(ctx, Incarnation::default())
    }

    fn on_restart(&self, ctx: &mut Context<'_, Self>, durable: &Incarnation) -> HeartbeatState {
        self.fresh_state(ctx, *durable)
    }

    fn on_message(
        &self,
        state: &mut HeartbeatState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        message: Ping,
    ) {
        let may_trust = self.variant != HeartbeatVariant::NeverTrust;
        let ordered = self.variant != HeartbeatVariant::NoSequence;
        if state
            .detector
            .heard(from, message.stamp(), ctx.now(), may_trust, ordered)
        {
            ctx.observe(Suspicion::Trust { peer: from });
        }
    }

    fn on_timer(&self, state: &mut HeartbeatState, ctx: &mut Context<'_, Self>, _timer: Tick) {
        state.beat += 1;
        ctx.broadcast(Ping {
            incarnation: state.incarnation,
            beat: state.beat,
        });
        if self.variant != HeartbeatVariant::NeverSuspect {
            for peer in state
                .detector
                .newly_suspected(ctx.id(), ctx.now(), self.timeout)
            {
                ctx.observe(Suspicion::Suspect { peer });
            }
        }
        ctx.set_timer(Tick::Tick, self.interval);
    }
}

/// `protocol: Heartbeat(interval: "100ms", timeout: "500ms")`, with an
/// optional `variant` (`Correct` by default).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatBlock {
    /// How often a node sends heartbeats.
    pub interval: HumanDuration,
    /// How long a peer may stay silent before it is suspected.
    pub timeout: HumanDuration,
    /// The correct detector or a planted bug.
    #[serde(default)]
    pub variant: HeartbeatVariant,
}

impl Harness for Heartbeat {
    const NAME: &'static str = "Heartbeat";
    const PROPERTIES: &'static [Property] = &[
        Property {
            name: "Completeness",
            kind: PropertyKind::Liveness,
            summary: "every crashed node is suspected by every up node within the bound, and stays suspected until it restarts",
            example: "Completeness(within: \"1s\")",
        },
        Property {
            name: "Accuracy",
            kind: PropertyKind::Safety,
            summary: "no node is suspected unless a crash or a down link explains it, and no suspicion outlives its reason",
            example: "",
        },
        Property {
            name: "CrashDetected",
            kind: PropertyKind::Coverage,
            summary: "some node suspected a crashed node",
            example: "",
        },
        Property {
            name: "SuspicionRevoked",
            kind: PropertyKind::Coverage,
            summary: "some suspicion ended: a node trusted a peer again",
            example: "",
        },
    ];
    type Block = HeartbeatBlock;
    type Check = HeartbeatCheck;
    type Judge = HeartbeatJudge;
    type Recorder = ();

    fn configure(block: HeartbeatBlock, scenario: &ScenarioFacts<'_>) -> Result<Self, BlockError> {
        let heartbeat = Heartbeat {
            interval: block.interval.positive(Place::field("interval"))?,
            timeout: block.timeout.positive(Place::field("timeout"))?,
            variant: block.variant,
        };
        heartbeat.fits(scenario)?;
        Ok(heartbeat)
    }

    fn check_valid(
        check: &HeartbeatCheck,
        _scenario: &ScenarioFacts<'_>,
    ) -> Result<(), BlockError> {
        if let HeartbeatCheck::Completeness { within } = check {
            within.positive(Place::field("within"))?;
        }
        Ok(())
    }

    fn judge(&self, checks: &[HeartbeatCheck], setup: &RunSetup<'_>) -> HeartbeatJudge {
        HeartbeatJudge::new(self, checks, setup)
    }

    fn recorder(&self, _setup: &RunSetup<'_>) {}

    fn charts(
        &self,
        judge: &HeartbeatJudge,
        _recorder: (),
        timeline: &mut TimelineData,
        _setup: &RunSetup<'_>,
    ) -> Vec<(String, Chart)> {
        timeline.peer_spans = judge
            .intervals()
            .iter()
            .map(|i| PeerSpan {
                node: i.observer,
                peer: i.suspect,
                start: i.start,
                end: i.end,
                mistake: i.mistake,
            })
            .collect();
        if !timeline.peer_spans.is_empty() {
            timeline.peer_verb = "suspects".to_string();
            timeline.legend = vec![
                LegendEntry::new(LegendColor::Explained, "suspected (explained)"),
                LegendEntry::new(LegendColor::Unsafe, "false suspicion"),
            ];
        }
        Vec::new()
    }
}

impl Heartbeat {
    /// Rejects what the file alone proves impossible: more heartbeats in
    /// flight at once than the run's pending-event limit.
    fn fits(&self, scenario: &ScenarioFacts<'_>) -> Result<(), BlockError> {
        let nodes = u128::from(scenario.node_count);
        let interval = u128::from(self.interval.as_nanos().max(1));
        let latency = u128::from(scenario.latency_max.as_nanos());
        // Each node sends to every peer once per interval; a message stays
        // pending for up to the largest latency.
        let in_flight = nodes * nodes.saturating_sub(1) * latency / interval + nodes;
        if in_flight > scenario.pending_max as u128 {
            return Err(BlockError::new(
                Place::field("interval"),
                format!(
                    "heartbeats every {} to {} peers with latencies up to {} keep about {in_flight} messages in flight, more than the {} pending events a run may hold (limits.pending_max): lengthen the interval, or raise the limit",
                    self.interval,
                    scenario.node_count.saturating_sub(1),
                    scenario.latency_max,
                    scenario.pending_max
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Command;
    use crate::sim::rng::{Purpose, RngStream};

    fn protocol() -> Heartbeat {
        Heartbeat {
            interval: SimDuration::from_millis(100),
            timeout: SimDuration::from_millis(500),
            variant: HeartbeatVariant::Correct,
        }
    }

    #[test]
    fn suspects_a_silent_peer_and_trusts_it_on_the_next_heartbeat() {
        let heartbeat = protocol();
        let mut rng = RngStream::new(0, Purpose::Node(0));
        let mut commands = Vec::new();
        let mut durable = Incarnation::default();
        let mut state = heartbeat.on_start(&mut Context::new(
            0,
            3,
            LocalTime::from_nanos(0),
            &mut rng,
            &mut durable,
            &mut commands,
        ));
        commands.clear();
        // Hear from node 1 at 400ms, never from node 2.
        let at = |ms: u64| LocalTime::from_nanos(ms * 1_000_000);
        heartbeat.on_message(
            &mut state,
            &mut Context::new(0, 3, at(400), &mut rng, &mut durable, &mut commands),
            1,
            Ping {
                incarnation: 1,
                beat: 1,
            },
        );
        heartbeat.on_timer(
            &mut state,
            &mut Context::new(0, 3, at(600), &mut rng, &mut durable, &mut commands),
            Tick::Tick,
        );
        let observed: Vec<Suspicion> = commands
            .iter()
            .filter_map(|c| {
                if let Command::Observe(o) = c {
                    Some(*o)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(observed, vec![Suspicion::Suspect { peer: 2 }]);
        assert!(state.suspects(2) && !state.suspects(1));
        commands.clear();
        heartbeat.on_message(
            &mut state,
            &mut Context::new(0, 3, at(700), &mut rng, &mut durable, &mut commands),
            2,
            Ping {
                incarnation: 1,
                beat: 9,
            },
        );
        assert!(matches!(
            commands.as_slice(),
            [Command::Observe(Suspicion::Trust { peer: 2 })]
        ));
    }

    #[test]
    fn each_tick_sends_to_every_peer_and_rearms() {
        let heartbeat = protocol();
        let mut rng = RngStream::new(0, Purpose::Node(1));
        let mut commands = Vec::new();
        let mut durable = Incarnation::default();
        let mut state = heartbeat.on_start(&mut Context::new(
            1,
            4,
            LocalTime::from_nanos(0),
            &mut rng,
            &mut durable,
            &mut commands,
        ));
        commands.clear();
        heartbeat.on_timer(
            &mut state,
            &mut Context::new(
                1,
                4,
                LocalTime::from_nanos(0),
                &mut rng,
                &mut durable,
                &mut commands,
            ),
            Tick::Tick,
        );
        let sent: Vec<NodeId> = commands
            .iter()
            .filter_map(|c| {
                if let Command::Send { to, .. } = c {
                    Some(*to)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(sent, vec![0, 2, 3]);
        assert!(
            matches!(commands.last(), Some(Command::SetTimer { after, .. }) if *after == SimDuration::from_millis(100))
        );
    }
}
