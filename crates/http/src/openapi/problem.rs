//! The problem document every error is sent as, and the codes it may carry.

use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};

/// Every `code` a problem document may carry, each with its section in docs/errors.md (a test
/// holds the three lists, this one, the documentation and the codes in the sources, equal).
pub const PROBLEM_CODES: &[&str] = &[
    "not-found",
    "method-not-allowed",
    "unsupported-media-type",
    "body-too-large",
    "unreadable-body",
    "invalid-json",
    "invalid-field",
    "invalid-query",
    "invalid-header",
    "token-missing",
    "token-invalid",
    "token-revoked",
    "forbidden-role",
    "out-of-scope",
    "unknown-region",
    "text-too-long",
    "idempotency-key-reused",
    "alert-not-found",
    "alert-already-finished",
    "alert-not-yet-expired",
    "alert-active",
    "not-cancelled",
    "region-not-found",
    "token-not-found",
    "webhook-not-found",
    "webhook-target-refused",
    "push-subscription-not-found",
    "push-subscriptions-full",
    "unavailable",
    "shutting-down",
    "bad-request",
    "cap-area-outside-registry",
    "cap-expired",
    "cap-not-applicable",
    "cap-not-public",
    "cap-unknown-reference",
    "head-too-large",
    "invalid-cap",
    "outside-regions",
    "request-timeout",
    "shelter-not-found",
    "asset-not-found",
    "websocket-required",
    "last-admin",
    "server-failed",
    "invalid-characters",
    "cap-unknown-event",
    "cap-unknown-threat",
    "cap-too-old",
    "cap-sent-in-future",
    "cap-not-owner",
    "rate-limited",
    "list-too-long",
    "too-many-connections",
    "server-at-capacity",
    "internal",
    "incident-not-found",
    "incident-closed",
    "status-backwards",
    "incident-published",
    "private-field-on-public",
    "unknown-alert",
];

/// The wire shape of [`crate::ApiError`], described here because the error renders itself.
#[derive(ToSchema)]
#[schema(
    description = "An RFC 9457 problem document, sent with content type `application/problem+json`. Match on `code`; \
        `detail` is for people and may change. See docs/errors.md.",
    example = json!({
        "type": "/problems/unknown-region", "title": "Unprocessable Entity", "status": 422,
        "detail": "region 999999 is not in the registry", "code": "unknown-region", "field": "region_id"
    })
)]
#[allow(dead_code)] // only described, never built
pub struct Problem {
    /// `/problems/<code>`, relative to this server: `GET /problems/{code}` answers with that code's documentation.
    #[schema(format = "uri-reference", example = "/problems/invalid-field")]
    r#type: String,
    /// The reason phrase of `status`.
    #[schema(example = "Unprocessable Entity")]
    title: String,
    /// The HTTP status code of the response.
    #[schema(example = 422)]
    status: u16,
    /// A human-readable explanation of this occurrence.
    detail: String,
    /// The stable, machine-readable error code.
    #[schema(schema_with = problem_code)]
    code: String,
    /// Present only when one part of the request is to blame: the path of a body field (`region_id`, `message.uk`,
    /// `threats[0]`, or `body` for the body as a whole), a query parameter (`limit`, or `query` for the query string
    /// as a whole), a path parameter (`id`) or a header (`Idempotency-Key`).
    #[schema(nullable = false, example = "expires_at")]
    field: Option<String>,
}

fn problem_code() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(Some("The stable, machine-readable error code."))
        .enum_values(Some(PROBLEM_CODES.iter().copied()))
}
