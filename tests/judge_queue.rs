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
//! The settings swept: mode AtLeastOnce / AutoAck / BrokerForgets x
//! idempotent x dedupe x key_order Partitioned / Any x reassign OnTimeout /
//! OnSuspicion (48). Two seeds in three cut the nemesis run short (mid-fault,
//! messages queued and in flight at the end). The probes in
//! tests/judge_queue_probes/ are edge cases built for this judge; each
//! declares the verdict the definitions give (checked here by the judge) and
//! is also swept over the 48 settings.
//!
//! Counts when this file was written (runs in which the judge saw each
//! property broken; faultline agreed on every verdict of every run):
//!
//! | sweep | runs | NoLoss | ExactlyOnceEffect | KeyOrder |
//! |---|---|---|---|---|
//! | nemesis, 48 settings x 8 seeds (default) | 384 | 142 | 192 | 268 |
//! | nemesis, 48 x 100 seeds (`JUDGE_QUEUE_SEEDS=100`, 200 s) | 4800 | 1690 | 2390 | 3390 |
//! | 10 shipped queue scenarios + 10 probes, as written and x 48, 2-3 seeds | 1960 | 322 | 412 | 680 |
//!
//! Run `JUDGE_QUEUE_SEEDS=N` for N seeds per setting (default 8; the whole
//! file takes about 30 s on a loaded 2-core machine); `JUDGE_QUEUE_VERBOSE=1`
//! prints each violation's evidence.

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
        .filter(|line| {
            !SETTING_KEYS
                .iter()
                .any(|k| line.trim_start().starts_with(k))
        })
        .collect();
    let text = kept.join("\n");
    let open = text.find("Queue(").expect("a Queue block") + "Queue(".len();
    format!("{}{}{}", &text[..open], setting.fields(), &text[open..])
}

/// Scenario text whose run ends at the file's own end (one seed in three) or
/// cut short, so that runs end with messages queued, out with workers and in
/// flight: either halfway through a nemesis that stops at half the run (the
/// publishes squeezed into the first 80% of it), or
/// soon after the nemesis's `until` (5 s).
fn with_duration(text: &str, seed: u64) -> String {
    let (duration, until) = match seed % 3 {
        0 => return text.to_string(),
        1 => {
            let duration = 1_500 + (seed * 997) % 3_500;
            (duration, Some(duration / 2))
        }
        _ => (5_100 + (seed * 1_009) % 3_000, None),
    };
    text.lines()
        .map(|line| {
            let field = line.trim_start();
            if field.starts_with("duration:") && !line.starts_with("        ") {
                format!("    duration: \"{duration}ms\",")
            } else if let (true, Some(until)) = (field.starts_with("until:"), until) {
                format!("        until: \"{until}ms\",")
            } else if let (true, Some(_)) = (field.starts_with("rate:"), until) {
                // The plan must end before the run does.
                format!(
                    "        rate: (every: \"{}ms\", count: 40, keys: 8),",
                    duration / 50
                )
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
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

/// Per check: whether the judge saw it broken, and any disagreement.
type Compared = [(bool, Option<String>); 3];

/// Judges one run; returns per check (judge failed, disagreement text).
fn compare(text: &str, label: &str, seed: u64) -> Compared {
    let (passed, lines) = faultline_run(text, label, seed);
    let verdicts = judge(&lines);
    let verbose = std::env::var("JUDGE_QUEUE_VERBOSE").is_ok();
    let mut out: Compared = Default::default();
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
    let results: Vec<(usize, Compared)> = jobs
        .par_iter()
        .map(|&(s, seed)| {
            let label = format!("queue-nemesis {:?}", settings[s]);
            let text = with_duration(&with_setting(&text, &settings[s]), seed);
            (s, compare(&text, &label, seed))
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
    assert!(
        failed_per_check.iter().all(|&n| n > 0),
        "{failed_per_check:?}"
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// Every `queue-*.ron` of scenarios/ and every probe of
/// tests/judge_queue_probes/ (edge cases built for this judge), each over
/// seeds 0..4 and its own seed.
fn fixed_scenarios() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = common::scenario_files()
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("queue-")
        })
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

/// The texts to judge for one fixed file: as written, then under each setting.
fn fixed_variants(file: &std::path::Path) -> Vec<(String, String)> {
    let text = with_safety_checks(&std::fs::read_to_string(file).unwrap());
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    let mut variants = vec![(name.clone(), text.clone())];
    for setting in Setting::all() {
        variants.push((format!("{name} {setting:?}"), with_setting(&text, &setting)));
    }
    variants
}

#[test]
fn judge_agrees_with_the_checks_on_the_fixed_scenarios_and_probes() {
    let mut jobs = Vec::new();
    for file in fixed_scenarios() {
        for (label, text) in fixed_variants(&file) {
            let own = common::parse(&text, &label).unwrap().seed;
            let mut seeds = vec![own];
            seeds.extend((0..2).filter(|&s| s != own));
            jobs.extend(
                seeds
                    .into_iter()
                    .map(|seed| (label.clone(), text.clone(), seed)),
            );
        }
    }
    let results: Vec<Compared> = jobs
        .par_iter()
        .map(|(label, text, seed)| compare(text, label, *seed))
        .collect();
    let mut disagreements = Vec::new();
    let mut failed_per_check = [0u64; 3];
    for result in &results {
        for (i, (failed, disagreement)) in result.iter().enumerate() {
            failed_per_check[i] += u64::from(*failed);
            disagreements.extend(disagreement.clone());
        }
    }
    eprintln!(
        "judged {} runs of fixed scenarios and probes (each as written and in 48 settings); \
         violations seen: NoLoss {}, ExactlyOnceEffect {}, KeyOrder {}; disagreements {}",
        results.len(),
        failed_per_check[0],
        failed_per_check[1],
        failed_per_check[2],
        disagreements.len()
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// The checks a probe's `expect:` line names as violated (`Pass`: none).
fn declared_violations(text: &str) -> Vec<String> {
    let line = text
        .lines()
        .find(|line| line.trim_start().starts_with("expect:"))
        .expect("a probe declares its outcome");
    CHECKS
        .iter()
        .filter(|check| line.contains(*check))
        .map(|check| check.to_string())
        .collect()
}

#[test]
fn each_probe_gets_the_verdict_its_definition_gives() {
    let probes = std::fs::read_dir(common::repo_path("tests/judge_queue_probes")).unwrap();
    for probe in probes {
        let path = probe.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let label = path.display().to_string();
        let (_, lines) = faultline_run(&text, &label, 1);
        let verdicts = judge(&lines);
        let violated: Vec<String> = CHECKS
            .iter()
            .zip(ours(&verdicts))
            .filter(|(_, verdict)| verdict.is_err())
            .map(|(check, _)| check.to_string())
            .collect();
        assert_eq!(
            violated,
            declared_violations(&text),
            "{label}: {verdicts:?}"
        );
    }
}
