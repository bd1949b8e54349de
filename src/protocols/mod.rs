//! The built-in protocols, one folder each: the state machine, its scenario
//! block, its checks and judge, its charts, tied together by `Harness`.
//! Protocols know nothing of RON, plotting, the CLI or the engine's internals.

pub mod cache;
pub mod hashing;
pub mod heartbeat;
pub mod lock;
pub mod paxos;
pub mod workqueue;

use crate::scenario::Registry;

/// Every built-in protocol: the one list. A new protocol is a folder above
/// and a line here.
pub fn registry() -> Registry {
    Registry::new()
        .with::<heartbeat::Heartbeat>()
        .with::<paxos::Paxos>()
        .with::<lock::Lock>()
        .with::<hashing::Hashing>()
        .with::<cache::Cache>()
        .with::<workqueue::WorkQueue>()
}
