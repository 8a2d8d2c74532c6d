//! The `eventflow` binary: the desktop app, or the headless CLI when given a subcommand.
fn main() -> std::process::ExitCode {
    eventflow::cli::main()
}
