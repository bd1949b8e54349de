//! Histories in the shape Jepsen records them: each operation is one call by
//! one process on one key, with the time it was invoked, the time it
//! completed, and how it completed (`ok`, `fail` or `info`).
//!
//! Times are integer nanoseconds (faultline's `SimTime` is one). Operation
//! `a` precedes operation `b` in real time only if `a` completed strictly
//! before `b` was invoked; operations whose intervals touch or overlap are
//! concurrent.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Who issued an operation. A process issues one operation at a time.
pub type Process = u64;

/// How an operation completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Completion {
    /// It happened, with the recorded result.
    Ok,
    /// It is known not to have happened: the checker leaves it out.
    Fail,
    /// Unknown (a time-out, a crash): it may or may not have taken effect, at
    /// any time after its invocation, with whatever result the specification
    /// gives. Its completion time is ignored.
    Info,
}

/// One operation: a call by `process` on `key`, invoked at `time_invoke` and
/// completed at `time_complete`. `call` holds both what was asked and, for
/// an `ok` operation, what was returned (a read's value).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation<C, K> {
    /// The process that issued it.
    pub process: Process,
    /// The key (the independent object) it acted on.
    pub key: K,
    /// What was called and, once completed `ok`, what it returned.
    #[serde(flatten)]
    pub call: C,
    /// When it was invoked, in nanoseconds.
    pub time_invoke: u64,
    /// When it completed, in nanoseconds; ignored for `info` operations.
    pub time_complete: u64,
    /// How it completed.
    pub completion: Completion,
}

/// Why a history cannot be checked or recorded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// An operation completed before it was invoked.
    #[error("operation {index} (process {process}) completes at {time_complete} ns, before its invocation at {time_invoke} ns")]
    CompletionBeforeInvocation {
        /// Its position in the history.
        index: usize,
        /// Its process.
        process: Process,
        /// Its invocation time.
        time_invoke: u64,
        /// Its completion time.
        time_complete: u64,
    },
    /// A process invoked an operation while its previous one was still open.
    #[error("process {process} invokes at {time_invoke} ns while its operation {index_open} is still open")]
    ProcessBusy {
        /// The process.
        process: Process,
        /// The new invocation's time.
        time_invoke: u64,
        /// The position of the operation still open.
        index_open: usize,
    },
    /// A process completed an operation it had not invoked.
    #[error("process {process} completes at {time_complete} ns with no operation open")]
    NothingOpen {
        /// The process.
        process: Process,
        /// The completion time.
        time_complete: u64,
    },
    /// One key has more operations than the checker can index.
    #[error("key has {operations} operations; at most {max} can be checked")]
    TooManyOperations {
        /// The key's operation count.
        operations: usize,
        /// The most the checker takes for one key.
        max: usize,
    },
}

/// A history: the operations, in the order they were recorded (their order
/// in the vector does not matter to the checker; their times do).
///
/// Record it either whole, with [`History::push`], or as it happens, with
/// [`History::invoke`] and [`History::complete`]. An invocation that is never
/// completed counts as `info`: it may or may not have taken effect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct History<C, K> {
    /// The operations.
    pub operations: Vec<Operation<C, K>>,
    /// Each process's open invocation, by position in `operations`.
    #[serde(skip)]
    open: BTreeMap<Process, usize>,
}

impl<C, K> Default for History<C, K> {
    fn default() -> Self {
        Self {
            operations: Vec::new(),
            open: BTreeMap::new(),
        }
    }
}

impl<C, K> From<Vec<Operation<C, K>>> for History<C, K> {
    fn from(operations: Vec<Operation<C, K>>) -> Self {
        Self {
            operations,
            open: BTreeMap::new(),
        }
    }
}

impl<C, K> History<C, K> {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a completed operation.
    pub fn push(&mut self, operation: Operation<C, K>) {
        self.operations.push(operation);
    }

    /// Records that `process` invoked `call` on `key` at `time_invoke`. Until
    /// [`History::complete`] is called for the process, the operation counts
    /// as `info`. A read's `call` holds a placeholder value until then.
    pub fn invoke(
        &mut self,
        process: Process,
        key: K,
        call: C,
        time_invoke: u64,
    ) -> Result<(), HistoryError> {
        if let Some(&index_open) = self.open.get(&process) {
            return Err(HistoryError::ProcessBusy {
                process,
                time_invoke,
                index_open,
            });
        }
        self.open.insert(process, self.operations.len());
        self.operations.push(Operation {
            process,
            key,
            call,
            time_invoke,
            time_complete: time_invoke,
            completion: Completion::Info,
        });
        Ok(())
    }

    /// Records that `process`'s open operation completed at `time_complete`
    /// with `completion`, and returns it so that the caller can fill in what
    /// it returned (a read's value).
    pub fn complete(
        &mut self,
        process: Process,
        time_complete: u64,
        completion: Completion,
    ) -> Result<&mut Operation<C, K>, HistoryError> {
        let index = self
            .open
            .remove(&process)
            .ok_or(HistoryError::NothingOpen {
                process,
                time_complete,
            })?;
        let operation = &mut self.operations[index];
        if time_complete < operation.time_invoke {
            return Err(HistoryError::CompletionBeforeInvocation {
                index,
                process,
                time_invoke: operation.time_invoke,
                time_complete,
            });
        }
        operation.time_complete = time_complete;
        operation.completion = completion;
        Ok(operation)
    }

    /// The operations still open (invoked, not completed), by position.
    pub fn open(&self) -> impl Iterator<Item = usize> + '_ {
        self.open.values().copied()
    }

    /// Checks what the checker relies on: every operation completes no
    /// earlier than it was invoked.
    pub fn validate(&self) -> Result<(), HistoryError> {
        for (index, operation) in self.operations.iter().enumerate() {
            if operation.time_complete < operation.time_invoke {
                return Err(HistoryError::CompletionBeforeInvocation {
                    index,
                    process: operation.process,
                    time_invoke: operation.time_invoke,
                    time_complete: operation.time_complete,
                });
            }
        }
        Ok(())
    }
}
