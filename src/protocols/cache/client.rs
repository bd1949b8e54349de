//! Client processes: draw an operation, pick a coordinator from the key's
//! replicas the client does not suspect, wait for the answer or time out.

use super::{
    Cache, CacheMessage, CacheObservation, CacheState, CacheTimer, Call, Current, Outcome, Version,
    F, OPS_PER_RESERVATION,
};
use crate::linearizable::Value;
use crate::node::time::SimDuration;
use crate::node::{Context, NodeId};
use crate::protocols::hashing::KeyDistribution;

impl Cache {
    /// Jepsen's process id for client `index` in its `generation`: a retired
    /// process's successor is numbered one client count higher.
    fn process(&self, index: usize, generation: u64) -> u64 {
        index as u64 + self.clients.len() as u64 * generation
    }

    /// Schedules the next operation of the client at `local` (its position
    /// on this node) after an exponential think time of mean `1/rate`.
    pub(super) fn schedule_next(
        &self,
        state: &mut CacheState,
        ctx: &mut Context<'_, Self>,
        local: usize,
    ) {
        // 1 - unit() is in (0, 1], so the logarithm is finite.
        let seconds = -libm::log(1.0 - ctx.rng().unit()) / self.rate;
        let think = SimDuration::from_nanos((seconds.min(3600.0) * 1e9) as u64);
        let client = state.clients[local].index;
        ctx.set_timer(CacheTimer::Next { client }, think);
    }

    fn local_index(state: &CacheState, client: usize) -> Option<usize> {
        state.clients.iter().position(|c| c.index == client)
    }

    fn pick_key(&self, ctx: &mut Context<'_, Self>) -> u64 {
        match self.distribution {
            KeyDistribution::Uniform => ctx.rng().below(self.keys),
            KeyDistribution::Zipf { .. } => {
                let draw = ctx.rng().unit();
                let index = self.zipf_cdf.partition_point(|&w| w < draw);
                (index as u64).min(self.keys - 1)
            }
        }
    }

    fn pick_f(&self, ctx: &mut Context<'_, Self>) -> F {
        let draw = ctx.rng().unit();
        if draw < self.mix.read {
            F::Read
        } else if draw < self.mix.read + self.mix.write || self.mix.cas == 0.0 {
            F::Write
        } else {
            F::Cas
        }
    }

    /// A fresh operation id for the client at `local`, unique in the run:
    /// ids grow across restarts from a persisted reservation.
    fn next_op(&self, state: &mut CacheState, ctx: &mut Context<'_, Self>, local: usize) -> u64 {
        let client = &mut state.clients[local];
        let seq = client.seq_next;
        client.seq_next += 1;
        if seq >= state.durable.clients[local].ops_reserved {
            state.durable.clients[local].ops_reserved = seq + OPS_PER_RESERVATION;
            ctx.persist(state.durable.clone());
        }
        client.index as u64 + self.clients.len() as u64 * seq
    }

    /// A replica of `key` the client does not suspect (any replica if it
    /// suspects them all), drawn from the node's stream.
    fn pick_coordinator(
        &self,
        state: &CacheState,
        ctx: &mut Context<'_, Self>,
        local: usize,
        key: u64,
    ) -> NodeId {
        let now = ctx.now();
        let owners = &self.replicas_of[key as usize];
        let suspected = &state.clients[local].suspected;
        let trusted: Vec<NodeId> = owners
            .iter()
            .copied()
            .filter(|node| suspected.get(node).is_none_or(|&until| now >= until))
            .collect();
        let choices = if trusted.is_empty() { owners } else { &trusted };
        choices[ctx.rng().index(choices.len())]
    }

    /// Client `client` starts an operation, unless its clock says stop.
    pub(super) fn invoke(
        &self,
        state: &mut CacheState,
        ctx: &mut Context<'_, Self>,
        client: usize,
    ) {
        let Some(local) = Self::local_index(state, client) else {
            return;
        };
        if self.stop.is_some_and(|stop| ctx.now() >= stop) {
            return;
        }
        let f = self.pick_f(ctx);
        let key = self.pick_key(ctx);
        let op = self.next_op(state, ctx, local);
        let call = match f {
            F::Read => Call::Read,
            F::Write => Call::Write { value: op as i64 },
            F::Cas => Call::Cas {
                expected: state.clients[local].known.get(&key).copied().flatten(),
                new: op as i64,
            },
        };
        let coordinator = self.pick_coordinator(state, ctx, local, key);
        let process = self.process(client, state.durable.clients[local].generation);
        ctx.observe(CacheObservation::Invoke {
            process,
            client,
            op,
            f,
            key,
            value: call.written(),
            expected: match call {
                Call::Cas { expected, .. } => Some(expected),
                _ => None,
            },
            coordinator,
        });
        ctx.send(coordinator, CacheMessage::Request { op, key, call });
        ctx.set_timer(CacheTimer::Timeout { client, op }, self.timeout);
        state.clients[local].current = Some(Current {
            op,
            key,
            call,
            coordinator,
            process,
        });
    }

    /// A coordinator's answer: completes the operation it answers, if that
    /// is still the client's current one (not a late or duplicated answer).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_reply(
        &self,
        state: &mut CacheState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        op: u64,
        outcome: Outcome,
        value: Value,
        version: Option<Version>,
    ) {
        let Some(local) = state
            .clients
            .iter()
            .position(|c| c.current.is_some_and(|current| current.op == op))
        else {
            return;
        };
        // It answered: it is reachable.
        state.clients[local].suspected.remove(&from);
        self.complete(state, ctx, local, outcome, value, version);
    }

    /// The client's timeout: the operation ends `info`, and the client
    /// avoids that coordinator for a while.
    pub(super) fn time_out(
        &self,
        state: &mut CacheState,
        ctx: &mut Context<'_, Self>,
        client: usize,
        op: u64,
    ) {
        let Some(local) = Self::local_index(state, client) else {
            return;
        };
        let Some(current) = state.clients[local].current.filter(|c| c.op == op) else {
            return;
        };
        let until = ctx.now().after(self.suspect_for);
        state.clients[local]
            .suspected
            .insert(current.coordinator, until);
        self.complete(state, ctx, local, Outcome::Info, None, None);
    }

    /// Ends the client's current operation and schedules its next one.
    fn complete(
        &self,
        state: &mut CacheState,
        ctx: &mut Context<'_, Self>,
        local: usize,
        outcome: Outcome,
        found: Value,
        version: Option<Version>,
    ) {
        let Some(current) = state.clients[local].current.take() else {
            return;
        };
        let client = state.clients[local].index;
        ctx.cancel_timer(CacheTimer::Timeout {
            client,
            op: current.op,
        });
        let value = match current.call {
            Call::Read => found,
            call => call.written(),
        };
        ctx.observe(CacheObservation::Complete {
            process: current.process,
            client,
            op: current.op,
            outcome,
            f: current.call.f(),
            key: current.key,
            value,
            version: version.filter(|_| outcome == Outcome::Ok),
        });
        let known = &mut state.clients[local].known;
        match (outcome, current.call) {
            (Outcome::Ok, _) => {
                known.insert(current.key, value);
            }
            // A failed cas reports the value it found.
            (Outcome::Fail, Call::Cas { .. }) => {
                known.insert(current.key, found);
            }
            (Outcome::Fail, _) => {}
            (Outcome::Info, _) => {
                known.remove(&current.key);
                // The process may still have an operation in flight: as in
                // Jepsen, a new process takes over.
                state.durable.clients[local].generation += 1;
                ctx.persist(state.durable.clone());
            }
        }
        self.schedule_next(state, ctx, local);
    }
}
