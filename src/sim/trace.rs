//! What a run reports as it happens. The engine hands every event to an
//! `Observer` together with a read-only view of the world; the JSONL trace
//! writer, the checks and the chart recorders are all observers. Observers
//! cannot change the run, so adding one never changes what happens.

use super::encode::encode;
use super::network::{DropReason, Latency, Network};
use super::time::{LocalTime, SimDuration, SimTime};
use crate::node::{NodeId, Protocol};
use serde::Serialize;
use std::io::{self, Write};
use xxhash_rust::xxh3::Xxh3;

/// One event of a run, as written to `trace.jsonl` (tagged by `kind`).
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", bound = "")]
pub enum TraceEvent<'a, P: Protocol> {
    /// A node starts at the beginning of the run.
    Start {
        /// The node it happened at.
        node: NodeId,
    },
    /// A crashed node starts again from its durable state.
    Restart {
        /// The node it happened at.
        node: NodeId,
    },
    /// A node stops, losing all but its durable state.
    Crash {
        /// The node it happened at.
        node: NodeId,
    },
    /// A node absent since the start of the run starts for the first time.
    Join {
        /// The node it happened at.
        node: NodeId,
    },
    /// A node stops for good.
    Leave {
        /// The node it happened at.
        node: NodeId,
    },
    /// A node freezes: no handlers run, its clock and the world go on.
    Pause {
        /// The node it happened at.
        node: NodeId,
        /// How long it lasts.
        duration: SimDuration,
    },
    /// A paused node runs again; messages queued in its inbox are delivered.
    Resume {
        /// The node it happened at.
        node: NodeId,
    },
    /// A node sends a message.
    Send {
        /// The node it happened at.
        node: NodeId,
        /// The receiving node.
        to: NodeId,
        /// The message's id, unique within the run.
        id: u64,
        /// The message.
        message: &'a P::Message,
    },
    /// The network made a second copy of message `id`.
    Duplicate {
        /// The node it happened at.
        node: NodeId,
        /// The receiving node.
        to: NodeId,
        /// The message's id, unique within the run.
        id: u64,
    },
    /// Message `id` reached `node` while it was paused and waits in its inbox;
    /// its `deliver` comes when the node resumes. Once queued, a message is
    /// off the wire: a partition that starts during the pause does not take it back.
    Enqueue {
        /// The node it happened at.
        node: NodeId,
        /// The sending node.
        from: NodeId,
        /// The message's id, unique within the run.
        id: u64,
    },
    /// A message reaches its destination and its handler runs.
    Deliver {
        /// The node it happened at.
        node: NodeId,
        /// The sending node.
        from: NodeId,
        /// The message's id, unique within the run.
        id: u64,
        /// The message.
        message: &'a P::Message,
    },
    /// The network loses a message.
    Drop {
        /// The node it happened at.
        node: NodeId,
        /// The sending node.
        from: NodeId,
        /// The message's id, unique within the run.
        id: u64,
        /// Why the network dropped it.
        reason: DropReason,
    },
    /// A timer fires.
    Timer {
        /// The node it happened at.
        node: NodeId,
        /// The timer that fired.
        timer: &'a P::Timer,
    },
    /// A fact the protocol reported, with the node's clock reading, the id of
    /// the message whose handling made it (if a message did), and, for an
    /// observation naming a deadline on the node's clock (a lease's expiry),
    /// the true time at which that clock reaches it.
    Observe {
        /// The node it happened at.
        node: NodeId,
        /// The node's clock reading.
        local: LocalTime,
        #[serde(skip_serializing_if = "Option::is_none")]
        /// The id of the message whose handling made it, if a message did.
        cause: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        /// For an observation naming a deadline on the node's clock, the true time that clock reaches it.
        deadline: Option<SimTime>,
        /// What the protocol reported.
        observation: &'a P::Observation,
    },
    /// The node saved its durable state (what a crash leaves it), shown whole.
    Persist {
        /// The node it happened at.
        node: NodeId,
        /// The durable state, whole.
        durable: &'a P::Durable,
    },
    /// The network splits into sides that cannot reach each other.
    Partition {
        /// The sides; nodes in no group form one more side.
        groups: &'a [Vec<NodeId>],
    },
    /// Every partition and cut link heals.
    Heal,
    /// One direction of one link goes down.
    CutLink {
        /// The sending node.
        from: NodeId,
        /// The receiving node.
        to: NodeId,
    },
    /// One direction of one link comes back.
    RestoreLink {
        /// The sending node.
        from: NodeId,
        /// The receiving node.
        to: NodeId,
    },
    /// A node's clock starts running fast or slow.
    ClockDrift {
        /// The node it happened at.
        node: NodeId,
        /// The new drift, in parts per million (positive runs fast).
        ppm: i64,
    },
    /// A node's clock jumps.
    ClockJump {
        /// The node it happened at.
        node: NodeId,
        /// How far the clock jumped.
        by: SimDuration,
        /// Whether it jumped back.
        backward: bool,
    },
    /// One link gets worse for a while: lossier, slower or both.
    DegradeLink {
        /// The sending node.
        from: NodeId,
        /// The receiving node.
        to: NodeId,
        /// How long it lasts.
        duration: SimDuration,
        /// The link's drop probability while degraded, if changed.
        drop: Option<f64>,
        /// The link's latency while degraded, if changed.
        latency: Option<&'a Latency>,
    },
    /// The run is over (its duration reached, or the event limit).
    End,
    /// A degraded link is back to normal.
    DegradeEnd {
        /// The sending node.
        from: NodeId,
        /// The receiving node.
        to: NodeId,
    },
}

/// Whether a node is running, crashed or frozen in a pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    /// Running.
    Up,
    /// Crashed: only durable state survives.
    Crashed,
    /// Frozen in a pause.
    Paused,
}

/// The ground truth an observer may consult: node status and connectivity.
pub struct WorldView<'a> {
    /// Which links are up.
    pub network: &'a Network,
    /// Each node's status, by node id.
    pub statuses: &'a [NodeStatus],
}

impl WorldView<'_> {
    /// Whether messages from `from` reach `to` now.
    pub fn link_up(&self, from: NodeId, to: NodeId) -> bool {
        self.network.link_up(from, to)
    }
    /// The status of one node.
    pub fn status(&self, node: NodeId) -> NodeStatus {
        self.statuses[node as usize]
    }
    /// How many nodes the run has.
    pub fn node_count(&self) -> u32 {
        self.statuses.len() as u32
    }
}

/// Something that watches a run: the trace writer, a judge, a chart recorder.
pub trait Observer<P: Protocol> {
    /// Called once per event, in order, with a read-only view of the world.
    fn observe(&mut self, time: SimTime, event: &TraceEvent<'_, P>, world: &WorldView<'_>);
}

impl<P: Protocol, O: Observer<P> + ?Sized> Observer<P> for &mut O {
    fn observe(&mut self, time: SimTime, event: &TraceEvent<'_, P>, world: &WorldView<'_>) {
        (**self).observe(time, event, world);
    }
}

/// An observer that may be absent (a chart recorder when charts are off).
impl<P: Protocol, O: Observer<P>> Observer<P> for Option<O> {
    fn observe(&mut self, time: SimTime, event: &TraceEvent<'_, P>, world: &WorldView<'_>) {
        if let Some(observer) = self {
            observer.observe(time, event, world);
        }
    }
}

/// Observes nothing (a protocol without a chart recorder).
impl<P: Protocol> Observer<P> for () {
    fn observe(&mut self, _: SimTime, _: &TraceEvent<'_, P>, _: &WorldView<'_>) {}
}

/// Observers in a tuple, called in order, each statically: no dynamic call
/// per event on the run path.
macro_rules! observer_tuple {
    ($($name:ident),+) => {
        impl<P: Protocol, $($name: Observer<P>),+> Observer<P> for ($($name,)+) {
            #[allow(non_snake_case)]
            fn observe(&mut self, time: SimTime, event: &TraceEvent<'_, P>, world: &WorldView<'_>) {
                let ($($name,)+) = self;
                $($name.observe(time, event, world);)+
            }
        }
    };
}
observer_tuple!(A, B);
observer_tuple!(A, B, C);
observer_tuple!(A, B, C, D);

/// Several observers, called in order.
pub struct Observers<'o, P: Protocol> {
    list: Vec<&'o mut dyn Observer<P>>,
}

impl<'o, P: Protocol> Observers<'o, P> {
    /// No observers.
    pub fn new() -> Self {
        Observers { list: Vec::new() }
    }
    /// Adds an observer, called after those already pushed.
    pub fn push(&mut self, observer: &'o mut dyn Observer<P>) {
        self.list.push(observer);
    }
}

impl<P: Protocol> Default for Observers<'_, P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Protocol> Observer<P> for Observers<'_, P> {
    fn observe(&mut self, time: SimTime, event: &TraceEvent<'_, P>, world: &WorldView<'_>) {
        for observer in self.list.iter_mut() {
            observer.observe(time, event, world);
        }
    }
}

/// Bytes of encoded events hashed at once.
const HASH_BATCH: usize = 16 * 1024;

/// Writes the trace as JSON lines (`{"t":<ns>,"kind":...}`) to a sink and
/// hashes every event, with its time, in the canonical binary encoding
/// (`sim::encode`) with XXH3-128. With no sink it only hashes, which is how
/// sweeps compare runs without writing, or even formatting, gigabytes.
pub struct TraceWriter<W: Write> {
    sink: Option<W>,
    hasher: Xxh3,
    /// The binary encoding of the events not yet hashed. XXH3 streams, so
    /// hashing a batch gives the hash of its events one by one; a batch
    /// saves the hasher's cost per call, which on events of 40 bytes was
    /// most of the hash's cost.
    encoded: Vec<u8>,
    /// The event's JSON line, written.
    line: Vec<u8>,
    bytes: u64,
    error: Option<io::Error>,
}

impl<W: Write> TraceWriter<W> {
    /// A writer to `sink`, or a hash-only writer with `None`.
    pub fn new(sink: Option<W>) -> Self {
        TraceWriter {
            sink,
            hasher: Xxh3::new(),
            encoded: Vec::with_capacity(HASH_BATCH + 256),
            line: Vec::with_capacity(256),
            bytes: 0,
            error: None,
        }
    }

    /// The hash of every event so far, as 32 hex digits.
    pub fn hash_hex(&self) -> String {
        let mut hasher = self.hasher.clone();
        hasher.update(&self.encoded);
        format!("{:032x}", hasher.digest128())
    }

    /// How many bytes of trace were written (none without a sink).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flushes and returns the sink, or the first write error.
    pub fn finish(mut self) -> io::Result<(Option<W>, String)> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        if let Some(sink) = self.sink.as_mut() {
            sink.flush()?;
        }
        let hash = self.hash_hex();
        Ok((self.sink, hash))
    }
}

impl<P: Protocol, W: Write> Observer<P> for TraceWriter<W> {
    fn observe(&mut self, time: SimTime, event: &TraceEvent<'_, P>, _world: &WorldView<'_>) {
        self.encoded
            .extend_from_slice(&time.as_nanos().to_le_bytes());
        encode(&mut self.encoded, event);
        if self.encoded.len() >= HASH_BATCH {
            self.hasher.update(&self.encoded);
            self.encoded.clear();
        }
        if self.sink.is_none() || self.error.is_some() {
            return;
        }
        json_line(&mut self.line, time, event);
        self.bytes += self.line.len() as u64;
        if let Some(sink) = self.sink.as_mut() {
            if let Err(error) = sink.write_all(&self.line) {
                self.error = Some(error);
            }
        }
    }
}

/// One event as its `trace.jsonl` line, newline included.
fn json_line<P: Protocol>(line: &mut Vec<u8>, time: SimTime, event: &TraceEvent<'_, P>) {
    line.clear();
    line.extend_from_slice(b"{\"t\":");
    push_number(line, time.as_nanos());
    if !write_fields(line, event) {
        // `{"t":<ns>,` then the event as serde writes it, whose opening
        // brace is overwritten by the comma.
        let brace = line.len();
        serde_json::to_writer(&mut *line, event).expect("trace events serialize");
        debug_assert_eq!(line[brace], b'{');
        line[brace] = b',';
    }
    line.push(b'\n');
}

/// Writes the common events' fields by hand, byte for byte what serde's
/// derived `Serialize` writes (field order, `kind` names, integers in
/// decimal), leaving only protocol payloads to serde_json. Serializing every
/// event through serde's tagged-enum machinery was most of a sweep's time.
/// Returns false for the rare events (faults with durations, groups or
/// floats), which go through serde whole. `tests/determinism.rs` checks both
/// paths give the same bytes for every kind of event.
fn write_fields<P: Protocol>(line: &mut Vec<u8>, event: &TraceEvent<'_, P>) -> bool {
    fn kind(line: &mut Vec<u8>, name: &str) {
        line.extend_from_slice(b",\"kind\":\"");
        line.extend_from_slice(name.as_bytes());
        line.push(b'"');
    }
    fn number(line: &mut Vec<u8>, key: &str, value: u64) {
        line.extend_from_slice(b",\"");
        line.extend_from_slice(key.as_bytes());
        line.extend_from_slice(b"\":");
        push_number(line, value);
    }
    fn payload(line: &mut Vec<u8>, key: &str, value: &impl Serialize) {
        line.extend_from_slice(b",\"");
        line.extend_from_slice(key.as_bytes());
        line.extend_from_slice(b"\":");
        serde_json::to_writer(&mut *line, value).expect("trace payloads serialize");
    }
    match *event {
        TraceEvent::Start { node } => {
            kind(line, "start");
            number(line, "node", node.into());
        }
        TraceEvent::Restart { node } => {
            kind(line, "restart");
            number(line, "node", node.into());
        }
        TraceEvent::Crash { node } => {
            kind(line, "crash");
            number(line, "node", node.into());
        }
        TraceEvent::Resume { node } => {
            kind(line, "resume");
            number(line, "node", node.into());
        }
        TraceEvent::Join { node } => {
            kind(line, "join");
            number(line, "node", node.into());
        }
        TraceEvent::Leave { node } => {
            kind(line, "leave");
            number(line, "node", node.into());
        }
        TraceEvent::Persist { node, durable } => {
            kind(line, "persist");
            number(line, "node", node.into());
            payload(line, "durable", durable);
        }
        TraceEvent::Send {
            node,
            to,
            id,
            message,
        } => {
            kind(line, "send");
            number(line, "node", node.into());
            number(line, "to", to.into());
            number(line, "id", id);
            payload(line, "message", message);
        }
        TraceEvent::Duplicate { node, to, id } => {
            kind(line, "duplicate");
            number(line, "node", node.into());
            number(line, "to", to.into());
            number(line, "id", id);
        }
        TraceEvent::Enqueue { node, from, id } => {
            kind(line, "enqueue");
            number(line, "node", node.into());
            number(line, "from", from.into());
            number(line, "id", id);
        }
        TraceEvent::Deliver {
            node,
            from,
            id,
            message,
        } => {
            kind(line, "deliver");
            number(line, "node", node.into());
            number(line, "from", from.into());
            number(line, "id", id);
            payload(line, "message", message);
        }
        TraceEvent::Drop {
            node,
            from,
            id,
            reason,
        } => {
            kind(line, "drop");
            number(line, "node", node.into());
            number(line, "from", from.into());
            number(line, "id", id);
            payload(line, "reason", &reason);
        }
        TraceEvent::Timer { node, timer } => {
            kind(line, "timer");
            number(line, "node", node.into());
            payload(line, "timer", timer);
        }
        TraceEvent::Observe {
            node,
            local,
            cause,
            deadline,
            observation,
        } => {
            kind(line, "observe");
            number(line, "node", node.into());
            number(line, "local", local.as_nanos());
            if let Some(cause) = cause {
                number(line, "cause", cause);
            }
            if let Some(deadline) = deadline {
                number(line, "deadline", deadline.as_nanos());
            }
            payload(line, "observation", observation);
        }
        TraceEvent::Heal => kind(line, "heal"),
        TraceEvent::End => kind(line, "end"),
        TraceEvent::CutLink { from, to } => {
            kind(line, "cut_link");
            number(line, "from", from.into());
            number(line, "to", to.into());
        }
        TraceEvent::RestoreLink { from, to } => {
            kind(line, "restore_link");
            number(line, "from", from.into());
            number(line, "to", to.into());
        }
        TraceEvent::DegradeEnd { from, to } => {
            kind(line, "degrade_end");
            number(line, "from", from.into());
            number(line, "to", to.into());
        }
        TraceEvent::Pause { .. }
        | TraceEvent::Partition { .. }
        | TraceEvent::ClockDrift { .. }
        | TraceEvent::ClockJump { .. }
        | TraceEvent::DegradeLink { .. } => return false,
    }
    line.push(b'}');
    true
}

fn push_number(line: &mut Vec<u8>, value: u64) {
    line.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}
