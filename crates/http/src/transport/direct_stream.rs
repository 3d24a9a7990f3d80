//! A direct stream's life once it has opened, over either transport: the feed's frames, the
//! heartbeats and what the client sends, until the client leaves, it is cut off, or the server
//! stops. What differs between SSE and WebSocket (the bytes of a heartbeat and of last words,
//! what a client may send) is a [`Protocol`]; everything else is written once, here.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tryvoha_core::Seq;
use tryvoha_live::{Feed, FeedError, Frame};

use super::stream_socket::{StreamSocket, deliver, discard_what_was_sent, fix_send_buffer, write_all};
use crate::AppState;
use crate::limits::ConnectionPermit;
use crate::stream::{Connection, heartbeat_every};

/// What a stream's transport writes besides frames, and what it makes of the client's bytes.
pub(crate) trait Protocol: Send + 'static {
    /// What a quiet stream writes every heartbeat period, so that proxies keep it open.
    const HEARTBEAT: &'static [u8];
    /// The last words to a subscriber the hub cut off (it fell behind): how to resume.
    fn cut_off(last_sent: Seq) -> Vec<u8>;
    /// The last words when the log cannot be read to catch up; empty for none.
    fn log_unavailable() -> Vec<u8>;
    /// The last words when the server stops; empty for none.
    fn stopping(last_sent: Seq) -> Vec<u8>;
    /// Reads what the client sent (the socket is readable).
    fn heard(&mut self, stream: &TcpStream) -> Heard;
}

/// How long a stream that said its last words waits for the client to close.
const LINGER: Duration = Duration::from_secs(2);

/// What a client's bytes come to.
pub(crate) enum Heard {
    Nothing,
    /// Write this, and go on.
    Answer(Vec<u8>),
    /// Write this, and end.
    Last(Vec<u8>),
    /// The client left (or failed): end.
    Left,
}

/// Fixes the socket's send buffer and goes on with the stream in a task of its own, on the
/// streams' runtime (its socket is registered there, in the task), holding the connection's
/// place. The task that read the request (with its buffers and timers) ends.
pub(crate) fn go_on<P: Protocol>(
    stream: TcpStream,
    (feed, connection): (Feed, Connection),
    protocol: P,
    state: &AppState,
    place: Arc<ConnectionPermit>,
) {
    fix_send_buffer(&stream);
    let stream = match stream.into_std() {
        Ok(stream) => stream,
        Err(error) => return tracing::debug!(%error, "cannot hand the stream's socket over"),
    };
    let stop = state.tasks.stop_signal();
    // Spawned from a tracked task that is still running, so the tracker never looks empty
    // between the two; a server that is stopping ends the new task at its first poll.
    state.tasks.spawn_stream(stream_frames(stream, feed, connection, protocol, state.live.heartbeat, stop, place));
}

/// The stream itself. This future is what every waiting stream costs: keep it small (a test
/// holds its size).
// A function returning an `async move` block rather than an `async fn`, and each part its own
// argument: an async fn's future keeps its arguments twice (as passed and as moved into its
// body), and destructuring a tuple would copy the parts again.
#[allow(clippy::manual_async_fn, reason = "an async fn would keep its arguments twice")]
pub(crate) fn stream_frames<P: Protocol>(
    stream: std::net::TcpStream,
    mut feed: Feed,
    connection: Connection,
    mut protocol: P,
    heartbeat: Duration,
    stop: CancellationToken,
    place: Arc<ConnectionPermit>,
) -> impl Future<Output = ()> + Send + 'static {
    async move {
        let _place = place;
        let Ok(socket) = TcpStream::from_std(stream) else { return };
        let socket = Arc::new(StreamSocket(socket));
        feed.write_straight_to(socket.clone(), connection.transport);
        let stream = &socket.0;
        let mut heartbeat = heartbeat_every(heartbeat);
        let timeout = || connection.write_timeout();
        let last_words = loop {
            // With nothing to write, the stream waits parked: the hub writes its frames to the
            // socket itself, and this task wakes only for what the hub cannot do.
            let parked = feed.park();
            let woke = tokio::select! {
                next = feed.next() => Woke::Next(next),
                _ = heartbeat.tick() => Woke::Heartbeat,
                _ = stop.cancelled() => Woke::Stop,
                // Polled for readiness rather than awaiting `readable()`, whose waiter would be
                // part of every waiting stream's future.
                _ = std::future::poll_fn(|cx| stream.poll_read_ready(cx)) => Woke::Heard,
            };
            // The socket is this task's again. A frame the hub left half-written (the socket
            // was full) is the next one queued, and is finished before anything else.
            let mut written_of_next = if parked { feed.unpark() } else { 0 };
            if written_of_next > 0 && !matches!(woke, Woke::Next(_)) {
                // Never without it; but nothing else may follow half a frame.
                let Some(frame) = feed.next_ready() else { return };
                if deliver(stream, frame, written_of_next, &mut feed, &connection).await.is_err() {
                    return;
                }
                written_of_next = 0;
            }
            let written = match woke {
                Woke::Next(Ok(Some(frame))) => deliver(stream, frame, written_of_next, &mut feed, &connection).await,
                Woke::Next(Ok(None)) => break P::cut_off(feed.last_sent()),
                Woke::Next(Err(error)) => {
                    tracing::warn!(%error, "stream ended: cannot catch up from the log");
                    break P::log_unavailable();
                }
                Woke::Heartbeat => write_all(stream, P::HEARTBEAT, timeout()).await,
                Woke::Stop => break P::stopping(feed.last_sent()),
                Woke::Heard => match protocol.heard(stream) {
                    Heard::Nothing => Ok(()),
                    Heard::Answer(answer) => write_all(stream, &answer, timeout()).await,
                    Heard::Last(words) => break words,
                    Heard::Left => return,
                },
            };
            if written.is_err() {
                return;
            }
        };
        // Boxed: one pointer in every waiting stream's future, for what only an ending needs.
        Box::pin(say_last(stream, last_words, timeout())).await;
    }
}

/// What ended a stream's wait.
enum Woke {
    Next(Result<Option<Arc<Frame>>, FeedError>),
    Heartbeat,
    Stop,
    Heard,
}

/// Writes a stream's last words (none, if empty) and closes it gracefully: the FIN follows the
/// words, and what the client still sends (a pong, its close) is read and dropped until it
/// closes, for at most [`LINGER`]. Closed with unread bytes, the socket would be reset, and
/// the kernel would drop what it still had to send: the frames a slow client had not read yet,
/// and the last words that tell it where to resume.
async fn say_last(stream: &TcpStream, words: Vec<u8>, within: Duration) {
    if words.is_empty() || write_all(stream, &words, within).await.is_err() {
        return;
    }
    let _ = socket2::SockRef::from(stream).shutdown(std::net::Shutdown::Write);
    // Readiness is polled (which takes from the task's budget) rather than awaited with
    // `readable()` (which does not), and each turn reads a bounded amount: a client that
    // floods meanwhile still lets the deadline be seen.
    let until_closed = async {
        while std::future::poll_fn(|cx| stream.poll_read_ready(cx)).await.is_ok()
            && !discard_what_was_sent(stream, READS_AT_ONCE)
        {}
    };
    let _ = tokio::time::timeout(LINGER, until_closed).await;
}

/// How many reads of what a closing client sends are taken at one readiness.
const READS_AT_ONCE: usize = 8;
