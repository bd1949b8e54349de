//! Writing a run's folder: the trace, the charts, the explicit scenario, the
//! summary and the report, each under a temporary name first.

use super::{RunError, RunOptions, RunResult, TraceSink};
use crate::plot::Chart;
use crate::scenario::{self, Scenario};
use crate::sim::PendingOverflow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Where the trace goes: its file (under a temporary name, also when only
/// the report needs it), memory, or nowhere (it is hashed either way).
pub(super) fn trace_sink(
    folder: &Path,
    options: &RunOptions,
) -> Result<Option<TraceSink>, RunError> {
    if options.write && (options.trace || options.report) {
        let trace_path = folder.join("trace.jsonl");
        std::fs::create_dir_all(folder).map_err(|source| write_error(folder, source))?;
        let file = File::create(temporary(&trace_path))
            .map_err(|source| write_error(&trace_path, source))?;
        return Ok(Some(TraceSink::File(BufWriter::with_capacity(
            1 << 20,
            file,
        ))));
    }
    Ok(options.keep_trace.then(|| TraceSink::Memory(Vec::new())))
}

/// After a run that cannot be judged: no trace file, and no folder if this
/// run made it and it is empty.
pub(super) fn discard_trace(folder: &Path, options: &RunOptions) {
    if !options.write {
        return;
    }
    let _ = std::fs::remove_file(temporary(&folder.join("trace.jsonl")));
    if std::fs::remove_dir(folder).is_ok() {
        if let Some(parent) = folder.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
}

/// What to tell a user whose run filled the event queue.
pub(super) fn overflow_message(
    scenario: &Scenario,
    seed: u64,
    overflow: &PendingOverflow,
) -> String {
    format!(
        "the run of `{}` (seed {seed}) stopped at {} of simulated time: {} events were pending, the limit (limits.pending_max). Most of them ({}) were {}. A protocol that schedules events faster than they complete never fits; if this one needs more, raise the limit in the scenario, for example `limits: (pending_max: {})`, up to {}.",
        scenario.name,
        overflow.at,
        overflow.pending_max,
        overflow.source_count,
        overflow.source,
        overflow.pending_max.saturating_mul(10).min(crate::scenario::PENDING_MAX_LIMIT),
        crate::scenario::PENDING_MAX_LIMIT,
    )
}

pub(super) fn write_error(path: &Path, source: std::io::Error) -> RunError {
    RunError::Write {
        path: path.display().to_string(),
        source,
    }
}

fn temporary(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .expect("output files have names")
        .to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes bytes under a temporary name, then renames them into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    let temporary = temporary(path);
    let mut file = File::create(&temporary).map_err(|source| write_error(&temporary, source))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_data())
        .map_err(|source| write_error(&temporary, source))?;
    std::fs::rename(&temporary, path).map_err(|source| write_error(path, source))
}

/// Writes `<stem>.svg` and `<stem>.png` of a chart.
fn write_chart(folder: &Path, stem: &str, chart: &Chart) -> Result<(), RunError> {
    write_atomic(&folder.join(format!("{stem}.svg")), chart.svg().as_bytes())?;
    write_atomic(&folder.join(format!("{stem}.png")), &chart.png())
}

/// Removes charts an earlier run left in the folder that this run does not
/// draw (another protocol's, or all of them with `--no-charts`).
fn remove_stale_charts(folder: &Path, keep: &[&str]) -> Result<(), RunError> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Ok(());
    };
    let mut stale: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            let chart = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("svg" | "png")
            );
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            chart && !keep.contains(&stem)
        })
        .collect();
    stale.sort();
    for path in stale {
        remove_stale(&path)?;
    }
    Ok(())
}

pub(super) fn write_folder(
    scenario: &Scenario,
    seed: u64,
    result: &RunResult,
    options: &RunOptions,
    folder: &Path,
) -> Result<(), RunError> {
    std::fs::create_dir_all(folder).map_err(|source| write_error(folder, source))?;
    let trace_path = folder.join("trace.jsonl");
    if options.trace {
        std::fs::rename(temporary(&trace_path), &trace_path)
            .map_err(|source| write_error(&trace_path, source))?;
    } else {
        remove_stale(&trace_path)?;
    }
    let charts: Vec<&(String, Chart)> = result.charts.iter().filter(|_| options.charts).collect();
    for (stem, chart) in &charts {
        write_chart(folder, stem, chart)?;
    }
    let stems: Vec<&str> = charts.iter().map(|(stem, _)| stem.as_str()).collect();
    remove_stale_charts(folder, &stems)?;
    for (name, bytes) in &result.files {
        write_atomic(&folder.join(name), bytes)?;
    }
    let explicit = scenario.explicit_file(seed, &result.summary.faults);
    let header = format!(
        "// Written by faultline: scenario `{}` with seed {seed}, every fault explicit.\n// Running this file reproduces the run exactly.\n",
        scenario.name
    );
    write_atomic(
        &folder.join("scenario.ron"),
        format!("{header}{}\n", scenario::to_ron(&explicit)).as_bytes(),
    )?;
    let mut summary = serde_json::to_vec_pretty(&result.summary).expect("summaries serialize");
    summary.push(b'\n');
    write_atomic(&folder.join("summary.json"), &summary)?;
    // The report is drawn from the files just written; with --no-trace,
    // from the trace's temporary file, which then goes.
    let report_path = folder.join("report.html");
    let trace = if options.trace {
        trace_path
    } else {
        temporary(&trace_path)
    };
    if options.report {
        let page = crate::report::run_page_from_folder(folder, &trace, &options.out)
            .map_err(|source| write_error(&report_path, source))?;
        write_atomic(&report_path, page.as_bytes())?;
    } else {
        remove_stale(&report_path)?;
    }
    if !options.trace {
        remove_stale(&trace)?;
    }
    Ok(())
}

/// Removes an output file left by an earlier run that this run does not rewrite,
/// so a folder never mixes two runs.
fn remove_stale(path: &Path) -> Result<(), RunError> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(write_error(path, error)),
        _ => Ok(()),
    }
}
