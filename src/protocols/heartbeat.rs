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

#[derive(Debug)]
pub struct HeartbeatState {
    /// Per node: when we last heard from it (or started), on our local clock.
    heard_last: Vec<LocalTime>,
    /// Per node: whether we currently suspect it.
    suspected: Vec<bool>,
    beat: u64,
}

impl HeartbeatState {
    pub fn suspects(&self, peer: NodeId) -> bool {
        self.suspected[peer as usize]
    }
}

impl Heartbeat {
    fn fresh_state(&self, ctx: &mut Context<'_, Self>) -> HeartbeatState {
        // The first tick comes at a random phase within one interval, drawn from
        // the node's own stream, so nodes do not all beat at the same instant.
        let phase = SimDuration::from_nanos(ctx.rng().below(self.interval.as_nanos().max(1)));
        ctx.set_timer(Tick::Tick, phase);
        let count = ctx.node_count() as usize;
        HeartbeatState {
            heard_last: vec![ctx.now(); count],
            suspected: vec![false; count],
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
        let now = ctx.now();
        // Local clocks can step backwards; keep the latest reading.
        state.heard_last[from as usize] = state.heard_last[from as usize].max(now);
        if state.suspected[from as usize] && self.variant != HeartbeatVariant::NeverTrust {
            state.suspected[from as usize] = false;
            ctx.observe(Suspicion::Trust { peer: from });
        }
    }

    fn on_timer(&self, state: &mut HeartbeatState, ctx: &mut Context<'_, Self>, _timer: Tick) {
        state.beat += 1;
        ctx.broadcast(Ping { beat: state.beat });
        let now = ctx.now();
        for peer in 0..ctx.node_count() {
            let silent_for = now.since(state.heard_last[peer as usize]);
            let may_suspect = self.variant != HeartbeatVariant::NeverSuspect;
            if may_suspect
                && peer != ctx.id()
                && !state.suspected[peer as usize]
                && silent_for > self.timeout
            {
                state.suspected[peer as usize] = true;
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
        let mut state = heartbeat.on_start(&mut Context::new(
            0,
            3,
            LocalTime::from_nanos(0),
            &mut rng,
            &mut commands,
        ));
        commands.clear();
        // Hear from node 1 at 400ms, never from node 2.
        let at = |ms: u64| LocalTime::from_nanos(ms * 1_000_000);
        heartbeat.on_message(
            &mut state,
            &mut Context::new(0, 3, at(400), &mut rng, &mut commands),
            1,
            Ping { beat: 1 },
        );
        heartbeat.on_timer(
            &mut state,
            &mut Context::new(0, 3, at(600), &mut rng, &mut commands),
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
            &mut Context::new(0, 3, at(700), &mut rng, &mut commands),
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
        let mut state = heartbeat.on_start(&mut Context::new(
            1,
            4,
            LocalTime::from_nanos(0),
            &mut rng,
            &mut commands,
        ));
        commands.clear();
        heartbeat.on_timer(
            &mut state,
            &mut Context::new(1, 4, LocalTime::from_nanos(0), &mut rng, &mut commands),
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
