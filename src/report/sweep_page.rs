//! `sweep.html`: every seed of a sweep on one page.

use super::html::{self, escape, figure, plain, table};
use super::run_page::any_value;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Unexpected seeds listed with their commands; the rest are counted.
const UNEXPECTED_LISTED_MAX: usize = 100;
const HISTOGRAM_BINS: usize = 20;
const HISTOGRAM_WIDTH: f64 = 360.0;
const HISTOGRAM_HEIGHT: f64 = 150.0;
/// Metric names given a histogram.
const HISTOGRAMS_MAX: usize = 40;

pub fn render(sweep: &Value) -> String {
    let outcomes = sweep["outcomes"].as_array().map_or(&[][..], Vec::as_slice);
    let mut body = heading(sweep);
    body.push_str(&outcome_counts(outcomes));
    body.push_str(&failures(sweep));
    body.push_str(&coverage(sweep));
    body.push_str(&histograms(outcomes));
    body.push_str(&unexpected(sweep, outcomes));
    let title = format!(
        "{} sweep — faultline report",
        sweep["scenario"].as_str().unwrap_or("")
    );
    html::page(&title, &body, "")
}

fn runs(sweep: &Value) -> u64 {
    sweep["runs"].as_u64().unwrap_or(0)
}

fn share(count: u64, total: u64) -> String {
    if total == 0 {
        return "–".to_string();
    }
    format!("{:.1}%", 100.0 * count as f64 / total as f64)
}

/// Wall-clock figures (`wall_ms`, `events_per_sec`) are left out: they
/// differ between two sweeps of the same seeds.
fn heading(sweep: &Value) -> String {
    let runs = runs(sweep);
    let as_expected = sweep["as_expected"].as_u64().unwrap_or(0);
    let unexpected = runs.saturating_sub(as_expected);
    let shard = match sweep["shard"].as_array().map(Vec::as_slice) {
        Some([index, count]) => format!(", shard {}/{}", plain(index), plain(count)),
        _ => String::new(),
    };
    let mut html = format!(
        "<h1>{} <span class=\"note\">sweep of seeds {}..{}{}</span></h1>\n",
        escape(sweep["scenario"].as_str().unwrap_or("")),
        escape(&plain(&sweep["seed_start"])),
        escape(&plain(&sweep["seed_end"])),
        escape(&shard)
    );
    let class = if unexpected == 0 { "pass" } else { "fail" };
    let _ = writeln!(
        html,
        "<div class=\"banner {class}\">{runs} runs: {as_expected} as expected ({}), {unexpected} unexpected</div>",
        escape(sweep["expected"].as_str().unwrap_or("?"))
    );
    let mut facts = Vec::new();
    if let Some(file) = sweep["scenario_file"].as_str() {
        facts.push(format!("scenario file <code>{}</code>", escape(file)));
    }
    if let Some(events) = sweep["events"].as_u64() {
        facts.push(format!("{events} events in all"));
    }
    if sweep["stopped_early"].as_bool() == Some(true) {
        facts.push(
            "<strong>stopped at the first unexpected outcome (--stop-on-first)</strong>"
                .to_string(),
        );
    }
    html.push_str("<div class=\"facts\">");
    for fact in facts {
        let _ = write!(html, "<span>{fact}</span>");
    }
    html.push_str("</div>\n");
    html
}

fn outcome_counts(outcomes: &[Value]) -> String {
    let mut counts: BTreeMap<(String, bool), u64> = BTreeMap::new();
    for outcome in outcomes {
        let name = outcome["outcome"].as_str().unwrap_or("?").to_string();
        let as_expected = outcome["as_expected"].as_bool().unwrap_or(false);
        *counts.entry((name, as_expected)).or_default() += 1;
    }
    let total = outcomes.len() as u64;
    let rows: Vec<Vec<String>> = counts
        .iter()
        .map(|((name, as_expected), count)| {
            vec![
                escape(name),
                html::verdict_badge(if *as_expected {
                    "as expected"
                } else {
                    "unexpected"
                }),
                count.to_string(),
                share(*count, total),
            ]
        })
        .collect();
    format!(
        "<h2>Outcomes</h2>\n{}",
        table(
            &["outcome", "", "seeds", "share"],
            &["", "", "number", "number"],
            &rows
        )
    )
}

fn failures(sweep: &Value) -> String {
    let mut html = String::from("<h2>Failures per check</h2>\n");
    let failures = sweep["failures_per_check"].as_object();
    let Some(failures) = failures.filter(|f| !f.is_empty()) else {
        html.push_str("<p>No check failed in any seed.</p>\n");
        return html;
    };
    let runs = runs(sweep);
    let rows: Vec<Vec<String>> = failures
        .iter()
        .map(|(check, count)| {
            let count = count.as_u64().unwrap_or(0);
            vec![escape(check), count.to_string(), share(count, runs)]
        })
        .collect();
    html.push_str(&table(
        &["check", "seeds failed", "share"],
        &["", "number", "number"],
        &rows,
    ));
    html
}

/// Coverage per property (property -> seeds in which it happened), when
/// the sweep recorded it.
fn coverage(sweep: &Value) -> String {
    let mut html = String::from("<h2>Coverage</h2>\n");
    match &sweep["coverage"] {
        Value::Null => html.push_str(
            "<p class=\"note\">This sweep recorded no coverage (which properties happened in how many seeds).</p>\n",
        ),
        Value::Object(map) => {
            let runs = runs(sweep);
            let rows: Vec<Vec<String>> = map
                .iter()
                .map(|(property, seeds)| match seeds.as_u64() {
                    Some(count) => vec![escape(property), count.to_string(), share(count, runs)],
                    None => vec![escape(property), escape(&plain(seeds)), String::new()],
                })
                .collect();
            html.push_str(&table(
                &["property", "seeds in which it happened", "share"],
                &["", "number", "number"],
                &rows,
            ));
        }
        other => html.push_str(&any_value(other)),
    }
    html
}

/// One histogram per figure: events per seed, then every metric a seed
/// reported, with seeds whose outcome was unexpected stacked in red.
fn histograms(outcomes: &[Value]) -> String {
    let mut html = String::from(
        "<h2>Figures across seeds</h2>\n<p class=\"note\">Seeds per bin; red: seeds whose outcome was unexpected.</p>\n<div class=\"histograms\">\n",
    );
    let metric_names: BTreeSet<&str> = outcomes
        .iter()
        .filter_map(|o| o["metrics"].as_object())
        .flat_map(|metrics| metrics.keys().map(String::as_str))
        .collect();
    let events = samples(outcomes, |o| o["events"].as_f64());
    html.push_str(&histogram("events per seed", &events));
    for name in metric_names.iter().take(HISTOGRAMS_MAX) {
        let values = samples(outcomes, |o| o["metrics"][*name].as_f64());
        html.push_str(&histogram(name, &values));
    }
    html.push_str("</div>\n");
    html
}

/// (value, as expected) for each seed that has the figure.
fn samples(outcomes: &[Value], figure: impl Fn(&Value) -> Option<f64>) -> Vec<(f64, bool)> {
    outcomes
        .iter()
        .filter_map(|o| {
            let value = figure(o).filter(|v| v.is_finite())?;
            Some((value, o["as_expected"].as_bool().unwrap_or(false)))
        })
        .collect()
}

fn histogram(name: &str, samples: &[(f64, bool)]) -> String {
    if samples.is_empty() {
        return String::new();
    }
    let mut sorted: Vec<f64> = samples.iter().map(|s| s.0).collect();
    sorted.sort_by(f64::total_cmp);
    let (low, high) = (sorted[0], sorted[sorted.len() - 1]);
    let mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
    let median = sorted[sorted.len() / 2];
    let bins = bin(samples, low, high);
    let caption = format!(
        "{} <span class=\"note\">{} seeds · min {} · median {} · mean {} · max {}</span>",
        escape(name),
        samples.len(),
        figure(low),
        figure(median),
        figure(mean),
        figure(high)
    );
    format!(
        "<figure><figcaption>{caption}</figcaption>{}</figure>\n",
        bars(&bins, low, high)
    )
}

/// Counts per bin: (as expected, unexpected).
fn bin(samples: &[(f64, bool)], low: f64, high: f64) -> Vec<(u64, u64)> {
    let mut bins = vec![(0u64, 0u64); HISTOGRAM_BINS];
    let span = high - low;
    for &(value, as_expected) in samples {
        let index = if span > 0.0 {
            (((value - low) / span) * HISTOGRAM_BINS as f64) as usize
        } else {
            0
        };
        let slot = &mut bins[index.min(HISTOGRAM_BINS - 1)];
        if as_expected {
            slot.0 += 1;
        } else {
            slot.1 += 1;
        }
    }
    bins
}

fn bars(bins: &[(u64, u64)], low: f64, high: f64) -> String {
    let tallest = bins.iter().map(|b| b.0 + b.1).max().unwrap_or(1).max(1);
    let (left, bottom, top) = (34.0, HISTOGRAM_HEIGHT - 20.0, 8.0);
    let bar_width = (HISTOGRAM_WIDTH - left - 6.0) / bins.len() as f64;
    let scale = (bottom - top) / tallest as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{HISTOGRAM_WIDTH:.0}\" height=\"{HISTOGRAM_HEIGHT:.0}\" viewBox=\"0 0 {HISTOGRAM_WIDTH:.0} {HISTOGRAM_HEIGHT:.0}\" font-size=\"10\" font-family=\"system-ui, sans-serif\">"
    );
    for (i, &(expected, unexpected)) in bins.iter().enumerate() {
        let x = left + i as f64 * bar_width;
        let expected_height = expected as f64 * scale;
        let unexpected_height = unexpected as f64 * scale;
        let _ = write!(
            svg,
            "<g><title>{expected} as expected, {unexpected} unexpected</title>\
             <rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{expected_height:.1}\" fill=\"#4e79a7\"/>\
             <rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{unexpected_height:.1}\" fill=\"#d62728\"/></g>",
            bottom - expected_height,
            bar_width - 1.0,
            bottom - expected_height - unexpected_height,
            bar_width - 1.0
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{bottom}\" x2=\"{:.1}\" y2=\"{bottom}\" stroke=\"#555\"/>\
         <text x=\"{left}\" y=\"{:.1}\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
         <text x=\"{:.1}\" y=\"{:.1}\">{tallest} seeds</text></svg>",
        HISTOGRAM_WIDTH - 6.0,
        bottom + 13.0,
        figure(low),
        HISTOGRAM_WIDTH - 6.0,
        bottom + 13.0,
        figure(high),
        left + 4.0,
        top + 8.0
    );
    svg
}

fn unexpected(sweep: &Value, outcomes: &[Value]) -> String {
    let mut html = String::from("<h2>Unexpected seeds</h2>\n");
    let seeds: Vec<u64> = sweep["unexpected_seeds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect();
    if seeds.is_empty() {
        html.push_str("<p>Every seed gave the expected outcome.</p>\n");
        return html;
    }
    let file = escape(sweep["scenario_file"].as_str().unwrap_or("SCENARIO.ron"));
    let outcome_of: BTreeMap<u64, &Value> = outcomes
        .iter()
        .filter_map(|o| Some((o["seed"].as_u64()?, o)))
        .collect();
    let rows: Vec<Vec<String>> = seeds
        .iter()
        .take(UNEXPECTED_LISTED_MAX)
        .map(|&seed| {
            let outcome = outcome_of
                .get(&seed)
                .map_or("?", |o| o["outcome"].as_str().unwrap_or("?"));
            vec![
                seed.to_string(),
                escape(outcome),
                format!(
                    "<code class=\"command\">{program} run {file} --seed {seed}</code><br>\
                     <code class=\"command\">{program} shrink {file} --seed {seed}</code>",
                    program = escape(super::program())
                ),
            ]
        })
        .collect();
    html.push_str(&table(
        &[
            "seed",
            "outcome",
            "reproduce, or shrink to a minimal scenario",
        ],
        &["number"],
        &rows,
    ));
    if seeds.len() > UNEXPECTED_LISTED_MAX {
        let _ = writeln!(
            html,
            "<p class=\"note\">and {} more, in <code>sweep.json</code>.</p>",
            seeds.len() - UNEXPECTED_LISTED_MAX
        );
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_hold_every_sample_once() {
        let samples: Vec<(f64, bool)> = (0..=100).map(|i| (f64::from(i), i % 10 != 0)).collect();
        let bins = bin(&samples, 0.0, 100.0);
        let total: u64 = bins.iter().map(|b| b.0 + b.1).sum();
        assert_eq!(total, 101);
        assert_eq!(bins.iter().map(|b| b.1).sum::<u64>(), 11);
        let same = bin(&[(3.0, true), (3.0, true)], 3.0, 3.0);
        assert_eq!(same[0], (2, 0));
    }
}
