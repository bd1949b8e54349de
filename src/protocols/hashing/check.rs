//! Checks and measurements for consistent hashing.
//!
//! - `Balance(max_over_mean)`: with every initial member, the busiest node
//!   holds at most `max_over_mean` times the mean number of keys. The detail
//!   gives the coefficient of variation next to the theory, 1/sqrt(vnodes).
//! - `Movement(max_fraction)`: at each scheduled join or leave, at most this
//!   fraction of keys changes primary owner (consistent schemes move about
//!   1/n; modulo moves most keys).
//! - `Converges(within)`: after the last fault, the membership views of the up
//!   nodes assign every sampled key the same primary again within the bound.
//!
//! Ownership disagreement over time is the fraction of a sample of keys whose
//! primary is not the same in every up node's view; it is what the chart plots.

use super::placement::{balance, key_hash, key_name, moved_fraction, Placement, Scheme};
use super::{Hashing, HashingObservation};
use crate::check::{report, CheckReport, Coverage, PropertyKind, Violation};
use crate::harness::{Check, HumanDuration, Judge, RunSetup};
use crate::node::NodeId;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Fault, Observer, TraceEvent, WorldView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;

/// What `checks: [...]` may list for consistent hashing.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum HashingCheck {
    /// The busiest node holds at most this multiple of the mean.
    Balance {
        /// The bound.
        max_over_mean: f64,
    },
    /// A join or leave moves at most this fraction of keys.
    Movement {
        /// The bound.
        max_fraction: f64,
    },
    /// Views agree again within the bound after the last fault.
    Converges(HumanDuration),
    /// Coverage: views disagreed on some key's owner.
    ViewsDisagreed,
    /// Coverage: a request was misrouted.
    RequestMisrouted,
}

impl Check for HashingCheck {
    fn name(&self) -> &'static str {
        match self {
            HashingCheck::Balance { .. } => "Balance",
            HashingCheck::Movement { .. } => "Movement",
            HashingCheck::Converges(_) => "Converges",
            HashingCheck::ViewsDisagreed => "ViewsDisagreed",
            HashingCheck::RequestMisrouted => "RequestMisrouted",
        }
    }
}

/// Keys sampled for ownership disagreement.
const SAMPLE_KEYS: u64 = 1000;

/// A scheduled change of membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Membership {
    /// The node joins.
    Join(NodeId),
    /// The node leaves.
    Leave(NodeId),
}

/// Judges a consistent-hashing run: views that disagree, misrouted requests, balance and movement.
pub struct HashingJudge {
    scheme: Scheme,
    keys: u64,
    initial: Vec<NodeId>,
    changes: Vec<(SimTime, Membership)>,
    within: Option<SimDuration>,
    faults_end: SimTime,
    sample: Vec<u64>,
    views: Vec<Option<Placement>>,
    /// (time, fraction of sampled keys whose primary the up views disagree on)
    pub series: Vec<(SimTime, f64)>,
    routed: u64,
    /// (sender, id) -> when it was routed, until served.
    pending: BTreeMap<(NodeId, u64), SimTime>,
    served: BTreeMap<(NodeId, u64), bool>,
    misrouted: u64,
    /// When each misrouted request was served.
    pub misrouted_at: Vec<SimTime>,
    checks: Vec<HashingCheck>,
}

impl HashingJudge {
    /// A judge of `checks` for one run; the membership changes are the
    /// run's joins and leaves.
    pub fn new(protocol: &Hashing, checks: &[HashingCheck], setup: &RunSetup<'_>) -> Self {
        let within = checks.iter().find_map(|check| match check {
            HashingCheck::Converges(within) => Some(within.span()),
            _ => None,
        });
        let changes = setup
            .faults
            .iter()
            .filter_map(|scheduled| match scheduled.fault {
                Fault::Join { node } => Some((scheduled.at, Membership::Join(node))),
                Fault::Leave { node } => Some((scheduled.at, Membership::Leave(node))),
                _ => None,
            })
            .collect();
        let initial = protocol.members_initial.clone();
        let (faults_end, node_count) = (setup.faults_end, setup.node_count);
        HashingJudge {
            scheme: protocol.scheme,
            keys: protocol.keys,
            initial,
            changes,
            within,
            faults_end,
            sample: (0..SAMPLE_KEYS.min(protocol.keys))
                .map(|i| key_hash(key_name(i).as_bytes()))
                .collect(),
            views: vec![None; node_count as usize],
            series: Vec::new(),
            routed: 0,
            pending: BTreeMap::new(),
            served: BTreeMap::new(),
            misrouted: 0,
            misrouted_at: Vec::new(),
            checks: checks.to_vec(),
        }
    }

    /// When each request that was never served had been routed (lost on the
    /// way, or its owner unreachable or down).
    pub fn failed_at(&self) -> Vec<SimTime> {
        let mut times: Vec<SimTime> = self.pending.values().copied().collect();
        times.sort_unstable();
        times
    }

    fn disagreement(&self) -> f64 {
        let up: Vec<&Placement> = self.views.iter().flatten().collect();
        if up.len() < 2 || self.sample.is_empty() {
            return 0.0;
        }
        let differing = self
            .sample
            .iter()
            .filter(|&&hash| {
                let first = up[0].primary(hash);
                up[1..].iter().any(|view| view.primary(hash) != first)
            })
            .count();
        differing as f64 / self.sample.len() as f64
    }

    fn record(&mut self, now: SimTime) {
        let value = self.disagreement();
        if self.series.last().is_none_or(|&(_, last)| last != value) {
            self.series.push((now, value));
        }
    }

    fn all_keys(&self) -> Vec<u64> {
        (0..self.keys)
            .map(|i| key_hash(key_name(i).as_bytes()))
            .collect()
    }

    /// Members after each scheduled change, starting with the initial ones.
    pub fn memberships(&self) -> Vec<(SimTime, Vec<NodeId>)> {
        let mut members = self.initial.clone();
        let mut out = vec![(SimTime::ZERO, members.clone())];
        for (at, change) in &self.changes {
            match change {
                Membership::Join(node) => members.push(*node),
                Membership::Leave(node) => members.retain(|n| n != node),
            }
            members.sort_unstable();
            members.dedup();
            out.push((*at, members.clone()));
        }
        out
    }

    /// Fraction of keys moved at each change: (time, change, fraction).
    pub fn movements(&self) -> Vec<(SimTime, Membership, f64)> {
        let keys = self.all_keys();
        let memberships = self.memberships();
        self.changes
            .iter()
            .zip(memberships.windows(2))
            .map(|((at, change), pair)| {
                let before = Placement::new(self.scheme, &pair[0].1);
                let after = Placement::new(self.scheme, &pair[1].1);
                (*at, *change, moved_fraction(&before, &after, &keys))
            })
            .collect()
    }

    fn balance_report(&self, limit: f64) -> CheckReport {
        let stats = balance(
            &Placement::new(self.scheme, &self.initial),
            &self.all_keys(),
        );
        let theory = match self.scheme {
            Scheme::Ring { vnodes } => format!(
                ", theory 1/sqrt({vnodes}) = {:.4}",
                1.0 / (vnodes as f64).sqrt()
            ),
            _ => String::new(),
        };
        let detail = format!(
            "{} keys on {} nodes: max/mean {:.3}, coefficient of variation {:.4}{theory}",
            self.keys,
            self.initial.len(),
            stats.max_over_mean,
            stats.cv
        );
        let mut violations = Vec::new();
        if stats.max_over_mean > limit {
            violations.push(Violation {
                time: SimTime::ZERO,
                nodes: stats
                    .loads
                    .iter()
                    .max_by_key(|(_, load)| *load)
                    .map(|(n, _)| vec![*n])
                    .unwrap_or_default(),
                message: format!("max/mean {:.3} exceeds {limit}", stats.max_over_mean),
            });
        }
        report("Balance", PropertyKind::Safety, detail, violations)
    }

    fn movement_report(&self, limit: f64) -> CheckReport {
        let mut detail = String::new();
        let mut violations = Vec::new();
        for (at, change, fraction) in self.movements() {
            let _ = write!(
                detail,
                "{change:?} at {at}: {:.1}% of keys moved; ",
                100.0 * fraction
            );
            if fraction > limit {
                let node = match change {
                    Membership::Join(n) | Membership::Leave(n) => n,
                };
                violations.push(Violation {
                    time: at,
                    nodes: vec![node],
                    message: format!(
                        "{change:?} moved {:.1}% of keys, more than {:.1}%",
                        100.0 * fraction,
                        100.0 * limit
                    ),
                });
            }
        }
        if detail.is_empty() {
            detail = "no membership change scheduled".into();
        }
        let detail = detail.trim_end_matches("; ").to_string();
        report("Movement", PropertyKind::Safety, detail, violations)
    }

    /// The peak share of sampled keys whose owner the up views disagreed on.
    pub fn disagreement_peak(&self) -> f64 {
        self.series.iter().map(|&(_, v)| v).fold(0.0, f64::max)
    }

    fn convergence_report(&self, end: SimTime) -> CheckReport {
        let within = self.within.unwrap_or_default();
        let failed = self.routed.saturating_sub(self.served.len() as u64);
        let requests = format!(
            "{} requests routed, {} misrouted (the receiver's view did not make it an owner), {} never served (lost, or owner unreachable)",
            self.routed, self.misrouted, failed
        );
        let peak = self.disagreement_peak();
        // The moment disagreement last became zero, if it is zero at the end.
        let settled = match self.series.last() {
            Some(&(_, last)) if last > 0.0 => None,
            _ => {
                let last_change = self
                    .series
                    .iter()
                    .rev()
                    .find(|&&(_, v)| v == 0.0)
                    .map(|&(t, _)| t)
                    .unwrap_or(SimTime::ZERO);
                Some(last_change.max(self.faults_end))
            }
        };
        let deadline = self.faults_end.after(within);
        let mut violations = Vec::new();
        let detail = match settled {
            Some(at) if at <= deadline => format!(
                "views agree again {} after the last fault at {} (peak disagreement {:.1}% of keys); {requests}",
                at.since(self.faults_end),
                self.faults_end,
                100.0 * peak
            ),
            _ if deadline > end => format!("not judged: the run ends before {deadline}; {requests}"),
            _ => {
                violations.push(Violation {
                    time: deadline,
                    nodes: Vec::new(),
                    message: format!("membership views still disagree {within} after the last fault at {}", self.faults_end),
                });
                requests
            }
        };
        report("Converges", PropertyKind::Liveness, detail, violations)
    }
}

impl Judge for HashingJudge {
    fn reports(&mut self, end: SimTime) -> Vec<CheckReport> {
        self.checks
            .iter()
            .filter_map(|check| match *check {
                HashingCheck::Balance { max_over_mean } => Some(self.balance_report(max_over_mean)),
                HashingCheck::Movement { max_fraction } => Some(self.movement_report(max_fraction)),
                HashingCheck::Converges(_) => Some(self.convergence_report(end)),
                HashingCheck::ViewsDisagreed | HashingCheck::RequestMisrouted => None,
            })
            .collect()
    }

    fn coverage(&self) -> Vec<Coverage> {
        vec![
            Coverage {
                name: "ViewsDisagreed",
                happened: self.disagreement_peak() > 0.0,
                detail: format!(
                    "peak disagreement {:.1}% of sampled keys",
                    100.0 * self.disagreement_peak()
                ),
            },
            Coverage {
                name: "RequestMisrouted",
                happened: self.misrouted > 0,
                detail: format!("{} request(s) misrouted", self.misrouted),
            },
        ]
    }

    fn metrics(&self, _end: SimTime) -> BTreeMap<String, f64> {
        BTreeMap::from([
            ("disagreement_peak".to_string(), self.disagreement_peak()),
            ("misrouted".to_string(), self.misrouted as f64),
        ])
    }
}

impl Observer<Hashing> for HashingJudge {
    fn observe(&mut self, now: SimTime, event: &TraceEvent<'_, Hashing>, _world: &WorldView<'_>) {
        match event {
            TraceEvent::Crash { node } | TraceEvent::Leave { node } => {
                self.views[*node as usize] = None;
                self.record(now);
            }
            TraceEvent::Observe {
                node, observation, ..
            } => match observation {
                HashingObservation::View { members } => {
                    self.views[*node as usize] = Some(Placement::new(self.scheme, members));
                    self.record(now);
                }
                HashingObservation::Routed { id, .. } => {
                    self.routed += 1;
                    self.pending.insert((*node, *id), now);
                }
                HashingObservation::Served {
                    from, id, owner, ..
                } => {
                    if !owner {
                        self.misrouted += 1;
                        self.misrouted_at.push(now);
                    }
                    self.pending.remove(&(*from, *id));
                    self.served.insert((*from, *id), *owner);
                }
            },
            _ => {}
        }
    }
}
