//! faultline: a deterministic discrete-event cluster simulator.
//!
//! See ARCHITECTURE.md for the map. In short: `sim` is the engine, `node` the
//! protocol interface, `protocols` the state machines, `scenario` reads RON,
//! `check` judges runs, `plot` draws them, `run` ties one run together, and
//! `report` turns a run folder or a sweep into a page a reviewer can open.
//! `linearizable` checks histories of client operations for linearizability,
//! for any protocol.

#![warn(missing_docs)]

pub mod check;
pub mod cli;
pub mod harness;
pub mod linearizable;
pub mod node;
pub mod plot;
pub mod prelude;
pub mod protocols;
pub mod replay;
pub mod report;
pub mod run;
pub mod scenario;
pub mod shrink;
pub mod sim;
pub mod sweep;
pub mod testing;
