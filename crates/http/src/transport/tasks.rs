//! Who owns what a connection starts. Every connection's task, every stream served straight on
//! the socket and every upgraded WebSocket is tracked here, and all of them end when the server
//! stops: the listener closes first (a new connection is refused from that moment), the live
//! streams end at once, requests in flight are finished, and [`Tasks::drain`] waits for the last
//! of them, but no longer than the drain deadline (mini-redis's shutdown, with tokio-util's
//! `CancellationToken` and `TaskTracker`).

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TaskTrackerToken;

/// How long a stopping server waits for its connections, unless configured otherwise: a request
/// in flight is usually answered in milliseconds, and the streams end at once.
pub const DEFAULT_DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// The stop signal and the tracker of everything that must end before the server has stopped.
/// Clones share both.
#[derive(Clone)]
pub struct Tasks {
    stopping: CancellationToken,
    tracker: TaskTracker,
    drain_deadline: Duration,
}

impl Default for Tasks {
    fn default() -> Tasks {
        Tasks::new(DEFAULT_DRAIN_DEADLINE)
    }
}

impl Tasks {
    pub fn new(drain_deadline: Duration) -> Tasks {
        Tasks { stopping: CancellationToken::new(), tracker: TaskTracker::new(), drain_deadline }
    }

    /// Starts the shutdown (a second call changes nothing): the listener stops accepting and
    /// every tracked task is asked to end.
    pub fn stop(&self) {
        self.stopping.cancel();
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.is_cancelled()
    }

    /// Resolves once the server is stopping.
    pub fn stopping(&self) -> WaitForCancellationFuture<'_> {
        self.stopping.cancelled()
    }

    /// The stop signal alone, for a task that must own it (a response body's stream).
    pub(crate) fn stop_signal(&self) -> CancellationToken {
        self.stopping.clone()
    }

    /// Spawns a task that the server waits for when it stops.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tracker.spawn(task);
    }

    /// Counts as a tracked task until dropped: for a task spawned elsewhere (axum spawns the
    /// upgraded WebSocket's).
    pub(crate) fn track(&self) -> TaskTrackerToken {
        self.tracker.token()
    }

    /// Waits until every tracked task has ended, at most the drain deadline; returns how many
    /// were still running then (0: all ended), and says so in the log. Call after [`Tasks::stop`].
    pub async fn drain(&self) -> usize {
        self.tracker.close();
        if tokio::time::timeout(self.drain_deadline, self.tracker.wait()).await.is_ok() {
            return 0;
        }
        let left = self.tracker.len();
        tracing::warn!(left, deadline = ?self.drain_deadline, "connections still open at the drain deadline; stopping without them");
        left
    }
}
