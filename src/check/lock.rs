//! Checks for the lock service, from the protocol's observations.
//!
//! - `MutualExclusion`, in the form the resource can observe: once it has
//!   accepted a write from a client, it never accepts a write from a client
//!   holding an older grant (a lower token) whose holding interval (from "I
//!   hold the lock" to "I no longer do", in true time) overlaps it. That is two
//!   holders writing at once: the old one still writing after the new one has. A new holder
//!   writing after the old one is succession, and a fenced resource that takes
//!   a late writer's write *before* the new holder's is still serial.
//! - `NoStaleWrite`: the resource never accepts a write whose token is lower
//!   than one it has already accepted, nor, without fencing, a write under a
//!   lease the server had already expired.
//! - `Progress(within)`: after a client crashes while the server has it as the
//!   holder, the lock is granted to another client within the bound.
//!
//! Availability (the fraction of the run during which the lock was granted,
//! and how long it stayed unavailable after each holder crash) is reported in
//! the Progress detail and as metrics.

use super::{report, CheckName, CheckReport, Violation};
use crate::node::NodeId;
use crate::protocols::lock::{Lock, LockObservation, LockVariant, Token};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Observer, TraceEvent, WorldView};
use std::collections::BTreeMap;
use std::fmt::Write;

/// A client's belief that it holds the lock, in true time.
#[derive(Clone, Debug, PartialEq)]
pub struct Holding {
    pub client: NodeId,
    pub token: Token,
    pub hold: u64,
    pub start: SimTime,
    pub end: Option<SimTime>,
}

/// A grant as the server saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    pub client: NodeId,
    pub token: Token,
    pub start: SimTime,
    pub end: Option<SimTime>,
    pub expired: bool,
}

/// A write as the resource saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct WriteSeen {
    pub time: SimTime,
    pub client: NodeId,
    pub token: Token,
    pub hold: u64,
    pub accepted: bool,
    /// Accepted although a check says it should not have been.
    pub unsafe_write: bool,
}

struct Obligation {
    crashed: NodeId,
    at: SimTime,
    deadline: SimTime,
}

pub struct LockJudge {
    variant: LockVariant,
    within: Option<SimDuration>,
    /// Keyed by (client, token): tokens are unique per grant, while a
    /// client's hold counter starts again after it restarts.
    holdings: BTreeMap<(NodeId, Token), Holding>,
    grants: Vec<Grant>,
    writes: Vec<WriteSeen>,
    /// Per client: the tokens under which the resource accepted its writes.
    accepted_holds: BTreeMap<NodeId, Vec<Token>>,
    token_accepted_max: Token,
    mutual: Vec<Violation>,
    stale: Vec<Violation>,
    progress: Vec<Violation>,
    obligations: Vec<Obligation>,
    /// (crash time, time until the next grant to someone else)
    recoveries: Vec<(SimTime, SimDuration)>,
}

impl LockJudge {
    pub fn new(protocol: &Lock, within: Option<SimDuration>) -> Self {
        LockJudge {
            variant: protocol.variant,
            within,
            holdings: BTreeMap::new(),
            grants: Vec::new(),
            writes: Vec::new(),
            accepted_holds: BTreeMap::new(),
            token_accepted_max: 0,
            mutual: Vec::new(),
            stale: Vec::new(),
            progress: Vec::new(),
            obligations: Vec::new(),
            recoveries: Vec::new(),
        }
    }

    pub fn holdings(&self) -> impl Iterator<Item = &Holding> {
        self.holdings.values()
    }
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }
    pub fn writes(&self) -> &[WriteSeen] {
        &self.writes
    }

    fn overlap(a: &Holding, b: &Holding, now: SimTime) -> bool {
        a.start < b.end.unwrap_or(now) && b.start < a.end.unwrap_or(now)
    }

    fn on_write(&mut self, now: SimTime, client: NodeId, token: Token, hold: u64, accepted: bool) {
        let mut unsafe_write = false;
        if accepted {
            if let Some(mine) = self.holdings.get(&(client, token)) {
                for (&other, holds) in &self.accepted_holds {
                    if other == client {
                        continue;
                    }
                    for other_token in holds {
                        let theirs = &self.holdings[&(other, *other_token)];
                        // The older holder writing after the newer one: a new
                        // holder writing after the old one is succession.
                        // "Older" is grant order, i.e. token order, not when the
                        // client started holding: a delayed grant can reach an
                        // old holder after the next holder has its own.
                        if mine.token < theirs.token && Self::overlap(mine, theirs, now) {
                            unsafe_write = true;
                            self.mutual.push(Violation {
                                time: now,
                                nodes: vec![client, other],
                                message: format!(
                                    "the resource accepted a write from client {client} (token {token}, holding since {}) after accepting writes from client {other} (token {}, holding since {}{}): their holding intervals overlap",
                                    mine.start,
                                    theirs.token,
                                    theirs.start,
                                    theirs.end.map_or(String::new(), |end| format!(" until {end}"))
                                ),
                            });
                        }
                    }
                }
            }
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
                if let Some(grant) = self.grants.iter().find(|g| g.token == token && g.expired) {
                    if grant.end.is_some_and(|end| end <= now) {
                        unsafe_write = true;
                        self.stale.push(Violation {
                            time: now,
                            nodes: vec![client],
                            message: format!(
                                "the resource accepted a write from client {client} under token {token}, whose lease had expired on the server at {}",
                                grant.end.expect("checked")
                            ),
                        });
                    }
                }
            }
            self.token_accepted_max = self.token_accepted_max.max(token);
            let tokens = self.accepted_holds.entry(client).or_default();
            if !tokens.contains(&token) {
                tokens.push(token);
            }
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

    pub fn reports(&mut self, wanted: &[CheckName], end: SimTime) -> Vec<CheckReport> {
        self.resolve_due(end, true);
        let not_judged = self.obligations.len();
        let accepted = self.writes.iter().filter(|w| w.accepted).count();
        let rejected = self.writes.len() - accepted;
        wanted
            .iter()
            .map(|name| match name {
                CheckName::MutualExclusion => report(
                    CheckName::MutualExclusion,
                    format!(
                        "{} grants, {accepted} writes accepted, {rejected} rejected",
                        self.grants.len()
                    ),
                    self.mutual.clone(),
                ),
                CheckName::NoStaleWrite => report(
                    CheckName::NoStaleWrite,
                    format!("highest token accepted {}", self.token_accepted_max),
                    self.stale.clone(),
                ),
                _ => {
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
                    report(CheckName::Progress, detail, self.progress.clone())
                }
            })
            .collect()
    }
}

impl Observer<Lock> for LockJudge {
    fn observe(&mut self, now: SimTime, event: &TraceEvent<'_, Lock>, _world: &WorldView<'_>) {
        if !self.obligations.is_empty() {
            self.resolve_due(now, false);
        }
        match event {
            TraceEvent::Crash { node } => {
                // A crash ends the client's belief with its memory.
                for holding in self
                    .holdings
                    .values_mut()
                    .filter(|h| h.client == *node && h.end.is_none())
                {
                    holding.end = Some(now);
                }
                let holds_grant = self
                    .grants
                    .last()
                    .is_some_and(|g| g.client == *node && g.end.is_none());
                if let (true, Some(within)) = (holds_grant, self.within) {
                    self.obligations.push(Obligation {
                        crashed: *node,
                        at: now,
                        deadline: now.after(within),
                    });
                }
            }
            TraceEvent::Observe { node, observation } => match **observation {
                LockObservation::Granted { client, token } => {
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
                    });
                }
                LockObservation::Released { token, .. }
                | LockObservation::Expired { token, .. } => {
                    let expired = matches!(observation, LockObservation::Expired { .. });
                    if let Some(grant) = self
                        .grants
                        .iter_mut()
                        .find(|g| g.token == token && g.end.is_none())
                    {
                        grant.end = Some(now);
                        grant.expired = expired;
                    }
                }
                LockObservation::Holding { token, hold } => {
                    self.holdings.entry((*node, token)).or_insert(Holding {
                        client: *node,
                        token,
                        hold,
                        start: now,
                        end: None,
                    });
                }
                LockObservation::NotHolding { token, .. } => {
                    if let Some(holding) = self.holdings.get_mut(&(*node, token)) {
                        holding.end.get_or_insert(now);
                    }
                }
                LockObservation::WriteReceived {
                    client,
                    token,
                    hold,
                    accepted,
                    ..
                } => self.on_write(now, client, token, hold, accepted),
                LockObservation::WriteSent { .. } => {}
            },
            _ => {}
        }
    }
}
