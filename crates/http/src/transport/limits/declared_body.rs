//! Bodies judged by their declared length, before a byte of them is read.
//!
//! The body limit proper ([`crate::MAX_BODY_BYTES`], enforced while reading) cannot refuse a
//! client that declares 10 GB and then sends nothing: the server would wait for the body until
//! the request timeout. A `Content-Length` above the limit is refused at once.
//!
//! And when a request is refused before its body is read (a 401 from the token check, say),
//! hyper closes the connection rather than read the rest: the answer says so with
//! `Connection: close`, so that the client does not send its next request into a closing socket.
//! A layer cannot tell whether the handler read the body, so every error answer to a request
//! that has a body closes the connection; a client reconnects, which an error costs anyway.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::problem::ApiError;

pub async fn refuse_oversized_bodies(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let limit = body_limit(request.uri().path());
    if declared.is_some_and(|length| length > limit as u64) {
        let refusal = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!("the body is larger than {limit} bytes"),
        );
        return closing(refusal.into_response());
    }
    let has_body = declared.is_some_and(|length| length > 0) || headers.contains_key(header::TRANSFER_ENCODING);
    let response = next.run(request).await;
    let refused = response.status().is_client_error() || response.status().is_server_error();
    if has_body && refused { closing(response) } else { response }
}

/// The body limit of the route at `path`. The routes that take whole documents set a larger one
/// on themselves (`DefaultBodyLimit`), which a layer around the router cannot see: they are
/// named here too. A route missing here refuses large bodies early, which its tests show.
fn body_limit(path: &str) -> usize {
    match path {
        "/api/v1/cap" => tryvoha_cap::MAX_DOCUMENT_BYTES + 1,
        "/api/v1/shelters/import" => crate::places::MAX_IMPORT_BYTES,
        _ => crate::MAX_BODY_BYTES,
    }
}

fn closing(mut response: Response) -> Response {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
