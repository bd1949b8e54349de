//! Small pieces shared by both pages: escaping, number and time formatting,
//! the page frame with its stylesheet, and tables.

use std::fmt::Write;

/// Escapes text for HTML and SVG content and for quoted attribute values.
/// Everything a trace or summary holds passes through here, so a payload
/// containing `</script>` or `<` is shown as text and cannot end an element.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// Escapes text for element content (not attributes): only `&`, `<` and
/// `>` matter there, and payloads are full of quotes that `escape` would
/// spell out at six bytes each.
pub fn escape_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// At most `chars_max` characters, with an ellipsis when cut.
pub fn truncate(text: &str, chars_max: usize) -> String {
    if text.chars().count() <= chars_max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(chars_max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A true time in nanoseconds as seconds, as exact as it needs to be:
/// `1.5s`, `0.007115s`, `0.140134250s`.
pub fn seconds(nanos: u64) -> String {
    let whole = nanos / 1_000_000_000;
    let fraction = nanos % 1_000_000_000;
    if fraction == 0 {
        return format!("{whole}s");
    }
    let digits = format!("{fraction:09}");
    format!("{whole}.{}s", digits.trim_end_matches('0'))
}

/// A duration in nanoseconds in the unit that reads best: exact seconds
/// from a second up, milliseconds to the microsecond below.
pub fn duration(nanos: u64) -> String {
    if nanos >= 1_000_000_000 {
        seconds(nanos)
    } else if nanos >= 1_000_000 {
        let micros = nanos / 1_000;
        let text = format!("{}.{:03}", micros / 1_000, micros % 1_000);
        format!("{}ms", text.trim_end_matches('0').trim_end_matches('.'))
    } else if nanos >= 1_000 {
        format!("{}µs", nanos / 1_000)
    } else {
        format!("{nanos}ns")
    }
}

/// A JSON number or string as text; anything else as compact JSON.
pub fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => "–".to_string(),
        other => other.to_string(),
    }
}

/// A float with a precision that suits its size, the same on every machine.
pub fn figure(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let magnitude = value.abs();
    if magnitude == 0.0 || magnitude >= 1000.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.4}")
    }
}

/// The stylesheet shared by both pages. A system font stack: no font is
/// downloaded, and the charts carry their own text.
const STYLE: &str = r#"
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  margin: 0; color: #1d2530; background: #f6f7f9; }
main { max-width: 1280px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d8dde4; padding-bottom: 4px; }
p.description { margin: 4px 0 12px; max-width: 90ch; }
nav { font-size: 13px; margin: 8px 0; }
nav a { margin-right: 12px; color: #2457a6; }
code, pre, kbd { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
pre { background: #fff; border: 1px solid #d8dde4; padding: 10px; overflow: auto; max-height: 480px; }
table { border-collapse: collapse; background: #fff; margin: 6px 0; }
th, td { border: 1px solid #d8dde4; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
td.detail { max-width: 70ch; font-size: 13px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12px; }
.pass { background: #dcf3e2; color: #14602b; }
.fail { background: #fbdcdc; color: #8f1414; }
.other { background: #e8eaee; color: #3a4350; }
.banner { padding: 8px 12px; border-radius: 6px; margin: 8px 0; font-weight: 600; }
.facts { display: flex; flex-wrap: wrap; gap: 6px 24px; font-size: 13px; color: #3a4350; }
.command { background: #1d2530; color: #f6f7f9; padding: 6px 10px; border-radius: 4px; display: inline-block; margin: 2px 0; user-select: all; }
.chart { background: #fff; border: 1px solid #d8dde4; margin: 8px 0; overflow: auto; }
.chart svg { max-width: 100%; height: auto; display: block; }
.note { font-size: 12.5px; color: #4a5563; }
details summary { cursor: pointer; color: #2457a6; font-size: 12.5px; }
.histograms { display: flex; flex-wrap: wrap; gap: 12px; }
.histograms figure { margin: 0; background: #fff; border: 1px solid #d8dde4; padding: 6px; }
.histograms figcaption { font-size: 13px; font-weight: 600; }
.lamport-controls { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; margin: 6px 0; }
.lamport-controls input[type=range] { width: 320px; }
.lamport-scroll { max-height: 85vh; overflow: auto; background: #fff; border: 1px solid #d8dde4; }
.lamport-header { position: sticky; top: 0; z-index: 1; display: block; }
svg.lamport { display: block; font: 10px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
svg.lamport text { paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg.lamport .arrow path { fill: none; stroke-width: 1.6; }
svg.lamport .arrow path.hit { stroke: transparent; stroke-width: 8; }
svg.lamport .arrow:hover path { stroke-width: 3; }
svg.lamport .arrow.duplicate path { stroke-dasharray: 6 3; }
svg.lamport .arrow.in-flight path { stroke-dasharray: 2 3; }
svg.lamport .legend text { stroke-width: 0; }
"#;

/// A whole page: doctype, title, the stylesheet, the body, and a script if any.
pub fn page(title: &str, body: &str, script: &str) -> String {
    let mut html = String::with_capacity(body.len() + STYLE.len() + script.len() + 512);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(html, "<title>{}</title>", escape(title));
    let _ = writeln!(html, "<style>{STYLE}</style>\n</head>\n<body>\n<main>");
    html.push_str(body);
    html.push_str("</main>\n");
    if !script.is_empty() {
        let _ = writeln!(html, "<script>{script}</script>");
    }
    html.push_str("</body>\n</html>\n");
    html
}

/// A table from a header and rows of already escaped cell HTML. Cells whose
/// class is given in `classes` (by column) get it, e.g. `number`.
pub fn table(header: &[&str], classes: &[&str], rows: &[Vec<String>]) -> String {
    let mut html = String::from("<table>\n<tr>");
    for name in header {
        let _ = write!(html, "<th>{}</th>", escape(name));
    }
    html.push_str("</tr>\n");
    for row in rows {
        html.push_str("<tr>");
        for (column, cell) in row.iter().enumerate() {
            match classes.get(column).filter(|c| !c.is_empty()) {
                Some(class) => {
                    let _ = write!(html, "<td class=\"{class}\">{cell}</td>");
                }
                None => {
                    let _ = write!(html, "<td>{cell}</td>");
                }
            }
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
    html
}

/// A verdict as a coloured badge: pass (or as expected) green, fail (or
/// unexpected) red, anything else grey.
pub fn verdict_badge(verdict: &str) -> String {
    let class = match verdict {
        "pass" | "as expected" => "pass",
        "fail" | "unexpected" => "fail",
        _ => "other",
    };
    format!("<span class=\"badge {class}\">{}</span>", escape(verdict))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(
            escape("</script><b a='1'>&"),
            "&lt;/script&gt;&lt;b a=&#39;1&#39;&gt;&amp;"
        );
    }

    #[test]
    fn times_read_exactly() {
        assert_eq!(seconds(0), "0s");
        assert_eq!(seconds(1_500_000_000), "1.5s");
        assert_eq!(seconds(7_115_103), "0.007115103s");
        assert_eq!(duration(740_000_000), "740ms");
        assert_eq!(duration(1_250_000), "1.25ms");
        assert_eq!(duration(7_090_518), "7.09ms");
        assert_eq!(escape_text("\"a\" < b"), "\"a\" &lt; b");
        assert_eq!(duration(2_000_000_000), "2s");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
