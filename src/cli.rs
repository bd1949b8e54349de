//! The command line: arguments in, library calls, an exit code out. The exit
//! codes live here and only here, and every error leaves through one path
//! (`try_main`), as in ripgrep.
//!
//! `main_with` is the whole binary for any set of protocols: faultline's own
//! `main` hands it the built-in ones, and a user's crate hands it theirs
//! (see docs/custom-protocol.md).

use crate::run::{self, RunOptions};
use crate::scenario::{self, Registry, Scenario};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
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
struct Cli {
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

/// The name this binary was started by (`faultline`, or a user's binary
/// built with `main_with`), for the commands it suggests: a user's protocol
/// is only known to the binary that registered it.
fn program() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(Path::new)
        .and_then(Path::file_stem)
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "faultline".to_string())
}

/// The binary with the protocols of `registry` (built-in ones or not): every
/// subcommand, the same exit codes.
pub fn main_with(registry: Registry) -> ExitCode {
    crate::report::name_program(&program());
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
    match try_main(cli, &registry) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("{}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// Why a command could not do its work: bad input (exit 2) or a faultline
/// bug (exit 3), with the words to print.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn input(error: impl std::fmt::Display) -> Failure {
        Failure {
            code: EXIT_BAD_INPUT,
            message: format!("error: {error}"),
        }
    }

    fn internal(what: &str, reproduce: String) -> Failure {
        Failure {
            code: EXIT_INTERNAL,
            message: format!(
                "internal error: {what}; this is a bug in faultline.\nreproduce with: {reproduce}"
            ),
        }
    }
}

type Outcome = Result<u8, Failure>;

/// Runs a command: `Ok` with exit 0 or 1, `Err` for everything else.
fn try_main(cli: Cli, registry: &Registry) -> Outcome {
    match cli.command {
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
            run_file(&file, registry, &options, check_determinism)
        }
        Command::Check { files } => check_files(&files, registry),
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
            sweep_file(&file, registry, &options, &out)
        }
        Command::Merge { files, out } => merge_files(&files, out),
        Command::Shrink {
            file,
            seed,
            runs_max,
            out,
        } => shrink_file(&file, registry, seed, runs_max, &out),
        Command::Replay { folder } => {
            let verdict = crate::replay::replay(&folder, registry).map_err(Failure::input)?;
            say(&crate::replay::describe(&verdict));
            Ok(
                if matches!(verdict, crate::replay::ReplayVerdict::Identical { .. }) {
                    EXIT_AS_EXPECTED
                } else {
                    EXIT_UNEXPECTED
                },
            )
        }
    }
}

fn load(file: &Path, registry: &Registry) -> Result<Scenario, Failure> {
    scenario::load(file, registry).map_err(Failure::input)
}

/// Runs `work`, turning a panic (a broken engine invariant; the panic
/// message has been printed) into an internal error that says how to
/// reproduce it.
fn guarded<T>(reproduce: String, work: impl FnOnce() -> T) -> Result<T, Failure> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|_| {
        Failure::internal(
            "an engine invariant broke (see the message above)",
            reproduce,
        )
    })
}

fn run_file(file: &Path, registry: &Registry, options: &RunOptions, determinism: bool) -> Outcome {
    let scenario = load(file, registry)?;
    let seed = options.seed.unwrap_or(scenario.seed);
    let reproduce = format!("{} run {} --seed {seed}", program(), file.display());
    let result =
        guarded(reproduce.clone(), || run::run(&scenario, options))?.map_err(Failure::input)?;
    say(&run::describe(&result));
    if determinism {
        let check = guarded(reproduce.clone(), || {
            run::check_determinism(&scenario, options, &result)
        })?
        .map_err(Failure::input)?;
        if let Some(second) = check.differing {
            return Err(Failure::internal(
                &format!(
                    "nondeterminism: seed {seed} gave trace hashes {} and {second}",
                    check.hash
                ),
                format!("{reproduce} --check-determinism"),
            ));
        }
        say!("determinism: a second run gave the same trace hash");
    }
    if result.summary.outcome_as_expected {
        Ok(EXIT_AS_EXPECTED)
    } else {
        say!("reproduce with: {reproduce}");
        Ok(EXIT_UNEXPECTED)
    }
}

fn sweep_file(
    file: &Path,
    registry: &Registry,
    options: &crate::sweep::SweepOptions,
    out: &Path,
) -> Outcome {
    let scenario = load(file, registry)?;
    let mut report = match crate::sweep::sweep(&scenario, options) {
        Ok(report) => report,
        Err(crate::sweep::SweepError::Internal { seed, .. }) => {
            return Err(Failure::internal(
                &format!("an engine invariant broke in seed {seed} (see the message above)"),
                format!("{} run {} --seed {seed}", program(), file.display()),
            ))
        }
        Err(error) => return Err(Failure::input(error)),
    };
    report.scenario_file = Some(file.display().to_string());
    say(&crate::sweep::describe(&report));
    let name = match options.shard {
        Some((index, count)) => format!("sweep-shard-{index}-of-{count}.json"),
        None => "sweep.json".to_string(),
    };
    let path = out.join(&scenario.name).join(name);
    write_sweep(&report, &path)?;
    if let Some(seed) = report.unexpected_seeds.first() {
        let program = program();
        say!("reproduce with: {program} run {} --seed {seed}   (or shrink it: {program} shrink {} --seed {seed})", file.display(), file.display());
        Ok(EXIT_UNEXPECTED)
    } else {
        Ok(EXIT_AS_EXPECTED)
    }
}

/// Writes a sweep report and its page beside it.
fn write_sweep(report: &crate::sweep::SweepReport, path: &Path) -> Result<(), Failure> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|error| {
            Failure::input(format!("cannot write {}: {error}", parent.display()))
        })?;
    }
    let mut bytes = serde_json::to_vec_pretty(report).expect("reports serialize");
    bytes.push(b'\n');
    run::write_atomic(path, &bytes).map_err(Failure::input)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).expect("we just wrote JSON");
    let page = crate::report::sweep_page(&value);
    run::write_atomic(&path.with_extension("html"), page.as_bytes()).map_err(Failure::input)?;
    say!(
        "wrote {} and its page {}",
        path.display(),
        path.with_extension("html").display()
    );
    Ok(())
}

fn merge_files(files: &[PathBuf], out: Option<PathBuf>) -> Outcome {
    let mut shards = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|error| Failure::input(format!("{}: {error}", file.display())))?;
        let report: crate::sweep::SweepReport = serde_json::from_str(&text).map_err(|error| {
            Failure::input(format!("{}: not a sweep report: {error}", file.display()))
        })?;
        shards.push(report);
    }
    let merged = crate::sweep::merge(shards).map_err(Failure::input)?;
    say(&crate::sweep::describe(&merged));
    let path = out.unwrap_or_else(|| {
        PathBuf::from("output")
            .join(&merged.scenario)
            .join("sweep.json")
    });
    write_sweep(&merged, &path)?;
    Ok(if merged.unexpected_seeds.is_empty() {
        EXIT_AS_EXPECTED
    } else {
        EXIT_UNEXPECTED
    })
}

fn shrink_file(
    file: &Path,
    registry: &Registry,
    seed: u64,
    runs_max: usize,
    out: &Path,
) -> Outcome {
    let scenario = load(file, registry)?;
    let reproduce = format!("{} shrink {} --seed {seed}", program(), file.display());
    let result = guarded(reproduce, || {
        crate::shrink::shrink(&scenario, registry, seed, out, runs_max)
    })?
    .map_err(Failure::input)?;
    say(&crate::shrink::describe(&result));
    Ok(EXIT_AS_EXPECTED)
}

fn check_files(files: &[PathBuf], registry: &Registry) -> Outcome {
    let mut failed = 0;
    for file in files {
        match scenario::load(file, registry) {
            Ok(scenario) => say!(
                "ok: {} ({}: {} on {} nodes, {} faults{}, {} checks, expect {})",
                file.display(),
                scenario.name,
                scenario.protocol.name(),
                scenario.node_count,
                scenario.faults.len(),
                if scenario.nemesis.is_some() {
                    " + random nemesis"
                } else {
                    ""
                },
                scenario.protocol.checks().len(),
                scenario.expect
            ),
            Err(error) => {
                eprintln!("error: {error}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        return Err(Failure {
            code: EXIT_BAD_INPUT,
            message: format!("{failed} of {} file(s) are not valid", files.len()),
        });
    }
    Ok(EXIT_AS_EXPECTED)
}
