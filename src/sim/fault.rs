//! Faults as data. Every fault the engine can inject is a value with a time;
//! scenario files, the random nemesis and the shrinker all produce these.

use super::network::Latency;
use super::time::{SimDuration, SimTime};
use crate::node::NodeId;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
/// A fault the engine can inject.
pub enum Fault {
    /// Nodes talk only within their groups; a node listed in several groups
    /// (a bridge) talks to all of them. Replaces any earlier partition.
    Partition {
        /// The sides; nodes in no group form one more side.
        groups: Vec<Vec<NodeId>>,
    },
    /// Ends the partition and restores every cut link.
    Heal,
    /// Cuts one direction of one link.
    CutLink {
        /// The sending end.
        from: NodeId,
        /// The receiving end.
        to: NodeId,
    },
    /// Restores one direction of one link.
    RestoreLink {
        /// The sending end.
        from: NodeId,
        /// The receiving end.
        to: NodeId,
    },
    /// The node stops; its volatile state, timers and queued messages are lost.
    Crash {
        /// The node.
        node: NodeId,
    },
    /// A crashed node starts again from its persisted state.
    Restart {
        /// The node.
        node: NodeId,
    },
    /// The node is absent from the start of the run until now, when it starts
    /// for the first time (with no durable state).
    Join {
        /// The node.
        node: NodeId,
    },
    /// The node stops for good, as a crash it never restarts from.
    Leave {
        /// The node.
        node: NodeId,
    },
    /// Stop-the-world pause: nothing is handled until it ends, then everything
    /// that arrived or expired meanwhile is handled in order.
    Pause {
        /// The node.
        node: NodeId,
        /// How long it lasts.
        duration: SimDuration,
    },
    /// Sets the node's clock rate to `1 + ppm/1e6` of true time from now on.
    ClockDrift {
        /// The node.
        node: NodeId,
        /// Drift in parts per million (positive runs fast).
        ppm: i64,
    },
    /// Steps the node's clock forward (or backward) by `by`.
    ClockJump {
        /// The node.
        node: NodeId,
        /// How far.
        by: SimDuration,
        /// Whether the jump is backward.
        backward: bool,
    },
    /// For `duration`, messages from `from` to `to` use this loss and/or latency.
    DegradeLink {
        /// The sending end.
        from: NodeId,
        /// The receiving end.
        to: NodeId,
        /// How long it lasts.
        duration: SimDuration,
        /// The drop probability while it lasts, if changed.
        drop: Option<f64>,
        /// The latency while it lasts, if changed.
        latency: Option<Latency>,
    },
}

impl Fault {
    /// The first node this fault names that is not in `0..node_count`.
    pub fn node_outside(&self, node_count: u32) -> Option<NodeId> {
        let outside = |node: &NodeId| *node >= node_count;
        match self {
            Fault::Partition { groups } => groups.iter().flatten().copied().find(outside),
            Fault::Heal => None,
            Fault::CutLink { from, to }
            | Fault::RestoreLink { from, to }
            | Fault::DegradeLink { from, to, .. } => [*from, *to].into_iter().find(outside),
            Fault::Crash { node }
            | Fault::Restart { node }
            | Fault::Join { node }
            | Fault::Leave { node }
            | Fault::Pause { node, .. }
            | Fault::ClockDrift { node, .. }
            | Fault::ClockJump { node, .. } => Some(*node).filter(outside),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
/// A fault and when it happens.
pub struct ScheduledFault {
    /// When, in true time.
    pub at: SimTime,
    /// What.
    pub fault: Fault,
}

/// Why a fault schedule cannot run, with the index of the offending fault in
/// time order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleError {
    /// The offending fault's index in time order.
    pub index: usize,
    /// What is wrong with it.
    pub message: String,
}

/// The nodes absent at the start of the run: those that join later.
pub fn joiners(node_count: u32, faults: &[ScheduledFault]) -> Vec<bool> {
    let mut absent = vec![false; node_count as usize];
    for scheduled in faults {
        if let Fault::Join { node } = scheduled.fault {
            if let Some(slot) = absent.get_mut(node as usize) {
                *slot = true;
            }
        }
    }
    absent
}

/// Checks that a time-ordered schedule makes sense node by node: nodes in
/// range, every fault before the end, a restart only of a crashed node, no
/// crash of a crashed node, no pause of a crashed or paused node, a join only
/// of a node that has not started, nothing after a node has left.
pub fn validate_schedule(
    node_count: u32,
    duration: SimDuration,
    faults: &[ScheduledFault],
) -> Result<(), ScheduleError> {
    let mut states: Vec<NodeState> = joiners(node_count, faults)
        .iter()
        .map(|&absent| {
            if absent {
                NodeState::Absent
            } else {
                NodeState::Up
            }
        })
        .collect();
    let end = SimTime::ZERO.after(duration);
    let mut previous = SimTime::ZERO;
    for (index, scheduled) in faults.iter().enumerate() {
        let error = |message: String| ScheduleError { index, message };
        if scheduled.at < previous {
            return Err(error("faults are not in time order".into()));
        }
        previous = scheduled.at;
        if scheduled.at >= end {
            return Err(error(format!(
                "fault at {} is not before the end of the run ({})",
                scheduled.at, end
            )));
        }
        if let Some(node) = scheduled.fault.node_outside(node_count) {
            return Err(error(format!(
                "node {node} does not exist (nodes are 0..={})",
                node_count - 1
            )));
        }
        // A pause that has ended by now leaves the node up.
        for state in states.iter_mut() {
            if matches!(*state, NodeState::PausedUntil(until) if until <= scheduled.at) {
                *state = NodeState::Up;
            }
        }
        apply(&mut states, scheduled).map_err(error)?;
    }
    Ok(())
}

/// A node's state as the schedule has it.
#[derive(Clone, Copy, PartialEq)]
enum NodeState {
    Up,
    Crashed,
    PausedUntil(SimTime),
    Absent,
    Left,
}

/// Applies one fault to the nodes' states, or says why it cannot happen.
fn apply(states: &mut [NodeState], scheduled: &ScheduledFault) -> Result<(), String> {
    let at = scheduled.at;
    let Some(node) = node_of(&scheduled.fault) else {
        return Ok(());
    };
    let state = &mut states[node as usize];
    let clock = matches!(
        scheduled.fault,
        Fault::ClockDrift { .. } | Fault::ClockJump { .. }
    );
    match (*state, &scheduled.fault) {
        (NodeState::Absent | NodeState::Left, _) if clock => Ok(()),
        (NodeState::Absent, Fault::Join { .. }) => {
            *state = NodeState::Up;
            Ok(())
        }
        (NodeState::Absent, _) => Err(format!("node {node} has not joined yet at {at}")),
        (NodeState::Left, _) => Err(format!("node {node} has left at {at}")),
        (_, Fault::Join { .. }) => Err(format!(
            "node {node} cannot join at {at}: it was already running (a node joins once, and is absent until then)"
        )),
        (_, Fault::Leave { .. }) => {
            *state = NodeState::Left;
            Ok(())
        }
        (NodeState::Crashed, Fault::Crash { .. }) => {
            Err(format!("node {node} is already crashed at {at}"))
        }
        (_, Fault::Crash { .. }) => {
            *state = NodeState::Crashed;
            Ok(())
        }
        (NodeState::Crashed, Fault::Restart { .. }) => {
            *state = NodeState::Up;
            Ok(())
        }
        (_, Fault::Restart { .. }) => Err(format!(
            "node {node} is not down at {at}: only a crashed node can restart"
        )),
        (NodeState::Crashed, Fault::Pause { .. }) => {
            Err(format!("node {node} is crashed at {at} and cannot pause"))
        }
        (NodeState::PausedUntil(until), Fault::Pause { .. }) => Err(format!(
            "node {node} is already paused at {at} (until {until})"
        )),
        (_, Fault::Pause { duration, .. }) => {
            *state = NodeState::PausedUntil(at.after(*duration));
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The one node a node fault names (crash, restart, join, leave, pause, clock).
fn node_of(fault: &Fault) -> Option<NodeId> {
    match *fault {
        Fault::Crash { node }
        | Fault::Restart { node }
        | Fault::Join { node }
        | Fault::Leave { node }
        | Fault::Pause { node, .. }
        | Fault::ClockDrift { node, .. }
        | Fault::ClockJump { node, .. } => Some(node),
        _ => None,
    }
}
