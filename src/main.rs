//! The `eventflow` binary: the desktop app, or the headless CLI when given a subcommand.
//!
//! The CLI parses the arguments; this file only hands it the app's launcher (when the `gui`
//! feature built one), so the command line and the UI never import each other.

fn main() -> std::process::ExitCode {
    #[cfg(feature = "gui")]
    let gui: Option<eventflow::cli::GuiLauncher> = Some(eventflow::ui::launch);
    #[cfg(not(feature = "gui"))]
    let gui: Option<eventflow::cli::GuiLauncher> = None;
    eventflow::cli::main(gui)
}
