//! `POST /api/v1/cap`: an alert from another authority's system, in CAP 1.2.
//!
//! The message is parsed safely (no DTD, no entities, size and depth limits), checked against
//! the schema's rules and CAP's semantic ones, mapped in full (regions, kind, references), and
//! only then applied, every alert of it in one commit: a message that fails any step, or any
//! region's scope check, changes nothing. Rules (docs/cap.md):
//! - regions: geocodes by the registry, polygons and circles by the area rule (`area`);
//! - kind by the documented table (`mapping`); an unknown event is refused, never an air raid;
//! - `Alert` declares one alert per region; one already active there is escalated (as a repeated
//!   declaration is), and the message does not thereby own it;
//! - `Update` and `Cancel` act only on alerts that their referenced messages created, and only
//!   for the token that declared them or an admin;
//! - a message sent too long ago, in the future or already expired is refused.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tryvoha_cap::{MessageType, Scope, Status};
use tryvoha_core::{AlertChanges, AlertId, AlertStatus, Command, Declaration, Role};
use tryvoha_engine::{IdempotencyKey, Principal, Request, fingerprint};

use super::mapping::{check_current, kind_of, level_of, refuse, texts, threats_of};
use crate::AppState;
use crate::auth::{Authorized, Writers};
use crate::openapi;
use crate::problem::ApiError;

/// The identifier prefix of the messages this server publishes (`publish`).
const OWN_IDENTIFIER: &str = "tryvoha-alert-";

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
    if message.scope != Scope::Public {
        return Err(refuse("cap-not-public", "scope", "only Public messages become public alerts"));
    }
    let status = match message.status {
        Status::Actual => AlertStatus::Actual,
        Status::Exercise => AlertStatus::Exercise,
        Status::Test => AlertStatus::Test,
        other => {
            return Err(refuse("cap-not-public", "status", &format!("{other} messages are not alerts for the public")));
        }
    };
    match message.msg_type {
        MessageType::Alert => declare(&state, &principal, message, &body, status).await,
        MessageType::Update | MessageType::Cancel => follow_up(&state, &principal, &message).await,
        other => {
            Err(refuse("cap-not-applicable", "msgType", &format!("{other} messages are acknowledgements, not alerts")))
        }
    }
}

async fn declare(
    state: &AppState,
    principal: &Principal,
    message: tryvoha_cap::Alert,
    body: &[u8],
    status: AlertStatus,
) -> Result<Response, ApiError> {
    if message.infos.is_empty() {
        return Err(no_info());
    }
    let (registry, places) = (state.engine.registry().clone(), state.places.clone());
    // Covering a polygon samples every region it may touch: CPU work, off the async workers.
    let (message, regions) = tokio::task::spawn_blocking(move || {
        let regions = super::area::regions_of(&registry, places.locator(), &message);
        (message, regions)
    })
    .await
    .map_err(|_| ApiError::from(tryvoha_engine::EngineError::ShuttingDown))?;
    if regions.is_empty() {
        return Err(refuse(
            "cap-area-outside-registry",
            "info.area",
            "no area of the message lies in a region of the registry",
        ));
    }
    let kind = kind_of(&message.infos)?;
    check_current(&message, state.engine.now(), max_age(state))?;
    let threats = threats_of(&message.infos)?.unwrap_or_default();
    let info = message.infos.first().ok_or_else(no_info)?;
    let fingerprint = fingerprint(body);
    let owner = format!("cap:{}", message.sender);
    let requests = regions
        .into_iter()
        .map(|region| Request {
            command: Command::Declare(Declaration {
                region_id: region,
                kind,
                level: level_of(info),
                status,
                threats: threats.clone(),
                message: texts(&message.infos, |i| i.description.clone().or_else(|| i.headline.clone())),
                instruction: texts(&message.infos, |i| i.instruction.clone()),
                expires_at: info.expires.map(|t| t.to_offset_date_time()),
            }),
            actor: principal.actor.clone(),
            grant: principal.grant.clone(),
            // The same message again (a retry) finds the alerts it declared; one that met an
            // active alert is recorded as not having created it, so it owns nothing.
            idempotency: Some(IdempotencyKey {
                owner: owner.clone(),
                key: format!("{}#{}", message.identifier, region),
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
    if targets.is_empty() {
        return Err(refuse("cap-unknown-reference", "references", "the referenced messages declared no alert here"));
    }
    check_current(message, state.engine.now(), max_age(state))?;
    let book = state.engine.book();
    // Ended already (a repeated Cancel): nothing to do for those.
    let active: Vec<_> = targets.iter().filter_map(|id| book.get(*id)).collect();
    // A CAP message may come from a relay that forwards whatever it gets: it must not end or
    // change an alert that this token did not declare. Admins may.
    if principal.grant.role != Role::Admin
        && let Some(alert) =
            active.iter().find(|a| principal.actor.token_id.is_none_or(|id| a.declared_by.token_id != Some(id)))
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cap-not-owner",
            format!("alert {} was declared by another token; only it or an admin may change it by CAP", alert.id),
        )
        .with_field("references"));
    }
    let changes = match message.msg_type {
        MessageType::Cancel => None,
        _ => Some(update_changes(message)?),
    };
    let requests = active
        .iter()
        .map(|alert| Request {
            command: match &changes {
                None => Command::Cancel { id: alert.id },
                Some(changes) => Command::Update { id: alert.id, changes: changes.clone() },
            },
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
        let created = state
            .engine
            .alerts_keyed(format!("cap:{}", reference.sender), format!("{}#", reference.identifier))
            .await?;
        targets.extend(created);
        if reference.sender == *state.cap_sender
            && let Some(id) = reference.identifier.strip_prefix(OWN_IDENTIFIER).and_then(|n| n.parse::<i64>().ok())
            && let Ok(id) = u64::try_from(id)
            // Only an alert that exists: a reference to none is an unknown reference.
            && state.engine.alert(AlertId(id)).await?.is_some()
        {
            targets.insert(AlertId(id));
        }
    }
    Ok(targets)
}

/// An Update's changes: level, threats (when it names them), texts and expiry from its infos.
fn update_changes(message: &tryvoha_cap::Alert) -> Result<AlertChanges, ApiError> {
    let info = message.infos.first();
    Ok(AlertChanges {
        level: info.map(level_of),
        threats: threats_of(&message.infos)?,
        message: texts(&message.infos, |i| i.description.clone().or_else(|| i.headline.clone())),
        instruction: texts(&message.infos, |i| i.instruction.clone()),
        expires_at: info.and_then(|i| i.expires).map(|t| t.to_offset_date_time()),
    })
}

fn no_info() -> ApiError {
    refuse("cap-not-applicable", "info", "an Alert without info says nothing to declare")
}

fn max_age(state: &AppState) -> time::Duration {
    time::Duration::try_from(state.cap_max_age).unwrap_or(time::Duration::HOUR)
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
