//! Holds each check file to its mutation score (issue 16). The full
//! cargo-mutants run takes 20 to 60 minutes a file, too long for CI, so
//! docs/mutation-record.txt keeps, per check file, the fingerprint of the text
//! that was measured (POSIX `cksum`: CRC and length) and its score. This test
//! fails when a check file changes without the record being updated (re-run
//! `scripts/mutants <file>`), when a check file is not in the record, and when
//! docs/testing.md does not give the recorded score.

use std::fs;
use std::path::Path;

const RECORD: &str = "docs/mutation-record.txt";

/// One line of the record.
struct Entry {
    file: String,
    crc: u32,
    bytes: usize,
    score: String,
    tests: Vec<String>,
}

fn repo(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn record() -> Vec<Entry> {
    let text = fs::read_to_string(repo(RECORD)).expect("the mutation record");
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|(index, line)| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(
                fields.len(),
                7,
                "{RECORD}:{}: want `file crc bytes score date version tests`, got {line:?}",
                index + 1
            );
            Entry {
                file: fields[0].to_string(),
                crc: fields[1].parse().expect("a CRC"),
                bytes: fields[2].parse().expect("a length"),
                score: fields[3].to_string(),
                tests: fields[6].split(',').map(str::to_string).collect(),
            }
        })
        .collect()
}

/// POSIX `cksum`: CRC-32 (polynomial 0x04C11DB7, most significant bit
/// first) over the bytes and then the length, complemented.
fn cksum(bytes: &[u8]) -> u32 {
    fn feed(crc: u32, byte: u8) -> u32 {
        (0..8).fold(crc ^ (u32::from(byte) << 24), |crc, _| {
            if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            }
        })
    }
    let mut crc = bytes.iter().fold(0, |crc, &byte| feed(crc, byte));
    let mut length = bytes.len();
    while length > 0 {
        crc = feed(crc, (length & 0xff) as u8);
        length >>= 8;
    }
    !crc
}

#[test]
fn cksum_matches_the_posix_command() {
    // `printf '' | cksum` and `printf 123456789 | cksum`.
    assert_eq!(cksum(b""), 4_294_967_295);
    assert_eq!(cksum(b"123456789"), 930_766_865);
}

#[test]
fn every_check_file_is_as_it_was_when_its_mutants_were_run() {
    let mut stale = Vec::new();
    for entry in record() {
        let text = fs::read(repo(&entry.file))
            .unwrap_or_else(|e| panic!("{RECORD} lists {}: {e}", entry.file));
        if (cksum(&text), text.len()) != (entry.crc, entry.bytes) {
            stale.push(format!(
                "{} changed since its mutation score ({}) was recorded: run `scripts/mutants {}`, kill what it misses on a verdict's path (or list it in docs/testing.md with the reason), and commit {RECORD}",
                entry.file, entry.score, entry.file
            ));
        }
    }
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

/// Every check file: each protocol's, and each example crate's (a protocol
/// in a crate of its own).
fn check_files() -> Vec<std::path::PathBuf> {
    let protocols = fs::read_dir(repo("src/protocols"))
        .unwrap()
        .map(|folder| folder.unwrap().path().join("check.rs"));
    let examples = fs::read_dir(repo("examples"))
        .unwrap()
        .map(|folder| folder.unwrap().path().join("src/check.rs"));
    let mut files: Vec<_> = protocols.chain(examples).filter(|f| f.exists()).collect();
    files.sort();
    files
}

/// Where a listed file's test targets live: an example crate's own `tests/`,
/// or the main crate's.
fn tests_folder(file: &str) -> String {
    match file.strip_prefix("examples/") {
        Some(rest) => format!("examples/{}/tests", rest.split('/').next().unwrap()),
        None => "tests".to_string(),
    }
}

#[test]
fn every_check_file_is_in_the_record() {
    let listed: Vec<String> = record().into_iter().map(|e| e.file).collect();
    let mut missing = Vec::new();
    for check in check_files() {
        let relative = check
            .strip_prefix(repo(""))
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if !listed.contains(&relative) {
            let text = fs::read(&check).unwrap();
            missing.push(format!(
                "{relative} {} {} unmeasured - - <its test targets>",
                cksum(&text),
                text.len()
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "check files missing from {RECORD}; add a line for each, then run scripts/mutants on it:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_listed_test_target_exists() {
    for entry in record() {
        for test in &entry.tests {
            let folder = tests_folder(&entry.file);
            let exists = test == "lib" || repo(&format!("{folder}/{test}.rs")).exists();
            assert!(exists, "{}: no test target {test}", entry.file);
        }
    }
}

#[test]
fn docs_testing_gives_each_recorded_score() {
    let testing = fs::read_to_string(repo("docs/testing.md")).unwrap();
    for entry in record() {
        if entry.score == "unmeasured" {
            continue;
        }
        let (caught, viable) = entry
            .score
            .split_once('/')
            .unwrap_or_else(|| panic!("{}: score {:?}", entry.file, entry.score));
        let (caught, viable): (u32, u32) = (caught.parse().unwrap(), viable.parse().unwrap());
        assert!(caught <= viable, "{}: {}", entry.file, entry.score);
        let row = testing
            .lines()
            .find(|line| line.starts_with('|') && line.contains(&format!("`{}`", entry.file)))
            .unwrap_or_else(|| panic!("docs/testing.md has no row for `{}`", entry.file));
        assert!(
            row.contains(&format!("{caught}/{viable}")),
            "docs/testing.md's row for {} does not give {}: {row}",
            entry.file,
            entry.score
        );
    }
}
