//! `POST /api/v1/cap`: an alert from another authority's system, in CAP 1.2.
//!
//! The message is parsed safely (no DTD, no entities, size and depth limits), checked against
//! the schema's rules and CAP's semantic ones, mapped to regions, and only then applied; a
//! message that fails any step changes nothing. Rules (docs/cap.md):
//! - regions: each `geocode` named `KATOTTG` (a code of the registry) or `tryvoha:region` (an
//!   id); each `polygon` and `circle` by the region at its centre (the finest one); a message
//!   whose areas map to no region is refused (`cap-area-outside-registry`);
//! - `Alert` declares one alert per region (kind from the `tryvoha:kind` event code, else
//!   `CBRNE` → chemical, else air raid; `Extreme`/`Severe` → red, else yellow); `Update` and
//!   `Cancel` act on the alerts their `references` declared;
//! - `Actual`, `Exercise` and `Test` map to the same statuses; `System` and `Draft` messages,
//!   non-public scopes, `Ack` and `Error` are refused.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tryvoha_cap::{Category, Info, MessageType, Scope, Severity, Status};
use tryvoha_core::{
    AlertChanges, AlertError, AlertId, AlertKind, AlertLevel, AlertStatus, Command, Coordinates, Declaration,
    LocalizedText, RegionId,
};
use tryvoha_engine::{EngineError, IdempotencyKey, Principal, Request, fingerprint};

use crate::AppState;
use crate::auth::{Authorized, Writers};
use crate::problem::ApiError;

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
    let owner = format!("cap:{}", message.sender);
    match message.msg_type {
        MessageType::Alert => declare(&state, &principal, &message, &body, status, &owner).await,
        MessageType::Update | MessageType::Cancel => follow_up(&state, &principal, &message).await,
        other => {
            Err(refuse("cap-not-applicable", "msgType", &format!("{other} messages are acknowledgements, not alerts")))
        }
    }
}

async fn declare(
    state: &AppState,
    principal: &Principal,
    message: &tryvoha_cap::Alert,
    body: &[u8],
    status: AlertStatus,
    owner: &str,
) -> Result<Response, ApiError> {
    let info = message
        .infos
        .first()
        .ok_or_else(|| refuse("cap-not-applicable", "info", "an Alert without info says nothing to declare"))?;
    let regions = regions_of(state, message);
    if regions.is_empty() {
        return Err(refuse(
            "cap-area-outside-registry",
            "info.area",
            "no area of the message lies in a region of the registry",
        ));
    }
    // Every region is checked before any is declared: a refusal leaves nothing half-applied.
    let registry = state.engine.registry();
    if let Some(region) = regions.iter().find(|r| !principal.grant.may_alert(**r, registry)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "out-of-scope",
            format!("this token may not act on region {region}"),
        ));
    }
    let expires_at = info.expires.map(|t| t.to_offset_date_time());
    if expires_at.is_some_and(|at| at <= state.engine.now()) {
        return Err(refuse("cap-expired", "info.expires", "the message has already expired"));
    }
    let fingerprint = fingerprint(body);
    let mut alerts = Vec::new();
    for region in regions {
        let declaration = Declaration {
            region_id: region,
            kind: kind_of(info),
            level: if matches!(info.severity, Severity::Extreme | Severity::Severe) {
                AlertLevel::Red
            } else {
                AlertLevel::Yellow
            },
            status,
            threats: Vec::new(),
            message: texts(message, |i| i.description.clone().or_else(|| i.headline.clone())),
            instruction: texts(message, |i| i.instruction.clone()),
            expires_at,
        };
        // The same message again (a retry) finds the alerts it declared.
        let key = IdempotencyKey {
            owner: owner.to_owned(),
            key: format!("{}#{}", message.identifier, region),
            fingerprint: fingerprint.clone(),
        };
        let request = Request {
            command: Command::Declare(declaration),
            actor: principal.actor.clone(),
            grant: principal.grant.clone(),
            idempotency: Some(key),
        };
        alerts.push(state.engine.execute(request).await?.alert);
    }
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "msgType": "Alert", "alerts": alerts }))).into_response())
}

async fn follow_up(
    state: &AppState,
    principal: &Principal,
    message: &tryvoha_cap::Alert,
) -> Result<Response, ApiError> {
    let mut targets: BTreeSet<AlertId> = BTreeSet::new();
    for reference in &message.references {
        let declared = state
            .engine
            .alerts_keyed(format!("cap:{}", reference.sender), format!("{}#", reference.identifier))
            .await?;
        targets.extend(declared);
        // Our own messages refer to tryvoha-alert-{id}.
        if reference.sender == *state.cap_sender
            && let Some(id) = reference.identifier.strip_prefix("tryvoha-alert-").and_then(|n| n.parse().ok())
        {
            targets.insert(AlertId(id));
        }
    }
    if targets.is_empty() {
        return Err(refuse("cap-unknown-reference", "references", "the referenced messages declared no alert here"));
    }
    let command = |id| match message.msg_type {
        MessageType::Cancel => Command::Cancel { id },
        _ => {
            let info = message.infos.first();
            Command::Update {
                id,
                changes: AlertChanges {
                    level: info.map(|i| {
                        if matches!(i.severity, Severity::Extreme | Severity::Severe) {
                            AlertLevel::Red
                        } else {
                            AlertLevel::Yellow
                        }
                    }),
                    message: texts(message, |i| i.description.clone().or_else(|| i.headline.clone())),
                    instruction: texts(message, |i| i.instruction.clone()),
                    expires_at: info.and_then(|i| i.expires).map(|t| t.to_offset_date_time()),
                    ..AlertChanges::default()
                },
            }
        }
    };
    let mut alerts = Vec::new();
    for id in targets {
        let request = Request {
            command: command(id),
            actor: principal.actor.clone(),
            grant: principal.grant.clone(),
            idempotency: None,
        };
        match state.engine.execute(request).await {
            Ok(outcome) => alerts.push(outcome.alert),
            // Already ended (a repeated Cancel): nothing to do for this one.
            Err(EngineError::Alert(AlertError::AlreadyFinished { .. })) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(Json(serde_json::json!({ "msgType": message.msg_type.as_str(), "alerts": alerts })).into_response())
}

/// The regions the message's areas name or cover (see the module rules), in id order.
fn regions_of(state: &AppState, message: &tryvoha_cap::Alert) -> BTreeSet<RegionId> {
    let registry = state.engine.registry();
    let locator = state.places.locator();
    let mut regions = BTreeSet::new();
    for area in message.infos.iter().flat_map(|i| &i.areas) {
        for geocode in &area.geocodes {
            let found = match geocode.value_name.to_ascii_lowercase().as_str() {
                "katottg" => registry.by_code(geocode.value.trim()).map(|r| r.id),
                "tryvoha:region" => {
                    geocode.value.trim().parse().ok().map(RegionId).filter(|id| registry.get(*id).is_some())
                }
                _ => None,
            };
            regions.extend(found);
        }
        let centres = area
            .polygons
            .iter()
            .map(|p| {
                let points = &p.points()[1..]; // the first point repeats as the last
                let n = points.len() as f64;
                (points.iter().map(|p| p.lat()).sum::<f64>() / n, points.iter().map(|p| p.lon()).sum::<f64>() / n)
            })
            .chain(area.circles.iter().map(|c| (c.center().lat(), c.center().lon())));
        for (lat, lon) in centres {
            regions.extend(Coordinates::parse(lat, lon).ok().and_then(|at| locator.locate(at)));
        }
    }
    regions
}

fn kind_of(info: &Info) -> AlertKind {
    let coded =
        info.event_codes.iter().find(|c| c.value_name == "tryvoha:kind").and_then(|c| AlertKind::parse(c.value.trim()));
    coded.unwrap_or(if info.categories.contains(&Category::Cbrne) { AlertKind::Chemical } else { AlertKind::AirRaid })
}

/// The texts of the Ukrainian and English `info`s, picked by `field`.
fn texts(message: &tryvoha_cap::Alert, field: impl Fn(&Info) -> Option<String>) -> Option<LocalizedText> {
    let in_language =
        |prefix: &str| message.infos.iter().find(|i| i.language_or_default().starts_with(prefix)).and_then(&field);
    let text = LocalizedText { uk: in_language("uk"), en: in_language("en") };
    (text.uk.is_some() || text.en.is_some()).then_some(text)
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

fn refuse(code: &'static str, field: &str, detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail).with_field(field)
}
