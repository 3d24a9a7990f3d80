//! The responses many operations share, as components: the problem documents with the same
//! meaning everywhere, and the compatible APIs' answers in their upstream shapes.

// Each type only names a response; none is ever built.
#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, Response, ResponseBuilder, Schema};
use utoipa::{IntoResponses, ToResponse};

use super::Problem;
use super::schemas::CompatMessage;

#[derive(ToResponse)]
#[response(
    description = "No route matches the path. Problem code: `not-found`.",
    content_type = "application/problem+json"
)]
pub struct NotFound(Problem);

#[derive(ToResponse)]
#[response(
    description = "The path exists but does not accept this method. Problem code: `method-not-allowed`.",
    content_type = "application/problem+json"
)]
pub struct MethodNotAllowed(Problem);

#[derive(ToResponse)]
#[response(
    description = "This client made more requests than its rate allows (docs/limits.md). Problem code: `rate-limited`; \
        `Retry-After` says when a request will be admitted. The compatible APIs answer in their own shape, \
        `{\"message\": \"Too many requests\"}`, also with `Retry-After`.",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds until a request from this client will be admitted.")),
)]
pub struct RateLimited(Problem);

#[derive(ToResponse)]
#[response(
    description = "The token's role is not admin. Problem code: `forbidden-role`.",
    content_type = "application/problem+json"
)]
pub struct AdminOnly(Problem);

#[derive(ToResponse)]
#[response(
    description = "The alert has already finished (cancelled or expired). Problem code: `alert-already-finished`.",
    content_type = "application/problem+json"
)]
pub struct AlertFinished(Problem);

#[derive(ToResponse)]
#[response(
    description = "No alert has this id, or the id is not a number. Problem code: `alert-not-found`.",
    content_type = "application/problem+json"
)]
pub struct AlertNotFound(Problem);

#[derive(ToResponse)]
#[response(
    description = "The body is larger than 64 KiB. Problem code: `body-too-large`.",
    content_type = "application/problem+json"
)]
pub struct BodyTooLarge(Problem);

#[derive(ToResponse)]
#[response(
    description = "The body is not valid JSON (empty, malformed, or trailing characters after the value), or it could not be \
        read. Problem codes: `invalid-json`, `unreadable-body`.",
    content_type = "application/problem+json"
)]
pub struct BodyUnreadable(Problem);

#[derive(ToResponse)]
#[response(description = "As upstream.")]
pub struct CompatAnswer;

#[derive(ToResponse)]
#[response(
    description = "No API key (`Authorization: <key>`), unless anonymous access is on; the body is empty, as upstream."
)]
pub struct CompatKeyMissing;

#[derive(ToResponse)]
#[response(description = "Not modified (alerts.in.ua, If-Modified-Since).")]
pub struct CompatNotModified;

#[derive(ToResponse)]
#[response(description = "Rate limit.")]
pub struct CompatRateLimited;

#[derive(ToResponse)]
#[response(description = "Token missing or invalid.")]
pub struct CompatTokenRefused;

#[derive(ToResponse)]
#[response(description = "The store cannot be read right now; retry.", content_type = "application/json")]
pub struct CompatUnavailable(CompatMessage);

#[derive(ToResponse)]
#[response(
    description = "Unknown location uid or period (`{\"message\": ...}`), as upstream.",
    content_type = "application/json"
)]
pub struct CompatUnknownLocation(CompatMessage);

#[derive(ToResponse)]
#[response(
    description = "A bad `from`, `to`, `regions`, `source`, `limit` or `cursor`. Problem code: `invalid-query`, `field` names \
        it.",
    content_type = "application/problem+json"
)]
pub struct HistoryQueryInvalid(Problem);

#[derive(ToResponse)]
#[response(
    description = "Not an admin token. Problem code: `forbidden-role`.",
    content_type = "application/problem+json"
)]
pub struct NotAdmin(Problem);

#[derive(ToResponse)]
#[response(
    description = "The token's role is not operator or admin (`forbidden-role`), or the alert's region is outside the \
        operator's subtrees (`out-of-scope`). Problem codes: `forbidden-role`, `out-of-scope`.",
    content_type = "application/problem+json"
)]
pub struct OutOfScope(Problem);

#[derive(ToResponse)]
#[response(
    description = "lat/lon outside every region. Problem code: `outside-regions`.",
    content_type = "application/problem+json"
)]
pub struct OutsideRegions(Problem);

#[derive(ToResponse)]
#[response(
    description = "A parameter is missing, not a number or out of range. Problem code: `invalid-query`, `field` names it.",
    content_type = "application/problem+json"
)]
pub struct PlaceQueryInvalid(Problem);

#[derive(ToResponse)]
#[response(
    description = "The body is not JSON (`invalid-json`) or cannot be read (`unreadable-body`).",
    content_type = "application/problem+json"
)]
pub struct ShelterBodyUnreadable(Problem);

#[derive(ToResponse)]
#[response(
    description = "No such shelter. Problem code: `shelter-not-found`.",
    content_type = "application/problem+json"
)]
pub struct ShelterNotFound(Problem);

#[derive(ToResponse)]
#[response(
    description = "No such webhook. Problem code: `webhook-not-found`.",
    content_type = "application/problem+json"
)]
pub struct WebhookNotFound(Problem);

#[derive(ToResponse)]
#[response(
    description = "A parameter has a value the page does not take (e.g. `level`). Problem code: `invalid-query`, `field` \
        names it.",
    content_type = "application/problem+json"
)]
pub struct PageQueryInvalid(Problem);

#[derive(ToResponse)]
#[response(
    description = "A bad `from`, `to` or `source`. Problem code: `invalid-query`, `field` names it.",
    content_type = "application/problem+json"
)]
pub struct StatsQueryInvalid(Problem);

#[derive(ToResponse)]
#[response(
    description = "The server cannot read or write its storage right now, or it is shutting down; retry. Problem codes: \
        `unavailable`, `shutting-down`.",
    content_type = "application/problem+json"
)]
pub struct StorageUnavailable(Problem);

#[derive(ToResponse)]
#[response(
    description = "A parameter names an unknown region, kind or status, or is not a number. Problem code: `invalid-query`, \
        `field` names the parameter; a list longer than 512 values is `list-too-long`.",
    content_type = "application/problem+json"
)]
pub struct StreamQueryInvalid(Problem);

#[derive(ToResponse)]
#[response(
    description = "This client is over its rate (`rate-limited`) or holds its share of live streams (`too-many-connections`, \
        docs/limits.md); `Retry-After` says when to return.",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds until a request from this client will be admitted.")),
)]
pub struct StreamRateLimited(Problem);

#[derive(ToResponse)]
#[response(description = "No, an unknown or a revoked token.", content_type = "application/problem+json")]
pub struct TokenRefused(Problem);

#[derive(ToResponse)]
#[response(
    description = "The Authorization header is missing, is not `Bearer <token>`, or names an unknown or revoked token. The \
        response carries `WWW-Authenticate: Bearer`. Problem codes: `token-missing`, `token-invalid`, \
        `token-revoked`.",
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "Always `Bearer`.")),
)]
pub struct TokenRequired(Problem);

#[derive(ToResponse)]
#[response(
    description = "The server cannot read or write its token store right now; retry. Problem code: `unavailable`.",
    content_type = "application/problem+json"
)]
pub struct TokenStoreUnavailable(Problem);

#[derive(ToResponse)]
#[response(
    description = "The Content-Type is neither `application/json` nor a `+json` type. Problem code: `unsupported-media-type`.",
    content_type = "application/problem+json"
)]
pub struct UnsupportedMediaType(Problem);

#[derive(ToResponse)]
#[response(
    description = "No region has this id or code. Problem code: `region-not-found`.",
    content_type = "application/problem+json"
)]
pub struct RegionNotFound(Problem);

#[derive(ToResponse)]
#[response(
    description = "An invalid field. Problem code: `invalid-field`, `field` names it.",
    content_type = "application/problem+json"
)]
pub struct ShelterFieldInvalid(Problem);

/// What every compatible endpoint may answer, whatever it serves: its data, not modified, a
/// refused token, the rate limit and an unreadable store, each in the upstream shape.
#[derive(IntoResponses)]
pub enum CompatAnswers {
    #[response(status = 200)]
    Answer(#[ref_response] CompatAnswer),
    #[response(status = 304)]
    NotModified(#[ref_response] CompatNotModified),
    #[response(status = 401)]
    TokenRefused(#[ref_response] CompatTokenRefused),
    #[response(status = 429)]
    RateLimited(#[ref_response] CompatRateLimited),
    #[response(status = 503)]
    Unavailable(#[ref_response] CompatUnavailable),
}

/// ukrainealarm's refusal of a request without an API key.
#[derive(IntoResponses)]
#[response(status = 403)]
pub struct CompatKeyRequired(#[ref_response] CompatKeyMissing);

/// What every token operation may refuse: no admin token, the rate limit, the token store.
#[derive(IntoResponses)]
pub enum TokenAdminRefusals {
    #[response(status = 401)]
    TokenRequired(#[ref_response] TokenRequired),
    #[response(status = 403)]
    AdminOnly(#[ref_response] AdminOnly),
    #[response(status = 429)]
    RateLimited(#[ref_response] RateLimited),
    #[response(status = 503)]
    Unavailable(#[ref_response] TokenStoreUnavailable),
}

/// What every shelter change may refuse before it looks at the shelter: no or not an admin
/// token, the rate limit.
#[derive(IntoResponses)]
pub enum ShelterAdminRefusals {
    #[response(status = 401)]
    TokenRefused(#[ref_response] TokenRefused),
    #[response(status = 403)]
    NotAdmin(#[ref_response] NotAdmin),
    #[response(status = 429)]
    RateLimited(#[ref_response] RateLimited),
}

#[derive(ToResponse)]
#[response(
    description = "A reader's token (`forbidden-role`), or a region outside the responder's or operator's subtrees \
        (`out-of-scope`, `field` naming what placed it there).",
    content_type = "application/problem+json"
)]
pub struct NotResponder(Problem);

/// What every incident or shelter status write may refuse before it looks at the body: no
/// valid token, a reader's, one scoped elsewhere, the rate limit.
#[derive(IntoResponses)]
pub enum IncidentRefusals {
    #[response(status = 401)]
    TokenRefused(#[ref_response] TokenRefused),
    #[response(status = 403)]
    NotResponder(#[ref_response] NotResponder),
    #[response(status = 429)]
    RateLimited(#[ref_response] RateLimited),
}

/// `GET /api/v1/history.json`'s page: oldest first, with the headers naming the next page.
pub struct HistoryJsonPage;

impl IntoResponses for HistoryJsonPage {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let schema = RefOr::Ref(Ref::from_schema_name("HistoryPage"));
        history_page("Oldest first.", "application/json", schema)
    }
}

/// `GET /api/v1/history.csv`'s page, with the headers naming the next page.
pub struct HistoryCsvPage;

impl IntoResponses for HistoryCsvPage {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let description =
            "A header row (always, also for an empty page) and one row per alert, the HistoryRow columns.";
        history_page(description, "text/csv", Object::with_type(Type::String).into())
    }
}

/// The export's one answer with its records, in either format: `Link` and `Next-Cursor` are
/// the same for both.
fn history_page(description: &str, content_type: &str, schema: RefOr<Schema>) -> BTreeMap<String, RefOr<Response>> {
    let header = |description: &str| {
        HeaderBuilder::new().schema(Some(Object::with_type(Type::String))).description(Some(description)).build()
    };
    let page = ResponseBuilder::new()
        .description(description)
        .content(content_type, ContentBuilder::new().schema(Some(schema)).build())
        .header(
            "Link",
            header(
                "`<…?cursor=…>; rel=\"next\"`: the next page, with this request's parameters. Absent on the last page.",
            ),
        )
        .header("Next-Cursor", header("The next page's `cursor`. Absent on the last page."))
        .build();
    BTreeMap::from([("200".to_owned(), RefOr::T(page))])
}
