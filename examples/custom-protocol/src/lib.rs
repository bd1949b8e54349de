//! Raft's leader election as a faultline protocol, in a crate of its own:
//! the example of docs/custom-protocol.md.
//!
//! The algorithm is the election half of Raft (Ongaro and Ousterhout, "In
//! Search of an Understandable Consensus Algorithm", USENIX ATC 2014, §5.1
//! and §5.2), with no log:
//!
//! - Time is divided into numbered *terms*. Every message carries its
//!   sender's term; a node that sees a higher term adopts it and becomes a
//!   follower, and a message of a lower term is refused.
//! - A follower that hears no leader for an *election timeout*, drawn at
//!   random (150–300ms in the paper) from its own random stream, starts an
//!   election: it increments its term, votes for itself and sends
//!   `RequestVote` to every other node, asking again those that do not
//!   answer.
//! - A node grants at most one vote per term, first come first served, and
//!   saves `current_term` and `voted_for` durably before its answer leaves,
//!   so a crash cannot make it vote twice.
//! - A candidate that gathers the votes of a majority of all nodes becomes
//!   leader and sends heartbeats (`AppendEntries` with no entries) often
//!   enough that followers do not time out. A candidate that hears a leader
//!   of its own term gives up.
//!
//! Random timeouts make split votes rare: usually one node times out first
//! and wins before another stands. Majorities make two leaders in one term
//! impossible, since two majorities share a node and a node votes once per
//! term; the `VoteTwice` variant breaks exactly that, by not persisting the
//! vote.
//!
//! The crate is three pieces: the state machine ([`Election`], a
//! [`faultline::node::Protocol`]), its checks and judge ([`ElectionCheck`],
//! [`ElectionJudge`]) and its chart recorder ([`ElectionMarks`]), tied
//! together by the [`faultline::harness::Harness`] implementation on
//! [`Election`]. `src/main.rs` adds it to faultline's own command line.

#![warn(missing_docs)]

mod chart;
mod check;
mod harness;
mod protocol;

pub use chart::ElectionMarks;
pub use check::{Elected, ElectionCheck, ElectionJudge, Win};
pub use harness::ElectionBlock;
pub use protocol::{
    Election, ElectionMessage, ElectionObservation, ElectionState, ElectionTimer, ElectionVariant,
    PersistentState, Role,
};
