//! Sets of message ids, kept small: per producer, every number below a
//! floor and the few above it. Producers number their messages 0, 1, 2, ...
//! and publish them in that order, so what the broker has accepted and what
//! the sink has applied is nearly always a prefix, and the durable state
//! stays the size of what is still in flight rather than of the whole run.

use super::{MessageId, Seq};
use crate::node::NodeId;
use serde::Serialize;

/// One producer's numbers: all of `0..below`, and `above`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProducerSeqs {
    pub producer: NodeId,
    pub below: Seq,
    /// Sorted, each at least `below + 1`.
    pub above: Vec<Seq>,
}

impl ProducerSeqs {
    fn contains(&self, seq: Seq) -> bool {
        seq < self.below || self.above.binary_search(&seq).is_ok()
    }

    /// Adds `seq`; false if it was there already.
    fn insert(&mut self, seq: Seq) -> bool {
        if self.contains(seq) {
            return false;
        }
        if seq == self.below {
            self.below += 1;
            // Absorb what has become contiguous.
            let contiguous = self
                .above
                .iter()
                .zip(self.below..)
                .take_while(|(seq, expected)| **seq == *expected)
                .count();
            self.above.drain(..contiguous);
            self.below += contiguous as Seq;
        } else {
            let at = self.above.partition_point(|&other| other < seq);
            self.above.insert(at, seq);
        }
        true
    }
}

/// Message ids, per producer in producer order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct IdSet(pub Vec<ProducerSeqs>);

impl IdSet {
    pub fn contains(&self, id: MessageId) -> bool {
        self.0
            .iter()
            .find(|seqs| seqs.producer == id.producer)
            .is_some_and(|seqs| seqs.contains(id.seq))
    }

    /// Adds `id`; false if it was there already.
    pub fn insert(&mut self, id: MessageId) -> bool {
        let at = self.0.partition_point(|seqs| seqs.producer < id.producer);
        if self
            .0
            .get(at)
            .is_none_or(|seqs| seqs.producer != id.producer)
        {
            self.0.insert(
                at,
                ProducerSeqs {
                    producer: id.producer,
                    ..ProducerSeqs::default()
                },
            );
        }
        self.0[at].insert(id.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(producer: NodeId, seq: Seq) -> MessageId {
        MessageId { producer, seq }
    }

    #[test]
    fn a_prefix_compacts_to_its_floor() {
        let mut set = IdSet::default();
        for seq in [0, 2, 3, 1, 5] {
            assert!(set.insert(id(4, seq)));
        }
        assert_eq!(
            set.0,
            vec![ProducerSeqs {
                producer: 4,
                below: 4,
                above: vec![5]
            }]
        );
        assert!(!set.insert(id(4, 2)), "already there");
        assert!(set.contains(id(4, 5)) && !set.contains(id(4, 4)));
        assert!(!set.contains(id(3, 0)), "another producer's numbers");
    }

    #[test]
    fn producers_are_kept_apart_and_in_order() {
        let mut set = IdSet::default();
        set.insert(id(7, 0));
        set.insert(id(2, 1));
        assert_eq!(set.0.iter().map(|s| s.producer).collect::<Vec<_>>(), [2, 7]);
        assert!(set.contains(id(2, 1)) && !set.contains(id(2, 0)));
    }
}
