//! How blocking store calls drive the asynchronous driver.
//!
//! tokio-postgres splits a connection in two: the `Connection`, which owns the socket and must
//! run on a tokio runtime, and the `Client`, whose requests and answers travel over channels.
//! The connections run on one small runtime of this crate's own, shared by every store in the
//! process; a store call builds its client future on the calling thread and waits for it there
//! with [`wait`], parking the thread.
//!
//! Why not the synchronous `postgres` crate: it waits with `Runtime::block_on`, which panics on a
//! thread that is already driving async tasks, and the server calls the store from such threads
//! (at start-up, and the few reads that are not worth a `spawn_blocking`), as it may with
//! SQLite. Parking the thread is what a SQLite call does while it waits for the disk.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use tokio::runtime::Runtime;
use tokio_postgres::{Client, Config, NoTls};
use tryvoha_store::{StoreError, StoreResult};

use crate::columns::unavailable;

/// Blocks the calling thread until `future` is ready. Any thread may call it, one that drives
/// async tasks too; the future must not need a tokio context of its own (client futures need
/// none: the socket work happens on the runtime).
pub(crate) fn wait<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        // A wake before the park leaves a token, so the park returns at once: no lost wake-up.
        std::thread::park();
    }
}

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Opens a connection: its socket task goes to the runtime, its client comes back.
///
/// The TLS seam: this is the one place a connection is made, and it makes it in plain text
/// (`NoTls`; a URL that says `sslmode=require` is refused by the driver rather than sent in the
/// clear). TLS means passing a `MakeTlsConnect` (tokio-postgres-rustls, with the ring provider
/// the workspace already uses) here instead.
pub(crate) fn connect(config: Config) -> StoreResult<Client> {
    let connecting = runtime()?.spawn(async move {
        let (client, connection) = config.connect(NoTls).await?;
        tokio::spawn(async move {
            // The client sees the end too: its next request fails, and the pool drops it.
            if let Err(error) = connection.await {
                tracing::warn!(error = %error, "a PostgreSQL connection ended");
            }
        });
        Ok::<_, tokio_postgres::Error>(client)
    });
    // Unconstrained: on an async worker whose cooperative budget is spent, polling the handle
    // would defer its wake-up to after a yield that this parked thread never makes.
    wait(tokio::task::unconstrained(connecting)).map_err(unavailable)?.map_err(unavailable)
}

/// The runtime that runs every connection's socket task. One thread is plenty: it only moves
/// bytes between the sockets and the clients' channels. It lives as long as the process, so no
/// store ever has to shut a runtime down (which a drop on an async thread would forbid).
fn runtime() -> StoreResult<&'static Runtime> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    let built = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("tryvoha-postgres")
            .enable_all()
            .build()
            .map_err(|error| error.to_string())
    });
    built
        .as_ref()
        .map_err(|error| StoreError::Unavailable(format!("cannot start the PostgreSQL runtime: {error}").into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_a_future_woken_from_another_thread() {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            sender.send(7).ok();
        });
        assert_eq!(wait(receiver).ok(), Some(7));
    }

    #[test]
    fn waits_on_a_thread_that_drives_async_tasks() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let answer = runtime.block_on(async { wait(async { 42 }) });
        assert_eq!(answer, 42, "no panic, unlike Runtime::block_on inside a runtime");
    }
}
