//! `GET /api/v1/incidents` and `GET /api/v1/incidents/{id}`: newest first, by region (with
//! everything below it), alert, status and time.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tryvoha_core::{AlertId, Incident, IncidentStatus, RegionId, RegionRegistry};
use tryvoha_store::IncidentQuery;

use super::Viewer;
use super::write::incident_id;
use crate::AppState;
use crate::body::{Query, stored_id};
use crate::openapi;
use crate::problem::ApiError;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Incidents in this region or anywhere below it.
    #[param(value_type = Option<u32>)]
    region_id: Option<String>,
    /// Incidents that belong to this alert.
    #[param(value_type = Option<u64>)]
    alert_id: Option<String>,
    /// Comma-separated: `active`, `contained`, `closed`.
    #[param(example = "active,contained")]
    status: Option<String>,
    /// Reported at or after (RFC 3339).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Reported before (RFC 3339).
    #[param(format = DateTime)]
    to: Option<String>,
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000, default = 100)]
    limit: Option<usize>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = IncidentList)]
pub(crate) struct List {
    /// Newest report first.
    incidents: Vec<Incident>,
}

#[utoipa::path(
    get, path = "/api/v1/incidents", operation_id = "listIncidents", tag = "incidents",
    summary = "Incidents, newest first",
    description = "Without a token: the public incidents. With an operator's, responder's or admin's token: every \
        incident, with the fields kept off public ones (`address`, `casualty_details`).",
    params(ListQuery),
    responses(
        (status = 200, description = "Newest report first.", body = List, content_type = "application/json"),
        (status = 400, description = "A query parameter is invalid; `field` names it. Problem code: `invalid-query`.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 401, response = openapi::TokenRefused),
        (status = 429, response = openapi::RateLimited),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
pub(super) async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> Result<Json<List>, ApiError> {
    let registry = state.engine.registry().clone();
    let query = IncidentQuery { public_only: !viewer.sees_private(), ..incident_query(&query, &registry)? };
    let authority = state.live.signer.authority();
    let incidents = state.engine.incidents(query).await?;
    Ok(Json(List { incidents: incidents.into_iter().filter_map(|i| viewer.view(i, authority)).collect() }))
}

/// The store's query for these parameters (every incident; the caller narrows to public ones).
pub(crate) fn incident_query(query: &ListQuery, registry: &RegionRegistry) -> Result<IncidentQuery, ApiError> {
    let regions = match &query.region_id {
        None => None,
        Some(text) => {
            let id = text.parse().ok().map(RegionId).filter(|&id| registry.get(id).is_some());
            let id = id.ok_or_else(|| ApiError::invalid_query("region_id", format!("region {text:?} is not known")))?;
            Some(subtree(registry, id))
        }
    };
    let alert_id = match &query.alert_id {
        None => None,
        Some(text) => Some(AlertId(
            stored_id(text).ok_or_else(|| ApiError::invalid_query("alert_id", "alert_id must be an alert's id"))?,
        )),
    };
    let statuses = match &query.status {
        None => Vec::new(),
        Some(text) => text
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                IncidentStatus::parse(s.trim()).ok_or_else(|| {
                    ApiError::invalid_query("status", format!("status {s:?} is not active, contained or closed"))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let from = time_of("from", &query.from)?;
    let to = time_of("to", &query.to)?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::invalid_query("limit", format!("limit must be 1 to {MAX_LIMIT}")));
    }
    Ok(IncidentQuery { regions, alert_id, statuses, from, to, public_only: true, limit })
}

fn time_of(field: &'static str, text: &Option<String>) -> Result<Option<OffsetDateTime>, ApiError> {
    text.as_deref()
        .map(|text| {
            OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
                ApiError::invalid_query(field, format!("{field} must be an RFC 3339 time, e.g. 2024-01-01T00:00:00Z"))
            })
        })
        .transpose()
}

/// `region` and every region below it.
pub(crate) fn subtree(registry: &RegionRegistry, region: RegionId) -> Vec<RegionId> {
    let mut regions = vec![region];
    let mut next = 0;
    while next < regions.len() {
        regions.extend_from_slice(registry.children(regions[next]));
        next += 1;
    }
    regions
}

#[utoipa::path(
    get, path = "/api/v1/incidents/{id}", operation_id = "getIncident", tag = "incidents",
    summary = "One incident",
    description = "A public incident to anyone; one that is not public only with an operator's, responder's or \
        admin's token (404 otherwise).",
    params(("id" = u64, Path, description = "The incident's id.")),
    responses(
        (status = 200, description = "The incident.", body = Incident, content_type = "application/json"),
        (status = 401, response = openapi::TokenRefused),
        (status = 404, description = "No such incident (or none this caller may see). Problem code: \
            `incident-not-found`.", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 429, response = openapi::RateLimited),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
pub(super) async fn one(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Json<Incident>, ApiError> {
    let id = incident_id(&id)?;
    let incident = state.engine.incident(id).await?;
    incident.and_then(|incident| viewer.view(incident, state.live.signer.authority())).map(Json).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "incident-not-found", format!("incident {id} does not exist"))
    })
}
