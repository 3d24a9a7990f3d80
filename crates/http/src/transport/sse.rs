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
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpStream;
use tryvoha_core::Seq;
use tryvoha_deliveries::Channel;
use tryvoha_live::{Feed, Transport};

use super::direct_request::{Admitted, admit, reply_problem, with_retry_after};
use super::direct_stream::{Heard, Protocol, go_on};
use super::headers::{EVENT_STREAM, set_all, written_head};
use super::stream_socket::{discard_what_was_sent, write_all};
use crate::AppState;
use crate::body::Query;
use crate::limits::{ClientAddress, ConnectionPermit};
use crate::openapi;
use crate::problem::ApiError;
use crate::stream::{Connection, DEFAULT_WRITE_TIMEOUT, StreamQuery, heartbeat_every};

/// What a connection must start with to be served here.
pub const REQUEST_PREFIX: &[u8] = b"GET /api/v1/stream";

/// What a stream starts with: how long a client waits before it reconnects.
const RESPONSE_OPENING: &[u8] = b"retry: 1000\n\n";

/// Serves one connection whose first bytes asked for the stream: reads the request and answers
/// it here. A stream that opens goes on in a task of its own ([`go_on`]) that holds only what a
/// waiting stream needs; this one (with the request's buffers and timers) ends.
pub async fn serve(stream: TcpStream, peer: SocketAddr, state: AppState, place: Arc<ConnectionPermit>) {
    let opened = tokio::select! {
        opened = start(&stream, peer, &state) => opened,
        _ = state.tasks.stopping() => None,
    };
    let Some(opened) = opened else { return };
    go_on(stream, opened, SseClient, &state, place);
}

/// A Server-Sent Events client: after its request it sends nothing but, in the end, its FIN.
pub(crate) struct SseClient;

impl Protocol for SseClient {
    const HEARTBEAT: &'static [u8] = b": keepalive\n\n";

    fn cut_off(last_sent: Seq) -> Vec<u8> {
        format!(": cut off as too slow; resume with Last-Event-ID {last_sent}\n\n").into_bytes()
    }

    /// Nothing: the connection ends, and the client resumes by its last id.
    fn log_unavailable() -> Vec<u8> {
        Vec::new()
    }

    /// Nothing: the connection ends, and the client resumes by its last id.
    fn stopping(_last_sent: Seq) -> Vec<u8> {
        Vec::new()
    }

    /// Readable means it closed (or misbehaves).
    fn heard(&mut self, stream: &TcpStream) -> Heard {
        if discard_what_was_sent(stream, 1) { Heard::Left } else { Heard::Nothing }
    }
}

/// Reads the request, applies the router's rate limit and CORS (this path bypasses the
/// router; the headers are the router's, from `headers`), opens the feed and writes the
/// response head; `None` when it answered otherwise.
async fn start(stream: &TcpStream, peer: SocketAddr, state: &AppState) -> Option<Opened> {
    let Admitted { request, client, cors } = admit(stream, peer, state).await?;
    let last_event_id = request.headers.get("last-event-id").map(|v| v.as_bytes());
    let opened = match request.query.and_then(|q| open(state, Some(client), &q, last_event_id)) {
        Ok(opened) => opened,
        Err(error) if error.status == StatusCode::TOO_MANY_REQUESTS => {
            return reply_problem(stream, error, &with_retry_after(&cors, 1)).await;
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
                Ok(None) => Some((Ok(Bytes::from(SseClient::cut_off(feed.last_sent()))), None)),
                Err(error) => {
                    tracing::warn!(%error, "stream ended: cannot catch up from the log");
                    None
                }
            },
            _ = heartbeat.tick() => {
                Some((Ok(Bytes::from_static(SseClient::HEARTBEAT)), Some((feed, connection, heartbeat, stopping))))
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
