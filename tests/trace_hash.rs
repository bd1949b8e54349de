//! The trace hash is taken over a binary encoding of the events, not over the
//! JSON text, so it must be shown to see every field: for each kind of event
//! the engine documents, a base event and one copy per field with only that
//! field changed (the time too) must all hash differently. Payloads
//! (messages, timers, observations, durable state) are a protocol's own
//! types; a test protocol with a few field shapes stands for them.

mod common;

use faultline::node::{Context, NodeId, Protocol};
use faultline::sim::network::{DropReason, Latency};
use faultline::sim::{
    LocalTime, Observer, SimDuration, SimTime, TraceEvent, TraceWriter, WorldView,
};
use serde::Serialize;
use std::collections::BTreeSet;

/// A protocol whose payloads have the shapes real ones have: tagged enums,
/// options, strings, sequences.
struct Probe;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
enum Message {
    Ask { id: u64, note: Option<String> },
    Tell { id: u64, values: Vec<u32> },
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
struct Durable {
    ballot: u64,
    value: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
enum Observation {
    Decided {
        value: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        round: Option<u64>,
    },
}

impl Protocol for Probe {
    type Message = Message;
    type Timer = u32;
    type Durable = Durable;
    type Observation = Observation;
    type State = ();

    fn on_start(&self, _: &mut Context<'_, Self>) {}
    fn on_restart(&self, _: &mut Context<'_, Self>, _: &Durable) {}
    fn on_message(&self, _: &mut (), _: &mut Context<'_, Self>, _: NodeId, _: Message) {}
    fn on_timer(&self, _: &mut (), _: &mut Context<'_, Self>, _: u32) {}
}

fn hash(time: u64, event: &TraceEvent<'_, Probe>) -> String {
    let (network, statuses) = common::quiet_world(3);
    let world = WorldView {
        network: &network,
        statuses: &statuses,
    };
    let mut writer = TraceWriter::<Vec<u8>>::new(None);
    writer.observe(SimTime::from_nanos(time), event, &world);
    writer.hash_hex()
}

fn kind(event: &TraceEvent<'_, Probe>) -> String {
    let json = serde_json::to_value(event).unwrap();
    json["kind"].as_str().unwrap().to_string()
}

/// The engine kinds `docs/trace-format.md` documents (its `### \`kind\``
/// headings).
fn documented_kinds() -> BTreeSet<String> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/trace-format.md"),
    )
    .unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix("### `"))
        .filter_map(|rest| rest.strip_suffix('`'))
        .map(str::to_string)
        .collect()
}

const SECOND: SimDuration = SimDuration::from_secs(1);

/// Every kind with one field changed at a time, in groups of events that
/// must all hash apart (the first of each group is the base).
fn groups<'a>(
    ask: &'a Message,
    asks: &'a [Message],
    durables: &'a [Durable],
    observations: &'a [Observation],
    groups_of_nodes: &'a [Vec<Vec<NodeId>>],
    latencies: &'a [Latency],
) -> Vec<Vec<TraceEvent<'a, Probe>>> {
    use TraceEvent as E;
    let two = SimDuration::from_secs(2);
    vec![
        vec![E::Start { node: 0 }, E::Start { node: 1 }],
        vec![E::Restart { node: 0 }, E::Restart { node: 1 }],
        vec![E::Crash { node: 0 }, E::Crash { node: 1 }],
        vec![E::Join { node: 0 }, E::Join { node: 1 }],
        vec![E::Leave { node: 0 }, E::Leave { node: 1 }],
        vec![
            E::Pause {
                node: 0,
                duration: SECOND,
            },
            E::Pause {
                node: 1,
                duration: SECOND,
            },
            E::Pause {
                node: 0,
                duration: two,
            },
        ],
        vec![E::Resume { node: 0 }, E::Resume { node: 1 }],
        asks.iter()
            .map(|message| E::Send {
                node: 0,
                to: 1,
                id: 5,
                message,
            })
            .chain([
                E::Send {
                    node: 2,
                    to: 1,
                    id: 5,
                    message: ask,
                },
                E::Send {
                    node: 0,
                    to: 2,
                    id: 5,
                    message: ask,
                },
                E::Send {
                    node: 0,
                    to: 1,
                    id: 6,
                    message: ask,
                },
            ])
            .collect(),
        vec![
            E::Duplicate {
                node: 0,
                to: 1,
                id: 5,
            },
            E::Duplicate {
                node: 2,
                to: 1,
                id: 5,
            },
            E::Duplicate {
                node: 0,
                to: 2,
                id: 5,
            },
            E::Duplicate {
                node: 0,
                to: 1,
                id: 6,
            },
        ],
        vec![
            E::Enqueue {
                node: 0,
                from: 1,
                id: 5,
            },
            E::Enqueue {
                node: 2,
                from: 1,
                id: 5,
            },
            E::Enqueue {
                node: 0,
                from: 2,
                id: 5,
            },
            E::Enqueue {
                node: 0,
                from: 1,
                id: 6,
            },
        ],
        asks.iter()
            .map(|message| E::Deliver {
                node: 0,
                from: 1,
                id: 5,
                message,
            })
            .chain([
                E::Deliver {
                    node: 2,
                    from: 1,
                    id: 5,
                    message: ask,
                },
                E::Deliver {
                    node: 0,
                    from: 2,
                    id: 5,
                    message: ask,
                },
                E::Deliver {
                    node: 0,
                    from: 1,
                    id: 6,
                    message: ask,
                },
            ])
            .collect(),
        [
            DropReason::LinkDown,
            DropReason::RandomLoss,
            DropReason::CrashedDestination,
            DropReason::InboxOverflow,
        ]
        .into_iter()
        .map(|reason| E::Drop {
            node: 0,
            from: 1,
            id: 5,
            reason,
        })
        .chain([
            E::Drop {
                node: 2,
                from: 1,
                id: 5,
                reason: DropReason::LinkDown,
            },
            E::Drop {
                node: 0,
                from: 2,
                id: 5,
                reason: DropReason::LinkDown,
            },
            E::Drop {
                node: 0,
                from: 1,
                id: 6,
                reason: DropReason::LinkDown,
            },
        ])
        .collect(),
        vec![
            E::Timer { node: 0, timer: &7 },
            E::Timer { node: 1, timer: &7 },
            E::Timer { node: 0, timer: &8 },
        ],
        observe_group(observations),
        durables
            .iter()
            .map(|durable| E::Persist { node: 0, durable })
            .chain([E::Persist {
                node: 1,
                durable: &durables[0],
            }])
            .collect(),
        groups_of_nodes
            .iter()
            .map(|groups| E::Partition { groups })
            .collect(),
        vec![E::Heal, E::End],
        vec![
            E::CutLink { from: 0, to: 1 },
            E::CutLink { from: 2, to: 1 },
            E::CutLink { from: 0, to: 2 },
        ],
        vec![
            E::RestoreLink { from: 0, to: 1 },
            E::RestoreLink { from: 2, to: 1 },
            E::RestoreLink { from: 0, to: 2 },
        ],
        vec![
            E::ClockDrift { node: 0, ppm: 100 },
            E::ClockDrift { node: 1, ppm: 100 },
            E::ClockDrift { node: 0, ppm: -100 },
        ],
        vec![
            E::ClockJump {
                node: 0,
                by: SECOND,
                backward: false,
            },
            E::ClockJump {
                node: 1,
                by: SECOND,
                backward: false,
            },
            E::ClockJump {
                node: 0,
                by: two,
                backward: false,
            },
            E::ClockJump {
                node: 0,
                by: SECOND,
                backward: true,
            },
        ],
        degrade_group(latencies),
        vec![
            E::DegradeEnd { from: 0, to: 1 },
            E::DegradeEnd { from: 2, to: 1 },
            E::DegradeEnd { from: 0, to: 2 },
        ],
    ]
}

fn observe_group(observations: &[Observation]) -> Vec<TraceEvent<'_, Probe>> {
    let local = LocalTime::from_nanos(10);
    let base = |observation| TraceEvent::Observe {
        node: 0,
        local,
        cause: Some(3),
        deadline: Some(SimTime::from_nanos(50)),
        observation,
    };
    let mut events: Vec<_> = observations.iter().map(base).collect();
    let first = &observations[0];
    events.extend([
        TraceEvent::Observe {
            node: 1,
            local,
            cause: Some(3),
            deadline: Some(SimTime::from_nanos(50)),
            observation: first,
        },
        TraceEvent::Observe {
            node: 0,
            local: LocalTime::from_nanos(11),
            cause: Some(3),
            deadline: Some(SimTime::from_nanos(50)),
            observation: first,
        },
        TraceEvent::Observe {
            node: 0,
            local,
            cause: Some(4),
            deadline: Some(SimTime::from_nanos(50)),
            observation: first,
        },
        TraceEvent::Observe {
            node: 0,
            local,
            cause: None,
            deadline: Some(SimTime::from_nanos(50)),
            observation: first,
        },
        TraceEvent::Observe {
            node: 0,
            local,
            cause: Some(3),
            deadline: Some(SimTime::from_nanos(51)),
            observation: first,
        },
        TraceEvent::Observe {
            node: 0,
            local,
            cause: Some(3),
            deadline: None,
            observation: first,
        },
    ]);
    events
}

fn degrade_group(latencies: &[Latency]) -> Vec<TraceEvent<'_, Probe>> {
    let base = |from, to, duration, drop, latency| TraceEvent::DegradeLink {
        from,
        to,
        duration,
        drop,
        latency,
    };
    let mut events = vec![
        base(0, 1, SECOND, Some(0.5), Some(&latencies[0])),
        base(2, 1, SECOND, Some(0.5), Some(&latencies[0])),
        base(0, 2, SECOND, Some(0.5), Some(&latencies[0])),
        base(
            0,
            1,
            SimDuration::from_secs(2),
            Some(0.5),
            Some(&latencies[0]),
        ),
        base(0, 1, SECOND, Some(0.25), Some(&latencies[0])),
        base(0, 1, SECOND, None, Some(&latencies[0])),
        base(0, 1, SECOND, Some(0.5), None),
    ];
    events.extend(
        latencies[1..]
            .iter()
            .map(|latency| base(0, 1, SECOND, Some(0.5), Some(latency))),
    );
    events
}

#[test]
fn every_field_of_every_kind_changes_the_hash() {
    let ms = SimDuration::from_millis;
    let ask = Message::Ask {
        id: 1,
        note: Some("a".into()),
    };
    let asks = [
        ask.clone(),
        Message::Ask {
            id: 2,
            note: Some("a".into()),
        },
        Message::Ask {
            id: 1,
            note: Some("b".into()),
        },
        Message::Ask { id: 1, note: None },
        Message::Tell {
            id: 1,
            values: vec![],
        },
        Message::Tell {
            id: 1,
            values: vec![0],
        },
        Message::Tell {
            id: 1,
            values: vec![1],
        },
        Message::Tell {
            id: 1,
            values: vec![0, 0],
        },
    ];
    let durables = [
        Durable {
            ballot: 1,
            value: Some("x".into()),
        },
        Durable {
            ballot: 2,
            value: Some("x".into()),
        },
        Durable {
            ballot: 1,
            value: Some("y".into()),
        },
        Durable {
            ballot: 1,
            value: None,
        },
    ];
    let observations = [
        Observation::Decided {
            value: "v".into(),
            round: Some(1),
        },
        Observation::Decided {
            value: "w".into(),
            round: Some(1),
        },
        Observation::Decided {
            value: "v".into(),
            round: Some(2),
        },
        Observation::Decided {
            value: "v".into(),
            round: None,
        },
    ];
    let partitions = [
        vec![vec![0, 1], vec![2]],
        vec![vec![0], vec![1, 2]],
        vec![vec![0, 1, 2]],
        vec![vec![0, 1], vec![], vec![2]],
        vec![vec![1, 0], vec![2]],
    ];
    let latencies = [
        Latency::Constant(ms(5)),
        Latency::Constant(ms(6)),
        Latency::Uniform {
            min: ms(5),
            max: ms(6),
        },
        Latency::Uniform {
            min: ms(4),
            max: ms(6),
        },
        Latency::LogNormal {
            median: ms(5),
            sigma: 0.5,
            max: ms(50),
        },
        Latency::LogNormal {
            median: ms(5),
            sigma: 0.6,
            max: ms(50),
        },
        Latency::Pareto {
            min: ms(5),
            alpha: 1.5,
            max: ms(50),
        },
        Latency::Pareto {
            min: ms(5),
            alpha: 1.5,
            max: ms(51),
        },
    ];
    let groups = groups(
        &ask,
        &asks,
        &durables,
        &observations,
        &partitions,
        &latencies,
    );
    let mut kinds = BTreeSet::new();
    // One set across groups: kinds with the same fields (a cut and a
    // restore of one link) must hash apart too.
    let mut seen = BTreeSet::new();
    for group in &groups {
        for event in group {
            kinds.insert(kind(event));
            let json = serde_json::to_string(event).unwrap();
            assert!(
                seen.insert(hash(1_000, event)),
                "two different events hash alike; one is {json}"
            );
        }
        // The time is part of what is hashed.
        assert_ne!(hash(1_000, &group[0]), hash(1_001, &group[0]));
    }
    assert_eq!(
        kinds,
        documented_kinds(),
        "every documented kind of event has a perturbation group here"
    );
}

#[test]
fn the_hash_covers_the_order_of_events() {
    let (network, statuses) = common::quiet_world(2);
    let world = WorldView {
        network: &network,
        statuses: &statuses,
    };
    let in_order = |first: NodeId| {
        let mut writer = TraceWriter::<Vec<u8>>::new(None);
        for node in [first, 1 - first] {
            let event: TraceEvent<'_, Probe> = TraceEvent::Start { node };
            writer.observe(SimTime::ZERO, &event, &world);
        }
        writer.hash_hex()
    };
    assert_ne!(in_order(0), in_order(1));
}
