//! `POST /api/v1/cap`: an alert from another authority's system, in CAP 1.2.
//!
//! The message is parsed safely (no DTD, no entities, size and depth limits), checked against
//! the schema's rules and CAP's semantic ones, mapped in full by `tryvoha_cap_map` (regions,
//! kind, references; the rules are there and in docs/cap.md), and only then applied, every
//! alert of it in one commit: a message that fails any step, or any region's scope check,
//! changes nothing.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tryvoha_cap_map::{Freshness, Intent, Refusal, RefusalKind};
use tryvoha_core::{AlertId, AlertStatus, Command};
use tryvoha_engine::{IdempotencyKey, Principal, Request, fingerprint};

use crate::AppState;
use crate::auth::{Authorized, Writers};
use crate::openapi;
use crate::problem::ApiError;

#[utoipa::path(
    post, path = "/api/v1/cap", operation_id = "receiveCap", tag = "cap",
    summary = "Apply a CAP 1.2 message from another authority (operator or admin)",
    description = "Parsed safely (no DOCTYPE or entities, 1 MiB, 32 levels), validated, its areas mapped to regions (geocodes; \
        polygons and circles by the regions they cover), its kind by a documented table, checked for freshness \
        (`sent` within `cap_max_age_secs`, at most 5 minutes ahead; not expired), then applied in one commit: Alert \
        declares (escalating, without owning, an alert already active), Update/Cancel act only on alerts their \
        references created, and only for the token that declared them or an admin. docs/cap.md.",
    request_body(content = String, content_type = "application/cap+xml"),
    security(("bearerAuth" = [])),
    responses(
        (status = 200,
            description = "An Update or Cancel: the alerts changed (none when they had all ended already). Or an Alert that \
                only met alerts already active: those alerts, escalated where it adds something."),
        (status = 201,
            description = "An Alert that created at least one alert: the alerts declared or escalated, in region order."),
        (status = 401, response = openapi::TokenRefused),
        (status = 403,
            description = "Not an operator or admin (`forbidden-role`); a region or alert out of scope (`out-of-scope`, nothing \
                applied); or an Update/Cancel for an alert another token declared (`cap-not-owner`, `field`: \
                `references`).",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 1 MiB.", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 422,
            description = "invalid-cap (field: element path), cap-not-public, cap-not-applicable, cap-expired, \
                cap-area-outside-registry, cap-unknown-reference, cap-unknown-event (`info.event` or \
                `info.eventCode`), cap-unknown-threat (`info.parameter`), cap-too-old and cap-sent-in-future \
                (`sent`), invalid-characters, text-too-long.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 429, response = openapi::RateLimited),
    )
)]
pub async fn receive(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<Writers>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let message = tryvoha_cap::parse(&body).map_err(|e| cap_error("invalid-cap", &e))?;
    tryvoha_cap::check_semantics(&message).map_err(|e| cap_error("invalid-cap", &e))?;
    match tryvoha_cap_map::intent(&message)? {
        Intent::Declare(status) => declare(&state, &principal, message, &body, status).await,
        Intent::FollowUp => follow_up(&state, &principal, &message).await,
    }
}

async fn declare(
    state: &AppState,
    principal: &Principal,
    message: tryvoha_cap::Alert,
    body: &[u8],
    status: AlertStatus,
) -> Result<Response, ApiError> {
    let (registry, places, freshness) = (state.engine.registry().clone(), state.places.clone(), freshness(state));
    // Covering a polygon samples every region it may touch: CPU work, off the async workers.
    let planned = tokio::task::spawn_blocking(move || {
        tryvoha_cap_map::plan_declarations(&message, status, &registry, places.locator(), freshness)
    })
    .await
    .map_err(|_| ApiError::from(tryvoha_engine::EngineError::ShuttingDown))??;
    let fingerprint = fingerprint(body);
    let requests = planned
        .alerts
        .into_iter()
        .map(|alert| Request {
            command: Command::Declare(alert.declaration),
            actor: principal.actor.clone(),
            grant: principal.grant.clone(),
            idempotency: Some(IdempotencyKey {
                owner: planned.owner.clone(),
                key: alert.key,
                fingerprint: fingerprint.clone(),
            }),
        })
        .collect();
    let outcomes = state.engine.execute_all(requests).await?;
    let status = if outcomes.iter().any(|o| o.created) { StatusCode::CREATED } else { StatusCode::OK };
    let alerts: Vec<_> = outcomes.into_iter().map(|o| o.alert).collect();
    Ok((status, Json(serde_json::json!({ "msgType": "Alert", "alerts": alerts }))).into_response())
}

async fn follow_up(
    state: &AppState,
    principal: &Principal,
    message: &tryvoha_cap::Alert,
) -> Result<Response, ApiError> {
    let targets = referenced_alerts(state, message).await?;
    let book = state.engine.book();
    let commands =
        tryvoha_cap_map::follow_up(message, &targets, &book, &principal.actor, principal.grant.role, freshness(state))?;
    let requests = commands
        .into_iter()
        .map(|command| Request {
            command,
            actor: principal.actor.clone(),
            grant: principal.grant.clone(),
            idempotency: None,
        })
        .collect();
    let alerts: Vec<_> = state.engine.execute_all(requests).await?.into_iter().map(|o| o.alert).collect();
    Ok(Json(serde_json::json!({ "msgType": message.msg_type.as_str(), "alerts": alerts })).into_response())
}

/// The alerts that the message's references created: by the idempotency records of the
/// messages (keyed by sender and identifier), and our own published `tryvoha-alert-{id}`.
async fn referenced_alerts(state: &AppState, message: &tryvoha_cap::Alert) -> Result<BTreeSet<AlertId>, ApiError> {
    let mut targets = BTreeSet::new();
    for reference in &message.references {
        let (owner, key_prefix) = tryvoha_cap_map::reference_records(reference);
        targets.extend(state.engine.alerts_keyed(owner, key_prefix).await?);
        // Only an alert that exists: a reference to none is an unknown reference.
        if let Some(id) = tryvoha_cap_map::own_alert(reference, &state.cap_sender)
            && state.engine.alert(id).await?.is_some()
        {
            targets.insert(id);
        }
    }
    Ok(targets)
}

fn freshness(state: &AppState) -> Freshness {
    let max_age = time::Duration::try_from(state.cap_max_age).unwrap_or(time::Duration::HOUR);
    Freshness { now: state.engine.now(), max_age }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> ApiError {
        let status = match refusal.kind {
            RefusalKind::Inapplicable => StatusCode::UNPROCESSABLE_ENTITY,
            RefusalKind::NotOwner => StatusCode::FORBIDDEN,
        };
        ApiError::new(status, refusal.code, refusal.detail).with_field(refusal.field)
    }
}

fn cap_error(code: &'static str, error: &tryvoha_cap::CapError) -> ApiError {
    let status = if matches!(error, tryvoha_cap::CapError::TooLarge { .. }) {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let error_text = error.to_string();
    let api = ApiError::new(status, code, error_text);
    match error.path() {
        Some(path) => api.with_field(path),
        None => api,
    }
}
