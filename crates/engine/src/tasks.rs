//! The engine's own work, handed to an owner: the writer thread and the expiry task. The owner
//! (the server) watches them while it serves, since either stopping then is a failure, and stops
//! them when it is done: the expiry task by aborting it, the writer with [`WriterThread::stop`],
//! which lets it answer every request queued before and joins its thread.

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::writer::{Message, panic_message};

/// What [`crate::Engine::start_with_tasks`] hands over. Dropped, both go on until the last
/// `Engine` handle is dropped, as [`crate::Engine::start`] leaves them.
pub struct EngineTasks {
    pub writer: WriterThread,
    /// Ends timed alerts; it never returns on its own while an `Engine` handle lives.
    pub expiry: JoinHandle<()>,
}

/// The single writer's thread, to be stopped and joined.
pub struct WriterThread {
    pub(crate) thread: std::thread::JoinHandle<Result<(), String>>,
    /// Weak, so that this handle never keeps the queue open: without it the writer still ends
    /// when the last `Engine` handle is dropped.
    pub(crate) queue: mpsc::WeakSender<Message>,
}

impl WriterThread {
    /// Stops the writer once the requests queued before this call are decided, written and
    /// answered (later ones are refused as the engine shutting down), and waits for its thread
    /// to end. `Err` says why it ended, if it panicked, now or earlier: a panic is never lost.
    pub async fn stop(self) -> Result<(), String> {
        if let Some(queue) = self.queue.upgrade() {
            // Fails only if the writer already ended; its thread says how.
            let _ = queue.send(Message::Stop).await;
        }
        let thread = self.thread;
        match tokio::task::spawn_blocking(move || thread.join()).await {
            Ok(Ok(ended)) => ended,
            Ok(Err(panic)) => Err(format!("the writer thread panicked: {}", panic_message(panic.as_ref()))),
            Err(error) => Err(format!("cannot wait for the writer thread: {error}")),
        }
    }
}
