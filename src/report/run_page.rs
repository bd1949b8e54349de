//! `report.html`: one run on one page.

use super::html::{self, escape, figure, plain, seconds, table, truncate, verdict_badge};
use super::lamport::{self, Violation};
use super::trace::{self, TraceView};
use super::RunPageInput;
use serde_json::Value;
use std::fmt::Write;

/// Characters of a check's detail shown in the verdict table, and how many
/// of them before the rest is folded away.
const DETAIL_CHARS_MAX: usize = 4_000;
const DETAIL_CHARS_SHOWN: usize = 400;
/// Violations drawn on the diagram (the summary holds the first ten per check).
const VIOLATIONS_DRAWN_MAX: usize = 50;
/// Faults listed; a nemesis over a long run can schedule many.
const FAULTS_LISTED_MAX: usize = 1_000;
/// Entries of a coverage list or table.
const COVERAGE_ROWS_MAX: usize = 500;

pub fn render(input: &RunPageInput) -> std::io::Result<String> {
    let summary = input.summary;
    let violations = violations(summary);
    let focus = violations.iter().map(|v| v.time).min().unwrap_or(0);
    let nodes = summary["nodes"]
        .as_u64()
        .unwrap_or(0)
        .min(u64::from(u32::MAX)) as u32;
    let view = match input.trace {
        Some(source) => Some(trace::read(source, focus, nodes)?),
        None => None,
    };
    let mut body = String::new();
    body.push_str(&heading(summary, input.folder));
    body.push_str(&verdicts(summary));
    body.push_str(&diagram(view.as_ref(), &violations));
    body.push_str(&charts(input.charts));
    body.push_str(&faults(summary));
    body.push_str(&accounting(summary, view.as_ref()));
    body.push_str(&figures(summary));
    body.push_str(&scenario(input.scenario_text));
    let title = format!(
        "{} seed {} — faultline report",
        text(summary, "scenario"),
        plain(&summary["seed"])
    );
    Ok(html::page(&title, &body, SCRIPT))
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or("")
}

/// The violations of failing checks, with their times, as the diagram
/// draws them. `time` is in nanoseconds (`time_ns` is accepted too).
fn violations(summary: &Value) -> Vec<Violation> {
    let mut found = Vec::new();
    for check in summary["checks"].as_array().into_iter().flatten() {
        let name = text(check, "name");
        for violation in check["violations"].as_array().into_iter().flatten() {
            let time = violation["time"]
                .as_u64()
                .or_else(|| violation["time_ns"].as_u64());
            if let Some(time) = time {
                let message = text(violation, "message");
                found.push(Violation {
                    time,
                    text: format!("{name}: {message}"),
                });
            }
        }
    }
    found.sort_by_key(|v| v.time);
    found.truncate(VIOLATIONS_DRAWN_MAX);
    found
}

fn heading(summary: &Value, folder: &str) -> String {
    let mut html = format!(
        "<h1>{} <span class=\"note\">seed {}</span></h1>\n<p class=\"description\">{}</p>\n",
        escape(text(summary, "scenario")),
        escape(&plain(&summary["seed"])),
        escape(text(summary, "description"))
    );
    let as_expected = summary["outcome_as_expected"].as_bool();
    let class = match as_expected {
        Some(true) => "pass",
        Some(false) => "fail",
        None => "other",
    };
    let judgement = match as_expected {
        Some(true) => "as expected",
        Some(false) => "NOT as expected",
        None => "",
    };
    let _ = writeln!(
        html,
        "<div class=\"banner {class}\">Outcome {} — expected {}: {judgement}</div>",
        escape(text(summary, "outcome")),
        escape(text(summary, "expected"))
    );
    html.push_str(&facts(summary));
    let _ = writeln!(
        html,
        "<p>Reproduce this run exactly: <code class=\"command\">{program} run {folder}/scenario.ron</code><br>\
         Compare a new build against this recording: <code class=\"command\">{program} replay {folder}</code></p>",
        program = escape(super::program()),
        folder = escape(folder)
    );
    html.push_str(
        "<nav><a href=\"#verdicts\">Verdicts</a><a href=\"#diagram\">Lamport diagram</a>\
         <a href=\"#charts\">Charts</a><a href=\"#faults\">Faults</a>\
         <a href=\"#messages\">Messages</a><a href=\"#scenario\">Scenario</a></nav>\n",
    );
    html
}

/// Run facts. Wall-clock figures (`wall_ms`, `events_per_sec`) are left
/// out: they differ from one run of the same seed to the next.
fn facts(summary: &Value) -> String {
    let mut items = Vec::new();
    if let Some(nodes) = summary["nodes"].as_u64() {
        items.push(format!("{nodes} nodes"));
    }
    if let Some(nanos) = summary["sim_duration_ns"].as_u64() {
        items.push(format!("{} simulated", seconds(nanos)));
    }
    if let Some(events) = summary["events"].as_u64() {
        items.push(format!("{events} events"));
    }
    if let Some(hash) = summary["trace_hash"].as_str() {
        items.push(format!("trace hash <code>{}</code>", escape(hash)));
    }
    if let Some(reason) = summary["stopped_early"].as_str() {
        items.push(format!(
            "<strong>stopped early: {}</strong>",
            escape(reason)
        ));
    }
    let mut html = String::from("<div class=\"facts\">");
    for item in items {
        let _ = write!(html, "<span>{item}</span>");
    }
    html.push_str("</div>\n");
    html
}

/// The checks a run's `expected` names as failing: `Violates([A, B])`.
fn expected_failures(expected: &str) -> Vec<String> {
    let Some(inner) = expected
        .strip_prefix("Violates([")
        .and_then(|rest| rest.strip_suffix("])"))
    else {
        return Vec::new();
    };
    inner
        .split(',')
        .map(|name| name.trim().to_string())
        .collect()
}

fn verdicts(summary: &Value) -> String {
    let failing = expected_failures(text(summary, "expected"));
    let rows: Vec<Vec<String>> = summary["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|check| {
            let name = text(check, "name");
            let expected = match check["expected"].as_str() {
                Some(expected) => expected.to_string(),
                None if failing.iter().any(|f| f == name) => "fail".to_string(),
                None => "pass".to_string(),
            };
            vec![
                escape(name),
                escape(check["kind"].as_str().unwrap_or("–")),
                verdict_badge(text(check, "verdict")),
                verdict_badge(&expected),
                detail(text(check, "detail")),
            ]
        })
        .collect();
    format!(
        "<h2 id=\"verdicts\">Verdicts</h2>\n{}",
        table(
            &["check", "kind", "verdict", "expected", "detail"],
            &["", "", "", "", "detail"],
            &rows
        )
    )
}

/// A check's detail: the start shown, the rest folded, all of it bounded.
fn detail(detail: &str) -> String {
    let detail = truncate(detail, DETAIL_CHARS_MAX);
    if detail.chars().count() <= DETAIL_CHARS_SHOWN {
        return escape(&detail);
    }
    let cut = detail
        .char_indices()
        .nth(DETAIL_CHARS_SHOWN)
        .map_or(detail.len(), |(i, _)| i);
    format!(
        "{}<details><summary>the rest</summary>{}</details>",
        escape(&detail[..cut]),
        escape(&detail[cut..])
    )
}

fn diagram(view: Option<&TraceView>, violations: &[Violation]) -> String {
    let mut html = String::from("<h2 id=\"diagram\">Lamport diagram</h2>\n");
    let Some(view) = view else {
        html.push_str("<p class=\"note\">No trace was available to draw the diagram from.</p>\n");
        return html;
    };
    html.push_str(&diagram_notes(view));
    html.push_str(&legend(view));
    let rendered: Vec<_> = (0..view.windows.len())
        .map(|i| lamport::window(view, i, violations))
        .collect();
    html.push_str(&controls(view, !violations.is_empty()));
    html.push_str("<div class=\"lamport-scroll\">\n");
    html.push_str(&lamport::header(view.nodes));
    for (i, (window, rendered)) in view.windows.iter().zip(&rendered).enumerate() {
        let caption = format!(
            "window {} of {}: message copies {}–{} of {}, {} to {}",
            i + 1,
            view.windows.len(),
            (window.copies_first + 1).min(window.copies_end),
            window.copies_end,
            view.copies_total,
            seconds(rendered.first),
            seconds(rendered.last)
        );
        let hidden = if i == view.window_default {
            ""
        } else {
            " hidden"
        };
        let _ = writeln!(
            html,
            "<div class=\"lamport-window\" data-window=\"{i}\" data-arrows=\"{}\" data-caption=\"{}\"{hidden}>\n{}</div>",
            rendered.arrows,
            escape(&caption),
            rendered.svg
        );
    }
    html.push_str("</div>\n");
    html
}

fn diagram_notes(view: &TraceView) -> String {
    let kept: u64 = view
        .windows
        .iter()
        .map(|w| w.copies_end - w.copies_first)
        .sum();
    let mut html = format!(
        "<p class=\"note\">Time flows down; each node is a vertical line; each message copy is an arrow from its send to its delivery. \
         A row is an instant at which something happened, so the vertical scale is not proportional to time: the left margin gives the true time. \
         Hover an arrow for its payload and times. Each window holds at most {} message copies (sends and duplicates), and the page keeps at most {} windows \
         ({} copies) around the first violation, or from the start when no check failed. This run has {} copies, of which the page shows {}.",
        trace::WINDOW_COPIES_MAX,
        trace::WINDOWS_MAX,
        trace::WINDOW_COPIES_MAX * trace::WINDOWS_MAX as u64,
        view.copies_total,
        kept
    );
    if kept < view.copies_total {
        html.push_str(" The rest are in <code>trace.jsonl</code>.");
    }
    let hidden: u64 = view.observations_hidden.iter().sum();
    if hidden > 0 {
        let _ = write!(
            html,
            " {hidden} observations were not labelled (at most {} per window).",
            trace::WINDOW_OBSERVATIONS_MAX
        );
    }
    if view.lines_unreadable > 0 {
        let _ = write!(
            html,
            " {} trace lines could not be read.",
            view.lines_unreadable
        );
    }
    html.push_str("</p>\n");
    html
}

fn legend(view: &TraceView) -> String {
    let mut html = String::from("<p class=\"note\">");
    let kinds = view.kinds.len();
    let others = view.counts.iter().any(|(name, _)| name == "other");
    let names = view
        .kinds
        .iter()
        .enumerate()
        .map(|(i, name)| (lamport::kind_colour(i, kinds), name.as_str()))
        .chain(others.then_some((lamport::kind_colour(kinds, kinds), "other")));
    for (colour, name) in names {
        let _ = write!(
            html,
            "<span style=\"color:{colour};font-weight:600\">&#9473; {}</span> &nbsp;",
            escape(name)
        );
    }
    html.push_str(
        "<br>dashed arrow: the duplicate copy · dotted: in flight at the end, or waiting in a paused node's inbox (circle: arrival, dot: handled on resume) · \
         <span style=\"color:#d62728\">&#10005;</span> dropped, with the reason · \
         <span style=\"color:#d62728\">&#9670;</span> fault on a node · \
         <span style=\"color:#23395d\">&#9679;</span> observation · \
         red band: crashed · amber band: paused · tinted lanes: partition groups · thin red bar: outgoing link cut · thin orange bar: link degraded · \
         red line: a violation</p>\n",
    );
    html
}

fn controls(view: &TraceView, violated: bool) -> String {
    let last = view.windows.len().saturating_sub(1);
    let disabled = if last == 0 { " disabled" } else { "" };
    let home = if violated { "first violation" } else { "start" };
    format!(
        "<div class=\"lamport-controls\">\
         <button type=\"button\" id=\"lamport-previous\"{disabled}>&#9664; earlier</button>\
         <input type=\"range\" id=\"lamport-range\" min=\"0\" max=\"{last}\" value=\"{focus}\" data-focus=\"{focus}\"{disabled} aria-label=\"window\">\
         <button type=\"button\" id=\"lamport-next\"{disabled}>later &#9654;</button>\
         <button type=\"button\" id=\"lamport-focus\">{home}</button>\
         <span id=\"lamport-caption\" class=\"note\"></span></div>\n",
        focus = view.window_default
    )
}

fn charts(charts: &[(String, String)]) -> String {
    let mut html = String::from("<h2 id=\"charts\">Charts</h2>\n");
    if charts.is_empty() {
        html.push_str(
            "<p class=\"note\">This run drew no charts (<code>--no-charts</code>).</p>\n",
        );
    }
    for (name, svg) in charts {
        let _ = writeln!(
            html,
            "<figure class=\"chart\">{}</figure>",
            inline_svg(svg, &format!("chart-{name}"))
        );
    }
    html
}

/// An SVG file made fit to sit inside the page: no XML declaration or
/// doctype, and every id (and reference to one) prefixed, so that two
/// charts never share an id.
pub fn inline_svg(svg: &str, prefix: &str) -> String {
    let mut svg = svg.trim();
    while svg.starts_with("<?") || svg.starts_with("<!") {
        svg = svg.find('>').map_or("", |end| svg[end + 1..].trim_start());
    }
    let mut ids: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find(" id=\"") {
        rest = &rest[start + 5..];
        let end = rest.find('"').unwrap_or(rest.len());
        ids.push(&rest[..end]);
        rest = &rest[end..];
    }
    let mut inlined = svg.to_string();
    for id in ids {
        for (old, new) in [
            (format!(" id=\"{id}\""), format!(" id=\"{prefix}-{id}\"")),
            (format!("url(#{id})"), format!("url(#{prefix}-{id})")),
            (
                format!("href=\"#{id}\""),
                format!("href=\"#{prefix}-{id}\""),
            ),
        ] {
            inlined = inlined.replace(&old, &new);
        }
    }
    inlined
}

fn faults(summary: &Value) -> String {
    let mut html = String::from("<h2 id=\"faults\">Faults</h2>\n");
    let faults = summary["faults"].as_array().map_or(&[][..], Vec::as_slice);
    if faults.is_empty() {
        html.push_str("<p class=\"note\">No faults were scheduled.</p>\n");
        return html;
    }
    let rows: Vec<Vec<String>> = faults
        .iter()
        .take(FAULTS_LISTED_MAX)
        .map(|scheduled| {
            let at = scheduled["at"].as_u64().map_or("?".to_string(), seconds);
            let (kind, fields) = fault_parts(&scheduled["fault"]);
            vec![escape(&at), escape(&kind), escape(&fields)]
        })
        .collect();
    html.push_str(&table(&["at", "fault", "parameters"], &["number"], &rows));
    if faults.len() > FAULTS_LISTED_MAX {
        let _ = writeln!(
            html,
            "<p class=\"note\">and {} more, in <code>scenario.ron</code>.</p>",
            faults.len() - FAULTS_LISTED_MAX
        );
    }
    html
}

/// A fault as serde writes an enum: `"Heal"` or `{"Crash": {"node": 3}}`.
fn fault_parts(fault: &Value) -> (String, String) {
    match fault {
        Value::String(kind) => (kind.clone(), String::new()),
        Value::Object(map) if map.len() == 1 => {
            let (kind, fields) = map.iter().next().expect("one entry");
            let fields = match fields {
                Value::Object(fields) => fields
                    .iter()
                    .map(|(key, value)| format!("{key}: {}", fault_field(key, value)))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => plain(other),
            };
            (kind.clone(), fields)
        }
        other => (plain(other), String::new()),
    }
}

fn fault_field(key: &str, value: &Value) -> String {
    match (key, value.as_u64()) {
        ("duration" | "for" | "by", Some(nanos)) => html::duration(nanos),
        _ => plain(value),
    }
}

fn accounting(summary: &Value, view: Option<&TraceView>) -> String {
    let mut html = String::from("<h2 id=\"messages\">Message accounting</h2>\n");
    if let Some(messages) = summary["messages"].as_object() {
        let order = [
            "sent",
            "duplicated",
            "delivered",
            "dropped",
            "dropped_link_down",
            "dropped_random_loss",
            "dropped_crashed_destination",
            "dropped_inbox_overflow",
            "in_flight",
        ];
        let known = order.iter().filter_map(|k| messages.get_key_value(*k));
        let others = messages
            .iter()
            .filter(|(k, _)| !order.contains(&k.as_str()));
        let rows: Vec<Vec<String>> = known
            .chain(others)
            .map(|(key, value)| vec![escape(&key.replace('_', " ")), escape(&plain(value))])
            .collect();
        html.push_str(&table(&["messages", "count"], &["", "number"], &rows));
    }
    if let Some(view) = view {
        html.push_str(&kind_table(view));
    }
    html
}

fn kind_table(view: &TraceView) -> String {
    let kinds = view.kinds.len();
    let rows: Vec<Vec<String>> = view
        .counts
        .iter()
        .map(|(name, counts)| {
            let index = view.kinds.iter().position(|k| k == name).unwrap_or(kinds);
            vec![
                format!(
                    "<span style=\"color:{}\">&#9632;</span> {}",
                    lamport::kind_colour(index, kinds),
                    escape(name)
                ),
                counts.sent.to_string(),
                counts.duplicated.to_string(),
                counts.delivered.to_string(),
                counts.dropped.to_string(),
            ]
        })
        .collect();
    format!(
        "<p class=\"note\">Per message kind, from the trace:</p>\n{}",
        table(
            &["kind", "sent", "duplicated", "delivered", "dropped"],
            &["", "number", "number", "number", "number"],
            &rows
        )
    )
}

/// Protocol metrics and coverage, when the summary has them.
fn figures(summary: &Value) -> String {
    let mut html = String::new();
    if let Some(metrics) = summary["metrics"].as_object().filter(|m| !m.is_empty()) {
        html.push_str("<h2 id=\"metrics\">Metrics</h2>\n");
        let rows: Vec<Vec<String>> = metrics
            .iter()
            .map(|(name, value)| {
                let shown = value.as_f64().map_or_else(|| plain(value), figure);
                vec![escape(name), escape(&shown)]
            })
            .collect();
        html.push_str(&table(&["metric", "value"], &["", "number"], &rows));
    }
    if !summary["coverage"].is_null() {
        html.push_str("<h2 id=\"coverage\">Coverage</h2>\n");
        html.push_str(&any_value(&summary["coverage"]));
    }
    html
}

/// A JSON value of unknown shape as HTML: a list of strings as a list, a
/// list of objects as a table over their keys, an object as a two-column
/// table, anything else as text.
pub fn any_value(value: &Value) -> String {
    match value {
        Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() => {
            let mut keys: Vec<&String> = items
                .iter()
                .flat_map(|item| item.as_object().into_iter().flat_map(|o| o.keys()))
                .collect();
            keys.sort();
            keys.dedup();
            let header: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
            let rows: Vec<Vec<String>> = items
                .iter()
                .take(COVERAGE_ROWS_MAX)
                .map(|item| keys.iter().map(|k| escape(&plain(&item[*k]))).collect())
                .collect();
            table(&header, &[], &rows)
        }
        Value::Array(items) => {
            let mut html = String::from("<ul>");
            for item in items.iter().take(COVERAGE_ROWS_MAX) {
                let _ = write!(html, "<li>{}</li>", escape(&plain(item)));
            }
            html.push_str("</ul>\n");
            html
        }
        Value::Object(map) => {
            let rows: Vec<Vec<String>> = map
                .iter()
                .take(COVERAGE_ROWS_MAX)
                .map(|(key, value)| vec![escape(key), escape(&plain(value))])
                .collect();
            table(&["property", "value"], &["", "number"], &rows)
        }
        other => format!("<p>{}</p>\n", escape(&plain(other))),
    }
}

fn scenario(scenario_text: &str) -> String {
    format!(
        "<h2 id=\"scenario\">Scenario</h2>\n<p class=\"note\">The run's <code>scenario.ron</code>: the scenario with this seed and every fault explicit.</p>\n<pre>{}</pre>\n",
        html::escape_text(scenario_text)
    )
}

/// Shows one window of the diagram at a time. Everything else on the page
/// works without it.
const SCRIPT: &str = r#"
(function () {
  "use strict";
  var windows = Array.prototype.slice.call(document.querySelectorAll(".lamport-window"));
  var range = document.getElementById("lamport-range");
  if (!windows.length || !range) { return; }
  var scroll = document.querySelector(".lamport-scroll");
  var caption = document.getElementById("lamport-caption");
  var previous = document.getElementById("lamport-previous");
  var next = document.getElementById("lamport-next");
  var focus = Number(range.getAttribute("data-focus"));
  var current = focus;
  function show(index) {
    current = Math.max(0, Math.min(windows.length - 1, index));
    windows.forEach(function (w, i) { w.hidden = i !== current; });
    range.value = String(current);
    caption.textContent = windows[current].getAttribute("data-caption");
    previous.disabled = current === 0;
    next.disabled = current === windows.length - 1;
  }
  function toViolation() {
    var line = windows[current].querySelector(".violation line");
    scroll.scrollTop = line ? Math.max(0, Number(line.getAttribute("y1")) - 160) : 0;
  }
  previous.addEventListener("click", function () { show(current - 1); scroll.scrollTop = 0; });
  next.addEventListener("click", function () { show(current + 1); scroll.scrollTop = 0; });
  range.addEventListener("input", function () { show(Number(range.value)); scroll.scrollTop = 0; });
  document.getElementById("lamport-focus").addEventListener("click", function () { show(focus); toViolation(); });
  show(focus);
  toViolation();
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_failures_are_read_from_the_expectation() {
        assert_eq!(
            expected_failures("Violates([Agreement, Integrity])"),
            ["Agreement", "Integrity"]
        );
        assert!(expected_failures("Pass").is_empty());
    }

    #[test]
    fn inlined_charts_get_their_own_ids() {
        let svg = "<?xml version=\"1.0\"?>\n<svg><defs><clipPath id=\"c\"/></defs><g clip-path=\"url(#c)\"/><use href=\"#c\"/></svg>";
        let inlined = inline_svg(svg, "chart-a");
        assert!(inlined.starts_with("<svg>"));
        assert!(inlined.contains("id=\"chart-a-c\""));
        assert!(inlined.contains("url(#chart-a-c)"));
        assert!(inlined.contains("href=\"#chart-a-c\""));
        assert!(!inlined.contains("\"c\""));
    }
}
