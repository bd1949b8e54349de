//! Feeding a judge by hand: a test helper for checks.
//!
//! A judge (see [`crate::harness::Judge`]) normally watches a whole run. To
//! pin its verdicts on the boundaries of a property's definition, it is
//! simpler to show it a short, hand-built sequence of trace events. [`Feed`]
//! does that the way the engine does: it keeps the world the judge may
//! consult (node statuses, links) in step, changing the world first and then
//! showing the judge the event. [`setup`] builds the [`RunSetup`] a judge is
//! made from, [`ms`] turns milliseconds into true time, and [`violations`]
//! flattens a report for `assert_eq!`.
//!
//! ```ignore
//! use faultline::testing::{setup, violations, Feed};
//! let setup = setup(3, 10_000, &[], 0, 10, &[false; 3]);
//! let mut feed = Feed::new(MyJudge::new(&checks, &setup), 3);
//! feed.observe::<MyProtocol>(5, 0, &MyObservation::Decided { value: 1 });
//! feed.at::<MyProtocol>(7, TraceEvent::Crash { node: 1 });
//! let report = feed.report(1_000, "Agreement");
//! assert_eq!(violations(&report), vec![]);
//! ```
//!
//! docs/custom-protocol.md ("Testing your judge by hand") has a full example.

use crate::check::CheckReport;
use crate::harness::{Judge, RunSetup};
use crate::node::rng::{Purpose, RngStream};
use crate::node::{NodeId, Protocol};
use crate::sim::network::Network;
use crate::sim::{
    Latency, NetworkConfig, NodeStatus, Observer, ScheduledFault, SimDuration, SimTime, TraceEvent,
    WorldView,
};

/// Milliseconds of true time.
pub fn ms(millis: u64) -> SimTime {
    SimTime::from_nanos(millis * 1_000_000)
}

/// Each violation of a report as (milliseconds, nodes, message).
pub fn violations(report: &CheckReport) -> Vec<(u64, Vec<NodeId>, String)> {
    report
        .violations
        .iter()
        .map(|v| {
            (
                v.time.as_nanos() / 1_000_000,
                v.nodes.clone(),
                v.message.clone(),
            )
        })
        .collect()
}

/// A run setup for a judge built by hand: `node_count` nodes, seed 0, a run
/// of `duration_ms`, the given `faults` ending at `faults_end_ms`, the
/// network's latency at most `latency_max_ms`, and `absent[i]` for a node
/// that joins later.
pub fn setup<'a>(
    node_count: u32,
    duration_ms: u64,
    faults: &'a [ScheduledFault],
    faults_end_ms: u64,
    latency_max_ms: u64,
    absent: &'a [bool],
) -> RunSetup<'a> {
    RunSetup {
        node_count,
        seed: 0,
        duration: SimDuration::from_millis(duration_ms),
        faults,
        faults_end: ms(faults_end_ms),
        latency_max: SimDuration::from_millis(latency_max_ms),
        absent,
    }
}

/// A judge and the world it watches.
pub struct Feed<J> {
    /// The judge being fed.
    pub judge: J,
    network: Network,
    statuses: Vec<NodeStatus>,
    now: SimTime,
}

impl<J> Feed<J> {
    /// Every node up, every link up, at time zero.
    pub fn new(judge: J, node_count: u32) -> Self {
        let config = NetworkConfig {
            latency: Latency::Constant(SimDuration::from_millis(1)),
            drop: 0.0,
            duplicate: 0.0,
            fifo: false,
        };
        Feed {
            judge,
            network: Network::new(config, node_count, RngStream::new(0, Purpose::Network)),
            statuses: vec![NodeStatus::Up; node_count as usize],
            now: SimTime::ZERO,
        }
    }

    /// Marks a node down from the start (it joins later) without an event.
    pub fn absent(&mut self, node: NodeId) {
        self.statuses[node as usize] = NodeStatus::Crashed;
    }

    /// Applies `event` to the world at `ms` milliseconds, then shows it to the judge.
    pub fn at<P: Protocol>(&mut self, millis: u64, event: TraceEvent<'_, P>)
    where
        J: Observer<P>,
    {
        let now = ms(millis);
        assert!(now >= self.now, "events in time order");
        self.now = now;
        match event {
            TraceEvent::Crash { node } | TraceEvent::Leave { node } => {
                self.statuses[node as usize] = NodeStatus::Crashed
            }
            TraceEvent::Restart { node }
            | TraceEvent::Join { node }
            | TraceEvent::Resume { node } => self.statuses[node as usize] = NodeStatus::Up,
            TraceEvent::Pause { node, .. } => self.statuses[node as usize] = NodeStatus::Paused,
            TraceEvent::Partition { groups } => self.network.partition(groups),
            TraceEvent::Heal => self.network.heal(),
            TraceEvent::CutLink { from, to } => self.network.cut(from, to),
            TraceEvent::RestoreLink { from, to } => self.network.restore(from, to),
            _ => {}
        }
        let world = WorldView {
            network: &self.network,
            statuses: &self.statuses,
        };
        self.judge.observe(now, &event, &world);
    }

    /// An observation by `node` at `millis`, caused by no message and naming no deadline.
    pub fn observe<P: Protocol>(&mut self, millis: u64, node: NodeId, observation: &P::Observation)
    where
        J: Observer<P>,
    {
        self.observe_with(millis, node, None, None, observation)
    }

    /// An observation with its cause (a message id) and deadline (true time).
    pub fn observe_with<P: Protocol>(
        &mut self,
        millis: u64,
        node: NodeId,
        cause: Option<u64>,
        deadline: Option<SimTime>,
        observation: &P::Observation,
    ) where
        J: Observer<P>,
    {
        let local = crate::sim::LocalTime::from_nanos(millis * 1_000_000);
        self.at::<P>(
            millis,
            TraceEvent::Observe {
                node,
                local,
                cause,
                deadline,
                observation,
            },
        );
    }
}

impl<J: Judge> Feed<J> {
    /// The judge's reports with the run ending at `millis`.
    pub fn reports(&mut self, millis: u64) -> Vec<CheckReport> {
        self.judge.reports(ms(millis))
    }

    /// The one report named `name`, with the run ending at `millis`.
    pub fn report(&mut self, millis: u64, name: &str) -> CheckReport {
        let reports = self.reports(millis);
        reports
            .into_iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no {name} report"))
    }
}
