//! Heartbeat failure detector.
//!
//! Every node sends a heartbeat to every peer once per `interval` and notes, on
//! its own local clock, when it last heard from each peer. On each tick it
//! suspects every peer it has not heard from for longer than `timeout`, and it
//! trusts a suspected peer again as soon as a heartbeat from it arrives. This is
//! an eventually perfect detector (◇P) in a partially synchronous network: once
//! latencies stay below `timeout - interval`, it stops making mistakes.
//!
//! It cannot tell a crashed peer from a slow, paused or unreachable one, so it
//! will suspect a paused peer or one behind a partition: the checks decide
//! which suspicions were mistakes. Suspicions are only evaluated on ticks, so a
//! crash is detected within `timeout + interval` plus one message latency.
//!
//! Nothing is persisted: a restarted node starts by trusting everyone, with a
//! fresh grace period of `timeout`.
//!
//! Two known-bug variants exist so that tests can show the checks catching
//! them: `NeverSuspect` ignores silence (Completeness must fail) and
//! `NeverTrust` never takes a suspicion back (Accuracy must fail once a
//! partition heals).

use crate::node::{Context, NodeId, Protocol};
use crate::sim::time::{LocalTime, SimDuration};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq)]
pub struct Heartbeat {
    pub interval: SimDuration,
    pub timeout: SimDuration,
    pub variant: HeartbeatVariant,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum HeartbeatVariant {
    #[default]
    Correct,
    /// Bug: never suspects anyone.
    NeverSuspect,
    /// Bug: a suspected peer stays suspected forever.
    NeverTrust,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ping {
    /// The sender's tick count since it last started, for reading traces.
    pub beat: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Tick {
    Tick,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum Suspicion {
    Suspect { peer: NodeId },
    Trust { peer: NodeId },
}

/// The failure detector's bookkeeping, shared by every protocol that needs
/// one (the heartbeat protocol itself, the hashing protocol's membership).
#[derive(Debug, Clone)]
pub struct Detector {
    /// Per node: when we last heard from it (or started), on our local clock.
    heard_last: Vec<LocalTime>,
    /// Per node: whether we currently suspect it.
    suspected: Vec<bool>,
}

impl Detector {
    /// Everyone trusted, as if just heard from at `now`.
    pub fn new(node_count: u32, now: LocalTime) -> Self {
        Detector {
            heard_last: vec![now; node_count as usize],
            suspected: vec![false; node_count as usize],
        }
    }

    pub fn suspects(&self, peer: NodeId) -> bool {
        self.suspected[peer as usize]
    }

    /// Notes a heartbeat from `peer`; returns true if that ends a suspicion
    /// (when `may_trust` allows it).
    pub fn heard(&mut self, peer: NodeId, now: LocalTime, may_trust: bool) -> bool {
        // Local clocks can step backwards; keep the latest reading.
        self.heard_last[peer as usize] = self.heard_last[peer as usize].max(now);
        if self.suspected[peer as usize] && may_trust {
            self.suspected[peer as usize] = false;
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
        for peer in 0..self.heard_last.len() as NodeId {
            let silent_for = now.since(self.heard_last[peer as usize]);
            if peer != me && !self.suspected[peer as usize] && silent_for > timeout {
                self.suspected[peer as usize] = true;
                suspects.push(peer);
            }
        }
        suspects
    }
}

#[derive(Debug)]
pub struct HeartbeatState {
    detector: Detector,
    beat: u64,
}

impl HeartbeatState {
    pub fn suspects(&self, peer: NodeId) -> bool {
        self.detector.suspects(peer)
    }
}

impl Heartbeat {
    fn fresh_state(&self, ctx: &mut Context<'_, Self>) -> HeartbeatState {
        // The first tick comes at a random phase within one interval, drawn from
        // the node's own stream, so nodes do not all beat at the same instant.
        let phase = SimDuration::from_nanos(ctx.rng().below(self.interval.as_nanos().max(1)));
        ctx.set_timer(Tick::Tick, phase);
        HeartbeatState {
            detector: Detector::new(ctx.node_count(), ctx.now()),
            beat: 0,
        }
    }
}

impl Protocol for Heartbeat {
    type Message = Ping;
    type Timer = Tick;
    type Durable = ();
    type Observation = Suspicion;
    type State = HeartbeatState;

    fn on_start(&self, ctx: &mut Context<'_, Self>) -> HeartbeatState {
        self.fresh_state(ctx)
    }

    fn on_restart(&self, ctx: &mut Context<'_, Self>, _durable: &()) -> HeartbeatState {
        self.fresh_state(ctx)
    }

    fn on_message(
        &self,
        state: &mut HeartbeatState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        _message: Ping,
    ) {
        let may_trust = self.variant != HeartbeatVariant::NeverTrust;
        if state.detector.heard(from, ctx.now(), may_trust) {
            ctx.observe(Suspicion::Trust { peer: from });
        }
    }

    fn on_timer(&self, state: &mut HeartbeatState, ctx: &mut Context<'_, Self>, _timer: Tick) {
        state.beat += 1;
        ctx.broadcast(Ping { beat: state.beat });
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
        let mut durable = ();
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
            Ping { beat: 1 },
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
            Ping { beat: 9 },
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
        let mut durable = ();
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
