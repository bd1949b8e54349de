//! Replay: re-run the scenario and seed recorded in a run's output folder and
//! compare the new trace with the stored one. This is how a user learns that
//! a code change altered behaviour, and where.

use crate::run::{self, RunOptions};
use crate::scenario::{self, Registry};
use std::path::{Path, PathBuf};

/// What replaying a run folder found.
#[derive(Debug, PartialEq, Eq)]
pub enum ReplayVerdict {
    /// The same trace, byte for byte.
    Identical {
        /// The trace hash both runs have.
        hash: String,
    },
    /// The traces first differ at this line (1-based).
    Diverged {
        /// The first line that differs (1-based).
        line: usize,
        /// That line as recorded.
        recorded: String,
        /// That line as replayed.
        replayed: String,
        /// The recorded trace's hash.
        recorded_hash: String,
        /// The replayed trace's hash.
        replayed_hash: String,
    },
    /// The hashes differ but no stored trace locates the difference (run with
    /// --no-trace), or the stored trace matches and the summary was edited.
    HashDiffers {
        /// The hash in the folder's summary.
        recorded_hash: String,
        /// The replayed trace's hash.
        replayed_hash: String,
        /// Why no line can be named.
        reason: String,
    },
}

/// Why a run folder cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The scenario stored in the folder does not load.
    #[error("{0}")]
    Scenario(#[from] scenario::ScenarioError),
    /// The folder lacks a file or holds an unreadable one.
    #[error("{path}: {reason}")]
    Folder {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The run itself failed.
    #[error("{0}")]
    Run(#[from] run::RunError),
}

fn folder_error(path: &Path, reason: impl Into<String>) -> ReplayError {
    ReplayError::Folder {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Re-runs the run recorded in `folder` (its protocol must be in `registry`).
pub fn replay(folder: &Path, registry: &Registry) -> Result<ReplayVerdict, ReplayError> {
    let scenario = scenario::load(&folder.join("scenario.ron"), registry)?;
    let summary_path = folder.join("summary.json");
    let summary_text = std::fs::read_to_string(&summary_path).map_err(|e| {
        folder_error(
            &summary_path,
            format!("cannot read the recorded summary: {e}"),
        )
    })?;
    let summary: serde_json::Value = serde_json::from_str(&summary_text)
        .map_err(|e| folder_error(&summary_path, format!("not a summary: {e}")))?;
    let recorded_hash = summary["trace_hash"]
        .as_str()
        .ok_or_else(|| folder_error(&summary_path, "no trace_hash recorded"))?
        .to_string();
    // Re-run into a scratch folder, never into the recorded one.
    // Unique per call, so concurrent replays in one process never share it.
    static REPLAYS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = REPLAYS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let scratch: PathBuf =
        std::env::temp_dir().join(format!("faultline-replay-{}-{call}", std::process::id()));
    let options = RunOptions {
        seed: None,
        out: scratch.clone(),
        trace: true,
        charts: false,
        report: false,
        write: true,
        keep_trace: false,
    };
    let result = run::run(&scenario, &options)?;
    let replayed_hash = result.summary.trace_hash.clone();
    let replayed_trace = result.folder.as_ref().map(|f| f.join("trace.jsonl"));
    let verdict = if replayed_hash == recorded_hash {
        ReplayVerdict::Identical {
            hash: replayed_hash,
        }
    } else {
        let replayed_text = replayed_trace
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        let recorded_trace = std::fs::read_to_string(folder.join("trace.jsonl")).ok();
        divergence(recorded_trace, &replayed_text, recorded_hash, replayed_hash)
    };
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(verdict)
}

/// Where two traces with different hashes first differ.
fn divergence(
    recorded: Option<String>,
    replayed: &str,
    recorded_hash: String,
    replayed_hash: String,
) -> ReplayVerdict {
    let Some(recorded) = recorded else {
        return ReplayVerdict::HashDiffers {
            recorded_hash,
            replayed_hash,
            reason: "no trace.jsonl was recorded (run without --no-trace to locate the divergence)"
                .into(),
        };
    };
    let mut old = recorded.lines();
    let mut new = replayed.lines();
    let mut line = 0;
    loop {
        line += 1;
        match (old.next(), new.next()) {
            (None, None) => {
                return ReplayVerdict::HashDiffers {
                    recorded_hash,
                    replayed_hash,
                    reason: "the recorded trace matches the replay: the recorded hash was edited, \
                             or recorded by a faultline that hashed the trace's JSON text"
                        .into(),
                }
            }
            (a, b) if a != b => {
                return ReplayVerdict::Diverged {
                    line,
                    recorded: a.unwrap_or("(trace ended)").to_string(),
                    replayed: b.unwrap_or("(trace ended)").to_string(),
                    recorded_hash,
                    replayed_hash,
                }
            }
            _ => {}
        }
    }
}

/// The verdict for a terminal.
pub fn describe(verdict: &ReplayVerdict) -> String {
    match verdict {
        ReplayVerdict::Identical { hash } => format!("identical: the replay gives trace hash {hash}\n"),
        ReplayVerdict::Diverged { line, recorded, replayed, recorded_hash, replayed_hash } => format!(
            "diverged at event {line} of the trace (recorded hash {recorded_hash}, replayed {replayed_hash}):\n  recorded: {recorded}\n  replayed: {replayed}\n"
        ),
        ReplayVerdict::HashDiffers { recorded_hash, replayed_hash, reason } => {
            format!("differs: recorded hash {recorded_hash}, replayed {replayed_hash}; {reason}\n")
        }
    }
}
