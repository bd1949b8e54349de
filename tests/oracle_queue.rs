//! A deliberately naive reference oracle for the work queue's three safety
//! checks, `NoLoss`, `ExactlyOnceEffect` and `KeyOrder`, written from the
//! definitions in issue 13 and the trace format (docs/trace-format.md) alone,
//! sharing no code with `src/protocols/workqueue/`, and a differential test
//! comparing its verdicts with faultline's over many runs and every mode.
//!
//! The definitions, implemented literally and by brute force over the trace
//! lines:
//!
//! - A publish is **acknowledged** when the broker `send`s a `PublishAck`
//!   message for it: the message's `seq` and its receiver (`to`, the
//!   producer) name the id. Whether it arrives does not matter: the broker
//!   has promised.
//! - A message's effect is **applied** at an `observe` line whose
//!   observation is an `effect` with `applied: true` (the sink's own word;
//!   an idempotent sink's refusal says `applied: false`).
//! - **NoLoss** fails iff some acknowledged id has no applied effect by the
//!   `end` line.
//! - **ExactlyOnceEffect** fails iff some id has two or more applied effects.
//! - **KeyOrder** fails iff two applied effects e1, e2 of one key, e1 earlier
//!   in the trace, have messages with publish positions p(e1) > p(e2).
//!
//! Ambiguity resolved: "publish order". A queue can only keep the order in
//! which it accepted publishes; a producer's retries (or two producers
//! racing) may reach the broker in another order than they were first sent,
//! and no consumer-side discipline can undo that. So a message's publish
//! position is the place of its first `appended` line among all `appended`
//! lines of the trace (the broker's log order; offsets are not used because
//! a broker restart under `BrokerForgets` hands out offsets again).
//!
//! Counts seen when this file was written (`cargo test --release --test
//! oracle_queue -- --nocapture`) are in docs/testing.md.

mod common;

use faultline::check::Verdict;
use faultline::run::{self, RunOptions};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;

/// Seeds per mode for the nemesis scenario (`ORACLE_QUEUE_SEEDS` overrides).
const SEEDS: u64 = 40;

fn seeds() -> u64 {
    std::env::var("ORACLE_QUEUE_SEEDS").map_or(SEEDS, |s| s.parse().expect("a seed count"))
}

// ---------------------------------------------------------------------------
// The modes: every combination of the settings issue 13 names.

#[derive(Clone, Debug, PartialEq)]
struct Mode {
    mode: &'static str,
    idempotent: bool,
    key_order: &'static str,
    reassign: &'static str,
    dedupe: bool,
}

impl Mode {
    fn every() -> Vec<Mode> {
        let mut modes = Vec::new();
        for mode in ["AtLeastOnce", "AutoAck", "BrokerForgets"] {
            for idempotent in [true, false] {
                for key_order in ["Partitioned", "Any"] {
                    for reassign in ["OnTimeout", "OnSuspicion"] {
                        for dedupe in [true, false] {
                            modes.push(Mode {
                                mode,
                                idempotent,
                                key_order,
                                reassign,
                                dedupe,
                            });
                        }
                    }
                }
            }
        }
        modes
    }

    fn correct(&self) -> bool {
        // Without `dedupe` every retried publish is a new log entry: the
        // flood can keep acknowledged messages queued past the end of a run
        // (a NoLoss violation as defined), so it is a mistake too.
        self.mode == "AtLeastOnce"
            && self.idempotent
            && self.key_order == "Partitioned"
            && self.dedupe
    }

    fn fields(&self) -> String {
        format!(
            "mode: {}, idempotent: {}, key_order: {}, reassign: {}, dedupe: {}, ",
            self.mode, self.idempotent, self.key_order, self.reassign, self.dedupe
        )
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} idem={} {} {} dedupe={}",
            self.mode, self.idempotent, self.key_order, self.reassign, self.dedupe
        )
    }
}

/// The scenario's text with the protocol block's mode settings replaced.
fn with_mode(text: &str, mode: &Mode) -> String {
    let block = text.find("protocol: Queue(").expect("a Queue scenario");
    let mut text = text.to_string();
    for field in ["mode", "idempotent", "key_order", "reassign", "dedupe"] {
        // Within the block: descriptions mention the settings too.
        let needle = format!("{field}: ");
        if let Some(start) = text[block..].find(&needle).map(|at| block + at) {
            let rest = &text[start..];
            let end = rest.find([',', ')', '\n']).unwrap();
            let end = if rest[end..].starts_with(',') {
                end + 1
            } else {
                end
            };
            text.replace_range(start..start + end, "");
        }
    }
    let open = block + "protocol: Queue(".len();
    text.insert_str(open, &mode.fields());
    text
}

// ---------------------------------------------------------------------------
// The only use of faultline's API.

struct FaultlineRun {
    lines: Vec<Value>,
    passed: BTreeMap<String, bool>,
}

/// Runs `file` in `mode` under `seed`. Only the trace lines the oracle
/// reads are parsed (a cheap substring test first): parsing every line of
/// thousands of runs would dominate the test's time.
fn faultline_run(file: &str, mode: &Mode, seed: u64) -> FaultlineRun {
    let text = std::fs::read_to_string(common::repo_path(file)).unwrap();
    let scenario = common::parse(&with_mode(&text, mode), file).unwrap_or_else(|e| panic!("{e}"));
    let options = RunOptions {
        seed: Some(seed),
        write: false,
        charts: false,
        keep_trace: true,
        ..RunOptions::default()
    };
    let result = run::run(&scenario, &options).expect("in-memory runs write nothing");
    let bytes = result.trace.expect("the trace was kept");
    let lines = std::str::from_utf8(&bytes)
        .expect("traces are UTF-8")
        .lines()
        .filter(|line| READ.iter().any(|word| line.contains(word)))
        .map(|line| serde_json::from_str(line).expect("every trace line is JSON"))
        .collect();
    let passed = result
        .reports
        .iter()
        .map(|r| (r.name.to_string(), r.verdict == Verdict::Pass))
        .collect();
    FaultlineRun { lines, passed }
}

/// Words that every line the oracle reads contains.
const READ: [&str; 3] = ["\"PublishAck\"", "\"effect\"", "\"appended\""];

// ---------------------------------------------------------------------------
// The oracle.

/// A message id: (producer, seq).
type Id = (u64, u64);

fn int(value: &Value, field: &str) -> u64 {
    value
        .get(field)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no integer {field:?} in {value}"))
}

fn observation<'a>(line: &'a Value, what: &str) -> Option<&'a Value> {
    let observation = line.get("observation")?;
    (line["kind"] == "observe" && observation["what"] == what).then_some(observation)
}

fn id_of(value: &Value) -> Id {
    (int(value, "producer"), int(value, "seq"))
}

/// The oracle's verdict on one run, per check: `Err(evidence)` = fail.
#[derive(Debug)]
struct OracleVerdict {
    no_loss: Result<(), String>,
    exactly_once: Result<(), String>,
    key_order: Result<(), String>,
}

fn judge(lines: &[Value]) -> OracleVerdict {
    let mut acknowledged: Vec<Id> = Vec::new();
    // (id, key, time) of every applied effect, in trace order.
    let mut applied: Vec<(Id, Option<u64>, u64)> = Vec::new();
    let mut appended: Vec<Id> = Vec::new();
    for line in lines {
        if line["kind"] == "send" && line["message"]["type"] == "PublishAck" {
            acknowledged.push((int(line, "to"), int(&line["message"], "seq")));
        }
        if let Some(effect) = observation(line, "effect") {
            if effect["applied"] == true {
                applied.push((id_of(effect), effect["key"].as_u64(), int(line, "t")));
            }
        }
        if let Some(append) = observation(line, "appended") {
            appended.push(id_of(append));
        }
    }
    OracleVerdict {
        no_loss: no_loss(&acknowledged, &applied),
        exactly_once: exactly_once(&applied),
        key_order: key_order(&applied, &appended),
    }
}

fn no_loss(acknowledged: &[Id], applied: &[(Id, Option<u64>, u64)]) -> Result<(), String> {
    for id in acknowledged {
        if !applied.iter().any(|(other, _, _)| other == id) {
            return Err(format!("{id:?} acknowledged, never applied"));
        }
    }
    Ok(())
}

fn exactly_once(applied: &[(Id, Option<u64>, u64)]) -> Result<(), String> {
    for (i, (id, _, t)) in applied.iter().enumerate() {
        for (other, _, t2) in &applied[i + 1..] {
            if other == id {
                return Err(format!("{id:?} applied at {t} and again at {t2}"));
            }
        }
    }
    Ok(())
}

fn key_order(applied: &[(Id, Option<u64>, u64)], appended: &[Id]) -> Result<(), String> {
    let position = |id: &Id| appended.iter().position(|other| other == id);
    for (i, (first, key, t1)) in applied.iter().enumerate() {
        let Some(key) = key else { continue };
        for (second, key2, t2) in &applied[i + 1..] {
            if key2 != &Some(*key) {
                continue;
            }
            let (p1, p2) = (position(first), position(second));
            if p1 > p2 {
                return Err(format!(
                    "key {key}: {first:?} (position {p1:?}) applied at {t1}, then {second:?} (position {p2:?}) at {t2}"
                ));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The differential test.

const CHECKS: [&str; 3] = ["NoLoss", "ExactlyOnceEffect", "KeyOrder"];

fn queue_scenarios() -> Vec<(String, bool)> {
    common::scenario_files()
        .into_iter()
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("queue-")
        })
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let file = format!("scenarios/{}", path.file_name().unwrap().to_string_lossy());
            (file, text.contains("nemesis:"))
        })
        .collect()
}

fn own_seed(file: &str) -> u64 {
    let text = std::fs::read_to_string(common::repo_path(file)).unwrap();
    let start = text.find("seed: ").expect("a seed") + 6;
    text[start..]
        .split([',', '\n'])
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Per mode: runs, and per check the runs the oracle saw violated.
#[derive(Default, Clone)]
struct Tally {
    runs: usize,
    violated: [usize; 3],
}

#[test]
fn oracle_agrees_with_the_checks_in_every_mode() {
    let started = std::time::Instant::now();
    let modes = Mode::every();
    let mut runs: Vec<(String, usize, u64)> = Vec::new();
    for (file, nemesis) in queue_scenarios() {
        let seeds: Vec<u64> = if nemesis {
            (0..seeds()).collect()
        } else {
            vec![own_seed(&file)]
        };
        for m in 0..modes.len() {
            runs.extend(seeds.iter().map(|&seed| (file.clone(), m, seed)));
        }
    }
    let outcomes: Vec<(BTreeMap<String, bool>, OracleVerdict)> = runs
        .par_iter()
        .map(|(file, m, seed)| {
            let run = faultline_run(file, &modes[*m], *seed);
            (run.passed, judge(&run.lines))
        })
        .collect();

    let mut tallies = vec![Tally::default(); modes.len()];
    let mut disagreements = Vec::new();
    for ((file, m, seed), (passed, verdict)) in runs.iter().zip(&outcomes) {
        tallies[*m].runs += 1;
        let oracle = [&verdict.no_loss, &verdict.exactly_once, &verdict.key_order];
        for (c, (name, oracle)) in CHECKS.iter().zip(oracle).enumerate() {
            if oracle.is_err() {
                tallies[*m].violated[c] += 1;
            }
            // A scenario that does not list the check is judged by the
            // oracle only.
            let Some(&faultline) = passed.get(*name) else {
                continue;
            };
            if faultline != oracle.is_ok() {
                disagreements.push(format!(
                    "{name} on {file} [{}] seed {seed}: faultline {}, oracle {oracle:?}",
                    modes[*m],
                    if faultline { "pass" } else { "FAIL" }
                ));
            }
        }
    }
    println!(
        "{:<58} {:>5} {:>7} {:>7} {:>7}",
        "mode", "runs", "NoLoss", "Exactly", "KeyOrd"
    );
    for (mode, tally) in modes.iter().zip(&tallies) {
        println!(
            "{:<58} {:>5} {:>7} {:>7} {:>7}",
            mode.to_string(),
            tally.runs,
            tally.violated[0],
            tally.violated[1],
            tally.violated[2]
        );
    }
    println!(
        "{} runs in {:.1}s",
        runs.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s):\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    planted_bugs_are_caught(&modes, &tallies);
}

/// Which configurations a claim is about.
type Pick = dyn Fn(&Mode) -> bool;

/// Each planted bug shows as a violation of its check somewhere, and the
/// correct configurations show none: agreement is not vacuous.
fn planted_bugs_are_caught(modes: &[Mode], tallies: &[Tally]) {
    let violated = |check: usize, pick: &Pick| -> usize {
        modes
            .iter()
            .zip(tallies)
            .filter(|(mode, _)| pick(mode))
            .map(|(_, tally)| tally.violated[check])
            .sum()
    };
    let planted: [(&str, usize, &Pick); 5] = [
        ("AutoAck loses messages", 0, &|m| m.mode == "AutoAck"),
        ("BrokerForgets loses messages", 0, &|m| {
            m.mode == "BrokerForgets"
        }),
        ("no idempotence applies twice", 1, &|m| !m.idempotent),
        ("no dedupe without idempotence applies twice", 1, &|m| {
            !m.idempotent && !m.dedupe
        }),
        ("key_order: Any breaks key order", 2, &|m| {
            m.key_order == "Any"
        }),
    ];
    for (what, check, pick) in planted {
        assert!(violated(check, pick) > 0, "never seen: {what}");
    }
    for (check, name) in CHECKS.iter().enumerate() {
        assert_eq!(
            violated(check, &|m| m.correct()),
            0,
            "{name} violated in a correct configuration"
        );
    }
}

// ---------------------------------------------------------------------------
// Unit tests of the oracle on hand-written traces.

fn trace(text: &str) -> Vec<Value> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Producer 2 publishes two messages of key 0; both are appended,
/// acknowledged and applied once, in order.
const CLEAN: &str = r#"
{"t":1,"kind":"observe","node":0,"local":1,"observation":{"what":"appended","producer":2,"seq":0,"key":0,"job":null,"task":null,"offset":0}}
{"t":1,"kind":"send","node":0,"to":2,"id":1,"message":{"type":"PublishAck","seq":0}}
{"t":2,"kind":"observe","node":0,"local":2,"observation":{"what":"appended","producer":2,"seq":1,"key":0,"job":null,"task":null,"offset":1}}
{"t":2,"kind":"send","node":0,"to":2,"id":2,"message":{"type":"PublishAck","seq":1}}
{"t":5,"kind":"observe","node":1,"local":5,"observation":{"what":"effect","producer":2,"seq":0,"key":0,"job":null,"task":null,"worker":3,"delivery":1,"applied":true}}
{"t":6,"kind":"observe","node":1,"local":6,"observation":{"what":"effect","producer":2,"seq":1,"key":0,"job":null,"task":null,"worker":4,"delivery":2,"applied":true}}
{"t":9,"kind":"end"}
"#;

#[test]
fn a_clean_run_passes() {
    let verdict = judge(&trace(CLEAN));
    assert!(verdict.no_loss.is_ok() && verdict.exactly_once.is_ok() && verdict.key_order.is_ok());
}

#[test]
fn an_acknowledged_message_never_applied_is_lost() {
    let lines: Vec<&str> = CLEAN
        .lines()
        .filter(|l| !l.contains("\"seq\":1,\"key\":0,\"job\":null,\"task\":null,\"worker\""))
        .collect();
    let verdict = judge(&trace(&lines.join("\n")));
    assert!(verdict.no_loss.is_err());
    assert!(verdict.exactly_once.is_ok() && verdict.key_order.is_ok());
}

#[test]
fn a_refused_repeat_is_not_a_second_effect_but_an_applied_one_is() {
    let refused = r#"{"t":7,"kind":"observe","node":1,"local":7,"observation":{"what":"effect","producer":2,"seq":1,"key":0,"job":null,"task":null,"worker":3,"delivery":3,"applied":false}}"#;
    let with = |extra: &str| {
        format!(
            "{}\n{extra}",
            CLEAN.replace("{\"t\":9,\"kind\":\"end\"}", "")
        )
    };
    assert!(judge(&trace(&with(refused))).exactly_once.is_ok());
    let twice = refused.replace("\"applied\":false", "\"applied\":true");
    let verdict = judge(&trace(&with(&twice)));
    assert!(verdict.exactly_once.is_err());
    assert!(
        verdict.key_order.is_ok(),
        "the same message again is not out of order"
    );
}

#[test]
fn a_later_message_applied_first_breaks_key_order_but_another_key_does_not() {
    // The two effects of CLEAN, the later-appended one first.
    let mut lines: Vec<&str> = CLEAN.lines().filter(|l| !l.trim().is_empty()).collect();
    let first = lines
        .iter()
        .position(|l| l.contains("\"seq\":0,\"key\":0,\"job\":null,\"task\":null,\"worker\""))
        .unwrap();
    let effect = lines.remove(first);
    lines.insert(lines.len() - 1, effect);
    let swapped = lines.join("\n");
    assert!(judge(&trace(&swapped)).key_order.is_err());
    let other_key = swapped.replacen("\"seq\":1,\"key\":0", "\"seq\":1,\"key\":1", 2);
    assert!(judge(&trace(&other_key)).key_order.is_ok());
}

#[test]
fn modes_are_spliced_into_the_protocol_block() {
    let text = "protocol: Queue(\n        mode: AutoAck,\n        idempotent: false,\n        work: \"1s\",\n    ),";
    let mode = &Mode::every()[0];
    let spliced = with_mode(text, mode);
    assert!(spliced.contains("mode: AtLeastOnce,") && !spliced.contains("AutoAck"));
    assert_eq!(spliced.matches("idempotent:").count(), 1);
}
