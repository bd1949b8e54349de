//! faultline's binary: everything happens in the library; this only hands
//! over, with the built-in protocols.

fn main() -> std::process::ExitCode {
    faultline::cli::main_with(faultline::protocols::registry())
}
