//! Records what the timeline chart shows: crash and pause intervals,
//! partitions, cut and degraded links, clock changes.

use crate::check::heartbeat::SuspicionInterval;
use crate::check::paxos::ballot_name;
use crate::node::{NodeId, Protocol};
use crate::plot::{LinkSpan, Mark, MarkKind, NodeSpan, PartitionSpan, PeerSpan, TimelineData};
use crate::protocols::paxos::{Paxos, PaxosObservation};
use crate::sim::{Observer, SimTime, TraceEvent, WorldView};

pub struct TimelineRecorder {
    data: TimelineData,
    crashed_since: Vec<Option<SimTime>>,
    paused_since: Vec<Option<SimTime>>,
    partition_since: Option<(SimTime, Vec<Vec<NodeId>>)>,
    cut_since: Vec<(NodeId, NodeId, SimTime)>,
    degraded_since: Vec<(NodeId, NodeId, SimTime)>,
}

impl TimelineRecorder {
    pub fn new(node_count: u32) -> Self {
        TimelineRecorder {
            data: TimelineData {
                node_count,
                ..TimelineData::default()
            },
            crashed_since: vec![None; node_count as usize],
            paused_since: vec![None; node_count as usize],
            partition_since: None,
            cut_since: Vec::new(),
            degraded_since: Vec::new(),
        }
    }

    pub fn set_suspicions(&mut self, intervals: &[SuspicionInterval]) {
        self.data.peer_spans = intervals
            .iter()
            .map(|i| PeerSpan {
                node: i.observer,
                peer: i.suspect,
                start: i.start,
                end: i.end,
                mistake: i.mistake,
            })
            .collect();
    }

    fn end_partition(&mut self, now: SimTime) {
        if let Some((start, groups)) = self.partition_since.take() {
            self.data.partitions.push(PartitionSpan {
                start,
                end: now,
                groups,
            });
        }
    }

    fn end_cut(&mut self, from: NodeId, to: NodeId, now: SimTime) {
        if let Some(index) = self
            .cut_since
            .iter()
            .position(|&(f, t, _)| f == from && t == to)
        {
            let (from, to, start) = self.cut_since.remove(index);
            self.data.cuts.push(LinkSpan {
                from,
                to,
                start,
                end: now,
            });
        }
    }

    /// Closes every open interval at the end of the run.
    pub fn finish(mut self, end: SimTime) -> TimelineData {
        for node in 0..self.data.node_count {
            if let Some(start) = self.crashed_since[node as usize].take() {
                self.data.crashed.push(NodeSpan { node, start, end });
            }
            if let Some(start) = self.paused_since[node as usize].take() {
                self.data.paused.push(NodeSpan { node, start, end });
            }
        }
        self.end_partition(end);
        for (from, to, _) in self.cut_since.clone() {
            self.end_cut(from, to, end);
        }
        for (from, to, start) in std::mem::take(&mut self.degraded_since) {
            self.data.degraded.push(LinkSpan {
                from,
                to,
                start,
                end,
            });
        }
        self.data.end = end;
        self.data
    }
}

impl<P: Protocol> Observer<P> for TimelineRecorder {
    fn observe(&mut self, now: SimTime, event: &TraceEvent<'_, P>, _world: &WorldView<'_>) {
        match *event {
            TraceEvent::Crash { node } => {
                if let Some(start) = self.paused_since[node as usize].take() {
                    self.data.paused.push(NodeSpan {
                        node,
                        start,
                        end: now,
                    });
                }
                self.crashed_since[node as usize] = Some(now);
            }
            TraceEvent::Restart { node } => {
                if let Some(start) = self.crashed_since[node as usize].take() {
                    self.data.crashed.push(NodeSpan {
                        node,
                        start,
                        end: now,
                    });
                }
            }
            TraceEvent::Pause { node, .. } => self.paused_since[node as usize] = Some(now),
            TraceEvent::Resume { node } => {
                if let Some(start) = self.paused_since[node as usize].take() {
                    self.data.paused.push(NodeSpan {
                        node,
                        start,
                        end: now,
                    });
                }
            }
            TraceEvent::Partition { groups } => {
                self.end_partition(now);
                self.partition_since = Some((now, groups.to_vec()));
            }
            TraceEvent::Heal => {
                self.end_partition(now);
                for (from, to, _) in self.cut_since.clone() {
                    self.end_cut(from, to, now);
                }
            }
            TraceEvent::CutLink { from, to }
                if !self.cut_since.iter().any(|&(f, t, _)| f == from && t == to) =>
            {
                self.cut_since.push((from, to, now));
            }
            TraceEvent::RestoreLink { from, to } => self.end_cut(from, to, now),
            TraceEvent::DegradeLink { from, to, .. } => self.degraded_since.push((from, to, now)),
            TraceEvent::DegradeEnd { from, to } => {
                if let Some(index) = self
                    .degraded_since
                    .iter()
                    .position(|&(f, t, _)| f == from && t == to)
                {
                    let (from, to, start) = self.degraded_since.remove(index);
                    self.data.degraded.push(LinkSpan {
                        from,
                        to,
                        start,
                        end: now,
                    });
                }
            }
            TraceEvent::ClockDrift { node, ppm } => {
                self.data
                    .clock_changes
                    .push((now, node, format!("{ppm:+} ppm")))
            }
            TraceEvent::ClockJump { node, by, backward } => {
                let sign = if backward { "-" } else { "+" };
                self.data
                    .clock_changes
                    .push((now, node, format!("jump {sign}{by}")))
            }
            _ => {}
        }
    }
}

/// Paxos steps as chart marks, coloured by the ballot's proposer.
#[derive(Default)]
pub struct PaxosMarks {
    pub marks: Vec<Mark>,
}

impl Observer<Paxos> for PaxosMarks {
    fn observe(&mut self, now: SimTime, event: &TraceEvent<'_, Paxos>, _world: &WorldView<'_>) {
        let TraceEvent::Observe {
            node, observation, ..
        } = event
        else {
            return;
        };
        let (kind, ballot, label) = match observation {
            PaxosObservation::ClientValue { value } => (MarkKind::Input, None, value.to_string()),
            PaxosObservation::Prepare { ballot } => (
                MarkKind::Start,
                Some(*ballot),
                format!("P{}", ballot_name(*ballot)),
            ),
            PaxosObservation::Promise { ballot } => (MarkKind::Vote, Some(*ballot), String::new()),
            PaxosObservation::Propose { ballot, value } => (
                MarkKind::Propose,
                Some(*ballot),
                format!("A{} {value}", ballot_name(*ballot)),
            ),
            PaxosObservation::Accept { ballot, .. } => {
                (MarkKind::Accept, Some(*ballot), String::new())
            }
            PaxosObservation::Learn { ballot, value } => (
                MarkKind::Decide,
                Some(*ballot),
                format!("{value} @{}", ballot_name(*ballot)),
            ),
        };
        let group = ballot.map_or(*node, |b| b.proposer);
        self.marks.push(Mark {
            node: *node,
            time: now,
            kind,
            group,
            label,
        });
    }
}
