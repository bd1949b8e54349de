//! What a run reports as it happens. The engine hands every event to an
//! `Observer` together with a read-only view of the world; the JSONL trace
//! writer, the checks and the chart recorders are all observers. Observers
//! cannot change the run, so adding one never changes what happens.

use super::network::{DropReason, Latency, Network};
use super::time::{SimDuration, SimTime};
use crate::node::{NodeId, Protocol};
use serde::Serialize;
use std::io::{self, Write};
use xxhash_rust::xxh3::Xxh3;

/// One event of a run, as written to `trace.jsonl` (tagged by `kind`).
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", bound = "")]
pub enum TraceEvent<'a, P: Protocol> {
    Start {
        node: NodeId,
    },
    Restart {
        node: NodeId,
    },
    Crash {
        node: NodeId,
    },
    Pause {
        node: NodeId,
        duration: SimDuration,
    },
    Resume {
        node: NodeId,
    },
    Send {
        node: NodeId,
        to: NodeId,
        id: u64,
        message: &'a P::Message,
    },
    /// The network made a second copy of message `id`.
    Duplicate {
        node: NodeId,
        to: NodeId,
        id: u64,
    },
    /// Message `id` reached `node` while it was paused and waits in its inbox;
    /// its `deliver` comes when the node resumes. Once queued, a message is
    /// off the wire: a partition that starts during the pause does not take it back.
    Enqueue {
        node: NodeId,
        from: NodeId,
        id: u64,
    },
    Deliver {
        node: NodeId,
        from: NodeId,
        id: u64,
        message: &'a P::Message,
    },
    Drop {
        node: NodeId,
        from: NodeId,
        id: u64,
        reason: DropReason,
    },
    Timer {
        node: NodeId,
        timer: &'a P::Timer,
    },
    Observe {
        node: NodeId,
        observation: &'a P::Observation,
    },
    Persist {
        node: NodeId,
    },
    Partition {
        groups: &'a [Vec<NodeId>],
    },
    Heal,
    CutLink {
        from: NodeId,
        to: NodeId,
    },
    RestoreLink {
        from: NodeId,
        to: NodeId,
    },
    ClockDrift {
        node: NodeId,
        ppm: i64,
    },
    ClockJump {
        node: NodeId,
        by: SimDuration,
        backward: bool,
    },
    DegradeLink {
        from: NodeId,
        to: NodeId,
        duration: SimDuration,
        drop: Option<f64>,
        latency: Option<&'a Latency>,
    },
    /// The run is over (its duration reached, or the event limit).
    End,
    DegradeEnd {
        from: NodeId,
        to: NodeId,
    },
}

/// Whether a node is running, crashed or frozen in a pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    Up,
    Crashed,
    Paused,
}

/// The ground truth an observer may consult: node status and connectivity.
pub struct WorldView<'a> {
    pub network: &'a Network,
    pub statuses: &'a [NodeStatus],
}

impl WorldView<'_> {
    pub fn link_up(&self, from: NodeId, to: NodeId) -> bool {
        self.network.link_up(from, to)
    }
    pub fn status(&self, node: NodeId) -> NodeStatus {
        self.statuses[node as usize]
    }
    pub fn node_count(&self) -> u32 {
        self.statuses.len() as u32
    }
}

pub trait Observer<P: Protocol> {
    fn observe(&mut self, time: SimTime, event: &TraceEvent<'_, P>, world: &WorldView<'_>);
}

/// Several observers, called in order.
pub struct Observers<'o, P: Protocol> {
    list: Vec<&'o mut dyn Observer<P>>,
}

impl<'o, P: Protocol> Observers<'o, P> {
    pub fn new() -> Self {
        Observers { list: Vec::new() }
    }
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

/// Writes the trace as JSON lines (`{"t":<ns>,"kind":...}`) to a sink and hashes
/// every byte with XXH3-128. With no sink it only hashes, which is how sweeps
/// compare runs without writing gigabytes.
pub struct TraceWriter<W: Write> {
    sink: Option<W>,
    hasher: Xxh3,
    line: Vec<u8>,
    bytes: u64,
    error: Option<io::Error>,
}

impl<W: Write> TraceWriter<W> {
    pub fn new(sink: Option<W>) -> Self {
        TraceWriter {
            sink,
            hasher: Xxh3::new(),
            line: Vec::with_capacity(256),
            bytes: 0,
            error: None,
        }
    }

    /// The hash of every byte written so far, as 32 hex digits.
    pub fn hash_hex(&self) -> String {
        format!("{:032x}", self.hasher.digest128())
    }

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
        // `{"t":<ns>,` then the event's own fields: its opening brace is
        // overwritten by the comma, so the line is built in place.
        self.line.clear();
        self.line.extend_from_slice(b"{\"t\":");
        self.line
            .extend_from_slice(itoa_u64(time.as_nanos(), &mut [0u8; 20]));
        let brace = self.line.len();
        serde_json::to_writer(&mut self.line, event).expect("trace events serialize");
        debug_assert_eq!(self.line[brace], b'{');
        self.line[brace] = b',';
        self.line.push(b'\n');
        self.hasher.update(&self.line);
        self.bytes += self.line.len() as u64;
        if let (Some(sink), None) = (self.sink.as_mut(), self.error.as_ref()) {
            if let Err(error) = sink.write_all(&self.line) {
                self.error = Some(error);
            }
        }
    }
}

/// Formats an integer into `buffer` without allocating.
fn itoa_u64(mut value: u64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    &buffer[start..]
}

#[cfg(test)]
mod tests {
    use super::itoa_u64;

    #[test]
    fn itoa_matches_display() {
        for value in [0u64, 7, 10, 99, 1_000_000_007, u64::MAX] {
            assert_eq!(itoa_u64(value, &mut [0; 20]), value.to_string().as_bytes());
        }
    }
}
