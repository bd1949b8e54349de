//! What a check finds: a verdict per key and overall, the order that
//! explains each linearizable key, and for a key that is not linearizable
//! the furthest the search got and why it could go no further.

use super::history::{Completion, Operation};
use super::model::Model;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How much search one key may take. When either limit is reached the key's
/// verdict is [`Verdict::Unknown`]: a budget never turns into a wrong answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Search steps per key: each look at an entry of the history (an
    /// attempt to linearize an operation, or a backtrack) is one step.
    pub steps_max: u64,
    /// Memory the memo of explored configurations may take per key, in bytes
    /// (an estimate; the memo is freed before the next key).
    pub memo_bytes_max: usize,
}

impl Default for Budget {
    /// Ten million steps (about a second) and 512 MiB per key.
    fn default() -> Self {
        Self {
            steps_max: 10_000_000,
            memo_bytes_max: 512 << 20,
        }
    }
}

/// The answer for a key, or for a whole history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Verdict {
    /// An order exists that respects real time and the specification.
    Linearizable,
    /// No such order exists.
    NotLinearizable,
    /// The budget ran out before the search found out.
    Unknown,
}

impl Verdict {
    /// The verdict for a whole history from its keys' verdicts: one key that
    /// is not linearizable is enough (linearizability is local: Herlihy &
    /// Wing's theorem 1), otherwise one unknown key leaves it unknown.
    pub fn combine(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts
            .into_iter()
            .fold(Verdict::Linearizable, |overall, verdict| {
                match (overall, verdict) {
                    (Verdict::NotLinearizable, _) | (_, Verdict::NotLinearizable) => {
                        Verdict::NotLinearizable
                    }
                    (Verdict::Unknown, _) | (_, Verdict::Unknown) => Verdict::Unknown,
                    _ => Verdict::Linearizable,
                }
            })
    }
}

/// Which limit of the [`Budget`] a search reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BudgetExhausted {
    /// `steps_max`.
    Steps,
    /// `memo_bytes_max`.
    Memo,
}

/// An operation of the history, with its position there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationRef<C, K> {
    /// Its index in [`super::History::operations`].
    pub index: usize,
    /// The operation.
    pub operation: Operation<C, K>,
}

/// One operation of a partial linearization, with the state it leaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinearizedStep<C, S, K> {
    /// The operation.
    pub operation: OperationRef<C, K>,
    /// The state after it.
    pub state_after: S,
}

/// A pending operation at a dead end: one that could have come next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate<C, K> {
    /// The operation.
    pub operation: OperationRef<C, K>,
    /// Whether the specification lets it take effect there. If it does, the
    /// search tried it and every order continuing with it failed later.
    pub possible: bool,
}

/// Why one key's operations are not linearizable, as the furthest the search
/// got: the longest partial linearization it found, and the dead end there.
///
/// At the dead end, `blocking` has completed, so it must take effect before
/// every operation invoked after its completion; the candidates are the
/// pending operations invoked before that completion, and none of them can
/// come next (either the specification refuses it, or every continuation
/// after it fails).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation<C, S, K> {
    /// The key.
    pub key: K,
    /// The longest partial linearization found, in order.
    pub prefix: Vec<LinearizedStep<C, S, K>>,
    /// The state after it.
    pub state: S,
    /// The completed operation that nothing lets take effect in time.
    pub blocking: OperationRef<C, K>,
    /// The operations that could have come next (`blocking` among them).
    pub candidates: Vec<Candidate<C, K>>,
    /// All of the above, for a person.
    pub explanation: String,
}

impl<C, S, K> fmt::Display for Violation<C, S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explanation)
    }
}

/// The outcome for one key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyReport<C, S, K> {
    /// The key.
    pub key: K,
    /// Its verdict.
    pub verdict: Verdict,
    /// Its operations that completed `ok`.
    pub operations_ok: usize,
    /// Its operations that completed `info` (or never completed).
    pub operations_info: usize,
    /// Its operations that completed `fail` (left out).
    pub operations_fail: usize,
    /// The search steps taken.
    pub steps: u64,
    /// The configurations the search remembered.
    pub memo_entries: usize,
    /// For an unknown verdict, the limit reached.
    pub exhausted: Option<BudgetExhausted>,
    /// For a linearizable key, an order that explains it: indices into the
    /// history, every `ok` operation once, and the `info` operations that
    /// took effect. Empty otherwise.
    pub linearization: Vec<usize>,
    /// For a key that is not linearizable, why.
    pub violation: Option<Violation<C, S, K>>,
}

/// The outcome of a check: the overall verdict and one report per key, in
/// key order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report<C, S, K> {
    /// Not linearizable if a key is not; unknown if a key is unknown;
    /// linearizable otherwise (an empty history is).
    pub verdict: Verdict,
    /// Each key's report, in key order.
    pub keys: Vec<KeyReport<C, S, K>>,
}

impl<C, S, K: Ord> Report<C, S, K> {
    /// The report for `key`, if the history has it.
    pub fn key(&self, key: &K) -> Option<&KeyReport<C, S, K>> {
        let position = self.keys.binary_search_by(|report| report.key.cmp(key));
        position.ok().map(|position| &self.keys[position])
    }

    /// The violations, in key order.
    pub fn violations(&self) -> impl Iterator<Item = &Violation<C, S, K>> {
        self.keys
            .iter()
            .filter_map(|report| report.violation.as_ref())
    }

    /// Search steps over all keys.
    pub fn steps(&self) -> u64 {
        self.keys.iter().map(|report| report.steps).sum()
    }
}

impl<C, S, K: fmt::Debug + Ord> fmt::Display for Report<C, S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |verdict| self.keys.iter().filter(|r| r.verdict == verdict).count();
        let operations: usize = self
            .keys
            .iter()
            .map(|r| r.operations_ok + r.operations_info + r.operations_fail)
            .sum();
        writeln!(
            f,
            "{:?}: {} ({} not linearizable, {} unknown), {}, {}",
            self.verdict,
            counted(self.keys.len() as u64, "key"),
            count(Verdict::NotLinearizable),
            count(Verdict::Unknown),
            counted(operations as u64, "operation"),
            counted(self.steps(), "search step"),
        )?;
        for violation in self.violations() {
            writeln!(f, "{violation}")?;
        }
        for report in self.keys.iter().filter(|r| r.verdict == Verdict::Unknown) {
            let limit = match report.exhausted {
                Some(BudgetExhausted::Memo) => "memo",
                _ => "steps",
            };
            writeln!(
                f,
                "key {:?}: unknown, its {limit} budget ran out after {} steps",
                report.key, report.steps
            )?;
        }
        Ok(())
    }
}

/// `count` and `noun`, in the plural unless there is one.
fn counted(count: u64, noun: &str) -> String {
    match count {
        1 => format!("1 {noun}"),
        _ => format!("{count} {noun}s"),
    }
}

/// Writes a time in nanoseconds exactly, in the largest unit that divides it.
pub fn format_time(nanoseconds: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "us")];
    UNITS
        .iter()
        .find(|&&(size, _)| nanoseconds != 0 && nanoseconds % size == 0)
        .map(|&(size, unit)| format!("{} {unit}", nanoseconds / size))
        .unwrap_or_else(|| format!("{nanoseconds} ns"))
}

/// One line for an operation: its position, process, call, interval and
/// completion, e.g. `#4 process 2 read -> 1 [40 ns, 50 ns] ok`.
pub(crate) fn describe_operation<C, K>(
    reference: &OperationRef<C, K>,
    describe_call: impl Fn(&C) -> String,
) -> String {
    let operation = &reference.operation;
    let (end, completion) = match operation.completion {
        Completion::Ok => (format!("{}]", format_time(operation.time_complete)), "ok"),
        Completion::Fail => (format!("{}]", format_time(operation.time_complete)), "fail"),
        Completion::Info => ("...)".to_string(), "info"),
    };
    format!(
        "#{} process {} {} [{}, {end} {completion}",
        reference.index,
        operation.process,
        describe_call(&operation.call),
        format_time(operation.time_invoke),
    )
}

/// How many steps of a long prefix an explanation shows (the last ones).
const PREFIX_SHOWN_MAX: usize = 10;
/// How many candidates an explanation shows.
const CANDIDATES_SHOWN_MAX: usize = 12;

/// The explanation of a violation, for a person: the end of the longest
/// partial linearization, the state it leaves, the operation that must come
/// next and cannot, and why each pending operation cannot come next either.
pub(crate) fn explain<M: Model, K: fmt::Debug>(
    model: &M,
    violation: &Violation<M::Call, M::State, K>,
) -> String {
    let call = |c: &M::Call| model.describe_call(c);
    let mut text = format!("key {:?}: not linearizable.\n", violation.key);
    let shown_from = violation.prefix.len().saturating_sub(PREFIX_SHOWN_MAX);
    if violation.prefix.is_empty() {
        text += "  No operation can be linearized first.\n";
    } else {
        text += &format!(
            "  The longest partial linearization found has {}{}:\n",
            counted(violation.prefix.len() as u64, "operation"),
            if shown_from > 0 { ", ending" } else { "" },
        );
    }
    for (position, step) in violation.prefix.iter().enumerate().skip(shown_from) {
        text += &format!(
            "    {}. {}  => {}\n",
            position + 1,
            describe_operation(&step.operation, call),
            model.describe_state(&step.state_after),
        );
    }
    let blocking = &violation.blocking.operation;
    text += &format!(
        "  From state {}, {} must take effect before anything invoked after {}, but no pending operation can come next:\n",
        model.describe_state(&violation.state),
        describe_operation(&violation.blocking, call),
        format_time(blocking.time_complete),
    );
    for candidate in violation.candidates.iter().take(CANDIDATES_SHOWN_MAX) {
        let why = if candidate.possible {
            "possible here, but every order that continues with it fails later"
        } else {
            "impossible in this state"
        };
        text += &format!(
            "    {}: {why}\n",
            describe_operation(&candidate.operation, call)
        );
    }
    if violation.candidates.len() > CANDIDATES_SHOWN_MAX {
        text += &format!(
            "    ({} more)\n",
            violation.candidates.len() - CANDIDATES_SHOWN_MAX
        );
    }
    text.pop();
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_exact_in_the_largest_unit() {
        assert_eq!(format_time(0), "0 ns");
        assert_eq!(format_time(1_500), "1500 ns");
        assert_eq!(format_time(2_000), "2 us");
        assert_eq!(format_time(1_500_000), "1500 us");
        assert_eq!(format_time(3_000_000_000), "3 s");
    }

    #[test]
    fn one_violation_makes_the_history_not_linearizable() {
        use Verdict::*;
        assert_eq!(Verdict::combine([]), Linearizable);
        assert_eq!(Verdict::combine([Linearizable, Unknown]), Unknown);
        assert_eq!(
            Verdict::combine([Unknown, NotLinearizable, Linearizable]),
            NotLinearizable
        );
    }
}
