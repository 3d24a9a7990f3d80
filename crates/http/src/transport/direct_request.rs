//! What the two direct stream paths ([`super::sse`], [`super::websocket`]) share before a
//! stream opens: telling their requests from the first bytes ([`StreamRequest`]), reading the
//! request head into a buffer that is dropped once parsed, the
//! router's rate limit (these paths bypass the router), and answers written by hand.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use tokio::net::TcpStream;

use super::headers::written_problem;
use super::stream_socket::write_all;
use crate::AppState;
use crate::body::parse_query;
use crate::limits::{ClientKey, rate_limited, retry_after_secs};
use crate::problem::ApiError;
use crate::stream::{DEFAULT_WRITE_TIMEOUT, StreamQuery};

/// The longest request head accepted; a stream request is a line and a few headers.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// What these paths need of a request: its query, and the headers that matter here.
pub(crate) struct Request {
    pub(crate) query: Result<StreamQuery, ApiError>,
    /// The [`KEPT_HEADERS`]; the rest are dropped.
    pub(crate) headers: HeaderMap,
}

/// The headers either stream reads: the resume point, the origin, the client's address behind
/// a proxy, and the WebSocket handshake's.
const KEPT_HEADERS: [HeaderName; 8] = [
    HeaderName::from_static("last-event-id"),
    header::ORIGIN,
    header::FORWARDED,
    HeaderName::from_static("x-forwarded-for"),
    header::UPGRADE,
    header::CONNECTION,
    header::SEC_WEBSOCKET_KEY,
    header::SEC_WEBSOCKET_VERSION,
];

/// A request that passed the rate limit.
pub(crate) struct Admitted {
    pub(crate) request: Request,
    /// The client, as the limits count it (behind a trusted proxy: the address it forwarded).
    pub(crate) client: IpAddr,
    /// The router's cross-origin headers for this request's `Origin`.
    pub(crate) cors: Vec<(HeaderName, HeaderValue)>,
}

/// The cross-origin headers `cors` and a `Retry-After` of `secs`.
pub(crate) fn with_retry_after(cors: &[(HeaderName, HeaderValue)], secs: u64) -> Vec<(HeaderName, HeaderValue)> {
    [cors, &[(header::RETRY_AFTER, HeaderValue::from(secs))]].concat()
}

/// A live stream that a request asks for, served on the direct path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamRequest {
    Sse = 1,
    WebSocket = 2,
}

impl StreamRequest {
    pub const ALL: [StreamRequest; 2] = [StreamRequest::Sse, StreamRequest::WebSocket];

    /// What a request for this stream starts with: its method and path.
    pub fn prefix(self) -> &'static [u8] {
        match self {
            StreamRequest::Sse => super::sse::REQUEST_PREFIX,
            StreamRequest::WebSocket => super::websocket::REQUEST_PREFIX,
        }
    }

    /// Which stream the first bytes of a request ask for: a prefix, then the end of its path (a
    /// space or a query; not `/api/v1/streams…`). Telling needs at least one byte more than the
    /// longest prefix.
    pub fn asked_by(first: &[u8]) -> Option<StreamRequest> {
        StreamRequest::ALL.into_iter().find(|wanted| {
            let prefix = wanted.prefix();
            first.len() > prefix.len() && first.starts_with(prefix) && matches!(first[prefix.len()], b' ' | b'?')
        })
    }

    /// Whether `first` could still grow into a request for one of the streams.
    pub fn could_be_asked_by(first: &[u8]) -> bool {
        StreamRequest::ALL.into_iter().any(|wanted| wanted.prefix().starts_with(first))
    }

    /// The stream whose code (`as u8`) this is.
    pub fn from_code(code: u8) -> Option<StreamRequest> {
        StreamRequest::ALL.into_iter().find(|wanted| *wanted as u8 == code)
    }
}

/// Reads the request and applies the router's rate limit; `None` when it answered otherwise
/// (a malformed or oversized head, the rate limit) or the client left.
pub(crate) async fn admit(stream: &TcpStream, peer: SocketAddr, state: &AppState) -> Option<Admitted> {
    let request = match tokio::time::timeout(HEAD_TIMEOUT, read_request(stream)).await {
        Ok(Ok(request)) => request,
        Ok(Err(Some(error))) => return reply_problem(stream, error, &[]).await,
        Ok(Err(None)) | Err(_) => return None, // the client went away or never finished its request
    };
    let cors = state.cors.read_answer_headers(request.headers.get(header::ORIGIN));
    let client = state.limits.client_address(peer.ip(), &request.headers);
    if let Err(wait) = state.limits.requests.check(ClientKey::of(client)) {
        state.limits.count_rate_limited();
        return reply_problem(stream, rate_limited(wait), &with_retry_after(&cors, retry_after_secs(wait))).await;
    }
    Some(Admitted { request, client, cors })
}

/// Answers with a problem document and `extra` headers. `None`, always: nothing follows.
pub(crate) async fn reply_problem<T>(
    stream: &TcpStream,
    error: ApiError,
    extra: &[(HeaderName, HeaderValue)],
) -> Option<T> {
    let _ = write_all(stream, &written_problem(&error, extra), DEFAULT_WRITE_TIMEOUT).await;
    None
}

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
        // As many as hyper takes (a chain of proxies adds some); never held across an await.
        let mut headers = [httparse::EMPTY_HEADER; 100];
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
