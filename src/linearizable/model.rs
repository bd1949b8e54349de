//! The sequential specification the checker holds a history to.

use std::fmt::Debug;
use std::hash::Hash;

/// A sequential specification of one object (one key's worth of state).
///
/// The checker asks it one question, over and over: from this state, can
/// this call take effect, and if so what state follows? A model must be a
/// pure function of its arguments: the search relies on stepping the same
/// call from the same state always giving the same answer.
///
/// Models are deterministic: one state and one call give at most one next
/// state.
pub trait Model {
    /// One operation as recorded: what was asked and what was returned.
    type Call: Clone + Debug;
    /// The object's state. Equal states are interchangeable: the search
    /// remembers the (linearized operations, state) pairs it has explored
    /// and does not explore them again.
    type State: Clone + Debug + Eq + Hash;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The state after `call`, which completed `ok`, takes effect in `state`;
    /// `None` if the specification cannot give the recorded result from
    /// `state`.
    fn step(&self, state: &Self::State, call: &Self::Call) -> Option<Self::State>;

    /// The state after `call`, whose result is unknown (it completed `info`),
    /// takes effect in `state` with whatever result the specification gives;
    /// `None` if it cannot take effect in `state`. It may also answer `None`
    /// where taking effect would leave `state` as it is: leaving the call out
    /// is then the same, and cheaper to search.
    fn step_info(&self, state: &Self::State, call: &Self::Call) -> Option<Self::State>;

    /// Which of one key's `info` calls the search must consider, given its
    /// `ok` calls: one answer per `info` call, in order. An `info` call may
    /// be left out when every linearization that places it stays valid
    /// without it (for a register: a write whose value nothing reads).
    /// Pending `info` calls are candidates at every dead end, so leaving out
    /// the ones that cannot matter saves much search. By default all are
    /// kept.
    fn needed_infos(&self, ok_calls: &[&Self::Call], info_calls: &[&Self::Call]) -> Vec<bool> {
        let _ = ok_calls;
        vec![true; info_calls.len()]
    }

    /// A short description of a call, for reports.
    fn describe_call(&self, call: &Self::Call) -> String {
        format!("{call:?}")
    }

    /// A short description of a state, for reports.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}
