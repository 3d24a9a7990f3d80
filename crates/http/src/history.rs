//! The record: statistics of a region's alerts and the history as CSV or JSON. Statistics read
//! finished alerts (live and imported) from the store and real alerts still running; the export
//! ([`export`]) pages and streams the finished ones.
//!
//! Statistics are CPU work (merging tens of thousands of intervals): it runs on the blocking
//! pool, never on an async worker, and the summary, the same for every client, is computed once
//! per log position and minute ([`Summaries`]).

pub(crate) mod export;

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tryvoha_core::{AlertBook, AlertStatus, Level, RegionId};
use tryvoha_history::{Interval, RegionStats, SOURCES, Totals, region_stats, region_totals};
use tryvoha_store::{HistoryOrder, HistoryQuery};

use self::export::{ExportQuery, Format, Page};
use crate::AppState;
use crate::body::Query;
use crate::openapi;
use crate::problem::ApiError;
use crate::regions::{RegionView, find_region};
use crate::rendered::{Rendered, off_workers};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/stats/regions/{id}", get(region))
        .route("/stats/summary", get(summary))
        .route("/history.csv", get(history_csv))
        .route("/history.json", get(history_json))
}

/// The range and sources the statistics cover.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RangeQuery {
    /// RFC 3339; default: everything recorded.
    #[param(format = DateTime)]
    from: Option<String>,
    /// RFC 3339; default: now.
    #[param(format = DateTime)]
    to: Option<String>,
    /// Comma-separated sources: live, official, volunteer, volunteer-naive.
    #[param(example = "official")]
    source: Option<String>,
}

/// `source=`: a comma-separated list of the known sources; an unknown one is refused (it would
/// match nothing, and an empty answer would look like no alerts).
pub(crate) fn parse_sources(text: &Option<String>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    let sources: Vec<String> = text.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
    if let Some(unknown) = sources.iter().find(|s| !SOURCES.contains(&s.as_str())) {
        return Err(ApiError::invalid_query(
            "source",
            format!("source {unknown:?} is not one of {}", SOURCES.join(", ")),
        ));
    }
    Ok(Some(sources))
}

/// `[from, to)`; without `from` everything recorded, without `to` until now.
pub(crate) fn range(
    from: &Option<String>,
    to: &Option<String>,
    now: OffsetDateTime,
) -> Result<(OffsetDateTime, OffsetDateTime), ApiError> {
    let parse = |field: &'static str, text: &Option<String>| {
        text.as_deref()
            .map(|t| {
                OffsetDateTime::parse(t, &Rfc3339).map_err(|_| {
                    ApiError::invalid_query(
                        field,
                        format!("{field} must be an RFC 3339 time, e.g. 2024-01-01T00:00:00Z"),
                    )
                })
            })
            .transpose()
    };
    let from = parse("from", from)?.unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let to = parse("to", to)?.unwrap_or(now);
    if from >= to {
        return Err(ApiError::invalid_query("to", "to must be after from"));
    }
    Ok((from, to))
}

/// Real alerts on `regions` overlapping the range: finished ones from the store, running ones
/// from the book (ending now).
pub(crate) async fn real_intervals(
    state: &AppState,
    book: &AlertBook,
    regions: Option<Vec<RegionId>>,
    sources: Option<Vec<String>>,
    (from, to): (OffsetDateTime, OffsetDateTime),
) -> Result<Vec<(RegionId, Interval)>, ApiError> {
    let live_included = sources.as_ref().is_none_or(|s| s.iter().any(|s| s == "live"));
    let query = HistoryQuery {
        regions: regions.clone(),
        sources,
        from: Some(from),
        to: Some(to),
        order: HistoryOrder::Region,
        ..HistoryQuery::default()
    };
    let records = state.engine.history(query).await?;
    let now = state.engine.now();
    let finished = records
        .into_iter()
        .filter(|r| r.status == AlertStatus::Actual)
        .map(|r| (r.region_id, Interval { start: r.started_at, end: r.finished_at }));
    let running: Vec<(RegionId, Interval)> = book
        .active()
        .filter(|a| {
            live_included
                && a.status == AlertStatus::Actual
                && regions.as_ref().is_none_or(|rs| rs.contains(&a.region_id))
        })
        .map(|a| (a.region_id, Interval { start: a.started_at, end: now }))
        .filter(|(_, i)| i.start < to && i.end > from)
        .collect();
    Ok(finished.chain(running).collect())
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = RegionStats)]
struct RegionReport<'a> {
    region: RegionView<'a>,
    #[serde(with = "time::serde::rfc3339")]
    from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    to: OffsetDateTime,
    #[serde(flatten)]
    stats: RegionStats,
    /// Public incidents reported in the region or below it in the range, by kind.
    #[schema(value_type = Object)]
    incidents: IncidentCounts,
}

/// Incidents counted: all of them and by kind.
#[derive(Default, Serialize)]
struct IncidentCounts {
    total: u64,
    by_kind: std::collections::BTreeMap<tryvoha_core::IncidentKind, u64>,
}

/// The public incidents of `[from, to)`, counted for each of `regions` with everything below it.
async fn incidents_within(
    state: &AppState,
    book: &AlertBook,
    regions: &[RegionId],
    (from, to): (OffsetDateTime, OffsetDateTime),
) -> Result<HashMap<RegionId, IncidentCounts>, ApiError> {
    let registry = book.registry();
    let mut counted: HashMap<RegionId, IncidentCounts> = HashMap::new();
    for (region, kind, count) in state.engine.incident_counts(from, to, true).await? {
        for &root in regions.iter().filter(|&&root| registry.is_within(region, root)) {
            let counts = counted.entry(root).or_default();
            counts.total += count;
            *counts.by_kind.entry(kind).or_default() += count;
        }
    }
    Ok(counted)
}

#[utoipa::path(
    get, path = "/api/v1/stats/regions/{id}", operation_id = "regionStats", tag = "history",
    summary = "How often, how long, when: a region's alert statistics",
    params(
        ("id" = String, Path,
            description = "Region id or KATOTTG code."),
        RangeQuery,
    ),
    responses(
        (status = 200, description = "The statistics.", body = RegionReport, content_type = "application/json"),
        (status = 400, response = openapi::StatsQueryInvalid),
        (status = 404, response = openapi::RegionNotFound),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn region(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<RangeQuery>,
) -> Result<Response, ApiError> {
    let (from, to) = range(&query.from, &query.to, state.engine.now())?;
    let sources = parse_sources(&query.source)?;
    let book = state.engine.book();
    let region = find_region(book.registry(), &id)?;
    // A region is under alert when it or an ancestor is.
    let covering: Vec<RegionId> = std::iter::once(region.id).chain(book.registry().ancestors(region.id)).collect();
    let intervals: Vec<Interval> =
        real_intervals(&state, &book, Some(covering), sources, (from, to)).await?.into_iter().map(|(_, i)| i).collect();
    let stats = off_workers(move || region_stats(&intervals, from, to)).await.map_err(|_| statistics_failed())?;
    let incidents =
        incidents_within(&state, &book, &[region.id], (from, to)).await?.remove(&region.id).unwrap_or_default();
    let report = RegionReport { region: RegionView::new(region, &book), from, to, stats, incidents };
    Ok(Json(report).into_response())
}

fn statistics_failed() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the statistics could not be computed; retry")
}

/// The summary's answers, one per log position, minute and query: every client asking for the
/// same summary between two events gets the one computation. The minute bounds how stale a
/// summary that runs "until now" (running alerts, history imported while the server runs) gets.
pub struct Summaries {
    rendered: Rendered<SummaryKey, Summary>,
}

impl Default for Summaries {
    fn default() -> Summaries {
        Summaries { rendered: Rendered::new(16) }
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct SummaryKey {
    seq: tryvoha_core::Seq,
    minute: i64,
    from: Option<String>,
    to: Option<String>,
    sources: Option<Vec<String>>,
}

/// The range as computed (an open `to` is the time of the computation) and the ranking.
struct Summary {
    from: OffsetDateTime,
    to: OffsetDateTime,
    ranked: Vec<(RegionId, Totals)>,
    incidents: HashMap<RegionId, IncidentCounts>,
}

#[derive(Serialize)]
struct Ranked<'a> {
    rank: usize,
    region: RegionView<'a>,
    alerts: usize,
    time_under_alert_s: i64,
    mean_duration_s: Option<f64>,
    median_duration_s: Option<f64>,
    longest_duration_s: Option<i64>,
    /// Public incidents reported in the oblast in the range.
    incidents: u64,
}

#[utoipa::path(
    get, path = "/api/v1/stats/summary", operation_id = "statsSummary", tag = "history",
    summary = "Every oblast-level region ranked by time under alert",
    params(RangeQuery),
    responses(
        (status = 200, description = "The ranking.",
            body = openapi::AnyObject, content_type = "application/json"),
        (status = 400, response = openapi::StatsQueryInvalid),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn summary(State(state): State<AppState>, Query(query): Query<RangeQuery>) -> Result<Response, ApiError> {
    let now = state.engine.now();
    let (from, to) = range(&query.from, &query.to, now)?;
    let sources = parse_sources(&query.source)?;
    let book = state.engine.book();
    let registry = book.registry();
    let key = SummaryKey {
        seq: book.last_seq(),
        minute: now.unix_timestamp().div_euclid(60),
        from: query.from.clone(),
        to: query.to.clone(),
        sources: sources.clone(),
    };
    let compute = async {
        let oblasts: Vec<RegionId> = registry.all().iter().filter(|r| r.level == Level::Oblast).map(|r| r.id).collect();
        let intervals = real_intervals(&state, &book, Some(oblasts.clone()), sources, (from, to)).await?;
        let incidents = incidents_within(&state, &book, &oblasts, (from, to)).await?;
        let ranked = off_workers(move || rank(&oblasts, intervals, from, to)).await.map_err(|_| statistics_failed())?;
        Ok::<_, ApiError>(Summary { from, to, ranked, incidents })
    };
    let summary = state.summaries.rendered.get_with(key, compute).await?;
    let regions: Vec<Ranked<'_>> = summary
        .ranked
        .iter()
        .enumerate()
        .filter_map(|(index, (id, stats))| {
            Some(Ranked {
                rank: index + 1,
                region: RegionView::new(registry.get(*id)?, &book),
                alerts: stats.alerts,
                time_under_alert_s: stats.time_under_alert_s,
                mean_duration_s: stats.mean_duration_s,
                median_duration_s: stats.median_duration_s,
                longest_duration_s: stats.longest_duration_s,
                incidents: summary.incidents.get(id).map_or(0, |counts| counts.total),
            })
        })
        .collect();
    let (from, to) = (summary.from, summary.to);
    Ok(Json(serde_json::json!({ "from": from.format(&Rfc3339).unwrap_or_default(), "to": to.format(&Rfc3339).unwrap_or_default(), "regions": regions })).into_response())
}

/// Oblasts by time under alert, longest first.
fn rank(
    oblasts: &[RegionId],
    intervals: Vec<(RegionId, Interval)>,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Vec<(RegionId, Totals)> {
    let mut by_region: HashMap<RegionId, Vec<Interval>> = HashMap::new();
    for (region, interval) in intervals {
        by_region.entry(region).or_default().push(interval);
    }
    let mut ranked: Vec<(RegionId, Totals)> = oblasts
        .iter()
        .map(|id| (*id, region_totals(by_region.get(id).map(Vec::as_slice).unwrap_or_default(), from, to)))
        .collect();
    ranked.sort_by(|a, b| b.1.time_under_alert_s.cmp(&a.1.time_under_alert_s).then(a.0.cmp(&b.0)));
    ranked
}

/// Both formats' description in the document.
const EXPORT_DESCRIPTION: &str = "A page of at most `limit` records after `cursor`, streamed as it is read. Follow `next` \
    (JSON), `Next-Cursor` or `Link` for the rest (docs/history.md).";

#[utoipa::path(
    get, path = "/api/v1/history.json", operation_id = "historyJson", tag = "history",
    summary = "Finished alerts, live and imported",
    description = EXPORT_DESCRIPTION,
    params(export::ExportQuery),
    responses(
        openapi::HistoryJsonPage,
        (status = 400, response = openapi::HistoryQueryInvalid),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn history_json(State(state): State<AppState>, Query(query): Query<ExportQuery>) -> Result<Response, ApiError> {
    export(state, query, Format::Json, "/api/v1/history.json").await
}

#[utoipa::path(
    get, path = "/api/v1/history.csv", operation_id = "historyCsv", tag = "history",
    summary = "Finished alerts as CSV",
    description = EXPORT_DESCRIPTION,
    params(export::ExportQuery),
    responses(
        openapi::HistoryCsvPage,
        (status = 400, response = openapi::HistoryQueryInvalid),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn history_csv(State(state): State<AppState>, Query(query): Query<ExportQuery>) -> Result<Response, ApiError> {
    export(state, query, Format::Csv, "/api/v1/history.csv").await
}

async fn export(state: AppState, query: ExportQuery, format: Format, path: &str) -> Result<Response, ApiError> {
    let registry = state.engine.registry().clone();
    let page = Page::locate(&state.engine, &registry, &query).await?;
    Ok(page.respond(state.engine.clone(), registry, format, path))
}
