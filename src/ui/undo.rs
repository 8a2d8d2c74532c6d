//! Undo and redo for every edit of the scenario, by whole-scenario snapshots.
//!
//! Scenarios are small (kilobytes), so keeping a copy per edit is simpler and more robust than
//! inverse operations: any edit, from a text field to a node drag, is undoable the same way.
//! Edits with the same key in quick succession (typing into one field, dragging one node)
//! coalesce into one step, so Ctrl+Z undoes a word or a drag, not a keystroke or a pixel.

use crate::model::Scenario;

/// Steps kept; the oldest are dropped beyond this.
const MAX_STEPS: usize = 200;
/// Edits of the same field closer together than this are one undo step.
const COALESCE_S: f64 = 1.0;

/// The undo and redo stacks of one document.
#[derive(Debug, Default)]
pub struct UndoStack {
    undo: Vec<Scenario>,
    redo: Vec<Scenario>,
    /// Key and time of the last recorded edit, for coalescing.
    last: Option<(String, f64)>,
}

impl UndoStack {
    /// Records that `before` is about to be replaced by an edit identified by `key` at time
    /// `now_s` (any monotonic clock, seconds).
    pub fn record(&mut self, before: &Scenario, key: &str, now_s: f64) {
        self.redo.clear();
        if let Some((last_key, last_s)) = &mut self.last
            && last_key == key
            && now_s - *last_s < COALESCE_S
        {
            *last_s = now_s;
            return;
        }
        self.last = Some((key.to_owned(), now_s));
        self.undo.push(before.clone());
        if self.undo.len() > MAX_STEPS {
            self.undo.remove(0);
        }
    }

    /// The scenario before the last edit, given the current one (which becomes redoable).
    pub fn undo(&mut self, current: &Scenario) -> Option<Scenario> {
        let previous = self.undo.pop()?;
        self.redo.push(current.clone());
        self.last = None;
        Some(previous)
    }

    /// The scenario the last undo replaced, given the current one.
    pub fn redo(&mut self, current: &Scenario) -> Option<Scenario> {
        let next = self.redo.pop()?;
        self.undo.push(current.clone());
        self.last = None;
        Some(next)
    }

    /// Is there anything to undo?
    #[must_use]
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Is there anything to redo?
    #[must_use]
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// Ends coalescing: the next edit starts a new step even with the same key.
    pub fn seal(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(n: &str) -> Scenario {
        Scenario::empty(n)
    }

    #[test]
    fn undo_and_redo_walk_the_history() {
        let mut u = UndoStack::default();
        u.record(&named("a"), "name", 0.0);
        u.record(&named("b"), "seed", 0.1);
        let back = u.undo(&named("c")).unwrap();
        assert_eq!(back.name, "b");
        assert_eq!(u.undo(&back).unwrap().name, "a");
        assert!(!u.can_undo());
        assert_eq!(u.redo(&named("a")).unwrap().name, "b");
        assert_eq!(u.redo(&named("b")).unwrap().name, "c");
        assert!(!u.can_redo());
    }

    #[test]
    fn quick_edits_of_one_field_are_one_step() {
        let mut u = UndoStack::default();
        u.record(&named("a"), "name", 0.0);
        u.record(&named("ab"), "name", 0.5);
        u.record(&named("abc"), "name", 0.9);
        assert_eq!(u.undo(&named("abcd")).unwrap().name, "a");
        assert!(!u.can_undo());
        // After a pause the same field starts a new step.
        u.record(&named("a"), "name", 5.0);
        u.record(&named("x"), "name", 7.0);
        assert_eq!(u.undo(&named("y")).unwrap().name, "x");
    }

    #[test]
    fn a_new_edit_clears_redo() {
        let mut u = UndoStack::default();
        u.record(&named("a"), "k", 0.0);
        let _ = u.undo(&named("b"));
        assert!(u.can_redo());
        u.record(&named("a"), "k", 3.0);
        assert!(!u.can_redo());
    }
}
