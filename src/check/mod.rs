//! Checks: named properties judged over a run, fed by the observer hook as the
//! run happens. Each check ends with a verdict, a detail a person can follow
//! back into the trace, and the violations with their simulated times (which
//! the charts mark in red).

pub mod hashing;
pub mod heartbeat;
pub mod lock;
pub mod paxos;

use crate::node::NodeId;
use crate::sim::time::{SimDuration, SimTime};
use serde::Serialize;
use std::fmt;

/// The checks a scenario can ask for, with their parameters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum CheckSpec {
    /// Heartbeat: every crash is suspected by every correct peer within the bound.
    Completeness { within: SimDuration },
    /// Heartbeat: no node that is up and reachable is suspected.
    Accuracy,
    /// Paxos: no two nodes learn different values.
    Agreement,
    /// Paxos: a learned value was proposed by a client.
    Validity,
    /// Paxos: a node learns at most once.
    Integrity,
    /// Paxos: no two acceptors accept different values under one ballot
    /// (the `OneValuePerBallot` invariant of Lamport's Voting specification).
    OneValuePerBallot,
    /// Lock: the resource never accepts a write from a client whose holding
    /// interval overlaps that of a client whose write it accepted before.
    MutualExclusion,
    /// Lock: no accepted write carries an older token than one accepted
    /// before, nor (without fencing) a lease the server had expired.
    NoStaleWrite,
    /// Lock: after a holder crashes, someone else gets the lock in time.
    Progress { within: SimDuration },
    /// Hashing: the busiest node holds at most this multiple of the mean.
    Balance { max_over_mean: f64 },
    /// Hashing: a join or leave moves at most this fraction of keys.
    Movement { max_fraction: f64 },
    /// Hashing: membership views agree again within the bound after faults.
    Converges { within: SimDuration },
    /// Paxos: once faults stop with a quorum and a proposer connected, a value
    /// is chosen within the bound.
    DecidesWithin { within: SimDuration },
}

/// Check names, as used in `expect: Violates([...])`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum CheckName {
    Completeness,
    Accuracy,
    Agreement,
    Validity,
    Integrity,
    OneValuePerBallot,
    DecidesWithin,
    MutualExclusion,
    NoStaleWrite,
    Progress,
    Balance,
    Movement,
    Converges,
}

impl CheckSpec {
    pub fn name(&self) -> CheckName {
        match self {
            CheckSpec::Completeness { .. } => CheckName::Completeness,
            CheckSpec::Accuracy => CheckName::Accuracy,
            CheckSpec::Agreement => CheckName::Agreement,
            CheckSpec::Validity => CheckName::Validity,
            CheckSpec::Integrity => CheckName::Integrity,
            CheckSpec::OneValuePerBallot => CheckName::OneValuePerBallot,
            CheckSpec::MutualExclusion => CheckName::MutualExclusion,
            CheckSpec::NoStaleWrite => CheckName::NoStaleWrite,
            CheckSpec::Progress { .. } => CheckName::Progress,
            CheckSpec::Balance { .. } => CheckName::Balance,
            CheckSpec::Movement { .. } => CheckName::Movement,
            CheckSpec::Converges { .. } => CheckName::Converges,
            CheckSpec::DecidesWithin { .. } => CheckName::DecidesWithin,
        }
    }
}

impl fmt::Display for CheckName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The outcome a scenario declares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Expectation {
    /// Every check passes.
    Pass,
    /// Exactly these checks fail; the others pass.
    Violates(Vec<CheckName>),
}

impl Expectation {
    pub fn expects_failure_of(&self, name: CheckName) -> bool {
        match self {
            Expectation::Pass => false,
            Expectation::Violates(names) => names.contains(&name),
        }
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expectation::Pass => write!(f, "Pass"),
            Expectation::Violates(names) => {
                let names: Vec<String> = names.iter().map(ToString::to_string).collect();
                write!(f, "Violates([{}])", names.join(", "))
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
}

/// One moment at which a property was broken.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    pub time: SimTime,
    pub nodes: Vec<NodeId>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckReport {
    pub name: CheckName,
    pub verdict: Verdict,
    pub detail: String,
    pub violations: Vec<Violation>,
}

impl CheckReport {
    /// A report that passes when there is no violation.
    pub fn new(name: CheckName, detail: String, violations: Vec<Violation>) -> Self {
        let verdict = if violations.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        CheckReport {
            name,
            verdict,
            detail,
            violations,
        }
    }
}

/// A report whose detail ends with its first ten violations, so a failing
/// check names the nodes and times to look for in the trace.
pub fn report(name: CheckName, mut detail: String, violations: Vec<Violation>) -> CheckReport {
    use std::fmt::Write;
    for violation in violations.iter().take(10) {
        if !detail.is_empty() {
            detail.push_str("; ");
        }
        let _ = write!(
            detail,
            "VIOLATION at {}: {}",
            violation.time, violation.message
        );
    }
    if violations.len() > 10 {
        let _ = write!(detail, "; and {} more", violations.len() - 10);
    }
    CheckReport::new(name, detail, violations)
}
