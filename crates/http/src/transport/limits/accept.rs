//! Backing off when `accept` fails.
//!
//! `accept` fails mostly for want of file descriptors (`EMFILE`), and retrying at once spins a
//! core and floods the log. Each failure doubles the pause (from 10 ms up to 1 s); the first
//! failure of an episode is logged, and the end of the episode with how many there were.
//!
//! A failure after which the waiting connections were answered (through the reserve
//! descriptor, [`super::ReserveDescriptor`]) pauses only 10 ms: the loop made progress, the
//! queue was answered, and a longer pause would only keep the next clients waiting for their
//! 503. Failures that answered nothing (no reserve to give back) double the pause as before.

use std::time::Duration;

const FIRST_PAUSE: Duration = Duration::from_millis(10);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// The state of one run of failures.
#[derive(Default)]
pub struct AcceptBackoff {
    failures: u64,
    /// Connections answered 503 after the failures of this episode.
    answered: u64,
    pause: Duration,
}

impl AcceptBackoff {
    /// Records a failure after which `answered` waiting connections were refused; returns how
    /// long to pause before the next `accept`.
    pub fn failed(&mut self, error: &std::io::Error, answered: usize) -> Duration {
        self.failures += 1;
        self.answered += answered as u64;
        if self.failures == 1 {
            tracing::warn!(
                %error,
                answered,
                "accept failed; backing off (raise the open-file limit or lower max_connections: docs/limits.md)"
            );
        }
        self.pause = if self.failures == 1 || answered > 0 { FIRST_PAUSE } else { (self.pause * 2).min(LONGEST_PAUSE) };
        self.pause
    }

    /// Records a success, ending an episode of failures if there was one.
    pub fn succeeded(&mut self) {
        if self.failures > 0 {
            tracing::info!(failures = self.failures, answered = self.answered, "accepting connections again");
            self.failures = 0;
            self.answered = 0;
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
        let pauses: Vec<_> = (0..10).map(|_| backoff.failed(&error, 0).as_millis()).collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        backoff.succeeded();
        assert_eq!(backoff.failed(&error, 0), FIRST_PAUSE);
    }

    #[test]
    fn a_failure_whose_waiting_connections_were_answered_pauses_briefly_and_the_next_doubles_again() {
        let mut backoff = AcceptBackoff::default();
        let error = std::io::Error::from_raw_os_error(24); // EMFILE
        let answered = [0, 0, 0, 5, 0, 0, 1, 1];
        let pauses: Vec<_> = answered.iter().map(|&n| backoff.failed(&error, n).as_millis()).collect();
        assert_eq!(pauses, [10, 20, 40, 10, 20, 40, 10, 10]);
        assert_eq!((backoff.failures, backoff.answered), (8, 7));
        backoff.succeeded();
        assert_eq!((backoff.failures, backoff.answered), (0, 0));
    }
}
