//! The election on the timeline: on each node's mark row, a triangle where
//! it stood as a candidate, a dot where it voted, a ringed dot where it won
//! and a bar while it led, all coloured by term, so that two leaders of one
//! term show as two bars of one colour. Lines mark the end of the faults and
//! the first leader the cluster followed after them.

use crate::check::ElectionJudge;
use crate::protocol::{Election, ElectionObservation};
use faultline::prelude::*;

/// Records the marks and leadership bars while a run is charted.
pub struct ElectionMarks {
    marks: Vec<Mark>,
    spans: Vec<MarkSpan>,
    /// Per node: since when and in which term it leads, while it does.
    leading_since: Vec<Option<(SimTime, u64)>>,
}

impl ElectionMarks {
    /// A recorder for `node_count` nodes.
    pub fn new(node_count: u32) -> Self {
        ElectionMarks {
            marks: Vec::new(),
            spans: Vec::new(),
            leading_since: vec![None; node_count as usize],
        }
    }

    fn mark(&mut self, node: NodeId, time: SimTime, kind: MarkKind, term: u64, label: String) {
        self.marks.push(Mark {
            node,
            time,
            kind,
            group: term_group(term),
            label,
        });
    }

    /// Ends `node`'s leadership bar, if it has one open.
    fn end_leading(&mut self, node: NodeId, now: SimTime) {
        if let Some((start, term)) = self.leading_since[node as usize].take() {
            self.spans.push(MarkSpan {
                node,
                start,
                end: now,
                group: term_group(term),
                label: format!("leader, term {term}"),
            });
        }
    }

    fn on_observation(&mut self, now: SimTime, node: NodeId, observation: ElectionObservation) {
        match observation {
            ElectionObservation::BecameCandidate { term } => {
                self.end_leading(node, now);
                self.mark(node, now, MarkKind::Start, term, format!("C{term}"));
            }
            ElectionObservation::BecameLeader { term } => {
                self.mark(node, now, MarkKind::Accept, term, String::new());
                self.leading_since[node as usize] = Some((now, term));
            }
            ElectionObservation::BecameFollower { .. } => self.end_leading(node, now),
            ElectionObservation::Voted { term, candidate } if candidate != node => {
                self.mark(node, now, MarkKind::Vote, term, String::new());
            }
            ElectionObservation::Voted { .. } => {}
        }
    }

    /// The marks and bars, with bars still open ending at `end`.
    fn finish(mut self, end: SimTime) -> (Vec<Mark>, Vec<MarkSpan>) {
        for node in 0..self.leading_since.len() as NodeId {
            self.end_leading(node, end);
        }
        (self.marks, self.spans)
    }
}

/// A term's colour group: the timeline cycles through its palette by group.
/// A term past `u32::MAX` wraps, which changes nothing but its colour.
fn term_group(term: u64) -> u32 {
    term as u32
}

impl Observer<Election> for ElectionMarks {
    fn observe(&mut self, now: SimTime, event: &TraceEvent<'_, Election>, _world: &WorldView<'_>) {
        match *event {
            TraceEvent::Observe {
                node, observation, ..
            } => self.on_observation(now, node, *observation),
            TraceEvent::Crash { node } | TraceEvent::Leave { node } => self.end_leading(node, now),
            _ => {}
        }
    }
}

/// Adds the election to the run's timeline: marks, bars, moments, heading
/// and legend.
pub(crate) fn decorate_timeline(
    election: &Election,
    judge: &ElectionJudge,
    recorder: ElectionMarks,
    timeline: &mut TimelineData,
    setup: &RunSetup<'_>,
) {
    let (marks, spans) = recorder.finish(timeline.end);
    timeline.marks = marks;
    timeline.spans = spans;
    timeline.moments = moments(judge, setup);
    timeline.heading = "Raft leader election".to_string();
    timeline.subtitle = format!(
        "election timeout {}–{}, heartbeat {} · {}",
        election.election_timeout_min,
        election.election_timeout_max,
        election.heartbeat,
        timeline.subtitle
    );
    timeline.legend = vec![
        LegendEntry::new(LegendColor::Group(1), "▲ became candidate C<term>"),
        LegendEntry::new(LegendColor::Group(1), "• voted for another node"),
        LegendEntry::new(LegendColor::Group(1), "● became leader, bar: leading"),
        LegendEntry::new(
            LegendColor::Plain,
            "colour = term; | faults over, leader followed",
        ),
    ];
}

/// Lines across the lanes: when the faults were over, and when the cluster
/// first followed a leader after that. Two lines too close to read apart
/// (within 2% of the run) are drawn as one.
fn moments(judge: &ElectionJudge, setup: &RunSetup<'_>) -> Vec<(SimTime, String)> {
    let mut moments = Vec::new();
    if setup.faults_end > SimTime::ZERO {
        moments.push((setup.faults_end, "faults over".to_string()));
    }
    let Some(elected) = judge.elected() else {
        return moments;
    };
    let leads = format!("node {} leads term {}", elected.node, elected.term);
    let close = SimDuration::from_nanos(setup.duration.as_nanos() / 50);
    match moments.first_mut() {
        Some((time, label)) if elected.time.since(*time) <= close => {
            *label = format!("{label}; {leads} at {}", elected.time);
        }
        _ => moments.push((elected.time, leads)),
    }
    moments
}
