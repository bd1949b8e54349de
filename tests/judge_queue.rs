//! An independent judge of the work queue's three safety checks, `NoLoss`,
//! `ExactlyOnceEffect` and `KeyOrder`, written from their definitions alone
//! (issue 13, docs/protocols.md "Work queue", docs/trace-format.md) without
//! reading the check or the other queue oracle, sharing no code with `src/`,
//! and a differential test against faultline's verdicts over every setting of
//! the `Queue(...)` block.
//!
//! The definitions, implemented literally on the trace lines:
//!
//! - A message's id is (producer, seq). A publish is **acknowledged** when a
//!   `send` line carries a `PublishAck` message: its id is (`to`, `seq`).
//! - An effect is **applied** at an `observe` line `effect` with
//!   `applied: true`; its id is (`producer`, `seq`). A refused repeat
//!   (`applied: false`) is not an application.
//! - **NoLoss** fails iff some acknowledged id has no applied effect anywhere
//!   in the trace (the end of the run is the `end` line; everything before it
//!   counts, however late).
//! - **ExactlyOnceEffect** fails iff some id has two or more applied effects.
//! - **KeyOrder**: a message's publish rank is the position in the trace of
//!   its first `appended` line (the broker's log order; later appends of the
//!   same id do not move it). Walking the applied effects of keyed messages in
//!   trace order, it fails iff an effect's rank is lower than the rank of an
//!   effect of the same key applied before it (a message published earlier
//!   applied after one published later). Effects of job tasks have no key.
//!
//! Run `JUDGE_QUEUE_SEEDS=N` for N seeds per setting (default 8, about 15 s on
//! a loaded 2-core machine); `JUDGE_QUEUE_VERBOSE=1` prints each violation's
//! evidence.

mod common;

use rayon::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// (producer, seq).
type Id = (u64, u64);

/// The judge's verdicts on one run: `Err(evidence)` when the property broke.
#[derive(Debug)]
struct Verdicts {
    no_loss: Result<(), String>,
    exactly_once: Result<(), String>,
    key_order: Result<(), String>,
}

fn field(value: &Value, name: &str) -> u64 {
    value[name]
        .as_u64()
        .unwrap_or_else(|| panic!("field {name} of {value} is not an integer"))
}

/// The `observation` of an `observe` line whose `what` is `what`.
fn observation<'a>(line: &'a Value, what: &str) -> Option<&'a Value> {
    let observation = &line["observation"];
    (line["kind"] == "observe" && observation["what"] == what).then_some(observation)
}

/// Ids acknowledged to their producers (`send` of `PublishAck`).
fn acknowledged(lines: &[Value]) -> BTreeSet<Id> {
    lines
        .iter()
        .filter(|line| line["kind"] == "send" && line["message"]["type"] == "PublishAck")
        .map(|line| (field(line, "to"), field(&line["message"], "seq")))
        .collect()
}

/// Every applied effect, in trace order: (line index, id, key, t).
fn applied_effects(lines: &[Value]) -> Vec<(usize, Id, Option<u64>, u64)> {
    let mut effects = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(effect) = observation(line, "effect") else {
            continue;
        };
        if effect["applied"] == true {
            let id = (field(effect, "producer"), field(effect, "seq"));
            effects.push((index, id, effect["key"].as_u64(), field(line, "t")));
        }
    }
    effects
}

/// Each id's publish rank: the trace position of its first `appended` line.
fn publish_ranks(lines: &[Value]) -> BTreeMap<Id, usize> {
    let mut ranks = BTreeMap::new();
    for (index, line) in lines.iter().enumerate() {
        if let Some(appended) = observation(line, "appended") {
            let id = (field(appended, "producer"), field(appended, "seq"));
            ranks.entry(id).or_insert(index);
        }
    }
    ranks
}

fn judge(lines: &[Value]) -> Verdicts {
    assert_eq!(lines.last().map(|l| &l["kind"]), Some(&Value::from("end")));
    let effects = applied_effects(lines);
    let mut times_applied: BTreeMap<Id, u64> = BTreeMap::new();
    for (_, id, _, _) in &effects {
        *times_applied.entry(*id).or_default() += 1;
    }
    let lost: Vec<Id> = acknowledged(lines)
        .into_iter()
        .filter(|id| !times_applied.contains_key(id))
        .collect();
    let no_loss = match lost.first() {
        None => Ok(()),
        Some(_) => Err(format!("acknowledged, never applied: {lost:?}")),
    };
    let twice: Vec<(Id, u64)> = times_applied.into_iter().filter(|(_, n)| *n > 1).collect();
    let exactly_once = match twice.first() {
        None => Ok(()),
        Some(_) => Err(format!("applied more than once (id, times): {twice:?}")),
    };
    Verdicts {
        no_loss,
        exactly_once,
        key_order: key_order(lines, &effects),
    }
}

fn key_order(lines: &[Value], effects: &[(usize, Id, Option<u64>, u64)]) -> Result<(), String> {
    let ranks = publish_ranks(lines);
    // Per key: the highest publish rank applied so far, and its id.
    let mut latest: BTreeMap<u64, (usize, Id)> = BTreeMap::new();
    let mut broken = Vec::new();
    for &(_, id, key, t) in effects {
        let Some(key) = key else { continue };
        let rank = *ranks
            .get(&id)
            .unwrap_or_else(|| panic!("{id:?} applied but never appended"));
        match latest.get(&key) {
            Some(&(seen, later)) if seen > rank => {
                broken.push(format!(
                    "key {key}: {id:?} applied at {t} after {later:?}, published later"
                ));
            }
            _ => {
                latest.insert(key, (rank, id));
            }
        }
    }
    match broken.first() {
        None => Ok(()),
        Some(_) => Err(broken.join("; ")),
    }
}

// ---------------------------------------------------------------------------
// Running faultline.

/// One combination of the block's settings.
#[derive(Clone, Debug)]
struct Setting {
    mode: &'static str,
    idempotent: bool,
    dedupe: bool,
    key_order: &'static str,
    reassign: &'static str,
}

impl Setting {
    fn all() -> Vec<Setting> {
        let mut all = Vec::new();
        for mode in ["AtLeastOnce", "AutoAck", "BrokerForgets"] {
            for idempotent in [true, false] {
                for dedupe in [true, false] {
                    for key_order in ["Partitioned", "Any"] {
                        for reassign in ["OnTimeout", "OnSuspicion"] {
                            all.push(Setting {
                                mode,
                                idempotent,
                                dedupe,
                                key_order,
                                reassign,
                            });
                        }
                    }
                }
            }
        }
        all
    }

    fn fields(&self) -> String {
        format!(
            "mode: {}, idempotent: {}, dedupe: {}, key_order: {}, reassign: {}, ",
            self.mode, self.idempotent, self.dedupe, self.key_order, self.reassign
        )
    }
}

const SETTING_KEYS: [&str; 5] = ["mode:", "idempotent:", "dedupe:", "key_order:", "reassign:"];

/// Scenario text with the setting's fields in its `Queue(` block (any line
/// setting one of them removed first).
fn with_setting(text: &str, setting: &Setting) -> String {
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| !SETTING_KEYS.iter().any(|k| line.trim_start().starts_with(k)))
        .collect();
    let text = kept.join("\n");
    let open = text.find("Queue(").expect("a Queue block") + "Queue(".len();
    format!("{}{}{}", &text[..open], setting.fields(), &text[open..])
}

/// faultline's verdicts (check name -> passed) and the trace.
fn faultline_run(text: &str, label: &str, seed: u64) -> (BTreeMap<String, bool>, Vec<Value>) {
    let scenario = common::parse(text, label).unwrap_or_else(|e| panic!("{e}"));
    let run = common::traced_run(&scenario, seed);
    (run.passed, run.lines)
}

const CHECKS: [&str; 3] = ["NoLoss", "ExactlyOnceEffect", "KeyOrder"];

fn ours(verdicts: &Verdicts) -> [&Result<(), String>; 3] {
    [
        &verdicts.no_loss,
        &verdicts.exactly_once,
        &verdicts.key_order,
    ]
}

/// Judges one run; returns per check (judge failed, disagreement text).
fn compare(text: &str, label: &str, seed: u64) -> [(bool, Option<String>); 3] {
    let (passed, lines) = faultline_run(text, label, seed);
    let verdicts = judge(&lines);
    let verbose = std::env::var("JUDGE_QUEUE_VERBOSE").is_ok();
    let mut out: [(bool, Option<String>); 3] = Default::default();
    for (i, (name, mine)) in CHECKS.iter().zip(ours(&verdicts)).enumerate() {
        let theirs = *passed
            .get(*name)
            .unwrap_or_else(|| panic!("{label} does not list {name}"));
        if verbose {
            if let Err(evidence) = mine {
                eprintln!("{label} seed {seed} {name}: {evidence}");
            }
        }
        let disagreement = (mine.is_ok() != theirs).then(|| {
            format!(
                "{label} seed {seed}: {name} faultline {} judge {mine:?}",
                if theirs { "pass" } else { "fail" }
            )
        });
        out[i] = (mine.is_err(), disagreement);
    }
    out
}

fn seeds() -> u64 {
    std::env::var("JUDGE_QUEUE_SEEDS").map_or(8, |s| s.parse().expect("a seed count"))
}

#[test]
fn judge_agrees_with_the_checks_on_the_nemesis_in_every_setting() {
    let text = std::fs::read_to_string(common::repo_path("scenarios/queue-nemesis.ron")).unwrap();
    let settings = Setting::all();
    let jobs: Vec<(usize, u64)> = (0..settings.len())
        .flat_map(|s| (0..seeds()).map(move |seed| (s, seed)))
        .collect();
    let results: Vec<(usize, [(bool, Option<String>); 3])> = jobs
        .par_iter()
        .map(|&(s, seed)| {
            let label = format!("queue-nemesis {:?}", settings[s]);
            (s, compare(&with_setting(&text, &settings[s]), &label, seed))
        })
        .collect();
    let mut failed_per_check = [0u64; 3];
    let mut disagreements = Vec::new();
    for (_, result) in &results {
        for (i, (failed, disagreement)) in result.iter().enumerate() {
            failed_per_check[i] += u64::from(*failed);
            disagreements.extend(disagreement.clone());
        }
    }
    eprintln!(
        "judged {} runs ({} settings x {} seeds); runs the judge saw violate: \
         NoLoss {}, ExactlyOnceEffect {}, KeyOrder {}; disagreements {}",
        results.len(),
        settings.len(),
        seeds(),
        failed_per_check[0],
        failed_per_check[1],
        failed_per_check[2],
        disagreements.len()
    );
    // Not vacuous: the planted bugs break each property somewhere.
    assert!(failed_per_check.iter().all(|&n| n > 0), "{failed_per_check:?}");
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// Every `queue-*.ron` of scenarios/ and every probe of
/// tests/judge_queue_probes/ (edge cases built for this judge), each over
/// seeds 0..4 and its own seed.
fn fixed_scenarios() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = common::scenario_files()
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("queue-"))
        .collect();
    let probes = std::fs::read_dir(common::repo_path("tests/judge_queue_probes")).unwrap();
    let mut probes: Vec<_> = probes.map(|e| e.unwrap().path()).collect();
    probes.sort();
    files.extend(probes);
    files
}

/// Scenario text whose `checks:` line lists the three safety checks.
fn with_safety_checks(text: &str) -> String {
    text.lines()
        .map(|line| match line.trim_start().starts_with("checks:") {
            true => "    checks: [NoLoss, ExactlyOnceEffect, KeyOrder],",
            false => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn judge_agrees_with_the_checks_on_the_fixed_scenarios_and_probes() {
    let mut disagreements = Vec::new();
    let mut failed_per_check = [0u64; 3];
    let mut runs = 0;
    for file in fixed_scenarios() {
        let text = with_safety_checks(&std::fs::read_to_string(&file).unwrap());
        let label = file.file_name().unwrap().to_string_lossy().to_string();
        let own = common::parse(&text, &label).unwrap().seed;
        let mut seeds: Vec<u64> = (0..4).collect();
        if !seeds.contains(&own) {
            seeds.push(own);
        }
        for seed in seeds {
            runs += 1;
            for (i, (failed, disagreement)) in compare(&text, &label, seed).into_iter().enumerate()
            {
                failed_per_check[i] += u64::from(failed);
                disagreements.extend(disagreement);
            }
        }
    }
    eprintln!(
        "judged {runs} runs of fixed scenarios and probes; violations seen: NoLoss {}, \
         ExactlyOnceEffect {}, KeyOrder {}; disagreements {}",
        failed_per_check[0],
        failed_per_check[1],
        failed_per_check[2],
        disagreements.len()
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
