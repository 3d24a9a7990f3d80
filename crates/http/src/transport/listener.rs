//! The accept loop. Each connection is looked at before it is served: a live stream is served
//! straight on the socket (SSE: [`super::sse`], WebSocket: [`super::websocket`]), everything
//! else by hyper and the router, until the connection's next request is a stream
//! ([`super::handoff`]). Shutdown closes the listener first (new connections are refused), then ends the
//! streams and lets requests in flight finish; every connection's task is tracked
//! ([`super::tasks`]) and the server waits for them, up to the drain deadline.
//!
//! A connection over a cap ([`crate::limits::Connections`]) is answered at once (429 for a
//! client over its share, 503 when the server is full) and closed, before anything is read.
//! A failing `accept` backs off ([`AcceptBackoff`]) instead of spinning.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use super::direct_request::StreamRequest;
use super::handoff::{Baton, Handoff, Tracked};
use super::{sse, websocket};
use crate::limits::{AcceptBackoff, ConnectionPermit, Limits};
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
            let first_request = tokio::select! {
                first_request = first_request(&stream, FIRST_BYTES_TIMEOUT) => first_request,
                _ = state.tasks.stopping() => return,
            };
            // A stream that opens goes on in a task of its own, with the connection's place.
            if let FirstRequest::Stream(wanted) = first_request {
                return serve_stream(wanted, stream, peer, state, permit).await;
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
            if let Some((stream, wanted)) = baton.take_stream_socket() {
                serve_stream(wanted, stream, peer, state, permit).await;
            }
        });
    }
    // Refuse new connections from now on, then end the rest.
    drop(listener);
    tasks.stop();
    tasks.drain().await;
    Ok(())
}

/// Serves a connection whose next request asks for a live stream on that stream's direct path.
/// Boxed so that a hyper connection's task does not also hold the request-reading state of a
/// stream.
async fn serve_stream(
    wanted: StreamRequest,
    stream: TcpStream,
    peer: SocketAddr,
    state: AppState,
    place: Arc<ConnectionPermit>,
) {
    match wanted {
        StreamRequest::Sse => Box::pin(sse::serve(stream, peer, state, place)).await,
        StreamRequest::WebSocket => Box::pin(websocket::serve(stream, peer, state, place)).await,
    }
}

/// Where a connection's first request goes.
#[derive(Debug, PartialEq, Eq)]
enum FirstRequest {
    /// A live stream: served straight on the socket.
    Stream(StreamRequest),
    Other,
}

/// What the first bytes say, or `None` while they could still be either stream's request.
fn classify(first: &[u8]) -> Option<FirstRequest> {
    if let Some(wanted) = StreamRequest::asked_by(first) {
        return Some(FirstRequest::Stream(wanted));
    }
    (!StreamRequest::could_be_asked_by(first)).then_some(FirstRequest::Other)
}

/// Peeks (without consuming) until the request line shows whether this is a stream request,
/// for at most `within`.
async fn first_request(stream: &TcpStream, within: Duration) -> FirstRequest {
    let mut first = [0u8; sse::REQUEST_PREFIX.len() + 1];
    let deadline = tokio::time::Instant::now() + within;
    let mut pause = Duration::from_millis(1);
    loop {
        let seen = match tokio::time::timeout_at(deadline, stream.peek(&mut first)).await {
            Ok(Ok(seen)) => seen,
            _ => return FirstRequest::Other, // closed, failed or silent: hyper will say so
        };
        if seen == 0 {
            return FirstRequest::Other;
        }
        if let Some(decided) = classify(&first[..seen]) {
            return decided;
        }
        // A request line split across packets: wait for the rest (peek returns at once, so the
        // deadline is checked here too: a client that stops mid-line is hyper's to time out).
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return FirstRequest::Other;
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncWriteExt;

    use super::{FirstRequest, StreamRequest, classify, first_request};

    #[tokio::test]
    async fn a_client_that_stops_in_the_middle_of_its_first_line_is_left_to_hyper() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let mut client =
            tokio::net::TcpStream::connect(listener.local_addr().expect("address")).await.expect("connect");
        let (server, _) = listener.accept().await.expect("accept");
        client.write_all(b"GET /api/v1/").await.expect("write");
        let decided =
            tokio::time::timeout(Duration::from_secs(10), first_request(&server, Duration::from_millis(300))).await;
        assert_eq!(decided, Ok(FirstRequest::Other), "decided at its deadline, not peeked at forever");
    }

    #[test]
    fn the_first_bytes_decide_where_a_connection_goes_once_they_can() {
        let decided = |first: &str| classify(first.as_bytes());
        assert_eq!(decided("GET /api/v1/stream HTTP/1.1\r\n"), Some(FirstRequest::Stream(StreamRequest::Sse)));
        assert_eq!(decided("GET /api/v1/stream?regions=14 H"), Some(FirstRequest::Stream(StreamRequest::Sse)));
        assert_eq!(decided("GET /api/v1/ws HTTP/1.1\r\n"), Some(FirstRequest::Stream(StreamRequest::WebSocket)));
        assert_eq!(decided("GET /api/v1/ws?after=3 HTTP"), Some(FirstRequest::Stream(StreamRequest::WebSocket)));
        for other in
            ["GET /api/v1/streams HTTP/1.1", "GET /api/v1/wsx HTTP", "POST /api/v1/ws HTTP", "GET / HTTP/1.0\r\n\r\n"]
        {
            assert_eq!(decided(other), Some(FirstRequest::Other), "{other}");
        }
        // Could still be either stream's request: wait for more.
        for partial in ["G", "GET /api/v1/", "GET /api/v1/w", "GET /api/v1/ws", "GET /api/v1/stream"] {
            assert_eq!(decided(partial), None, "{partial}");
        }
    }
}
