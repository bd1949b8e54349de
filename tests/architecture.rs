//! ARCHITECTURE.md's invariants, checked against the source: which module may
//! name what. A new protocol belongs in its folder; if this fails, something
//! protocol-specific leaked into the generic layers (or a layer reached past
//! its neighbours).

mod common;

use common::repo_path;
use std::path::{Path, PathBuf};

fn rust_files(under: &Path) -> Vec<PathBuf> {
    if under.is_file() {
        return vec![under.to_path_buf()];
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(under).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Whole-word occurrences of `word` in `text`, as (line number, line).
fn word_lines(text: &str, word: &str) -> Vec<(usize, String)> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            line.match_indices(word).any(|(at, _)| {
                let before = line[..at].chars().next_back();
                let after = line[at + word.len()..].chars().next();
                !before.is_some_and(is_word) && !after.is_some_and(is_word)
            })
        })
        .map(|(number, line)| (number + 1, line.trim().to_string()))
        .collect()
}

/// Every place under `paths` that names one of `words`.
fn mentions(paths: &[&str], words: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for path in paths {
        for file in rust_files(&repo_path(path)) {
            let text = std::fs::read_to_string(&file).unwrap();
            for word in words {
                for (number, line) in word_lines(&text, word) {
                    found.push(format!("{}:{number}: {word}: {line}", file.display()));
                }
            }
        }
    }
    found
}

/// The built-in protocols' names and every property they declare.
fn protocol_words() -> Vec<String> {
    let registry = faultline::protocols::registry();
    let mut words: Vec<String> = Vec::new();
    for name in registry.names() {
        words.push(name.to_string());
        for property in registry.properties(name).unwrap() {
            words.push(property.name.to_string());
        }
    }
    // Lower-case names that are not also plain words.
    words.extend(["paxos", "heartbeat", "crate::protocols", "protocols::"].map(String::from));
    words
}

#[test]
fn the_generic_layers_name_no_protocol_and_no_check() {
    let found = mentions(
        &[
            "src/run",
            "src/plot",
            "src/scenario",
            "src/cli.rs",
            "src/sim",
        ],
        &protocol_words(),
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn only_plot_knows_plotters_and_only_scenario_knows_ron() {
    let everything_but = |keep: &str| -> Vec<String> {
        rust_files(&repo_path("src"))
            .iter()
            .filter(|file| !file.starts_with(repo_path(keep)))
            .map(|file| {
                file.strip_prefix(repo_path(""))
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect()
    };
    let paths = everything_but("src/plot");
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let found = mentions(
        &paths,
        &["plotters::".to_string(), "use plotters".to_string()],
    );
    assert!(found.is_empty(), "{found:#?}");
    let paths = everything_but("src/scenario");
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let found = mentions(&paths, &["ron::".to_string(), "use ron".to_string()]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn node_is_the_ground_floor_and_protocols_see_no_engine_internals() {
    let found = mentions(
        &["src/node"],
        &["sim".to_string(), "crate::sim".to_string()],
    );
    assert!(found.is_empty(), "node/ imports the engine: {found:#?}");
    let internals: Vec<String> = ["queue", "network", "world", "clock", "nemesis"]
        .iter()
        .map(|module| module.to_string())
        .collect();
    let found: Vec<String> = mentions(&["src/protocols"], &internals)
        .into_iter()
        .filter(|line| line.contains("sim::"))
        .collect();
    assert!(
        found.is_empty(),
        "protocols reach into the engine: {found:#?}"
    );
}

/// The checks above must be able to fail: a planted mention is found.
#[test]
fn the_word_search_finds_a_planted_mention() {
    let text = "use crate::protocols::paxos;\n// a Paxos run\nlet paxos_like = 1;";
    assert_eq!(word_lines(text, "Paxos").len(), 1);
    assert_eq!(
        word_lines(text, "paxos").len(),
        1,
        "paxos_like is another word"
    );
    assert_eq!(word_lines(text, "crate::protocols").len(), 1);
}
