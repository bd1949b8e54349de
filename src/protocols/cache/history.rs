//! The history of client operations, as the clients' `invoke` and `complete`
//! observations give it, and what is read off it: the register history the
//! linearizability checker takes, `history.jsonl` in Jepsen's shape, stale
//! reads, lost writes and overlapping operations.

use super::{Version, F};
use crate::linearizable::{Completion, History, Operation, RegisterCall, Value};
use crate::node::time::SimTime;
use crate::node::NodeId;
use serde::Serialize;
use std::collections::BTreeMap;

/// How an operation ended, in Jepsen's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It happened.
    Ok,
    /// It did not happen.
    Fail,
    /// Unknown: it may have happened, at any time after its invocation.
    Info,
}

/// One client operation, from its invocation to its completion.
#[derive(Clone, Debug, PartialEq)]
pub struct OpRecord {
    /// Jepsen's process: the client, in its generation.
    pub process: u64,
    /// The client's index in `clients`.
    pub client: usize,
    /// The node it runs on.
    pub node: NodeId,
    /// Its id, unique in the run.
    pub op: u64,
    /// Read, write or cas.
    pub f: F,
    /// The key it works on.
    pub key: u64,
    /// What a write or cas writes; what an ok read returned.
    pub value: Value,
    /// What a cas expects.
    pub expected: Value,
    /// The node the client sent it to.
    pub coordinator: NodeId,
    /// When the client invoked it.
    pub invoke: SimTime,
    /// None while open (and at the end, for an operation never completed).
    pub complete: Option<SimTime>,
    /// How it ended (None while open).
    pub outcome: Option<Outcome>,
    /// What an ok write or cas stored.
    pub version: Option<Version>,
}

impl OpRecord {
    /// Whether it wrote, as far as anyone knows: an ok write or cas.
    pub fn wrote(&self) -> bool {
        self.f != F::Read && self.outcome == Some(Outcome::Ok)
    }

    /// The end of its interval: its completion, or `end` if it never completed.
    pub fn until(&self, end: SimTime) -> SimTime {
        self.complete.unwrap_or(end)
    }

    /// The call as the register specification reads it.
    fn call(&self) -> RegisterCall {
        match self.f {
            F::Read => RegisterCall::read(self.value),
            F::Write => RegisterCall::write(self.value),
            F::Cas => RegisterCall::cas(self.expected, self.value),
        }
    }

    /// One line for a person: `process 2 write 17 [1.203s, 1.250s] ok`.
    pub fn describe(&self) -> String {
        let value = crate::linearizable::format_value;
        let call = match self.f {
            F::Read if self.outcome == Some(Outcome::Ok) => format!("read {}", value(self.value)),
            F::Read => "read".to_string(),
            F::Write => format!("write {}", value(self.value)),
            F::Cas => format!("cas {}→{}", value(self.expected), value(self.value)),
        };
        let (until, outcome) = match (self.complete, self.outcome) {
            (Some(at), Some(outcome)) => (
                format!("{}]", time_text(at)),
                format!("{outcome:?}").to_lowercase(),
            ),
            _ => ("…)".to_string(), "open".to_string()),
        };
        format!(
            "process {} {call} [{}, {until} {outcome}",
            self.process,
            time_text(self.invoke)
        )
    }
}

/// A time to the microsecond, `2.407496s`: enough to find it in the trace.
pub fn time_text(time: SimTime) -> String {
    let nanos = time.as_nanos();
    format!(
        "{}.{:06}s",
        nanos / 1_000_000_000,
        nanos % 1_000_000_000 / 1_000
    )
}

/// The register history of `ops`, in the same order: operation `i` of the
/// history is `ops[i]`. An operation never completed counts as `info`.
pub fn register_history(ops: &[OpRecord]) -> History<RegisterCall, u64> {
    History::from(
        ops.iter()
            .map(|op| Operation {
                process: op.process,
                key: op.key,
                call: op.call(),
                time_invoke: op.invoke.as_nanos(),
                time_complete: op.until(op.invoke).as_nanos(),
                completion: match op.outcome {
                    Some(Outcome::Ok) => Completion::Ok,
                    Some(Outcome::Fail) => Completion::Fail,
                    Some(Outcome::Info) | None => Completion::Info,
                },
            })
            .collect::<Vec<_>>(),
    )
}

/// A line of `history.jsonl`.
#[derive(Serialize)]
struct Line {
    index: usize,
    process: u64,
    #[serde(rename = "type")]
    kind: &'static str,
    f: F,
    key: u64,
    value: serde_json::Value,
    time: u64,
}

/// `history.jsonl`: one line per invocation and per completion, in the
/// order they happened (`order`: the operation's index, and whether it is
/// the completion).
pub fn jsonl(ops: &[OpRecord], order: &[(usize, bool)]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (index, &(op, completion)) in order.iter().enumerate() {
        let op = &ops[op];
        let (kind, time) = match (completion, op.outcome, op.complete) {
            (true, Some(outcome), Some(at)) => (
                match outcome {
                    Outcome::Ok => "ok",
                    Outcome::Fail => "fail",
                    Outcome::Info => "info",
                },
                at,
            ),
            _ => ("invoke", op.invoke),
        };
        let value = match op.f {
            F::Cas => serde_json::json!([op.expected, op.value]),
            F::Read if kind != "ok" => serde_json::Value::Null,
            _ => serde_json::json!(op.value),
        };
        let line = Line {
            index,
            process: op.process,
            kind,
            f: op.f,
            key: op.key,
            value,
            time: time.as_nanos(),
        };
        serde_json::to_writer(&mut bytes, &line).expect("history lines serialize");
        bytes.push(b'\n');
    }
    bytes
}

/// Each key's operations, as indices into `ops`.
fn by_key(ops: &[OpRecord]) -> BTreeMap<u64, Vec<usize>> {
    let mut keys: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (index, op) in ops.iter().enumerate() {
        keys.entry(op.key).or_default().push(index);
    }
    keys
}

/// One key's ok writes (and cas), sorted by completion, with the running
/// maximum of their invocation times.
struct Writes {
    /// (completion, index), by completion.
    done: Vec<(SimTime, usize)>,
    /// `invoked_max[i]`: the latest invocation among `done[..=i]`.
    invoked_max: Vec<SimTime>,
}

impl Writes {
    fn new(ops: &[OpRecord], indices: &[usize]) -> Self {
        let mut done: Vec<(SimTime, usize)> = indices
            .iter()
            .filter(|&&i| ops[i].wrote())
            .map(|&i| (ops[i].until(SimTime::ZERO), i))
            .collect();
        done.sort();
        let mut latest = SimTime::ZERO;
        let invoked_max = done
            .iter()
            .map(|&(_, i)| {
                latest = latest.max(ops[i].invoke);
                latest
            })
            .collect();
        Writes { done, invoked_max }
    }

    /// How many of them completed strictly before `time`.
    fn before(&self, time: SimTime) -> usize {
        self.done.partition_point(|&(at, _)| at < time)
    }
}

/// The ok reads that returned a value already overwritten when they began:
/// a write acknowledged before the read was invoked had itself been invoked
/// after the write of the value read was acknowledged (for a read of nil:
/// any write acknowledged before the read). Such a read is never
/// linearizable (written values are unique). Indices into `ops`, in order.
pub fn stale_reads(ops: &[OpRecord]) -> Vec<usize> {
    let mut stale = Vec::new();
    for indices in by_key(ops).values() {
        let writes = Writes::new(ops, indices);
        let writer: BTreeMap<i64, usize> = writes
            .done
            .iter()
            .filter_map(|&(_, i)| ops[i].value.map(|value| (value, i)))
            .collect();
        for &index in indices {
            let read = &ops[index];
            if read.f != F::Read || read.outcome != Some(Outcome::Ok) {
                continue;
            }
            let before = writes.before(read.invoke);
            if before == 0 {
                continue;
            }
            let overwritten = match read.value {
                None => true,
                Some(value) => writer
                    .get(&value)
                    .is_some_and(|&w| writes.invoked_max[before - 1] > ops[w].until(SimTime::ZERO)),
            };
            if overwritten {
                stale.push(index);
            }
        }
    }
    stale.sort_unstable();
    stale
}

/// Lost writes: pairs (earlier, later) of ok writes on one key where
/// `earlier` completed before `later` was invoked, yet has the higher
/// version, so the replicas keep it and discard `later`. For each lost
/// write, the earlier write with the highest version. Ordered by the lost
/// write's index.
pub fn lost_writes(ops: &[OpRecord]) -> Vec<(usize, usize)> {
    let mut lost = Vec::new();
    for indices in by_key(ops).values() {
        let writes = Writes::new(ops, indices);
        // The running maximum of versions over writes sorted by completion.
        let mut highest: Vec<usize> = Vec::with_capacity(writes.done.len());
        for &(_, i) in &writes.done {
            let best = match highest.last() {
                Some(&b) if ops[b].version >= ops[i].version => b,
                _ => i,
            };
            highest.push(best);
        }
        for &(_, later) in &writes.done {
            let before = writes.before(ops[later].invoke);
            if before == 0 {
                continue;
            }
            let earlier = highest[before - 1];
            if ops[earlier].version > ops[later].version {
                lost.push((earlier, later));
            }
        }
    }
    lost.sort_unstable_by_key(|&(_, later)| later);
    lost
}

/// How many operations overlapped in time an earlier-invoked operation on
/// the same key, one of the two a write or cas (intervals end at the
/// completion, or at `end` for an operation never completed; failed ones
/// count, they were concurrent all the same).
pub fn concurrent(ops: &[OpRecord], end: SimTime) -> usize {
    let mut count = 0;
    for indices in by_key(ops).values() {
        let mut sorted = indices.clone();
        sorted.sort_by_key(|&i| (ops[i].invoke, i));
        let (mut any_until, mut write_until) = (None::<SimTime>, None::<SimTime>);
        for &i in &sorted {
            let op = &ops[i];
            let writes = op.f != F::Read;
            let overlaps_write = write_until.is_some_and(|until| op.invoke <= until);
            let overlaps_any = any_until.is_some_and(|until| op.invoke <= until);
            if overlaps_write || (writes && overlaps_any) {
                count += 1;
            }
            let until = op.until(end);
            any_until = Some(any_until.map_or(until, |u| u.max(until)));
            if writes {
                write_until = Some(write_until.map_or(until, |u| u.max(until)));
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(index: u64, f: F, value: Option<i64>, span: (u64, u64), version: u64) -> OpRecord {
        OpRecord {
            process: index,
            client: index as usize,
            node: 0,
            op: index,
            f,
            key: 0,
            value,
            expected: None,
            coordinator: 0,
            invoke: SimTime::from_nanos(span.0),
            complete: Some(SimTime::from_nanos(span.1)),
            outcome: Some(Outcome::Ok),
            version: (f != F::Read).then_some(Version {
                counter: version,
                op: index,
            }),
        }
    }

    #[test]
    fn a_read_of_an_overwritten_value_is_stale_and_a_concurrent_one_is_not() {
        let ops = vec![
            op(0, F::Write, Some(1), (0, 10), 1),
            op(1, F::Write, Some(2), (20, 30), 2),
            // Invoked after write 2 was acknowledged, and write 2 began after
            // write 1 was: 1 was overwritten.
            op(2, F::Read, Some(1), (40, 50), 0),
            // Concurrent with write 2: either value will do.
            op(3, F::Read, Some(1), (25, 35), 0),
            op(4, F::Read, None, (12, 13), 0),
        ];
        assert_eq!(stale_reads(&ops), vec![2, 4]);
    }

    #[test]
    fn a_later_write_with_a_lower_version_is_lost() {
        let ops = vec![
            op(0, F::Write, Some(1), (0, 10), 9),
            op(1, F::Write, Some(2), (20, 30), 5),
            // Concurrent with write 0: any version order is fine.
            op(2, F::Write, Some(3), (5, 15), 1),
        ];
        assert_eq!(lost_writes(&ops), vec![(0, 1)]);
    }

    #[test]
    fn overlapping_operations_count_only_with_a_write() {
        let reads = vec![
            op(0, F::Read, None, (0, 10), 0),
            op(1, F::Read, None, (5, 15), 0),
        ];
        assert_eq!(concurrent(&reads, SimTime::from_nanos(100)), 0);
        let mut mixed = reads.clone();
        mixed.push(op(2, F::Write, Some(1), (12, 20), 1));
        mixed.push(op(3, F::Read, None, (30, 40), 0));
        assert_eq!(concurrent(&mixed, SimTime::from_nanos(100)), 1);
    }
}
