fn main() -> std::process::ExitCode {
    faultline::cli::main_with(faultline::protocols::registry())
}
