//! The bundled example scenarios offered under File ▸ Open example: the embedded ones of
//! [`crate::examples`], with their names read once for the menu.
//!
//! An opened example is an untitled document (no path): Save asks where, so the bundled text
//! is never overwritten, and the dialog suggests the example's file name.

pub use crate::examples::{DEFAULT_EXAMPLE, Example, default_example};

/// One menu entry: the scenario's name and the example.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// The scenario's `name`.
    pub name: String,
    /// The embedded file.
    pub example: Example,
}

/// Every bundled example with its name, sorted by name.
#[must_use]
pub fn bundled() -> Vec<Listed> {
    crate::examples::all()
        .into_iter()
        .map(|example| Listed {
            name: example.name(),
            example,
        })
        .collect()
}
