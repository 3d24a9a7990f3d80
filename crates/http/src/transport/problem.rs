//! RFC 9457 problem documents. Every error the API returns is an [`ApiError`] with a stable
//! machine-readable `code` (listed in docs/errors.md), a human `detail`, and, when one field of
//! the request is to blame, its name in `field`.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tryvoha_core::AlertError;
use tryvoha_engine::{AuthError, EngineError, TokenError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub field: Option<String>,
}

#[derive(Serialize)]
struct ProblemDocument<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError { status, code, detail: detail.into(), field: None }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    pub fn invalid_field(field: impl Into<String>, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field", detail).with_field(field)
    }

    pub fn invalid_query(field: impl Into<String>, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", detail).with_field(field)
    }

    /// The problem document's JSON.
    pub fn document(&self) -> Vec<u8> {
        let document = ProblemDocument {
            // A relative reference: this server answers it with the code's documentation.
            kind: crate::problem_pages::type_reference(self.code),
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: &self.detail,
            code: self.code,
            field: self.field.as_deref(),
        };
        // A struct of strings and numbers always serializes.
        serde_json::to_vec(&document).unwrap_or_default()
    }

    /// A fault of the server itself (500 `internal`). The cause goes to the log with its chain;
    /// the client learns only that the request failed, never the cause's text.
    pub fn internal(error: &dyn std::error::Error) -> ApiError {
        tracing::error!(error = %chain(error), "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", INTERNAL_DETAIL)
    }

    fn unavailable(error: &dyn std::error::Error) -> ApiError {
        // The cause goes to the log with its chain; the client learns only that it failed.
        tracing::error!(error = %chain(error), "storage unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server cannot write or read its log right now; retry",
        )
    }
}

/// The only detail a 500 ever carries.
const INTERNAL_DETAIL: &str = "the server failed to answer this request; the cause is in its log";

/// An error and its sources, `outer: inner: …`, for the log.
fn chain(error: &dyn std::error::Error) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

impl IntoResponse for ApiError {
    fn into_response(mut self) -> Response {
        if self.status == StatusCode::INTERNAL_SERVER_ERROR && self.detail != INTERNAL_DETAIL {
            // A 500 built without `ApiError::internal`: its text may be a cause, so it is logged
            // here and replaced before it can reach the client.
            tracing::error!(code = self.code, error = %self.detail, "internal error");
            self.detail = INTERNAL_DETAIL.to_owned();
            self.field = None;
        }
        let body = self.document();
        let mut response = (self.status, [(header::CONTENT_TYPE, super::headers::PROBLEM_JSON)], body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        // For the audit line of a refused write (`audit::refused_writes`).
        response.extensions_mut().insert(ProblemCode(self.code));
        response
    }
}

/// The `code` of the problem a response carries, for middleware that logs it.
#[derive(Clone, Copy, Debug)]
pub struct ProblemCode(pub &'static str);

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> ApiError {
        match error {
            EngineError::Alert(alert) => alert.into(),
            EngineError::OutOfScope { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "out-of-scope", error.to_string()).with_field("region_id")
            }
            EngineError::IdempotencyKeyReused => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency-key-reused", error.to_string())
                    .with_field("Idempotency-Key")
            }
            EngineError::Unavailable(ref source) => ApiError::unavailable(source),
            EngineError::ShuttingDown => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting-down", error.to_string())
            }
            EngineError::ShelterTime(tryvoha_core::ShelterTimeError::UnknownRegion(_)) => {
                ApiError::new(StatusCode::NOT_FOUND, "region-not-found", error.to_string())
            }
            EngineError::ShelterTime(tryvoha_core::ShelterTimeError::OutOfRange(_)) => {
                ApiError::invalid_field("shelter_within_s", error.to_string())
            }
            EngineError::Incident(incident) => incident.into(),
            EngineError::IncidentNotFound { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "incident-not-found", error.to_string())
            }
            EngineError::AlertNotFound { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown-alert", error.to_string())
                    .with_field("alert_id")
            }
            EngineError::ShelterStatus(status) => {
                let detail = status.to_string();
                match status {
                    tryvoha_core::ShelterStatusError::OutOfScope { .. } => {
                        ApiError::new(StatusCode::FORBIDDEN, "out-of-scope", detail).with_field(status.field())
                    }
                    other => ApiError::invalid_field(other.field(), detail),
                }
            }
        }
    }
}

impl From<tryvoha_core::IncidentError> for ApiError {
    fn from(error: tryvoha_core::IncidentError) -> ApiError {
        use tryvoha_core::IncidentError as E;
        let detail = error.to_string();
        let field = error.field().map(|field| field.as_str());
        let problem = match error {
            E::OutOfScope { .. } => ApiError::new(StatusCode::FORBIDDEN, "out-of-scope", detail),
            E::PrivateOnPublic { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "private-field-on-public", detail)
            }
            E::Unpublish => ApiError::new(StatusCode::CONFLICT, "incident-published", detail),
            E::Closed { .. } => ApiError::new(StatusCode::CONFLICT, "incident-closed", detail),
            E::StatusBackwards { .. } => ApiError::new(StatusCode::CONFLICT, "status-backwards", detail),
            E::Missing { .. } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field", detail),
            E::TooLong { .. } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "text-too-long", detail),
            E::ForbiddenCharacter { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-characters", detail)
            }
        };
        match field {
            Some(field) => problem.with_field(field),
            None => problem,
        }
    }
}

impl From<AlertError> for ApiError {
    fn from(error: AlertError) -> ApiError {
        let detail = error.to_string();
        match error {
            AlertError::UnknownRegion { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown-region", detail).with_field("region_id")
            }
            AlertError::NotFound { .. } => ApiError::new(StatusCode::NOT_FOUND, "alert-not-found", detail),
            AlertError::AlreadyFinished { .. } => ApiError::new(StatusCode::CONFLICT, "alert-already-finished", detail),
            AlertError::NotYetExpired { .. } => ApiError::new(StatusCode::CONFLICT, "alert-not-yet-expired", detail),
            AlertError::StillActive { .. } => ApiError::new(StatusCode::CONFLICT, "alert-active", detail),
            AlertError::NotCancelled { .. } => ApiError::new(StatusCode::CONFLICT, "not-cancelled", detail),
            AlertError::ExpiryNotInFuture => ApiError::invalid_field("expires_at", detail),
            AlertError::TextTooLong { field } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "text-too-long", detail).with_field(field)
            }
            AlertError::InvalidCharacters { field, .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-characters", detail).with_field(field)
            }
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> ApiError {
        match error {
            AuthError::Invalid => ApiError::new(StatusCode::UNAUTHORIZED, "token-invalid", error.to_string()),
            AuthError::Revoked => ApiError::new(StatusCode::UNAUTHORIZED, "token-revoked", error.to_string()),
            AuthError::Unavailable(ref source) => ApiError::unavailable(source),
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> ApiError {
        let detail = error.to_string();
        match error {
            TokenError::BadName => ApiError::invalid_field("name", detail),
            TokenError::RegionsRequired | TokenError::RegionsNotAllowed => ApiError::invalid_field("regions", detail),
            TokenError::UnknownRegion { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown-region", detail).with_field("regions")
            }
            TokenError::NotFound { .. } => ApiError::new(StatusCode::NOT_FOUND, "token-not-found", detail),
            TokenError::LastAdmin { .. } => ApiError::new(StatusCode::CONFLICT, "last-admin", detail),
            TokenError::Unavailable(ref source) => ApiError::unavailable(source),
        }
    }
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such resource; see /api/openapi.json")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "this resource does not accept that method")
}

/// Answers 408 `request-timeout` when a request is not read and answered within the state's
/// `request_timeout`. Only the answer's head is timed: a stream's body may last for hours.
///
/// 408 promises that nothing was applied, so it is sent only while the engine has taken none of
/// the request's writes (the [`Handoff`](tryvoha_engine::Handoff)); a request the engine took is
/// left to finish and answered as it ends.
pub async fn within_time_limit(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let handoff = tryvoha_engine::Handoff::new();
    let handling = handoff.clone().scope(next.run(request));
    tokio::pin!(handling);
    match tokio::time::timeout(state.request_timeout, handling.as_mut()).await {
        Ok(response) => response,
        Err(_) if handoff.give_up() => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request-timeout",
            format!("the request was not completed within {} s", state.request_timeout.as_secs()),
        )
        .into_response(),
        // The engine took a write of this request: it will be answered, however late.
        Err(_) => handling.await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("writing row 3")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    fn sent_detail(error: ApiError) -> String {
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = futures_body(response);
        let document: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(document["code"], "internal");
        assert_eq!(document["type"], "/problems/internal");
        document["detail"].as_str().unwrap().to_owned()
    }

    fn futures_body(response: Response) -> Vec<u8> {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async { axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec() })
    }

    #[test]
    fn an_internal_error_never_sends_its_cause() {
        let cause = Outer(std::io::Error::other("CSV error: record 3 (line 4) has 2 fields"));
        assert_eq!(chain(&cause), "writing row 3: CSV error: record 3 (line 4) has 2 fields");
        let detail = sent_detail(ApiError::internal(&cause));
        assert!(!detail.contains("CSV") && !detail.contains("row 3"), "{detail}");
    }

    #[test]
    fn a_500_built_by_hand_has_its_text_replaced() {
        let detail = sent_detail(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "CSV error: bad row"));
        assert_eq!(detail, INTERNAL_DETAIL);
    }
}
