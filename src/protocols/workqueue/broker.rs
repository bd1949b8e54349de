//! The broker: a durable log, leases on its own clock, and (with
//! `reassign: OnSuspicion`) a heartbeat detector over the workers.

use super::seqs::IdSet;
use super::{
    Item, Mode, QueueDurable, QueueMessage, QueueObservation, QueueTimer, Reason, Reassign,
    WorkQueue,
};
use crate::node::{Context, NodeId};
use crate::protocols::heartbeat::{BeatStamp, Detector};
use crate::sim::time::SimDuration;
use serde::Serialize;
use std::collections::BTreeMap;

/// `BrokerForgets` writes its log at the next write or after this long.
pub const FLUSH_EVERY: SimDuration = SimDuration::from_millis(200);

/// One message in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The entry's place in the broker's log.
    pub offset: u64,
    /// The message.
    #[serde(flatten)]
    pub item: Item,
}

/// What the broker persists.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BrokerLog {
    /// How many times the broker has started; delivery ids carry it, so
    /// they never repeat across restarts.
    pub incarnation: u64,
    /// The entries not yet consumed, in offset order.
    pub entries: Vec<Entry>,
    /// The offset the next append gets.
    pub offset_next: u64,
    /// The publishes accepted, for deduplication.
    pub accepted: IdSet,
}

/// An entry out with a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Lease {
    worker: NodeId,
    delivery: u64,
}

/// The broker's state: its log, the leases out, the workers waiting.
#[derive(Debug)]
pub struct BrokerState {
    log: BrokerLog,
    /// Out with a worker, by offset.
    leases: BTreeMap<u64, Lease>,
    /// Entries that were out and are visible again, and why.
    returned: BTreeMap<u64, Reason>,
    /// Workers with a poll outstanding, in the order they asked.
    waiting: Vec<NodeId>,
    delivery_next: u64,
    /// After a restart, nothing goes out until the hold is over.
    recovering: bool,
    /// `BrokerForgets`: a write of the log is due.
    flush_armed: bool,
    detector: Option<Detector>,
}

impl WorkQueue {
    pub(super) fn broker_start(
        &self,
        ctx: &mut Context<'_, Self>,
        durable: &QueueDurable,
    ) -> BrokerState {
        let mut log = match durable {
            QueueDurable::Broker(log) => log.clone(),
            _ => BrokerLog::default(),
        };
        let restarted = log.incarnation > 0;
        log.incarnation += 1;
        ctx.persist(QueueDurable::Broker(log.clone()));
        let detector = (self.reassign == Reassign::OnSuspicion).then(|| {
            ctx.set_timer(QueueTimer::Tick, self.heartbeat_interval);
            Detector::new(ctx.node_count(), ctx.now())
        });
        let mut state = BrokerState {
            returned: log
                .entries
                .iter()
                .map(|entry| (entry.offset, Reason::Recovery))
                .collect(),
            log,
            leases: BTreeMap::new(),
            waiting: Vec::new(),
            delivery_next: 0,
            recovering: false,
            flush_armed: false,
            detector,
        };
        if restarted {
            self.recover(&mut state, ctx);
        }
        state
    }

    /// Leases given before the crash are forgotten, but the workers may
    /// still be working: hold everything for one visibility timeout, by
    /// which all of them have run out.
    fn recover(&self, state: &mut BrokerState, ctx: &mut Context<'_, Self>) {
        let entries = state.log.entries.len() as u64;
        let until = ctx.now().after(self.visibility);
        ctx.observe(QueueObservation::Recovered { entries, until });
        if entries > 0 {
            state.recovering = true;
            ctx.set_timer(QueueTimer::Recovered, self.visibility);
        }
    }

    pub(super) fn broker_message(
        &self,
        state: &mut BrokerState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        message: QueueMessage,
    ) {
        match message {
            QueueMessage::Publish { item } if item.producer == from => {
                self.accept(state, ctx, item)
            }
            QueueMessage::Poll if self.workers.contains(&from) => self.polled(state, from),
            QueueMessage::Ack {
                producer,
                seq,
                offset,
                delivery,
            } => self.consume(state, ctx, from, (producer, seq), offset, delivery),
            QueueMessage::Beat { incarnation, beat } => {
                self.heard(state, ctx, from, incarnation, beat)
            }
            _ => {}
        }
        self.pump(state, ctx);
    }

    /// A worker asks for work. A poll from a worker that holds a lease is
    /// one it sent before its last delivery arrived (or it gave up early):
    /// answering it would only earn a refusal.
    fn polled(&self, state: &mut BrokerState, worker: NodeId) {
        let holds = state.leases.values().any(|lease| lease.worker == worker);
        if !holds && !state.waiting.contains(&worker) {
            state.waiting.push(worker);
        }
    }

    pub(super) fn broker_timer(
        &self,
        state: &mut BrokerState,
        ctx: &mut Context<'_, Self>,
        timer: QueueTimer,
    ) {
        match timer {
            QueueTimer::Visibility { offset, delivery } => {
                self.give_back(state, ctx, offset, delivery, Reason::Timeout)
            }
            QueueTimer::Tick => self.tick(state, ctx),
            QueueTimer::Flush => {
                state.flush_armed = false;
                ctx.persist(QueueDurable::Broker(state.log.clone()));
            }
            QueueTimer::Recovered => state.recovering = false,
            _ => {}
        }
        self.pump(state, ctx);
    }

    /// Appends a publish (unless deduplication knows it), persists, and
    /// acknowledges; `BrokerForgets` acknowledges first and writes later.
    fn accept(&self, state: &mut BrokerState, ctx: &mut Context<'_, Self>, item: Item) {
        let id = item.id();
        let duplicate = self.dedupe && state.log.accepted.contains(id);
        if !duplicate {
            let offset = state.log.offset_next;
            state.log.offset_next += 1;
            state.log.entries.push(Entry { offset, item });
            if self.dedupe {
                state.log.accepted.insert(id);
            }
            ctx.observe(QueueObservation::Appended { item, offset });
            if self.mode == Mode::BrokerForgets {
                if !state.flush_armed {
                    state.flush_armed = true;
                    ctx.set_timer(QueueTimer::Flush, FLUSH_EVERY);
                }
            } else {
                ctx.persist(QueueDurable::Broker(state.log.clone()));
            }
        }
        ctx.observe(QueueObservation::PublishAcked {
            producer: id.producer,
            seq: id.seq,
            duplicate,
        });
        ctx.send(id.producer, QueueMessage::PublishAck { seq: id.seq });
    }

    /// An acknowledgement removes its entry (if it is still there: an
    /// acknowledgement may come twice, or after a redelivery's) and is
    /// always confirmed, so the worker stops resending it.
    fn consume(
        &self,
        state: &mut BrokerState,
        ctx: &mut Context<'_, Self>,
        worker: NodeId,
        (producer, seq): (NodeId, u64),
        offset: u64,
        delivery: u64,
    ) {
        let at =
            state.log.entries.iter().position(|e| {
                e.offset == offset && e.item.producer == producer && e.item.seq == seq
            });
        if let Some(at) = at {
            state.log.entries.remove(at);
            state.returned.remove(&offset);
            if let Some(lease) = state.leases.remove(&offset) {
                ctx.cancel_timer(QueueTimer::Visibility {
                    offset,
                    delivery: lease.delivery,
                });
            }
            ctx.persist(QueueDurable::Broker(state.log.clone()));
            ctx.observe(QueueObservation::Consumed {
                producer,
                seq,
                offset,
                worker,
                delivery,
            });
        }
        ctx.send(worker, QueueMessage::AckOk { delivery });
    }

    /// Makes an entry visible again if lease `delivery` still holds it.
    fn give_back(
        &self,
        state: &mut BrokerState,
        ctx: &mut Context<'_, Self>,
        offset: u64,
        delivery: u64,
        reason: Reason,
    ) {
        let Some(lease) = state.leases.get(&offset).copied() else {
            return;
        };
        if lease.delivery != delivery {
            return;
        }
        state.leases.remove(&offset);
        state.returned.insert(offset, reason);
        if reason != Reason::Timeout {
            ctx.cancel_timer(QueueTimer::Visibility { offset, delivery });
        }
        let item = self.entry(state, offset).item;
        ctx.observe(QueueObservation::Returned {
            producer: item.producer,
            seq: item.seq,
            offset,
            worker: lease.worker,
            delivery,
            reason,
        });
    }

    fn entry(&self, state: &BrokerState, offset: u64) -> Entry {
        let at = state
            .log
            .entries
            .binary_search_by_key(&offset, |e| e.offset)
            .expect("a leased entry is in the log");
        state.log.entries[at]
    }

    /// Hands visible entries to waiting workers, as many as both allow.
    fn pump(&self, state: &mut BrokerState, ctx: &mut Context<'_, Self>) {
        if state.recovering || state.waiting.is_empty() {
            return;
        }
        if let Some(detector) = &state.detector {
            state.waiting.retain(|&worker| !detector.suspects(worker));
        }
        let ready = self.deliverable(state, state.waiting.len());
        for offset in ready {
            let worker = state.waiting.remove(0);
            self.deliver(state, ctx, offset, worker);
        }
    }

    /// Up to `most` entries that may go out now, in log order. Under
    /// `Partitioned`, only the oldest entry of each partition may, and only
    /// while it is not out already.
    fn deliverable(&self, state: &BrokerState, most: usize) -> Vec<u64> {
        let mut seen = vec![false; self.workers.len()];
        let mut ready = Vec::new();
        for entry in &state.log.entries {
            if ready.len() == most {
                break;
            }
            let first_of_partition = match self.partition(entry.item.key) {
                Some(partition) => !std::mem::replace(&mut seen[partition], true),
                None => true,
            };
            if first_of_partition && !state.leases.contains_key(&entry.offset) {
                ready.push(entry.offset);
            }
        }
        ready
    }

    fn deliver(
        &self,
        state: &mut BrokerState,
        ctx: &mut Context<'_, Self>,
        offset: u64,
        worker: NodeId,
    ) {
        let Entry { item, .. } = self.entry(state, offset);
        let delivery = (state.log.incarnation << 32) | state.delivery_next;
        state.delivery_next += 1;
        let reason = state.returned.remove(&offset).unwrap_or(Reason::First);
        state.leases.insert(offset, Lease { worker, delivery });
        ctx.set_timer(QueueTimer::Visibility { offset, delivery }, self.visibility);
        ctx.observe(QueueObservation::Delivered {
            producer: item.producer,
            seq: item.seq,
            offset,
            worker,
            delivery,
            reason,
            expires: ctx.now().after(self.visibility),
        });
        ctx.send(
            worker,
            QueueMessage::Deliver {
                item,
                offset,
                delivery,
            },
        );
    }

    fn heard(
        &self,
        state: &mut BrokerState,
        ctx: &mut Context<'_, Self>,
        worker: NodeId,
        incarnation: u64,
        beat: u64,
    ) {
        let now = ctx.now();
        let Some(detector) = &mut state.detector else {
            return;
        };
        if detector.heard(worker, BeatStamp { incarnation, beat }, now, true, true) {
            ctx.observe(QueueObservation::Trust { peer: worker });
        }
    }

    /// The detector's tick: a newly suspected worker's entries go back at
    /// once.
    fn tick(&self, state: &mut BrokerState, ctx: &mut Context<'_, Self>) {
        ctx.set_timer(QueueTimer::Tick, self.heartbeat_interval);
        let (me, now) = (ctx.id(), ctx.now());
        let Some(detector) = &mut state.detector else {
            return;
        };
        let suspects: Vec<NodeId> = detector
            .newly_suspected(me, now, self.heartbeat_timeout)
            .into_iter()
            .filter(|peer| self.workers.contains(peer))
            .collect();
        for worker in suspects {
            ctx.observe(QueueObservation::Suspect { peer: worker });
            let held: Vec<(u64, u64)> = state
                .leases
                .iter()
                .filter(|(_, lease)| lease.worker == worker)
                .map(|(&offset, lease)| (offset, lease.delivery))
                .collect();
            for (offset, delivery) in held {
                self.give_back(state, ctx, offset, delivery, Reason::Suspicion);
            }
        }
    }
}
