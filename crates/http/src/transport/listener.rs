//! The accept loop. Each connection is looked at before it is served: a live SSE stream is
//! served straight on the socket ([`super::sse`]), everything else by hyper and the
//! router, until the connection's next request is the stream ([`super::handoff`]). Shutdown closes the listener first (new connections are refused), then ends the
//! streams and lets requests in flight finish; every connection's task is tracked
//! ([`super::tasks`]) and the server waits for them, up to the drain deadline.
//!
//! A connection over a cap ([`crate::limits::Connections`]) is answered at once (429 for a
//! client over its share, 503 when the server is full) and closed, before anything is read.
//! A failing `accept` backs off ([`AcceptBackoff`]) instead of spinning.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use super::handoff::{Baton, Handoff, Tracked};
use super::sse;
use crate::limits::{AcceptBackoff, Limits};
use crate::{AppState, router};

/// How long to wait for the first bytes of a request before deciding where it goes.
const FIRST_BYTES_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone());
    let mut http = hyper::server::conn::http1::Builder::new();
    // Title-Case header names: HTTP does not care, but some embedded and scripted clients match
    // `Content-Type` literally.
    http.timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(30)).title_case_headers(true);
    let tasks = state.tasks.clone();
    tokio::pin!(shutdown);
    let mut backoff = AcceptBackoff::default();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => {
                    backoff.succeeded();
                    accepted
                }
                Err(error) => {
                    // Out of file descriptors, most likely: what waits in the queue is answered
                    // 503 through the reserve descriptor (rather than left hanging), and the
                    // loop backs off instead of spinning.
                    state.limits.count_accept_error();
                    let answered = state.limits.refuse_waiting(&listener, &error);
                    let pause = backoff.failed(&error, answered);
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => continue,
                        _ = &mut shutdown => break,
                        _ = tasks.stopping() => break,
                    }
                }
            },
            _ = &mut shutdown => break,
            // Stopped from elsewhere: a vital part of the server failed.
            _ = tasks.stopping() => break,
        };
        let permit = match state.limits.connections.open(peer.ip()) {
            Ok(permit) => permit,
            Err(refusal) => {
                // Answered without waiting, so no task and no descriptor outlives this line.
                Limits::write_refusal(&stream, refusal);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        // The client's address travels with each request (rate limits count per client).
        // So does the connection's place: an upgraded WebSocket outlives this task and takes it.
        let permit = Arc::new(permit);
        let for_requests = permit.clone();
        let baton = Arc::new(Baton::default());
        let routed = app.clone().map_request(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request.extensions_mut().insert(for_requests.clone());
            request
        });
        let service = TowerToHyperService::new(Tracked::new(routed, baton.clone()));
        let (state, http) = (state.clone(), http.clone());
        tasks.spawn(async move {
            // The connection's place is held until this task ends (or the stream it started).
            let stream_request = tokio::select! {
                stream_request = starts_with_stream_request(&stream) => stream_request,
                _ = state.tasks.stopping() => return,
            };
            // Boxed so that a hyper connection's task does not also hold the request-reading
            // state of a stream, and the other way round. A stream that opens goes on in a task
            // of its own, with the connection's place.
            if stream_request {
                return Box::pin(sse::serve(stream, peer, state, permit)).await;
            }
            let socket = TokioIo::new(Handoff::new(stream, baton.clone()));
            let mut connection = Box::pin(http.serve_connection(socket, service).with_upgrades());
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = state.tasks.stopping() => {
                    // Finish the request in flight, take no new one on this connection.
                    connection.as_mut().graceful_shutdown();
                    connection.as_mut().await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
            // Dropping hyper's connection drops its socket, which a handoff keeps for us.
            drop(connection);
            if let Some(stream) = baton.take_stream_socket() {
                Box::pin(sse::serve(stream, peer, state, permit)).await;
            }
        });
    }
    // Refuse new connections from now on, then end the rest.
    drop(listener);
    tasks.stop();
    tasks.drain().await;
    Ok(())
}

/// Peeks (without consuming) until the request line shows whether this is a stream request.
async fn starts_with_stream_request(stream: &TcpStream) -> bool {
    let mut first = [0u8; sse::REQUEST_PREFIX.len() + 1];
    let deadline = tokio::time::Instant::now() + FIRST_BYTES_TIMEOUT;
    let mut pause = Duration::from_millis(1);
    loop {
        let seen = match tokio::time::timeout_at(deadline, stream.peek(&mut first)).await {
            Ok(Ok(seen)) => seen,
            _ => return false, // closed, failed or silent: hyper will say so
        };
        if seen == first.len() {
            return sse::is_stream_request(&first);
        }
        if seen == 0 || !sse::REQUEST_PREFIX.starts_with(&first[..seen]) {
            return false;
        }
        // A request line split across packets: wait for the rest (peek returns at once).
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}
