//! A deliberately naive reference oracle for the lock service's two safety
//! checks, `MutualExclusion` and `NoStaleWrite`, written from their
//! definitions alone (docs/trace-format.md and the definitions below), sharing
//! no code with `src/check/`, and a differential test comparing its verdicts
//! with faultline's own over many runs.
//!
//! The definitions, implemented literally and by brute force:
//!
//! - A **holding** starts at an `observe` `holding` line on a client (with its
//!   token) and ends at that client's next `observe` `not_holding`, `crash` or
//!   `leave`, or at its next `holding` line; otherwise it is open until the
//!   end of the run. Every `holding` line starts a new holding.
//! - A **write** is a `send` of a `Write` message by a client; it belongs to
//!   the most recent holding of that client begun before it, unless the client
//!   crashed or (re)started in between. An **acceptance** is the resource's
//!   `write_received` line with `accepted: true`; its `cause` is the write's
//!   message id (duplicates keep the id: one write, several acceptances).
//! - **MutualExclusion** fails iff some acceptance A1 precedes an acceptance
//!   A2 in the trace, their writes' holdings H1 and H2 belong to different
//!   clients, H2's token < H1's token, and H1.start < H2.end and
//!   H2.start < H1.end (an open holding ends at the end of the run).
//! - **NoStaleWrite** fails iff an accepted write's token is lower than that of
//!   a write accepted earlier in the trace, or (every variant but
//!   `LeaseFencing`) a write with token k is accepted at time t when the lease
//!   of token k had run out on the server's clock: the `deadline` (true time)
//!   of the latest `granted` or `renewed` line for k earlier in the trace is
//!   <= t, and no `released` line for k came before that deadline.
//!
//! Ambiguities resolved: (1) the lease's end is its deadline in true time,
//! not the server's `expired` line: a paused or crashed server notices late,
//! and the first version of this definition (by `expired` line) made the
//! oracle and the check disagree on an expiry and a write at the same
//! nanosecond; the definition was changed on both sides; (2) a
//! holding starts at its `holding` line, not at the `request` it answers;
//! (3) any `not_holding` of the client ends its holding, whatever its token;
//! (4) NoStaleWrite's first part compares the tokens of the `write_received`
//! lines, and only accepted writes count as "accepted earlier"; (5) "the end
//! of the run" is the `end` line's `t`.
//!
//! Counts seen when this file was written (`cargo test --release --test
//! oracle_lock -- --nocapture`): runs in which the oracle saw a violation, out
//! of 300 seeds (0..300) per variant of lock-nemesis; faultline agreed on
//! every one.
//!
//! | variant           | MutualExclusion | NoStaleWrite |
//! |-------------------|-----------------|--------------|
//! | NoExpiry          | 0               | 4            |
//! | Lease             | 7               | 26           |
//! | LeaseFencing      | 0               | 0            |
//! | LeaseStaleRegrant | 85              | 175          |
//!
//! Over seeds 0..2000 (`ORACLE_LOCK_SEEDS=2000`): NoExpiry 4 / 41, Lease
//! 69 / 186, LeaseFencing 0 / 0, LeaseStaleRegrant 594 / 1230, all agreed.
//! The shipped fixed scenarios at their own seed: MutualExclusion and
//! NoStaleWrite both fail under Lease and LeaseStaleRegrant for
//! lock-pause-lease, lock-pause-fencing and lock-slow-clock-lease, and pass
//! everywhere else.

mod common;

use rayon::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

const VARIANTS: [&str; 4] = ["NoExpiry", "Lease", "LeaseFencing", "LeaseStaleRegrant"];
/// Seeds per variant for nemesis scenarios (`ORACLE_LOCK_SEEDS` overrides).
const SEEDS: u64 = 300;

/// `ORACLE_LOCK_SEEDS=2000` runs more seeds; `ORACLE_LOCK_DIR=/abs/dir` judges
/// the lock-*.ron files of another folder instead of scenarios/ (to explore
/// with edited scenarios without touching the shipped ones);
/// `ORACLE_LOCK_VERBOSE=1` prints the oracle's evidence for every violation.
fn seeds() -> u64 {
    std::env::var("ORACLE_LOCK_SEEDS").map_or(SEEDS, |s| s.parse().expect("a seed count"))
}

fn scenario_dir() -> std::path::PathBuf {
    std::env::var("ORACLE_LOCK_DIR").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
        std::path::PathBuf::from,
    )
}

// ---------------------------------------------------------------------------
// The only use of faultline's API.

/// What faultline says about one run: its trace lines and the verdicts of the
/// two checks (`None` if the scenario does not have that check).
struct FaultlineRun {
    lines: Vec<Value>,
    mutual_exclusion: Option<bool>,
    no_stale_write: Option<bool>,
    /// Every check name faultline reported, to spot a renamed check.
    check_names: Vec<String>,
}

/// Runs scenario file `file` (relative to the repository) with its variant
/// replaced by `variant`, under `seed`.
fn faultline_run(file: &str, variant: &str, seed: u64) -> FaultlineRun {
    let scenario = common::with_variant(file, variant);
    let run = common::traced_run(&scenario, seed);
    FaultlineRun {
        mutual_exclusion: run.passed.get("MutualExclusion").copied(),
        no_stale_write: run.passed.get("NoStaleWrite").copied(),
        check_names: run.passed.keys().cloned().collect(),
        lines: run.lines,
    }
}

// ---------------------------------------------------------------------------
// The oracle.

const SERVER: u64 = 0;
const RESOURCE: u64 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    NoExpiry,
    Lease,
    LeaseFencing,
    LeaseStaleRegrant,
}

impl Variant {
    fn parse(name: &str) -> Variant {
        match name {
            "NoExpiry" => Variant::NoExpiry,
            "Lease" => Variant::Lease,
            "LeaseFencing" => Variant::LeaseFencing,
            "LeaseStaleRegrant" => Variant::LeaseStaleRegrant,
            other => panic!("unknown lock variant {other:?}"),
        }
    }
}

#[derive(Clone, Debug)]
struct Holding {
    client: u64,
    token: u64,
    start: u64,
    /// `None` while still open at the end of the run.
    end: Option<u64>,
}

#[derive(Clone, Debug)]
struct Acceptance {
    /// The time of the resource's `write_received` line, and its index.
    t: u64,
    line: usize,
    /// The write's message id (the line's `cause`).
    id: u64,
    /// The `token` field of the `write_received` line.
    token: u64,
    /// The sender of the write (from its `send` line), if that line exists.
    sender: Option<u64>,
    /// Index into the holdings of the holding the write belongs to.
    holding: Option<usize>,
}

/// The oracle's verdict on one run: `Ok` = pass, `Err(evidence)` = fail.
#[derive(Debug)]
struct OracleVerdict {
    mutual_exclusion: Result<(), String>,
    no_stale_write: Result<(), String>,
    /// Accepted writes whose holding could not be found (0 in a correct run).
    unattributed: usize,
}

fn int(line: &Value, field: &str) -> u64 {
    line[field]
        .as_u64()
        .unwrap_or_else(|| panic!("line has no integer {field:?}: {line}"))
}

fn kind(line: &Value) -> &str {
    line["kind"].as_str().unwrap_or("")
}

/// The `what` of an `observe` line, or "" for any other line.
fn what(line: &Value) -> &str {
    if kind(line) != "observe" {
        return "";
    }
    line["observation"]["what"].as_str().unwrap_or("")
}

fn secs(ns: u64) -> String {
    format!("{}.{:09}s", ns / 1_000_000_000, ns % 1_000_000_000)
}

fn show_client(client: Option<u64>) -> String {
    client.map_or_else(|| "?".to_string(), |c| c.to_string())
}

fn show_end(end: Option<u64>) -> String {
    match end {
        Some(t) => secs(t),
        None => "open".to_string(),
    }
}

/// Judges one run from its trace lines and the scenario's lock variant.
fn judge(lines: &[Value], variant: Variant) -> OracleVerdict {
    // The end of the run: the `end` line (or, in a hand-written trace
    // without one, the last line).
    let end_of_run = lines
        .iter()
        .find(|l| kind(l) == "end")
        .or(lines.last())
        .map(|l| int(l, "t"))
        .unwrap_or(0);

    // Holdings, in trace order. `holding_at_line[i]` is the holding that the
    // `holding` line i started.
    let mut holdings: Vec<Holding> = Vec::new();
    let mut holding_at_line: BTreeMap<usize, usize> = BTreeMap::new();
    let mut open: BTreeMap<u64, usize> = BTreeMap::new(); // client -> open holding
    for (i, line) in lines.iter().enumerate() {
        let t = int(line, "t");
        let ends_holding = matches!(kind(line), "crash" | "leave") || what(line) == "not_holding";
        let starts_holding = what(line) == "holding";
        if ends_holding || starts_holding {
            let client = int(line, "node");
            if let Some(h) = open.remove(&client) {
                holdings[h].end = Some(t);
            }
        }
        if starts_holding {
            let client = int(line, "node");
            holdings.push(Holding {
                client,
                token: int(&line["observation"], "token"),
                start: t,
                end: None,
            });
            open.insert(client, holdings.len() - 1);
            holding_at_line.insert(i, holdings.len() - 1);
        }
    }

    // The holding a write sent at line `send` belongs to: scan back for the
    // sender's latest `holding` line, giving up at its crash or (re)start.
    let holding_of_write = |send: usize, client: u64| -> Option<usize> {
        for j in (0..send).rev() {
            let line = &lines[j];
            if line["node"].as_u64() != Some(client) {
                continue;
            }
            if matches!(kind(line), "crash" | "restart" | "start" | "join" | "leave") {
                return None;
            }
            if what(line) == "holding" {
                return Some(holding_at_line[&j]);
            }
        }
        None
    };

    // Acceptances, in trace order.
    let mut acceptances: Vec<Acceptance> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if what(line) != "write_received"
            || int(line, "node") != RESOURCE
            || line["observation"]["accepted"] != Value::Bool(true)
        {
            continue;
        }
        let id = int(line, "cause");
        let send = lines.iter().position(|l| {
            kind(l) == "send" && l["message"]["type"] == "Write" && int(l, "id") == id
        });
        let sender = send.map(|s| int(&lines[s], "node"));
        let holding = send.and_then(|s| holding_of_write(s, int(&lines[s], "node")));
        acceptances.push(Acceptance {
            t: int(line, "t"),
            line: i,
            id,
            token: int(&line["observation"], "token"),
            sender,
            holding,
        });
    }
    let unattributed = acceptances.iter().filter(|a| a.holding.is_none()).count();

    // MutualExclusion: every ordered pair of acceptances.
    let mut exclusion_violations = Vec::new();
    for (j, a2) in acceptances.iter().enumerate() {
        for a1 in &acceptances[..j] {
            let (Some(h1), Some(h2)) = (a1.holding, a2.holding) else {
                continue;
            };
            let (h1, h2) = (&holdings[h1], &holdings[h2]);
            let h1_end = h1.end.unwrap_or(end_of_run);
            let h2_end = h2.end.unwrap_or(end_of_run);
            if h1.client != h2.client
                && h2.token < h1.token
                && h1.start < h2_end
                && h2.start < h1_end
            {
                exclusion_violations.push(format!(
                    "at {} the resource accepted write id {} from client {} (token {}, holding {}..{}) \
                     after accepting at {} write id {} from client {} (token {}, holding {}..{})",
                    secs(a2.t),
                    a2.id,
                    h2.client,
                    h2.token,
                    secs(h2.start),
                    show_end(h2.end),
                    secs(a1.t),
                    a1.id,
                    h1.client,
                    h1.token,
                    secs(h1.start),
                    show_end(h1.end),
                ));
            }
        }
    }

    // NoStaleWrite.
    let mut stale_violations = Vec::new();
    for (j, a2) in acceptances.iter().enumerate() {
        for a1 in &acceptances[..j] {
            if a2.token < a1.token {
                stale_violations.push(format!(
                    "at {} the resource accepted token {} (write id {} from client {}) \
                     after accepting token {} at {} (write id {} from client {})",
                    secs(a2.t),
                    a2.token,
                    a2.id,
                    show_client(a2.sender),
                    a1.token,
                    secs(a1.t),
                    a1.id,
                    show_client(a1.sender),
                ));
            }
        }
        if variant == Variant::LeaseFencing {
            continue;
        }
        // The deadline of the latest grant or renewal of this token before
        // the acceptance, and whether a release of it came before that.
        let deadline = lines[..a2.line]
            .iter()
            .filter(|l| {
                matches!(what(l), "granted" | "renewed")
                    && int(l, "node") == SERVER
                    && int(&l["observation"], "token") == a2.token
            })
            .filter_map(|l| l.get("deadline").and_then(Value::as_u64))
            .next_back();
        let Some(deadline) = deadline else { continue };
        let released_first = lines.iter().any(|l| {
            what(l) == "released"
                && int(l, "node") == SERVER
                && int(&l["observation"], "token") == a2.token
                && int(l, "t") < deadline
        });
        if deadline <= a2.t && !released_first {
            stale_violations.push(format!(
                "at {} the resource accepted token {} (write id {} from client {}), \
                 whose lease ran out on the server's clock at {}",
                secs(a2.t),
                a2.token,
                a2.id,
                show_client(a2.sender),
                secs(deadline),
            ));
        }
    }

    let verdict = |violations: Vec<String>| {
        if violations.is_empty() {
            return Ok(());
        }
        let ties = violations
            .iter()
            .filter(|v| v.ends_with("later in the trace)"))
            .count();
        let first = violations
            .iter()
            .find(|v| !v.ends_with("later in the trace)"))
            .unwrap_or(&violations[0]);
        Err(format!(
            "{} violation(s){}; first: {first}",
            violations.len(),
            if ties > 0 {
                format!(" ({ties} by an expiry at the same instant, later in the trace)")
            } else {
                String::new()
            },
        ))
    };
    OracleVerdict {
        mutual_exclusion: verdict(exclusion_violations),
        no_stale_write: verdict(stale_violations),
        unattributed,
    }
}

// ---------------------------------------------------------------------------
// The differential test.

/// The lock scenarios in scenarios/ (or `ORACLE_LOCK_DIR`), sorted, with
/// whether each has a random nemesis, then the hand-made boundary probes in
/// tests/oracle_lock_probes/ (fixed schedules, no nemesis).
fn lock_scenarios() -> Vec<(String, bool)> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let list = |dir: &Path, prefix: &str| -> Vec<(String, bool)> {
        let mut files: Vec<(String, bool)> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("readable entry").path())
            .filter(|path| {
                let name = path.file_name().unwrap().to_string_lossy();
                name.starts_with(prefix) && name.ends_with(".ron")
            })
            .map(|path| {
                let text = std::fs::read_to_string(&path).unwrap();
                let file = match path.strip_prefix(repo) {
                    Ok(relative) => relative.to_string_lossy().into_owned(),
                    Err(_) => path.to_string_lossy().into_owned(),
                };
                (file, text.contains("nemesis:"))
            })
            .collect();
        files.sort();
        files
    };
    let mut files = list(&scenario_dir(), "lock-");
    files.extend(list(&repo.join("tests/oracle_lock_probes"), ""));
    files
}

/// The value after `key` in a scenario file's text, up to a comma, newline or
/// closing parenthesis (enough for `seed: 1` and `variant: Lease`).
fn scenario_param(file: &str, key: &str) -> String {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
    let start = text
        .find(key)
        .unwrap_or_else(|| panic!("{file} has no {key:?}"))
        + key.len();
    text[start..]
        .split([',', '\n', ')'])
        .next()
        .unwrap()
        .trim()
        .to_string()
}

/// Disagreements found and analysed, as (file, variant, check): the side we
/// believe is the oracle's. The test fails if one of them stops disagreeing
/// (then remove it here) and on any disagreement not listed. None today: the
/// one found (`lock-probe-same-instant-expiry`, a write accepted at the very
/// nanosecond the server's `expired` line came, later in the trace) led to
/// judging expiry by the lease's deadline on both sides.
const KNOWN_DISAGREEMENTS: [(&str, &str, &str); 0] = [];

/// One run's comparison.
struct Outcome {
    faultline: (Option<bool>, Option<bool>),
    oracle: OracleVerdict,
    check_names: Vec<String>,
}

fn compare(file: &str, variant: &str, seed: u64) -> Outcome {
    let run = faultline_run(file, variant, seed);
    let oracle = judge(&run.lines, Variant::parse(variant));
    Outcome {
        faultline: (run.mutual_exclusion, run.no_stale_write),
        oracle,
        check_names: run.check_names,
    }
}

#[derive(Default)]
struct Tally {
    runs: usize,
    me_judged: usize,
    me_violations: usize,
    nsw_judged: usize,
    nsw_violations: usize,
    unattributed_writes: usize,
    disagreements: usize,
}

#[test]
fn oracle_agrees_with_the_checks() {
    let scenarios = lock_scenarios();
    assert!(
        scenarios.iter().any(|(_, nemesis)| *nemesis),
        "no lock scenario with a random nemesis in {}",
        scenario_dir().display()
    );
    // (file, variant, seeds) jobs: nemesis scenarios over `seeds()` seeds
    // under every variant; the others at their own seed, under their own
    // variant and (cheaply, for coverage) the other three.
    let mut jobs: Vec<(String, String, Vec<u64>)> = Vec::new();
    for (file, nemesis) in &scenarios {
        let seeds: Vec<u64> = if *nemesis {
            (0..seeds()).collect()
        } else {
            vec![scenario_param(file, "seed:").parse().expect("integer seed")]
        };
        let own = scenario_param(file, "variant:");
        let mut variants = vec![own.clone()];
        variants.extend(VARIANTS.iter().map(|v| v.to_string()).filter(|v| *v != own));
        for variant in variants {
            jobs.push((file.clone(), variant, seeds.clone()));
        }
    }
    let runs: Vec<(usize, u64)> = jobs
        .iter()
        .enumerate()
        .flat_map(|(j, (_, _, seeds))| seeds.iter().map(move |&s| (j, s)))
        .collect();
    // Parallel over runs; `collect` keeps them in order, so the report is
    // deterministic.
    let outcomes: Vec<Outcome> = runs
        .par_iter()
        .map(|&(j, seed)| compare(&jobs[j].0, &jobs[j].1, seed))
        .collect();

    let mut tallies: Vec<Tally> = jobs.iter().map(|_| Tally::default()).collect();
    let mut unexpected = Vec::new();
    let mut known_seen = Vec::new();
    for (&(j, seed), outcome) in runs.iter().zip(&outcomes) {
        let (file, variant, _) = &jobs[j];
        let tally = &mut tallies[j];
        tally.runs += 1;
        tally.unattributed_writes += outcome.oracle.unattributed;
        let checks = [
            (
                "MutualExclusion",
                outcome.faultline.0,
                &outcome.oracle.mutual_exclusion,
            ),
            (
                "NoStaleWrite",
                outcome.faultline.1,
                &outcome.oracle.no_stale_write,
            ),
        ];
        for (name, faultline, oracle) in checks {
            let Some(faultline_passed) = faultline else {
                assert!(
                    !std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
                        .unwrap()
                        .contains(name),
                    "{file} lists {name} but faultline reported only {:?}",
                    outcome.check_names
                );
                continue;
            };
            let (judged, violations) = if name == "MutualExclusion" {
                (&mut tally.me_judged, &mut tally.me_violations)
            } else {
                (&mut tally.nsw_judged, &mut tally.nsw_violations)
            };
            *judged += 1;
            if let Err(evidence) = oracle {
                *violations += 1;
                if std::env::var_os("ORACLE_LOCK_VERBOSE").is_some() {
                    println!("{name} violated on {file} variant {variant} seed {seed}: {evidence}");
                }
            }
            if faultline_passed != oracle.is_ok() {
                tally.disagreements += 1;
                let report = format!(
                    "{name} DISAGREES on {file} variant {variant} seed {seed}: faultline {}, oracle {}{}\n  \
                     reproduce: set `variant: {variant}` in {file}, then `faultline run {file} --seed {seed}`",
                    if faultline_passed { "pass" } else { "FAIL" },
                    if oracle.is_ok() { "pass" } else { "FAIL" },
                    match oracle {
                        Ok(()) => String::new(),
                        Err(evidence) => format!(": {evidence}"),
                    },
                );
                let key = (file.as_str(), variant.as_str(), name);
                if KNOWN_DISAGREEMENTS.contains(&key) {
                    known_seen.push(key);
                    println!("known, see KNOWN_DISAGREEMENTS: {report}");
                } else {
                    unexpected.push(report);
                }
            }
        }
    }

    println!(
        "{:<62} {:<18} {:>5} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "scenario", "variant", "runs", "ME judged", "ME viol", "NSW judg", "NSW viol", "unattr"
    );
    for ((file, variant, _), tally) in jobs.iter().zip(&tallies) {
        println!(
            "{:<62} {:<18} {:>5} {:>9} {:>9} {:>9} {:>9} {:>6}{}",
            file,
            variant,
            tally.runs,
            tally.me_judged,
            tally.me_violations,
            tally.nsw_judged,
            tally.nsw_violations,
            tally.unattributed_writes,
            if tally.disagreements > 0 {
                format!("  {} DISAGREEMENT(S)", tally.disagreements)
            } else {
                String::new()
            }
        );
    }
    for line in &unexpected {
        println!("{line}");
    }

    let me_violations: usize = tallies.iter().map(|t| t.me_violations).sum();
    let nsw_violations: usize = tallies.iter().map(|t| t.nsw_violations).sum();
    assert!(
        me_violations > 0,
        "the oracle saw no MutualExclusion violation anywhere: agreement would be vacuous"
    );
    assert!(
        nsw_violations > 0,
        "the oracle saw no NoStaleWrite violation anywhere: agreement would be vacuous"
    );
    assert!(
        unexpected.is_empty(),
        "{} disagreement(s) between the oracle and faultline's checks:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    for known in KNOWN_DISAGREEMENTS {
        assert!(
            known_seen.contains(&known),
            "{known:?} no longer disagrees: remove it from KNOWN_DISAGREEMENTS"
        );
    }
}

// ---------------------------------------------------------------------------
// Unit tests of the oracle on hand-written traces.

/// Parses JSON lines (blank lines and `//` comments skipped).
fn trace(text: &str) -> Vec<Value> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Client 2 holds token 1 from 10 to 50 and writes at 20 (accepted at 25);
/// client 3 holds token 2 from 60 to 100 and writes at 70 (accepted at 75).
const CLEAN_SUCCESSION: &str = r#"
{"t":0,"kind":"start","node":0}
{"t":0,"kind":"start","node":1}
{"t":0,"kind":"start","node":2}
{"t":0,"kind":"start","node":3}
{"t":5,"kind":"observe","node":0,"local":5,"cause":1,"deadline":1005,"observation":{"what":"granted","client":2,"token":1,"expires":1005}}
{"t":10,"kind":"observe","node":2,"local":10,"cause":2,"deadline":1000,"observation":{"what":"holding","token":1,"hold":1,"request":7,"until":1000}}
{"t":20,"kind":"send","node":2,"to":1,"id":3,"message":{"type":"Write","token":1,"hold":1,"seq":1}}
{"t":25,"kind":"observe","node":1,"local":25,"cause":3,"observation":{"what":"write_received","client":2,"token":1,"hold":1,"seq":1,"accepted":true}}
{"t":50,"kind":"observe","node":2,"local":50,"observation":{"what":"not_holding","token":1,"hold":1}}
{"t":52,"kind":"observe","node":0,"local":52,"cause":4,"observation":{"what":"released","client":2,"token":1}}
{"t":55,"kind":"observe","node":0,"local":55,"cause":5,"deadline":1055,"observation":{"what":"granted","client":3,"token":2,"expires":1055}}
{"t":60,"kind":"observe","node":3,"local":60,"cause":6,"deadline":1050,"observation":{"what":"holding","token":2,"hold":1,"request":9,"until":1050}}
{"t":70,"kind":"send","node":3,"to":1,"id":8,"message":{"type":"Write","token":2,"hold":1,"seq":1}}
{"t":75,"kind":"observe","node":1,"local":75,"cause":8,"observation":{"what":"write_received","client":3,"token":2,"hold":1,"seq":1,"accepted":true}}
{"t":100,"kind":"observe","node":3,"local":100,"observation":{"what":"not_holding","token":2,"hold":1}}
{"t":2000,"kind":"end"}
"#;

#[test]
fn a_clean_succession_passes() {
    for variant in VARIANTS {
        let verdict = judge(&trace(CLEAN_SUCCESSION), Variant::parse(variant));
        assert_eq!(verdict.mutual_exclusion, Ok(()), "{variant}");
        assert_eq!(verdict.no_stale_write, Ok(()), "{variant}");
        assert_eq!(verdict.unattributed, 0);
    }
}

#[test]
fn overlapping_holders_with_interleaved_writes_fail_mutual_exclusion() {
    // Client 2 (token 1) believes in its lease until 200; client 3 (token 2)
    // holds from 60. Client 3's write is accepted, then client 2's.
    let lines = trace(
        r#"
{"t":0,"kind":"start","node":2}
{"t":0,"kind":"start","node":3}
{"t":10,"kind":"observe","node":2,"local":10,"observation":{"what":"holding","token":1,"hold":1,"request":7,"until":200}}
{"t":60,"kind":"observe","node":3,"local":60,"observation":{"what":"holding","token":2,"hold":1,"request":9,"until":1050}}
{"t":70,"kind":"send","node":3,"to":1,"id":8,"message":{"type":"Write","token":2,"hold":1,"seq":1}}
{"t":75,"kind":"observe","node":1,"local":75,"cause":8,"observation":{"what":"write_received","client":3,"token":2,"hold":1,"seq":1,"accepted":true}}
{"t":80,"kind":"send","node":2,"to":1,"id":9,"message":{"type":"Write","token":1,"hold":1,"seq":1}}
{"t":85,"kind":"observe","node":1,"local":85,"cause":9,"observation":{"what":"write_received","client":2,"token":1,"hold":1,"seq":1,"accepted":true}}
{"t":200,"kind":"observe","node":2,"local":200,"observation":{"what":"not_holding","token":1,"hold":1}}
{"t":2000,"kind":"end"}
"#,
    );
    let verdict = judge(&lines, Variant::Lease);
    let evidence = verdict.mutual_exclusion.expect_err("must fail");
    assert!(evidence.contains("client 2 (token 1"), "{evidence}");
    assert!(evidence.contains("client 3 (token 2"), "{evidence}");
    // The lower token after the higher one is also a stale write.
    assert!(verdict.no_stale_write.is_err());
}

#[test]
fn a_regrant_overlapping_the_next_holder_fails_mutual_exclusion() {
    // Client 2 holds token 1 from 10 to 50 (no overlap with anyone), then is
    // granted token 1 again at 100 and believes in it until 400; client 3
    // holds token 2 from 200. Client 3 writes, then client 2 under its second
    // holding. Only the second holding overlaps client 3's.
    let lines = trace(
        r#"
{"t":0,"kind":"start","node":2}
{"t":0,"kind":"start","node":3}
{"t":10,"kind":"observe","node":2,"local":10,"observation":{"what":"holding","token":1,"hold":1,"request":7,"until":1000}}
{"t":20,"kind":"send","node":2,"to":1,"id":3,"message":{"type":"Write","token":1,"hold":1,"seq":1}}
{"t":25,"kind":"observe","node":1,"local":25,"cause":3,"observation":{"what":"write_received","client":2,"token":1,"hold":1,"seq":1,"accepted":true}}
{"t":50,"kind":"observe","node":2,"local":50,"observation":{"what":"not_holding","token":1,"hold":1}}
{"t":100,"kind":"observe","node":2,"local":100,"observation":{"what":"holding","token":1,"hold":2,"request":8,"until":400}}
{"t":200,"kind":"observe","node":3,"local":200,"observation":{"what":"holding","token":2,"hold":1,"request":9,"until":1200}}
{"t":210,"kind":"send","node":3,"to":1,"id":10,"message":{"type":"Write","token":2,"hold":1,"seq":1}}
{"t":215,"kind":"observe","node":1,"local":215,"cause":10,"observation":{"what":"write_received","client":3,"token":2,"hold":1,"seq":1,"accepted":true}}
{"t":220,"kind":"send","node":2,"to":1,"id":11,"message":{"type":"Write","token":1,"hold":2,"seq":1}}
{"t":225,"kind":"observe","node":1,"local":225,"cause":11,"observation":{"what":"write_received","client":2,"token":1,"hold":2,"seq":1,"accepted":true}}
{"t":400,"kind":"observe","node":2,"local":400,"observation":{"what":"not_holding","token":1,"hold":2}}
{"t":2000,"kind":"end"}
"#,
    );
    let verdict = judge(&lines, Variant::LeaseStaleRegrant);
    let evidence = verdict.mutual_exclusion.expect_err("must fail");
    assert!(
        evidence.contains("client 2 (token 1, holding 0.000000100s..0.000000400s)"),
        "{evidence}"
    );
}

#[test]
fn a_delayed_grant_whose_write_lands_first_passes_mutual_exclusion() {
    // Client 2 (token 1) and client 3 (token 2) overlap, but the older
    // holder's write is accepted before the newer holder's: allowed.
    let lines = trace(
        r#"
{"t":0,"kind":"start","node":2}
{"t":0,"kind":"start","node":3}
{"t":10,"kind":"observe","node":2,"local":10,"observation":{"what":"holding","token":1,"hold":1,"request":7,"until":200}}
{"t":60,"kind":"observe","node":3,"local":60,"observation":{"what":"holding","token":2,"hold":1,"request":9,"until":1050}}
{"t":65,"kind":"send","node":2,"to":1,"id":9,"message":{"type":"Write","token":1,"hold":1,"seq":1}}
{"t":68,"kind":"observe","node":1,"local":68,"cause":9,"observation":{"what":"write_received","client":2,"token":1,"hold":1,"seq":1,"accepted":true}}
{"t":70,"kind":"send","node":3,"to":1,"id":8,"message":{"type":"Write","token":2,"hold":1,"seq":1}}
{"t":75,"kind":"observe","node":1,"local":75,"cause":8,"observation":{"what":"write_received","client":3,"token":2,"hold":1,"seq":1,"accepted":true}}
{"t":200,"kind":"observe","node":2,"local":200,"observation":{"what":"not_holding","token":1,"hold":1}}
{"t":2000,"kind":"end"}
"#,
    );
    let verdict = judge(&lines, Variant::Lease);
    assert_eq!(verdict.mutual_exclusion, Ok(()));
    assert_eq!(verdict.no_stale_write, Ok(()));
}

#[test]
fn a_lower_token_accepted_after_a_higher_one_fails_no_stale_write() {
    // Client 2's write with token 1 is delayed in the network and accepted
    // after client 3's token 2, although their holdings never overlapped:
    // MutualExclusion passes, NoStaleWrite fails (even without expiry).
    let lines = trace(
        r#"
{"t":0,"kind":"start","node":2}
{"t":0,"kind":"start","node":3}
{"t":10,"kind":"observe","node":2,"local":10,"observation":{"what":"holding","token":1,"hold":1,"request":7,"until":null}}
{"t":20,"kind":"send","node":2,"to":1,"id":3,"message":{"type":"Write","token":1,"hold":1,"seq":1}}
{"t":50,"kind":"observe","node":2,"local":50,"observation":{"what":"not_holding","token":1,"hold":1}}
{"t":60,"kind":"observe","node":3,"local":60,"observation":{"what":"holding","token":2,"hold":1,"request":9,"until":null}}
{"t":70,"kind":"send","node":3,"to":1,"id":8,"message":{"type":"Write","token":2,"hold":1,"seq":1}}
{"t":75,"kind":"observe","node":1,"local":75,"cause":8,"observation":{"what":"write_received","client":3,"token":2,"hold":1,"seq":1,"accepted":true}}
{"t":90,"kind":"observe","node":1,"local":90,"cause":3,"observation":{"what":"write_received","client":2,"token":1,"hold":1,"seq":1,"accepted":true}}
{"t":2000,"kind":"end"}
"#,
    );
    let verdict = judge(&lines, Variant::NoExpiry);
    assert_eq!(verdict.mutual_exclusion, Ok(()));
    let evidence = verdict.no_stale_write.expect_err("must fail");
    assert!(evidence.contains("accepted token 1"), "{evidence}");
    assert!(evidence.contains("after accepting token 2"), "{evidence}");
}

#[test]
fn a_write_accepted_after_its_grant_expired_fails_no_stale_write_without_fencing() {
    // Client 2 is the only client: its grant (token 1) expires on the server
    // at 1005, and its write lands at 1100. Unsafe without fencing; with
    // fencing the expiry part does not apply (and nothing higher was seen).
    let lines = trace(
        r#"
{"t":0,"kind":"start","node":0}
{"t":0,"kind":"start","node":2}
{"t":5,"kind":"observe","node":0,"local":5,"cause":1,"deadline":1005,"observation":{"what":"granted","client":2,"token":1,"expires":1005}}
{"t":10,"kind":"observe","node":2,"local":10,"cause":2,"deadline":1500,"observation":{"what":"holding","token":1,"hold":1,"request":7,"until":1500}}
{"t":20,"kind":"send","node":2,"to":1,"id":3,"message":{"type":"Write","token":1,"hold":1,"seq":1}}
{"t":25,"kind":"observe","node":1,"local":25,"cause":3,"observation":{"what":"write_received","client":2,"token":1,"hold":1,"seq":1,"accepted":true}}
{"t":1005,"kind":"observe","node":0,"local":1005,"observation":{"what":"expired","client":2,"token":1}}
{"t":1090,"kind":"send","node":2,"to":1,"id":4,"message":{"type":"Write","token":1,"hold":1,"seq":2}}
{"t":1100,"kind":"observe","node":1,"local":1100,"cause":4,"observation":{"what":"write_received","client":2,"token":1,"hold":1,"seq":2,"accepted":true}}
{"t":2000,"kind":"end"}
"#,
    );
    for variant in [Variant::Lease, Variant::LeaseStaleRegrant] {
        let verdict = judge(&lines, variant);
        let evidence = verdict.no_stale_write.expect_err("must fail");
        assert!(
            evidence.contains("ran out on the server's clock at 0.000001005s"),
            "{evidence}"
        );
        assert_eq!(verdict.mutual_exclusion, Ok(()));
    }
    assert_eq!(judge(&lines, Variant::LeaseFencing).no_stale_write, Ok(()));
}

#[test]
fn a_write_after_a_restart_has_no_holding() {
    // A write sent after a crash and restart, with no new holding since, is
    // not attributed to the holding from before the crash.
    let lines = trace(
        r#"
{"t":0,"kind":"start","node":2}
{"t":10,"kind":"observe","node":2,"local":10,"observation":{"what":"holding","token":1,"hold":1,"request":7,"until":null}}
{"t":20,"kind":"crash","node":2}
{"t":30,"kind":"restart","node":2}
{"t":40,"kind":"send","node":2,"to":1,"id":3,"message":{"type":"Write","token":1,"hold":1,"seq":1}}
{"t":45,"kind":"observe","node":1,"local":45,"cause":3,"observation":{"what":"write_received","client":2,"token":1,"hold":1,"seq":1,"accepted":true}}
{"t":100,"kind":"end"}
"#,
    );
    let verdict = judge(&lines, Variant::NoExpiry);
    assert_eq!(verdict.unattributed, 1);
    assert_eq!(verdict.mutual_exclusion, Ok(()));
}

#[test]
fn an_expiry_at_the_same_instant_counts_even_later_in_the_trace() {
    // The lease runs out at its deadline, whatever the order of the lines at
    // that instant (and whenever the server notices).
    let lines = trace(
        r#"
{"t":0,"kind":"start","node":2}
{"t":100,"kind":"observe","node":0,"local":100,"cause":0,"deadline":1100,"observation":{"what":"granted","client":2,"token":1,"expires":1100}}
{"t":200,"kind":"observe","node":2,"local":200,"cause":1,"deadline":1000,"observation":{"what":"holding","token":1,"hold":1,"request":7,"until":1000}}
{"t":1000,"kind":"send","node":2,"to":1,"id":2,"message":{"type":"Write","token":1,"hold":1,"seq":1}}
{"t":1100,"kind":"observe","node":1,"local":1100,"cause":2,"observation":{"what":"write_received","client":2,"token":1,"hold":1,"seq":1,"accepted":true}}
{"t":1100,"kind":"observe","node":0,"local":1100,"observation":{"what":"expired","client":2,"token":1}}
{"t":1500,"kind":"end"}
"#,
    );
    let evidence = judge(&lines, Variant::Lease)
        .no_stale_write
        .expect_err("must fail");
    assert!(
        evidence.contains("ran out on the server's clock at 0.000001100s"),
        "{evidence}"
    );
}
