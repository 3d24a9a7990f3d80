//! `GET /api/v1/ws` through hyper and axum: the same frames as the SSE stream, one WebSocket
//! text message each. Most handshakes are served straight on the socket
//! ([`crate::transport::websocket`]); this one serves a handshake that hyper had already read
//! (pipelined behind another request, or whose first line came in pieces), and holds the
//! route's OpenAPI description.

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::SinkExt;
use tokio_util::sync::CancellationToken;
use tryvoha_deliveries::Channel;
use tryvoha_live::{Feed, Frame, Resume, Transport};

use super::{AFTER, Connection, StreamQuery, heartbeat_every};
use crate::AppState;
use crate::body::Query;
use crate::limits::{ClientAddress, ConnectionPermit};
use crate::openapi;
use crate::problem::ApiError;

/// The largest frame or message a WebSocket client may send. Clients send only pongs (at most
/// 125 bytes) and a close; anything larger closes the connection before it is buffered.
const WS_MAX_CLIENT_MESSAGE: usize = 4 * 1024;
/// What the WebSocket reads into at a time (the library's default is 128 KiB, allocated for
/// every connection for its whole life).
const WS_READ_BUFFER: usize = 1024;

#[utoipa::path(
    get, path = "/api/v1/ws", operation_id = "websocketEvents", tag = "streams",
    summary = "Live events over WebSocket",
    description = "The same frames as the SSE stream, one JSON text message each (its `type` names it); resume with `after`. \
        Pings every 15 s. A subscriber whose queue overflows is closed with code 4008 and its last id in the reason.",
    params(StreamQuery, ("after" = Option<u64>, Query, description = AFTER)),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol."),
        (status = 400, response = openapi::StreamQueryInvalid),
        (status = 404, response = openapi::OutsideRegions),
        (status = 426, description = "Not a WebSocket handshake. Problem code: `websocket-required`.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 429, response = openapi::StreamRateLimited),
    )
)]
pub(crate) async fn websocket(
    State(state): State<AppState>,
    Query(query): Query<StreamQuery>,
    permit: Option<Extension<Arc<ConnectionPermit>>>,
    client: Option<Extension<ClientAddress>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    // The parameters first, so that a bad one is named whatever the handshake looks like.
    let filter = query.filter(&state)?;
    let stream_permit = client.map(|Extension(ClientAddress(client))| state.limits.open_stream(client)).transpose()?;
    let resume = query.after.map_or(Resume::Fresh, Resume::After);
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "websocket-required",
            format!("this is a WebSocket endpoint: {rejection}"),
        )
    })?;
    let upgrade = upgrade
        .read_buffer_size(WS_READ_BUFFER)
        // Each frame goes to the socket as it is sent: no second copy waits in a buffer.
        .write_buffer_size(0)
        .max_frame_size(WS_MAX_CLIENT_MESSAGE)
        .max_message_size(WS_MAX_CLIENT_MESSAGE);
    // Axum spawns the upgraded connection's task; the server still waits for it when it stops.
    let tracked = state.tasks.track();
    Ok(upgrade.on_upgrade(move |socket| async move {
        let _tracked = tracked;
        let live = &state.live;
        let feed = Feed::open(&state.engine, &live.hub, &live.signer, filter, resume);
        let connection = Connection::new(live, Transport::WebSocket, stream_permit);
        // The stream goes on in a task of its own that holds only what a waiting stream needs,
        // on the streams' runtime (the socket stays with the server's runtime's I/O driver);
        // axum's task (with the upgrade's state) ends here. The upgraded connection outlives
        // hyper's: the stream holds the connection's place now.
        let stop = state.tasks.stop_signal();
        state.tasks.spawn_stream(websocket_frames(socket, feed, connection, live.heartbeat, stop, permit));
    }))
}

/// Sends the feed's frames and the pings until the client leaves, it is cut off, or the server
/// stops. This future is what every waiting WebSocket costs: keep it small (a test holds its
/// size). Shaped like [`crate::transport::sse::stream_frames`], for the same reason.
#[allow(clippy::manual_async_fn, reason = "an async fn would keep its arguments twice")]
pub(crate) fn websocket_frames(
    mut socket: WebSocket,
    mut feed: Feed,
    connection: Connection,
    heartbeat: Duration,
    stop: CancellationToken,
    place: Option<Extension<Arc<ConnectionPermit>>>,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    async move {
        let _place = place;
        let mut heartbeat = heartbeat_every(heartbeat);
        loop {
            tokio::select! {
                next = feed.next() => match next {
                    Ok(Some(frame)) => {
                        frame.attempted(Channel::WebSocket);
                        if let Err(failure) = send_in_time(&mut socket, connection.write_timeout(), text(&frame)).await {
                            frame.failed(Channel::WebSocket);
                            if failure == SendFailure::Stalled {
                                connection.metrics.stalled_subscriber_cut();
                            }
                            return;
                        }
                        frame.delivered(Channel::WebSocket);
                        connection.metrics.delivered(frame.decided_at);
                    }
                    Ok(None) => {
                        let reason = format!("too slow; resume with ?after={}", feed.last_sent());
                        let _ = send_in_time(&mut socket, connection.write_timeout(), closing(4008, reason)).await;
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "stream ended: cannot catch up from the log");
                        let _ = send_in_time(&mut socket, connection.write_timeout(), closing(1011, "log unavailable")).await;
                        return;
                    }
                },
                _ = heartbeat.tick() => {
                    if send_in_time(&mut socket, connection.write_timeout(), Message::Ping(Bytes::new())).await.is_err() {
                        return;
                    }
                }
                _ = stop.cancelled() => {
                    let reason = format!("the server is stopping; resume with ?after={}", feed.last_sent());
                    let _ = send_in_time(&mut socket, connection.write_timeout(), closing(1001, reason)).await;
                    return;
                }
                incoming = socket.recv() => match incoming {
                    // Clients have nothing to say; a close or an error (a frame over the size limit
                    // among them) ends the stream.
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                    Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                        let reason = "this stream takes no messages: send only pongs and close";
                        let _ = send_in_time(&mut socket, connection.write_timeout(), closing(1003, reason)).await;
                        return;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                },
            }
        }
    }
}

/// Why a message was not sent.
#[derive(Debug, PartialEq, Eq)]
enum SendFailure {
    /// The connection failed or closed.
    Closed,
    /// It waited the write timeout for room: the client stopped reading.
    Stalled,
}

/// Sends one message, giving up after `within`: a client that stopped reading
/// would otherwise hold its connection (and task) forever.
async fn send_in_time(socket: &mut WebSocket, within: Duration, message: Message) -> Result<(), SendFailure> {
    let mut send = SinkExt::send(socket, message);
    // Nearly always the socket has room and the first poll sends. Only a wait (a slow client)
    // pays for a timer, on the heap, so that the timer is not part of every waiting stream's
    // future.
    if let std::task::Poll::Ready(sent) = futures_util::poll!(&mut send) {
        return sent.map_err(|_| SendFailure::Closed);
    }
    match Box::pin(tokio::time::timeout(within, send)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(SendFailure::Closed),
        Err(_) => Err(SendFailure::Stalled),
    }
}

/// A close with `code` and `reason` (what the client should do next).
fn closing(code: u16, reason: impl Into<Utf8Bytes>) -> Message {
    Message::Close(Some(CloseFrame { code, reason: reason.into() }))
}

fn text(frame: &Frame) -> Message {
    // The JSON is built from Rust strings, so it is UTF-8; the fallback is never taken.
    Message::Text(Utf8Bytes::try_from(frame.json.clone()).unwrap_or_else(|_| Utf8Bytes::from_static("{}")))
}
