//! The record: statistics of a region's alerts and the history as CSV or JSON. Both read
//! finished alerts (live and imported) from the store and real alerts still running.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tryvoha_core::{AlertBook, AlertStatus, Level, RegionId};
use tryvoha_history::{Interval, RegionStats, Totals, region_stats, region_totals};
use tryvoha_store::{HistoryOrder, HistoryQuery, HistoryRecord};

use crate::AppState;
use crate::body::Query;
use crate::problem::ApiError;
use crate::regions::{RegionView, find_region};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/stats/regions/{id}", get(region))
        .route("/stats/summary", get(summary))
        .route("/history.csv", get(history_csv))
        .route("/history.json", get(history_json))
}

#[derive(Deserialize)]
struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
    /// Comma-separated sources (`live`, `official`, `volunteer`, …); all when absent.
    source: Option<String>,
}

fn sources(text: &Option<String>) -> Option<Vec<String>> {
    text.as_ref().map(|t| t.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
}

/// `[from, to)`; without `from` everything recorded, without `to` until now.
fn range(
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
async fn real_intervals(
    state: &AppState,
    book: &AlertBook,
    regions: Option<Vec<RegionId>>,
    sources: Option<Vec<String>>,
    (from, to): (OffsetDateTime, OffsetDateTime),
) -> Result<Vec<(RegionId, Interval)>, ApiError> {
    let live_included = sources.as_ref().is_none_or(|s| s.iter().any(|s| s == "live"));
    let query =
        HistoryQuery { regions: regions.clone(), sources, from: Some(from), to: Some(to), order: HistoryOrder::Region };
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

#[derive(Serialize)]
struct RegionReport<'a> {
    region: RegionView<'a>,
    #[serde(with = "time::serde::rfc3339")]
    from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    to: OffsetDateTime,
    #[serde(flatten)]
    stats: RegionStats,
}

async fn region(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<RangeQuery>,
) -> Result<Response, ApiError> {
    let (from, to) = range(&query.from, &query.to, state.engine.now())?;
    let book = state.engine.book();
    let region = find_region(book.registry(), &id)?;
    // A region is under alert when it or an ancestor is.
    let covering: Vec<RegionId> = std::iter::once(region.id).chain(book.registry().ancestors(region.id)).collect();
    let intervals: Vec<Interval> = real_intervals(&state, &book, Some(covering), sources(&query.source), (from, to))
        .await?
        .into_iter()
        .map(|(_, i)| i)
        .collect();
    let report =
        RegionReport { region: RegionView::new(region, &book), from, to, stats: region_stats(&intervals, from, to) };
    Ok(Json(report).into_response())
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
}

async fn summary(State(state): State<AppState>, Query(query): Query<RangeQuery>) -> Result<Response, ApiError> {
    let (from, to) = range(&query.from, &query.to, state.engine.now())?;
    let book = state.engine.book();
    let registry = book.registry();
    let oblasts: Vec<RegionId> = registry.all().iter().filter(|r| r.level == Level::Oblast).map(|r| r.id).collect();
    let mut by_region: HashMap<RegionId, Vec<Interval>> = HashMap::new();
    for (region, interval) in
        real_intervals(&state, &book, Some(oblasts.clone()), sources(&query.source), (from, to)).await?
    {
        by_region.entry(region).or_default().push(interval);
    }
    let mut ranked: Vec<(RegionId, Totals)> = oblasts
        .iter()
        .map(|id| (*id, region_totals(by_region.get(id).map(Vec::as_slice).unwrap_or_default(), from, to)))
        .collect();
    ranked.sort_by(|a, b| b.1.time_under_alert_s.cmp(&a.1.time_under_alert_s).then(a.0.cmp(&b.0)));
    let regions: Vec<Ranked<'_>> = ranked
        .into_iter()
        .enumerate()
        .filter_map(|(index, (id, stats))| {
            Some(Ranked {
                rank: index + 1,
                region: RegionView::new(registry.get(id)?, &book),
                alerts: stats.alerts,
                time_under_alert_s: stats.time_under_alert_s,
                mean_duration_s: stats.mean_duration_s,
                median_duration_s: stats.median_duration_s,
                longest_duration_s: stats.longest_duration_s,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "from": from.format(&Rfc3339).unwrap_or_default(), "to": to.format(&Rfc3339).unwrap_or_default(), "regions": regions })).into_response())
}

#[derive(Deserialize)]
struct HistoryListQuery {
    regions: Option<String>,
    from: Option<String>,
    to: Option<String>,
    source: Option<String>,
}

#[derive(Serialize)]
struct Row<'a> {
    id: u64,
    region_id: RegionId,
    region_name_uk: &'a str,
    region_name_en: &'a str,
    kind: &'static str,
    level: &'static str,
    status: &'static str,
    started_at: String,
    finished_at: String,
    duration_s: i64,
    source: &'a str,
}

async fn history_rows(
    state: &AppState,
    query: &HistoryListQuery,
) -> Result<(std::sync::Arc<AlertBook>, Vec<HistoryRecord>), ApiError> {
    let (from, to) = range(&query.from, &query.to, state.engine.now())?;
    let book = state.engine.book();
    let regions = match &query.regions {
        None => None,
        Some(list) => Some(
            list.split(',')
                .map(|item| {
                    let id = item.trim().parse().ok().map(RegionId).filter(|id| book.registry().get(*id).is_some());
                    id.ok_or_else(|| ApiError::invalid_query("regions", format!("{item:?} is not a region id")))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let query = HistoryQuery {
        regions,
        sources: sources(&query.source),
        from: Some(from),
        to: Some(to),
        order: HistoryOrder::Started,
    };
    let records = state.engine.history(query).await?;
    Ok((book, records))
}

fn rows<'a>(book: &'a AlertBook, records: &'a [HistoryRecord]) -> impl Iterator<Item = Row<'a>> + 'a {
    records.iter().filter_map(move |r| {
        let region = book.registry().get(r.region_id)?;
        Some(Row {
            id: r.id,
            region_id: r.region_id,
            region_name_uk: &region.name_uk,
            region_name_en: &region.name_en,
            kind: r.kind.as_str(),
            level: r.level.as_str(),
            status: r.status.as_str(),
            started_at: r.started_at.format(&Rfc3339).unwrap_or_default(),
            finished_at: r.finished_at.format(&Rfc3339).unwrap_or_default(),
            duration_s: (r.finished_at - r.started_at).whole_seconds(),
            source: &r.source,
        })
    })
}

async fn history_json(
    State(state): State<AppState>,
    Query(query): Query<HistoryListQuery>,
) -> Result<Response, ApiError> {
    let (book, records) = history_rows(&state, &query).await?;
    let list: Vec<Row<'_>> = rows(&book, &records).collect();
    Ok(Json(serde_json::json!({ "alerts": list })).into_response())
}

async fn history_csv(
    State(state): State<AppState>,
    Query(query): Query<HistoryListQuery>,
) -> Result<Response, ApiError> {
    let (book, records) = history_rows(&state, &query).await?;
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(records.len() * 120));
    for row in rows(&book, &records) {
        writer.serialize(row).map_err(|e| ApiError::internal(&e))?;
    }
    let body = writer.into_inner().map_err(|e| ApiError::internal(e.error()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"tryvoha-history.csv\""),
        ],
        body,
    )
        .into_response())
}
