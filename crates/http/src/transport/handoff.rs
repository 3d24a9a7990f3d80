//! A kept-alive connection that asks for a live stream is handed from hyper to the direct path.
//!
//! Browsers reuse an idle kept-alive connection for `EventSource` when they have one (after the
//! page's own requests). Served by hyper, such a stream would keep hyper's per-connection read
//! and write buffers (~16 KiB) and the router's state for its whole life, as much again as the
//! direct path's whole stream. So hyper reads through a [`Handoff`]: between two requests
//! (none in flight), before hyper reads the next one, it peeks at the socket; when the next
//! request is `GET /api/v1/stream` or `GET /api/v1/ws`, it tells hyper the connection has ended
//! (nothing consumed), keeps the socket open instead of shutting it, and gives it back when
//! hyper lets go. The listener then serves the request on the direct path, as if the
//! connection were new. (Browsers open each WebSocket on a connection of its own; other
//! clients may not.)
//!
//! A request line that has only partly arrived, or pipelined bytes hyper already read, stay
//! with hyper, which serves the stream itself ([`super::sse::handler`],
//! [`crate::stream::websocket`]): slower to wait on, never wrong.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use axum::body::{Body, Bytes};
use axum::http::{Request, Response, StatusCode};
use hyper::body::{Frame, Incoming, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::direct_request::StreamRequest;
use super::sse;

/// What the connection's parts share: the requests in flight, and the socket once handed off.
#[derive(Default)]
pub struct Baton {
    in_flight: AtomicUsize,
    /// Switched to another protocol (a WebSocket): no request follows, nothing to look for.
    upgraded: AtomicBool,
    /// The [`StreamRequest`] (as its code) the next request asks for; 0 for none.
    wants_stream: AtomicU8,
    socket: Mutex<Option<TcpStream>>,
}

impl Baton {
    /// A request has begun; dropping the guard (with its response's body) ends it.
    pub fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// The socket and the stream its next request asks for, if the connection ended by handing
    /// a stream request off.
    pub fn take_stream_socket(&self) -> Option<(TcpStream, StreamRequest)> {
        let socket = self.socket.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take()?;
        Some((socket, StreamRequest::from_code(self.wants_stream.load(Ordering::SeqCst))?))
    }
}

/// Held by a request's response body until hyper has written it.
pub struct InFlight(Arc<Baton>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The socket as hyper sees it.
pub struct Handoff {
    socket: Option<TcpStream>,
    baton: Arc<Baton>,
}

impl Handoff {
    pub fn new(socket: TcpStream, baton: Arc<Baton>) -> Handoff {
        Handoff { socket: Some(socket), baton }
    }

    fn socket(&mut self) -> io::Result<&mut TcpStream> {
        self.socket.as_mut().ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }

    fn handing_off(&self) -> bool {
        self.baton.wants_stream.load(Ordering::SeqCst) != 0
    }
}

impl AsyncRead for Handoff {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.handing_off() {
            return Poll::Ready(Ok(())); // the end, as far as hyper is concerned
        }
        let between_requests = self.baton.in_flight.load(Ordering::SeqCst) == 0;
        if between_requests && !self.baton.upgraded.load(Ordering::SeqCst) {
            let mut first = [0u8; sse::REQUEST_PREFIX.len() + 1];
            let mut peeked = ReadBuf::new(&mut first);
            let socket = self.socket()?;
            ready!(socket.poll_peek(cx, &mut peeked))?;
            if let Some(wanted) = StreamRequest::asked_by(peeked.filled()) {
                self.baton.wants_stream.store(wanted as u8, Ordering::SeqCst);
                return Poll::Ready(Ok(()));
            }
        }
        Pin::new(self.socket()?).poll_read(cx, buf)
    }
}

impl AsyncWrite for Handoff {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(self.socket()?).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.socket()?).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.handing_off() {
            // The connection goes on, on the direct path: no FIN.
            return Poll::Ready(Ok(()));
        }
        Pin::new(self.socket()?).poll_shutdown(cx)
    }
}

impl Drop for Handoff {
    fn drop(&mut self) {
        if self.handing_off() {
            let socket = self.socket.take();
            *self.baton.socket.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = socket;
        }
    }
}

/// The router (with the connection's extensions) as hyper calls it: each request is in flight
/// until its response's body is dropped, which hyper does once it has written it.
#[derive(Clone)]
pub struct Tracked<S> {
    service: S,
    baton: Arc<Baton>,
}

impl<S> Tracked<S> {
    pub fn new(service: S, baton: Arc<Baton>) -> Tracked<S> {
        Tracked { service, baton }
    }
}

impl<S> tower::Service<Request<Incoming>> for Tracked<S>
where
    S: tower::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Guarded>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Guarded>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.service.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let in_flight = self.baton.request_started();
        let baton = self.baton.clone();
        let answer = self.service.call(request);
        Box::pin(async move {
            let response = answer.await?;
            if response.status() == StatusCode::SWITCHING_PROTOCOLS {
                baton.upgraded.store(true, Ordering::SeqCst);
            }
            Ok(response.map(|body| Guarded { body, _in_flight: in_flight }))
        })
    }
}

/// A response body that keeps its request in flight while it lives.
pub struct Guarded {
    body: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
