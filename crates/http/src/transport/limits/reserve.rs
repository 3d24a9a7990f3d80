//! The reserve descriptor: an answer for the connections that `accept` has no descriptor for.
//!
//! When `accept` fails with `EMFILE` (this process's open-file limit) or `ENFILE` (the
//! system's), the connection it could not take stays in the kernel's queue, established on the
//! client's side: the client waits for an answer that never comes, and the listener stays
//! readable. The well-known way out (libuv does it, among others): hold one descriptor in
//! reserve, on `/dev/null`; at that moment close it, accept what waits, answer each connection
//! the same 503 `server-at-capacity` the connection cap gives, close it, and open the reserve
//! again. Each answered connection gives its descriptor back before the next `accept`, so the
//! one spare answers the whole queue.
//!
//! Normally the connection cap answers long before this ([`super::RESERVED_FILES`]); the
//! reserve is for when something else took the descriptors (a burst of outgoing sockets, a cap
//! set above the limit, a limit lowered under a running server).

use std::fs::File;
use std::io;
use std::task::{Context, Poll, Waker};

use tokio::net::TcpListener;

use super::{ConnectionRefusal, Limits};

/// `EMFILE` and `ENFILE`: the same numbers on Linux, the BSDs and macOS. The standard library
/// names neither (no stable `ErrorKind` covers them), hence the numbers.
const PROCESS_OUT_OF_FILES: i32 = 24;
const SYSTEM_OUT_OF_FILES: i32 = 23;

/// What the reserve holds open: any file that opens without fail and costs nothing.
const RESERVE_PATH: &str = "/dev/null";

/// At most this many waiting connections are answered after one failed `accept`, so that a
/// flood cannot keep the accept loop (and its worker thread) busy for long; the rest are
/// answered in the next round, one pause later.
const MOST_ANSWERED_AT_ONCE: usize = 256;

/// One descriptor held back for the moment the others run out.
pub struct ReserveDescriptor {
    file: Option<File>,
}

impl ReserveDescriptor {
    /// Opens the reserve. Where it cannot be opened the server runs without it (failures of
    /// `accept` are then only backed off), and tries again at the next failure.
    pub fn open() -> ReserveDescriptor {
        ReserveDescriptor { file: open_reserve() }
    }

    #[cfg(test)]
    fn is_held(&self) -> bool {
        self.file.is_some()
    }

    /// After `accept` failed with `error`: if the descriptors ran out, answers the connections
    /// waiting on `listener` 503 and closes them, with the reserve's descriptor lent to them;
    /// returns how many were answered. Any other error answers nothing.
    pub fn answer_waiting(&mut self, listener: &TcpListener, error: &io::Error) -> usize {
        if !is_out_of_files(error) {
            return 0;
        }
        let Some(reserve) = self.file.take() else {
            // Nothing to give back now. Open the reserve again for the next failure: that
            // works only if a descriptor came free meanwhile, which is just when it can.
            self.file = open_reserve();
            return 0;
        };
        drop(reserve);
        let answered = answer_queue(listener);
        self.file = open_reserve();
        answered
    }
}

/// Whether `error` says that this process, or the system, has no file descriptor left.
pub fn is_out_of_files(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(PROCESS_OUT_OF_FILES | SYSTEM_OUT_OF_FILES))
}

/// Accepts and refuses what is waiting now, never waiting for more.
fn answer_queue(listener: &TcpListener) -> usize {
    // A waker that does nothing: only connections already queued are taken here. Should the
    // queue be empty, the accept loop's next `accept` registers its own waker again.
    let mut context = Context::from_waker(Waker::noop());
    let mut answered = 0;
    while answered < MOST_ANSWERED_AT_ONCE {
        match listener.poll_accept(&mut context) {
            Poll::Ready(Ok((stream, _peer))) => {
                Limits::write_refusal(&stream, ConnectionRefusal::Total);
                // Dropped here: its descriptor is free again for the next one in the queue.
                answered += 1;
            }
            // The queue is empty, or the freed descriptor was taken again by another part of
            // the server (the next round tries again), or the runtime asks this task to yield.
            Poll::Ready(Err(_)) | Poll::Pending => break,
        }
    }
    answered
}

fn open_reserve() -> Option<File> {
    File::open(RESERVE_PATH)
        .inspect_err(|error| tracing::warn!(%error, path = RESERVE_PATH, "cannot open the reserve descriptor"))
        .ok()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    #[test]
    fn only_running_out_of_descriptors_calls_for_the_reserve() {
        let cases = [(24, true), (23, true), (103, false), (104, false), (12, false)];
        for (errno, expected) in cases {
            assert_eq!(is_out_of_files(&io::Error::from_raw_os_error(errno)), expected, "errno {errno}");
        }
        assert!(!is_out_of_files(&io::Error::other("not an OS error")));
    }

    /// The descriptors do not run out here (the API test `open_files` does that): the failure
    /// is handed over as `accept` would report it, with connections really waiting.
    #[tokio::test]
    async fn waiting_connections_are_answered_503_and_closed_and_the_reserve_is_held_again() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut clients = Vec::new();
        for _ in 0..3 {
            let mut client = TcpStream::connect(address).await.unwrap();
            client.write_all(b"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
            clients.push(client);
        }
        let mut reserve = ReserveDescriptor::open();
        assert!(reserve.is_held());
        let answered = answer_when_queued(&mut reserve, &listener, 3).await;
        assert_eq!(answered, 3);
        assert!(reserve.is_held(), "the reserve is open again");
        for mut client in clients {
            let mut answer = String::new();
            let read = tokio::time::timeout(Duration::from_secs(5), client.read_to_string(&mut answer));
            read.await.expect("closed at once").unwrap();
            assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
            assert!(answer.contains("\"code\":\"server-at-capacity\""), "{answer}");
        }
    }

    #[tokio::test]
    async fn another_accept_error_answers_nothing_and_leaves_the_queue_alone() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let mut reserve = ReserveDescriptor::open();
        let aborted = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert_eq!(reserve.answer_waiting(&listener, &aborted), 0);
        let waiting = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await;
        assert!(waiting.expect("still queued").is_ok());
    }

    /// The handshake completes in the kernel a moment after `connect` returns; retries (briefly)
    /// until `expected` connections were answered.
    async fn answer_when_queued(reserve: &mut ReserveDescriptor, listener: &TcpListener, expected: usize) -> usize {
        let out_of_files = io::Error::from_raw_os_error(PROCESS_OUT_OF_FILES);
        let mut answered = 0;
        for _ in 0..100 {
            answered += reserve.answer_waiting(listener, &out_of_files);
            if answered >= expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        answered
    }
}
