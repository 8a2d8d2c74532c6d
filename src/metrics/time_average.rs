//! Time-weighted average of an integer level (queue depth, busy slots, number in system).

/// The time average of an integer level N(t) over a measurement window that starts at
/// `window_start_ns` (the end of the warm-up), with exact integer arithmetic.
///
/// The area under N(t) is kept as a `u128` in level·nanoseconds, so the mean is exact up to the
/// final division. Changes before the window start only set the level: whatever level holds at
/// the window start carries in and counts from there. Each call is O(1) and allocation-free.
///
/// [`TimeAverage::max`] is the largest level held at any instant inside the window, including
/// momentary ones (a level that goes 3 → 4 → 3 at the same instant counts 4): that is what a
/// sampler observing every event would report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeAverage {
    window_start_ns: u64,
    level: u64,
    /// Time up to which `area` is accumulated; never before the window start.
    accounted_to_ns: u64,
    area: u128,
    /// Largest level seen at an instant inside the window, not counting the current level.
    max_seen: u64,
}

impl TimeAverage {
    /// A level of 0 with the window starting at `window_start_ns`.
    #[must_use]
    pub fn new(window_start_ns: u64) -> Self {
        TimeAverage {
            window_start_ns,
            level: 0,
            accounted_to_ns: window_start_ns,
            area: 0,
            max_seen: 0,
        }
    }

    /// The level changes to `new_level` at time `t_ns`. Times must not go backwards; a time
    /// earlier than the previous change is treated as that change's time.
    #[inline]
    pub fn set(&mut self, t_ns: u64, new_level: u64) {
        debug_assert!(
            t_ns >= self.accounted_to_ns || t_ns < self.window_start_ns,
            "time went backwards: {t_ns} < {}",
            self.accounted_to_ns
        );
        if new_level == self.level {
            // Nothing changes: the span is accounted when the level next changes (or at the end).
            return;
        }
        if t_ns > self.window_start_ns && t_ns >= self.accounted_to_ns {
            // The common case, inside the window with time moving on: what `set_general` does
            // when both of its window tests hold.
            self.area += u128::from(self.level) * u128::from(t_ns - self.accounted_to_ns);
            self.accounted_to_ns = t_ns;
            self.max_seen = self.max_seen.max(self.level).max(new_level);
            self.level = new_level;
            return;
        }
        self.set_general(t_ns, new_level);
    }

    /// [`Self::set`] for a change before or at the window start (or a time before the last
    /// change, treated as that change's time).
    fn set_general(&mut self, t_ns: u64, new_level: u64) {
        let t = t_ns.max(self.window_start_ns);
        if t > self.accounted_to_ns {
            self.area += u128::from(self.level) * u128::from(t - self.accounted_to_ns);
            self.accounted_to_ns = t;
        }
        if t_ns > self.window_start_ns {
            // The old level was held inside the window (it carried in, or was already counted).
            self.max_seen = self.max_seen.max(self.level);
        }
        if t_ns >= self.window_start_ns {
            self.max_seen = self.max_seen.max(new_level);
        }
        self.level = new_level;
    }

    /// The level changes by `delta` at time `t_ns`. A result below 0 is an accounting bug in
    /// the caller; it saturates at 0 (and asserts in debug builds).
    pub fn add(&mut self, t_ns: u64, delta: i64) {
        let new_level = self.level.checked_add_signed(delta);
        debug_assert!(
            new_level.is_some(),
            "level {} + {delta} underflows",
            self.level
        );
        self.set(
            t_ns,
            new_level.unwrap_or(if delta < 0 { 0 } else { u64::MAX }),
        );
    }

    /// The current level.
    #[must_use]
    pub fn level(&self) -> u64 {
        self.level
    }

    /// The start of the measurement window, nanoseconds.
    #[must_use]
    pub fn window_start_ns(&self) -> u64 {
        self.window_start_ns
    }

    /// Area under N(t) from the window start to `end_ns`, in level·nanoseconds.
    #[must_use]
    pub fn area(&self, end_ns: u64) -> u128 {
        let end = end_ns.max(self.accounted_to_ns);
        self.area + u128::from(self.level) * u128::from(end - self.accounted_to_ns)
    }

    /// Time-average level over [window start, `end_ns`]: area / window length. 0 for an empty
    /// window (end at or before the start).
    #[must_use]
    pub fn mean(&self, end_ns: u64) -> f64 {
        let end = end_ns.max(self.accounted_to_ns);
        let span = end - self.window_start_ns;
        if span == 0 {
            0.0
        } else {
            self.area(end) as f64 / span as f64
        }
    }

    /// Largest level held inside the window so far (the level carried in at the window start
    /// counts).
    #[must_use]
    pub fn max(&self) -> u64 {
        self.max_seen.max(self.level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_average_of_a_step_function() {
        let mut n = TimeAverage::new(0);
        n.set(0, 2); // 2 for 10 ns
        n.set(10, 5); // 5 for 20 ns
        n.add(30, -5); // 0 for 10 ns
        assert_eq!(n.area(40), 2 * 10 + 5 * 20);
        assert_eq!(n.mean(40), 120.0 / 40.0);
        assert_eq!(n.max(), 5);
        assert_eq!(n.level(), 0);
    }

    #[test]
    fn level_before_the_window_carries_in() {
        let mut n = TimeAverage::new(100);
        n.set(10, 7);
        n.set(50, 3); // holds at the window start
        n.set(150, 1);
        // Only [100, 150) at 3 and [150, 200) at 1 count.
        assert_eq!(n.area(200), 3 * 50 + 50);
        assert_eq!(n.mean(200), 200.0 / 100.0);
        assert_eq!(n.max(), 3, "7 was gone before the window");
    }

    #[test]
    fn carry_in_without_later_changes() {
        let mut n = TimeAverage::new(100);
        n.set(10, 4);
        assert_eq!(n.mean(300), 4.0);
        assert_eq!(n.max(), 4);
        assert_eq!(TimeAverage::new(100).mean(100), 0.0, "empty window");
    }

    #[test]
    fn momentary_levels_count_toward_max_not_area() {
        let mut n = TimeAverage::new(0);
        n.set(5, 3);
        n.set(10, 4);
        n.set(10, 3);
        assert_eq!(n.max(), 4);
        assert_eq!(n.area(20), 3 * 15);
        // A change exactly at the window start replaces the pre-window level.
        let mut w = TimeAverage::new(10);
        w.set(0, 9);
        w.set(10, 1);
        assert_eq!(w.max(), 1);
        assert_eq!(w.mean(20), 1.0);
    }

    #[test]
    fn huge_areas_do_not_overflow() {
        let mut n = TimeAverage::new(0);
        n.set(0, u64::MAX / 2);
        n.set(u64::MAX / 2, 0);
        let expected = u128::from(u64::MAX / 2) * u128::from(u64::MAX / 2);
        assert_eq!(n.area(u64::MAX), expected);
    }
}
