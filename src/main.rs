//! faultline's binary: everything happens in the library; this only hands over.

fn main() -> std::process::ExitCode {
    faultline::cli::main()
}
