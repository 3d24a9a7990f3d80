//! What the fuzz targets in `crates/http/fuzz` (scripts/fuzz.sh) call: the pure functions that
//! turn a request's untrusted bytes into the handlers' typed requests, reachable without a
//! server, a store or a socket. Not an API: hidden from the docs, so that the handlers' request
//! types can stay private to this crate while a fuzzer still reads input through every one.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use tryvoha_core::{AlertKind, AlertStatus, EventFamily, RegionId, RegionRegistry};
use tryvoha_live::Resume;
pub use tryvoha_store::{HistoryPosition, IncidentQuery};

use crate::alerts::several::{Targets, declared_regions};
pub use crate::body::{is_storable, parse_json, parse_query, stored_id};
use crate::problem::ApiError;

/// One request type's answer to an input: its name, and why it refused the input if it did.
pub type Verdict = (&'static str, Result<(), ApiError>);

/// Reads `bytes` as every JSON body the API takes, as `JsonBody` does for each handler.
pub fn json_bodies(bytes: &[u8]) -> Vec<Verdict> {
    vec![
        body::<crate::alerts::DeclareBody>("DeclareAlertRequest", bytes),
        body::<crate::alerts::UpdateBody>("UpdateAlertRequest", bytes),
        body::<crate::incidents::write::NewIncident>("NewIncident", bytes),
        body::<crate::incidents::write::IncidentChange>("IncidentChange", bytes),
        body::<tryvoha_core::ShelterInfo>("ShelterInfo", bytes),
        body::<crate::places::shelters::ImportBody>("ImportShelters", bytes),
        body::<crate::places::shelter_status::StatusChange>("ShelterStatusChange", bytes),
        body::<crate::regions::shelter_time::RegionChange>("RegionChange", bytes),
        body::<crate::tokens::CreateBody>("CreateTokenRequest", bytes),
        body::<crate::webhooks::CreateBody>("CreateWebhookRequest", bytes),
        body::<crate::webhooks::ChangeBody>("ChangeWebhookRequest", bytes),
        body::<crate::push::SubscribeBody>("CreatePushSubscriptionRequest", bytes),
        body::<crate::push::UnsubscribeBody>("DeletePushSubscriptionRequest", bytes),
    ]
}

/// A declaration as the handler reads it: the canonical bytes its `Idempotency-Key` is bound to
/// (the parsed request serialized again), and the regions it names.
pub struct Declaration {
    pub canonical: Vec<u8>,
    pub regions: Result<Vec<RegionId>, ApiError>,
}

/// Reads `bytes` as `POST /api/v1/alerts` does, up to the engine.
pub fn declaration(bytes: &[u8]) -> Result<Declaration, ApiError> {
    let body: crate::alerts::DeclareBody = parse_json(bytes)?;
    // As `idempotency_key` makes it: a body that does not serialize gets the empty fingerprint.
    let canonical = serde_json::to_vec(&body).unwrap_or_default();
    let regions = declared_regions(&body).map(|targets| match targets {
        Targets::One(region) => vec![region],
        Targets::Several(regions) => regions,
    });
    Ok(Declaration { canonical, regions })
}

/// Reads a query string (without the `?`) as every query the API takes, as `Query` does.
pub fn queries(query: &str) -> Vec<Verdict> {
    vec![
        parameters::<crate::stream::StreamQuery>("StreamQuery", query),
        parameters::<crate::events::PageQuery>("EventPageQuery", query),
        parameters::<crate::regions::ListQuery>("RegionListQuery", query),
        parameters::<crate::places::PointQuery>("PointQuery", query),
        parameters::<crate::places::BoundaryQuery>("BoundaryQuery", query),
        parameters::<crate::places::shelters::ListQuery>("ShelterListQuery", query),
        parameters::<crate::places::nearest::NearestQuery>("NearestQuery", query),
        parameters::<crate::history::RangeQuery>("RangeQuery", query),
        parameters::<crate::history::export::ExportQuery>("ExportQuery", query),
        parameters::<crate::incidents::read::ListQuery>("IncidentListQuery", query),
        parameters::<crate::compat::ukrainealarm::HistoryParameters>("UkrainealarmHistory", query),
        parameters::<crate::pages::views::PageQuery>("PageQuery", query),
        parameters::<crate::pages::views::MapQuery>("MapQuery", query),
        parameters::<crate::pages::views::ShelterQuery>("ShelterPageQuery", query),
    ]
}

/// A stream filter's list parameter (`regions`, `kinds`, `status`, `types`) as the streams read
/// it; `None` for any other name. `Ok` holds how many values the list gave.
pub fn stream_filter_list(name: &str, text: &str, registry: &RegionRegistry) -> Option<Result<usize, ApiError>> {
    use crate::stream::parse_list as list;
    let text = Some(text.to_owned());
    Some(match name {
        "regions" => list(&text, "regions", |item| {
            let id = RegionId(item.parse().ok()?);
            registry.get(id).map(|_| id)
        })
        .map(|regions| regions.len()),
        "kinds" => list(&text, "kinds", AlertKind::parse).map(|kinds| kinds.len()),
        "status" => list(&text, "status", AlertStatus::parse).map(|statuses| statuses.len()),
        "types" => list(&text, "types", EventFamily::parse).map(|families| families.len()),
        _ => return None,
    })
}

/// `Last-Event-ID` as the streams read it: the sequence number to resume after.
pub fn last_event_id(value: &[u8]) -> Result<u64, ApiError> {
    let query: crate::stream::StreamQuery = parse_query("")?;
    match query.resume(Some(value))? {
        Resume::After(seq) => Ok(seq),
        // A header that was given always names a sequence number or is refused.
        Resume::Fresh => Err(ApiError::invalid_query("Last-Event-ID", "read as no resume point")),
    }
}

/// The shelters' `bbox=`.
pub fn shelter_bbox(text: &str) -> Result<[f64; 4], ApiError> {
    crate::places::shelters::parse_bbox(text)
}

/// The statistics' and the export's `from=` and `to=`, with the server's clock at `now`.
pub fn time_range(
    from: Option<&str>,
    to: Option<&str>,
    now: OffsetDateTime,
) -> Result<(OffsetDateTime, OffsetDateTime), ApiError> {
    crate::history::range(&from.map(str::to_owned), &to.map(str::to_owned), now)
}

/// The statistics' and the export's `source=`.
pub fn history_sources(text: &str) -> Result<Option<Vec<String>>, ApiError> {
    crate::history::parse_sources(&Some(text.to_owned()))
}

/// The export's `regions=`.
pub fn export_regions(text: &str, registry: &RegionRegistry) -> Result<Vec<RegionId>, ApiError> {
    crate::history::export::region_list(registry, text)
}

/// The export's `cursor=`, and the cursor the export writes for a position.
pub fn export_cursor(text: &str) -> Result<HistoryPosition, ApiError> {
    crate::history::export::parse_cursor(text)
}

pub fn export_cursor_text(position: HistoryPosition) -> String {
    crate::history::export::cursor(position)
}

/// `GET /api/v1/incidents`'s query as the store's query.
pub fn incident_list(query: &str, registry: &RegionRegistry) -> Result<IncidentQuery, ApiError> {
    crate::incidents::read::incident_query(&parse_query(query)?, registry)
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer_secret(value: &str) -> Option<&str> {
    crate::transport::auth::bearer_secret(value)
}

/// A query's parameters by name, the last of a repeated one winning, for the functions above
/// that take one parameter's text.
pub fn query_parameters(query: &str) -> Result<BTreeMap<String, String>, ApiError> {
    parse_query(query)
}

fn body<T: DeserializeOwned>(name: &'static str, bytes: &[u8]) -> Verdict {
    (name, parse_json::<T>(bytes).map(drop))
}

fn parameters<T: DeserializeOwned>(name: &'static str, query: &str) -> Verdict {
    (name, parse_query::<T>(query).map(drop))
}
