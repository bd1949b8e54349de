//! Bad input never crashes faultline: the example scenarios, mutated at
//! random (numbers, durations, node ids, deleted and spliced spans), go
//! through `faultline check` and `faultline run`. Every exit must be 0, 1 or
//! 2, with no panic, and a run that exits 2 must leave no files behind.
//!
//! The mutations are drawn from a fixed seed, so every run of the test tries
//! the same inputs; `MUTATIONS=N` tries more. Each example first gets an
//! event limit, so that a mutation that makes a run long (a day of
//! simulated time) stays quick; a mutation may change that limit too.

mod common;

use common::{cli, scenario_files};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small deterministic generator (SplitMix64).
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "7",
    "255",
    "1001",
    "4294967296",
    "18446744073709551615",
    "99999999999999999999999",
    "-1",
    "1e308",
    "0.5",
    "NaN",
];
const DURATIONS: &[&str] = &[
    "\"0s\"",
    "\"1ns\"",
    "\"25h\"",
    "\"1000000h\"",
    "\"-5s\"",
    "\"abc\"",
    "\"\"",
    "\"3ms\"",
    "\"1s 1ns\"",
];

/// Byte ranges of runs of ASCII digits.
fn numbers(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at].is_ascii_digit() {
            let start = at;
            while at < bytes.len() && bytes[at].is_ascii_digit() {
                at += 1;
            }
            spans.push((start, at));
        } else {
            at += 1;
        }
    }
    spans
}

/// Byte ranges of string literals (durations, names, values).
fn strings(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut open = None;
    for (at, c) in text.char_indices() {
        if c == '"' {
            match open.take() {
                None => open = Some(at),
                Some(start) => spans.push((start, at + 1)),
            }
        }
    }
    spans
}

/// The nearest char boundary at or before `at`.
fn boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn replace(text: &str, (start, end): (usize, usize), with: &str) -> String {
    format!("{}{with}{}", &text[..start], &text[end..])
}

fn mutate(text: &str, other: &str, draw: &mut Draw) -> String {
    match draw.below(5) {
        0 => {
            let spans = numbers(text);
            if spans.is_empty() {
                return text.to_string();
            }
            let span = spans[draw.below(spans.len())];
            replace(text, span, draw.pick(NUMBERS))
        }
        1 => {
            let spans = strings(text);
            if spans.is_empty() {
                return text.to_string();
            }
            let span = spans[draw.below(spans.len())];
            replace(text, span, draw.pick(DURATIONS))
        }
        2 => match text.find("node: ") {
            Some(at) => {
                let start = at + 6;
                let end = start
                    + text[start..]
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(0);
                let node = draw.below(20).to_string();
                replace(text, (start, end), &node)
            }
            None => text.to_string(),
        },
        3 => {
            let start = boundary(text, draw.below(text.len()));
            let end = boundary(text, start + draw.below(80));
            replace(text, (start, end), "")
        }
        _ => {
            let from = boundary(other, draw.below(other.len()));
            let to = boundary(other, from + draw.below(120));
            let at = boundary(text, draw.below(text.len()));
            replace(text, (at, at), &other[from..to])
        }
    }
}

/// Runs the command with a time bound; `None` if it had to be killed.
fn exit_code(mut command: Command, limit: Duration) -> (Option<i32>, String) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("faultline starts");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                use std::io::Read;
                let _ = pipe.read_to_string(&mut stderr);
            }
            return (status.code(), stderr);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return (None, "killed: took too long".to_string());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn files_under(folder: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                1
            }
        })
        .sum()
}

#[test]
fn mutated_examples_never_crash_and_leave_no_files_after_bad_input() {
    let mutations: usize = std::env::var("MUTATIONS").map_or(300, |n| n.parse().unwrap());
    let examples: Vec<String> = scenario_files()
        .iter()
        .map(|path| {
            std::fs::read_to_string(path).unwrap().replacen(
                "    expect:",
                "    limits: (events_max: 300000),\n    expect:",
                1,
            )
        })
        .collect();
    let folder = tempfile::tempdir().unwrap();
    let mut draw = Draw(20_261_126);
    let mut problems = Vec::new();
    let mut exits = [0usize; 3];
    for case in 0..mutations {
        let base = &examples[draw.below(examples.len())];
        let other = &examples[draw.below(examples.len())];
        let mut text = mutate(base, other, &mut draw);
        if draw.below(3) == 0 {
            text = mutate(&text, other, &mut draw);
        }
        let file = folder.path().join(format!("case-{case}.ron"));
        std::fs::write(&file, &text).unwrap();
        let out = folder.path().join(format!("out-{case}"));
        let mut check = cli();
        check.arg("check").arg(&file);
        let mut run = cli();
        run.args(["run", "--no-charts", "--no-report"])
            .arg(&file)
            .arg("--out")
            .arg(&out);
        for (name, command) in [("check", check), ("run", run)] {
            let (code, stderr) = exit_code(command, Duration::from_secs(30));
            let bad_code = !matches!(code, Some(0..=2));
            if bad_code || stderr.contains("panicked") {
                problems.push(format!(
                    "case {case} {name}: exit {code:?}: {stderr}\n{text}"
                ));
            }
            if let Some(code @ 0..=2) = code {
                exits[code as usize] += 1;
            }
            if name == "run" && code == Some(2) && files_under(&out) > 0 {
                problems.push(format!(
                    "case {case}: exit 2 left files in {}",
                    out.display()
                ));
            }
        }
    }
    println!("exits 0/1/2: {exits:?} over {mutations} mutated scenarios");
    assert!(problems.is_empty(), "{}", problems.join("\n---\n"));
    // The mutations must reach both sides: valid files and rejected ones.
    assert!(exits[2] > mutations / 4, "{exits:?}");
    assert!(exits[0] + exits[1] > mutations / 10, "{exits:?}");
}
