//! Replicas: keep the highest version of each key, durably, and exchange
//! what they hold with peers (anti-entropy).

use super::{Cache, CacheMessage, CacheObservation, CacheState, CacheTimer, Record, Version};
use crate::node::{Context, NodeId};

impl Cache {
    /// Keeps `record` if its version is higher than the copy held: persisted
    /// before anything the handler sends next.
    pub(super) fn keep(
        &self,
        state: &mut CacheState,
        ctx: &mut Context<'_, Self>,
        key: u64,
        record: Record,
    ) {
        let held = state.durable.store.get(&key).map(|r| r.version);
        if held.is_some_and(|version| version >= record.version) || key >= self.keys {
            return;
        }
        if record.version == Version::default() {
            return;
        }
        state.durable.store.insert(key, record);
        ctx.persist(state.durable.clone());
        ctx.observe(CacheObservation::Stored {
            key,
            version: record.version,
            value: record.value,
        });
    }

    fn shared(&self, key: u64, a: NodeId, b: NodeId) -> bool {
        self.replicas_of
            .get(key as usize)
            .is_some_and(|owners| owners.contains(&a) && owners.contains(&b))
    }

    /// The anti-entropy timer: our versions of the keys we share with the
    /// next peer in turn go to it.
    pub(super) fn start_exchange(&self, state: &mut CacheState, ctx: &mut Context<'_, Self>) {
        let me = ctx.id();
        let peers = &self.peers_of[me as usize];
        if !peers.is_empty() {
            let peer = peers[state.exchange_next % peers.len()];
            state.exchange_next = (state.exchange_next + 1) % peers.len();
            let versions = state
                .durable
                .store
                .iter()
                .filter(|(&key, _)| self.shared(key, me, peer))
                .map(|(&key, record)| (key, record.version))
                .collect();
            ctx.send(peer, CacheMessage::Digest { versions });
        }
        if let Some(interval) = self.anti_entropy {
            ctx.set_timer(CacheTimer::AntiEntropy, interval);
        }
    }

    /// A peer's versions: send back our newer copies, and ask for theirs
    /// where they are newer.
    pub(super) fn on_digest(
        &self,
        state: &mut CacheState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        versions: &[(u64, Version)],
    ) {
        let me = ctx.id();
        let theirs = |key: u64| {
            versions
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(Version::default(), |(_, v)| *v)
        };
        let records: Vec<(u64, Record)> = state
            .durable
            .store
            .iter()
            .filter(|(&key, record)| self.shared(key, me, from) && record.version > theirs(key))
            .map(|(&key, record)| (key, *record))
            .collect();
        let want: Vec<u64> = versions
            .iter()
            .filter(|(key, version)| {
                let mine = state.durable.store.get(key).map(|r| r.version);
                self.shared(*key, me, from) && mine.unwrap_or_default() < *version
            })
            .map(|(key, _)| *key)
            .collect();
        if !records.is_empty() || !want.is_empty() {
            ctx.send(from, CacheMessage::Sync { records, want });
        }
    }

    /// A peer's newer copies, and the keys it wants ours of.
    pub(super) fn on_sync(
        &self,
        state: &mut CacheState,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        records: &[(u64, Record)],
        want: &[u64],
    ) {
        let me = ctx.id();
        for &(key, record) in records {
            if self.shared(key, me, from) {
                self.keep(state, ctx, key, record);
            }
        }
        let wanted: Vec<(u64, Record)> = want
            .iter()
            .filter(|&&key| self.shared(key, me, from))
            .filter_map(|key| state.durable.store.get(key).map(|r| (*key, *r)))
            .collect();
        if !wanted.is_empty() {
            ctx.send(
                from,
                CacheMessage::Sync {
                    records: wanted,
                    want: Vec::new(),
                },
            );
        }
    }
}
