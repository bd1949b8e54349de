//! The consistent-hashing chart, as a figure of generic panels:
//!
//! 1. ownership disagreement over time: the share of sampled keys whose
//!    primary owner is not the same in every up node's membership view, with
//!    partitions as shaded bands and the end of the last fault marked, and
//!    under it the requests never served and misrouted per 100ms;
//! 2. keys per node, relative to the mean, for the ring at 1, 10, 100 and 1000
//!    virtual nodes, modulo and rendezvous, side by side;
//! 3. the share of keys that moved at each join or leave, per scheme, against
//!    the ideal 1/n;
//! 4. the ring: each virtual node a tick at its position, coloured by node.

use super::check::HashingJudge;
use super::placement::{balance, key_hash, key_name, moved_fraction, Placement, Scheme};
use super::Hashing;
use crate::harness::RunSetup;
use crate::node::NodeId;
use crate::plot::{
    BarGridPanel, BarGroup, Chart, CountsPanel, Figure, FigureRow, GroupsPanel, Panel, RingPanel,
    SeriesColor, StepsPanel, TimelineData,
};
use crate::sim::SimDuration;

/// The `hashing` chart.
pub fn hashing_chart(
    protocol: &Hashing,
    judge: &HashingJudge,
    timeline: &TimelineData,
    setup: &RunSetup<'_>,
) -> (String, Chart) {
    let keys: Vec<u64> = (0..protocol.keys)
        .map(|i| key_hash(key_name(i).as_bytes()))
        .collect();
    let initial = &protocol.members_initial;
    let figure = Figure {
        title: format!("Consistent hashing — {}", timeline.title),
        subtitle: timeline.subtitle.clone(),
        rows: vec![
            FigureRow {
                height: 250,
                panels: vec![(0, Panel::Steps(disagreement(judge, timeline, setup)))],
            },
            FigureRow {
                height: 110,
                panels: vec![(0, Panel::Counts(requests(judge, timeline)))],
            },
            FigureRow {
                height: 560,
                panels: vec![
                    (620, Panel::BarGrid(loads(initial, &keys))),
                    (430, Panel::Groups(moves(protocol, judge, &keys))),
                    (0, Panel::Ring(ring(protocol, initial))),
                ],
            },
        ],
    };
    ("hashing".to_string(), Chart::Figure(figure))
}

fn label(scheme: Scheme) -> String {
    match scheme {
        Scheme::Ring { vnodes } => format!("ring, {vnodes} vnodes"),
        Scheme::Modulo => "modulo".to_string(),
        Scheme::Rendezvous => "rendezvous".to_string(),
    }
}

fn short(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::Modulo => "mod",
        Scheme::Rendezvous => "rdv",
        Scheme::Ring { .. } => "ring",
    }
}

fn disagreement(judge: &HashingJudge, timeline: &TimelineData, setup: &RunSetup<'_>) -> StepsPanel {
    let group_text = |groups: &[Vec<NodeId>]| {
        let groups: Vec<String> = groups
            .iter()
            .map(|g| {
                let members: Vec<String> = g.iter().map(ToString::to_string).collect();
                format!("{{{}}}", members.join(","))
            })
            .collect();
        format!("partition {}", groups.join(" | "))
    };
    StepsPanel {
        caption: "Ownership disagreement between membership views".to_string(),
        value_label: "% of keys".to_string(),
        value_max: 100.0,
        end: timeline.end,
        bands: timeline
            .partitions
            .iter()
            .map(|p| (p.start, p.end, group_text(&p.groups)))
            .collect(),
        steps: judge
            .series
            .iter()
            .map(|&(time, value)| (time, value * 100.0))
            .collect(),
        marker: Some((setup.faults_end, "last fault over".to_string())),
    }
}

fn requests(judge: &HashingJudge, timeline: &TimelineData) -> CountsPanel {
    let failed = judge.failed_at();
    CountsPanel {
        value_label: "per 100ms".to_string(),
        end: timeline.end,
        bucket: SimDuration::from_millis(100),
        note: format!(
            "requests: red, never served ({} in all); orange, misrouted: the receiver is no owner in its own view ({})",
            failed.len(),
            judge.misrouted_at.len()
        ),
        series: vec![
            (SeriesColor::Bad, failed),
            (SeriesColor::Warning, judge.misrouted_at.clone()),
        ],
    }
}

fn loads(initial: &[NodeId], keys: &[u64]) -> BarGridPanel {
    let schemes = [
        Scheme::Ring { vnodes: 1 },
        Scheme::Ring { vnodes: 10 },
        Scheme::Ring { vnodes: 100 },
        Scheme::Ring { vnodes: 1000 },
        Scheme::Modulo,
        Scheme::Rendezvous,
    ];
    let charts = schemes
        .iter()
        .map(|&scheme| {
            let stats = balance(&Placement::new(scheme, initial), keys);
            let total: u64 = stats.loads.iter().map(|(_, load)| *load).sum();
            let mean = total as f64 / stats.loads.len().max(1) as f64;
            let bars = stats
                .loads
                .iter()
                .map(|(node, load)| {
                    let ratio = if mean > 0.0 { *load as f64 / mean } else { 0.0 };
                    (ratio, *node)
                })
                .collect();
            (format!("{} (cv {:.3})", label(scheme), stats.cv), bars)
        })
        .collect();
    BarGridPanel {
        caption: "Keys per node ÷ mean (1.0 is perfect balance)".to_string(),
        columns: 3,
        value_max: 3.0,
        reference: Some(1.0),
        charts,
    }
}

fn moves(protocol: &Hashing, judge: &HashingJudge, keys: &[u64]) -> GroupsPanel {
    let memberships = judge.memberships();
    let groups = judge
        .movements()
        .iter()
        .zip(memberships.windows(2))
        .map(|((at, change, _), pair)| {
            // The scenario's own scheme, then the two others for comparison.
            let mut compared = vec![protocol.scheme];
            for other in [
                Scheme::Ring { vnodes: 200 },
                Scheme::Modulo,
                Scheme::Rendezvous,
            ] {
                if std::mem::discriminant(&other) != std::mem::discriminant(&protocol.scheme) {
                    compared.push(other);
                }
            }
            let bars = compared
                .iter()
                .map(|&scheme| {
                    let fraction = moved_fraction(
                        &Placement::new(scheme, &pair[0].1),
                        &Placement::new(scheme, &pair[1].1),
                        keys,
                    );
                    (
                        format!("{} {:.0}%", short(scheme), fraction * 100.0),
                        fraction * 100.0,
                        scheme == Scheme::Modulo,
                    )
                })
                .collect();
            let larger = pair[0].1.len().max(pair[1].1.len()).max(1);
            BarGroup {
                label: format!("{change:?} at {at}"),
                bars,
                reference: Some(100.0 / larger as f64),
            }
        })
        .collect();
    GroupsPanel {
        caption: "Keys moved per join/leave (line: ideal 1/n; red: modulo)".to_string(),
        value_label: "% of keys".to_string(),
        value_max: 100.0,
        empty_note: "no join or leave in this scenario".to_string(),
        groups,
    }
}

fn ring(protocol: &Hashing, initial: &[NodeId]) -> RingPanel {
    RingPanel {
        caption: "The ring".to_string(),
        points: Placement::new(protocol.scheme, initial)
            .ring_points()
            .collect(),
        note: "outer ticks: virtual nodes; inner band: the arcs each node owns".to_string(),
        empty_note: "(no ring: this scheme has none)".to_string(),
    }
}
