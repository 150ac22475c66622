//! Sluice's only source of time. Reconcilers, analysis providers and the plugin read the time from
//! a [`Clock`] handed to them, so a test can run any decision at any instant; the workspace's
//! `clippy.toml` forbids reading the system clock anywhere else. (The one exception to this
//! crate's "no IO": [`SystemClock`] and [`stopwatch`] read the machine's clocks.)

use std::fmt::Debug;
use std::sync::Arc;

use jiff::Timestamp;
use std::sync::Mutex;

/// Where the time comes from.
pub trait Clock: Debug + Send + Sync {
    /// The current wall-clock time.
    fn now(&self) -> Timestamp;
}

/// A shared clock.
pub type SharedClock = Arc<dyn Clock>;

/// A shared handle on the system's wall clock.
#[must_use]
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// The system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The one place the system clock is read.
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that shows a set time until it is moved (for tests).
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// A clock showing `at`.
    #[must_use]
    pub fn new(at: Timestamp) -> Self {
        Self(Mutex::new(at))
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A monotonic instant, for measuring how long something took (metrics only, never a decision).
#[must_use]
#[allow(clippy::disallowed_methods)] // The one place the monotonic clock is read.
pub fn stopwatch() -> std::time::Instant {
    std::time::Instant::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_shows_what_it_was_set_to() {
        let at: Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
        let clock = ManualClock::new(at);
        assert_eq!(clock.now(), at);
        let later: Timestamp = "2026-01-02T03:05:05Z".parse().unwrap();
        clock.set(later);
        assert_eq!(clock.now(), later);
    }
}
