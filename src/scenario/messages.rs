//! RON's errors in a user's words. RON names our Rust types (`FaultFile`,
//! `HeartbeatVariant`); the user wrote field names (`fault`, `variant`). So
//! messages about variants and fields are rewritten from the error's parts,
//! naming the field that encloses the error's position in the source, and a
//! value written without the arguments it takes gets an example.

use crate::check::Property;
use ron::error::{Error, Position};

/// `position` (1-based, within text that starts at byte `offset` of
/// `source`) as a line and column of `source`.
pub fn absolute(source: &str, offset: usize, position: Position) -> (usize, usize) {
    let (line, column) = absolute_raw(source, offset, position);
    skip_blank(source, line, column)
}

/// The first non-blank place at or after (`line`, `column`) on that line: RON
/// may start a span at the space before a value.
fn skip_blank(source: &str, line: usize, column: usize) -> (usize, usize) {
    let Some(text) = source.lines().nth(line.saturating_sub(1)) else {
        return (line, column);
    };
    let blanks = text
        .chars()
        .skip(column.saturating_sub(1))
        .take_while(|c| c.is_whitespace())
        .count();
    if column - 1 + blanks < text.chars().count() {
        (line, column + blanks)
    } else {
        (line, column)
    }
}

fn absolute_raw(source: &str, offset: usize, position: Position) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let base_line = before.matches('\n').count() + 1;
    let base_column = before
        .rsplit('\n')
        .next()
        .map_or(0, |tail| tail.chars().count())
        + 1;
    if position.line <= 1 {
        (base_line, base_column + position.col.saturating_sub(1))
    } else {
        (base_line + position.line - 1, position.col)
    }
}

/// The message for `code`, which RON raised at (`line`, `column`) of
/// `source`; `properties` are the protocol's, for examples of checks.
pub fn describe(
    code: &Error,
    source: &str,
    line: usize,
    column: usize,
    properties: &[Property],
) -> String {
    let offset = offset_of(source, line, column);
    let within = |field: Option<String>| field.map(|f| format!(" in `{f}`")).unwrap_or_default();
    match code {
        Error::Eof => "the file ends early (unclosed bracket or missing value?)".to_string(),
        Error::NoSuchEnumVariant {
            expected, found, ..
        } => format!(
            "unknown value `{found}`{}: expected {}",
            within(value_field(source, offset)),
            one_of(expected)
        ),
        Error::NoSuchStructField {
            expected, found, ..
        } => format!(
            "unknown field `{found}`{}: expected {}",
            within(container_field(source, offset)),
            one_of(expected)
        ),
        Error::MissingStructField { field, .. } => format!(
            "missing field `{field}`{}",
            within(container_field(source, offset))
        ),
        Error::DuplicateStructField { field, .. } => format!(
            "field `{field}` is written twice{}",
            within(container_field(source, offset))
        ),
        Error::ExpectedStructLike | Error::ExpectedNamedStructLike(_) => {
            let word = word_before(source, offset);
            match word.and_then(|word| argument_example(word, properties)) {
                Some(example) => example,
                None => format!(
                    "expected opening `(`{}",
                    within(value_field(source, offset))
                ),
            }
        }
        other => format!("{other}{}", within(value_field(source, offset))),
    }
}

/// "one of `A`, `B` or `C`".
fn one_of(names: &[&str]) -> String {
    match names {
        [] => "nothing here".to_string(),
        [only] => format!("`{only}`"),
        [rest @ .., last] => {
            let rest: Vec<String> = rest.iter().map(|name| format!("`{name}`")).collect();
            format!("one of {} or `{last}`", rest.join(", "))
        }
    }
}

fn offset_of(source: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (index, text) in source.split_inclusive('\n').enumerate() {
        if index + 1 == line {
            return offset
                + text
                    .char_indices()
                    .nth(column.saturating_sub(1))
                    .map_or(text.len(), |(at, _)| at);
        }
        offset += text.len();
    }
    source.len()
}

/// The field whose value starts at `offset` (`fault: Crsh` names `fault`), or
/// for a list element the list's field: a rough reading of RON, enough to
/// name a place.
fn value_field(source: &str, offset: usize) -> Option<String> {
    let before = source[..offset.min(source.len())].trim_end();
    match before.chars().next_back()? {
        ':' => Some(word_ending_at(source, before.len() - 1).to_string())
            .filter(|word| !word.is_empty()),
        '[' | ',' => container_field(source, before.len()),
        _ => None,
    }
}

/// The field whose value is the innermost bracket open at `offset`
/// (`network: (...)` names `network`), going outward through lists.
fn container_field(source: &str, offset: usize) -> Option<String> {
    let bytes = source.as_bytes();
    let mut depth = 0i32;
    let mut at = offset.min(bytes.len());
    while at > 0 {
        at -= 1;
        match bytes[at] {
            b')' | b']' | b'}' => depth += 1,
            b'(' | b'[' | b'{' if depth > 0 => depth -= 1,
            b'(' | b'[' | b'{' => {
                // Past a struct or variant name, to what holds the bracket.
                let name_start = source[..at]
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map_or(0, |i| i + 1);
                return value_field(source, name_start);
            }
            _ => {}
        }
    }
    None
}

/// The identifier that ends just before byte `end` (spaces skipped).
fn word_ending_at(source: &str, end: usize) -> &str {
    let before = source[..end].trim_end();
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |at| at + 1);
    &before[start..]
}

/// The identifier just before `offset`.
fn word_before(source: &str, offset: usize) -> Option<&str> {
    Some(word_ending_at(source, offset.min(source.len()))).filter(|word| !word.is_empty())
}

/// How to write a value that takes arguments, for the error when they are
/// missing: the protocol's checks give their own examples.
fn argument_example(word: &str, properties: &[Property]) -> Option<String> {
    if let Some(property) = properties.iter().find(|p| p.name == word) {
        return (!property.example.is_empty()).then(|| {
            format!(
                "`{word}` takes arguments: write it as `{}`",
                property.example
            )
        });
    }
    let example = match word {
        "Crash" | "Restart" | "Join" | "Leave" | "Isolate" => format!("{word}(node: 1)"),
        "Pause" => "Pause(node: 1, for: \"500ms\")".to_string(),
        "Partition" => "Partition(groups: [[0, 1], [2, 3, 4]])".to_string(),
        "CutLink" | "RestoreLink" => format!("{word}(from: 0, to: 1)"),
        "Violates" => "Violates([SomeCheck])".to_string(),
        _ => return None,
    };
    Some(format!("`{word}` takes arguments: write it as `{example}`"))
}
