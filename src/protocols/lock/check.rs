//! Checks for the lock service, from the protocol's observations.
//!
//! - `MutualExclusion`, in the form the resource can observe: once it has
//!   accepted a write made under one holding, it never accepts a write made
//!   under another client's holding of an older grant (a lower token) whose
//!   holding interval (from "I hold the lock" to "I no longer do", in true
//!   time) overlaps it. That is two holders writing at once: the old one still
//!   writing after the new one has. A new holder writing after the old one is
//!   succession, and a fenced resource that takes a late writer's write
//!   *before* the new holder's is still serial. Every holding is its own
//!   interval (a client may hold the same token twice, after a re-grant), and
//!   each write belongs to the holding under which its client sent it, found
//!   by the write's message id.
//! - `NoStaleWrite`: the resource never accepts a write whose token is lower
//!   than one it has already accepted, nor, without fencing, a write under a
//!   lease that had run out on the server's clock (its latest grant or
//!   renewal's deadline, in true time, at or before the write) without being
//!   released first. The server need not have noticed (it may be paused or
//!   down): once its clock is past the expiry it may grant the lock again.
//! - `Progress(within)`: after a client crashes while the server has it as the
//!   holder, the lock is granted to another client within the bound.
//!
//! Availability (the fraction of the run during which the lock was granted,
//! and how long it stayed unavailable after each holder crash) is reported in
//! the Progress detail and as metrics.

use super::{Lock, LockMessage, LockObservation, LockVariant, Token};
use crate::check::{report, CheckReport, Coverage, PropertyKind, Violation};
use crate::harness::{Check, HumanDuration, Judge, RunSetup};
use crate::node::NodeId;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Observer, TraceEvent, WorldView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;

/// What `checks: [...]` may list for the lock service.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum LockCheck {
    /// No two holders writing at once.
    MutualExclusion,
    /// No stale write accepted.
    NoStaleWrite,
    /// A crashed holder's lock goes to someone else within the bound.
    Progress(HumanDuration),
    /// Coverage: a client asked while another held the lock.
    LockContended,
    /// Coverage: a lease ran out on the server.
    LeaseExpired,
    /// Coverage: fencing rejected a write.
    WriteFenced,
}

impl Check for LockCheck {
    fn name(&self) -> &'static str {
        match self {
            LockCheck::MutualExclusion => "MutualExclusion",
            LockCheck::NoStaleWrite => "NoStaleWrite",
            LockCheck::Progress(_) => "Progress",
            LockCheck::LockContended => "LockContended",
            LockCheck::LeaseExpired => "LeaseExpired",
            LockCheck::WriteFenced => "WriteFenced",
        }
    }
}

/// A client's belief that it holds the lock, in true time.
#[derive(Clone, Debug, PartialEq)]
pub struct Holding {
    /// The client.
    pub client: NodeId,
    /// The fencing token: one per grant, increasing.
    pub token: Token,
    /// The client's count of its holds.
    pub hold: u64,
    /// When the belief began.
    pub start: SimTime,
    /// When it ended, if it did.
    pub end: Option<SimTime>,
}

/// A grant as the server saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    /// The client granted.
    pub client: NodeId,
    /// The fencing token: one per grant, increasing.
    pub token: Token,
    /// When the server granted it.
    pub start: SimTime,
    /// When the grant ended (release or expiry), if it did.
    pub end: Option<SimTime>,
    /// Whether it ended by expiry.
    pub expired: bool,
    /// When the lease runs out on the server's clock, in true time (its
    /// latest grant or renewal); none without expiry.
    pub lease_end: Option<SimTime>,
}

impl Grant {
    /// Whether the lease had run out by `now` without being released first.
    fn ran_out_by(&self, now: SimTime) -> Option<SimTime> {
        let lease_end = self.lease_end.filter(|&end| end <= now)?;
        let released_first = !self.expired && self.end.is_some_and(|end| end < lease_end);
        (!released_first).then_some(lease_end)
    }
}

/// A write as the resource saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct WriteSeen {
    /// When the resource received it.
    pub time: SimTime,
    /// The client that sent it.
    pub client: NodeId,
    /// The token it carried.
    pub token: Token,
    /// The client's count of its holds.
    pub hold: u64,
    /// Whether the resource accepted it.
    pub accepted: bool,
    /// Accepted although a check says it should not have been.
    pub unsafe_write: bool,
}

struct Obligation {
    crashed: NodeId,
    at: SimTime,
    deadline: SimTime,
}

/// Judges a lock service run: mutual exclusion per holding, stale writes, progress, and coverage.
pub struct LockJudge {
    variant: LockVariant,
    within: Option<SimDuration>,
    /// Every holding, in the order they began.
    holdings: Vec<Holding>,
    /// Per node: its latest holding since it last started, if any.
    holding_current: Vec<Option<usize>>,
    /// Per write message id: the holding it was sent under.
    write_holding: BTreeMap<u64, usize>,
    /// Accepted writes that no holding explains (none in a correct run).
    writes_unattributed: u64,
    grants: Vec<Grant>,
    writes: Vec<WriteSeen>,
    /// The holdings under which the resource has accepted writes.
    holdings_accepted: Vec<usize>,
    token_accepted_max: Token,
    mutual: Vec<Violation>,
    stale: Vec<Violation>,
    progress: Vec<Violation>,
    obligations: Vec<Obligation>,
    /// (crash time, time until the next grant to someone else)
    recoveries: Vec<(SimTime, SimDuration)>,
    /// Denials the server sent (the lock was contended).
    denials: u64,
    checks: Vec<LockCheck>,
}

impl LockJudge {
    /// A judge of `checks` for one run.
    pub fn new(protocol: &Lock, checks: &[LockCheck], setup: &RunSetup<'_>) -> Self {
        let within = checks.iter().find_map(|check| match check {
            LockCheck::Progress(within) => Some(within.span()),
            _ => None,
        });
        let node_count = setup.node_count;
        LockJudge {
            variant: protocol.variant,
            within,
            holdings: Vec::new(),
            holding_current: vec![None; node_count as usize],
            write_holding: BTreeMap::new(),
            writes_unattributed: 0,
            grants: Vec::new(),
            writes: Vec::new(),
            holdings_accepted: Vec::new(),
            token_accepted_max: 0,
            mutual: Vec::new(),
            stale: Vec::new(),
            progress: Vec::new(),
            obligations: Vec::new(),
            recoveries: Vec::new(),
            denials: 0,
            checks: checks.to_vec(),
        }
    }

    /// Every holding seen, in order of start.
    pub fn holdings(&self) -> impl Iterator<Item = &Holding> {
        self.holdings.iter()
    }
    /// Every grant the server made, in order.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }
    /// Every write the resource received, in order.
    pub fn writes(&self) -> &[WriteSeen] {
        &self.writes
    }

    fn overlap(a: &Holding, b: &Holding, now: SimTime) -> bool {
        a.start < b.end.unwrap_or(now) && b.start < a.end.unwrap_or(now)
    }

    /// Checks an accepted write, made under holding `mine`, against every
    /// other client's holding the resource has accepted writes under.
    fn check_exclusion(&mut self, now: SimTime, mine: usize) {
        let holding = &self.holdings[mine];
        for &other in &self.holdings_accepted {
            let theirs = &self.holdings[other];
            // The older holder writing after the newer one: a new holder
            // writing after the old one is succession. "Older" is grant
            // order, i.e. token order, not when the client started holding:
            // a delayed grant can reach an old holder after the next holder
            // has its own.
            if theirs.client == holding.client
                || holding.token >= theirs.token
                || !Self::overlap(holding, theirs, now)
            {
                continue;
            }
            self.mutual.push(Violation {
                time: now,
                nodes: vec![holding.client, theirs.client],
                message: format!(
                    "the resource accepted a write from client {} (token {}, holding since {}{}) after accepting writes from client {} (token {}, holding since {}{}): their holding intervals overlap",
                    holding.client,
                    holding.token,
                    holding.start,
                    holding.end.map_or(String::new(), |end| format!(" until {end}")),
                    theirs.client,
                    theirs.token,
                    theirs.start,
                    theirs.end.map_or(String::new(), |end| format!(" until {end}"))
                ),
            });
        }
        if !self.holdings_accepted.contains(&mine) {
            self.holdings_accepted.push(mine);
        }
    }

    fn on_write(
        &mut self,
        now: SimTime,
        client: NodeId,
        token: Token,
        hold: u64,
        accepted: bool,
        holding: Option<usize>,
    ) {
        let mut unsafe_write = false;
        if accepted {
            // A write that breaks MutualExclusion needs no unsafe mark of its own:
            match holding {
                Some(mine) => self.check_exclusion(now, mine),
                None => self.writes_unattributed += 1,
            }
            // it carries a token below one already accepted, which this rule marks.
            if token < self.token_accepted_max {
                unsafe_write = true;
                self.stale.push(Violation {
                    time: now,
                    nodes: vec![client],
                    message: format!(
                        "the resource accepted token {token} from client {client} after accepting token {}",
                        self.token_accepted_max
                    ),
                });
            } else if self.variant != LockVariant::LeaseFencing {
                let ran_out = self
                    .grants
                    .iter()
                    .find(|g| g.token == token)
                    .and_then(|grant| grant.ran_out_by(now));
                if let Some(lease_end) = ran_out {
                    unsafe_write = true;
                    self.stale.push(Violation {
                        time: now,
                        nodes: vec![client],
                        message: format!(
                            "the resource accepted a write from client {client} under token {token}, whose lease had run out on the server's clock at {lease_end}"
                        ),
                    });
                }
            }
            self.token_accepted_max = self.token_accepted_max.max(token);
        }
        self.writes.push(WriteSeen {
            time: now,
            client,
            token,
            hold,
            accepted,
            unsafe_write,
        });
    }

    fn resolve_due(&mut self, now: SimTime, inclusive: bool) {
        let due = |deadline: SimTime| {
            if inclusive {
                deadline <= now
            } else {
                deadline < now
            }
        };
        let within = self.within.unwrap_or_default();
        for obligation in std::mem::take(&mut self.obligations) {
            if due(obligation.deadline) {
                self.progress.push(Violation {
                    time: obligation.deadline,
                    nodes: vec![obligation.crashed],
                    message: format!(
                        "client {} crashed at {} holding the lock, and nobody else got it within {within}",
                        obligation.crashed, obligation.at
                    ),
                });
            } else {
                self.obligations.push(obligation);
            }
        }
    }

    /// Fraction of `end` during which the server had granted the lock.
    pub fn availability(&self, end: SimTime) -> f64 {
        let held: u64 = self
            .grants
            .iter()
            .map(|g| g.end.unwrap_or(end).since(g.start).as_nanos())
            .sum();
        if end.as_nanos() == 0 {
            0.0
        } else {
            held as f64 / end.as_nanos() as f64
        }
    }

    fn check_report(&self, check: &LockCheck, end: SimTime) -> Option<CheckReport> {
        let not_judged = self.obligations.len();
        let accepted = self.writes.iter().filter(|w| w.accepted).count();
        let rejected = self.writes.len() - accepted;
        Some(match check {
            LockCheck::MutualExclusion => report(
                "MutualExclusion",
                PropertyKind::Safety,
                format!(
                    "{} grants, {} holdings, {accepted} writes accepted, {rejected} rejected{}",
                    self.grants.len(),
                    self.holdings.len(),
                    if self.writes_unattributed > 0 {
                        format!(
                            "; {} accepted write(s) sent under no holding",
                            self.writes_unattributed
                        )
                    } else {
                        String::new()
                    }
                ),
                self.mutual.clone(),
            ),
            LockCheck::NoStaleWrite => report(
                "NoStaleWrite",
                PropertyKind::Safety,
                format!("highest token accepted {}", self.token_accepted_max),
                self.stale.clone(),
            ),
            LockCheck::Progress(_) => {
                let mut detail = format!(
                    "availability {:.1}% of the run",
                    100.0 * self.availability(end)
                );
                for (at, took) in &self.recoveries {
                    let _ = write!(
                        detail,
                        "; holder crash at {at}: lock granted again after {took}"
                    );
                }
                if not_judged > 0 {
                    let _ = write!(
                        detail,
                        "; {not_judged} crash(es) too close to the end to judge"
                    );
                }
                report(
                    "Progress",
                    PropertyKind::Liveness,
                    detail,
                    self.progress.clone(),
                )
            }
            LockCheck::LockContended | LockCheck::LeaseExpired | LockCheck::WriteFenced => {
                return None
            }
        })
    }
}

impl Judge for LockJudge {
    fn reports(&mut self, end: SimTime) -> Vec<CheckReport> {
        self.resolve_due(end, true);
        self.checks
            .iter()
            .filter_map(|check| self.check_report(check, end))
            .collect()
    }

    fn coverage(&self) -> Vec<Coverage> {
        let expired = self.grants.iter().filter(|g| g.expired).count();
        let fenced = self.writes.iter().filter(|w| !w.accepted).count();
        vec![
            Coverage {
                name: "LockContended",
                happened: self.denials > 0,
                detail: format!("{} request(s) denied", self.denials),
            },
            Coverage {
                name: "LeaseExpired",
                happened: expired > 0,
                detail: format!("{expired} lease(s) expired on the server"),
            },
            Coverage {
                name: "WriteFenced",
                happened: fenced > 0,
                detail: format!("{fenced} write(s) rejected"),
            },
        ]
    }

    fn metrics(&self, end: SimTime) -> BTreeMap<String, f64> {
        let accepted = self.writes.iter().filter(|w| w.accepted).count();
        BTreeMap::from([
            ("lock_availability".to_string(), self.availability(end)),
            ("grants".to_string(), self.grants.len() as f64),
            ("writes_accepted".to_string(), accepted as f64),
        ])
    }
}

impl LockJudge {
    fn end_holding(&mut self, node: NodeId, now: SimTime) {
        if let Some(index) = self.holding_current[node as usize] {
            self.holdings[index].end.get_or_insert(now);
        }
    }

    fn on_crash(&mut self, node: NodeId, now: SimTime) {
        // A crash ends the client's belief with its memory.
        self.end_holding(node, now);
        self.holding_current[node as usize] = None;
        let holds_grant = self
            .grants
            .last()
            .is_some_and(|g| g.client == node && g.end.is_none());
        if let (true, Some(within)) = (holds_grant, self.within) {
            self.obligations.push(Obligation {
                crashed: node,
                at: now,
                deadline: now.after(within),
            });
        }
    }

    fn on_granted(
        &mut self,
        now: SimTime,
        client: NodeId,
        token: Token,
        lease_end: Option<SimTime>,
    ) {
        for obligation in std::mem::take(&mut self.obligations) {
            if obligation.crashed != client {
                self.recoveries
                    .push((obligation.at, now.since(obligation.at)));
            } else {
                self.obligations.push(obligation);
            }
        }
        self.grants.push(Grant {
            client,
            token,
            start: now,
            end: None,
            expired: false,
            lease_end,
        });
    }

    fn on_renewed(&mut self, token: Token, lease_end: Option<SimTime>) {
        if let Some(grant) = self
            .grants
            .iter_mut()
            .find(|g| g.token == token && g.end.is_none())
        {
            grant.lease_end = lease_end;
        }
    }

    fn on_grant_ended(&mut self, now: SimTime, token: Token, expired: bool) {
        if let Some(grant) = self
            .grants
            .iter_mut()
            .find(|g| g.token == token && g.end.is_none())
        {
            grant.end = Some(now);
            grant.expired = expired;
        }
    }

    fn on_holding(&mut self, now: SimTime, client: NodeId, token: Token, hold: u64) {
        self.end_holding(client, now);
        self.holding_current[client as usize] = Some(self.holdings.len());
        self.holdings.push(Holding {
            client,
            token,
            hold,
            start: now,
            end: None,
        });
    }

    fn on_observation(
        &mut self,
        now: SimTime,
        node: NodeId,
        cause: Option<u64>,
        deadline: Option<SimTime>,
        observation: &LockObservation,
    ) {
        match *observation {
            LockObservation::Granted { client, token, .. } => {
                self.on_granted(now, client, token, deadline)
            }
            LockObservation::Renewed { token, .. } => self.on_renewed(token, deadline),
            LockObservation::Released { token, .. } => self.on_grant_ended(now, token, false),
            LockObservation::Expired { token, .. } => self.on_grant_ended(now, token, true),
            LockObservation::Holding { token, hold, .. } => self.on_holding(now, node, token, hold),
            LockObservation::NotHolding { token, .. } => {
                if let Some(index) = self.holding_current[node as usize] {
                    if self.holdings[index].token == token {
                        self.end_holding(node, now);
                    }
                }
            }
            LockObservation::WriteReceived {
                client,
                token,
                hold,
                accepted,
                ..
            } => {
                let holding = cause.and_then(|id| self.write_holding.get(&id).copied());
                self.on_write(now, client, token, hold, accepted, holding)
            }
            LockObservation::WriteSent { .. } => {}
        }
    }
}

impl Observer<Lock> for LockJudge {
    fn observe(&mut self, now: SimTime, event: &TraceEvent<'_, Lock>, _world: &WorldView<'_>) {
        if !self.obligations.is_empty() {
            self.resolve_due(now, false);
        }
        match *event {
            TraceEvent::Crash { node } | TraceEvent::Leave { node } => self.on_crash(node, now),
            TraceEvent::Send {
                message: LockMessage::Deny { .. },
                ..
            } => self.denials += 1,
            TraceEvent::Send {
                node,
                id,
                message: LockMessage::Write { .. },
                ..
            } => {
                if let Some(holding) = self.holding_current[node as usize] {
                    self.write_holding.insert(id, holding);
                }
            }
            TraceEvent::Observe {
                node,
                cause,
                deadline,
                observation,
                ..
            } => self.on_observation(now, node, cause, deadline, observation),
            _ => {}
        }
    }
}
