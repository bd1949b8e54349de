//! The command line: arguments in, library calls, an exit code out. The exit
//! codes live here and only here.

use crate::run::{self, RunOptions};
use crate::scenario;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// The outcome matched `expect`.
pub const EXIT_AS_EXPECTED: u8 = 0;
/// A check's verdict differs from `expect`.
pub const EXIT_UNEXPECTED: u8 = 1;
/// Bad input: a scenario file, an argument, or an output folder we cannot write.
pub const EXIT_BAD_INPUT: u8 = 2;
/// A bug in faultline: an engine invariant broke. The message names the seed.
pub const EXIT_INTERNAL: u8 = 3;

#[derive(Parser, Debug)]
#[command(name = "faultline", version, about = "Deterministic discrete-event cluster simulator", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario once and judge it against its `expect`.
    Run {
        /// The scenario file (RON).
        file: PathBuf,
        /// Run with this seed instead of the scenario's.
        #[arg(long)]
        seed: Option<u64>,
        /// Folder for run outputs.
        #[arg(long, default_value = "output")]
        out: PathBuf,
        /// Do not write trace.jsonl (the trace is still hashed).
        #[arg(long)]
        no_trace: bool,
        /// Do not draw charts.
        #[arg(long)]
        no_charts: bool,
        /// Do not write report.html.
        #[arg(long)]
        no_report: bool,
        /// Run the seed twice and compare the trace hashes.
        #[arg(long)]
        check_determinism: bool,
    },
    /// Validate scenario files without running them.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run a scenario once per seed, in parallel, and report every outcome.
    Sweep {
        file: PathBuf,
        /// Seeds as START..END (END excluded).
        #[arg(long, value_parser = parse_seed_range, default_value = "0..1000")]
        seeds: (u64, u64),
        /// Worker threads (default: one per core). Results do not depend on it.
        #[arg(long, value_parser = parse_jobs)]
        jobs: Option<usize>,
        /// Run only shard I of N (seeds whose index is I modulo N), as I/N.
        #[arg(long, value_parser = parse_shard)]
        shard: Option<(u64, u64)>,
        /// Stop at the first seed whose outcome differs from `expect`.
        #[arg(long)]
        stop_on_first: bool,
        #[arg(long, default_value = "output")]
        out: PathBuf,
    },
    /// Combine the sweep.json files of a sharded sweep into one report.
    Merge {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Where to write the merged report (default: output/<scenario>/sweep.json).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Shrink a failing seed to a small scenario that fails the same check.
    Shrink {
        file: PathBuf,
        #[arg(long)]
        seed: u64,
        /// The most runs the search may use.
        #[arg(long, default_value_t = crate::shrink::RUNS_MAX_DEFAULT)]
        runs_max: usize,
        #[arg(long, default_value = "output")]
        out: PathBuf,
    },
    /// Re-run a run folder's scenario and seed and compare the traces.
    Replay { folder: PathBuf },
}

/// Writes to standard output. A closed pipe (`faultline sweep ... | head`)
/// silently drops what is left, as ripgrep does, instead of panicking: the
/// command still finishes its work and writes its files.
fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // Any other error writing to the terminal is no reason to stop either:
    // results are in files, and standard output only reports on them.
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// `println!` through `say`.
macro_rules! say {
    ($($arg:tt)*) => {
        say(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// The most seeds one sweep invocation runs (its report holds them all).
const SWEEP_SEEDS_MAX: u64 = 100_000_000;

fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) | Err(_) => Err(format!(
            "{text:?}: expected a number of worker threads, 1 or more"
        )),
        Ok(jobs) => Ok(jobs),
    }
}

fn parse_seed_range(text: &str) -> Result<(u64, u64), String> {
    let (start, end) = text
        .split_once("..")
        .ok_or("expected START..END, such as 0..10000")?;
    let start: u64 = start
        .trim()
        .parse()
        .map_err(|_| format!("{start:?} is not a seed"))?;
    let end: u64 = end
        .trim()
        .parse()
        .map_err(|_| format!("{end:?} is not a seed"))?;
    if start >= end {
        return Err(format!("the range {start}..{end} is empty"));
    }
    if end - start > SWEEP_SEEDS_MAX {
        return Err(format!(
            "{} seeds in one sweep; at most {SWEEP_SEEDS_MAX} (spread more over machines with --shard)",
            end - start
        ));
    }
    Ok((start, end))
}

fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let (index, count) = text.split_once('/').ok_or("expected I/N, such as 0/4")?;
    let index: u64 = index
        .trim()
        .parse()
        .map_err(|_| format!("{index:?} is not a shard index"))?;
    let count: u64 = count
        .trim()
        .parse()
        .map_err(|_| format!("{count:?} is not a shard count"))?;
    if count == 0 || index >= count {
        return Err(format!("shard {index}/{count}: expected 0 <= I < N"));
    }
    Ok((index, count))
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_AS_EXPECTED
            });
        }
    };
    ExitCode::from(match cli.command {
        Command::Run {
            file,
            seed,
            out,
            no_trace,
            no_charts,
            no_report,
            check_determinism,
        } => {
            let options = RunOptions {
                seed,
                out,
                trace: !no_trace,
                charts: !no_charts,
                report: !no_report,
                write: true,
                keep_trace: false,
            };
            run_file(file, options, check_determinism)
        }
        Command::Check { files } => check_files(&files),
        Command::Sweep {
            file,
            seeds,
            jobs,
            shard,
            stop_on_first,
            out,
        } => {
            let options = crate::sweep::SweepOptions {
                seed_start: seeds.0,
                seed_end: seeds.1,
                jobs,
                shard,
                stop_on_first,
                progress: true,
            };
            sweep_file(&file, &options, &out)
        }
        Command::Merge { files, out } => merge_files(&files, out),
        Command::Shrink {
            file,
            seed,
            runs_max,
            out,
        } => shrink_file(&file, seed, runs_max, &out),
        Command::Replay { folder } => match crate::replay::replay(&folder) {
            Ok(verdict) => {
                say(&crate::replay::describe(&verdict));
                if matches!(verdict, crate::replay::ReplayVerdict::Identical { .. }) {
                    EXIT_AS_EXPECTED
                } else {
                    EXIT_UNEXPECTED
                }
            }
            Err(error) => {
                eprintln!("error: {error}");
                EXIT_BAD_INPUT
            }
        },
    })
}

fn sweep_file(
    file: &std::path::Path,
    options: &crate::sweep::SweepOptions,
    out: &std::path::Path,
) -> u8 {
    let scenario = match scenario::load(file) {
        Ok(scenario) => scenario,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut report = match crate::sweep::sweep(&scenario, options) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_BAD_INPUT;
        }
    };
    report.scenario_file = Some(file.display().to_string());
    say(&crate::sweep::describe(&report));
    let name = match options.shard {
        Some((index, count)) => format!("sweep-shard-{index}-of-{count}.json"),
        None => "sweep.json".to_string(),
    };
    let folder = out.join(&scenario.name);
    let path = folder.join(name);
    let mut bytes = serde_json::to_vec_pretty(&report).expect("reports serialize");
    bytes.push(b'\n');
    let page =
        crate::report::sweep_page(&serde_json::to_value(&report).expect("reports serialize"));
    if let Err(error) = std::fs::create_dir_all(&folder)
        .map_err(|e| e.to_string())
        .and_then(|()| run::write_atomic(&path, &bytes).map_err(|e| e.to_string()))
        .and_then(|()| {
            run::write_atomic(&path.with_extension("html"), page.as_bytes())
                .map_err(|e| e.to_string())
        })
    {
        eprintln!("error: {error}");
        return EXIT_BAD_INPUT;
    }
    say!(
        "wrote {} and its page {}",
        path.display(),
        path.with_extension("html").display()
    );
    if let Some(seed) = report.unexpected_seeds.first() {
        say!("reproduce with: faultline run {} --seed {seed}   (or shrink it: faultline shrink {} --seed {seed})", file.display(), file.display());
        EXIT_UNEXPECTED
    } else {
        EXIT_AS_EXPECTED
    }
}

fn merge_files(files: &[PathBuf], out: Option<PathBuf>) -> u8 {
    let mut shards = Vec::new();
    for file in files {
        let parsed = std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                serde_json::from_str::<crate::sweep::SweepReport>(&text).map_err(|e| e.to_string())
            });
        match parsed {
            Ok(report) => shards.push(report),
            Err(error) => {
                eprintln!("error: {}: not a sweep report: {error}", file.display());
                return EXIT_BAD_INPUT;
            }
        }
    }
    let merged = match crate::sweep::merge(shards) {
        Ok(merged) => merged,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_BAD_INPUT;
        }
    };
    say(&crate::sweep::describe(&merged));
    let path = out.unwrap_or_else(|| {
        PathBuf::from("output")
            .join(&merged.scenario)
            .join("sweep.json")
    });
    let mut bytes = serde_json::to_vec_pretty(&merged).expect("reports serialize");
    bytes.push(b'\n');
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let page =
        crate::report::sweep_page(&serde_json::to_value(&merged).expect("reports serialize"));
    if let Err(error) = run::write_atomic(&path, &bytes)
        .and_then(|()| run::write_atomic(&path.with_extension("html"), page.as_bytes()))
    {
        eprintln!("error: {error}");
        return EXIT_BAD_INPUT;
    }
    say!(
        "wrote {} and its page {}",
        path.display(),
        path.with_extension("html").display()
    );
    if merged.unexpected_seeds.is_empty() {
        EXIT_AS_EXPECTED
    } else {
        EXIT_UNEXPECTED
    }
}

fn shrink_file(file: &std::path::Path, seed: u64, runs_max: usize, out: &std::path::Path) -> u8 {
    let scenario = match scenario::load(file) {
        Ok(scenario) => scenario,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_BAD_INPUT;
        }
    };
    match crate::shrink::shrink(&scenario, seed, out, runs_max) {
        Ok(result) => {
            say(&crate::shrink::describe(&result));
            EXIT_AS_EXPECTED
        }
        Err(error) => {
            eprintln!("error: {error}");
            EXIT_BAD_INPUT
        }
    }
}

fn run_file(file: PathBuf, options: RunOptions, check_determinism: bool) -> u8 {
    let scenario = match scenario::load(&file) {
        Ok(scenario) => scenario,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_BAD_INPUT;
        }
    };
    let seed = options.seed.unwrap_or(scenario.seed);
    // A panic here is an engine invariant breaking: report it with what is
    // needed to reproduce it, and exit with the internal-error code.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run::run(&scenario, &options)
    }));
    match outcome {
        Ok(Ok(result)) => {
            say(&run::describe(&result));
            if check_determinism {
                let again = RunOptions {
                    write: false,
                    charts: false,
                    ..options.clone()
                };
                match run::run(&scenario, &again) {
                    Ok(second) if second.summary.trace_hash == result.summary.trace_hash => {
                        say!("determinism: a second run gave the same trace hash");
                    }
                    Ok(second) => {
                        eprintln!(
                            "internal error: nondeterminism: seed {seed} gave trace hashes {} and {}; this is a bug in faultline.\n\
                             reproduce with: faultline run {} --seed {seed} --check-determinism",
                            result.summary.trace_hash,
                            second.summary.trace_hash,
                            file.display()
                        );
                        return EXIT_INTERNAL;
                    }
                    Err(error) => {
                        eprintln!("error: {error}");
                        return EXIT_BAD_INPUT;
                    }
                }
            }
            if result.summary.outcome_as_expected {
                EXIT_AS_EXPECTED
            } else {
                say!(
                    "reproduce with: faultline run {} --seed {seed}",
                    file.display()
                );
                EXIT_UNEXPECTED
            }
        }
        Ok(Err(error)) => {
            eprintln!("error: {error}");
            EXIT_BAD_INPUT
        }
        Err(_) => {
            eprintln!(
                "internal error: an engine invariant broke (see the message above); this is a bug in faultline.\n\
                 reproduce with: faultline run {} --seed {seed}",
                file.display()
            );
            EXIT_INTERNAL
        }
    }
}

fn check_files(files: &[PathBuf]) -> u8 {
    let mut code = EXIT_AS_EXPECTED;
    for file in files {
        match scenario::load(file) {
            Ok(scenario) => say!(
                "ok: {} ({}: {} nodes, {} faults{}, {} checks, expect {})",
                file.display(),
                scenario.name,
                scenario.node_count,
                scenario.faults.len(),
                if scenario.nemesis.is_some() {
                    " + random nemesis"
                } else {
                    ""
                },
                scenario.checks.len(),
                scenario.expect
            ),
            Err(error) => {
                eprintln!("error: {error}");
                code = EXIT_BAD_INPUT;
            }
        }
    }
    code
}
