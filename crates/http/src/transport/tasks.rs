//! Who owns what a connection starts. Every connection's task, every stream served straight on
//! the socket and every upgraded WebSocket is tracked here, and all of them end when the server
//! stops: the listener closes first (a new connection is refused from that moment), the live
//! streams end at once (one on its own socket that said last words waits up to 2 s for the
//! client to close), requests in flight are finished, and [`Tasks::drain`] waits for the last
//! of them, but no longer than the drain deadline (mini-redis's shutdown, with tokio-util's
//! `CancellationToken` and `TaskTracker`).
//!
//! The streams run on a runtime of their own ([`StreamRuntime`]). A fan-out to streams that are
//! not parked (catching up, a full socket, through hyper) wakes each one's task; on the
//! server's runtime, the next declaration's connection would wait behind all of them in the
//! same run queue, at every step (read, commit, answer), and seconds pass during a burst. On
//! their own threads, the operating system shares the cores between the streams and
//! everything else, and a request waits milliseconds. (A parked stream's frames the fan-out
//! writes itself, on a thread the server's runtime sets aside for that meanwhile.)

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TaskTrackerToken;

/// How long a stopping server waits for its connections, unless configured otherwise: a request
/// in flight is usually answered in milliseconds, and the streams end at once (or within 2 s of
/// their last words).
pub const DEFAULT_DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// The stop signal and the tracker of everything that must end before the server has stopped.
/// Clones share both.
#[derive(Clone)]
pub struct Tasks {
    stopping: CancellationToken,
    tracker: TaskTracker,
    drain_deadline: Duration,
    /// Started by the first stream.
    streams: Arc<OnceLock<StreamRuntime>>,
}

impl Default for Tasks {
    fn default() -> Tasks {
        Tasks::new(DEFAULT_DRAIN_DEADLINE)
    }
}

impl Tasks {
    pub fn new(drain_deadline: Duration) -> Tasks {
        Tasks {
            stopping: CancellationToken::new(),
            tracker: TaskTracker::new(),
            drain_deadline,
            streams: Arc::default(),
        }
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

    /// Spawns a live stream's task on the streams' runtime; the server waits for it too. What
    /// the task creates (sockets, timers) belongs to that runtime: create them in the task.
    pub(crate) fn spawn_stream(&self, task: impl Future<Output = ()> + Send + 'static) {
        match self.streams.get_or_init(StreamRuntime::start).handle() {
            Some(handle) => self.tracker.spawn_on(task, handle),
            None => self.tracker.spawn(task),
        };
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

/// The streams' threads, one per core. Dropped with the last clone of [`Tasks`], after the
/// streams have ended; dropping does not wait for its threads, so that it may happen anywhere
/// (a runtime cannot be dropped inside another's task).
struct StreamRuntime(Option<tokio::runtime::Runtime>);

impl StreamRuntime {
    fn start() -> StreamRuntime {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_name("tryvoha-streams")
            .worker_threads(std::thread::available_parallelism().map_or(2, usize::from))
            .enable_all()
            .build();
        match runtime {
            Ok(runtime) => StreamRuntime(Some(runtime)),
            Err(error) => {
                // Still served, on the server's runtime, only with less separation.
                tracing::warn!(%error, "cannot start the streams' runtime; streams share the server's");
                StreamRuntime(None)
            }
        }
    }

    fn handle(&self) -> Option<&tokio::runtime::Handle> {
        self.0.as_ref().map(tokio::runtime::Runtime::handle)
    }
}

impl Drop for StreamRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_stream_runs_on_the_streams_threads_and_the_server_waits_for_it() {
        let tasks = Tasks::new(Duration::from_secs(5));
        let (ended, stop) = (Arc::new(AtomicBool::new(false)), tasks.stop_signal());
        let (thread_name, ended_in_task) = (Arc::new(Mutex::new(None)), ended.clone());
        let name_in_task = thread_name.clone();
        tasks.spawn_stream(async move {
            *name_in_task.lock().unwrap_or_else(|e| e.into_inner()) = std::thread::current().name().map(str::to_owned);
            stop.cancelled().await;
            // A timer made here is the streams' runtime's: it still runs while that one does.
            tokio::time::sleep(Duration::from_millis(10)).await;
            ended_in_task.store(true, Ordering::SeqCst);
        });
        tasks.stop();
        assert_eq!(tasks.drain().await, 0, "the stream ended within the deadline");
        assert!(ended.load(Ordering::SeqCst), "drain waited for the stream's task");
        let name = thread_name.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(name.as_deref(), Some("tryvoha-streams"));
        // Dropped inside a task of another runtime, which a runtime's own drop would refuse.
        drop(tasks);
    }
}
