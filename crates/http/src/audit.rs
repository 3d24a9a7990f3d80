//! Refused writes that never reach the engine (a bad body, a missing token, the wrong role)
//! are logged here, one line each under `tryvoha::audit`, like the engine's own lines for the
//! writes it applies or refuses. The caller is not named: it was refused before (or because)
//! its token was checked.

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::problem::ProblemCode;

pub async fn refused_writes(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    // The engine logs what it refused itself (with who asked); this is what came before it.
    if status.is_client_error()
        && let Some(ProblemCode(code)) = response.extensions().get::<ProblemCode>().copied()
        && !ENGINE_REFUSALS.contains(&code)
    {
        tracing::warn!(target: "tryvoha::audit", %method, path, status = status.as_u16(), reason = code, "write refused");
    }
    response
}

/// Codes of refusals the engine decides and logs with their author.
const ENGINE_REFUSALS: &[&str] = &[
    "out-of-scope",
    "idempotency-key-reused",
    "alert-not-found",
    "alert-already-finished",
    "alert-not-yet-expired",
    "alert-active",
    "not-cancelled",
    "text-too-long",
    "last-admin",
];
