//! `docs/trace-format.md` is the contract with outside checkers. This test
//! reads its tables and checks every line of every example scenario's trace
//! (and of a few nemesis seeds, and of a run with every kind of fault)
//! against them: an undocumented kind or field, a documented field missing,
//! or a value of another type fails. It also requires every documented kind
//! and payload variant to occur, so the page cannot keep stale entries.

mod common;

use common::{repo_path, scenario_files};
use faultline::run::{self, RunOptions};
use faultline::scenario::{self, Scenario};
use serde_json::Value;
use std::collections::BTreeMap;

/// A field's documented type: a JSON type name, a constant, or `any`
/// (a protocol payload); `optional` (`T?`) and `nullable` (`T or null`).
#[derive(Debug, Clone)]
struct FieldType {
    base: String,
    optional: bool,
    nullable: bool,
}

/// Field name -> type, for one kind of line or one payload variant.
type Schema = BTreeMap<String, FieldType>;

#[derive(Debug, Default)]
struct Contract {
    /// Engine kinds.
    kinds: BTreeMap<String, Schema>,
    /// (protocol, "message" | "observation" | "durable", variant or "") -> schema.
    payloads: BTreeMap<(String, String, String), Schema>,
    /// (protocol) -> timer names.
    timers: BTreeMap<String, Vec<String>>,
}

fn parse_type(text: &str) -> FieldType {
    let text = text.trim();
    let (text, optional) = match text.strip_suffix('?') {
        Some(rest) => (rest, true),
        None => (text, false),
    };
    let (text, nullable) = match text.strip_suffix(" or null") {
        Some(rest) => (rest, true),
        None => (text, false),
    };
    FieldType {
        base: text.to_string(),
        optional,
        nullable,
    }
}

/// The text between the first pair of backticks after `from`.
fn quoted(text: &str) -> Option<&str> {
    let start = text.find('`')? + 1;
    let end = start + text[start..].find('`')?;
    Some(&text[start..end])
}

fn parse_contract(text: &str) -> Contract {
    enum Section {
        None,
        Kind(String),
        Payload(String, String, String),
        Timers(String),
    }
    let mut contract = Contract::default();
    let mut section = Section::None;
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            section = match quoted(heading) {
                Some(kind) if heading.starts_with('`') => {
                    contract.kinds.entry(kind.to_string()).or_default();
                    Section::Kind(kind.to_string())
                }
                _ => Section::None,
            };
            continue;
        }
        if let Some(heading) = line.strip_prefix("#### ") {
            let protocol = quoted(heading).expect("payload headings name the protocol");
            let rest = &heading[protocol.len() + 2..];
            let mut words = rest.split_whitespace();
            let what = words.next().expect("payload headings say what").to_string();
            let variant = words.next().map(|w| w.trim_matches('`').to_string());
            section = if what == "timers" {
                Section::Timers(protocol.to_string())
            } else {
                let key = (protocol.to_string(), what, variant.unwrap_or_default());
                contract.payloads.entry(key.clone()).or_default();
                Section::Payload(key.0, key.1, key.2)
            };
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let header = (cells.len() > 2 && cells[1] == "field" && cells[2] == "type")
            || (cells.len() > 2 && cells[1] == "timer" && cells[2] == "meaning");
        if cells.len() < 4 || header || cells[1].starts_with("---") {
            continue;
        }
        match &section {
            Section::Kind(kind) => {
                contract
                    .kinds
                    .get_mut(kind)
                    .unwrap()
                    .insert(cells[1].to_string(), parse_type(cells[2]));
            }
            Section::Payload(p, w, v) => {
                contract
                    .payloads
                    .get_mut(&(p.clone(), w.clone(), v.clone()))
                    .unwrap()
                    .insert(cells[1].to_string(), parse_type(cells[2]));
            }
            Section::Timers(protocol) => {
                let shape = cells[1].trim_matches('`');
                let name = shape
                    .trim_start_matches("{\"")
                    .trim_matches('"')
                    .split('"')
                    .next()
                    .unwrap()
                    .to_string();
                contract
                    .timers
                    .entry(protocol.clone())
                    .or_default()
                    .push(name);
            }
            Section::None => {}
        }
    }
    contract
}

fn type_matches(value: &Value, expected: &FieldType) -> bool {
    if value.is_null() {
        return expected.nullable || expected.base == "any";
    }
    let base = expected.base.as_str();
    if let Some(constant) = base.strip_prefix('"').and_then(|b| b.strip_suffix('"')) {
        return value.as_str() == Some(constant);
    }
    match base {
        "integer" => value.is_u64() || value.is_i64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "any" => true,
        other => panic!("the contract uses an unknown type {other:?}"),
    }
}

/// Checks an object against a schema; returns the problems found.
fn check_object(object: &Value, schema: &Schema, what: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(fields) = object.as_object() else {
        return vec![format!("{what}: not an object: {object}")];
    };
    for (name, value) in fields {
        match schema.get(name) {
            None => problems.push(format!("{what}: undocumented field {name:?} in {object}")),
            Some(expected) if !type_matches(value, expected) => problems.push(format!(
                "{what}: field {name:?} is {value}, documented as {expected:?}"
            )),
            _ => {}
        }
    }
    for (name, expected) in schema {
        if !expected.optional && !fields.contains_key(name) {
            problems.push(format!(
                "{what}: documented field {name:?} missing in {object}"
            ));
        }
    }
    problems
}

/// What a run of one protocol showed: line kinds and payload variants seen.
#[derive(Default)]
struct Seen {
    kinds: std::collections::BTreeSet<String>,
    payloads: std::collections::BTreeSet<(String, String, String)>,
    timers: std::collections::BTreeSet<(String, String)>,
}

fn check_payload(
    contract: &Contract,
    protocol: &str,
    what: &str,
    value: &Value,
    seen: &mut Seen,
) -> Vec<String> {
    let tag = match what {
        "message" => "type",
        "observation" => "what",
        _ => "",
    };
    let variant = value
        .get(tag)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let key = (protocol.to_string(), what.to_string(), variant);
    seen.payloads.insert(key.clone());
    match contract.payloads.get(&key) {
        Some(schema) => check_object(value, schema, &format!("{protocol} {what} {:?}", key.2)),
        None => vec![format!("undocumented {protocol} {what}: {value}")],
    }
}

fn check_timer(contract: &Contract, protocol: &str, value: &Value, seen: &mut Seen) -> Vec<String> {
    let name = match value {
        Value::String(name) => name.clone(),
        Value::Object(fields) if fields.len() == 1 => fields.keys().next().unwrap().clone(),
        other => return vec![format!("{protocol} timer of an unknown shape: {other}")],
    };
    seen.timers.insert((protocol.to_string(), name.clone()));
    let known = contract
        .timers
        .get(protocol)
        .is_some_and(|names| names.contains(&name));
    if known {
        Vec::new()
    } else {
        vec![format!("undocumented {protocol} timer {value}")]
    }
}

fn check_line(contract: &Contract, protocol: &str, line: &Value, seen: &mut Seen) -> Vec<String> {
    let Some(kind) = line.get("kind").and_then(Value::as_str) else {
        return vec![format!("a line without a kind: {line}")];
    };
    seen.kinds.insert(kind.to_string());
    let Some(schema) = contract.kinds.get(kind) else {
        return vec![format!("undocumented kind {kind:?}: {line}")];
    };
    let mut problems = check_object(line, schema, kind);
    for payload in ["message", "observation", "durable"] {
        if let Some(value) = line.get(payload) {
            problems.extend(check_payload(contract, protocol, payload, value, seen));
        }
    }
    if let Some(timer) = line.get("timer") {
        problems.extend(check_timer(contract, protocol, timer, seen));
    }
    problems
}

/// The protocol a scenario file runs, as its `protocol:` line names it.
fn protocol_of(text: &str) -> String {
    let start = text
        .find("protocol: ")
        .expect("a scenario names its protocol")
        + 10;
    text[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

fn trace_of(scenario: &Scenario, seed: Option<u64>) -> Vec<Value> {
    let options = RunOptions {
        seed,
        write: false,
        charts: false,
        keep_trace: true,
        ..RunOptions::default()
    };
    let result = run::run(scenario, &options).expect("in-memory runs write nothing");
    let bytes = result.trace.expect("the trace was kept");
    String::from_utf8(bytes)
        .expect("traces are UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is JSON"))
        .collect()
}

/// A heartbeat run with every kind of fault, so every engine kind occurs:
/// a clock jump, a leave-free crash, a pause long enough to overflow a tiny
/// inbox, degraded links, cut links, partitions.
const EVERY_FAULT: &str = r#"Scenario(
    name: "every-fault",
    seed: 3,
    duration: "3s",
    nodes: 4,
    network: (latency: Uniform(min: "1ms", max: "5ms"), drop: 0.1, duplicate: 0.1),
    protocol: Heartbeat(interval: "10ms", timeout: "50ms"),
    faults: [
        (at: "100ms", fault: Partition(groups: [[0, 1], [1, 2, 3]], bridges: [1])),
        (at: "300ms", fault: Heal),
        (at: "400ms", fault: CutLink(from: 0, to: 1)),
        (at: "500ms", fault: RestoreLink(from: 0, to: 1)),
        (at: "600ms", fault: Crash(node: 2)),
        (at: "900ms", fault: Restart(node: 2)),
        (at: "1s", fault: Pause(node: 3, for: "500ms")),
        (at: "1600ms", fault: ClockDrift(node: 0, ppm: 20000)),
        (at: "1700ms", fault: ClockJump(node: 1, by: "30ms", backward: true)),
        (at: "1800ms", fault: DegradeLink(from: 0, to: 3, for: "200ms", drop: 0.5, latency: Constant("20ms"))),
    ],
    checks: [],
    expect: Pass,
    limits: (inbox_max: 5),
)"#;

#[test]
fn every_trace_line_matches_the_documented_format() {
    let text = std::fs::read_to_string(repo_path("docs/trace-format.md")).unwrap();
    let contract = parse_contract(&text);
    assert!(
        contract.kinds.len() >= 20,
        "the contract's tables were read"
    );
    let mut runs: Vec<(String, Scenario, Option<u64>)> = Vec::new();
    for path in scenario_files() {
        let source = std::fs::read_to_string(&path).unwrap();
        let scenario = scenario::load(&path, &faultline::protocols::registry()).unwrap();
        let seeds: Vec<Option<u64>> = if scenario.nemesis.is_some() {
            vec![None, Some(1), Some(2), Some(3)]
        } else {
            vec![None]
        };
        for seed in seeds {
            runs.push((protocol_of(&source), scenario.clone(), seed));
        }
    }
    let every_fault = scenario::parse(
        EVERY_FAULT,
        "every-fault",
        &faultline::protocols::registry(),
    )
    .unwrap();
    runs.push(("Heartbeat".to_string(), every_fault, None));
    let mut seen = Seen::default();
    let mut problems = Vec::new();
    for (protocol, scenario, seed) in &runs {
        for line in trace_of(scenario, *seed) {
            for problem in check_line(&contract, protocol, &line, &mut seen) {
                if problems.len() < 20 {
                    problems.push(format!("{} seed {seed:?}: {problem}", scenario.name));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    let unseen_kinds: Vec<&String> = contract
        .kinds
        .keys()
        .filter(|kind| !seen.kinds.contains(*kind))
        .collect();
    assert!(
        unseen_kinds.is_empty(),
        "documented but never seen: {unseen_kinds:?}"
    );
    let unseen_payloads: Vec<_> = contract
        .payloads
        .keys()
        .filter(|key| !seen.payloads.contains(*key))
        .collect();
    assert!(
        unseen_payloads.is_empty(),
        "documented payloads never seen: {unseen_payloads:?}"
    );
    let unseen_timers: Vec<(String, String)> = contract
        .timers
        .iter()
        .flat_map(|(protocol, names)| names.iter().map(move |n| (protocol.clone(), n.clone())))
        .filter(|key| !seen.timers.contains(key))
        .collect();
    assert!(
        unseen_timers.is_empty(),
        "documented timers never seen: {unseen_timers:?}"
    );
}

#[test]
fn the_contract_rejects_what_it_does_not_document() {
    let text = std::fs::read_to_string(repo_path("docs/trace-format.md")).unwrap();
    let contract = parse_contract(&text);
    let mut seen = Seen::default();
    let good: Value = serde_json::from_str(r#"{"t":5,"kind":"crash","node":1}"#).unwrap();
    assert!(check_line(&contract, "Paxos", &good, &mut seen).is_empty());
    for bad in [
        r#"{"t":5,"kind":"crash"}"#,
        r#"{"t":5,"kind":"crash","node":"one"}"#,
        r#"{"t":5,"kind":"crash","node":1,"extra":2}"#,
        r#"{"t":5,"kind":"explode","node":1}"#,
        r#"{"t":5,"kind":"observe","node":1,"local":5,"observation":{"what":"learn","value":"A"}}"#,
        r#"{"t":5,"kind":"timer","node":1,"timer":"Nap"}"#,
    ] {
        let line: Value = serde_json::from_str(bad).unwrap();
        assert!(
            !check_line(&contract, "Paxos", &line, &mut seen).is_empty(),
            "accepted {bad}"
        );
    }
}
