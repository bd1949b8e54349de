//! An independent judge of the `Cache` protocol's safety verdicts, written
//! from the definitions only (Herlihy and Wing 1990 for linearizability;
//! docs/protocols.md for `NoLostWrites`; docs/history-format.md and
//! docs/trace-format.md for the files), without reading the check, the
//! history writer, `src/linearizable` or tests/oracle_cache.rs.
//!
//! Two angles, run over seeds of small nemesis scenarios in every mode
//! (tests/judge_cache/*.ron) and over every shipped cache scenario:
//!
//! A. Is `history.jsonl` true? Each operation is rebuilt from trace.jsonl
//!    alone (the clients' `invoke`/`complete` observations, the `Reply`
//!    deliveries and `Timeout` timers that end them, crashes of client
//!    nodes), and what took effect from the replicas' `stored`
//!    observations. The history must list exactly those lines, and a `fail`
//!    must never have been stored anywhere, an `ok` write must have been,
//!    and an `ok` read must return a value stored before it completed.
//! B. The verdicts: a naive linearizability search (every order that
//!    respects real time, `info` operations optional, `fail` ones left out)
//!    and `NoLostWrites` from its definition, compared with summary.json.
//!
//! `JUDGE_CACHE_SEEDS=N` runs N seeds per mode (default 20: 160 runs, about
//! ten seconds in release); `JUDGE_CACHE_DIR` judges another folder's
//! scenarios.

use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What an operation is, by the register's specification.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Call {
    Read,
    Write(i64),
    Cas(Option<i64>, i64),
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq)]
enum End {
    Ok,
    Fail,
    Info,
}

/// One operation as the trace shows it. Positions are trace line numbers,
/// which order events strictly (time, then the engine's order).
#[derive(Clone, Debug)]
struct Op {
    op: i64,
    process: i64,
    node: i64,
    key: i64,
    call: Call,
    invoked_at: usize,
    invoked_t: i64,
    /// Line, time, outcome, value read (reads) — absent while open.
    ended: Option<(usize, i64, End, Option<i64>)>,
}

fn opt_int(v: &Json) -> Option<i64> {
    v.as_i64()
}

/// Runs one seed; returns the run's folder (`out/<name>/seed-<seed>`).
fn run(binary: &str, scenario: &Path, seed: Option<u64>, out: &Path) -> PathBuf {
    let mut command = Command::new(binary);
    command.args(["run", scenario.to_str().unwrap()]);
    if let Some(seed) = seed {
        command.args(["--seed", &seed.to_string()]);
    }
    let status = command
        .args(["--no-charts", "--no-report", "--out"])
        .arg(out)
        .output()
        .expect("run faultline");
    let folder = std::fs::read_dir(out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let folder = std::fs::read_dir(folder)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(
        folder.join("trace.jsonl").exists(),
        "{}: no trace: {}",
        scenario.display(),
        String::from_utf8_lossy(&status.stderr)
    );
    folder
}

fn lines(path: &Path) -> Vec<Json> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// What the trace says: the operations, and per written value the versions
/// and first line at which a replica stored it.
struct Derived {
    ops: Vec<Op>,
    stored: BTreeMap<i64, (usize, BTreeSet<(i64, i64)>)>,
    /// The same for `Store` messages sent.
    sent: BTreeMap<i64, (usize, BTreeSet<(i64, i64)>)>,
    /// Per node, its last persisted store: key -> version.
    durable: BTreeMap<i64, BTreeMap<i64, (i64, i64)>>,
    /// Findings of angle A that do not need history.jsonl.
    problems: Vec<String>,
}

fn derive(trace: &[Json]) -> Derived {
    let mut ops: Vec<Op> = Vec::new();
    let mut open: BTreeMap<i64, usize> = BTreeMap::new(); // op id -> index in ops
    let mut stored: BTreeMap<i64, (usize, BTreeSet<(i64, i64)>)> = BTreeMap::new();
    let mut sent: BTreeMap<i64, (usize, BTreeSet<(i64, i64)>)> = BTreeMap::new();
    let mut durable: BTreeMap<i64, BTreeMap<i64, (i64, i64)>> = BTreeMap::new();
    let mut problems = Vec::new();
    // What ended each operation, as the engine shows it: a Reply delivered
    // to the client's node, or its Timeout timer, at that very line.
    let mut reply_at: BTreeMap<i64, (usize, String, Option<i64>)> = BTreeMap::new();
    let mut timeout_at: BTreeMap<i64, usize> = BTreeMap::new();
    // The line of the event the node is handling now (a delivery or a
    // timer): an observation belongs to it.
    let mut handling = 0;
    for (line, event) in trace.iter().enumerate() {
        let t = event["t"].as_i64().unwrap();
        let kind = event["kind"].as_str().unwrap();
        if !matches!(kind, "observe" | "persist" | "send" | "duplicate" | "drop") {
            handling = line;
        }
        match kind {
            // A copy sent out for storing: the version the value travels
            // with, whether or not a replica keeps it (a higher version
            // already there wins).
            "send" if event["message"]["type"] == "Store" => {
                let m = &event["message"];
                if let Some(value) = m["value"].as_i64() {
                    let version = (
                        m["version"][0].as_i64().unwrap(),
                        m["version"][1].as_i64().unwrap(),
                    );
                    sent.entry(value)
                        .or_insert((line, BTreeSet::new()))
                        .1
                        .insert(version);
                }
            }
            "persist" => {
                let store = event["durable"]["store"].as_array().unwrap();
                let copies = store
                    .iter()
                    .map(|c| {
                        (
                            c[0].as_i64().unwrap(),
                            (c[1][0].as_i64().unwrap(), c[1][1].as_i64().unwrap()),
                        )
                    })
                    .collect();
                durable.insert(event["node"].as_i64().unwrap(), copies);
            }
            "deliver" if event["message"]["type"] == "Reply" => {
                let m = &event["message"];
                reply_at.insert(
                    m["op"].as_i64().unwrap(),
                    (
                        line,
                        m["outcome"].as_str().unwrap().into(),
                        opt_int(&m["value"]),
                    ),
                );
            }
            "timer" if event["timer"].get("Timeout").is_some() => {
                timeout_at.insert(event["timer"]["Timeout"]["op"].as_i64().unwrap(), line);
            }
            "crash" | "leave" => {
                let node = event["node"].as_i64().unwrap();
                let gone: Vec<i64> = open
                    .iter()
                    .filter(|(_, &i)| ops[i].node == node)
                    .map(|(&op, _)| op)
                    .collect();
                for op in gone {
                    let i = open.remove(&op).unwrap();
                    ops[i].ended = Some((line, t, End::Info, None));
                }
            }
            "observe" => {
                let o = &event["observation"];
                match o["what"].as_str().unwrap_or("") {
                    "invoke" => {
                        let call = match o["f"].as_str().unwrap() {
                            "read" => Call::Read,
                            "write" => Call::Write(o["value"].as_i64().unwrap()),
                            _ => Call::Cas(opt_int(&o["expected"]), o["value"].as_i64().unwrap()),
                        };
                        let op = o["op"].as_i64().unwrap();
                        open.insert(op, ops.len());
                        ops.push(Op {
                            op,
                            process: o["process"].as_i64().unwrap(),
                            node: event["node"].as_i64().unwrap(),
                            key: o["key"].as_i64().unwrap(),
                            call,
                            invoked_at: line,
                            invoked_t: t,
                            ended: None,
                        });
                    }
                    "complete" => {
                        let op = o["op"].as_i64().unwrap();
                        let Some(i) = open.remove(&op) else {
                            problems.push(format!("line {line}: op {op} completes, not open"));
                            continue;
                        };
                        let end = match o["type"].as_str().unwrap() {
                            "ok" => End::Ok,
                            "fail" => End::Fail,
                            _ => End::Info,
                        };
                        // The cause, from the engine's own lines.
                        let by_reply = reply_at.get(&op).filter(|(l, outcome, _)| {
                            *l == handling && outcome == o["type"].as_str().unwrap()
                        });
                        let by_timeout = timeout_at.get(&op).filter(|&&l| l == handling);
                        match (end, by_reply, by_timeout) {
                            (End::Info, None, Some(_)) => {}
                            (_, Some((_, _, value)), None) => {
                                if ops[i].call == Call::Read && end == End::Ok && *value != opt_int(&o["value"]) {
                                    problems.push(format!("op {op}: replied {value:?}, observed {}", o["value"]));
                                }
                            }
                            _ => problems.push(format!("line {line}: op {op} ends {end:?} with no reply or timeout just before")),
                        }
                        let read = (ops[i].call == Call::Read && end == End::Ok)
                            .then(|| opt_int(&o["value"]))
                            .flatten();
                        ops[i].ended = Some((line, t, end, read));
                    }
                    "stored" => {
                        let value = o["value"].as_i64();
                        let version = (
                            o["version"][0].as_i64().unwrap(),
                            o["version"][1].as_i64().unwrap(),
                        );
                        if let Some(value) = value {
                            let entry = stored.entry(value).or_insert((line, BTreeSet::new()));
                            entry.1.insert(version);
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    Derived {
        ops,
        stored,
        sent,
        durable,
        problems,
    }
}

/// The history lines the trace implies, in the trace's order, as
/// (process, type, f, key, value, time).
fn expected_history(ops: &[Op]) -> Vec<(usize, Json)> {
    let mut out = Vec::new();
    for o in ops {
        let (f, written) = match o.call {
            Call::Read => ("read", Json::Null),
            Call::Write(v) => ("write", v.into()),
            Call::Cas(e, n) => ("cas", serde_json::json!([e, n])),
        };
        out.push((
            o.invoked_at,
            serde_json::json!({"process": o.process, "type": "invoke", "f": f, "key": o.key, "value": written, "time": o.invoked_t}),
        ));
        if let Some((line, t, end, read)) = o.ended {
            let ty = match end {
                End::Ok => "ok",
                End::Fail => "fail",
                End::Info => "info",
            };
            let value = match o.call {
                Call::Read => read.map(Json::from).unwrap_or(Json::Null),
                _ => written.clone(),
            };
            out.push((
                line,
                serde_json::json!({"process": o.process, "type": ty, "f": f, "key": o.key, "value": value, "time": t}),
            ));
        }
    }
    out.sort_by_key(|(line, _)| *line);
    out
}

/// Angle A: the history file against the trace, and outcomes against what
/// the replicas stored.
fn history_problems(derived: &Derived, history: &[Json]) -> Vec<String> {
    let mut problems = derived.problems.clone();
    let expected = expected_history(&derived.ops);
    if expected.len() != history.len() {
        problems.push(format!(
            "history has {} lines, trace implies {}",
            history.len(),
            expected.len()
        ));
    }
    // Lines at one instant (several operations ended `info` by one crash)
    // may come in any order: compare each instant's lines as a set.
    let mut got_lines: Vec<Json> = Vec::new();
    for (i, line) in history.iter().enumerate() {
        let mut line = line.clone();
        if line["index"] != i {
            problems.push(format!("line {i}: index {}", line["index"]));
        }
        line.as_object_mut().unwrap().remove("index");
        got_lines.push(line);
    }
    let want_lines: Vec<Json> = expected.into_iter().map(|(_, line)| line).collect();
    let by_instant = |lines: &[Json]| {
        let mut instants: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for line in lines {
            instants
                .entry(line["time"].as_i64().unwrap())
                .or_default()
                .push(line.to_string());
        }
        instants.values_mut().for_each(|v| v.sort());
        instants
    };
    let (want, got) = (by_instant(&want_lines), by_instant(&got_lines));
    if let Some((t, w)) = want.iter().find(|(t, w)| got.get(t) != Some(w)) {
        problems.push(format!(
            "history at {t}: {:?} but the trace says {w:?}",
            got.get(t)
        ));
    } else if got.len() != want.len() {
        problems.push("the history has lines at instants the trace has none".into());
    }
    // And the instants themselves in order: the file is in time order.
    let times: Vec<i64> = got_lines
        .iter()
        .map(|l| l["time"].as_i64().unwrap())
        .collect();
    if times.windows(2).any(|w| w[0] > w[1]) {
        problems.push("history lines out of time order".into());
    }
    for o in &derived.ops {
        let Some((line, _, end, read)) = o.ended else {
            continue;
        };
        let value = match o.call {
            Call::Write(v) | Call::Cas(_, v) => Some(v),
            Call::Read => None,
        };
        // A write took effect if a replica kept it or a store of it went
        // out (a replica holding a higher version acknowledges without
        // keeping it: that is a write superseded, not one that never was).
        let kept = value.and_then(|v| derived.stored.get(&v));
        let went_out = value.and_then(|v| derived.sent.get(&v));
        match (end, value) {
            (End::Fail, Some(v)) if kept.is_some() || went_out.is_some() => problems.push(format!(
                "op {} recorded fail, but value {v} was stored or sent to be",
                o.op
            )),
            (End::Ok, Some(v)) if kept.is_none() && went_out.is_none() => problems.push(format!(
                "op {} recorded ok, but value {v} never stored nor sent",
                o.op
            )),
            _ => {}
        }
        // Every copy of one value carries one version.
        let versions: BTreeSet<_> = kept
            .iter()
            .chain(went_out.iter())
            .flat_map(|(_, v)| v.iter())
            .collect();
        if versions.len() > 1 {
            problems.push(format!(
                "op {}: its value travels with versions {versions:?}",
                o.op
            ));
        }
        if let (End::Ok, Call::Read, Some(v)) = (end, o.call, read) {
            match derived.stored.get(&v) {
                Some((first, _)) if *first < line => {}
                _ => problems.push(format!(
                    "op {} read {v}, not stored before it completed",
                    o.op
                )),
            }
        }
    }
    problems
}

/// Angle B, linearizability, per key: a depth-first search over every order
/// that respects real time; `info` operations may be placed or left out,
/// `fail` ones and `info` reads are left out. Memo of (placed set, state),
/// which only prunes repeats. `None`: the budget ran out.
fn linearizable(ops: &[Op]) -> Option<bool> {
    let mut by_key: BTreeMap<i64, Vec<&Op>> = BTreeMap::new();
    for o in ops {
        let end = o.ended.map(|e| e.2).unwrap_or(End::Info);
        let keep = !matches!((end, o.call), (End::Fail, _) | (End::Info, Call::Read));
        if keep {
            by_key.entry(o.key).or_default().push(o);
        }
    }
    let mut all = true;
    for ops in by_key.values() {
        match key_linearizable(ops) {
            Some(true) => {}
            Some(false) => return Some(false),
            None => all = false,
        }
    }
    all.then_some(true)
}

struct Search<'a> {
    ops: &'a [&'a Op],
    placed: Vec<bool>,
    seen: HashSet<(Vec<bool>, Option<i64>)>,
    steps: u64,
}

const BUDGET: u64 = 5_000_000;

fn ok(o: &Op) -> bool {
    matches!(o.ended, Some((_, _, End::Ok, _)))
}

fn returned(o: &Op) -> usize {
    match o.ended {
        Some((line, _, End::Ok, _)) => line,
        _ => usize::MAX,
    }
}

fn key_linearizable(ops: &[&Op]) -> Option<bool> {
    let mut search = Search {
        ops,
        placed: vec![false; ops.len()],
        seen: HashSet::new(),
        steps: 0,
    };
    search.go(None)
}

impl Search<'_> {
    fn go(&mut self, state: Option<i64>) -> Option<bool> {
        self.steps += 1;
        if self.steps > BUDGET {
            return None;
        }
        let done = (0..self.ops.len()).all(|i| self.placed[i] || !ok(self.ops[i]));
        if done {
            return Some(true);
        }
        if !self.seen.insert((self.placed.clone(), state)) {
            return Some(false);
        }
        for i in 0..self.ops.len() {
            if self.placed[i] || !self.may_go_next(i) {
                continue;
            }
            let o = self.ops[i];
            let next = match (o.call, o.ended) {
                (Call::Read, Some((_, _, _, read))) if read == state => state,
                (Call::Read, _) => continue,
                (Call::Write(v), _) => Some(v),
                (Call::Cas(e, n), _) if e == state => Some(n),
                (Call::Cas(..), _) => continue,
            };
            self.placed[i] = true;
            let found = self.go(next);
            self.placed[i] = false;
            match found {
                Some(false) => {}
                other => return other,
            }
        }
        Some(false)
    }

    /// Real time: nothing unplaced returned before `i` was invoked.
    fn may_go_next(&self, i: usize) -> bool {
        let invoked = self.ops[i].invoked_at;
        (0..self.ops.len()).all(|j| self.placed[j] || returned(self.ops[j]) > invoked)
    }
}

/// Angle B, `NoLostWrites` as docs/protocols.md defines it: an acknowledged
/// write (an ok write or cas) never has a lower version than one that
/// completed before it was invoked. Versions: what the replicas stored the
/// value with.
fn lost_writes(derived: &Derived) -> Vec<String> {
    let acked: Vec<(&Op, (i64, i64))> = derived
        .ops
        .iter()
        .filter(|o| ok(o) && o.call != Call::Read)
        .filter_map(|o| {
            let v = match o.call {
                Call::Write(v) | Call::Cas(_, v) => v,
                Call::Read => unreachable!(),
            };
            let kept = derived
                .stored
                .get(&v)
                .map(|(_, v)| v.iter())
                .into_iter()
                .flatten();
            let sent = derived
                .sent
                .get(&v)
                .map(|(_, v)| v.iter())
                .into_iter()
                .flatten();
            Some((o, *kept.chain(sent).next()?))
        })
        .collect();
    let mut lost = Vec::new();
    for (a, va) in &acked {
        for (b, vb) in &acked {
            if a.key == b.key && returned(a) < b.invoked_at && vb < va {
                lost.push(format!(
                    "key {}: op {} {vb:?} after op {} {va:?}",
                    a.key, b.op, a.op
                ));
            }
        }
    }
    lost
}

/// Beyond the docs' definition (the issue's words, "an acknowledged write is
/// never silently discarded"): keys whose newest acknowledged write is held
/// by no node's durable store at the end, so no later read can ever see it
/// or anything newer. Counted and reported, not compared: `NoLostWrites`
/// is documented as the narrower version comparison.
fn writes_gone(derived: &Derived) -> usize {
    let mut newest: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for o in derived.ops.iter().filter(|o| ok(o) && o.call != Call::Read) {
        let (Call::Write(v) | Call::Cas(_, v)) = o.call else {
            continue;
        };
        let kept = derived
            .stored
            .get(&v)
            .map(|(_, v)| v.iter())
            .into_iter()
            .flatten();
        let sent = derived
            .sent
            .get(&v)
            .map(|(_, v)| v.iter())
            .into_iter()
            .flatten();
        if let Some(&version) = kept.chain(sent).next() {
            let entry = newest.entry(o.key).or_insert(version);
            *entry = (*entry).max(version);
        }
    }
    newest
        .iter()
        .filter(|(key, version)| {
            let held = derived
                .durable
                .values()
                .filter_map(|store| store.get(key))
                .max();
            held.is_none_or(|held| held < version)
        })
        .count()
}

/// Per property: runs, violations found by faultline, by the judge, and
/// disagreements (with where).
#[derive(Default)]
struct Tally {
    runs: usize,
    faultline_violations: [usize; 2],
    judge_violations: [usize; 2],
    judge_unknown: usize,
    keys_with_newest_write_gone: usize,
    disagreements: Vec<String>,
    history_lies: Vec<String>,
}

fn verdict(summary: &Json, check: &str) -> Option<String> {
    let checks = &summary["checks"];
    let found = match checks {
        Json::Array(items) => items
            .iter()
            .find(|c| c["name"] == check || c["check"] == check)?
            .clone(),
        Json::Object(map) => map.get(check)?.clone(),
        _ => return None,
    };
    let text = found
        .get("verdict")
        .or(found.get("status"))
        .unwrap_or(&found);
    Some(match text {
        Json::String(s) => s.to_lowercase(),
        other => other.to_string().to_lowercase(),
    })
}

fn judge_one(binary: &str, scenario: &Path, seed: Option<u64>, tally: &mut Tally) {
    let dir = tempfile::tempdir().unwrap();
    let folder = run(binary, scenario, seed, dir.path());
    let trace = lines(&folder.join("trace.jsonl"));
    let history = lines(&folder.join("history.jsonl"));
    let summary: Json =
        serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap())
            .unwrap();
    let derived = derive(&trace);
    let place = format!("{} --seed {seed:?}", scenario.display());
    tally.runs += 1;
    for p in history_problems(&derived, &history) {
        tally.history_lies.push(format!("{place}: {p}"));
    }
    let gone = writes_gone(&derived);
    tally.keys_with_newest_write_gone += gone;
    if gone > 0 {
        let verdicts =
            ["Linearizable", "NoLostWrites"].map(|c| verdict(&summary, c).unwrap_or_default());
        eprintln!("  {place}: {gone} key(s) lost their newest acknowledged write; faultline: {verdicts:?}");
    }
    let mine_lin = linearizable(&derived.ops);
    let lost = lost_writes(&derived);
    for (slot, name, mine) in [
        (0, "Linearizable", mine_lin.map(|l| !l)),
        (1, "NoLostWrites", Some(!lost.is_empty())),
    ] {
        let Some(theirs) = verdict(&summary, name) else {
            continue;
        };
        let theirs_violated = theirs.contains("fail") || theirs.contains("violat");
        let theirs_passed = theirs.contains("pass");
        tally.faultline_violations[slot] += theirs_violated as usize;
        match mine {
            None => tally.judge_unknown += 1,
            Some(violated) => {
                tally.judge_violations[slot] += violated as usize;
                if violated != theirs_violated || violated == theirs_passed {
                    tally.disagreements.push(format!(
                        "{place}: {name}: faultline says {theirs}, judge says {} {:?}",
                        if violated { "violated" } else { "holds" },
                        lost.first()
                    ));
                }
            }
        }
    }
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_faultline")
}

fn scenarios(dir: &str, prefix: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    files
}

fn report(label: &str, tally: &Tally) {
    eprintln!(
        "{label}: {} runs; violations faultline/judge: Linearizable {}/{}, NoLostWrites {}/{}; judge unknown {}; keys whose newest acked write is gone at the end {}; disagreements {}; history problems {}",
        tally.runs,
        tally.faultline_violations[0],
        tally.judge_violations[0],
        tally.faultline_violations[1],
        tally.judge_violations[1],
        tally.judge_unknown,
        tally.keys_with_newest_write_gone,
        tally.disagreements.len(),
        tally.history_lies.len()
    );
    for d in tally
        .disagreements
        .iter()
        .chain(&tally.history_lies)
        .take(20)
    {
        eprintln!("  {d}");
    }
}

#[test]
fn judge_every_mode_over_nemesis_seeds() {
    let seeds: u64 = std::env::var("JUDGE_CACHE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut failed = false;
    // JUDGE_CACHE_DIR: judge the scenarios of another folder instead.
    let dir = std::env::var("JUDGE_CACHE_DIR").unwrap_or("tests/judge_cache".into());
    for scenario in scenarios(&dir, "") {
        let mut tally = Tally::default();
        for seed in 1..=seeds {
            judge_one(binary(), &scenario, Some(seed), &mut tally);
        }
        report(&scenario.display().to_string(), &tally);
        failed |= !tally.disagreements.is_empty() || !tally.history_lies.is_empty();
        if dir == "tests/judge_cache" && seeds >= 20 {
            not_vacuous(&scenario, &tally);
        }
    }
    assert!(!failed, "the judge disagrees with faultline (above)");
}

/// Agreement must not be vacuous: the modes that break a property break it
/// in some of the first 20 seeds (by both judges, since they agree), and
/// ABD breaks nothing.
fn not_vacuous(scenario: &Path, tally: &Tally) {
    let name = scenario.file_stem().unwrap().to_str().unwrap();
    let [lin, lost] = tally.judge_violations;
    match name {
        "abd" | "abd-lossy" => assert_eq!((lin, lost), (0, 0), "{name}"),
        "forgetful" | "one" | "quorum11" | "lww" => {
            assert!(lin > 0, "{name}: no Linearizable violation")
        }
        "lww-drift" => assert!(lin > 0 && lost > 0, "{name}: {lin} {lost}"),
        _ => {}
    }
}

fn op(op: i64, call: Call, invoked_at: usize, ended: Option<(usize, End, Option<i64>)>) -> Op {
    Op {
        op,
        process: op,
        node: 0,
        key: 0,
        call,
        invoked_at,
        invoked_t: invoked_at as i64,
        ended: ended.map(|(line, end, read)| (line, line as i64, end, read)),
    }
}

/// The naive judge on textbook histories, so that it can say no.
#[test]
fn the_naive_judge_on_textbook_histories() {
    use End::*;
    let w1 = op(1, Call::Write(1), 0, Some((1, Ok, None)));
    // A read after the write returns the initial value: stale.
    let stale = op(2, Call::Read, 2, Some((3, Ok, None)));
    assert_eq!(linearizable(&[w1.clone(), stale]), Some(false));
    // A read overlapping the write may see either.
    let overlapping = op(2, Call::Read, 0, Some((3, Ok, None)));
    assert_eq!(linearizable(&[w1.clone(), overlapping]), Some(true));
    // A timed-out write may have happened, any time after its invocation...
    let info = op(3, Call::Write(3), 2, None);
    let sees_info = op(4, Call::Read, 5, Some((6, Ok, Some(3))));
    assert_eq!(
        linearizable(&[w1.clone(), info.clone(), sees_info]),
        Some(true)
    );
    // ...but not before it was invoked.
    let too_early = op(4, Call::Read, 0, Some((1, Ok, Some(3))));
    assert_eq!(linearizable(&[info, too_early]), Some(false));
    // A failed write did not happen.
    let failed = op(5, Call::Write(5), 2, Some((3, Fail, None)));
    let sees_failed = op(6, Call::Read, 4, Some((5, Ok, Some(5))));
    assert_eq!(
        linearizable(&[w1.clone(), failed, sees_failed]),
        Some(false)
    );
    // A cas takes effect only from its expected value.
    let cas = op(7, Call::Cas(Some(1), 7), 2, Some((3, Ok, None)));
    let after = op(8, Call::Read, 4, Some((5, Ok, Some(7))));
    assert_eq!(
        linearizable(&[w1.clone(), cas.clone(), after.clone()]),
        Some(true)
    );
    let bad_cas = op(7, Call::Cas(Some(9), 7), 2, Some((3, Ok, None)));
    assert_eq!(linearizable(&[w1, bad_cas, after]), Some(false));
}

/// The gap the judge found (see the report): with `ForgetfulReplica`,
/// every replica of key 0 forgets the one acknowledged write made to it,
/// no read happens to observe that, and both safety checks pass. Whether
/// that is a lost write is a question of definition: docs/protocols.md's
/// `NoLostWrites` only compares acknowledged writes' versions with each
/// other; the words are "never silently discarded". This test
/// asserts the reading, and is ignored until the lead decides.
#[test]
#[ignore = "known gap: an acknowledged write forgotten by every replica passes both safety checks"]
fn an_acknowledged_write_forgotten_by_every_replica_fails_a_safety_check() {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/judge_cache/forgetful.ron");
    let dir = tempfile::tempdir().unwrap();
    let folder = run(binary(), &scenario, Some(18), dir.path());
    let derived = derive(&lines(&folder.join("trace.jsonl")));
    assert!(
        writes_gone(&derived) > 0,
        "the schedule no longer loses the write"
    );
    let summary: Json =
        serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap())
            .unwrap();
    let verdicts = ["Linearizable", "NoLostWrites"].map(|c| verdict(&summary, c).unwrap());
    assert!(verdicts.iter().any(|v| v == "fail"), "{verdicts:?}");
}

#[test]
fn judge_the_shipped_cache_scenarios() {
    let mut failed = false;
    for scenario in scenarios("scenarios", "cache-") {
        let mut tally = Tally::default();
        judge_one(binary(), &scenario, None, &mut tally);
        report(&scenario.display().to_string(), &tally);
        failed |= !tally.disagreements.is_empty() || !tally.history_lies.is_empty();
    }
    assert!(!failed, "the judge disagrees with faultline (above)");
}
