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
    },
    /// Validate scenario files without running them.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
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
        } => {
            let options = RunOptions {
                seed,
                out,
                trace: !no_trace,
                charts: !no_charts,
                write: true,
            };
            run_file(file, options)
        }
        Command::Check { files } => check_files(&files),
    })
}

fn run_file(file: PathBuf, options: RunOptions) -> u8 {
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
            print!("{}", run::describe(&result));
            if result.summary.outcome_as_expected {
                EXIT_AS_EXPECTED
            } else {
                println!(
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
            Ok(scenario) => println!(
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
