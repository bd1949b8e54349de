//! The sink: where a message's effect is applied. Its store is durable: each
//! effect is persisted before the worker hears it was applied.

use super::seqs::IdSet;
use super::{Item, MessageId, QueueDurable, QueueMessage, QueueObservation, WorkQueue};
use crate::node::{Context, NodeId};
use serde::Serialize;

/// The value of one key: the message whose effect was applied last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct KeyValue {
    pub key: u64,
    pub producer: NodeId,
    pub seq: u64,
}

/// What the sink persists.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SinkStore {
    /// Effects applied, duplicates included.
    pub effects: u64,
    /// Per key, in key order.
    pub values: Vec<KeyValue>,
    /// An idempotent sink's record of the ids it has applied.
    pub applied: IdSet,
}

/// The sink's state: its store.
#[derive(Debug)]
pub struct SinkState {
    store: SinkStore,
}

impl WorkQueue {
    pub(super) fn sink_start(&self, durable: &QueueDurable) -> SinkState {
        let store = match durable {
            QueueDurable::Sink(store) => store.clone(),
            _ => SinkStore::default(),
        };
        SinkState { store }
    }

    pub(super) fn sink_message(
        &self,
        state: &mut SinkState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        message: QueueMessage,
    ) {
        let QueueMessage::Apply { item, delivery } = message else {
            return;
        };
        let applied = !self.idempotent || !state.store.applied.contains(item.id());
        if applied {
            self.apply(&mut state.store, item);
            ctx.persist(QueueDurable::Sink(state.store.clone()));
        }
        ctx.observe(QueueObservation::Effect {
            item,
            worker: from,
            delivery,
            applied,
        });
        let MessageId { producer, seq } = item.id();
        ctx.send(
            from,
            QueueMessage::Applied {
                producer,
                seq,
                delivery,
            },
        );
    }

    fn apply(&self, store: &mut SinkStore, item: Item) {
        store.effects += 1;
        if self.idempotent {
            store.applied.insert(item.id());
        }
        if let Some(key) = item.key {
            let value = KeyValue {
                key,
                producer: item.producer,
                seq: item.seq,
            };
            match store.values.binary_search_by_key(&key, |v| v.key) {
                Ok(at) => store.values[at] = value,
                Err(at) => store.values.insert(at, value),
            }
        }
    }
}
