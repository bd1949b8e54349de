//! The Paxos chart: the timeline with each node's protocol steps as marks,
//! coloured by the ballot's proposer (dueling proposers show as interleaved
//! colours), and the moment a value was chosen as a line across all lanes.

use super::check::{ballot_name, PaxosJudge};
use super::{Paxos, PaxosObservation};
use crate::harness::RunSetup;
use crate::plot::{Chart, LegendColor, LegendEntry, Mark, MarkKind, TimelineData};
use crate::sim::{Observer, SimTime, TraceEvent, WorldView};

/// Paxos steps as chart marks, coloured by the ballot's proposer.
#[derive(Default)]
pub struct PaxosMarks {
    /// The marks, in time order.
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

/// The `paxos` chart: the timeline zoomed on where the protocol acted.
pub fn paxos_chart(
    protocol: &Paxos,
    judge: &PaxosJudge,
    recorder: PaxosMarks,
    timeline: &TimelineData,
    setup: &RunSetup<'_>,
) -> (String, Chart) {
    let mut chart = timeline.clone();
    let busy_until = recorder.marks.iter().map(|m| m.time).max();
    chart.zoom_to(busy_until.unwrap_or(chart.end).max(setup.faults_end));
    chart.marks = recorder.marks;
    chart.moments = judge
        .chosen()
        .map(|(time, ballot, value)| {
            vec![(
                *time,
                format!("{value} chosen (ballot {})", ballot_name(*ballot)),
            )]
        })
        .unwrap_or_default();
    chart.heading = "Paxos".to_string();
    chart.subtitle = format!(
        "quorum {} of {} acceptors · {}",
        protocol.quorum(),
        protocol.acceptors.len(),
        chart.subtitle
    );
    chart.legend = vec![
        LegendEntry::new(LegendColor::Plain, "○ client value"),
        LegendEntry::new(LegendColor::Group(0), "▲ prepare P<round>.<proposer>"),
        LegendEntry::new(LegendColor::Group(0), "• promise"),
        LegendEntry::new(LegendColor::Group(0), "■ accept request A<ballot> value"),
        LegendEntry::new(LegendColor::Group(0), "● accepted"),
        LegendEntry::new(LegendColor::Success, "◆ learned, | chosen"),
        LegendEntry::new(LegendColor::Group(1), "mark colour = ballot's proposer"),
    ];
    ("paxos".to_string(), Chart::Timeline(Box::new(chart)))
}
