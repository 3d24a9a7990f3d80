//! `GET /api/v1/stream`, written straight to the socket.
//!
//! A stream lives for hours and, during an attack, there are tens of thousands of them, so each
//! must cost little while it waits. Through hyper a connection keeps an 8 KiB read buffer and an
//! 8 KiB write buffer for its whole life and each frame is copied into chunked encoding. Here the
//! request head is read into a buffer that is dropped once parsed, and a frame's shared bytes go
//! to the socket as they are (several frames ready at once are copied into one write, which is
//! dropped once written): the response is close-delimited (no chunking), which every
//! EventSource client accepts.
//!
//! [`crate::listener`] sends here every connection whose first bytes are
//! `GET /api/v1/stream`, and every kept-alive connection whose next request is
//! ([`super::handoff`]). A stream request that hyper has already read (pipelined behind another,
//! or whose first line came in pieces) reaches [`handler`] through hyper: the same frames,
//! chunked.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tryvoha_deliveries::Channel;
use tryvoha_live::{Feed, Transport};

pub(crate) use self::socket::fix_send_buffer;
use self::socket::{client_left, deliver, write_all};
use super::headers::{EVENT_STREAM, set_all, written_head, written_problem};
use crate::AppState;
use crate::body::{Query, parse_query};
use crate::limits::{ClientAddress, ClientKey, ConnectionPermit, rate_limited, retry_after_secs};
use crate::openapi;
use crate::problem::ApiError;
use crate::stream::{Connection, DEFAULT_WRITE_TIMEOUT, StreamQuery, heartbeat_every};

/// What a connection must start with to be served here.
pub const REQUEST_PREFIX: &[u8] = b"GET /api/v1/stream";

/// Whether the first bytes of a request (at least one more than [`REQUEST_PREFIX`]) ask for
/// the stream: the prefix, then the end of the path (not `/api/v1/streams…`).
pub fn is_stream_request(first: &[u8]) -> bool {
    asks_for(first, REQUEST_PREFIX)
}

/// Whether a request's first bytes are `prefix` (a method and a path) followed by the end of
/// that path: a space or a query.
pub(crate) fn asks_for(first: &[u8], prefix: &[u8]) -> bool {
    first.len() > prefix.len() && first.starts_with(prefix) && matches!(first[prefix.len()], b' ' | b'?')
}

/// The longest request head accepted; a stream request is a line and a few headers.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// What a stream starts with: how long a client waits before it reconnects.
const RESPONSE_OPENING: &[u8] = b"retry: 1000\n\n";

/// Serves one connection whose first bytes asked for the stream: reads the request and answers
/// it here. A stream that opens goes on in a task of its own ([`stream_frames`]) that holds only
/// what a waiting stream needs; this one (with the request's buffers and timers) ends.
pub async fn serve(stream: TcpStream, peer: SocketAddr, state: AppState, place: Arc<ConnectionPermit>) {
    let opened = tokio::select! {
        opened = start(&stream, peer, &state) => opened,
        _ = state.tasks.stopping() => None,
    };
    let Some(opened) = opened else { return };
    fix_send_buffer(&stream);
    // Spawned from a tracked task that is still running, so the tracker never looks empty
    // between the two; a server that is stopping ends the new task at its first poll.
    // The stream's task runs on the streams' runtime, so its socket is registered there, in it.
    let stream = match stream.into_std() {
        Ok(stream) => stream,
        Err(error) => return tracing::debug!(%error, "cannot hand the stream's socket over"),
    };
    let (feed, connection) = opened;
    let heartbeat = state.live.heartbeat;
    state.tasks.spawn_stream(stream_frames(stream, feed, connection, heartbeat, state.tasks.stop_signal(), place));
}

/// Writes the feed's frames and the heartbeats until the client leaves, it is cut off, or the
/// server stops. This future is what every waiting stream costs: keep it small (a test holds
/// its size).
// A function returning an `async move` block rather than an `async fn`, and each part its own
// argument: an async fn's future keeps its arguments twice (as passed and as moved into its
// body), and destructuring a tuple would copy the parts again.
#[allow(clippy::manual_async_fn, reason = "an async fn would keep its arguments twice")]
pub(crate) fn stream_frames(
    stream: std::net::TcpStream,
    mut feed: Feed,
    connection: Connection,
    heartbeat: Duration,
    stop: CancellationToken,
    place: Arc<ConnectionPermit>,
) -> impl Future<Output = ()> + Send + 'static {
    async move {
        let _place = place;
        let Ok(stream) = TcpStream::from_std(stream) else { return };
        let mut heartbeat = heartbeat_every(heartbeat);
        loop {
            let written = tokio::select! {
                next = feed.next() => match next {
                    Ok(Some(frame)) => deliver(&stream, frame, &mut feed, &connection).await,
                    Ok(None) => {
                        let _ = write_all(&stream, &cut_off_note(&feed), connection.write_timeout()).await;
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "stream ended: cannot catch up from the log");
                        return;
                    }
                },
                _ = heartbeat.tick() => write_all(&stream, b": keepalive\n\n", connection.write_timeout()).await,
                _ = stop.cancelled() => return,
                // A client sends nothing after its request; readable means it closed (or misbehaves).
                // (Polled for readiness rather than awaiting `readable()`, whose waiter would be part
                // of every waiting stream's future.)
                _ = std::future::poll_fn(|cx| stream.poll_read_ready(cx)) => if client_left(&stream) { return } else { Ok(()) },
            };
            if written.is_err() {
                return;
            }
        }
    }
}

/// Reads the request, applies the router's rate limit and CORS (this path bypasses the
/// router; the headers are the router's, from `headers`), opens the feed and writes the
/// response head; `None` when it answered otherwise.
async fn start(stream: &TcpStream, peer: SocketAddr, state: &AppState) -> Option<Opened> {
    let request = match tokio::time::timeout(HEAD_TIMEOUT, read_request(stream)).await {
        Ok(Ok(request)) => request,
        Ok(Err(Some(error))) => return reply_problem(stream, error, &[]).await,
        Ok(Err(None)) | Err(_) => return None, // the client went away or never finished its request
    };
    let cors = state.cors.read_answer_headers(request.headers.get(header::ORIGIN));
    let with_retry_after = |secs: u64| [cors.as_slice(), &[(header::RETRY_AFTER, HeaderValue::from(secs))]].concat();
    let client = state.limits.client_address(peer.ip(), &request.headers);
    if let Err(wait) = state.limits.requests.check(ClientKey::of(client)) {
        state.limits.count_rate_limited();
        return reply_problem(stream, rate_limited(wait), &with_retry_after(retry_after_secs(wait))).await;
    }
    let last_event_id = request.headers.get("last-event-id").map(|v| v.as_bytes());
    let opened = match request.query.and_then(|q| open(state, Some(client), &q, last_event_id)) {
        Ok(opened) => opened,
        Err(error) if error.status == StatusCode::TOO_MANY_REQUESTS => {
            return reply_problem(stream, error, &with_retry_after(1)).await;
        }
        Err(error) => return reply_problem(stream, error, &cors).await,
    };
    let head = written_head(StatusCode::OK, &[EVENT_STREAM.as_slice(), &cors].concat());
    write_all(stream, &[head.as_bytes(), RESPONSE_OPENING].concat(), DEFAULT_WRITE_TIMEOUT).await.ok()?;
    Some(opened)
}

/// The stream through hyper, for a client that reuses a kept-alive connection.
#[utoipa::path(
    get, path = "/api/v1/stream", operation_id = "streamEvents", tag = "streams",
    summary = "Live events as Server-Sent Events",
    description = "Frames: `id: <seq>`, `event: <type>`, `data: <JSON>`. Without a resume point the first frame is a \
        `snapshot`; with `Last-Event-ID` (wins over `after`) or `after`, the missed matching events come first, then \
        live ones; a resume point beyond the log gets a `reset`. Heartbeat comments every 15 s. A subscriber whose \
        queue overflows is disconnected with a comment naming its last id. See docs/streams.md.",
    params(StreamQuery, ("after" = Option<u64>, Query, description = crate::stream::AFTER), ("Last-Event-ID" = Option<u64>, Header, nullable = false, description = "Resume after this sequence number.")),
    responses(
        (status = 200,
            description = "An endless event stream. `data` is a StreamState (events `snapshot`, `reset`) or a StreamEvent \
                (events `declared`, `updated`, `cancelled`, `expired`).",
            body = String, content_type = "text/event-stream"),
        (status = 400, response = openapi::StreamQueryInvalid),
        (status = 404, response = openapi::OutsideRegions),
        (status = 429, response = openapi::StreamRateLimited),
    )
)]
pub async fn handler(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Option<Extension<ClientAddress>>,
    Query(query): Query<StreamQuery>,
) -> Result<Response, ApiError> {
    let last_event_id = headers.get("last-event-id").map(|v| v.as_bytes());
    let heartbeat = heartbeat_every(state.live.heartbeat);
    let (feed, connection) =
        open(&state, client.map(|Extension(ClientAddress(client))| client), &query, last_event_id)?;
    let opening = futures_util::stream::once(async { Ok::<_, Infallible>(Bytes::from_static(RESPONSE_OPENING)) });
    // The body ends when the server stops, so that the connection (which hyper lets finish its
    // response) ends too.
    let opened = (feed, connection, heartbeat, state.tasks.stop_signal());
    let frames = futures_util::stream::unfold(Some(opened), |opened| async move {
        let (mut feed, connection, mut heartbeat, stopping) = opened?;
        tokio::select! {
            next = feed.next() => match next {
                Ok(Some(frame)) => {
                    // Handed to hyper, which writes it: counted as delivered here.
                    frame.attempted(Channel::Sse);
                    frame.delivered(Channel::Sse);
                    connection.metrics.delivered(frame.decided_at);
                    Some((Ok(frame.sse.clone()), Some((feed, connection, heartbeat, stopping))))
                }
                Ok(None) => Some((Ok(Bytes::from(cut_off_note(&feed))), None)),
                Err(error) => {
                    tracing::warn!(%error, "stream ended: cannot catch up from the log");
                    None
                }
            },
            _ = heartbeat.tick() => {
                Some((Ok(Bytes::from_static(b": keepalive\n\n")), Some((feed, connection, heartbeat, stopping))))
            }
            _ = stopping.cancelled() => None,
        }
    });
    let mut response = Body::from_stream(futures_util::StreamExt::chain(opening, frames)).into_response();
    set_all(response.headers_mut(), EVENT_STREAM);
    Ok(response)
}

pub(crate) type Opened = (Feed, Connection);

/// Checks the parameters, takes the client's place for a stream and registers the subscriber.
fn open(
    state: &AppState,
    client: Option<IpAddr>,
    query: &StreamQuery,
    last_event_id: Option<&[u8]>,
) -> Result<Opened, ApiError> {
    let (filter, resume) = (query.filter(state)?, query.resume(last_event_id)?);
    let permit = client.map(|client| state.limits.open_stream(client)).transpose()?;
    let live = &state.live;
    let feed = Feed::open(&state.engine, &live.hub, &live.signer, filter, resume);
    let connection = Connection::new(live, Transport::Sse, permit);
    Ok((feed, connection))
}

/// The last words to a subscriber that was cut off: how to resume.
fn cut_off_note(feed: &Feed) -> Vec<u8> {
    format!(": cut off as too slow; resume with Last-Event-ID {}\n\n", feed.last_sent()).into_bytes()
}

/// What this path needs of a request: its query, and the headers that matter here.
struct Request {
    query: Result<StreamQuery, ApiError>,
    /// `Last-Event-ID`, `Origin`, `Forwarded`, `X-Forwarded-For`; the rest are dropped.
    headers: HeaderMap,
}

const KEPT_HEADERS: [header::HeaderName; 4] = [
    header::HeaderName::from_static("last-event-id"),
    header::ORIGIN,
    header::FORWARDED,
    header::HeaderName::from_static("x-forwarded-for"),
];

/// Reads and parses the request head. `Err(None)`: the connection closed or failed.
async fn read_request(stream: &TcpStream) -> Result<Request, Option<ApiError>> {
    // Read straight into the heap buffer: a stack buffer here would live in every connection's
    // future for the whole life of the stream.
    let mut head = Vec::with_capacity(1024);
    loop {
        stream.readable().await.map_err(|_| None)?;
        if head.len() == head.capacity() {
            head.reserve(1024);
        }
        match stream.try_read_buf(&mut head) {
            Ok(0) => return Err(None),
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return Err(None),
        }
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {
                let path = request.path.unwrap_or_default();
                let query = path.split_once('?').map_or("", |(_, query)| query);
                let mut kept = HeaderMap::new();
                for line in request.headers.iter() {
                    if let Some(name) = KEPT_HEADERS.iter().find(|name| line.name.eq_ignore_ascii_case(name.as_str()))
                        && let Ok(value) = HeaderValue::from_bytes(line.value)
                    {
                        kept.append(name.clone(), value);
                    }
                }
                return Ok(Request { query: parse_query(query), headers: kept });
            }
            Ok(httparse::Status::Partial) if head.len() < MAX_HEAD => continue,
            Ok(httparse::Status::Partial) => {
                return Err(Some(ApiError::new(
                    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                    "head-too-large",
                    "the request head is too large",
                )));
            }
            Err(error) => {
                return Err(Some(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad-request",
                    format!("malformed request: {error}"),
                )));
            }
        }
    }
}

/// Answers with a problem document and `extra` headers. `None`, always: nothing follows.
async fn reply_problem<T>(stream: &TcpStream, error: ApiError, extra: &[(HeaderName, HeaderValue)]) -> Option<T> {
    let _ = write_all(stream, &written_problem(&error, extra), DEFAULT_WRITE_TIMEOUT).await;
    None
}

mod socket;
#[cfg(test)]
mod tests;
