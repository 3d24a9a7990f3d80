//! `/alerts`: declare, update, cancel and read alerts.

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
use crate::body::{JsonBody, Query, stored_id};
use crate::problem::ApiError;
use crate::stream::StreamQuery;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/alerts", post(declare))
        .route("/alerts/active", get(active))
        .route("/alerts/{id}", get(one).patch(update))
        .route("/alerts/{id}/cancel", post(cancel))
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct DeclareBody {
    region_id: RegionId,
    kind: AlertKind,
    #[serde(default)]
    level: AlertLevel,
    #[serde(default)]
    status: AlertStatus,
    #[serde(default)]
    threats: Vec<Threat>,
    message: Option<LocalizedText>,
    instruction: Option<LocalizedText>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    level: Option<AlertLevel>,
    threats: Option<Vec<Threat>>,
    message: Option<LocalizedText>,
    instruction: Option<LocalizedText>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
}

/// The longest `Idempotency-Key` accepted.
const MAX_KEY_LEN: usize = 255;

async fn declare(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<Writers>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<DeclareBody>,
) -> Result<Response, ApiError> {
    let idempotency = idempotency_key(&headers, &principal.owner, &body)?;
    let declaration = Declaration {
        region_id: body.region_id,
        kind: body.kind,
        level: body.level,
        status: body.status,
        threats: body.threats,
        message: body.message,
        instruction: body.instruction,
        expires_at: body.expires_at,
    };
    let outcome = execute(&state, &principal, Command::Declare(declaration), idempotency)
        .await
        // Only a declaration names the region in its body, so only here does the error point at it.
        .map_err(|error| if error.code == "out-of-scope" { error.with_field("region_id") } else { error })?;
    // A new alert is 201 with the alert; one that was already active is 200 with what this
    // declaration changed in it (escalated), `[]` when nothing.
    if outcome.created {
        return Ok((StatusCode::CREATED, Json(outcome.alert)).into_response());
    }
    Ok((StatusCode::OK, Json(AlertWithChanges::from(outcome))).into_response())
}

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

async fn cancel(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<Writers>,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    let command = Command::Cancel { id: alert_id(&id)? };
    Ok(Json(execute(&state, &principal, command, None).await?.alert))
}

/// The alert's JSON object plus `changed`: the names of the fields the request changed.
#[derive(Serialize)]
struct AlertWithChanges {
    #[serde(flatten)]
    alert: Alert,
    changed: Vec<&'static str>,
}

impl From<Outcome> for AlertWithChanges {
    fn from(outcome: Outcome) -> AlertWithChanges {
        AlertWithChanges { changed: outcome.changed.iter().map(|field| field.as_str()).collect(), alert: outcome.alert }
    }
}

#[derive(Serialize)]
struct AlertList {
    alerts: Vec<Alert>,
}

/// Filtered by the stream's parameters (`regions`, `kinds`, `status`, or `lat` and `lon`), with
/// the same meaning: what a stream with that filter would show in its snapshot.
async fn active(State(state): State<AppState>, Query(query): Query<StreamQuery>) -> Result<Json<AlertList>, ApiError> {
    let filter = query.filter(&state)?;
    let book = state.engine.book();
    let authority = state.live.signer.authority();
    let alerts = book
        .active()
        .filter(|alert| filter.matches(alert, book.registry()))
        .map(|a| a.published_by(authority))
        .collect();
    Ok(Json(AlertList { alerts }))
}

/// `{id}` as JSON (declared by the issuing authority, as everything public), or `{id}.cap` as its
/// CAP 1.2 message.
async fn one(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (number, as_cap) = match id.strip_suffix(".cap") {
        Some(number) => (number, true),
        None => (id.as_str(), false),
    };
    let id = alert_id(number)?;
    let alert = state.engine.alert(id).await?;
    let alert = alert
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "alert-not-found", format!("alert {id} does not exist")))?;
    Ok(if as_cap {
        crate::cap::cap_response(&state, &alert)
    } else {
        Json(alert.published_by(state.live.signer.authority())).into_response()
    })
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
fn alert_id(text: &str) -> Result<AlertId, ApiError> {
    stored_id(text).map(AlertId).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "alert-not-found", format!("{text:?} is not an alert id")).with_field("id")
    })
}

fn idempotency_key(headers: &HeaderMap, owner: &str, body: &DeclareBody) -> Result<Option<IdempotencyKey>, ApiError> {
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
    let canonical = serde_json::to_vec(body).unwrap_or_default();
    Ok(Some(IdempotencyKey { owner: owner.to_owned(), key: key.to_owned(), fingerprint: fingerprint(&canonical) }))
}
