//! A worker: polls the broker, works on one entry at a time, applies its
//! effect at the sink, then acknowledges it (`AutoAck`: acknowledges on
//! receipt instead).

use super::{
    Item, Mode, Outcome, QueueDurable, QueueMessage, QueueObservation, QueueTimer, Reassign,
    WorkQueue,
};
use crate::node::{Context, NodeId};
use crate::protocols::heartbeat::Incarnation;
use crate::sim::time::{LocalTime, SimDuration};

/// Deliveries a worker remembers having finished, so that a copy the
/// network duplicated is not worked on again.
const FINISHED_REMEMBERED: usize = 16;

/// Where a worker is with the entry it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Working,
    /// Waiting for the sink's answer.
    Applying,
    /// Waiting for the broker's confirmation.
    Acking,
}

#[derive(Clone, Copy, Debug)]
struct Held {
    item: Item,
    offset: u64,
    delivery: u64,
    stage: Stage,
    /// On the worker's clock.
    received: LocalTime,
}

/// A worker's state: what it holds and how far it is with it.
#[derive(Debug)]
pub struct WorkerState {
    incarnation: u64,
    beat: u64,
    holding: Option<Held>,
    finished: Vec<u64>,
}

impl WorkQueue {
    pub(super) fn worker_start(
        &self,
        ctx: &mut Context<'_, Self>,
        durable: &QueueDurable,
    ) -> WorkerState {
        let before = match durable {
            QueueDurable::Worker(incarnation) => incarnation.incarnation,
            _ => 0,
        };
        let incarnation = before + 1;
        ctx.persist(QueueDurable::Worker(Incarnation { incarnation }));
        if self.reassign == Reassign::OnSuspicion {
            // A random phase, so workers do not all beat at once.
            let phase = ctx.rng().below(self.heartbeat_interval.as_nanos().max(1));
            ctx.set_timer(QueueTimer::Beat, SimDuration::from_nanos(phase));
        }
        self.poll(ctx);
        WorkerState {
            incarnation,
            beat: 0,
            holding: None,
            finished: Vec::new(),
        }
    }

    /// Asks the broker for work, and again after `retry` if none comes.
    fn poll(&self, ctx: &mut Context<'_, Self>) {
        ctx.send(self.broker, QueueMessage::Poll);
        ctx.set_timer(QueueTimer::Retry, self.retry);
    }

    pub(super) fn worker_message(
        &self,
        state: &mut WorkerState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        message: QueueMessage,
    ) {
        match message {
            QueueMessage::Deliver {
                item,
                offset,
                delivery,
            } if from == self.broker => self.take(state, ctx, item, offset, delivery),
            QueueMessage::Applied { delivery, .. } if from == self.sink => {
                if let Some(held) = self.held_at(state, delivery, Stage::Applying) {
                    self.applied(state, ctx, held);
                }
            }
            QueueMessage::AckOk { delivery } if from == self.broker => {
                if let Some(held) = self.held_at(state, delivery, Stage::Acking) {
                    self.finish(state, ctx, held, Outcome::Done);
                }
            }
            _ => {}
        }
    }

    fn held_at(&self, state: &WorkerState, delivery: u64, stage: Stage) -> Option<Held> {
        state
            .holding
            .filter(|held| held.delivery == delivery && held.stage == stage)
    }

    fn take(
        &self,
        state: &mut WorkerState,
        ctx: &mut Context<'_, Self>,
        item: Item,
        offset: u64,
        delivery: u64,
    ) {
        let seen = state.holding.is_some_and(|held| held.delivery == delivery)
            || state.finished.contains(&delivery);
        if seen {
            return;
        }
        if state.holding.is_some() {
            // Busy: a delivery answering a stale poll (the network
            // duplicated it). Its lease runs out and the broker hands it to
            // someone else.
            return;
        }
        let (producer, seq) = (item.producer, item.seq);
        ctx.cancel_timer(QueueTimer::Retry);
        ctx.observe(QueueObservation::Received {
            producer,
            seq,
            delivery,
        });
        if self.mode == Mode::AutoAck {
            self.ack(ctx, item, offset, delivery);
        }
        state.holding = Some(Held {
            item,
            offset,
            delivery,
            stage: Stage::Working,
            received: ctx.now(),
        });
        ctx.set_timer(QueueTimer::Work, self.work);
    }

    fn ack(&self, ctx: &mut Context<'_, Self>, item: Item, offset: u64, delivery: u64) {
        let (producer, seq) = (item.producer, item.seq);
        ctx.observe(QueueObservation::Acked {
            producer,
            seq,
            delivery,
        });
        ctx.send(
            self.broker,
            QueueMessage::Ack {
                producer,
                seq,
                offset,
                delivery,
            },
        );
    }

    /// The sink has the effect: acknowledge (unless that happened on
    /// receipt).
    fn applied(&self, state: &mut WorkerState, ctx: &mut Context<'_, Self>, held: Held) {
        if self.mode == Mode::AutoAck {
            self.finish(state, ctx, held, Outcome::Done);
            return;
        }
        self.ack(ctx, held.item, held.offset, held.delivery);
        state.holding = Some(Held {
            stage: Stage::Acking,
            ..held
        });
        ctx.set_timer(QueueTimer::Retry, self.retry);
    }

    fn finish(
        &self,
        state: &mut WorkerState,
        ctx: &mut Context<'_, Self>,
        held: Held,
        outcome: Outcome,
    ) {
        ctx.observe(QueueObservation::Finished {
            producer: held.item.producer,
            seq: held.item.seq,
            delivery: held.delivery,
            outcome,
        });
        if state.finished.len() == FINISHED_REMEMBERED {
            state.finished.remove(0);
        }
        state.finished.push(held.delivery);
        state.holding = None;
        self.poll(ctx);
    }

    pub(super) fn worker_timer(
        &self,
        state: &mut WorkerState,
        ctx: &mut Context<'_, Self>,
        timer: QueueTimer,
    ) {
        match timer {
            QueueTimer::Work => self.worked(state, ctx),
            QueueTimer::Retry => self.retry(state, ctx),
            QueueTimer::Beat => {
                state.beat += 1;
                let (incarnation, beat) = (state.incarnation, state.beat);
                ctx.send(self.broker, QueueMessage::Beat { incarnation, beat });
                ctx.set_timer(QueueTimer::Beat, self.heartbeat_interval);
            }
            _ => {}
        }
    }

    /// The work is done: apply the effect. There is no second look at the
    /// lease here, which is what makes a paused worker's work count twice.
    fn worked(&self, state: &mut WorkerState, ctx: &mut Context<'_, Self>) {
        let Some(held) = state.holding.filter(|held| held.stage == Stage::Working) else {
            return;
        };
        let (item, delivery) = (held.item, held.delivery);
        ctx.observe(QueueObservation::Processed {
            producer: item.producer,
            seq: item.seq,
            delivery,
        });
        ctx.send(self.sink, QueueMessage::Apply { item, delivery });
        state.holding = Some(Held {
            stage: Stage::Applying,
            ..held
        });
        ctx.set_timer(QueueTimer::Retry, self.retry);
    }

    /// Polls again when idle; resends the apply or the ack when waiting,
    /// until the lease is over on the worker's own clock (by then the
    /// broker has handed the entry to someone else).
    fn retry(&self, state: &mut WorkerState, ctx: &mut Context<'_, Self>) {
        let Some(held) = state.holding else {
            self.poll(ctx);
            return;
        };
        let lease_over = ctx.now() >= held.received.after(self.visibility);
        match held.stage {
            Stage::Working => {}
            _ if lease_over => self.finish(state, ctx, held, Outcome::Abandoned),
            Stage::Applying => {
                let (item, delivery) = (held.item, held.delivery);
                ctx.send(self.sink, QueueMessage::Apply { item, delivery });
                ctx.set_timer(QueueTimer::Retry, self.retry);
            }
            Stage::Acking => {
                let Held {
                    item,
                    offset,
                    delivery,
                    ..
                } = held;
                let (producer, seq) = (item.producer, item.seq);
                let ack = QueueMessage::Ack {
                    producer,
                    seq,
                    offset,
                    delivery,
                };
                ctx.send(self.broker, ack);
                ctx.set_timer(QueueTimer::Retry, self.retry);
            }
        }
    }
}
