//! Protocols: pure state machines behind the `Protocol` trait. They know nothing
//! of RON, plotting, the CLI or the engine's internals.

pub mod hashing;
pub mod heartbeat;
pub mod lock;
pub mod paxos;
pub mod placement;
