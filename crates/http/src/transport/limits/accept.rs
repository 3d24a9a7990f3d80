//! Backing off when `accept` fails.
//!
//! `accept` fails mostly for want of file descriptors (`EMFILE`), and retrying at once spins a
//! core and floods the log. Each failure doubles the pause (from 10 ms up to 1 s); the first
//! failure of an episode is logged, and the end of the episode with how many there were.

use std::time::Duration;

const FIRST_PAUSE: Duration = Duration::from_millis(10);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// The state of one run of failures.
#[derive(Default)]
pub struct AcceptBackoff {
    failures: u64,
    pause: Duration,
}

impl AcceptBackoff {
    /// Records a failure; returns how long to pause before the next `accept`.
    pub fn failed(&mut self, error: &std::io::Error) -> Duration {
        self.failures += 1;
        if self.failures == 1 {
            tracing::warn!(%error, "accept failed; backing off (raise the open-file limit or lower max_connections)");
            self.pause = FIRST_PAUSE;
        } else {
            self.pause = (self.pause * 2).min(LONGEST_PAUSE);
        }
        self.pause
    }

    /// Records a success, ending an episode of failures if there was one.
    pub fn succeeded(&mut self) {
        if self.failures > 0 {
            tracing::info!(failures = self.failures, "accepting connections again");
            self.failures = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_up_to_a_second_and_a_success_starts_over() {
        let mut backoff = AcceptBackoff::default();
        let error = std::io::Error::from_raw_os_error(24); // EMFILE
        let pauses: Vec<_> = (0..10).map(|_| backoff.failed(&error).as_millis()).collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        backoff.succeeded();
        assert_eq!(backoff.failed(&error), FIRST_PAUSE);
    }
}
