//! The process exit codes, shared by the command line and the desktop app: 0 success,
//! [`EXIT_INVALID`] for input the user can fix, [`EXIT_INTERNAL`] for everything else.

/// Invalid input (file, pattern or flag).
pub const EXIT_INVALID: u8 = 2;
/// Internal failure (including a desktop app that cannot open a window).
pub const EXIT_INTERNAL: u8 = 1;
