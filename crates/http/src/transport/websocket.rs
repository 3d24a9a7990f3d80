//! `GET /api/v1/ws`, served straight on the socket: the same frames as the SSE stream, one
//! WebSocket text message each.
//!
//! Like the direct SSE path ([`super::sse`]), a WebSocket lives for hours and tens of thousands
//! wait at once, so each must cost little while it waits. Upgraded by hyper and driven by the
//! WebSocket library, one held hyper's upgraded I/O and the library's buffers and protocol state
//! (5.2 KiB per subscriber once messages had flowed) and each frame was copied into the
//! library's write buffer. Here the handshake is read into a buffer dropped once parsed, and a
//! frame's bytes, made once per event with their WebSocket header ([`tryvoha_live::Frame`]),
//! go to the socket as they are, as the SSE bytes do.
//!
//! [`crate::listener`] sends here every connection whose first bytes are `GET /api/v1/ws`; a
//! kept-alive connection whose next request is the WebSocket is handed here too
//! ([`super::handoff`]). A handshake hyper has already read (pipelined behind another request,
//! or, on a kept-alive connection, whose first line came in pieces) is upgraded by hyper
//! ([`crate::stream::websocket`]): the same frames.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::{HeaderName, HeaderValue, StatusCode};
use tokio::net::TcpStream;
use tryvoha_core::Seq;
use tryvoha_live::websocket::{self as frames, PING};
use tryvoha_live::{Feed, Transport};

use self::client_frames::ClientFrames;
use super::direct_request::{Admitted, admit, reply_problem, with_retry_after};
use super::direct_stream::{Heard, Protocol, go_on};
use super::stream_socket::write_all;
use crate::AppState;
use crate::limits::ConnectionPermit;
use crate::problem::ApiError;
use crate::stream::{Connection, DEFAULT_WRITE_TIMEOUT};

mod client_frames;
mod handshake;

/// What a connection must start with to be served here.
pub const REQUEST_PREFIX: &[u8] = b"GET /api/v1/ws";

/// Serves one connection whose first bytes asked for the WebSocket: reads the handshake and
/// answers it here. A WebSocket that opens goes on in a task of its own ([`go_on`]) that holds
/// only what a waiting stream needs; this one ends.
pub async fn serve(stream: TcpStream, peer: SocketAddr, state: AppState, place: Arc<ConnectionPermit>) {
    let opened = tokio::select! {
        opened = start(&stream, peer, &state) => opened,
        _ = state.tasks.stopping() => None,
    };
    let Some(opened) = opened else { return };
    go_on(stream, opened, WebSocketClient::default(), &state, place);
}

/// A WebSocket client: it may send pings (answered), pongs and a close (echoed); anything else
/// closes the connection with the reason.
#[derive(Default)]
pub(crate) struct WebSocketClient(ClientFrames);

impl Protocol for WebSocketClient {
    const HEARTBEAT: &'static [u8] = &[0x80 | PING, 0];

    fn cut_off(last_sent: Seq) -> Vec<u8> {
        frames::close(4008, &format!("too slow; resume with ?after={last_sent}"))
    }

    fn log_unavailable() -> Vec<u8> {
        frames::close(1011, "log unavailable")
    }

    fn stopping(last_sent: Seq) -> Vec<u8> {
        frames::close(1001, &format!("the server is stopping; resume with ?after={last_sent}"))
    }

    fn heard(&mut self, stream: &TcpStream) -> Heard {
        self.0.read(stream)
    }
}

/// Reads the handshake and applies the router's rate limit; checks, in the order hyper's path
/// does, the parameters (so that a bad one is named whatever the handshake looks like), the
/// client's place for a stream and the handshake; opens the feed and answers `101`.
async fn start(stream: &TcpStream, peer: SocketAddr, state: &AppState) -> Option<(Feed, Connection)> {
    let Admitted { request, client, cors } = admit(stream, peer, state).await?;
    let checked = request.query.and_then(|query| {
        let filter = query.filter(state)?;
        let permit = state.limits.open_stream(client)?;
        let accept = handshake::accept_key(&request.headers)?;
        Ok((filter, query.resume(None)?, permit, accept))
    });
    let (filter, resume, permit, accept) = match checked {
        Ok(checked) => checked,
        Err(error) => return refuse(stream, error, &cors).await,
    };
    let live = &state.live;
    let feed = Feed::open(&state.engine, &live.hub, &live.signer, filter, resume);
    let connection = Connection::new(live, Transport::WebSocket, Some(permit));
    write_all(stream, &handshake::switching_protocols(&accept), DEFAULT_WRITE_TIMEOUT).await.ok()?;
    Some((feed, connection))
}

/// Answers a request that opens no WebSocket with its problem document.
async fn refuse<T>(stream: &TcpStream, error: ApiError, cors: &[(HeaderName, HeaderValue)]) -> Option<T> {
    let headers = match error.status {
        StatusCode::TOO_MANY_REQUESTS => with_retry_after(cors, 1),
        StatusCode::UPGRADE_REQUIRED => [cors, &handshake::refusal_headers()].concat(),
        _ => cors.to_vec(),
    };
    reply_problem(stream, error, &headers).await
}
