//! The protocol interface. A protocol is a pure state machine: the engine calls
//! it when its node starts, restarts, receives a message or sees a timer fire,
//! and the protocol answers with commands (send, set or cancel a timer, record
//! an observation, persist durable state). It never touches the event queue,
//! the true clock, the network or another node's randomness.
//!
//! Fixed configuration lives in the protocol value (`&self`); everything a crash
//! wipes out lives in `State`; what survives a crash is whatever the protocol
//! last persisted as `Durable`, handed back to `on_restart`.

pub mod rng;
pub mod time;

use rng::RngStream;
use serde::Serialize;
use std::fmt::Debug;
use time::{LocalTime, SimDuration};

/// Nodes are numbered `0..node_count`.
pub type NodeId = u32;

/// A protocol's state machine: one value (its configuration) shared by every
/// node, handlers that the engine calls with a node's `State` and a
/// `Context`, and the types its nodes exchange, set, save and report.
pub trait Protocol {
    /// What nodes send one another.
    type Message: Clone + Debug + Serialize;
    /// Timer names. Setting a timer that is already pending replaces it.
    type Timer: Clone + PartialEq + Debug + Serialize;
    /// What survives a crash, once persisted.
    type Durable: Clone + Debug + Default + Serialize;
    /// Facts the protocol reports for checks and charts (a suspicion, a decision).
    type Observation: Clone + Debug + Serialize;
    /// Volatile state, lost on crash.
    type State: Debug;

    /// Called when a node starts for the first time (at time zero, or when
    /// it joins), with no durable state.
    fn on_start(&self, ctx: &mut Context<'_, Self>) -> Self::State;

    /// Called when a crashed node comes back, with its last persisted state
    /// (`Durable::default()` if it never persisted anything).
    fn on_restart(&self, ctx: &mut Context<'_, Self>, durable: &Self::Durable) -> Self::State;

    /// Called when `message` from `from` reaches an up node.
    fn on_message(
        &self,
        state: &mut Self::State,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        message: Self::Message,
    );

    /// Called when a timer the node set fires (and was not cancelled or
    /// replaced meanwhile).
    fn on_timer(&self, state: &mut Self::State, ctx: &mut Context<'_, Self>, timer: Self::Timer);

    /// A deadline on the observing node's clock that an observation names
    /// (a lease's expiry), if any. The trace then also gives the true time
    /// at which that clock reaches it, so an outside judge can compare it
    /// with other nodes' actions.
    fn observation_deadline(&self, _observation: &Self::Observation) -> Option<LocalTime> {
        None
    }
}

/// What a handler asks the engine to do, applied in order after it returns.
#[derive(Debug)]
pub enum Command<P: Protocol + ?Sized> {
    /// Send a message.
    Send {
        /// The destination.
        to: NodeId,
        /// The message.
        message: P::Message,
    },
    /// Fire a timer after a span of the node's local time.
    SetTimer {
        /// Which timer (replaces a pending one that is equal).
        timer: P::Timer,
        /// After how long, on the node's clock.
        after: SimDuration,
    },
    /// Cancel a pending timer.
    CancelTimer {
        /// Which timer.
        timer: P::Timer,
    },
    /// Report an observation to the trace, the checks and the charts.
    Observe(P::Observation),
    /// The handler saved durable state. The state itself is already in
    /// place (nothing can happen to a node in the middle of a handler); the
    /// command marks where in the handler's output it was saved.
    Persist,
}

/// A handler's view of its node: who it is, what its local clock reads, its own
/// random stream, its durable storage, and a buffer for its commands.
pub struct Context<'a, P: Protocol + ?Sized> {
    node: NodeId,
    node_count: u32,
    now: LocalTime,
    rng: &'a mut RngStream,
    durable: &'a mut P::Durable,
    commands: &'a mut Vec<Command<P>>,
}

impl<'a, P: Protocol + ?Sized> Context<'a, P> {
    /// Made by the engine (and by protocol unit tests).
    pub fn new(
        node: NodeId,
        node_count: u32,
        now: LocalTime,
        rng: &'a mut RngStream,
        durable: &'a mut P::Durable,
        commands: &'a mut Vec<Command<P>>,
    ) -> Self {
        Context {
            node,
            node_count,
            now,
            rng,
            durable,
            commands,
        }
    }

    /// This node.
    pub fn id(&self) -> NodeId {
        self.node
    }

    /// How many nodes the run has (`0..node_count`).
    pub fn node_count(&self) -> u32 {
        self.node_count
    }

    /// Every node except this one.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> {
        let me = self.node;
        (0..self.node_count).filter(move |&n| n != me)
    }

    /// The node's local clock (which may drift or jump relative to true time).
    pub fn now(&self) -> LocalTime {
        self.now
    }

    /// The node's own random stream.
    pub fn rng(&mut self) -> &mut RngStream {
        self.rng
    }

    /// Sends `message` to node `to`.
    pub fn send(&mut self, to: NodeId, message: P::Message) {
        self.commands.push(Command::Send { to, message });
    }

    /// Sends a copy to every other node, in node order.
    pub fn broadcast(&mut self, message: P::Message) {
        for to in 0..self.node_count {
            if to != self.node {
                self.commands.push(Command::Send {
                    to,
                    message: message.clone(),
                });
            }
        }
    }

    /// Fires `timer` once the local clock has advanced by `after`.
    pub fn set_timer(&mut self, timer: P::Timer, after: SimDuration) {
        self.commands.push(Command::SetTimer { timer, after });
    }

    /// Cancels `timer` if it is pending.
    pub fn cancel_timer(&mut self, timer: P::Timer) {
        self.commands.push(Command::CancelTimer { timer });
    }

    /// Reports a fact for the checks, the charts and the trace.
    pub fn observe(&mut self, observation: P::Observation) {
        self.commands.push(Command::Observe(observation));
    }

    /// Saves durable state. It takes effect before any later command of the
    /// same handler, so "persist, then reply" is safe against crashes.
    pub fn persist(&mut self, durable: P::Durable) {
        *self.durable = durable;
        self.commands.push(Command::Persist);
    }
}
