//! The register: the sequential specification of one key of a key-value
//! store with read, write and compare-and-set.
//!
//! - A read returns the current value; a key never written reads nil.
//! - A write sets the value (writing nil deletes the key).
//! - A compare-and-set `cas(expected, new)` sets `new` if the current value
//!   is `expected`. One that completed `ok` succeeded, so it must take effect
//!   where the value is `expected`; one that completed `fail` did not happen
//!   (the checker leaves every `fail` operation out), as in Jepsen's
//!   cas-register.

use super::model::Model;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// A register's value: `None` is nil, the value of a key never written.
pub type Value = Option<i64>;

/// A register operation, in Jepsen's shape: `f` says which, `value` what was
/// written or read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "lowercase")]
pub enum RegisterCall {
    /// Read the value; `value` is what the read returned (ignored if the
    /// read completed `info`: nobody saw it).
    Read {
        /// The value read.
        value: Value,
    },
    /// Write `value`.
    Write {
        /// The value written.
        value: Value,
    },
    /// Set `new` if the value is `expected`.
    Cas {
        /// The value the register must hold for the cas to succeed.
        expected: Value,
        /// The value it then holds.
        new: Value,
    },
}

impl RegisterCall {
    /// A read that returned `value`.
    pub fn read(value: Value) -> Self {
        Self::Read { value }
    }

    /// A write of `value`.
    pub fn write(value: Value) -> Self {
        Self::Write { value }
    }

    /// A compare-and-set from `expected` to `new`.
    pub fn cas(expected: Value, new: Value) -> Self {
        Self::Cas { expected, new }
    }
}

/// Writes a value as a person reads it: the number, or `nil`.
pub fn format_value(value: Value) -> String {
    match value {
        Some(number) => number.to_string(),
        None => "nil".to_string(),
    }
}

impl fmt::Display for RegisterCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Read { value } => write!(f, "read -> {}", format_value(value)),
            Self::Write { value } => write!(f, "write {}", format_value(value)),
            Self::Cas { expected, new } => {
                write!(f, "cas {} -> {}", format_value(expected), format_value(new))
            }
        }
    }
}

/// The value a call requires the register to hold, if any.
fn observes(call: &RegisterCall) -> Option<Value> {
    match *call {
        RegisterCall::Read { value } => Some(value),
        RegisterCall::Write { .. } => None,
        RegisterCall::Cas { expected, .. } => Some(expected),
    }
}

/// The value a call sets, if any.
fn sets(call: &RegisterCall) -> Option<Value> {
    match *call {
        RegisterCall::Read { .. } => None,
        RegisterCall::Write { value } => Some(value),
        RegisterCall::Cas { new, .. } => Some(new),
    }
}

/// The register specification, for [`crate::linearizable::check`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Register;

impl Model for Register {
    type Call = RegisterCall;
    type State = Value;

    fn init(&self) -> Value {
        None
    }

    fn step(&self, state: &Value, call: &RegisterCall) -> Option<Value> {
        match *call {
            RegisterCall::Read { value } => (value == *state).then_some(*state),
            RegisterCall::Write { value } => Some(value),
            RegisterCall::Cas { expected, new } => (expected == *state).then_some(new),
        }
    }

    fn step_info(&self, state: &Value, call: &RegisterCall) -> Option<Value> {
        match *call {
            // An unseen read changes nothing, so it never needs a place.
            RegisterCall::Read { .. } => None,
            RegisterCall::Write { value } => Some(value),
            // A cas that finds another value changes nothing either.
            RegisterCall::Cas { expected, new } => (expected == *state).then_some(new),
        }
    }

    /// Keeps an `info` write or cas only if some call could observe the
    /// value it sets: an `ok` read of it, an `ok` cas expecting it, or a kept
    /// `info` cas expecting it. Placing an unobserved value is pointless: the
    /// next operation after it must overwrite it blindly (a write), or there
    /// is none, so the order without it is valid too. `info` reads change
    /// nothing and are never kept.
    fn needed_infos(&self, ok_calls: &[&RegisterCall], info_calls: &[&RegisterCall]) -> Vec<bool> {
        let mut observed: BTreeSet<Value> = ok_calls.iter().filter_map(|c| observes(c)).collect();
        let mut needed = vec![false; info_calls.len()];
        // Each round keeps at least one more cas, or ends.
        loop {
            let mut changed = false;
            for (call, needed) in info_calls.iter().zip(needed.iter_mut()) {
                if !*needed && sets(call).is_some_and(|value| observed.contains(&value)) {
                    *needed = true;
                    changed = true;
                    observed.extend(observes(call));
                }
            }
            if !changed {
                return needed;
            }
        }
    }

    fn describe_call(&self, call: &RegisterCall) -> String {
        call.to_string()
    }

    fn describe_state(&self, state: &Value) -> String {
        format_value(*state)
    }
}
