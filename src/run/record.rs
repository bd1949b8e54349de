//! Records what the timeline chart shows: crash and pause intervals,
//! partitions, cut and degraded links, clock changes.

use crate::node::{NodeId, Protocol};
use crate::plot::{LinkSpan, NodeSpan, PartitionSpan, TimelineData};
use crate::sim::{Observer, SimTime, TraceEvent, WorldView};

/// Watches a run for what the timeline shows, for any protocol.
pub struct TimelineRecorder {
    data: TimelineData,
    crashed_since: Vec<Option<SimTime>>,
    paused_since: Vec<Option<SimTime>>,
    partition_since: Option<(SimTime, Vec<Vec<NodeId>>)>,
    cut_since: Vec<(NodeId, NodeId, SimTime)>,
    degraded_since: Vec<(NodeId, NodeId, SimTime)>,
}

impl TimelineRecorder {
    /// A recorder for `node_count` nodes, all up (`absent` ones down from the start).
    pub fn new(node_count: u32, absent: &[bool]) -> Self {
        TimelineRecorder {
            data: TimelineData {
                node_count,
                ..TimelineData::default()
            },
            crashed_since: (0..node_count as usize)
                .map(|node| {
                    absent
                        .get(node)
                        .copied()
                        .unwrap_or(false)
                        .then_some(SimTime::ZERO)
                })
                .collect(),
            paused_since: vec![None; node_count as usize],
            partition_since: None,
            cut_since: Vec::new(),
            degraded_since: Vec::new(),
        }
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
            TraceEvent::Crash { node } | TraceEvent::Leave { node } => {
                if let Some(start) = self.paused_since[node as usize].take() {
                    self.data.paused.push(NodeSpan {
                        node,
                        start,
                        end: now,
                    });
                }
                self.crashed_since[node as usize] = Some(now);
            }
            TraceEvent::Restart { node } | TraceEvent::Join { node } => {
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
