//! A lock service with leases and fencing tokens, and the classic unsafe
//! recipes.
//!
//! Node 0 is the lock server, node 1 a storage *resource*, every other node a
//! client. A client asks the server for the lock; the server grants it to one
//! client at a time with a monotonically increasing *token*. While a client
//! believes it holds the lock it writes to the resource; after its hold time
//! it releases the lock, thinks a while and asks again.
//!
//! - `NoExpiry`: a grant lasts until released, as with a bare "set if not
//!   exists". A crashed holder blocks everyone forever.
//! - `Lease`: a grant expires `lease` after it was made, on the server's
//!   clock. The client believes it holds the lock until `lease` after it *sent*
//!   the request the grant answers, on its own clock (the conservative start:
//!   without drift or pauses its belief ends before the server's lease does).
//!   Every request carries an id that the grant echoes, so the client counts
//!   from the request the server actually answered, not from a later retry.
//!   A holder that asks again (its release was lost, or it restarted) gets its
//!   grant again with the lease *renewed* from that request.
//! - `LeaseFencing`: as `Lease`, and every write carries the token; the
//!   resource rejects a write whose token is lower than the highest it has
//!   seen.
//! - `LeaseStaleRegrant` (a planted bug): as `Lease`, but a holder that asks
//!   again gets its old grant back without a renewal, while it counts a full
//!   lease from its new request. One lost release is then enough for two
//!   clients to write as holders at once.
//!
//! A client decides to write (checking that its lease is still valid) and
//! sends the write `work` later, without checking again: the check-then-act
//! gap of real clients. A stop-the-world pause in that gap, or a client clock
//! running slow, makes it write after its lease is over on the server, which
//! only fencing catches.
//!
//! The server persists its holder, lease expiry (on its own clock, which keeps
//! running through a crash) and last token, so a lease granted before a server
//! restart is still honoured after it until it expires, and tokens never go
//! back. The resource persists the highest token it has seen.
//!
//! A client that receives a grant it no longer wants (a late or duplicated
//! answer) releases it, so the lock does not sit idle until the lease ends.
//!
//! Sources: Kleppmann, "How to do distributed locking" (2016), on leases,
//! pauses and fencing tokens; Gray and Cheriton, "Leases" (1989).

mod chart;
mod check;

pub use check::{Grant, Holding, LockCheck, LockJudge, WriteSeen};

use crate::check::{Property, PropertyKind};
use crate::harness::{BlockError, Harness, HumanDuration, Place, RunSetup, ScenarioFacts};
use crate::node::{Context, NodeId, Protocol};
use crate::plot::{Chart, TimelineData};
use crate::sim::time::{LocalTime, SimDuration};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The lock server's node.
pub const SERVER: NodeId = 0;
/// The resource's node; every other node is a client.
pub const RESOURCE: NodeId = 1;

/// A fencing token.
pub type Token = u64;

/// Which lock service, correct or with a planted bug.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockVariant {
    /// Grants never expire: a crashed holder blocks everyone (a liveness failure, by design).
    NoExpiry,
    /// Grants are leases; the resource does not check tokens, so a paused holder can write after its lease (Kleppmann's example).
    Lease,
    /// Leases plus fencing tokens: the resource rejects writes under a token older than one it has seen.
    #[default]
    LeaseFencing,
    /// Bug: a re-grant to the holder does not renew its lease.
    LeaseStaleRegrant,
}

/// The most unanswered requests a client remembers while it asks; a grant
/// answering an older one is released rather than used.
const REQUESTS_REMEMBERED: usize = 64;

/// The lock service: a server, a resource, and clients that take turns writing under the lock.
#[derive(Clone, Debug, PartialEq)]
pub struct Lock {
    /// Which variant.
    pub variant: LockVariant,
    /// How long a grant lasts (not for `NoExpiry`).
    pub lease: SimDuration,
    /// How long a client keeps the lock before releasing it.
    pub hold: SimDuration,
    /// How long a client waits between holds.
    pub think: SimDuration,
    /// Writes per hold, spread evenly over it.
    pub writes: u32,
    /// Time between deciding to write and sending the write.
    pub work: SimDuration,
    /// How long a client waits for an answer before asking again.
    pub retry: SimDuration,
}

/// What the lock service's nodes send each other.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum LockMessage {
    /// Client to server: may I have the lock?
    Acquire {
        /// The client's request id (ids only grow, across restarts too).
        request: u64,
    },
    /// The answer to request `request`: the lock, under `token`.
    Grant {
        /// The fencing token: one per grant, increasing.
        token: Token,
        /// The client's request id (ids only grow, across restarts too).
        request: u64,
    },
    /// The answer to request `request`: someone else holds it.
    Deny {
        /// The client's request id (ids only grow, across restarts too).
        request: u64,
    },
    /// Gives the lock back. `request` is the last request the client had
    /// sent (or, for an unwanted grant, the one it answered): a release
    /// older than the request the server last answered is ignored, so a
    /// release delayed from an earlier holding never ends a later re-grant.
    Release {
        /// The token of the grant given back.
        token: Token,
        /// The client's request id (ids only grow, across restarts too).
        request: u64,
    },
    /// A write to the resource; `hold` numbers the client's holds.
    Write {
        /// The fencing token: one per grant, increasing.
        token: Token,
        /// The client's count of its holds.
        hold: u64,
        /// The write's number within the hold.
        seq: u32,
    },
}

/// The lock service's timers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum LockTimer {
    /// Client: time to ask for the lock (again).
    Acquire,
    /// Client: decide write number `seq` of the current hold.
    Decide {
        /// The write's number within the hold.
        seq: u32,
    },
    /// Client: send the write decided `work` ago.
    Send {
        /// The write's number within the hold.
        seq: u32,
    },
    /// Client: the hold is over, give the lock back.
    Release,
    /// Client: the lease is over on the client's clock.
    LeaseEnd,
    /// Server: the lease with this token may have expired.
    Expire {
        /// The fencing token: one per grant, increasing.
        token: Token,
    },
}

/// A client's grant in use: its token, the client's hold count, and the
/// request it answered (which a release names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Held {
    token: Token,
    hold: u64,
    request: u64,
}

/// The server's record of who holds the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Holder {
    /// The holder.
    pub client: NodeId,
    /// Its grant's token.
    pub token: Token,
    /// The lease's end on the server's clock (none without expiry).
    pub expires: Option<LocalTime>,
    /// The request the latest grant or re-grant answered.
    pub request: u64,
}

/// What a lock service node keeps across a crash.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LockDurable {
    /// Server: the holder, if any.
    pub holder: Option<Holder>,
    /// Server: the last token issued (tokens never repeat).
    pub token_last: Token,
    /// Resource: the highest token accepted.
    pub token_highest: Token,
    /// Client: request ids below this may have been used; a restarted
    /// client starts from here, so its ids only ever grow.
    pub requests_reserved: u64,
}

/// Request ids a client reserves at a time (one persist per block).
const REQUESTS_PER_RESERVATION: u64 = 64;

/// What the lock service reports for checks and charts.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum LockObservation {
    /// Server granted the lock, with a lease ending at `expires` on the
    /// server's clock (none without expiry).
    Granted {
        /// The client node.
        client: NodeId,
        /// The fencing token: one per grant, increasing.
        token: Token,
        /// The lease's end on the server's clock (none without expiry).
        expires: Option<LocalTime>,
    },
    /// Server granted the lock again to its holder, renewing the lease to
    /// `expires` on its clock.
    Renewed {
        /// The client node.
        client: NodeId,
        /// The fencing token: one per grant, increasing.
        token: Token,
        /// The lease's end on the server's clock (none without expiry).
        expires: Option<LocalTime>,
    },
    /// Server's grant ended by release.
    Released {
        /// The client node.
        client: NodeId,
        /// The fencing token: one per grant, increasing.
        token: Token,
    },
    /// Server's grant ended by expiry.
    Expired {
        /// The client node.
        client: NodeId,
        /// The fencing token: one per grant, increasing.
        token: Token,
    },
    /// Client now believes it holds the lock, until `until` on its own clock
    /// (none without expiry), counting from request `request`.
    Holding {
        /// The fencing token: one per grant, increasing.
        token: Token,
        /// The client's count of its holds.
        hold: u64,
        /// The client's request id (ids only grow, across restarts too).
        request: u64,
        /// The lease's end on the client's clock (none without expiry).
        until: Option<LocalTime>,
    },
    /// Client no longer believes it holds the lock (released or lease over).
    NotHolding {
        /// The fencing token: one per grant, increasing.
        token: Token,
        /// The client's count of its holds.
        hold: u64,
    },
    /// Client sent a write.
    WriteSent {
        /// The fencing token: one per grant, increasing.
        token: Token,
        /// The client's count of its holds.
        hold: u64,
        /// The write's number within the hold.
        seq: u32,
    },
    /// Resource received a write and accepted or rejected it.
    WriteReceived {
        /// The client node.
        client: NodeId,
        /// The fencing token: one per grant, increasing.
        token: Token,
        /// The client's count of its holds.
        hold: u64,
        /// The write's number within the hold.
        seq: u32,
        /// Whether the resource accepted it.
        accepted: bool,
    },
}

/// A lock service node's volatile state.
#[derive(Debug)]
pub struct LockState {
    durable: LockDurable,
    // Client.
    /// While it wants the lock: the requests sent and when, newest last.
    requests: Vec<(u64, LocalTime)>,
    wanting: bool,
    request_next: u64,
    /// The grant being used, until released (decided writes still go out
    /// under it after the belief has ended).
    holding: Option<Held>,
    /// Whether the client still believes it holds the lock.
    believing: bool,
    believed_until: Option<LocalTime>,
    hold_count: u64,
}

impl Lock {
    fn fresh(&self, ctx: &mut Context<'_, Self>, durable: LockDurable) -> LockState {
        let me = ctx.id();
        if me >= 2 {
            // Clients start at a random moment within one think time.
            let start = SimDuration::from_nanos(ctx.rng().below(self.think.as_nanos().max(1)));
            ctx.set_timer(LockTimer::Acquire, start);
        }
        if me == SERVER {
            if let Some(Holder {
                token,
                expires: Some(expiry),
                ..
            }) = durable.holder
            {
                // A lease granted before a crash keeps running on our clock.
                ctx.set_timer(LockTimer::Expire { token }, expiry.since(ctx.now()));
            }
        }
        // Request ids grow across restarts (see `ask`), so a late grant or
        // release from before a restart is never taken for a newer one.
        let request_next = durable.requests_reserved;
        LockState {
            durable,
            requests: Vec::new(),
            wanting: false,
            request_next,
            holding: None,
            believing: false,
            believed_until: None,
            hold_count: 0,
        }
    }

    fn believes_holding(&self, state: &LockState, now: LocalTime) -> bool {
        state.believing && state.believed_until.is_none_or(|until| now < until)
    }

    /// The client's belief ends (once), by release or by its lease running out.
    fn end_belief(&self, state: &mut LockState, ctx: &mut Context<'_, Self>) {
        if let (true, Some(Held { token, hold, .. })) = (state.believing, state.holding) {
            state.believing = false;
            ctx.observe(LockObservation::NotHolding { token, hold });
            ctx.cancel_timer(LockTimer::LeaseEnd);
        }
    }

    fn server_message(
        &self,
        state: &mut LockState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        message: LockMessage,
    ) {
        let now = ctx.now();
        // A lease past its expiry is over even if its timer has not fired yet.
        if let Some(holder) = state.durable.holder {
            if holder.expires.is_some_and(|expiry| now >= expiry) {
                self.expire(state, ctx, holder);
            }
        }
        match message {
            LockMessage::Acquire { request } => match state.durable.holder {
                Some(holder) if holder.client == from => self.regrant(state, ctx, holder, request),
                Some(_) => ctx.send(from, LockMessage::Deny { request }),
                None => self.grant(state, ctx, from, request),
            },
            // A release names the last request its client had sent: one
            // older than the request the server last answered was sent
            // before that request, by an earlier holding of the same token.
            LockMessage::Release { token, request }
                if state.durable.holder.is_some_and(|holder| {
                    holder.client == from && holder.token == token && request >= holder.request
                }) =>
            {
                state.durable.holder = None;
                ctx.persist(state.durable.clone());
                ctx.observe(LockObservation::Released {
                    client: from,
                    token,
                });
            }
            _ => {}
        }
    }

    fn lease_expiry(&self, now: LocalTime) -> Option<LocalTime> {
        match self.variant {
            LockVariant::NoExpiry => None,
            _ => Some(now.after(self.lease)),
        }
    }

    fn expire(&self, state: &mut LockState, ctx: &mut Context<'_, Self>, holder: Holder) {
        state.durable.holder = None;
        ctx.persist(state.durable.clone());
        ctx.observe(LockObservation::Expired {
            client: holder.client,
            token: holder.token,
        });
    }

    fn grant(
        &self,
        state: &mut LockState,
        ctx: &mut Context<'_, Self>,
        client: NodeId,
        request: u64,
    ) {
        let token = state.durable.token_last + 1;
        let expires = self.lease_expiry(ctx.now());
        state.durable.token_last = token;
        state.durable.holder = Some(Holder {
            client,
            token,
            expires,
            request,
        });
        ctx.persist(state.durable.clone());
        ctx.observe(LockObservation::Granted {
            client,
            token,
            expires,
        });
        if expires.is_some() {
            ctx.set_timer(LockTimer::Expire { token }, self.lease);
        }
        ctx.send(client, LockMessage::Grant { token, request });
    }

    /// The holder asks again: its release was lost, or it restarted and
    /// forgot. The lease is renewed from now, because the client will count
    /// its own from this request (except in the `LeaseStaleRegrant` bug).
    fn regrant(
        &self,
        state: &mut LockState,
        ctx: &mut Context<'_, Self>,
        holder: Holder,
        request: u64,
    ) {
        let Holder { client, token, .. } = holder;
        let renewed = match self.variant {
            LockVariant::LeaseStaleRegrant => holder.expires,
            _ => self.lease_expiry(ctx.now()),
        };
        state.durable.holder = Some(Holder {
            expires: renewed,
            request,
            ..holder
        });
        ctx.persist(state.durable.clone());
        if renewed != holder.expires {
            let expires = renewed;
            ctx.observe(LockObservation::Renewed {
                client,
                token,
                expires,
            });
            ctx.set_timer(LockTimer::Expire { token }, self.lease);
        }
        ctx.send(client, LockMessage::Grant { token, request });
    }

    fn resource_message(
        &self,
        state: &mut LockState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        message: LockMessage,
    ) {
        if let LockMessage::Write { token, hold, seq } = message {
            let accepted =
                self.variant != LockVariant::LeaseFencing || token >= state.durable.token_highest;
            if accepted && token > state.durable.token_highest {
                state.durable.token_highest = token;
                ctx.persist(state.durable.clone());
            }
            ctx.observe(LockObservation::WriteReceived {
                client: from,
                token,
                hold,
                seq,
                accepted,
            });
        }
    }

    fn client_message(
        &self,
        state: &mut LockState,
        ctx: &mut Context<'_, Self>,
        message: LockMessage,
    ) {
        match message {
            LockMessage::Grant { token, request } => {
                let asked = state
                    .requests
                    .iter()
                    .find(|(id, _)| *id == request)
                    .map(|&(_, at)| at);
                match (state.wanting, asked) {
                    (true, Some(asked_at)) => self.hold(state, ctx, token, request, asked_at),
                    // The grant in use, answered again: nothing to do.
                    _ if state.holding.is_some_and(|held| held.token == token) => {}
                    // A late or duplicated answer, or one to a forgotten
                    // request: give the lock back rather than leave it idle.
                    // It names the request the grant answered: if the
                    // server has since answered a newer one (this client's
                    // current attempt), the release is ignored.
                    _ => ctx.send(SERVER, LockMessage::Release { token, request }),
                }
            }
            // Denied: the Acquire timer asks again after `retry`.
            LockMessage::Deny { .. } => {}
            _ => {}
        }
    }

    /// The client takes the lock, believing it holds it for `lease` from when
    /// it asked.
    fn hold(
        &self,
        state: &mut LockState,
        ctx: &mut Context<'_, Self>,
        token: Token,
        request: u64,
        asked_at: LocalTime,
    ) {
        state.wanting = false;
        state.requests.clear();
        ctx.cancel_timer(LockTimer::Acquire);
        state.hold_count += 1;
        let hold = state.hold_count;
        state.holding = Some(Held {
            token,
            hold,
            request,
        });
        state.believing = true;
        state.believed_until = self.lease_expiry(asked_at);
        ctx.observe(LockObservation::Holding {
            token,
            hold,
            request,
            until: state.believed_until,
        });
        if let Some(until) = state.believed_until {
            ctx.set_timer(LockTimer::LeaseEnd, until.since(ctx.now()));
        }
        let spacing = SimDuration::from_nanos(self.hold.as_nanos() / u64::from(self.writes + 1));
        for seq in 1..=self.writes {
            ctx.set_timer(LockTimer::Decide { seq }, spacing.times(u64::from(seq)));
        }
        ctx.set_timer(LockTimer::Release, self.hold);
    }

    /// Gives `token` back at the end of a holding, naming the last request
    /// sent: no request answered for this holding is newer.
    fn release(&self, state: &LockState, ctx: &mut Context<'_, Self>, token: Token) {
        let request = state.request_next.saturating_sub(1);
        ctx.send(SERVER, LockMessage::Release { token, request });
    }

    /// Sends a new request, remembering when (a bounded number of them).
    fn ask(&self, state: &mut LockState, ctx: &mut Context<'_, Self>) {
        let request = state.request_next;
        state.request_next += 1;
        if request >= state.durable.requests_reserved {
            state.durable.requests_reserved = request + REQUESTS_PER_RESERVATION;
            ctx.persist(state.durable.clone());
        }
        if state.requests.len() == REQUESTS_REMEMBERED {
            state.requests.remove(0);
        }
        state.requests.push((request, ctx.now()));
        ctx.send(SERVER, LockMessage::Acquire { request });
        ctx.set_timer(LockTimer::Acquire, self.retry);
    }
}

impl Protocol for Lock {
    type Message = LockMessage;
    type Timer = LockTimer;
    type Durable = LockDurable;
    type Observation = LockObservation;
    type State = LockState;

    fn on_start(&self, ctx: &mut Context<'_, Self>) -> LockState {
        self.fresh(ctx, LockDurable::default())
    }

    fn on_restart(&self, ctx: &mut Context<'_, Self>, durable: &LockDurable) -> LockState {
        self.fresh(ctx, durable.clone())
    }

    fn on_message(
        &self,
        state: &mut LockState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        message: LockMessage,
    ) {
        match ctx.id() {
            SERVER => self.server_message(state, ctx, from, message),
            RESOURCE => self.resource_message(state, ctx, from, message),
            _ if from == SERVER => self.client_message(state, ctx, message),
            _ => {}
        }
    }

    /// Grants and renewals name the lease's end on the server's clock, and a
    /// holding names the end of the client's belief on its own: the trace
    /// then gives both in true time.
    fn observation_deadline(&self, observation: &LockObservation) -> Option<LocalTime> {
        match *observation {
            LockObservation::Granted { expires, .. } | LockObservation::Renewed { expires, .. } => {
                expires
            }
            LockObservation::Holding { until, .. } => until,
            _ => None,
        }
    }

    fn on_timer(&self, state: &mut LockState, ctx: &mut Context<'_, Self>, timer: LockTimer) {
        let now = ctx.now();
        match timer {
            LockTimer::Acquire => {
                if state.holding.is_none() {
                    state.wanting = true;
                    self.ask(state, ctx);
                }
            }
            LockTimer::Decide { seq } => {
                // The check of check-then-act.
                if self.believes_holding(state, now) {
                    ctx.set_timer(LockTimer::Send { seq }, self.work);
                }
            }
            LockTimer::Send { seq } => {
                // The act: no second look at the lease.
                if let Some(Held { token, hold, .. }) = state.holding {
                    ctx.observe(LockObservation::WriteSent { token, hold, seq });
                    ctx.send(RESOURCE, LockMessage::Write { token, hold, seq });
                }
            }
            LockTimer::Release => {
                if let Some(Held { token, .. }) = state.holding {
                    self.release(state, ctx, token);
                    self.end_belief(state, ctx);
                    state.holding = None;
                    ctx.set_timer(LockTimer::Acquire, self.think);
                }
            }
            // Writes already decided still go out (see `Send`).
            LockTimer::LeaseEnd => self.end_belief(state, ctx),
            LockTimer::Expire { token } => {
                if let Some(holder) = state.durable.holder {
                    let due = holder.expires.is_some_and(|expiry| now >= expiry);
                    if holder.token == token && due {
                        self.expire(state, ctx, holder);
                    }
                }
            }
        }
    }
}

/// `protocol: Lock(variant: LeaseFencing, lease: "1s", ...)`; every field has
/// a default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockBlock {
    /// The recipe, safe or not.
    #[serde(default)]
    pub variant: LockVariant,
    /// How long a grant lasts.
    #[serde(default = "lease_default")]
    pub lease: HumanDuration,
    /// How long a client keeps the lock.
    #[serde(default = "hold_default")]
    pub hold: HumanDuration,
    /// How long a client waits between holds.
    #[serde(default = "think_default")]
    pub think: HumanDuration,
    /// Writes per hold.
    #[serde(default = "writes_default")]
    pub writes: u32,
    /// Time between deciding to write and writing.
    #[serde(default = "work_default")]
    pub work: HumanDuration,
    /// How long a client waits for an answer before asking again.
    #[serde(default = "retry_default")]
    pub retry: HumanDuration,
}

fn lease_default() -> HumanDuration {
    HumanDuration(Duration::from_secs(1))
}
fn hold_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(300))
}
fn think_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(200))
}
fn writes_default() -> u32 {
    3
}
fn work_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(10))
}
fn retry_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(100))
}

impl Harness for Lock {
    const NAME: &'static str = "Lock";
    const PROPERTIES: &'static [Property] = &[
        Property {
            name: "MutualExclusion",
            kind: PropertyKind::Safety,
            summary: "the resource never takes a write from an older holder after a newer one's while their holdings overlap",
            example: "",
        },
        Property {
            name: "NoStaleWrite",
            kind: PropertyKind::Safety,
            summary: "no accepted write carries an older token than one accepted before, nor (without fencing) a lease run out on the server",
            example: "",
        },
        Property {
            name: "Progress",
            kind: PropertyKind::Liveness,
            summary: "after a holder crashes, someone else gets the lock within the bound",
            example: "Progress(\"2s\")",
        },
        Property {
            name: "LockContended",
            kind: PropertyKind::Coverage,
            summary: "a client asked while another held the lock",
            example: "",
        },
        Property {
            name: "LeaseExpired",
            kind: PropertyKind::Coverage,
            summary: "a lease ran out on the server before its holder released it",
            example: "",
        },
        Property {
            name: "WriteFenced",
            kind: PropertyKind::Coverage,
            summary: "the resource rejected a write with an old token",
            example: "",
        },
    ];
    type Block = LockBlock;
    type Check = LockCheck;
    type Judge = LockJudge;
    type Recorder = ();

    fn configure(block: LockBlock, scenario: &ScenarioFacts<'_>) -> Result<Self, BlockError> {
        if scenario.node_count < 3 {
            return Err(BlockError::top_level(
                Place::field("nodes"),
                "the lock service needs at least 3 nodes: server 0, resource 1, clients 2 and up",
            ));
        }
        if !(1..=100).contains(&block.writes) {
            return Err(BlockError::new(
                Place::field("writes"),
                format!("{} writes per hold: expected 1 to 100", block.writes),
            ));
        }
        Ok(Lock {
            variant: block.variant,
            lease: block.lease.positive(Place::field("lease"))?,
            hold: block.hold.positive(Place::field("hold"))?,
            think: block.think.positive(Place::field("think"))?,
            writes: block.writes,
            work: block.work.span(),
            retry: block.retry.positive(Place::field("retry"))?,
        })
    }

    fn check_valid(check: &LockCheck, _scenario: &ScenarioFacts<'_>) -> Result<(), BlockError> {
        if let LockCheck::Progress(within) = check {
            within.positive(Place::root())?;
        }
        Ok(())
    }

    fn judge(&self, checks: &[LockCheck], setup: &RunSetup<'_>) -> LockJudge {
        LockJudge::new(self, checks, setup)
    }

    fn recorder(&self, _setup: &RunSetup<'_>) {}

    fn charts(
        &self,
        judge: &LockJudge,
        _recorder: (),
        timeline: &mut TimelineData,
        setup: &RunSetup<'_>,
    ) -> Vec<(String, Chart)> {
        vec![chart::lock_chart(judge, timeline, setup)]
    }
}
