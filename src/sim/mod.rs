//! The engine: virtual time, the event queue, random streams, node clocks, the
//! network, faults and the run loop. It knows the `Protocol` trait but no
//! particular protocol, and it never reads the wall clock or OS entropy.

/// Time and random streams live with the protocol interface (the ground
/// floor); the engine uses them from there.
pub use crate::node::{rng, time};

pub mod clock;
pub mod encode;
pub mod fault;
pub mod nemesis;
pub mod network;
pub mod queue;
pub mod trace;
pub mod world;

pub use fault::{Fault, ScheduledFault};
pub use network::{Latency, MessageStats, NetworkConfig};
pub use time::{LocalTime, SimDuration, SimTime};
pub use trace::{NodeStatus, Observer, Observers, TraceEvent, TraceWriter, WorldView};
pub use world::{PendingOverflow, RunReport, Simulation, SimulationConfig};
