//! Checks: named properties judged over a run, fed by the observer hook as the
//! run happens. Each check ends with a verdict, a detail a person can follow
//! back into the trace, and the violations with their simulated times (which
//! the charts mark in red).

use crate::node::NodeId;
use crate::sim::time::SimTime;
use serde::Serialize;
use std::fmt;

/// What kind of property a check is, in the manner of stateright's
/// `Expectation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyKind {
    /// Always: no moment of the run may break it (a violation is a moment).
    Safety,
    /// Eventually: it must come true, within a bound the check states.
    Liveness,
    /// Sometimes: the run did what makes it interesting (the lock was
    /// contended, proposers duelled). Reported as coverage on every run; a
    /// scenario that lists it fails when it did not happen.
    Coverage,
}

impl fmt::Display for PropertyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PropertyKind::Safety => "safety",
            PropertyKind::Liveness => "liveness",
            PropertyKind::Coverage => "coverage",
        })
    }
}

/// A property a protocol offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Property {
    /// As written in `checks: [...]` and `expect: Violates([...])`.
    pub name: &'static str,
    /// Always, eventually or sometimes.
    pub kind: PropertyKind,
    /// One line on what it means.
    pub summary: &'static str,
    /// How it is written when it takes arguments (`Progress("2s")`), else "".
    pub example: &'static str,
}

/// Whether a coverage property happened in a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Coverage {
    /// The property's name.
    pub name: &'static str,
    /// Whether the run did it.
    pub happened: bool,
    /// When, or how often, in words.
    pub detail: String,
}

/// The outcome a scenario declares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Expectation {
    /// Every check passes.
    Pass,
    /// Exactly these checks fail; the others pass.
    Violates(Vec<&'static str>),
}

impl Expectation {
    /// Whether `name` is expected to fail.
    pub fn expects_failure_of(&self, name: &str) -> bool {
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
            Expectation::Violates(names) => write!(f, "Violates([{}])", names.join(", ")),
        }
    }
}

/// A check's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The property held.
    Pass,
    /// The property broke.
    Fail,
}

/// One moment at which a property was broken.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    /// When, in true time.
    pub time: SimTime,
    /// The nodes involved.
    pub nodes: Vec<NodeId>,
    /// What happened, in words a reviewer can check against the trace.
    pub message: String,
}

/// A check's verdict on a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckReport {
    /// The property's name.
    pub name: &'static str,
    /// Safety, liveness or coverage.
    pub kind: PropertyKind,
    /// Pass or fail.
    pub verdict: Verdict,
    /// One line on what was checked or found.
    pub detail: String,
    /// Each moment the property was broken (empty on a pass).
    pub violations: Vec<Violation>,
}

impl CheckReport {
    /// A report that passes when there is no violation.
    pub fn new(
        name: &'static str,
        kind: PropertyKind,
        detail: String,
        violations: Vec<Violation>,
    ) -> Self {
        let verdict = if violations.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        CheckReport {
            name,
            kind,
            verdict,
            detail,
            violations,
        }
    }
}

/// A report whose detail ends with its first ten violations, so a failing
/// check names the nodes and times to look for in the trace.
pub fn report(
    name: &'static str,
    kind: PropertyKind,
    mut detail: String,
    violations: Vec<Violation>,
) -> CheckReport {
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
    CheckReport::new(name, kind, detail, violations)
}
