//! `POST /api/v1/incidents` and `PATCH /api/v1/incidents/{id}`: responders, operators and
//! admins report incidents in their regions and change them. A refusal names the field and
//! writes nothing.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tryvoha_core::{
    AlertId, Coordinates, IncidentChanges, IncidentId, IncidentKind, IncidentReport, IncidentStatus, LocalizedText,
    RegionId, Severity,
};

use crate::AppState;
use crate::auth::{Authorized, Responders};
use crate::body::{JsonBody, stored_id};
use crate::openapi;
use crate::problem::ApiError;

/// A new incident. The region is where `lat`/`lon` lie, unless `region_id` names it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewIncident {
    kind: IncidentKind,
    #[schema(minimum = -90, maximum = 90)]
    lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    lon: f64,
    /// The region it is in, when the point alone would not say (on a border, say).
    #[serde(default)]
    region_id: Option<RegionId>,
    /// In Ukrainian, English or both (at least one).
    description: LocalizedText,
    #[serde(default)]
    severity: Severity,
    #[serde(default)]
    people_affected: Option<u32>,
    /// Where people were taken.
    #[serde(default)]
    #[schema(max_length = 500)]
    evacuated_to: Option<String>,
    /// The exact address: only on an incident that is not public.
    #[serde(default)]
    #[schema(max_length = 500)]
    address: Option<String>,
    /// Only on an incident that is not public.
    #[serde(default)]
    #[schema(max_length = 500)]
    casualty_details: Option<String>,
    /// Whether the public sees it (streams with `types=incidents`, the lists, the report, MQTT,
    /// webhooks). Required: nothing is published by omission.
    public: bool,
    /// The alert it belongs to; default: the active air-raid alert covering its region, or the
    /// one that ended there last.
    #[serde(default)]
    alert_id: Option<AlertId>,
}

/// What changes about an incident: each member given replaces the one before.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IncidentChange {
    /// Forward only: `active` → `contained` → `closed`; a closed incident changes no more.
    #[serde(default)]
    status: Option<IncidentStatus>,
    #[serde(default)]
    severity: Option<Severity>,
    #[serde(default)]
    description: Option<LocalizedText>,
    #[serde(default)]
    people_affected: Option<u32>,
    #[serde(default)]
    #[schema(max_length = 500)]
    evacuated_to: Option<String>,
    /// `null` clears it: an incident is published only once it holds no address.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>, max_length = 500)]
    address: Option<Option<String>>,
    /// `null` clears it, as `address`.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>, max_length = 500)]
    casualty_details: Option<Option<String>>,
    /// `true` publishes it; a published incident is never made private again.
    #[serde(default)]
    public: Option<bool>,
}

#[utoipa::path(
    post, path = "/api/v1/incidents", operation_id = "reportIncident", tag = "incidents",
    summary = "Report an incident (responder, operator, admin)",
    description = "Roles: responder and operator (in their regions), admin.\n\nRecords the incident as an \
        `incident_reported` event of the log. The body is at most 64 KiB.",
    request_body(content = NewIncident, content_type = "application/json"),
    security(("bearerAuth" = [])),
    responses(
        openapi::IncidentRefusals,
        (status = 201, description = "Reported.", body = tryvoha_core::Incident, content_type = "application/json"),
        (status = 400, response = openapi::BodyUnreadable),
        (status = 413, response = openapi::BodyTooLarge),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422,
            description = "A member is missing or invalid (`invalid-field`, `text-too-long`, `invalid-characters`), \
                the point is outside every region (`outside-regions`), `region_id` is unknown (`unknown-region`), \
                `alert_id` names no alert (`unknown-alert`), or a public incident carries `address` or \
                `casualty_details` (`private-field-on-public`); `field` names the member.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
pub(super) async fn report(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<Responders>,
    JsonBody(body): JsonBody<NewIncident>,
) -> Result<Response, ApiError> {
    let at = Coordinates::parse(body.lat, body.lon)
        .map_err(|error| ApiError::invalid_field(error.field(), error.to_string()))?;
    let located = state.places.locator().locate(at);
    let registry = state.engine.registry();
    let region_id = match body.region_id {
        Some(id) if registry.get(id).is_none() => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-region",
                format!("region {id} is not in the registry"),
            )
            .with_field("region_id"));
        }
        // The region may be named (a point on a border), not contradicted: the scope and the
        // streams go by it, the map by the point.
        Some(id) if located.is_some_and(|found| !registry.is_within(found, id)) => {
            let found = located.map(|r| r.0).unwrap_or_default();
            return Err(ApiError::invalid_field(
                "region_id",
                format!(
                    "the point {}, {} lies in region {found}, which is not region {id} or within it",
                    at.lat, at.lon
                ),
            ));
        }
        Some(id) => id,
        None => located.ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "outside-regions",
                format!("the point {}, {} is outside every region of the registry", at.lat, at.lon),
            )
            .with_field("lat")
        })?,
    };
    let report = IncidentReport {
        kind: body.kind,
        severity: body.severity,
        region_id,
        lat: at.lat,
        lon: at.lon,
        description: body.description,
        people_affected: body.people_affected,
        evacuated_to: body.evacuated_to,
        address: body.address,
        casualty_details: body.casualty_details,
        public: body.public,
        alert_id: body.alert_id,
    };
    let event = state.engine.report_incident(report, caller.actor, caller.grant).await?;
    let location = format!("/api/v1/incidents/{}", event.incident.id);
    Ok((StatusCode::CREATED, [(axum::http::header::LOCATION, location)], Json(event.incident)).into_response())
}

#[utoipa::path(
    patch, path = "/api/v1/incidents/{id}", operation_id = "changeIncident", tag = "incidents",
    summary = "Change an incident: status, figures, texts (responder, operator, admin)",
    description = "Roles: responder and operator (in the incident's region), admin.\n\nRecords an \
        `incident_updated` event, or `incident_closed` when it closes; a change that changes nothing records \
        nothing. Answers the incident as it now stands. The body is at most 64 KiB.",
    params(("id" = u64, Path, description = "The incident's id.")),
    request_body(content = IncidentChange, content_type = "application/json"),
    security(("bearerAuth" = [])),
    responses(
        openapi::IncidentRefusals,
        (status = 200, description = "As it now stands.", body = tryvoha_core::Incident, content_type = "application/json"),
        (status = 400, response = openapi::BodyUnreadable),
        (status = 404, description = "No such incident. Problem code: `incident-not-found`.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 409,
            description = "The incident is closed (`incident-closed`), the status would go back (`status-backwards`, \
                `field`: `status`), or a published incident would be made private (`incident-published`, `field`: \
                `public`).",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = openapi::BodyTooLarge),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422,
            description = "A member is invalid, or a public incident would carry `address` or `casualty_details`; \
                `field` names it.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
pub(super) async fn change(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<Responders>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<IncidentChange>,
) -> Result<Json<tryvoha_core::Incident>, ApiError> {
    let id = incident_id(&id)?;
    let changes = IncidentChanges {
        status: body.status,
        severity: body.severity,
        description: body.description,
        people_affected: body.people_affected,
        evacuated_to: body.evacuated_to,
        address: body.address,
        casualty_details: body.casualty_details,
        public: body.public,
    };
    let (incident, _) = state.engine.update_incident(id, changes, caller.actor, caller.grant).await?;
    Ok(Json(incident))
}

/// A member that is present, null or not: `Some(None)` for null, `None` only when absent.
fn given<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// An incident id from the path: a number the store can hold, else 404 (no such incident).
pub(super) fn incident_id(text: &str) -> Result<IncidentId, ApiError> {
    stored_id(text).map(IncidentId).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "incident-not-found", format!("incident {text} does not exist"))
    })
}
