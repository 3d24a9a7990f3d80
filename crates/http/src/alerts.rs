//! `/alerts`: declare, update, cancel, reinstate and read alerts.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tryvoha_core::{
    Alert, AlertChanges, AlertId, AlertKind, AlertLevel, AlertStatus, Command, Declaration, LocalizedText, RegionId,
    Threat,
};
use tryvoha_engine::{IdempotencyKey, Outcome, Request, fingerprint};

use crate::AppState;
use crate::auth::{Authorized, Writers};
use crate::body::{JsonBody, stored_id};
use crate::openapi;
use crate::problem::ApiError;

pub(crate) mod deliveries;
pub(crate) mod read;
pub(crate) mod reinstate;
pub(crate) mod report;
pub(crate) mod several;

use several::{
    Declared, DeclaredAlert, DeclaredAlerts, Escalated, Targets, blame_region, declaration, declared_regions,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/alerts", post(declare))
        .route("/alerts/active", get(read::active))
        .route("/alerts/{id}", get(read::one).patch(update))
        .route("/alerts/{id}/cancel", post(cancel))
        .route("/alerts/{id}/reinstate", post(reinstate::reinstate))
        .route("/alerts/{id}/deliveries", get(deliveries::deliveries))
        .route("/alerts/{id}/report", get(report::report))
        .route("/alerts/{id}/report.csv", get(report::report_csv))
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = DeclareAlertRequest)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeclareBody {
    /// The region; or `region_ids` for several at once (one of the two). Must be in the registry and, for
    /// an operator, inside its scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    region_id: Option<RegionId>,
    /// Several regions, declared together and committed all or none: 1 to 512, each once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, min_items = 1, max_items = 512)]
    region_ids: Option<Vec<RegionId>>,
    kind: AlertKind,
    #[serde(default)]
    #[schema(default = "red")]
    level: AlertLevel,
    #[serde(default)]
    #[schema(default = "actual")]
    status: AlertStatus,
    /// Stored sorted and without duplicates.
    #[serde(default)]
    #[schema(default = json!([]))]
    threats: Vec<Threat>,
    message: Option<LocalizedText>,
    instruction: Option<LocalizedText>,
    /// When the server should end the alert by itself; must be in the future. Null or absent: no expiry.
    #[serde(default, with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
}

/// The fields to change; an absent or null field stays as it is, so a message, an instruction or an
/// expiry can be replaced but not removed. Region, kind and status are fixed for an alert's life.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = UpdateAlertRequest)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateBody {
    level: Option<AlertLevel>,
    /// Replaces the whole list; stored sorted and without duplicates.
    threats: Option<Vec<Threat>>,
    /// Replaces the whole message.
    message: Option<LocalizedText>,
    /// Replaces the whole instruction.
    instruction: Option<LocalizedText>,
    /// Must be in the future.
    #[serde(default, with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
}

/// The longest `Idempotency-Key` accepted.
const MAX_KEY_LEN: usize = 255;

/// The `Idempotency-Key` header in the document, for every operation that takes one.
const IDEMPOTENCY_KEY: &str = "Makes a retried request safe. 1 to 255 visible ASCII characters (surrounding whitespace \
    is trimmed); otherwise 400 `invalid-header`. Keys are kept per token and do not expire. The key is bound to the \
    parsed request (whitespace, key order and explicitly given defaults do not matter): sending it again with the \
    same request replays the first answer (same status, the alert as it now stands) without acting again; sending it \
    with a different request is 422 `idempotency-key-reused`.";

#[utoipa::path(
    post, path = "/api/v1/alerts", operation_id = "declareAlert", tag = "alerts",
    summary = "Declare an alert",
    description = "Role: operator or admin. An operator may declare only in regions inside its subtrees.\n\nDeclares an alert \
        for a region. An alert is identified by its (region, kind, status): when an active alert with the same three \
        already exists, nothing is written and the answer is 200 with that alert as it stands; the other fields of \
        the request are ignored. A drill (`exercise`) or `test` alert never merges with an `actual` one.\n\nWith an \
        `Idempotency-Key`, a retried request replays the first answer: 201 if the first request created the alert, \
        200 if it found an existing one, with the alert as it now stands.\n\nThe body is at most 64 KiB.",
    params(
        ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255,
            description = IDEMPOTENCY_KEY),
    ),
    request_body(content = DeclareBody, content_type = "application/json"),
    security(("bearerAuth" = [])),
    responses(
        (status = 200,
            description = "An active alert with the same region, kind and status already existed (or this replays such a \
                request). The declaration escalated it where it adds something: the higher level (`red` over \
                `yellow`; a declaration never lowers a level), the union of the threats, and its message, \
                instruction and `expires_at` where given — written as one `updated` event. `changed` names what \
                changed; `[]` when nothing did (nothing was written). With `region_ids`: every region's alert was \
                already active, one entry each, in the order given.",
            body = Escalated, content_type = "application/json"),
        (status = 201,
            description = "The alert was created (or this replays the request that created it). With `region_ids`: at \
                least one was created; one entry per region, in the order given, each saying whether it was.",
            body = Declared, content_type = "application/json"),
        (status = 400,
            description = "The body is not valid JSON (empty, malformed, or trailing characters after the value), or it could \
                not be read. Or the `Idempotency-Key` header is empty, longer than 255 characters or not visible \
                ASCII (`field`: `Idempotency-Key`). Problem codes: `invalid-json`, `unreadable-body`, \
                `invalid-header`.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 401, response = openapi::TokenRequired),
        (status = 403,
            description = "The token's role is not operator or admin (`forbidden-role`), or the region is outside the \
                operator's subtrees (`out-of-scope`, `field`: `region_id`). Problem codes: `forbidden-role`, \
                `out-of-scope`.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = openapi::BodyTooLarge),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422,
            description = "A field is missing, unknown or of the wrong type, or `expires_at` is not in the future \
                (`invalid-field`); the region is not in the registry (`unknown-region`, `field`: `region_id`); \
                `message` or `instruction` has a language longer than 2000 characters (`text-too-long`); or a text \
                holds a character XML 1.0 does not allow (U+0000–U+0008, U+000B, U+000C, U+000E–U+001F, U+FFFE, \
                U+FFFF: `invalid-characters`, `field` names the text and language, e.g. `message.uk`); or the \
                `Idempotency-Key` was used before with a different request (`idempotency-key-reused`). Problem \
                codes: `invalid-field`, `unknown-region`, `text-too-long`, `invalid-characters`, \
                `idempotency-key-reused`.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 429, response = openapi::RateLimited),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
async fn declare(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<Writers>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<DeclareBody>,
) -> Result<Response, ApiError> {
    let idempotency = idempotency_key(&headers, &principal.owner, &body)?;
    let regions = match declared_regions(&body)? {
        Targets::One(region) => return declare_one(&state, &principal, declaration(&body, region), idempotency).await,
        Targets::Several(regions) => regions,
    };
    // One request per region, decided together and committed in one transaction: all are
    // declared or none. The first carries the client's key itself (so reusing it for another
    // request is refused as for one region); the others carry keys derived from it, with a
    // separator no header value can hold.
    let requests = regions
        .iter()
        .enumerate()
        .map(|(index, &region)| Request {
            command: Command::Declare(declaration(&body, region)),
            actor: principal.actor.clone(),
            grant: principal.grant.clone(),
            idempotency: idempotency.clone().map(|mut key| {
                if index > 0 {
                    key.key = format!("{}\nregion={}", key.key, region.0);
                }
                key
            }),
        })
        .collect();
    let outcomes = state.engine.execute_all(requests).await.map_err(|error| blame_region(error, &regions))?;
    let status = if outcomes.iter().any(|o| o.created) { StatusCode::CREATED } else { StatusCode::OK };
    let alerts = outcomes.into_iter().map(DeclaredAlert::from).collect();
    Ok((status, Json(DeclaredAlerts { alerts })).into_response())
}

async fn declare_one(
    state: &AppState,
    principal: &tryvoha_engine::Principal,
    declaration: Declaration,
    idempotency: Option<IdempotencyKey>,
) -> Result<Response, ApiError> {
    let outcome = execute(state, principal, Command::Declare(declaration), idempotency)
        .await
        // Only a declaration names the region in its body, so only here does the error point at it.
        .map_err(|error| if error.code == "out-of-scope" { error.with_field("region_id") } else { error })?;
    Ok(declaration_answer(outcome))
}

/// What a declaration of one alert answers (a reinstatement too): a new alert is 201 with the
/// alert; one that was already active is 200 with what this request changed in it (escalated),
/// `[]` when nothing.
fn declaration_answer(outcome: Outcome) -> Response {
    if outcome.created {
        return (StatusCode::CREATED, Json(outcome.alert)).into_response();
    }
    (StatusCode::OK, Json(AlertWithChanges::from(outcome))).into_response()
}

#[utoipa::path(
    patch, path = "/api/v1/alerts/{id}", operation_id = "updateAlert", tag = "alerts",
    summary = "Update an active alert",
    description = "Role: operator or admin. An operator may update only alerts in regions inside its subtrees.\n\nChanges the \
        level, threats, message, instruction or expiry of an active alert. A request that changes nothing writes no \
        event and answers 200 with the alert as it stands. The body is at most 64 KiB.",
    params(
        ("id" = tryvoha_core::AlertId, Path,
            description = "The alert id. A value that is not a non-negative integer is answered with 404 `alert-not-found` \
                naming `id`."),
    ),
    request_body(content = UpdateBody, content_type = "application/json"),
    security(("bearerAuth" = [])),
    responses(
        (status = 200,
            description = "The alert as it now stands, with `changed`: the fields this update changed (`[]` when it changed \
                nothing and nothing was written).",
            body = AlertWithChanges, content_type = "application/json"),
        (status = 400, response = openapi::BodyUnreadable),
        (status = 401, response = openapi::TokenRequired),
        (status = 403, response = openapi::OutOfScope),
        (status = 404, response = openapi::AlertNotFound),
        (status = 409, response = openapi::AlertFinished),
        (status = 413, response = openapi::BodyTooLarge),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422,
            description = "A field is unknown or of the wrong type, or `expires_at` is not in the future (`invalid-field`); or \
                `message` or `instruction` has a language longer than 2000 characters (`text-too-long`); or a text \
                holds a character XML 1.0 does not allow (U+0000–U+0008, U+000B, U+000C, U+000E–U+001F, U+FFFE, \
                U+FFFF: `invalid-characters`, `field` names the text and language, e.g. `message.uk`). Problem \
                codes: `invalid-field`, `text-too-long`, `invalid-characters`.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 429, response = openapi::RateLimited),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
async fn update(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<Writers>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<AlertWithChanges>, ApiError> {
    let changes = AlertChanges {
        level: body.level,
        threats: body.threats,
        message: body.message,
        instruction: body.instruction,
        expires_at: body.expires_at,
    };
    let command = Command::Update { id: alert_id(&id)?, changes };
    Ok(Json(AlertWithChanges::from(execute(&state, &principal, command, None).await?)))
}

#[utoipa::path(
    post, path = "/api/v1/alerts/{id}/cancel", operation_id = "cancelAlert", tag = "alerts",
    summary = "Cancel an alert (all-clear)",
    description = "Role: operator or admin. An operator may cancel only alerts in regions inside its subtrees.\n\nEnds an \
        active alert with `finish_reason` `cancelled`. Any request body is ignored.",
    params(
        ("id" = tryvoha_core::AlertId, Path,
            description = "The alert id. A value that is not a non-negative integer is answered with 404 `alert-not-found` \
                naming `id`."),
    ),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The finished alert.",
            body = tryvoha_core::Alert, content_type = "application/json"),
        (status = 401, response = openapi::TokenRequired),
        (status = 403, response = openapi::OutOfScope),
        (status = 404, response = openapi::AlertNotFound),
        (status = 409, response = openapi::AlertFinished),
        (status = 429, response = openapi::RateLimited),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
async fn cancel(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<Writers>,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    let command = Command::Cancel { id: alert_id(&id)? };
    Ok(Json(execute(&state, &principal, command, None).await?.alert))
}

/// The alert's JSON object plus `changed`: the names of the fields the request changed.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(
    description = "An alert as it stands after its latest event, plus `changed`: the fields this request changed."
)]
struct AlertWithChanges {
    #[serde(flatten)]
    alert: Alert,
    /// The fields this request changed, in this order: `level`, `threats`, `message`, `instruction`, `expires_at`.
    /// Empty when nothing changed (and nothing was written).
    #[schema(value_type = Vec<openapi::ChangedField>)]
    changed: Vec<&'static str>,
}

impl From<Outcome> for AlertWithChanges {
    fn from(outcome: Outcome) -> AlertWithChanges {
        AlertWithChanges { changed: outcome.changed.iter().map(|field| field.as_str()).collect(), alert: outcome.alert }
    }
}

async fn execute(
    state: &AppState,
    principal: &tryvoha_engine::Principal,
    command: Command,
    idempotency: Option<IdempotencyKey>,
) -> Result<Outcome, ApiError> {
    let request = Request { command, actor: principal.actor.clone(), grant: principal.grant.clone(), idempotency };
    Ok(state.engine.execute(request).await?)
}

/// Not a number, or a number too large to be stored: no alert has it.
pub(crate) fn alert_id(text: &str) -> Result<AlertId, ApiError> {
    stored_id(text).map(AlertId).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "alert-not-found", format!("{text:?} is not an alert id")).with_field("id")
    })
}

/// The request's `Idempotency-Key`, bound to `request` (what it asks, parsed).
fn idempotency_key(
    headers: &HeaderMap,
    owner: &str,
    request: &impl Serialize,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key =
        value.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-header",
                format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
            )
            .with_field("Idempotency-Key")
        })?;
    // The fingerprint is of the parsed request, so whitespace or key order do not matter.
    let canonical = serde_json::to_vec(request).unwrap_or_default();
    Ok(Some(IdempotencyKey { owner: owner.to_owned(), key: key.to_owned(), fingerprint: fingerprint(&canonical) }))
}
