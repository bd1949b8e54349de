//! A producer: publishes its plan (keyed messages and jobs' tasks) at the
//! planned times on its own clock, keeps every unacknowledged publish in a
//! durable outbox, and resends the outbox every `retry` until the broker
//! acknowledges.

use super::{Item, QueueDurable, QueueMessage, QueueObservation, QueueTimer, WorkQueue};
use crate::node::{Context, NodeId};
use serde::Serialize;

/// Publishes resent per `retry`, oldest first: a long broker outage must
/// not turn into a burst of thousands of messages.
const RESEND_MOST: usize = 64;

/// What a producer persists.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Outbox {
    /// The next message's number.
    pub seq_next: u64,
    /// The index of the next plan item to publish.
    pub plan_next: u64,
    /// Published, not yet acknowledged, oldest first.
    pub pending: Vec<Item>,
}

/// A producer's state: its outbox and place in its plan.
#[derive(Debug)]
pub struct ProducerState {
    index: usize,
    outbox: Outbox,
    resend_armed: bool,
}

impl WorkQueue {
    pub(super) fn producer_start(
        &self,
        ctx: &mut Context<'_, Self>,
        index: usize,
        durable: &QueueDurable,
    ) -> ProducerState {
        let outbox = match durable {
            QueueDurable::Producer(outbox) => outbox.clone(),
            _ => Outbox::default(),
        };
        let mut state = ProducerState {
            index,
            outbox,
            resend_armed: false,
        };
        self.schedule_next(&state, ctx);
        // Whatever was pending before a crash goes out again at once.
        self.resend(&mut state, ctx);
        state
    }

    /// Sets the publish timer for the next plan item, if any.
    fn schedule_next(&self, state: &ProducerState, ctx: &mut Context<'_, Self>) {
        let plan = &self.plans[state.index];
        if let Some(next) = plan.get(state.outbox.plan_next as usize) {
            ctx.set_timer(QueueTimer::Publish, next.at.since(ctx.now()));
        }
    }

    pub(super) fn producer_message(
        &self,
        state: &mut ProducerState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        message: QueueMessage,
    ) {
        let QueueMessage::PublishAck { seq } = message else {
            return;
        };
        if from != self.broker {
            return;
        }
        let before = state.outbox.pending.len();
        state.outbox.pending.retain(|item| item.seq != seq);
        if state.outbox.pending.len() != before {
            ctx.persist(QueueDurable::Producer(state.outbox.clone()));
        }
    }

    pub(super) fn producer_timer(
        &self,
        state: &mut ProducerState,
        ctx: &mut Context<'_, Self>,
        timer: QueueTimer,
    ) {
        match timer {
            QueueTimer::Publish => self.publish_due(state, ctx),
            QueueTimer::Resend => {
                state.resend_armed = false;
                self.resend(state, ctx);
            }
            _ => {}
        }
    }

    /// Publishes every plan item now due (a job's tasks all at once):
    /// numbered and in the outbox on disk before any is sent.
    fn publish_due(&self, state: &mut ProducerState, ctx: &mut Context<'_, Self>) {
        let plan = &self.plans[state.index];
        let now = ctx.now();
        let mut fresh = Vec::new();
        while let Some(planned) = plan
            .get(state.outbox.plan_next as usize)
            .filter(|planned| planned.at <= now)
        {
            let item = Item {
                producer: ctx.id(),
                seq: state.outbox.seq_next,
                key: planned.key,
                job: planned.job,
                task: planned.task,
            };
            state.outbox.seq_next += 1;
            state.outbox.plan_next += 1;
            state.outbox.pending.push(item);
            fresh.push(item);
        }
        if !fresh.is_empty() {
            ctx.persist(QueueDurable::Producer(state.outbox.clone()));
        }
        for item in fresh {
            ctx.observe(QueueObservation::Publish {
                seq: item.seq,
                key: item.key,
                job: item.job,
                task: item.task,
            });
            ctx.send(self.broker, QueueMessage::Publish { item });
        }
        self.arm_resend(state, ctx);
        self.schedule_next(state, ctx);
    }

    fn resend(&self, state: &mut ProducerState, ctx: &mut Context<'_, Self>) {
        for &item in state.outbox.pending.iter().take(RESEND_MOST) {
            ctx.send(self.broker, QueueMessage::Publish { item });
        }
        self.arm_resend(state, ctx);
    }

    /// Arms the resend timer while anything is pending; an armed timer is
    /// left alone (setting it again would put it off for good under a
    /// steady stream of publishes).
    fn arm_resend(&self, state: &mut ProducerState, ctx: &mut Context<'_, Self>) {
        if !state.resend_armed && !state.outbox.pending.is_empty() {
            state.resend_armed = true;
            ctx.set_timer(QueueTimer::Resend, self.retry);
        }
    }
}
