//! Coordinators: run one client operation against the key's replicas, by
//! the mode's rules (see the module's documentation), and answer the client.
//! A coordinator is always one of the key's replicas, so its own copy takes
//! part without a message.

use super::{
    Cache, CacheMessage, CacheState, CacheTimer, Call, Mode, Outcome, Pending, Phase, Record,
    Version,
};
use crate::node::{Context, NodeId};

impl Cache {
    fn store(op: u64, key: u64, record: Record, ack: bool) -> CacheMessage {
        CacheMessage::Store {
            op,
            key,
            version: record.version,
            value: record.value,
            ack,
        }
    }

    /// A client's request: taken on once (a duplicate, or a copy arriving
    /// while a restarted coordinator is still quiet, is ignored).
    pub(super) fn on_request(
        &self,
        state: &mut CacheState,
        ctx: &mut Context<'_, Self>,
        client: NodeId,
        op: u64,
        key: u64,
        call: Call,
    ) {
        if ctx.now() < state.serving_from || !state.answered.insert(op) {
            return;
        }
        if key >= self.keys {
            return;
        }
        if self.mode == Mode::One {
            return self.serve_locally(state, ctx, client, op, key, call);
        }
        state.pending.insert(
            op,
            Pending {
                client,
                key,
                call,
                phase: Phase::Query,
                answers: Vec::new(),
                acks: Vec::new(),
                storing: Record::default(),
            },
        );
        ctx.set_timer(CacheTimer::Deadline { op }, self.coordinator_timeout);
        match (self.mode, call) {
            // Last writer wins: the clock gives the version, nothing is read.
            (Mode::LastWriterWins, Call::Write { value }) => {
                let record = Record {
                    version: self.clock_version(ctx, op),
                    value: Some(value),
                };
                self.start_store(state, ctx, op, record);
            }
            _ => self.start_query(state, ctx, op),
        }
    }

    /// A version from the local clock (plus one, so never the version of a
    /// key never written).
    fn clock_version(&self, ctx: &Context<'_, Self>, op: u64) -> Version {
        Version {
            counter: ctx.now().as_nanos() + 1,
            op,
        }
    }

    /// `One`: the coordinator's own copy answers; a write goes on to the
    /// other replicas in the background.
    fn serve_locally(
        &self,
        state: &mut CacheState,
        ctx: &mut Context<'_, Self>,
        client: NodeId,
        op: u64,
        key: u64,
        call: Call,
    ) {
        let mine = state.durable.store.get(&key).copied().unwrap_or_default();
        let reply = |outcome, value, version| CacheMessage::Reply {
            op,
            outcome,
            value,
            version,
        };
        let new = match call {
            Call::Read => return ctx.send(client, reply(Outcome::Ok, mine.value, None)),
            Call::Cas { expected, .. } if expected != mine.value => {
                return ctx.send(client, reply(Outcome::Fail, mine.value, None))
            }
            Call::Write { value } | Call::Cas { new: value, .. } => value,
        };
        let record = Record {
            version: Version {
                counter: mine.version.counter + 1,
                op,
            },
            value: Some(new),
        };
        self.keep(state, ctx, key, record);
        ctx.send(client, reply(Outcome::Ok, Some(new), Some(record.version)));
        for &replica in self.replicas_of[key as usize].iter() {
            if replica != ctx.id() {
                let store = Self::store(op, key, record, false);
                ctx.send(replica, store);
            }
        }
    }

    /// Asks every replica for its copy; the coordinator's own answers at once.
    fn start_query(&self, state: &mut CacheState, ctx: &mut Context<'_, Self>, op: u64) {
        let key = state.pending[&op].key;
        let me = ctx.id();
        for &replica in self.replicas_of[key as usize].iter() {
            if replica != me {
                ctx.send(replica, CacheMessage::Query { op, key });
            }
        }
        if self.replicas_of[key as usize].contains(&me) {
            let mine = state.durable.store.get(&key).copied().unwrap_or_default();
            self.on_current(state, ctx, me, op, mine);
        }
    }

    /// A replica's copy, for a query in progress; a read quorum of them
    /// decides what comes next.
    pub(super) fn on_current(
        &self,
        state: &mut CacheState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        op: u64,
        record: Record,
    ) {
        let Some(pending) = state.pending.get_mut(&op) else {
            return;
        };
        if pending.phase != Phase::Query || pending.answers.iter().any(|(n, _)| *n == from) {
            return;
        }
        pending.answers.push((from, record));
        if pending.answers.len() == self.quorums().0 {
            self.decide(state, ctx, op);
        }
    }

    /// A read quorum has answered: answer a read, or store a write.
    fn decide(&self, state: &mut CacheState, ctx: &mut Context<'_, Self>, op: u64) {
        let pending = &state.pending[&op];
        let highest = pending
            .answers
            .iter()
            .map(|(_, record)| *record)
            .max_by_key(|record| record.version)
            .unwrap_or_default();
        let next = Version {
            counter: highest.version.counter + 1,
            op,
        };
        match pending.call {
            Call::Read if self.mode == Mode::Abd => {
                // Write back, unless the whole quorum already holds it.
                let held = pending
                    .answers
                    .iter()
                    .all(|(_, r)| r.version == highest.version);
                if held {
                    self.finish(state, ctx, op, Outcome::Ok, highest.value);
                } else {
                    self.start_store(state, ctx, op, highest);
                }
            }
            Call::Read => {
                let stale: Vec<NodeId> = pending
                    .answers
                    .iter()
                    .filter(|(_, r)| r.version < highest.version)
                    .map(|(node, _)| *node)
                    .collect();
                let key = pending.key;
                self.finish(state, ctx, op, Outcome::Ok, highest.value);
                if self.read_repair {
                    self.repair(ctx, op, key, highest, &stale);
                }
            }
            Call::Cas { expected, .. } if expected != highest.value => {
                self.finish(state, ctx, op, Outcome::Fail, highest.value)
            }
            Call::Write { value } | Call::Cas { new: value, .. } => {
                let version = match self.mode {
                    Mode::LastWriterWins => self.clock_version(ctx, op),
                    _ => next,
                };
                let record = Record {
                    version,
                    value: Some(value),
                };
                self.start_store(state, ctx, op, record);
            }
        }
    }

    /// Read repair, in the background after the answer (as Dynamo's and
    /// Cassandra's): the newest copy goes to the replicas that answered with
    /// an older one, the coordinator's own copy included, as unacknowledged
    /// stores.
    fn repair(
        &self,
        ctx: &mut Context<'_, Self>,
        op: u64,
        key: u64,
        record: Record,
        stale: &[NodeId],
    ) {
        for &replica in stale {
            let store = Self::store(op, key, record, false);
            ctx.send(replica, store);
        }
    }

    /// Sends `record` to every replica; the coordinator's own copy is
    /// stored (and persisted) at once.
    fn start_store(
        &self,
        state: &mut CacheState,
        ctx: &mut Context<'_, Self>,
        op: u64,
        record: Record,
    ) {
        let Some(pending) = state.pending.get_mut(&op) else {
            return;
        };
        pending.phase = Phase::Store;
        pending.storing = record;
        let key = pending.key;
        let me = ctx.id();
        for &replica in self.replicas_of[key as usize].iter() {
            if replica != me {
                let store = Self::store(op, key, record, true);
                ctx.send(replica, store);
            }
        }
        if self.replicas_of[key as usize].contains(&me) {
            self.keep(state, ctx, key, record);
            self.on_stored(state, ctx, me, op);
        }
    }

    /// A replica's acknowledgement; a write quorum of them ends the operation.
    pub(super) fn on_stored(
        &self,
        state: &mut CacheState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        op: u64,
    ) {
        let Some(pending) = state.pending.get_mut(&op) else {
            return;
        };
        if pending.phase != Phase::Store || pending.acks.contains(&from) {
            return;
        }
        pending.acks.push(from);
        if pending.acks.len() == self.quorums().1 {
            let value = pending.storing.value;
            self.finish(state, ctx, op, Outcome::Ok, value);
        }
    }

    /// The coordinator's deadline: with nothing stored yet the operation did
    /// not happen (`fail`); once a store went out it may have (`info`).
    pub(super) fn give_up(&self, state: &mut CacheState, ctx: &mut Context<'_, Self>, op: u64) {
        let Some(pending) = state.pending.get(&op) else {
            return;
        };
        let outcome = match pending.phase {
            Phase::Query => Outcome::Fail,
            Phase::Store => Outcome::Info,
        };
        self.finish(state, ctx, op, outcome, None);
    }

    /// Answers the client and forgets the operation.
    fn finish(
        &self,
        state: &mut CacheState,
        ctx: &mut Context<'_, Self>,
        op: u64,
        outcome: Outcome,
        value: crate::linearizable::Value,
    ) {
        let Some(pending) = state.pending.remove(&op) else {
            return;
        };
        ctx.cancel_timer(CacheTimer::Deadline { op });
        let writes = !matches!(pending.call, Call::Read);
        let version = (outcome == Outcome::Ok && writes).then_some(pending.storing.version);
        let reply = CacheMessage::Reply {
            op,
            outcome,
            value,
            version,
        };
        ctx.send(pending.client, reply);
    }
}
