//! `GET /api/v1/alerts/{id}/report` (and `.csv`): the record of a night. The alert and each of
//! its events, the incidents that belong to it, the shelters that filled while it ran, and,
//! for those who run the system, how it went out on each channel.
//!
//! What the public gets is what every public output gives: the authority as the actor, public
//! incidents only. A token that sees private incidents (operator, responder, admin) gets them
//! whole, and the delivery counts.

mod csv;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use time::OffsetDateTime;
use tryvoha_core::{Alert, AlertEvent, Event, Incident, IncidentKind, ShelterId, ShelterState};
use tryvoha_deliveries::AlertSummary;
use tryvoha_store::IncidentQuery;

use super::alert_id;
use crate::AppState;
use crate::incidents::Viewer;
use crate::openapi;
use crate::problem::ApiError;

/// The most incidents one report lists.
const MAX_INCIDENTS: usize = 1000;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AlertReport)]
pub(crate) struct Report {
    pub(crate) alert: Alert,
    /// Every event of the alert, oldest first: declared, each update, the all-clear.
    #[schema(value_type = Vec<Object>)]
    pub(crate) events: Vec<AlertEvent>,
    /// The incidents that belong to the alert, newest report first.
    pub(crate) incidents: Vec<Incident>,
    /// How many of `incidents` there are of each kind.
    pub(crate) incidents_by_kind: std::collections::BTreeMap<IncidentKind, usize>,
    /// Shelters in the alert's region reported full while it ran, each at the first time.
    pub(crate) shelters_filled: Vec<FilledShelter>,
    /// Per channel, for every event of the alert, since the server started (docs/deliveries.md);
    /// only for an admin's token or that of an operator whose scope holds the alert's region.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub(crate) deliveries: Option<AlertSummary>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct FilledShelter {
    pub(crate) shelter_id: ShelterId,
    pub(crate) name_uk: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) at: OffsetDateTime,
    pub(crate) occupancy: Option<u32>,
}

#[utoipa::path(
    get, path = "/api/v1/alerts/{id}/report", operation_id = "alertReport", tag = "alerts",
    summary = "The record of an alert: its events, incidents, shelters that filled, deliveries",
    description = "Anyone: the alert, its events and its public incidents. With an operator's, responder's or \
        admin's token: every incident; with an admin's or the alert's operator's, the delivery counts per channel.",
    params(("id" = u64, Path, description = "The alert id.")),
    responses(
        (status = 200, description = "The report.", body = Report, content_type = "application/json"),
        (status = 401, response = openapi::TokenRefused),
        (status = 404, response = openapi::AlertNotFound),
        (status = 429, response = openapi::RateLimited),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
pub(crate) async fn report(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(build(&state, &viewer, alert_id(&id)?).await?))
}

#[utoipa::path(
    get, path = "/api/v1/alerts/{id}/report.csv", operation_id = "alertReportCsv", tag = "alerts",
    summary = "The record of an alert as CSV",
    description = "The report (`/api/v1/alerts/{id}/report`, with the same access) as CSV: a header row `section,at,\
        type,id,region_id,status,detail`, then one row per event, incident, full shelter and channel.",
    params(("id" = u64, Path, description = "The alert id.")),
    responses(
        (status = 200, description = "The report.", body = String, content_type = "text/csv"),
        (status = 401, response = openapi::TokenRefused),
        (status = 404, response = openapi::AlertNotFound),
        (status = 429, response = openapi::RateLimited),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
pub(crate) async fn report_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let report = build(&state, &viewer, alert_id(&id)?).await?;
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"alert-{}-report.csv\"", report.alert.id)),
    ];
    Ok((headers, csv::render(&report)).into_response())
}

pub(crate) async fn build(state: &AppState, viewer: &Viewer, id: tryvoha_core::AlertId) -> Result<Report, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "alert-not-found", format!("alert {id} does not exist"));
    let alert = state.engine.alert(id).await?.ok_or_else(not_found)?;
    let authority = state.live.signer.authority();
    let events: Vec<AlertEvent> = state
        .engine
        .alert_events(id)
        .await?
        .into_iter()
        .filter_map(Event::into_alert)
        .map(|event| event.published_by(authority))
        .collect();
    let query = IncidentQuery { alert_id: Some(id), limit: MAX_INCIDENTS, ..IncidentQuery::default() };
    let query = IncidentQuery { public_only: !viewer.sees_private(), ..query };
    let incidents: Vec<Incident> =
        state.engine.incidents(query).await?.into_iter().filter_map(|i| viewer.view(i, authority)).collect();
    let mut incidents_by_kind = std::collections::BTreeMap::new();
    for incident in &incidents {
        *incidents_by_kind.entry(incident.kind).or_insert(0) += 1;
    }
    let shelters_filled = filled(state, &alert).await?;
    // The counts `/alerts/{id}/deliveries` gives: to an admin and the alert's operators.
    let registry = state.engine.registry();
    let runs_it = viewer.0.as_ref().is_some_and(|principal| principal.grant.may_alert(alert.region_id, registry));
    let deliveries = runs_it.then(|| {
        let ledger = &state.live.hub.metrics().deliveries;
        ledger.get(id).map_or_else(|| ledger.empty_summary(id), |counts| counts.summary())
    });
    Ok(Report {
        alert: alert.published_by(authority),
        events,
        incidents,
        incidents_by_kind,
        shelters_filled,
        deliveries,
    })
}

/// The shelters in the alert's region reported full while it ran (until now, if it runs).
async fn filled(state: &AppState, alert: &Alert) -> Result<Vec<FilledShelter>, ApiError> {
    let until = alert.finished_at.unwrap_or_else(OffsetDateTime::now_utc);
    let changes = state.engine.shelter_events_between(alert.started_at, until).await?;
    let registry = state.engine.registry();
    let index = state.places.shelters();
    let mut filled: Vec<FilledShelter> = Vec::new();
    for change in changes {
        let status = change.shelter;
        let covered = registry.is_within(status.region_id, alert.region_id);
        if status.status != ShelterState::Full || !covered || filled.iter().any(|f| f.shelter_id == status.shelter_id) {
            continue;
        }
        let name_uk = index.all().iter().find(|s| s.id == status.shelter_id).map(|s| s.info.name_uk.clone());
        filled.push(FilledShelter {
            shelter_id: status.shelter_id,
            name_uk,
            at: change.at,
            occupancy: status.occupancy,
        });
    }
    Ok(filled)
}
