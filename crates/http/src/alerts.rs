//! `/alerts`: declare, update, cancel and read alerts.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tryvoha_core::{
    Alert, AlertChanges, AlertError, AlertId, AlertKind, AlertLevel, AlertStatus, Command, Declaration, LocalizedText,
    RegionId, Threat,
};
use tryvoha_engine::{EngineError, IdempotencyKey, Outcome, Request, fingerprint};

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
    /// The region; or `region_ids` for several at once (one of the two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region_id: Option<RegionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region_ids: Option<Vec<RegionId>>,
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
    // A new alert is 201 with the alert; one that was already active is 200 with what this
    // declaration changed in it (escalated), `[]` when nothing.
    if outcome.created {
        return Ok((StatusCode::CREATED, Json(outcome.alert)).into_response());
    }
    Ok((StatusCode::OK, Json(AlertWithChanges::from(outcome))).into_response())
}

/// The most regions one declaration may name (as many as a stream filter takes).
const MAX_REGIONS: usize = 512;

enum Targets {
    One(RegionId),
    Several(Vec<RegionId>),
}

/// `region_id` or `region_ids`, exactly one of them; a list is non-empty, bounded and names
/// each region once.
fn declared_regions(body: &DeclareBody) -> Result<Targets, ApiError> {
    match (body.region_id, &body.region_ids) {
        (Some(region), None) => Ok(Targets::One(region)),
        (None, None) => {
            Err(ApiError::invalid_field("region_id", "give the region: region_id, or region_ids for several"))
        }
        (Some(_), Some(_)) => Err(ApiError::invalid_field("region_ids", "give region_id or region_ids, not both")),
        (None, Some(regions)) if regions.is_empty() => {
            Err(ApiError::invalid_field("region_ids", "region_ids names no region"))
        }
        (None, Some(regions)) if regions.len() > MAX_REGIONS => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "list-too-long",
            format!("region_ids names {} regions; at most {MAX_REGIONS} are taken", regions.len()),
        )
        .with_field("region_ids")),
        (None, Some(regions)) => {
            for (index, region) in regions.iter().enumerate() {
                if regions[..index].contains(region) {
                    return Err(ApiError::invalid_field(
                        format!("region_ids[{index}]"),
                        format!("region {} is named twice", region.0),
                    ));
                }
            }
            Ok(Targets::Several(regions.clone()))
        }
    }
}

fn declaration(body: &DeclareBody, region_id: RegionId) -> Declaration {
    Declaration {
        region_id,
        kind: body.kind,
        level: body.level,
        status: body.status,
        threats: body.threats.clone(),
        message: body.message.clone(),
        instruction: body.instruction.clone(),
        expires_at: body.expires_at,
    }
}

/// A refusal about one region of several names it by its place in `region_ids`.
fn blame_region(error: EngineError, regions: &[RegionId]) -> ApiError {
    let region = match &error {
        EngineError::OutOfScope { region } => Some(*region),
        EngineError::Alert(AlertError::UnknownRegion { id }) => Some(*id),
        _ => None,
    };
    let index = region.and_then(|region| regions.iter().position(|r| *r == region));
    let api = ApiError::from(error);
    match index {
        Some(index) => api.with_field(format!("region_ids[{index}]")),
        None => api,
    }
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

/// The answer to a declaration for several regions: one entry per region, in the order given.
#[derive(Serialize)]
struct DeclaredAlerts {
    alerts: Vec<DeclaredAlert>,
}

/// An alert a declaration for several regions created (`created`) or met already active, with
/// what it changed in that one (`changed`, `[]` for a new alert).
#[derive(Serialize)]
struct DeclaredAlert {
    #[serde(flatten)]
    alert: Alert,
    created: bool,
    changed: Vec<&'static str>,
}

impl From<Outcome> for DeclaredAlert {
    fn from(outcome: Outcome) -> DeclaredAlert {
        DeclaredAlert {
            created: outcome.created,
            changed: outcome.changed.iter().map(|field| field.as_str()).collect(),
            alert: outcome.alert,
        }
    }
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
