//! Checks for the cache, from the clients' `invoke` and `complete`
//! observations, the replicas' `stored` ones and the engine's crash and
//! partition events.
//!
//! - `Linearizable`: the history of each key (P-compositionality) has a
//!   total order that respects real time and the register's specification
//!   (Herlihy and Wing 1990), found or refuted by `crate::linearizable`
//!   (Wing and Gong's search with Lowe's memo). `fail` operations are left
//!   out, `info` ones (timed out, or open when their client crashed or the
//!   run ended) may take effect at any time after their invocation, or never.
//!   A key whose search budget runs out is reported unjudged, never judged.
//! - `NoLostWrites`: an acknowledged write (or cas) never has a lower
//!   version than an acknowledged write that completed before it was
//!   invoked: the replicas keep the higher version, so the later write would
//!   be silently discarded in favour of the older one. Versions are those the
//!   `complete` observations report.
//! - `Available(min)`: the fraction of completed operations that completed
//!   `ok`, per side of each partition (the operations invoked while it lasted
//!   by clients on nodes of that side; a bridge node is on each of its
//!   sides) and over the run, must be at least `min`. Operations still open
//!   at the end are not counted.
//! - `Converges(within)`: once the last fault is over and the last operation
//!   has completed, `within` later the replicas of every key that are up
//!   hold the same version.

use super::history::{self, OpRecord, Outcome};
use super::{Cache, CacheObservation, Version};
use crate::check::{report, CheckReport, Coverage, PropertyKind, Violation};
use crate::harness::{probability, BlockError, Check, HumanDuration, Judge, Place, RunSetup};
use crate::linearizable::{check_register, Budget, RegisterReport, Verdict};
use crate::node::time::{SimDuration, SimTime};
use crate::node::NodeId;
use crate::sim::{Observer, TraceEvent, WorldView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

/// What `checks: [...]` may list for the cache.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum CacheCheck {
    /// Every key's history is linearizable.
    Linearizable,
    /// No acknowledged write is superseded by an older one.
    NoLostWrites,
    /// At least `min` of the operations complete ok, per partition side.
    Available {
        /// The least fraction of operations completed ok.
        min: f64,
    },
    /// Replicas agree within the bound after the last fault and operation.
    Converges(HumanDuration),
    /// Coverage: concurrent operations on one key.
    ConcurrentOperations,
    /// Coverage: a stale read.
    StaleRead,
}

impl Check for CacheCheck {
    fn name(&self) -> &'static str {
        match self {
            CacheCheck::Linearizable => "Linearizable",
            CacheCheck::NoLostWrites => "NoLostWrites",
            CacheCheck::Available { .. } => "Available",
            CacheCheck::Converges(_) => "Converges",
            CacheCheck::ConcurrentOperations => "ConcurrentOperations",
            CacheCheck::StaleRead => "StaleRead",
        }
    }
}

pub(super) fn check_valid(check: &CacheCheck) -> Result<(), BlockError> {
    match check {
        CacheCheck::Available { min } => probability(Place::field("min"), *min).map(|_| ()),
        CacheCheck::Converges(within) => within.positive(Place::root()).map(|_| ()),
        _ => Ok(()),
    }
}

/// The search budget per key: a few hundred milliseconds at most.
const BUDGET: Budget = Budget {
    steps_max: 2_000_000,
    memo_bytes_max: 256 << 20,
};

/// A partition as the judge saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct PartitionSeen {
    pub start: SimTime,
    pub end: Option<SimTime>,
    pub groups: Vec<Vec<NodeId>>,
}

/// Operations by how they completed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
}

impl Tally {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Fail => self.fail += 1,
            Outcome::Info => self.info += 1,
        }
    }
    pub fn total(&self) -> u64 {
        self.ok + self.fail + self.info
    }
    pub fn fraction_ok(&self) -> f64 {
        if self.total() == 0 {
            1.0
        } else {
            self.ok as f64 / self.total() as f64
        }
    }
}

/// Watches the clients' operations, the replicas' copies, crashes and
/// partitions, and judges the run at its end.
pub struct CacheJudge {
    checks: Vec<CacheCheck>,
    keys: u64,
    replicas_of: Arc<Vec<Vec<NodeId>>>,
    faults_end: SimTime,
    /// Every operation, in the order invoked.
    pub ops: Vec<OpRecord>,
    /// Open operations by id.
    open: BTreeMap<u64, usize>,
    /// The history's lines: (operation, is the completion), in order.
    order: Vec<(usize, bool)>,
    /// Every partition, in order.
    pub partitions: Vec<PartitionSeen>,
    /// Per (node, key): when its copy changed, and to which version.
    copies: BTreeMap<(NodeId, u64), Vec<(SimTime, Version)>>,
    /// Per node: when it was down.
    down: Vec<Vec<(SimTime, Option<SimTime>)>>,
    /// The time of the last event seen.
    last: SimTime,
    /// The linearizability report, once checked.
    pub linearizability: Option<RegisterReport<u64>>,
}

impl CacheJudge {
    /// A judge of `checks` for one run of `protocol`.
    pub fn new(protocol: &Cache, checks: &[CacheCheck], setup: &RunSetup<'_>) -> Self {
        CacheJudge {
            checks: checks.to_vec(),
            keys: protocol.keys,
            replicas_of: protocol.replicas_of.clone(),
            faults_end: setup.faults_end,
            ops: Vec::new(),
            open: BTreeMap::new(),
            order: Vec::new(),
            partitions: Vec::new(),
            copies: BTreeMap::new(),
            down: (0..setup.node_count)
                .map(|node| {
                    let absent = setup.absent.get(node as usize).copied().unwrap_or(false);
                    if absent {
                        vec![(SimTime::ZERO, None)]
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
            last: SimTime::ZERO,
            linearizability: None,
        }
    }

    /// Checks every key's history for linearizability.
    pub fn check_linearizability(&self) -> RegisterReport<u64> {
        check_register(&history::register_history(&self.ops), &BUDGET)
            .expect("recorded histories complete after they are invoked")
    }

    /// The run folder's own files: `history.jsonl`, and for a history that
    /// is not linearizable, `linearizability.txt` with the checker's account.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut files = vec![(
            "history.jsonl".to_string(),
            history::jsonl(&self.ops, &self.order),
        )];
        if let Some(report) = self
            .linearizability
            .as_ref()
            .filter(|r| r.verdict != Verdict::Linearizable)
        {
            files.push((
                "linearizability.txt".to_string(),
                report.to_string().into_bytes(),
            ));
        }
        files
    }

    fn up_at(&self, node: NodeId, time: SimTime) -> bool {
        !self.down[node as usize]
            .iter()
            .any(|&(from, until)| from <= time && until.is_none_or(|u| time < u))
    }

    /// The version `node` held for `key` at `time`.
    fn copy_at(&self, node: NodeId, key: u64, time: SimTime) -> Version {
        self.copies
            .get(&(node, key))
            .and_then(|changes| changes.iter().rev().find(|(at, _)| *at <= time))
            .map_or(Version::default(), |(_, version)| *version)
    }

    fn linearizable_report(&mut self) -> CheckReport {
        let report = self.check_linearizability();
        let mut violations = Vec::new();
        let mut unknown = Vec::new();
        for key in &report.keys {
            match (&key.violation, key.verdict) {
                (Some(violation), _) => {
                    violations.push(self.describe_violation(key.key, violation))
                }
                (None, Verdict::Unknown) => unknown.push(key.key.to_string()),
                _ => {}
            }
        }
        let mut detail = format!(
            "{} operations on {} keys, {} search steps",
            self.ops.len(),
            report.keys.len(),
            report.steps()
        );
        if !unknown.is_empty() {
            let _ = write!(
                detail,
                "; not judged: the search budget ran out on key(s) {}",
                unknown.join(", ")
            );
        }
        self.linearizability = Some(report);
        report_named("Linearizable", PropertyKind::Safety, detail, violations)
    }

    fn describe_violation(
        &self,
        key: u64,
        violation: &crate::linearizable::Violation<
            crate::linearizable::RegisterCall,
            crate::linearizable::Value,
            u64,
        >,
    ) -> Violation {
        let blocking = &self.ops[violation.blocking.index];
        let state = crate::linearizable::format_value(violation.state);
        let before = match violation.prefix.last() {
            Some(step) => format!(
                "{} operation(s) can be ordered before it, leaving {state} (the last: {})",
                violation.prefix.len(),
                self.ops[step.operation.index].describe()
            ),
            None => format!("no operation can be ordered before it, and the key holds {state}"),
        };
        let pending: Vec<String> = violation
            .candidates
            .iter()
            .filter(|c| c.operation.index != violation.blocking.index)
            .take(4)
            .map(|c| {
                let why = if c.possible {
                    "possible there, but every order going on from it fails"
                } else {
                    "impossible there"
                };
                format!("{} ({why})", self.ops[c.operation.index].describe())
            })
            .collect();
        let pending = if pending.is_empty() {
            "no other operation is pending then".to_string()
        } else {
            format!("the operations pending then: {}", pending.join("; "))
        };
        Violation {
            time: blocking.until(self.last),
            nodes: vec![blocking.node],
            message: format!(
                "key {key}: no order explains {}: {before}; {pending}",
                blocking.describe()
            ),
        }
    }

    fn lost_writes_report(&self) -> CheckReport {
        let lost = history::lost_writes(&self.ops);
        let violations = lost
            .iter()
            .map(|&(earlier, later)| {
                let (a, b) = (&self.ops[earlier], &self.ops[later]);
                Violation {
                    time: b.until(self.last),
                    nodes: vec![a.coordinator, b.coordinator],
                    message: format!(
                        "key {}: {} (coordinator {}) got version {} although {} (coordinator {}) had completed before it began with the higher version {}: the replicas keep the older write and discard the acknowledged later one",
                        b.key,
                        b.describe(),
                        b.coordinator,
                        version_text(b.version),
                        a.describe(),
                        a.coordinator,
                        version_text(a.version)
                    ),
                }
            })
            .collect();
        let writes = self.ops.iter().filter(|op| op.wrote()).count();
        report_named(
            "NoLostWrites",
            PropertyKind::Safety,
            format!("{writes} acknowledged writes"),
            violations,
        )
    }
}

fn version_text(version: Option<Version>) -> String {
    version.map_or("?".to_string(), |v| format!("({}, {})", v.counter, v.op))
}

fn report_named(
    name: &'static str,
    kind: PropertyKind,
    detail: String,
    violations: Vec<Violation>,
) -> CheckReport {
    report(name, kind, detail, violations)
}

/// Each partition's sides: (partition, group, tally of the operations
/// invoked during it by clients on that group's nodes), and the whole run's.
pub fn availability(
    ops: &[OpRecord],
    partitions: &[PartitionSeen],
    end: SimTime,
) -> (Vec<(usize, usize, Tally)>, Tally) {
    let mut overall = Tally::default();
    let mut sides = Vec::new();
    for (p, partition) in partitions.iter().enumerate() {
        for g in 0..partition.groups.len() {
            sides.push((p, g, Tally::default()));
        }
    }
    for op in ops {
        let Some(outcome) = op.outcome else { continue };
        overall.add(outcome);
        for (p, g, tally) in &mut sides {
            let partition = &partitions[*p];
            let during = partition.start <= op.invoke && op.invoke < partition.end.unwrap_or(end);
            if during && partition.groups[*g].contains(&op.node) {
                tally.add(outcome);
            }
        }
    }
    (sides, overall)
}

fn group_text(group: &[NodeId]) -> String {
    let nodes: Vec<String> = group.iter().map(ToString::to_string).collect();
    format!("{{{}}}", nodes.join(","))
}

impl CacheJudge {
    fn available_report(&self, min: f64, end: SimTime) -> CheckReport {
        let (sides, overall) = availability(&self.ops, &self.partitions, end);
        let mut violations = Vec::new();
        let mut detail = format!(
            "overall {:.1}% ok ({} of {}: {} failed, {} timed out)",
            100.0 * overall.fraction_ok(),
            overall.ok,
            overall.total(),
            overall.fail,
            overall.info
        );
        for &(p, g, tally) in sides.iter().filter(|(_, _, t)| t.total() > 0) {
            let partition = &self.partitions[p];
            let side = group_text(&partition.groups[g]);
            let until = partition.end.unwrap_or(end);
            if sides.len() <= 12 {
                let _ = write!(
                    detail,
                    "; partition {}–{until} side {side}: {:.1}% ({} of {})",
                    partition.start,
                    100.0 * tally.fraction_ok(),
                    tally.ok,
                    tally.total()
                );
            }
            if tally.fraction_ok() < min {
                violations.push(Violation {
                    time: partition.start,
                    nodes: partition.groups[g].clone(),
                    message: format!(
                        "during the partition from {} to {until}, clients on side {side} completed {} of {} operations ok ({:.1}%, below {:.1}%): {} failed, {} timed out",
                        partition.start,
                        tally.ok,
                        tally.total(),
                        100.0 * tally.fraction_ok(),
                        100.0 * min,
                        tally.fail,
                        tally.info
                    ),
                });
            }
        }
        if overall.fraction_ok() < min {
            violations.push(Violation {
                time: end,
                nodes: Vec::new(),
                message: format!(
                    "over the run {} of {} operations completed ok ({:.1}%, below {:.1}%)",
                    overall.ok,
                    overall.total(),
                    100.0 * overall.fraction_ok(),
                    100.0 * min
                ),
            });
        }
        report_named("Available", PropertyKind::Liveness, detail, violations)
    }

    /// When the last operation completed (or the run ended, if one never did).
    fn last_operation(&self, end: SimTime) -> SimTime {
        self.ops
            .iter()
            .map(|op| op.until(end))
            .max()
            .unwrap_or(SimTime::ZERO)
    }

    fn converges_report(&self, within: SimDuration, end: SimTime) -> CheckReport {
        let last_op = self.last_operation(end);
        let quiet = last_op.max(self.faults_end);
        let deadline = quiet.after(within);
        let context = format!(
            "the last fault ended at {}, the last operation at {last_op}",
            self.faults_end
        );
        if deadline > end {
            let violation = Violation {
                time: end,
                nodes: Vec::new(),
                message: format!(
                    "cannot be judged within the run: {context}, and the run ends at {end}, before {within} later (give the clients a `stop`, or the run more time)"
                ),
            };
            return report_named(
                "Converges",
                PropertyKind::Liveness,
                String::new(),
                vec![violation],
            );
        }
        let mut violations = Vec::new();
        let mut settled = quiet;
        for key in 0..self.keys {
            let holders: Vec<(NodeId, Version)> = self.replicas_of[key as usize]
                .iter()
                .filter(|&&node| self.up_at(node, deadline))
                .map(|&node| (node, self.copy_at(node, key, deadline)))
                .collect();
            if holders.windows(2).any(|pair| pair[0].1 != pair[1].1) {
                let copies: Vec<String> = holders
                    .iter()
                    .map(|(node, v)| {
                        format!("node {node} holds version {}", version_text(Some(*v)))
                    })
                    .collect();
                violations.push(Violation {
                    time: deadline,
                    nodes: holders.iter().map(|(node, _)| *node).collect(),
                    message: format!(
                        "key {key}: at {deadline}, {within} after {quiet} ({context}), its up replicas still disagree: {}",
                        copies.join(", ")
                    ),
                });
            }
            for (node, _) in &holders {
                let changed = self.copies.get(&(*node, key)).and_then(|changes| {
                    changes
                        .iter()
                        .rev()
                        .find(|(at, _)| *at <= deadline)
                        .map(|(at, _)| *at)
                });
                settled = settled.max(changed.unwrap_or(SimTime::ZERO));
            }
        }
        let detail = if violations.is_empty() {
            format!(
                "every key's up replicas agree from {settled}, {} after {quiet} ({context})",
                settled.since(quiet)
            )
        } else {
            String::new()
        };
        report_named("Converges", PropertyKind::Liveness, detail, violations)
    }

    fn check_report(&mut self, check: &CacheCheck, end: SimTime) -> Option<CheckReport> {
        Some(match check {
            CacheCheck::Linearizable => self.linearizable_report(),
            CacheCheck::NoLostWrites => self.lost_writes_report(),
            CacheCheck::Available { min } => self.available_report(*min, end),
            CacheCheck::Converges(within) => self.converges_report(within.span(), end),
            CacheCheck::ConcurrentOperations | CacheCheck::StaleRead => return None,
        })
    }
}

impl Judge for CacheJudge {
    fn reports(&mut self, end: SimTime) -> Vec<CheckReport> {
        self.last = self.last.max(end);
        let checks = self.checks.clone();
        checks
            .iter()
            .filter_map(|check| self.check_report(check, end))
            .collect()
    }

    fn coverage(&self) -> Vec<Coverage> {
        let concurrent = history::concurrent(&self.ops, self.last);
        let stale = history::stale_reads(&self.ops).len();
        vec![
            Coverage {
                name: "ConcurrentOperations",
                happened: concurrent > 0,
                detail: format!(
                    "{concurrent} operation(s) overlapped another on their key, with a write"
                ),
            },
            Coverage {
                name: "StaleRead",
                happened: stale > 0,
                detail: format!("{stale} stale read(s)"),
            },
        ]
    }

    fn metrics(&self, end: SimTime) -> BTreeMap<String, f64> {
        let (_, overall) = availability(&self.ops, &self.partitions, end);
        BTreeMap::from([
            ("operations".to_string(), self.ops.len() as f64),
            ("availability".to_string(), overall.fraction_ok()),
            (
                "stale_reads".to_string(),
                history::stale_reads(&self.ops).len() as f64,
            ),
        ])
    }
}

impl CacheJudge {
    fn on_observation(&mut self, now: SimTime, node: NodeId, observation: &CacheObservation) {
        match *observation {
            CacheObservation::Invoke {
                process,
                client,
                op,
                f,
                key,
                value,
                expected,
                coordinator,
            } => {
                self.open.insert(op, self.ops.len());
                self.order.push((self.ops.len(), false));
                self.ops.push(OpRecord {
                    process,
                    client,
                    node,
                    op,
                    f,
                    key,
                    value,
                    expected: expected.flatten(),
                    coordinator,
                    invoke: now,
                    complete: None,
                    outcome: None,
                    version: None,
                });
            }
            CacheObservation::Complete {
                op,
                outcome,
                value,
                version,
                ..
            } => {
                if let Some(index) = self.open.remove(&op) {
                    self.complete(index, now, outcome);
                    let record = &mut self.ops[index];
                    record.value = value;
                    record.version = version;
                }
            }
            CacheObservation::Stored { key, version, .. } => {
                self.copies
                    .entry((node, key))
                    .or_default()
                    .push((now, version));
            }
        }
    }

    fn complete(&mut self, index: usize, now: SimTime, outcome: Outcome) {
        let record = &mut self.ops[index];
        record.complete = Some(now);
        record.outcome = Some(outcome);
        self.order.push((index, true));
    }

    /// A crash ends its clients' processes: their open operations are `info`.
    fn on_crash(&mut self, node: NodeId, now: SimTime) {
        self.down[node as usize].push((now, None));
        let dead: Vec<(u64, usize)> = self
            .open
            .iter()
            .filter(|(_, &index)| self.ops[index].node == node)
            .map(|(&op, &index)| (op, index))
            .collect();
        for (op, index) in dead {
            self.open.remove(&op);
            self.complete(index, now, Outcome::Info);
        }
    }

    fn on_up(&mut self, node: NodeId, now: SimTime) {
        if let Some(last) = self.down[node as usize].last_mut() {
            if last.1.is_none() {
                last.1 = Some(now);
            }
        }
    }

    fn end_partition(&mut self, now: SimTime) {
        if let Some(last) = self.partitions.last_mut() {
            last.end.get_or_insert(now);
        }
    }
}

impl Observer<Cache> for CacheJudge {
    fn observe(&mut self, now: SimTime, event: &TraceEvent<'_, Cache>, _world: &WorldView<'_>) {
        self.last = now;
        match *event {
            TraceEvent::Observe {
                node, observation, ..
            } => self.on_observation(now, node, observation),
            TraceEvent::Crash { node } | TraceEvent::Leave { node } => self.on_crash(node, now),
            TraceEvent::Restart { node } | TraceEvent::Join { node } => self.on_up(node, now),
            TraceEvent::Partition { groups } => {
                self.end_partition(now);
                self.partitions.push(PartitionSeen {
                    start: now,
                    end: None,
                    groups: groups.to_vec(),
                });
            }
            TraceEvent::Heal => self.end_partition(now),
            _ => {}
        }
    }
}
