//! `faultline-election`: faultline's command line (run, check, sweep, merge,
//! shrink, replay) with Raft's leader election added to the built-in
//! protocols.

use faultline_election::Election;

fn main() -> std::process::ExitCode {
    faultline::cli::main_with(faultline::protocols::registry().with::<Election>())
}
