//! Reports a reviewer can open: `report.html` for a run folder and
//! `sweep.html` for a sweep, each one self-contained file (inline CSS, inline
//! SVG, a little plain JavaScript, no network request).
//!
//! The input is plain data, what a run folder or `sweep.json` holds, never
//! faultline's internal types, and the module knows no protocol: message
//! kinds, observation labels and check names come from the data. Unknown
//! fields are ignored and missing ones are left out, so the summary and the
//! trace can grow without breaking the pages.
//!
//! Pages are byte-identical for the same input: no wall-clock figures, no
//! absolute paths, ordered maps only. See docs/report.md.

mod html;
mod json;
mod lamport;
mod run_page;
mod scan;
mod sweep_page;
mod trace;

use std::path::Path;

pub use trace::{TraceSource, WINDOWS_MAX, WINDOW_COPIES_MAX, WINDOW_OBSERVATIONS_MAX};

/// The command the pages' reproduce lines start with: `faultline`, or the
/// binary a user built with `cli::main_with`, which alone loads their
/// protocols. Set once by the command line; the same binary always writes
/// the same pages.
static PROGRAM: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names the binary the pages' commands should start with (the command line
/// does this; the first name given stays).
pub fn name_program(name: &str) {
    let _ = PROGRAM.set(name.to_string());
}

fn program() -> &'static str {
    PROGRAM.get().map_or("faultline", String::as_str)
}

/// A trace file larger than this is not read for the diagram (the page
/// says there was no trace to draw from): reading takes two passes, from a
/// third of a second to a second per 100 MB on the project's machine.
pub const TRACE_BYTES_MAX: u64 = 1 << 30;

/// What `report.html` is made of: the contents of a run folder.
pub struct RunPageInput<'a> {
    /// `summary.json`, parsed.
    pub summary: &'a serde_json::Value,
    /// `scenario.ron`: the run's scenario with every fault explicit.
    pub scenario_text: &'a str,
    /// (name, SVG text) of each chart, in the order to show them.
    pub charts: &'a [(String, String)],
    /// `trace.jsonl`, in memory or as a file, if there is one to draw the
    /// diagram from.
    pub trace: Option<TraceSource<'a>>,
    /// The run folder as the commands on the page should name it, relative
    /// (`output/<name>/seed-<N>`).
    pub folder: &'a str,
}

/// The run's page. Fails only when the trace is a file that cannot be read.
pub fn run_page(input: &RunPageInput) -> std::io::Result<String> {
    run_page::render(input)
}

/// The sweep's page, from `sweep.json` parsed.
pub fn sweep_page(sweep: &serde_json::Value) -> String {
    sweep_page::render(sweep)
}

/// Reads a run folder (`summary.json`, `scenario.ron`, every `*.svg`, the
/// timeline first) and the trace at `trace` (which may be a temporary file
/// outside the usual name), and renders its page. `out` is the output
/// folder the run was given: the page's commands name the run folder
/// relative to where faultline ran, or to `out` if that is absolute, so
/// that the page holds no absolute path.
pub fn run_page_from_folder(folder: &Path, trace: &Path, out: &Path) -> std::io::Result<String> {
    let shown = if out.is_relative() {
        folder
    } else {
        folder.strip_prefix(out).unwrap_or(folder)
    };
    let folder_name = shown.to_string_lossy().replace('\\', "/");
    let summary_text = std::fs::read_to_string(folder.join("summary.json"))?;
    let summary: serde_json::Value = serde_json::from_str(&summary_text)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let scenario_text = std::fs::read_to_string(folder.join("scenario.ron"))?;
    let charts = read_charts(folder)?;
    let trace = match std::fs::metadata(trace) {
        Ok(metadata) if metadata.len() <= TRACE_BYTES_MAX => Some(TraceSource::File(trace)),
        _ => None,
    };
    run_page(&RunPageInput {
        summary: &summary,
        scenario_text: &scenario_text,
        charts: &charts,
        trace,
        folder: &folder_name,
    })
}

/// Every `*.svg` in the folder as (stem, text), the timeline first, then by name.
fn read_charts(folder: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut charts = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("svg") {
            continue;
        }
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        charts.push((stem.to_string(), std::fs::read_to_string(&path)?));
    }
    charts.sort_by(|a, b| (a.0 != "timeline", &a.0).cmp(&(b.0 != "timeline", &b.0)));
    Ok(charts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A three-node run: a delivery, a loss at send time, a duplicate, a
    /// message queued at a paused node, a drop on a cut link, a message
    /// still in flight, observations and a violation.
    const TRACE: &str = r#"{"t":0,"kind":"start","node":0}
{"t":0,"kind":"start","node":1}
{"t":0,"kind":"start","node":2}
{"t":1000,"kind":"send","node":0,"to":1,"id":0,"message":{"type":"Prepare","ballot":{"round":1,"proposer":0}}}
{"t":1000,"kind":"send","node":0,"to":2,"id":1,"message":{"type":"Prepare","ballot":{"round":1,"proposer":0}}}
{"t":1000,"kind":"drop","node":2,"from":0,"id":1,"reason":"random_loss"}
{"t":2000,"kind":"send","node":1,"to":0,"id":2,"message":{"type":"Promise","note":"</script><b>x</b> & <"}}
{"t":2000,"kind":"duplicate","node":1,"to":0,"id":2}
{"t":3000,"kind":"deliver","node":1,"from":0,"id":0,"message":{"type":"Prepare","ballot":{"round":1,"proposer":0}}}
{"t":4000,"kind":"pause","node":2,"duration":5000}
{"t":4500,"kind":"send","node":0,"to":2,"id":3,"message":{"type":"Accept","value":"A"}}
{"t":5000,"kind":"deliver","node":0,"from":1,"id":2,"message":{"type":"Promise","note":"</script><b>x</b> & <"}}
{"t":5500,"kind":"enqueue","node":2,"from":0,"id":3}
{"t":6000,"kind":"deliver","node":0,"from":1,"id":2,"message":{"type":"Promise","note":"</script><b>x</b> & <"}}
{"t":6000,"kind":"observe","node":0,"observation":{"what":"learn","value":"<A>","local":6100}}
{"t":6500,"kind":"cut_link","from":1,"to":2}
{"t":7000,"kind":"send","node":1,"to":2,"id":4,"message":{"type":"Accept","value":"B"}}
{"t":8000,"kind":"drop","node":2,"from":1,"id":4,"reason":"link_down"}
{"t":9000,"kind":"resume","node":2}
{"t":9000,"kind":"deliver","node":2,"from":0,"id":3,"message":{"type":"Accept","value":"A"}}
{"t":9500,"kind":"join","node":3}
{"t":9600,"kind":"send","node":0,"to":1,"id":5,"message":"Ping"}
{"t":10000,"kind":"end"}
"#;

    fn summary() -> serde_json::Value {
        json!({
            "scenario": "tiny",
            "description": "A <tiny> run & more.",
            "seed": 3,
            "nodes": 3,
            "sim_duration_ns": 10000,
            "events": 22,
            "messages": {"sent": 6, "duplicated": 1, "delivered": 4, "dropped": 2, "in_flight": 1},
            "checks": [
                {"name": "Agreement", "kind": "safety", "verdict": "fail", "detail": "VIOLATION at 0.000006s: two values",
                 "violations": [{"time": 6000, "nodes": [0], "message": "node 0 learned <A>"}]},
                {"name": "DecidesWithin", "verdict": "pass", "detail": "decided"}
            ],
            "expected": "Violates([Agreement])",
            "outcome": "Violates([Agreement])",
            "outcome_as_expected": true,
            "trace_hash": "00ff",
            "wall_ms": 98765.4321,
            "events_per_sec": 13579.2468,
            "faults": [{"at": 4000, "fault": {"Pause": {"node": 2, "duration": 5000}}}, {"at": 6500, "fault": "Heal"}],
            "metrics": {"lock_availability": 0.92},
            "coverage": ["contended", "expired"]
        })
    }

    fn page(summary: &serde_json::Value, trace: &str) -> String {
        let charts = vec![(
            "timeline".to_string(),
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><defs><clipPath id=\"a\"/></defs></svg>"
                .to_string(),
        )];
        run_page(&RunPageInput {
            summary,
            scenario_text: "Scenario(name: \"tiny\", description: \"</pre><script>\")",
            charts: &charts,
            trace: Some(TraceSource::Bytes(trace.as_bytes())),
            folder: "output/tiny/seed-3",
        })
        .unwrap()
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        let summary = summary();
        assert_eq!(page(&summary, TRACE), page(&summary, TRACE));
        let mut other_wall = summary.clone();
        other_wall["wall_ms"] = json!(99.0);
        other_wall["events_per_sec"] = json!(1.0);
        assert_eq!(page(&summary, TRACE), page(&other_wall, TRACE));
    }

    #[test]
    fn one_arrow_per_message_copy_in_the_window() {
        let html = page(&summary(), TRACE);
        let copies = TRACE
            .lines()
            .filter(|l| l.contains("\"kind\":\"send\"") || l.contains("\"kind\":\"duplicate\""))
            .count();
        assert_eq!(copies, 7);
        assert_eq!(html.matches("<g class=\"arrow").count(), copies);
        assert!(html.contains(&format!("data-arrows=\"{copies}\"")));
        assert_eq!(html.matches("<g class=\"arrow duplicate\"").count(), 1);
        assert_eq!(
            html.matches("in-flight").count() - 1,
            1,
            "one copy in flight"
        );
        assert!(html.contains(">random loss</text>") && html.contains(">link down</text>"));
        assert!(html.contains("reached paused node 2"));
        assert!(
            html.contains("Prepare 1.0"),
            "ballots keep their field order"
        );
        assert!(html.contains("class=\"violation\""));
        assert!(html.contains(">join</text>"), "unknown kinds are labelled");
    }

    #[test]
    fn payloads_are_escaped_and_cannot_break_the_page() {
        let html = page(&summary(), TRACE);
        assert_eq!(html.matches("<script").count(), 1, "only the page's script");
        assert_eq!(html.matches("</script>").count(), 1);
        assert!(!html.contains("<b>x</b>"));
        assert!(html.contains("&lt;/script&gt;&lt;b&gt;x&lt;/b&gt; &amp; &lt;"));
        assert!(html.contains("&lt;/pre&gt;&lt;script&gt;"));
        assert!(html.contains("A &lt;tiny&gt; run &amp; more."));
    }

    #[test]
    fn the_page_holds_what_a_reviewer_needs_and_no_wall_clock() {
        let html = page(&summary(), TRACE);
        for needle in [
            "faultline run output/tiny/seed-3/scenario.ron",
            "<td>safety</td>",
            "Pause",
            "lock_availability",
            "<li>contended</li>",
            "id=\"chart-timeline-a\"",
            "Per message kind",
        ] {
            assert!(html.contains(needle), "{needle}");
        }
        assert!(!html.contains("98765") && !html.contains("13579"));
        assert!(!html.contains("http://") || !html.contains("src=\"http"));
        assert!(!html.contains("<link") && !html.contains("@import") && !html.contains("url(http"));
    }

    #[test]
    fn a_summary_missing_fields_still_renders() {
        let html = run_page(&RunPageInput {
            summary: &json!({}),
            scenario_text: "",
            charts: &[],
            trace: None,
            folder: "x",
        })
        .unwrap();
        assert!(html.contains("No trace was available"));
        let html = page(&json!({"checks": [{"name": "X"}]}), "not json\n{\"t\":1}\n");
        assert!(html.contains("2 trace lines could not be read"));
    }

    #[test]
    fn windows_cap_the_arrows_and_centre_on_the_violation() {
        let mut trace = String::new();
        for id in 0..1000u64 {
            let t = id * 1000;
            trace.push_str(&format!(
                "{{\"t\":{t},\"kind\":\"send\",\"node\":0,\"to\":1,\"id\":{id},\"message\":{{\"type\":\"Beat\"}}}}\n\
                 {{\"t\":{},\"kind\":\"deliver\",\"node\":1,\"from\":0,\"id\":{id},\"message\":{{\"type\":\"Beat\"}}}}\n",
                t + 500
            ));
        }
        let mut summary = summary();
        summary["checks"][0]["violations"][0]["time"] = json!(600_000);
        let html = page(&summary, &trace);
        let windows = html.matches("<div class=\"lamport-window\"").count();
        // [0,100), then 200 each from the window centred on copy 600.
        assert_eq!(windows, 6);
        assert_eq!(html.matches("<g class=\"arrow").count(), 1000);
        assert!(html.contains("data-window=\"3\" data-arrows=\"200\" data-caption=\"window 4 of 6: message copies 501–700"));
        assert!(html.contains("data-focus=\"3\""));
        let visible = html
            .split("<div class=\"lamport-window\"")
            .filter(|w| !w.contains(" hidden>"))
            .count();
        assert_eq!(
            visible, 2,
            "the text before the first window, and the focus window"
        );
    }

    #[test]
    fn the_sweep_page_lists_outcomes_histograms_and_commands() {
        let sweep = json!({
            "scenario": "tiny", "expected": "Pass", "seed_start": 0, "seed_end": 4, "shard": null,
            "runs": 4, "as_expected": 3, "unexpected_seeds": [2],
            "failures_per_check": {"Agreement": 1}, "stopped_early": false, "events": 40,
            "wall_ms": 5.5, "events_per_sec": 77.7, "scenario_file": "scenarios/tiny.ron",
            "coverage": {"contended": 3},
            "outcomes": [
                {"seed": 0, "outcome": "Pass", "as_expected": true, "failed": [], "trace_hash": "a", "events": 10, "metrics": {"availability": 0.9}},
                {"seed": 1, "outcome": "Pass", "as_expected": true, "failed": [], "trace_hash": "b", "events": 8},
                {"seed": 2, "outcome": "Violates([Agreement])", "as_expected": false, "failed": ["Agreement"], "trace_hash": "c", "events": 12, "metrics": {"availability": 0.5}},
                {"seed": 3, "outcome": "Pass", "as_expected": true, "failed": [], "trace_hash": "d", "events": 10}
            ]
        });
        let html = sweep_page(&sweep);
        assert_eq!(html, sweep_page(&sweep));
        for needle in [
            "faultline run scenarios/tiny.ron --seed 2",
            "faultline shrink scenarios/tiny.ron --seed 2",
            "events per seed",
            "availability",
            "contended",
            "75.0%",
        ] {
            assert!(html.contains(needle), "{needle}");
        }
        assert!(!html.contains("5.5") && !html.contains("77.7"));
        let old = json!({"scenario": "x", "runs": 0, "outcomes": []});
        assert!(sweep_page(&old).contains("recorded no coverage"));
    }
}
